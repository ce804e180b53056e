"""CKAN's DataStore actions over the datastore service: ``datastore_search``, ``datastore_search_sql``,
``datastore_info`` (reads) and ``datastore_create``, ``datastore_upsert``, ``datastore_delete`` (programmatic
publishers). Shapes follow CKAN 2.10/2.11 (``ckanext/datastore``): ``fields`` as ``[{"id", "type"}]`` with
PostgreSQL type names, ``_id`` first, ``total``, ``_links``, ``records_format`` objects/lists/csv/tsv.

Differences that clients can see: tables are immutable versions, so every write publishes a new version
(``version`` in the result) instead of changing rows in place; ``_id`` is the 1-based position of a row in its
version; full-text ``q`` matches words (case and accents ignored) rather than PostgreSQL ``tsquery`` syntax.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any
from urllib.parse import urlencode

from citycommons.catalog import distributions
from citycommons.catalog.schemas import DistributionCreate
from citycommons.ckan import inputs
from citycommons.ckan.call import Call, DataDict, require, resource_field_names, validate
from citycommons.ckan.errors import CkanInvalid
from citycommons.datastore import records as table_records
from citycommons.datastore import service
from citycommons.datastore.query import parse_request
from citycommons.datastore.query_schemas import ResultField
from citycommons.datastore.schemas import FieldSchema
from citycommons.errors import Invalid

# Frictionless type -> the PostgreSQL type name a CKAN DataStore reports
CKAN_TYPES: dict[str, str] = {
    "string": "text",
    "integer": "int8",
    "number": "numeric",
    "boolean": "bool",
    "date": "date",
    "datetime": "timestamp",
    "time": "time",
    "duration": "interval",
    "object": "json",
    "array": "json",
    "geojson": "text",
    "any": "text",
}
NATIVE_TYPES: dict[str, str] = {
    "text": "text",
    "int8": "bigint",
    "int": "integer",
    "numeric": "numeric",
    "bool": "boolean",
    "date": "date",
    "timestamp": "timestamp without time zone",
    "time": "time without time zone",
    "interval": "interval",
    "json": "json",
}
SEARCH_KEYS = frozenset(
    {
        "resource_id", "id", "q", "plain", "filters", "language", "limit", "offset", "fields", "sort", "distinct",
        "include_total", "total_estimation_threshold", "records_format", "full_text", "version",
    }
)  # fmt: skip
RECORDS_FORMATS = ("objects", "lists", "csv", "tsv")
_TSQUERY = re.compile(r"[&|!():*<>]")


def _resource_id(data: DataDict) -> str:
    return require(data, "resource_id", "id")


def ckan_field(field: ResultField, schema_fields: dict[str, FieldSchema] | None = None) -> dict[str, Any]:
    """``{"id", "type"}`` of a result field, with CKAN's data-dictionary ``info`` when the schema has titles."""
    out: dict[str, Any] = {
        "id": field.name,
        "type": "int" if field.name == "_id" else CKAN_TYPES.get(field.type, "text"),
    }
    described = (schema_fields or {}).get(field.name)
    if described is not None and (described.title or described.description):
        out["info"] = {"label": described.title, "notes": described.description, "type_override": ""}
    return out


# --- datastore_search ------------------------------------------------------------------------------------------


def _json_value(data: DataDict, key: str, errors: inputs.Errors) -> Any:
    """A dict/list given as itself or as JSON text (GET requests)."""
    value = data.get(key)
    if isinstance(value, str) and value.strip().startswith(("{", "[")):
        try:
            return json.loads(value)
        except ValueError:
            errors.add(key, "Could not parse as valid JSON")
            return None
    return value


def _sort_keys(value: Any, errors: inputs.Errors) -> list[dict[str, str]]:
    """``"a desc, b"``, ``["a desc", "b"]`` or ``'"Name with, comma" desc'`` -> ``[{field, direction}]``."""
    items: list[str] = []
    if isinstance(value, str):
        items = _split_sort(value)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        for v in value:
            items += _split_sort(v)
    elif value is not None:
        errors.add("sort", "Must be a string or a list of strings")
    keys = []
    for item in items:
        text = item.strip()
        if text.startswith('"'):
            end = text.find('"', 1)
            while end != -1 and text[end + 1 : end + 2] == '"':
                end = text.find('"', end + 2)
            if end == -1:
                errors.add("sort", f'unbalanced quotes in "{text}"')
                continue
            name, rest = text[1:end].replace('""', '"'), text[end + 1 :].strip().lower()
        else:
            name, _, rest = text.partition(" ")
            rest = rest.strip().lower()
        if rest not in ("", "asc", "desc"):
            errors.add("sort", f'invalid sort direction "{rest}" for field "{name}"')
            continue
        keys.append({"field": name, "direction": rest or "asc"})
    return keys


