"""Jobs: schedule (inside a request's transaction), dispatch after commit, claim, run, read.

A job row is written by ``schedule`` in the caller's session, which never commits (services don't); its id is kept
in ``session.info`` and handed to the backend bound to the session's factory (``bind``) by an ``after_commit``
event, so a rolled-back request starts nothing. Running a job (``execute``) first *claims* it with one conditional
UPDATE (``queued`` -> ``running``): whoever wins runs it, everyone else does nothing, which makes a job safe to
dispatch twice, to several workers or processes, and to re-dispatch after a crash. Every state change is written in
its own short transaction from the job's own sessions.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from citycommons.actor import Actor
from citycommons.db.base import new_id, utcnow
from citycommons.db.engine import unit_of_work
from citycommons.errors import CityCommonsError, NotFound
from citycommons.jobs.models import Job
from citycommons.jobs.schemas import JobRead, JobSummary
from citycommons.settings import Settings

log = logging.getLogger(__name__)

PENDING_KEY = "citycommons.jobs.pending"
BACKEND_KEY = "citycommons.jobs.backend"
PROGRESS_INTERVAL_SECONDS = 0.5
HEARTBEAT_SECONDS = 30.0
STALE_AFTER_SECONDS = 300.0
"""A running job whose heartbeat is older than this lost its worker (process killed): it is queued again."""


@dataclass(frozen=True)
class JobKind:
    """A kind of job: ``handler(run) -> Outcome`` runs it; ``authorize(session, actor, job)`` raises ``NotFound``
    when ``actor`` may not see the job (both as ``module:function`` paths, imported when first used)."""

    handler: str
    authorize: str


KINDS: dict[str, JobKind] = {
    "datastore.ingest": JobKind(
        handler="citycommons.datastore.jobs:run_ingest", authorize="citycommons.datastore.jobs:authorize_read"
    ),
    "datastore.drop": JobKind(
        handler="citycommons.datastore.jobs:run_drop", authorize="citycommons.datastore.jobs:authorize_read"
    ),
}


WORKER_START: tuple[str, ...] = ("citycommons.datastore.jobs:sweep_staging",)
"""``function(settings)`` run when a worker starts (in-process backend, ``citycommons worker``): clean-ups of what a
killed process left behind."""


def on_worker_start(settings: Settings) -> None:
    """Runs the ``WORKER_START`` tasks; a failing one is logged, never stops the worker."""
    for path in WORKER_START:
        try:
            _resolve(path)(settings)
        except Exception:
            log.exception("worker start task %s failed", path)


def _resolve(path: str) -> Callable[..., Any]:
    module, _, name = path.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


class Backend(Protocol):
    """Where dispatched job ids go: worker threads of this process, or a Redis queue."""

    def dispatch(self, job_ids: list[str]) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


# --- scheduling and dispatch -----------------------------------------------------------------------------------


def bind(factory: sessionmaker[Session], backend: Backend) -> None:
    """Sessions made by ``factory`` hand their committed jobs to ``backend``."""
    info = dict(factory.kw.get("info") or {})
    info[BACKEND_KEY] = backend
    factory.configure(info=info)


def schedule(
    *, session: Session, kind: str, target: str, params: dict[str, Any], requested_by: str | None
) -> JobSummary:
    """Adds a queued job in the caller's transaction; a queued job of the same kind and target is superseded.

    The job reaches a worker only when the caller's transaction commits."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    now = utcnow()
    job_id = new_id()
    session.execute(
        update(Job)
        .where(Job.kind == kind, Job.target == target, Job.status == "queued")
        .values(
            status="superseded",
            stage="superseded",
            message=f"Replaced by the newer job {job_id}",
            finished_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    job = Job(
        id=job_id, kind=kind, target=target, status="queued", stage="queued", progress_done=0, message="",
        error_fields={}, params=params, result={}, requested_by=requested_by, created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(job)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).append(job_id)
    return summary(job)


def pending(session: Session) -> list[str]:
    """Ids of the jobs scheduled in ``session``'s current transaction (dispatched when it commits)."""
    return list(session.info.get(PENDING_KEY, []))


def forget_pending(session: Session) -> list[str]:
    """Takes the jobs scheduled in ``session`` out of the after-commit dispatch (a caller that runs them itself)."""
    return list(session.info.pop(PENDING_KEY, []))


def _after_commit(session: Session) -> None:
    job_ids = session.info.pop(PENDING_KEY, None)
    backend = session.info.get(BACKEND_KEY)
    if not job_ids or backend is None:
        return  # no backend bound: the jobs wait, queued, for a worker's next poll (or `citycommons worker`)
    try:
        backend.dispatch(list(job_ids))
    except Exception:  # the commit happened: the jobs stay queued and a worker's sweep picks them up
        log.exception("could not dispatch jobs %s; they stay queued", job_ids)


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def install_events() -> None:
    from sqlalchemy import event

    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


install_events()


# --- reading -------------------------------------------------------------------------------------------------


def summary(job: Job) -> JobSummary:
    return JobSummary.model_validate(_fields(job, JobSummary))


def read(job: Job, *, show_requester: bool = True) -> JobRead:
    data = _fields(job, JobRead)
    if not show_requester:
        data["requested_by"] = None
    return JobRead.model_validate(data)


def _fields(job: Job, schema: type[JobSummary]) -> dict[str, Any]:
    return {name: getattr(job, name) for name in schema.model_fields}


def get(*, session: Session, actor: Actor, job_id: str) -> JobRead:
    """One job, if ``actor`` may see what it works on (``NotFound`` otherwise)."""
    job = session.get(Job, job_id)
    if job is None or job.kind not in KINDS:
        raise NotFound("Job not found")
    can_edit: bool = _resolve(KINDS[job.kind].authorize)(session=session, actor=actor, job=job)
    return read(job, show_requester=can_edit)


def list_for_target(*, session: Session, kind: str, target: str, limit: int = 20) -> list[Job]:
    """The newest jobs of ``kind`` on ``target`` first (callers check permissions on the target)."""
    return list(
        session.scalars(
            select(Job).where(Job.kind == kind, Job.target == target).order_by(Job.created_at.desc()).limit(limit)
        )
    )


def latest_for_target(*, session: Session, kind: str, target: str) -> Job | None:
    jobs = list_for_target(session=session, kind=kind, target=target, limit=1)
    return jobs[0] if jobs else None


# --- running -------------------------------------------------------------------------------------------------


class Superseded(Exception):  # noqa: N818 - a state, not an error
    """Raised by a handler when its input changed since the job was scheduled (a newer job will run)."""


Listener = Callable[[str, int, int | None], None]
"""``listener(stage, done, total)``: told every progress step, unthrottled (the CLI's progress bar)."""


@dataclass
class Outcome:
    """What a handler produced; ``apply(session)`` writes its effects in the transaction that marks it succeeded."""

    version: int | None = None
    result: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    apply: Callable[[Session], None] | None = None


@dataclass
class JobRun:
    """What a handler gets: the job's ids and input, the deployment, its own session factory, a progress reporter."""

    job_id: str
    kind: str
    target: str
    params: dict[str, Any]
    requested_by: str | None
    settings: Settings
    sessionmaker: sessionmaker[Session]
    listener: Listener | None = None
    _stage: str = "starting"
    _last_write: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def current_stage(self) -> str:
        return self._stage

    def stage(self, name: str, *, total: int | None = None) -> None:
        """Enters a stage (written at once)."""
        self._stage = name
        self._write(0, total, force=True)

    def progress(self, done: int, total: int | None) -> None:
        """``done`` of ``total`` units (bytes) of the current stage; written at most every half second."""
        self._write(done, total, force=done == total)

    def _write(self, done: int, total: int | None, *, force: bool) -> None:
        if self.listener is not None:
            self.listener(self._stage, done, total)
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last_write < PROGRESS_INTERVAL_SECONDS:
                return
            self._last_write = now
        with unit_of_work(self.sessionmaker) as session:
            session.execute(
                update(Job)
                .where(Job.id == self.job_id, Job.status == "running")
                .values(stage=self._stage, progress_done=done, progress_total=total, updated_at=utcnow())
            )


def claim(*, factory: sessionmaker[Session], job_id: str) -> bool:
    """``queued`` -> ``running`` for exactly one caller; False when the job is gone, finished or someone has it."""
    now = utcnow()
    with unit_of_work(factory) as session:
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="running", stage="starting", started_at=now, updated_at=now)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


def requeue_stale(*, factory: sessionmaker[Session], older_than: float = STALE_AFTER_SECONDS) -> list[str]:
    """Queues again the running jobs whose worker stopped beating (its process died mid-job); jobs are idempotent,
    so running one again is safe. Returns their ids."""
    now = utcnow()
    cutoff = now - timedelta(seconds=older_than)
    with unit_of_work(factory) as session:
        stale = list(session.scalars(select(Job.id).where(Job.status == "running", Job.updated_at < cutoff)))
        if stale:
            session.execute(
                update(Job)
                .where(Job.id.in_(stale), Job.status == "running", Job.updated_at < cutoff)
                .values(
                    status="queued",
                    stage="queued",
                    message="Queued again: the worker running it stopped",
                    updated_at=now,
                )  # fmt: skip
            )
    if stale:
        log.warning("queued again %d jobs whose worker stopped: %s", len(stale), stale)
    return stale


def claim_next(*, factory: sessionmaker[Session]) -> str | None:
    """Claims the oldest queued job this process knows how to run; None when there is none."""
    with factory() as session:
        candidates = list(
            session.scalars(
                select(Job.id)
                .where(Job.status == "queued", Job.kind.in_(sorted(KINDS)))
                .order_by(Job.created_at)
                .limit(10)
            )
        )
    for job_id in candidates:
        if claim(factory=factory, job_id=job_id):
            return job_id
    return None


def queued_ids(*, factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(Job.id).where(Job.status == "queued").order_by(Job.created_at)))


