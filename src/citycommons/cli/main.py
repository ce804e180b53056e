"""``citycommons``: serve the portal, initialise and migrate the database, manage users, tokens and members, and
build the demo city. Every command reads its configuration from ``Settings()`` (``CITYCOMMONS_*`` variables,
e.g. ``CITYCOMMONS_DATA_DIR`` and ``CITYCOMMONS_DATABASE_URL``) and calls the same services as the web API."""

from __future__ import annotations

from typing import Annotated

import typer

from citycommons import __version__
from citycommons.cli import accounts, db, orgs
from citycommons.cli import ingest as ingest_commands
from citycommons.cli import log as ledger_log
from citycommons.cli.context import CliState, Group, out, show_rows, state
from citycommons.cli.ingest import load_queued_tables
from citycommons.db import migrate
from citycommons.settings import Settings

app = typer.Typer(
    cls=Group,
    help="citycommons: a self-hostable City Data Commons.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(db.app, name="db")
app.add_typer(accounts.users, name="user")
app.add_typer(accounts.tokens, name="token")
app.add_typer(orgs.app, name="org")
app.add_typer(ledger_log.app, name="log")
app.command()(ingest_commands.ingest)
app.command()(ingest_commands.worker)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"citycommons {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_show_version, is_eager=True)
    ] = False,
) -> None:
    """Settings come from CITYCOMMONS_* environment variables (CITYCOMMONS_DATA_DIR, CITYCOMMONS_DATABASE_URL, ...)
    and the TOML file named by CITYCOMMONS_CONFIG_FILE."""
    cli = CliState(settings=Settings())
    ctx.obj = cli
    ctx.call_on_close(cli.close)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    reload: Annotated[bool, typer.Option("--reload/--no-reload", help="Restart when the code changes.")] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level: critical, error, warning, info, debug.")] = "info",
) -> None:
    """Apply pending migrations, then serve the portal and the APIs with uvicorn."""
    import uvicorn

    from citycommons.app import create_app

    cli = state(ctx)
    migrate.upgrade(cli.settings, engine=cli.engine)
    cli.close()
    out.print(f"Serving http://{host}:{port} over {cli.database_label}")
    if reload:
        uvicorn.run(
            "citycommons.cli.serve:app_from_env", factory=True, host=host, port=port, reload=True, log_level=log_level
        )
    else:
        uvicorn.run(create_app(cli.settings), host=host, port=port, log_level=log_level)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the data directory and bring the database schema up to date (safe to run again)."""
    cli = state(ctx)
    settings = cli.settings
    for label, path in (("Data directory", settings.data_dir), ("Uploads", settings.uploads_dir)):
        existed = path.exists()
        path.mkdir(parents=True, exist_ok=True)
        out.print(f"{label}: {path.resolve()} ({'exists' if existed else 'created'})")
    before, after = db.apply(cli.engine, settings)
    out.print(f"Database: {cli.database_label}")
    if before == after:
        out.print(f"Schema: already at revision {db.label(after)}")
    else:
        out.print(f"Schema: migrated {db.label(before)} -> {db.label(after)}")
    out.print("Next: `citycommons user create NAME --email E --sysadmin`, or `citycommons demo` for a sample city.")


@app.command()
def demo(
    ctx: typer.Context,
    admin_password: Annotated[
        str | None,
        typer.Option(
            "--admin-password",
            help="Password of the demo users `admin` and the department editors. Default: a random one, "
            "printed once when the users are created.",
        ),
    ] = None,
) -> None:
    """Build the demo city (Barcelona: departments, groups, users, datasets with real files). Idempotent."""
    from citycommons.demo.build import build_demo

    cli = state(ctx)
    migrate.upgrade(cli.settings, engine=cli.engine)
    with cli.unit() as session:
        report = build_demo(session=session, settings=cli.settings, admin_password=admin_password)
    show_rows(
        ["what", "created", "already there"],
        [[what, str(created), str(existing)] for what, (created, existing) in report.counts().items()],
    )
    if report.generated_password:
        out.print(
            f"Sign in as [bold]admin[/] (or any department editor) with the password "
            f"[bold]{report.generated_password}[/] — it is shown only this once."
        )
    elif not report.changed:
        out.print("The demo city was already complete; nothing changed.")
    load_queued_tables(settings=cli.settings, factory=cli.sessionmaker)
