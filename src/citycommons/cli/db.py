"""``citycommons db``: schema migrations."""

from __future__ import annotations

import typer
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from citycommons.cli.context import out, state
from citycommons.db import migrate
from citycommons.settings import Settings

app = typer.Typer(help="Database schema: apply migrations, show the current revision.", no_args_is_help=True)


def head_revisions() -> tuple[str, ...]:
    """The newest revision(s) of the migration scripts (more than one only while branches await a merge)."""
    return tuple(sorted(ScriptDirectory(str(migrate.MIGRATIONS)).get_heads()))


def current_revisions(engine: Engine) -> tuple[str, ...]:
    """The revision(s) the database is at; empty before the first migration."""
    with engine.connect() as conn:
        return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))


def label(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) or "empty"


def apply(engine: Engine, settings: Settings) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Upgrades to head; returns the revisions before and after."""
    before = current_revisions(engine)
    migrate.upgrade(settings, engine=engine)
    return before, current_revisions(engine)


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Apply every pending migration (idempotent)."""
    cli = state(ctx)
    before, after = apply(cli.engine, cli.settings)
    if before == after:
        out.print(f"Database {cli.database_label} is already at revision [bold]{label(after)}[/].")
    else:
        out.print(f"Database {cli.database_label} upgraded: {label(before)} -> [bold]{label(after)}[/].")


@app.command("current")
def current(ctx: typer.Context) -> None:
    """Show the database's migration revision and whether it is the newest."""
    cli = state(ctx)
    revisions, heads = current_revisions(cli.engine), head_revisions()
    if not revisions:
        out.print(
            f"Database {cli.database_label} has no schema yet (head is {label(heads)}); run `citycommons db upgrade`."
        )
    elif revisions == heads:
        out.print(f"{label(revisions)} (head)")
    else:
        out.print(f"{label(revisions)} (head is {label(heads)}; run `citycommons db upgrade`)")
