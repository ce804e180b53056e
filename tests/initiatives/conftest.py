"""Fixtures of the initiatives tests: the form's minimum fill time is off unless a test turns it on."""

from __future__ import annotations

import re
from typing import Any

import pytest


@pytest.fixture
def app(settings):  # type: ignore[no-untyped-def]
    from citycommons.app import create_app

    application = create_app(settings)
    application.state.settings.initiative_min_fill_seconds = 0
    yield application
    application.state.engine.dispose()


def form_tokens(html: str) -> dict[str, str]:
    return {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),  # type: ignore[union-attr]
        "form_ts": re.search(r'name="form_ts" value="([^"]+)"', html).group(1),  # type: ignore[union-attr]
    }


def good(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Punt de connexió del Raval",
        "description": "Free computers and digital-skills workshops for neighbours.",
        "org_type": "association",
        "principles": ["1", "4"],
        "website": "https://example.org/punt",
        "address": "",
        "lat": "41.3797",
        "lon": "2.1685",
        "contact_email": "hola@example.org",
    }
    data.update(changes)
    return data


@pytest.fixture
def submit_form(client):  # type: ignore[no-untyped-def]
    """Posts the submission form as a browser would (CSRF token and form stamp from the rendered form)."""

    def post(data: dict[str, Any], **kwargs: Any) -> Any:
        html = client.get("/initiatives/new?lang=en").text
        return client.post("/initiatives/new", data={**form_tokens(html), **data}, follow_redirects=False, **kwargs)

    return post
