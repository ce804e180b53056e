"""The stored log on SQLite and PostgreSQL: append, proofs, tree heads, serialised appends, crash safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import inspect, text

from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from citycommons.db.migrate import current_revision, upgrade
from citycommons.errors import Invalid, NotFound
from citycommons.ledger import jobs, merkle, service
from citycommons.ledger.canonical import entry_bytes
from citycommons.ledger.keys import generate_signer
from citycommons.ledger.schemas import EventType, LedgerEvent
from tests.conftest import _settings
from tests.ledger.factories import PSEUDONYM_KEY, event

HERE = Path(__file__).parent


@pytest.fixture
def signer():  # type: ignore[no-untyped-def]
    return generate_signer()


def fill(uow, start: int, count: int, *, batch: int = 50) -> None:  # type: ignore[no-untyped-def]
    for first in range(start, start + count, batch):
        with uow() as s:
            service.append_many(session=s, events=[event(n) for n in range(first, min(first + batch, start + count))])


def test_migration_creates_the_tables(engine_kind, settings) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(settings)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {"ledger_entry", "ledger_node", "ledger_tree_head"} <= tables
        assert current_revision(engine) is not None
    finally:
        engine.dispose()


def test_migration_matches_the_models(engine_kind, settings) -> None:  # type: ignore[no-untyped-def]
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from citycommons.db.models_registry import metadata

    engine = make_engine(settings)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()
    ours = [d for d in diff if "ledger" in repr(d)]
    assert ours == []


def test_page_arguments_are_checked(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        for kwargs in ({"start": -1}, {"limit": 0}, {"limit": 1001}):
            with pytest.raises(Invalid):
                service.list_entries(session=s, **kwargs)
        assert service.list_entries(session=s).entries == []
        assert service.latest_tree_head(session=s) is None
        assert service.root_hash(session=s, tree_size=0) == merkle.EMPTY_ROOT


def test_tables_are_append_only(engine_kind, uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        service.append(session=s, event=event(0))
    for statement in ("UPDATE ledger_entry SET event_type = 'x'", "DELETE FROM ledger_entry"):
        with pytest.raises(Exception, match="append-only"), uow() as s:
            s.execute(text(statement))


def test_append_returns_the_entry_and_canonical_bytes(engine_kind, uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        first = service.append(session=s, event=event(0))
        second = service.append(session=s, event=event(1))
    assert (first.index, second.index) == (0, 1)
    assert bytes.fromhex(first.leaf_hash) == merkle.leaf_hash(first.entry.encode())
    assert first.entry.startswith('{"details":{"n":0,"ok":true,"rows":0},"index":0,"objects":["dataset:0"],')
    assert " " not in first.entry and first.type == "dataset.read"
    assert second.subjects == [service.pseudonym(PSEUDONYM_KEY, "user-1")]
    with uow() as s:
        page = service.list_entries(session=s, start=0, limit=10)
        assert page.tree_size == 2 and [e.model_dump() for e in page.entries] == [
            first.model_dump(),
            second.model_dump(),
        ]
        assert [e.index for e in service.list_entries(session=s, type="dataset.access_rights_changed").entries] == [1]


def test_events_refuse_personal_data_shapes() -> None:
    with pytest.raises(ValueError, match="subjects"):
        LedgerEvent(type=EventType.DATASET_READ, subjects=["alice@example.org"])
    with pytest.raises(ValueError, match="objects"):
        LedgerEvent(type=EventType.DATASET_READ, objects=["user:alice@example.org"])
    with pytest.raises(ValueError, match="floats"):
        LedgerEvent(type=EventType.DATASET_READ, details={"score": 0.5})
    with pytest.raises(ValueError, match="type"):
        LedgerEvent(type="dataset.frobnicated")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="16 bytes"):
        service.pseudonym(b"short", "x")


def test_proofs_and_tree_heads(engine_kind, uow, signer) -> None:  # type: ignore[no-untyped-def]
    """Every inclusion proof for a 37-entry log, and consistency between every pair of signed tree heads."""
    heads = []
    with uow() as s:
        heads.append(service.sign_tree_head(session=s, signer=signer))  # the empty tree
    sizes = [1, 2, 3, 7, 8, 9, 16, 20, 37]
    done = 0
    for size in sizes:
        fill(uow, done, size - done, batch=4)
        done = size
        with uow() as s:
            heads.append(service.sign_tree_head(session=s, signer=signer))
    reference = merkle.MerkleTree(merkle.leaf_hash(service_entry.entry.encode()) for service_entry in _all(uow))
    assert [h.tree_size for h in heads] == [0, *sizes]
    for head in heads:
        assert head.root_hash == reference.root(head.tree_size).hex()
        assert head.key_id == signer.key_id
    with uow() as s:
        assert service.latest_tree_head(session=s) == heads[-1]
        assert service.list_tree_heads(session=s).tree_heads == heads
        for older in heads:
            for newer in heads:
                if older.tree_size > newer.tree_size:
                    continue
                proof = service.consistency(session=s, first=older.tree_size, second=newer.tree_size)
                path = [bytes.fromhex(h) for h in proof.consistency_path]
                assert path == reference.consistency_proof(older.tree_size, newer.tree_size)
                assert merkle.verify_consistency(
                    first=older.tree_size,
                    second=newer.tree_size,
                    first_root=bytes.fromhex(older.root_hash),
                    second_root=bytes.fromhex(newer.root_hash),
                    proof=path,
                )
        for index in range(37):
            got = service.get_entry(session=s, index=index)
            assert got.tree_head == heads[-1] and got.inclusion is not None
            assert merkle.verify_inclusion(
                index=index,
                size=37,
                leaf=bytes.fromhex(got.entry.leaf_hash),
                path=[bytes.fromhex(h) for h in got.inclusion.inclusion_path],
                root=bytes.fromhex(heads[-1].root_hash),
            )
        at_9 = service.get_entry(session=s, index=4, tree_size=9)
        assert at_9.tree_head == heads[6] and at_9.inclusion is not None
        assert [bytes.fromhex(h) for h in at_9.inclusion.inclusion_path] == reference.inclusion_proof(4, 9)
        with pytest.raises(NotFound):
            service.get_entry(session=s, index=37)
        with pytest.raises(Invalid):
            service.get_entry(session=s, index=5, tree_size=5)
        with pytest.raises(Invalid):
            service.consistency(session=s, first=3, second=38)
    fill(uow, 37, 1)
    with uow() as s:  # not yet covered by a signed head: the entry, no proof
        latest = service.get_entry(session=s, index=37)
        assert latest.inclusion is None and latest.tree_head == heads[-1]


def _all(uow):  # type: ignore[no-untyped-def]
    with uow() as s:
        return service.list_entries(session=s, limit=1000).entries


def test_a_failed_transaction_leaves_nothing(engine_kind, uow, sessionmaker, signer) -> None:  # type: ignore[no-untyped-def]
    fill(uow, 0, 5)
    # An exception after the leaf is written but before its subtree nodes: the whole append rolls back.
    engine = sessionmaker.kw["bind"]

    def crash(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "INSERT INTO ledger_node" in statement:  # on PostgreSQL, one statement with the entry's INSERT
            raise RuntimeError("power cut")

    sa_event.listen(engine, "before_cursor_execute", crash)
    try:
        with pytest.raises(RuntimeError, match="power cut"), uow() as s:
            service.append(session=s, event=event(5))  # index 5 completes nodes (1, 2): the node insert crashes
    finally:
        sa_event.remove(engine, "before_cursor_execute", crash)
    with pytest.raises(RuntimeError, match="before commit"), uow() as s:
        service.append_many(session=s, events=[event(5), event(6)])
        raise RuntimeError("crash before commit")
    with uow() as s:
        assert service.current_size(session=s) == 5
        appended = service.append(session=s, event=event(5))
        assert appended.index == 5  # no gap where the failed appends were
        service.sign_tree_head(session=s, signer=signer)
    with uow() as s:
        result = service.audit(session=s, public_key=signer.public_key)
    assert result.ok, result.summary()
    assert result.tree_size == 6


def test_savepoint_rollback_forgets_the_cached_edge(engine_kind, uow, signer) -> None:  # type: ignore[no-untyped-def]
    with uow() as s:
        service.append(session=s, event=event(0))
        nested = s.begin_nested()
        service.append(session=s, event=event(1))
        nested.rollback()
        assert service.append(session=s, event=event(2)).index == 1
        service.sign_tree_head(session=s, signer=signer)
    with uow() as s:
        assert service.audit(session=s, public_key=signer.public_key).ok


def test_concurrent_appends_are_gapless(engine_kind, settings, signer) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(settings)
    factory = make_sessionmaker(engine)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for n in range(15):
                with unit_of_work(factory) as s:
                    service.append(session=s, event=event(worker * 100 + n))
                    if n % 5 == 0:
                        service.append(session=s, event=event(worker * 100 + n))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with unit_of_work(factory) as s:
        service.sign_tree_head(session=s, signer=signer)
        result = service.audit(session=s, public_key=signer.public_key)
        indices = [e.index for e in service.list_entries(session=s, limit=1000).entries]
    engine.dispose()
    assert indices == list(range(4 * 18))
    assert result.ok and result.tree_size == 72, result.summary()


def test_killed_writer_leaves_whole_transactions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL a process mid-batch (SQLite): every batch is fully in or not at all, and the tree verifies."""
    settings = _settings(tmp_path)
    upgrade(settings)
    batch = 40
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "crash_writer.py"), str(settings.data_dir), str(batch)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(HERE.parents[1])},
    )
    committed = 0
    try:
        assert proc.stdout is not None
        while committed < 3 * batch:  # let it commit a few batches...
            line = proc.stdout.readline()
            assert line, "the writer died"
            if line.startswith("committed"):
                committed = int(line.split()[1])
        while (line := proc.stdout.readline()).strip() != "inside":
            assert line, "the writer died"
            committed = int(line.split()[1])
        proc.send_signal(signal.SIGKILL)  # ...then kill it inside the next one
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    signer = generate_signer()
    engine = make_engine(settings)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as s:
        size = service.current_size(session=s)
        service.sign_tree_head(session=s, signer=signer)
        result = service.audit(session=s, public_key=signer.public_key)
    engine.dispose()
    # Usually size == committed; a loaded machine may let a batch or two commit before the signal lands.
    assert size >= committed and size % batch == 0, (size, committed)
    assert result.ok and result.tree_size == size, result.summary()


