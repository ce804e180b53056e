"""``citycommons ingest`` (foreground ingest with progress) and ``citycommons worker --burst`` (in-process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from citycommons.actor import SYSTEM
from citycommons.catalog import distributions
from citycommons.catalog.schemas import DistributionCreate, Upload
from citycommons.cli.main import app
from citycommons.datastore.config import from_settings
from citycommons.datastore.versions import list_versions
from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from citycommons.jobs.models import Job
from citycommons.settings import Settings
from tests import factories
from tests.jobs.helpers import SMALL_CSV, STATIONS, TREES


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "CITYCOMMONS_DATA_DIR": str(tmp_path / "var"),
        "CITYCOMMONS_DATABASE_URL": "",
        "CITYCOMMONS_ENVIRONMENT": "test",
        "CITYCOMMONS_DATASTORE_MEMORY_LIMIT": "256MB",
        "CITYCOMMONS_DATASTORE_THREADS": "1",
    }


@pytest.fixture
def cli_settings(env: dict[str, str]) -> Settings:
    settings = Settings(environment="test", data_dir=Path(env["CITYCOMMONS_DATA_DIR"]), datastore_threads=1)
    result = CliRunner().invoke(app, ["init"], env=env)
    assert result.exit_code == 0, result.stdout
    engine = make_engine(settings)
    with unit_of_work(make_sessionmaker(engine)) as session:
        factories.make_org(session, "environment")
        factories.make_dataset(session, "air", distributions=[])
    engine.dispose()
    return settings


def _run(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env=env)


def test_ingest_creates_then_replaces_a_distribution(env, cli_settings):
    result = _run(env, "ingest", str(STATIONS), "--dataset", "air", "--title", "Estacions")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    out = result.stdout
    assert "Rows: 55" in out and "Columns: 15" in out and "Quarantined rows: 0" in out and "Version: 1" in out
    assert "Estacio\tinteger" in out and "Longitud\tnumber" in out
    dist_id = out.split("Created distribution ", 1)[1].split()[0]

    replaced = _run(env, "ingest", str(TREES), "--dataset", "air", "--resource", dist_id)
    assert replaced.exit_code == 0, (replaced.stdout, replaced.stderr)
    assert "Rows: 260" in replaced.stdout and "Version: 2" in replaced.stdout

    bad = Path(env["CITYCOMMONS_DATA_DIR"]).parent / "empty-header.csv"
    bad.write_bytes(b"a,b,c\n")
    failed = _run(env, "ingest", str(bad), "--dataset", "air", "--resource", dist_id)
    assert failed.exit_code == 1
    assert "Ingest failed" in failed.stderr and "file:" in failed.stderr, failed.stderr
    config = from_settings(cli_settings)
    assert list_versions(config=config, table_id=dist_id) == [1, 2]  # the previous version stays


def test_ingest_refuses_what_it_cannot_ingest(env, cli_settings, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    result = _run(env, "ingest", str(pdf), "--dataset", "air")
    assert result.exit_code == 1 and "not a format the datastore ingests" in result.stderr
    data = tmp_path / "d.csv"
    data.write_bytes(SMALL_CSV)
    assert "Dataset not found" in _run(env, "ingest", str(data), "--dataset", "nope").stderr
    assert _run(env, "ingest", str(data), "--dataset", "air", "--resource", "nope").exit_code == 1


def test_worker_burst_runs_the_queued_jobs(env, cli_settings, tmp_path):
    spool = tmp_path / "spool.csv"
    spool.write_bytes(SMALL_CSV)
    engine = make_engine(cli_settings)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as session:  # e.g. `citycommons demo`: nothing runs the job yet
        dist = distributions.create(session=session, actor=SYSTEM, settings=cli_settings, dataset="air",
                                    data=DistributionCreate(), upload=Upload(filename="d.csv", path=str(spool)))  # fmt: skip
    result = _run(env, "worker", "--burst")
    assert result.exit_code == 0 and "Ran 1 queued jobs" in result.stdout, result.stdout
    with factory() as session:
        job = session.get(Job, dist.ingest.id if dist.ingest else "")
        assert job is not None and job.status == "succeeded"
    engine.dispose()
