"""The one-pass writer: a well-formed text table goes from the CSV scan to Parquet in one DuckDB statement.

The careful path (``materialize.verify`` then ``write_parquet``) scans the file twice and numbers every row so that
misfits can be quarantined. Most uploads have no misfit, so the types inferred on the sample are first tried in one
``COPY (SELECT ...) TO parquet``: every typed value must pass a strict guard, and the first value that does not stops
the statement (``error()``), after which the pipeline runs the careful path from scratch. The one-pass result is
therefore always the careful path's result, only sooner.

A guard accepts a value only where the careful conversion (``casts.typed_sql`` of the trimmed value) gives the same
value, with no leading zero for integers (a leading zero makes the careful path keep the column as a code) and no
null marker the sample did not show (the markers seen are reported in the schema). Integers and ISO dates get a
canonical round trip (``CAST(TRY_CAST(v AS BIGINT) AS VARCHAR) = v``), cheaper than the careful regular expression;
numbers and timestamps keep it (DuckDB's casts accept ``+-1``, ``1_000``, ``nan``, ``2024-1-1 1:2:3``, time zone
names...). A value with surrounding spaces goes the careful way; a blank one is an empty value, as there.
``tests/datastore/test_ingest_perf.py`` checks the guards against the careful conversion on mutated strings.

After the statement, the Parquet footer answers the questions the careful scan answered with counts: whether a
column empty in the sample got values further down (then the careful path infers it), and whether any record was
empty (those are dropped by a Parquet-to-Parquet copy, which is cheap and rare; with null markers in play an
all-null row may not be an empty record, so the careful path decides).

The SQL here (``noqa: S608``) is assembled from identifiers quoted by the facade or synthetic (``c0``), this
package's constants and ``Params`` placeholders; uploaded values never enter it as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from citycommons.datastore import infer
from citycommons.datastore.casts import TextType, sql_str, typed_sql
from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.facade import Engine, Params, quote_ident, quote_literal
from citycommons.datastore.readers.common import Staged

MISFIT = "citycommons-one-pass: a value does not fit the sampled type"
"""Message of the ``error()`` that stops the statement; ``materialize.write_parquet`` turns it into ``Misfit``."""

ISO_TIMESTAMP = infer.ISO_DATETIME + "|" + infer.ISO_DATE


class Misfit(Exception):
    """The one-pass statement met a value that only the careful path can judge."""


@dataclass(frozen=True)
class Plan:
    """How the one-pass statement converts the typed columns (keys: ``SourceColumn.ident``)."""

    types: dict[str, TextType]
    """The sampled conversion of each typed column; its guard decides what the statement accepts."""
    markers: dict[str, tuple[str, ...]]
    """Null markers read as null: those of ``SourceColumn.markers`` that the sample showed."""
    as_number: frozenset[str] = frozenset()
    """Integer columns of a numbered family whose siblings are numbers: guarded as integers, written as numbers
    (the careful path verifies them as integers too, then aligns them)."""


def plan(*, staged: Staged, samples: dict[str, list[str | None]], as_number: frozenset[str]) -> Plan:
    types: dict[str, TextType] = {}
    markers: dict[str, tuple[str, ...]] = {}
    for col in staged.columns:
        if col.text is None:
            continue
        types[col.ident] = col.text
        seen = {v.strip() for v in samples.get(col.ident, []) if v is not None}
        markers[col.ident] = tuple(m for m in col.markers if m in seen)
    return Plan(types=types, markers=markers, as_number=as_number)


def strict_sql(tt: TextType, raw: str, *, leading_zeros: bool, value: str | None = None) -> tuple[str, str]:
    """``(conversion, accepted)`` for the VARCHAR expression ``raw`` (not NULL, not a marker); see the module doc.

    ``accepted`` refers to the converted value as ``value`` when given (a column computed once), else inlines it.
    """
    fast = _fast_guard(tt, raw, value=value, leading_zeros=leading_zeros)
    if fast is not None:
        conversion, guard = fast
        return conversion, f"({guard}) OR trim({raw}) = ''"  # blank: an empty value (the conversion gives NULL)
    # Other notations: the careful conversion itself, of the trimmed value (blank is an empty value, as there)
    trimmed = f"NULLIF(trim({raw}), '')"
    conversion = typed_sql(tt, trimmed)
    accepted = f"{value or conversion} IS NOT NULL"
    if tt.parse == "int" and not leading_zeros:
        accepted += f" AND NOT regexp_full_match({trimmed}, {sql_str(infer.LEADING_ZERO)})"
    return conversion, f"({trimmed} IS NULL OR ({accepted}))"


def _fast_guard(tt: TextType, raw: str, *, value: str | None, leading_zeros: bool) -> tuple[str, str] | None:
    """Conversion and guard of the common notations (None for the others)."""
    if tt.parse == "int" and tt.pattern == infer.INT and tt.group_char is None and not leading_zeros:
        conversion = f"TRY_CAST({raw} AS BIGINT)"
        return conversion, f"CAST({value or conversion} AS VARCHAR) = {raw}"
    if tt.parse == "num" and tt.pattern == infer.NUM_DOT and tt.group_char is None and tt.decimal_char == ".":
        conversion = f"TRY_CAST({raw} AS DOUBLE)"
        return conversion, f"{value or conversion} IS NOT NULL AND regexp_full_match({raw}, {sql_str(tt.pattern)})"
    if tt.parse == "date" and tt.pattern == infer.ISO_DATE and not tt.strptime:
        conversion = f"TRY_CAST({raw} AS DATE)"  # the length: 5-digit years round-trip too
        return conversion, f"strlen({raw}) = 10 AND CAST({value or conversion} AS VARCHAR) = {raw}"
    if tt.parse == "datetime" and tt.pattern == ISO_TIMESTAMP and not tt.strptime:
        conversion = f"TRY_CAST({raw} AS {'TIMESTAMPTZ' if tt.tz else 'TIMESTAMP'})"
        return conversion, f"{value or conversion} IS NOT NULL AND regexp_full_match({raw}, {sql_str(tt.pattern)})"
    return None


def _is_marker(raw: str, markers: Sequence[str]) -> str:
    # A CASE, not `x IN (...)`: DuckDB rewrites IN lists into one join per column
    cases = " ".join(f"WHEN {quote_literal(m)} THEN true" for m in markers)
    return f"(CASE {raw} {cases} ELSE false END)"


def query(*, staged: Staged, one_pass: Plan, params: Params, order_by: Sequence[str]) -> str:
    """``SELECT`` of every record, converted, that stops with ``MISFIT`` at the first value a guard refuses."""
    inner, outputs, checks = ["*"], [], []
    for i, col in enumerate(staged.columns):
        name = quote_ident(col.name)
        tt = one_pass.types.get(col.ident)
        if tt is None:  # text, as ``materialize.value_sql`` writes it for text sources
            outputs.append(f"NULLIF({col.ident}, '') AS {name}")
            continue
        conversion, accepted = strict_sql(tt, col.ident, leading_zeros=col.forced, value=f"__v{i}")
        inner.append(f"{conversion} AS __v{i}")
        written = f"TRY_CAST({col.ident} AS DOUBLE)" if col.ident in one_pass.as_number else f"__v{i}"
        markers = one_pass.markers.get(col.ident, ())
        if markers:
            marker = _is_marker(col.ident, markers)
            outputs.append(f"CASE WHEN {marker} THEN NULL ELSE {written} END AS {name}")
            checks.append(f"({col.ident} IS NULL OR {marker} OR ({accepted}))")
        else:
            outputs.append(f"{written} AS {name}")
            checks.append(f"({col.ident} IS NULL OR ({accepted}))")
    scan = staged.scan(params, True)
    where = f" WHERE ({' AND '.join(checks)}) OR error({sql_str(MISFIT)})" if checks else ""
    select = f"SELECT {', '.join(outputs)} FROM (SELECT {', '.join(inner)} FROM {scan}){where}"  # noqa: S608
    return sorted_by(select, order_by)


def sorted_by(select: str, order_by: Sequence[str]) -> str:
    """``select`` ordered by the published columns ``order_by`` (none: source order)."""
    if not order_by:
        return select
    return f"SELECT * FROM ({select}) ORDER BY {', '.join(quote_ident(n) for n in order_by)}"  # noqa: S608


def null_counts(*, engine: Engine, path: Path, width: int) -> list[int | None]:
    """Nulls per column of a written Parquet file, from its footer (None: a row group without statistics)."""
    params = Params()
    nulls = "CASE WHEN bool_and(stats_null_count IS NOT NULL) THEN sum(stats_null_count) END"
    sql = f"SELECT column_id, {nulls} FROM parquet_metadata({params.add(str(path))}) GROUP BY column_id"  # noqa: S608
    found = {int(column): count for column, count in engine.fetchall(sql, params)}
    return [None if found.get(i, 0) is None else int(found.get(i, 0)) for i in range(width)]


def empty_sql(staged: Staged, one_pass: Plan) -> str:
    """True for a written row whose source record was empty (typed values are null only when blank or markers)."""
    parts = []
    for col in staged.columns:
        name = quote_ident(col.name)
        parts.append(f"{name} IS NULL" if col.ident in one_pass.types else f"coalesce(trim({name}), '') = ''")
    return " AND ".join(parts)


def count_empty(*, engine: Engine, path: Path, staged: Staged, one_pass: Plan) -> int:
    params = Params()
    sql = f"SELECT count(*) FROM read_parquet({params.add(str(path))}) WHERE {empty_sql(staged, one_pass)}"  # noqa: S608
    return int(engine.fetchone(sql, params)[0])


def drop_empty(*, engine: Engine, path: Path, staged: Staged, one_pass: Plan, config: DatastoreConfig) -> int:
    """Rewrite ``path`` without its empty rows (order kept); returns the rows left."""
    every = path.with_name(f".{path.name}.all")
    path.rename(every)
    params = Params()
    source = params.add(str(every))
    query = f"SELECT * FROM read_parquet({source}) WHERE NOT ({empty_sql(staged, one_pass)})"  # noqa: S608
    try:
        return engine.copy_parquet(query, params, path=path, row_group_size=config.row_group_size)
    finally:
        every.unlink(missing_ok=True)
