"""Time-ordered projections: a derived copy of a version, sorted by its time column, that serves time-sorted pages.

Why: ``layout`` stores a table of readings sorted by (key, time) so that "one sensor over one day" prunes row
groups by their statistics. The price is paid by "the page after row 100,000 in time order": every row group of
such a file spans the whole period, so ``ORDER BY ts LIMIT 100`` after a cursor reads the time column of every row
(measured on 10M rows, DuckDB 2.0.1, 2 threads: 100 ms for the keyset page on ``data.parquet``;
``bench/datastore_queries.py``, Q4).

What: for a version whose layout sorted it by key columns then a date/datetime column (``IngestReport.sorted_by``)
and that has at least ``DatastoreConfig.time_projection_min_rows`` rows, a second Parquet file holds the same rows
and columns plus the row's position in ``data.parquet`` (``ROW_COLUMN``: the number cursors and ``_id`` are made
of), sorted by (time column ascending, nulls last; row number), in row groups of ``row_group_size`` with min/max
statistics. On the 10M rows of ``bench/datastore.py`` (``query.search`` in process, p50 of 15, DuckDB 2.0.1, 2
threads, load average 3):

=======================================================  ================  ==========
page of 100 rows sorted by ``ts``                         ``data.parquet``  projection
=======================================================  ================  ==========
after a keyset cursor at row 100,000 (ascending)                   103 ms      7.5 ms
after a keyset cursor at row 100,000 (descending)                  101 ms     15.2 ms
first page, descending                                              34 ms      9.9 ms
``offset=100000`` (ascending)                                      786 ms     12.5 ms
first page, ``district = 'Gràcia'``                                 55 ms      6.7 ms
one sensor, one day (Q1: not read from the projection)             3.5 ms      3.3 ms
=======================================================  ================  ==========

It costs one sort of the version (2.7 s on 2 threads and 68 MB for those 10M rows: 1.6x ``data.parquet``), done
after the version is published, so a new version is query-ready as early as before.

Where: ``<root>/<table_id>/.projections/v<N>-time.parquet`` and its commit record ``v<N>-time.json`` (format,
column, the size of the ``data.parquet`` it was built from). A local, rebuildable cache like the S3 read cache: not
part of the version, never uploaded, not in the version's manifest; deleting it only makes time-sorted pages slower
until it is rebuilt. Versions are immutable, so a projection never goes stale; a record that does not match the
local ``data.parquet`` (another bucket's cache) is ignored and rebuilt.

When: the ingest job builds it right after publishing and activating the version (``jobs.run_ingest``); a reader
that needs one and finds none (another worker's S3 cache, a version published without the job) builds it in a
background thread of its process, one build at a time, on one DuckDB thread within the ingest's ``memory_limit``
(the process is serving queries), and meanwhile reads ``data.parquet``. Two processes may build the same
projection at once: each writes a temporary file and renames it into place, and the results are identical.

How queries use it (``choose``, called by ``query.prepare``): row searches (not grouped, not distinct) whose sort
starts with the time column, ascending or descending, unless a filter narrows the layout's leading key column
(``sensor_id = 17``): ``data.parquet`` prunes that query better (raw DuckDB: 4.7 ms against 220 ms on the
projection). The result is the same set of rows in the same order with the same cursor values and row numbers: only
the file read differs. (``rowids`` searches and exports do not ask for it: they read ``data.parquet``.) DuckDB's
top-N keeps a dynamic filter on the time column that skips row groups by their statistics, which serves ascending
pages; for descending pages and large offsets, which DuckDB would scan from the first row group,
``Projection.window`` turns the row-group statistics into a bound on the time column (``ts >= T``) wide enough to
hold the page if no filter rejects a row; ``query.run_search`` checks that the bounded query filled its page and
otherwise runs it again unbounded, so the bound never changes a result.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from citycommons.datastore import versions
from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.facade import EngineError, Params, open_engine, parquet_scan, quote_ident
from citycommons.datastore.query_schemas import SearchRequest
from citycommons.datastore.storage import atomic_write
from citycommons.errors import CityCommonsError

log = logging.getLogger(__name__)

FORMAT = "citycommons-time-projection/1"
DIRECTORY = ".projections"
ROW_COLUMN = "__citycommons_row"
"""The row's 0-based position in ``data.parquet`` (``file_row_number``): cursors and ``_id`` are made of it."""
TIME_TYPES = ("date", "datetime")
PRUNING_OPS = frozenset({"eq", "in", "gt", "gte", "lt", "lte"})
"""Filters on the layout's leading key column that let ``data.parquet`` skip row groups."""
STALE_BUILD_SECONDS = 86_400.0
"""A build directory older than this was left by a killed process and is removed by the next build."""
RETRY_FAILED_SECONDS = 600.0
"""A build that failed is not attempted again by readers of this process before this delay."""


