"""Streamed exports of a search or SQL result, without a row cap: CSV, JSON (one array), NDJSON, GeoJSON,
Parquet and XLSX.

``export_search`` and ``export_sql`` check their input at once, so a bad request fails before any byte is sent.
They return an ``Export`` whose ``chunks`` generator reads Arrow record batches from DuckDB as it is consumed.
Memory therefore holds one batch at a time. XLSX is the exception in one way: the workbook streams to a temporary
file (openpyxl write-only), and that file is sent when complete.

Value shapes follow search results: ISO 8601 dates, numbers for decimals, GeoJSON text for geometries in tabular
formats, JSON objects for object columns in JSON formats.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from openpyxl import Workbook

from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.facade import EngineError, read_pool
from citycommons.datastore.query import parse_request, prepare
from citycommons.datastore.query_schemas import Aggregate, Filter, ResultField, SearchRequest
from citycommons.datastore.sql import CheckedSql, Resolver, check_sql, engine_error, result_fields
from citycommons.datastore.tableschema import GEO_DESCRIPTIONS
from citycommons.datastore.values import converter, json_safe
from citycommons.errors import TooLarge, invalid

ExportFormat = Literal["csv", "json", "ndjson", "geojson", "parquet", "xlsx"]
FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
    "ndjson": ("application/x-ndjson", "ndjson"),
    "geojson": ("application/geo+json", "geojson"),
    "parquet": ("application/vnd.apache.parquet", "parquet"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
DEFAULT_EXPORT_TIMEOUT = 600.0
"""Wall-clock limit of a whole export stream, in seconds."""
BATCH_ROWS = 8192
XLSX_MAX_ROWS = 1_048_575
"""Rows of one worksheet, the header row aside."""
XLSX_MAX_CELL = 32_767
"""Characters Excel shows in a cell; longer text (large geometries) is cut and ends with an ellipsis."""
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_COMPUTED_GEO = frozenset(GEO_DESCRIPTIONS) - {"geometry"}


@dataclass
class Export:
    """What a route needs to stream the export."""

    format: ExportFormat
    media_type: str
    filename: str
    fields: list[ResultField]
    chunks: Iterator[bytes]


def export_search(
    *,
    config: DatastoreConfig,
    table_id: str,
    format: ExportFormat,
    version: int | None = None,
    filters: Mapping[str, Any] | Sequence[Filter | Mapping[str, Any]] | None = None,
    q: str | Mapping[str, str] | None = None,
    fields: Sequence[str] | str | None = None,
    sort: Sequence[Any] | str | None = None,
    distinct: bool = False,
    group_by: Sequence[str] | str | None = None,
    aggregates: Sequence[Aggregate | Mapping[str, Any] | str] | None = None,
    time_bucket: Mapping[str, Any] | None = None,
    limit: int | None = None,
    timeout: float = DEFAULT_EXPORT_TIMEOUT,
) -> Export:
    """Every row of a search (``limit`` rows when given) in ``format``; the arguments are those of ``search``."""
    request = parse_request(
        {
            "version": version, "filters": filters, "q": q, "fields": fields, "sort": sort, "distinct": distinct,
            "group_by": group_by, "aggregates": aggregates, "time_bucket": time_bucket,
        }
    )  # fmt: skip
    return export_request(config=config, table_id=table_id, request=request, format=format, limit=limit,
                          timeout=timeout)  # fmt: skip


def export_request(
    *,
    config: DatastoreConfig,
    table_id: str,
    request: SearchRequest,
    format: ExportFormat,
    limit: int | None = None,
    timeout: float = DEFAULT_EXPORT_TIMEOUT,
) -> Export:
    """``export_search`` for a parsed request (its ``limit``, ``offset`` and ``cursor`` are not used)."""
    _check_format(format)
    if limit is not None and limit < 0:
        raise invalid("limit", "must be 0 or more")
    plan = prepare(config=config, table_id=table_id, request=request)
    geometry = _geometry_field(plan.fields, format)
    sql, params = plan.ordered_query(limit=limit)
    batches = read_pool(config).stream(sql, params, timeout=timeout, batch_rows=BATCH_ROWS)
    name = f"{table_id}-v{plan.version}"
    return _export(format, name, plan.fields, geometry, _engine_errors(batches, None, timeout))


def export_sql(
    *,
    config: DatastoreConfig,
    sql: str,
    resolver: Resolver,
    format: ExportFormat,
    timeout: float = DEFAULT_EXPORT_TIMEOUT,
    filename: str = "query",
) -> Export:
    """Every row of a read-only SQL query (checked as ``run_sql`` checks it) in ``format``."""
    _check_format(format)
    checked = check_sql(sql=sql, resolver=resolver)
    pool = read_pool(config)
    try:
        probe = pool.fetch_sandboxed(f"SELECT * FROM ({checked.sql}) AS q LIMIT 0", views=checked.views,  # noqa: S608
                                     timeout=min(timeout, config.query_timeout_seconds), max_rows=0)  # fmt: skip
    except EngineError as exc:
        raise engine_error(exc, checked=checked, seconds=config.query_timeout_seconds) from exc
    fields = result_fields([(c.name, c.duck_type) for c in probe.columns], checked=checked)
    geometry = _geometry_field(fields, format)
    batches = pool.stream_sandboxed(checked.sql, views=checked.views, timeout=timeout, batch_rows=BATCH_ROWS)
    renamed = (b.rename_columns([f.name for f in fields]) for b in batches)
    return _export(format, filename, fields, geometry, _engine_errors(renamed, checked, timeout))


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise invalid("format", f"unknown format `{fmt}`; use one of {', '.join(FORMATS)}")


def _geometry_field(fields: Sequence[ResultField], fmt: str) -> str | None:
    geometry = next((f.name for f in fields if f.type == "geojson"), None)
    if fmt == "geojson" and geometry is None:
        raise invalid("format", "GeoJSON needs a geometry column in the result")
    return geometry


def _engine_errors(
    batches: Iterator[pa.RecordBatch], checked: CheckedSql | None, timeout: float
) -> Iterator[pa.RecordBatch]:
    try:
        yield from batches
    except EngineError as exc:
        if checked is not None:
            raise engine_error(exc, checked=checked, seconds=timeout) from exc
        if exc.interrupted:
            raise TooLarge(f"the export took longer than {timeout:g} s: narrow it with filters") from exc
        raise


def _export(
    fmt: ExportFormat, name: str, fields: list[ResultField], geometry: str | None, batches: Iterator[pa.RecordBatch]
) -> Export:
    media_type, extension = FORMATS[fmt]
    writers: dict[str, Callable[[], Iterator[bytes]]] = {
        "csv": lambda: _csv(fields, batches),
        "json": lambda: _json(fields, batches, array=True),
        "ndjson": lambda: _json(fields, batches, array=False),
        "geojson": lambda: _geojson(fields, batches, geometry or ""),
        "parquet": lambda: _parquet(fields, batches),
        "xlsx": lambda: _xlsx(fields, batches),
    }
    return Export(format=fmt, media_type=media_type, filename=f"{name}.{extension}", fields=fields,
                  chunks=writers[fmt]())  # fmt: skip


# --- Writers ---------------------------------------------------------------------------------------------------------


def _is_flat(t: pa.DataType) -> bool:
    return not (
        pa.types.is_nested(t) or pa.types.is_interval(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t)
    )


def _flatten(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Nested, interval and binary columns as JSON text; NaN as null (CSV and XLSX hold flat values)."""
    arrays = []
    for column in batch.columns:
        if not _is_flat(column.type):
            texts = [None if v is None else orjson.dumps(json_safe(v)).decode() for v in column.to_pylist()]
            column = pa.array(texts, pa.string())
        elif pa.types.is_floating(column.type):
            column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def _csv(fields: list[ResultField], batches: Iterator[pa.RecordBatch]) -> Iterator[bytes]:
    """UTF-8, comma-separated, quoted only where needed (the header too), empty cells for nulls."""
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow([f.name for f in fields])
    yield header.getvalue().encode("utf-8")
    options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
    for batch in batches:
        buffer = io.BytesIO()
        pacsv.write_csv(_flatten(batch), buffer, options)
        if buffer.tell():
            yield buffer.getvalue()


