"""Programmatic writes (CKAN ``datastore_create``/``datastore_upsert``/``datastore_delete``): each one publishes a
NEW immutable version through ``ingest_file``, never changes a published one.

The new version is built as a Parquet file with the column types of the latest version (or of the declared
fields for a new table), streamed batch by batch from the latest version's Parquet file: unchanged batches are
copied as they are, batches holding updated or deleted rows are rebuilt, inserted rows are appended. The file then
goes through the normal ingest (schema, report, primary key check, atomic publication). Types declared by the
publisher and the primary key are stored as the table's schema override, so they survive later uploads.

``_id`` in a record names the 1-based position of a row in the latest version, as search results show it.
"""

from __future__ import annotations

import functools
import json
import math
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from citycommons.datastore import ingest, overrides, versions
from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.query_schemas import Filter
from citycommons.datastore.schemas import FieldOverride, FieldType, IngestResult, SchemaOverride
from citycommons.datastore.values import coerce
from citycommons.errors import Conflict, Invalid

ROW_ID = "_id"
BATCH_ROWS = 65_536
Method = Literal["upsert", "insert", "update"]

# CKAN (PostgreSQL) type names -> Frictionless types
CKAN_TYPES: dict[str, FieldType] = {
    "text": "string", "varchar": "string", "char": "string", "character varying": "string", "name": "string",
    "uuid": "string", "citext": "string",
    "int": "integer", "int2": "integer", "int4": "integer", "int8": "integer", "integer": "integer",
    "smallint": "integer", "bigint": "integer", "serial": "integer",
    "float": "number", "float4": "number", "float8": "number", "real": "number", "double precision": "number",
    "numeric": "number", "decimal": "number", "number": "number", "money": "number",
    "bool": "boolean", "boolean": "boolean",
    "date": "date",
    "timestamp": "datetime", "timestamptz": "datetime", "timestamp without time zone": "datetime",
    "timestamp with time zone": "datetime", "datetime": "datetime",
    "json": "object", "jsonb": "object", "object": "object",
    "string": "string",
}  # fmt: skip
OVERRIDABLE = ("string", "integer", "number", "boolean", "date", "datetime")


@dataclass
class FieldSpec:
    """A column declared by a publisher: name, Frictionless type, optional title and description."""

    name: str
    type: FieldType
    title: str | None = None
    description: str | None = None


@dataclass
class WriteResult:
    table_id: str
    version: int
    rows: int
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    fields: list[tuple[str, str]] = field(default_factory=list)
    """``(name, Frictionless type)`` of the new version."""


def parse_fields(raw: Any) -> list[FieldSpec]:
    """CKAN ``fields`` (``[{"id", "type", "info": {"label", "notes"}}]``) -> ``FieldSpec``; ``Invalid`` on
    ``fields``."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _bad("fields", 'must be a list of {"id": ..., "type": ...}')
    specs: list[FieldSpec] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"].strip():
            raise _bad("fields", f'field {i + 1}: give an "id" (the column name)')
        name = item["id"]
        if name == ROW_ID or name.startswith("_"):
            raise _bad("fields", f'"{name}": column names may not start with "_"')
        if name in seen:
            raise _bad("fields", f'"{name}" is declared twice')
        seen.add(name)
        declared = item.get("type")
        kind: FieldType | None = None
        if declared not in (None, ""):
            if not isinstance(declared, str) or declared.strip().lower() not in CKAN_TYPES:
                raise _bad("fields", f'"{name}": unknown type "{declared}"; use text, int, numeric, bool, date, '
                                     "timestamp or json")  # fmt: skip
            kind = CKAN_TYPES[declared.strip().lower()]
        info: dict[str, Any] = item["info"] if isinstance(item.get("info"), dict) else {}
        specs.append(FieldSpec(name=name, type=kind or "any", title=_text(info.get("label")),
                               description=_text(info.get("notes"))))  # fmt: skip
    return specs


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_records(raw: Any) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
        raise _bad("records", "must be a list of objects (column -> value)")
    return raw


def parse_key(raw: Any) -> list[str]:
    if raw in (None, "", []):
        return []
    if isinstance(raw, str):
        return [k.strip() for k in raw.split(",") if k.strip()]
    if isinstance(raw, list) and all(isinstance(k, str) for k in raw):
        return list(raw)
    raise _bad("primary_key", "must be a column name or a list of column names")


def _bad(name: str, message: str) -> Invalid:
    return Invalid(f"{name}: {message}", fields={name: [message]})


# --- types -----------------------------------------------------------------------------------------------------------


def _arrow_type(kind: str) -> pa.DataType:
    return {
        "string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_(),
        "date": pa.date32(), "datetime": pa.timestamp("us"), "object": pa.json_(), "array": pa.json_(),
    }.get(kind, pa.string())  # fmt: skip


def _guess(values: Sequence[Any]) -> FieldType:
    """The type of a column declared without one, from its values (CKAN guesses from the first record)."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return "string"
    if kinds <= {bool}:
        return "boolean"
    if kinds <= {int}:
        return "integer"
    if kinds <= {int, float}:
        return "number"
    if kinds <= {dict, list}:
        return "object"
    return "string"


