"""Atom feeds of new and changed datasets, and the sitemap.

``/feeds/datasets.atom``, ``/feeds/organization/{name}.atom``, ``/feeds/search.atom?q=&organization=&theme=&tags=
&res_format=`` (the web search page's ``tag``/``format``/``group``/``license`` are accepted too), each with
``?lang=ca|es|en``; ``/sitemap.xml`` and, for large catalogs, ``/sitemap-N.xml``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from citycommons.feeds import service, sitemap
from citycommons.feeds.atom import MEDIA_TYPE as ATOM_MEDIA_TYPE
from citycommons.web.deps import SessionDep, SettingsDep

router = APIRouter(tags=["feeds"])

Lang = Annotated[Literal["ca", "es", "en"] | None, Query(description="Language of titles; default: default_locale")]
Many = Annotated[list[str] | None, Query()]
ATOM = f"{ATOM_MEDIA_TYPE}; charset=utf-8"
XML = "application/xml; charset=utf-8"
ERRORS: dict[int | str, dict[str, object]] = {404: {"description": "Not found"}}


def _atom(body: bytes) -> Response:
    return Response(body, media_type=ATOM)


@router.get("/feeds/datasets.atom", response_class=Response, responses={200: {"content": {ATOM_MEDIA_TYPE: {}}}})
def datasets_feed(session: SessionDep, settings: SettingsDep, lang: Lang = None) -> Response:
    """The 50 most recently created or changed public datasets."""
    return _atom(service.datasets_feed(session=session, settings=settings, lang=lang or settings.default_locale))


@router.get(
    "/feeds/organization/{name}.atom",
    response_class=Response,
    responses={200: {"content": {ATOM_MEDIA_TYPE: {}}}, **ERRORS},
)
def organization_feed(session: SessionDep, settings: SettingsDep, name: str, lang: Lang = None) -> Response:
    """The 50 most recently created or changed public datasets of one organisation."""
    return _atom(
        service.organization_feed(session=session, settings=settings, name=name, lang=lang or settings.default_locale)
    )


@router.get("/feeds/search.atom", response_class=Response, responses={200: {"content": {ATOM_MEDIA_TYPE: {}}}})
def search_feed(
    session: SessionDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=1000)] = "",
    organization: Many = None,
    theme: Many = None,
    tags: Many = None,
    res_format: Many = None,
    groups: Many = None,
    license_id: Many = None,
    tag: Many = None,
    format: Many = None,
    group: Many = None,
    license: Many = None,
    lang: Lang = None,
) -> Response:
    """The 50 most recently changed public datasets matching a search (values of one filter are OR-ed)."""
    filters = {
        "organization": organization or [],
        "theme": theme or [],
        "tags": (tags or []) + (tag or []),
        "res_format": (res_format or []) + (format or []),
        "groups": (groups or []) + (group or []),
        "license_id": (license_id or []) + (license or []),
    }
    return _atom(
        service.search_feed(
            session=session, settings=settings, q=q, filters=filters, lang=lang or settings.default_locale
        )
    )


@router.get("/sitemap.xml", response_class=Response, responses={200: {"content": {"application/xml": {}}}})
def sitemap_xml(session: SessionDep, settings: SettingsDep) -> Response:
    """Every public page (home, search, organisations, datasets), or the index of the chunks past 50,000 URLs."""
    return Response(sitemap.sitemap(session=session, settings=settings, max_urls=sitemap.MAX_URLS), media_type=XML)


@router.get(
    "/sitemap-{number}.xml",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}, **ERRORS},
)
def sitemap_chunk(session: SessionDep, settings: SettingsDep, number: int) -> Response:
    """One chunk of a large sitemap."""
    body = sitemap.sitemap_chunk(session=session, settings=settings, number=number, max_urls=sitemap.MAX_URLS)
    return Response(body, media_type=XML)
