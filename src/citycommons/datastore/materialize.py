"""The careful path: verify the proposed types over every row, settle them, and write the Parquet file.

It runs when the one-pass writer (``onepass``) met a value it cannot judge, and for JSON and Parquet sources.
One scan computes, per typed column: misfits (and the first one), real values, null markers seen and values with
leading zeros. A column then keeps its type (misfits set to null and quarantined), or falls back to text.

The SQL here (``noqa: S608``) is assembled from identifiers quoted by the facade or synthetic (``c0``), this
package's constants and ``Params`` placeholders; uploaded values never enter it as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citycommons.datastore import infer, onepass
from citycommons.datastore.casts import typed_sql
from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.facade import Engine, EngineError, Params, quote_ident, quote_literal
from citycommons.datastore.readers.common import SourceColumn, Staged
from citycommons.datastore.schemas import QuarantineEntry, SchemaOverride
from citycommons.errors import Invalid


@dataclass
class Outcome:
    records: int = 0
    empty_records: int = 0
    rows: int = 0
    quarantined_cells: int = 0
    quarantine: list[QuarantineEntry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sorted_by: list[str] = field(default_factory=list)


def _trimmed(col: SourceColumn) -> str:
    raw = col.ident if col.duck_type == "VARCHAR" else f"CAST({col.ident} AS VARCHAR)"
    return f"NULLIF(trim({raw}), '')"


def _marker(col: SourceColumn) -> str:
    # A CASE, not `x IN (...)` or list_contains($list, x): DuckDB rewrites those into one join per column
    if not col.markers:
        return "false"
    cases = " ".join(f"WHEN {quote_literal(m)} THEN true" for m in col.markers)
    return f"(CASE {_trimmed(col)} {cases} ELSE false END)"


def value_sql(col: SourceColumn, *, text_source: bool) -> str:
    """The expression written to Parquet for one column."""
    if col.text is not None:
        t = _trimmed(col)
        return f"CASE WHEN {t} IS NULL OR {_marker(col)} THEN NULL ELSE {typed_sql(col.text, t)} END"
    if col.duck_type == "VARCHAR":
        return f"NULLIF({col.ident}, '')" if text_source else col.ident
    if col.field_type == "string":
        return f"CAST({col.ident} AS VARCHAR)"
    return col.ident


def _empty_sql(staged: Staged) -> str:
    return " AND ".join(f"coalesce(trim({c.ident}), '') = ''" for c in staged.columns)


def sample_text(*, engine: Engine, staged: Staged, columns: list[SourceColumn], limit: int, filled: bool = False
                ) -> dict[str, list[str | None]]:  # fmt: skip
    """Up to ``limit`` values of each column as text (only non-empty ones when ``filled``)."""
    out: dict[str, list[str | None]] = {}
    for col in columns if filled else [None]:
        params = Params()
        cols = [col] if col else columns
        select = ", ".join(f"CAST({c.ident} AS VARCHAR)" for c in cols)
        where = f"WHERE {_trimmed(col)} IS NOT NULL" if col else ""
        rows = engine.fetchall(f"SELECT {select} FROM {staged.scan(params, False)} {where} LIMIT {int(limit)}", params)  # noqa: S608
        for i, c in enumerate(cols):
            out[c.ident] = [r[i] for r in rows]
    return out


def verify(
    *, engine: Engine, staged: Staged, columns: list[SourceColumn], rejects: bool, listed: int = 0
) -> tuple[int, int, list[Any]]:
    """One scan: record count, empty-record count, and per column
    [bad, first_row, first_value, real, markers, lz, misfits]: ``misfits`` lists the first ``listed`` bad values
    (``{'rn', 'v'}``), so that quarantining them needs no other scan."""
    params = Params()
    inner = ["__rn"]
    parts = ["count(*)", "count(*) FILTER (WHERE __empty)" if staged.text_source else "0"]
    if staged.text_source:
        inner.append(f"({_empty_sql(staged)}) AS __empty")
    for i, col in enumerate(columns):
        t, m, b = f"__t{i}", f"__m{i}", f"__b{i}"
        inner.append(f"{_trimmed(col)} AS {t}")
        if col.text is None:  # text column empty in the sample: how many values does it really have?
            parts += ["0", "NULL", "NULL", f"count({t})", "NULL", "0", "NULL"]
            continue
        inner.append(f"{_marker(col)} AS {m}")
        inner.append(
            f"({_trimmed(col)} IS NOT NULL AND NOT {m} AND {typed_sql(col.text, _trimmed(col))} IS NULL) AS {b}"
        )
        lz = f"count(*) FILTER (WHERE regexp_full_match({t}, '{infer.LEADING_ZERO}'))"
        parts += [
            f"count(*) FILTER (WHERE {b})",
            f"min(__rn) FILTER (WHERE {b})",
            f"arg_min({t}, __rn) FILTER (WHERE {b})",
            f"count(*) FILTER (WHERE {t} IS NOT NULL AND NOT {m})",
            _marker_bits(col, t, m),
            lz if col.text.parse == "int" else "0",
            f"arg_min({{'rn': __rn, 'v': {t}}}, __rn, {int(listed)}) FILTER (WHERE {b})" if listed > 0 else "NULL",
        ]
    scan = staged.scan(params, rejects)
    source = f"(SELECT row_number() OVER () AS __rn, * FROM {scan})"  # noqa: S608
    row = engine.fetchone(f"SELECT {', '.join(parts)} FROM (SELECT {', '.join(inner)} FROM {source})", params)  # noqa: S608
    stats = [row[2 + 7 * i : 9 + 7 * i] for i in range(len(columns))]
    return int(row[0]), int(row[1]), stats


def _marker_bits(col: SourceColumn, t: str, m: str) -> str:
    """Bit i set when marker i was seen (a plain aggregate: DISTINCT ones split the plan per column)."""
    if not col.markers:
        return "0"
    cases = " ".join(f"WHEN {quote_literal(v)} THEN {1 << i}" for i, v in enumerate(col.markers))
    return f"bit_or(CASE {t} {cases} END) FILTER (WHERE {m})"


def settle(*, col: SourceColumn, stats: Any, config: DatastoreConfig, staged: Staged) -> str | None:
    """Decide a verified column's fate; returns a warning, if any. Leaves ``col.text`` None when it became text."""
    assert col.text is not None
    bad, first_row, first_value, real, markers, leading_zeros = stats[:6]
    row = original_row(int(first_row), staged) if first_row is not None else None
    if leading_zeros and not col.forced:
        col.text, col.field_type, col.kind = None, "string", "code"
        return f"{col.name}: values with leading zeros (e.g. row {row}): kept as text (code)"
    if bad and not col.forced:
        tolerable = real >= config.min_values_for_tolerance and bad <= config.bad_value_tolerance * real
        if not tolerable:
            label = col.text.label
            col.text, col.field_type = None, "string"
            return f"{col.name}: {bad} of {real} values are not {label} (e.g. `{first_value}`, row {row}): kept as text"
    col.missing_seen = [m for i, m in enumerate(col.markers) if int(markers or 0) >> i & 1]
    if bad:
        plural = "value is" if bad == 1 else "values are"
        return (f"{col.name}: {bad} {plural} not {col.text.label}: `{first_value}` (row {row}) — "
                "set to null, listed in the quarantine")  # fmt: skip
    return None


