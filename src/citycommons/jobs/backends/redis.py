"""The production backend: job ids go to a Redis queue (rq); ``citycommons worker`` processes serve it.

The queue carries only job ids: the job's input and state stay in the metadata database, so a message delivered
twice, or re-sent by the worker's start-up sweep, does nothing the second time (the claim is atomic). The worker
process reads its own ``Settings`` (nothing secret travels through Redis) and runs each job in a forked work horse
with a fresh database engine, so an ingest's memory is returned to the system when it ends.
"""

from __future__ import annotations

import logging

from redis import Redis
from rq import Queue, SimpleWorker, Worker

from citycommons.db.engine import make_engine, make_sessionmaker
from citycommons.jobs import service
from citycommons.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_QUEUE = "citycommons"
JOB_TIMEOUT_SECONDS = 4 * 3600
RESULT_TTL_SECONDS = 24 * 3600

_worker_settings: Settings | None = None


class RedisBackend:
    def __init__(self, *, settings: Settings, queue_name: str = DEFAULT_QUEUE) -> None:
        self.settings = settings
        self.queue_name = queue_name
        self._connection: Redis | None = None

    @property
    def connection(self) -> Redis:
        if self._connection is None:
            self._connection = Redis.from_url(self.settings.redis_url, socket_connect_timeout=5, socket_timeout=30)
        return self._connection

    @property
    def queue(self) -> Queue:
        return Queue(self.queue_name, connection=self.connection)

    def start(self) -> None:
        """Nothing runs in this process: ``citycommons worker`` serves the queue."""

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def dispatch(self, job_ids: list[str]) -> None:
        queue = self.queue
        for job_id in job_ids:
            queue.enqueue(
                perform,
                job_id,
                job_id=rq_job_id(job_id),
                job_timeout=JOB_TIMEOUT_SECONDS,
                result_ttl=RESULT_TTL_SECONDS,
                failure_ttl=RESULT_TTL_SECONDS,
                description=f"citycommons job {job_id}",
            )


def rq_job_id(job_id: str) -> str:
    return f"citycommons-{job_id}"


def perform(job_id: str) -> str:
    """The function rq runs: claims and runs one job in a fresh engine; returns the job's final status."""
    if _worker_settings is None:
        raise RuntimeError("citycommons job run outside `citycommons worker` (no settings)")
    engine = make_engine(_worker_settings)
    try:
        done = service.execute(settings=_worker_settings, factory=make_sessionmaker(engine), job_id=job_id)
        return done.status if done is not None else "not claimed"
    finally:
        engine.dispose()


def sweep(backend: RedisBackend) -> int:
    """Re-sends the jobs still queued in the database (scheduled while Redis was unreachable, or lost) and the
    running ones whose worker died (``service.requeue_stale``)."""
    engine = make_engine(backend.settings)
    try:
        factory = make_sessionmaker(engine)
        service.requeue_stale(factory=factory)
        ids = service.queued_ids(factory=factory)
    finally:
        engine.dispose()
    waiting = set(backend.queue.job_ids)
    missing = [job_id for job_id in ids if rq_job_id(job_id) not in waiting]
    if missing:
        backend.dispatch(missing)
    return len(missing)


def run_worker(*, settings: Settings, queue_name: str = DEFAULT_QUEUE, burst: bool = False, fork: bool = True) -> None:
    """Serves the queue until stopped (``burst``: until it is empty). ``fork=False`` runs jobs in this process."""
    global _worker_settings
    _worker_settings = settings
    backend = RedisBackend(settings=settings, queue_name=queue_name)
    service.on_worker_start(settings)
    try:
        swept = sweep(backend)
        if swept:
            log.info("re-sent %d queued jobs", swept)
        worker_class = Worker if fork else SimpleWorker
        worker = worker_class([backend.queue], connection=backend.connection)
        worker.work(burst=burst, with_scheduler=False, logging_level="WARNING")
    finally:
        backend.stop()
