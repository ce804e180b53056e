"""Deterministic generators of plausible city tables. Each factory returns ``(Ctx) -> Table``; the same seed and
anchor date give the same rows. Column names follow the city's own habits (Catalan, ``Codi_Districte``...)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from citycommons.demo import places
from citycommons.demo.places import District, Neighbourhood


@dataclass(frozen=True)
class Ctx:
    rng: random.Random
    anchor: date  # "today" of the demo city: the day it was first built


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Any]]
    lon_lat: tuple[str, str] | None = None  # columns holding WGS84 coordinates (GeoJSON points)
    geometries: list[dict[str, Any]] = field(default_factory=list)  # one per row, when not points

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


Generator = Callable[[Ctx], Table]
AREA = ["Codi_Districte", "Nom_Districte", "Codi_Barri", "Nom_Barri"]
STREETS = (
    "Carrer de Mallorca",
    "Carrer d'Aragó",
    "Gran Via de les Corts Catalanes",
    "Avinguda Diagonal",
    "Carrer de Sants",
    "Carrer Gran de Gràcia",
    "Passeig de Sant Joan",
    "Carrer de Pere IV",
    "Avinguda Meridiana",
    "Carrer de Balmes",
    "Via Augusta",
    "Carrer de Sant Andreu",
    "Passeig Maragall",
    "Carrer del Consell de Cent",
    "Carrer de Provença",
    "Rambla del Raval",
    "Carrer de la Marina",
    "Carrer de Casanova",
    "Passeig de Valldaura",
    "Carrer de Guipúscoa",
    "Avinguda de Madrid",
    "Carrer de Sardenya",
    "Carrer de Muntaner",
    "Carrer de Llull",
    "Passeig de la Zona Franca",
)


def area(n: Neighbourhood) -> list[Any]:
    return [n.district_code, places.district(n.district_code).name, n.code, n.name]


def district_area(d: District) -> list[Any]:
    return [d.code, d.name]


def jitter(rng: random.Random, n: Neighbourhood, km: float = 0.35) -> tuple[float, float]:
    """A point near the neighbourhood's centroid."""
    dx, dy = rng.gauss(0, km) / 83.5, rng.gauss(0, km) / 111.32
    return round(n.lon + dx, 6), round(n.lat + dy, 6)


def address(rng: random.Random) -> str:
    return f"{rng.choice(STREETS)}, {rng.randint(1, 420)}"


def months_back(anchor: date, count: int) -> list[date]:
    """The first day of the ``count`` whole months before ``anchor``, oldest first."""
    out, year, month = [], anchor.year, anchor.month
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(date(year, month, 1))
    return out[::-1]


def last_day_before(anchor: date, days: int) -> list[date]:
    return [anchor - timedelta(days=days - i) for i in range(days)]


# --- population ------------------------------------------------------------------------------------------------

AGE_GROUPS = [f"{a}-{a + 4}" for a in range(0, 95, 5)] + ["95 i més"]
AGE_SHAPE = [4.2, 4.6, 4.7, 4.6, 5.0, 6.6, 8.0, 8.4, 8.3, 8.0, 7.4, 6.6, 5.8, 5.0, 4.3, 3.6, 2.6, 1.5, 0.6, 0.2]


def population_by_age() -> Generator:
    def make(ctx: Ctx) -> Table:
        ref = date(ctx.anchor.year, 1, 1).isoformat()
        rows = []
        total_shape = sum(AGE_SHAPE)
        for n in places.neighbourhoods():
            young = 0.8 + ctx.rng.random() * 0.5  # some neighbourhoods are younger than others
            for sex, share in (("Dona", 0.52), ("Home", 0.48)):
                for age, weight in zip(AGE_GROUPS, AGE_SHAPE, strict=True):
                    tilt = young if AGE_GROUPS.index(age) < 8 else 2 - young
                    value = n.population * share * weight / total_shape * tilt * ctx.rng.uniform(0.9, 1.1)
                    rows.append([ref, *area(n), sex, age, max(0, round(value))])
        return Table(["Data_Referencia", *AREA, "Sexe", "Edat_quinquennal", "Valor"], rows)

    return make


