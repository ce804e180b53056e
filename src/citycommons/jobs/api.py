"""Job status over HTTP: ``/api/v1/jobs/{id}``, a distribution's ingest jobs, and asking for a new ingest."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from citycommons.datastore import jobs as ingest
from citycommons.jobs import service
from citycommons.jobs.schemas import JobRead, JobSummary
from citycommons.web.deps import ActorDep, SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1", tags=["jobs"])
ERRORS: dict[int | str, dict[str, object]] = {
    403: {"description": "Not allowed"},
    404: {"description": "Not found (or not visible to you)"},
    422: {"description": "Invalid input; `error.fields` names each field"},
}


@router.get("/jobs/{job_id}", response_model=JobRead, responses=ERRORS)
def get_job(session: SessionDep, actor: ActorDep, job_id: str) -> JobRead:
    """A background job (an ingest): status, stage, progress, the precise error or the result. Visible to whoever
    may read the dataset it works on."""
    return service.get(session=session, actor=actor, job_id=job_id)


@router.get("/distributions/{distribution_id}/jobs", response_model=list[JobRead], responses=ERRORS)
def list_distribution_jobs(
    session: SessionDep, actor: ActorDep, distribution_id: str, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[JobRead]:
    """The distribution's datastore ingest jobs, newest first."""
    return ingest.list_ingest_jobs(session=session, actor=actor, distribution_id=distribution_id, limit=limit)


@router.post(
    "/distributions/{distribution_id}/ingest",
    response_model=JobSummary,
    status_code=status.HTTP_202_ACCEPTED,
    responses=ERRORS,
)
def request_ingest(session: SessionDep, actor: ActorDep, settings: SettingsDep, distribution_id: str) -> JobSummary:
    """Queues a new datastore ingest of the distribution's file or URL (editors of the dataset)."""
    return ingest.request_ingest(session=session, actor=actor, settings=settings, distribution_id=distribution_id)
