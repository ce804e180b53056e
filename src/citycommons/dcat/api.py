"""DCAT-AP 3 export of the catalog and its datasets (Turtle, JSON-LD, RDF/XML) built with rdflib.

Routes: ``/catalog.{ttl,jsonld,rdf,xml}?page=N`` (Hydra-paged, ``dcat_page_size`` datasets per page, newest change
first; ``q`` and ``modified_since`` filter as in ckanext-dcat), ``/catalog`` (303 to the negotiated serialisation)
and ``/dataset/{id_or_name}.{ttl,jsonld,rdf,xml}``.

For the web dataset page: ``wanted_rdf_format``, ``dataset_rdf_response`` and ``dataset_alternate_links``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.catalog.service import load_visible_dataset
from citycommons.dcat import service
from citycommons.dcat.formats import (
    BY_EXTENSION,
    TURTLE,
    dataset_alternate_links,
    rdf_format,
    serialize,
    wanted_rdf_format,
)
from citycommons.ledger import record as ledger_record
from citycommons.settings import Settings
from citycommons.web.deps import ActorDep, SessionDep, SettingsDep

__all__ = ["dataset_alternate_links", "dataset_rdf_response", "router", "wanted_rdf_format"]

router = APIRouter(tags=["dcat"])
PAGING_PARAMS = ("q", "modified_since")  # kept in the paging links, as ckanext-dcat does
ERRORS: dict[int | str, dict[str, object]] = {404: {"description": "Not found"}, 422: {"description": "Invalid page"}}


def dataset_rdf_response(*, session: Session, actor: Actor, settings: Settings, id_or_name: str, fmt: str) -> Response:
    """One dataset in ``fmt`` ("turtle", "json-ld", "xml", or an extension); NotFound if ``actor`` may not see it."""
    rdf = rdf_format(fmt)
    graph = service.dataset_graph(session=session, actor=actor, settings=settings, id_or_name=id_or_name)
    dataset = load_visible_dataset(session, actor, id_or_name)  # a read of non-open metadata goes to the log
    ledger_record.data_read(session=session, actor=actor, key=settings.pseudonym_key, dataset=dataset, channel="export")
    return Response(serialize(graph, rdf), media_type=rdf.media_type, headers={"Vary": "Accept"})


@router.get("/catalog", include_in_schema=False)
def catalog_negotiated(request: Request) -> Response:
    """The catalog's URI: 303 to the serialisation the Accept header prefers (Turtle by default; HTML: /dataset)."""
    accept = request.headers.get("accept", "")
    wanted = wanted_rdf_format(accept)
    if wanted is None and ("html" in accept):
        return RedirectResponse("/dataset", status_code=303)
    ext = rdf_format(wanted).extension if wanted else TURTLE.extension
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/catalog.{ext}{query}", status_code=303, headers={"Vary": "Accept"})


def _catalog_route(extension: str) -> Callable[..., Response]:
    rdf = BY_EXTENSION[extension]

    def catalog(
        request: Request,
        session: SessionDep,
        actor: ActorDep,
        settings: SettingsDep,
        page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
        q: Annotated[str, Query(max_length=1000)] = "",
        modified_since: datetime | None = None,
    ) -> Response:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k in PAGING_PARAMS and v]

        def page_url(n: int) -> str:
            return f"{settings.site_url}/catalog.{extension}?{urlencode([*kept, ('page', str(n))])}"

        graph = service.catalog_graph(
            session=session,
            actor=actor,
            settings=settings,
            page=page,
            page_url=page_url,
            q=q,
            modified_since=modified_since,
        )
        return Response(serialize(graph, rdf), media_type=rdf.media_type)

    catalog.__doc__ = f"The DCAT-AP 3 catalog as {rdf.media_type}, one page of datasets (Hydra paging)."
    return catalog


def _dataset_route(extension: str) -> Callable[..., Response]:
    rdf = BY_EXTENSION[extension]

    def dataset(session: SessionDep, actor: ActorDep, settings: SettingsDep, id_or_name: str) -> Response:
        return dataset_rdf_response(
            session=session, actor=actor, settings=settings, id_or_name=id_or_name, fmt=extension
        )

    dataset.__doc__ = f"One dataset as DCAT-AP 3 {rdf.media_type}."
    return dataset


for _ext, _fmt in BY_EXTENSION.items():
    router.add_api_route(
        f"/catalog.{_ext}",
        _catalog_route(_ext),
        methods=["GET"],
        name=f"dcat_catalog_{_ext}",
        response_class=Response,
        responses={200: {"content": {_fmt.media_type: {}}}, **ERRORS},
    )
    router.add_api_route(
        f"/dataset/{{id_or_name}}.{_ext}",
        _dataset_route(_ext),
        methods=["GET"],
        name=f"dcat_dataset_{_ext}",
        response_class=Response,
        responses={200: {"content": {_fmt.media_type: {}}}, **ERRORS},
    )
