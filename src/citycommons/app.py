"""create_app(settings) -> FastAPI. Wiring only: routers, error handlers, middleware, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from citycommons import __version__
from citycommons.accounts.api import router as accounts_api
from citycommons.catalog.api import router as catalog_api
from citycommons.ckan.api import render_error as render_ckan_error
from citycommons.ckan.api import router as ckan_api
from citycommons.datastore.api import router as datastore_api
from citycommons.datastore.pages import router as datastore_pages
from citycommons.db.engine import make_engine, make_sessionmaker
from citycommons.dcat.api import router as dcat_api
from citycommons.errors import EVERY_ROUTE, CityCommonsError
from citycommons.feeds.api import router as feeds_api
from citycommons.initiatives.api import router as initiatives_api
from citycommons.initiatives.pages import router as initiatives_pages
from citycommons.jobs import backends as jobs_backends
from citycommons.jobs.api import router as jobs_api
from citycommons.jobs.pages import router as jobs_pages
from citycommons.ledger.api import router as ledger_api
from citycommons.ledger.jobs import lifespan as ledger_lifespan
from citycommons.ledger.pages import router as ledger_pages
from citycommons.registers.api import router as registers_api
from citycommons.registers.pages import router as registers_pages
from citycommons.settings import Settings
from citycommons.web.errors import on_citycommons_error, on_http_error, on_validation_error
from citycommons.web.limits import BodySizeLimit, RateLimiter
from citycommons.web.pages import router as web_pages


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Background work while the app serves: signed tree heads at intervals, the in-process job workers."""
    async with ledger_lifespan(app), jobs_backends.lifespan(app):
        yield


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="citycommons",
        version=__version__,
        description="Open data catalog, CKAN-compatible Action API and native API of a City Data Commons.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        responses=EVERY_ROUTE,
        lifespan=lifespan,
    )
    engine = make_engine(settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.ckan_error_renderer = render_ckan_error
    jobs_backends.install(app)  # app.state.jobs: requests' jobs are dispatched when they commit

    app.add_exception_handler(CityCommonsError, on_citycommons_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)

    app.include_router(catalog_api)
    app.include_router(datastore_api)
    app.include_router(accounts_api)
    app.include_router(ckan_api)
    app.include_router(dcat_api)
    app.include_router(feeds_api)
    app.include_router(registers_api)
    app.include_router(registers_pages)
    app.include_router(initiatives_api)
    app.include_router(initiatives_pages)
    app.include_router(ledger_api)
    app.include_router(ledger_pages)
    app.include_router(jobs_api)
    app.include_router(jobs_pages)
    app.include_router(datastore_pages)
    app.include_router(web_pages)

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="citycommons_session",
        max_age=settings.session_max_age_seconds,
        same_site="lax",
        https_only=settings.environment == "production",
    )
    app.add_middleware(RateLimiter, settings=settings)
    app.add_middleware(BodySizeLimit, settings=settings)
    return app
