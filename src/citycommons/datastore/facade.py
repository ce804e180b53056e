"""The only module that imports duckdb.

Every connection is in-memory, sandboxed (``enable_external_access=false`` with an explicit allow-list of paths,
no extension loading, ``lock_configuration``) and every statement runs under a wall-clock limit. Identifiers are
quoted here (``quote_ident``); values travel as named parameters (``Params``), never spliced into SQL.

Reads of published versions go through a ``ReadPool`` (``read_pool(config)``): one database that may read files
under the datastore root, a cursor per query on worker threads, a time limit and a row cap per query. Caller-written
SQL runs in a per-query sandbox whose only readable files are the tables it names (``fetch_sandboxed``).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from citycommons.datastore.config import DatastoreConfig


class EngineError(Exception):
    """A DuckDB statement failed; ``interrupted`` when it hit its time limit."""

    def __init__(self, message: str, *, interrupted: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.interrupted = interrupted


def quote_ident(name: str) -> str:
    """Quote an identifier (column or alias) for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A SQL string literal. Prefer ``Params``; this is for the few places DuckDB plans badly with parameters
    (``x IN (...)`` lists) or takes none (``SET``)."""
    return "'" + value.replace("'", "''") + "'"


_literal = quote_literal


class Params:
    """Collects named parameters while SQL is assembled: ``params.add(value)`` returns ``$pN``."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


