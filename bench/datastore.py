"""Datastore benchmark: 10M sensor readings, citycommons vs raw DuckDB vs PostgreSQL 15 (XLoader's path).

    .venv/bin/python bench/datastore.py [--rows 10000000] [--skip-postgres] [--skip-fulltext] [--repeat 1] [--keep]

1. **Data.** A deterministic sensor-like CSV (``sensor_id`` over 5,000 sensors, ``ts`` over 2024, ``district`` among
   Barcelona's 10, ``metric``, ``value``), made by DuckDB from integer arithmetic only (no ``random()``, no
   ``hash()``), so every run and every machine gets the same bytes. Cached as
   ``$TMPDIR/citycommons-bench/sensors-<rows>.csv``; the file is in time order, as a logger writes it.
2. **citycommons**: ``ingest_file`` (the real API, default ``DatastoreConfig`` except the upload size limit) in a
   fresh subprocess, timed from the call to its return: the version is published, query-ready. Twice: with the
   default layout (sorted by ``sensor_id, ts``, see ``datastore/layout.py``) and with ``sort_by_key_and_time=False``
   (source order). Peak RSS of the first (default) run is ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` read right
   after it; the others report their own ``RUSAGE_SELF``.
3. **Raw DuckDB** (the floor): ``COPY (SELECT * FROM read_csv(<file>)) TO <out> (FORMAT parquet, COMPRESSION zstd,
   ROW_GROUP_SIZE 122880)`` with auto-detection, in a fresh subprocess with the same threads and memory limit: the
   same Parquet options as ours, none of our checks.
4. **PostgreSQL 15** on 127.0.0.1:5432 (database ``test``, user ``postgres``), in a new schema dropped afterwards,
   the way ckanext-xloader's ``load_csv`` and CKAN's DataStore do it: ``datastore_create`` makes the table
   (``_id serial primary key``, ``_full_text tsvector``, every column ``text``); ``COPY ... FROM STDIN (FORMAT csv,
   HEADER)`` streamed with psycopg; ``UPDATE ... SET _full_text = to_tsvector(<all columns>)`` (xloader's
   ``_populate_fulltext``); ``create_indexes`` builds the whole-row full-text index (``USING gist(_full_text)``,
   CKAN's default method; CKAN 2.11 also indexes every text column, 2.12 no longer does, so we do not); then
   ``ANALYZE`` (xloader's ``calculate_record_count``). Each step is timed; ``--skip-fulltext`` leaves out the two
   full-text steps (minutes at 10M rows). XLoader's own Python re-encoding pass before the COPY is not counted.

Prints one table: seconds, CPU seconds (our subprocesses), MB/s and peak RSS per system, the PostgreSQL steps,
then the goals of the issue with the ratios (ours/raw DuckDB, PostgreSQL/ours) and whether they are met. CPU
seconds are shown because a shared machine inflates wall times: compare ratios from the same run. Results also go
to ``bench/results/datastore-<rows>.json``.

5. **Queries** (``bench/datastore_queries.py``): the default-layout table served by ``citycommons serve`` and queried
   over HTTP (Q1-Q5 of the issue), against PostgreSQL with indexes (direct SQL), Datasette over SQLite (HTTP) and raw
   DuckDB on the same Parquet; ``--skip-queries`` leaves this half out. ``layout_probe`` also times one point
   lookup in-process with DuckDB on both layouts, which is what the sorted layout is for.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datastore_queries  # noqa: E402

SENSORS = 5_000
DISTRICTS = (
    "Ciutat Vella", "Eixample", "Sants-Montjuïc", "Les Corts", "Sarrià-Sant Gervasi",
    "Gràcia", "Horta-Guinardó", "Nou Barris", "Sant Andreu", "Sant Martí",
)  # fmt: skip
METRICS = ("no2", "pm10", "pm2_5", "o3", "noise_db", "temperature")
YEAR_SECONDS = 365 * 86_400
PG_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
RESULTS = Path(__file__).resolve().parent / "results"

GOAL_PG_RATIO = 5.0
"""Ingest query-ready at least this many times faster than PostgreSQL."""
GOAL_RAW_RATIO = 1.3
"""Ingest at most this many times slower than raw DuckDB."""
GOAL_PEAK_MB = 1024
"""Peak memory of the ingest."""


# ---------------------------------------------------------------------------------------------------------- data
def generator_sql(rows: int, path: Path) -> str:
    """The deterministic readings file: reading k of sensor s at 2024-01-01 + k * step + offset(s)."""
    per_sensor = max(1, -(-rows // SENSORS))
    step = YEAR_SECONDS // per_sensor
    districts = "[" + ", ".join("'" + d + "'" for d in DISTRICTS) + "]"
    metrics = "[" + ", ".join(f"'{m}'" for m in METRICS) + "]"
    return f"""
        COPY (
            WITH r AS (SELECT i, i % {SENSORS} AS s, i // {SENSORS} AS k FROM range({int(rows)}) t(i))
            SELECT s + 1 AS sensor_id,
                   strftime(TIMESTAMP '2024-01-01 00:00:00'
                            + to_seconds(k * {step} + (s * 7919) % {step}), '%Y-%m-%dT%H:%M:%S') AS ts,
                   {districts}[1 + (s * 31) % 10] AS district,
                   {metrics}[1 + s % 6] AS metric,
                   round(((i * 2654435761 + 12345) % 1000003) / 10000.0, 2) AS value
            FROM r ORDER BY i
        ) TO '{path}' (FORMAT csv, HEADER true)
    """  # noqa: S608 - constants only


GENERATE = r"""
import sys, duckdb
con = duckdb.connect(config={"threads": 2, "preserve_insertion_order": True})
con.execute(sys.stdin.read())
"""


def dataset(rows: int) -> Path:
    folder = Path(tempfile.gettempdir()) / "citycommons-bench"
    folder.mkdir(exist_ok=True)
    path = folder / f"sensors-{rows}.csv"
    if not path.exists():
        started = time.monotonic()
        print(f"generating {path} ...", flush=True)
        tmp = path.with_suffix(".tmp")  # in a child: this process stays small (see ``child``)
        subprocess.run([sys.executable, "-c", GENERATE], input=generator_sql(rows, tmp), text=True, check=True)
        tmp.rename(path)
        print(f"  {path.stat().st_size / 1e6:.1f} MB in {time.monotonic() - started:.1f} s", flush=True)
    return path


# ---------------------------------------------------------------------------------------------------- measuring
@dataclass
class Run:
    system: str
    seconds: float
    cpu_seconds: float | None = None
    peak_rss_mb: float | None = None
    rows: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


OURS = r"""
import json, resource, sys, time
from pathlib import Path
from citycommons.datastore import DatastoreConfig, ingest_file
root, source, sort = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "sorted"
config = DatastoreConfig(root=root, max_file_bytes=10**13, sort_by_key_and_time=sort)
before = resource.getrusage(resource.RUSAGE_SELF)
started = time.monotonic()
result = ingest_file(config=config, table_id="sensors", source=source, filename=source.name)
seconds = time.monotonic() - started
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({
    "seconds": seconds,
    "cpu_seconds": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
    "peak_rss_mb": after.ru_maxrss / 1024,
    "rows": result.report.rows,
    "path": str(result.path),
    "parquet_mb": result.path.stat().st_size / 1e6,
    "types": {f.name: f.type for f in result.table_schema.fields},
    "sorted_by": result.report.sorted_by,
    "warnings": result.report.warnings,
    "memory_limit": config.memory_limit, "threads": config.threads,
}))
"""

RAW = r"""
import json, resource, sys, time, duckdb
source, out, threads, memory = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
con = duckdb.connect(config={"threads": threads, "memory_limit": memory})
before = resource.getrusage(resource.RUSAGE_SELF)
started = time.monotonic()
rows = con.execute(
    f"COPY (SELECT * FROM read_csv('{source}')) TO '{out}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"
).fetchone()[0]
seconds = time.monotonic() - started
after = resource.getrusage(resource.RUSAGE_SELF)
types = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{out}')").fetchall()
print(json.dumps({
    "seconds": seconds,
    "cpu_seconds": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
    "peak_rss_mb": after.ru_maxrss / 1024, "rows": rows,
    "parquet_mb": __import__("os").path.getsize(out) / 1e6,
    "types": {name: kind for name, kind, *_ in types},
}))
"""


def child(code: str, *args: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; its last output line is JSON.

    Linux carries a parent's high-water RSS into ``ru_maxrss`` of the children it spawns, so this process imports
    neither DuckDB nor citycommons before the measured runs: peak RSS figures are the children's own.
    """
    done = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _run(system: str, got: dict[str, Any]) -> Run:
    seconds, cpu, rss, rows = (got.pop(k) for k in ("seconds", "cpu_seconds", "peak_rss_mb", "rows"))
    return Run(system, float(seconds), float(cpu), float(rss), int(rows), got)


