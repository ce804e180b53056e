"""Offline geocoding against the demo's Barcelona places (``demo/places.json``): no network, no third party.

A typed address is placed at the centroid of the most specific district or neighbourhood whose name it contains
(accents, case and leading articles ignored); anything else needs coordinates. A point gets the district of its
nearest neighbourhood centroid, when one is within ``NEAR_KM``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from citycommons.demo import places

NEAR_KM = 2.5
ARTICLES = re.compile(r"^(el|la|les|els|l'|los|las)\s*")
_NEIGHBOURHOODS = places.neighbourhoods()


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float
    district_code: int


def normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", plain).split())


@cache
def district_names() -> dict[int, str]:
    return {d.code: d.name for d in places.districts()}


@cache
def _places() -> tuple[tuple[str, Place], ...]:
    """(normalised name, place), longest names first so that "Sant Martí de Provençals" beats "Sant Martí"."""
    found: list[tuple[str, Place]] = []
    for d in places.districts():
        found.append((normalise(d.name), Place(d.name, d.lat, d.lon, d.code)))
        for n in d.neighbourhoods:
            full = normalise(n.name)
            place = Place(n.name, n.lat, n.lon, d.code)
            found.append((full, place))
            bare = ARTICLES.sub("", full)
            if bare != full and len(bare) >= 4:
                found.append((bare, place))
    return tuple(sorted(found, key=lambda item: -len(item[0])))


def locate(address: str) -> Place | None:
    """The place an address names, or None."""
    text = f" {normalise(address)} "
    for name, place in _places():
        if f" {name} " in text:
            return place
    return None


def district_at(lat: float, lon: float) -> int | None:
    """The district of the nearest neighbourhood centroid, if one is within ``NEAR_KM``."""
    best: tuple[float, int] | None = None
    km_per_lon = 111.32 * math.cos(math.radians(lat))
    for n in _NEIGHBOURHOODS:
        d = math.hypot((n.lat - lat) * 111.32, (n.lon - lon) * km_per_lon)
        if best is None or d < best[0]:
            best = (d, n.district_code)
    return best[1] if best and best[0] <= NEAR_KM else None


@cache
def district_outlines() -> dict[str, object]:
    """The districts' schematic outlines as a GeoJSON FeatureCollection (the map's offline background)."""
    return {
        "type": "FeatureCollection",
        "features": [
            places.feature({"type": "Polygon", "coordinates": [d.ring()]}, {"code": d.code, "name": d.name})
            for d in places.districts()
        ],
    }
