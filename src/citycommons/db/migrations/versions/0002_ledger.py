"""ledger: the transparency log (entries, perfect-subtree nodes, signed tree heads), append-only

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("ledger_entry", "ledger_node", "ledger_tree_head")


def upgrade() -> None:
    op.create_table(
        "ledger_entry",
        sa.Column("idx", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_ledger_entry")),
    )
    op.create_index("ix_ledger_entry_type_idx", "ledger_entry", ["event_type", "idx"], unique=False)
    op.create_table(
        "ledger_node",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_ledger_node")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "ledger_tree_head",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_tree_head")),
    )
    op.create_index(op.f("ix_ledger_tree_head_tree_size"), "ledger_tree_head", ["tree_size"], unique=False)

    # Append-only at the database too: UPDATE, DELETE (and TRUNCATE on PostgreSQL) are refused.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
            )
    else:
        for table in TABLES:
            for action in ("update", "delete"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action} BEFORE {action.upper()} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def downgrade() -> None:
    is_pg = op.get_bind().dialect.name == "postgresql"
    for table in reversed(TABLES):
        if not is_pg:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
        op.drop_table(table)
    if is_pg:
        op.execute("DROP FUNCTION IF EXISTS ledger_refuse_change()")
