"""Approved initiatives as GeoJSON (the map's data) and CSV. Never the contact e-mail or moderation state.

Features carry only valid points: a stored point that is somehow not finite WGS84 is left out, not sent.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from typing import Any

from citycommons.initiatives.schemas import InitiativeRead

CSV_COLUMNS = (
    "id",
    "name",
    "description",
    "org_type",
    "principles",
    "website",
    "address",
    "district",
    "lat",
    "lon",
    "created_at",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def valid_point(lat: float, lon: float) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in (lat, lon)) and (
        -90 <= lat <= 90 and -180 <= lon <= 180
    )


def geojson(items: Sequence[InitiativeRead]) -> dict[str, Any]:
    features = [
        {
            "type": "Feature",
            "id": item.id,
            "geometry": {"type": "Point", "coordinates": [item.lon, item.lat]},
            "properties": {
                "id": item.id,
                "name": item.name,
                "description": item.description,
                "org_type": item.org_type,
                "principles": item.principles,
                "website": item.website,
                "address": item.address,
                "district": item.district,
                "url": f"/initiatives/{item.id}",
            },
        }
        for item in items
        if valid_point(item.lat, item.lon)
    ]
    return {"type": "FeatureCollection", "features": features}


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # spreadsheet formula injection: a leading = + - @ makes a cell a formula in most spreadsheets
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_text(items: Sequence[InitiativeRead]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerow(
            [
                _cell(item.id),
                _cell(item.name),
                _cell(item.description),
                item.org_type,
                " ".join(str(n) for n in item.principles),
                _cell(item.website),
                _cell(item.address),
                _cell(item.district),
                item.lat,
                item.lon,
                item.created_at.isoformat(),
            ]
        )
    return buffer.getvalue()
