"""ASGI middlewares: request body size limit and built-in rate limiting (HTTP 429 with Retry-After)."""

from __future__ import annotations

import hashlib
import math
import threading
import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from citycommons.errors import CityCommonsError, QuotaExceeded, TooLarge
from citycommons.settings import Settings


async def _reject(scope: Scope, receive: Receive, send: Send, exc: CityCommonsError) -> None:
    """Renders the error like every other one (JSON, CKAN envelope or HTML page, by path)."""
    from citycommons.web.errors import render

    response = render(Request(scope, receive), exc)
    if isinstance(exc, QuotaExceeded):
        response.headers["Retry-After"] = str(exc.retry_after)
    await response(scope, receive, send)


class BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuses bodies over the limit: ``max_upload_bytes`` for multipart uploads, else ``max_body_bytes``."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
        limit = self.settings.max_upload_bytes + 1024 * 1024 if "multipart/" in ctype else self.settings.max_body_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _reject(scope, receive, send, _too_large(limit))
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await _reject(scope, receive, send, _too_large(limit))


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"Request body over {limit} bytes", fields={"body": [f"larger than {limit} bytes"]})


class RateLimiter:
    """Per API token (or session) and per client address, kept in memory: at most ``limit`` requests in any
    minute, as a burst or spread out (GCRA, a token bucket in one number per key). Fixed one-minute windows let
    twice the limit through across a window boundary and made the same two requests pass or fail depending on
    the second they arrived."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}  # key -> theoretical arrival time of its next request

    def _key_and_limit(self, scope: Scope) -> tuple[str, int]:
        headers = dict(scope.get("headers") or [])
        credential = headers.get(b"authorization") or headers.get(b"x-ckan-api-key")
        if credential:
            return "t:" + hashlib.sha256(credential).hexdigest()[:32], self.settings.rate_limit_token_per_minute
        client = scope.get("client")
        return "a:" + (client[0] if client else "unknown"), self.settings.rate_limit_anonymous_per_minute

    def hit(self, key: str, limit: int, now: float) -> int:
        """Counts one request; returns 0 if allowed, else the seconds until one more request is allowed."""
        interval = 60.0 / max(1, limit)
        with self._lock:
            tat = max(self._tat.get(key, now), now)
            allowed_at = tat + interval - 60.0
            if now < allowed_at:
                return max(1, math.ceil(allowed_at - now))
            if len(self._tat) > 100_000:
                self._tat = {k: v for k, v in self._tat.items() if v > now}
            self._tat[key] = tat + interval
        return 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not self.settings.rate_limit_enabled or path.startswith("/static/"):
            await self.app(scope, receive, send)
            return
        key, limit = self._key_and_limit(scope)
        retry = self.hit(key, limit, time.time())
        if retry:
            exc = QuotaExceeded(f"Too many requests; retry in {retry} s", retry_after=retry)
            await _reject(scope, receive, send, exc)
            return
        await self.app(scope, receive, send)
