"""Spam protection, validation, XSS inertness and authorisation of every non-public surface."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from citycommons.initiatives.models import Initiative
from citycommons.initiatives.service import SUBMISSIONS_PER_HOUR
from tests.initiatives.conftest import form_tokens, good

XSS = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


def _count(sessionmaker) -> int:  # type: ignore[no-untyped-def]
    with sessionmaker() as s:
        return int(s.scalar(select(func.count()).select_from(Initiative)) or 0)


def _errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="field-error" id="f-([a-z_]+)-error">(.*?)</p>', html, re.S))


def test_honeypot_looks_accepted_but_is_discarded(submit_form, sessionmaker):
    r = submit_form(good(homepage="https://spam.example"))
    assert r.status_code == 303 and r.headers["location"] == "/initiatives/thanks"
    assert _count(sessionmaker) == 0


def test_rate_limit_per_address(submit_form, sessionmaker, client):
    for _ in range(SUBMISSIONS_PER_HOUR):
        assert submit_form(good()).status_code == 303
    r = submit_form(good())
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert _count(sessionmaker) == SUBMISSIONS_PER_HOUR
    api = client.post("/api/v1/initiatives", json={**good(), "principles": [1]})
    assert api.status_code == 429 and api.json()["error"]["code"] == "rate_limited"


def test_too_fast_and_forged_stamps_are_refused(app, client, sessionmaker):
    app.state.settings.initiative_min_fill_seconds = 60
    tokens = form_tokens(client.get("/initiatives/new?lang=en").text)
    r = client.post("/initiatives/new", data={**tokens, **good()})
    assert r.status_code == 422 and "That was quick!" in r.text
    assert 'value="Punt de connexió del Raval"' in r.text  # the visitor's input is kept
    r = client.post("/initiatives/new", data={**tokens, **good(), "form_ts": "1000.deadbeef"})
    assert r.status_code == 422 and "expired" in r.text
    r = client.post("/initiatives/new", data={**good(), "form_ts": tokens["form_ts"]})  # no CSRF token
    assert r.status_code == 403
    assert _count(sessionmaker) == 0


def test_field_errors_are_named(submit_form, sessionmaker):
    r = submit_form(
        {"name": "ab", "description": "", "org_type": "spaceship", "website": "http://example.org", "lat": "41.4"}
    )
    assert r.status_code == 422
    errors = _errors(r.text)
    for field in ("name", "description", "org_type", "principles", "website", "contact_email"):
        assert field in errors, (field, errors)
    assert "https://" in errors["website"]
    assert 'href="#f-principles"' in r.text  # the error summary links to the field
    assert _count(sessionmaker) == 0


def test_website_must_be_https(client):
    bad = [
        "javascript:alert(1)",
        "http://example.org",
        "https://",
        "https://exa mple.org",
        "data:text/html,x",
        "//e.org",
    ]
    for website in bad:
        r = client.post("/api/v1/initiatives", json={**good(website=website), "principles": [1]})
        assert r.status_code == 422 and "website" in r.json()["error"]["fields"], website


BAD_COORDINATES = [
    ("91", "2.1", "lat"),
    ("41.4", "200", "lon"),
    ("nan", "2.1", "lat"),
    ("41.4", "inf", "lon"),
    ("40.4168", "-3.7038", "lat"),  # Madrid: outside the Barcelona area
    ("41.4", "", "lon"),
    ("abc", "2.1", "lat"),
]


def test_bad_coordinates(submit_form, sessionmaker, client):
    for lat, lon, field in BAD_COORDINATES:
        r = submit_form(good(lat=lat, lon=lon))
        assert r.status_code == 422
        assert field in _errors(r.text), (lat, lon, _errors(r.text))
        api = client.post("/api/v1/initiatives", json={**good(lat=lat, lon=lon), "principles": [1]})
        assert api.status_code == 422, (lat, lon)
    assert _count(sessionmaker) == 0


def test_typed_place_is_geocoded_offline_else_coordinates_are_required(client, world):
    r = client.post("/api/v1/initiatives", json={**good(lat=None, lon=None, address="Carrer de Verdi 10, Gràcia")})
    assert r.status_code == 202
    item = client.get(f"/api/v1/initiatives/{r.json()['id']}", headers=world.auth("admin")).json()
    assert (item["lat"], item["lon"], item["district"]) == (41.4085, 2.1545, "Gràcia")
    r = client.post("/api/v1/initiatives", json={**good(lat=None, lon=None, address="Main Street 1, Springfield")})
    assert r.status_code == 422 and "location" in r.json()["error"]["fields"]


def test_size_limits(client):  # the web form passes the same schema
    for field, size in (("name", 201), ("description", 4001), ("address", 301), ("website", 501)):
        value = "https://example.org/" + "a" * size if field == "website" else "a" * size
        r = client.post("/api/v1/initiatives", json={**good(**{field: value}), "principles": [1]})
        assert r.status_code == 422 and field in r.json()["error"]["fields"], field
    r = client.post("/api/v1/initiatives", json={**good(), "principles": [1], "extra": "x"})
    assert r.status_code == 422


def test_xss_is_inert_everywhere(client, world):
    payload = {
        **good(
            name="Name " + XSS,
            description="Description " + XSS,
            address="Gràcia " + XSS,
            website="https://example.org/" + "%22%3E%3Cscript%3E",
            lat=None,
            lon=None,
        ),
        "principles": [2],
    }
    r = client.post("/api/v1/initiatives", json=payload)
    assert r.status_code == 202, r.text
    initiative_id = r.json()["id"]
    for path in ("/initiatives/moderation?lang=en", f"/initiatives/{initiative_id}?lang=en"):
        html = client.get(path, headers=world.auth("admin")).text
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    client.post(
        f"/api/v1/initiatives/{initiative_id}/decision", json={"decision": "approve"}, headers=world.auth("admin")
    )
    for path in ("/initiatives?lang=en", f"/initiatives/{initiative_id}?lang=en"):
        r = client.get(path)
        assert "<script>alert" not in r.text and "<img src=x" not in r.text and "&lt;img src=x" in r.text
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text)  # no inline script on the page
    geo = client.get("/initiatives.geojson")
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert geo.json()["features"][0]["properties"]["name"] == "Name " + XSS  # data, for textContent
    # the map's script never puts data in the page as HTML
    js = client.get("/static/js/initiatives-map.js").text
    assert "innerHTML" not in js.replace("never with innerHTML", "") and "textContent" in js
    assert "<script>" in client.get("/initiatives.csv").text  # CSV is data; served as an attachment
    assert client.get("/initiatives.csv").headers["content-disposition"].startswith("attachment")
    # nor does a spreadsheet run a cell as a formula
    r = client.post("/api/v1/initiatives", json={**good(name="=HYPERLINK(1)"), "principles": [1]})
    client.post(
        f"/api/v1/initiatives/{r.json()['id']}/decision", json={"decision": "approve"}, headers=world.auth("admin")
    )
    assert "'=HYPERLINK(1)" in client.get("/initiatives.csv").text


NON_PUBLIC = [
    ("GET", "/api/v1/initiatives/moderation", None),
    ("PATCH", "/api/v1/initiatives/{id}", {"name": "Changed name"}),
    ("POST", "/api/v1/initiatives/{id}/decision", {"decision": "approve"}),
]


def test_moderation_api_refuses_non_moderators(client, world, sessionmaker):
    initiative_id = client.post("/api/v1/initiatives", json={**good(), "principles": [1]}).json()["id"]
    for who in (None, "editor", "member_b", "outsider"):
        headers = world.auth(who) if who else {}
        for method, path, body in NON_PUBLIC:
            r = client.request(method, path.format(id=initiative_id), json=body, headers=headers)
            assert r.status_code == (401 if who is None else 403), (who, method, path, r.text)
    with sessionmaker() as s:
        row = s.scalars(select(Initiative)).one()
        assert row.status == "pending" and row.name == good()["name"]


@pytest.mark.parametrize("who", [None, "editor"])
def test_moderation_pages_refuse_non_moderators(client, world, who):
    r = client.post("/api/v1/initiatives", json={**good(), "principles": [1]})
    initiative_id = r.json()["id"]
    headers = world.auth(who) if who else {}  # a bearer token is how a page request shows who it is, too
    expected = 401 if who is None else 403
    for path in ("/initiatives/moderation", f"/initiatives/{initiative_id}/edit"):
        r = client.get(path, headers=headers, follow_redirects=False)
        if who is None:  # a browser is sent to sign in
            assert r.status_code == 303 and r.headers["location"].startswith("/user/login?next="), path
        else:
            assert r.status_code == 403, path
    assert client.get(f"/initiatives/{initiative_id}", headers=headers).status_code == 404  # pending: not public
    token = form_tokens(client.get("/initiatives/new").text)["csrf_token"]
    for path, data in (
        (f"/initiatives/{initiative_id}/decision", {"decision": "approve"}),
        (f"/initiatives/{initiative_id}/edit", good()),
    ):
        r = client.post(path, data={**data, "csrf_token": token}, headers=headers, follow_redirects=False)
        assert r.status_code == expected, path
    assert client.get("/api/v1/initiatives").json()["count"] == 0
