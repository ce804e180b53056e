"""How a text value becomes a typed value, in Python (for inference on a sample) and in SQL (over the file).

A ``TextType`` names a target type and the source format (decimal/group characters, date pattern). ``typed_sql``
turns it into a DuckDB expression that yields NULL for a value that does not fit; the regular expression guard
matters because DuckDB's casts are lenient (``CAST('1.5' AS BIGINT)`` is 2, ``'1_000'`` is 1000).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Literal

from citycommons.datastore.schemas import FieldType

Parse = Literal["int", "num", "bool", "date", "datetime", "longdate"]

MONTHS = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8,
    "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12,
    "gener": 1, "febrer": 2, "març": 3, "maig": 5, "juny": 6, "juliol": 7, "agost": 8, "setembre": 9,
    "novembre": 11, "desembre": 12,
}  # fmt: skip
LONG_DATE = r"(\d{1,2}) (?:de |d')([a-zç]+) de (\d{4})"


@cache
def regex(pattern: str) -> re.Pattern[str]:
    """The compiled form of one of this package's patterns (compiled once per process)."""
    return re.compile(pattern)


@dataclass(frozen=True)
class TextType:
    type: FieldType
    parse: Parse
    label: str
    pattern: str | None = None
    decimal_char: str = "."
    group_char: str | None = None
    strptime: tuple[str, ...] = ()
    tz: bool = False
    format: str = "default"

    def fits(self, value: str) -> bool:
        """Whether one trimmed, non-empty sample value converts (the Python twin of ``typed_sql``)."""
        if self.pattern is not None and not regex(self.pattern).fullmatch(value):
            return False
        if self.parse == "bool":
            return value.lower() in ("true", "false")
        if self.parse == "int":
            return -(2**63) <= int(value.replace(self.group_char or "_", "")) < 2**63
        if self.parse == "date":
            return _parses_date(value, self.strptime)
        if self.parse == "longdate":
            m = regex(LONG_DATE).fullmatch(value.lower())
            return bool(m and m.group(2) in MONTHS and _valid(int(m.group(3)), MONTHS[m.group(2)], int(m.group(1))))
        if self.parse == "datetime" and self.strptime:
            return any(_try_strptime(value, f) for f in self.strptime)
        if self.parse == "datetime":
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return False
        return True


def _valid(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return True


def _try_strptime(value: str, fmt: str) -> bool:
    try:
        datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def _parses_date(value: str, formats: tuple[str, ...]) -> bool:
    if not formats:
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True
    return any(_try_strptime(value, f) for f in formats)


def sql_str(value: str) -> str:
    """A SQL string literal for one of this module's constants (patterns, formats); never for user input."""
    return "'" + value.replace("'", "''") + "'"


def typed_sql(tt: TextType, v: str) -> str:
    """DuckDB expression converting the non-empty trimmed VARCHAR expression ``v``; NULL when it does not fit."""
    guard = f"regexp_full_match({v}, {sql_str(tt.pattern)})" if tt.pattern else "true"
    if tt.parse == "bool":
        return f"CASE lower({v}) WHEN 'true' THEN true WHEN 'false' THEN false END"
    if tt.parse in ("int", "num"):
        norm = v
        if tt.group_char:
            norm = f"replace({norm}, {sql_str(tt.group_char)}, '')"
        if tt.decimal_char != ".":
            norm = f"replace({norm}, {sql_str(tt.decimal_char)}, '.')"
        target = "BIGINT" if tt.parse == "int" else "DOUBLE"
        return f"CASE WHEN {guard} THEN TRY_CAST({norm} AS {target}) END"
    if tt.parse == "date" and tt.strptime:
        return f"CASE WHEN {guard} THEN TRY_CAST(TRY_STRPTIME({v}, {sql_str(tt.strptime[0])}) AS DATE) END"
    if tt.parse == "date":
        return f"CASE WHEN {guard} THEN TRY_CAST({v} AS DATE) END"
    if tt.parse == "datetime" and tt.strptime:
        formats = ", ".join(sql_str(f) for f in tt.strptime)
        return f"CASE WHEN {guard} THEN TRY_STRPTIME({v}, [{formats}]) END"
    if tt.parse == "datetime":
        return f"CASE WHEN {guard} THEN TRY_CAST({v} AS {'TIMESTAMPTZ' if tt.tz else 'TIMESTAMP'}) END"

    def part(n: int) -> str:
        return f"regexp_extract(lower({v}), {sql_str(LONG_DATE)}, {n})"

    month = "CASE " + " ".join(f"WHEN {part(2)} = {sql_str(k)} THEN {n}" for k, n in MONTHS.items()) + " END"
    iso = f"concat({part(3)}, '-', lpad(CAST({month} AS VARCHAR), 2, '0'), '-', lpad({part(1)}, 2, '0'))"
    return f"CASE WHEN {guard} THEN TRY_CAST({iso} AS DATE) END"


def duck_type(tt: TextType) -> str:
    return {
        "int": "BIGINT",
        "num": "DOUBLE",
        "bool": "BOOLEAN",
        "date": "DATE",
        "longdate": "DATE",
        "datetime": "TIMESTAMPTZ" if tt.tz else "TIMESTAMP",
    }[tt.parse]
