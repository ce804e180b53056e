"""What every command shares: the Settings built once per invocation, one engine, the error translator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn

import typer
from alembic.util.exc import CommandError
from pydantic import ValidationError
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from typer.core import TyperGroup

from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from citycommons.errors import CityCommonsError
from citycommons.settings import Settings

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@dataclass
class CliState:
    """Held in ``ctx.obj``; the engine is opened on first use and disposed when the command ends."""

    settings: Settings
    _engine: Engine | None = field(default=None, repr=False)
    _factory: sessionmaker[Session] | None = field(default=None, repr=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings)
        return self._engine

    @property
    def sessionmaker(self) -> sessionmaker[Session]:
        if self._factory is None:
            self._factory = make_sessionmaker(self.engine)
        return self._factory

    @contextmanager
    def unit(self) -> Iterator[Session]:
        """One committed transaction, exactly as a request gets."""
        with unit_of_work(self.sessionmaker) as session:
            yield session

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine, self._factory = None, None

    @property
    def database_label(self) -> str:
        """The database URL without its password, for messages."""
        return make_url(self.settings.sqlalchemy_url).render_as_string(hide_password=True)


def state(ctx: typer.Context) -> CliState:
    obj = ctx.find_object(CliState)
    if obj is None:  # pragma: no cover - the root callback always sets it
        raise RuntimeError("citycommons: settings were not loaded")
    return obj


def fail(message: str) -> NoReturn:
    """Prints ``message`` in a red panel on stderr and exits with status 1 (no traceback)."""
    err.print(Panel(Text(message), title="Error", title_align="left", border_style="red"))
    raise typer.Exit(1)


def _fields_text(fields: dict[str, list[str]]) -> str:
    return "\n".join(f"  {name + ': ' if name else ''}{'; '.join(messages)}" for name, messages in fields.items())


def describe(exc: BaseException) -> str:
    """A one-paragraph message for an expected failure."""
    if isinstance(exc, CityCommonsError):
        text = f"{exc.message} ({exc.code})"
        if exc.fields:
            text += "\n" + _fields_text(exc.fields)
        return text
    if isinstance(exc, ValidationError):
        fields: dict[str, list[str]] = {}
        for error in exc.errors():
            name = ".".join(str(p) for p in error.get("loc", ()))
            fields.setdefault(name, []).append(str(error.get("msg", "invalid")).removeprefix("Value error, "))
        return "Invalid input\n" + _fields_text(fields)
    if isinstance(exc, SQLAlchemyError):
        orig = getattr(exc, "orig", None)
        first = str(orig if orig is not None else exc).splitlines()[0]
        return f"Database error: {first}\nIs the database reachable and migrated? Try `citycommons init`."
    return str(exc)


class Group(TyperGroup):
    """The root command group: our error tree, bad input and database failures become a message, not a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (CityCommonsError, ValidationError, SQLAlchemyError) as exc:
            fail(describe(exc))
        except CommandError as exc:  # alembic: e.g. migration branches that need a merge
            fail(f"Migration error: {exc}")


def show_rows(headers: list[str], rows: list[list[str]]) -> None:
    """A Rich table on a terminal; tab-separated lines (header first) when piped, for scripts."""
    if out.is_terminal:
        table = Table(*headers)
        for row in rows:
            table.add_row(*row)
        out.print(table)
        return
    for line in [headers, *rows]:
        typer.echo("\t".join(cell.replace("\t", " ").replace("\n", " ") for cell in line))
