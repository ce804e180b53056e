"""Catalog tables, following DCAT-AP 3 (dataset, distribution, catalog, agent) with CKAN's names where clients
rely on them. Multilingual text is a JSON object {"ca": ..., "es": ..., "en": ...}."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from citycommons.db.base import Base, id_column, utcnow

dataset_tag = Table(
    "dataset_tag",
    Base.metadata,
    Column("dataset_id", ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True),
)

dataset_group = Table(
    "dataset_group",
    Base.metadata,
    Column("dataset_id", ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("catalog_group.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class DatasetTheme(Base):
    """An EU data theme (vocabulary id, e.g. ``ENVI``) of a dataset."""

    __tablename__ = "dataset_theme"

    dataset_id: Mapped[str] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True)
    theme: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)


class CatalogInfo(Base):
    """The catalog itself (one row): the city and its publisher."""

    __tablename__ = "catalog_info"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    title: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    publisher_name: Mapped[str] = mapped_column(String(200), default="")
    publisher_url: Mapped[str] = mapped_column(String(500), default="")
    publisher_email: Mapped[str] = mapped_column(String(254), default="")
    homepage: Mapped[str] = mapped_column(String(500), default="")
    spatial_uri: Mapped[str] = mapped_column(String(500), default="")
    languages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    license_id: Mapped[str] = mapped_column(String(50), default="cc-by-4.0")
    issued: Mapped[date | None] = mapped_column(Date, default=None)
    modified: Mapped[datetime] = mapped_column(default=utcnow)


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(100), unique=True, index=True)
    title: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    email: Mapped[str] = mapped_column(String(254), default="")
    homepage: Mapped[str] = mapped_column(String(500), default="")
    image_url: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[str] = mapped_column(String(20), default="active")
    created: Mapped[datetime] = mapped_column(default=utcnow)


class Group(Base):
    __tablename__ = "catalog_group"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(100), unique=True, index=True)
    title: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    image_url: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[str] = mapped_column(String(20), default="active")
    created: Mapped[datetime] = mapped_column(default=utcnow)


class Tag(Base):
    __tablename__ = "tag"

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(100), unique=True, index=True)


class Dataset(Base):
    __tablename__ = "dataset"
    __table_args__ = (
        Index("ix_dataset_state_private", "state", "private"),
        Index("ix_dataset_metadata_modified", "metadata_modified"),
    )

    id: Mapped[str] = id_column()
    name: Mapped[str] = mapped_column(String(100), unique=True, index=True)
    title: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    identifier: Mapped[str] = mapped_column(String(200), default="")
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    access_rights: Mapped[str] = mapped_column(String(20), default="PUBLIC")
    license_id: Mapped[str] = mapped_column(String(50), default="cc-by-4.0")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    spatial_uri: Mapped[str] = mapped_column(String(500), default="")
    spatial_wkt: Mapped[str] = mapped_column(Text, default="")
    temporal_start: Mapped[date | None] = mapped_column(Date, default=None)
    temporal_end: Mapped[date | None] = mapped_column(Date, default=None)
    frequency: Mapped[str] = mapped_column(String(30), default="")
    issued: Mapped[date | None] = mapped_column(Date, default=None)
    modified: Mapped[date | None] = mapped_column(Date, default=None)
    version: Mapped[str] = mapped_column(String(50), default="")
    conforms_to: Mapped[list[Any]] = mapped_column(JSON, default=list)
    languages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    landing_page: Mapped[str] = mapped_column(String(500), default="")
    extras: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="active")
    creator_user_id: Mapped[str | None] = mapped_column(String(36), default=None)
    metadata_created: Mapped[datetime] = mapped_column(default=utcnow)
    metadata_modified: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship(lazy="joined")
    tags: Mapped[list[Tag]] = relationship(secondary=dataset_tag, order_by="Tag.name", lazy="selectin")
    groups: Mapped[list[Group]] = relationship(secondary=dataset_group, order_by="Group.name", lazy="selectin")
    theme_rows: Mapped[list[DatasetTheme]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="DatasetTheme.theme"
    )
    distributions: Mapped[list[Distribution]] = relationship(
        back_populates="dataset",
        order_by="Distribution.position",
        lazy="selectin",
        primaryjoin="and_(Distribution.dataset_id == Dataset.id, Distribution.state == 'active')",
        viewonly=True,
    )

    @property
    def themes(self) -> list[str]:
        return [row.theme for row in self.theme_rows]


class Distribution(Base):
    __tablename__ = "distribution"

    id: Mapped[str] = id_column()
    dataset_id: Mapped[str] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    description: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    url: Mapped[str] = mapped_column(String(2000), default="")
    url_type: Mapped[str] = mapped_column(String(20), default="")
    access_url: Mapped[str] = mapped_column(String(2000), default="")
    format: Mapped[str] = mapped_column(String(30), default="")
    media_type: Mapped[str] = mapped_column(String(200), default="")
    byte_size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    checksum: Mapped[str] = mapped_column(String(128), default="")
    license_id: Mapped[str] = mapped_column(String(50), default="")
    stored_path: Mapped[str] = mapped_column(String(500), default="")
    extras: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(20), default="active")
    created: Mapped[datetime] = mapped_column(default=utcnow)
    last_modified: Mapped[datetime] = mapped_column(default=utcnow)
    # the datastore has a queryable version of this distribution (set by the ingest job, migration 0007)
    datastore_active: Mapped[bool] = mapped_column(Boolean, default=False)

    dataset: Mapped[Dataset] = relationship(back_populates="distributions", viewonly=True)


class Activity(Base):
    """One metadata change of a dataset (CKAN's activity stream): who, when, what changed."""

    __tablename__ = "activity"
    __table_args__ = (Index("ix_activity_object_time", "object_id", "timestamp"),)

    id: Mapped[str] = id_column()
    object_id: Mapped[str] = mapped_column(String(36))
    object_type: Mapped[str] = mapped_column(String(20), default="dataset")
    organization_id: Mapped[str | None] = mapped_column(String(36), default=None, index=True)
    user_id: Mapped[str | None] = mapped_column(String(36), default=None)
    user_name: Mapped[str] = mapped_column(String(100), default="")
    activity_type: Mapped[str] = mapped_column(String(40))
    timestamp: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    changes: Mapped[list[Any]] = mapped_column(JSON, default=list)


class SearchDocument(Base):
    """Accent-folded text of a dataset for full-text search (kept by the service on every write).

    SQLite mirrors it into the FTS5 table ``dataset_fts``; PostgreSQL indexes ``to_tsvector``.
    """

    __tablename__ = "search_document"

    dataset_id: Mapped[str] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True)
    title: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