def _split_sort(text: str) -> list[str]:
    parts, current, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p for p in parts if p.strip()]


def _link(call: Call, args: dict[str, Any]) -> str:
    query = {k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for k, v in args.items()}
    query = {k: ("true" if v is True else "false" if v is False else v) for k, v in query.items()}
    return f"/api/3/action/datastore_search?{urlencode(query)}"


def datastore_search(call: Call, data: DataDict) -> DataDict:
    """Search a DataStore table (``resource_id``): ``filters`` (a dict; a list value means any of them), ``q``
    (words, or a dict of column -> words), ``fields``, ``sort`` ("col desc"), ``distinct``, ``limit``, ``offset``,
    ``include_total``, ``records_format`` (objects, lists, csv, tsv) and ``version`` (default: the latest)."""
    resource_id = _resource_id(data)
    unknown = sorted(k for k in data if k not in SEARCH_KEYS)
    if unknown:
        raise CkanInvalid("Invalid input", fields={k: [f'invalid value "{data[k]}"'] for k in unknown})
    errors = inputs.Errors()
    rows_max = call.settings.datastore_max_page_size
    limit = inputs.integer(data.get("limit"), "limit", errors, default=100)
    offset = inputs.integer(data.get("offset"), "offset", errors, default=0) or 0
    include_total = inputs.boolean(data.get("include_total"), "include_total", errors, default=True)
    distinct = inputs.boolean(data.get("distinct"), "distinct", errors)
    plain = inputs.boolean(data.get("plain"), "plain", errors, default=True)
    version = inputs.integer(data.get("version"), "version", errors, default=None, minimum=1)
    records_format = data.get("records_format") or "objects"
    if records_format not in RECORDS_FORMATS:
        errors.add("records_format", f"Value must be one of {list(RECORDS_FORMATS)}")
    filters = _json_value(data, "filters", errors)
    if filters is not None and not isinstance(filters, dict):
        errors.add("filters", "Not a json object")
        filters = None
    q = _json_value(data, "q", errors)
    if q is None and isinstance(data.get("full_text"), str):
        q = data["full_text"]
    if q is not None and not isinstance(q, str | dict):
        errors.add("q", "Must be a string or a JSON object")
        q = None
    if not plain:  # PostgreSQL tsquery operators: keep the words
        q = {k: _TSQUERY.sub(" ", v) for k, v in q.items()} if isinstance(q, dict) else _TSQUERY.sub(" ", q or "")
    fields = _json_value(data, "fields", errors)
    if fields is not None and not isinstance(fields, str | list):
        errors.add("fields", "Must be a string or a list of strings")
        fields = None
    sort = _sort_keys(_json_value(data, "sort", errors), errors)
    errors.raise_if_any()
    limit = min(rows_max, limit if limit is not None else 100)
    request = parse_request(
        {
            "version": version, "filters": filters or {}, "q": q or None, "fields": fields or None, "sort": sort,
            "limit": limit, "offset": offset, "include_total": include_total, "distinct": distinct,
        }
    )  # fmt: skip
    result = service.search(session=call.session, actor=call.actor, settings=call.settings, resource_id=resource_id,
                            request=request, row_ids=True)  # fmt: skip
    table_schema = service.get_schema(session=call.session, actor=call.actor, settings=call.settings,
                                      resource_id=resource_id, version=result.version)  # fmt: skip
    schema = {f.name: f for f in table_schema.fields}
    out_fields = [ckan_field(f, schema) for f in result.fields]
    names = [f.name for f in result.fields]
    records: Any = result.records
    if records_format == "lists":
        records = [[r.get(n) for n in names] for r in result.records]
    elif records_format in ("csv", "tsv"):
        records = _delimited(result.records, names, "\t" if records_format == "tsv" else ",")
    args: dict[str, Any] = {"resource_id": resource_id}
    for key in ("q", "filters", "fields", "sort", "distinct", "plain", "language", "records_format", "version"):
        if data.get(key) not in (None, ""):
            args[key] = data[key]
    if data.get("limit") not in (None, ""):
        args["limit"] = limit
    links = {"start": _link(call, args), "next": _link(call, {**args, "offset": offset + limit})}
    if offset - limit > 0:
        links["prev"] = _link(call, {**args, "offset": offset - limit})
    out: DataDict = {
        "include_total": include_total,
        "limit": limit,
        "records_format": records_format,
        "resource_id": resource_id,
        "total_estimation_threshold": data.get("total_estimation_threshold"),
        "records": records,
        "fields": out_fields,
        "_links": links,
        "version": result.version,
    }
    for key in ("q", "filters", "distinct", "plain", "language", "offset"):
        if key in data:
            out[key] = {"q": q, "filters": filters, "distinct": distinct, "plain": plain, "offset": offset}.get(
                key, data[key]
            )
    if sort:
        out["sort"] = [f'"{s["field"]}" {s["direction"]}' for s in sort]
    if include_total:
        out["total"] = result.total
        out["total_was_estimated"] = False
    return out


