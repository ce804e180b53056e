"""initiatives: the digital-rights initiatives map (submissions, moderation state)

Revision ID: 0004
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "initiative",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("org_type", sa.String(length=32), nullable=False),
        sa.Column("principles", sa.String(length=32), nullable=False),
        sa.Column("website", sa.String(length=500), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("district_code", sa.Integer(), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=False),
        sa.Column("submitter", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative")),
    )
    op.create_index("ix_initiative_status_created", "initiative", ["status", "created_at"], unique=False)
    op.create_index("ix_initiative_submitter_created", "initiative", ["submitter", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_initiative_submitter_created", table_name="initiative")
    op.drop_index("ix_initiative_status_created", table_name="initiative")
    op.drop_table("initiative")
