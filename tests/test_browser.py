"""The portal in a real browser (Debian's chromium through Playwright) against a live uvicorn server.

Screenshots go to ``test-artifacts/`` (git-ignored) so that a person can look at the design.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from citycommons.actor import SYSTEM
from citycommons.catalog import distributions
from citycommons.catalog.schemas import DistributionCreate, Upload
from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from tests import factories
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

CSV = b"station,date,no2\nGracia,2024-01-01,41\nEixample,2024-01-01,52\n"


@pytest.fixture
def portal(live_server, tmp_path: Path) -> Any:
    """A few datasets, one with an uploaded CSV, created through the services in the live server's database."""
    engine = make_engine(live_server.settings)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as s:
        factories.make_world(s)
        air = factories.make_dataset(
            s,
            "air-quality",
            title={
                "ca": "Qualitat de l'aire a Gràcia",
                "es": "Calidad del aire en Gràcia",
                "en": "Air quality in Gràcia",
            },
            description={
                "en": "Hourly NO2 and PM10 readings from the station at Plaça de la Vila.\n\n"
                "Values are in micrograms per cubic metre.",
                "ca": "Lectures horàries de NO2 i PM10 de l'estació de la Plaça de la Vila.",
            },
            frequency="HOURLY",
            temporal_start="2024-01-01",
            contact_name="Environment data office",
            contact_email="data@example.org",
            distributions=[],
        )
        factories.make_dataset(
            s,
            "bike-lanes",
            organization="mobility",
            title={"ca": "Carrils bici", "es": "Carriles bici", "en": "Bike lanes"},
            description={"en": "The cycle network as lines, updated monthly."},
            themes=["TRAN"],
            tags=["bikes", "mobility"],
            distributions=[
                {"title": {"en": "Network map"}, "url": "https://example.org/bikes.geojson", "format": "GEOJSON"}
            ],
        )
        factories.make_dataset(s, "noise-map", title={"en": "Noise map", "ca": "Mapa de soroll"}, tags=["noise"])
    source = tmp_path / "air.csv"
    source.write_bytes(CSV)
    with unit_of_work(factory) as s:
        distributions.create(
            session=s,
            actor=SYSTEM,
            settings=live_server.settings,
            dataset=air.id,
            data=DistributionCreate(title={"en": "Readings 2024", "ca": "Lectures 2024"}),
            upload=Upload(filename="air-2024.csv", path=str(source), content_type="text/csv"),
        )
    engine.dispose()
    return live_server


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    tab = context.new_page()
    yield tab
    context.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_search_open_and_download(page, portal):
    page.goto(f"{portal.url}/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    shot(page, "home-en")
    page.get_by_label("Search datasets").fill("air")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/dataset?q=air")
    assert "1 dataset found" in page.locator("#results-title").inner_text()
    shot(page, "search-en")

    page.get_by_role("link", name="Air quality in Gràcia").click()
    page.wait_for_url("**/dataset/air-quality")
    assert page.get_by_role("heading", level=1).inner_text() == "Air quality in Gràcia"
    shot(page, "dataset-en")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download Readings 2024").click()
    download = info.value
    assert download.suggested_filename == "air-2024.csv"
    assert Path(download.path()).read_bytes() == CSV

    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Environment Department").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Environment Department"
    assert page.locator(".dataset-card").count() == 2
    shot(page, "organization-en")
    page.get_by_role("link", name="About the data").first.click()
    shot(page, "about-en")


def test_facets_work_without_javascript(browser, portal):
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    page.goto(f"{portal.url}/dataset?lang=en")
    page.locator(".facet-link", has_text="Transport").first.click()
    assert "theme=TRAN" in page.url
    assert "1 dataset found" in page.locator("#results-title").inner_text()
    page.get_by_label("Sort by").select_option("title")
    page.get_by_role("button", name="Sort", exact=True).click()
    assert "sort=title" in page.url and "theme=TRAN" in page.url
    shot(page, "search-facet-no-js")
    context.close()


def test_switch_language(page, portal):
    page.goto(f"{portal.url}/dataset/air-quality?lang=en")
    page.get_by_role("link", name="Català").click()
    assert page.locator("html").get_attribute("lang") == "ca"
    assert page.get_by_role("heading", level=1).inner_text() == "Qualitat de l'aire a Gràcia"
    assert page.get_by_role("heading", name="Dades i recursos").is_visible()
    shot(page, "dataset-ca")
    page.get_by_role("link", name="Conjunts de dades", exact=True).first.click()
    assert page.get_by_role("button", name="Cerca").is_visible()  # the choice is remembered
    page.get_by_role("link", name="Español").click()
    assert page.get_by_role("button", name="Buscar").is_visible()
    shot(page, "search-es")


def test_keyboard_skip_link_and_focus(page, portal):
    page.goto(f"{portal.url}/?lang=en")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    shot(page, "focus-skip-link")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_sign_in_and_edit_a_dataset(page, portal):
    page.goto(f"{portal.url}/dataset/air-quality?lang=en")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("User name or e-mail").fill("editor")
    page.get_by_label("Password").fill("correct horse battery")
    shot(page, "login-en")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dataset/air-quality")
    assert page.get_by_role("status").inner_text().strip() == "You are signed in."

    page.get_by_role("link", name="Edit dataset").click()
    page.locator("#f-title-en").fill("")
    page.locator("#f-title-ca").fill("")
    page.locator("#f-title-es").fill("")
    page.get_by_label("Contact e-mail").fill("not an address")
    page.get_by_role("button", name="Save changes").click()
    assert page.locator(".error-summary").is_visible()
    assert "at least one language" in page.locator("#f-title-error").inner_text()
    assert page.get_by_label("Contact e-mail").input_value() == "not an address"
    shot(page, "edit-errors-en")

    page.locator("#f-title-en").fill("Air quality in Gràcia, hourly")
    page.get_by_label("Contact e-mail").fill("air@example.org")
    page.get_by_label("Tags").fill("air, no2, pm10")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url("**/dataset/air-quality")
    assert page.get_by_role("heading", level=1).inner_text() == "Air quality in Gràcia, hourly"
    history = page.locator("table.history")
    assert "editor" in history.inner_text() and "Title" in history.inner_text()
    shot(page, "dataset-edited-en")

    page.get_by_role("link", name="Add a resource").click()
    page.locator("#f-upload").set_input_files(
        files=[{"name": "pm10.csv", "mimeType": "text/csv", "buffer": b"station,pm10\nGracia,20\n"}]
    )
    page.locator("#f-title-en").fill("PM10 readings")
    shot(page, "resource-form-en")
    page.get_by_role("button", name="Add resource").click()
    assert page.get_by_role("heading", name="PM10 readings").is_visible()

    page.get_by_role("link", name="My account").click()
    page.get_by_label("Token name").fill("nightly import")
    page.get_by_role("button", name="Create token").click()
    assert page.locator("#new-token").input_value().startswith("cc_")
    shot(page, "account-en")


def test_small_screen(browser, portal):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ca-ES", device_scale_factor=1)
    page = context.new_page()
    page.goto(f"{portal.url}/")
    assert page.locator("html").get_attribute("lang") == "ca"  # from Accept-Language
    shot(page, "home-mobile-ca")
    page.goto(f"{portal.url}/dataset/air-quality")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "no horizontal scrolling on a phone"
    shot(page, "dataset-mobile-ca")
    context.close()
