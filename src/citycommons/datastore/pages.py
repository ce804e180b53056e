"""The datastore's pages under ``/dataset/{name}/resource/{resource_id}/``: the data preview (paged, sortable,
filterable, with the ingest report and export links), the chart builder, the map, the data dictionary (and its
editor form), the version list and the diff between two versions.

Every page works without JavaScript: the preview is server-rendered; the chart page shows the aggregated table the
chart is drawn from; the map page lists what the map shows. JavaScript (``datastore-chart.js``,
``datastore-map.js``) draws the chart with Vega-Lite and the map with Leaflet from the native API.

All reads go through ``datastore.service`` (one service layer: permissions, version pinning, read logging); the
pages only translate query strings and forms into its requests and its results into templates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, QueryParams

from citycommons.catalog import service as catalog
from citycommons.catalog.schemas import DatasetRead, DistributionRead
from citycommons.datastore import service
from citycommons.datastore.query_schemas import (
    AGGREGATE_FUNCTIONS,
    Aggregate,
    Filter,
    QueryResult,
    SearchRequest,
    SortKey,
    TimeBucket,
)
from citycommons.datastore.schemas import FieldOverride, FieldSchema, SchemaOverride, TableSchema
from citycommons.datastore.service import TableInfo
from citycommons.errors import CityCommonsError, Forbidden, Invalid, NotFound, TooLarge
from citycommons.web.csrf import FormDep
from citycommons.web.deps import SessionDep
from citycommons.web.render import N_, View, ViewDep

router = APIRouter(include_in_schema=False)
BASE = "/dataset/{name}/resource/{resource_id}"

PAGE_SIZES = (25, 50, 100, 250)
DEFAULT_PAGE_SIZE = 50
MAX_FILTERS = 8
CELL_CHARS = 300
"""Characters of a cell shown in the preview; the full value is in the exports and the API."""
LONG_CELL = 40
"""Cells longer than this wrap (shorter ones stay on one line)."""
CHART_ROWS = 5000
"""Most groups (or points) a chart draws."""
MAP_FEATURES = 5000
"""Most rows the map draws."""
DIFF_PAGE = 50

OPERATORS: dict[str, str] = {
    "eq": N_("equals"),
    "ne": N_("is not"),
    "gt": N_("greater than"),
    "gte": N_("at least"),
    "lt": N_("less than"),
    "lte": N_("at most"),
    "in": N_("is one of (comma-separated)"),
    "not_in": N_("is none of (comma-separated)"),
    "is_null": N_("is empty"),
    "not_null": N_("is not empty"),
}
TYPE_LABELS: dict[str, str] = {
    "string": N_("text"),
    "integer": N_("integer"),
    "number": N_("number"),
    "boolean": N_("boolean"),
    "date": N_("date"),
    "datetime": N_("date and time"),
    "time": N_("time"),
    "duration": N_("duration"),
    "object": N_("object"),
    "array": N_("list"),
    "geojson": N_("geometry"),
    "any": N_("any"),
}
OVERRIDABLE_TYPES = ("string", "integer", "number", "boolean", "date", "datetime")
UNORDERED = frozenset({"object", "array", "geojson", "any"})
TEMPORAL = frozenset({"date", "datetime"})
NUMERIC = frozenset({"integer", "number"})
EXPORT_FORMATS: dict[str, str] = {
    "csv": "CSV",
    "xlsx": "Excel (XLSX)",
    "json": "JSON",
    "ndjson": "NDJSON",
    "parquet": "Parquet",
    "geojson": "GeoJSON",
}
MARKS: dict[str, str] = {"bar": N_("Bars"), "line": N_("Line"), "area": N_("Area"), "point": N_("Points")}
AGGREGATES: dict[str, str] = {
    "count": N_("Count of rows"),
    "sum": N_("Sum"),
    "avg": N_("Average"),
    "min": N_("Minimum"),
    "max": N_("Maximum"),
    "p50": N_("Median"),
    "p90": N_("90th percentile"),
    "count_distinct": N_("Count of distinct values"),
    "none": N_("None (one point per row)"),
}
assert set(AGGREGATES) - {"none"} <= set(AGGREGATE_FUNCTIONS)
TIME_UNITS: dict[str, str] = {
    "hour": N_("Hour"),
    "day": N_("Day"),
    "week": N_("Week"),
    "month": N_("Month"),
    "year": N_("Year"),
}
LATITUDE_NAMES = ("latitude", "latitud", "lat", "latitut", "centroid_lat", "y_lat")
LONGITUDE_NAMES = ("longitude", "longitud", "lon", "lng", "long", "centroid_lon", "x_lon")
SCHEMA_EDIT_MESSAGES = (
    N_("Titles and descriptions show at once. Types, missing values and the primary key apply from the next upload."),
    N_("The data dictionary was saved."),
)


# --- loading a table page ----------------------------------------------------------------------------------------


@dataclass
class TablePage:
    """What every datastore page shows in its heading: the dataset, the distribution and its table (if any)."""

    ds: DatasetRead
    dist: DistributionRead
    table: TableInfo | None  # None while the distribution has no queryable version yet
    base: str
    geo: GeoColumns | None = None

    @property
    def info(self) -> TableInfo:
        assert self.table is not None, "pages check for a table first"
        return self.table

    @property
    def schema(self) -> TableSchema:
        return self.info.table_schema

    def types(self) -> dict[str, str]:
        return {f.name: f.type for f in self.schema.fields}


@dataclass(frozen=True)
class GeoColumns:
    """How rows become map features: a GeoJSON geometry column, or a latitude and a longitude column."""

    geometry: str | None = None
    latitude: str | None = None
    longitude: str | None = None


def geo_columns(schema: TableSchema, geometry_field: str | None) -> GeoColumns | None:
    if geometry_field:
        return GeoColumns(geometry=geometry_field)
    geometry = next((f.name for f in schema.fields if f.type == "geojson"), None)
    if geometry:
        return GeoColumns(geometry=geometry)
    numeric = {f.name.lower(): f.name for f in schema.fields if f.type in NUMERIC}
    lat = next((numeric[n] for n in LATITUDE_NAMES if n in numeric), None)
    lon = next((numeric[n] for n in LONGITUDE_NAMES if n in numeric), None)
    return GeoColumns(latitude=lat, longitude=lon) if lat and lon else None


def _load(
    view: View, session: SessionDep, name: str, resource_id: str, *, version: int | None = None
) -> TablePage | RedirectResponse:
    """The page's dataset, distribution and table. Unknown or invisible datasets and distributions are NotFound;
    a dataset reached by its id (or an old name) is redirected to its canonical address."""
    ds = catalog.get(session=session, actor=view.actor, id_or_name=name)
    dist = next((d for d in ds.distributions if d.id == resource_id), None)
    if dist is None:
        raise NotFound("Resource not found")
    base = f"/dataset/{ds.name}/resource/{dist.id}"
    if name != ds.name:
        suffix = view.request.url.path.rsplit("/", 1)[-1]
        query = f"?{view.request.url.query}" if view.request.url.query else ""
        return RedirectResponse(f"{base}/{suffix}{query}", status_code=308)
    try:
        table = service.get_table(
            session=session, actor=view.actor, settings=view.settings, resource_id=resource_id, version=version
        )
    except NotFound:
        if version is not None:
            raise
        return TablePage(ds=ds, dist=dist, table=None, base=base)
    page = TablePage(ds=ds, dist=dist, table=table, base=base)
    page.geo = geo_columns(table.table_schema, table.geometry_field)
    return page


def _no_table(view: View, page: TablePage, tab: str) -> Response:
    """A distribution without a queryable table yet (being ingested, failed, or not tabular)."""
    return view.render("datastore_none.html", page=page, tab=tab, status_code=404)


def _int(value: str | None, *, default: int | None = None, minimum: int = 0) -> int | None:
    if value is None or not value.strip().isdigit():
        return default
    number = int(value.strip())
    return number if number >= minimum else default


def _version_param(params: QueryParams) -> int | None:
    return _int(params.get("version"), minimum=1)


def _error_text(view: View, exc: CityCommonsError) -> list[str]:
    """An error of the service as lines for the page: the message, or one line per field."""
    if exc.fields:
        return [f"{name}: {' '.join(messages)}" for name, messages in exc.fields.items()]
    return [view.gettext(str(exc) or "Invalid input")]


# --- preview ------------------------------------------------------------------------------------------------------


@dataclass
class FilterRow:
    column: str = ""
    op: str = "eq"
    value: str = ""


@dataclass
class PreviewState:
    """The preview's query string: version, full text, filters, sort, page size and position."""

    version: int | None = None
    q: str = ""
    filters: list[FilterRow] = field(default_factory=list)
    sort: str = ""
    direction: str = "asc"
    limit: int = DEFAULT_PAGE_SIZE
    offset: int = 0
    cursor: str = ""
    start: int = 0

    @classmethod
    def parse(cls, params: QueryParams) -> PreviewState:
        columns, ops, values = params.getlist("fc"), params.getlist("fo"), params.getlist("fv")
        rows = []
        for i, column in enumerate(columns[:MAX_FILTERS]):
            op = ops[i] if i < len(ops) and ops[i] in OPERATORS else "eq"
            value = values[i] if i < len(values) else ""
            if column.strip() and (value.strip() or op in ("is_null", "not_null")):
                rows.append(FilterRow(column=column, op=op, value=value.strip()))
        limit = _int(params.get("limit"), default=DEFAULT_PAGE_SIZE) or DEFAULT_PAGE_SIZE
        cursor = (params.get("cursor") or "").strip()
        offset = 0 if cursor else _int(params.get("offset"), default=0) or 0
        return cls(
            version=_version_param(params),
            q=(params.get("q") or "").strip()[:500],
            filters=rows,
            sort=(params.get("sort") or "").strip(),
            direction="desc" if params.get("dir") == "desc" else "asc",
            limit=limit if limit in PAGE_SIZES else DEFAULT_PAGE_SIZE,
            offset=offset,
            cursor=cursor,
            start=(_int(params.get("start"), default=0) or 0) if cursor else offset,
        )

    def search_filters(self) -> list[Filter]:
        out = []
        for row in self.filters:
            value: Any = row.value
            if row.op in ("in", "not_in"):
                value = [part.strip() for part in row.value.split(",") if part.strip()]
            elif row.op in ("is_null", "not_null"):
                value = None
            out.append(Filter(field=row.column, op=row.op, value=value))
        return out

    def sort_keys(self) -> list[SortKey]:
        return [SortKey(field=self.sort, direction=self.direction)] if self.sort else []

    def request(self) -> SearchRequest:
        return SearchRequest(
            version=self.version,
            filters=self.search_filters(),
            q=self.q or None,
            sort=self.sort_keys(),
            limit=self.limit,
            offset=self.offset,
            cursor=self.cursor or None,
            include_total=True,
        )

    def api_params(self, version: int | None) -> dict[str, str]:
        """The same query for ``/api/v1/datastore/{id}/rows`` and ``export.{fmt}``, pinned to ``version``."""
        params: dict[str, str] = {}
        if version:
            params["version"] = str(version)
        if self.q:
            params["q"] = self.q
        if self.sort:
            params["sort"] = f"{self.sort} {self.direction}"
        filters: dict[str, dict[str, Any]] = {}
        for f in self.search_filters():
            filters.setdefault(f.field, {})[f.op] = True if f.op in ("is_null", "not_null") else f.value
        if filters:
            params["filters"] = json.dumps(filters, ensure_ascii=False, separators=(",", ":"))
        return params


