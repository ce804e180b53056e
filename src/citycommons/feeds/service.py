"""Atom feeds of new and changed datasets: site-wide, per organisation, per search.

Feeds are public documents: they are read as the anonymous visitor, so private datasets never appear whoever
asks. Entries are the ``FEED_SIZE`` most recently changed datasets, titles in the requested language.
"""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy.orm import Session

from citycommons.actor import ANONYMOUS
from citycommons.catalog import catalog_info, organizations, search, service
from citycommons.catalog.schemas import FieldFilter, SearchQuery, SortKey, pick
from citycommons.db.base import utcnow
from citycommons.feeds.atom import Feed, atom_feed
from citycommons.settings import Settings

FEED_SIZE = 50
TITLES = {
    "ca": "Conjunts de dades nous i modificats",
    "es": "Conjuntos de datos nuevos y modificados",
    "en": "New and changed datasets",
}
SEARCH_WORDS = {"ca": "cerca", "es": "búsqueda", "en": "search"}
# feed parameter -> (search filter field, parameter of the web search page)
SEARCH_FILTERS: dict[str, tuple[str, str]] = {
    "organization": ("organization", "organization"),
    "theme": ("theme", "theme"),
    "tags": ("tags", "tag"),
    "res_format": ("res_format", "format"),
    "groups": ("groups", "group"),
    "license_id": ("license_id", "license"),
}


def _feed(session: Session, settings: Settings, *, lang: str, title: str, self_url: str, html_url: str) -> Feed:
    info = catalog_info.get(session=session, settings=settings)
    return Feed(
        title=f"{pick(info.title, lang, settings.site_title)} · {title}",
        self_url=self_url,
        html_url=html_url,
        author=info.publisher_name,
        lang=lang,
        updated=utcnow(),
    )


def _url(base: str, params: list[tuple[str, str]]) -> str:
    return f"{base}?{urlencode(params)}" if params else base


def datasets_feed(*, session: Session, settings: Settings, lang: str) -> bytes:
    site = settings.site_url
    datasets = service.list_recent(session=session, actor=ANONYMOUS, limit=FEED_SIZE)
    feed = _feed(
        session,
        settings,
        lang=lang,
        title=TITLES[lang],
        self_url=_url(f"{site}/feeds/datasets.atom", [("lang", lang)]),
        html_url=f"{site}/dataset",
    )
    return atom_feed(feed, datasets, site_url=site)


def organization_feed(*, session: Session, settings: Settings, name: str, lang: str) -> bytes:
    """NotFound for an unknown organisation."""
    org = organizations.get(session=session, actor=ANONYMOUS, id_or_name=name)
    site = settings.site_url
    datasets = service.list_recent(session=session, actor=ANONYMOUS, limit=FEED_SIZE, organization_id=org.id)
    feed = _feed(
        session,
        settings,
        lang=lang,
        title=f"{TITLES[lang]}: {pick(org.title, lang, org.name)}",
        self_url=_url(f"{site}/feeds/organization/{org.name}.atom", [("lang", lang)]),
        html_url=f"{site}/organization/{org.name}",
    )
    return atom_feed(feed, datasets, site_url=site)


def search_feed(*, session: Session, settings: Settings, q: str, filters: dict[str, list[str]], lang: str) -> bytes:
    """The newest datasets matching a search; ``filters`` keyed as ``SEARCH_FILTERS``, values OR-ed per field."""
    site = settings.site_url
    given = {key: [v for v in values if v] for key, values in filters.items() if key in SEARCH_FILTERS}
    given = {key: values for key, values in given.items() if values}
    result = search.search(
        session=session,
        actor=ANONYMOUS,
        query=SearchQuery(
            q=q,
            filters=[FieldFilter(field=SEARCH_FILTERS[key][0], values=values) for key, values in given.items()],
            sort=[SortKey(field="metadata_modified", descending=True)],
            rows=FEED_SIZE,
            include_private=False,
            lang=lang,
        ),
    )
    feed_params = [("q", q)] if q else []
    page_params = list(feed_params)
    for key, values in given.items():
        feed_params += [(key, v) for v in values]
        page_params += [(SEARCH_FILTERS[key][1], v) for v in values]
    described = ", ".join(([f"“{q}”"] if q else []) + [v for values in given.values() for v in values])
    feed = _feed(
        session,
        settings,
        lang=lang,
        title=f"{TITLES[lang]} ({SEARCH_WORDS[lang]}{': ' + described if described else ''})",
        self_url=_url(f"{site}/feeds/search.atom", [*feed_params, ("lang", lang)]),
        html_url=_url(f"{site}/dataset", page_params),
    )
    return atom_feed(feed, result.results, site_url=site)