def _delimited(rows: list[dict[str, Any]], names: list[str], delimiter: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if row.get(n) is None else _cell(row.get(n)) for n in names])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


# --- datastore_search_sql, datastore_info ------------------------------------------------------------------------


def datastore_search_sql(call: Call, data: DataDict) -> DataDict:
    """Run one read-only SELECT (``sql``) over the DataStore tables you may read; a table is named by its
    resource id (quote it: ``SELECT * FROM "<id>"``). Rows are capped; ``records_truncated`` says when."""
    sql = require(data, "sql")
    result = service.run_sql(session=call.session, actor=call.actor, settings=call.settings, sql=sql)
    out: DataDict = {
        "sql": sql,
        "records": result.records,
        "fields": [ckan_field(f) for f in result.fields],
    }
    if result.truncated:
        out["records_truncated"] = True
    return out


def datastore_info(call: Call, data: DataDict) -> DataDict:
    """Describe a DataStore table (``id`` or ``resource_id``): ``meta`` (row ``count``, ``size`` in bytes,
    ``version``...) and ``fields`` with their ``schema`` (native type, not null, unique key)."""
    resource_id = _resource_id(data)
    errors = inputs.Errors()
    include_meta = inputs.boolean(data.get("include_meta"), "include_meta", errors, default=True)
    include_schema = inputs.boolean(data.get("include_fields_schema"), "include_fields_schema", errors, default=True)
    errors.raise_if_any()
    info = service.get_table(session=call.session, actor=call.actor, settings=call.settings, resource_id=resource_id)
    schema = info.table_schema
    keys = set(schema.primary_key or [])
    fields = []
    for f in schema.fields:
        field = ckan_field(ResultField(name=f.name, type=f.type), {f.name: f})
        field.setdefault("info", {"label": f.title, "notes": f.description, "type_override": ""})
        if include_schema:
            native = NATIVE_TYPES.get(field["type"], "text")
            field["schema"] = {
                "native_type": native,
                "notnull": f.name in keys,
                "index_name": None,
                "is_index": False,
                "uniquekey": f.name in keys and len(keys) == 1,
            }
        fields.append(field)
    out: DataDict = {"fields": fields}
    if include_meta:
        out["meta"] = {
            "id": resource_id,
            "count": info.rows,
            "table_type": "BASE TABLE",
            "size": table_records.table_bytes(
                config=service.config_of(call.settings), table_id=resource_id, version=info.version
            ),
            "db_size": 0,
            "idx_size": 0,
            "aliases": [],
            "version": info.version,
            "versions": [v.version for v in info.versions],
            "primary_key": schema.primary_key or [],
        }
    return out


# --- writes ------------------------------------------------------------------------------------------------------


def _write_result(result: table_records.WriteResult) -> list[DataDict]:
    return [{"id": name, "type": CKAN_TYPES.get(kind, "text")} for name, kind in result.fields]


def _flag(data: DataDict, key: str, errors: inputs.Errors, default: bool = False) -> bool:
    return inputs.boolean(data.get(key), key, errors, default=default)


def _json_arg(data: DataDict, key: str) -> Any:
    errors = inputs.Errors()
    value = _json_value(data, key, errors)
    errors.raise_if_any()
    return value


def _ckan_errors(exc: Invalid) -> CkanInvalid:
    return exc if isinstance(exc, CkanInvalid) else CkanInvalid(exc.message, fields=exc.fields)


