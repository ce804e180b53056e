"""What every reader produces: a ``Staged`` table (a DuckDB scan plus column descriptions)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from citycommons.datastore.casts import TextType
from citycommons.datastore.facade import Params
from citycommons.datastore.schemas import FieldType, QuarantineEntry, SourceFormat

Scan = Callable[[Params, bool], str]
"""Build the FROM-clause table function; the flag asks a CSV scan to record malformed rows."""


@dataclass
class SourceColumn:
    name: str
    """Published name (unique, non-empty)."""
    ident: str
    """Quoted identifier of the column in the scan (synthetic ``c0``, ``c1``…)."""
    duck_type: str = "VARCHAR"
    field_type: FieldType = "string"
    text: TextType | None = None
    """Conversion from text applied when writing; None keeps the scanned value."""
    kind: str | None = None
    markers: tuple[str, ...] = ()
    """Values read as null in a typed column, besides the empty string."""
    missing_seen: list[str] = field(default_factory=list)
    forced: bool = False
    """Type chosen by an editor: misfits are quarantined whatever their number."""
    empty_in_sample: bool = False
    description: str = ""


@dataclass
class Staged:
    format: SourceFormat
    scan: Scan
    columns: list[SourceColumn]
    text_source: bool
    """Values are text to infer (CSV, XLSX): all-empty records are skipped and counted."""
    encoding: str | None = None
    delimiter: str | None = None
    json_path: str | None = None
    json_path_source: str | None = None
    sheet: str | None = None
    european: bool = False
    """Decimal comma file convention (``;`` delimiter and no column with an unambiguous decimal point)."""
    warnings: list[str] = field(default_factory=list)
    quarantine: list[QuarantineEntry] = field(default_factory=list)
    quarantined_rows: int = 0
    rejected_records: list[int] = field(default_factory=list)
    """Record numbers dropped by the scan (malformed), used to renumber later quarantine entries."""
    check_rejects: bool = False
    utf8_unchecked: bool = False
    """The file was only sniffed as UTF-8: DuckDB's scan checks the rest, and bytes it rejects as not UTF-8 raise
    ``textio.NotUtf8`` (the ingest then decodes the file in Python, which transcodes or explains)."""
    source_bytes: int = 0
    """Size of the scanned file, for layout decisions."""


def unique_names(raw: Sequence[str | None], *, warnings: list[str]) -> list[str]:
    """Header cells to column names: trimmed, never empty, never repeated."""
    names: list[str] = []
    seen: set[str] = set()
    for i, value in enumerate(raw):
        name = (value or "").replace("\ufeff", "").strip()
        if not name:
            name = f"field_{i + 1}"
            warnings.append(f"column {i + 1} has no name: called `{name}`")
        elif name != (value or ""):
            warnings.append(f"column name `{value}` trimmed to `{name}`")
        base, k = name, 2
        while name.lower() in seen:
            name = f"{base}_{k}"
            k += 1
        if name != base:
            warnings.append(f"duplicate column name `{base}` renamed `{name}`")
        seen.add(name.lower())
        names.append(name)
    return names


def synthetic(i: int) -> str:
    return f'"c{i}"'
