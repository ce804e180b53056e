"""Schemathesis over every ``/api/v1`` operation of the OpenAPI document, in-process through ASGI: no 5xx, every
response conforms to its documented status codes, content type and schema. Anonymous with random examples;
as a sysadmin (token from tests.factories) with random examples plus schemathesis' coverage phase."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from citycommons.app import create_app
from citycommons.db.engine import make_sessionmaker, unit_of_work
from citycommons.db.migrate import upgrade
from tests import factories
from tests.conftest import _settings

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.response_schema_conformance,
    checks.content_type_conformance,
]
EXAMPLES = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


class Api:
    def __init__(self, app: Any, admin_token: str) -> None:
        self.app = app
        self.admin_token = admin_token


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One app over a small catalog: two organisations, users with tokens, a few datasets."""
    s = _settings(Path(tmp_path_factory.mktemp("openapi")))
    upgrade(s)
    app = create_app(s)
    with unit_of_work(make_sessionmaker(app.state.engine)) as session:
        world = factories.make_world(session)
        for i in range(3):
            factories.make_dataset(session, f"air-{i}", groups=[])
        factories.make_dataset(session, "private-air", private=True)
    yield Api(app, world.admin_token)
    app.state.engine.dispose()


def _schema(api: Api, *, coverage: bool) -> Any:
    config = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": coverage}}})
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", api.app, config=config)


@pytest.fixture(scope="module")
def fuzzed_schema(api: Api) -> Any:
    """Random examples only."""
    return _schema(api, coverage=False)


@pytest.fixture(scope="module")
def covered_schema(api: Api) -> Any:
    """Random examples plus schemathesis' coverage phase (boundary values, missing and wrong-typed fields)."""
    return _schema(api, coverage=True)


fuzzed = schemathesis.pytest.from_fixture("fuzzed_schema").include(path_regex=r"^/api/v1/")
covered = schemathesis.pytest.from_fixture("covered_schema").include(path_regex=r"^/api/v1/")


@fuzzed.parametrize()
@EXAMPLES
def test_anonymous(case: Any) -> None:
    case.call_and_validate(checks=CHECKS)


@covered.parametrize()
@EXAMPLES
def test_sysadmin(case: Any, api: Api) -> None:
    case.call_and_validate(headers={"Authorization": api.admin_token}, checks=CHECKS)
