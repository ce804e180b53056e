"""S3 storage against a real S3-speaking HTTP server on 127.0.0.1 (moto's standalone server, see docs/scaling.md).

Versions are published to the bucket (files, then the commit manifest), read back by a second "worker" with an
empty cache, numbered without collisions by concurrent publishers, and a failure leaves nothing visible.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from citycommons.app import create_app
from citycommons.datastore import DatastoreConfig, ingest_file, overrides, versions
from citycommons.datastore.config import from_settings
from citycommons.datastore.facade import close_read_pools
from citycommons.datastore.query import search
from citycommons.datastore.schemas import FieldOverride, SchemaOverride
from citycommons.datastore.sql import resolver_for, run_sql
from citycommons.datastore.storage import S3Storage
from citycommons.db.migrate import upgrade
from citycommons.errors import CityCommonsError, Conflict, Invalid, NotFound, Unavailable
from citycommons.settings import Settings
from tests import factories
from tests.conftest import _settings
from tests.datastore.conftest import DATA, listing

STATIONS = "bcn-air-stations"
TREES = "madrid-arbolado-distritos-2024"
DISTRICTES = "bcn-districtes"
KEY, SECRET = "cc-access-key", "cc-s3cr3t-value"  # moto accepts any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(endpoint: str, request: pytest.FixtureRequest) -> str:
    """A new, empty bucket per test."""
    name = "cc-" + request.node.name.replace("_", "-").lower()[:40].strip("-")
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY, aws_secret_access_key=SECRET
    )
    client.create_bucket(Bucket=name)
    return name


def worker(tmp_path: Path, endpoint: str, bucket: str, name: str, **storage: Any) -> DatastoreConfig:
    """The datastore config of one API/ingest worker: its own local cache, the shared bucket."""
    root = tmp_path / name
    s3 = S3Storage(root=root, bucket=bucket, prefix="datastore", endpoint_url=endpoint, region="us-east-1",
                   access_key_id=KEY, secret_access_key=SECRET, **storage)  # fmt: skip
    return DatastoreConfig(root=root, storage=s3, memory_limit="256MB", threads=1)


def keys(endpoint: str, bucket: str) -> list[str]:
    client = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY, aws_secret_access_key=SECRET
    )
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def stage(config: DatastoreConfig, table_id: str, tag: str) -> Path:
    """A staging directory as ingest leaves it: the three files of a version."""
    staging = versions.new_staging(config=config, table_id=table_id)
    (staging / versions.DATA_FILE).write_bytes(b"PAR1" + tag.encode() + b"PAR1")
    (staging / versions.SCHEMA_FILE).write_text('{"fields": []}', encoding="utf-8")
    (staging / versions.REPORT_FILE).write_text(json.dumps({"tag": tag}), encoding="utf-8")
    return staging


def test_settings_select_s3_storage(tmp_path: Path, endpoint: str, bucket: str) -> None:
    settings = Settings(
        data_dir=tmp_path, datastore_storage="s3", s3_endpoint_url=endpoint, s3_bucket=bucket, s3_prefix="city/ds",
        s3_access_key_id=KEY, s3_secret_access_key=SECRET, datastore_cache_max_bytes=1234,
    )  # fmt: skip
    config = from_settings(settings)
    assert isinstance(config.storage, S3Storage)
    assert config.root == config.storage.root == tmp_path / "datastore"
    assert (config.storage.bucket, config.storage.prefix, config.storage.cache_max_bytes) == (bucket, "city/ds", 1234)
    assert config == from_settings(settings)  # equal configs share read pools and the storage's caches
    assert SECRET not in repr(config.storage)  # the secret stays out of logs
    local = from_settings(Settings(data_dir=tmp_path))
    assert type(local.storage).__name__ == "LocalStorage" and local.root == tmp_path / "datastore"


def test_ingest_publishes_to_the_bucket_and_queries_read_the_cache(tmp_path: Path, endpoint: str, bucket: str) -> None:
    config = worker(tmp_path, endpoint, bucket, "api-1")
    result = ingest_file(config=config, table_id=STATIONS, source=DATA / "bcn-air-stations.csv",
                         filename="bcn-air-stations.csv")  # fmt: skip
    assert result.version == 1 and result.report.rows == 55
    assert keys(endpoint, bucket) == [
        f"datastore/{STATIONS}/v1.json",
        f"datastore/{STATIONS}/v1.lock",
        f"datastore/{STATIONS}/v1/data.parquet",
        f"datastore/{STATIONS}/v1/report.json",
        f"datastore/{STATIONS}/v1/schema.json",
    ]
    manifest = json.loads(config.storage._fs().cat_file(f"{bucket}/datastore/{STATIONS}/v1.json"))  # type: ignore[union-attr]
    assert manifest["version"] == 1 and set(manifest["files"]) == {"data.parquet", "schema.json", "report.json"}
    assert manifest["files"]["data.parquet"]["size"] == result.path.stat().st_size
    # the publishing worker keeps its staging directory as the cached copy: nothing else is left locally
    assert result.path == config.root / STATIONS / "v1" / "data.parquet"
    assert [p for p in listing(config.root) if "/." not in p] == [
        STATIONS, f"{STATIONS}/v1", f"{STATIONS}/v1/data.parquet", f"{STATIONS}/v1/report.json",
        f"{STATIONS}/v1/schema.json",
    ]  # fmt: skip

    page = search(config=config, table_id=STATIONS, filters={"Estacio": 4}, sort="Codi_Contaminant",
                  include_total=True, limit=3)  # fmt: skip
    assert page.version == 1 and page.total is not None and page.total > 0 and len(page.records) <= 3
    assert {r["Estacio"] for r in page.records} == {4}
    sql = run_sql(config=config, sql=f'SELECT count(DISTINCT Estacio) AS n FROM "{STATIONS}"',
                  resolver=resolver_for(config=config, readable={STATIONS: None}))  # fmt: skip
    assert sql.records == [{"n": 8}]
    close_read_pools(config)


def test_a_second_worker_with_an_empty_cache_sees_and_reads_the_same_versions(
    tmp_path: Path, endpoint: str, bucket: str
) -> None:
    one = worker(tmp_path, endpoint, bucket, "ingest-worker")
    ingest_file(config=one, table_id=TREES, source=DATA / "madrid-arbolado-distritos-2024.csv",
                filename="madrid-arbolado-distritos-2024.csv")  # fmt: skip
    ingest_file(config=one, table_id=DISTRICTES, source=DATA / "bcn-districtes.geojson",
                filename="bcn-districtes.geojson")  # fmt: skip
    two = worker(tmp_path, endpoint, bucket, "api-2", listing_ttl_seconds=0)
    assert listing(two.root) == []
    assert versions.list_versions(config=two, table_id=TREES) == [1]
    assert versions.read_schema(config=two, table_id=TREES) == versions.read_schema(config=one, table_id=TREES)
    assert versions.read_report(config=two, table_id=TREES).rows == 260
    first = search(config=two, table_id=TREES, include_total=True, limit=5)
    assert first.total == 260 and len(first.records) == 5
    cached = two.root / TREES / "v1" / "data.parquet"
    assert cached.read_bytes() == (one.root / TREES / "v1" / "data.parquet").read_bytes()
    # SQL over a table never read before on this worker: downloaded on resolve, geometry typed from its schema
    result = run_sql(config=two, sql=f'SELECT NOM, geometry FROM "{DISTRICTES}" ORDER BY NOM LIMIT 1',
                     resolver=resolver_for(config=two, readable={DISTRICTES: None}))  # fmt: skip
    assert [(f.name, f.type) for f in result.fields] == [("NOM", "string"), ("geometry", "geojson")]
    assert result.records[0]["NOM"] == "Ciutat Vella"

    # a new version from the ingest worker is visible to the API worker at once (its listing TTL is 0)
    ingest_file(config=one, table_id=TREES, source=DATA / "madrid-arbolado-distritos-2024.csv",
                filename="madrid-arbolado-distritos-2024.csv")  # fmt: skip
    assert versions.latest_version(config=two, table_id=TREES) == 2
    assert search(config=two, table_id=TREES, limit=1).version == 2
    assert search(config=two, table_id=TREES, version=1, limit=1).version == 1
    with pytest.raises(NotFound):
        versions.data_path(config=two, table_id=TREES, version=3)
    # a damaged cached file (wrong size) is fetched again, never served
    cached.write_bytes(b"garbage")
    assert versions.data_path(config=two, table_id=TREES, version=1).read_bytes()[:4] == b"PAR1"
    close_read_pools(one)
    close_read_pools(two)


def test_overrides_are_stored_in_the_bucket(tmp_path: Path, endpoint: str, bucket: str) -> None:
    one = worker(tmp_path, endpoint, bucket, "editor-worker")
    ingest_file(config=one, table_id=STATIONS, source=DATA / "bcn-air-stations.csv", filename="bcn-air-stations.csv")
    override = SchemaOverride(fields={"Estacio": FieldOverride(title="Station", type="string")})
    overrides.apply_schema_override(config=one, table_id=STATIONS, override=override)
    assert f"datastore/{STATIONS}/override.json" in keys(endpoint, bucket)
    assert not (one.root / STATIONS / "override.json").exists()
    two = worker(tmp_path, endpoint, bucket, "ingest-worker-2")
    assert overrides.load_override(config=two, table_id=STATIONS) == override
    again = ingest_file(config=two, table_id=STATIONS, source=DATA / "bcn-air-stations.csv",
                        filename="bcn-air-stations.csv")  # fmt: skip
    assert again.version == 2 and again.report.override_applied
    assert {f.name: f.type for f in again.table_schema.fields}["Estacio"] == "string"
    assert overrides.load_override(config=two, table_id="no-such-table") is None


def test_a_failed_ingest_leaves_nothing_in_the_bucket(tmp_path: Path, endpoint: str, bucket: str) -> None:
    config = worker(tmp_path, endpoint, bucket, "api-1")
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(Invalid):
        ingest_file(config=config, table_id=STATIONS, source=empty, filename="empty.csv")
    assert keys(endpoint, bucket) == []
    assert listing(config.root) == []


def test_a_failed_upload_leaves_no_version_and_the_previous_one_served(
    tmp_path: Path, endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = worker(tmp_path, endpoint, bucket, "api-1")
    ingest_file(config=config, table_id=STATIONS, source=DATA / "bcn-air-stations.csv", filename="bcn-air-stations.csv")
    before = keys(endpoint, bucket)
    fs = config.storage._fs()  # type: ignore[union-attr]
    real_put = fs.put_file

    def flaky_put(lpath: str, rpath: str, **kw: Any) -> Any:
        if rpath.endswith("report.json"):  # data.parquet and schema.json are up: the connection drops
            raise ConnectionResetError(104, "Connection reset by peer")
        return real_put(lpath, rpath, **kw)

    monkeypatch.setattr(fs, "put_file", flaky_put)
    with pytest.raises(Unavailable) as caught:
        ingest_file(config=config, table_id=STATIONS, source=DATA / "bcn-air-stations.csv",
                    filename="bcn-air-stations.csv")  # fmt: skip
    assert caught.value.status == 503 and "upload report.json" in caught.value.message
    assert keys(endpoint, bucket) == before  # the partial v2 and its claim are gone
    assert versions.list_versions(config=config, table_id=STATIONS) == [1]
    assert not [p for p in listing(config.root) if ".staging-" in p]
    monkeypatch.setattr(fs, "put_file", real_put)
    retry = ingest_file(config=config, table_id=STATIONS, source=DATA / "bcn-air-stations.csv",
                        filename="bcn-air-stations.csv")  # fmt: skip
    assert retry.version == 2


def test_concurrent_publishers_get_distinct_numbers(
    tmp_path: Path, endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four workers (own caches, own connections) publish three versions each at the same moment; the server's
    conditional create (If-None-Match: *) turns the losers of each race to the next number."""
    collisions: list[str] = []
    real_claim = S3Storage._claim

    def counting_claim(self: S3Storage, table_id: str, upload: str) -> int | None:
        number = real_claim(self, table_id, upload)
        if number is None:
            collisions.append(upload)
        return number

    monkeypatch.setattr(S3Storage, "_claim", counting_claim)
    workers = [worker(tmp_path, endpoint, bucket, f"w{i}") for i in range(4)]
    start = threading.Barrier(len(workers))
    published: dict[int, str] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(config: DatastoreConfig, name: str) -> None:
        try:
            start.wait()
            for round_ in range(3):
                tag = f"{name}-{round_}"
                number = versions.publish(config=config, table_id=STATIONS, staging=stage(config, STATIONS, tag))
                with lock:
                    assert number not in published
                    published[number] = tag
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c, c.root.name)) for c in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(published) == list(range(1, 13))
    reader = worker(tmp_path, endpoint, bucket, "reader")
    assert versions.list_versions(config=reader, table_id=STATIONS) == list(range(1, 13))
    for number, tag in published.items():  # every version holds what its publisher uploaded, nothing mixed
        data = versions.data_path(config=reader, table_id=STATIONS, version=number).read_bytes()
        assert data == b"PAR1" + tag.encode() + b"PAR1"
        report = reader.storage.version_file(STATIONS, number, versions.REPORT_FILE)  # type: ignore[union-attr]
        assert json.loads(report.read_text(encoding="utf-8")) == {"tag": tag}
    assert collisions, "the publishers never raced for a number: the test proved nothing"


