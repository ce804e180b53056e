"""Principle pages list the approved initiatives; registers and initiatives take their keys and map settings from
``Settings`` (no development constants)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from citycommons.app import create_app
from citycommons.initiatives import demo as initiatives_demo
from citycommons.initiatives.models import Initiative
from citycommons.ledger.models import LedgerEntry
from citycommons.ledger.service import pseudonym
from tests import factories
from tests.registers import factories as register_factories


def test_principle_pages_list_approved_initiatives(client, uow):
    with uow() as s:
        initiatives_demo.seed(session=s)
        rows = s.scalars(select(Initiative)).all()
        tagged = {(r.name, r.status) for r in rows if "|1|" in r.principles}
    assert {status for _, status in tagged} >= {"approved"}
    html = client.get("/principles/1", params={"lang": "en"}).text
    assert "Digital rights initiatives" in html
    for name, status in tagged:
        assert (name.replace("'", "&#39;").replace('"', "&#34;") in html) == (status == "approved"), (name, status)
    api = client.get("/api/v1/principles/1").json()
    assert "initiatives" in json.dumps(api)
    ca = client.get("/principles/1", params={"lang": "ca"}).text
    assert "Iniciatives pels drets digitals" in ca


def test_map_tiles_and_attribution_come_from_settings(settings):
    settings.map_tile_url = "https://tiles.example.org/{z}/{x}/{y}.png"
    settings.map_tile_attribution = "© Example contributors"
    app = create_app(settings)
    with TestClient(app) as client:
        html = client.get("/initiatives", params={"lang": "en"}).text
    app.state.engine.dispose()
    assert 'data-tiles="https://tiles.example.org/{z}/{x}/{y}.png"' in html
    assert 'data-attribution="© Example contributors"' in html


def test_moderation_entries_use_the_settings_key(settings, world, uow):
    settings.pseudonym_key = "another-deployment-pseudonym-key"
    app = create_app(settings)
    with TestClient(app) as client:
        r = client.post(
            "/api/v1/initiatives",
            json={
                "name": "Punt Òmnia",
                "description": "Digital skills for neighbours.",
                "org_type": "association",
                "principles": [1],
                "website": "https://example.org",
                "lat": 41.38,
                "lon": 2.17,
                "contact_email": "hola@example.org",
            },
        )
        assert r.status_code == 202, r.text
        admin = client.get("/api/v1/me", headers=world.auth("admin")).json()["id"]
        decided = client.post(
            f"/api/v1/initiatives/{r.json()['id']}/decision", json={"decision": "approve"}, headers=world.auth("admin")
        )
        assert decided.status_code == 200, decided.text
    app.state.engine.dispose()
    with uow() as s:
        data = s.scalars(select(LedgerEntry.data).where(LedgerEntry.event_type == "moderation.decided")).one()
    assert json.loads(data)["subjects"] == [pseudonym("another-deployment-pseudonym-key", admin)]


def _self_publish(settings, uow) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """A reviewer drafts, submits and publishes their own record through the API; returns (status, reviewer id)."""
    with uow() as s:
        factories.make_world(s)
        token = register_factories.make_reviewer(s)
    app = create_app(settings)
    with TestClient(app) as client:
        h = {"Authorization": token}
        reviewer = client.get("/api/v1/me", headers=h).json()["id"]
        slug = client.post("/api/v1/algorithms", json=register_factories.complete(), headers=h).json()["slug"]
        for action in ("submit", "publish"):
            r = client.post(f"/api/v1/algorithms/{slug}/transitions", json={"action": action}, headers=h)
    app.state.engine.dispose()
    return r.status_code, reviewer


def test_four_eyes_unless_the_settings_allow_self_publishing(settings, uow):
    status, _ = _self_publish(settings, uow)
    assert status == 403


def test_self_publishing_when_the_settings_allow_it_is_logged_with_the_settings_key(settings, uow):
    settings.register_allow_self_publish = True
    settings.pseudonym_key = "register-deployment-pseudonym-key"
    status, reviewer = _self_publish(settings, uow)
    assert status == 200
    with uow() as s:
        rows = s.scalars(select(LedgerEntry.data).where(LedgerEntry.event_type == "register.published")).all()
    published = [json.loads(r) for r in rows if json.loads(r)["details"]["action"] == "publish"]
    assert [p["subjects"] for p in published] == [[pseudonym("register-deployment-pseudonym-key", reviewer)]]
