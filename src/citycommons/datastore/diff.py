"""``diff``: what changed in a table between two of its versions, computed by DuckDB over the two Parquet files.

Rows are matched by the primary key of the Table Schema (the newer version's, else the older's) when both
versions have its columns and its values are unique in both. A key value found only in the new version is
*added*, one found only in the old version is *removed*, and a key present in both is *changed* when a column the
two versions share differs. Without a usable key, rows are matched by a hash of their shared columns as
multisets: a row repeated three times in the old version and twice in the new counts as one removal, and edits
show as a removal plus an addition. Columns added, removed or retyped are reported apart, in ``schema_changes``.

The SQL strings (``noqa: S608``) hold identifiers quoted by the facade and ``$pN`` parameters only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from citycommons.datastore import versions
from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.facade import EngineError, Params, parquet_scan, quote_ident, read_pool
from citycommons.datastore.query_schemas import (
    DiffChange,
    DiffRow,
    DiffSummary,
    ResultType,
    SchemaChanges,
    TableDiff,
)
from citycommons.datastore.schemas import TableSchema
from citycommons.datastore.values import converter
from citycommons.errors import TooLarge, invalid

MAX_DIFF_ROWS = 1000
HASH_KEY = "_row_hash"
_CHANGES: tuple[str, ...] = get_args(DiffChange)


@dataclass(frozen=True)
class _Side:
    names: list[str]
    types: dict[str, ResultType]


def diff(
    *,
    config: DatastoreConfig,
    table_id: str,
    from_version: int,
    to_version: int,
    changes: Sequence[DiffChange] | None = None,
    limit: int = 100,
    offset: int = 0,
    timeout: float | None = None,
) -> TableDiff:
    """Counts of added, removed, changed and unchanged rows from ``from_version`` to ``to_version``, the schema
    changes, and one page of changed rows (``changes`` selects the kinds listed; ordered by key)."""
    if not 0 <= limit <= MAX_DIFF_ROWS:
        raise invalid("limit", f"between 0 and {MAX_DIFF_ROWS}")
    if offset < 0:
        raise invalid("offset", "must be 0 or more")
    kinds = list(changes) if changes is not None else list(_CHANGES)
    unknown = [k for k in kinds if k not in _CHANGES]
    if unknown:
        raise invalid("changes", f"unknown change `{unknown[0]}`; use {', '.join(_CHANGES)}")
    old_schema = versions.read_schema(config=config, table_id=table_id, version=from_version)
    new_schema = versions.read_schema(config=config, table_id=table_id, version=to_version)
    old, new = _side(old_schema), _side(new_schema)
    old_path = versions.data_path(config=config, table_id=table_id, version=from_version)
    new_path = versions.data_path(config=config, table_id=table_id, version=to_version)
    seconds = timeout if timeout is not None else config.query_timeout_seconds
    common = [n for n in new.names if n in old.types]
    schema_changes = SchemaChanges(
        added_fields=[n for n in new.names if n not in old.types],
        removed_fields=[n for n in old.names if n not in new.types],
        type_changes={n: (old.types[n], new.types[n]) for n in common if old.types[n] != new.types[n]},
    )
    warnings: list[str] = []
    key = _usable_key(config, old_schema, new_schema, old_path, new_path, seconds, warnings)
    joined, params, order = _joined(old, new, old_path, new_path, key)
    pool = read_pool(config)
    page = None
    try:
        counts = pool.fetch(f"SELECT change, count(*) FROM ({joined}) AS d GROUP BY change", params, timeout=seconds)  # noqa: S608
        if kinds and limit:
            page_params = Params()
            page_params.values.update(params.values)
            wanted = ", ".join(page_params.add(k) for k in kinds)
            page_sql = (
                f"SELECT * FROM ({joined}) AS d WHERE change IN ({wanted}) ORDER BY {', '.join(order)}, change"  # noqa: S608
                f" LIMIT {page_params.add(limit)} OFFSET {page_params.add(offset)}"
            )
            page = pool.fetch(page_sql, page_params, timeout=seconds)
    except EngineError as exc:
        if exc.interrupted:
            raise TooLarge(f"the diff took longer than {seconds:g} s") from exc
        raise
    summary = DiffSummary()
    for kind, count in counts.rows:
        setattr(summary, "unchanged" if kind == "same" else kind, int(count))
    rows = [_diff_row(r, old, new, key) for r in page.rows] if page else []
    return TableDiff(
        table_id=table_id, from_version=from_version, to_version=to_version,
        match="primary_key" if key else "row_hash", key=key or [HASH_KEY], summary=summary,
        schema_changes=schema_changes, rows=rows, limit=limit, offset=offset, warnings=warnings,
    )  # fmt: skip


def _side(schema: TableSchema) -> _Side:
    return _Side(names=[f.name for f in schema.fields], types={f.name: f.type for f in schema.fields})


def _joined(
    old: _Side, new: _Side, old_path: Path, new_path: Path, key: list[str] | None
) -> tuple[str, Params, list[str]]:
    """The full outer join of the two versions: one row per matched pair or lone row, with its ``change``
    (added, removed, changed, same), the ``changed`` column names, the order columns (``__o0``...), then every
    column of the old and of the new version."""
    common = [n for n in new.names if n in old.types]

    def comparable(name: str, side: str) -> str:
        col = f"{side}.{quote_ident(name)}"
        return col if old.types[name] == new.types[name] else f"CAST({col} AS VARCHAR)"

    params = Params()
    changed = "[]::VARCHAR[]"
    differs = ""
    if key:
        others = [n for n in common if n not in key]
        join = " AND ".join(f"{comparable(k, 'a')} IS NOT DISTINCT FROM {comparable(k, 'b')}" for k in key)
        a_src = f"SELECT *, true AS __in FROM {parquet_scan(old_path)}"  # noqa: S608
        b_src = f"SELECT *, true AS __in FROM {parquet_scan(new_path)}"  # noqa: S608
        order = [f"coalesce({comparable(k, 'b')}, {comparable(k, 'a')})" for k in key]
        if others:
            tests = [f"{comparable(n, 'a')} IS DISTINCT FROM {comparable(n, 'b')}" for n in others]
            differs = " OR ".join(tests)
            cases = ", ".join(f"CASE WHEN {t} THEN {params.add(n)} END" for t, n in zip(tests, others, strict=True))
            listed = f"list_filter([{cases}], lambda x: x IS NOT NULL)"
            changed = f"CASE WHEN a.__in AND b.__in THEN {listed} ELSE {changed} END"
    else:
        join = "a.__h = b.__h AND a.__n = b.__n"
        a_src, b_src = _hashed(old_path, "a", common, comparable), _hashed(new_path, "b", common, comparable)
        order = ["coalesce(a.__h, b.__h)", "coalesce(a.__n, b.__n)"]
    change = (
        "CASE WHEN a.__in IS NULL THEN 'added' WHEN b.__in IS NULL THEN 'removed'"
        + (f" WHEN {differs} THEN 'changed'" if differs else "")
        + " ELSE 'same' END"
    )
    order_cols = [f"__o{i}" for i in range(len(order))]
    columns = [f"{change} AS change", f"{changed} AS changed"]
    columns += [f"{expr} AS {name}" for expr, name in zip(order, order_cols, strict=True)]
    columns += [f"a.{quote_ident(n)}" for n in old.names] + [f"b.{quote_ident(n)}" for n in new.names]
    sql = f"SELECT {', '.join(columns)} FROM ({a_src}) AS a FULL OUTER JOIN ({b_src}) AS b ON {join}"  # noqa: S608
    return sql, params, order_cols


def _hashed(path: Path, side: str, common: list[str], comparable: Callable[[str, str], str]) -> str:
    """The rows of ``path`` with a hash of the shared columns and the occurrence number of that hash."""
    cols = ", ".join(comparable(n, side) for n in common) or "NULL"
    hashed = f"SELECT *, hash({cols}) AS __h FROM {parquet_scan(path, row_number=True)} AS {side}"  # noqa: S608
    numbered = "row_number() OVER (PARTITION BY __h ORDER BY file_row_number) AS __n"
    return f"SELECT *, {numbered}, true AS __in FROM ({hashed}) AS h"  # noqa: S608


def _usable_key(
    config: DatastoreConfig,
    old: TableSchema,
    new: TableSchema,
    old_path: Path,
    new_path: Path,
    seconds: float,
    warnings: list[str],
) -> list[str] | None:
    key = new.primary_key or old.primary_key
    if not key:
        return None
    old_names, new_names = {f.name for f in old.fields}, {f.name for f in new.fields}
    if not all(k in old_names and k in new_names for k in key):
        warnings.append(f"primary key ({', '.join(key)}) is not in both versions: rows matched by content")
        return None
    cols = ", ".join(quote_ident(k) for k in key)
    for path in (old_path, new_path):
        sql = f"SELECT count(*) - count(DISTINCT ({cols})) FROM {parquet_scan(path)}"  # noqa: S608
        try:
            repeated = read_pool(config).fetch(sql, timeout=seconds).rows[0][0]
        except EngineError as exc:
            if exc.interrupted:
                raise TooLarge(f"the diff took longer than {seconds:g} s") from exc
            raise
        if repeated:
            warnings.append(f"primary key ({', '.join(key)}) repeats in a version: rows matched by content")
            return None
    return list(key)


def _diff_row(row: tuple[Any, ...], old: _Side, new: _Side, key: list[str] | None) -> DiffRow:
    change, changed = row[0], row[1]
    row_hash = row[2]  # the first order column: a key value, or the row hash
    start = 2 + (len(key) if key else 2)
    old_values = row[start : start + len(old.names)]
    new_values = row[start + len(old.names) :]
    old_record = {n: converter(old.types[n])(v) for n, v in zip(old.names, old_values, strict=True)}
    new_record = {n: converter(new.types[n])(v) for n, v in zip(new.names, new_values, strict=True)}
    present = new_record if change != "removed" else old_record
    key_values = {k: present[k] for k in key} if key else {HASH_KEY: f"{int(row_hash):016x}"}
    return DiffRow(
        change=change,
        key=key_values,
        old=old_record if change != "added" else None,
        new=new_record if change != "removed" else None,
        changed_fields=list(changed or []),
    )
