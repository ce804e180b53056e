"""Job backends, chosen by ``settings.jobs_backend``: ``inprocess`` worker threads or a Redis (rq) queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from citycommons.jobs.service import Backend, bind
from citycommons.settings import Settings


def create(settings: Settings, factory: sessionmaker[Session]) -> Backend:
    """The backend of a deployment (not started: the app's lifespan or the command that needs it starts it)."""
    if settings.jobs_backend == "redis":
        from citycommons.jobs.backends.redis import RedisBackend

        return RedisBackend(settings=settings)
    from citycommons.jobs.backends.inprocess import InProcessBackend

    return InProcessBackend(settings=settings, factory=factory, workers=settings.jobs_workers)


def install(app: FastAPI) -> Backend:
    """Creates the app's backend (``app.state.jobs``) and binds it to the app's sessions: jobs scheduled in a
    request are dispatched when the request commits. The worker threads run only inside ``lifespan``."""
    settings: Settings = app.state.settings
    backend = create(settings, app.state.sessionmaker)
    bind(app.state.sessionmaker, backend)
    app.state.jobs = backend
    return backend


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs the in-process job workers while the app serves (nothing for the Redis backend: `citycommons worker`)."""
    backend: Backend = app.state.jobs
    await asyncio.to_thread(backend.start)
    try:
        yield
    finally:
        await asyncio.to_thread(backend.stop)
