"""Organisations (city departments) and their members."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from citycommons.accounts.models import Membership, User
from citycommons.accounts.service import find_user_id
from citycommons.actor import Actor
from citycommons.catalog import permissions
from citycommons.catalog.models import Dataset, Organization
from citycommons.catalog.schemas import MemberRead, OrganizationCreate, OrganizationPatch, OrganizationRead
from citycommons.errors import Conflict, Forbidden, NotFound
from citycommons.ledger import record as ledger_record


def find_organization(session: Session, ref: str) -> Organization:
    org = session.scalars(select(Organization).where(or_(Organization.id == ref, Organization.name == ref))).first()
    if org is None or org.state != "active":
        raise NotFound("Organization not found")
    return org


def _read(session: Session, actor: Actor, org: Organization) -> OrganizationRead:
    n = session.scalar(
        select(func.count())
        .select_from(Dataset)
        .where(
            Dataset.organization_id == org.id,
            Dataset.state == "active",
            permissions.visible_datasets(actor),
        )
    )
    read = OrganizationRead.model_validate(org, from_attributes=True)
    read.dataset_count = n or 0
    return read


def get(*, session: Session, actor: Actor, id_or_name: str, with_count: bool = True) -> OrganizationRead:
    """The organisation; ``with_count=False`` skips counting its datasets (``dataset_count`` is then 0)."""
    org = find_organization(session, id_or_name)
    if not with_count:
        return OrganizationRead.model_validate(org, from_attributes=True)
    return _read(session, actor, org)


def list_all(*, session: Session, actor: Actor) -> list[OrganizationRead]:
    counts = dict(
        session.execute(
            select(Dataset.organization_id, func.count())
            .where(Dataset.state == "active", permissions.visible_datasets(actor))
            .group_by(Dataset.organization_id)
        ).all()
    )
    orgs = session.scalars(select(Organization).where(Organization.state == "active").order_by(Organization.name))
    out = []
    for org in orgs:
        read = OrganizationRead.model_validate(org, from_attributes=True)
        read.dataset_count = counts.get(org.id, 0)
        out.append(read)
    return out


def create(*, session: Session, actor: Actor, data: OrganizationCreate) -> OrganizationRead:
    if not permissions.can_create_organization(actor):
        raise Forbidden("Only a sysadmin can create organisations")
    if session.scalar(select(func.count()).select_from(Organization).where(Organization.name == data.name)):
        raise Conflict("Organisation name already exists", fields={"name": ["Group name already exists in database"]})
    org = Organization(**data.model_dump())
    session.add(org)
    session.flush()
    if actor.user_id:
        session.add(Membership(user_id=actor.user_id, organization_id=org.id, role="admin"))
    return _read(session, actor, org)


def patch(*, session: Session, actor: Actor, id_or_name: str, data: OrganizationPatch) -> OrganizationRead:
    org = find_organization(session, id_or_name)
    if not permissions.can_manage_organization(actor, organization_id=org.id):
        raise Forbidden("You may not edit this organisation")
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is not None:
            setattr(org, key, value)
    session.flush()
    return _read(session, actor, org)


def members(*, session: Session, actor: Actor, id_or_name: str) -> list[MemberRead]:
    org = find_organization(session, id_or_name)
    if not actor.has_role(org.id, "member"):
        raise Forbidden("Only members can list the members of an organisation")
    rows = session.execute(
        select(Membership.user_id, User.name, Membership.role)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == org.id)
        .order_by(User.name)
    )
    return [MemberRead(user_id=u, user_name=n, role=r) for u, n, r in rows]


def set_member(*, session: Session, actor: Actor, id_or_name: str, user: str, role: str) -> MemberRead:
    org = find_organization(session, id_or_name)
    if not permissions.can_manage_organization(actor, organization_id=org.id):
        raise Forbidden("Only organisation admins can change members")
    user_id = find_user_id(session=session, id_or_name=user)
    row = session.scalars(
        select(Membership).where(Membership.organization_id == org.id, Membership.user_id == user_id)
    ).first()
    changed = row is None or row.role != role
    if row is None:
        row = Membership(user_id=user_id, organization_id=org.id, role=role)
        session.add(row)
    else:
        row.role = role
    session.flush()
    if changed:
        key = ledger_record.deployment_key(session)
        ledger_record.role_granted(
            session=session, actor=actor, key=key, user_id=user_id, organization_id=org.id, role=role
        )
    name = session.scalar(select(User.name).where(User.id == user_id)) or ""
    return MemberRead(user_id=user_id, user_name=name, role=role)


def remove_member(*, session: Session, actor: Actor, id_or_name: str, user: str) -> None:
    org = find_organization(session, id_or_name)
    if not permissions.can_manage_organization(actor, organization_id=org.id):
        raise Forbidden("Only organisation admins can change members")
    user_id = find_user_id(session=session, id_or_name=user)
    row = session.scalars(
        select(Membership).where(Membership.organization_id == org.id, Membership.user_id == user_id)
    ).first()
    if row is None:
        raise NotFound("That user is not a member")
    session.delete(row)
    key = ledger_record.deployment_key(session)
    ledger_record.role_granted(
        session=session, actor=actor, key=key, user_id=user_id, organization_id=org.id, role=None
    )
