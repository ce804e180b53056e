"""The datastore state of a distribution, for every surface that shows it (pages, CKAN dicts, the query API).

- ``is_active(session, distribution_id)``: the table has a queryable version (CKAN's ``datastore_active``).
- ``latest_job(session, distribution_id)``: the newest ingest job (``JobSummary``) or None.
- ``jobs_of(session, distribution_id, limit)``: the newest ingest jobs first.
- ``set_active(session, distribution_id, active)``: for code that creates or drops a table without an ingest
  job (CKAN ``datastore_create``/``datastore_delete``); in the caller's transaction.
None of these check permissions: the caller has already loaded the distribution for its actor.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from citycommons.catalog.models import Distribution
from citycommons.jobs import service as jobs
from citycommons.jobs.schemas import JobSummary

INGEST = "datastore.ingest"


def is_active(session: Session, distribution_id: str) -> bool:
    return bool(session.scalar(select(Distribution.datastore_active).where(Distribution.id == distribution_id)))


def latest_job(session: Session, distribution_id: str) -> JobSummary | None:
    job = jobs.latest_for_target(session=session, kind=INGEST, target=distribution_id)
    return jobs.summary(job) if job is not None else None


def jobs_of(session: Session, distribution_id: str, limit: int = 20) -> list[JobSummary]:
    return [jobs.summary(j) for j in jobs.list_for_target(session=session, kind=INGEST, target=distribution_id,
                                                          limit=limit)]  # fmt: skip


def set_active(session: Session, distribution_id: str, active: bool) -> None:
    dist = session.get(Distribution, distribution_id)
    if dist is not None:
        dist.datastore_active = active
