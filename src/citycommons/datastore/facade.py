"""The only module that imports duckdb.

Every connection is in-memory, sandboxed (``enable_external_access=false`` with an explicit allow-list of paths,
no extension loading, ``lock_configuration``) and every statement runs under a wall-clock limit. Identifiers are
quoted here (``quote_ident``); values travel as named parameters (``Params``), never spliced into SQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

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
    con = duckdb.connect(":memory:", config={"threads": config.threads, "memory_limit": config.memory_limit})
    try:
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
