"""The ``initiative`` table. ``contact_email`` and ``submitter`` are private: no read schema or export carries them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from citycommons.db.base import Base, id_column, utcnow


class Initiative(Base):
    __tablename__ = "initiative"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    org_type: Mapped[str] = mapped_column(String(32))
    # principle numbers as "|1|3|": filterable with LIKE on every engine
    principles: Mapped[str] = mapped_column(String(32))
    website: Mapped[str] = mapped_column(String(500), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    district_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    contact_email: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    # pseudonym of the submitting client address (the per-address rate limit), never shown
    submitter: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)

    __table_args__ = (
        Index("ix_initiative_status_created", "status", "created_at"),
        Index("ix_initiative_submitter_created", "submitter", "created_at"),
    )