def by_neighbourhood(
    column: str,
    *,
    base: float,
    spread: float,
    trend: float = 0.0,
    decimals: int = 1,
    years: int = 6,
    per_capita: bool = False,
) -> Generator:
    """One indicator per neighbourhood and year (``trend``: relative change per year)."""

    def make(ctx: Ctx) -> Table:
        rows = []
        first = ctx.anchor.year - years
        for n in places.neighbourhoods():
            level = base * (1 + ctx.rng.uniform(-spread, spread))
            for year in range(first, first + years):
                value = level * (1 + trend) ** (year - first) * ctx.rng.uniform(0.97, 1.03)
                if per_capita:
                    value *= n.population / 1000
                rows.append([year, *area(n), round(value, decimals) if decimals else round(value)])
        return Table(["Any", *AREA, column], rows)

    return make


def district_monthly(columns: Sequence[tuple[str, float, float, int]], *, months: int = 24) -> Generator:
    """Several measures per district and month: (name, base per 100,000 residents, seasonality, decimals)."""

    def make(ctx: Ctx) -> Table:
        rows = []
        for month in months_back(ctx.anchor, months):
            for d in places.districts():
                values = []
                for _, base, season, decimals in columns:
                    wave = 1 + season * math.sin(2 * math.pi * (month.month - 4) / 12)
                    v = base * d.population / 100_000 * wave * ctx.rng.uniform(0.9, 1.1)
                    values.append(round(v, decimals) if decimals else round(v))
                rows.append([month.year, month.month, *district_area(d), *values])
        return Table(["Any", "Mes", "Codi_Districte", "Nom_Districte", *[c[0] for c in columns]], rows)

    return make


def by_category(
    categories: Sequence[str],
    column: str,
    *,
    base: float,
    years: int = 5,
    level: str = "district",
    decimals: int = 0,
) -> Generator:
    """A measure per area, year and category (e.g. km of bike lane per type)."""

    def make(ctx: Ctx) -> Table:
        rows = []
        weights = {c: ctx.rng.uniform(0.3, 1.7) for c in categories}
        first = ctx.anchor.year - years
        units: list[Any] = list(places.districts()) if level == "district" else list(places.neighbourhoods())
        for unit in units:
            size = unit.population / 100_000
            for year in range(first, first + years):
                growth = 1 + 0.04 * (year - first)
                for c in categories:
                    v = base * size * weights[c] * growth * ctx.rng.uniform(0.85, 1.15)
                    key = district_area(unit) if level == "district" else area(unit)
                    rows.append([year, *key, c, round(v, decimals) if decimals else round(v)])
        head = ["Codi_Districte", "Nom_Districte"] if level == "district" else AREA
        return Table(["Any", *head, "Categoria", column], rows)

    return make


# --- environment -----------------------------------------------------------------------------------------------

AIR_STATIONS = [
    (4, "Barcelona - Poblenou", 68),
    (42, "Barcelona - Sants", 18),
    (43, "Barcelona - Eixample", 7),
    (44, "Barcelona - Gràcia - Sant Gervasi", 31),
    (50, "Barcelona - Ciutadella", 4),
    (54, "Barcelona - Vall d'Hebron", 42),
    (57, "Barcelona - Palau Reial", 19),
    (58, "Barcelona - Observatori Fabra", 25),
]
POLLUTANTS = [("NO2", 38.0, "µg/m³"), ("PM10", 24.0, "µg/m³"), ("O3", 55.0, "µg/m³")]


def _hood(code: int) -> Neighbourhood:
    return next(n for n in places.neighbourhoods() if n.code == code)