def execute(
    *, settings: Settings, factory: sessionmaker[Session], job_id: str, listener: Listener | None = None
) -> JobRead | None:
    """Claims and runs one job; None if it was not claimable (already running elsewhere, finished, unknown)."""
    if not claim(factory=factory, job_id=job_id):
        return None
    return run_claimed(settings=settings, factory=factory, job_id=job_id, listener=listener)


def run_claimed(
    *, settings: Settings, factory: sessionmaker[Session], job_id: str, listener: Listener | None = None
) -> JobRead:
    """Runs a job this caller claimed, and records how it ended. Never raises for the job's own failures."""
    with factory() as session:
        job = session.get(Job, job_id)
        if job is None:  # pragma: no cover - claimed a moment ago
            raise NotFound("Job not found")
        run = JobRun(job_id=job.id, kind=job.kind, target=job.target, params=dict(job.params),
                     requested_by=job.requested_by, settings=settings, sessionmaker=factory,
                     listener=listener)  # fmt: skip
    heartbeat = _Heartbeat(factory, job_id)
    heartbeat.start()
    try:
        outcome: Outcome = _resolve(KINDS[run.kind].handler)(run)
    except Superseded as exc:
        _finish(factory, job_id, status="superseded", message=str(exc) or "The input changed; a newer job runs")
    except CityCommonsError as exc:
        _finish(factory, job_id, status="failed", message=exc.message, error_fields=exc.fields)
    except Exception as exc:
        log.exception("job %s (%s on %s) failed", job_id, run.kind, run.target)
        _finish(factory, job_id, status="failed",
                message=f"Internal error ({type(exc).__name__}); the server log has the details")  # fmt: skip
    else:
        try:
            _finish(factory, job_id, status="succeeded", outcome=outcome)
        except Exception as exc:
            log.exception("job %s: recording its result failed", job_id)
            _finish(factory, job_id, status="failed",
                    message=f"Recording the result failed ({type(exc).__name__})")  # fmt: skip
    finally:
        heartbeat.stop()
    with factory() as session:
        done = session.get(Job, job_id)
        assert done is not None
        return read(done)


