"""Algorithm register tables.

``algorithm_version``    one row per version of a record; every version of one record shares ``record_id`` and
                         ``slug``. Scalar fields are columns, list and structured fields JSON columns. At most one
                         version of a record is ``published``; older published ones are ``superseded``.
``algorithm_principle``  (version, principle number 1-5): principle pages and filters.
``algorithm_dataset``    (version, catalog dataset id, role): "algorithms that use this dataset".
``algorithm_action``     the action history: every workflow step, who took it and why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from citycommons.db.base import Base, id_column, utcnow

SCALAR_FIELDS = (
    "name",
    "trade_name",
    "description_short",
    "description_long",
    "department",
    "senior_responsible_owner",
    "contact",
    "public_page_url",
    "language",
    "status",
    "phase_detail",
    "begin_date",
    "end_date",
    "publication_category",
    "ai_act_class",
    "annex_iii_area",
    "decision_role",
    "goal_and_impact",
    "proportionality",
    "human_oversight",
    "frequency_of_use",
    "appeal_and_objection",
    "risk_summary",
    "non_discrimination",
    "legal_basis",
    "processing_register_url",
    "impact_assessment_notes",
    "data_description",
    "personal_data",
    "data_access_and_sharing",
    "technical_description",
    "model_type",
    "performance_and_monitoring",
    "supplier",
    "supplier_role",
    "procurement_reference",
    "source_code_url",
    "eu_database_url",
    "instructions_for_use_url",
    "source_register_url",
    "source_id",
    "self_learning",
)
JSON_FIELDS = (
    "themes",
    "principles",
    "tags",
    "risks",
    "protected_attributes",
    "legal_basis_links",
    "impact_assessments",
    "datasets",
    "conformity",
    "member_states",
)


class AlgorithmVersion(Base):
    __tablename__ = "algorithm_version"
    __table_args__ = (
        UniqueConstraint("record_id", "version", name="uq_algorithm_version_record_version"),
        Index("ix_algorithm_version_state_org", "state", "organization_id"),
    )

    id: Mapped[str] = id_column()
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    slug: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    state: Mapped[str] = mapped_column(String(20), default="draft")
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)

    name: Mapped[str] = mapped_column(String(100), default="")
    trade_name: Mapped[str] = mapped_column(String(200), default="")
    description_short: Mapped[str] = mapped_column(String(400), default="")
    description_long: Mapped[str] = mapped_column(Text, default="")
    department: Mapped[str] = mapped_column(String(200), default="")
    senior_responsible_owner: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(500), default="")
    public_page_url: Mapped[str] = mapped_column(String(2000), default="")
    language: Mapped[str] = mapped_column(String(3), default="")
    status: Mapped[str] = mapped_column(String(20), default="")
    phase_detail: Mapped[str] = mapped_column(String(20), default="")
    begin_date: Mapped[str] = mapped_column(String(7), default="")
    end_date: Mapped[str] = mapped_column(String(7), default="")
    publication_category: Mapped[str] = mapped_column(String(20), default="")
    ai_act_class: Mapped[str] = mapped_column(String(30), default="")
    annex_iii_area: Mapped[str] = mapped_column(String(20), default="")
    decision_role: Mapped[str] = mapped_column(String(30), default="")
    goal_and_impact: Mapped[str] = mapped_column(Text, default="")
    proportionality: Mapped[str] = mapped_column(Text, default="")
    human_oversight: Mapped[str] = mapped_column(Text, default="")
    frequency_of_use: Mapped[str] = mapped_column(String(500), default="")
    appeal_and_objection: Mapped[str] = mapped_column(Text, default="")
    risk_summary: Mapped[str] = mapped_column(Text, default="")
    non_discrimination: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    processing_register_url: Mapped[str] = mapped_column(String(2000), default="")
    impact_assessment_notes: Mapped[str] = mapped_column(Text, default="")
    data_description: Mapped[str] = mapped_column(Text, default="")
    personal_data: Mapped[str] = mapped_column(String(20), default="")
    data_access_and_sharing: Mapped[str] = mapped_column(Text, default="")
    technical_description: Mapped[str] = mapped_column(Text, default="")
    model_type: Mapped[str] = mapped_column(String(20), default="")
    self_learning: Mapped[bool] = mapped_column(default=False)
    performance_and_monitoring: Mapped[str] = mapped_column(Text, default="")
    supplier: Mapped[str] = mapped_column(String(200), default="")
    supplier_role: Mapped[str] = mapped_column(String(500), default="")
    procurement_reference: Mapped[str] = mapped_column(String(200), default="")
    source_code_url: Mapped[str] = mapped_column(String(2000), default="")
    eu_database_url: Mapped[str] = mapped_column(String(2000), default="")
    instructions_for_use_url: Mapped[str] = mapped_column(String(2000), default="")
    source_register_url: Mapped[str] = mapped_column(String(2000), default="")
    source_id: Mapped[str] = mapped_column(String(100), default="")

    themes: Mapped[list[Any]] = mapped_column(default=list)
    principles: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    risks: Mapped[list[Any]] = mapped_column(default=list)
    protected_attributes: Mapped[list[Any]] = mapped_column(default=list)
    legal_basis_links: Mapped[list[Any]] = mapped_column(default=list)
    impact_assessments: Mapped[list[Any]] = mapped_column(default=list)
    datasets: Mapped[list[Any]] = mapped_column(default=list)
    conformity: Mapped[dict[str, Any]] = mapped_column(default=dict)
    member_states: Mapped[list[Any]] = mapped_column(default=list)

    created_by: Mapped[str | None] = mapped_column(String(36), default=None)
    updated_by: Mapped[str | None] = mapped_column(String(36), default=None)
    submitted_by: Mapped[str | None] = mapped_column(String(36), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    first_published_at: Mapped[datetime | None] = mapped_column(default=None)
    archived_at: Mapped[datetime | None] = mapped_column(default=None)
    state_reason: Mapped[str] = mapped_column(Text, default="")


class AlgorithmPrinciple(Base):
    __tablename__ = "algorithm_principle"

    version_id: Mapped[str] = mapped_column(ForeignKey("algorithm_version.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(SmallInteger, primary_key=True, index=True)


class AlgorithmDataset(Base):
    __tablename__ = "algorithm_dataset"

    version_id: Mapped[str] = mapped_column(ForeignKey("algorithm_version.id", ondelete="CASCADE"), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class AlgorithmAction(Base):
    __tablename__ = "algorithm_action"
    __table_args__ = (Index("ix_algorithm_action_record_at", "record_id", "at"),)

    id: Mapped[str] = id_column()
    record_id: Mapped[str] = mapped_column(String(36))
    version_id: Mapped[str] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(20), default="")
    to_state: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str | None] = mapped_column(String(36), default=None)
    user_name: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)