def air_stations() -> Generator:
    def make(ctx: Ctx) -> Table:
        rows = []
        for code, name, hood in AIR_STATIONS:
            n = _hood(hood)
            lon, lat = jitter(ctx.rng, n, 0.15)
            kind = "Trànsit" if code in (43, 44, 42) else "Fons"
            rows.append([code, name, address(ctx.rng), *area(n), kind, "NO2, PM10, O3", lon, lat])
        cols = ["Estacio", "Nom_Estacio", "Ubicacio", *AREA, "Tipus", "Contaminants", "Longitud", "Latitud"]
        return Table(cols, rows, lon_lat=("Longitud", "Latitud"))

    return make


def air_quality_hourly(days: int = 7) -> Generator:
    def make(ctx: Ctx) -> Table:
        rows = []
        for day in last_day_before(ctx.anchor, days):
            for code, name, _ in AIR_STATIONS:
                for pollutant, base, unit in POLLUTANTS:
                    for hour in range(24):
                        rush = 1 + 0.45 * math.exp(-((hour - 8) ** 2) / 6) + 0.35 * math.exp(-((hour - 19) ** 2) / 8)
                        if pollutant == "O3":
                            rush = 0.5 + 0.9 * math.exp(-((hour - 15) ** 2) / 12)
                        value = base * rush * ctx.rng.lognormvariate(0, 0.18)
                        valid = "V" if ctx.rng.random() > 0.01 else "N"
                        rows.append(
                            [code, name, day.isoformat(), f"{hour:02d}:00", pollutant, round(value, 1), unit, valid]
                        )
        return Table(["Estacio", "Nom_Estacio", "Data", "Hora", "Contaminant", "Valor", "Unitat", "Validat"], rows)

    return make


TREE_SPECIES = [
    ("Platanus x hispanica", "Plàtan"),
    ("Celtis australis", "Lledoner"),
    ("Sophora japonica", "Sòfora"),
    ("Tipuana tipu", "Tipuana"),
    ("Jacaranda mimosifolia", "Xicranda"),
    ("Ulmus pumila", "Om de Sibèria"),
    ("Populus alba", "Àlber"),
    ("Pinus pinea", "Pi pinyer"),
    ("Washingtonia robusta", "Washingtònia"),
    ("Phoenix dactylifera", "Palmera datilera"),
    ("Citrus aurantium", "Taronger amarg"),
    ("Ligustrum lucidum", "Troana"),
    ("Melia azedarach", "Mèlia"),
    ("Koelreuteria paniculata", "Koelreutèria"),
    ("Tilia tomentosa", "Til·ler argentat"),
    ("Ceratonia siliqua", "Garrofer"),
]


def trees() -> Generator:
    def make(ctx: Ctx) -> Table:
        rows = []
        for n in places.neighbourhoods():
            for latin, common in TREE_SPECIES:
                if ctx.rng.random() < 0.15:
                    continue
                count = round(n.population / 90 * ctx.rng.paretovariate(2.5) / len(TREE_SPECIES) * 3)
                rows.append([*area(n), latin, common, count, round(ctx.rng.uniform(4, 18), 1)])
        return Table([*AREA, "Nom_Cientific", "Nom_Catala", "Nombre_Arbres", "Alcada_Mitjana_m"], rows)

    return make


NOISE_BANDS = ["<55 dB", "55-60 dB", "60-65 dB", "65-70 dB", "70-75 dB", ">75 dB"]


def noise_exposure(period: str) -> Generator:
    def make(ctx: Ctx) -> Table:
        rows = []
        for n in places.neighbourhoods():
            peak = ctx.rng.uniform(1.0, 4.0) + (0.8 if period == "Lden" else 0)
            raw = [math.exp(-((i - peak) ** 2) / 2.2) for i in range(len(NOISE_BANDS))]
            total = sum(raw)
            for band, weight in zip(NOISE_BANDS, raw, strict=True):
                share = weight / total
                rows.append([*area(n), period, band, round(share * 100, 1), round(share * n.population)])
        return Table([*AREA, "Indicador", "Franja", "Percentatge_Poblacio", "Poblacio_Exposada"], rows)

    return make


