"""The demo city: counts, places, privacy, dates, determinism, and every uploaded file downloadable."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from citycommons.accounts import service as accounts
from citycommons.actor import ANONYMOUS, SYSTEM
from citycommons.app import create_app
from citycommons.catalog import distributions, organizations, search
from citycommons.catalog.schemas import DatasetRead, SearchQuery
from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from citycommons.db.migrate import upgrade
from citycommons.demo import places
from citycommons.demo.build import SEED, SPECS, build_demo
from citycommons.demo.tables import Ctx
from citycommons.settings import Settings
from tests.conftest import PG_URL


class Demo:
    def __init__(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        self.settings = settings
        self.factory = factory
        with unit_of_work(factory) as session:
            result = search.search(session=session, actor=SYSTEM, query=SearchQuery(rows=1000, include_private=True))
            self.datasets: list[DatasetRead] = result.results
            self.admin_token = accounts.create_token(session=session, actor=SYSTEM, user="admin", name="t").token

    def dataset(self, name: str) -> DatasetRead:
        return next(d for d in self.datasets if d.name == name)

    def file(self, dataset: str, fmt: str) -> Path:
        dist = next(d for d in self.dataset(dataset).distributions if d.format == fmt and d.url_type == "upload")
        with unit_of_work(self.factory) as session:
            return distributions.download(
                session=session, actor=SYSTEM, settings=self.settings, distribution_id=dist.id
            ).path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    settings = Settings(environment="test", data_dir=tmp_path_factory.mktemp("demo"), rate_limit_enabled=False)
    upgrade(settings)
    engine = make_engine(settings)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:
        build_demo(session=session, settings=settings, admin_password="demo password")
    yield Demo(settings, factory)
    engine.dispose()


def test_counts(demo: Demo) -> None:
    assert len(demo.datasets) >= 45
    assert len({d.organization.name for d in demo.datasets}) == 8
    assert sum(d.private for d in demo.datasets) >= 2
    assert {"RESTRICTED", "NON_PUBLIC"} <= {d.access_rights for d in demo.datasets}
    assert sum(d.license_id == "cc-by-4.0" for d in demo.datasets) > len(demo.datasets) / 2
    for d in demo.datasets:
        assert set(d.title) == {"ca", "es", "en"} and set(d.description) == {"ca", "es", "en"}
        assert d.themes and d.tags and d.groups and d.frequency and d.contact_email
        assert d.temporal_start and d.temporal_end and d.temporal_start <= d.temporal_end
        assert d.spatial_uri
        assert any(x.url_type == "upload" for x in d.distributions)
    formats = {x.format for d in demo.datasets for x in d.distributions}
    assert {"CSV", "JSON", "GEOJSON", "PDF"} <= formats
    assert any(not x.url_type and x.access_url and not x.url for d in demo.datasets for x in d.distributions)


def test_every_department_has_an_editor(demo: Demo) -> None:
    with unit_of_work(demo.factory) as session:
        for org in organizations.list_all(session=session, actor=SYSTEM):
            assert set(org.title) == {"ca", "es", "en"}
            roles = {
                m.user_name: m.role for m in organizations.members(session=session, actor=SYSTEM, id_or_name=org.id)
            }
            assert roles.get(f"editor-{org.name}") == "editor"
        assert accounts.authenticate_password(session=session, login="admin", password="demo password").sysadmin


def test_anonymous_visitors_do_not_see_private_datasets(demo: Demo) -> None:
    with unit_of_work(demo.factory) as session:
        public = search.search(session=session, actor=ANONYMOUS, query=SearchQuery(rows=1000))
    assert public.count == len(demo.datasets) - sum(d.private for d in demo.datasets)
    assert not any(d.private for d in public.results)


def test_all_districts_and_neighbourhoods_are_referenced(demo: Demo) -> None:
    shapes = json.loads(demo.file("districtes-barris", "GEOJSON").read_text(encoding="utf-8"))
    kinds = [f["geometry"]["type"] for f in shapes["features"]]
    assert kinds.count("Polygon") == 10 and kinds.count("Point") == 73
    uris = {f["properties"]["URI"] for f in shapes["features"]}
    assert {d.uri for d in places.districts()} | {n.uri for n in places.neighbourhoods()} == uris

    rows = list(csv.DictReader(io.StringIO(demo.file("padro-edat-sexe", "CSV").read_text(encoding="utf-8"))))
    assert len({r["Codi_Barri"] for r in rows}) == 73 and len({r["Codi_Districte"] for r in rows}) == 10
    assert 1_400_000 < sum(int(r["Valor"]) for r in rows) < 1_900_000
    assert any(d.spatial_uri == places.district(2).uri and d.spatial_wkt for d in demo.datasets)


def test_latin1_files_are_what_they_claim(demo: Demo) -> None:
    checked = 0
    for d in demo.datasets:
        for x in d.distributions:
            if x.extras.get("encoding") != "ISO-8859-1":
                continue
            with unit_of_work(demo.factory) as session:
                path = distributions.download(
                    session=session, actor=SYSTEM, settings=demo.settings, distribution_id=x.id
                ).path
            raw = path.read_bytes()
            text = raw.decode("iso-8859-1")
            assert b"\r\n" in raw and ";" in text.splitlines()[0]
            checked += 1
    assert checked >= 5


def test_dates_spread_over_two_years(demo: Demo) -> None:
    modified = sorted(d.metadata_modified for d in demo.datasets)
    created = [d.metadata_created for d in demo.datasets]
    assert modified[-1] - modified[0] > timedelta(days=180)
    assert all(c <= m for c, m in zip(created, [d.metadata_modified for d in demo.datasets], strict=True))
    assert modified[-1] - min(created) <= timedelta(days=731)


def test_generation_is_deterministic(demo: Demo) -> None:
    anchor = demo.datasets[0].metadata_modified.date()
    for spec in SPECS[:: max(1, len(SPECS) // 8)]:
        first = spec.table(Ctx(rng=random.Random(f"{SEED}:{spec.name}"), anchor=anchor))
        again = spec.table(Ctx(rng=random.Random(f"{SEED}:{spec.name}"), anchor=anchor))
        assert first.rows == again.rows and 5 <= len(first.rows) <= 5000


def test_every_uploaded_file_is_downloadable(demo: Demo) -> None:
    app = create_app(demo.settings)
    admin = {"Authorization": demo.admin_token}
    with TestClient(app, base_url=demo.settings.site_url) as client:
        for d in demo.datasets:
            for x in d.distributions:
                if x.url_type != "upload":
                    assert x.url or x.access_url
                    continue
                path = urlsplit(x.url).path
                r = client.get(path, headers=admin)
                assert r.status_code == 200, (d.name, path)
                assert len(r.content) == x.byte_size and x.byte_size > 100
                assert x.checksum == "sha256:" + hashlib.sha256(r.content).hexdigest()
                anonymous = client.get(path)
                if not d.private and d.access_rights == "PUBLIC":
                    assert anonymous.status_code == 200
                else:
                    assert anonymous.status_code in (403, 404), (d.name, anonymous.status_code)
    app.state.engine.dispose()


@pytest.mark.postgres
def test_demo_builds_twice_on_postgres(tmp_path: Path, pg_schema: str) -> None:
    settings = Settings(
        environment="test", data_dir=tmp_path, database_url=f"{PG_URL}?options=-csearch_path%3D{pg_schema},public"
    )
    upgrade(settings)
    engine = make_engine(settings)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            first = build_demo(session=session, settings=settings, admin_password="demo password")
        with unit_of_work(make_sessionmaker(engine)) as session:
            second = build_demo(session=session, settings=settings)
    finally:
        engine.dispose()
    assert first.created["datasets"] == len(SPECS) and not second.changed
    assert second.existing["datasets"] == len(SPECS)


def test_demo_catalog_passes_dcat_ap_3_shacl_with_vocabularies(demo: Demo, tmp_path: Path) -> None:
    """Done-when of the portal issue: validate.py --with-vocabularies reports zero violations on /catalog.ttl."""
    import subprocess
    import sys

    from tests.conftest import SHARED

    with TestClient(create_app(demo.settings)) as client:
        response = client.get("/catalog.ttl")
    assert response.status_code == 200
    path = tmp_path / "catalog.ttl"
    path.write_bytes(response.content)
    run = subprocess.run(
        [sys.executable, str(SHARED / "dcat-ap" / "validate.py"), str(path), "--with-vocabularies"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Violations: 0" in run.stdout, run.stdout + run.stderr
    assert run.returncode == 0


def test_demo_has_register_entries_and_initiatives(demo: Demo) -> None:
    with TestClient(create_app(demo.settings)) as client:
        algorithms = client.get("/api/v1/algorithms").json()
        assert len(algorithms["results"] if isinstance(algorithms, dict) else algorithms) >= 3
        assert client.get("/initiatives.geojson").json()["features"]


def test_demo_log_has_member_reads_and_a_signed_tree_head(demo: Demo) -> None:
    from citycommons.ledger.verify import verify_url

    with TestClient(create_app(demo.settings), base_url="http://127.0.0.1:8000") as client:
        first = client.get("/api/v1/log/sths").json()["tree_heads"][0]
        assert first["tree_size"] > 0  # signed at the end of build_demo
        entries = client.get("/api/v1/log/entries", params={"limit": 1000}).json()["entries"]
        types = {e["type"] for e in entries}
        assert {
            "dataset.read",
            "dataset.access_rights_changed",
            "role.granted",
            "register.published",
            "moderation.decided",
        } <= types
        decisions = [e for e in entries if e["type"] == "moderation.decided"]
        assert sorted(e["details"]["decision"] for e in decisions) == ["approved"] * 9 + ["rejected"]
        assert all(len(e["subjects"]) == 1 and len(e["subjects"][0]) == 64 for e in decisions)  # the admin's pseudonym
        assert all(e["objects"][0].startswith("initiative:") for e in decisions)
        member_reads = [e for e in entries if e["type"] == "dataset.read" and e["subjects"]]
        assert {e["details"]["channel"] for e in member_reads} == {"page", "api", "download"}
        assert {e["details"]["access_rights"] for e in member_reads} >= {"RESTRICTED", "NON_PUBLIC"}
        result = verify_url("http://127.0.0.1:8000", client=client)
        assert result.ok, result.summary()
        assert result.tree_size >= first["tree_size"]


def test_a_second_run_changes_nothing(demo: Demo) -> None:
    """Idempotent on SQLite too: nothing is created, no decision is taken again, the log does not grow."""
    from sqlalchemy import func, select

    from citycommons.initiatives.models import Initiative
    from citycommons.ledger.models import LedgerEntry, LedgerTreeHead

    def state() -> tuple[int, list[tuple[str, str]], int]:
        with unit_of_work(demo.factory) as session:
            log = session.scalar(select(func.count()).select_from(LedgerEntry)) or 0
            heads = session.scalar(select(func.count()).select_from(LedgerTreeHead)) or 0
            rows = session.execute(select(Initiative.name, Initiative.status).order_by(Initiative.name)).all()
            return log, [(name, status) for name, status in rows], heads

    before = state()
    with unit_of_work(demo.factory) as session:
        again = build_demo(session=session, settings=demo.settings)
    assert not again.changed and again.existing["datasets"] == len(SPECS)
    assert state() == before


def test_demo_tables_load_and_answer_datastore_search(demo: Demo) -> None:
    from citycommons.cli.ingest import load_queued_tables
    from citycommons.datastore import status

    load_queued_tables(settings=demo.settings, factory=demo.factory)
    uploads = [d for ds in demo.datasets for d in ds.distributions if d.url_type == "upload"]
    with unit_of_work(demo.factory) as session:
        active = [d for d in uploads if status.is_active(session, d.id)]
    assert len(active) == len(uploads) == 101
    table = next(d for d in demo.dataset("biblioteques").distributions if d.format == "CSV")
    with TestClient(create_app(demo.settings), base_url="http://127.0.0.1:8000") as client:
        got = client.get("/api/3/action/datastore_search", params={"resource_id": table.id, "limit": 2}).json()
        assert got["success"] and got["result"]["total"] > 2 and len(got["result"]["records"]) == 2
