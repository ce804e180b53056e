"""Transparency-log tables. Append-only: migration 0002 adds triggers that refuse UPDATE and DELETE.

``ledger_entry``      one row per leaf: its index, the canonical entry bytes and their leaf hash.
``ledger_node``       the hash of every complete perfect subtree above the leaves, keyed by (level, index) as in
                      ``merkle``; written in the same transaction as the leaf that completes it, so any proof
                      reads O(log n) rows.
``ledger_tree_head``  signed tree heads, oldest first by id.
``ledger_queue``      events committed by request transactions on PostgreSQL and not yet sequenced: the canonical
                      entry with index 0, in submission order by id (see ``service.submit``). Not part of the log.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from citycommons.db.base import Base

# INTEGER PRIMARY KEY is SQLite's rowid alias (no second index); BIGINT on PostgreSQL.
BigIntKey = BigInteger().with_variant(Integer(), "sqlite")


class LedgerEntry(Base):
    __tablename__ = "ledger_entry"

    idx: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=False)
    event_type: Mapped[str] = mapped_column(String(64))
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_ledger_entry_type_idx", "event_type", "idx"),)


class LedgerNode(Base):
    __tablename__ = "ledger_node"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))

    __table_args__ = {"sqlite_with_rowid": False}


class LedgerTreeHead(Base):
    __tablename__ = "ledger_tree_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


class LedgerQueued(Base):
    __tablename__ = "ledger_queue"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
