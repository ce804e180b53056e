"""The ``job`` table: one background job (an ingest), its state and progress, who asked and what it produced."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from citycommons.db.base import Base, id_column, utcnow


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_target_created", "target", "created_at"),
        Index("ix_job_status_created", "status", "created_at"),
    )

    id: Mapped[str] = id_column()
    kind: Mapped[str] = mapped_column(String(50))
    """What the job does, e.g. ``datastore.ingest`` (``service.HANDLERS`` maps it to a function)."""
    target: Mapped[str] = mapped_column(String(36))
    """The id of the object the job works on (a distribution id for an ingest)."""
    status: Mapped[str] = mapped_column(String(16), default="queued")
    """queued, running, succeeded, failed, or superseded (a newer job for the same target replaced it)."""
    stage: Mapped[str] = mapped_column(String(32), default="")
    progress_done: Mapped[int] = mapped_column(BigInteger, default=0)
    progress_total: Mapped[int | None] = mapped_column(BigInteger, default=None)
    message: Mapped[str] = mapped_column(Text, default="")
    error_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int | None] = mapped_column(Integer, default=None)
    requested_by: Mapped[str | None] = mapped_column(String(36), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
