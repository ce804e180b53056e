"""Atom feeds and sitemaps: entries, languages, escaping, filters, chunking, and never a private dataset."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

import pytest

from citycommons.actor import SYSTEM
from citycommons.catalog import service as datasets
from citycommons.feeds import service as feeds
from citycommons.feeds import sitemap
from tests.factories import make_dataset

A = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SITE = "http://127.0.0.1:8000"


def atom(client, url, **kwargs):
    r = client.get(url, **kwargs)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/atom+xml")
    return ET.fromstring(r.content)


def entries(feed):
    return feed.findall(f"{A}entry")


def titles(feed):
    return [e.findtext(f"{A}title") for e in entries(feed)]


def links(feed):
    return [e.find(f"{A}link").get("href") for e in entries(feed)]


@pytest.fixture
def catalog(world, uow):
    """Datasets in two organisations (oldest first), a hostile title, a private dataset."""
    with uow() as session:
        make_dataset(session, "trees", title={"ca": "Arbrat", "en": "Trees"}, themes=["ENVI"], tags=["trees"])
        make_dataset(session, "only-english", title={"en": "Only English"}, tags=["misc"], themes=["GOVE"])
        make_dataset(
            session,
            "buses",
            organization="mobility",
            title={"ca": "Autobusos", "es": "Autobuses", "en": "Buses"},
            themes=["TRAN"],
            tags=["bus"],
            distributions=[{"url": "https://example.org/bus.json", "format": "JSON"}],
        )
        make_dataset(session, "evil", title={"en": "<script>alert('x')</script> & <b>bold</b>"}, themes=[])
        make_dataset(session, "secret", title={"ca": "Secret", "en": "Secret"}, private=True)
    return world


def test_site_feed_lists_newest_first_in_the_requested_language(client, catalog, uow):
    feed = atom(client, "/feeds/datasets.atom?lang=es")
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "es"
    assert titles(feed)[1:] == ["Autobuses", "Only English", "Arbrat"], "es, else the first language that has it"
    assert links(feed)[1:] == [f"{SITE}/dataset/{n}" for n in ("buses", "only-english", "trees")]
    with uow() as session:
        by_name = {d.name: d for d in datasets.list_recent(session=session, actor=SYSTEM, limit=10)}
    buses = entries(feed)[1]
    updated = datetime.fromisoformat(buses.findtext(f"{A}updated").replace("Z", "+00:00"))
    assert updated == by_name["buses"].metadata_modified.replace(microsecond=0)
    assert buses.findtext(f"{A}id") == f"{SITE}/dataset/{by_name['buses'].id}"
    assert feed.findtext(f"{A}updated") == entries(feed)[0].findtext(f"{A}updated")
    assert feed.find(f"{A}link[@rel='self']").get("href") == f"{SITE}/feeds/datasets.atom?lang=es"

    default = atom(client, "/feeds/datasets.atom")
    assert "Arbrat" in titles(default), "default language is Settings.default_locale (ca)"
    assert titles(atom(client, "/feeds/datasets.atom?lang=en"))[-1] == "Trees"
    assert client.get("/feeds/datasets.atom?lang=fr").status_code == 422


def test_feed_is_limited_to_the_newest(client, catalog, monkeypatch):
    monkeypatch.setattr(feeds, "FEED_SIZE", 2)
    assert titles(atom(client, "/feeds/datasets.atom?lang=en")) == [
        "<script>alert('x')</script> & <b>bold</b>",
        "Buses",
    ]


def test_titles_are_escaped_not_interpreted(client, catalog):
    r = client.get("/feeds/datasets.atom?lang=en")
    assert b"<script>" not in r.content and b"&lt;script&gt;" in r.content
    assert titles(ET.fromstring(r.content))[0] == "<script>alert('x')</script> & <b>bold</b>"


def test_private_datasets_never_appear(client, catalog):
    for who in (None, "editor", "admin"):
        headers = catalog.auth(who) if who else {}
        for url in (
            "/feeds/datasets.atom",
            "/feeds/organization/environment.atom",
            "/feeds/search.atom?q=secret",
            "/feeds/search.atom?organization=environment",
        ):
            feed = atom(client, url, headers=headers)
            assert f"{SITE}/dataset/secret" not in links(feed) and "Secret" not in titles(feed)
        body = client.get("/sitemap.xml", headers=headers).text
        assert "/dataset/secret" not in body


def test_organization_feed(client, catalog):
    feed = atom(client, "/feeds/organization/mobility.atom?lang=en")
    assert titles(feed) == ["Buses"]
    assert "Mobility Department" in feed.findtext(f"{A}title")
    assert feed.find(f"{A}link[@rel='alternate']").get("href") == f"{SITE}/organization/mobility"
    assert entries(feed)[0].find(f"{A}author").findtext(f"{A}name") == "Mobility Department"
    assert client.get("/feeds/organization/nowhere.atom").status_code == 404


SEARCHES = [
    ("q=buses", ["Buses"]),
    ("tags=trees", ["Trees"]),
    ("tags=trees&tags=bus", ["Buses", "Trees"]),
    ("tag=bus", ["Buses"]),
    ("theme=ENVI&organization=environment", ["Trees"]),
    ("res_format=JSON", ["Buses"]),
    ("organization=mobility&q=trees", []),
]


def test_search_feed_uses_the_search_filters(client, catalog):
    for query, expected in SEARCHES:
        feed = atom(client, f"/feeds/search.atom?{query}&lang=en")
        assert titles(feed) == expected, query
        assert feed.find(f"{A}link[@rel='self']").get("href").startswith(f"{SITE}/feeds/search.atom?")
    feed = atom(client, "/feeds/search.atom?q=buses&tag=bus&lang=en")
    assert feed.find(f"{A}link[@rel='alternate']").get("href") == f"{SITE}/dataset?q=buses&tag=bus"


def _urls(root):
    return {u.findtext(f"{SM}loc"): u.findtext(f"{SM}lastmod") for u in root.findall(f"{SM}url")}


def test_sitemap_lists_public_pages_with_lastmod(client, catalog, engine_kind):
    r = client.get("/sitemap.xml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    urls = _urls(ET.fromstring(r.content))
    public = ("trees", "only-english", "buses", "evil")
    assert set(urls) == {
        f"{SITE}/",
        f"{SITE}/dataset",
        f"{SITE}/organization/environment",
        f"{SITE}/organization/mobility",
        *(f"{SITE}/dataset/{n}" for n in public),
    }
    assert all(urls.values()), "every URL has a lastmod"
    assert urls[f"{SITE}/"] == max(urls[f"{SITE}/dataset/{n}"] for n in public)
    assert urls[f"{SITE}/organization/mobility"] == urls[f"{SITE}/dataset/buses"]


def test_large_sitemaps_become_an_index_of_chunks(client, catalog, monkeypatch):
    monkeypatch.setattr(sitemap, "MAX_URLS", 3)
    root = ET.fromstring(client.get("/sitemap.xml").content)
    assert root.tag == f"{SM}sitemapindex"
    locs = [s.findtext(f"{SM}loc") for s in root.findall(f"{SM}sitemap")]
    assert locs == [f"{SITE}/sitemap-{n}.xml" for n in (1, 2, 3)]  # 8 URLs, 3 per file
    seen: list[str] = []
    for n in (1, 2, 3):
        chunk = _urls(ET.fromstring(client.get(f"/sitemap-{n}.xml").content))
        assert 0 < len(chunk) <= 3
        seen += chunk
    assert len(seen) == len(set(seen)) == 8 and f"{SITE}/dataset/trees" in seen
    assert client.get("/sitemap-4.xml").status_code == 404
    assert client.get("/sitemap-0.xml").status_code == 404
