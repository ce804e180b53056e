"""The ingest status page ``/dataset/{name}/resource/{id}/ingest``: the latest job with a ``<progress>`` bar (the
page refreshes itself with ``<meta http-equiv="refresh">`` while the job runs, no JavaScript), its precise error or
its result (rows, columns and types, quarantined rows, version), the recent jobs, and for editors a button to
ingest again."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from citycommons.catalog import distributions, permissions, service
from citycommons.catalog.schemas import DatasetRead, DistributionRead
from citycommons.datastore import jobs as ingest
from citycommons.errors import NotFound
from citycommons.web.csrf import FormDep
from citycommons.web.deps import SessionDep
from citycommons.web.render import N_, ViewDep

router = APIRouter(include_in_schema=False)
REFRESH_SECONDS = 2

STATUS_LABELS = {
    "queued": N_("Queued"),
    "running": N_("Running"),
    "succeeded": N_("Succeeded"),
    "failed": N_("Failed"),
    "superseded": N_("Superseded"),
}
STAGE_LABELS = {
    "queued": N_("Waiting for a worker"),
    "starting": N_("Starting"),
    "downloading": N_("Downloading the file"),
    "reading": N_("Reading the file"),
    "writing": N_("Writing the table"),
    "done": N_("Done"),
    "failed": N_("Stopped by an error"),
    "superseded": N_("Replaced by a newer upload"),
}


def ingest_url(dataset_name: str, distribution_id: str) -> str:
    """The URL of the ingest status page of a distribution (link to it from the dataset and resource pages)."""
    return f"/dataset/{dataset_name}/resource/{distribution_id}/ingest"


def _load(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> tuple[DatasetRead, DistributionRead]:
    ds = service.get(session=session, actor=view.actor, id_or_name=name)
    dist = distributions.get(session=session, actor=view.actor, distribution_id=resource_id)
    if dist.dataset_id != ds.id:
        raise NotFound("Resource not found")
    return ds, dist


@router.get("/dataset/{name}/resource/{resource_id}/ingest")
def ingest_status(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> Response:
    ds, dist = _load(view, session, name, resource_id)
    history = ingest.list_ingest_jobs(session=session, actor=view.actor, distribution_id=dist.id, limit=10)
    latest = history[0] if history else None
    return view.render(
        "job.html",
        ds=ds,
        dist=dist,
        latest=latest,
        history=history,
        can_edit=permissions.can_edit_dataset(view.actor, organization_id=ds.organization.id),
        refresh=REFRESH_SECONDS if latest is not None and not latest.finished else None,
        status_labels=STATUS_LABELS,
        stage_labels=STAGE_LABELS,
        headers={"Cache-Control": "no-store"},
    )


@router.post("/dataset/{name}/resource/{resource_id}/ingest")
def ingest_again(view: ViewDep, session: SessionDep, name: str, resource_id: str, form: FormDep) -> Response:
    ds, dist = _load(view, session, name, resource_id)
    ingest.request_ingest(session=session, actor=view.actor, settings=view.settings, distribution_id=dist.id)
    return view.redirect(ingest_url(ds.name, dist.id), flash=N_("A new ingest was queued."))
