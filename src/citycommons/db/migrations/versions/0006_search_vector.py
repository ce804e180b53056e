"""search_document.search_vector: a stored, GIN-indexed weighted tsvector (PostgreSQL only)

``ts_rank`` over the expression index of 0001 rebuilt every matching row's vector at query time; a stored generated
column is computed once per write and read as is by both the match (``@@``) and the ranking. SQLite (FTS5) is
unchanged. The column is not declared in the SQLAlchemy model (shared with SQLite): the database fills it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 21:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# the same weighted expression as 0001's ix_search_document_fts
VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, keywords), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, body), 'C')"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE search_document ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({VECTOR}) STORED")
    op.execute("CREATE INDEX ix_search_document_search_vector ON search_document USING gin (search_vector)")
    op.execute("DROP INDEX IF EXISTS ix_search_document_fts")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE INDEX ix_search_document_fts ON search_document USING gin (({VECTOR}))")
    op.execute("DROP INDEX IF EXISTS ix_search_document_search_vector")
    op.execute("ALTER TABLE search_document DROP COLUMN search_vector")
