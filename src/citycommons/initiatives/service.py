"""Initiatives: submit (anyone, rate-limited per client address), list and read (approved only, unless moderator),
edit and decide (moderators; every decision is appended to the transparency log). Services never commit.

The transparency log entry of a decision is ``moderation.decided`` with the moderator's pseudonym as subject,
``initiative:<id>`` as object and ``{"decision", "reason"}`` as details. The pseudonym ``key`` is the deployment's
``settings.pseudonym_key`` (front doors pass it; None: the one the session's engine carries); the same key
pseudonymises client addresses for the rate limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.errors import NotFound, QuotaExceeded, invalid
from citycommons.initiatives import geocode
from citycommons.initiatives.models import Initiative
from citycommons.initiatives.permissions import can_moderate, require_moderator
from citycommons.initiatives.schemas import (
    Decision,
    InitiativeCreate,
    InitiativeModeration,
    InitiativePage,
    InitiativePatch,
    InitiativeQuery,
    InitiativeRead,
    ModerationPage,
    Status,
    Submitted,
)
from citycommons.ledger import record as ledger_record
from citycommons.ledger import service as ledger
from citycommons.ledger.schemas import EventType, LedgerEvent
from citycommons.registers import principles as principles_register

SUBMISSIONS_PER_HOUR = 5
EXPORT_LIMIT = 5000


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    district_code: int | None


def _principles_text(numbers: Sequence[int]) -> str:
    return "|" + "|".join(str(n) for n in sorted(set(numbers))) + "|"


def _principles_list(text: str) -> list[int]:
    return [int(n) for n in text.strip("|").split("|") if n.isdigit()]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _read(row: Initiative) -> InitiativeRead:
    return InitiativeRead(
        id=row.id,
        name=row.name,
        description=row.description,
        org_type=row.org_type,
        principles=_principles_list(row.principles),
        website=row.website,
        address=row.address,
        lat=row.lat,
        lon=row.lon,
        district_code=row.district_code,
        district=geocode.district_names().get(row.district_code) if row.district_code else None,
        created_at=row.created_at,
    )


def _moderation(row: Initiative) -> InitiativeModeration:
    return InitiativeModeration(
        **_read(row).model_dump(),
        contact_email=row.contact_email,
        status=row.status,
        rejection_reason=row.rejection_reason,
        decided_at=row.decided_at,
    )


def locate(*, address: str, lat: float | None, lon: float | None) -> Location:
    """Coordinates as given (both or neither), else the centroid of the place the address names."""
    if (lat is None) != (lon is None):
        raise invalid("lat" if lat is None else "lon", "Give both latitude and longitude")
    if lat is not None and lon is not None:
        return Location(lat, lon, geocode.district_at(lat, lon))
    place = geocode.locate(address) if address else None
    if place is None:
        raise invalid(
            "location",
            "Pick the location on the map, type its coordinates, or name a Barcelona district or neighbourhood",
        )
    return Location(place.lat, place.lon, place.district_code)


def submit(
    *,
    session: Session,
    data: InitiativeCreate,
    client: str,
    key: str | bytes | None = None,
    limit: int | None = SUBMISSIONS_PER_HOUR,
    now: datetime | None = None,
    status: Status = "pending",
) -> Submitted:
    """Stores a submission as pending. ``limit`` submissions per hour per ``client`` address (None: no limit,
    for trusted imports such as the demo, which may also give another ``status``)."""
    now = now or datetime.now(UTC)
    submitter = ledger.pseudonym(key or ledger_record.deployment_key(session), f"client:{client}")
    if limit is not None:
        since = now - timedelta(hours=1)
        recent = session.scalars(
            select(Initiative.created_at)
            .where(Initiative.submitter == submitter, Initiative.created_at >= since)
            .order_by(Initiative.created_at)
        ).all()
        if len(recent) >= limit:
            oldest = recent[-limit].replace(tzinfo=recent[-limit].tzinfo or UTC)
            retry = max(1, int((oldest + timedelta(hours=1) - now).total_seconds()) + 1)
            raise QuotaExceeded("Too many submissions from this address; try again later", retry_after=retry)
    where = locate(address=data.address, lat=data.lat, lon=data.lon)
    row = Initiative(
        name=data.name,
        description=data.description,
        org_type=data.org_type,
        principles=_principles_text(data.principles),
        website=data.website,
        address=data.address,
        lat=where.lat,
        lon=where.lon,
        district_code=where.district_code,
        contact_email=data.contact_email,
        status=status,
        rejection_reason="",
        submitter=submitter,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return Submitted(id=row.id, status=status)


def _filtered(query: InitiativeQuery) -> Select[Initiative]:
    stmt = select(Initiative).where(Initiative.status == "approved")
    if query.principle is not None:
        stmt = stmt.where(Initiative.principles.like(f"%|{query.principle}|%"))
    if query.org_type is not None:
        stmt = stmt.where(Initiative.org_type == query.org_type)
    if query.district is not None:
        stmt = stmt.where(Initiative.district_code == query.district)
    for word in query.q.split()[:8]:
        pattern = f"%{_escape_like(word.lower())}%"
        stmt = stmt.where(
            or_(
                func.lower(Initiative.name).like(pattern, escape="\\"),
                func.lower(Initiative.description).like(pattern, escape="\\"),
                func.lower(Initiative.address).like(pattern, escape="\\"),
            )
        )
    return stmt


def list_public(*, session: Session, query: InitiativeQuery) -> InitiativePage:
    """Approved initiatives matching the filters, newest first, one page."""
    stmt = _filtered(query)
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(Initiative.created_at.desc(), Initiative.id)
        .offset((query.page - 1) * query.size)
        .limit(query.size)
    ).all()
    return InitiativePage(count=count, page=query.page, size=query.size, results=[_read(r) for r in rows])


def list_all_public(*, session: Session, query: InitiativeQuery) -> list[InitiativeRead]:
    """Every approved initiative matching the filters (up to ``EXPORT_LIMIT``): the map and the exports."""
    rows = session.scalars(_filtered(query).order_by(Initiative.name, Initiative.id).limit(EXPORT_LIMIT)).all()
    return [_read(r) for r in rows]


def _row(session: Session, initiative_id: str) -> Initiative:
    row = session.get(Initiative, initiative_id) if len(initiative_id) <= 36 else None
    if row is None:
        raise NotFound("Initiative not found")
    return row


def get(*, session: Session, actor: Actor, initiative_id: str) -> InitiativeRead:
    """An approved initiative; a moderator also reads pending and rejected ones (with their private fields)."""
    row = _row(session, initiative_id)
    if can_moderate(actor):
        return _moderation(row)
    if row.status != "approved":
        raise NotFound("Initiative not found")
    return _read(row)


def list_for_moderation(
    *, session: Session, actor: Actor, status: Status = "pending", limit: int = 200
) -> ModerationPage:
    require_moderator(actor)
    stmt = select(Initiative).where(Initiative.status == status)
    count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Initiative.created_at, Initiative.id).limit(limit)).all()
    return ModerationPage(count=count, results=[_moderation(r) for r in rows])


def _log(
    session: Session, *, actor: Actor, key: str | bytes | None, row: Initiative, decision: str, reason: str = ""
) -> None:
    key = key or ledger_record.deployment_key(session)
    subjects = [ledger.pseudonym(key, actor.user_id)] if actor.user_id else []
    details: dict[str, str] = {"decision": decision}
    if reason:
        details["reason"] = reason
    event = LedgerEvent(
        type=EventType.MODERATION_DECIDED,
        subjects=subjects,
        objects=[f"initiative:{row.id}"],
        details=details,
    )
    ledger.submit(session=session, event=event)


def patch(
    *, session: Session, actor: Actor, initiative_id: str, data: InitiativePatch, key: str | bytes | None = None
) -> InitiativeModeration:
    """A moderator's edit (the state does not change); logged as a ``moderation.decided`` "edited" entry."""
    require_moderator(actor)
    row = _row(session, initiative_id)
    given = data.model_dump(exclude_unset=True)
    if "principles" in given and data.principles is not None:
        row.principles = _principles_text(data.principles)
    for field in ("name", "description", "org_type", "website", "address", "contact_email"):
        if given.get(field) is not None:
            setattr(row, field, given[field])
    if {"lat", "lon", "address"} & given.keys():
        lat = data.lat if "lat" in given else (None if "address" in given else row.lat)
        lon = data.lon if "lon" in given else (None if "address" in given else row.lon)
        where = locate(address=row.address, lat=lat, lon=lon)
        row.lat, row.lon, row.district_code = where.lat, where.lon, where.district_code
    row.updated_at = datetime.now(UTC)
    session.flush()
    _log(session, actor=actor, key=key, row=row, decision="edited")
    return _moderation(row)


