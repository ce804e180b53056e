"""The public pages: home, dataset search, dataset, organisations, about; file downloads and static assets.

``router`` is the one the app includes; the editing forms and the account pages are routers of their own,
aggregated here (before ``/dataset/{name}`` so that ``/dataset/new`` is not taken for a dataset name).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from importlib import import_module
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, RedirectResponse, Response

from citycommons.catalog import distributions, organizations, permissions, search, service, vocabularies
from citycommons.catalog.schemas import (
    DatasetRead,
    FieldFilter,
    SearchQuery,
    SortKey,
)
from citycommons.errors import NotFound
from citycommons.ledger import record as ledger_record
from citycommons.registers.service import using_dataset as algorithms_using_dataset
from citycommons.web import auth_pages, forms
from citycommons.web.deps import SessionDep
from citycommons.web.listing import FACETS, SORTS, active_filters, facet_boxes, filters_from, pager
from citycommons.web.render import N_, STATIC_DIR, View, ViewDep

router = APIRouter(include_in_schema=False)
router.include_router(auth_pages.router)
router.include_router(forms.router)

Many = Annotated[list[str] | None, Query()]
Page = Annotated[int, Query(ge=1, le=100_000)]

HISTORY_FIELDS = {
    "*": N_("Dataset created"),
    "name": N_("URL name"),
    "title": N_("Title"),
    "description": N_("Description"),
    "identifier": N_("Identifier"),
    "organization": N_("Organisation"),
    "private": N_("Visibility"),
    "access_rights": N_("Access rights"),
    "license_id": N_("Licence"),
    "themes": N_("Themes"),
    "tags": N_("Tags"),
    "groups": N_("Groups"),
    "contact_name": N_("Contact name"),
    "contact_email": N_("Contact e-mail"),
    "spatial_uri": N_("Spatial coverage"),
    "spatial_wkt": N_("Spatial coverage"),
    "temporal_start": N_("Temporal coverage"),
    "temporal_end": N_("Temporal coverage"),
    "frequency": N_("Update frequency"),
    "issued": N_("Issued"),
    "modified": N_("Modified"),
    "version": N_("Version"),
    "conforms_to": N_("Conforms to"),
    "languages": N_("Languages"),
    "landing_page": N_("Landing page"),
    "extras": N_("Extra fields"),
    "distributions": N_("Data and resources"),
    "state": N_("State"),
}
ACTIVITY_TYPES = {
    "new package": N_("Created"),
    "changed package": N_("Changed"),
    "deleted package": N_("Deleted"),
}


def _dcat_hook(name: str) -> Callable[..., Any] | None:
    """A content-negotiation helper of the DCAT module, when that module provides it."""
    try:
        module = import_module("citycommons.dcat.api")
    except ImportError:  # pragma: no cover - the module ships with the app
        return None
    hook = getattr(module, name, None)
    return hook if callable(hook) else None


# --- home, about ----------------------------------------------------------------------------------------------


@router.get("/")
def home(view: ViewDep, session: SessionDep) -> Response:
    result = search.search(
        session=session,
        actor=view.actor,
        query=SearchQuery(
            rows=6,
            sort=[SortKey(field="metadata_modified", descending=True)],
            facet_fields=["theme"],
            facet_limit=-1,
            lang=view.lang,
        ),
    )
    counts = {item.name: item.count for item in result.facets.get("theme", [])}
    themes = [t for t in vocabularies.themes().terms if t.id != "OP_DATPRO"]  # OP_DATPRO: "provisional data"
    themes.sort(key=lambda t: (-counts.get(t.id, 0), t.text(view.lang).lower()))
    orgs = organizations.list_all(session=session, actor=view.actor)
    return view.render(
        "home.html",
        newest=result.results,
        dataset_count=result.count,
        organization_count=len(orgs),
        theme_counts=counts,
        themes=themes,
    )


@router.get("/about")
def about(view: ViewDep) -> Response:
    return view.render("about.html")


# --- search -----------------------------------------------------------------------------------------------------


@router.get("/dataset")
def dataset_search(
    view: ViewDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=1000)] = "",
    organization: Many = None,
    theme: Many = None,
    tag: Many = None,
    format: Many = None,
    license: Many = None,
    access_rights: Many = None,
    sort: Literal["relevance", "modified", "title"] = "relevance",
    page: Page = 1,
) -> Response:
    selected = {
        "organization": organization or [],
        "theme": theme or [],
        "tag": tag or [],
        "format": format or [],
        "license": license or [],
        "access_rights": access_rights or [],
    }
    size = view.settings.search_page_size
    # a listing (a member also sees their private datasets): not logged; opening one is (see ledger.record)
    result = search.search(
        session=session,
        actor=view.actor,
        query=SearchQuery(
            q=q,
            filters=filters_from(selected),
            sort=SORTS[sort][1],
            rows=size,
            start=(page - 1) * size,
            facet_fields=[f.field for f in FACETS],
            facet_limit=50,
            lang=view.lang,
        ),
    )
    boxes = facet_boxes(view, result, selected)
    return view.render(
        "search.html",
        q=q,
        result=result,
        facets=boxes,
        active=active_filters(view, boxes, selected),
        selected=selected,
        sort=sort,
        sorts={key: view.gettext(label) for key, (label, _) in SORTS.items()},
        pager=pager(view, page=page, count=result.count, page_size=size),
    )


# --- dataset ----------------------------------------------------------------------------------------------------


def _history_rows(view: View, session: SessionDep, ds: DatasetRead) -> list[dict[str, Any]]:
    rows = []
    for activity in service.history(session=session, actor=view.actor, id_or_name=ds.id, limit=50):
        fields = []
        for change in activity.changes:
            label = view.gettext(HISTORY_FIELDS.get(str(change.get("field")), str(change.get("field"))))
            if label not in fields and change.get("field") != "*":
                fields.append(label)
        rows.append(
            {
                "who": activity.user_name,
                "when": activity.timestamp,
                "what": view.gettext(ACTIVITY_TYPES.get(activity.activity_type, activity.activity_type)),
                "fields": fields,
            }
        )
    return rows


@router.get("/dataset/{name}")
def dataset_page(view: ViewDep, session: SessionDep, name: str) -> Response:
    wanted_rdf_format = _dcat_hook("wanted_rdf_format")
    rdf_response = _dcat_hook("dataset_rdf_response")
    if wanted_rdf_format and rdf_response:
        fmt = wanted_rdf_format(view.request.headers.get("accept", ""))
        if fmt:
            response: Response = rdf_response(
                session=session, actor=view.actor, settings=view.settings, id_or_name=name, fmt=fmt
            )
            response.headers["Vary"] = "Accept"
            return response
    ds = service.get(session=session, actor=view.actor, id_or_name=name)
    if name != ds.name:
        return RedirectResponse(f"/dataset/{ds.name}", status_code=308)
    alternate_links = _dcat_hook("dataset_alternate_links")
    org_id = ds.organization.id
    page = view.render(
        "dataset.html",
        headers={"Vary": "Accept, Accept-Language, Cookie"},
        ds=ds,
        history=_history_rows(view, session, ds),
        algorithms=algorithms_using_dataset(session=session, actor=view.actor, dataset_id=ds.id),
        alternates=alternate_links(view.settings, ds.name) if alternate_links else [],
        can_edit=permissions.can_edit_dataset(view.actor, organization_id=org_id),
        can_download=permissions.can_read_data(
            view.actor, organization_id=org_id, private=ds.private, access_rights=ds.access_rights
        ),
    )
    # logged once the page is built: the log's append lock is then held only until the request commits
    ref = ledger_record.DatasetRef.of(ds)
    ledger_record.data_read(
        session=session, actor=view.actor, key=view.settings.pseudonym_key, dataset=ref, channel="page"
    )
    return page


@router.get("/dataset/{dataset_id}/resource/{resource_id}/download/{filename}")
def download(view: ViewDep, session: SessionDep, dataset_id: str, resource_id: str, filename: str) -> Response:
    """Serves an uploaded file, as an attachment, to whoever may read the dataset's data."""
    dist = distributions.get(session=session, actor=view.actor, distribution_id=resource_id)
    if dataset_id != dist.dataset_id:
        ds = service.get(session=session, actor=view.actor, id_or_name=dataset_id)
        if ds.id != dist.dataset_id:
            raise NotFound("Resource not found")
    stored = distributions.download(
        session=session, actor=view.actor, settings=view.settings, distribution_id=resource_id
    )
    return FileResponse(
        stored.path,
        media_type=stored.media_type,
        filename=stored.filename,
        headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"},
    )


# --- organisations ----------------------------------------------------------------------------------------------


@router.get("/organization")
def organization_list(view: ViewDep, session: SessionDep) -> Response:
    orgs = organizations.list_all(session=session, actor=view.actor)
    return view.render("organizations.html", organizations=orgs)


@router.get("/organization/{name}")
def organization_page(view: ViewDep, session: SessionDep, name: str, page: Page = 1) -> Response:
    org = organizations.get(session=session, actor=view.actor, id_or_name=name)
    size = view.settings.search_page_size
    result = search.search(
        session=session,
        actor=view.actor,
        query=SearchQuery(
            filters=[FieldFilter(field="organization", values=[org.id])],
            sort=[SortKey(field="metadata_modified", descending=True)],
            rows=size,
            start=(page - 1) * size,
            lang=view.lang,
        ),
    )
    return view.render(
        "organization.html",
        org=org,
        result=result,
        can_add=view.actor.has_role(org.id, "editor"),
        pager=pager(view, page=page, count=result.count, page_size=size),
    )


# --- static assets ----------------------------------------------------------------------------------------------


@router.get("/static/{path:path}")
def static_file(path: str) -> Response:
    root = STATIC_DIR.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise NotFound("Not found")
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(
        target,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
