"""``search``: one page of a datastore table version (the latest or a named one), addressed by table id.

A request (filters, full text, projection, sort, distinct rows, group-by aggregates, time buckets) is checked
against the version's Table Schema and compiled into one DuckDB SELECT over its Parquet file. Column names are
quoted by the facade; every value is a bound parameter. The query runs on a pooled read-only cursor under a time
limit; a page holds at most ``max_rows`` records.

Paging: ``offset`` or a keyset ``cursor``. The cursor is an opaque token holding the version, a fingerprint of the
request and the sort-key values of the last record, with a tiebreak (the Parquet row number, or the group keys /
selected columns of grouped and distinct results), so page N+1 costs what page 1 costs and a new upload does not
shift the pages of a reader who is half-way through.

A row search sorted by the time column of a table laid out by (key, time) reads the version's time-ordered copy
when it exists (``projections``): the same rows and row numbers, so the same pages and cursors, in ~7 ms instead of
~100 ms for a page deep into 10M rows. ``Prepared.window`` bounds such a page to the time range that must hold it;
a bounded page that comes back short is read again unbounded, so results never depend on the copy.

The SQL strings here (``noqa: S608``) hold only identifiers quoted by the facade, fixed keywords chosen from
allow-lists and ``$pN`` parameter markers; no request value is ever part of the text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from citycommons.datastore import projections, versions
from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.facade import EngineError, Params, Rows, parquet_scan, quote_ident, quote_literal, read_pool
from citycommons.datastore.query_schemas import (
    MAX_IN_VALUES,
    Aggregate,
    Filter,
    QueryResult,
    ResultField,
    ResultType,
    SearchRequest,
    invalid_request,
)
from citycommons.datastore.schemas import TableSchema
from citycommons.datastore.values import coerce, converter, json_safe
from citycommons.errors import Invalid, NotFound, TooLarge, invalid

DEFAULT_MAX_ROWS = 32_000
"""Largest page (``limit``) a search returns; exports have no cap."""
ROW_ID = "__row_id"
MAX_Q_WORDS = 16
UNORDERED: frozenset[str] = frozenset({"object", "array", "geojson", "any"})
"""Column types that cannot be sorted, grouped, compared with a value or aggregated beyond counting."""
NUMERIC: frozenset[str] = frozenset({"integer", "number"})
_PERCENTILES = {"p50": "0.5", "p90": "0.9", "p95": "0.95", "p99": "0.99"}
_SQL_AGGREGATE = {"sum": "sum", "avg": "avg", "min": "min", "max": "max"}
_COMPARE = {"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def search(
    *,
    config: DatastoreConfig,
    table_id: str,
    version: int | None = None,
    filters: Mapping[str, Any] | Sequence[Filter | Mapping[str, Any]] | None = None,
    q: str | Mapping[str, str] | None = None,
    fields: Sequence[str] | str | None = None,
    sort: Sequence[Any] | str | None = None,
    limit: int = 100,
    offset: int = 0,
    cursor: str | None = None,
    include_total: bool = False,
    distinct: bool = False,
    group_by: Sequence[str] | str | None = None,
    aggregates: Sequence[Aggregate | Mapping[str, Any] | str] | None = None,
    time_bucket: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> QueryResult:
    """One page of ``table_id`` (``version`` or the latest). Parameters accept the shapes of ``SearchRequest``;
    raises ``Invalid`` naming the parameter at fault, ``NotFound`` or ``TooLarge`` (time limit)."""
    request = parse_request(
        {
            "version": version, "filters": filters, "q": q, "fields": fields, "sort": sort, "limit": limit,
            "offset": offset, "cursor": cursor, "include_total": include_total, "distinct": distinct,
            "group_by": group_by, "aggregates": aggregates, "time_bucket": time_bucket,
        }
    )  # fmt: skip
    return run_search(config=config, table_id=table_id, request=request, timeout=timeout, max_rows=max_rows)


def parse_request(data: Mapping[str, Any]) -> SearchRequest:
    """A ``SearchRequest`` from loose input; ``Invalid`` with one entry per faulty parameter."""
    try:
        return SearchRequest.model_validate(dict(data))
    except ValidationError as exc:
        raise invalid_request(exc) from None


def run_search(
    *,
    config: DatastoreConfig,
    table_id: str,
    request: SearchRequest,
    timeout: float | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> QueryResult:
    if request.limit > max_rows:
        raise invalid("limit", f"at most {max_rows} records per page; use the cursor or an export for more")
    token = _decode_cursor(request.cursor) if request.cursor else None
    if token and request.offset:
        raise invalid("offset", "use either offset or cursor, not both")
    if token and request.version is not None and request.version != token.version:
        raise invalid("cursor", f"this cursor pages version {token.version}, not {request.version}")
    plan = prepare(config=config, table_id=table_id, request=request, version=token.version if token else None,
                   projection=True)  # fmt: skip
    if token and (token.fingerprint != plan.fingerprint or len(token.values) != len(plan.keys)):
        raise invalid("cursor", "this cursor belongs to another search")
    seconds = timeout if timeout is not None else config.query_timeout_seconds
    rows = None
    bound = plan.window(after=token.values if token else None, rows=request.offset + request.limit + 1)
    if bound is not None:  # a time range that holds the page unless filters reject rows in it
        rows = _fetch(config, *_page_query(plan, request, token, bound), seconds)
        if len(rows.rows) <= request.limit:  # the range may have cut the page short: read it unbounded
            rows = None
    if rows is None:
        rows = _fetch(config, *_page_query(plan, request, token, None), seconds)
    page = rows.rows[: request.limit]
    names = [c.name for c in rows.columns]
    visible = [(names.index(f.name), f.name, converter(f.type)) for f in plan.fields]
    records = [{name: convert(row[i]) for i, name, convert in visible} for row in page]
    next_cursor = None
    if len(rows.rows) > request.limit and page and plan.keys:
        last = page[-1]
        values = [json_safe(last[names.index(k.name)]) for k in plan.keys]
        next_cursor = _encode_cursor(plan.version, plan.fingerprint, values)
    total = None
    if request.include_total:
        count_sql = f"SELECT count(*) FROM ({plan.inner}) AS q"  # noqa: S608
        total = int(_fetch(config, count_sql, plan.copy_params(), seconds).rows[0][0])
    return QueryResult(
        table_id=table_id,
        version=plan.version,
        fields=plan.fields,
        records=records,
        limit=request.limit,
        offset=request.offset,
        total=total,
        next_cursor=next_cursor,
    )


def _page_query(plan: Prepared, request: SearchRequest, token: _Token | None, bound: Any) -> tuple[str, Params]:
    """One page after ``token`` (if any) in the plan's order; ``bound`` limits the first key (a time column of a
    projection) to the range that comes first in that order."""
    params = plan.copy_params()
    conditions = []
    if token:
        conditions.append(_after_cursor(plan.keys, token.values, params))
    if bound is not None:
        first = plan.keys[0]
        conditions.append(f"{first.expr()} {'>=' if first.desc else '<='} {params.add(bound)}")
    where = " WHERE " + " AND ".join(conditions) if conditions else ""
    sql = (
        f"SELECT * FROM ({plan.inner}) AS q{where}{plan.order_by()}"  # noqa: S608
        f" LIMIT {params.add(request.limit + 1)} OFFSET {params.add(request.offset)}"
    )
    return sql, params


def _fetch(config: DatastoreConfig, sql: str, params: Params, seconds: float) -> Rows:
    try:
        return read_pool(config).fetch(sql, params, timeout=seconds)
    except EngineError as exc:
        if exc.interrupted:
            raise TooLarge(f"the query took longer than {seconds:g} s: narrow it with filters") from exc
        raise


# --- Compiling a request --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SortColumn:
    """One ORDER BY key: a column of the inner query, its direction and its type (to read cursor values back)."""

    name: str
    desc: bool
    type: ResultType
    as_text: bool = False
    """Compared as text (JSON columns of a distinct result)."""

    def expr(self) -> str:
        col = f"q.{quote_ident(self.name)}"
        return f"CAST({col} AS VARCHAR)" if self.as_text else col


@dataclass
class Prepared:
    """A checked request as SQL: ``inner`` selects the result rows (unordered, unpaged) from the Parquet file."""

    table_id: str
    version: int
    path: Path
    schema: TableSchema
    fields: list[ResultField]
    """The visible columns, in order, with their Frictionless types."""
    inner: str
    params: Params
    keys: list[SortColumn]
    """The full ordering: requested sort keys, then a tiebreak that makes it total."""
    fingerprint: str
    projection: projections.Projection | None = None
    """The time-ordered copy of the version the rows are read from, if the request is served by one."""

    def copy_params(self) -> Params:
        params = Params()
        params.values.update(self.params.values)
        return params

    def order_by(self) -> str:
        """`` ORDER BY ...`` (empty for a one-row aggregate, which has no key)."""
        if not self.keys:
            return ""
        return " ORDER BY " + ", ".join(f"{k.expr()} {'DESC' if k.desc else 'ASC'} NULLS LAST" for k in self.keys)

    def window(self, *, after: Sequence[Any] | None, rows: int) -> Any | None:
        """With a projection: a bound of the first sort key (its time column) that keeps the first ``rows`` rows
        after the cursor values ``after`` if no filter rejects a row, or None (no projection, no useful bound)."""
        if self.projection is None or not self.keys:
            return None
        first = self.keys[0]
        start = None
        if after:
            if after[0] is None:  # a cursor among the rows without a time: nothing to bound
                return None
            try:
                start = coerce(after[0], first.type)
            except ValueError:
                return None
        return self.projection.window(desc=first.desc, after=start, rows=rows)

    def ordered_query(self, *, limit: int | None = None, offset: int = 0) -> tuple[str, Params]:
        """All visible columns of the result in order (what exports stream), optionally paged."""
        params = self.copy_params()
        columns = ", ".join(f"q.{quote_ident(f.name)}" for f in self.fields)
        sql = f"SELECT {columns} FROM ({self.inner}) AS q{self.order_by()}"  # noqa: S608
        if limit is not None:
            sql += f" LIMIT {params.add(limit)}"
        if offset:
            sql += f" OFFSET {params.add(offset)}"
        return sql, params


def prepare(
    *,
    config: DatastoreConfig,
    table_id: str,
    request: SearchRequest,
    version: int | None = None,
    projection: bool = False,
) -> Prepared:
    """Check ``request`` against the schema of the version it reads and compile it (``version`` overrides the
    request's, as a cursor does). ``Invalid`` names the parameter at fault; ``NotFound`` if there is no version.

    ``projection``: read a time-sorted row search from the version's time-ordered copy when there is one
    (``projections.choose``); same rows, order and row numbers. Only pays with a page (LIMIT) read through
    ``Prepared.window``, as ``run_search`` does."""
    number = version or request.version or versions.latest_version(config=config, table_id=table_id)
    if number is None:
        raise NotFound(f"table {table_id} has no version")
    schema = versions.read_schema(config=config, table_id=table_id, version=number)
    path = versions.data_path(config=config, table_id=table_id, version=number)
    types: dict[str, ResultType] = {f.name: f.type for f in schema.fields}
    params = Params()
    where = _where(request, types, params)
    chosen = None
    if projection:
        chosen = projections.choose(config=config, table_id=table_id, version=number, data=path, request=request)
    grouped = bool(request.group_by or request.aggregates or request.time_bucket)
    if grouped:
        inner, fields, keys = _grouped(request, types, parquet_scan(path, row_number=True), where)
    elif chosen is not None:
        inner, fields, keys = _rows(request, types, chosen.scan(), where, row_number=chosen.row_expr())
    else:
        inner, fields, keys = _rows(request, types, parquet_scan(path, row_number=True), where)
    payload = request.model_dump(mode="json", exclude={"limit", "offset", "cursor", "include_total", "version"})
    digest = hashlib.sha256(json.dumps([table_id, payload], sort_keys=True).encode()).hexdigest()[:16]
    return Prepared(table_id=table_id, version=number, path=path, schema=schema, fields=fields, inner=inner,
                    params=params, keys=keys, fingerprint=digest, projection=chosen)  # fmt: skip


def _unknown(param: str, name: str, types: Mapping[str, Any]) -> Invalid:
    return invalid(param, f"unknown column `{name}`" + _hint(name, types))


def _hint(name: str, names: Mapping[str, Any]) -> str:
    close = [n for n in names if n.lower() == name.lower()]
    return f" (did you mean `{close[0]}`?)" if close else ""


def _rows(
    request: SearchRequest, types: Mapping[str, ResultType], scan: str, where: str, row_number: str = "file_row_number"
) -> tuple[str, list[ResultField], list[SortColumn]]:
    visible = list(request.fields) if request.fields else list(types)
    if not visible:
        raise invalid("fields", "select at least one column")
    for name in visible:
        if name not in types:
            raise _unknown("fields", name, types)
    if len(set(visible)) != len(visible):
        raise invalid("fields", "a column is listed twice")
    keys: list[SortColumn] = []
    for s in request.sort:
        if s.field not in types:
            raise _unknown("sort", s.field, types)
        if types[s.field] in UNORDERED:
            raise invalid("sort", f"`{s.field}` is a {types[s.field]} column and cannot be sorted")
        if request.distinct and s.field not in visible:
            raise invalid("sort", f"with distinct, sort by selected columns only (`{s.field}` is not one)")
        keys.append(SortColumn(s.field, s.direction == "desc", types[s.field]))
    if len({k.name for k in keys}) != len(keys):
        raise invalid("sort", "a column is listed twice")
    sorted_names = {k.name for k in keys}
    hidden = [k.name for k in keys if k.name not in visible]
    columns = [quote_ident(n) for n in visible + hidden]
    if request.distinct:
        keys += [SortColumn(n, False, types[n], types[n] in UNORDERED) for n in visible if n not in sorted_names]
        select = "SELECT DISTINCT "
    else:
        keys.append(SortColumn(ROW_ID, False, "integer"))
        columns.append(f"{row_number} AS {quote_ident(ROW_ID)}")
        select = "SELECT "
    inner = select + ", ".join(columns) + f" FROM {scan}{where}"  # noqa: S608
    return inner, [ResultField(name=n, type=types[n]) for n in visible], keys


def _grouped(
    request: SearchRequest, types: Mapping[str, ResultType], scan: str, where: str
) -> tuple[str, list[ResultField], list[SortColumn]]:
    if request.fields:
        raise invalid("fields", "a grouped result has its own columns: the group keys and the aggregates")
    if request.distinct:
        raise invalid("distinct", "a grouped result is already distinct")
    groups: list[tuple[str, str, ResultType]] = []  # output name, SQL expression, type
    for name in request.group_by:
        if name not in types:
            raise _unknown("group_by", name, types)
        if types[name] in UNORDERED:
            raise invalid("group_by", f"`{name}` is a {types[name]} column and cannot be grouped")
        groups.append((name, quote_ident(name), types[name]))
    bucket = request.time_bucket
    if bucket is not None:
        kind = types.get(bucket.field)
        if kind is None:
            raise _unknown("time_bucket", bucket.field, types)
        if kind not in ("date", "datetime"):
            raise invalid("time_bucket", f"`{bucket.field}` is a {kind} column, not a date or datetime")
        if kind == "date" and bucket.unit == "hour":
            raise invalid("time_bucket", f"`{bucket.field}` holds dates: bucket by day, week, month or year")
        expr = f"date_trunc({quote_literal(bucket.unit)}, {quote_ident(bucket.field)})"
        groups.append((bucket.name, f"CAST({expr} AS DATE)" if kind == "date" else expr, kind))
    aggregates = request.aggregates or [Aggregate(function="count")]
    outputs: list[tuple[str, str, ResultType]] = []
    for agg in aggregates:
        outputs.append((agg.name, *_aggregate(agg, types)))
    names = [g[0] for g in groups] + [o[0] for o in outputs]
    if len(set(names)) != len(names):
        raise invalid("aggregates", "two output columns have the same name: give one an alias")
    out_types = {name: kind for name, _, kind in groups + outputs}
    keys: list[SortColumn] = []
    for s in request.sort:
        if s.field not in out_types:
            raise invalid("sort", f"sort a grouped result by its columns ({', '.join(names)}), not `{s.field}`")
        keys.append(SortColumn(s.field, s.direction == "desc", out_types[s.field]))
    if len({k.name for k in keys}) != len(keys):
        raise invalid("sort", "a column is listed twice")
    keys += [SortColumn(name, False, kind) for name, _, kind in groups if name not in {k.name for k in keys}]
    select = ", ".join(f"{expr} AS {quote_ident(name)}" for name, expr, _ in groups + outputs)
    group_by = " GROUP BY " + ", ".join(expr for _, expr, _ in groups) if groups else ""
    inner = f"SELECT {select} FROM {scan}{where}{group_by}"  # noqa: S608
    return inner, [ResultField(name=n, type=out_types[n]) for n in names], keys


def _aggregate(agg: Aggregate, types: Mapping[str, ResultType]) -> tuple[str, ResultType]:
    if agg.field is None:
        if agg.function != "count":
            raise invalid("aggregates", f"{agg.function} needs a column (`{agg.function}:<column>`)")
        return "count(*)", "integer"
    kind = types.get(agg.field)
    if kind is None:
        raise _unknown("aggregates", agg.field, types)
    col = quote_ident(agg.field)
    if agg.function == "count":
        return f"count({col})", "integer"
    if agg.function == "count_distinct":
        return f"count(DISTINCT {col})", "integer"
    if agg.function in ("min", "max"):
        if kind in UNORDERED:
            raise invalid("aggregates", f"`{agg.field}` is a {kind} column: {agg.function} does not apply")
        return f"{agg.function}({col})", kind
    if kind not in NUMERIC:
        raise invalid("aggregates", f"{agg.function} needs a numeric column; `{agg.field}` is a {kind} column")
    if agg.function in _PERCENTILES:
        return f"quantile_cont({col}, {_PERCENTILES[agg.function]})", "number"
    if agg.function == "avg":
        return f"avg({col})", "number"
    return f"{_SQL_AGGREGATE[agg.function]}({col})", kind


def _where(request: SearchRequest, types: Mapping[str, ResultType], params: Params) -> str:
    conditions = [_filter(f, types, params) for f in request.filters]
    if request.q:
        conditions += _text_search(request.q, types, params)
    return " WHERE " + " AND ".join(conditions) if conditions else ""


def _filter(f: Filter, types: Mapping[str, ResultType], params: Params) -> str:
    kind = types.get(f.field)
    if kind is None:
        raise _unknown("filters", f.field, types)
    col = quote_ident(f.field)
    if f.op == "is_null":
        return f"{col} IS NULL"
    if f.op == "not_null":
        return f"{col} IS NOT NULL"
    if kind in UNORDERED:
        raise invalid("filters", f"`{f.field}` is a {kind} column: filter it with is_null or not_null only")
    if kind == "boolean" and f.op in ("gt", "gte", "lt", "lte"):
        raise invalid("filters", f"`{f.field}` is a boolean column: {f.op} does not apply")
    if f.op in ("in", "not_in"):
        if not isinstance(f.value, list) or not f.value:
            raise invalid("filters", f"`{f.field}`: {f.op} takes a non-empty list of values")
        if len(f.value) > MAX_IN_VALUES:
            raise invalid("filters", f"`{f.field}`: at most {MAX_IN_VALUES} values in a list")
        values = ", ".join(params.add(_coerce(f.field, v, kind)) for v in f.value)
        return f"{col} IN ({values})" if f.op == "in" else f"({col} IS NULL OR {col} NOT IN ({values}))"
    if f.value is None:
        raise invalid("filters", f"`{f.field}`: {f.op} needs a value (use is_null to find empty cells)")
    value = params.add(_coerce(f.field, f.value, kind))
    if f.op == "ne":
        return f"{col} IS DISTINCT FROM {value}"
    return f"{col} {_COMPARE[f.op]} {value}"


def _coerce(name: str, value: Any, kind: ResultType) -> Any:
    try:
        return coerce(value, kind)
    except ValueError as exc:
        raise invalid("filters", f"`{name}`: {exc}") from None


def _like_pattern(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_search(q: str | Mapping[str, str], types: Mapping[str, ResultType], params: Params) -> list[str]:
    """Every word must appear (case and accents ignored) in some text column, or in the named column."""
    if isinstance(q, str):
        texts = [quote_ident(n) for n, t in types.items() if t == "string"]
        if not texts:
            return ["false"]
        hay = texts[0] if len(texts) == 1 else f"concat_ws(chr(31), {', '.join(texts)})"
        searches = [(hay, q)]
    else:
        searches = []
        for name, text in q.items():
            if name not in types:
                raise _unknown("q", name, types)
            if types[name] != "string":
                raise invalid("q", f"`{name}` is a {types[name]} column; full-text search reads text columns")
            searches.append((quote_ident(name), text))
    conditions = []
    for hay, text in searches:
        words = text.split()
        if len(words) > MAX_Q_WORDS:
            raise invalid("q", f"at most {MAX_Q_WORDS} words")
        for word in words:
            pattern = params.add(_like_pattern(word))
            conditions.append(f"strip_accents(lower({hay})) LIKE strip_accents(lower({pattern})) ESCAPE '\\'")
    return conditions


# --- Keyset cursor -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    version: int
    fingerprint: str
    values: list[Any]


def _encode_cursor(version: int, fingerprint: str, values: list[Any]) -> str:
    raw = json.dumps({"v": version, "h": fingerprint, "k": values}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor(token: str) -> _Token:
    bad = invalid("cursor", "not a cursor returned by this search")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None
    if not isinstance(data, dict) or set(data) != {"v", "h", "k"}:
        raise bad
    version, fingerprint, values = data["v"], data["h"], data["k"]
    valid_version = isinstance(version, int) and not isinstance(version, bool) and version >= 1
    if not (valid_version and isinstance(fingerprint, str) and isinstance(values, list)):
        raise bad
    return _Token(version, fingerprint, values)


def _after_cursor(keys: Sequence[SortColumn], values: Sequence[Any], params: Params) -> str:
    """Rows strictly after ``values`` in the order of ``keys`` (ascending or descending, nulls last)."""
    rest: str | None = None  # rows after the later keys; None: no row
    for key, raw in reversed(list(zip(keys, values, strict=True))):
        expr = key.expr()
        parts: list[str] = []
        if raw is None:
            equal = f"{expr} IS NULL"
        else:
            try:
                value = params.add(raw if key.as_text else coerce(raw, key.type))
            except ValueError:
                raise invalid("cursor", "not a cursor returned by this search") from None
            parts.append(f"{expr} {'<' if key.desc else '>'} {value} OR {expr} IS NULL")
            equal = f"{expr} = {value}"
        if rest is not None:
            parts.append(f"{equal} AND {rest}")
        rest = "(" + " OR ".join(f"({p})" for p in parts) + ")" if parts else None
    return rest or "false"
