"""Parquet: passed through with its own types (re-written with our row groups and statistics)."""

from __future__ import annotations

from pathlib import Path

from citycommons.datastore.facade import Engine, EngineError, Params
from citycommons.datastore.readers.common import SourceColumn, Staged, unique_names
from citycommons.datastore.schemas import FieldType
from citycommons.datastore.sniff import bad_file

INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")


def field_type(duck_type: str) -> FieldType:
    t = duck_type.upper()
    if t in INTEGER_TYPES:
        return "integer"
    if t in ("FLOAT", "DOUBLE") or t.startswith("DECIMAL"):
        return "number"
    if t == "BOOLEAN":
        return "boolean"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "datetime"
    if t.endswith("[]") or t.startswith("LIST"):
        return "array"
    if t.startswith(("STRUCT", "MAP", "JSON")):
        return "object"
    if t == "VARCHAR":
        return "string"
    return "any"


def stage_parquet(*, path: Path, engine: Engine, warnings: list[str]) -> Staged:
    with path.open("rb") as fh:
        fh.seek(-4, 2)
        if fh.read(4) != b"PAR1":
            raise bad_file("truncated Parquet file (no footer)")
    params = Params()
    try:
        described = engine.describe(f"SELECT * FROM read_parquet({params.add(str(path))})", params)  # noqa: S608
    except EngineError as exc:
        raise bad_file(f"unreadable Parquet file ({exc.message.splitlines()[0]})") from exc
    names = unique_names([name for name, _ in described], warnings=warnings)
    columns = [
        SourceColumn(name=new, ident=f"#{i + 1}", duck_type=dtype, field_type=field_type(dtype))
        for i, (new, (_, dtype)) in enumerate(zip(names, described, strict=True))
    ]
    select = ", ".join(f"#{i + 1} AS c{i}" for i in range(len(columns)))
    for i, col in enumerate(columns):
        col.ident = f'"c{i}"'

    def scan(p: Params, rejects: bool) -> str:
        return f"(SELECT {select} FROM read_parquet({p.add(str(path))}))"  # noqa: S608

    return Staged(format="parquet", scan=scan, columns=columns, text_source=False, warnings=warnings)
