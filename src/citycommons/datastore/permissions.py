"""Who may read and write which datastore table: the catalog's rules applied to the table of a distribution.

A table is addressed by its distribution (CKAN resource) id. Its metadata (Table Schema, versions, reports) is
visible to whoever may see the dataset; its rows follow ``catalog.permissions.can_read_data`` (restricted and
non-public data for members of the publishing organisation); writes need an editor of that organisation.
Unknown, deleted and invisible (private) tables all answer the same ``NotFound``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from citycommons.actor import Actor
from citycommons.catalog import permissions
from citycommons.catalog.models import Dataset, Distribution
from citycommons.datastore import versions
from citycommons.errors import Forbidden, NotFound

Access = Literal["metadata", "rows", "edit"]


@dataclass(frozen=True)
class Owner:
    """The dataset and distribution behind a table, with what the actor may do with it."""

    dataset: Dataset
    distribution: Distribution
    can_read_data: bool
    can_edit: bool


def not_found(resource_id: str) -> NotFound:
    return NotFound(f"Resource `{resource_id}` has no datastore table you can see")


def find_owner(session: Session, actor: Actor, resource_id: str) -> Owner | None:
    """The owner of ``resource_id`` if the actor may see its dataset (active dataset and distribution), else None."""
    if not isinstance(resource_id, str) or not versions.TABLE_ID.fullmatch(resource_id):
        return None
    # One round trip, relationships loaded only when used: this runs before every query of the table.
    found = session.execute(
        select(Distribution, Dataset)
        .join(Dataset, Dataset.id == Distribution.dataset_id)
        .where(Distribution.id == resource_id)
        .options(lazyload("*"))
    ).first()
    if found is None:
        return None
    dist, ds = found.tuple()
    if dist.state != "active" or ds.state != "active":
        return None
    if not permissions.can_read_dataset(actor, organization_id=ds.organization_id, private=ds.private):
        return None
    readable = permissions.can_read_data(
        actor, organization_id=ds.organization_id, private=ds.private, access_rights=ds.access_rights
    )
    editable = permissions.can_edit_dataset(actor, organization_id=ds.organization_id)
    return Owner(dataset=ds, distribution=dist, can_read_data=readable, can_edit=editable)


def require(session: Session, actor: Actor, resource_id: str, *, access: Access) -> Owner:
    """The owner of ``resource_id`` if ``actor`` has ``access``; ``NotFound`` when the actor may not see the
    dataset, ``Forbidden`` when it may see it but not read its rows (``rows``) or change it (``edit``)."""
    owner = find_owner(session, actor, resource_id)
    if owner is None:
        raise not_found(resource_id)
    if access == "rows" and not owner.can_read_data:
        raise Forbidden("This data is not open; members of the publishing organisation may read it")
    if access == "edit" and not owner.can_edit:
        raise Forbidden("Only editors of the publishing organisation may change this table")
    return owner