def geometry_summary(value: Any) -> str:
    """A GeoJSON geometry as its type and bounding box (``Polygon [2.1, 41.3 – 2.2, 41.4]``): the coordinates
    themselves are for the map and the exports."""
    try:
        geometry = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return str(value)[:CELL_CHARS]
    if not isinstance(geometry, dict):
        return str(value)[:CELL_CHARS]
    xs: list[float] = []
    ys: list[float] = []

    def walk(node: Any) -> None:
        if isinstance(node, list) and len(node) >= 2 and all(isinstance(v, int | float) for v in node[:2]):
            xs.append(float(node[0]))
            ys.append(float(node[1]))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(geometry.get("coordinates"))
    for part in geometry.get("geometries") or []:
        if isinstance(part, dict):
            walk(part.get("coordinates"))
    kind = str(geometry.get("type") or "?")
    if not xs:
        return kind
    if len(xs) == 1:
        return f"{kind} [{xs[0]:.5g}, {ys[0]:.5g}]"
    return f"{kind} [{min(xs):.5g}, {min(ys):.5g} – {max(xs):.5g}, {max(ys):.5g}]"


def format_cell(value: Any, kind: str) -> tuple[str, str]:
    """(text, css class) of one preview cell; long values are cut (the export has them whole)."""
    if value is None:
        return "", "cell-null"
    if kind == "geojson":
        text, css = geometry_summary(value), "cell-geo"
    elif isinstance(value, bool):
        text, css = ("true" if value else "false"), "cell-bool"
    elif isinstance(value, int | float):
        text, css = str(value), "cell-num"
    elif isinstance(value, dict | list):
        text, css = json.dumps(value, ensure_ascii=False), "cell-json"
    else:
        text, css = str(value), ""
    if len(text) > CELL_CHARS:
        text = text[:CELL_CHARS] + "…"
    if len(text) > LONG_CELL and css in ("", "cell-json"):
        css = f"{css} cell-long".strip()
    return text, css


