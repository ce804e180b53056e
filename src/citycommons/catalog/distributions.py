"""Distributions (CKAN resources): get, create (URL or upload), update, patch, delete, download."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.catalog import permissions
from citycommons.catalog.files import store_upload, stored_path
from citycommons.catalog.history import snapshot
from citycommons.catalog.models import Dataset, Distribution
from citycommons.catalog.reads import dataset_read, distribution_read
from citycommons.catalog.schemas import DistributionCreate, DistributionPatch, DistributionRead, Upload
from citycommons.catalog.service import (
    check_distribution_fields,
    editable_dataset,
    load_visible_dataset,
    save_changes,
)
from citycommons.datastore import jobs as datastore_jobs
from citycommons.datastore.status import latest_job
from citycommons.db.base import new_id, utcnow
from citycommons.errors import Forbidden, NotFound, invalid
from citycommons.ledger import record as ledger_record
from citycommons.settings import Settings


@dataclass(frozen=True)
class Download:
    path: Path
    filename: str
    media_type: str


def _load(session: Session, actor: Actor, distribution_id: str) -> tuple[Dataset, Distribution]:
    dist = session.get(Distribution, distribution_id)
    if dist is None or dist.state != "active":
        raise NotFound("Resource not found")
    ds = load_visible_dataset(session, actor, dist.dataset_id)
    return ds, dist


def get(*, session: Session, actor: Actor, distribution_id: str) -> DistributionRead:
    dist = _load(session, actor, distribution_id)[1]
    return distribution_read(dist).model_copy(update={"ingest": latest_job(session, dist.id)})


def _download_url(settings: Settings, ds: Dataset, dist_id: str, filename: str) -> str:
    return f"{settings.site_url}/dataset/{ds.id}/resource/{dist_id}/download/{filename}"


def _attach_upload(settings: Settings, ds: Dataset, dist: Distribution, upload: Upload) -> None:
    stored = store_upload(
        uploads_dir=settings.uploads_dir,
        distribution_id=dist.id,
        source=Path(upload.path),
        filename=upload.filename,
        max_bytes=settings.max_upload_bytes,
    )
    dist.stored_path = stored.relative_path
    dist.url = _download_url(settings, ds, dist.id, stored.filename)
    dist.url_type = "upload"
    dist.byte_size = stored.byte_size
    dist.checksum = f"sha256:{stored.sha256}"


def create(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    dataset: str,
    data: DistributionCreate,
    upload: Upload | None = None,
    ingest: bool = True,
) -> DistributionRead:
    """A new distribution: a link or an uploaded file, ingested into the datastore when tabular (``ingest=False``:
    never, for a table whose rows are written through the API, CKAN ``datastore_create``)."""
    ds = editable_dataset(session, actor, dataset)
    if upload is None and not data.url and not data.access_url:
        raise invalid("url", "Give a URL or upload a file")
    before = snapshot(dataset_read(ds))
    probe = data.model_copy(update={"url": data.url or (upload.filename if upload else "")})
    values = check_distribution_fields(probe, field_prefix="")
    values["url"] = data.url
    position = session.scalar(
        select(func.coalesce(func.max(Distribution.position) + 1, 0)).where(Distribution.dataset_id == ds.id)
    )
    dist = Distribution(id=new_id(), dataset_id=ds.id, position=position or 0, **values)
    if not dist.title and upload is not None:
        dist.title = {"en": upload.filename}
    if upload is not None:
        _attach_upload(settings, ds, dist, upload)
    session.add(dist)
    session.flush()
    save_changes(session, actor, ds, before)
    job = None
    if ingest:
        job = datastore_jobs.schedule_ingest(session=session, actor=actor, settings=settings, distribution=dist)
    return distribution_read(dist).model_copy(update={"ingest": job})


def patch(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    distribution_id: str,
    data: DistributionPatch,
    upload: Upload | None = None,
    replace: bool = False,
) -> DistributionRead:
    """Changes the given fields (``replace=True``: every field, as CKAN's resource_update does)."""
    ds, dist = _load(session, actor, distribution_id)
    if not permissions.can_edit_dataset(actor, organization_id=ds.organization_id):
        raise Forbidden("You may not edit this dataset")
    before = snapshot(dataset_read(ds))
    before_ingest = datastore_jobs.ingest_params(settings=settings, distribution=dist)
    old_url = dist.url
    given = data.model_dump(exclude_unset=not replace)
    current = distribution_read(dist).model_dump(include=set(DistributionCreate.model_fields))
    if replace:
        given = {
            k: (v if v is not None else DistributionCreate.model_fields[k].get_default(call_default_factory=True))
            for k, v in given.items()
        }
        if dist.url_type == "upload" and not given.get("url") and upload is None:
            given["url"] = dist.url
    merged = DistributionCreate.model_validate({**current, **{k: v for k, v in given.items() if v is not None}})
    values = check_distribution_fields(merged)
    for key, value in values.items():
        setattr(dist, key, value)
    if upload is not None:
        _attach_upload(settings, ds, dist, upload)
    elif dist.url_type == "upload" and dist.url != old_url:
        dist.url_type = ""
        dist.stored_path = ""
    dist.last_modified = utcnow()
    session.flush()
    save_changes(session, actor, ds, before)
    datastore_jobs.schedule_if_changed(session=session, actor=actor, settings=settings, distribution=dist,
                                       before=before_ingest, uploaded=upload is not None)  # fmt: skip
    return distribution_read(dist).model_copy(update={"ingest": latest_job(session, dist.id)})


def delete(*, session: Session, actor: Actor, distribution_id: str) -> None:
    ds, dist = _load(session, actor, distribution_id)
    if not permissions.can_edit_dataset(actor, organization_id=ds.organization_id):
        raise Forbidden("You may not edit this dataset")
    before = snapshot(dataset_read(ds))
    dist.state = "deleted"  # for good (nothing restores a distribution): its datastore table goes too
    datastore_jobs.schedule_drop(session=session, actor=actor, distribution=dist)
    session.flush()
    save_changes(session, actor, ds, before)


def download(*, session: Session, actor: Actor, settings: Settings, distribution_id: str) -> Download:
    ds, dist = _load(session, actor, distribution_id)
    if not permissions.can_read_data(
        actor, organization_id=ds.organization_id, private=ds.private, access_rights=ds.access_rights
    ):
        raise Forbidden("This data is not open; ask the data steward for access")
    if dist.url_type != "upload" or not dist.stored_path:
        raise NotFound("This resource has no stored file; follow its URL")
    path = stored_path(settings.uploads_dir, dist.stored_path)
    if not path.exists():
        raise NotFound("The stored file is missing")
    ledger_record.data_read(
        session=session,
        actor=actor,
        key=settings.pseudonym_key,
        dataset=ds,
        channel="download",
        distribution_id=dist.id,
    )
    return Download(path=path, filename=path.name, media_type=dist.media_type or "application/octet-stream")
