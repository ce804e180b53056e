"""Tree heads published at intervals: the log's signing key from the settings, the job that signs a new head when
the log has grown, and the background signer the app runs in its lifespan.

The job takes no arguments beyond the session factory and the signer, opens its own transaction and is idempotent:
run twice with nothing appended in between, it signs once. Several servers on one database may each run it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from citycommons.db.engine import unit_of_work
from citycommons.ledger import service
from citycommons.ledger.keys import LogSigner, signer_at
from citycommons.ledger.schemas import SignedTreeHead
from citycommons.settings import Settings

log = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def _signer_at(path: Path) -> LogSigner:
    return signer_at(path)


def signer_for(settings: Settings) -> LogSigner:
    """The log's Ed25519 key at ``settings.ledger_key_path``, generated (PEM, mode 0600) on first use."""
    return _signer_at(settings.ledger_key_path.resolve())


def needs_head(*, session: Session) -> bool:
    """No tree head yet, or entries were appended since the latest one. Sequences queued events first (see
    ``service.submit``), so the periodic job also bounds how long an event of a dead process stays queued."""
    head = service.latest_tree_head(session=session)
    return head is None or head.tree_size != service.current_size(session=session)


def sign_if_grown(*, session: Session, signer: LogSigner) -> SignedTreeHead | None:
    """Signs a head in the caller's transaction when the log grew since the latest head (or has none yet)."""
    if not needs_head(session=session):
        return None
    return service.sign_tree_head(session=session, signer=signer)


def sign_job(factory: sessionmaker[Session], signer: LogSigner) -> SignedTreeHead | None:
    """One run of the periodic job, in its own committed transaction. Two servers racing may both sign the same
    size; the heads are then equal but for the timestamp, which verifiers accept."""
    with unit_of_work(factory) as session:
        return sign_if_grown(session=session, signer=signer)


class TreeHeadPublisher:
    """Signs a new tree head every ``interval`` seconds when the log has grown. Runs in a daemon thread (signing is
    a short database write): stopping never waits on a database lock for more than ``stop_timeout`` seconds, and a
    failed round is logged and retried at the next one. The app's lifespan calls ``run_once`` before serving."""

    def __init__(
        self, factory: sessionmaker[Session], signer: LogSigner, interval: float, *, stop_timeout: float = 5.0
    ) -> None:
        self.factory, self.signer, self.interval, self.stop_timeout = factory, signer, interval, stop_timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="citycommons-tree-head-publisher", daemon=True)

    def run_once(self) -> SignedTreeHead | None:
        try:
            head = sign_job(self.factory, self.signer)
        except Exception:  # a database hiccup must not stop the publisher
            log.exception("signing a transparency-log tree head failed")
            return None
        if head is not None:
            log.info("signed tree head: size %s, root %s", head.tree_size, head.root_hash)
        return head

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.run_once()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.stop_timeout)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs the tree-head publisher while the app serves (off when the interval setting is 0)."""
    settings: Settings = app.state.settings
    publisher: TreeHeadPublisher | None = None
    if settings.ledger_tree_head_interval_seconds > 0:
        try:
            signer = signer_for(settings)
        except (OSError, ValueError):
            log.exception("the transparency log's signing key at %s is unusable", settings.ledger_key_path)
        else:
            publisher = TreeHeadPublisher(app.state.sessionmaker, signer, settings.ledger_tree_head_interval_seconds)
            await asyncio.to_thread(publisher.run_once)  # before serving: a fresh portal answers /sth at once
            publisher.start()
    try:
        yield
    finally:
        if publisher is not None:
            await asyncio.to_thread(publisher.stop)
