"""The algorithm register: get, search, create, update, patch, transition. Services never commit.

Workflow (design note, "For us"): ``draft`` -> ``in_review`` (submit) -> ``published`` (publish); ``in_review`` ->
``draft`` (reject, reason required); ``published`` -> ``withdrawn`` (withdraw, reason required; the public keeps a
tombstone). Editing a published record opens a new draft version while the published one stays live; publishing it
turns the previous one ``superseded``. The publisher must not be the version's author or submitter (four-eyes)
unless ``allow_self_publish``. Every step goes to ``algorithm_action`` and to the transparency log.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.catalog import service as catalog
from citycommons.catalog.models import Organization
from citycommons.catalog.organizations import find_organization
from citycommons.db.base import new_id, utcnow
from citycommons.errors import Conflict, Forbidden, Invalid, NotFound
from citycommons.ledger import record as ledger_record
from citycommons.ledger import service as ledger
from citycommons.ledger.schemas import EventType, LedgerEvent
from citycommons.registers import permissions
from citycommons.registers.models import (
    JSON_FIELDS,
    SCALAR_FIELDS,
    AlgorithmAction,
    AlgorithmDataset,
    AlgorithmPrinciple,
    AlgorithmVersion,
)
from citycommons.registers.reads import algorithm_read, algorithm_reads, stored_fields, tombstone
from citycommons.registers.schemas import (
    ActionRead,
    AlgorithmCreate,
    AlgorithmDetail,
    AlgorithmFields,
    AlgorithmPage,
    AlgorithmQuery,
    AlgorithmRead,
    TransitionRequest,
    VersionSummary,
    completeness_errors,
)

RESERVED_SLUGS = frozenset({"new", "schema"})
WORKING_STATES = ("draft", "in_review")


# --- loading --------------------------------------------------------------------------------------------------


def _versions(session: Session, ref: str) -> list[AlgorithmVersion]:
    """Every version of the record with slug or id ``ref``, oldest first (NotFound when none)."""
    rows = list(
        session.scalars(
            select(AlgorithmVersion)
            .where(or_(AlgorithmVersion.slug == ref, AlgorithmVersion.record_id == ref))
            .order_by(AlgorithmVersion.version)
        )
    )
    if not rows:
        raise NotFound("Algorithm not found")
    return rows


def _live(rows: list[AlgorithmVersion]) -> AlgorithmVersion | None:
    return next((r for r in rows if r.state == "published"), None)


def _working(rows: list[AlgorithmVersion]) -> AlgorithmVersion | None:
    return rows[-1] if rows[-1].state in WORKING_STATES else None


def get(*, session: Session, actor: Actor, slug: str) -> AlgorithmDetail:
    """The record as ``actor`` may see it: live version or tombstone, plus drafts and actions for its editors."""
    rows = _versions(session, slug)
    editor = permissions.can_edit(actor, organization_id=rows[-1].organization_id)
    live = _live(rows)
    withdrawn = rows[-1] if rows[-1].state == "withdrawn" else None
    if withdrawn is None and live is None:
        withdrawn = next((r for r in reversed(rows) if r.state == "withdrawn"), None)
    working = _working(rows) if editor else None
    if live is None and withdrawn is None and working is None:
        raise NotFound("Algorithm not found")
    shown = [r for r in rows if editor or r.state in permissions.PUBLIC_STATES]
    actions: list[ActionRead] = []
    if editor:
        actions = [
            ActionRead.model_validate(a, from_attributes=True)
            for a in session.scalars(
                select(AlgorithmAction)
                .where(AlgorithmAction.record_id == rows[0].record_id)
                .order_by(AlgorithmAction.at.desc(), AlgorithmAction.version.desc())
            )
        ]
    return AlgorithmDetail(
        current=algorithm_read(session, actor, live) if live else None,
        tombstone=tombstone(session, withdrawn) if withdrawn and not live else None,
        working=algorithm_read(session, actor, working) if working else None,
        versions=[
            VersionSummary(
                version=r.version, record_state=r.state, published_at=r.published_at, updated_at=r.updated_at
            )
            for r in reversed(shown)
        ],
        actions=actions,
    )


def get_version(*, session: Session, actor: Actor, slug: str, version: int) -> AlgorithmRead:
    """One version of a record: published and superseded ones for everybody, the rest for its editors."""
    for row in _versions(session, slug):
        public = row.state in permissions.PUBLIC_STATES
        if row.version == version and (public or permissions.can_edit(actor, organization_id=row.organization_id)):
            return algorithm_read(session, actor, row)
    raise NotFound("Algorithm version not found")


def search(*, session: Session, actor: Actor, query: AlgorithmQuery) -> AlgorithmPage:
    """Published records (and superseded versions with ``history``), filtered and paged. Editors may ask for the
    draft, in-review or withdrawn versions of their organisations with ``record_state``."""
    states = list(query.record_state) or (["published", "superseded"] if query.history else ["published"])
    if query.history and "superseded" not in states:
        states.append("superseded")
    conditions: list[Any] = [permissions.visible_versions(actor, states)]
    if query.q.strip():
        needle = query.q.strip().lower()
        conditions.append(
            or_(
                *(
                    func.lower(column).contains(needle, autoescape=True)
                    for column in (
                        AlgorithmVersion.name,
                        AlgorithmVersion.description_short,
                        AlgorithmVersion.goal_and_impact,
                        AlgorithmVersion.trade_name,
                        AlgorithmVersion.supplier,
                    )
                )
            )
        )
    if query.status:
        conditions.append(AlgorithmVersion.status.in_(query.status))
    if query.ai_act_class:
        conditions.append(AlgorithmVersion.ai_act_class.in_(query.ai_act_class))
    if query.organization:
        orgs = select(Organization.id).where(
            or_(Organization.name.in_(query.organization), Organization.id.in_(query.organization))
        )
        conditions.append(AlgorithmVersion.organization_id.in_(orgs))
    if query.principle:
        conditions.append(
            AlgorithmVersion.id.in_(
                select(AlgorithmPrinciple.version_id).where(AlgorithmPrinciple.number.in_(query.principle))
            )
        )
    count = session.scalar(select(func.count()).select_from(AlgorithmVersion).where(*conditions)) or 0
    rows = list(
        session.scalars(
            select(AlgorithmVersion)
            .where(*conditions)
            .order_by(func.lower(AlgorithmVersion.name), AlgorithmVersion.slug, AlgorithmVersion.version.desc())
            .limit(query.limit)
            .offset(query.offset)
        )
    )
    return AlgorithmPage(
        count=count, limit=query.limit, offset=query.offset, results=algorithm_reads(session, actor, rows)
    )


def using_dataset(*, session: Session, actor: Actor, dataset_id: str) -> list[AlgorithmRead]:
    """The published records that use a catalog dataset (for its page and its DCAT relations)."""
    rows = list(
        session.scalars(
            select(AlgorithmVersion)
            .where(
                AlgorithmVersion.state == "published",
                AlgorithmVersion.id.in_(
                    select(AlgorithmDataset.version_id).where(AlgorithmDataset.dataset_id == dataset_id)
                ),
            )
            .order_by(func.lower(AlgorithmVersion.name))
        )
    )
    return algorithm_reads(session, actor, rows)


# --- writes ---------------------------------------------------------------------------------------------------


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:90].strip("-")
    return slug if len(slug) >= 2 else "algorithm"


def _slug_taken(session: Session, slug: str) -> bool:
    return bool(session.scalar(select(func.count()).where(AlgorithmVersion.slug == slug)))


def _new_slug(session: Session, data: AlgorithmCreate) -> str:
    if data.slug:
        if data.slug in RESERVED_SLUGS or _slug_taken(session, data.slug):
            raise Conflict("That URL is already in use.", fields={"slug": ["That URL is already in use."]})
        return data.slug
    base = slugify(data.name)
    slug, n = base, 1
    while slug in RESERVED_SLUGS or _slug_taken(session, slug):
        n += 1
        slug = f"{base}-{n}"
    return slug


def _dataset_links(session: Session, actor: Actor, data: AlgorithmFields, kept: set[str]) -> list[dict[str, Any]]:
    """The links as stored. A catalog dataset must exist and be visible to the editor (or already be linked)."""
    links: list[dict[str, Any]] = []
    for i, link in enumerate(data.datasets):
        if not link.dataset:
            links.append({"title": link.title, "url": link.url, "role": link.role})
            continue
        if link.dataset in kept:
            dataset_id = link.dataset
        else:
            try:
                dataset_id = catalog.load_visible_dataset(session, actor, link.dataset).id
            except NotFound:
                message = f"Unknown dataset '{link.dataset}'"
                raise Invalid(message, fields={f"datasets.{i}.dataset": [message]}) from None
        links.append({"dataset_id": dataset_id, "role": link.role})
    return links


def _apply(session: Session, actor: Actor, row: AlgorithmVersion, data: AlgorithmFields) -> None:
    kept = {item["dataset_id"] for item in row.datasets or [] if item.get("dataset_id")}
    dumped = data.model_dump(mode="json")
    for field in SCALAR_FIELDS:
        setattr(row, field, dumped[field])
    for field in JSON_FIELDS:
        if field != "datasets":
            setattr(row, field, dumped[field])
    row.principles = sorted(set(data.principles))
    row.datasets = _dataset_links(session, actor, data, kept)
    row.updated_by = actor.user_id
    row.updated_at = utcnow()
    session.flush()
    session.execute(delete(AlgorithmPrinciple).where(AlgorithmPrinciple.version_id == row.id))
    session.execute(delete(AlgorithmDataset).where(AlgorithmDataset.version_id == row.id))
    session.add_all(AlgorithmPrinciple(version_id=row.id, number=n) for n in row.principles)
    pairs = {(item["dataset_id"], item["role"]) for item in row.datasets if item.get("dataset_id")}
    session.add_all(AlgorithmDataset(version_id=row.id, dataset_id=d, role=r) for d, r in sorted(pairs))
    session.flush()


def _log_action(
    session: Session, actor: Actor, row: AlgorithmVersion, action: str, from_state: str, reason: str = ""
) -> None:
    session.add(
        AlgorithmAction(
            record_id=row.record_id,
            version_id=row.id,
            version=row.version,
            action=action,
            from_state=from_state,
            to_state=row.state,
            user_id=actor.user_id,
            user_name=actor.name or "",
            reason=reason,
        )
    )


def create(*, session: Session, actor: Actor, data: AlgorithmCreate) -> AlgorithmRead:
    """A new record as a draft (version 1) of an organisation the actor edits for."""
    try:
        org = find_organization(session, data.organization)
    except NotFound:
        message = f"Unknown organisation '{data.organization}'"
        raise Invalid(message, fields={"organization": [message]}) from None
    if not permissions.can_edit(actor, organization_id=org.id):
        raise Forbidden("You may not add algorithms to this organisation")
    row = AlgorithmVersion(
        id=new_id(),
        record_id=new_id(),
        slug=_new_slug(session, data),
        version=1,
        state="draft",
        organization_id=org.id,
        created_by=actor.user_id,
        datasets=[],
    )
    session.add(row)
    _apply(session, actor, row, AlgorithmFields.model_validate(data.model_dump(exclude={"organization", "slug"})))
    _log_action(session, actor, row, "create", "")
    return algorithm_read(session, actor, row)


def _editable_version(session: Session, actor: Actor, slug: str) -> AlgorithmVersion:
    """The version an edit applies to: the draft, or a new draft copied from the newest published/withdrawn one."""
    rows = _versions(session, slug)
    newest = rows[-1]
    if not permissions.can_edit(actor, organization_id=newest.organization_id):
        if newest.state in WORKING_STATES and _live(rows) is None:
            raise NotFound("Algorithm not found")
        raise Forbidden("You may not edit this algorithm")
    if newest.state == "draft":
        return newest
    if newest.state == "in_review":
        raise Conflict("The record is in review; a reviewer must return it to draft before it can be edited.")
    draft = AlgorithmVersion(
        id=new_id(),
        record_id=newest.record_id,
        slug=newest.slug,
        version=newest.version + 1,
        state="draft",
        organization_id=newest.organization_id,
        created_by=actor.user_id,
        first_published_at=newest.first_published_at,
    )
    for field in (*SCALAR_FIELDS, *JSON_FIELDS):
        setattr(draft, field, getattr(newest, field))
    session.add(draft)
    session.flush()
    _log_action(session, actor, draft, "new_version", "")
    return draft


def update(*, session: Session, actor: Actor, slug: str, data: AlgorithmFields) -> AlgorithmRead:
    """Replaces the content of the record's draft (opening a new draft version of a published record)."""
    row = _editable_version(session, actor, slug)
    _apply(session, actor, row, data)
    _log_action(session, actor, row, "edit", "draft")
    return algorithm_read(session, actor, row)


