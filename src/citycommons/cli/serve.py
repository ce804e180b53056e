"""The ASGI application factory used by ``citycommons serve --reload`` (uvicorn re-imports it in each reload)."""

from __future__ import annotations

from fastapi import FastAPI

from citycommons.app import create_app
from citycommons.settings import Settings


def app_from_env() -> FastAPI:
    """``create_app`` over the Settings of the environment (``CITYCOMMONS_*`` and the optional config file)."""
    return create_app(Settings())
