"""Sitemaps (sitemaps.org 0.9): the public pages of the portal, chunked behind a sitemap index when large.

Order: home, the dataset search page, every active organisation, every public dataset (by name). A sitemap holds
at most ``MAX_URLS`` URLs; beyond that ``/sitemap.xml`` is an index of ``/sitemap-1.xml``, ``/sitemap-2.xml``...
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from citycommons.actor import ANONYMOUS
from citycommons.catalog import organizations, service
from citycommons.errors import NotFound
from citycommons.feeds.xmltext import rfc3339, sub, to_bytes
from citycommons.settings import Settings

SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
MAX_URLS = 50_000  # the sitemaps.org limit per file


@dataclass(frozen=True)
class Url:
    loc: str
    lastmod: datetime | None = None


def _urlset(urls: list[Url]) -> bytes:
    root = ET.Element("urlset")
    for url in urls:
        el = sub(root, "url")
        sub(el, "loc", url.loc)
        if url.lastmod is not None:
            sub(el, "lastmod", rfc3339(url.lastmod))
    return to_bytes(root, SITEMAP)


def _index(locs: list[str], lastmod: datetime | None) -> bytes:
    root = ET.Element("sitemapindex")
    for loc in locs:
        el = sub(root, "sitemap")
        sub(el, "loc", loc)
        if lastmod is not None:
            sub(el, "lastmod", rfc3339(lastmod))
    return to_bytes(root, SITEMAP)


def _site_urls(session: Session, settings: Settings) -> tuple[list[Url], datetime | None]:
    """Home, search page and organisation pages, and the newest public change."""
    newest_by_org = service.last_modified_by_organization(session=session, actor=ANONYMOUS)
    newest = max(newest_by_org.values(), default=None)
    site = settings.site_url
    urls = [Url(f"{site}/", newest), Url(f"{site}/dataset", newest)]
    for org in organizations.list_all(session=session, actor=ANONYMOUS):
        urls.append(Url(f"{site}/organization/{org.name}", newest_by_org.get(org.id, org.created)))
    return urls, newest


def _dataset_urls(session: Session, settings: Settings, *, offset: int, limit: int) -> list[Url]:
    rows = service.list_modified(session=session, actor=ANONYMOUS, limit=limit, offset=offset)
    return [Url(f"{settings.site_url}/dataset/{name}", modified) for name, modified in rows]


def sitemap(*, session: Session, settings: Settings, max_urls: int = MAX_URLS) -> bytes:
    """``/sitemap.xml``: every URL, or the index of the chunks when there are more than ``max_urls``."""
    site_urls, newest = _site_urls(session, settings)
    total = len(site_urls) + service.count(session=session, actor=ANONYMOUS)
    if total <= max_urls:
        return _urlset(site_urls + _dataset_urls(session, settings, offset=0, limit=max_urls))
    chunks = math.ceil(total / max_urls)
    return _index([f"{settings.site_url}/sitemap-{n}.xml" for n in range(1, chunks + 1)], newest)


def sitemap_chunk(*, session: Session, settings: Settings, number: int, max_urls: int = MAX_URLS) -> bytes:
    """``/sitemap-N.xml``: URLs ``(N-1)*max_urls`` to ``N*max_urls`` of the whole list (NotFound past the end)."""
    site_urls, _ = _site_urls(session, settings)
    total = len(site_urls) + service.count(session=session, actor=ANONYMOUS)
    start = (number - 1) * max_urls
    if number < 1 or start >= total:
        raise NotFound("No such sitemap")
    head = site_urls[start : start + max_urls]
    offset = max(0, start - len(site_urls))
    rest = _dataset_urls(session, settings, offset=offset, limit=max_urls - len(head))
    return _urlset(head + rest)
