"""``citycommons org``: organisations (city departments) and their members."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from citycommons.actor import SYSTEM
from citycommons.catalog import organizations
from citycommons.catalog.schemas import pick
from citycommons.cli.context import out, show_rows, state

app = typer.Typer(help="Organisations (city departments) and their members.", no_args_is_help=True)
members = typer.Typer(help="Members of an organisation.", no_args_is_help=True)
app.add_typer(members, name="member")


class Role(StrEnum):
    admin = "admin"
    editor = "editor"
    member = "member"


@app.command("list")
def list_orgs(ctx: typer.Context) -> None:
    """List organisations with their dataset counts."""
    with state(ctx).unit() as session:
        rows = organizations.list_all(session=session, actor=SYSTEM)
    lang = state(ctx).settings.default_locale
    show_rows(
        ["name", "title", "datasets", "id"],
        [[org.name, pick(org.title, lang), str(org.dataset_count), org.id] for org in rows],
    )


@members.command("add")
def add_member(
    ctx: typer.Context,
    org: Annotated[str, typer.Argument(help="Organisation name or id.")],
    user: Annotated[str, typer.Argument(help="User name, id or e-mail.")],
    role: Annotated[Role, typer.Option("--role", help="Role in the organisation.")] = Role.member,
) -> None:
    """Add a user to an organisation, or change their role."""
    with state(ctx).unit() as session:
        member = organizations.set_member(session=session, actor=SYSTEM, id_or_name=org, user=user, role=role.value)
    out.print(f"[bold]{member.user_name}[/] is now {member.role} of {org}")


@members.command("remove")
def remove_member(
    ctx: typer.Context,
    org: Annotated[str, typer.Argument(help="Organisation name or id.")],
    user: Annotated[str, typer.Argument(help="User name, id or e-mail.")],
) -> None:
    """Remove a user from an organisation."""
    with state(ctx).unit() as session:
        organizations.remove_member(session=session, actor=SYSTEM, id_or_name=org, user=user)
    out.print(f"Removed {user} from {org}")


@members.command("list")
def list_members(
    ctx: typer.Context,
    org: Annotated[str, typer.Argument(help="Organisation name or id.")],
) -> None:
    """List an organisation's members and their roles."""
    with state(ctx).unit() as session:
        rows = organizations.members(session=session, actor=SYSTEM, id_or_name=org)
    show_rows(["user", "role", "user id"], [[m.user_name, m.role, m.user_id] for m in rows])