class Engine:
    """A sandboxed DuckDB connection; each call is one statement under the time limit."""

    def __init__(self, con: duckdb.DuckDBPyConnection, *, timeout: float) -> None:
        self._con = con
        self._timeout = timeout

    def _run(self, sql: str, params: Params | None) -> duckdb.DuckDBPyConnection:
        timer = threading.Timer(self._timeout, self._con.interrupt)
        timer.start()
        try:
            return self._con.execute(sql, params.values if params else None)
        except duckdb.InterruptException as exc:
            raise EngineError(f"statement exceeded {self._timeout:g} s", interrupted=True) from exc
        except duckdb.Error as exc:
            raise EngineError(str(exc)) from exc
        finally:
            timer.cancel()

    def execute(self, sql: str, params: Params | None = None) -> None:
        self._run(sql, params)

    def fetchall(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        cur = self._run(sql, params)
        try:
            return cur.fetchall()
        except duckdb.Error as exc:
            raise EngineError(str(exc)) from exc

    def fetchone(self, sql: str, params: Params | None = None) -> tuple[Any, ...]:
        rows = self.fetchall(sql, params)
        if not rows:
            raise EngineError("statement returned no row")
        return rows[0]

    def copy_parquet(self, query: str, params: Params, *, path: Path, row_group_size: int) -> int:
        """Write the rows of ``query`` to a zstd Parquet file (min/max statistics per row group); returns the count."""
        target = params.add(str(path))
        options = f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {int(row_group_size)}"
        rows = self.fetchall(f"COPY ({query}) TO {target} ({options})", params)
        return int(rows[0][0]) if rows else 0

    def describe(self, sql: str, params: Params | None = None) -> list[tuple[str, str]]:
        """Column names and DuckDB type names of a SELECT."""
        rows = self.fetchall(f"DESCRIBE {sql}", params)
        return [(str(r[0]), str(r[1])) for r in rows]


@contextmanager
def open_engine(
    *, config: DatastoreConfig, workdir: Path, readable: Sequence[Path] = (), timeout: float | None = None
) -> Iterator[Engine]:
    """A connection that may read ``readable`` files and read/write inside ``workdir`` (spill files go there)."""
    con = duckdb.connect(
        ":memory:",
        config={"threads": config.threads, "memory_limit": config.memory_limit},
    )
    try:
        con.execute("SET enable_progress_bar = false")  # a worker's stdout is not a terminal
        spill = workdir / "spill"
        con.execute(f"SET temp_directory = {_literal(str(spill))}")
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        paths = ", ".join(_literal(str(p.resolve())) for p in readable)
        con.execute(f"SET allowed_paths = [{paths}]")
        con.execute(f"SET allowed_directories = [{_literal(str(workdir.resolve()) + '/')}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        yield Engine(con, timeout=timeout if timeout is not None else config.ingest_timeout_seconds)
    finally:
        con.close()


# --- Reads: published Parquet versions, queried on pooled cursors -------------------------------------------------


def parquet_scan(path: Path, *, row_number: bool = False) -> str:
    """The FROM-clause scan of one published Parquet file; ``row_number`` adds its ``file_row_number`` column.

    The path becomes a string literal here and nowhere else: callers pass paths they built from a validated table
    id and version number, never text from a request.
    """
    options = ", file_row_number = true" if row_number else ""
    return f"read_parquet({_literal(str(path))}{options})"


@dataclass(frozen=True)
class ResultColumn:
    name: str
    duck_type: str
    """DuckDB's type name: ``BIGINT``, ``DECIMAL(18,3)``, ``JSON``, ``TIMESTAMP WITH TIME ZONE``..."""


@dataclass
class Rows:
    """A fetched result: at most ``max_rows`` rows, ``truncated`` when more were available."""

    columns: list[ResultColumn]
    rows: list[tuple[Any, ...]]
    truncated: bool = False


class _Watchdog:
    """One daemon thread that interrupts connections whose deadline has passed. A ``threading.Timer`` per query
    starts a thread each time, which costs more than a point lookup on a sorted Parquet file."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Deadline]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, deadline: _Deadline) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + deadline.seconds, next(self._seq), deadline))
            if self._thread is None or not self._thread.is_alive():  # also after a fork
                self._thread = threading.Thread(target=self._run, name="datastore-deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                due, _, deadline = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            deadline.fire()


_WATCHDOG = _Watchdog()


class _Deadline:
    """Interrupts ``con`` after ``seconds``; ``fired`` tells an interrupt from any other failure."""

    def __init__(self, con: duckdb.DuckDBPyConnection, seconds: float) -> None:
        self.seconds = seconds
        self.fired = threading.Event()
        self.done = False
        self._con = con
        self._lock = threading.Lock()

    def fire(self) -> None:
        with self._lock:  # never interrupt a connection whose statement has finished: it may run the next one
            if self.done:
                return
            self.fired.set()
            self._con.interrupt()

    def __enter__(self) -> _Deadline:
        _WATCHDOG.arm(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.done = True

    def error(self, exc: BaseException) -> EngineError:
        if self.fired.is_set() or isinstance(exc, duckdb.InterruptException):
            return EngineError(f"statement exceeded {self.seconds:g} s", interrupted=True)
        return EngineError(str(exc))


_READ_ERRORS = (duckdb.Error, pa.ArrowException, OSError)


def _fetch(
    con: duckdb.DuckDBPyConnection, sql: str, params: Params | None, timeout: float, max_rows: int | None
) -> Rows:
    with _Deadline(con, timeout) as deadline:
        try:
            cur = con.execute(sql, params.values if params else None)
            columns = [ResultColumn(str(d[0]), str(d[1])) for d in cur.description or ()]
            if max_rows is None:
                return Rows(columns, cur.fetchall())
            rows = cur.fetchmany(max_rows + 1)
        except _READ_ERRORS as exc:
            raise deadline.error(exc) from exc
    return Rows(columns, rows[:max_rows], truncated=len(rows) > max_rows)


def _stream(
    connect: Callable[[], duckdb.DuckDBPyConnection], sql: str, params: Params | None, timeout: float, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """Record batches of ``sql`` (at least one, empty for an empty result) on a connection opened at the first
    batch and closed at the end of the stream; the whole stream shares one deadline."""
    con = connect()
    try:
        with _Deadline(con, timeout) as deadline:
            try:
                reader = con.sql(sql, params=params.values if params else None).to_arrow_reader(batch_rows)
                empty = True
                for batch in reader:
                    empty = False
                    yield batch
                if empty:  # writers learn the columns from the first batch
                    yield pa.RecordBatch.from_pylist([], schema=reader.schema)
            except _READ_ERRORS as exc:
                raise deadline.error(exc) from exc
    finally:
        con.close()


def _read_config(config: DatastoreConfig) -> dict[str, str | bool | int | float | list[str]]:
    """Connection settings of read-only databases. Large sorts and joins spill under the datastore root (``.spill``,
    never a table name), not into a ``.tmp`` of whatever directory the process was started in."""
    return {"threads": config.threads, "memory_limit": config.memory_limit,
            "temp_directory": str(config.root / ".spill")}  # fmt: skip


def _sandbox(*, config: DatastoreConfig, views: Mapping[str, Path]) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory database with one view per table; it may read those files and nothing else.

    The views are created first, then file access is switched off (only ``allowed_paths`` stay readable) and the
    configuration is locked, so the statement that follows cannot turn any of it back on.
    """
    con = duckdb.connect(":memory:", config=_read_config(config))
    try:
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        for name, path in views.items():
            con.execute(f"CREATE VIEW {quote_ident(name)} AS SELECT * FROM {parquet_scan(path)}")  # noqa: S608
        paths = ", ".join(_literal(str(p)) for p in views.values())
        con.execute(f"SET allowed_paths = [{paths}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


class ReadPool:
    """Read-only queries over the published Parquet files of one datastore root.

    One in-memory DuckDB database that may read files under ``config.root`` only (external access off, no
    extension loading, configuration locked). A query runs in the caller's thread (request handlers already run in a
    worker thread; a hop to another pool cost about a millisecond per point lookup) on that thread's own cursor, at
    most ``workers`` at once, under a wall-clock limit (the watchdog interrupts the cursor) and a row cap.
    ``stream`` also runs in the caller's thread (a streamed response iterates it in its own worker) and holds a
    cursor of its own until the stream ends.
    """

    def __init__(self, *, config: DatastoreConfig, workers: int = 4) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._local = threading.local()
        self._thread_cursors: list[duckdb.DuckDBPyConnection] = []
        self._slots = threading.BoundedSemaphore(workers)  # queries running at once; the rest wait
        self._con = duckdb.connect(":memory:", config=_read_config(config))
        self._con.execute("SET autoinstall_known_extensions = false")
        self._con.execute("SET autoload_known_extensions = false")
        self._con.execute(f"SET allowed_directories = [{_literal(str(config.root.resolve()) + '/')}]")
        self._con.execute("SET enable_external_access = false")
        self._con.execute("SET lock_configuration = true")

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            return self._con.cursor()

    def _on_cursor(self, sql: str, params: Params | None, timeout: float, max_rows: int | None) -> Rows:
        """Runs in the calling thread on that thread's own cursor (opening one costs about a millisecond)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = self._cursor()
            with self._lock:
                self._thread_cursors.append(cur)
        try:
            return _fetch(cur, sql, params, timeout, max_rows)
        except EngineError:
            self._local.cursor = None  # an interrupted or failed cursor is not reused
            with self._lock:
                self._thread_cursors.remove(cur)
            cur.close()
            raise

    def fetch(self, sql: str, params: Params | None = None, *, timeout: float, max_rows: int | None = None) -> Rows:
        """Run one SELECT on a pooled cursor; at most ``max_rows`` rows are kept (``truncated`` says if more)."""
        with self._slots:
            return self._on_cursor(sql, params, timeout, max_rows)

    def stream(
        self, sql: str, params: Params | None = None, *, timeout: float, batch_rows: int = 8192
    ) -> Iterator[pa.RecordBatch]:
        """Arrow record batches of one SELECT, fetched as they are consumed; ``timeout`` covers the whole stream."""
        return _stream(self._cursor, sql, params, timeout, batch_rows)

    def _in_sandbox(self, sql: str, views: Mapping[str, Path], timeout: float, max_rows: int | None) -> Rows:
        con = _sandbox(config=self.config, views=views)
        try:
            return _fetch(con, sql, None, timeout, max_rows)
        finally:
            con.close()

    def fetch_sandboxed(self, sql: str, *, views: Mapping[str, Path], timeout: float, max_rows: int) -> Rows:
        """Run caller-written SQL (already checked by ``sql.py``) in a per-query sandbox where each name of
        ``views`` is a view over its Parquet file and no other file can be read."""
        with self._slots:
            return self._in_sandbox(sql, views, timeout, max_rows)

    def stream_sandboxed(
        self, sql: str, *, views: Mapping[str, Path], timeout: float, batch_rows: int = 8192
    ) -> Iterator[pa.RecordBatch]:
        """``stream`` for caller-written SQL in a sandbox (see ``fetch_sandboxed``)."""
        views = dict(views)
        return _stream(lambda: _sandbox(config=self.config, views=views), sql, None, timeout, batch_rows)

    def close(self) -> None:
        for cur in self._thread_cursors:
            cur.close()
        self._con.close()


_pools: dict[DatastoreConfig, ReadPool] = {}
_pools_lock = threading.Lock()


def read_pool(config: DatastoreConfig) -> ReadPool:
    """The ``ReadPool`` of ``config`` (created on first use; one per configuration and process)."""
    with _pools_lock:
        pool = _pools.get(config)
        if pool is None:
            pool = _pools[config] = ReadPool(config=config)
        return pool


def close_read_pools(config: DatastoreConfig | None = None) -> None:
    """Close the pool of ``config``, or every pool (application shutdown)."""
    with _pools_lock:
        if config is None:
            pools = list(_pools.values())
            _pools.clear()
        else:
            pool = _pools.pop(config, None)
            pools = [pool] if pool else []
    for pool in pools:
        pool.close()