def datastore_create(call: Call, data: DataDict) -> DataDict:
    """Create or extend a DataStore table: ``resource_id`` (or ``resource``, a resource dict with ``package_id``, to
    create the resource too), ``fields`` ([{"id", "type", "info"}]), ``records``, ``primary_key``, ``force``.
    Publishes a new immutable version; editors of the dataset's organisation only."""
    errors = inputs.Errors()
    force = _flag(data, "force", errors)
    include_records = _flag(data, "include_records", errors)
    errors.raise_if_any()
    try:
        fields = table_records.parse_fields(_json_arg(data, "fields"))
        rows = table_records.parse_records(_json_arg(data, "records"))
        primary_key = table_records.parse_key(_json_arg(data, "primary_key"))
    except Invalid as exc:
        raise _ckan_errors(exc) from None
    resource = _json_arg(data, "resource")
    if resource is not None:
        if not isinstance(resource, dict):
            raise CkanInvalid("Invalid input", fields={"resource": ["Must be a dict"]})
        if data.get("resource_id"):
            raise CkanInvalid("Invalid input", fields={"resource": ["resource cannot be used with resource_id"]})
        package_id = require(resource, "package_id")
        res_errors = inputs.Errors()
        values = inputs.resource_fields(resource, res_errors, lang=call.lang, replace=True)
        res_errors.raise_if_any()
        with resource_field_names():
            resource_id = service.create_resource(session=call.session, actor=call.actor, settings=call.settings,
                                                  dataset=package_id,
                                                  data=validate(DistributionCreate, values))  # fmt: skip
        force = True
    else:
        resource_id = require(data, "resource_id")
    try:
        result = service.create_table(session=call.session, actor=call.actor, settings=call.settings,
                                      resource_id=resource_id, fields=fields, rows=rows, primary_key=primary_key,
                                      force=force)  # fmt: skip
    except Invalid as exc:
        raise _ckan_errors(exc) from None
    out: DataDict = {
        "resource_id": resource_id,
        "fields": _write_result(result),
        "method": "insert",
        "primary_key": primary_key,
        "version": result.version,
        "total": result.rows,
    }
    if resource is not None:
        out["resource"] = call.dicts.resource(distributions.get(session=call.session, actor=call.actor,
                                                                distribution_id=resource_id))  # fmt: skip
    if include_records:
        out["records"] = rows
    return out


def datastore_upsert(call: Call, data: DataDict) -> DataDict:
    """Add or change rows of a DataStore table (``resource_id``): ``records``, ``method`` = upsert (by the primary
    key, or ``_id``), insert or update; ``force``. Publishes a new immutable version."""
    resource_id = require(data, "resource_id", "id")
    errors = inputs.Errors()
    force = _flag(data, "force", errors)
    include_records = _flag(data, "include_records", errors)
    if _flag(data, "dry_run", errors):
        errors.add("dry_run", "not supported: every accepted write publishes a new version")
    method: table_records.Method = "upsert"
    given = data.get("method") or "upsert"
    if given in ("insert", "update"):
        method = "insert" if given == "insert" else "update"
    elif given != "upsert":
        errors.add("method", 'Value must be one of ["upsert", "insert", "update"]')
    errors.raise_if_any()
    try:
        rows = table_records.parse_records(_json_arg(data, "records"))
        result = service.upsert(session=call.session, actor=call.actor, settings=call.settings,
                                resource_id=resource_id, rows=rows, method=method, force=force)  # fmt: skip
    except Invalid as exc:
        raise _ckan_errors(exc) from None
    out: DataDict = {"resource_id": resource_id, "method": method, "version": result.version,
                     "inserted": result.inserted, "updated": result.updated, "total": result.rows}  # fmt: skip
    if include_records:
        out["records"] = rows
    return out


def datastore_delete(call: Call, data: DataDict) -> DataDict:
    """Delete rows of a DataStore table (``resource_id``) matching ``filters`` (a dict as in datastore_search);
    without filters every row. Publishes a new immutable version: earlier versions stay readable."""
    resource_id = require(data, "resource_id", "id")
    errors = inputs.Errors()
    force = _flag(data, "force", errors)
    filters = _json_value(data, "filters", errors)
    if filters is not None and not isinstance(filters, dict):
        errors.add("filters", "Not a json object")
    errors.raise_if_any()
    parsed = parse_request({"filters": filters or {}}).filters
    try:
        result = service.delete_rows(session=call.session, actor=call.actor, settings=call.settings,
                                     resource_id=resource_id, filters=parsed, force=force)  # fmt: skip
    except Invalid as exc:
        raise _ckan_errors(exc) from None
    out: DataDict = {"resource_id": resource_id, "version": result.version, "deleted": result.deleted,
                     "total": result.rows}  # fmt: skip
    if filters:
        out["filters"] = filters
    return out


def datastore_records_delete(call: Call, data: DataDict) -> DataDict:
    """``datastore_delete`` that keeps the table (CKAN 2.10+): ``filters`` is required (``{}`` deletes every row)."""
    if "filters" not in data:
        raise CkanInvalid("Missing value", fields={"filters": ["Missing value"]})
    return datastore_delete(call, data)
