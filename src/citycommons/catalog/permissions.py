"""Who may see and change what in the catalog. Every front door goes through these via the services."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, true

from citycommons.actor import Actor
from citycommons.catalog.models import Dataset


def can_read_dataset(actor: Actor, *, organization_id: str, private: bool) -> bool:
    return not private or actor.has_role(organization_id, "member")


def can_read_data(actor: Actor, *, organization_id: str, private: bool, access_rights: str) -> bool:
    """Files and rows of a dataset: open data for everyone, restricted/non-public for members only."""
    if not can_read_dataset(actor, organization_id=organization_id, private=private):
        return False
    return access_rights == "PUBLIC" or actor.has_role(organization_id, "member")


def can_create_dataset(actor: Actor, *, organization_id: str) -> bool:
    return actor.has_role(organization_id, "editor")


def can_edit_dataset(actor: Actor, *, organization_id: str) -> bool:
    return actor.has_role(organization_id, "editor")


def can_manage_organization(actor: Actor, *, organization_id: str) -> bool:
    return actor.has_role(organization_id, "admin")


def can_create_organization(actor: Actor) -> bool:
    return actor.sysadmin


def can_manage_groups(actor: Actor) -> bool:
    return actor.sysadmin


def visible_datasets(actor: Actor, *, include_private: bool = True) -> ColumnElement[bool]:
    """SQL condition selecting the datasets ``actor`` may see (used by every listing and search)."""
    if actor.sysadmin and include_private:
        return true()
    if not include_private or not actor.member_of:
        return Dataset.private == false()
    return or_(Dataset.private == false(), Dataset.organization_id.in_(sorted(actor.member_of)))


def can_manage_catalog(actor: Actor) -> bool:
    """The catalog's own description (title, publisher, licence): sysadmins only."""
    return actor.sysadmin
