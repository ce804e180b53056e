"""Groups: curated collections of datasets across organisations (CKAN groups)."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.catalog import permissions
from citycommons.catalog.models import Dataset, Group, dataset_group
from citycommons.catalog.schemas import GroupCreate, GroupPatch, GroupRead
from citycommons.errors import Conflict, Forbidden, NotFound


def find_group(session: Session, ref: str) -> Group:
    group = session.scalars(select(Group).where(or_(Group.id == ref, Group.name == ref))).first()
    if group is None or group.state != "active":
        raise NotFound("Group not found")
    return group


def _counts(session: Session, actor: Actor, group_id: str | None = None) -> dict[str, int]:
    """Visible active datasets per group (only ``group_id``'s when given)."""
    stmt = (
        select(dataset_group.c.group_id, func.count())
        .join(Dataset, Dataset.id == dataset_group.c.dataset_id)
        .where(Dataset.state == "active", permissions.visible_datasets(actor))
        .group_by(dataset_group.c.group_id)
    )
    if group_id is not None:
        stmt = stmt.where(dataset_group.c.group_id == group_id)
    return {gid: n for gid, n in session.execute(stmt).all()}


def _read(group: Group, counts: dict[str, int]) -> GroupRead:
    read = GroupRead.model_validate(group, from_attributes=True)
    read.dataset_count = counts.get(group.id, 0)
    return read


def get(*, session: Session, actor: Actor, id_or_name: str, with_count: bool = True) -> GroupRead:
    """The group; ``with_count=False`` skips counting its datasets (``dataset_count`` is then 0)."""
    group = find_group(session, id_or_name)
    return _read(group, _counts(session, actor, group.id) if with_count else {})


def list_all(*, session: Session, actor: Actor) -> list[GroupRead]:
    counts = _counts(session, actor)
    rows = session.scalars(select(Group).where(Group.state == "active").order_by(Group.name))
    return [_read(g, counts) for g in rows]


def create(*, session: Session, actor: Actor, data: GroupCreate) -> GroupRead:
    if not permissions.can_manage_groups(actor):
        raise Forbidden("Only a sysadmin can create groups")
    if session.scalar(select(func.count()).select_from(Group).where(Group.name == data.name)):
        raise Conflict("Group name already exists", fields={"name": ["Group name already exists in database"]})
    group = Group(**data.model_dump())
    session.add(group)
    session.flush()
    return _read(group, {})


def patch(*, session: Session, actor: Actor, id_or_name: str, data: GroupPatch) -> GroupRead:
    if not permissions.can_manage_groups(actor):
        raise Forbidden("Only a sysadmin can edit groups")
    group = find_group(session, id_or_name)
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(group, key, value)
    session.flush()
    return _read(group, _counts(session, actor))
