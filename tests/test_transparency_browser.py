"""In a real browser: an auditor opens /transparency, reads the signed tree head and the verification steps, follows
an entry to its inclusion proof, downloads the log through the page's link, and the CLI verifies the downloaded file.
Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import ARTIFACTS, open_watched_page
from tests.test_transparency_live import build_log, run

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")


def test_auditor_downloads_the_log_and_verifies_it(browser, live_server, tmp_path: Path):
    size = build_log(live_server)
    sth = httpx.get(f"{live_server.url}/api/v1/log/sth").json()

    page = open_watched_page(browser, "en-GB", accept_downloads=True)
    problems = page.problems

    page.goto(f"{live_server.url}/?lang=en")
    page.get_by_role("navigation", name="Footer").get_by_role("link", name="Transparency log").click()
    page.wait_for_url("**/transparency")
    assert page.get_by_role("heading", level=1).inner_text() == "Transparency log"
    head = page.locator("section[aria-labelledby=sth-title]")
    assert sth["root_hash"] in head.inner_text() and f"{size}" in head.inner_text()
    verify = page.locator("section[aria-labelledby=verify-title]").inner_text()
    assert f"citycommons log verify {live_server.url}" in verify
    rows = page.locator("table tbody tr")
    assert rows.count() == min(size, 25)
    page.screenshot(path=str(ARTIFACTS / "transparency.png"), full_page=True)

    page.get_by_label("Kind of event").select_option("dataset.read")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/transparency?type=dataset.read")
    assert all("Read of non-open data" in t for t in page.locator("table tbody tr td:nth-child(3)").all_inner_texts())
    page.locator("table tbody tr td a").first.click()
    page.wait_for_url("**/transparency/entries/*")
    assert page.get_by_role("heading", name="Inclusion proof").is_visible()
    assert sth["root_hash"] in page.locator("section[aria-labelledby=proof-title]").inner_text()
    page.screenshot(path=str(ARTIFACTS / "transparency-entry.png"), full_page=True)

    page.goto(f"{live_server.url}/transparency?lang=en")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the log (.tar.gz)").click()
    download = info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.name == f"citycommons-log-{size}.tar.gz"
    assert not problems, problems
    page.context.close()

    # "another machine": the CLI with no access to the server's data directory or database
    result = run("log", "verify", str(saved))
    assert f"Verified tree size: {size}" in result.stdout
