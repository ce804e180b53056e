"""Searches that show ``_id``: the 1-based position of a row in its version (stable for that immutable version),
the row identifier CKAN clients expect in ``datastore_search`` results, filters (``{"_id": 5}``) and sort
(``"_id desc"``).

The request is compiled by ``query.prepare`` as any search is (its plan already carries the Parquet row number);
this module only wraps it: ``_id`` conditions and ordering apply to the outer query, values are bound parameters
and identifiers are quoted by the facade. Distinct and grouped results have no ``_id``. A table with a column of
its own named ``_id`` keeps it: no position is added.
"""

from __future__ import annotations

from typing import Any

from citycommons.datastore import query, versions
from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.facade import EngineError, Params, quote_ident, read_pool
from citycommons.datastore.query_schemas import MAX_IN_VALUES, Filter, QueryResult, ResultField, SearchRequest
from citycommons.datastore.values import coerce, converter
from citycommons.errors import Invalid, TooLarge, invalid

ROW_ID = "_id"
_COMPARE = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def search(
    *, config: DatastoreConfig, table_id: str, request: SearchRequest, timeout: float, max_rows: int
) -> QueryResult:
    """One page of rows with ``_id`` first (offset paging; ``include_total`` counts the filtered rows)."""
    if request.limit > max_rows:
        raise invalid("limit", f"at most {max_rows} records per page")
    if request.cursor:
        raise invalid("cursor", "not available with row ids: page with offset")
    grouped = bool(request.group_by or request.aggregates or request.time_bucket or request.distinct)
    id_filters = [f for f in request.filters if f.field == ROW_ID]
    id_sort = [s for s in request.sort if s.field == ROW_ID]
    schema_names = _column_names(config, table_id, request.version)
    if ROW_ID in schema_names:  # the table has its own `_id`: nothing to add
        return _plain(config, table_id, request, timeout, max_rows)
    if grouped:
        if id_filters or id_sort:
            raise invalid("filters" if id_filters else "sort", "`_id` is not available with distinct or grouped rows")
        return _plain(config, table_id, request, timeout, max_rows)
    want_id = request.fields is None or ROW_ID in request.fields
    fields = [f for f in request.fields or [] if f != ROW_ID] or None
    only_id = request.fields is not None and fields is None
    if only_id:
        fields = [schema_names[0]]  # only `_id` asked for: compile with one column, show none of it
    inner = request.model_copy(
        update={
            "filters": [f for f in request.filters if f.field != ROW_ID],
            "sort": [s for s in request.sort if s.field != ROW_ID],
            "fields": fields,
            "cursor": None,
        }
    )
    plan = query.prepare(config=config, table_id=table_id, request=inner)
    params = plan.copy_params()
    row = f"(q.{quote_ident(query.ROW_ID)} + 1)"
    conditions = [_id_condition(f, row, params) for f in id_filters]
    where = " WHERE " + " AND ".join(conditions) if conditions else ""
    order: list[str] = []
    for s in request.sort:
        expr = row if s.field == ROW_ID else f"q.{quote_ident(s.field)}"
        order.append(f"{expr} {'DESC' if s.direction == 'desc' else 'ASC'} NULLS LAST")
    if not id_sort:
        order.append(f"{row} ASC")
    visible = [] if only_id else list(plan.fields)
    columns = ", ".join([f"{row} AS {quote_ident(ROW_ID)}"] + [f"q.{quote_ident(f.name)}" for f in visible])
    sql = (
        f"SELECT {columns} FROM ({plan.inner}) AS q{where} ORDER BY {', '.join(order)}"  # noqa: S608
        f" LIMIT {params.add(request.limit)} OFFSET {params.add(request.offset)}"
    )
    rows = _fetch(config, sql, params, timeout)
    convert = [converter(f.type) for f in visible]
    records: list[dict[str, Any]] = []
    for values in rows.rows:
        rec: dict[str, Any] = {ROW_ID: int(values[0])} if want_id else {}
        rec.update({f.name: conv(v) for f, conv, v in zip(visible, convert, values[1:], strict=True)})
        records.append(rec)
    total = None
    if request.include_total:
        count_params = plan.copy_params()
        count_conditions = [_id_condition(f, row, count_params) for f in id_filters]
        count_where = " WHERE " + " AND ".join(count_conditions) if count_conditions else ""
        count = _fetch(config, f"SELECT count(*) FROM ({plan.inner}) AS q{count_where}", count_params, timeout)  # noqa: S608
        total = int(count.rows[0][0])
    result_fields = ([ResultField(name=ROW_ID, type="integer")] if want_id else []) + visible
    return QueryResult(table_id=table_id, version=plan.version, fields=result_fields, records=records,
                       limit=request.limit, offset=request.offset, total=total)  # fmt: skip


def _column_names(config: DatastoreConfig, table_id: str, version: int | None) -> list[str]:
    return [f.name for f in versions.read_schema(config=config, table_id=table_id, version=version).fields]


def _plain(
    config: DatastoreConfig, table_id: str, request: SearchRequest, timeout: float, max_rows: int
) -> QueryResult:
    try:
        return query.run_search(config=config, table_id=table_id, request=request, timeout=timeout, max_rows=max_rows)
    except EngineError as exc:
        raise _refused(exc) from exc


def _refused(exc: EngineError) -> Invalid:
    message = exc.message.strip().splitlines()[0] if exc.message.strip() else "the query failed"
    return Invalid(f"query: {message}", fields={"query": [message]})


def _id_condition(f: Filter, row: str, params: Params) -> str:
    if f.op == "is_null":
        return "false"
    if f.op == "not_null":
        return "true"

    def value(v: Any) -> str:
        try:
            return params.add(coerce(v, "integer"))
        except ValueError as exc:
            raise invalid("filters", f"`_id`: {exc}") from None

    if f.op in ("in", "not_in"):
        if not isinstance(f.value, list) or not f.value or len(f.value) > MAX_IN_VALUES:
            raise invalid("filters", f"`_id`: {f.op} takes a list of 1 to {MAX_IN_VALUES} values")
        listed = ", ".join(value(v) for v in f.value)
        return f"{row} {'IN' if f.op == 'in' else 'NOT IN'} ({listed})"
    if f.value is None:
        raise invalid("filters", f"`_id`: {f.op} needs a value")
    return f"{row} {_COMPARE[f.op]} {value(f.value)}"


def _fetch(config: DatastoreConfig, sql: str, params: Params, timeout: float) -> Any:
    try:
        return read_pool(config).fetch(sql, params, timeout=timeout)
    except EngineError as exc:
        if exc.interrupted:
            raise TooLarge(f"the query took longer than {timeout:g} s: narrow it with filters") from exc
        raise _refused(exc) from exc
