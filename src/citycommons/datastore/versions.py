"""Where versions live and how a new one appears atomically, over the configured ``storage.Storage``.

Layout: ``<root>/<table_id>/v<N>/{data.parquet,schema.json,report.json}`` plus ``override.json``. A version is
built in ``<root>/<table_id>/.staging-<random>/`` and published by the storage backend: on local disk with one
``rename`` of the directory; on S3 by uploading its files and committing a manifest last (``storage.S3Storage``),
``<root>`` then being the local read-through cache. Readers see a complete version or none; the latest version is
the highest ``N``. Every function here takes the same arguments whatever the backend.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.schemas import IngestReport, TableSchema
from citycommons.datastore.storage import (
    DATA_FILE,
    OVERRIDE_FILE,
    REPORT_FILE,
    SCHEMA_FILE,
    VERSION_DIR,
    LocalStorage,
    Storage,
)
from citycommons.errors import NotFound, invalid

__all__ = ["DATA_FILE", "OVERRIDE_FILE", "REPORT_FILE", "SCHEMA_FILE", "STAGING_PREFIX", "TABLE_ID", "VERSION_DIR"]

TABLE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,79}")
STAGING_PREFIX = ".staging-"


def storage_of(config: DatastoreConfig) -> Storage:
    """The backend of ``config``: its ``storage``, or local disk at ``config.root``."""
    return config.storage if config.storage is not None else LocalStorage(root=config.root)


def table_dir(*, config: DatastoreConfig, table_id: str) -> Path:
    if not TABLE_ID.fullmatch(table_id):
        raise invalid("table_id", "use 1-80 characters: lower-case letters, digits, '-' and '_'")
    return config.root / table_id


def list_versions(*, config: DatastoreConfig, table_id: str) -> list[int]:
    table_dir(config=config, table_id=table_id)  # checks the id
    return storage_of(config).list_versions(table_id)


def latest_version(*, config: DatastoreConfig, table_id: str) -> int | None:
    versions = list_versions(config=config, table_id=table_id)
    return versions[-1] if versions else None


def version_dir(*, config: DatastoreConfig, table_id: str, version: int | None = None) -> Path:
    """The local directory of ``version`` (default: the latest); ``NotFound`` when there is none."""
    return _version_file(config=config, table_id=table_id, version=version, name=SCHEMA_FILE).parent


def _version_file(*, config: DatastoreConfig, table_id: str, version: int | None, name: str) -> Path:
    number = version if version is not None else latest_version(config=config, table_id=table_id)
    if number is None:
        raise NotFound(f"table {table_id} has no version")
    table_dir(config=config, table_id=table_id)  # checks the id
    return storage_of(config).version_file(table_id, number, name)


def read_schema(*, config: DatastoreConfig, table_id: str, version: int | None = None) -> TableSchema:
    path = _version_file(config=config, table_id=table_id, version=version, name=SCHEMA_FILE)
    return TableSchema.model_validate_json(path.read_text(encoding="utf-8"))


def read_report(*, config: DatastoreConfig, table_id: str, version: int | None = None) -> IngestReport:
    path = _version_file(config=config, table_id=table_id, version=version, name=REPORT_FILE)
    return IngestReport.model_validate_json(path.read_text(encoding="utf-8"))


def data_path(*, config: DatastoreConfig, table_id: str, version: int | None = None) -> Path:
    """A local path of the version's Parquet file (on S3: the read-through cache's copy, downloaded once)."""
    return _version_file(config=config, table_id=table_id, version=version, name=DATA_FILE)


def read_override(*, config: DatastoreConfig, table_id: str) -> str | None:
    """The stored ``override.json`` of ``table_id`` (text), or ``None``."""
    table_dir(config=config, table_id=table_id)  # checks the id
    data = storage_of(config).read_override(table_id)
    return data.decode("utf-8") if data is not None else None


def write_override(*, config: DatastoreConfig, table_id: str, data: object) -> None:
    """Store ``data`` as the ``override.json`` of ``table_id`` (replaced atomically)."""
    tdir = table_dir(config=config, table_id=table_id)
    storage = storage_of(config)
    if isinstance(storage, LocalStorage):
        tdir.mkdir(parents=True, exist_ok=True)
    storage.write_override(table_id, _json_bytes(data))


def new_staging(*, config: DatastoreConfig, table_id: str) -> Path:
    staging = table_dir(config=config, table_id=table_id) / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
    staging.mkdir(parents=True)
    return staging


def publish(
    *, config: DatastoreConfig, table_id: str, staging: Path, before: Callable[[int], None] | None = None
) -> int:
    """Publish ``staging`` as the next ``v<N>``; a concurrent publisher makes us take the next number.

    ``before(N)`` runs first (it writes files that mention the version number) and again if N was taken.
    """
    table_dir(config=config, table_id=table_id)  # checks the id
    return storage_of(config).publish(table_id, staging, before)


def discard(*, config: DatastoreConfig, table_id: str, staging: Path, created_table_dir: bool) -> None:
    """Remove a failed staging directory, and the table directory if this ingest created it."""
    shutil.rmtree(staging, ignore_errors=True)
    tdir = table_dir(config=config, table_id=table_id)
    if created_table_dir:
        with contextlib.suppress(OSError):  # another ingest or an override is using it
            tdir.rmdir()


def remove_stale_staging(*, config: DatastoreConfig, table_id: str, older_than_seconds: float = 86400) -> int:
    """Delete staging directories (and, on S3, uncommitted uploads) left by a killed process; returns how many
    were removed."""
    tdir = table_dir(config=config, table_id=table_id)
    removed = storage_of(config).remove_stale(table_id, older_than_seconds)
    if not tdir.is_dir():
        return removed
    for path in tdir.iterdir():
        if path.name.startswith(STAGING_PREFIX) and time.time() - path.stat().st_mtime > older_than_seconds:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def drop_table(*, config: DatastoreConfig, table_id: str) -> int:
    """Remove every version, the override and any staging or cached file of ``table_id`` (its distribution was
    deleted for good); returns how many versions were removed. Idempotent."""
    tdir = table_dir(config=config, table_id=table_id)
    removed = storage_of(config).remove_table(table_id)
    if tdir.is_dir():  # the local cache (S3) or what a local removal could not rename
        shutil.rmtree(tdir, ignore_errors=True)
    return removed


def list_tables(*, config: DatastoreConfig) -> list[str]:
    """Ids of the tables with anything stored, sorted."""
    return storage_of(config).list_tables()


def local_tables(*, config: DatastoreConfig) -> list[str]:
    """Ids of the tables with a directory under ``config.root`` (versions on local disk; on S3 staging and cache)."""
    if not config.root.is_dir():
        return []
    return sorted(p.name for p in config.root.iterdir() if p.is_dir() and TABLE_ID.fullmatch(p.name))


def remove_all_stale_staging(*, config: DatastoreConfig, older_than_seconds: float = 86400) -> int:
    """``remove_stale_staging`` for every table with a local directory (what a killed ingest left); cheap: one
    directory listing per table. Returns how many staging directories or objects were removed."""
    return sum(
        remove_stale_staging(config=config, table_id=t, older_than_seconds=older_than_seconds)
        for t in local_tables(config=config)
    )


def copy_versions(
    *, source: DatastoreConfig, target: DatastoreConfig, table_ids: Iterable[str] | None = None
) -> dict[str, list[int]]:
    """Copy every version (same numbers) and override of ``table_ids`` (default: every table) from ``source``'s
    storage to ``target``'s, e.g. local disk -> S3 when a city scales out. Idempotent: versions already copied are
    skipped; returns the versions copied per table. ``Conflict`` if the target holds other files under a number."""
    src, dst = storage_of(source), storage_of(target)
    copied: dict[str, list[int]] = {}
    for table_id in sorted(table_ids) if table_ids is not None else src.list_tables():
        table_dir(config=source, table_id=table_id)  # checks the id
        copied[table_id] = []
        for number in src.list_versions(table_id):
            files = [src.version_file(table_id, number, name) for name in (DATA_FILE, SCHEMA_FILE, REPORT_FILE)]
            if dst.import_version(table_id, number, files[0].parent):
                copied[table_id].append(number)
        override = src.read_override(table_id)
        if override is not None:
            if isinstance(dst, LocalStorage):
                (target.root / table_id).mkdir(parents=True, exist_ok=True)
            dst.write_override(table_id, override)
    return copied


def write_json(path: Path, data: object) -> None:
    """Write JSON through a temporary file and an atomic replace."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_bytes(_json_bytes(data))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _json_bytes(data: object) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n").encode("utf-8")