@dataclass(frozen=True)
class Layout:
    """How a version is ordered: by ``keys`` then ``time`` (from its report's ``sorted_by``)."""

    time: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class RowGroup:
    """Statistics of the time column in one row group of a projection (``low``/``high`` None: only nulls)."""

    low: Any
    high: Any
    rows: int


@dataclass(frozen=True)
class Projection:
    """A built projection: its file, its time column, and the time range of each of its row groups, in file order
    (ascending time; groups holding nulls last)."""

    path: Path
    column: str
    groups: tuple[RowGroup, ...]

    def scan(self) -> str:
        return parquet_scan(self.path)

    def row_expr(self) -> str:
        return quote_ident(ROW_COLUMN)

    def window(self, *, desc: bool, after: Any | None, rows: int) -> Any | None:
        """A bound on the time column (``<= bound`` ascending, ``>= bound`` descending) that keeps at least ``rows``
        rows of the projection that follow ``after`` (a cursor's time value; None: from the start), or None when no
        bound would leave out a row group."""
        try:
            if desc:
                groups = [g for g in self.groups if g.low is not None and (after is None or g.low <= after)]
                groups.reverse()
            else:
                groups = [g for g in self.groups if g.high is not None and (after is None or g.high >= after)]
            kept = 0
            for index, group in enumerate(groups):
                kept += group.rows
                if kept >= rows:
                    if index == len(groups) - 1:
                        return None  # the bound would keep every group: let DuckDB read them unbounded
                    return group.low if desc else group.high
        except TypeError:  # a cursor value of another kind than the statistics (naive against aware): no bound
            return None
        return None


# --- which versions have one, and where ----------------------------------------------------------------------------


_layouts: dict[tuple[Path, str, int], tuple[Layout | None, int]] = {}
_layouts_lock = threading.Lock()


def layout(*, config: DatastoreConfig, table_id: str, version: int) -> Layout | None:
    """The (keys, time) order of a version that deserves a projection, or None: not sorted that way, or smaller
    than ``config.time_projection_min_rows``. Read once per version and process (versions are immutable)."""
    key = (config.root, table_id, version)
    with _layouts_lock:
        cached = _layouts.get(key)
    if cached is None:
        report = versions.read_report(config=config, table_id=table_id, version=version)
        schema = versions.read_schema(config=config, table_id=table_id, version=version)
        types = {f.name: f.type for f in schema.fields}
        order = list(report.sorted_by)
        found = None
        if len(order) >= 2 and types.get(order[-1]) in TIME_TYPES and ROW_COLUMN not in types:
            found = Layout(time=order[-1], keys=tuple(order[:-1]))
        cached = (found, report.rows)
        with _layouts_lock:
            if len(_layouts) > 4096:
                _layouts.clear()
            _layouts[key] = cached
    found, rows = cached
    return found if rows >= config.time_projection_min_rows else None


def files(*, config: DatastoreConfig, table_id: str, version: int) -> tuple[Path, Path]:
    """The projection's Parquet file and its commit record."""
    directory = versions.table_dir(config=config, table_id=table_id) / DIRECTORY
    return directory / f"v{version}-time.parquet", directory / f"v{version}-time.json"


_loaded: dict[Path, tuple[tuple[int, ...], Projection]] = {}
_loaded_lock = threading.Lock()


