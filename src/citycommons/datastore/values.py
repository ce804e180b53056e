"""Values crossing the datastore boundary: DuckDB types as Frictionless types, results as JSON-safe Python values,
request values coerced to a column's type before they are bound as parameters."""

from __future__ import annotations

import base64
import json
import math
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from citycommons.datastore.query_schemas import ResultType

_INTEGER = re.compile(r"(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|INT[1248]|UBIGINT|UHUGEINT)")
_NUMBER = re.compile(r"(DOUBLE|FLOAT|REAL|FLOAT[48]|DECIMAL(\(\d+,\s*\d+\))?|NUMERIC.*)")


def frictionless_type(duck_type: str) -> ResultType:
    """The Frictionless type of a DuckDB column type (``geojson`` is never guessed: the table schema says it)."""
    t = duck_type.upper()
    if t.endswith("]"):
        return "array"
    if _INTEGER.fullmatch(t):
        return "integer"
    if _NUMBER.fullmatch(t):
        return "number"
    if t in ("VARCHAR", "TEXT", "STRING", "UUID", "BIT") or t.startswith(("ENUM", "VARCHAR")):
        return "string"
    if t in ("BOOLEAN", "BOOL"):
        return "boolean"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "datetime"
    if t.startswith("TIME"):
        return "time"
    if t == "INTERVAL":
        return "duration"
    if t == "JSON" or t.startswith(("STRUCT", "MAP", "UNION")):
        return "object"
    return "any"


def json_safe(value: Any) -> Any:
    """A value as JSON can carry it: ISO 8601 dates and times, decimals as numbers, bytes as base64, NaN as null."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent == 0 else float(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return str(value)


def iso_duration(value: timedelta) -> str:
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    seconds = value.seconds + value.microseconds / 1_000_000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    clock = "".join(
        f"{n:g}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if n
    )  # fmt: skip
    return f"{sign}P{value.days}D" + (f"T{clock}" if clock else "")


def _parse_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return json_safe(value)


def converter(field_type: ResultType) -> Callable[[Any], Any]:
    """How a fetched value of a column of ``field_type`` becomes a record value.

    JSON objects and arrays become Python structures; a ``geojson`` geometry stays GeoJSON text.
    """
    return _parse_json if field_type in ("object", "array") else json_safe


def coerce(value: Any, field_type: ResultType) -> Any:
    """``value`` (from JSON or a query string) as a Python value of a column of ``field_type``; ``ValueError`` if
    it is not one. The result is bound as a parameter, so DuckDB compares like with like."""
    if value is None:
        raise ValueError("a value is required")
    if isinstance(value, list | dict):
        raise ValueError(f"`{value!r}` is not a single value")
    if field_type == "integer":
        if isinstance(value, bool):
            raise ValueError(f"`{value}` is not an integer")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value)):
            return int(value)
        raise ValueError(f"`{value}` is not an integer")
    if field_type == "number":
        if isinstance(value, bool):
            raise ValueError(f"`{value}` is not a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"`{value}` is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"`{value}` is not a finite number")
        return number
    if field_type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(f"`{value}` is not true or false")
    if field_type == "date":
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"`{value}` is not a date (YYYY-MM-DD)") from None
    if field_type == "datetime":
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"`{value}` is not a date and time (ISO 8601)") from None
    if field_type == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        return value if isinstance(value, str) else str(value)
    raise ValueError(f"a {field_type} column cannot be compared with a value")
