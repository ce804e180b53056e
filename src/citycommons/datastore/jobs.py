"""The ingest job: a tabular distribution (an upload, or a URL on an allowed host) -> a new datastore version.

``schedule_ingest`` is called by the catalog service whenever a distribution gets a new file or URL, so every
front door (native API, CKAN ``resource_create``/``resource_update``, the web form, the CLI) ingests alike. The job
(``run_ingest``) finds the stored upload or downloads the URL (streamed, size-limited, redirects re-checked against
the allowed hosts), calls ``ingest_file`` with throttled progress, and on success marks the distribution
``datastore_active``. A failed ingest fails the job with ``ingest_file``'s precise message; the previous version
stays the one served. Tables created by CKAN ``datastore_create`` (``url_type == "datastore"``) are never ingested.

``schedule_drop`` is called when a distribution is deleted for good (it cannot be restored): the drop job
(``run_drop``) removes every version and the override from storage (local directory or S3 prefix) and the local
cache. A soft-deleted *dataset* keeps its tables: they are hidden with it and come back when it is restored.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.catalog import permissions
from citycommons.catalog import service as catalog_service
from citycommons.catalog.files import safe_filename, stored_path
from citycommons.catalog.models import Distribution
from citycommons.datastore import projections
from citycommons.datastore.config import from_settings
from citycommons.datastore.ingest import ingest_file
from citycommons.datastore.versions import drop_table, remove_all_stale_staging
from citycommons.db.engine import unit_of_work
from citycommons.errors import Forbidden, NotFound, TooLarge, invalid
from citycommons.jobs import service as jobs
from citycommons.jobs.models import Job
from citycommons.jobs.schemas import JobRead, JobSummary
from citycommons.settings import Settings

log = logging.getLogger(__name__)
KIND = "datastore.ingest"
DROP_KIND = "datastore.drop"
DATASTORE_URL_TYPE = "datastore"
"""``url_type`` of the tables CKAN ``datastore_create`` makes: their rows are written through the API, not ingested."""

# the format field (CKAN "format", EU file type ids, media types) and file extensions the datastore ingests
TABULAR_FORMATS = frozenset({"csv", "tsv", "tab", "json", "ndjson", "jsonl", "geojson", "xlsx", "parquet"})
TABULAR_MEDIA_TYPES = {
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/jsonl": "jsonl",
    "application/geo+json": "geojson",
    "application/vnd.geo+json": "geojson",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
}
MAX_REDIRECTS = 5
CHUNK_BYTES = 1024 * 1024


def tabular_format(*, declared_format: str, filename: str) -> str | None:
    """The tabular format named by the format field or else the file name's extension (lower case), or None."""
    declared = declared_format.strip().lower()
    if declared in TABULAR_MEDIA_TYPES:
        return TABULAR_MEDIA_TYPES[declared]
    declared = declared.rsplit("/", 1)[-1].lstrip(".")
    if declared in TABULAR_FORMATS:
        return declared
    extension = PurePosixPath(filename.lower()).suffix.lstrip(".")
    return extension if extension in TABULAR_FORMATS else None


def host_allowed(settings: Settings, url: str) -> bool:
    """Whether ``url`` is http(s) on a host of ``settings.datastore_url_allowed_hosts`` (``host`` or ``host:port``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    allowed = {h.strip().lower() for h in settings.datastore_url_allowed_hosts if h.strip()}
    return parts.hostname.lower() in allowed or parts.netloc.lower().rpartition("@")[2] in allowed


def _url_filename(url: str) -> str:
    name = unquote(PurePosixPath(urlsplit(url).path).name)
    return safe_filename(name) if name else "download"


def ingest_params(*, settings: Settings, distribution: Distribution) -> dict[str, Any] | None:
    """What an ingest job of ``distribution`` would read, or None when it has nothing the datastore ingests."""
    dist = distribution
    if dist.state != "active" or dist.url_type == DATASTORE_URL_TYPE:
        return None
    if dist.url_type == "upload" and dist.stored_path:
        filename = PurePosixPath(dist.stored_path).name
        if tabular_format(declared_format=dist.format, filename=filename) is None:
            return None
        return {"source": "upload", "stored_path": dist.stored_path, "checksum": dist.checksum, "filename": filename}
    if dist.url and host_allowed(settings, dist.url):
        filename = _url_filename(dist.url)
        if tabular_format(declared_format=dist.format, filename=filename) is None:
            return None
        return {"source": "url", "url": dist.url, "filename": filename}
    return None


def schedule_ingest(
    *, session: Session, actor: Actor, settings: Settings, distribution: Distribution
) -> JobSummary | None:
    """Queues the ingest of ``distribution``'s file or URL if it is tabular (after the caller's commit); a queued
    ingest of the same distribution is superseded. Returns the job, or None when there is nothing to ingest."""
    params = ingest_params(settings=settings, distribution=distribution)
    if params is None:
        return None
    return jobs.schedule(session=session, kind=KIND, target=distribution.id, params=params, requested_by=actor.user_id)


def schedule_new(
    *, session: Session, actor: Actor, settings: Settings, distributions: list[Distribution]
) -> list[JobSummary]:
    """``schedule_ingest`` for each of ``distributions`` (e.g. created inline with their dataset)."""
    found = (schedule_ingest(session=session, actor=actor, settings=settings, distribution=d) for d in distributions)
    return [job for job in found if job is not None]


def schedule_drop(*, session: Session, actor: Actor, distribution: Distribution) -> JobSummary:
    """Marks ``distribution``'s table inactive now and queues the removal of its files (after the caller's commit,
    so a rolled-back delete removes nothing). For distributions deleted for good."""
    distribution.datastore_active = False
    return jobs.schedule(session=session, kind=DROP_KIND, target=distribution.id, params={}, requested_by=actor.user_id)


# --- the job ---------------------------------------------------------------------------------------------------


def authorize_read(*, session: Session, actor: Actor, job: Job) -> bool:
    """Raises NotFound unless ``actor`` may read the job's dataset; returns whether ``actor`` may edit it."""
    dist = session.get(Distribution, job.target)
    if dist is None:
        raise NotFound("Job not found")
    try:
        ds = catalog_service.load_visible_dataset(session, actor, dist.dataset_id)
    except NotFound:
        raise NotFound("Job not found")
    return permissions.can_edit_dataset(actor, organization_id=ds.organization_id)


