"""registers: the algorithm register (versions, principle and dataset links, action history)

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "algorithm_action",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=False),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_algorithm_action")),
    )
    with op.batch_alter_table("algorithm_action", schema=None) as batch_op:
        batch_op.create_index("ix_algorithm_action_record_at", ["record_id", "at"], unique=False)

    op.create_table(
        "algorithm_version",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("trade_name", sa.String(length=200), nullable=False),
        sa.Column("description_short", sa.String(length=400), nullable=False),
        sa.Column("description_long", sa.Text(), nullable=False),
        sa.Column("department", sa.String(length=200), nullable=False),
        sa.Column("senior_responsible_owner", sa.String(length=200), nullable=False),
        sa.Column("contact", sa.String(length=500), nullable=False),
        sa.Column("public_page_url", sa.String(length=2000), nullable=False),
        sa.Column("language", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("phase_detail", sa.String(length=20), nullable=False),
        sa.Column("begin_date", sa.String(length=7), nullable=False),
        sa.Column("end_date", sa.String(length=7), nullable=False),
        sa.Column("publication_category", sa.String(length=20), nullable=False),
        sa.Column("ai_act_class", sa.String(length=30), nullable=False),
        sa.Column("annex_iii_area", sa.String(length=20), nullable=False),
        sa.Column("decision_role", sa.String(length=30), nullable=False),
        sa.Column("goal_and_impact", sa.Text(), nullable=False),
        sa.Column("proportionality", sa.Text(), nullable=False),
        sa.Column("human_oversight", sa.Text(), nullable=False),
        sa.Column("frequency_of_use", sa.String(length=500), nullable=False),
        sa.Column("appeal_and_objection", sa.Text(), nullable=False),
        sa.Column("risk_summary", sa.Text(), nullable=False),
        sa.Column("non_discrimination", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("processing_register_url", sa.String(length=2000), nullable=False),
        sa.Column("impact_assessment_notes", sa.Text(), nullable=False),
        sa.Column("data_description", sa.Text(), nullable=False),
        sa.Column("personal_data", sa.String(length=20), nullable=False),
        sa.Column("data_access_and_sharing", sa.Text(), nullable=False),
        sa.Column("technical_description", sa.Text(), nullable=False),
        sa.Column("model_type", sa.String(length=20), nullable=False),
        sa.Column("self_learning", sa.Boolean(), nullable=False),
        sa.Column("performance_and_monitoring", sa.Text(), nullable=False),
        sa.Column("supplier", sa.String(length=200), nullable=False),
        sa.Column("supplier_role", sa.String(length=500), nullable=False),
        sa.Column("procurement_reference", sa.String(length=200), nullable=False),
        sa.Column("source_code_url", sa.String(length=2000), nullable=False),
        sa.Column("eu_database_url", sa.String(length=2000), nullable=False),
        sa.Column("instructions_for_use_url", sa.String(length=2000), nullable=False),
        sa.Column("source_register_url", sa.String(length=2000), nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("themes", sa.JSON(), nullable=False),
        sa.Column("principles", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("risks", sa.JSON(), nullable=False),
        sa.Column("protected_attributes", sa.JSON(), nullable=False),
        sa.Column("legal_basis_links", sa.JSON(), nullable=False),
        sa.Column("impact_assessments", sa.JSON(), nullable=False),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("conformity", sa.JSON(), nullable=False),
        sa.Column("member_states", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("updated_by", sa.String(length=36), nullable=True),
        sa.Column("submitted_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organization.id"], name=op.f("fk_algorithm_version_organization_id_organization")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_algorithm_version")),
        sa.UniqueConstraint("record_id", "version", name="uq_algorithm_version_record_version"),
    )
    with op.batch_alter_table("algorithm_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_algorithm_version_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_algorithm_version_record_id"), ["record_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_algorithm_version_slug"), ["slug"], unique=False)
        batch_op.create_index("ix_algorithm_version_state_org", ["state", "organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_algorithm_version_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "algorithm_dataset",
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_algorithm_dataset_dataset_id_dataset"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["algorithm_version.id"],
            name=op.f("fk_algorithm_dataset_version_id_algorithm_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "dataset_id", "role", name=op.f("pk_algorithm_dataset")),
    )
    with op.batch_alter_table("algorithm_dataset", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_algorithm_dataset_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "algorithm_principle",
        sa.Column("version_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["algorithm_version.id"],
            name=op.f("fk_algorithm_principle_version_id_algorithm_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "number", name=op.f("pk_algorithm_principle")),
    )
    with op.batch_alter_table("algorithm_principle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_algorithm_principle_number"), ["number"], unique=False)


def downgrade() -> None:
    for table in ("algorithm_principle", "algorithm_dataset", "algorithm_version", "algorithm_action"):
        op.drop_table(table)
