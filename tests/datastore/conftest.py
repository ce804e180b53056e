"""Fixtures for datastore tests: a fresh store per test and helpers to read what an ingest published."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from citycommons.datastore import DatastoreConfig
from citycommons.datastore.config import from_settings
from citycommons.datastore.facade import close_read_pools
from citycommons.datastore.schemas import IngestResult
from citycommons.settings import Settings
from tests.datastore.test_service_permissions import Tables, build_tables

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture
def config(tmp_path: Path) -> DatastoreConfig:
    return DatastoreConfig(root=tmp_path / "store", memory_limit="256MB", threads=1)


@pytest.fixture
def tables(uow, settings: Settings) -> Iterator[Tables]:  # type: ignore[no-untyped-def]
    """The tables of ``test_service_permissions.build_tables`` (open, restricted, private...), for the service and API
    tests; their read pools closed afterwards."""
    with uow() as session:
        built = build_tables(session, settings)
    yield built
    close_read_pools(from_settings(settings))


def rows(result: IngestResult) -> list[dict[str, Any]]:
    return pq.read_table(result.path).to_pylist()


def column(result: IngestResult, name: str) -> list[Any]:
    return pq.read_table(result.path, columns=[name]).column(name).to_pylist()


def types(result: IngestResult) -> dict[str, str]:
    return {f.name: f.type for f in result.table_schema.fields}


def listing(root: Path) -> list[str]:
    """Every file and directory under ``root``, relative, sorted."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []
