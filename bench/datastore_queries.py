"""Query half of ``bench/datastore.py``: Q1-Q5 through citycommons' HTTP API against the issue's three peers.

The table is the one ``bench/datastore.py`` just published with ``ingest_file`` (default layout: sorted by
``sensor_id, ts``). It is attached to a catalog distribution of a fresh citycommons instance served by
``citycommons serve`` in a child process (uvicorn, one worker, rate limiter off), and queried over HTTP/1.1 with a
keep-alive ``httpx`` client through ``GET /api/v1/datastore/{id}/rows`` — the same route a re-user calls.

Peers, in the same run, on the same rows:
- **PostgreSQL 15** (127.0.0.1:5432, db ``test``): the CSV loaded into a typed table (``integer``, ``timestamp``,
  ``text``, ``double precision``) with B-tree indexes on ``(sensor_id, ts)`` and ``(ts)`` and ``ANALYZE``d; queried
  with direct SQL over psycopg (no HTTP: a peer with every advantage).
- **Datasette** 0.65 over SQLite through HTTP (``datasette serve``, ``sql_time_limit_ms`` raised so the
  aggregates finish): the same typed table and indexes, queried with its JSON API (``?sql=...&_shape=array``).
- **Raw DuckDB** on the same Parquet file, in process (no HTTP, no checks): our floor.

Queries (parameters drawn from a seeded generator, identical for every system):
- Q1 one sensor over one day / over half a year (``sensor_id = s AND ts in range``, ordered by time);
- Q2 daily average per district for one metric (``metric = 'no2'``, group by district and day);
- Q3 distinct sensors per district;
- Q4 the page of 100 rows after the first 100,000 in time order: keyset cursor (ours: ``cursor=``; peers:
  ``WHERE ts > last``) and ``OFFSET 100000``;
- Q5 a filtered count (``district = 'Gràcia' AND metric = 'no2' AND value >= 50``).
Each is timed ``--samples`` times after one warm-up; the p50 (and p95) in milliseconds are reported.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
SENSORS = 5_000
DAY = 86_400
GOAL_PG = 10.0
GOAL_RAW = 1.5
GOAL_RAW_SLACK_MS = 5.0
GOAL_Q1_MS = 10.0
GOAL_Q4_MS = 20.0


@dataclass
class Case:
    """One query with the parameters of each sample (the same for every system)."""

    name: str
    what: str
    samples: list[dict[str, Any]]


@dataclass
class Timings:
    system: str
    p50: dict[str, float] = field(default_factory=dict)
    p95: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


def cases(samples: int, heavy_samples: int, seed: int = 7) -> list[Case]:
    rng = random.Random(seed)

    def day(span: int) -> dict[str, Any]:
        start = rng.randint(0, 365 - span)
        a = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1704067200 + start * DAY))
        b = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1704067200 + (start + span) * DAY))
        return {"sensor": rng.randint(1, SENSORS), "from": a, "to": b}

    return [
        Case("Q1 day", "one sensor over one day", [day(1) for _ in range(samples)]),
        Case("Q1 half-year", "one sensor over half a year", [day(182) for _ in range(samples)]),
        Case("Q2", "daily average per district, one metric", [{"metric": "no2"}] * heavy_samples),
        Case("Q3", "distinct sensors per district", [{}] * heavy_samples),
        Case("Q4 keyset", "100 rows after the first 100,000 by time, cursor", [{"after": 100_000}] * samples),
        Case("Q4 offset", "100 rows after the first 100,000 by time, OFFSET", [{"after": 100_000}] * heavy_samples),
        Case("Q5", "filtered count", [{"district": "Gràcia", "metric": "no2", "min": 50}] * heavy_samples),
    ]


def _time(call: Callable[[dict[str, Any]], int], samples: list[dict[str, Any]]) -> tuple[float, float, int]:
    call(samples[0])  # warm-up: caches, plans, connections
    times, rows = [], 0
    for params in samples:
        started = time.perf_counter()
        rows = call(params)
        times.append((time.perf_counter() - started) * 1000)
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], rows


def measure(system: str, runners: dict[str, Callable[[dict[str, Any]], int]], all_cases: list[Case]) -> Timings:
    found = Timings(system)
    for case in all_cases:
        print(f"  {system}: {case.name} ...", flush=True)
        p50, p95, rows = _time(runners[case.name], case.samples)
        found.p50[case.name], found.p95[case.name], found.rows[case.name] = p50, p95, rows
    return found


# ------------------------------------------------------------------------------------------------ SQL of the peers
def peer_sql(table: str, placeholder: Callable[[str], str], day_sql: Callable[[str], str]) -> dict[str, str]:
    p = placeholder
    return {
        "Q1": f"SELECT ts, value FROM {table} WHERE sensor_id = {p('sensor')} AND ts >= {p('from')} "  # noqa: S608
        f"AND ts < {p('to')} ORDER BY ts",
        "Q2": f"SELECT district, {day_sql('ts')} AS day, avg(value) AS avg_value FROM {table} "  # noqa: S608
        f"WHERE metric = {p('metric')} GROUP BY 1, 2",
        "Q3": f"SELECT district, count(DISTINCT sensor_id) AS sensors FROM {table} GROUP BY 1",  # noqa: S608
        "Q4 keyset": f"SELECT * FROM {table} WHERE ts > {p('last')} ORDER BY ts LIMIT 100",  # noqa: S608
        "Q4 offset": f"SELECT * FROM {table} ORDER BY ts LIMIT 100 OFFSET {p('after')}",  # noqa: S608
        "Q5": f"SELECT count(*) FROM {table} WHERE district = {p('district')} AND metric = {p('metric')} "  # noqa: S608
        f"AND value >= {p('min')}",
    }


def _runners(execute: Callable[[str, dict[str, Any]], int], sql: dict[str, str], last_ts: str) -> dict[str, Any]:
    return {
        "Q1 day": lambda a: execute(sql["Q1"], a),
        "Q1 half-year": lambda a: execute(sql["Q1"], a),
        "Q2": lambda a: execute(sql["Q2"], a),
        "Q3": lambda a: execute(sql["Q3"], a),
        "Q4 keyset": lambda a: execute(sql["Q4 keyset"], {"last": last_ts}),
        "Q4 offset": lambda a: execute(sql["Q4 offset"], a),
        "Q5": lambda a: execute(sql["Q5"], a),
    }


# ------------------------------------------------------------------------------------------------------ raw DuckDB
def bench_duckdb(parquet: Path, all_cases: list[Case]) -> tuple[Timings, str]:
    import duckdb

    con = duckdb.connect(config={"threads": 2})
    con.execute("SET parquet_metadata_cache = true")
    con.execute(f"CREATE VIEW sensors AS SELECT * FROM read_parquet('{parquet}')")
    last = con.execute("SELECT ts FROM sensors ORDER BY ts LIMIT 1 OFFSET 99999").fetchone()
    last_ts = str(last[0]) if last else ""

    def execute(sql: str, args: dict[str, Any]) -> int:
        params = dict(args)
        for key in ("from", "to", "last"):
            if key in params:
                params[key] = params[key].replace("T", " ")
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        return len(con.execute(sql, used).fetchall())

    sql = peer_sql("sensors", lambda name: f"${name}" if name not in ("from", "to", "last") else
                   f"CAST(${name} AS TIMESTAMP)", lambda c: f"date_trunc('day', {c})")  # fmt: skip
    try:
        return measure("raw DuckDB on the Parquet", _runners(execute, sql, last_ts), all_cases), last_ts
    finally:
        con.close()


# ------------------------------------------------------------------------------------------------------ PostgreSQL
def bench_postgres(source: Path, all_cases: list[Case]) -> Timings:
    import psycopg

    schema = f"cc_bench_q_{os.getpid()}"
    table = f'"{schema}".sensors'
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            print("  PostgreSQL: loading a typed table with indexes ...", flush=True)
            conn.execute(f"CREATE TABLE {table} (sensor_id integer, ts timestamp, district text, metric text, "
                         "value double precision)")  # fmt: skip
            copy_sql = f"COPY {table} FROM STDIN WITH (FORMAT csv, HEADER true)"
            with conn.cursor() as cur, source.open("rb") as fh, cur.copy(copy_sql) as copy:
                while chunk := fh.read(1 << 20):
                    copy.write(chunk)
            conn.execute(f"CREATE INDEX ON {table} (sensor_id, ts)")
            conn.execute(f"CREATE INDEX ON {table} (ts)")
            conn.execute(f"ANALYZE {table}")
            row = conn.execute(f"SELECT ts FROM {table} ORDER BY ts LIMIT 1 OFFSET 99999").fetchone()  # noqa: S608
            last_ts = row[0].isoformat() if row else ""

            def execute(sql: str, args: dict[str, Any]) -> int:
                return len(conn.execute(sql, args).fetchall())  # type: ignore[arg-type]

            sql = peer_sql(table, lambda name: f"%({name})s", lambda c: f"date_trunc('day', {c})")
            return measure("PostgreSQL 15, indexes, direct SQL", _runners(execute, sql, last_ts), all_cases)
        finally:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# ------------------------------------------------------------------------------------------- Datasette over SQLite
def _sqlite_file(source: Path, workdir: Path) -> Path:
    db = workdir / "sensors.db"
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("CREATE TABLE sensors (sensor_id INTEGER, ts TEXT, district TEXT, metric TEXT, value REAL)")

    def rows() -> Iterator[tuple[int, str, str, str, float]]:
        with source.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            for sensor, ts, district, metric, value in reader:
                yield int(sensor), ts.replace("T", " "), district, metric, float(value)

    con.executemany("INSERT INTO sensors VALUES (?, ?, ?, ?, ?)", rows())
    con.execute("CREATE INDEX sensors_sensor_ts ON sensors (sensor_id, ts)")
    con.execute("CREATE INDEX sensors_ts ON sensors (ts)")
    con.execute("ANALYZE")
    con.commit()
    con.close()
    return db


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], seconds: float = 120.0) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def bench_datasette(source: Path, workdir: Path, all_cases: list[Case]) -> Timings:
    import httpx

    print("  Datasette: loading SQLite with indexes ...", flush=True)
    db = _sqlite_file(source, workdir)
    port = free_port()
    datasette = shutil.which("datasette", path=str(Path(sys.executable).parent)) or "datasette"
    process = subprocess.Popen(
        [datasette, "serve", str(db), "-h", "127.0.0.1", "-p", str(port), "--setting", "sql_time_limit_ms", "600000",
         "--setting", "max_returned_rows", "100000", "--setting", "num_sql_threads", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/-/versions.json", process)
        with sqlite3.connect(db) as con:
            row = con.execute("SELECT ts FROM sensors ORDER BY ts LIMIT 1 OFFSET 99999").fetchone()
        last_ts = row[0] if row else ""
        client = httpx.Client(base_url=base, timeout=900)

        def execute(sql: str, args: dict[str, Any]) -> int:
            params = {k: (v.replace("T", " ") if k in ("from", "to", "last") else v) for k, v in args.items()}
            used = {k: v for k, v in params.items() if f":{k}" in sql}
            r = client.get("/sensors.json", params={"sql": sql, "_shape": "array", **used})
            r.raise_for_status()
            return len(r.json())

        sql = peer_sql("sensors", lambda name: f":{name}", lambda c: f"substr({c}, 1, 10)")
        try:
            return measure("Datasette 0.65 over SQLite, HTTP", _runners(execute, sql, last_ts), all_cases)
        finally:
            client.close()
    finally:
        process.terminate()
        process.wait(30)


# ---------------------------------------------------------------------------------------------------- citycommons
SETUP = r"""
import json, sys
from pathlib import Path
from citycommons.actor import SYSTEM
from citycommons.catalog import organizations, service
from citycommons.catalog.schemas import DatasetCreate, OrganizationCreate
from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from citycommons.db.migrate import upgrade
from citycommons.settings import Settings
settings = Settings(environment="test", data_dir=Path(sys.argv[1]))
upgrade(settings)
factory = make_sessionmaker(make_engine(settings))
with unit_of_work(factory) as s:
    organizations.create(session=s, actor=SYSTEM, data=OrganizationCreate(name="environment", title={"en": "Env"}))
    ds = service.create(session=s, actor=SYSTEM, settings=settings, data=DatasetCreate.model_validate({
        "name": "sensor-readings", "title": {"en": "Sensor readings"}, "organization": "environment",
        "license_id": "cc-by-4.0",
        "distributions": [{"title": {"en": "Readings"}, "url": "https://example.org/r.csv", "format": "CSV"}]}))
