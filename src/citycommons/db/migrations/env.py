"""Alembic environment: migrations run in one transaction (atomic on PostgreSQL and SQLite)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from citycommons.db.models_registry import metadata

config = context.config


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    owns_engine = engine is None
    if engine is None:
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        schema = None
        if connection.dialect.name == "postgresql":  # the version table lives with the tables (first search_path)
            schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
        context.configure(
            version_table_schema=schema,
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            transactional_ddl=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    if owns_engine:
        engine.dispose()


run_migrations_online()