def patch(*, session: Session, actor: Actor, slug: str, data: dict[str, Any]) -> AlgorithmRead:
    """Changes some fields of the record's draft; the result is validated as a whole."""
    unknown = sorted(set(data) - set(AlgorithmFields.model_fields))
    if unknown:
        raise Invalid(fields={field: ["Unknown field"] for field in unknown})
    row = _editable_version(session, actor, slug)
    try:
        merged = AlgorithmFields.model_validate(stored_fields(row) | data)
    except ValidationError as exc:
        fields: dict[str, list[str]] = {}
        for err in exc.errors():
            path = ".".join(str(p) for p in err["loc"]) or "body"
            fields.setdefault(path, []).append(str(err["msg"]).removeprefix("Value error, "))
        raise Invalid("Invalid input", fields=fields) from None
    _apply(session, actor, row, merged)
    _log_action(session, actor, row, "edit", "draft")
    return algorithm_read(session, actor, row)


# --- workflow -------------------------------------------------------------------------------------------------


def _check_complete(row: AlgorithmVersion) -> None:
    errors = completeness_errors(AlgorithmFields.model_validate(stored_fields(row)))
    if errors:
        raise Invalid("The record is not complete", fields=errors)


def _need_reason(data: TransitionRequest) -> None:
    if not data.reason.strip():
        raise Invalid(fields={"reason": ["Give a reason."]})


