"""Where versions live on disk and how a new one appears atomically.

Layout: ``<root>/<table_id>/v<N>/{data.parquet,schema.json,report.json}`` plus ``override.json``. A version is
built in ``<root>/<table_id>/.staging-<random>/`` and published with one ``rename`` of the directory, so readers
see a complete version or none; the latest version is the highest ``N``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.schemas import IngestReport, TableSchema
from citycommons.errors import NotFound, invalid

TABLE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,79}")
VERSION_DIR = re.compile(r"v([1-9][0-9]*)")
STAGING_PREFIX = ".staging-"
DATA_FILE = "data.parquet"
SCHEMA_FILE = "schema.json"
REPORT_FILE = "report.json"
OVERRIDE_FILE = "override.json"


def table_dir(*, config: DatastoreConfig, table_id: str) -> Path:
    if not TABLE_ID.fullmatch(table_id):
        raise invalid("table_id", "use 1-80 characters: lower-case letters, digits, '-' and '_'")
    return config.root / table_id


def list_versions(*, config: DatastoreConfig, table_id: str) -> list[int]:
    tdir = table_dir(config=config, table_id=table_id)
    if not tdir.is_dir():
        return []
    found = (VERSION_DIR.fullmatch(p.name) for p in tdir.iterdir() if p.is_dir())
    return sorted(int(m.group(1)) for m in found if m)


def latest_version(*, config: DatastoreConfig, table_id: str) -> int | None:
    versions = list_versions(config=config, table_id=table_id)
    return versions[-1] if versions else None


def version_dir(*, config: DatastoreConfig, table_id: str, version: int | None = None) -> Path:
    """The directory of ``version`` (default: the latest); ``NotFound`` when there is none."""
    number = version if version is not None else latest_version(config=config, table_id=table_id)
    if number is None:
        raise NotFound(f"table {table_id} has no version")
    path = table_dir(config=config, table_id=table_id) / f"v{number}"
    if not path.is_dir():
        raise NotFound(f"table {table_id} has no version {number}")
    return path


def read_schema(*, config: DatastoreConfig, table_id: str, version: int | None = None) -> TableSchema:
    path = version_dir(config=config, table_id=table_id, version=version) / SCHEMA_FILE
    return TableSchema.model_validate_json(path.read_text(encoding="utf-8"))


def read_report(*, config: DatastoreConfig, table_id: str, version: int | None = None) -> IngestReport:
    path = version_dir(config=config, table_id=table_id, version=version) / REPORT_FILE
    return IngestReport.model_validate_json(path.read_text(encoding="utf-8"))


def data_path(*, config: DatastoreConfig, table_id: str, version: int | None = None) -> Path:
    return version_dir(config=config, table_id=table_id, version=version) / DATA_FILE


def new_staging(*, config: DatastoreConfig, table_id: str) -> Path:
    staging = table_dir(config=config, table_id=table_id) / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    return staging


def publish(
    *, config: DatastoreConfig, table_id: str, staging: Path, before: Callable[[int], None] | None = None
) -> int:
    """Rename ``staging`` to the next ``v<N>``; a concurrent publisher makes us take the next number.

    ``before(N)`` runs first (it writes files that mention the version number) and again if N was taken.
    """
    for _ in range(100):
        number = (latest_version(config=config, table_id=table_id) or 0) + 1
        if before is not None:
            before(number)
        target = table_dir(config=config, table_id=table_id) / f"v{number}"
        try:
            os.rename(staging, target)  # fails if target exists and is not empty: versions never are
        except OSError:
            if target.exists():
                continue
            raise
        return number
    raise RuntimeError(f"could not publish a version of {table_id}")


def discard(*, config: DatastoreConfig, table_id: str, staging: Path, created_table_dir: bool) -> None:
    """Remove a failed staging directory, and the table directory if this ingest created it."""
    shutil.rmtree(staging, ignore_errors=True)
    tdir = table_dir(config=config, table_id=table_id)
    if created_table_dir:
        with contextlib.suppress(OSError):  # another ingest or an override is using it
            tdir.rmdir()


def remove_stale_staging(*, config: DatastoreConfig, table_id: str, older_than_seconds: float = 86400) -> int:
    """Delete staging directories left by a killed process; returns how many were removed."""
    tdir = table_dir(config=config, table_id=table_id)
    if not tdir.is_dir():
        return 0
    removed = 0
    for path in tdir.iterdir():
        if path.name.startswith(STAGING_PREFIX) and time.time() - path.stat().st_mtime > older_than_seconds:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def write_json(path: Path, data: object) -> None:
    """Write JSON through a temporary file and an atomic replace."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
