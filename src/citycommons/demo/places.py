"""Barcelona's 10 districts and 73 neighbourhoods (``places.json``) with URIs, rough polygons and GeoJSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

PLACES_FILE = Path(__file__).parent / "places.json"
# Identifiers of the demo's places. ``.example`` is a reserved domain: the URIs are stable names, not links.
PLACE_NS = "https://demo.citycommons.example/barcelona/place"
CITY_URI = "https://sws.geonames.org/3128760/"  # GeoNames: Barcelona (municipality)
KM_PER_DEGREE_LAT = 111.32

# Rough resident population per district (order of magnitude of the municipal register), used to weight the data.
DISTRICT_POPULATION = {
    1: 109_000,
    2: 270_000,
    3: 187_000,
    4: 83_000,
    5: 151_000,
    6: 124_000,
    7: 178_000,
    8: 172_000,
    9: 152_000,
    10: 242_000,
}


@dataclass(frozen=True)
class Neighbourhood:
    code: int
    name: str
    lon: float
    lat: float
    district_code: int
    population: int

    @property
    def uri(self) -> str:
        return f"{PLACE_NS}/barri/{self.code:02d}"


@dataclass(frozen=True)
class District:
    code: int
    name: str
    lon: float
    lat: float
    area_km2: float
    neighbourhoods: tuple[Neighbourhood, ...]

    @property
    def uri(self) -> str:
        return f"{PLACE_NS}/districte/{self.code:02d}"

    @property
    def population(self) -> int:
        return sum(n.population for n in self.neighbourhoods)

    def ring(self, sides: int = 12) -> list[list[float]]:
        """A regular polygon around the centroid with the district's area (a schematic boundary)."""
        radius_km = math.sqrt(self.area_km2 / (0.5 * sides * math.sin(2 * math.pi / sides)))
        km_per_lon = KM_PER_DEGREE_LAT * math.cos(math.radians(self.lat))
        points = [
            [
                round(self.lon + radius_km * math.cos(2 * math.pi * i / sides) / km_per_lon, 5),
                round(self.lat + radius_km * math.sin(2 * math.pi * i / sides) / KM_PER_DEGREE_LAT, 5),
            ]
            for i in range(sides)
        ]
        return [*points, points[0]]

    def wkt(self) -> str:
        return "POLYGON((" + ", ".join(f"{x} {y}" for x, y in self.ring()) + "))"


@cache
def districts() -> tuple[District, ...]:
    raw = json.loads(PLACES_FILE.read_text(encoding="utf-8"))
    out = []
    for d in raw["districts"]:
        hoods = d["neighbourhoods"]
        # deterministic, uneven split of the district's population over its neighbourhoods
        weights = [1.0 + ((n["code"] * 37) % 11) / 6 for n in hoods]
        total = sum(weights)
        out.append(
            District(
                code=d["code"],
                name=d["name"],
                lon=d["centroid"][0],
                lat=d["centroid"][1],
                area_km2=d["area_km2"],
                neighbourhoods=tuple(
                    Neighbourhood(
                        code=n["code"],
                        name=n["name"],
                        lon=n["centroid"][0],
                        lat=n["centroid"][1],
                        district_code=d["code"],
                        population=round(DISTRICT_POPULATION[d["code"]] * w / total),
                    )
                    for n, w in zip(hoods, weights, strict=True)
                ),
            )
        )
    return tuple(out)


def neighbourhoods() -> tuple[Neighbourhood, ...]:
    return tuple(n for d in districts() for n in d.neighbourhoods)


def district(code: int) -> District:
    return next(d for d in districts() if d.code == code)


def city_wkt() -> str:
    """Bounding box of the municipality (WGS84 lon/lat)."""
    return "POLYGON((2.0524 41.3170, 2.2280 41.3170, 2.2280 41.4679, 2.0524 41.4679, 2.0524 41.3170))"


def feature(geometry: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}
