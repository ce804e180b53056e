"""The error tree: the only module that knows HTTP status codes.

Services raise these; one handler per front door renders them (JSON in ``/api/v1``, CKAN's envelope in the
CKAN adapter, an HTML page for the web). The canonical JSON body is::

    {"error": {"code": "invalid", "message": "...", "fields": {"name": ["..."]}}}
"""

from __future__ import annotations

from typing import Any


class CityCommonsError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str = "", *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message or self.code)
        self.message = message or self.code.replace("_", " ")
        self.fields = fields or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}


class BadRequest(CityCommonsError):
    status = 400
    code = "bad_request"


class NotAuthenticated(CityCommonsError):
    status = 401
    code = "not_authenticated"


class Forbidden(CityCommonsError):
    status = 403
    code = "forbidden"


class NotFound(CityCommonsError):
    status = 404
    code = "not_found"


class Conflict(CityCommonsError):
    status = 409
    code = "conflict"


class TooLarge(CityCommonsError):
    status = 413
    code = "too_large"


class Invalid(CityCommonsError):
    """Input that fails validation; ``fields`` maps each field to its messages."""

    status = 422
    code = "invalid"

    def __init__(self, message: str = "", *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message or "Invalid input", fields=fields)


class Unavailable(CityCommonsError):
    """A backing service (e.g. the datastore's object storage) cannot be reached: retry later."""

    status = 503
    code = "unavailable"


class QuotaExceeded(CityCommonsError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str = "", *, retry_after: int = 1) -> None:
        super().__init__(message or "Too many requests")
        self.retry_after = retry_after


# What the middleware and handlers may answer to any request, whatever its route (documented once, app-wide).
EVERY_ROUTE: dict[int | str, dict[str, Any]] = {
    400: {"description": "Bad request (e.g. a body that is not valid JSON)"},
    401: {"description": "Invalid or revoked API token"},
    413: {"description": "Request body too large"},
    429: {"description": "Too many requests; retry after the `Retry-After` header's seconds"},
}


def invalid(field: str, message: str) -> Invalid:
    """Shorthand for a one-field validation error."""
    return Invalid(f"{field}: {message}", fields={field: [message]})