# --- points of interest ----------------------------------------------------------------------------------------


def facilities(
    kind: str, name_pattern: str, *, per_hood: float, extra: Sequence[tuple[str, Sequence[Any]]] = ()
) -> Generator:
    """Facilities of one kind (libraries, markets, ...) scattered over the neighbourhoods, as points."""

    def make(ctx: Ctx) -> Table:
        rows = []
        ident = 1000
        for n in places.neighbourhoods():
            count = int(per_hood) + (1 if ctx.rng.random() < per_hood - int(per_hood) else 0)
            for i in range(count):
                ident += ctx.rng.randint(1, 9)
                name = name_pattern.format(barri=n.name.split(" ", 1)[-1] if n.name[:2] in ("el", "la") else n.name)
                if i:
                    name = f"{name} {i + 1}"
                lon, lat = jitter(ctx.rng, n)
                values = [ctx.rng.choice(list(options)) for _, options in extra]
                rows.append([ident, name, kind, address(ctx.rng), *area(n), *values, lon, lat])
        cols = ["Id", "Nom", "Tipus", "Adreca", *AREA, *[e[0] for e in extra], "Longitud", "Latitud"]
        return Table(cols, rows, lon_lat=("Longitud", "Latitud"))

    return make


def district_shapes() -> Generator:
    def make(ctx: Ctx) -> Table:
        rows, geoms = [], []
        for d in places.districts():
            rows.append([d.code, d.name, d.area_km2, d.population, len(d.neighbourhoods), d.uri])
            geoms.append({"type": "Polygon", "coordinates": [d.ring()]})
        for n in places.neighbourhoods():
            rows.append([n.code, n.name, None, n.population, None, n.uri])
            geoms.append(places.point(n.lon, n.lat))
        cols = ["Codi", "Nom", "Superficie_km2", "Poblacio", "Nombre_Barris", "URI"]
        return Table(cols, rows, geometries=geoms)

    return make


# --- mobility --------------------------------------------------------------------------------------------------


def sensor_hourly(
    prefix: str, count: int, value_column: str, *, base: float, days: int = 7, capacity: bool = False
) -> Generator:
    """Readings of ``count`` sensors (traffic counters, car parks) every hour for ``days`` days."""

    def make(ctx: Ctx) -> Table:
        hoods = places.neighbourhoods()
        sensors = []
        for i in range(count):
            n = hoods[(i * 7 + 3) % len(hoods)]
            size = round(base * ctx.rng.uniform(0.5, 1.6))
            sensors.append((f"{prefix}{i + 1:03d}", n, size, *jitter(ctx.rng, n, 0.2)))
        rows = []
        for day in last_day_before(ctx.anchor, days):
            weekend = day.weekday() >= 5
            for ident, n, size, lon, lat in sensors:
                for hour in range(24):
                    shape = 0.15 + 0.85 * math.exp(-((hour - 9) ** 2) / 10) + 0.7 * math.exp(-((hour - 18) ** 2) / 12)
                    load = shape * (0.6 if weekend else 1.0) * ctx.rng.uniform(0.85, 1.15)
                    stamp = datetime(day.year, day.month, day.day, hour).isoformat(timespec="minutes")
                    if capacity:
                        used = min(size, round(size * min(load, 0.98)))
                        rows.append([ident, n.name, stamp, size, size - used, round(100 * used / size, 1), lon, lat])
                    else:
                        rows.append([ident, n.name, stamp, round(size * load), lon, lat])
        if capacity:
            cols = [
                "Id",
                "Barri",
                "Data_Hora",
                "Places_Totals",
                "Places_Lliures",
                "Ocupacio_pct",
                "Longitud",
                "Latitud",
            ]
        else:
            cols = ["Id", "Barri", "Data_Hora", value_column, "Longitud", "Latitud"]
        return Table(cols, rows, lon_lat=("Longitud", "Latitud"))

    return make


