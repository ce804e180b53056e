"""What the rest of the platform calls to put its events in the transparency log.

Each function builds a ``LedgerEvent`` (pseudonyms and ids, never personal data) and appends it through
``service.append`` in the caller's transaction: the event is logged if and only if the action commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy.orm import Session

from citycommons.actor import Actor
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
    service.append(session=session, event=event)


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
    service.append(session=session, event=event)


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
    service.append(session=session, event=event)
