"""catalog and accounts

Revision ID: 0001
Revises:
Create Date: 2026-11-24 19:57:29.459597
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "activity",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("object_id", sa.String(length=36), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=True),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("activity_type", sa.String(length=40), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index("ix_activity_object_time", ["object_id", "timestamp"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_timestamp"), ["timestamp"], unique=False)

    op.create_table(
        "catalog_group",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("image_url", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_group")),
    )
    with op.batch_alter_table("catalog_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_group_name"), ["name"], unique=True)

    op.create_table(
        "catalog_info",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("publisher_name", sa.String(length=200), nullable=False),
        sa.Column("publisher_url", sa.String(length=500), nullable=False),
        sa.Column("publisher_email", sa.String(length=254), nullable=False),
        sa.Column("homepage", sa.String(length=500), nullable=False),
        sa.Column("spatial_uri", sa.String(length=500), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("license_id", sa.String(length=50), nullable=False),
        sa.Column("issued", sa.Date(), nullable=True),
        sa.Column("modified", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_info")),
    )
    op.create_table(
        "organization",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("homepage", sa.String(length=500), nullable=False),
        sa.Column("image_url", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization")),
    )
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organization_name"), ["name"], unique=True)

    op.create_table(
        "tag",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tag")),
    )
    with op.batch_alter_table("tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tag_name"), ["name"], unique=True)

    op.create_table(
        "user_account",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("fullname", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("sysadmin", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("email", name=op.f("uq_user_account_email")),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_account_name"), ["name"], unique=True)

    op.create_table(
        "api_token",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_api_token_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_digest"), ["digest"], unique=True)
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "dataset",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("identifier", sa.String(length=200), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("access_rights", sa.String(length=20), nullable=False),
        sa.Column("license_id", sa.String(length=50), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("spatial_uri", sa.String(length=500), nullable=False),
        sa.Column("spatial_wkt", sa.Text(), nullable=False),
        sa.Column("temporal_start", sa.Date(), nullable=True),
        sa.Column("temporal_end", sa.Date(), nullable=True),
        sa.Column("frequency", sa.String(length=30), nullable=False),
        sa.Column("issued", sa.Date(), nullable=True),
        sa.Column("modified", sa.Date(), nullable=True),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("conforms_to", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("landing_page", sa.String(length=500), nullable=False),
        sa.Column("extras", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("creator_user_id", sa.String(length=36), nullable=True),
        sa.Column("metadata_created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metadata_modified", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organization.id"], name=op.f("fk_dataset_organization_id_organization")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset")),
    )
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.create_index("ix_dataset_metadata_modified", ["metadata_modified"], unique=False)
        batch_op.create_index(batch_op.f("ix_dataset_name"), ["name"], unique=True)
        batch_op.create_index(batch_op.f("ix_dataset_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index("ix_dataset_state_private", ["state", "private"], unique=False)

    op.create_table(
        "membership",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_membership_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_membership_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint("user_id", "organization_id", name=op.f("uq_membership_user_id")),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_membership_user_id"), ["user_id"], unique=False)

    op.create_table(
        "dataset_group",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("group_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_group_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["catalog_group.id"],
            name=op.f("fk_dataset_group_group_id_catalog_group"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "group_id", name=op.f("pk_dataset_group")),
    )
    with op.batch_alter_table("dataset_group", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_group_group_id"), ["group_id"], unique=False)

    op.create_table(
        "dataset_tag",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("tag_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_dataset_tag_dataset_id_dataset"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["tag_id"], ["tag.id"], name=op.f("fk_dataset_tag_tag_id_tag"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("dataset_id", "tag_id", name=op.f("pk_dataset_tag")),
    )
    with op.batch_alter_table("dataset_tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_tag_tag_id"), ["tag_id"], unique=False)

    op.create_table(
        "dataset_theme",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("theme", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_dataset_theme_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", "theme", name=op.f("pk_dataset_theme")),
    )
    with op.batch_alter_table("dataset_theme", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dataset_theme_theme"), ["theme"], unique=False)

    op.create_table(
        "distribution",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("url_type", sa.String(length=20), nullable=False),
        sa.Column("access_url", sa.String(length=2000), nullable=False),
        sa.Column("format", sa.String(length=30), nullable=False),
        sa.Column("media_type", sa.String(length=200), nullable=False),
        sa.Column("byte_size", sa.BigInteger(), nullable=True),
        sa.Column("checksum", sa.String(length=128), nullable=False),
        sa.Column("license_id", sa.String(length=50), nullable=False),
        sa.Column("stored_path", sa.String(length=500), nullable=False),
        sa.Column("extras", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_distribution_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_distribution")),
    )
    with op.batch_alter_table("distribution", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_distribution_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "search_document",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_search_document_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dataset_id", name=op.f("pk_search_document")),
    )

    _create_search_index()


SQLITE_FTS = (
    "CREATE VIRTUAL TABLE dataset_fts USING fts5("
    "dataset_id UNINDEXED, title, keywords, body, tokenize = 'unicode61 remove_diacritics 2')"
)
PG_FTS = (
    "CREATE INDEX ix_search_document_fts ON search_document USING gin (("
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, keywords), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'C')))"
)


def _create_search_index() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(SQLITE_FTS)
    elif dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        op.execute(PG_FTS)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS dataset_fts")

    op.drop_table("search_document")
    with op.batch_alter_table("distribution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_distribution_dataset_id"))

    op.drop_table("distribution")
    with op.batch_alter_table("dataset_theme", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_theme_theme"))

    op.drop_table("dataset_theme")
    with op.batch_alter_table("dataset_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_tag_tag_id"))

    op.drop_table("dataset_tag")
    with op.batch_alter_table("dataset_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dataset_group_group_id"))

    op.drop_table("dataset_group")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_user_id"))
        batch_op.drop_index(batch_op.f("ix_membership_organization_id"))

    op.drop_table("membership")
    with op.batch_alter_table("dataset", schema=None) as batch_op:
        batch_op.drop_index("ix_dataset_state_private")
        batch_op.drop_index(batch_op.f("ix_dataset_organization_id"))
        batch_op.drop_index(batch_op.f("ix_dataset_name"))
        batch_op.drop_index("ix_dataset_metadata_modified")

    op.drop_table("dataset")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))
        batch_op.drop_index(batch_op.f("ix_api_token_digest"))

    op.drop_table("api_token")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_name"))

    op.drop_table("user_account")
    with op.batch_alter_table("tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tag_name"))

    op.drop_table("tag")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organization_name"))

    op.drop_table("organization")
    op.drop_table("catalog_info")
    with op.batch_alter_table("catalog_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_catalog_group_name"))

    op.drop_table("catalog_group")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_timestamp"))
        batch_op.drop_index(batch_op.f("ix_activity_organization_id"))
        batch_op.drop_index("ix_activity_object_time")

    op.drop_table("activity")