def test_a_claimed_number_is_skipped_and_stale_claims_are_swept(tmp_path: Path, endpoint: str, bucket: str) -> None:
    config = worker(tmp_path, endpoint, bucket, "api-1")
    fs = config.storage._fs()  # type: ignore[union-attr]
    # a publisher that died after claiming v1 and uploading half of it
    fs.pipe_file(f"{bucket}/datastore/{STATIONS}/v1.lock", b'{"upload": "dead"}')
    fs.pipe_file(f"{bucket}/datastore/{STATIONS}/v1/data.parquet", b"half")
    assert versions.list_versions(config=config, table_id=STATIONS) == []  # no manifest: not a version
    number = versions.publish(config=config, table_id=STATIONS, staging=stage(config, STATIONS, "live"))
    assert number == 2
    assert versions.list_versions(config=config, table_id=STATIONS) == [2]
    assert versions.remove_stale_staging(config=config, table_id=STATIONS, older_than_seconds=-1) == 2
    assert keys(endpoint, bucket) == [f"datastore/{STATIONS}/v2.json", f"datastore/{STATIONS}/v2.lock",
                                      f"datastore/{STATIONS}/v2/data.parquet", f"datastore/{STATIONS}/v2/report.json",
                                      f"datastore/{STATIONS}/v2/schema.json"]  # fmt: skip


