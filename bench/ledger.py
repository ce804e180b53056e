"""Transparency-log benchmark: sustained appends and proof latency at scale.

    .venv/bin/python bench/ledger.py                       # 1,000,000 entries on SQLite (a few minutes)
    .venv/bin/python bench/ledger.py --entries 200000      # a quicker run; proofs are then timed at 200,000
    .venv/bin/python bench/ledger.py --postgres            # the same on PostgreSQL too (db `test`, 127.0.0.1)

Targets (the transparency issue): append >= 5,000 entries/s sustained; inclusion and consistency proofs
p50 <= 5 ms at 1,000,000 entries. Appends are measured three ways:

- one writer, one entry per transaction through ``service.append`` (commit each);
- ``--threads`` concurrent writers, one entry per transaction, each its own session and transaction, through
  ``service.submit`` (what ``record.*`` calls for every read of non-open data: the way requests log). The
  clock stops when every entry is sequenced into the log, not merely committed to the queue, so the figure is
  the sustained rate of the log;
- ``--batch`` entries per transaction, through a loop of ``service.append`` (``--single`` entries), and through
  ``service.append_many`` (the rest: imports, jobs).

On PostgreSQL it first prints the machine's ceilings for one-row transactions by ``--threads`` writers, without
the log: raw psycopg, raw psycopg holding one global lock through each COMMIT (the bound of any design that
sequences inside the request's transaction), and through the app's own sessions. The machine is shared: the
load average is printed before and after each engine's run.

Events are built before the clock starts (a pool of 1,000 distinct ones), so the figures are the log's own
cost. Proofs are timed as the API will serve them, each in its own session: ``get_entry`` (entry + inclusion
proof against the latest signed tree head) and ``consistency(first, size)``, random indices and sizes; every
proof is verified (untimed) against the signed root.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from citycommons.db.migrate import upgrade
from citycommons.ledger import merkle, service
from citycommons.ledger.keys import generate_signer
from citycommons.ledger.schemas import EventType, LedgerEvent
from citycommons.settings import Settings

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
APPEND_TARGET = 5000.0
PROOF_TARGET_MS = 5.0


def event_pool(size: int = 1000) -> list[LedgerEvent]:
    key = b"bench-pseudonym-key-0123456789abcdef"
    types = list(EventType)
    return [
        LedgerEvent(
            type=types[n % len(types)],
            subjects=[service.pseudonym(key, f"person-{n % 97}")],
            objects=[f"dataset:{uuid.UUID(int=n)}"],
            purpose="statistics" if n % 3 else None,
            details={"rows": n * 7, "format": "csv", "granted": n % 2 == 0},
        )
        for n in range(size)
    ]


def single_transactions(factory: sessionmaker[Session], pool: list[LedgerEvent], count: int) -> float:
    start = time.perf_counter()
    for n in range(count):
        with unit_of_work(factory) as s:
            service.append(session=s, event=pool[n % len(pool)])
    return count / (time.perf_counter() - start)


def concurrent_transactions(
    factory: sessionmaker[Session], pool: list[LedgerEvent], count: int, threads: int
) -> tuple[float, float]:
    """``threads`` writers share ``count`` entries, one ``submit`` per transaction. Returns (committed/s,
    sequenced/s): the second clock stops once the log holds every entry."""
    with factory() as s:
        target = service.current_size(session=s) + count
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for n in range(worker, count, threads):
                with unit_of_work(factory) as s:
                    service.submit(session=s, event=pool[n % len(pool)])
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(w,)) for w in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    committed = time.perf_counter() - start
    if errors:
        raise errors[0]
    while True:  # every committer sequences the queue on its way out: this is normally already true
        with factory() as s:
            if service.current_size(session=s) >= target:
                s.commit()
                break
    sequenced = time.perf_counter() - start
    return count / committed, count / sequenced


def threaded_rate(writer: Callable[[int], None], threads: int, count: int) -> float:
    """Transactions per second of ``threads`` threads each running ``writer(count // threads)``."""
    workers = [threading.Thread(target=writer, args=(count // threads,)) for _ in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return threads * (count // threads) / (time.perf_counter() - start)


def pg_ceiling(url: str, threads: int, count: int) -> tuple[float, float]:
    """What this machine's PostgreSQL allows, without the log: ``threads`` writers committing one small row per
    transaction with raw psycopg, (a) as they come and (b) holding one global advisory lock through each COMMIT
    (taken last, just before it), which is the best any design that sequences inside the request could do."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    rates = []
    for locked in (False, True):
        table = f"bench_ceiling_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, data bytea)")
        try:

            def writer(n: int, locked: bool = locked, table: str = table) -> None:
                with psycopg.connect(dsn) as conn:
                    for _ in range(n):
                        conn.execute(f"INSERT INTO {table} (data) VALUES (%s)", (b"x" * 200,))  # noqa: S608
                        if locked:
                            conn.execute("SELECT pg_advisory_xact_lock(%s)", (service.LOCK_KEY + 1,))
                        conn.commit()

            rates.append(threaded_rate(writer, threads, count))
        finally:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f"DROP TABLE {table}")
    return rates[0], rates[1]


def session_ceiling(factory: sessionmaker[Session], threads: int, count: int) -> float:
    """The same one-row transactions through the app's sessions (``unit_of_work``: pool checkout with its ping,
    BEGIN, INSERT, COMMIT), without the log: what a request that logs one event could at best reach here."""
    table = f"bench_ceiling_{uuid.uuid4().hex[:8]}"
    with unit_of_work(factory) as s:
        s.execute(text(f"CREATE TABLE {table} (id bigserial PRIMARY KEY, data bytea)"))

    def writer(n: int) -> None:
        for _ in range(n):
            with unit_of_work(factory) as s:
                s.connection().exec_driver_sql(f"INSERT INTO {table} (data) VALUES (%s)", (b"x" * 200,))  # noqa: S608

    rate = threaded_rate(writer, threads, count)
    with unit_of_work(factory) as s:
        s.execute(text(f"DROP TABLE {table}"))
    return rate


def batched_transactions(
    factory: sessionmaker[Session], pool: list[LedgerEvent], count: int, batch: int, progress: bool, *, many: bool
) -> float:
    """``batch`` entries per transaction: one ``append_many`` call (an import), or a loop of ``append`` calls."""
    start = time.perf_counter()
    done = 0
    while done < count:
        size = min(batch, count - done)
        with unit_of_work(factory) as s:
            if many:
                service.append_many(session=s, events=[pool[n % len(pool)] for n in range(done, done + size)])
            else:
                for n in range(done, done + size):
                    service.append(session=s, event=pool[n % len(pool)])
        done += size
        if progress and done % (100 * batch) == 0:
            rate = done / (time.perf_counter() - start)
            print(f"  ... {done:,} batched appends, {rate:,.0f}/s", flush=True)
    return count / (time.perf_counter() - start)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(factory: sessionmaker[Session], samples: int, call: Callable[[Session, random.Random], None]) -> list[float]:
    rng = random.Random(9162)
    times = []
    for _ in range(samples):
        with factory() as s:
            start = time.perf_counter()
            call(s, rng)
            times.append((time.perf_counter() - start) * 1000)
    return times


def run(label: str, settings: Settings, args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    upgrade(settings)
    engine = make_engine(settings)
    factory = make_sessionmaker(engine)
    pool = event_pool()
    signer = generate_signer()
    rows: list[tuple[str, str, str, str]] = []
    n_single = min(args.single, args.entries)
    if settings.sqlalchemy_url.startswith("postgresql"):
        print(f"[{label}] the machine's ceiling: raw one-row transactions, {args.threads} writers ...", flush=True)
        free, serial = pg_ceiling(PG_URL, args.threads, 4000)
        rows.append((f"ceiling: raw INSERT+COMMIT, {args.threads} writers", f"{free:,.0f} /s", "", "no log"))
        rows.append(("ceiling: same, global lock through COMMIT", f"{serial:,.0f} /s", "", "no log"))
        app = session_ceiling(factory, args.threads, 4000)
        rows.append(("ceiling: same through the app's sessions", f"{app:,.0f} /s", "", "no log"))
    print(f"[{label}] {n_single:,} appends, one per transaction ...", flush=True)
    single = single_transactions(factory, pool, n_single)
    rows.append(("append, 1 entry per transaction", f"{single:,.0f} /s", f">= {APPEND_TARGET:,.0f} /s",
                 status(single >= APPEND_TARGET)))  # fmt: skip
    n_concurrent = min(args.concurrent, args.entries - n_single)
    print(
        f"[{label}] {n_concurrent:,} appends by {args.threads} concurrent writers, one per transaction ...", flush=True
    )
    committed, sequenced = concurrent_transactions(factory, pool, n_concurrent, args.threads)
    rows.append((f"submit, {args.threads} writers, 1 entry per tx", f"{sequenced:,.0f} /s",
                 f">= {APPEND_TARGET:,.0f} /s", status(sequenced >= APPEND_TARGET)))  # fmt: skip
    rows.append(("  committed (sequenced: the line above)", f"{committed:,.0f} /s", "", ""))
    n_loop = min(args.single, args.entries - n_single - n_concurrent)
    print(f"[{label}] {n_loop:,} appends, a loop of append(), {args.batch:,} per transaction ...", flush=True)
    looped = batched_transactions(factory, pool, n_loop, args.batch, args.progress, many=False)
    rows.append((f"append() loop, {args.batch:,} per transaction", f"{looped:,.0f} /s",
                 f">= {APPEND_TARGET:,.0f} /s", status(looped >= APPEND_TARGET)))  # fmt: skip
    n_batched = args.entries - n_single - n_concurrent - n_loop
    print(f"[{label}] {n_batched:,} appends, append_many of {args.batch:,} per transaction ...", flush=True)
    batched = batched_transactions(factory, pool, n_batched, args.batch, args.progress, many=True)
    rows.append((f"append_many, {args.batch:,} per transaction", f"{batched:,.0f} /s",
                 f">= {APPEND_TARGET:,.0f} /s", status(batched >= APPEND_TARGET)))  # fmt: skip

    with unit_of_work(factory) as s:
        start = time.perf_counter()
        head = service.sign_tree_head(session=s, signer=signer)
        sign_ms = (time.perf_counter() - start) * 1000
    size, root = head.tree_size, bytes.fromhex(head.root_hash)
    assert size == args.entries, (size, args.entries)
    rows.append(("sign a tree head", f"{sign_ms:.2f} ms", "", ""))

    proofs: list[tuple[int, list[bytes], bytes]] = []

    def inclusion(s: Session, rng: random.Random) -> None:
        got = service.get_entry(session=s, index=rng.randrange(size))
        assert got.inclusion is not None
        proofs.append((got.entry.index, [bytes.fromhex(h) for h in got.inclusion.inclusion_path],
                       bytes.fromhex(got.entry.leaf_hash)))  # fmt: skip

    print(f"[{label}] {args.samples:,} inclusion and consistency proofs at {size:,} entries ...", flush=True)
    p50, p99 = percentiles(timed(factory, args.samples, inclusion))
    for index, path, leaf in proofs:
        assert merkle.verify_inclusion(index=index, size=size, leaf=leaf, path=path, root=root)
    rows.append(("inclusion proof (get_entry) p50", f"{p50:.2f} ms", f"<= {PROOF_TARGET_MS:g} ms",
                 status(p50 <= PROOF_TARGET_MS)))  # fmt: skip
    rows.append(("inclusion proof (get_entry) p99", f"{p99:.2f} ms", "", ""))

    firsts: list[tuple[int, list[bytes]]] = []

    def consistency(s: Session, rng: random.Random) -> None:
        first = rng.randrange(1, size)
        proof = service.consistency(session=s, first=first, second=size)
        firsts.append((first, [bytes.fromhex(h) for h in proof.consistency_path]))

    p50, p99 = percentiles(timed(factory, args.samples, consistency))
    with factory() as s:
        for first, path in firsts[:100]:  # the old roots cost a read each: check a hundred
            old = service.root_hash(session=s, tree_size=first)
            assert merkle.verify_consistency(first=first, second=size, first_root=old, second_root=root, proof=path)
    rows.append(("consistency proof p50", f"{p50:.2f} ms", f"<= {PROOF_TARGET_MS:g} ms",
                 status(p50 <= PROOF_TARGET_MS)))  # fmt: skip
    rows.append(("consistency proof p99", f"{p99:.2f} ms", "", ""))

    if args.audit:
        print(f"[{label}] audit: recompute the whole tree from the stored entries ...", flush=True)
        with factory() as s:
            start = time.perf_counter()
            result = service.audit(session=s, public_key=signer.public_key)
            seconds = time.perf_counter() - start
        assert result.ok, result.summary()
        rows.append(("audit (recompute everything)", f"{seconds:.1f} s", "", f"{size / seconds:,.0f} entries/s"))
    engine.dispose()
    return rows


def status(ok: bool) -> str:
    return "ok" if ok else "BELOW TARGET"


def print_table(title: str, rows: list[tuple[str, str, str, str]]) -> None:
    print()
    print(f"{title} (load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
    print(f"  {'metric':<40} {'value':>14} {'target':>14}  status")
    for metric, value, target, state in rows:
        print(f"  {metric:<40} {value:>14} {target:>14}  {state}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=1_000_000, help="log size to build (default 1,000,000)")
    parser.add_argument("--single", type=int, default=20_000, help="of which appended one per transaction")
    parser.add_argument("--concurrent", type=int, default=40_000, help="of which by concurrent writers")
    parser.add_argument("--threads", type=int, default=8, help="concurrent writers, each its own transactions")
    parser.add_argument("--batch", type=int, default=1000, help="entries per transaction for the rest")
    parser.add_argument("--samples", type=int, default=1000, help="proofs timed per kind")
    parser.add_argument("--postgres", action="store_true", help="also run on PostgreSQL (a fresh schema in `test`)")
    parser.add_argument("--audit", action="store_true", help="also time a full audit of the stored log")
    parser.add_argument("--progress", action="store_true", help="print progress while appending")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    if args.entries < 1_000_000:
        print(f"note: {args.entries:,} entries; the proof target is stated at 1,000,000")

    with tempfile.TemporaryDirectory(prefix="cc-ledger-bench-") as tmp:
        settings = Settings(environment="test", data_dir=Path(tmp))
        rows = run("sqlite", settings, args)
        print_table(f"SQLite (WAL, synchronous=NORMAL), {args.entries:,} entries", rows)

    if args.postgres:
        schema = f"bench_ledger_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        try:
            with tempfile.TemporaryDirectory(prefix="cc-ledger-bench-") as tmp:
                url = f"{PG_URL}?options=-csearch_path%3D{schema},public"
                settings = Settings(environment="test", data_dir=Path(tmp), database_url=url)
                rows = run("postgres", settings, args)
            print_table(f"PostgreSQL (127.0.0.1, schema {schema}, dropped after), {args.entries:,} entries", rows)
        finally:
            service.stop_sequencers()
            with admin.connect() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            admin.dispose()


if __name__ == "__main__":
    main()
