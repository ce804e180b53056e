"""CSRF protection for the HTML forms: a random token per session, sent back in a hidden field of every POST form.

``FormDep`` parses a form body and refuses it (403) unless its ``csrf_token`` field matches the session's token.
The JSON APIs do not need it: they authenticate with a bearer token, which a browser never sends by itself.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from citycommons.errors import Forbidden

SESSION_KEY = "csrf"
FIELD = "csrf_token"


def token(request: Request) -> str:
    """The session's CSRF token, created on first use (so visitors who never see a form get no cookie)."""
    current = request.session.get(SESSION_KEY)
    if not isinstance(current, str) or not current:
        current = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = current
    return current


def rotate(request: Request) -> None:
    """Forgets the token (after signing in or out): the next form gets a fresh one."""
    request.session.pop(SESSION_KEY, None)


def check(request: Request, submitted: object) -> None:
    expected = request.session.get(SESSION_KEY) if "session" in request.scope else None
    if not isinstance(expected, str) or not expected or not isinstance(submitted, str):
        raise Forbidden("The form has expired or did not come from this site; reload the page and try again")
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        raise Forbidden("The form has expired or did not come from this site; reload the page and try again")


async def checked_form(request: Request) -> AsyncIterator[FormData]:
    """The parsed form (uploaded files are closed after the response), once its CSRF token matched."""
    async with request.form() as form:
        check(request, form.get(FIELD))
        yield form


FormDep = Annotated[FormData, Depends(checked_form)]
