"""A crash while writing leaves the previous version served and no temporary file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from citycommons.datastore import DatastoreConfig, ingest_file, materialize
from citycommons.datastore import versions as v
from tests.datastore.conftest import column, listing


def upload(config: DatastoreConfig, tmp_path: Path, text: str, table_id: str = "t") -> Any:
    path = tmp_path / "upload.csv"
    path.write_text(text, encoding="utf-8")
    return ingest_file(config=config, table_id=table_id, source=path, filename="upload.csv")


def test_crash_mid_write(config: DatastoreConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = upload(config, tmp_path, "a,b\n1,x\n2,y\n")
    before = listing(config.root)
    real_write = materialize.write_parquet

    def crash(**kw: Any) -> int:
        real_write(**kw)  # a complete file in staging...
        with kw["out"].open("ab") as fh:
            fh.write(b"partial")
        raise OSError("disk full")  # ...then the process fails

    monkeypatch.setattr(materialize, "write_parquet", crash)
    with pytest.raises(OSError, match="disk full"):
        upload(config, tmp_path, "a,b\n3,z\n")
    assert listing(config.root) == before
    assert v.latest_version(config=config, table_id="t") == 1
    assert column(first, "a") == [1, 2]


def test_crash_while_publishing(config: DatastoreConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upload(config, tmp_path, "a\n1\n")
    before = listing(config.root)

    def fail(*args: Any) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr(os, "rename", fail)
    with pytest.raises(OSError):
        upload(config, tmp_path, "a\n2\n")
    assert listing(config.root) == before


def test_versions_accumulate_and_latest_wins(config: DatastoreConfig, tmp_path: Path) -> None:
    upload(config, tmp_path, "a\n1\n")
    second = upload(config, tmp_path, "a,b\n1,2\n")
    assert v.list_versions(config=config, table_id="t") == [1, 2]
    assert second.version == 2 and second.report.version == 2
    assert v.read_report(config=config, table_id="t").version == 2
    assert [f.name for f in v.read_schema(config=config, table_id="t").fields] == ["a", "b"]
    assert [f.name for f in v.read_schema(config=config, table_id="t", version=1).fields] == ["a"]
    assert v.data_path(config=config, table_id="t", version=1).is_file()


def test_publish_skips_a_number_taken_concurrently(config: DatastoreConfig, tmp_path: Path) -> None:
    upload(config, tmp_path, "a\n1\n")
    staging = v.new_staging(config=config, table_id="t")
    (staging / "data.parquet").write_bytes(b"x")
    seen: list[int] = []

    def racer(number: int) -> None:
        seen.append(number)
        if len(seen) == 1:  # another process publishes v2 between our choice and our rename
            other = v.new_staging(config=config, table_id="t")
            (other / "data.parquet").write_bytes(b"y")
            os.rename(other, config.root / "t" / "v2")

    assert v.publish(config=config, table_id="t", staging=staging, before=racer) == 3
    assert seen == [2, 3]


def test_stale_staging_cleanup(config: DatastoreConfig, tmp_path: Path) -> None:
    upload(config, tmp_path, "a\n1\n")
    stale = v.new_staging(config=config, table_id="t")
    os.utime(stale, (0, 0))
    assert v.remove_stale_staging(config=config, table_id="t", older_than_seconds=60) == 1
    assert listing(config.root / "t") == ["v1", "v1/data.parquet", "v1/report.json", "v1/schema.json"]