def decide(
    *, session: Session, actor: Actor, initiative_id: str, data: Decision, key: str | bytes | None = None
) -> InitiativeModeration:
    """Approves or rejects (a reason is required to reject); the decision goes to the transparency log."""
    require_moderator(actor)
    if data.decision == "reject" and not data.reason:
        raise invalid("reason", "Give the reason for rejecting")
    row = _row(session, initiative_id)
    now = datetime.now(UTC)
    row.status = "approved" if data.decision == "approve" else "rejected"
    row.rejection_reason = data.reason if data.decision == "reject" else ""
    row.decided_at = now
    row.updated_at = now
    session.flush()
    _log(session, actor=actor, key=key, row=row, decision=row.status, reason=data.reason)
    return _moderation(row)


def principle_section(*, session: Session, actor: Actor, number: int) -> principles_register.Section:
    """The approved initiatives tagged with principle ``number``, for the principle's page (``/principles/{n}``)."""
    rows = list_all_public(session=session, query=InitiativeQuery(principle=number))
    items = [
        principles_register.SectionItem(title=r.name, url=f"/initiatives/{r.id}", summary=r.description) for r in rows
    ]
    return principles_register.Section(key="initiatives", title="Digital rights initiatives", items=items)


principles_register.register_section(principle_section)
