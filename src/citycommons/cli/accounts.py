"""``citycommons user`` and ``citycommons token``: accounts and API tokens, through the accounts service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from citycommons.accounts import service as accounts
from citycommons.accounts.schemas import UserCreate, UserPrivateRead
from citycommons.actor import SYSTEM
from citycommons.cli.context import out, show_rows, state

users = typer.Typer(help="User accounts.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens (sent as `Authorization: <token>`).", no_args_is_help=True)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


@users.command("create")
def create_user(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name: lower-case letters, digits, '-' and '_'.")],
    email: Annotated[str, typer.Option("--email", help="E-mail address (unique).")],
    password: Annotated[
        str,
        typer.Option("--password", help="At least 8 characters; asked for when omitted.", prompt=True, hide_input=True),
    ],
    fullname: Annotated[str, typer.Option("--fullname", help="Display name.")] = "",
    sysadmin: Annotated[bool, typer.Option("--sysadmin", help="Make the user a sysadmin.")] = False,
) -> None:
    """Create a user account."""
    data = UserCreate(name=name, email=email, password=password, fullname=fullname, sysadmin=sysadmin)
    with state(ctx).unit() as session:
        user = accounts.create_user(session=session, actor=SYSTEM, data=data)
    role = " (sysadmin)" if user.sysadmin else ""
    out.print(f"Created user [bold]{user.name}[/]{role} <{user.email}>, id {user.id}")


@users.command("list")
def list_users(ctx: typer.Context) -> None:
    """List every user account."""
    with state(ctx).unit() as session:
        rows = accounts.list_users(session=session, actor=SYSTEM)
    show_rows(
        ["name", "full name", "e-mail", "sysadmin", "state", "created", "id"],
        [
            [
                user.name,
                user.fullname,
                user.email if isinstance(user, UserPrivateRead) else "",
                "yes" if user.sysadmin else "",
                user.state,
                _when(user.created),
                user.id,
            ]
            for user in rows
        ],
    )


@tokens.command("create")
def create_token(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="User name, id or e-mail.")],
    name: Annotated[str, typer.Option("--name", help="A label to recognise the token by.")] = "cli",
) -> None:
    """Create an API token and print it, alone, on stdout (it is not shown again)."""
    with state(ctx).unit() as session:
        created = accounts.create_token(session=session, actor=SYSTEM, user=user, name=name)
    typer.echo(created.token)


@tokens.command("list")
def list_tokens(
    ctx: typer.Context,
    user: Annotated[str, typer.Argument(help="User name, id or e-mail.")],
) -> None:
    """List a user's API tokens (never the tokens themselves)."""
    with state(ctx).unit() as session:
        rows = accounts.list_tokens(session=session, actor=SYSTEM, user=user)
    show_rows(
        ["id", "name", "created", "last used", "revoked"],
        [[t.id, t.name, _when(t.created), _when(t.last_used), _when(t.revoked)] for t in rows],
    )


@tokens.command("revoke")
def revoke_token(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(metavar="ID", help="Token id, as shown by `token list`.")],
) -> None:
    """Revoke an API token (idempotent)."""
    with state(ctx).unit() as session:
        token = accounts.revoke_token(session=session, actor=SYSTEM, token_id=token_id)
    out.print(f"Revoked token {token.id} ({token.name}) at {_when(token.revoked)}")