def test_the_cache_is_bounded_least_recently_used_first(tmp_path: Path, endpoint: str, bucket: str) -> None:
    one = worker(tmp_path, endpoint, bucket, "publisher", cache_max_bytes=0)
    for tag in ("a" * 100, "b" * 100, "c" * 100):
        versions.publish(config=one, table_id=STATIONS, staging=stage(one, STATIONS, tag))
    two = worker(tmp_path, endpoint, bucket, "small-cache", cache_max_bytes=250, evict_grace_seconds=0)
    paths = [versions.data_path(config=two, table_id=STATIONS, version=n) for n in (1, 2)]
    os.utime(paths[0], (1_000_000, 1_000_000))  # v1 is the least recently used
    os.utime(paths[1], (2_000_000, 2_000_000))
    third = versions.data_path(config=two, table_id=STATIONS, version=3)
    assert third.is_file() and paths[1].is_file() and not paths[0].exists()
    assert (paths[0].parent / "schema.json").is_file()  # small JSON stays
    assert versions.data_path(config=two, table_id=STATIONS, version=1).read_bytes() == b"PAR1" + b"a" * 100 + b"PAR1"


def test_storage_outages_are_503_not_stack_traces(tmp_path: Path, endpoint: str, bucket: str) -> None:
    down = S3Storage(root=tmp_path / "down", bucket=bucket, endpoint_url=f"http://127.0.0.1:{_free_port()}",
                     region="us-east-1", access_key_id=KEY, secret_access_key=SECRET, retries=1,
                     connect_timeout_seconds=1)  # fmt: skip
    config = DatastoreConfig(root=down.root, storage=down, memory_limit="256MB", threads=1)
    for call in (
        lambda: versions.list_versions(config=config, table_id=STATIONS),
        lambda: versions.data_path(config=config, table_id=STATIONS, version=1),
        lambda: overrides.load_override(config=config, table_id=STATIONS),
        lambda: ingest_file(
            config=config, table_id=STATIONS, source=DATA / "bcn-air-stations.csv", filename="bcn-air-stations.csv"
        ),  # fmt: skip
    ):
        with pytest.raises(Unavailable) as caught:
            call()
        assert isinstance(caught.value, CityCommonsError) and caught.value.status == 503
        assert caught.value.body()["error"]["code"] == "unavailable"
        assert SECRET not in caught.value.message and KEY not in caught.value.message
    assert listing(config.root) == []  # the failed ingest cleaned its staging directory

    missing = worker(tmp_path, endpoint, "no-such-bucket", "misconfigured")
    with pytest.raises(Unavailable, match="could not find its bucket 'no-such-bucket'"):
        versions.list_versions(config=missing, table_id=STATIONS)