def _is_json(t: pa.DataType) -> bool:
    return getattr(t, "extension_name", None) == "arrow.json"


def _convert(value: Any, t: pa.DataType, name: str) -> Any:
    """A JSON value of a record as a Python value Arrow stores in a column of type ``t``; ``ValueError`` if not."""
    if value is None:
        return None
    if _is_json(t):
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False)
        return coerce(value, "string")
    if pa.types.is_integer(t):
        return coerce(value, "integer")
    if pa.types.is_floating(t):
        number = coerce(value, "number")
        return number
    if pa.types.is_decimal(t):
        try:
            number = Decimal(str(coerce(value, "number")))
        except InvalidOperation:
            raise ValueError(f"`{value}` is not a number") from None
        return number.quantize(Decimal(1).scaleb(-t.scale))
    if pa.types.is_boolean(t):
        return coerce(value, "boolean")
    if pa.types.is_date(t):
        return coerce(value, "date")
    if pa.types.is_timestamp(t):
        moment = coerce(value, "datetime")
        if isinstance(moment, date) and not isinstance(moment, datetime):
            moment = datetime.combine(moment, time())
        if t.tz is None and moment.tzinfo is not None:
            return moment.astimezone(UTC).replace(tzinfo=None)
        if t.tz is not None and moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment
    if pa.types.is_time(t):
        try:
            return time.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"`{value}` is not a time (HH:MM:SS)") from None
    raise ValueError(f"a {t} column cannot be written through the API")


