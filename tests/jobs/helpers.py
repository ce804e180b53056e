"""Shared by the job tests and tests/datastore/test_auto_ingest.py: settings, waiting for a job, a file server."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from citycommons.db.migrate import upgrade
from citycommons.settings import Settings
from tests.conftest import PG_URL, SHARED, _settings

DATA = SHARED / "data"
STATIONS = DATA / "bcn-air-stations.csv"  # 55 rows, 15 columns, UTF-8
TREES = DATA / "madrid-arbolado-distritos-2024.csv"  # Latin-1, ';', 260 rows
SMALL_CSV = b"district,value\nGracia,3\nSants,5\nHorta,8\n"


def job_settings(request: pytest.FixtureRequest, tmp_path: Path, **extra: Any) -> Settings:
    """The conftest's settings (SQLite, or PostgreSQL under ``engine_kind``) with a small datastore footprint."""
    extra = {"datastore_memory_limit": "256MB", "datastore_threads": 1, **extra}
    url = None
    if "engine_kind" in request.fixturenames and request.getfixturevalue("engine_kind") == "postgres":
        schema = request.getfixturevalue("pg_schema")
        url = f"{PG_URL}?options=-csearch_path%3D{schema},public"
    settings = _settings(tmp_path, url, **extra)
    upgrade(settings)
    return settings


def wait_for_job(client: Any, job_id: str, headers: dict[str, str] | None = None, timeout: float = 30) -> dict:
    """Polls GET /api/v1/jobs/{id} until the job has finished; returns its JSON."""
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"/api/v1/jobs/{job_id}", headers=headers or {})
        assert r.status_code == 200, r.text
        job = r.json()
        if job["status"] in ("succeeded", "failed", "superseded"):
            return job
        assert time.monotonic() < deadline, f"job still {job['status']} after {timeout} s: {job}"
        time.sleep(0.05)


class _Handler(http.server.SimpleHTTPRequestHandler):
    redirects: dict[str, str] = {}

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        target = self.redirects.get(self.path)
        if target is not None:
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def file_server(directory: Path, redirects: dict[str, str] | None = None) -> Iterator[str]:
    """Serves ``directory`` on 127.0.0.1:<free port>; yields the base URL."""
    handler = type("Handler", (_Handler,), {"redirects": dict(redirects or {})})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