def transition(
    *,
    session: Session,
    actor: Actor,
    slug: str,
    data: TransitionRequest,
    allow_self_publish: bool = False,
    pseudonym_key: str | None = None,
) -> AlgorithmRead:
    """Moves a record one step through the workflow, records the action and appends it to the transparency log.
    Front doors pass ``settings.register_allow_self_publish`` and ``settings.pseudonym_key`` (None: the key the
    session's engine carries, see ``ledger.record.deployment_key``)."""
    rows = _versions(session, slug)
    org_id = rows[-1].organization_id
    if not permissions.can_edit(actor, organization_id=org_id):
        if _live(rows) is None and rows[-1].state != "withdrawn":
            raise NotFound("Algorithm not found")
        raise Forbidden("You may not change this algorithm")
    reviewer = permissions.can_review(actor, organization_id=org_id)
    working, live = _working(rows), _live(rows)
    if data.action == "withdraw":
        if live is None:
            raise Conflict("Only a published record can be withdrawn.")
        row, wanted = live, "withdrawn"
    else:
        expected = "draft" if data.action == "submit" else "in_review"
        if working is None or working.state != expected:
            raise Conflict(f"Only a record in state '{expected}' can be sent through '{data.action}'.")
        row = working
        wanted = {"submit": "in_review", "reject": "draft", "publish": "published"}[data.action]
    if data.action != "submit" and not reviewer:
        raise Forbidden("Only an administrator of the organisation may review, publish or withdraw")
    if data.action in ("reject", "withdraw"):
        _need_reason(data)
    if data.action in ("submit", "publish"):
        _check_complete(row)
    now = utcnow()
    if data.action == "publish":
        authors = {row.created_by, row.updated_by, row.submitted_by} - {None}
        if not allow_self_publish and actor.user_id in authors:
            raise Forbidden("Four-eyes rule: someone other than the version's editor must publish it")
        if live is not None:
            live.state, live.archived_at = "superseded", now
            _log_action(session, actor, live, "supersede", "published")
        row.published_at = now
        row.first_published_at = row.first_published_at or now
    if data.action == "submit":
        row.submitted_by = actor.user_id
    if data.action == "withdraw":
        row.archived_at = now
    before = row.state
    row.state = wanted
    row.state_reason = data.reason.strip()
    session.flush()
    _log_action(session, actor, row, data.action, before, data.reason.strip())
    _append_to_log(session, actor, row, data.action, before, pseudonym_key or ledger_record.deployment_key(session))
    return algorithm_read(session, actor, row)


def _append_to_log(session: Session, actor: Actor, row: AlgorithmVersion, action: str, before: str, key: str) -> None:
    ledger.submit(
        session=session,
        event=LedgerEvent(
            type=EventType.REGISTER_PUBLISHED,
            subjects=[ledger.pseudonym(key, actor.user_id)] if actor.user_id else [],
            objects=[f"algorithm:{row.record_id}", f"organization:{row.organization_id}"],
            details={
                "register": "algorithms",
                "action": action,
                "from_state": before,
                "to_state": row.state,
                "slug": row.slug,
                "version": row.version,
            },
        ),
    )
