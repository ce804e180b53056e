"""Writes a generated Table as the files real city portals publish: CSV (UTF-8 with commas, or ISO-8859-1 with
semicolons and CRLF as older municipal exports), JSON records and GeoJSON."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citycommons.demo import places
from citycommons.demo.tables import Table


@dataclass(frozen=True)
class FileKind:
    key: str
    extension: str
    format: str
    media_type: str
    label: dict[str, str]
    extras: dict[str, str]


KINDS = {
    "csv": FileKind(
        "csv",
        "csv",
        "CSV",
        "text/csv",
        {
            "ca": "CSV (UTF-8, separat per comes)",
            "es": "CSV (UTF-8, separado por comas)",
            "en": "CSV (UTF-8, comma-separated)",
        },
        {"encoding": "UTF-8", "delimiter": ","},
    ),
    "csv-latin1": FileKind(
        "csv-latin1",
        "csv",
        "CSV",
        "text/csv",
        {
            "ca": "CSV (ISO-8859-1, separat per punt i coma)",
            "es": "CSV (ISO-8859-1, separado por punto y coma)",
            "en": "CSV (ISO-8859-1, semicolon-separated)",
        },
        {"encoding": "ISO-8859-1", "delimiter": ";"},
    ),
    "json": FileKind(
        "json",
        "json",
        "JSON",
        "application/json",
        {"ca": "JSON (registres)", "es": "JSON (registros)", "en": "JSON (records)"},
        {},
    ),
    "geojson": FileKind(
        "geojson",
        "geojson",
        "GEOJSON",
        "application/geo+json",
        {"ca": "GeoJSON (WGS84)", "es": "GeoJSON (WGS84)", "en": "GeoJSON (WGS84)"},
        {},
    ),
}


def write(table: Table, kind: str, path: Path) -> Path:
    if kind == "csv":
        _csv(table, path, delimiter=",", encoding="utf-8", newline="\n")
    elif kind == "csv-latin1":
        _csv(table, path, delimiter=";", encoding="iso-8859-1", newline="\r\n", decimal_comma=True)
    elif kind == "json":
        path.write_text(json.dumps(table.records(), ensure_ascii=False, indent=1), encoding="utf-8")
    elif kind == "geojson":
        path.write_text(json.dumps(geojson(table), ensure_ascii=False), encoding="utf-8")
    else:
        raise ValueError(f"unknown file kind {kind!r}")
    return path


def _cell(value: Any, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and decimal_comma:
        return repr(value).replace(".", ",")
    return str(value)


def _csv(table: Table, path: Path, *, delimiter: str, encoding: str, newline: str, decimal_comma: bool = False) -> None:
    with path.open("w", encoding=encoding, errors="replace", newline="") as fh:
        writer = csv.writer(fh, delimiter=delimiter, lineterminator=newline)
        writer.writerow(table.columns)
        for row in table.rows:
            writer.writerow([_cell(v, decimal_comma) for v in row])


def geojson(table: Table) -> dict[str, Any]:
    features = []
    if table.geometries:
        for record, geometry in zip(table.records(), table.geometries, strict=True):
            features.append(places.feature(geometry, record))
    elif table.lon_lat:
        lon_col, lat_col = table.lon_lat
        for record in table.records():
            props = {k: v for k, v in record.items() if k not in (lon_col, lat_col)}
            features.append(places.feature(places.point(record[lon_col], record[lat_col]), props))
    else:
        raise ValueError("table has no coordinates")
    return {"type": "FeatureCollection", "features": features}
