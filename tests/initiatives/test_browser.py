"""In a real browser: a visitor submits an initiative by clicking the map, a moderator approves it, and it shows
as a Leaflet marker on the public map. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import pytest

from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from tests import factories
from tests.conftest import ARTIFACTS, open_watched_page

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")


def test_submit_on_the_map_approve_and_see_the_marker(browser, live_server):
    live_server.settings.initiative_min_fill_seconds = 0
    engine = make_engine(live_server.settings)
    with unit_of_work(make_sessionmaker(engine)) as s:
        factories.make_user(s, "moderator", sysadmin=True)
    engine.dispose()

    page = open_watched_page(browser, "en-GB")
    problems = page.problems

    page.goto(f"{live_server.url}/initiatives/new?lang=en")
    page.get_by_label("Name").fill('Xarxa "><b>Oberta</b>')
    page.get_by_label("Description").fill("Neighbours teaching neighbours to use the internet safely.")
    page.get_by_label("Type of organisation").select_option("association")
    page.get_by_label("1. Universal and equal access", exact=False).check()
    page.get_by_label("Contact e-mail").fill("xarxa@example.org")
    picker = page.locator("#location-picker")
    picker.locator(".leaflet-overlay-pane path").first.wait_for(state="attached")  # the districts' outlines are drawn
    box = picker.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    lat, lon = page.locator("#f-lat").input_value(), page.locator("#f-lon").input_value()
    assert lat and lon and 41.2 < float(lat) < 41.7 and 1.8 < float(lon) < 2.45
    assert picker.locator(".leaflet-marker-icon").count() == 1
    page.screenshot(path=str(ARTIFACTS / "initiative-form.png"), full_page=True)
    page.get_by_role("button", name="Send for review").click()
    page.wait_for_url("**/initiatives/thanks")

    page.goto(f"{live_server.url}/user/login?next=/initiatives/moderation")
    page.get_by_label("User name or e-mail").fill("moderator")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/initiatives/moderation")
    page.get_by_role("button", name="Approve").click()
    assert "The initiative was approved." in page.get_by_role("status").inner_text()

    page.goto(f"{live_server.url}/initiatives?lang=en")
    marker = page.locator("#initiatives-map .leaflet-marker-icon")
    marker.first.wait_for()
    assert marker.count() == 1
    assert marker.first.get_attribute("title") == 'Xarxa "><b>Oberta</b>'
    marker.first.click()
    popup = page.locator(".leaflet-popup-content")
    assert popup.locator("strong").inner_text() == 'Xarxa "><b>Oberta</b>'  # shown as text, not markup
    assert popup.locator("b").count() == 0
    page.screenshot(path=str(ARTIFACTS / "initiatives-map.png"), full_page=True)
    assert not [p for p in problems if "Content Security Policy" in p or "Error" in p], problems
    page.context.close()