def find(*, config: DatastoreConfig, table_id: str, version: int, data: Path, column: str) -> Projection | None:
    """The built projection of a version by ``column``, if it matches the local ``data`` file."""
    path, record = files(config=config, table_id=table_id, version=version)
    try:  # three stats per query: a deleted or replaced file is never trusted from memory
        meta_st, path_st, data_st = record.stat(), path.stat(), data.stat()
    except FileNotFoundError:
        return None
    stamp = (meta_st.st_mtime_ns, meta_st.st_size, path_st.st_mtime_ns, path_st.st_size, data_st.st_size)
    with _loaded_lock:
        cached = _loaded.get(record)
    if cached is not None and cached[0] == stamp:
        return cached[1] if cached[1].column == column else None
    try:
        meta = json.loads(record.read_text(encoding="utf-8"))
        valid = (
            meta.get("format") == FORMAT
            and meta.get("column") == column
            and meta.get("source_size") == data_st.st_size
            and meta.get("size") == path_st.st_size
        )
        if not valid:
            return None
        projection = Projection(path=path, column=column, groups=_row_groups(path, column))
    except (OSError, ValueError, KeyError, IndexError):
        return None
    with _loaded_lock:
        if len(_loaded) > 1024:
            _loaded.clear()
        _loaded[record] = (stamp, projection)
    return projection


def _row_groups(path: Path, column: str) -> tuple[RowGroup, ...]:
    metadata = pq.ParquetFile(path).metadata
    names = [metadata.schema.column(i).name for i in range(metadata.num_columns)]
    index = names.index(column)
    groups = []
    for i in range(metadata.num_row_groups):
        group = metadata.row_group(i)
        stats = group.column(index).statistics
        if stats is None or not stats.has_min_max:
            if stats is not None and stats.null_count == group.num_rows:
                groups.append(RowGroup(None, None, group.num_rows))
                continue
            raise ValueError(f"{path}: row group {i} has no statistics for {column}")
        groups.append(RowGroup(stats.min, stats.max, group.num_rows))
    return tuple(groups)


def choose(
    *, config: DatastoreConfig, table_id: str, version: int, data: Path, request: SearchRequest
) -> Projection | None:
    """The projection that serves ``request`` (a row search) faster than ``data``, if there is one; when there
    should be one and it is missing, its build starts in the background and this request reads ``data``."""
    if not request.sort or request.group_by or request.aggregates or request.time_bucket or request.distinct:
        return None
    order = layout(config=config, table_id=table_id, version=version)
    if order is None or request.sort[0].field != order.time:
        return None
    if order.keys and any(f.field == order.keys[0] and f.op in PRUNING_OPS for f in request.filters):
        return None
    found = find(config=config, table_id=table_id, version=version, data=data, column=order.time)
    if found is None:
        build_in_background(config=config, table_id=table_id, version=version)
    return found


# --- building -------------------------------------------------------------------------------------------------------


