"""Native JSON API of the datastore: ``/api/v1/datastore/{resource_id}/...`` and ``/api/v1/sql`` (OpenAPI tag
``datastore``). Routes translate query strings and bodies into ``SearchRequest``; ``datastore.service`` decides."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field, model_validator

from citycommons.datastore import exports, service
from citycommons.datastore.facade import EngineError
from citycommons.datastore.query import parse_request
from citycommons.datastore.query_schemas import DiffChange, QueryResult, SearchRequest, SqlResult, TableDiff
from citycommons.datastore.schemas import IngestReport, SchemaOverride, TableSchema
from citycommons.datastore.service import TableInfo, VersionSummary
from citycommons.errors import Invalid, invalid
from citycommons.web.deps import ActorDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["datastore"])
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"description": "Bad request"},
    403: {"description": "Not allowed: restricted data, or not an editor"},
    404: {"description": "No table for this resource that you can see, or no such version"},
    413: {"description": "The query took longer than the time limit"},
    422: {"description": "Invalid parameter; `error.fields` names each one"},
}
ExportFormat = Literal["csv", "json", "ndjson", "geojson", "parquet", "xlsx"]
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    200: {
        "description": "The whole result, streamed (no row cap)",
        "content": {media: {"schema": {"type": "string", "format": "binary"}} for media, _ in exports.FORMATS.values()},
    },
}
MAX_OFFSET = 10**12
MAX_VERSION = 1_000_000
SQL_DESCRIPTION = "One SELECT; table name = resource id"
ResourceId = Annotated[str, Path(min_length=1, max_length=80, description="The resource (distribution) id")]
Sql = Annotated[str, Query(min_length=1, max_length=20_000, description=SQL_DESCRIPTION)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


class PageLinks(BaseModel):
    """URLs of this page and the next one (``next``: by keyset cursor when there is one, else by offset)."""

    self: str
    next: str | None = None
    next_offset: str | None = None


class RowsPage(QueryResult):
    """One page of rows, with links to page on."""

    links: PageLinks


class QueryBody(SearchRequest):
    """A search as a JSON body: the fields of ``SearchRequest``, with the compact shapes checked up front."""

    @model_validator(mode="before")
    @classmethod
    def _shapes(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for key in ("sort", "aggregates", "fields", "group_by"):
            value = data.get(key)
            if value is not None and not isinstance(value, str | list):
                raise ValueError(f"{key}: give a string or a list")
        filters = data.get("filters")
        if filters is not None and not isinstance(filters, dict | list):
            raise ValueError("filters: give an object or a list of {field, op, value}")
        return data


class SqlQuery(BaseModel):
    sql: str = Field(min_length=1, max_length=20_000, description=SQL_DESCRIPTION)


# --- request parsing -------------------------------------------------------------------------------------------------


def _json_param(name: str, raw: str | None) -> Any:
    if raw is None or raw == "":
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise invalid(name, "is not valid JSON") from None


def _links(request: Request, result: QueryResult) -> PageLinks:
    url = str(request.url)
    base = str(request.url.remove_query_params(["cursor", "offset"]))
    next_url = next_offset = None
    if result.next_cursor:
        sep = "&" if "?" in base else "?"
        next_url = f"{base}{sep}{urlencode({'cursor': result.next_cursor})}"
        next_offset = f"{base}{sep}{urlencode({'offset': result.offset + result.limit})}"
    return PageLinks(self=url, next=next_url, next_offset=next_offset)


# Query parameters of /rows and /export (``Version`` also of the table and its schema).
Version = Annotated[int | None, Query(ge=1, le=MAX_VERSION, description="A version number; default: the latest")]
Q = Annotated[str | None, Query(max_length=1000, description="Words to find in text columns, or a JSON object")]
Fields = Annotated[str | None, Query(max_length=10_000, description="Columns to return, comma-separated")]
Sort = Annotated[str | None, Query(max_length=10_000, description='"a desc, b"')]
Filters = Annotated[
    str | None,
    Query(max_length=100_000, description='JSON object: {"district": "Gràcia", "value": {"gte": 3}, "x": [1, 2]}'),
]
GroupBy = Annotated[str | None, Query(max_length=10_000, description="Group-by columns, comma-separated")]
Aggregates = Annotated[str | None, Query(max_length=10_000, description='"count,avg:value,p90:value"')]
BucketField = Annotated[str | None, Query(max_length=1000, description="A date or datetime column to bucket")]
BucketUnit = Annotated[Literal["hour", "day", "week", "month", "year"] | None, Query()]


@dataclass
class SearchQuery:
    """The query string shared by ``/rows`` and ``/export.{fmt}``, as a FastAPI dependency, in the order the OpenAPI
    document lists it. The paging parameters in the middle are each route's own (``RowsQuery``, ``ExportQuery``
    declare them in place): here they are fixed, not read from the query string."""

    version: Version = None
    q: Q = None
    fields: Fields = None
    sort: Sort = None
    limit: int | None = field(default=None, init=False)
    offset: int = field(default=0, init=False)
    cursor: str | None = field(default=None, init=False)
    include_total: bool = field(default=False, init=False)
    distinct: bool = False
    group_by: GroupBy = None
    aggregates: Aggregates = None
    time_bucket_field: BucketField = None
    time_bucket_unit: BucketUnit = None
    filters: Filters = None

    def page_size(self) -> int:
        """Rows in the answer: none here (an export streams every row; its ``limit`` caps the stream)."""
        return 0

    def search_request(self, request: Request) -> SearchRequest:
        """A ``SearchRequest``, ``f.<column>=value`` shorthands of the query string included (repeated: IN)."""
        parsed = _json_param("filters", self.filters) or {}
        if not isinstance(parsed, dict | list):
            raise invalid("filters", 'give a JSON object such as {"district": "Gràcia", "value": {"gte": 3}}')
        shorthand: dict[str, Any] = {}
        for key in {k for k in request.query_params if k.startswith("f.")}:
            values = request.query_params.getlist(key)
            name = key[2:]
            if not name:
                raise invalid("filters", "`f.` needs a column name: f.<column>=value")
            shorthand[name] = values[0] if len(values) == 1 else values
        if shorthand:
            if isinstance(parsed, list):
                parsed = parsed + [{"field": k, "op": "in" if isinstance(v, list) else "eq", "value": v}
                                   for k, v in shorthand.items()]  # fmt: skip
            else:
                clash = sorted(set(parsed) & set(shorthand))
                if clash:
                    raise invalid("filters", f"`{clash[0]}` is filtered twice (in filters and as f.{clash[0]})")
                parsed = {**parsed, **shorthand}
        query: Any = self.q
        if self.q and self.q.lstrip().startswith("{"):
            query = _json_param("q", self.q)
        bucket = None
        if self.time_bucket_field or self.time_bucket_unit:
            if not (self.time_bucket_field and self.time_bucket_unit):
                raise invalid("time_bucket", "give both time_bucket_field and time_bucket_unit")
            bucket = {"field": self.time_bucket_field, "unit": self.time_bucket_unit}
        return parse_request(
            {
                "version": self.version, "filters": parsed, "q": query, "fields": self.fields, "sort": self.sort,
                "limit": self.page_size(), "offset": self.offset, "cursor": self.cursor,
                "include_total": self.include_total, "distinct": self.distinct, "group_by": self.group_by,
                "aggregates": self.aggregates, "time_bucket": bucket,
            }
        )  # fmt: skip


@dataclass
class RowsQuery(SearchQuery):
    """The query string of ``/rows``: the search, and a page of it by offset or keyset cursor."""

    limit: Annotated[int, Query(ge=0, le=1_000_000, description="Rows per page (at most the maximum)")] = 100
    offset: Offset = 0
    cursor: Annotated[str | None, Query(max_length=10_000, description="`next_cursor` of the previous page")] = None
    include_total: bool = False

    def page_size(self) -> int:
        return self.limit


@dataclass
class ExportQuery(SearchQuery):
    """The query string of ``/export.{fmt}``: the search, every row of it unless ``limit`` stops it sooner."""

    limit: Annotated[int | None, Query(ge=0, le=10**12, description="Stop after this many rows (default: all)")] = None


# --- routes ---------------------------------------------------------------------------------------------------------


@router.get("/datastore/{resource_id}", response_model=TableInfo, responses=ERRORS)
def get_table(
    session: SessionDep, actor: ActorDep, settings: SettingsDep, resource_id: ResourceId, version: Version = None
) -> TableInfo:
    """The table of a resource: its Table Schema, validation report, row count and versions."""
    return service.get_table(session=session, actor=actor, settings=settings, resource_id=resource_id,
                             version=version)  # fmt: skip


@router.get("/datastore/{resource_id}/rows", response_model=RowsPage, responses=ERRORS)
def get_rows(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    resource_id: ResourceId,
    query: Annotated[RowsQuery, Depends()],
) -> Response:
    """One page of rows: filters (also `f.<column>=value`), full text `q`, fields, sort, offset or keyset cursor,
    distinct rows, group-by aggregates and time buckets."""
    search = query.search_request(request)
    result = service.search(session=session, actor=actor, settings=settings, resource_id=resource_id, request=search)
    # Serialised once, straight from the validated result (a response_model round trip costs more than the query
    # on point lookups); the body is exactly RowsPage, as documented.
    page = RowsPage.model_construct(**dict(result), links=_links(request, result))
    return Response(page.model_dump_json(), media_type="application/json")


@router.post("/datastore/{resource_id}/query", response_model=QueryResult, responses=ERRORS)
def post_query(
    session: SessionDep, actor: ActorDep, settings: SettingsDep, resource_id: ResourceId, body: QueryBody
) -> QueryResult:
    """The search of `/rows` with a JSON body (filters as a list of {field, op, value} or an object)."""
    return service.search(session=session, actor=actor, settings=settings, resource_id=resource_id, request=body)


@router.get(
    "/datastore/{resource_id}/export.{fmt}",
    response_class=StreamingResponse,
    responses=EXPORT_RESPONSES,
)
def export_rows(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    resource_id: ResourceId,
    fmt: ExportFormat,
    query: Annotated[ExportQuery, Depends()],
) -> StreamingResponse:
    """Every row of the search, streamed as CSV, JSON, NDJSON, GeoJSON, Parquet or XLSX (no row cap)."""
    search = query.search_request(request)
    result = service.export(session=session, actor=actor, settings=settings, resource_id=resource_id,
                            request=search, fmt=fmt, limit=query.limit)  # fmt: skip
    return _stream(result)


def _stream(result: exports.Export) -> StreamingResponse:
    """Stream an export; its first chunks are produced here, so that a query DuckDB refuses at its start is a 4xx
    rather than a broken download (the header chunk of CSV, JSON and GeoJSON comes before the first query batch)."""
    head: list[bytes] = []
    try:
        for chunk in result.chunks:
            head.append(chunk)
            if len(head) == 2:
                break
    except EngineError as exc:
        message = exc.message.strip().splitlines()[0] if exc.message.strip() else "the export failed"
        raise Invalid(f"query: {message}", fields={"query": [message]}) from exc
    headers = {"Content-Disposition": f'attachment; filename="{result.filename}"'}
    return StreamingResponse(itertools.chain(head, result.chunks), media_type=result.media_type, headers=headers)


@router.get("/datastore/{resource_id}/versions", response_model=list[VersionSummary], responses=ERRORS)
def list_versions(
    session: SessionDep, actor: ActorDep, settings: SettingsDep, resource_id: ResourceId
) -> list[VersionSummary]:
    """Every immutable version of the table, oldest first."""
    return service.list_versions(session=session, actor=actor, settings=settings, resource_id=resource_id)


@router.get("/datastore/{resource_id}/versions/{version}/report", response_model=IngestReport, responses=ERRORS)
def get_report(
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    resource_id: ResourceId,
    version: Annotated[int, Path(ge=1, le=MAX_VERSION)],
) -> IngestReport:
    """The validation report of a version: detected format, row counts, quarantined rows and cells, warnings."""
    return service.get_report(session=session, actor=actor, settings=settings, resource_id=resource_id,
                              version=version)  # fmt: skip


@router.get("/datastore/{resource_id}/diff", response_model=TableDiff, responses=ERRORS)
def get_diff(
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    resource_id: ResourceId,
    from_version: Annotated[int, Query(alias="from", ge=1, le=MAX_VERSION)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=MAX_VERSION)],
    limit: Annotated[int, Query(ge=0, le=1000)] = 100,
    offset: Offset = 0,
    changes: Annotated[list[DiffChange] | None, Query(description="added, removed, changed (repeatable)")] = None,
) -> TableDiff:
    """Rows added, removed and changed between two versions (by primary key, else by row hash)."""
    return service.diff(session=session, actor=actor, settings=settings, resource_id=resource_id,
                        from_version=from_version, to_version=to_version, limit=limit, offset=offset,
                        changes=changes)  # fmt: skip


@router.get("/datastore/{resource_id}/schema", response_model=TableSchema, responses=ERRORS)
def get_schema(
    session: SessionDep, actor: ActorDep, settings: SettingsDep, resource_id: ResourceId, version: Version = None
) -> TableSchema:
    """The Frictionless Table Schema (the latest version's shows the editors' corrections)."""
    return service.get_schema(session=session, actor=actor, settings=settings, resource_id=resource_id,
                              version=version)  # fmt: skip


@router.put("/datastore/{resource_id}/schema", response_model=TableSchema, responses=ERRORS)
def put_schema(
    session: SessionDep, actor: ActorDep, settings: SettingsDep, resource_id: ResourceId, body: SchemaOverride
) -> TableSchema:
    """Editors: correct types, titles, descriptions, missing values and the primary key; they survive re-uploads
    (types and keys apply from the next upload)."""
    return service.update_schema(session=session, actor=actor, settings=settings, resource_id=resource_id,
                                 override=body)  # fmt: skip


@router.get("/sql", response_model=SqlResult, responses=ERRORS)
def get_sql(
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    sql: Sql,
) -> SqlResult:
    """Read-only SQL over the tables you may read (DuckDB dialect; row cap and time limit apply)."""
    return service.run_sql(session=session, actor=actor, settings=settings, sql=sql)


@router.post("/sql", response_model=SqlResult, responses=ERRORS)
def post_sql(
    session: SessionDep, actor: ActorDep, settings: SettingsDep, body: Annotated[SqlQuery, Body()]
) -> SqlResult:
    """`GET /sql` with a JSON body `{"sql": "..."}`."""
    return service.run_sql(session=session, actor=actor, settings=settings, sql=body.sql)


@router.get("/sql/export.{fmt}", response_class=StreamingResponse, responses=EXPORT_RESPONSES)
def export_sql(
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    fmt: ExportFormat,
    sql: Sql,
) -> StreamingResponse:
    """Every row of a read-only SQL query, streamed (no row cap)."""
    return _stream(service.export_sql(session=session, actor=actor, settings=settings, sql=sql, fmt=fmt))