def run_ingest(run: jobs.JobRun) -> jobs.Outcome:
    params = run.params
    with run.sessionmaker() as session:
        dist = session.get(Distribution, run.target)
        if dist is None or dist.state != "active":
            raise invalid("distribution", "the distribution was deleted before its ingest ran")
        current = ingest_params(settings=run.settings, distribution=dist)
        if current != params:
            raise jobs.Superseded("The distribution's file or URL changed; the newer job ingests it")
        declared_format = dist.format or None
    if params["source"] == "upload":
        path = stored_path(run.settings.uploads_dir, params["stored_path"])
        if not path.is_file():
            raise invalid("file", "the stored file is missing")
        return _ingest(run, path, params["filename"], declared_format)
    scratch = run.settings.data_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="ingest-") as tmp:
        path, filename = _download(run, params["url"], Path(tmp))
        return _ingest(run, path, filename, declared_format)


def _ingest(run: jobs.JobRun, path: Path, filename: str, declared_format: str | None) -> jobs.Outcome:
    size = path.stat().st_size
    run.stage("reading", total=size)

    def progress(done: int, total: int) -> None:
        if done >= total and run.current_stage == "reading":
            run.stage("writing", total=total)
        run.progress(done, total)

    result = ingest_file(
        config=from_settings(run.settings),
        table_id=run.target,
        source=path,
        filename=filename,
        declared_format=declared_format,
        progress=progress,
    )
    report = result.report
    columns = [{"name": f.name, "type": f.type} for f in result.table_schema.fields]
    outcome: dict[str, Any] = {
        "rows": report.rows,
        "columns": columns,
        "quarantined_rows": report.quarantined_rows,
        "quarantined_cells": report.quarantined_cells,
        "format": report.format,
        "encoding": report.encoding,
        "delimiter": report.delimiter,
        "source_filename": report.source_filename,
        "source_bytes": report.source_bytes,
        "warnings": report.warnings[:20],
        "seconds": report.seconds,
    }
    distribution_id = run.target

    def activate(session: Session) -> None:
        dist = session.get(Distribution, distribution_id)
        if dist is None:
            return
        if dist.state == "active":
            dist.datastore_active = True
        else:  # deleted while the ingest ran (after its drop job, maybe): the new version goes too
            jobs.schedule(session=session, kind=DROP_KIND, target=distribution_id, params={}, requested_by=None)

    message = f"Version {result.version}: {report.rows} rows, {len(columns)} columns"
    if report.quarantined_rows or report.quarantined_cells:
        message += f", {report.quarantined_rows} rows and {report.quarantined_cells} cells quarantined"
    with unit_of_work(run.sessionmaker) as session:  # query-ready now: what follows only speeds up reads
        activate(session)
    outcome["time_projection"] = projections.build_after_ingest(
        config=from_settings(run.settings), table_id=run.target, version=result.version
    )
    return jobs.Outcome(version=result.version, result=outcome, message=message)


