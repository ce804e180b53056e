"""The Redis backend against the real Redis on 127.0.0.1:6379: an upload through the API is queued in Redis,
``citycommons worker --burst`` runs it in a forked work horse, the table becomes queryable. One queue per test."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from typer.testing import CliRunner

from citycommons.cli.main import app as cli_app
from citycommons.datastore.config import from_settings
from citycommons.datastore.query import search
from citycommons.jobs import service
from citycommons.jobs.backends.redis import RedisBackend
from tests.factories import dataset_payload
from tests.jobs.helpers import STATIONS, job_settings

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def queue_name() -> str:
    return f"citycommons-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    return job_settings(request, tmp_path, jobs_backend="redis", redis_url=REDIS_URL)


@pytest.fixture
def redis_queue(app, settings, queue_name):  # type: ignore[no-untyped-def]
    connection = Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except Exception as exc:  # pragma: no cover - CI starts Redis
        pytest.fail(f"Redis on 127.0.0.1:6379 is needed: {exc}")
    backend = RedisBackend(settings=settings, queue_name=queue_name)
    service.bind(app.state.sessionmaker, backend)
    app.state.jobs = backend
    queue = Queue(queue_name, connection=connection)
    yield queue
    queue.delete(delete_jobs=True)
    for key in connection.scan_iter(f"rq:*{queue_name}*"):
        connection.delete(key)
    backend.stop()
    connection.close()


def _worker(settings, queue_name: str) -> None:  # type: ignore[no-untyped-def]
    env = {
        "CITYCOMMONS_DATA_DIR": str(settings.data_dir),
        "CITYCOMMONS_DATABASE_URL": settings.database_url or "",
        "CITYCOMMONS_ENVIRONMENT": "test",
        "CITYCOMMONS_JOBS_BACKEND": "redis",
        "CITYCOMMONS_REDIS_URL": REDIS_URL,
        "CITYCOMMONS_DATASTORE_MEMORY_LIMIT": "256MB",
        "CITYCOMMONS_DATASTORE_THREADS": "1",
    }
    result = CliRunner().invoke(cli_app, ["worker", "--queue", queue_name, "--burst"], env=env)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)


def test_upload_is_queued_in_redis_and_run_by_the_worker(client, world, settings, redis_queue, engine_kind):
    assert isinstance(client.app.state.jobs, RedisBackend)
    h = world.auth("editor")
    assert client.post("/api/v1/datasets", json=dataset_payload("air", distributions=[]), headers=h).is_success
    r = client.post(
        "/api/v1/datasets/air/distributions/upload",
        files={"file": ("stations.csv", STATIONS.read_bytes(), "text/csv")},
        headers=h,
    )
    assert r.status_code == 201, r.text
    dist = r.json()
    job_id = dist["ingest"]["id"]
    assert redis_queue.job_ids == [f"citycommons-{job_id}"]  # dispatched after the request committed
    assert client.get(f"/api/v1/jobs/{job_id}", headers=h).json()["status"] == "queued"

    _worker(settings, redis_queue.name)

    job = client.get(f"/api/v1/jobs/{job_id}", headers=h).json()
    assert job["status"] == "succeeded", job
    assert job["result"]["rows"] == 55 and job["version"] == 1
    assert client.get(f"/api/v1/distributions/{dist['id']}").json()["datastore_active"] is True
    assert redis_queue.job_ids == []
    rows = search(config=from_settings(settings), table_id=dist["id"], fields="Estacio", limit=2).records
    assert rows == [{"Estacio": 4}, {"Estacio": 4}]

    _worker(settings, redis_queue.name)  # a message delivered twice does nothing the second time
    assert client.get(f"/api/v1/jobs/{job_id}", headers=h).json()["version"] == 1


def test_the_worker_resends_jobs_left_queued_in_the_database(client, world, settings, redis_queue):
    h = world.auth("editor")
    assert client.post("/api/v1/datasets", json=dataset_payload("air", distributions=[]), headers=h).is_success
    dist = client.post(
        "/api/v1/datasets/air/distributions/upload", files={"file": ("s.csv", STATIONS.read_bytes())}, headers=h
    ).json()
    redis_queue.empty()  # as if Redis had been down when the request committed
    _worker(settings, redis_queue.name)
    job = client.get(f"/api/v1/jobs/{dist['ingest']['id']}", headers=h).json()
    assert job["status"] == "succeeded", job
