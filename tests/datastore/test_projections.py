"""The time-ordered projection of a (key, time)-sorted version: built after the ingest or in the background, used for
time-sorted row searches, and invisible in every result (rows, order, cursors, totals, row numbers)."""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from citycommons.datastore import DatastoreConfig, ingest_file, projections, query, rowids
from citycommons.datastore import config as config_module
from citycommons.datastore import jobs as datastore_jobs
from citycommons.datastore import service as datastore_service
from citycommons.datastore.query_schemas import QueryResult
from citycommons.errors import Invalid
from tests.factories import dataset_payload
from tests.jobs.helpers import job_settings, wait_for_job

DISTRICTS = ["Gràcia", "Sants", "Horta", "Nou Barris"]


def _csv(path: Path, rows: int = 12_000, seed: int = 5) -> Path:
    """Readings of 20 sensors at 400 distinct instants (many ties), 2% without a time, one rare district."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1)
    instants = [start + timedelta(minutes=17 * i) for i in range(400)]
    lines = ["sensor_id,ts,district,value"]
    for i in range(rows):
        ts = "" if rng.random() < 0.02 else rng.choice(instants).isoformat()
        district = "Vallvidrera" if i % 97 == 0 else rng.choice(DISTRICTS)
        lines.append(f"{rng.randint(1, 20)},{ts},{district},{rng.randint(0, 9999) / 100}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def fast(tmp_path: Path) -> DatastoreConfig:
    """Small tables get the layout and the projection, in row groups of 2048 rows (DuckDB's smallest)."""
    return DatastoreConfig(root=tmp_path / "store", memory_limit="256MB", threads=1, sort_min_bytes=0,
                           time_projection_min_rows=0, row_group_size=2048)  # fmt: skip


@pytest.fixture
def plain(fast: DatastoreConfig) -> DatastoreConfig:
    """The same store read without projections."""
    return replace(fast, time_projection_min_rows=10**12)


@pytest.fixture
def table(fast: DatastoreConfig, tmp_path: Path) -> str:
    result = ingest_file(config=fast, table_id="readings", source=_csv(tmp_path / "r.csv"), filename="r.csv")
    assert result.report.sorted_by == ["sensor_id", "ts"]
    assert result.report.rows == 12_000
    return "readings"


def _page(config: DatastoreConfig, **kw: Any) -> QueryResult:
    return query.search(config=config, table_id="readings", **kw)


def _all_pages(config: DatastoreConfig, limit: int, **kw: Any) -> list[QueryResult]:
    pages = [_page(config, limit=limit, **kw)]
    while pages[-1].next_cursor:
        pages.append(_page(config, limit=limit, cursor=pages[-1].next_cursor, **kw))
        assert len(pages) < 200
    return pages


SEARCHES: list[dict[str, Any]] = [
    {"sort": "ts"},
    {"sort": "ts desc"},
    {"sort": "ts, value desc"},
    {"sort": "ts desc, district"},
    {"sort": "ts desc", "filters": {"district": "Vallvidrera"}},  # rare rows: bounded pages come back short
    {"sort": "ts", "filters": {"ts": {"gte": "2024-01-02T00:00:00", "lt": "2024-01-04T00:00:00"}}},
    {"sort": "ts", "q": "gracia"},
    {"sort": "ts desc", "fields": ["value", "sensor_id"]},
    {"sort": "ts", "filters": {"value": {"gte": 50}}, "include_total": True},
]


def test_build_writes_a_time_ordered_copy_with_the_row_numbers(fast: DatastoreConfig, table: str) -> None:
    projection = projections.build(config=fast, table_id=table, version=1)
    assert projection is not None and projection.column == "ts" and len(projection.groups) == 6
    parquet, record = projections.files(config=fast, table_id=table, version=1)
    assert projection.path == parquet and parquet.parent.name == projections.DIRECTORY
    meta = json.loads(record.read_text(encoding="utf-8"))
    assert meta["format"] == projections.FORMAT and meta["rows"] == 12_000 and meta["column"] == "ts"
    copy = pq.read_table(parquet).to_pylist()
    data = pq.read_table(fast.root / table / "v1" / "data.parquet").to_pylist()
    keys = [(r["ts"] is None, r["ts"] or datetime.min, r[projections.ROW_COLUMN]) for r in copy]
    assert keys == sorted(keys)  # by time, nulls last, then row number
    assert sorted(r[projections.ROW_COLUMN] for r in copy) == list(range(12_000))
    for row in copy:
        position = row.pop(projections.ROW_COLUMN)
        assert data[position] == row
    assert projections.build(config=fast, table_id=table, version=1) == projection  # found, not rebuilt
    # not part of the version: the version directory holds its three files only
    assert sorted(p.name for p in (fast.root / table / "v1").iterdir()) == ["data.parquet", "report.json",
                                                                             "schema.json"]  # fmt: skip


@pytest.mark.parametrize("search", SEARCHES, ids=[json.dumps(s, ensure_ascii=False) for s in SEARCHES])
def test_pages_cursors_and_totals_are_identical_with_the_projection(
    fast: DatastoreConfig, plain: DatastoreConfig, table: str, search: dict[str, Any]
) -> None:
    assert projections.build(config=fast, table_id=table, version=1) is not None
    plan = query.prepare(config=fast, table_id=table, request=query.parse_request(search), projection=True)
    assert plan.projection is not None
    assert (
        query.prepare(config=plain, table_id=table, request=query.parse_request(search), projection=True).projection
        is None
    )
    expected = _all_pages(plain, 701, **search)
    assert _all_pages(fast, 701, **search) == expected
    assert sum(len(p.records) for p in expected) > 0
    for offset in (0, 1, 701, 5000, 11_900, 11_999, 20_000):
        assert _page(fast, limit=50, offset=offset, **search) == _page(plain, limit=50, offset=offset, **search)


def test_a_cursor_continues_across_the_switch(fast: DatastoreConfig, plain: DatastoreConfig, table: str) -> None:
    for sort in ("ts", "ts desc"):
        expected = _all_pages(plain, 1009, sort=sort)
        assert len(expected) > 10
        first = _page(plain, limit=1009, sort=sort)
        assert first.next_cursor is not None
        assert projections.build(config=fast, table_id=table, version=1) is not None
        rest = [_page(fast, limit=1009, sort=sort, cursor=first.next_cursor)]
        while rest[-1].next_cursor:
            rest.append(_page(fast, limit=1009, sort=sort, cursor=rest[-1].next_cursor))
        assert [first, *rest] == expected
        # and back: a cursor of a page read on the projection continues on data.parquet
        middle = _page(fast, limit=1009, sort=sort)
        assert _page(plain, limit=1009, sort=sort, cursor=middle.next_cursor) == expected[1]


def test_a_cursor_inside_the_rows_without_time(fast: DatastoreConfig, plain: DatastoreConfig, table: str) -> None:
    assert projections.build(config=fast, table_id=table, version=1) is not None
    pages = _all_pages(fast, 100, sort="ts")
    assert pages == _all_pages(plain, 100, sort="ts")
    tail = [r for p in pages for r in p.records if r["ts"] is None]
    assert len(tail) > 200 and pages[-1].records[-1]["ts"] is None


def test_row_ids_are_the_positions_in_the_version(fast: DatastoreConfig, plain: DatastoreConfig, table: str) -> None:
    assert projections.build(config=fast, table_id=table, version=1) is not None
    request = query.parse_request({"sort": "ts desc", "limit": 60, "offset": 7000})
    with_ids = rowids.search(config=fast, table_id=table, request=request, timeout=10, max_rows=1000)
    assert with_ids == rowids.search(config=plain, table_id=table, request=request, timeout=10, max_rows=1000)
    page = _page(fast, sort="ts desc", limit=60, offset=7000)
    assert [{k: v for k, v in r.items() if k != "_id"} for r in with_ids.records] == page.records
    data = pq.read_table(fast.root / table / "v1" / "data.parquet").to_pylist()
    for r in with_ids.records:
        row = data[r["_id"] - 1]
        assert (row["sensor_id"], row["district"], row["value"]) == (r["sensor_id"], r["district"], r["value"])


def test_which_requests_read_the_projection(fast: DatastoreConfig, table: str) -> None:
    assert projections.build(config=fast, table_id=table, version=1) is not None

    def used(**kw: Any) -> bool:
        plan = query.prepare(config=fast, table_id=table, request=query.parse_request(kw), projection=True)
        return plan.projection is not None

    assert used(sort="ts") and used(sort="ts desc") and used(sort="ts", filters={"district": "Sants"})
    assert used(sort="ts", filters={"sensor_id": {"ne": 3}})  # does not narrow the key: no pruning on data.parquet
    assert not used(sort="ts", filters={"sensor_id": 3})  # one sensor: data.parquet prunes better (Q1)
    assert not used(sort="ts", filters={"sensor_id": {"in": [3, 4]}})
    assert not used(sort="value, ts") and not used() and not used(sort="sensor_id, ts")
    assert not used(sort="ts", distinct=True, fields=["ts"])
    assert not used(group_by=["district"], sort="district")
    assert query.prepare(config=fast, table_id=table, request=query.parse_request({"sort": "ts"})).projection is None


def test_a_missing_projection_is_built_in_the_background(
    fast: DatastoreConfig, plain: DatastoreConfig, table: str
) -> None:
    parquet, record = projections.files(config=fast, table_id=table, version=1)
    assert not record.exists()
    first = _page(fast, sort="ts desc", limit=25, offset=3000)  # served from data.parquet, starts the build
    assert projections.wait_for_builds(30)
    assert record.exists() and parquet.exists()
    plan = query.prepare(config=fast, table_id=table, request=query.parse_request({"sort": "ts desc"}), projection=True)
    assert plan.projection is not None
    assert _page(fast, sort="ts desc", limit=25, offset=3000) == first == _page(plain, sort="ts desc", limit=25,
                                                                                offset=3000)  # fmt: skip
    assert not list(parquet.parent.glob(".build-*"))  # no temporary files left


def test_a_record_that_does_not_match_the_version_is_ignored(fast: DatastoreConfig, table: str) -> None:
    assert projections.build(config=fast, table_id=table, version=1) is not None
    parquet, record = projections.files(config=fast, table_id=table, version=1)
    meta = json.loads(record.read_text(encoding="utf-8"))
    record.write_text(json.dumps({**meta, "source_size": meta["source_size"] + 1}), encoding="utf-8")
    data = fast.root / table / "v1" / "data.parquet"
    assert projections.find(config=fast, table_id=table, version=1, data=data, column="ts") is None
    record.write_text(json.dumps(meta), encoding="utf-8")
    assert projections.find(config=fast, table_id=table, version=1, data=data, column="ts") is not None
    parquet.unlink()
    assert projections.find(config=fast, table_id=table, version=1, data=data, column="ts") is None


def test_small_or_unsorted_versions_get_none(fast: DatastoreConfig, tmp_path: Path) -> None:
    small = replace(fast, time_projection_min_rows=12_001)
    source = _csv(tmp_path / "r.csv")
    ingest_file(config=small, table_id="small", source=source, filename="r.csv")
    assert projections.build(config=small, table_id="small", version=1) is None
    unsorted = replace(fast, sort_by_key_and_time=False)
    ingest_file(config=unsorted, table_id="unsorted", source=source, filename="r.csv")
    assert projections.build(config=unsorted, table_id="unsorted", version=1) is None
    assert not (fast.root / "small" / projections.DIRECTORY).exists()


def test_window_bounds_keep_enough_row_groups() -> None:
    groups = tuple(projections.RowGroup(low, low + 9, 10) for low in range(0, 100, 10)) + (
        projections.RowGroup(None, None, 5),
    )
    p = projections.Projection(path=Path("x.parquet"), column="t", groups=groups)
    assert p.window(desc=False, after=None, rows=15) == 19
    assert p.window(desc=False, after=45, rows=15) == 59
    assert p.window(desc=True, after=None, rows=15) == 80
    assert p.window(desc=True, after=45, rows=15) == 30
    assert p.window(desc=False, after=None, rows=95) is None  # would keep every group
    assert p.window(desc=False, after="text", rows=5) is None  # incomparable cursor value


def test_a_foreign_cursor_is_still_refused(fast: DatastoreConfig, table: str) -> None:
    assert projections.build(config=fast, table_id=table, version=1) is not None
    other = _page(fast, sort="ts", limit=10, filters={"district": "Sants"}).next_cursor
    with pytest.raises(Invalid):
        _page(fast, sort="ts", limit=10, cursor=other)


# --- end to end: the ingest job builds it, the /rows route reads it ---------------------------------------------------


@pytest.fixture
def small_tables_projected(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deployment's configuration with the layout and the projection forced on small tables."""

    def forced(settings: Any) -> DatastoreConfig:
        return replace(config_module.from_settings(settings), sort_min_bytes=0, time_projection_min_rows=0,
                       row_group_size=2048)  # fmt: skip

    monkeypatch.setattr(datastore_jobs, "from_settings", forced)
    monkeypatch.setattr(datastore_service, "from_settings", forced)


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    return job_settings(request, tmp_path)


def test_the_ingest_job_builds_it_and_the_api_pages_identically(  # type: ignore[no-untyped-def]
    client, world, settings, tmp_path, small_tables_projected
):
    h = world.auth("editor")
    r = client.post("/api/v1/datasets", json=dataset_payload("air", distributions=[]), headers=h)
    assert r.status_code == 201, r.text
    source = _csv(tmp_path / "readings.csv")
    r = client.post(
        "/api/v1/datasets/air/distributions/upload",
        files={"file": ("readings.csv", source.read_bytes(), "text/csv")},
        data={"metadata": json.dumps({"title": {"en": "Readings"}})},
        headers=h,
    )
    assert r.status_code == 201, r.text
    dist = r.json()
    job = wait_for_job(client, dist["ingest"]["id"], h)
    assert job["status"] == "succeeded", job
    assert job["result"]["time_projection"] is True
    assert client.get(f"/api/v1/distributions/{dist['id']}").json()["datastore_active"] is True
    root = settings.datastore_path
    _, record = projections.files(config=DatastoreConfig(root=root), table_id=dist["id"], version=1)
    assert record.is_file()

    rows = f"/api/v1/datastore/{dist['id']}/rows"

    def pages(params: dict[str, Any]) -> list[dict[str, Any]]:
        found = [client.get(rows, params={**params, "limit": 1500}, headers=h).json()]
        while found[-1]["next_cursor"]:
            found.append(client.get(rows, params={**params, "limit": 1500, "cursor": found[-1]["next_cursor"]},
                                    headers=h).json())  # fmt: skip
        return found

    via_projection = pages({"sort": "ts desc"})
    assert sum(len(p["records"]) for p in via_projection) == 12_000
    record.unlink()  # readers fall back to data.parquet (and rebuild it in the background)
    assert pages({"sort": "ts desc"}) == via_projection
    assert projections.wait_for_builds(30) and record.is_file()
    assert pages({"sort": "ts desc"}) == via_projection


def test_a_build_removes_what_a_killed_build_left(fast: DatastoreConfig, table: str) -> None:
    parquet, _ = projections.files(config=fast, table_id=table, version=1)
    parquet.parent.mkdir()
    old, fresh = parquet.parent / ".build-old", parquet.parent / ".build-fresh"
    old.mkdir()
    fresh.mkdir()  # maybe another process building right now
    os.utime(old, (time.time() - 2 * 86_400, time.time() - 2 * 86_400))
    assert projections.build(config=fast, table_id=table, version=1) is not None
    assert not old.exists() and fresh.exists()