def _rows(fields: list[ResultField], batch: pa.RecordBatch) -> Iterator[dict[str, Any]]:
    convert = [(f.name, converter(f.type)) for f in fields]
    columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
    for values in zip(*columns, strict=True):
        yield {name: conv(v) for (name, conv), v in zip(convert, values, strict=True)}


def _json(fields: list[ResultField], batches: Iterator[pa.RecordBatch], *, array: bool) -> Iterator[bytes]:
    first = True
    if array:
        yield b"["
    for batch in batches:
        parts = []
        for row in _rows(fields, batch):
            if array and not first:
                parts.append(b",")
            parts.append(orjson.dumps(row))
            if not array:
                parts.append(b"\n")
            first = False
        if parts:
            yield b"".join(parts)
    if array:
        yield b"]"


def _geojson(fields: list[ResultField], batches: Iterator[pa.RecordBatch], geometry: str) -> Iterator[bytes]:
    """A FeatureCollection; the geometry text (valid JSON, checked at ingest) is copied as it is."""
    properties = [f for f in fields if f.name != geometry and f.name not in _COMPUTED_GEO]
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for batch in batches:
        geometries = batch.column(batch.schema.get_field_index(geometry)).to_pylist()
        parts = []
        for geom, row in zip(geometries, _rows(fields, batch), strict=True):
            props = {f.name: row[f.name] for f in properties}
            parts.append(b'{"type":"Feature","geometry":' if first else b',{"type":"Feature","geometry":')
            parts += [geom.encode() if geom else b"null", b',"properties":', orjson.dumps(props), b"}"]
            first = False
        if parts:
            yield b"".join(parts)
    yield b"]}"


