"""``citycommons ingest FILE --dataset NAME``: publish a file as a distribution and ingest it in the foreground;
``citycommons worker``: serve the background job queue (Redis, or the database queue of the in-process backend)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session, sessionmaker

from citycommons.actor import SYSTEM
from citycommons.catalog import distributions, service
from citycommons.catalog.schemas import DistributionCreate, DistributionPatch, Upload
from citycommons.cli.context import err, fail, out, show_rows, state
from citycommons.datastore.jobs import tabular_format
from citycommons.jobs import service as jobs
from citycommons.jobs.backends.inprocess import InProcessBackend
from citycommons.jobs.models import Job
from citycommons.jobs.schemas import JobRead
from citycommons.settings import Settings

STAGES = {
    "queued": "Waiting for a worker",
    "starting": "Starting",
    "downloading": "Downloading",
    "reading": "Reading",
    "writing": "Writing Parquet",
    "done": "Done",
}


def ingest(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The file to publish.")],
    dataset: Annotated[str, typer.Option("--dataset", help="Name or id of the dataset it belongs to.")],
    title: Annotated[str | None, typer.Option(help="Title of the distribution (default: the file name).")] = None,
    resource: Annotated[
        str | None, typer.Option("--resource", help="Id of a distribution of the dataset whose file this replaces.")
    ] = None,
    format: Annotated[
        str | None, typer.Option("--format", help="Declared format (CSV, TSV, JSON, NDJSON, GEOJSON, XLSX, PARQUET).")
    ] = None,
) -> None:
    """Publish FILE as a distribution of a dataset (or replace a distribution's file) and ingest it into the
    datastore now, with a progress bar; prints rows, columns and types, quarantined rows and the new version."""
    cli = state(ctx)
    settings = cli.settings
    if tabular_format(declared_format=format or "", filename=file.name) is None:
        fail(
            f"{file.name} is not a format the datastore ingests (CSV, TSV, JSON, NDJSON, GeoJSON, XLSX, Parquet); "
            "name the format with --format if the file name misleads"
        )
    upload = Upload(filename=file.name, path=str(file))
    titles = {settings.default_locale: title} if title else None
    with cli.unit() as session:
        ds = service.get(session=session, actor=SYSTEM, id_or_name=dataset)
        if resource:
            current = distributions.get(session=session, actor=SYSTEM, distribution_id=resource)
            if current.dataset_id != ds.id:
                fail(f"Resource {resource} is not a distribution of the dataset {ds.name}")
            dist = distributions.patch(
                session=session,
                actor=SYSTEM,
                settings=settings,
                distribution_id=resource,
                data=DistributionPatch(title=titles, format=format),
                upload=upload,
            )
        else:
            dist = distributions.create(
                session=session,
                actor=SYSTEM,
                settings=settings,
                dataset=ds.id,
                data=DistributionCreate(title=titles or {}, format=format or ""),
                upload=upload,
            )
        if dist.ingest is None or dist.ingest.status != "queued":
            fail(f"{file.name} was published but no ingest was scheduled for it")
        job_id = dist.ingest.id
        jobs.forget_pending(session)  # run here, in the foreground, rather than by a background worker
    action = "Replaced the file of" if resource else "Created"
    out.print(f"{action} distribution {dist.id} of dataset {ds.name}")
    done = _run_with_progress(cli.sessionmaker, settings, job_id)
    _report(done, dist.id)


def _run_with_progress(factory: sessionmaker[Session], settings: Settings, job_id: str) -> JobRead:
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("Starting", total=None)

        def listener(stage: str, done: int, total: int | None) -> None:
            progress.update(task, description=STAGES.get(stage, stage), completed=done, total=total)

        result = jobs.execute(settings=settings, factory=factory, job_id=job_id, listener=listener)
        if result is None:  # a background worker claimed it first: follow it
            result = _follow(factory, job_id, listener)
        if result.status == "succeeded" and result.progress_total:
            progress.update(task, description="Done", completed=result.progress_total, total=result.progress_total)
    return result


def _follow(factory: sessionmaker[Session], job_id: str, listener: jobs.Listener) -> JobRead:
    while True:
        with factory() as session:
            job = session.get(Job, job_id)
            assert job is not None
            read = jobs.read(job)
        listener(read.stage, read.progress_done, read.progress_total)
        if read.finished:
            return read
        time.sleep(0.5)


def _report(job: JobRead, distribution_id: str) -> None:
    if job.status != "succeeded":
        extra = [
            f"\n  {field}: {message}"
            for field, messages in job.error_fields.items()
            for message in messages
            if f"{field}: {message}" not in job.message
        ]
        fail(
            f"Ingest {job.status}: {job.message}{''.join(extra)}\n"
            f"The distribution {distribution_id} keeps this file; the datastore still serves its previous version, "
            "if any."
        )
    result = job.result
    show_rows(["column", "type"], [[c["name"], c["type"]] for c in result.get("columns", [])])
    out.print(f"Rows: {result.get('rows', 0)}")
    out.print(f"Columns: {len(result.get('columns', []))}")
    out.print(f"Quarantined rows: {result.get('quarantined_rows', 0)}")
    if result.get("quarantined_cells"):
        out.print(f"Quarantined values: {result['quarantined_cells']} (set to null, listed in the report)")
    for warning in result.get("warnings", []):
        out.print(f"Warning: {warning}")
    out.print(f"Version: {job.version}")


def worker(
    ctx: typer.Context,
    queue: Annotated[str, typer.Option(help="Name of the Redis queue to serve.")] = "citycommons",
    burst: Annotated[bool, typer.Option("--burst", help="Run the jobs waiting now, then exit.")] = False,
) -> None:
    """Run background jobs (ingests). With CITYCOMMONS_JOBS_BACKEND=redis: an rq worker on CITYCOMMONS_REDIS_URL,
    each job in a forked process; with the in-process backend: worker threads over the database's job queue."""
    cli = state(ctx)
    settings = cli.settings
    if settings.jobs_backend == "redis":
        from citycommons.jobs.backends.redis import run_worker

        out.print(f"Serving the Redis queue {queue!r} over {cli.database_label}")
        run_worker(settings=settings, queue_name=queue, burst=burst)
        return
    backend = InProcessBackend(settings=settings, factory=cli.sessionmaker, workers=settings.jobs_workers)
    if burst:
        out.print(f"Ran {backend.drain()} queued jobs")
        return
    out.print(f"Running jobs from {cli.database_label} with {backend.workers} worker thread(s); Ctrl-C stops")
    backend.start()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        out.print("Stopping: waiting for the running jobs to finish")
    finally:
        backend.stop()


def load_queued_tables(*, settings: Settings, factory: sessionmaker[Session]) -> None:
    """Run the ingest jobs waiting in the database now, in the foreground with one progress bar (``demo``)."""
    waiting = jobs.queued_ids(factory=factory)
    if not waiting:
        return
    failed: list[JobRead] = []
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=err, transient=False) as progress:
        task = progress.add_task("Loading tables into the datastore", total=len(waiting))
        for job_id in waiting:
            result = jobs.execute(settings=settings, factory=factory, job_id=job_id)
            if result is not None and result.status == "failed":
                failed.append(result)
            progress.advance(task)
    out.print(f"Datastore: {len(waiting) - len(failed)} of {len(waiting)} tables loaded")
    for job in failed:
        out.print(f"  not loaded ({job.target}): {job.message}")
