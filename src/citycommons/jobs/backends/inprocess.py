"""The embedded backend: worker threads in this process claim queued jobs from the database and run them.

``dispatch`` only wakes the threads; the ``job`` table is the queue. The threads also poll it every second, so jobs
scheduled by another process (the CLI, another API worker) or left queued by a restart are picked up too, and the
atomic claim keeps two processes from running the same job. Every minute they also queue again the jobs whose
worker died mid-run (``service.requeue_stale``: no heartbeat for five minutes).
On start they run ``service.on_worker_start`` (beside the workers): e.g. staging directories a killed ingest left.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.orm import Session, sessionmaker

from citycommons.jobs import service
from citycommons.settings import Settings

log = logging.getLogger(__name__)
STALE_CHECK_SECONDS = 60.0


class InProcessBackend:
    def __init__(
        self, *, settings: Settings, factory: sessionmaker[Session], workers: int = 1, poll_seconds: float = 1.0
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.workers = max(1, workers)
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sweep: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def start(self) -> None:
        if self.running:
            return
        self._stopping.clear()
        self._threads = [
            threading.Thread(target=self._loop, name=f"citycommons-jobs-{i}", daemon=True) for i in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()
        sweep = threading.Thread(target=service.on_worker_start, args=(self.settings,), name="citycommons-jobs-sweep",
                                 daemon=True)  # fmt: skip
        sweep.start()  # beside the workers: a large datastore's sweep does not delay the first job
        self._sweep = sweep

    def stop(self, timeout: float = 120.0) -> None:
        """Lets the running jobs finish (up to ``timeout`` seconds each), then returns; queued jobs stay queued."""
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
        if self._sweep is not None:
            self._sweep.join(timeout)
            self._sweep = None

    def dispatch(self, job_ids: list[str]) -> None:
        self._wake.set()

    def drain(self) -> int:
        """Runs queued jobs in the calling thread until none is left; returns how many ran."""
        count = 0
        service.on_worker_start(self.settings)
        service.requeue_stale(factory=self.factory)
        while (job_id := service.claim_next(factory=self.factory)) is not None:
            service.run_claimed(settings=self.settings, factory=self.factory, job_id=job_id)
            count += 1
        return count

    def _loop(self) -> None:
        next_stale_check = 0.0
        while not self._stopping.is_set():
            try:
                if time.monotonic() >= next_stale_check:
                    service.requeue_stale(factory=self.factory)
                    next_stale_check = time.monotonic() + STALE_CHECK_SECONDS
                job_id = service.claim_next(factory=self.factory)
                if job_id is not None:
                    service.run_claimed(settings=self.settings, factory=self.factory, job_id=job_id)
                    continue
            except Exception:  # the database went away for a moment: try again at the next poll
                log.exception("job worker: claiming or running a job failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
