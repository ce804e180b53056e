"""The datastore's pages under ``/dataset/{name}/resource/{resource_id}/``: the data preview (paged, sortable,
filterable, with the ingest report and export links), the chart builder, the map, the data dictionary (and its
editor form), the version list and the diff between two versions.

Every page works without JavaScript: the preview is server-rendered; the chart page shows the aggregated table the
chart is drawn from; the map page lists what the map shows. JavaScript (``datastore-chart.js``,
``datastore-map.js``) draws the chart with Vega-Lite and the map with Leaflet from the native API.

All reads go through ``datastore.service`` (one service layer: permissions, version pinning, read logging); the
routes here only load the page, call the service and render. What query strings and forms mean, and how results
are shown, is in ``page_models`` and ``dictionary_form``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from citycommons.catalog import service as catalog
from citycommons.datastore import service
from citycommons.datastore.dictionary_form import (
    OVERRIDABLE_TYPES,
    SCHEMA_EDIT_MESSAGES,
    dictionary_rows,
    override_from_form,
)
from citycommons.datastore.page_models import (
    AGGREGATES,
    CHART_ROWS,
    DIFF_PAGE,
    MAP_FEATURES,
    MARKS,
    MAX_FILTERS,
    NUMERIC,
    OPERATORS,
    PAGE_SIZES,
    TEMPORAL,
    TIME_UNITS,
    TYPE_LABELS,
    UNORDERED,
    ChartState,
    Column,
    FilterRow,
    PreviewState,
    TablePage,
    api_url,
    diff_rows,
    export_links,
    format_rows,
    geo_columns,
    paging,
    parse_int,
    sort_link,
    version_param,
)
from citycommons.datastore.query_schemas import QueryResult, SearchRequest
from citycommons.datastore.schemas import SchemaOverride
from citycommons.errors import CityCommonsError, Forbidden, Invalid, NotFound, TooLarge
from citycommons.web.csrf import FormDep
from citycommons.web.deps import SessionDep
from citycommons.web.render import N_, View, ViewDep

router = APIRouter(include_in_schema=False)
BASE = "/dataset/{name}/resource/{resource_id}"
PAGE_MESSAGES = (N_("Choose two versions of this table."),)
T = TypeVar("T")


# --- what every page does ------------------------------------------------------------------------------------------


def _load(
    view: View, session: SessionDep, name: str, resource_id: str, *, tab: str, version: int | None = None
) -> TablePage | Response:
    """The page's dataset, distribution and table; or the answer instead of the page: a dataset reached by its id
    (or an old name) is redirected to its canonical address, and a distribution without a queryable table yet (being
    ingested, failed, or not tabular) gets a 404 page that says so. Unknown or invisible datasets and distributions
    are NotFound."""
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
        return view.render(
            "datastore_none.html", page=TablePage(ds=ds, dist=dist, table=None, base=base), tab=tab, status_code=404
        )
    page = TablePage(ds=ds, dist=dist, table=table, base=base)
    page.geo = geo_columns(table.table_schema, table.geometry_field)
    return page


def _render(
    view: View,
    template: str,
    page: TablePage,
    tab: str,
    *,
    errors: Sequence[str] | Mapping[str, list[str]] = (),
    status_code: int | None = None,
    **context: Any,
) -> Response:
    """A datastore page in its frame (heading and tabs); 400 when it shows errors, unless told otherwise."""
    return view.render(
        template,
        status_code=status_code or (400 if errors else 200),
        page=page,
        tab=tab,
        tabs=page.tabs(),
        type_labels=TYPE_LABELS,
        errors=errors,
        **context,
    )


def _search(view: View, session: SessionDep, resource_id: str, request: SearchRequest) -> QueryResult:
    return service.search(
        session=session, actor=view.actor, settings=view.settings, resource_id=resource_id, request=request
    )


def _or_errors(view: View, call: Callable[[], T]) -> tuple[T | None, list[str]]:
    """The service's answer, or (None, lines for the page) when it refuses the visitor's query: the page then shows
    what was wrong next to the form that asked."""
    try:
        return call(), []
    except (Invalid, TooLarge) as exc:
        return None, _error_text(view, exc)
    except ValidationError as exc:  # e.g. a filter operator the request model refuses
        return None, [str(e.get("msg", "")) for e in exc.errors()]


def _error_text(view: View, exc: CityCommonsError) -> list[str]:
    """An error of the service as lines for the page: the message, or one line per field."""
    if exc.fields:
        return [f"{name}: {' '.join(messages)}" for name, messages in exc.fields.items()]
    return [view.gettext(str(exc) or "Invalid input")]


# --- preview -------------------------------------------------------------------------------------------------------


@router.get(BASE + "/data")
def preview(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> Response:
    state = PreviewState.parse(view.request.query_params)
    page = _load(view, session, name, resource_id, tab="data", version=state.version)
    if isinstance(page, Response):
        return page
    result, errors = _or_errors(view, lambda: _search(view, session, resource_id, state.request()))
    columns: list[Column] = []
    for f in result.fields if result else page.schema.fields:
        sortable = f.type not in UNORDERED
        url, aria = sort_link(view, state, f.name) if sortable else ("", "none")
        columns.append(Column(f.name, f.type, sortable, url, aria))
    version = result.version if result else page.info.version
    filter_rows = [*state.filters, FilterRow()]
    return _render(
        view,
        "datastore_data.html",
        page,
        "data",
        errors=errors,
        state=state,
        result=result,
        columns=columns,
        rows=format_rows(result) if result else [],
        paging=paging(view, state, result) if result else None,
        version=version,
        exports=export_links(page, state.api_params(version)),
        api_url=api_url(resource_id, "rows", {**state.api_params(version), "limit": "100"}),
        filter_rows=filter_rows[:MAX_FILTERS],
        operators=OPERATORS,
        page_sizes=PAGE_SIZES,
        field_types=page.types(),
        report=page.info.report,
        ingest_url=f"{page.base}/ingest",
    )


# --- chart ---------------------------------------------------------------------------------------------------------


@router.get(BASE + "/chart")
def chart(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> Response:
    version = version_param(view.request.query_params)
    page = _load(view, session, name, resource_id, tab="chart", version=version)
    if isinstance(page, Response):
        return page
    state = ChartState.parse(view.request.query_params, page.types())
    result: QueryResult | None = None
    errors: list[str] = []
    if state.x:
        result, errors = _or_errors(view, lambda: _search(view, session, resource_id, state.request()))
    else:  # nothing chosen yet: still check that the visitor may read the rows
        _search(view, session, resource_id, SearchRequest(version=version, limit=0))
    table_version = result.version if result else page.info.version
    chartable = [f for f in page.schema.fields if f.type not in UNORDERED]
    config = {
        "rowsUrl": api_url(resource_id, "rows"),
        "version": table_version,
        "types": {f.name: f.type for f in chartable},
        "limit": CHART_ROWS,
        "title": page.dist.title.get(view.lang) or page.ds.title.get(view.lang) or page.ds.name,
    }
    return _render(
        view,
        "datastore_chart.html",
        page,
        "chart",
        errors=errors,
        state=state,
        result=result,
        rows=format_rows(result) if result else [],
        chartable=chartable,
        marks=MARKS,
        aggregates=AGGREGATES,
        time_units=TIME_UNITS,
        temporal=[f.name for f in chartable if f.type in TEMPORAL],
        numeric=[f.name for f in chartable if f.type in NUMERIC],
        chart_config=json.dumps(config, ensure_ascii=False),
        api_url=api_url(resource_id, "rows", state.api_params(table_version)) if state.x else "",
        truncated=bool(result and result.next_cursor),
        chart_rows=CHART_ROWS,
    )


# --- map -----------------------------------------------------------------------------------------------------------


@router.get(BASE + "/map")
def data_map(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> Response:
    version = version_param(view.request.query_params)
    page = _load(view, session, name, resource_id, tab="map", version=version)
    if isinstance(page, Response):
        return page
    if page.geo is None:
        raise NotFound("This table has no geometry or latitude and longitude columns")
    geo = page.geo
    names = [f.name for f in page.schema.fields if f.type not in ("geojson",)]
    label = next(
        (f.name for f in page.schema.fields if f.type == "string" and f.name.lower() in ("name", "nom", "nombre")),
        next((f.name for f in page.schema.fields if f.type == "string"), ""),
    )
    listed = [n for n in ([label] if label else []) + [geo.latitude or "", geo.longitude or ""] if n]
    search = SearchRequest(version=version, fields=listed or None, limit=50, include_total=True)
    result = _search(view, session, resource_id, search)
    pinned = result.version
    if geo.geometry:
        source = api_url(resource_id, "export.geojson", {"version": pinned, "limit": MAP_FEATURES})
    else:
        fields = [n for n in names if n not in ("geometry",)]
        source = api_url(resource_id, "rows", {"version": pinned, "limit": MAP_FEATURES, "fields": ",".join(fields)})
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


# --- data dictionary -----------------------------------------------------------------------------------------------


def _dictionary(
    view: View,
    page: TablePage,
    override: SchemaOverride | None,
    *,
    errors: dict[str, list[str]] | None = None,
    form: FormData | None = None,
    status_code: int = 200,
) -> Response:
    return _render(
        view,
        "datastore_dictionary.html",
        page,
        "dictionary",
        status_code=status_code,
        errors=errors or {},
        schema=page.schema,
        rows=dictionary_rows(page.schema, override, form),
        can_edit=page.info.can_edit,
        overridable=OVERRIDABLE_TYPES,
    )


def _override(view: View, session: SessionDep, page: TablePage) -> SchemaOverride | None:
    if not page.info.can_edit:
        return None
    return service.get_override(session=session, actor=view.actor, settings=view.settings, resource_id=page.dist.id)


@router.get(BASE + "/dictionary")
def dictionary(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> Response:
    version = version_param(view.request.query_params)
    page = _load(view, session, name, resource_id, tab="dictionary", version=version)
    if isinstance(page, Response):
        return page
    return _dictionary(view, page, _override(view, session, page))


@router.post(BASE + "/dictionary")
def save_dictionary(view: ViewDep, session: SessionDep, name: str, resource_id: str, form: FormDep) -> Response:
    page = _load(view, session, name, resource_id, tab="dictionary")
    if isinstance(page, RedirectResponse):
        raise NotFound("Resource not found")
    if isinstance(page, Response):
        return page
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


# --- versions and diff ---------------------------------------------------------------------------------------------


@router.get(BASE + "/versions")
def versions_page(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> Response:
    page = _load(view, session, name, resource_id, tab="versions")
    if isinstance(page, Response):
        return page
    items = service.list_versions(session=session, actor=view.actor, settings=view.settings, resource_id=resource_id)
    items = sorted(items, key=lambda v: v.version, reverse=True)
    return _render(view, "datastore_versions.html", page, "versions", versions=items, ingest_url=f"{page.base}/ingest")


@router.get(BASE + "/diff")
def diff_page(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> Response:
    params = view.request.query_params
    page = _load(view, session, name, resource_id, tab="versions")
    if isinstance(page, Response):
        return page
    items = service.list_versions(session=session, actor=view.actor, settings=view.settings, resource_id=resource_id)
    numbers = sorted(v.version for v in items)
    latest = numbers[-1] if numbers else 1
    to_version = parse_int(params.get("to"), minimum=1) or latest
    from_version = parse_int(params.get("from"), minimum=1) or max(1, to_version - 1)
    offset = parse_int(params.get("offset"), default=0) or 0
    result = None
    errors: list[str] = []
    if len(numbers) > 1 and from_version in numbers and to_version in numbers:
        compare = partial(
            service.diff, session=session, actor=view.actor, settings=view.settings, resource_id=resource_id,
            from_version=from_version, to_version=to_version, limit=DIFF_PAGE, offset=offset,
        )  # fmt: skip
        result, errors = _or_errors(view, compare)
    elif len(numbers) > 1:
        errors = [view.gettext("Choose two versions of this table.")]
    else:  # one version: nothing to compare; still only for readers of the rows
        _search(view, session, resource_id, SearchRequest(limit=0))
    more = bool(
        result and offset + len(result.rows) < (result.summary.added + result.summary.removed + result.summary.changed)
    )
    return _render(
        view,
        "datastore_diff.html",
        page,
        "versions",
        errors=errors,
        numbers=numbers,
        from_version=from_version,
        to_version=to_version,
        result=result,
        rows=diff_rows(result) if result else [],
        previous_url=view.url_with(offset=max(0, offset - DIFF_PAGE) or None) if offset else None,
        next_url=view.url_with(offset=offset + DIFF_PAGE) if more else None,
        api_url=api_url(resource_id, "diff", {"from": from_version, "to": to_version}),
    )