def build(*, config: DatastoreConfig, table_id: str, version: int) -> Projection | None:
    """Build (or find) the projection of a version; None when its layout does not call for one."""
    order = layout(config=config, table_id=table_id, version=version)
    if order is None:
        return None
    data = versions.data_path(config=config, table_id=table_id, version=version)
    existing = find(config=config, table_id=table_id, version=version, data=data, column=order.time)
    if existing is not None:
        return existing
    started = time.monotonic()
    path, record = files(config=config, table_id=table_id, version=version)
    path.parent.mkdir(exist_ok=True)  # not the table directory: a table dropped meanwhile stays dropped
    for stale in path.parent.glob(".build-*"):  # left by a killed process
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > STALE_BUILD_SECONDS:
                shutil.rmtree(stale)
    work = path.parent / f".build-{uuid.uuid4().hex}"
    work.mkdir()
    try:
        out = work / path.name
        row = quote_ident(ROW_COLUMN)
        schema = versions.read_schema(config=config, table_id=table_id, version=version)
        columns = ", ".join(quote_ident(f.name) for f in schema.fields)
        query = (
            f"SELECT {columns}, file_row_number AS {row} FROM {parquet_scan(data, row_number=True)}"  # noqa: S608
            f" ORDER BY {quote_ident(order.time)} ASC NULLS LAST, {row} ASC"
        )
        with open_engine(config=config, workdir=work, readable=[data]) as engine:
            rows = engine.copy_parquet(query, Params(), path=out, row_group_size=config.row_group_size)
        os.replace(out, path)
        meta = {
            "format": FORMAT,
            "table_id": table_id,
            "version": version,
            "column": order.time,
            "order": [order.time, ROW_COLUMN],
            "rows": rows,
            "size": path.stat().st_size,
            "source_size": data.stat().st_size,
            "built_at": datetime.now(UTC).isoformat(),
            "seconds": round(time.monotonic() - started, 3),
        }
        atomic_write(record, (json.dumps(meta, indent=2) + "\n").encode("utf-8"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("datastore: time projection of %s v%d by %s built in %.1f s", table_id, version, order.time,
             time.monotonic() - started)  # fmt: skip
    return find(config=config, table_id=table_id, version=version, data=data, column=order.time)


def build_after_ingest(*, config: DatastoreConfig, table_id: str, version: int) -> bool:
    """``build`` for the ingest job, once the version is published and active: a failure is logged, never raised
    (readers fall back to ``data.parquet`` and retry in the background). True when the version has a projection."""
    try:
        return build(config=config, table_id=table_id, version=version) is not None
    except (CityCommonsError, EngineError, OSError, ValueError) as exc:
        log.warning("datastore: time projection of %s v%d failed: %s", table_id, version, exc)
    except Exception:
        log.exception("datastore: time projection of %s v%d failed", table_id, version)
    return False


class _Builder:
    """One background thread per process building missing projections, one at a time (a build sorts a whole
    version: several at once would starve the queries); each version is queued once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.executor: ThreadPoolExecutor | None = None
        self.pending: set[tuple[DatastoreConfig, str, int]] = set()
        self.failed: dict[tuple[DatastoreConfig, str, int], float] = {}

    def submit(self, config: DatastoreConfig, table_id: str, version: int) -> bool:
        key = (config, table_id, version)
        with self.lock:
            failed_at = self.failed.get(key)
            if key in self.pending or (failed_at is not None and time.monotonic() - failed_at < RETRY_FAILED_SECONDS):
                return False
            if self.executor is None:
                self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="datastore-projection")
            self.pending.add(key)
            self.executor.submit(self._run, key)
            return True

    def _run(self, key: tuple[DatastoreConfig, str, int]) -> None:
        config, table_id, version = key
        try:  # one DuckDB thread: the process is serving queries meanwhile
            build(config=replace(config, threads=1), table_id=table_id, version=version)
        except (CityCommonsError, EngineError, OSError, ValueError) as exc:
            log.warning("datastore: time projection of %s v%d failed: %s", table_id, version, exc)
            with self.lock:
                self.failed[key] = time.monotonic()
        except Exception:
            log.exception("datastore: time projection of %s v%d failed", table_id, version)
            with self.lock:
                self.failed[key] = time.monotonic()
        finally:
            with self.lock:
                self.pending.discard(key)

    def wait(self, timeout: float) -> bool:
        """Wait until no build is pending (tests, benchmarks); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if not self.pending:
                    return True
            time.sleep(0.02)
        return False


_builder = _Builder()


def _after_fork_in_child() -> None:
    """A forked job worker has none of its parent's threads (nor a lock one of them held): start afresh."""
    global _builder
    _builder = _Builder()


os.register_at_fork(after_in_child=_after_fork_in_child)


def build_in_background(*, config: DatastoreConfig, table_id: str, version: int) -> bool:
    """Queue the build of a version's projection in this process; False if it is queued already or failed
    recently."""
    return _builder.submit(config, table_id, version)


def wait_for_builds(timeout: float = 60.0) -> bool:
    """Block until the background builds of this process are done; False on timeout."""
    return _builder.wait(timeout)
