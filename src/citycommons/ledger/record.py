"""What the rest of the platform calls to put its events in the transparency log.

Each function builds a ``LedgerEvent`` (pseudonyms and ids, never personal data) and logs it through
``service.submit`` in the caller's transaction: the event is logged if and only if the action commits. ``submit``
does not take the log's lock on PostgreSQL (the event is sequenced right after the commit), so concurrent
requests that log reads do not queue behind one another.

Which reads are logged: every read aimed at one non-open dataset, whatever the front door — its page, its metadata
(``GET /api/v1/datasets/{id}``, CKAN ``package_show``), a resource's metadata (``GET /api/v1/distributions/{id}``,
CKAN ``resource_show``), a file download, a datastore query or export. Reads of open data are not logged (nothing to
account for). Listings are not logged either: a member's search, ``package_search`` with ``include_private`` or
``current_package_list_with_resources`` names the private datasets the member may already read, as a side effect of
looking for something; one entry per listed row would bury the targeted reads the log exists to show under
thousands of incidental ones, and one entry per listing would name no dataset. Following a result is a logged read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.catalog.models import Dataset
from citycommons.db.engine import PSEUDONYM_KEY_OPTION
from citycommons.ledger import service
from citycommons.ledger.schemas import EventType, LedgerEvent

ReadChannel = Literal["download", "api", "page", "query", "sql", "export", "diff"]


class DatasetLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def organization_id(self) -> str: ...
    @property
    def private(self) -> bool: ...
    @property
    def access_rights(self) -> str: ...


@dataclass(frozen=True)
class DatasetRef:
    """A ``DatasetLike`` from a ``DatasetRead`` (``DatasetRef.of(read)``), for front doors that hold no ORM row."""

    id: str
    organization_id: str
    private: bool
    access_rights: str

    @classmethod
    def of(cls, read: Any) -> DatasetRef:
        return cls(
            id=read.id, organization_id=read.organization.id, private=read.private, access_rights=read.access_rights
        )


def deployment_key(session: Session) -> str:
    """``settings.pseudonym_key``, which ``db.engine.make_engine`` attaches to the engine: for services that take
    no settings (dataset and membership changes). Front doors that hold the settings pass them explicitly."""
    key = session.get_bind().get_execution_options().get(PSEUDONYM_KEY_OPTION)
    if not isinstance(key, str) or len(key) < 16:
        raise RuntimeError("the session's engine carries no pseudonym key: build it with db.engine.make_engine")
    return key


def is_open(dataset: DatasetLike) -> bool:
    """Open data: public and PUBLIC access rights. Reads of anything else are logged."""
    return not dataset.private and dataset.access_rights == "PUBLIC"


def subjects_of(actor: Actor, *, key: str | bytes) -> list[str]:
    return [service.pseudonym(key, actor.user_id)] if actor.user_id else []


def data_read(
    *,
    session: Session,
    actor: Actor,
    key: str | bytes,
    dataset: DatasetLike,
    channel: ReadChannel,
    distribution_id: str | None = None,
    version: int | None = None,
) -> None:
    """Log a read of a non-open dataset's metadata, files or rows; does nothing for open data."""
    if is_open(dataset):
        return
    objects = [f"dataset:{dataset.id}", f"organization:{dataset.organization_id}"]
    if distribution_id:
        objects.append(f"distribution:{distribution_id}")
    details: dict[str, object] = {
        "channel": channel,
        "access_rights": dataset.access_rights,
        "private": dataset.private,
    }
    if version is not None:
        details["version"] = version
    event = LedgerEvent(type=EventType.DATASET_READ, subjects=subjects_of(actor, key=key), objects=objects,
                        details=details)  # fmt: skip
    service.submit(session=session, event=event)


def resource_read(
    *, session: Session, actor: Actor, key: str | bytes, dataset_id: str, distribution_id: str, channel: ReadChannel
) -> None:
    """Log a read of the metadata of a resource (distribution) of a non-open dataset; nothing for open data.
    Called right after the permission check that loaded the dataset, so its row comes from the session."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:  # the caller has just read it: cannot happen inside one transaction
        raise LookupError(f"dataset {dataset_id} is not in this session")
    data_read(session=session, actor=actor, key=key, dataset=dataset, channel=channel, distribution_id=distribution_id)


def access_rights_changed(
    *, session: Session, actor: Actor, key: str | bytes, dataset: DatasetLike, before: dict[str, object]
) -> None:
    """Log a change of a dataset's ``private`` flag or ``access_rights`` (``before`` holds the old values)."""
    after = {"private": dataset.private, "access_rights": dataset.access_rights}
    if all(before.get(name) == value for name, value in after.items()):
        return
    event = LedgerEvent(
        type=EventType.DATASET_ACCESS_RIGHTS_CHANGED,
        subjects=subjects_of(actor, key=key),
        objects=[f"dataset:{dataset.id}", f"organization:{dataset.organization_id}"],
        details={"before": {k: before.get(k) for k in after}, "after": after},
    )
    service.submit(session=session, event=event)


def role_granted(
    *, session: Session, actor: Actor, key: str | bytes, user_id: str, organization_id: str, role: str | None
) -> None:
    """Log a grant, change or removal (``role=None``) of a user's role in an organisation."""
    event = LedgerEvent(
        type=EventType.ROLE_GRANTED,
        subjects=subjects_of(actor, key=key) + [service.pseudonym(key, user_id)],
        objects=[f"organization:{organization_id}"],
        details={"role": role or "none"},
    )
    service.submit(session=session, event=event)