def _sort_link(view: View, state: PreviewState, column: str) -> tuple[str, str]:
    """(url, aria-sort) of a column header: unsorted -> ascending -> descending -> unsorted."""
    reset: dict[str, Any] = {"offset": None, "cursor": None, "start": None}
    if state.sort != column:
        return view.url_with(sort=column, dir=None, **reset), "none"
    if state.direction == "asc":
        return view.url_with(sort=column, dir="desc", **reset), "ascending"
    return view.url_with(sort=None, dir=None, **reset), "descending"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    sortable: bool
    url: str
    aria_sort: str


@dataclass
class Paging:
    first: int
    last: int
    total: int | None
    previous: str | None
    next: str | None
    numbered: list[tuple[int | None, str]]
    page: int


def _paging(view: View, state: PreviewState, result: QueryResult) -> Paging:
    shown = len(result.records)
    first, last = state.start + (1 if shown else 0), state.start + shown
    previous = None
    if state.start > 0:
        back = max(0, state.start - state.limit)
        previous = view.url_with(offset=back or None, cursor=None, start=None)
    following = None
    if result.next_cursor:
        following = view.url_with(cursor=result.next_cursor, start=state.start + shown, offset=None)
    elif result.total is not None and last < result.total:
        following = view.url_with(offset=last, cursor=None, start=None)
    numbered: list[tuple[int | None, str]] = []
    page = state.start // state.limit + 1
    if result.total:
        pages = -(-result.total // state.limit)
        wanted = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
        before = 0
        for number in wanted:
            if number - before > 1:
                numbered.append((None, ""))
            offset = (number - 1) * state.limit
            numbered.append((number, view.url_with(offset=offset or None, cursor=None, start=None)))
            before = number
    return Paging(first, last, result.total, previous, following, numbered, page)


def export_links(page: TablePage, params: dict[str, str]) -> list[tuple[str, str]]:
    query = "?" + urlencode(params) if params else ""
    formats = [f for f in EXPORT_FORMATS if f != "geojson" or (page.geo and page.geo.geometry)]
    return [(EXPORT_FORMATS[f], f"/api/v1/datastore/{page.dist.id}/export.{f}{query}") for f in formats]


def _nav(page: TablePage) -> list[tuple[str, str, str]]:
    """(tab, label msgid, url) of the tabs above every datastore page."""
    tabs = [("data", N_("Data"), f"{page.base}/data"), ("chart", N_("Chart"), f"{page.base}/chart")]
    if page.geo:
        tabs.append(("map", N_("Map"), f"{page.base}/map"))
    tabs += [
        ("dictionary", N_("Data dictionary"), f"{page.base}/dictionary"),
        ("versions", N_("Versions"), f"{page.base}/versions"),
    ]
    return tabs


def _render(
    view: View, template: str, page: TablePage, tab: str, *, status_code: int = 200, **context: Any
) -> Response:
    return view.render(
        template,
        status_code=status_code,
        page=page,
        tab=tab,
        tabs=_nav(page),
        type_labels=TYPE_LABELS,
        **context,
    )


@router.get(BASE + "/data")
def preview(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> Response:
    state = PreviewState.parse(view.request.query_params)
    page = _load(view, session, name, resource_id, version=state.version)
    if isinstance(page, RedirectResponse):
        return page
    if page.table is None:
        return _no_table(view, page, "data")
    types = page.types()
    errors: list[str] = []
    result: QueryResult | None = None
    try:
        result = service.search(
            session=session, actor=view.actor, settings=view.settings, resource_id=resource_id, request=state.request()
        )
    except (Invalid, TooLarge) as exc:
        errors = _error_text(view, exc)
    except ValidationError as exc:  # a filter operator the request model refuses
        errors = [str(e.get("msg", "")) for e in exc.errors()]
    columns: list[Column] = []
    for f in result.fields if result else page.schema.fields:
        sortable = f.type not in UNORDERED
        url, aria = _sort_link(view, state, f.name) if sortable else ("", "none")
        columns.append(Column(f.name, f.type, sortable, url, aria))
    rows = [[format_cell(rec.get(c.name), c.type) for c in columns] for rec in result.records] if result else []
    version = result.version if result else page.info.version
    filter_rows = [*state.filters, FilterRow()]
    return _render(
        view,
        "datastore_data.html",
        page,
        "data",
        status_code=400 if errors else 200,
        state=state,
        result=result,
        errors=errors,
        columns=columns,
        rows=rows,
        paging=_paging(view, state, result) if result else None,
        version=version,
        exports=export_links(page, state.api_params(version)),
        api_url=f"/api/v1/datastore/{resource_id}/rows?" + urlencode({**state.api_params(version), "limit": "100"}),
        filter_rows=filter_rows[:MAX_FILTERS],
        operators=OPERATORS,
        page_sizes=PAGE_SIZES,
        field_types=types,
        report=page.info.report,
        ingest_url=f"{page.base}/ingest",
    )


# --- chart --------------------------------------------------------------------------------------------------------


@dataclass
class ChartState:
    """The chart's query string (what makes its URL shareable): mark, x, y, aggregate, colour and time unit."""

    mark: str = "bar"
    x: str = ""
    y: str = ""
    agg: str = "count"
    color: str = ""
    unit: str = ""
    version: int | None = None

    @classmethod
    def parse(cls, params: QueryParams, types: dict[str, str]) -> ChartState:
        def column(key: str) -> str:
            value = params.get(key) or ""
            return value if value in types and types[value] not in UNORDERED else ""

        state = cls(
            mark=params.get("mark") if params.get("mark") in MARKS else "bar",  # type: ignore[arg-type]
            x=column("x"),
            y=column("y"),
            agg=params.get("agg") if params.get("agg") in AGGREGATES else "count",  # type: ignore[arg-type]
            color=column("color"),
            unit=params.get("unit") if params.get("unit") in TIME_UNITS else "",  # type: ignore[arg-type]
            version=_version_param(params),
        )
        if state.unit and types.get(state.x) not in TEMPORAL:
            state.unit = ""
        if state.agg not in ("count", "none") and not state.y:
            state.agg = "count"
        if state.agg in ("sum", "avg", "p50", "p90") and types.get(state.y) not in NUMERIC:
            state.agg = "count"
        if state.agg == "none" and not state.y:
            state.agg = "count"
        return state

    def request(self) -> SearchRequest:
        if self.agg == "none":
            fields = list(dict.fromkeys(c for c in (self.x, self.y, self.color) if c))
            sort = [SortKey(field=self.x)]
            return SearchRequest(version=self.version, fields=fields, sort=sort, limit=CHART_ROWS)
        group_by = [c for c in (self.x, self.color) if c and not (c == self.x and self.unit)]
        bucket = TimeBucket(field=self.x, unit=self.unit) if self.unit else None
        aggregate = Aggregate(function=self.agg, field=None if self.agg == "count" else self.y)
        sort = [SortKey(field=bucket.name if bucket else self.x)]
        return SearchRequest(
            version=self.version,
            group_by=list(dict.fromkeys(group_by)),
            aggregates=[aggregate],
            time_bucket=bucket,
            sort=sort,
            limit=CHART_ROWS,
        )

    def api_params(self, version: int) -> dict[str, str]:
        """The query of ``request()`` as ``/api/v1/datastore/{id}/rows`` parameters (what the script fetches)."""
        params = {"version": str(version), "limit": str(CHART_ROWS)}
        if self.agg == "none":
            params["fields"] = ",".join(dict.fromkeys(c for c in (self.x, self.y, self.color) if c))
            params["sort"] = self.x
            return params
        group_by = [c for c in (self.x, self.color) if c and not (c == self.x and self.unit)]
        if group_by:
            params["group_by"] = ",".join(dict.fromkeys(group_by))
        params["aggregates"] = "count" if self.agg == "count" else f"{self.agg}:{self.y}"
        if self.unit:
            params["time_bucket_field"], params["time_bucket_unit"] = self.x, self.unit
            params["sort"] = f"{self.x}_{self.unit}"
        else:
            params["sort"] = self.x
        return params


@router.get(BASE + "/chart")
def chart(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> Response:
    version = _version_param(view.request.query_params)
    page = _load(view, session, name, resource_id, version=version)
    if isinstance(page, RedirectResponse):
        return page
    if page.table is None:
        return _no_table(view, page, "chart")
    types = page.types()
    state = ChartState.parse(view.request.query_params, types)
    result: QueryResult | None = None
    errors: list[str] = []
    if state.x:
        try:
            result = service.search(
                session=session, actor=view.actor, settings=view.settings, resource_id=resource_id,
                request=state.request(),
            )  # fmt: skip
        except (Invalid, TooLarge) as exc:
            errors = _error_text(view, exc)
    else:  # nothing chosen yet: still check that the visitor may read the rows
        service.search(
            session=session, actor=view.actor, settings=view.settings, resource_id=resource_id,
            request=SearchRequest(version=version, limit=0),
        )  # fmt: skip
    table_version = result.version if result else page.info.version
    chartable = [f for f in page.schema.fields if f.type not in UNORDERED]
    config = {
        "rowsUrl": f"/api/v1/datastore/{resource_id}/rows",
        "version": table_version,
        "types": {f.name: f.type for f in chartable},
        "limit": CHART_ROWS,
        "title": page.dist.title.get(view.lang) or page.ds.title.get(view.lang) or page.ds.name,
    }
    rows = []
    if result:
        rows = [[format_cell(rec.get(f.name), f.type) for f in result.fields] for rec in result.records]
    return _render(
        view,
        "datastore_chart.html",
        page,
        "chart",
        status_code=400 if errors else 200,
        state=state,
        result=result,
        rows=rows,
        errors=errors,
        chartable=chartable,
        marks=MARKS,
        aggregates=AGGREGATES,
        time_units=TIME_UNITS,
        temporal=[f.name for f in chartable if f.type in TEMPORAL],
        numeric=[f.name for f in chartable if f.type in NUMERIC],
        chart_config=json.dumps(config, ensure_ascii=False),
        api_url=f"/api/v1/datastore/{resource_id}/rows?" + urlencode(state.api_params(table_version))
        if state.x
        else "",
        truncated=bool(result and result.next_cursor),
        chart_rows=CHART_ROWS,
    )


# --- map ----------------------------------------------------------------------------------------------------------


@router.get(BASE + "/map")
def data_map(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> Response:
    version = _version_param(view.request.query_params)
    page = _load(view, session, name, resource_id, version=version)
    if isinstance(page, RedirectResponse):
        return page
    if page.table is None:
        return _no_table(view, page, "map")
    if page.geo is None:
        raise NotFound("This table has no geometry or latitude and longitude columns")
    geo = page.geo
    names = [f.name for f in page.schema.fields if f.type not in ("geojson",)]
    label = next(
        (f.name for f in page.schema.fields if f.type == "string" and f.name.lower() in ("name", "nom", "nombre")),
        next((f.name for f in page.schema.fields if f.type == "string"), ""),
    )
    listed = [n for n in ([label] if label else []) + [geo.latitude or "", geo.longitude or ""] if n]
    result = service.search(
        session=session,
        actor=view.actor,
        settings=view.settings,
        resource_id=resource_id,
        request=SearchRequest(version=version, fields=listed or None, limit=50, include_total=True),
    )
    pinned = result.version
    if geo.geometry:
        source = f"/api/v1/datastore/{resource_id}/export.geojson?" + urlencode(
            {"version": pinned, "limit": MAP_FEATURES}
        )
    else:
        fields = [n for n in names if n not in ("geometry",)]
        source = f"/api/v1/datastore/{resource_id}/rows?" + urlencode(
            {"version": pinned, "limit": MAP_FEATURES, "fields": ",".join(fields)}
        )
    settings = view.settings
    return _render(
        view,
        "datastore_map.html",
        page,
        "map",
        geo=geo,
        result=result,
        label=label,
        listed=listed,
        source=source,
        tiles=settings.map_tile_url or "",
        attribution=settings.map_tile_attribution if settings.map_tile_url else "",
        map_features=MAP_FEATURES,
    )


# --- data dictionary ----------------------------------------------------------------------------------------------


def _missing_text(f: FieldSchema, schema: TableSchema) -> str:
    values = f.missing_values if f.missing_values is not None else schema.missing_values
    return ", ".join(v for v in values if v)


def _dictionary(
    view: View,
    page: TablePage,
    override: SchemaOverride | None,
    *,
    errors: dict[str, list[str]] | None = None,
    form: FormData | None = None,
    status_code: int = 200,
) -> Response:
    schema = page.schema
    pinned = override.fields if override else {}
    keys = (override.primary_key if override and override.primary_key else schema.primary_key) or []
    rows = []
    for i, f in enumerate(schema.fields):
        fo = pinned.get(f.name)
        rows.append(
            {
                "i": i,
                "field": f,
                "missing": _missing_text(f, schema),
                "pinned": bool(fo and fo.type),
                "title": form.get(f"title-{i}", "") if form else f.title,
                "description": form.get(f"description-{i}", "") if form else f.description,
                "type": form.get(f"type-{i}", "") if form else (fo.type if fo and fo.type else ""),
                "format": form.get(f"format-{i}", "") if form else (fo.format if fo and fo.format else ""),
                "missing_input": form.get(f"missing-{i}", "") if form else _missing_text(f, schema),
                "primary": (f.name in form.getlist("primary_key")) if form else f.name in keys,
            }
        )
    return _render(
        view,
        "datastore_dictionary.html",
        page,
        "dictionary",
        status_code=status_code,
        schema=schema,
        rows=rows,
        errors=errors or {},
        can_edit=page.info.can_edit,
        overridable=OVERRIDABLE_TYPES,
    )


def _override(view: View, session: SessionDep, page: TablePage) -> SchemaOverride | None:
    if not page.info.can_edit:
        return None
    return service.get_override(session=session, actor=view.actor, settings=view.settings, resource_id=page.dist.id)


@router.get(BASE + "/dictionary")
def dictionary(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> Response:
    page = _load(view, session, name, resource_id, version=_version_param(view.request.query_params))
    if isinstance(page, RedirectResponse):
        return page
    if page.table is None:
        return _no_table(view, page, "dictionary")
    return _dictionary(view, page, _override(view, session, page))


def override_from_form(
    form: FormData, schema: TableSchema, current: SchemaOverride | None
) -> tuple[SchemaOverride, dict[str, list[str]]]:
    """The editor form as a ``SchemaOverride`` plus field errors (form field -> messages).

    Titles and descriptions are always sent (an empty one clears it). A type is sent when the editor picked one
    (empty: what the next upload infers); missing values only when they were changed, so that an untouched
    form does not replace the loader's own list of missing-value markers (or the editors' earlier list)."""
    errors: dict[str, list[str]] = {}
    fields: dict[str, FieldOverride] = {}
    for i, f in enumerate(schema.fields):
        if form.get(f"name-{i}") != f.name:
            errors["form"] = ["The table changed while you were editing it; reload the page and try again."]
            break
        chosen = str(form.get(f"type-{i}") or "")
        if chosen and chosen not in OVERRIDABLE_TYPES:
            errors[f"type-{i}"] = ["Choose one of the options."]
            continue
        fmt = str(form.get(f"format-{i}") or "").strip()
        if fmt and chosen not in TEMPORAL:
            errors[f"format-{i}"] = ["A format is only accepted for date and datetime types."]
            continue
        if fmt and "%" not in fmt:
            errors[f"format-{i}"] = ["Write the format with strftime codes, for example %d/%m/%Y."]
            continue
        missing_text = str(form.get(f"missing-{i}") or "")
        before = current.fields.get(f.name) if current else None
        missing = before.missing_values if before else None
        if missing_text.strip() != _missing_text(f, schema):
            missing = [v.strip() for v in missing_text.split(",") if v.strip()]
        title = str(form.get(f"title-{i}") or "").strip()
        description = str(form.get(f"description-{i}") or "").strip()
        if len(title) > 200:
            errors[f"title-{i}"] = ["This is too long (at most 200 characters)."]
        if len(description) > 2000:
            errors[f"description-{i}"] = ["This is too long (at most 2000 characters)."]
        fields[f.name] = FieldOverride(
            type=chosen or None,
            format=fmt or None,
            title=title,
            description=description,
            missing_values=missing,
        )
    keys = [str(k) for k in form.getlist("primary_key")]
    unknown = [k for k in keys if k not in {f.name for f in schema.fields}]
    if unknown:
        errors["primary_key"] = ["Choose the primary key among the table's columns."]
    return SchemaOverride(fields=fields, primary_key=keys or None), errors


FORM_MESSAGES = (
    N_("The table changed while you were editing it; reload the page and try again."),
    N_("Choose one of the options."),
    N_("A format is only accepted for date and datetime types."),
    N_("Write the format with strftime codes, for example %d/%m/%Y."),
    N_("This is too long (at most 200 characters)."),
    N_("This is too long (at most 2000 characters)."),
    N_("Choose the primary key among the table's columns."),
)


@router.post(BASE + "/dictionary")
def save_dictionary(view: ViewDep, session: SessionDep, name: str, resource_id: str, form: FormDep) -> Response:
    page = _load(view, session, name, resource_id)
    if isinstance(page, RedirectResponse):
        raise NotFound("Resource not found")
    if page.table is None:
        return _no_table(view, page, "dictionary")
    current = _override(view, session, page)
    if not page.info.can_edit:
        raise Forbidden("Only editors of the publishing organisation may change this table")
    override, errors = override_from_form(form, page.schema, current)
    if not errors:
        try:
            service.update_schema(
                session=session, actor=view.actor, settings=view.settings, resource_id=resource_id,
                override=override,
            )  # fmt: skip
        except Invalid as exc:
            errors = {"form": [m for messages in (exc.fields or {"form": [str(exc)]}).values() for m in messages]}
    if errors:
        translated = {k: [view.gettext(m) for m in v] for k, v in errors.items()}
        return _dictionary(view, page, current, errors=translated, form=form, status_code=422)
    return view.redirect(f"{page.base}/dictionary", flash=SCHEMA_EDIT_MESSAGES[1])


# --- versions and diff --------------------------------------------------------------------------------------------


@router.get(BASE + "/versions")
def versions_page(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> Response:
    page = _load(view, session, name, resource_id)
    if isinstance(page, RedirectResponse):
        return page
    if page.table is None:
        return _no_table(view, page, "versions")
    items = service.list_versions(session=session, actor=view.actor, settings=view.settings, resource_id=resource_id)
    items = sorted(items, key=lambda v: v.version, reverse=True)
    return _render(view, "datastore_versions.html", page, "versions", versions=items, ingest_url=f"{page.base}/ingest")


@router.get(BASE + "/diff")
def diff_page(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> Response:
    params = view.request.query_params
    page = _load(view, session, name, resource_id)
    if isinstance(page, RedirectResponse):
        return page
    if page.table is None:
        return _no_table(view, page, "versions")
    items = service.list_versions(session=session, actor=view.actor, settings=view.settings, resource_id=resource_id)
    numbers = sorted(v.version for v in items)
    latest = numbers[-1] if numbers else 1
    to_version = _int(params.get("to"), minimum=1) or latest
    from_version = _int(params.get("from"), minimum=1) or max(1, to_version - 1)
    offset = _int(params.get("offset"), default=0) or 0
    result = None
    errors: list[str] = []
    if len(numbers) > 1 and from_version in numbers and to_version in numbers:
        try:
            result = service.diff(
                session=session, actor=view.actor, settings=view.settings, resource_id=resource_id,
                from_version=from_version, to_version=to_version, limit=DIFF_PAGE, offset=offset,
            )  # fmt: skip
        except (Invalid, TooLarge) as exc:
            errors = _error_text(view, exc)
    elif len(numbers) > 1:
        errors = [view.gettext("Choose two versions of this table.")]
    else:  # one version: nothing to compare; still only for readers of the rows
        service.search(
            session=session, actor=view.actor, settings=view.settings, resource_id=resource_id,
            request=SearchRequest(limit=0),
        )  # fmt: skip
    rows = []
    if result:
        for row in result.rows:
            source = row.new if row.change != "removed" else row.old
            shown = row.changed_fields if row.change == "changed" else list((source or {}).keys())
            cells = []
            for name_ in shown:
                old = format_cell((row.old or {}).get(name_), "")[0] if row.old is not None else None
                new = format_cell((row.new or {}).get(name_), "")[0] if row.new is not None else None
                cells.append({"name": name_, "old": old, "new": new})
            key = ", ".join(f"{k} = {format_cell(v, '')[0]}" for k, v in row.key.items())
            rows.append({"change": row.change, "key": key, "cells": cells})
    more = bool(
        result and offset + len(result.rows) < (result.summary.added + result.summary.removed + result.summary.changed)
    )
    return _render(
        view,
        "datastore_diff.html",
        page,
        "versions",
        status_code=400 if errors else 200,
        numbers=numbers,
        from_version=from_version,
        to_version=to_version,
        result=result,
        rows=rows,
        errors=errors,
        previous_url=view.url_with(offset=max(0, offset - DIFF_PAGE) or None) if offset else None,
        next_url=view.url_with(offset=offset + DIFF_PAGE) if more else None,
        api_url=f"/api/v1/datastore/{resource_id}/diff?" + urlencode({"from": from_version, "to": to_version}),
    )


PAGE_MESSAGES = (N_("Choose two versions of this table."),)
