"""The datastore's pages in a real browser (Debian's chromium through Playwright) against a live server: open the
preview of an ingested real file, sort by a column, build a chart and download it as PNG and SVG, and see the map
of a GeoJSON file and of a table with coordinates. No console errors (the Content-Security-Policy holds: Vega runs
with its interpreter, no eval). Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from citycommons.datastore import config as datastore_config
from citycommons.datastore import status
from citycommons.datastore.ingest import ingest_file
from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from tests import factories
from tests.conftest import ARTIFACTS, open_watched_page
from tests.datastore.conftest import DATA

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def portal(live_server: Any) -> dict[str, Any]:
    """Two real files of ../shared/data ingested as the tables of two datasets' distributions."""
    engine = make_engine(live_server.settings)
    factory = make_sessionmaker(engine)
    bases: dict[str, Any] = {"url": live_server.url}
    files = {
        "stations": ("air-stations", "bcn-air-stations.csv", "CSV", "Air-quality stations"),
        "districts": ("districts", "bcn-districtes.geojson", "GEOJSON", "District boundaries"),
    }
    config = datastore_config.from_settings(live_server.settings)
    for key, (name, filename, fmt, title) in files.items():
        with unit_of_work(factory) as s:
            factories.make_world(s) if key == "stations" else None
            ds = factories.make_dataset(
                s,
                name,
                title={"en": title, "ca": title, "es": title},
                distributions=[{"title": {"en": title, "ca": title}, "url": f"https://example.org/{filename}",
                                "format": fmt}],
            )  # fmt: skip
        dist_id = ds.distributions[0].id
        ingest_file(config=config, table_id=dist_id, source=DATA / filename, filename=filename)
        with unit_of_work(factory) as s:
            status.set_active(s, dist_id, True)
        bases[key] = f"{live_server.url}/dataset/{name}/resource/{dist_id}"
    engine.dispose()
    return bases


@contextmanager
def watched_page(browser: Any, locale: str, **options: Any) -> Iterator[Any]:
    """``open_watched_page``, closed at the end of the block."""
    page = open_watched_page(browser, locale, **options)
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    with watched_page(browser, "en-GB", accept_downloads=True) as page:
        yield page


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"datastore-{name}.png"), full_page=True)


