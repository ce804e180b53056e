"""View models of the datastore pages (``datastore/pages.py`` holds their routes): what a page's query string
means (``PreviewState``, ``ChartState``) and the ``SearchRequest`` it asks for, the heading every page shares
(``TablePage`` and its tabs), the preview's columns and paging, cell formatting, export and API links, and the rows
of the version diff. Nothing here reads the database or the datastore: the routes call ``datastore.service``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from citycommons.catalog.schemas import DatasetRead, DistributionRead
from citycommons.datastore.query_schemas import (
    AGGREGATE_FUNCTIONS,
    Aggregate,
    Filter,
    QueryResult,
    SearchRequest,
    SortKey,
    TableDiff,
    TimeBucket,
)
from citycommons.datastore.schemas import TableSchema
from citycommons.datastore.service import TableInfo
from citycommons.web.render import N_, View

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


# --- the heading every page shares ---------------------------------------------------------------------------------


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

    def tabs(self) -> list[tuple[str, str, str]]:
        """(tab, label msgid, url) of the tabs above every datastore page."""
        tabs = [("data", N_("Data"), f"{self.base}/data"), ("chart", N_("Chart"), f"{self.base}/chart")]
        if self.geo:
            tabs.append(("map", N_("Map"), f"{self.base}/map"))
        tabs += [
            ("dictionary", N_("Data dictionary"), f"{self.base}/dictionary"),
            ("versions", N_("Versions"), f"{self.base}/versions"),
        ]
        return tabs


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


def api_url(resource_id: str, endpoint: str, params: Mapping[str, Any] | None = None) -> str:
    """``/api/v1/datastore/{resource_id}/{endpoint}``, with ``params`` as its query string."""
    query = "?" + urlencode(params) if params else ""
    return f"/api/v1/datastore/{resource_id}/{endpoint}{query}"


def export_links(page: TablePage, params: dict[str, str]) -> list[tuple[str, str]]:
    formats = [f for f in EXPORT_FORMATS if f != "geojson" or (page.geo and page.geo.geometry)]
    return [(EXPORT_FORMATS[f], api_url(page.dist.id, f"export.{f}", params)) for f in formats]


# --- query strings ---------------------------------------------------------------------------------------------------


def parse_int(value: str | None, *, default: int | None = None, minimum: int = 0) -> int | None:
    if value is None or not value.strip().isdigit():
        return default
    number = int(value.strip())
    return number if number >= minimum else default


def version_param(params: QueryParams) -> int | None:
    return parse_int(params.get("version"), minimum=1)


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
        limit = parse_int(params.get("limit"), default=DEFAULT_PAGE_SIZE) or DEFAULT_PAGE_SIZE
        cursor = (params.get("cursor") or "").strip()
        offset = 0 if cursor else parse_int(params.get("offset"), default=0) or 0
        return cls(
            version=version_param(params),
            q=(params.get("q") or "").strip()[:500],
            filters=rows,
            sort=(params.get("sort") or "").strip(),
            direction="desc" if params.get("dir") == "desc" else "asc",
            limit=limit if limit in PAGE_SIZES else DEFAULT_PAGE_SIZE,
            offset=offset,
            cursor=cursor,
            start=(parse_int(params.get("start"), default=0) or 0) if cursor else offset,
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
            version=version_param(params),
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

    def _plotted(self) -> list[str]:
        """The columns of one point per row: x, y and colour, once each."""
        return list(dict.fromkeys(c for c in (self.x, self.y, self.color) if c))

    def _group_by(self) -> list[str]:
        """x and colour, once each; x is not a group of its own when it is bucketed by a time unit."""
        return list(dict.fromkeys(c for c in (self.x, self.color) if c and not (c == self.x and self.unit)))

    def request(self) -> SearchRequest:
        if self.agg == "none":
            return SearchRequest(
                version=self.version, fields=self._plotted(), sort=[SortKey(field=self.x)], limit=CHART_ROWS
            )
        bucket = TimeBucket(field=self.x, unit=self.unit) if self.unit else None
        aggregate = Aggregate(function=self.agg, field=None if self.agg == "count" else self.y)
        sort = [SortKey(field=bucket.name if bucket else self.x)]
        return SearchRequest(
            version=self.version,
            group_by=self._group_by(),
            aggregates=[aggregate],
            time_bucket=bucket,
            sort=sort,
            limit=CHART_ROWS,
        )

    def api_params(self, version: int) -> dict[str, str]:
        """The query of ``request()`` as ``/api/v1/datastore/{id}/rows`` parameters (what the script fetches)."""
        params = {"version": str(version), "limit": str(CHART_ROWS)}
        if self.agg == "none":
            params["fields"] = ",".join(self._plotted())
            params["sort"] = self.x
            return params
        group_by = self._group_by()
        if group_by:
            params["group_by"] = ",".join(group_by)
        params["aggregates"] = "count" if self.agg == "count" else f"{self.agg}:{self.y}"
        if self.unit:
            params["time_bucket_field"], params["time_bucket_unit"] = self.x, self.unit
            params["sort"] = f"{self.x}_{self.unit}"
        else:
            params["sort"] = self.x
        return params


# --- cells, columns and paging of the preview ----------------------------------------------------------------------


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


def format_rows(result: QueryResult) -> list[list[tuple[str, str]]]:
    """Every record of a result as formatted cells, in the order of its fields."""
    return [[format_cell(rec.get(f.name), f.type) for f in result.fields] for rec in result.records]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    sortable: bool
    url: str
    aria_sort: str


def sort_link(view: View, state: PreviewState, column: str) -> tuple[str, str]:
    """(url, aria-sort) of a column header: unsorted -> ascending -> descending -> unsorted."""
    reset: dict[str, Any] = {"offset": None, "cursor": None, "start": None}
    if state.sort != column:
        return view.url_with(sort=column, dir=None, **reset), "none"
    if state.direction == "asc":
        return view.url_with(sort=column, dir="desc", **reset), "ascending"
    return view.url_with(sort=None, dir=None, **reset), "descending"


@dataclass
class Paging:
    first: int
    last: int
    total: int | None
    previous: str | None
    next: str | None
    numbered: list[tuple[int | None, str]]
    page: int


def paging(view: View, state: PreviewState, result: QueryResult) -> Paging:
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


# --- the diff between two versions ---------------------------------------------------------------------------------


def diff_rows(result: TableDiff) -> list[dict[str, Any]]:
    """Each changed row as its change, its key and the (old, new) text of the values shown."""
    rows = []
    for row in result.rows:
        source = row.new if row.change != "removed" else row.old
        shown = row.changed_fields if row.change == "changed" else list((source or {}).keys())
        cells = []
        for name in shown:
            old = format_cell((row.old or {}).get(name), "")[0] if row.old is not None else None
            new = format_cell((row.new or {}).get(name), "")[0] if row.new is not None else None
            cells.append({"name": name, "old": old, "new": new})
        key = ", ".join(f"{k} = {format_cell(v, '')[0]}" for k, v in row.key.items())
        rows.append({"change": row.change, "key": key, "cells": cells})
    return rows
