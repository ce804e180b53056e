"""Maps the error tree to CKAN's Action API error bodies and status codes (as ``ckan/views/api.py`` renders them).

    409 {"__type": "Validation Error", "<field>": ["message", ...]}
    403 {"__type": "Authorization Error", "message": "Access denied: ..."}
    404 {"__type": "Not Found Error", "message": "Not found: ..."}
    400 {"__type": "Search Query Error", "message": "Search Query is invalid: ('...',)"}
    503 {"__type": "Service Unavailable", "message": "Service unavailable: ..."}  (a backing service is down)

Clients such as ckanapi pick the exception to raise from ``__type``.
"""

from __future__ import annotations

from typing import Any

from citycommons.errors import (
    BadRequest,
    CityCommonsError,
    Conflict,
    Forbidden,
    Invalid,
    NotAuthenticated,
    NotFound,
    TooLarge,
    Unavailable,
)

# our field name -> CKAN's, for validation errors raised by the services
FIELD_NAMES: dict[str, str] = {
    "description": "notes",
    "landing_page": "url",
    "organization": "owner_org",
    "contact_name": "maintainer",
    "contact_email": "maintainer_email",
    "themes": "theme",
    "languages": "language",
    "distributions": "resources",
    "media_type": "mimetype",
    "byte_size": "size",
    "checksum": "hash",
}
RESOURCE_FIELD_NAMES: dict[str, str] = {
    "title": "name",
    "media_type": "mimetype",
    "byte_size": "size",
    "checksum": "hash",
}


class SearchQueryError(BadRequest):
    """A ``q``/``fq``/``sort`` that the Solr subset cannot answer (CKAN: 400 Search Query Error)."""

    code = "search_query_error"


class CkanInvalid(Invalid):
    """A validation error whose field names are already CKAN's (raised by the adapter's own input readers)."""


class BadRequestData(BadRequest):
    """Unreadable request data or an unknown action: CKAN answers 400 with a bare JSON string body."""

    code = "bad_request"


def error_body(exc: CityCommonsError) -> tuple[int, Any]:
    """(status, the value of the envelope's ``error`` key) — or, for ``BadRequestData``, the whole body."""
    if isinstance(exc, BadRequestData):
        return 400, f"Bad request - {exc.message}"
    if isinstance(exc, SearchQueryError):
        return 400, {"__type": "Search Query Error", "message": f"Search Query is invalid: {(exc.message,)!r}"}
    if isinstance(exc, Forbidden | NotAuthenticated):
        return 403, {"__type": "Authorization Error", "message": f"Access denied: {exc.message}"}
    if isinstance(exc, NotFound):
        return 404, {"__type": "Not Found Error", "message": f"Not found: {exc.message}"}
    if isinstance(exc, Invalid | Conflict | TooLarge) or exc.status in (400, 409, 422):
        if not exc.fields:
            fields: dict[str, Any] = {"message": exc.message}
        else:
            fields = dict(exc.fields) if isinstance(exc, CkanInvalid) else ckan_fields(exc.fields)
        return 409, {**fields, "__type": "Validation Error"}
    if 400 <= exc.status < 500:  # e.g. 405 or 429, raised before an action ran
        return exc.status, {"__type": "Bad Request", "message": exc.message}
    if isinstance(exc, Unavailable):  # e.g. the datastore's object storage: a retryable outage, not a crash
        return 503, {"__type": "Service Unavailable", "message": f"Service unavailable: {exc.message}"}
    return 500, {"__type": "Internal Server Error", "message": "Internal Server Error"}


def ckan_fields(fields: dict[str, list[str]]) -> dict[str, Any]:
    """Our dotted field names -> CKAN's error dict; resource errors become CKAN's per-resource list of dicts."""
    out: dict[str, Any] = {}
    resources: dict[int, dict[str, list[str]]] = {}
    for name, messages in fields.items():
        parts = name.split(".")
        if parts[0] in ("distributions", "resources") and len(parts) >= 3 and parts[1].isdigit():
            sub = RESOURCE_FIELD_NAMES.get(parts[2], parts[2])
            resources.setdefault(int(parts[1]), {}).setdefault(sub, []).extend(messages)
            continue
        key = FIELD_NAMES.get(parts[0], parts[0])
        out.setdefault(key, []).extend(messages)
    if resources:
        out["resources"] = [resources.get(i, {}) for i in range(max(resources) + 1)]
    return out
