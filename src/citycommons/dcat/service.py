"""DCAT graphs of the catalog (one page of it) and of one dataset, read through the catalog services.

Visibility is the catalog's: search and ``service.get`` apply ``permissions.visible_datasets`` /
``can_read_dataset``, so a private dataset appears only to those who may see it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from rdflib import Graph
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.catalog import catalog_info, organizations, search, service
from citycommons.catalog.schemas import OrganizationRead, RangeFilter, SearchQuery, SortKey
from citycommons.dcat.profile import DCAT, PageLinks, Uris, add_catalog, add_dataset, add_paging, new_graph
from citycommons.errors import NotFound
from citycommons.settings import Settings

MAX_PAGE_SIZE = 1000  # the most rows one search returns


def page_size(settings: Settings) -> int:
    return max(1, min(settings.dcat_page_size, MAX_PAGE_SIZE))


def _newest(session: Session, actor: Actor, field: str, descending: bool) -> datetime | None:
    """metadata_created / metadata_modified of the first visible dataset in that order."""
    result = search.search(
        session=session,
        actor=actor,
        query=SearchQuery(sort=[SortKey(field=field, descending=descending)], rows=1),
    )
    if not result.results:
        return None
    value: datetime = getattr(result.results[0], field)
    return value


def _organizations(session: Session, actor: Actor) -> dict[str, OrganizationRead]:
    return {org.id: org for org in organizations.list_all(session=session, actor=actor)}


def catalog_graph(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    page: int = 1,
    page_url: Callable[[int], str],
    q: str = "",
    modified_since: datetime | None = None,
) -> Graph:
    """The catalog with one page of its datasets, newest change first, and Hydra paging links."""
    uris = Uris(settings.site_url)
    size = page_size(settings)
    result = search.search(
        session=session,
        actor=actor,
        query=SearchQuery(
            q=q,
            ranges=[RangeFilter(field="metadata_modified", start=modified_since)] if modified_since else [],
            sort=[SortKey(field="metadata_modified", descending=True)],
            rows=size,
            start=(page - 1) * size,
        ),
    )
    info = catalog_info.get(session=session, settings=settings)
    issued = info.issued or _newest(session, actor, "metadata_created", descending=False)
    newest = _newest(session, actor, "metadata_modified", descending=True)
    modified = max((d for d in (info.modified, newest) if d is not None), default=None)

    g = new_graph()
    cat = add_catalog(g, uris=uris, info=info, issued=issued, modified=modified)
    publishers = _organizations(session, actor)
    for ds in result.results:
        node = add_dataset(g, uris=uris, dataset=ds, publisher=publishers.get(ds.organization.id))
        g.add((cat, DCAT.dataset, node))

    if result.count:  # as ckanext-dcat: no paging block for an empty result
        last = max(1, math.ceil(result.count / size))
        previous = None
        if page > 1:
            previous = page - 1 if (page - 1) * size + len(result.results) <= result.count else last
        add_paging(
            g,
            PageLinks(
                current=page_url(page),
                first=page_url(1),
                last=page_url(last),
                next=page_url(page + 1) if page * size < result.count else None,
                previous=page_url(previous) if previous else None,
                total=result.count,
                per_page=size,
            ),
        )
    return g


def dataset_graph(*, session: Session, actor: Actor, settings: Settings, id_or_name: str) -> Graph:
    """One dataset (NotFound when ``actor`` may not see it)."""
    ds = service.get(session=session, actor=actor, id_or_name=id_or_name)
    try:
        org = organizations.get(session=session, actor=actor, id_or_name=ds.organization.id)
    except NotFound:  # an inactive organisation still publishes its datasets, with what the summary knows
        org = None
    g = new_graph()
    add_dataset(g, uris=Uris(settings.site_url), dataset=ds, publisher=org or ds.organization)
    return g
