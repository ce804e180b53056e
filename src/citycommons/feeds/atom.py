"""Atom 1.0 (RFC 4287) documents of datasets, written with ElementTree (every text node escaped)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime

from citycommons import __version__
from citycommons.catalog import vocabularies
from citycommons.catalog.schemas import DatasetRead, pick
from citycommons.feeds.xmltext import rfc3339, sub, to_bytes

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MEDIA_TYPE = "application/atom+xml"
SUMMARY_CHARS = 1000


@dataclass(frozen=True)
class Feed:
    """What a feed says about itself; ``self_url`` doubles as its permanent id."""

    title: str
    self_url: str
    html_url: str
    author: str
    lang: str
    updated: datetime


def _summary(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 1].rstrip() + "…"


def _entry(feed_el: ET.Element, ds: DatasetRead, *, site_url: str, lang: str) -> None:
    entry = sub(feed_el, "entry")
    sub(entry, "id", f"{site_url}/dataset/{ds.id}")
    sub(entry, "title", pick(ds.title, lang, ds.name), type="text")
    sub(entry, "link", rel="alternate", type="text/html", href=f"{site_url}/dataset/{ds.name}")
    sub(entry, "updated", rfc3339(ds.metadata_modified))
    sub(entry, "published", rfc3339(ds.metadata_created))
    author = sub(entry, "author")
    sub(author, "name", pick(ds.organization.title, lang, ds.organization.name))
    sub(author, "uri", f"{site_url}/organization/{ds.organization.name}")
    description = pick(ds.description, lang)
    if description:
        sub(entry, "summary", _summary(description), type="text")
    themes = vocabularies.themes()
    for theme in ds.themes:
        term = themes.get(theme)
        if term is not None:
            sub(entry, "category", term=term.id, scheme=themes.scheme, label=term.text(lang))
    for tag in ds.tags:
        sub(entry, "category", term=tag)


def atom_feed(feed: Feed, datasets: list[DatasetRead], *, site_url: str) -> bytes:
    """The feed document; ``datasets`` newest first, ``updated`` taken from the newest."""
    root = ET.Element("feed", {XML_LANG: feed.lang})
    sub(root, "id", feed.self_url)
    sub(root, "title", feed.title, type="text")
    updated = max((ds.metadata_modified for ds in datasets), default=feed.updated)
    sub(root, "updated", rfc3339(updated))
    sub(root, "link", rel="self", type=MEDIA_TYPE, href=feed.self_url)
    sub(root, "link", rel="alternate", type="text/html", href=feed.html_url)
    author = sub(root, "author")
    sub(author, "name", feed.author)
    sub(root, "generator", "citycommons", uri=site_url, version=__version__)
    for ds in datasets:
        _entry(root, ds, site_url=site_url, lang=feed.lang)
    return to_bytes(root, ATOM)