class _Drain(io.RawIOBase):
    """A write-only sink whose content is taken away after each batch."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def _parquet(fields: list[ResultField], batches: Iterator[pa.RecordBatch]) -> Iterator[bytes]:
    """One row group per batch; JSON columns keep the Arrow JSON type so a re-upload knows them."""
    sink = _Drain()
    writer: pq.ParquetWriter | None = None
    json_columns = {f.name for f in fields if f.type in ("geojson", "object")}
    try:
        for batch in batches:
            if json_columns:
                batch = pa.RecordBatch.from_arrays(
                    [
                        col.cast(pa.json_()) if name in json_columns and pa.types.is_string(col.type) else col
                        for name, col in zip(batch.schema.names, batch.columns, strict=True)
                    ],
                    names=batch.schema.names,
                )
            if writer is None:
                writer = pq.ParquetWriter(sink, batch.schema, compression="zstd")
            writer.write_batch(batch)
            data = sink.take()
            if data:
                yield data
    finally:
        if writer is not None:
            writer.close()
    if tail := sink.take():
        yield tail


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, str):
        text = _XLSX_ILLEGAL.sub("", value)
        return text if len(text) <= XLSX_MAX_CELL else text[: XLSX_MAX_CELL - 1] + "…"
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)  # Excel has no time zones
    if isinstance(value, bool | int | float) or value is None:
        return value
    return json_safe(value) if not hasattr(value, "isoformat") else value


def _xlsx(fields: list[ResultField], batches: Iterator[pa.RecordBatch]) -> Iterator[bytes]:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append([f.name for f in fields])
    written = 0
    for batch in batches:
        flat = _flatten(batch)
        written += flat.num_rows
        if written > XLSX_MAX_ROWS:
            raise TooLarge(f"an XLSX sheet holds at most {XLSX_MAX_ROWS} rows: export CSV or Parquet instead")
        columns = [flat.column(i).to_pylist() for i in range(flat.num_columns)]
        for values in zip(*columns, strict=True):
            sheet.append([_xlsx_value(v) for v in values])
    with tempfile.TemporaryFile() as out:
        book.save(out)
        out.seek(0)
        while chunk := out.read(1024 * 1024):
            yield chunk
