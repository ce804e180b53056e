"""Limits and locations of the datastore, built from ``Settings`` by whoever wires the datastore in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from citycommons.datastore.storage import LocalStorage, S3Storage, Storage
from citycommons.settings import Settings

MIB = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class DatastoreConfig:
    """Everything the ingest engine needs to know; no other configuration is read."""

    root: Path
    """Directory holding one sub-directory per table: ``<root>/<table_id>/v<N>/data.parquet`` (the versions on
    local disk; with S3 storage, staging directories and the read-through cache of the bucket's versions)."""
    storage: Storage | None = None
    """Where versions are published and read (``storage.LocalStorage`` / ``storage.S3Storage``, whose ``root`` must
    be ``root``); ``None``: local disk at ``root``."""
    max_file_bytes: int = 200 * MIB
    """Largest upload accepted (bytes on disk, before any decompression)."""
    max_xlsx_uncompressed_bytes: int = 1024 * MIB
    """Zip-bomb guard: total uncompressed size of the members of an XLSX archive."""
    max_xlsx_compression_ratio: float = 250.0
    """Zip-bomb guard: uncompressed / compressed size of an XLSX archive (real files are below 100)."""
    sample_bytes: int = 1 * MIB
    """Bytes read to detect format, encoding and delimiter."""
    sample_rows: int = 10_000
    """Records used to infer column types before they are verified over the whole file."""
    bad_value_tolerance: float = 0.05
    """A column keeps its inferred type if at most this share of its values fail (they are quarantined)."""
    min_values_for_tolerance: int = 20
    """Below this many values a single misfit makes the column text: too little evidence for a type."""
    max_rejected_rows: int = 100
    """Malformed records (wrong number of fields) quarantined before the whole ingest is refused."""
    max_rejected_fraction: float = 0.01
    """Share of malformed records above which the whole ingest is refused."""
    max_quarantine_listed: int = 1000
    """Quarantine entries written to report.json (the total is always counted)."""
    row_group_size: int = 122_880
    """Rows per Parquet row group (DuckDB's default; statistics are written for each). Measured with DuckDB 2.0.1
    on a 10M-row table sorted by (key, time): smaller groups (16k, 4k rows) made point lookups slower, not faster."""
    sort_by_key_and_time: bool = True
    """Layout hint: store a table of readings sorted by (key, time) so point lookups prune row groups by their
    statistics (``layout.sort_columns`` says when a table qualifies). Costs a sort during the ingest."""
    sort_min_bytes: int = 16 * MIB
    """Tables smaller than this keep their source order unless the publisher's primary key names a time column:
    they fit in a few row groups, and the order of the original file is worth more."""
    time_projection_min_rows: int = 500_000
    """A version sorted by (key, time) with at least this many rows gets a time-ordered copy for time-sorted pages
    (``projections``); below it a table has a handful of row groups and reading them all costs a few ms."""
    memory_limit: str = "768MB"
    """DuckDB memory limit during an ingest; larger intermediate state spills to a temporary directory. The process
    peaks ~130 MB above it (interpreter, CSV buffers): 768MB keeps a sorted 10M-row ingest under 1 GB of RSS."""
    threads: int = 2
    """DuckDB worker threads."""
    ingest_timeout_seconds: float = 900.0
    """Wall-clock limit of each DuckDB statement of an ingest."""
    query_timeout_seconds: float = 10.0
    """Wall-clock limit of a read query (for the query API built on the facade)."""

    def __post_init__(self) -> None:
        if self.storage is not None and Path(self.storage.root) != Path(self.root):
            raise ValueError(f"storage root {self.storage.root} differs from the datastore root {self.root}")


def from_settings(settings: Settings) -> DatastoreConfig:
    """The datastore configuration of a deployment (every front door and job builds it this way)."""
    return DatastoreConfig(
        root=settings.datastore_path,
        storage=storage_from_settings(settings),
        max_file_bytes=settings.max_upload_bytes,
        memory_limit=settings.datastore_memory_limit,
        threads=settings.datastore_threads,
        query_timeout_seconds=settings.datastore_query_timeout_seconds,
    )


def storage_from_settings(settings: Settings) -> Storage:
    """``datastore_storage``: ``local`` disk at ``datastore_path``, or an S3-compatible bucket cached there."""
    if settings.datastore_storage == "s3":
        return S3Storage(
            root=settings.datastore_path,
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            cache_max_bytes=settings.datastore_cache_max_bytes,
        )
    return LocalStorage(root=settings.datastore_path)
