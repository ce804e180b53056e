"""Submission, moderation and publication through the pages, the JSON API and the exports."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import select

from citycommons.initiatives import service
from citycommons.initiatives.models import Initiative
from citycommons.ledger.models import LedgerEntry
from tests.initiatives.conftest import good

NAME = "Punt de connexió del Raval"


def _only_id(sessionmaker) -> str:  # type: ignore[no-untyped-def]
    with sessionmaker() as s:
        return s.scalars(select(Initiative.id)).one()


def test_submit_approve_publish(client, world, submit_form, sessionmaker):
    r = submit_form(good())
    assert r.status_code == 303 and r.headers["location"] == "/initiatives/thanks"
    initiative_id = _only_id(sessionmaker)

    # pending: invisible everywhere public
    assert NAME not in client.get("/initiatives?lang=en").text
    assert client.get("/initiatives.geojson").json()["features"] == []
    assert NAME not in client.get("/initiatives.csv").text
    assert client.get("/api/v1/initiatives").json()["count"] == 0
    assert client.get(f"/initiatives/{initiative_id}?lang=en").status_code == 404
    assert client.get(f"/api/v1/initiatives/{initiative_id}").status_code == 404

    queue = client.get("/api/v1/initiatives/moderation", headers=world.auth("admin")).json()
    assert [i["name"] for i in queue["results"]] == [NAME]
    assert queue["results"][0]["contact_email"] == "hola@example.org"

    r = client.post(
        f"/api/v1/initiatives/{initiative_id}/decision", json={"decision": "approve"}, headers=world.auth("admin")
    )
    assert r.status_code == 200 and r.json()["status"] == "approved"

    assert NAME in client.get("/initiatives?lang=en").text
    assert NAME in client.get(f"/initiatives/{initiative_id}?lang=en").text
    features = client.get("/initiatives.geojson").json()["features"]
    assert [f["properties"]["name"] for f in features] == [NAME]
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [2.1685, 41.3797]}
    assert features[0]["properties"]["district"] == "Ciutat Vella"
    rows = list(csv.DictReader(io.StringIO(client.get("/initiatives.csv").text)))
    assert [row["name"] for row in rows] == [NAME]
    api = client.get("/api/v1/initiatives").json()
    assert api["count"] == 1 and "contact_email" not in api["results"][0]
    # the contact e-mail is never public
    for body in (client.get("/initiatives.csv").text, client.get("/initiatives.geojson").text, json.dumps(api)):
        assert "hola@example.org" not in body
    assert "hola@example.org" not in client.get(f"/initiatives/{initiative_id}?lang=en").text

    # the decision is in the transparency log, with a pseudonym, not a name
    with sessionmaker() as s:
        entries = s.scalars(select(LedgerEntry).where(LedgerEntry.event_type != "role.granted")).all()
    assert [e.event_type for e in entries] == ["moderation.decided"]  # (the world's memberships log role grants)
    logged = json.loads(entries[0].data)
    assert logged["objects"] == [f"initiative:{initiative_id}"] and logged["details"]["decision"] == "approved"
    assert len(logged["subjects"][0]) == 64


def test_filters(client, world, uow):
    from citycommons.initiatives.demo import seed

    with uow() as s:
        seed(session=s)
        seed(session=s)  # idempotent
    with uow() as s:
        assert len(s.scalars(select(Initiative)).all()) == 13
    everything = client.get("/api/v1/initiatives", params={"size": 100}).json()
    assert everything["count"] == 9  # approved only
    privacy = client.get("/api/v1/initiatives", params={"principle": 2}).json()
    assert privacy["count"] >= 2 and all(2 in i["principles"] for i in privacy["results"])
    coops = client.get("/initiatives.geojson", params={"org_type": "cooperative"}).json()["features"]
    assert {f["properties"]["org_type"] for f in coops} == {"cooperative"} and len(coops) == 2
    gracia = client.get("/api/v1/initiatives", params={"district": 6}).json()
    assert [i["name"] for i in gracia["results"]] == ["Gràcia Wi-Fi Comunitària"]
    assert client.get("/api/v1/initiatives", params={"q": "teenagers"}).json()["count"] == 1
    paged = client.get("/api/v1/initiatives", params={"size": 4, "page": 3}).json()
    assert paged["count"] == 9 and len(paged["results"]) == 1
    html = client.get("/initiatives", params={"principle": 3, "lang": "en"}).text
    assert "Observatori d&#39;Algorismes Públics" in html and "Gràcia Wi-Fi" not in html
    assert 'data-features="/initiatives.geojson?principle=3"' in html
    assert client.get("/api/v1/initiatives", params={"principle": 9}).status_code == 422


def test_reject_with_reason(client, world, submit_form, sessionmaker):
    submit_form(good())
    initiative_id = _only_id(sessionmaker)
    url = f"/api/v1/initiatives/{initiative_id}/decision"
    r = client.post(url, json={"decision": "reject"}, headers=world.auth("admin"))
    assert r.status_code == 422 and "reason" in r.json()["error"]["fields"]
    r = client.post(url, json={"decision": "reject", "reason": "Not in Barcelona"}, headers=world.auth("admin"))
    assert r.status_code == 200 and r.json()["rejection_reason"] == "Not in Barcelona"
    assert client.get("/api/v1/initiatives").json()["count"] == 0
    assert client.get(f"/initiatives/{initiative_id}").status_code == 404
    rejected = client.get("/api/v1/initiatives/moderation?state=rejected", headers=world.auth("admin")).json()
    assert rejected["count"] == 1


def test_moderator_pages_and_edit(client, world, submit_form, sessionmaker):
    submit_form(good())
    initiative_id = _only_id(sessionmaker)
    r = client.post(
        "/user/login",
        data={"login": "admin", "password": "correct horse battery", **_login(client)},
        follow_redirects=False,
    )
    assert r.status_code in (200, 303)
    page = client.get("/initiatives/moderation?lang=en")
    assert page.status_code == 200 and NAME in page.text and "hola@example.org" in page.text
    token = _csrf(page.text)
    r = client.post(
        f"/initiatives/{initiative_id}/decision",
        data={"csrf_token": token, "decision": "reject", "reason": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303  # a reason is required: nothing decided
    with sessionmaker() as s:
        assert s.get(Initiative, initiative_id).status == "pending"  # type: ignore[union-attr]
    edit = client.get(f"/initiatives/{initiative_id}/edit?lang=en")
    assert edit.status_code == 200
    r = client.post(
        f"/initiatives/{initiative_id}/edit",
        data={**good(name="Punt Òmnia", lat="", lon="", address="Sant Andreu"), "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:2000]
    r = client.post(
        f"/initiatives/{initiative_id}/decision",
        data={"csrf_token": token, "decision": "approve"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    item = client.get(f"/api/v1/initiatives/{initiative_id}").json()
    assert item["name"] == "Punt Òmnia" and item["district"] == "Sant Andreu"


def _csrf(html: str) -> str:
    import re

    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _login(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"csrf_token": _csrf(client.get("/user/login").text)}


def test_service_rate_limit_window(db):
    from datetime import UTC, datetime, timedelta

    from citycommons.errors import QuotaExceeded
    from citycommons.initiatives.schemas import InitiativeCreate

    data = InitiativeCreate.model_validate({**good(), "principles": [1]})
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    for i in range(service.SUBMISSIONS_PER_HOUR):
        service.submit(session=db, data=data, client="10.0.0.1", now=start + timedelta(minutes=i))
    try:
        service.submit(session=db, data=data, client="10.0.0.1", now=start + timedelta(minutes=30))
        raise AssertionError("the sixth submission in an hour was accepted")
    except QuotaExceeded as exc:
        assert exc.retry_after > 0
    service.submit(session=db, data=data, client="10.0.0.2", now=start + timedelta(minutes=30))  # another address
    service.submit(session=db, data=data, client="10.0.0.1", now=start + timedelta(minutes=61))  # window moved