class _Heartbeat:
    """Stamps a running job's ``updated_at`` every ``HEARTBEAT_SECONDS`` (long stages report no progress), so
    ``requeue_stale`` can tell a slow job from one whose process died."""

    def __init__(self, factory: sessionmaker[Session], job_id: str) -> None:
        self.factory, self.job_id = factory, job_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"citycommons-job-heartbeat-{job_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                with unit_of_work(self.factory) as session:
                    session.execute(
                        update(Job).where(Job.id == self.job_id, Job.status == "running").values(updated_at=utcnow())
                    )
            except Exception:  # a missed beat is retried at the next one
                log.exception("job %s: heartbeat failed", self.job_id)


def _finish(
    factory: sessionmaker[Session],
    job_id: str,
    *,
    status: str,
    message: str = "",
    error_fields: dict[str, list[str]] | None = None,
    outcome: Outcome | None = None,
) -> None:
    now = utcnow()
    with unit_of_work(factory) as session:
        job = session.get(Job, job_id)
        if job is None:  # pragma: no cover - jobs are never deleted while running
            return
        job.status = status
        job.stage = "done" if status == "succeeded" else status
        job.finished_at = now
        job.updated_at = now
        job.message = message
        job.error_fields = dict(error_fields or {})
        if outcome is not None:
            job.version = outcome.version
            job.result = dict(outcome.result)
            job.message = outcome.message
            if job.progress_total:
                job.progress_done = job.progress_total
            if outcome.apply is not None:
                outcome.apply(session)