def run_ours(source: Path, store: Path, *, sort: bool) -> Run:
    got = child(OURS, str(store), str(source), "sorted" if sort else "source")
    order = list(got["sorted_by"])
    label = "citycommons ingest_file, " + (f"sorted ({', '.join(order)})" if order else "source order")
    return _run(label, got)


def run_raw(source: Path, workdir: Path, *, threads: int, memory_limit: str) -> Run:
    out = workdir / "raw.parquet"
    got = child(RAW, str(source), str(out), str(threads), memory_limit)
    out.unlink(missing_ok=True)
    return _run("raw DuckDB read_csv -> Parquet (floor)", got)


def run_postgres(source: Path, *, fulltext: bool) -> Run:
    """XLoader's ``load_csv`` + CKAN DataStore ``create_indexes`` + ``ANALYZE``, step by step, in a fresh schema."""
    import psycopg

    schema = f"cc_bench_{os.getpid()}"
    with source.open("r", encoding="utf-8", newline="") as fh:
        header = fh.readline().rstrip("\r\n").split(",")
    columns = ", ".join(f'"{c}"' for c in header)
    table = f'"{schema}"."sensors"'
    steps: dict[str, float] = {}
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            started = time.monotonic()
            conn.execute(
                f"CREATE TABLE {table} (_id serial PRIMARY KEY, _full_text tsvector, "
                + ", ".join(f'"{c}" text' for c in header) + ")"
            )  # fmt: skip
            with conn.cursor() as cur, source.open("rb") as fh:
                sql = f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ',', ENCODING 'UTF8')"
                with cur.copy(sql) as copy:
                    while chunk := fh.read(1 << 20):
                        copy.write(chunk)
            steps["CREATE TABLE + COPY FROM STDIN (PK maintained)"] = time.monotonic() - started
            if fulltext:
                started = time.monotonic()
                text = " || ' ' || ".join(f"coalesce(\"{c}\", '')" for c in header)
                conn.execute(f"UPDATE {table} SET _full_text = to_tsvector({text})")
                steps["UPDATE _full_text = to_tsvector(...)"] = time.monotonic() - started
                started = time.monotonic()
                conn.execute(f"CREATE INDEX ON {table} USING gist(_full_text)")
                steps["CREATE INDEX USING gist(_full_text)"] = time.monotonic() - started
            started = time.monotonic()
            conn.execute(f"ANALYZE {table}")
            steps["ANALYZE"] = time.monotonic() - started
            rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        finally:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    label = "PostgreSQL XLoader path" + ("" if fulltext else " without full text")
    return Run(label, sum(steps.values()), rows=int(rows[0]) if rows else None,
               detail={"steps": steps, "server_version": version[0] if version else "?"})  # fmt: skip