def incidents(
    count: int,
    categories: Sequence[tuple[str, Sequence[str]]],
    *,
    days: int = 365,
    extra: Sequence[tuple[str, Sequence[Any]]] = (),
    points: bool = False,
) -> Generator:
    """An event log (citizen requests, traffic accidents, ...) weighted by neighbourhood population."""

    def make(ctx: Ctx) -> Table:
        hoods = places.neighbourhoods()
        weights = [n.population for n in hoods]
        rows = []
        start = ctx.anchor - timedelta(days=days)
        for i in range(count):
            n = ctx.rng.choices(hoods, weights)[0]
            when = datetime.combine(start, datetime.min.time()) + timedelta(minutes=ctx.rng.randint(0, days * 1440))
            category, subs = ctx.rng.choice(list(categories))
            values = [ctx.rng.choice(list(options)) for _, options in extra]
            row = [f"{ctx.anchor.year % 100:02d}{i + 1:06d}", when.date().isoformat(), when.strftime("%H:%M"), *area(n)]
            row += [category, ctx.rng.choice(list(subs)), *values]
            if points:
                row += list(jitter(ctx.rng, n, 0.3))
            rows.append(row)
        rows.sort(key=lambda r: (r[1], r[2]))
        cols = ["Id", "Data", "Hora", *AREA, "Categoria", "Subcategoria", *[e[0] for e in extra]]
        if points:
            return Table([*cols, "Longitud", "Latitud"], rows, lon_lat=("Longitud", "Latitud"))
        return Table(cols, rows)

    return make


# --- money -----------------------------------------------------------------------------------------------------

BUDGET_CHAPTERS = [
    (1, "Despeses de personal", 0.28),
    (2, "Despeses corrents en béns i serveis", 0.34),
    (3, "Despeses financeres", 0.01),
    (4, "Transferències corrents", 0.22),
    (6, "Inversions reals", 0.12),
    (7, "Transferències de capital", 0.02),
    (9, "Passius financers", 0.01),
]
BUDGET_PROGRAMS = [
    "Seguretat i mobilitat",
    "Habitatge i urbanisme",
    "Benestar comunitari",
    "Medi ambient",
    "Serveis socials",
    "Salut",
    "Educació",
    "Cultura",
    "Esports",
    "Comerç i turisme",
    "Transport públic",
    "Administració general",
    "Participació ciutadana",
    "Recerca i innovació",
]
MANAGERS = [
    "Gerència Municipal",
    "Gerència d'Ecologia Urbana",
    "Gerència de Drets Socials",
    "Gerència de Cultura",
    "Gerència de Seguretat i Prevenció",
    "Gerència d'Economia",
    "Districte de Ciutat Vella",
    "Districte de l'Eixample",
    "Districte de Sants-Montjuïc",
    "Districte de Sant Martí",
]


def budget(*, total_meur: float = 3300, years: int = 3) -> Generator:
    def make(ctx: Ctx) -> Table:
        rows = []
        for year in range(ctx.anchor.year - years + 1, ctx.anchor.year + 1):
            size = total_meur * 1e6 * (1 + 0.035 * (year - ctx.anchor.year))
            for chapter, label, share in BUDGET_CHAPTERS:
                for p_index, program in enumerate(BUDGET_PROGRAMS):
                    for manager in ctx.rng.sample(MANAGERS, 3):
                        initial = size * share / len(BUDGET_PROGRAMS) / 3 * ctx.rng.uniform(0.3, 1.7)
                        executed = initial * ctx.rng.uniform(0.72, 1.02) if year < ctx.anchor.year else None
                        rows.append(
                            [
                                year,
                                chapter,
                                label,
                                f"{p_index + 1:02d}",
                                program,
                                manager,
                                round(initial, 2),
                                round(executed, 2) if executed is not None else None,
                            ]
                        )
        cols = [
            "Any",
            "Capitol",
            "Nom_Capitol",
            "Programa",
            "Nom_Programa",
            "Organ_Gestor",
            "Pressupost_Inicial_EUR",
            "Obligacions_Reconegudes_EUR",
        ]
        return Table(cols, rows)

    return make