def _queued(uow) -> int:  # type: ignore[no-untyped-def]
    with uow() as s:
        return int(s.execute(text("SELECT count(*) FROM ledger_queue")).scalar_one())


def _drained(uow, within: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    """The queue empties by itself (the sequencer thread), without a reader catching up."""
    deadline = time.monotonic() + within
    while _queued(uow):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_submitted_events_are_logged_iff_their_transaction_commits(engine_kind, uow, signer) -> None:  # type: ignore[no-untyped-def]
    """``submit`` (what request handlers call): queued without the lock on PostgreSQL, sequenced once the
    transaction commits; never logged when it rolls back, whole or to a savepoint."""
    with uow() as s:
        service.submit(session=s, event=event(0))
        service.submit(session=s, event=event(1))
    assert _drained(uow)  # sequenced after the commit by the process's sequencer thread
    with pytest.raises(RuntimeError, match="crash"), uow() as s:
        service.submit(session=s, event=event(2))
        raise RuntimeError("crash before commit")
    with uow() as s:
        nested = s.begin_nested()
        service.submit(session=s, event=event(3))
        nested.rollback()
        service.submit(session=s, event=event(4))
    with uow() as s:
        entries = service.list_entries(session=s).entries
        service.sign_tree_head(session=s, signer=signer)
    assert [(e.index, e.details["n"]) for e in entries] == [(0, 0), (1, 1), (2, 4)]
    for e in entries:  # byte for byte what append writes: the canonical entry with its index, RFC 9162 leaf hash
        stamp = int(e.entry.split('"timestamp":')[1].split(",")[0])
        data = entry_bytes(index=e.index, type=e.type, timestamp_ms=stamp, subjects=e.subjects, objects=e.objects,
                           purpose=e.purpose, details=e.details)  # fmt: skip
        assert e.entry.encode() == data and bytes.fromhex(e.leaf_hash) == merkle.leaf_hash(data)
    with uow() as s:
        result = service.audit(session=s, public_key=signer.public_key)
    assert result.ok and result.tree_size == 3, result.summary()


def test_a_queued_event_left_by_a_dead_process_is_sequenced_by_the_next_reader(
    engine_kind, uow, sessionmaker, signer
) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: the process dies between its commit and sequencing. The committed event waits in the queue and
    is sequenced, in order, by the next reader of the log, the tree-head job or the next append."""
    if engine_kind != "postgres":
        pytest.skip("on SQLite submit appends in the caller's transaction: there is no queue")
    for n in range(3):
        with uow() as s:
            service.submit(session=s, event=event(n))
            s.info.pop(service._INTEGRATE)  # as if killed right after COMMIT
    assert _queued(uow) == 3
    with uow() as s:
        assert service.pending(session=s) and jobs.needs_head(session=s)
    with uow() as s:
        assert [e.details["n"] for e in service.list_entries(session=s).entries] == [0, 1, 2]
    assert _queued(uow) == 0
    with uow() as s:
        service.submit(session=s, event=event(3))
        s.info.pop(service._INTEGRATE)
    assert jobs.sign_job(sessionmaker, signer) is not None  # the tree-head job sequences it before signing
    with uow() as s:
        assert service.current_size(session=s) == 4 and not service.pending(session=s)
        result = service.audit(session=s, public_key=signer.public_key)
    assert result.ok and result.tree_size == 4, result.summary()


def test_concurrent_submits_and_appends_are_gapless(engine_kind, settings, uow, signer) -> None:  # type: ignore[no-untyped-def]
    """Eight request-like writers (one submit per transaction, a few rolled back) and an importer (append_many):
    every committed event is in the log exactly once, indices have no gaps, nothing is left queued."""
    engine = make_engine(settings)
    factory = make_sessionmaker(engine)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            for n in range(25):
                try:
                    with unit_of_work(factory) as s:
                        service.submit(session=s, event=event(worker * 1000 + n))
                        if n % 10 == 9:
                            raise LookupError("the request failed")
                except LookupError:
                    pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def importer() -> None:
        try:
            for batch in range(5):
                with unit_of_work(factory) as s:
                    service.append_many(session=s, events=[event(9000 + batch * 10 + k) for k in range(10)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    threads.append(threading.Thread(target=importer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert _drained(uow)
    with unit_of_work(factory) as s:
        entries = service.list_entries(session=s, limit=1000).entries
        service.sign_tree_head(session=s, signer=signer)
        result = service.audit(session=s, public_key=signer.public_key)
    engine.dispose()
    expected = {w * 1000 + n for w in range(8) for n in range(25) if n % 10 != 9} | set(range(9000, 9050))
    assert sorted(e.details["n"] for e in entries) == sorted(expected)
    assert [e.index for e in entries] == list(range(len(expected)))
    assert result.ok and result.tree_size == len(expected), result.summary()


def test_stopping_the_sequencers_leaves_nothing_running_and_loses_nothing(engine_kind, uow) -> None:  # type: ignore[no-untyped-def]
    """Before a schema is dropped (tests, benchmarks) the background sequencers stop; what they had not sequenced
    stays queued and the next reader sequences it."""
    if engine_kind != "postgres":
        pytest.skip("on SQLite submit appends in the caller's transaction: there is no sequencer")
    for n in range(3):
        with uow() as s:
            service.submit(session=s, event=event(n))
    service.stop_sequencers()
    assert not service._Sequencer._running
    with uow() as s:
        assert [e.details["n"] for e in service.list_entries(session=s).entries] == [0, 1, 2]