def layout_probe(parquet: Path, lookups: int = 60, seed: int = 11) -> dict[str, float]:
    """In-process DuckDB p50 (ms) of one sensor over one day and over one month: not HTTP, only the file layout."""
    import duckdb

    rng = random.Random(seed)
    con = duckdb.connect(config={"threads": 2})
    con.execute("SET parquet_metadata_cache = true")
    sql = (
        "SELECT ts, value FROM read_parquet($p) WHERE sensor_id = $s "
        "AND ts >= CAST($a AS TIMESTAMP) AND ts < CAST($a AS TIMESTAMP) + CAST($span AS INTERVAL) ORDER BY ts"
    )
    found: dict[str, float] = {}
    try:
        for label, days in (("day", 1), ("month", 30)):
            times = []
            for _ in range(lookups):
                start = f"2024-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}"
                params = {"p": str(parquet), "s": rng.randint(1, SENSORS), "a": start, "span": f"{days} days"}
                began = time.perf_counter()
                con.execute(sql, params).fetchall()
                times.append((time.perf_counter() - began) * 1000)
            found[label] = statistics.median(times[5:])
    finally:
        con.close()
    return found


# ------------------------------------------------------------------------------------------------------- report
def report(runs: list[Run], rows: int, size_mb: float, probes: dict[str, dict[str, float]], fulltext: bool) -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print()
    print(
        f"{rows:,} rows, {size_mb:.0f} MB CSV; {os.cpu_count()} CPUs, load average {load} (other work inflates every wall time)"
    )
    head = f"{'system':<52}{'seconds':>9}{'CPU s':>8}{'MB/s':>8}{'peak RSS':>10}{'rows':>12}"
    print(head)
    print("-" * len(head))
    for r in runs:
        cpu = f"{r.cpu_seconds:.1f}" if r.cpu_seconds is not None else "-"
        rss = f"{r.peak_rss_mb:.0f} MB" if r.peak_rss_mb is not None else "-"
        print(f"{r.system:<52}{r.seconds:>9.2f}{cpu:>8}{size_mb / r.seconds:>8.1f}{rss:>10}{r.rows or 0:>12,}")
        for step, secs in dict(r.detail.get("steps") or {}).items():
            print(f"  {step:<50}{secs:>9.2f}")
    ours, plain = runs[0], runs[1]  # default configuration first, then sort_by_key_and_time=False
    raw = next((r for r in runs if r.system.startswith("raw")), None)
    pg = next((r for r in runs if r.system.startswith("PostgreSQL")), None)
    print()
    print("goals (ratios from this run)")

    def goal(text: str, value: float | None, ok: bool | None) -> None:
        shown = "-" if value is None else f"{value:.2f}"
        verdict = "not measured" if ok is None else ("met" if ok else "NOT met")
        print(f"  {text:<66}{shown:>8}  {verdict}")

    peers: list[tuple[str, float]] = []
    if pg is not None:
        steps = dict(pg.detail.get("steps") or {})
        bare = sum(v for k, v in steps.items() if "full_text" not in k)
        peers = [("PostgreSQL XLoader path", pg.seconds)] if fulltext else []
        peers.append(("PostgreSQL COPY+PK+ANALYZE", bare))  # what the 29 s reference figure covers
    for label, mine in (("default", ours), ("no sort", plain)):
        for what, seconds in peers:
            ratio = seconds / mine.seconds
            goal(f"ingest >= {GOAL_PG_RATIO:g}x faster: {what}/ours ({label})", ratio, ratio >= GOAL_PG_RATIO)
        if raw is not None:
            ratio = mine.seconds / raw.seconds
            goal(f"ingest <= {GOAL_RAW_RATIO:g}x raw DuckDB: ours/raw, wall ({label})", ratio, ratio <= GOAL_RAW_RATIO)
            if mine.cpu_seconds and raw.cpu_seconds:
                cpu = mine.cpu_seconds / raw.cpu_seconds
                goal(f"  same, CPU seconds ({label})", cpu, cpu <= GOAL_RAW_RATIO)
    goal(
        f"peak memory of the default ingest <= {GOAL_PEAK_MB} MB (MB)",
        ours.peak_rss_mb,
        (ours.peak_rss_mb or 0) <= GOAL_PEAK_MB,
    )
    if probes:
        print()
        print("layout probe: p50 ms of one sensor's readings, in-process DuckDB on the published Parquet (not HTTP)")
        for label, found in probes.items():
            print(f"  {label:<50}" + "".join(f"{k:>7} {v:6.1f}" for k, v in found.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-fulltext", action="store_true", help="PostgreSQL without the two full-text steps")
    parser.add_argument("--repeat", type=int, default=1, help="runs of ours and raw DuckDB; the fastest counts")
    parser.add_argument("--keep", action="store_true", help="keep the published tables (printed)")
    parser.add_argument("--skip-queries", action="store_true", help="the ingest half only")
    parser.add_argument("--skip-datasette", action="store_true", help="leave Datasette out of the query half")
    parser.add_argument("--samples", type=int, default=50, help="timed samples of the fast queries (Q1, Q4 keyset)")
    parser.add_argument("--heavy-samples", type=int, default=5, help="timed samples of Q2, Q3, Q4 offset, Q5")
    args = parser.parse_args()

    source = dataset(args.rows)
    size_mb = source.stat().st_size / 1e6
    workdir = Path(tempfile.mkdtemp(prefix="citycommons-bench-"))
    runs: list[Run] = []
    probes: dict[str, dict[str, float]] = {}
    try:
        print("citycommons, default layout ...", flush=True)
        best: Run | None = None
        for i in range(args.repeat):
            shutil.rmtree(workdir / "sorted", ignore_errors=True)
            run = run_ours(source, workdir / "sorted", sort=True)
            if i == 0:
                run.peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            best = run if best is None or run.seconds < best.seconds else best
        assert best is not None
        runs.append(best)
        print("raw DuckDB ...", flush=True)
        threads, memory = int(best.detail["threads"]), str(best.detail["memory_limit"])
        raws = [run_raw(source, workdir, threads=threads, memory_limit=memory) for _ in range(args.repeat)]
        runs.append(min(raws, key=lambda r: r.seconds))
        print("citycommons, source order ...", flush=True)
        plain: Run | None = None
        for _ in range(args.repeat):
            shutil.rmtree(workdir / "plain", ignore_errors=True)
            run = run_ours(source, workdir / "plain", sort=False)
            plain = run if plain is None or run.seconds < plain.seconds else plain
        assert plain is not None
        runs.insert(1, plain)
        if not args.skip_postgres:
            print("PostgreSQL ...", flush=True)
            runs.append(run_postgres(source, fulltext=not args.skip_fulltext))
        for run in (best, plain):
            probes[run.system.removeprefix("citycommons ingest_file, ")] = layout_probe(Path(str(run.detail["path"])))
        report(runs, args.rows, size_mb, probes, fulltext=not args.skip_fulltext)
        query_lines: list[str] = []
        if not args.skip_queries:
            print("\nquery half ...", flush=True)
            query_lines, _ = datastore_queries.run_all(
                source=source, table_dir=workdir / "sorted" / "sensors", parquet=Path(str(best.detail["path"])),
                workdir=workdir, samples=args.samples, heavy_samples=args.heavy_samples,
                postgres=not args.skip_postgres, datasette=not args.skip_datasette,
            )  # fmt: skip
            print("\n".join(query_lines))
        RESULTS.mkdir(exist_ok=True)
        out = RESULTS / f"datastore-{args.rows}.json"
        out.write_text(json.dumps({"rows": args.rows, "csv_mb": size_mb, "runs": [asdict(r) for r in runs],
                                   "layout_probe": probes, "queries": query_lines,
                                   "loadavg": os.getloadavg()}, indent=2, default=str))  # fmt: skip
        print(f"\nresults: {out}")
    finally:
        if args.keep:
            print(f"kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