SUPPLIERS = [
    "Serveis Urbans del Llevant SL",
    "Manteniments Besòs SA",
    "Enllumenat Mediterrani SL",
    "Consultoria Dades Obertes SCCL",
    "Jardineria Collserola SL",
    "Obres i Vials Barcelonès SA",
    "Neteja Integral Montjuïc SL",
    "Tecnologia Cívica SCCL",
    "Arquitectura Pública Gràcia SLP",
    "Transports Verds del Pla SL",
    "Impremta del Raval SL",
    "Seguretat Portuària BCN SA",
]
CONTRACT_TYPES = ["Serveis", "Obres", "Subministraments", "Concessió de serveis"]
PROCEDURES = ["Obert", "Obert simplificat", "Negociat sense publicitat", "Menor", "Restringit"]


def contracts(count: int = 900) -> Generator:
    def make(ctx: Ctx) -> Table:
        rows = []
        start = ctx.anchor - timedelta(days=730)
        for i in range(count):
            kind = ctx.rng.choice(CONTRACT_TYPES)
            procedure = ctx.rng.choices(PROCEDURES, [4, 3, 1, 6, 1])[0]
            amount = ctx.rng.lognormvariate(10.5 if procedure == "Menor" else 12.5, 1.0)
            when = start + timedelta(days=ctx.rng.randint(0, 729))
            rows.append(
                [
                    f"{when.year}/{i + 1:05d}",
                    f"{kind} de {ctx.rng.choice(BUDGET_PROGRAMS).lower()}",
                    kind,
                    procedure,
                    ctx.rng.choice(MANAGERS),
                    ctx.rng.choice(SUPPLIERS),
                    round(amount, 2),
                    round(amount * 1.21, 2),
                    when.isoformat(),
                    ctx.rng.choice([6, 12, 12, 24, 36, 48]),
                ]
            )
        cols = [
            "Expedient",
            "Objecte",
            "Tipus_Contracte",
            "Procediment",
            "Organ_Contractacio",
            "Adjudicatari",
            "Import_sense_IVA_EUR",
            "Import_amb_IVA_EUR",
            "Data_Adjudicacio",
            "Durada_Mesos",
        ]
        return Table(cols, rows)

    return make


def series_by_item(
    items: Sequence[str], column: str, *, base: float, months: int = 24, season: float = 0.2, item_column: str = "Nom"
) -> Generator:
    """A monthly figure per named item (museum visitors, water use per use...)."""

    def make(ctx: Ctx) -> Table:
        rows = []
        sizes = {item: base * ctx.rng.uniform(0.2, 2.0) for item in items}
        for month in months_back(ctx.anchor, months):
            wave = 1 + season * math.sin(2 * math.pi * (month.month - 4) / 12)
            for item in items:
                rows.append([month.year, month.month, item, round(sizes[item] * wave * ctx.rng.uniform(0.9, 1.1))])
        return Table(["Any", "Mes", item_column, column], rows)

    return make


def listing(
    count: int,
    columns: Sequence[tuple[str, Callable[[Ctx, int], Any]]],
    *,
    located: bool = True,
    only: Sequence[int] = (),
) -> Generator:
    """Rows of independent records located in a random neighbourhood (``only``: these neighbourhood codes)."""

    def make(ctx: Ctx) -> Table:
        hoods = [n for n in places.neighbourhoods() if not only or n.code in only]
        rows = []
        for i in range(count):
            n = ctx.rng.choices(hoods, [h.population for h in hoods])[0]
            row = [fn(ctx, i) for _, fn in columns] + area(n)
            if located:
                row += list(jitter(ctx.rng, n, 0.3))
            rows.append(row)
        cols = [c for c, _ in columns] + AREA
        if located:
            return Table([*cols, "Longitud", "Latitud"], rows, lon_lat=("Longitud", "Latitud"))
        return Table(cols, rows)

    return make