def _batch(rows: Sequence[Mapping[str, Any]], schema: pa.Schema, *, first_row: int = 1) -> pa.RecordBatch:
    """Records -> one Arrow batch of ``schema``; ``Invalid`` on ``records`` names the row and column at fault."""
    arrays = []
    for f in schema:
        values = []
        for i, row in enumerate(rows):
            try:
                values.append(_convert(row.get(f.name), f.type, f.name))
            except ValueError as exc:
                raise _bad("records", f"row {first_row + i}: `{f.name}`: {exc}") from None
            if isinstance(values[-1], float) and not math.isfinite(values[-1]):
                raise _bad("records", f"row {first_row + i}: `{f.name}`: not a finite number")
        if _is_json(f.type):
            arrays.append(pa.array(values, pa.string()).cast(f.type))
        else:
            arrays.append(pa.array(values, f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


# --- reading the latest version -------------------------------------------------------------------------------------


def table_bytes(*, config: DatastoreConfig, table_id: str, version: int | None = None) -> int:
    """Size of a version's Parquet file (0 when there is none)."""
    try:
        return versions.data_path(config=config, table_id=table_id, version=version).stat().st_size
    except (OSError, Exception):  # noqa: BLE001 - a missing or unreachable file has no size to report
        return 0


def _current(config: DatastoreConfig, table_id: str) -> tuple[int, Path] | None:
    number = versions.latest_version(config=config, table_id=table_id)
    if number is None:
        return None
    return number, versions.data_path(config=config, table_id=table_id, version=number)


def _schema(path: Path) -> pa.Schema:
    """The Arrow schema of a version, every column nullable (a new version may hold nulls the old one had not)."""
    return pa.schema([f.with_nullable(True) for f in pq.read_schema(path)])


def _batches(path: Path) -> Iterator[pa.RecordBatch]:
    """The rows of a version, batch by batch, with the nullable schema of ``_schema``."""
    schema = _schema(path)
    for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS):
        yield pa.RecordBatch.from_arrays(batch.columns, schema=schema)


# --- publishing -----------------------------------------------------------------------------------------------------


_locks: dict[tuple[Path, str], threading.Lock] = {}
_locks_guard = threading.Lock()
F = TypeVar("F", bound=Callable[..., Any])


def _serialised(fn: F) -> F:
    """Writes of one table in this process run one at a time (each reads the latest version and publishes the
    next); across processes ``_publish`` refuses a write whose base version is no longer the latest."""

    @functools.wraps(fn)
    def wrapper(*args: Any, config: DatastoreConfig, table_id: str, **kwargs: Any) -> Any:
        with _locks_guard:
            lock = _locks.setdefault((config.root, table_id), threading.Lock())
        with lock:
            return fn(*args, config=config, table_id=table_id, **kwargs)

    return wrapper  # type: ignore[return-value]


def _publish(
    config: DatastoreConfig,
    table_id: str,
    schema: pa.Schema,
    batches: Iterator[pa.RecordBatch],
    filename: str,
    *,
    based_on: int | None,
) -> IngestResult:
    with tempfile.TemporaryDirectory(prefix="datastore-write-") as tmp:
        path = Path(tmp) / "records.parquet"
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            wrote = False
            for batch in batches:
                if batch.num_rows:
                    writer.write_batch(batch)
                    wrote = True
            if not wrote:
                writer.write_table(schema.empty_table())
        if versions.latest_version(config=config, table_id=table_id) != based_on:
            raise Conflict("another write published a new version of this table meanwhile: send yours again")
        return ingest.ingest_file(config=config, table_id=table_id, source=path, filename=filename,
                                  declared_format="parquet")  # fmt: skip


def _result(result: IngestResult, **counts: int) -> WriteResult:
    return WriteResult(table_id=result.table_id, version=result.version, rows=result.report.rows,
                       fields=[(f.name, f.type) for f in result.table_schema.fields], **counts)  # fmt: skip


def _store_override(config: DatastoreConfig, table_id: str, specs: Sequence[FieldSpec], key: Sequence[str]) -> None:
    """Declared types, titles and the primary key become the table's override (kept by later uploads)."""
    current = overrides.load_override(config=config, table_id=table_id) or SchemaOverride()
    fields = dict(current.fields)
    for spec in specs:
        previous = fields.get(spec.name) or FieldOverride()
        fields[spec.name] = previous.model_copy(
            update={
                "type": spec.type if spec.type in OVERRIDABLE else previous.type,
                "title": spec.title if spec.title is not None else previous.title,
                "description": spec.description if spec.description is not None else previous.description,
            }
        )
    updated = SchemaOverride(fields=fields, primary_key=list(key) if key else current.primary_key)
    versions.write_override(config=config, table_id=table_id, data=updated.model_dump(mode="json", exclude_none=True))


@_serialised
def create(
    *,
    config: DatastoreConfig,
    table_id: str,
    fields: Sequence[FieldSpec],
    records: Sequence[Mapping[str, Any]],
    primary_key: Sequence[str] = (),
) -> WriteResult:
    """A new version with ``fields`` (columns added to an existing table; a table whose latest version is empty
    is defined afresh) and ``records`` appended."""
    current = _current(config, table_id)
    based_on = current[0] if current is not None else None
    old_schema: pa.Schema | None = None
    if current is not None:
        old_schema = _schema(current[1])
        if pq.ParquetFile(current[1]).metadata.num_rows == 0:
            old_schema, current = None, None
    declared = {s.name: s for s in fields}
    names = list(declared)
    for record in records:
        names += [k for k in record if k not in declared and k not in names and k != ROW_ID]
    columns: list[pa.Field] = []
    if old_schema is not None:
        for f in old_schema:
            spec = declared.get(f.name)
            if (
                spec is not None
                and spec.type != "any"
                and _arrow_type(spec.type) != f.type
                and not (_is_json(f.type) and spec.type in ("object", "array"))
            ):
                raise Conflict(f'fields: "{f.name}" already exists with another type',
                               fields={"fields": [f'"{f.name}" already exists with another type']})  # fmt: skip
            columns.append(f)
    existing = {f.name for f in columns}
    for name in names:
        if name in existing:
            continue
        spec = declared.get(name)
        kind = spec.type if spec is not None and spec.type != "any" else _guess([r.get(name) for r in records])
        columns.append(pa.field(name, _arrow_type(kind)))
    if not columns:
        raise _bad("fields", "declare at least one field (or send records)")
    unknown_key = [k for k in primary_key if k not in {c.name for c in columns}]
    if unknown_key:
        raise _bad("primary_key", f'"{unknown_key[0]}" is not a field')
    schema = pa.schema(columns)
    new_rows = [dict(r) for r in records]
    if any(ROW_ID in r for r in new_rows):
        raise _bad("records", "`_id` is assigned by the datastore: use datastore_upsert to change a row")
    inserted = _batch(new_rows, schema) if new_rows else None

    def batches() -> Iterator[pa.RecordBatch]:
        if current is not None:
            for batch in _batches(current[1]):
                yield _widen(batch, schema)
        if inserted is not None:
            yield inserted

    previous = versions.read_override(config=config, table_id=table_id)
    _store_override(config, table_id, [s for s in fields if s.name in {c.name for c in columns}], primary_key)
    try:
        result = _publish(config, table_id, schema, batches(), f"{table_id}.parquet", based_on=based_on)
    except BaseException:
        _restore_override(config, table_id, previous)
        raise
    return _result(result, inserted=len(new_rows))


def _restore_override(config: DatastoreConfig, table_id: str, previous: str | None) -> None:
    data = json.loads(previous) if previous is not None else {"fields": {}}
    versions.write_override(config=config, table_id=table_id, data=data)


def _widen(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` with the columns of ``schema`` it lacks added as nulls."""
    if batch.schema.names == schema.names:
        return batch
    arrays = [
        batch.column(batch.schema.get_field_index(f.name)) if f.name in batch.schema.names
        else pa.nulls(batch.num_rows, f.type)
        for f in schema
    ]  # fmt: skip
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _key_of(row: Mapping[str, Any], key: Sequence[str], schema: pa.Schema, index: int) -> tuple[Any, ...]:
    values = []
    for name in key:
        value = row.get(name)
        if value is None:
            raise _bad("records", f"row {index}: the key field `{name}` is missing")
        try:
            values.append(_normal(_convert(value, schema.field(name).type, name)))
        except ValueError as exc:
            raise _bad("records", f"row {index}: `{name}`: {exc}") from None
    return tuple(values)


def _normal(value: Any) -> Any:
    """Key values compared across Arrow and JSON: numbers as Decimal text, the rest as they are."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).normalize()
    return value


@_serialised
def upsert(
    *,
    config: DatastoreConfig,
    table_id: str,
    records: Sequence[Mapping[str, Any]],
    method: Method = "upsert",
) -> WriteResult:
    """A new version with ``records`` inserted or merged into the rows they match (by the primary key, or by
    ``_id``); ``insert`` refuses a key that exists, ``update`` one that does not."""
    current = _current(config, table_id)
    if current is None:
        raise Conflict("the table has no version yet: create it with datastore_create")
    number, path = current
    schema = _schema(path)
    key = versions.read_schema(config=config, table_id=table_id, version=number).primary_key or []
    names = set(schema.names)
    by_key: dict[tuple[Any, ...], int] = {}
    by_id: dict[int, int] = {}
    appended: list[int] = []
    for i, record in enumerate(records):
        unknown = [k for k in record if k not in names and k != ROW_ID]
        if unknown:
            raise _bad("records", f'row {i + 1}: field "{unknown[0]}" does not exist (add it with datastore_create)')
        if ROW_ID in record:
            if method == "insert":
                raise _bad("records", f"row {i + 1}: `_id` is assigned by the datastore: do not send it to insert")
            try:
                by_id[coerce(record[ROW_ID], "integer")] = i
            except ValueError as exc:
                raise _bad("records", f"row {i + 1}: `_id`: {exc}") from None
        elif key:
            k = _key_of(record, key, schema, i + 1)
            if k in by_key:
                raise _bad("records", f"row {i + 1}: the same key as row {by_key[k] + 1}")
            by_key[k] = i
        elif method == "insert":
            appended.append(i)
        else:
            raise _bad("records", f"row {i + 1}: the table has no primary key: give `_id` to {method} a row")
    matched: set[int] = set()
    counts = {"updated": 0}

    def merged(batch: pa.RecordBatch, offset: int) -> pa.RecordBatch:
        hits: dict[int, int] = {}
        if by_id:
            for pos in range(batch.num_rows):
                record_index = by_id.get(offset + pos + 1)
                if record_index is not None:
                    hits[pos] = record_index
        if by_key:
            columns = [batch.column(batch.schema.get_field_index(k)).to_pylist() for k in key]
            for pos, values in enumerate(zip(*columns, strict=True)):
                record_index = by_key.get(tuple(_normal(v) for v in values))
                if record_index is not None:
                    hits[pos] = record_index
        if not hits:
            return batch
        if method == "insert":
            first = min(hits.values())
            raise Conflict(f"records: row {first + 1}: a row with this key exists",
                           fields={"records": [f"row {first + 1}: a row with this key exists"]})  # fmt: skip
        rows = batch.to_pylist()
        for pos, record_index in hits.items():
            matched.add(record_index)
            rows[pos] = {**rows[pos], **{k: v for k, v in records[record_index].items() if k != ROW_ID}}
        counts["updated"] += len(hits)
        return _rebuild(rows, batch.schema, hits, records)

    def batches() -> Iterator[pa.RecordBatch]:
        offset = 0
        for batch in _batches(path):
            yield merged(batch, offset)
            offset += batch.num_rows
        missing = [i for i in list(by_id.values()) + list(by_key.values()) if i not in matched]
        if missing and method == "update":
            raise _bad("records", f"row {min(missing) + 1}: no row has this key")
        if any(i in by_id.values() for i in missing):
            bad = min(i for i in missing if i in by_id.values())
            raise _bad("records", f"row {bad + 1}: no row has this `_id`")
        new = sorted([i for i in missing if i not in by_id.values()] + appended)
        if new:
            yield _batch([records[i] for i in new], schema, first_row=1)

    result = _publish(config, table_id, schema, batches(), f"{table_id}.parquet", based_on=number)
    return _result(result, inserted=len(records) - counts["updated"], updated=counts["updated"])


def _rebuild(
    rows: list[dict[str, Any]], schema: pa.Schema, hits: Mapping[int, int], records: Sequence[Mapping[str, Any]]
) -> pa.RecordBatch:
    """A batch from rows of which ``hits`` were merged with JSON records: only those are converted."""
    arrays = []
    for f in schema:
        values = []
        for pos, row in enumerate(rows):
            value = row.get(f.name)
            if pos in hits and f.name in records[hits[pos]]:
                try:
                    value = _convert(value, f.type, f.name)
                except ValueError as exc:
                    raise _bad("records", f"row {hits[pos] + 1}: `{f.name}`: {exc}") from None
            values.append(value)
        if _is_json(f.type):
            values = [v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values]
            arrays.append(pa.array(values, pa.string()).cast(f.type))
        else:
            arrays.append(pa.array(values, f.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


@_serialised
def delete(*, config: DatastoreConfig, table_id: str, filters: Sequence[Filter]) -> WriteResult:
    """A new version without the rows matching every filter (no filters: without any row)."""
    current = _current(config, table_id)
    if current is None:
        raise Conflict("the table has no version")
    _, path = current
    schema = _schema(path)
    for f in filters:
        if f.field != ROW_ID and f.field not in schema.names:
            raise _bad("filters", f'field "{f.field}" not in table')
    if not any(_keep_mask(batch, offset, filters).count(False) for batch, offset in _numbered(path)):
        return WriteResult(table_id=table_id, version=current[0], rows=pq.ParquetFile(path).metadata.num_rows,
                           fields=[], deleted=0)  # fmt: skip
    counts = {"deleted": 0}

    def batches() -> Iterator[pa.RecordBatch]:
        for batch, offset in _numbered(path):
            keep = _keep_mask(batch, offset, filters)
            counts["deleted"] += keep.count(False)
            yield batch if all(keep) else batch.filter(pa.array(keep))

    result = _publish(config, table_id, schema, batches(), f"{table_id}.parquet", based_on=current[0])
    return _result(result, deleted=counts["deleted"])


def _numbered(path: Path) -> Iterator[tuple[pa.RecordBatch, int]]:
    """Batches with the 0-based position of their first row."""
    offset = 0
    for batch in _batches(path):
        yield batch, offset
        offset += batch.num_rows


def _keep_mask(batch: pa.RecordBatch, offset: int, filters: Sequence[Filter]) -> list[bool]:
    """False for the rows of ``batch`` matching every filter."""
    keep = [False] * batch.num_rows
    checked = [True] * batch.num_rows
    for f in filters:
        if f.field == ROW_ID:
            values: list[Any] = list(range(offset + 1, offset + batch.num_rows + 1))
            kind: pa.DataType = pa.int64()
        else:
            column = batch.column(batch.schema.get_field_index(f.field))
            values, kind = column.to_pylist(), column.type
        target = _target(f, kind)
        for pos, value in enumerate(values):
            if checked[pos] and not _compare(f, value, target):
                checked[pos] = False
    for pos, match in enumerate(checked):
        keep[pos] = not match
    return keep


def _target(f: Filter, kind: pa.DataType) -> Any:
    """The filter's value(s) converted once to the column's type (a set for in/not_in)."""

    def typed(v: Any) -> Any:
        try:
            return _normal(_convert(v, kind, f.field))
        except ValueError as exc:
            raise _bad("filters", f"`{f.field}`: {exc}") from None

    if f.op in ("is_null", "not_null"):
        return None
    if f.op in ("in", "not_in"):
        if not isinstance(f.value, list) or not f.value:
            raise _bad("filters", f"`{f.field}`: {f.op} takes a non-empty list")
        return {typed(v) for v in f.value}
    if f.value is None:
        raise _bad("filters", f"`{f.field}`: {f.op} needs a value")
    return typed(f.value)


def _compare(f: Filter, value: Any, target: Any) -> bool:
    if f.op == "is_null":
        return value is None
    if f.op == "not_null":
        return value is not None
    if f.op in ("in", "not_in"):
        found = value is not None and _normal(value) in target
        return found if f.op == "in" else not found
    if f.op == "ne":
        return value is None or _normal(value) != target
    if value is None:
        return False
    current = _normal(value)
    try:
        if f.op == "eq":
            return bool(current == target)
        if f.op == "gt":
            return bool(current > target)
        if f.op == "gte":
            return bool(current >= target)
        if f.op == "lt":
            return bool(current < target)
        return bool(current <= target)
    except TypeError:
        raise _bad("filters", f"`{f.field}`: {f.op} does not apply to this column") from None
