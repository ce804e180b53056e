"""The demo city's transparency log: department members reading their non-open datasets (through the page, the API
and file downloads) and a signed tree head over everything the demo appended. Idempotent: the reads are added once,
and a head is signed only when the log grew."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from citycommons.accounts import service as accounts
from citycommons.accounts.models import Membership
from citycommons.catalog.models import Dataset, Distribution
from citycommons.ledger import jobs, record
from citycommons.ledger.models import LedgerEntry
from citycommons.ledger.schemas import EventType, SignedTreeHead
from citycommons.settings import Settings

CHANNELS: tuple[record.ReadChannel, ...] = ("page", "api", "download")
_ENTRY = cast(Table, LedgerEntry.__table__)


def _reads_logged(session: Session) -> bool:
    query = select(func.count()).select_from(_ENTRY).where(_ENTRY.c.event_type == EventType.DATASET_READ.value)
    return bool(session.scalar(query))


def seed(*, session: Session, settings: Settings) -> SignedTreeHead | None:
    """Logs a few reads of every non-open demo dataset by a member of its department, then signs a tree head."""
    if not _reads_logged(session):
        datasets = session.scalars(
            select(Dataset)
            .where(Dataset.state == "active", (Dataset.private.is_(True)) | (Dataset.access_rights != "PUBLIC"))
            .order_by(Dataset.name)
        ).all()
        for ds in datasets:
            member = session.scalar(
                select(Membership.user_id)
                .where(Membership.organization_id == ds.organization_id)
                .order_by(Membership.user_id)
                .limit(1)
            )
            if member is None:
                continue
            actor = accounts.actor_for_user(session=session, user_id=member, client="demo")
            upload = session.scalar(
                select(Distribution.id)
                .where(
                    Distribution.dataset_id == ds.id, Distribution.state == "active", Distribution.url_type == "upload"
                )
                .order_by(Distribution.position)
                .limit(1)
            )
            for channel in CHANNELS:
                if channel == "download" and upload is None:
                    continue
                record.data_read(
                    session=session,
                    actor=actor,
                    key=settings.pseudonym_key,
                    dataset=ds,
                    channel=channel,
                    distribution_id=upload if channel == "download" else None,
                )
    session.flush()
    return jobs.sign_if_grown(session=session, signer=jobs.signer_for(settings))