# -- through HTTP: an app configured for s3 ----------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path, endpoint: str) -> Settings:
    """The app's settings (tests/conftest's ``settings``, overridden here): datastore on S3."""
    s3 = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY, aws_secret_access_key=SECRET
    )
    s3.create_bucket(Bucket="cc-http")
    settings = _settings(
        tmp_path, datastore_storage="s3", s3_endpoint_url=endpoint, s3_bucket="cc-http", s3_access_key_id=KEY,
        s3_secret_access_key=SECRET,
    )  # fmt: skip
    upgrade(settings)
    return settings


def test_http_reads_over_s3_and_a_storage_outage_is_a_503(
    settings: Settings, uow: Any, world: factories.World, client: TestClient
) -> None:
    with uow() as session:
        payload = {"title": {"en": "stations"}, "url": "https://example.org/stations.csv", "format": "CSV"}
        table_id = factories.make_dataset(session, "stations", distributions=[payload]).distributions[0].id
    name = "bcn-air-stations.csv"
    ingest_file(config=from_settings(settings), table_id=table_id, source=DATA / name, filename=name)
    rows = client.get(f"/api/v1/datastore/{table_id}/rows", params={"limit": 2, "include_total": "true"})
    assert rows.status_code == 200, rows.text
    assert rows.json()["total"] == 55 and len(rows.json()["records"]) == 2
    sql = client.get("/api/v1/sql", params={"sql": f'SELECT count(*) AS n FROM "{table_id}"'})
    assert sql.status_code == 200 and sql.json()["records"] == [{"n": 55}]
    ckan = client.get("/api/3/action/datastore_search", params={"resource_id": table_id, "limit": 1})
    assert ckan.status_code == 200 and ckan.json()["result"]["records"]

    # the same deployment with its object storage down: a clear 503, no stack trace, no endpoint or keys
    down = settings.model_copy(update={"s3_endpoint_url": f"http://127.0.0.1:{_free_port()}"})
    app = create_app(down)
    try:
        with TestClient(app, base_url="http://127.0.0.1:8000") as c:
            r = c.get(f"/api/v1/datastore/{table_id}/rows", params={"limit": 2})
            assert r.status_code == 503
            error = r.json()["error"]
            assert error["code"] == "unavailable" and "try again later" in error["message"]
            assert "127.0.0.1" not in r.text and SECRET not in r.text and "Traceback" not in r.text
    finally:
        app.state.engine.dispose()


