"""The one place that turns errors into responses: JSON for APIs, CKAN's envelope for the CKAN adapter, HTML for
pages. The JSON shape is ``{"error": {"code", "message", "fields"?}}``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from citycommons.errors import CityCommonsError, Invalid, NotFound, QuotaExceeded

HtmlRenderer = Callable[[Request, CityCommonsError], Response]
CkanRenderer = Callable[[Request, CityCommonsError], Response]

CKAN_PREFIXES = ("/api/3/action", "/api/action", "/api/2/action", "/api/util")


def validation_fields(errors: list[Any]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
        msg = str(err.get("msg", "invalid"))
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if ": " in msg and not loc:
            field, _, msg = msg.partition(": ")
            loc = [field]
        fields.setdefault(".".join(loc) or "body", []).append(msg)
    return fields


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def wants_html(request: Request) -> bool:
    """A browser-like request: not an API path, and an Accept header that allows HTML (or none at all)."""
    if is_api(request) or request.method not in ("GET", "HEAD", "POST"):
        return False
    accept = request.headers.get("accept", "").lower()
    return not accept or "text/html" in accept or "*/*" in accept


def render_html(request: Request, exc: CityCommonsError) -> Response:
    """The portal's HTML error page (``app.state.html_error_renderer`` may replace it)."""
    from citycommons.web.error_pages import render_error_page  # late: pages import this module's helpers

    return render_error_page(request, exc)


def render(request: Request, exc: CityCommonsError) -> Response:
    path = request.url.path
    if path.startswith(CKAN_PREFIXES):
        ckan: CkanRenderer | None = getattr(request.app.state, "ckan_error_renderer", None)
        if ckan is not None:
            return ckan(request, exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, QuotaExceeded) else None
    if wants_html(request):
        html: HtmlRenderer = getattr(request.app.state, "html_error_renderer", None) or render_html
        return html(request, exc)
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


async def on_citycommons_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CityCommonsError)
    return render(request, exc)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return render(request, Invalid("Invalid input", fields=validation_fields(list(exc.errors()))))


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return render(request, NotFound("Not found"))
    err = CityCommonsError(str(exc.detail))
    err.status = exc.status_code
    err.code = {405: "method_not_allowed", 400: "bad_request"}.get(exc.status_code, "http_error")
    return render(request, err)
