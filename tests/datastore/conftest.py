"""Fixtures for datastore tests: a fresh store per test and helpers to read what an ingest published."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from citycommons.datastore import DatastoreConfig
from citycommons.datastore.schemas import IngestResult

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture
def config(tmp_path: Path) -> DatastoreConfig:
    return DatastoreConfig(root=tmp_path / "store", memory_limit="256MB", threads=1)


def rows(result: IngestResult) -> list[dict[str, Any]]:
    return pq.read_table(result.path).to_pylist()


def column(result: IngestResult, name: str) -> list[Any]:
    return pq.read_table(result.path, columns=[name]).column(name).to_pylist()


def types(result: IngestResult) -> dict[str, str]:
    return {f.name: f.type for f in result.table_schema.fields}


def listing(root: Path) -> list[str]:
    """Every file and directory under ``root``, relative, sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []
