"""In a real browser: a citizen opens a dataset page, sees which published algorithms use the dataset, follows the
link to the algorithm's record and finds the dataset linked back. Drafts are not listed. Screenshots go to
``test-artifacts/``."""

from __future__ import annotations

import pytest

from citycommons.actor import SYSTEM
from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from citycommons.registers import service
from citycommons.registers.schemas import AlgorithmCreate
from tests import factories as catalog_factories
from tests.conftest import ARTIFACTS, open_watched_page
from tests.registers import factories

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

ALGORITHM = "Bicing demand <forecast>"
DRAFT = "Unpublished rebalancing draft"


def test_citizen_sees_on_a_dataset_page_which_algorithms_use_it(browser, live_server):
    engine = make_engine(live_server.settings)
    with unit_of_work(make_sessionmaker(engine)) as s:
        catalog_factories.make_org(s, "environment", "Environment Department")
        catalog_factories.make_dataset(s, "estacions", title={"en": "Bicing stations", "ca": "Estacions de Bicing"})
    with unit_of_work(make_sessionmaker(engine)) as s:
        record = factories.publish(s, factories.complete(ALGORITHM, datasets=[{"dataset": "estacions"}]))
        service.create(
            session=s,
            actor=SYSTEM,
            data=AlgorithmCreate.model_validate(factories.complete(DRAFT, datasets=[{"dataset": "estacions"}])),
        )
    engine.dispose()

    page = open_watched_page(browser, "en-GB")
    problems = page.problems

    page.goto(f"{live_server.url}/dataset/estacions?lang=en")
    section = page.get_by_role("region", name="Algorithms that use this dataset")
    section.scroll_into_view_if_needed()
    assert section.is_visible()
    links = section.get_by_role("link")
    assert links.all_inner_texts() == [ALGORITHM]  # the published record only, its name shown as text
    assert links.first.get_attribute("href") == f"/algorithms/{record.slug}"
    assert "Environment Department" in section.inner_text()
    assert DRAFT not in page.content()
    page.screenshot(path=str(ARTIFACTS / "dataset-algorithms.png"), full_page=True)

    links.first.click()
    page.wait_for_url(f"**/algorithms/{record.slug}")
    assert page.get_by_role("heading", level=1).inner_text() == ALGORITHM
    used = page.locator("#datasets + *")
    back = used.get_by_role("link", name="Bicing stations")
    assert back.get_attribute("href") == "/dataset/estacions"
    page.screenshot(path=str(ARTIFACTS / "algorithm-record.png"), full_page=True)
    page.goto(f"{live_server.url}/algorithms/{record.slug}?lang=ca")  # the dataset's title in the reader's language
    assert page.locator("#datasets + *").get_by_role("link", name="Estacions de Bicing").count() == 1
    page.goto(f"{live_server.url}/algorithms/{record.slug}?lang=en")

    back.click()
    page.wait_for_url("**/dataset/estacions")
    assert page.get_by_role("heading", level=1).inner_text() == "Bicing stations"
    assert not problems, problems
    page.context.close()
