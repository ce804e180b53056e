"""The transparency log: append events, read entries with proofs, sign and list tree heads, export, audit.

``append`` is the one function every capability calls to log an event (a use of non-open data, a grant
decision, a change of terms, an erasure...). Like every service it never commits: the caller's transaction
does, so an entry is either fully in the log (leaf, completed subtree nodes) or not at all.

Appends serialise so that indices are gapless: on SQLite the transaction takes the writer lock up front
(``BEGIN IMMEDIATE``, or the lock its earlier writes already hold); on PostgreSQL it takes
``pg_advisory_xact_lock(LOCK_KEY)``, released at commit or rollback. Use READ COMMITTED (PostgreSQL's default),
so that the size read after the lock includes the previous holder's entries. The tree's right edge is kept in
``session.info`` for the transaction (and savepoint) that read it, so a batch of appends in one transaction
reads nothing back from the database.

The hot statements go straight to the driver (``_sql``); proofs read O(log n) rows in one query.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Table, insert, select, text
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from citycommons.errors import Invalid, NotFound, invalid
from citycommons.ledger import merkle
from citycommons.ledger.canonical import NotCanonical, entry_bytes, tree_head_bytes
from citycommons.ledger.keys import LogSigner, public_key_info
from citycommons.ledger.models import LedgerEntry, LedgerNode, LedgerTreeHead
from citycommons.ledger.schemas import (
    EPOCH,
    ConsistencyProof,
    EntryPage,
    EntryProofRead,
    EntryRead,
    InclusionProof,
    LedgerEvent,
    SignedTreeHead,
    TreeHeadList,
)
from citycommons.ledger.verify import Record, VerifyResult, verify_log

LOCK_KEY = 0x636974796C6F67  # "citylog": the PostgreSQL advisory lock that serialises appends
MAX_PAGE = 1000
ENTRIES_FILE, TREE_HEADS_FILE, PUBLIC_KEY_FILE = "entries.ndjson", "sths.json", "public-key.json"

_STATE = "citycommons.ledger.append_state"
INSERT_ENTRY = "INSERT INTO ledger_entry (idx, event_type, leaf_hash, data) VALUES (?, ?, ?, ?)"
INSERT_NODE = "INSERT INTO ledger_node (level, idx, hash) VALUES (?, ?, ?)"
_ENTRY = cast(Table, LedgerEntry.__table__)
_NODE = cast(Table, LedgerNode.__table__)
_HEAD = cast(Table, LedgerTreeHead.__table__)


class LedgerIntegrityError(RuntimeError):
    """The stored tree lacks a node it must have: the database was altered outside the log. Run ``audit``."""


def pseudonym(key: bytes | str, value: str) -> str:
    """The pseudonym of a person's id: hex HMAC-SHA256 under the server-side pseudonym key. Stable per key;
    without the key it cannot be reversed or linked to the id."""
    raw_key = key.encode("utf-8") if isinstance(key, str) else key
    if len(raw_key) < 16:
        raise ValueError("the pseudonym key needs at least 16 bytes")
    return hmac.new(raw_key, value.encode("utf-8"), hashlib.sha256).hexdigest()


def to_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(milliseconds=1)


def now_ms() -> int:
    return to_ms(datetime.now(UTC))


# -- the right edge of the tree and the append lock -------------------------------------------------------------


@dataclass
class _AppendState:
    """The log's size and the roots of the perfect subtrees on its right edge, one per set bit of ``size``."""

    size: int
    frontier: dict[int, bytes] = field(default_factory=dict)  # level -> hash of node (level, (size >> level) - 1)

    def copy(self) -> _AppendState:
        return _AppendState(self.size, dict(self.frontier))

    def push(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Adds a leaf; returns the perfect subtrees it completes (level >= 1) as ``ledger_node`` rows."""
        completed: list[tuple[int, int, bytes]] = []
        level, current = 0, leaf
        while level in self.frontier:
            current = merkle.node_hash(self.frontier.pop(level), current)
            level += 1
            completed.append((level, ((self.size + 1) >> level) - 1, current))
        self.frontier[level] = current
        self.size += 1
        return completed

    def root(self) -> bytes:
        hashes = [self.frontier[level] for level in sorted(self.frontier)]
        if not hashes:
            return merkle.EMPTY_ROOT
        root = hashes[0]
        for left in hashes[1:]:
            root = merkle.node_hash(left, root)
        return root


def _lock(session: Session) -> None:
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "sqlite":
        raw = connection.connection.dbapi_connection
        # pysqlite opens a transaction only before a write, so one already open holds the writer lock.
        if raw is not None and not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    else:
        raise NotImplementedError(f"the ledger does not support {dialect}")


def _sql(session: Session, statement: str, params: Any = ()) -> CursorResult[Any]:
    """Runs one of this module's constant statements on the session's connection, straight to the driver (the
    hot paths: a few hundred microseconds of SQLAlchemy compilation per append add up). Statements use ``?``
    placeholders, rewritten to ``%s`` for drivers of the format family (psycopg); values are always bound."""
    connection = session.connection()
    if connection.dialect.paramstyle in ("format", "pyformat"):
        statement = statement.replace("?", "%s")
    return connection.exec_driver_sql(statement, params)


def _append_state(session: Session) -> _AppendState:
    """Locks the log for this transaction and returns its right edge. The edge is cached in ``session.info`` for
    the current (root, savepoint) transaction pair: a new transaction or a savepoint begun, released or rolled
    back since makes it read again from the database."""
    owner = (session.get_transaction(), session.get_nested_transaction())
    cached = session.info.get(_STATE)
    if cached is not None and cached[0] is owner[0] and cached[1] is owner[1]:
        return cast(_AppendState, cached[2])
    _lock(session)
    size = current_size(session=session)
    levels = [level for level in range(size.bit_length()) if size >> level & 1]
    nodes = _read_nodes(session, {(level, (size >> level) - 1) for level in levels})
    state = _AppendState(size, {level: nodes[(level, (size >> level) - 1)] for level in levels})
    _remember(session, state)
    return state


def _remember(session: Session, state: _AppendState) -> None:
    session.info[_STATE] = (session.get_transaction(), session.get_nested_transaction(), state)


def _read_nodes(session: Session, keys: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """Perfect-subtree hashes by (level, index) in one query: level 0 from ``ledger_entry``, the rest from
    ``ledger_node``. Written as ``level = ? AND idx IN (?, ...)`` per level, which both engines answer from the
    primary key (SQLite scans the table for a row value ``(level, idx) IN (...)``)."""
    wanted = set(keys)
    if not wanted:
        return {}
    by_level: dict[int, list[int]] = {}
    for level, idx in sorted(wanted):
        by_level.setdefault(level, []).append(idx)
    parts: list[str] = []
    params: list[int] = []
    if 0 in by_level:
        leaves = by_level.pop(0)
        marks = ", ".join("?" * len(leaves))
        parts.append(f"SELECT 0, idx, leaf_hash FROM ledger_entry WHERE idx IN ({marks})")  # noqa: S608
        params += leaves
    if by_level:
        wheres = []
        for level, idxs in by_level.items():
            wheres.append(f"(level = ? AND idx IN ({', '.join('?' * len(idxs))}))")
            params += [level, *idxs]
        parts.append(f"SELECT level, idx, hash FROM ledger_node WHERE {' OR '.join(wheres)}")  # noqa: S608
    rows: Iterable[Any] = _sql(session, " UNION ALL ".join(parts), tuple(params))
    found = {(int(level), int(idx)): bytes(h) for level, idx, h in rows}
    missing = wanted - found.keys()
    if missing:
        raise LedgerIntegrityError(f"the log lacks subtree nodes {sorted(missing)[:5]}")
    return found


def _hashes(session: Session, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    nodes = _read_nodes(session, merkle.nodes_for(ranges))
    return [merkle.range_hash(lo, hi, lambda level, idx: nodes[(level, idx)]) for lo, hi in ranges]


# -- append ----------------------------------------------------------------------------------------------------


def append(*, session: Session, event: LedgerEvent) -> EntryRead:
    """Appends one event to the log in the caller's transaction and returns the entry (index, leaf hash, bytes)."""
    return append_many(session=session, events=[event])[0]


def append_many(*, session: Session, events: Sequence[LedgerEvent]) -> list[EntryRead]:
    """Appends several events in order with one INSERT per table (jobs, imports, benchmarks)."""
    state = _append_state(session).copy()
    entries: list[tuple[int, str, bytes, bytes]] = []
    nodes: list[tuple[int, int, bytes]] = []
    reads: list[EntryRead] = []
    default_ms = now_ms()
    for item in events:
        index = state.size
        timestamp_ms = to_ms(item.timestamp) if item.timestamp is not None else default_ms
        try:
            data = entry_bytes(
                index=index,
                type=item.type.value,
                timestamp_ms=timestamp_ms,
                subjects=list(item.subjects),
                objects=list(item.objects),
                purpose=item.purpose,
                details=dict(item.details),
            )
        except NotCanonical as exc:
            raise invalid("details", str(exc)) from None
        leaf = merkle.leaf_hash(data)
        entries.append((index, item.type.value, leaf, data))
        nodes.extend(state.push(leaf))
        reads.append(
            EntryRead(
                index=index,
                leaf_hash=leaf.hex(),
                entry=data.decode("utf-8"),
                type=item.type.value,
                timestamp=EPOCH + timedelta(milliseconds=timestamp_ms),
                subjects=list(item.subjects),
                objects=list(item.objects),
                purpose=item.purpose,
                details=dict(item.details),
            )
        )
    _insert(session, entries, nodes)
    _remember(session, state)  # only once the rows are in: a failed insert leaves the cached edge as it was
    return reads


def _insert(
    session: Session, entries: list[tuple[int, str, bytes, bytes]], nodes: list[tuple[int, int, bytes]]
) -> None:
    if len(entries) == 1 and nodes and session.connection().dialect.name == "postgresql":
        # One round trip instead of two: PostgreSQL runs a data-modifying WITH to completion.
        values = ", ".join(["(?, ?, ?)"] * len(nodes))
        statement = f"WITH entry AS ({INSERT_ENTRY}) INSERT INTO ledger_node (level, idx, hash) VALUES {values}"  # noqa: S608
        _sql(session, statement, (*entries[0], *(value for node in nodes for value in node)))
        return
    if entries:
        _sql(session, INSERT_ENTRY, entries[0] if len(entries) == 1 else entries)
    if nodes:
        _sql(session, INSERT_NODE, nodes[0] if len(nodes) == 1 else nodes)


# -- reads -----------------------------------------------------------------------------------------------------


def current_size(*, session: Session) -> int:
    """Entries in the log now (committed, or written by this transaction)."""
    last = _sql(session, "SELECT max(idx) FROM ledger_entry").scalar()
    return 0 if last is None else int(last) + 1


def list_entries(*, session: Session, start: int = 0, limit: int = 100, type: str | None = None) -> EntryPage:
    """Entries with index >= ``start`` in index order, optionally of one event type."""
    if start < 0:
        raise invalid("start", "must be 0 or more")
    if not 1 <= limit <= MAX_PAGE:
        raise invalid("limit", f"must be between 1 and {MAX_PAGE}")
    query = select(_ENTRY.c.idx, _ENTRY.c.leaf_hash, _ENTRY.c.data).where(_ENTRY.c.idx >= start)
    if type is not None:
        query = query.where(_ENTRY.c.event_type == type)
    rows = session.execute(query.order_by(_ENTRY.c.idx).limit(limit)).all()
    entries = [EntryRead.from_stored(index=idx, leaf_hash=bytes(h), data=bytes(d)) for idx, h, d in rows]
    return EntryPage(start=start, limit=limit, tree_size=current_size(session=session), entries=entries)


def get_entry(*, session: Session, index: int, tree_size: int | None = None) -> EntryProofRead:
    """An entry with its inclusion proof: against the latest signed tree head by default (no proof while no
    signed head covers the entry yet), or against the tree of ``tree_size`` entries."""
    row = session.execute(select(_ENTRY.c.leaf_hash, _ENTRY.c.data).where(_ENTRY.c.idx == index)).first()
    if row is None:
        raise NotFound(f"Log entry {index} not found")
    leaf = bytes(row[0])
    entry = EntryRead.from_stored(index=index, leaf_hash=leaf, data=bytes(row[1]))
    if tree_size is None:
        head = latest_tree_head(session=session)
        if head is None or head.tree_size <= index:
            return EntryProofRead(entry=entry, tree_head=head, inclusion=None)
        tree_size = head.tree_size
    else:
        _check_inclusion_args(session, index, tree_size)
        head = _head_of_size(session, tree_size)
    path = _hashes(session, merkle.inclusion_ranges(index, tree_size))
    inclusion = InclusionProof(
        index=index, tree_size=tree_size, leaf_hash=leaf.hex(), inclusion_path=[h.hex() for h in path]
    )
    return EntryProofRead(entry=entry, tree_head=head, inclusion=inclusion)


def _check_inclusion_args(session: Session, index: int, tree_size: int) -> None:
    size = current_size(session=session)
    if not 0 < tree_size <= size:
        raise invalid("tree_size", f"must be between 1 and the log's size, {size}")
    if not 0 <= index < tree_size:
        raise invalid("index", f"must be between 0 and tree_size - 1, {tree_size - 1}")


def inclusion_proof(*, session: Session, index: int, tree_size: int) -> InclusionProof:
    """RFC 9162 PATH for entry ``index`` in the tree of ``tree_size`` entries."""
    _check_inclusion_args(session, index, tree_size)
    ranges = merkle.inclusion_ranges(index, tree_size)
    nodes = _read_nodes(session, merkle.nodes_for([*ranges, (index, index + 1)]))
    path = [merkle.range_hash(lo, hi, lambda level, idx: nodes[(level, idx)]) for lo, hi in ranges]
    return InclusionProof(
        index=index, tree_size=tree_size, leaf_hash=nodes[(0, index)].hex(), inclusion_path=[h.hex() for h in path]
    )


def consistency(*, session: Session, first: int, second: int) -> ConsistencyProof:
    """RFC 9162 PROOF that the tree of ``second`` entries extends the tree of ``first`` entries."""
    size = current_size(session=session)
    if not 0 <= second <= size:
        raise invalid("second", f"must be between 0 and the log's size, {size}")
    if not 0 <= first <= second:
        raise invalid("first", "must be between 0 and second")
    path = _hashes(session, merkle.consistency_ranges(first, second))
    return ConsistencyProof(first=first, second=second, consistency_path=[h.hex() for h in path])


def root_hash(*, session: Session, tree_size: int) -> bytes:
    """MTH of the first ``tree_size`` entries."""
    return _hashes(session, [(0, tree_size)])[0] if tree_size else merkle.EMPTY_ROOT


# -- tree heads ------------------------------------------------------------------------------------------------


_HEAD_COLUMNS = (_HEAD.c.tree_size, _HEAD.c.timestamp_ms, _HEAD.c.root_hash, _HEAD.c.key_id, _HEAD.c.signature)


def _head_read(row: Any) -> SignedTreeHead:
    tree_size, timestamp_ms, root, kid, signature = row
    return SignedTreeHead(
        tree_size=tree_size,
        timestamp=timestamp_ms,
        root_hash=bytes(root).hex(),
        key_id=kid,
        signature=base64.b64encode(bytes(signature)).decode("ascii"),
    )


def _head_of_size(session: Session, tree_size: int) -> SignedTreeHead | None:
    query = select(*_HEAD_COLUMNS).where(_HEAD.c.tree_size == tree_size).order_by(_HEAD.c.id.desc()).limit(1)
    row = session.execute(query).first()
    return _head_read(row) if row else None


def sign_tree_head(*, session: Session, signer: LogSigner, timestamp_ms: int | None = None) -> SignedTreeHead:
    """Signs and stores a head for the log as it is now. Takes the append lock, so the head is never ahead of
    or behind the entries; timestamps never go backwards."""
    state = _append_state(session)
    last = latest_tree_head(session=session)
    stamp = now_ms() if timestamp_ms is None else timestamp_ms
    if last is not None:
        stamp = max(stamp, last.timestamp)
    root = state.root()
    signature = signer.sign(tree_head_bytes(tree_size=state.size, timestamp_ms=stamp, root_hash=root))
    session.execute(
        insert(_HEAD).values(
            tree_size=state.size, timestamp_ms=stamp, root_hash=root, key_id=signer.key_id, signature=signature
        )
    )
    return _head_read((state.size, stamp, root, signer.key_id, signature))


def latest_tree_head(*, session: Session) -> SignedTreeHead | None:
    row = session.execute(select(*_HEAD_COLUMNS).order_by(_HEAD.c.id.desc()).limit(1)).first()
    return _head_read(row) if row else None


def list_tree_heads(*, session: Session) -> TreeHeadList:
    rows = session.execute(select(*_HEAD_COLUMNS).order_by(_HEAD.c.id)).all()
    return TreeHeadList(tree_heads=[_head_read(row) for row in rows])


# -- export and audit ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    entries: int
    tree_heads: int


def _stored_records(session: Session, *, below: int, batch: int = 5000) -> Iterator[Record]:
    query = select(_ENTRY.c.idx, _ENTRY.c.leaf_hash, _ENTRY.c.data).where(_ENTRY.c.idx < below)
    for idx, h, data in session.execute(query.order_by(_ENTRY.c.idx).execution_options(yield_per=batch)):
        yield Record(index=idx, entry=bytes(data), leaf_hash=bytes(h))


def _stored_nodes(session: Session, *, below: int, batch: int = 5000) -> Iterator[tuple[int, int, bytes]]:
    """Nodes inside the first ``below`` leaves (appends that commit during an audit add nodes beyond)."""
    query = select(_NODE.c.level, _NODE.c.idx, _NODE.c.hash).order_by(_NODE.c.level, _NODE.c.idx)
    for level, idx, h in session.execute(query.execution_options(yield_per=batch)):
        if (idx + 1) << level <= below:
            yield level, idx, bytes(h)


def export(*, session: Session, directory: Path, public_key: Ed25519PublicKey) -> ExportResult:
    """Writes what ``verify.verify_directory`` checks offline into ``directory`` (created; must be empty):

    ``entries.ndjson``   one ``{"index", "leaf_hash", "entry"}`` object per line, index order (``entry`` is the
                         canonical JSON text; see ``canonical``);
    ``sths.json``        ``{"tree_heads": [...]}``, oldest first;
    ``public-key.json``  ``{"algorithm", "key_id", "public_key", "pem"}``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise Invalid(f"{directory} is not empty")
    heads = list_tree_heads(session=session)
    count = 0
    with (directory / ENTRIES_FILE).open("w", encoding="utf-8") as fh:
        for record in _stored_records(session, below=current_size(session=session)):
            line = {"index": record.index, "leaf_hash": (record.leaf_hash or b"").hex()}
            line["entry"] = record.entry.decode("utf-8")
            fh.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
    (directory / TREE_HEADS_FILE).write_text(heads.model_dump_json(indent=1), encoding="utf-8")
    (directory / PUBLIC_KEY_FILE).write_text(public_key_info(public_key).model_dump_json(indent=1), encoding="utf-8")
    return ExportResult(directory=directory, entries=count, tree_heads=len(heads.tree_heads))


def audit(*, session: Session, public_key: Ed25519PublicKey) -> VerifyResult:
    """Checks the stored log end to end: every entry's bytes and index, every leaf hash, every stored subtree
    node, every tree head's root and signature, and consistency between successive heads. Entries appended
    while it runs are left for the next audit."""
    heads = list_tree_heads(session=session).tree_heads
    size = current_size(session=session)
    return verify_log(
        records=_stored_records(session, below=size),
        tree_heads=heads,
        public_key=public_key,
        nodes=_stored_nodes(session, below=size),
    )