def test_reads_ride_out_a_short_outage_on_what_is_cached(
    tmp_path: Path, endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = worker(tmp_path, endpoint, bucket, "api-1", listing_ttl_seconds=0)
    ingest_file(config=config, table_id=STATIONS, source=DATA / "bcn-air-stations.csv", filename="bcn-air-stations.csv")
    assert search(config=config, table_id=STATIONS, limit=1).version == 1
    fs = config.storage._fs()  # type: ignore[union-attr]

    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionRefusedError(111, "Connection refused")

    for method in ("ls", "cat_file", "open", "pipe_file", "put_file"):
        monkeypatch.setattr(fs, method, down)
    assert search(config=config, table_id=STATIONS, limit=1).version == 1  # the known version list, the cached file
    with pytest.raises(Unavailable):  # nothing new can be published meanwhile
        ingest_file(config=config, table_id=STATIONS, source=DATA / "bcn-air-stations.csv",
                    filename="bcn-air-stations.csv")  # fmt: skip
    with pytest.raises(Unavailable):  # nor can an uncached table be read
        versions.list_versions(config=config, table_id=TREES)
    close_read_pools(config)


def _child_reads(config: DatastoreConfig, out: Any) -> None:
    out.put((versions.list_versions(config=config, table_id=STATIONS),
             versions.data_path(config=config, table_id=STATIONS).read_bytes()))  # fmt: skip


def test_a_forked_job_process_makes_its_own_connection(tmp_path: Path, endpoint: str, bucket: str) -> None:
    """rq forks a process per job: the parent's s3fs client (and its event loop thread) must not be reused."""
    import multiprocessing

    config = worker(tmp_path, endpoint, bucket, "job-worker")
    versions.publish(config=config, table_id=STATIONS, staging=stage(config, STATIONS, "parent"))
    assert versions.list_versions(config=config, table_id=STATIONS) == [1]  # the parent's client is live
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    child = ctx.Process(target=_child_reads, args=(config, out))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert out.get(timeout=5) == ([1], b"PAR1parentPAR1")


def test_a_cache_left_by_another_bucket_is_never_trusted(tmp_path: Path, endpoint: str, bucket: str) -> None:
    """Same cache directory, same table, same version number, same file size, different bucket: B's bytes."""
    s3 = boto3.client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY, aws_secret_access_key=SECRET
    )
    s3.create_bucket(Bucket=f"{bucket}-b")
    a = worker(tmp_path, endpoint, bucket, "shared-cache")
    versions.publish(config=a, table_id=STATIONS, staging=stage(a, STATIONS, "aaaa"))
    assert versions.data_path(config=a, table_id=STATIONS).read_bytes() == b"PAR1aaaaPAR1"
    publisher = worker(tmp_path, endpoint, f"{bucket}-b", "publisher-b")
    versions.publish(config=publisher, table_id=STATIONS, staging=stage(publisher, STATIONS, "bbbb"))
    b = worker(tmp_path, endpoint, f"{bucket}-b", "shared-cache")
    assert versions.data_path(config=b, table_id=STATIONS).read_bytes() == b"PAR1bbbbPAR1"
    # and a publisher adopting its staging directory replaces a stale cached copy of the same number
    c = worker(tmp_path, endpoint, f"{bucket}-b", "shared-cache", listing_ttl_seconds=0)
    (c.root / STATIONS / "v2").mkdir()
    (c.root / STATIONS / "v2" / "data.parquet").write_bytes(b"PAR1zzzzPAR1")
    assert versions.publish(config=c, table_id=STATIONS, staging=stage(c, STATIONS, "cccc")) == 2
    assert versions.data_path(config=c, table_id=STATIONS, version=2).read_bytes() == b"PAR1ccccPAR1"