def original_row(rn: int, staged: Staged) -> int:
    """Record number in the source, counting records the scan rejected before it."""
    row = rn
    for rejected in staged.rejected_records:
        if rejected <= row:
            row += 1
    return row


def quarantine_entries(*, staged: Staged, col: SourceColumn, stats: Any, limit: int) -> list[QuarantineEntry]:
    """The first ``limit`` misfits of a settled column, from the list ``verify`` collected."""
    assert col.text is not None
    problem = f"not {col.text.label}: set to null"
    misfits = sorted(stats[6] or [], key=lambda m: int(m["rn"]))[: max(0, limit)]
    return [
        QuarantineEntry(row=original_row(int(m["rn"]), staged), column=col.name, value=m["v"], problem=problem)
        for m in misfits
    ]


def write_parquet(
    *, engine: Engine, staged: Staged, out: Path, config: DatastoreConfig, order_by: Sequence[str] = (),
    one_pass: onepass.Plan | None = None,
) -> int:  # fmt: skip
    """Write the records, converted, in source order or sorted by ``order_by``; returns the number of rows written.

    Careful path (``one_pass`` None): every non-empty record, with the settled types. One-pass: every record, each
    value under its strict guard; raises ``onepass.Misfit`` (and writes nothing) at the first value refused.
    """
    params = Params()
    if one_pass is not None:
        query = onepass.query(staged=staged, one_pass=one_pass, params=params, order_by=order_by)
    else:
        select = ", ".join(
            f"{value_sql(c, text_source=staged.text_source)} AS {quote_ident(c.name)}" for c in staged.columns
        )
        where = f" WHERE NOT ({_empty_sql(staged)})" if staged.text_source else ""
        query = onepass.sorted_by(f"SELECT {select} FROM {staged.scan(params, False)}{where}", order_by)  # noqa: S608
    try:
        return engine.copy_parquet(query, params, path=out, row_group_size=config.row_group_size)
    except EngineError as exc:
        if one_pass is not None and onepass.MISFIT in exc.message:
            out.unlink(missing_ok=True)
            raise onepass.Misfit(exc.message) from None
        raise


def check_primary_key(*, engine: Engine, data: Path, override: SchemaOverride | None, staged: Staged) -> None:
    """Refuse the version if the editors' primary key has empty or repeated values."""
    keys = [k for k in (override.primary_key if override else None) or [] if k in {c.name for c in staged.columns}]
    if not keys:
        return
    params = Params()
    cols = ", ".join(quote_ident(k) for k in keys)
    nulls = " OR ".join(f"{quote_ident(k)} IS NULL" for k in keys)
    total, distinct, missing = engine.fetchone(
        f"SELECT count(*), count(DISTINCT ({cols})), count(*) FILTER (WHERE {nulls}) "  # noqa: S608
        f"FROM read_parquet({params.add(str(data))})",
        params,
    )
    problems = []
    if missing:
        problems.append(f"{missing} row(s) have an empty key")
    if distinct < total - missing:
        problems.append(f"{total - missing - distinct} duplicate key value(s)")
    if problems:
        message = f"primary key ({', '.join(keys)}) violated: " + "; ".join(problems)
        raise Invalid(f"primaryKey: {message}", fields={"primaryKey": [message]})