def test_preview_sort_chart_and_map(portal: dict[str, Any], tab: Any, tmp_path: Path) -> None:
    page = tab
    page.goto(f"{portal['stations']}/data")
    heading = page.locator("#rows-title")
    assert "of 55" in heading.inner_text()
    assert page.locator("table.datastore-table tbody tr").count() == 50
    shot(page, "preview")

    # sort by a column: its header link, then again for descending
    page.locator("th a.sort-link", has_text="Codi_districte").click()
    page.wait_for_url("**sort=Codi_districte**")
    column = page.locator("table.datastore-table thead th").all_inner_texts()
    index = next(i for i, text in enumerate(column) if text.startswith("Codi_districte"))
    cells = page.locator(f"table.datastore-table tbody tr td:nth-child({index + 1})").all_inner_texts()
    values = [int(c) for c in cells]
    assert values == sorted(values) and values[0] == 1
    assert page.locator("th[aria-sort='ascending']").count() == 1
    page.locator("th a.sort-link", has_text="Codi_districte").click()
    page.wait_for_url("**dir=desc**")
    first = page.locator(f"table.datastore-table tbody tr:first-child td:nth-child({index + 1})").inner_text()
    assert int(first) == 10

    # a filter through the form
    page.select_option("#fc-1", "Nom_districte")
    page.fill("#fv-1", "Gracia")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**fc=Nom_districte**")
    assert "of " in heading.inner_text()
    names = page.locator(f"table.datastore-table tbody tr td:nth-child({index + 2})").all_inner_texts()
    assert set(names) == {"Gracia"}
    shot(page, "preview-sorted-filtered")

    # the chart: choose the columns; the URL follows; the chart is drawn from the API's aggregates
    page.goto(f"{portal['stations']}/chart")
    page.select_option("#c-x", "Nom_districte")
    page.wait_for_selector("#chart[data-rendered='true']")
    assert page.locator("#chart-canvas svg").count() >= 1
    assert "x=Nom_districte" in page.url
    page.select_option("#c-agg", "avg")
    page.select_option("#c-y", "Codi_Contaminant")
    page.select_option("#c-mark", "point")
    page.select_option("#c-color", "Clas_1")
    page.wait_for_function("location.search.includes('color=Clas_1')")
    page.wait_for_selector("#chart[data-rendered='true']")
    assert page.locator("#chart-canvas svg .mark-symbol path").count() > 0
    shared = page.url
    assert "agg=avg" in shared and "y=Codi_Contaminant" in shared and "mark=point" in shared
    # the figures table follows the chart
    assert page.locator("#chart-figures th", has_text="avg_Codi_Contaminant").count() == 1
    with page.expect_download() as png:
        page.get_by_role("button", name="Download PNG").click()
    saved = tmp_path / "chart.png"
    png.value.save_as(saved)
    assert saved.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and saved.stat().st_size > 2000
    with page.expect_download() as svg:
        page.get_by_role("button", name="Download SVG").click()
    saved_svg = tmp_path / "chart.svg"
    svg.value.save_as(saved_svg)
    assert b"<svg" in saved_svg.read_bytes()[:500]
    shot(page, "chart")
    # the shared URL draws the same chart in a new tab
    page.goto(shared)
    page.wait_for_selector("#chart[data-rendered='true']")
    assert page.input_value("#c-color") == "Clas_1"
    page.goto(f"{portal['stations']}/chart?mark=line&x=Codi_districte&agg=count")
    page.wait_for_selector("#chart[data-rendered='true']")
    assert page.locator("#chart-canvas svg .mark-line path").count() == 1

    # the map of a GeoJSON file: the ten districts, offline (no tiles), with escaped popups
    page.goto(f"{portal['districts']}/map")
    page.wait_for_selector("#data-map[data-features='10']")
    assert page.locator("#data-map path.leaflet-interactive").count() == 10
    assert page.locator("#data-map .leaflet-tile").count() == 0
    page.locator("#data-map path.leaflet-interactive").nth(1).click(force=True)
    page.wait_for_selector(".leaflet-popup-content .map-popup")
    districts = {"Ciutat Vella", "Eixample", "Sants-Montjuïc", "Les Corts", "Sarrià-Sant Gervasi", "Gràcia",
                 "Horta-Guinardó", "Nou Barris", "Sant Andreu", "Sant Martí"}  # fmt: skip
    assert page.locator(".map-popup strong").inner_text() in districts  # the name column heads the popup
    assert "DISTRICTE" in page.locator(".map-popup dl").inner_text()
    page.wait_for_timeout(400)  # the map pans to show the whole popup
    shot(page, "map-geojson")

    # the map of a table with latitude and longitude columns
    page.goto(f"{portal['stations']}/map")
    page.wait_for_selector("#data-map[data-features]")
    assert int(page.get_attribute("#data-map", "data-features") or 0) == 55
    shot(page, "map-points")
    assert page.problems == []


def test_catalan_pages_and_dictionary(portal: dict[str, Any], browser: Any) -> None:
    with watched_page(browser, "ca-ES") as page:
        page.goto(f"{portal['districts']}/data")
        assert page.locator("html").get_attribute("lang") == "ca"
        assert "Files 1–10 de 10" in page.locator("#rows-title").inner_text()
        assert page.locator("th", has_text="geometry").locator(".col-type").inner_text() == "geometria"
        shot(page, "preview-ca")
        page.goto(f"{portal['districts']}/dictionary")
        assert page.locator("h2#dict-title").inner_text() == "Diccionari de dades"
        shot(page, "dictionary-ca")
        page.goto(f"{portal['districts']}/chart?x=NOM&agg=max&y=AREA")
        page.wait_for_selector("#chart[data-rendered='true']")
        shot(page, "chart-ca")
        assert page.problems == []


def test_pages_without_javascript(portal: dict[str, Any], browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    page.goto(f"{portal['stations']}/chart?x=Nom_districte&agg=count")
    assert page.locator("#chart-table-title").inner_text() == "Figures of the chart"
    assert page.locator("#chart-figures tbody tr").count() == 8  # the 8 stations are in 8 districts
    page.goto(f"{portal['districts']}/map")
    assert "needs JavaScript" in page.locator(".map-fallback").inner_text()
    assert page.locator(".map-list tbody tr").count() == 10
    context.close()
