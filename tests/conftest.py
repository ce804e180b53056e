"""Shared fixtures: a fresh database per test (SQLite file, or a PostgreSQL schema), the app, clients, factories.

Catalog tests take the ``engine`` fixture parametrised over both engines; others run on SQLite only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from citycommons.actor import SYSTEM, Actor
from citycommons.app import create_app
from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from citycommons.db.migrate import upgrade
from citycommons.ledger.service import stop_sequencers
from citycommons.settings import Settings
from tests import factories

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _settings(tmp_path: Path, database_url: str | None = None, **extra: object) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path / "var",
        database_url=database_url,
        rate_limit_enabled=False,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def pg_schema() -> Iterator[str]:
    schema = f"cc_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield schema
    finally:
        stop_sequencers()  # a transparency-log sequencer thread may still be working in the schema
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    kind = request.getfixturevalue("engine_kind") if "engine_kind" in request.fixturenames else "sqlite"
    if kind == "postgres":
        schema = request.getfixturevalue("pg_schema")
        url = f"{PG_URL}?options=-csearch_path%3D{schema},public"
        s = _settings(tmp_path, url)
    else:
        s = _settings(tmp_path)
    upgrade(s)
    return s


@pytest.fixture
def sessionmaker(settings: Settings):  # type: ignore[no-untyped-def]
    engine = make_engine(settings)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def db(sessionmaker) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    """A session for service tests; the test commits or the fixture rolls back."""
    session = sessionmaker()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@pytest.fixture
def uow(sessionmaker):  # type: ignore[no-untyped-def]
    """Run a block in its own committed transaction: ``with uow() as s: ...``."""
    return lambda: unit_of_work(sessionmaker)


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.fixture
def world(uow) -> factories.World:  # type: ignore[no-untyped-def]
    """Two organisations, a sysadmin, an editor of org A, a member of org B, an outsider; tokens for each."""
    with uow() as session:
        return factories.make_world(session)


@pytest.fixture
def system() -> Actor:
    return SYSTEM


class LiveServer:
    def __init__(self, app, settings: Settings) -> None:  # type: ignore[no-untyped-def]
        import socket
        import threading

        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = settings
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        import time

        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("live server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A real uvicorn server on 127.0.0.1:<free port> over a fresh SQLite database; ``site_url`` points at it."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    s = _settings(tmp_path, site_url=f"http://127.0.0.1:{port}")
    upgrade(s)
    application = create_app(s)
    server = LiveServer(application, s)
    server.port, server.url = port, f"http://127.0.0.1:{port}"
    server.server.config.port = port
    server.start()
    yield server
    server.stop()
    application.state.engine.dispose()


CHROMIUM = Path("/usr/bin/chromium")
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium driven by Playwright (no browser download); screenshots go to ``test-artifacts/``."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS, headless=True)
        yield chromium
        chromium.close()


def open_watched_page(browser: Any, locale: str = "en-GB", **options: Any) -> Any:
    """A page in a new 1280x900 browser context; console errors and page errors collect in ``page.problems``.
    Close it with ``page.context.close()``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale, **options)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.problems = problems
    return page