print(json.dumps({"distribution": ds.distributions[0].id}))
"""


PROJECTION = r"""
import sys, time
from pathlib import Path
from citycommons.datastore import DatastoreConfig, projections
started = time.monotonic()
projections.build(config=DatastoreConfig(root=Path(sys.argv[1])), table_id=sys.argv[2], version=1)
print(f"{time.monotonic() - started:.1f}")
"""


def bench_ours(table_dir: Path, workdir: Path, all_cases: list[Case]) -> Timings:
    import httpx

    data_dir = workdir / "portal"
    data_dir.mkdir()
    done = subprocess.run([sys.executable, "-c", SETUP, str(data_dir)], check=True, capture_output=True, text=True)
    distribution = json.loads(done.stdout.strip().splitlines()[-1])["distribution"]
    (data_dir / "datastore").mkdir(exist_ok=True)
    shutil.copytree(table_dir, data_dir / "datastore" / distribution)
    # What the ingest job does right after publishing (the table is query-ready before): the time-ordered projection.
    built = subprocess.run([sys.executable, "-c", PROJECTION, str(data_dir / "datastore"), distribution], check=True,
                           capture_output=True, text=True)  # fmt: skip
    print(f"  citycommons: time projection built after publishing in {built.stdout.strip()} s", flush=True)
    port = free_port()
    env = {**os.environ, "CITYCOMMONS_DATA_DIR": str(data_dir), "CITYCOMMONS_RATE_LIMIT_ENABLED": "false",
           "CITYCOMMONS_ENVIRONMENT": "test", "CITYCOMMONS_LEDGER_TREE_HEAD_INTERVAL_SECONDS": "0"}  # fmt: skip
    cli = shutil.which("citycommons", path=str(Path(sys.executable).parent)) or "citycommons"
    process = subprocess.Popen([cli, "serve", "--port", str(port), "--log-level", "warning"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/api/v1/datastore/{distribution}", process)
        client = httpx.Client(base_url=base, timeout=900)
        rows = f"/api/v1/datastore/{distribution}/rows"

        def get(params: dict[str, Any]) -> int:
            r = client.get(rows, params=params)
            if r.status_code != 200:
                raise RuntimeError(f"{r.status_code} {r.text[:300]}")
            return len(r.json()["records"])

        first = client.get(rows, params={"sort": "ts", "limit": 100, "offset": 99_900}).json()
        cursor = first.get("next_cursor")
        if not cursor:
            raise RuntimeError(f"no next_cursor in {json.dumps(first)[:300]}")

        def q1(a: dict[str, Any]) -> int:
            filters = {"sensor_id": a["sensor"], "ts": {"gte": a["from"], "lt": a["to"]}}
            return get({"filters": json.dumps(filters), "sort": "ts", "fields": "ts,value", "limit": 5000})

        runners = {
            "Q1 day": q1,
            "Q1 half-year": q1,
            "Q2": lambda a: get(
                {
                    "filters": json.dumps({"metric": a["metric"]}),
                    "group_by": "district",
                    "time_bucket_field": "ts",
                    "time_bucket_unit": "day",
                    "aggregates": "avg:value",
                    "limit": 10_000,
                }
            ),  # fmt: skip
            "Q3": lambda a: get({"group_by": "district", "aggregates": "count_distinct:sensor_id", "limit": 100}),
            "Q4 keyset": lambda a: get({"sort": "ts", "limit": 100, "cursor": cursor}),
            "Q4 offset": lambda a: get({"sort": "ts", "limit": 100, "offset": a["after"]}),
            "Q5": lambda a: get(
                {
                    "filters": json.dumps(
                        {"district": a["district"], "metric": a["metric"], "value": {"gte": a["min"]}}
                    ),
                    "aggregates": "count",
                    "limit": 1,
                }
            ),  # fmt: skip
        }
        try:
            return measure("citycommons over HTTP", runners, all_cases)
        finally:
            client.close()
    finally:
        process.terminate()
        process.wait(30)


# ---------------------------------------------------------------------------------------------------------- report
def report(results: list[Timings], all_cases: list[Case]) -> list[str]:
    lines = ["", "queries: p50 ms (p95 ms); rows returned by the last sample"]
    head = f"{'query':<14}" + "".join(f"{t.system[:26]:>28}" for t in results)
    lines += [head, "-" * len(head)]
    for case in all_cases:
        cells = "".join(
            f"{t.p50[case.name]:>14.1f} ({t.p95[case.name]:>7.1f}){t.rows[case.name]:>5}"
            if case.name in t.p50 else f"{'-':>28}"
            for t in results
        )  # fmt: skip
        lines.append(f"{case.name:<14}{cells}")
    by = {t.system.split()[0]: t for t in results}
    ours, pg, ds, raw = by.get("citycommons"), by.get("PostgreSQL"), by.get("Datasette"), by.get("raw")
    lines += ["", "goals (ratios from this run)"]

    def goal(text: str, value: float | None, ok: bool | None) -> None:
        shown = "-" if value is None else f"{value:.2f}"
        verdict = "not measured" if ok is None else ("met" if ok else "NOT met")
        lines.append(f"  {text:<66}{shown:>9}  {verdict}")

    if ours is None:
        return lines
    for name in ("Q2", "Q3", "Q5"):
        if pg is not None:
            ratio = pg.p50[name] / ours.p50[name]
            goal(f"{name} over HTTP >= {GOAL_PG:g}x faster than PostgreSQL (PG/ours)", ratio, ratio >= GOAL_PG)
        if raw is not None:
            ratio = ours.p50[name] / raw.p50[name]
            ok = ours.p50[name] <= GOAL_RAW * raw.p50[name] + GOAL_RAW_SLACK_MS
            goal(f"{name} within {GOAL_RAW:g}x (+{GOAL_RAW_SLACK_MS:g} ms) of raw DuckDB (ours/raw)", ratio, ok)
    if ds is not None:
        for case in all_cases:
            ratio = ds.p50[case.name] / ours.p50[case.name]
            goal(f"{case.name} faster over HTTP than Datasette (Datasette/ours)", ratio, ratio > 1)
    goal(f"Q1 one day p50 <= {GOAL_Q1_MS:g} ms over HTTP (ms)", ours.p50["Q1 day"], ours.p50["Q1 day"] <= GOAL_Q1_MS)
    goal(f"Q4 with a keyset cursor <= {GOAL_Q4_MS:g} ms (ms)", ours.p50["Q4 keyset"],
         ours.p50["Q4 keyset"] <= GOAL_Q4_MS)  # fmt: skip
    return lines


def run_all(
    *, source: Path, table_dir: Path, parquet: Path, workdir: Path, samples: int, heavy_samples: int,
    postgres: bool, datasette: bool,
) -> tuple[list[str], list[Timings]]:  # fmt: skip
    """Every system on the same cases; returns the printed report lines and the timings."""
    all_cases = cases(samples, heavy_samples)
    results = [bench_ours(table_dir, workdir, all_cases)]
    raw, _ = bench_duckdb(parquet, all_cases)
    results.append(raw)
    if postgres:
        results.append(bench_postgres(source, all_cases))
    if datasette:
        results.append(bench_datasette(source, workdir, all_cases))
    return report(results, all_cases), results
