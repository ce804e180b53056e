"""What happens to a datastore table when its distribution or dataset goes: a distribution deleted for good (resource
delete, or dropped from a dataset update) loses its table and every file of it (local directory or S3 prefix);
a soft-deleted dataset hides its tables and gets them back when restored. Worker start sweeps what a killed ingest
left. A storage outage is a CKAN-shaped 503."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from citycommons.actor import SYSTEM
from citycommons.app import create_app
from citycommons.catalog import distributions
from citycommons.catalog.models import Distribution
from citycommons.catalog.schemas import DistributionCreate, Upload
from citycommons.datastore import jobs as datastore_jobs
from citycommons.datastore import versions
from citycommons.datastore.config import DatastoreConfig, from_settings
from citycommons.datastore.ingest import ingest_file
from citycommons.datastore.storage import S3Storage
from citycommons.jobs import service as jobs
from citycommons.jobs.backends.inprocess import InProcessBackend
from citycommons.jobs.models import Job
from tests import factories
from tests.factories import dataset_payload
from tests.jobs.helpers import SMALL_CSV, STATIONS, job_settings, wait_for_job


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    return job_settings(request, tmp_path)


def _upload(client: TestClient, h: dict[str, str], dataset: str = "air", content: bytes = SMALL_CSV) -> dict:
    r = client.post(f"/api/v1/datasets/{dataset}/distributions/upload",
                    files={"file": ("small.csv", content, "text/csv")}, headers=h)  # fmt: skip
    assert r.status_code == 201, r.text
    dist = r.json()
    assert wait_for_job(client, dist["ingest"]["id"], h)["status"] == "succeeded"
    return dist


def _drop_job(app: Any, distribution_id: str, timeout: float = 30) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        with app.state.sessionmaker() as session:
            job = jobs.latest_for_target(session=session, kind="datastore.drop", target=distribution_id)
            if job is not None and job.status not in ("queued", "running"):
                return job
        assert time.monotonic() < deadline, f"the drop job of {distribution_id} did not finish: {job}"
        time.sleep(0.05)


def _active(app: Any, distribution_id: str) -> bool:
    with app.state.sessionmaker() as session:
        dist = session.get(Distribution, distribution_id)
        assert dist is not None
        return dist.datastore_active


def test_deleting_a_resource_drops_its_table_and_files(app, client, world, settings):
    h = world.auth("editor")
    assert client.post("/api/v1/datasets", json=dataset_payload("air", distributions=[]), headers=h).status_code == 201
    dist = _upload(client, h)
    kept = _upload(client, h)
    config = from_settings(settings)
    ingest_file(config=config, table_id=dist["id"], source=STATIONS, filename="stations.csv")  # a second version
    assert versions.list_versions(config=config, table_id=dist["id"]) == [1, 2]
    assert client.get(f"/api/v1/datastore/{dist['id']}/rows").status_code == 200

    # an outsider and another organisation's member may not delete it; nothing is dropped
    for who in ("outsider", "member_b"):
        r = client.post("/api/3/action/resource_delete", json={"id": dist["id"]}, headers=world.auth(who))
        assert r.status_code == 403, r.text
    r = client.post("/api/3/action/resource_delete", json={"id": dist["id"]})
    assert r.status_code == 403
    assert versions.list_versions(config=config, table_id=dist["id"]) == [1, 2]

    r = client.post("/api/3/action/resource_delete", json={"id": dist["id"]}, headers=h)
    assert r.status_code == 200, r.text
    assert client.get(f"/api/v1/datastore/{dist['id']}/rows").status_code == 404
    ckan = client.get("/api/3/action/datastore_search", params={"resource_id": dist["id"]})
    assert ckan.status_code == 404 and ckan.json()["error"]["__type"] == "Not Found Error"
    sql = client.get("/api/v1/sql", params={"sql": f'SELECT count(*) FROM "{dist["id"]}"'})
    assert sql.status_code == 422 and "unknown table" in sql.json()["error"]["message"]
    job = _drop_job(app, dist["id"])
    assert job.status == "succeeded" and job.result == {"removed_versions": 2}, job.message
    assert not (config.root / dist["id"]).exists() and _active(app, dist["id"]) is False
    assert versions.list_versions(config=config, table_id=dist["id"]) == []
    assert not any(p.name.startswith(".dropped-") for p in config.root.iterdir())
    # the other table of the dataset is untouched
    assert versions.list_versions(config=config, table_id=kept["id"]) == [1] and _active(app, kept["id"])
    assert client.get(f"/api/v1/datastore/{kept['id']}/rows").status_code == 200


def test_a_resource_left_out_of_a_dataset_update_is_dropped(app, client, world, settings):
    h = world.auth("editor")
    assert client.post("/api/v1/datasets", json=dataset_payload("air", distributions=[]), headers=h).status_code == 201
    gone, kept = _upload(client, h), _upload(client, h)
    shown = client.get("/api/3/action/package_show", params={"id": "air"}).json()["result"]
    resources = [r for r in shown["resources"] if r["id"] == kept["id"]]
    r = client.post("/api/3/action/package_update", json={**shown, "resources": resources}, headers=h)
    assert r.status_code == 200, r.text
    assert _drop_job(app, gone["id"]).status == "succeeded"
    config = from_settings(settings)
    assert not (config.root / gone["id"]).exists() and (config.root / kept["id"]).is_dir()
    assert client.get(f"/api/v1/datastore/{gone['id']}/rows").status_code == 404
    assert client.get(f"/api/v1/datastore/{kept['id']}/rows").status_code == 200


def test_a_deleted_dataset_hides_its_tables_and_restoring_it_brings_them_back(app, client, world, settings):
    h = world.auth("editor")
    assert client.post("/api/v1/datasets", json=dataset_payload("air", distributions=[]), headers=h).status_code == 201
    dist = _upload(client, h)
    config = from_settings(settings)
    assert client.delete("/api/v1/datasets/air", headers=h).status_code == 204
    for path in (f"/api/v1/datastore/{dist['id']}", f"/api/v1/datastore/{dist['id']}/rows"):
        assert client.get(path).status_code == 404 and client.get(path, headers=h).status_code == 404
    assert client.get("/api/3/action/datastore_search", params={"resource_id": dist["id"]}).status_code == 404
    with app.state.sessionmaker() as session:
        assert jobs.latest_for_target(session=session, kind="datastore.drop", target=dist["id"]) is None
    assert versions.list_versions(config=config, table_id=dist["id"]) == [1]  # kept: the dataset can come back

    assert client.post("/api/v1/datasets/air/restore", headers=h).status_code == 200
    rows = client.get(f"/api/v1/datastore/{dist['id']}/rows", params={"include_total": "true"})
    assert rows.status_code == 200 and rows.json()["total"] == 3
    assert client.get(f"/api/v1/distributions/{dist['id']}").json()["datastore_active"] is True


def test_an_ingest_that_ends_after_its_resource_was_deleted_is_dropped_too(
    uow, sessionmaker, settings, tmp_path, monkeypatch
):
    with uow() as session:
        factories.make_org(session, "environment")
        factories.make_dataset(session, "air", distributions=[])
    spool = tmp_path / "spool.csv"
    spool.write_bytes(SMALL_CSV)
    with uow() as session:
        dist = distributions.create(session=session, actor=SYSTEM, settings=settings, dataset="air",
                                    data=DistributionCreate(), upload=Upload(filename="d.csv", path=str(spool)))  # fmt: skip
    real_ingest = datastore_jobs.ingest_file
    dropped_first: list[str] = []

    def deleted_meanwhile(**kwargs: Any) -> Any:
        """The resource is deleted, and its drop job runs, while the ingest reads the file."""
        with uow() as session:
            distributions.delete(session=session, actor=SYSTEM, distribution_id=dist.id)
        with sessionmaker() as session:
            drop = jobs.latest_for_target(session=session, kind="datastore.drop", target=dist.id)
            assert drop is not None
        done = jobs.execute(settings=settings, factory=sessionmaker, job_id=drop.id)
        assert done is not None and done.status == "succeeded"
        dropped_first.append(drop.id)
        return real_ingest(**kwargs)

    monkeypatch.setattr(datastore_jobs, "ingest_file", deleted_meanwhile)
    backend = InProcessBackend(settings=settings, factory=sessionmaker)
    assert backend.drain() == 2  # the ingest (it publishes v1, then sees the deletion) and a second drop
    config = from_settings(settings)
    assert dropped_first and versions.list_versions(config=config, table_id=dist.id) == []
    assert not (config.root / dist.id).exists()
    with sessionmaker() as session:
        row = session.get(Distribution, dist.id)
        assert row is not None and row.state == "deleted" and row.datastore_active is False
        drops = jobs.list_for_target(session=session, kind="datastore.drop", target=dist.id)
        assert [j.status for j in drops] == ["succeeded", "succeeded"]
        assert drops[0].result == {"removed_versions": 1}


# -- worker start sweeps what a killed ingest left ---------------------------------------------------------------


def _stale_staging(config: DatastoreConfig, table_id: str) -> tuple[Path, Path]:
    """A staging directory two days old and one a minute old (an ingest running now)."""
    old = versions.new_staging(config=config, table_id=table_id)
    (old / "data.parquet").write_bytes(b"half written")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    fresh = versions.new_staging(config=config, table_id=table_id)
    return old, fresh


def test_worker_start_removes_stale_staging_directories(sessionmaker, settings, uow):
    config = from_settings(settings)
    ingest_file(config=config, table_id="kept-table", source=STATIONS, filename="stations.csv")
    old, fresh = _stale_staging(config, "kept-table")
    orphan_old, _ = _stale_staging(config, "never-published")
    backend = InProcessBackend(settings=settings, factory=sessionmaker)
    backend.drain()  # `citycommons worker --burst`
    assert not old.exists() and not orphan_old.exists() and fresh.is_dir()
    assert versions.list_versions(config=config, table_id="kept-table") == [1]

    again, _ = _stale_staging(config, "kept-table")
    backend.start()  # the app's in-process workers (and `citycommons worker`)
    try:
        deadline = time.monotonic() + 10
        while again.exists():
            assert time.monotonic() < deadline, "the worker did not sweep the stale staging directory"
            time.sleep(0.05)
    finally:
        backend.stop()
    assert fresh.is_dir()


# -- object storage ----------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_dropping_a_table_on_s3_removes_its_prefix_and_cache(tmp_path):
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        creds = {"aws_access_key_id": "k", "aws_secret_access_key": "s"}
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **creds)
        s3.create_bucket(Bucket="cc-drop")
        storage = S3Storage(root=tmp_path / "cache", bucket="cc-drop", endpoint_url=endpoint, region="us-east-1",
                            access_key_id="k", secret_access_key="s")  # fmt: skip
        config = DatastoreConfig(root=storage.root, storage=storage, memory_limit="256MB", threads=1)
        for table in ("gone", "kept"):
            ingest_file(config=config, table_id=table, source=STATIONS, filename="stations.csv")
        ingest_file(config=config, table_id="gone", source=STATIONS, filename="stations.csv")
        versions.write_override(config=config, table_id="gone", data={"fields": {}})
        versions.data_path(config=config, table_id="gone")  # cached locally
        assert versions.drop_table(config=config, table_id="gone") == 2
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="cc-drop").get("Contents", [])]
        assert keys and all(k.startswith("datastore/kept/") for k in keys), keys
        assert not (config.root / "gone").exists()
        assert versions.list_versions(config=config, table_id="gone") == []
        assert versions.list_versions(config=config, table_id="kept") == [1]
        assert versions.drop_table(config=config, table_id="gone") == 0  # idempotent
    finally:
        server.stop()


def test_a_storage_outage_is_a_ckan_503(tmp_path, uow, world):  # type: ignore[no-untyped-def]
    """CKAN clients get CKAN's error envelope with 503 (retry later), not a generic 500."""
    from tests.conftest import _settings

    settings = _settings(tmp_path, datastore_storage="s3", s3_bucket="cc-down", s3_access_key_id="k",
                         s3_secret_access_key="secret-value", s3_endpoint_url=f"http://127.0.0.1:{_free_port()}")  # fmt: skip
    from citycommons.db.migrate import upgrade

    upgrade(settings)
    app = create_app(settings)
    try:
        with app.state.sessionmaker() as session:
            factories.make_org(session, "env-down")
            payload = {"title": {"en": "x"}, "url": "https://example.org/x.csv", "format": "CSV"}
            read = factories.make_dataset(session, "down", organization="env-down", distributions=[payload])
            session.commit()
        rid = read.distributions[0].id
        with TestClient(app, base_url="http://127.0.0.1:8000") as c:
            r = c.get("/api/3/action/datastore_search", params={"resource_id": rid})
            assert r.status_code == 503, r.text
            body = r.json()
            assert body["success"] is False and body["help"].endswith("help_show?name=datastore_search")
            assert body["error"]["__type"] == "Service Unavailable"
            assert body["error"]["message"].startswith("Service unavailable: the datastore's storage is unavailable")
            assert "secret-value" not in r.text and "Traceback" not in r.text
            sql = c.get("/api/3/action/datastore_search_sql", params={"sql": f'SELECT * FROM "{rid}"'})
            assert sql.status_code == 503 and sql.json()["error"]["__type"] == "Service Unavailable"
    finally:
        app.state.engine.dispose()
