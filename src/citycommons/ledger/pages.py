"""The transparency log's pages: ``/transparency`` (entries newest first with a type filter, the latest signed tree
head, the public key, the downloads and how to verify) and ``/transparency/entries/{index}`` (one entry with its
inclusion proof). Public, like the log: entries carry pseudonyms and ids only."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, cast

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from citycommons.errors import NotFound, invalid
from citycommons.ledger import service
from citycommons.ledger.api import MAX_INDEX
from citycommons.ledger.jobs import signer_for
from citycommons.ledger.keys import public_key_info
from citycommons.ledger.models import LedgerEntry
from citycommons.ledger.schemas import EPOCH, EntryRead, EventType
from citycommons.web.deps import SessionDep
from citycommons.web.listing import pager
from citycommons.web.render import N_, View, ViewDep

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25
_ENTRY = cast(Table, LedgerEntry.__table__)

EVENT_LABELS: dict[str, str] = {
    EventType.DATASET_READ: N_("Read of non-open data"),
    EventType.DATASET_ACCESS_RIGHTS_CHANGED: N_("Change of access rights"),
    EventType.ROLE_GRANTED: N_("Role granted or removed"),
    EventType.REGISTER_PUBLISHED: N_("Algorithm register decision"),
    EventType.MODERATION_DECIDED: N_("Moderation decision"),
    EventType.GRANT_DECIDED: N_("Grant decision"),
    EventType.TERMS_CHANGED: N_("Change of a contributor's terms"),
    EventType.ERASURE: N_("Erasure"),
}
assert set(EVENT_LABELS) == {t.value for t in EventType}


def _newest_first(session: Session, *, type: str | None, page: int) -> tuple[int, list[EntryRead]]:
    """One page of entries, newest first, and how many entries match."""
    where = [_ENTRY.c.event_type == type] if type else []
    count = int(session.scalar(select(func.count()).select_from(_ENTRY).where(*where)) or 0)
    query = (
        select(_ENTRY.c.idx, _ENTRY.c.leaf_hash, _ENTRY.c.data)
        .where(*where)
        .order_by(_ENTRY.c.idx.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    rows = session.execute(query).all()
    return count, [EntryRead.from_stored(index=i, leaf_hash=bytes(h), data=bytes(d)) for i, h, d in rows]


def _common(view: View, session: Session) -> dict[str, Any]:
    head = service.latest_tree_head(session=session)
    return {
        "head": head,
        "head_time": EPOCH + timedelta(milliseconds=head.timestamp) if head else None,
        "key": public_key_info(signer_for(view.settings).public_key),
        "labels": EVENT_LABELS,
        "site": view.settings.site_url.rstrip("/"),
    }


@router.get("/transparency")
def transparency(
    view: ViewDep,
    session: SessionDep,
    type: Annotated[str | None, Query(max_length=64)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    chosen = type or None
    if chosen is not None and chosen not in EVENT_LABELS:
        raise invalid("type", "not an event type of the log")
    count, entries = _newest_first(session, type=chosen, page=page)
    return view.render(
        "transparency.html",
        entries=entries,
        chosen_type=chosen,
        size=service.current_size(session=session),
        pager=pager(view, page=page, count=count, page_size=PAGE_SIZE),
        count=count,
        **_common(view, session),
    )


@router.get("/transparency/entries/{index}")
def transparency_entry(view: ViewDep, session: SessionDep, index: int) -> Response:
    if not 0 <= index <= MAX_INDEX:
        raise NotFound(f"Log entry {index} not found")
    proof = service.get_entry(session=session, index=index)
    return view.render("transparency_entry.html", proof=proof, entry=proof.entry, **_common(view, session))