def test_a_local_datastore_moves_to_s3_and_back_with_its_numbers(tmp_path: Path, endpoint: str, bucket: str) -> None:
    local = DatastoreConfig(root=tmp_path / "local", memory_limit="256MB", threads=1)
    for _ in range(2):
        ingest_file(config=local, table_id=STATIONS, source=DATA / "bcn-air-stations.csv",
                    filename="bcn-air-stations.csv")  # fmt: skip
    override = SchemaOverride(fields={"Estacio": FieldOverride(title="Station")})
    overrides.apply_schema_override(config=local, table_id=STATIONS, override=override)
    remote = worker(tmp_path, endpoint, bucket, "api-1")
    assert versions.copy_versions(source=local, target=remote) == {STATIONS: [1, 2]}
    assert versions.copy_versions(source=local, target=remote) == {STATIONS: []}  # idempotent
    fresh = worker(tmp_path, endpoint, bucket, "api-2")
    assert versions.list_versions(config=fresh, table_id=STATIONS) == [1, 2]
    for n in (1, 2):
        assert (versions.data_path(config=fresh, table_id=STATIONS, version=n).read_bytes()
                == versions.data_path(config=local, table_id=STATIONS, version=n).read_bytes())  # fmt: skip
        assert versions.read_report(config=fresh, table_id=STATIONS, version=n).version == n
    assert overrides.load_override(config=fresh, table_id=STATIONS) == override
    assert search(config=fresh, table_id=STATIONS, include_total=True, limit=1).total == 55
    # the next upload continues the numbering in the bucket
    assert ingest_file(config=fresh, table_id=STATIONS, source=DATA / "bcn-air-stations.csv",
                       filename="bcn-air-stations.csv").version == 3  # fmt: skip
    back = DatastoreConfig(root=tmp_path / "back", memory_limit="256MB", threads=1)
    assert versions.copy_versions(source=fresh, target=back) == {STATIONS: [1, 2, 3]}
    assert versions.list_versions(config=back, table_id=STATIONS) == [1, 2, 3]
    assert overrides.load_override(config=back, table_id=STATIONS) == override
    # a number that holds other files is never overwritten
    other = DatastoreConfig(root=tmp_path / "other", memory_limit="256MB", threads=1)
    ingest_file(config=other, table_id=STATIONS, source=DATA / "madrid-arbolado-distritos-2024.csv",
                filename="madrid-arbolado-distritos-2024.csv")  # fmt: skip
    with pytest.raises(Conflict):
        versions.copy_versions(source=other, target=fresh)
    with pytest.raises(Conflict):
        versions.copy_versions(source=other, target=back)
    close_read_pools(fresh)