def run_drop(run: jobs.JobRun) -> jobs.Outcome:
    """Removes every file of a deleted distribution's table (versions, override, local cache)."""
    with run.sessionmaker() as session:
        dist = session.get(Distribution, run.target)
        if dist is not None and dist.state == "active":
            raise jobs.Superseded("The distribution is active: its table is kept")
    run.stage("removing")
    removed = drop_table(config=from_settings(run.settings), table_id=run.target)
    distribution_id = run.target

    def deactivate(session: Session) -> None:
        dist = session.get(Distribution, distribution_id)
        if dist is not None:
            dist.datastore_active = False

    return jobs.Outcome(result={"removed_versions": removed}, message=f"Removed {removed} versions",
                        apply=deactivate)  # fmt: skip


def sweep_staging(settings: Settings) -> int:
    """At worker start: removes the staging directories (and uncommitted S3 uploads) older than a day that a killed
    ingest left in the tables on disk. Returns how many were removed."""
    removed = remove_all_stale_staging(config=from_settings(settings))
    if removed:
        log.info("removed %d staging directories left by stopped ingests", removed)
    return removed


def _download(run: jobs.JobRun, url: str, directory: Path) -> tuple[Path, str]:
    """Streams ``url`` into ``directory`` (at most ``max_upload_bytes``); every redirect must stay on an allowed
    host. Returns the file and its name."""
    settings = run.settings
    limit = settings.max_upload_bytes
    run.stage("downloading")
    timeout = httpx.Timeout(30.0, read=120.0)
    with httpx.Client(follow_redirects=False, timeout=timeout, trust_env=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            if not host_allowed(settings, url):
                raise invalid("url", f"{urlsplit(url).netloc or url} is not a host the datastore downloads from")
            try:
                with client.stream("GET", url, headers={"Accept": "*/*"}) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code != 200:
                        raise invalid("url", f"the server answered {response.status_code} {response.reason_phrase}")
                    declared = response.headers.get("content-length")
                    total = int(declared) if declared and declared.isdigit() else None
                    if total is not None and total > limit:
                        raise _too_large(total, limit)
                    path = directory / _url_filename(url)
                    done = 0
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as out:
                        for chunk in response.iter_bytes(CHUNK_BYTES):
                            done += len(chunk)
                            if done > limit:
                                raise _too_large(done, limit)
                            out.write(chunk)
                            run.progress(done, total)
                    return path, path.name
            except httpx.HTTPError as exc:
                raise invalid("url", f"the download failed: {exc}") from exc
        raise invalid("url", f"more than {MAX_REDIRECTS} redirects")


def _too_large(size: int, limit: int) -> TooLarge:
    message = f"the file is over the limit of {limit} bytes ({size} bytes or more)"
    return TooLarge(f"url: {message}", fields={"url": [message]})


def schedule_if_changed(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    distribution: Distribution,
    before: dict[str, Any] | None,
    uploaded: bool,
) -> JobSummary | None:
    """After an update: re-ingests when a file was uploaded or what the ingest reads changed (``before`` is
    ``ingest_params`` taken before the update), e.g. a new URL, or a format that makes the file tabular."""
    if not uploaded and ingest_params(settings=settings, distribution=distribution) == before:
        return None
    return schedule_ingest(session=session, actor=actor, settings=settings, distribution=distribution)


# --- what the API and pages call ---------------------------------------------------------------------------


def _visible_distribution(session: Session, actor: Actor, distribution_id: str) -> tuple[Distribution, bool]:
    """The active distribution if ``actor`` may read its dataset (NotFound otherwise), and whether they may edit."""
    dist = session.get(Distribution, distribution_id)
    if dist is None or dist.state != "active":
        raise NotFound("Resource not found")
    ds = catalog_service.load_visible_dataset(session, actor, dist.dataset_id)
    return dist, permissions.can_edit_dataset(actor, organization_id=ds.organization_id)


def list_ingest_jobs(*, session: Session, actor: Actor, distribution_id: str, limit: int = 20) -> list[JobRead]:
    """The newest ingest jobs of a distribution first (who asked: shown to the dataset's editors only)."""
    _, can_edit = _visible_distribution(session, actor, distribution_id)
    found = jobs.list_for_target(session=session, kind=KIND, target=distribution_id, limit=limit)
    return [jobs.read(job, show_requester=can_edit) for job in found]


def request_ingest(*, session: Session, actor: Actor, settings: Settings, distribution_id: str) -> JobSummary:
    """An editor asks for the distribution to be ingested again (e.g. its URL's content changed)."""
    dist, can_edit = _visible_distribution(session, actor, distribution_id)
    if not can_edit:
        raise Forbidden("You may not edit this dataset")
    job = schedule_ingest(session=session, actor=actor, settings=settings, distribution=dist)
    if job is None:
        raise invalid(
            "distribution",
            "nothing to ingest: the distribution has no uploaded tabular file (CSV, TSV, JSON, NDJSON, GeoJSON, "
            "XLSX, Parquet) and no URL on a host the datastore downloads from",
        )
    return job
