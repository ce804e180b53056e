"""The server-rendered portal through httpx: pages, languages, facets, visibility, CSRF, sign-in, forms, downloads."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from citycommons.actor import SYSTEM
from citycommons.app import create_app
from citycommons.catalog import distributions
from citycommons.catalog.schemas import DistributionCreate, Upload
from citycommons.db.migrate import upgrade
from citycommons.settings import Settings
from citycommons.web.render import translations
from tests import factories

PASSWORD = "correct horse battery"
SEARCH_BUTTON = {"ca": "Cerca", "es": "Buscar", "en": "Search"}


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(client, name: str = "editor") -> None:
    token = csrf_of(client.get("/user/login").text)
    r = client.post(
        "/user/login", data={"csrf_token": token, "login": name, "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303, r.text


def field_error(html: str, field: str) -> str:
    match = re.search(rf'id="f-{field}-error">(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip() if match else ""


@pytest.fixture
def catalog(uow, world, settings, tmp_path: Path):
    """Public datasets in two organisations, a private one, and a NON_PUBLIC one with an uploaded file."""
    with uow() as s:
        factories.make_dataset(s, "air-1")
        factories.make_dataset(
            s,
            "bike-lanes",
            organization="mobility",
            title={"ca": "Carrils bici", "es": "Carriles bici", "en": "Bike lanes"},
            themes=["TRAN"],
            tags=["bikes"],
            license_id="cc-zero",
            distributions=[{"title": {"en": "Map"}, "url": "https://example.org/bikes.geojson", "format": "GEOJSON"}],
        )
        factories.make_dataset(s, "secret", private=True, title={"en": "Secret census"}, tags=["hidden"])
        closed = factories.make_dataset(s, "closed", access_rights="NON_PUBLIC", distributions=[])
    source = tmp_path / "rows.csv"
    source.write_bytes(b"station,no2\nGracia,41\n")
    with uow() as s:
        dist = distributions.create(
            session=s,
            actor=SYSTEM,
            settings=settings,
            dataset=closed.id,
            data=DistributionCreate(title={"en": "Rows"}),
            upload=Upload(filename="rows.csv", path=str(source), content_type="text/csv"),
        )
    return {"closed_id": closed.id, "closed_dist": dist}


# --- pages and languages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["ca", "es", "en"])
def test_every_page_answers_in_each_language(client, catalog, lang):
    pages = ["/", "/dataset", "/dataset?q=air&sort=title", "/dataset/air-1", "/organization"]
    pages += ["/organization/environment", "/about", "/user/login"]
    for path in pages:
        r = client.get(path, params={"lang": lang})
        assert r.status_code == 200, (path, r.text[:500])
        assert f'<html lang="{lang}">' in r.text
        assert r.headers["content-language"] == lang
        assert 'href="#main"' in r.text and '<main id="main"' in r.text
    sign_in(client)
    dist_id = client.get("/api/v1/datasets/air-1").json()["distributions"][0]["id"]
    for path in [
        "/user/me",
        "/dataset/new",
        "/dataset/air-1/edit",
        "/dataset/air-1/delete",
        "/dataset/air-1/resource/new",
        f"/dataset/air-1/resource/{dist_id}/edit",
        f"/dataset/air-1/resource/{dist_id}/delete",
        "/user/logout",
    ]:
        r = client.get(path, params={"lang": lang})
        assert r.status_code == 200, (path, r.text[:500])


def test_translations_differ_per_language(client, catalog):
    for lang, label in SEARCH_BUTTON.items():
        html = client.get("/dataset", params={"lang": lang}).text
        assert f'<button type="submit" class="button">{label}</button>' in html
    html = client.get("/about", params={"lang": "ca"}).text
    assert "Sobre les dades" in html and "Dades personals" in html
    html = client.get("/about", params={"lang": "es"}).text
    assert "Sobre los datos" in html and "Datos personales" in html


def test_every_message_has_catalan_and_spanish():
    """Every string marked in the templates and web modules is translated in the ca and es catalogs."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg
    from babel.messages.pofile import read_po

    web = Path(__file__).resolve().parents[1] / "src" / "citycommons" / "web"
    method_map, options_map = parse_mapping_cfg(io.StringIO((web / "translations" / "babel.cfg").read_text()))
    messages = {msg for _, _, msg, _, _ in extract_from_dir(str(web), method_map, options_map)}
    python_only = [(pattern, method) for pattern, method in method_map if method == "python"]
    messages |= {msg for _, _, msg, _, _ in extract_from_dir(str(web.parent), python_only, options_map)}
    assert len(messages) > 200
    for lang in ("ca", "es"):
        entries = {}
        for po in sorted((web / "translations" / lang / "LC_MESSAGES").glob("*.po")):
            with po.open("rb") as fh:
                entries.update({m.id: m for m in read_po(fh, locale=lang) if m.id})
        untranslated = []
        for msgid in messages:
            entry = entries.get(msgid)
            strings = entry.string if entry and isinstance(entry.string, tuple) else (entry.string if entry else "",)
            if not all(strings) or (entry and entry.fuzzy):
                untranslated.append(msgid)
        assert not untranslated, (lang, untranslated)
    assert translations("ca").gettext("Search datasets") == "Cerca conjunts de dades"


def test_language_choice_is_remembered_then_negotiated(client, settings):
    r = client.get("/", params={"lang": "es"})
    assert r.cookies.get("citycommons_lang") == "es"
    assert '<html lang="es">' in client.get("/about").text  # the cookie sticks
    client.cookies.clear()
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,ca;q=0.5"}).text
    assert '<html lang="es">' in client.get("/", headers={"Accept-Language": "fr-FR, es;q=0.8"}).text
    assert f'<html lang="{settings.default_locale}">' in client.get("/", headers={"Accept-Language": "de"}).text


def test_home_shows_counts_themes_and_newest(client, catalog):
    html = client.get("/", params={"lang": "en"}).text
    assert "<strong>3</strong> datasets" in html  # air-1, bike-lanes, closed: the private one is not counted
    assert "<strong>2</strong> organisations" in html
    assert 'href="/dataset?theme=TRAN"' in html and "Transport" in html
    assert 'href="/dataset/bike-lanes"' in html
    assert 'href="/dataset/secret"' not in html


# --- search -----------------------------------------------------------------------------------------------------


def test_facets_filter_and_link_without_javascript(client, catalog):
    html = client.get("/dataset", params={"lang": "en"}).text
    assert "3 datasets found" in html
    assert 'href="/dataset?theme=TRAN"' in html
    assert 'href="/dataset?format=GEOJSON"' in html

    html = client.get("/dataset", params={"theme": "TRAN", "lang": "en"}).text
    assert "1 dataset found" in html
    assert 'href="/dataset/bike-lanes"' in html and 'href="/dataset/air-1"' not in html
    assert 'aria-current="true"' in html  # the chosen facet value is marked

    for params, expected in [
        ({"organization": "environment"}, {"air-1", "closed"}),
        ({"tag": "bikes"}, {"bike-lanes"}),
        ({"format": "GEOJSON"}, {"bike-lanes"}),
        ({"format": "CSV"}, {"air-1", "closed"}),
        ({"license": "cc-zero"}, {"bike-lanes"}),
        ({"access_rights": "NON_PUBLIC"}, {"closed"}),
        ({"q": "bici"}, {"bike-lanes"}),
        ({"q": "placa", "organization": "mobility"}, set()),
    ]:
        html = client.get("/dataset", params=params).text
        found = set(re.findall(r'class="dataset-card-title"><a href="/dataset/([^"]+)"', html))
        assert found == expected, params


def test_sort_and_pagination(client, uow, world, settings):
    with uow() as s:
        for i in range(settings.search_page_size + 3):
            factories.make_dataset(s, f"set-{i:02d}", title={"en": f"Set {i:02d}"})
    html = client.get("/dataset", params={"sort": "title", "lang": "en"}).text
    assert html.index('href="/dataset/set-00"') < html.index('href="/dataset/set-01"')
    assert 'aria-label="Pages"' in html and 'rel="next"' in html
    html = client.get("/dataset", params={"sort": "title", "page": 2, "lang": "en"}).text
    assert 'href="/dataset/set-22"' in html and 'href="/dataset/set-00"' not in html
    assert "Showing 21–23 of 23" in html


# --- visibility -------------------------------------------------------------------------------------------------


def test_private_dataset_is_invisible_to_outsiders(client, catalog, world):
    for who in (None, "outsider", "member_b"):
        headers = world.auth(who) if who else {}
        assert client.get("/dataset/secret", headers=headers).status_code == 404
        html = client.get("/dataset", params={"q": "secret", "lang": "en"}, headers=headers).text
        assert "0 datasets found" in html
        html = client.get("/dataset", params={"tag": "hidden"}, headers=headers).text
        assert 'href="/dataset/secret"' not in html
        html = client.get("/organization/environment", params={"lang": "en"}, headers=headers).text
        assert "2 datasets" in html and 'href="/dataset/secret"' not in html
    assert client.get("/dataset/secret", headers=world.auth("editor")).status_code == 200
    sign_in(client, "editor")
    assert client.get("/dataset/secret").status_code == 200
    assert 'href="/dataset/secret"' in client.get("/dataset", params={"q": "secret"}).text


def test_errors_are_pages_for_browsers_and_json_for_apis(client):
    r = client.get("/dataset/nope", params={"lang": "en"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Dataset not found" in r.text
    r = client.get("/api/v1/datasets/nope")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = client.get("/no/such/page", params={"lang": "ca"})
    assert r.status_code == 404 and "No s&#39;ha trobat la pàgina" in r.text


# --- CSRF, sign-in, tokens --------------------------------------------------------------------------------------


def test_forms_refuse_missing_or_wrong_csrf_token(client, catalog):
    client.get("/user/login")
    data = {"login": "editor", "password": PASSWORD}
    assert client.post("/user/login", data=data).status_code == 403
    assert client.post("/user/login", data={**data, "csrf_token": "forged"}).status_code == 403
    sign_in(client)
    r = client.post("/dataset/air-1/edit", data={"title_en": "Hijacked", "csrf_token": "forged"})
    assert r.status_code == 403
    assert client.post("/dataset/air-1/delete", data={}).status_code == 403
    assert client.get("/api/v1/datasets/air-1").json()["title"]["en"] != "Hijacked"


def test_login_logout(client, world):
    token = csrf_of(client.get("/user/login").text)
    r = client.post("/user/login", data={"csrf_token": token, "login": "editor", "password": "wrong", "lang": "en"})
    assert r.status_code == 401 and "editor" in r.text  # the login name is kept
    r = client.post(
        "/user/login",
        data={"csrf_token": token, "login": "editor", "password": PASSWORD, "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"
    html = client.get("/user/me", params={"lang": "en"}).text
    assert "editor@example.org" in html and "Environment Department" in html
    token = csrf_of(html)
    assert client.post("/user/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    r = client.get("/user/me", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/user/login?next=")


def test_api_tokens_are_shown_once_and_can_be_revoked(client, world):
    sign_in(client)
    html = client.get("/user/me").text
    r = client.post("/user/me/tokens", data={"csrf_token": csrf_of(html), "name": "pipeline"})
    assert r.status_code == 201 and r.headers["cache-control"] == "no-store"
    plain = re.search(r'id="new-token" class="token-value" type="text" readonly value="([^"]+)"', r.text).group(1)
    assert client.get("/api/v1/me", headers={"Authorization": plain}).json()["name"] == "editor"
    html = client.get("/user/me").text
    assert plain not in html
    token_id = re.findall(r'action="/user/me/tokens/([^/]+)/revoke"', html)[-1]
    r = client.post(f"/user/me/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(html)})
    assert r.status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": plain}).status_code == 401
    r = client.post("/user/me/tokens", data={"csrf_token": csrf_of(html), "name": "  ", "lang": "en"})
    assert r.status_code == 422


# --- editing ------------------------------------------------------------------------------------------------------


def test_create_form_keeps_input_and_names_each_error(client, world):
    sign_in(client)
    token = csrf_of(client.get("/dataset/new").text)
    form = {
        "csrf_token": token,
        "name": "Not A Name",
        "title_ca": "",
        "description_en": "Kept <b>as typed</b>",
        "organization": "environment",
        "access_rights": "PUBLIC",
        "license_id": "cc-by-4.0",
        "contact_email": "not-an-email",
        "tags": "one, two",
        "themes": ["ENVI", "TRAN"],
    }
    r = client.post("/dataset/new", data=form, params={"lang": "en"})
    assert r.status_code == 422
    assert "lower-case letters" in field_error(r.text, "name")
    assert "e-mail address" in field_error(r.text, "contact_email")
    assert 'value="Not A Name"' in r.text and 'value="one, two"' in r.text
    assert "Kept &lt;b&gt;as typed&lt;/b&gt;" in r.text
    assert 'value="TRAN" checked' in r.text
    assert 'aria-invalid="true"' in r.text and 'class="error-summary"' in r.text

    form.update(name="fixed-name", contact_email="")
    r = client.post("/dataset/new", data=form, params={"lang": "ca"})
    assert r.status_code == 422
    assert field_error(r.text, "title") == "Error: Escriu un títol com a mínim en una llengua."

    form.update(title_ca="Arbres", temporal_start="2024-05-01", temporal_end="2024-01-01")
    r = client.post("/dataset/new", data=form, params={"lang": "es"})
    assert "anterior a la fecha inicial" in field_error(r.text, "temporal_end")

    form.update(temporal_end="2024-12-31")
    r = client.post("/dataset/new", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/dataset/fixed-name"
    created = client.get("/api/v1/datasets/fixed-name").json()
    assert created["title"] == {"ca": "Arbres"} and created["tags"] == ["one", "two"]
    assert created["temporal_end"] == "2024-12-31"
    r = client.post("/dataset/new", data=form, params={"lang": "en"})
    assert r.status_code == 409 or "already in use" in field_error(r.text, "name")


def test_edit_form_saves_and_records_history(client, catalog, world):
    sign_in(client)
    html = client.get("/dataset/air-1/edit").text
    assert 'value="air, pollution"' in html
    token = csrf_of(html)
    base = {
        "csrf_token": token,
        "organization": "environment",
        "access_rights": "PUBLIC",
        "license_id": "cc-by-4.0",
        "title_en": "Air quality, hourly",
        "tags": "air",
        "themes": ["ENVI"],
    }
    r = client.post("/dataset/air-1/edit", data={**base, "title_en": ""}, params={"lang": "en"})
    assert r.status_code == 422 and "at least one language" in field_error(r.text, "title")
    assert client.get("/api/v1/datasets/air-1").json()["title"]["en"].startswith("Air quality at")

    r = client.post("/dataset/air-1/edit", data={**base, "frequency": "DAILY"}, follow_redirects=False)
    assert r.status_code == 303
    html = client.get("/dataset/air-1", params={"lang": "en"}).text
    assert "Your changes were saved." in html
    assert "Air quality, hourly" in html and "Daily" in html
    history = html[html.index('id="history-title"') :]
    assert "Changed: " in history and "Title" in history and "editor" in history

    # outsiders may not edit
    client.cookies.clear()
    sign_in(client, "outsider")
    assert client.get("/dataset/air-1/edit").status_code == 403


def test_xss_in_titles_is_inert(client, uow, world):
    with uow() as s:
        factories.make_dataset(
            s,
            "xss",
            title={"en": "<script>alert(1)</script>"},
            description={"en": "<b onmouseover=alert(1)>bold</b>\n\n<iframe src=//evil>"},
            tags=["<img src=x onerror=alert(1)>"],
        )
    for path in ("/dataset/xss", "/dataset", "/", "/organization/environment"):
        html = client.get(path, params={"lang": "en"}).text
        assert "<script>alert(1)</script>" not in html, path
        assert "<img src=x" not in html and "<b onmouseover" not in html and "<iframe" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/dataset/xss").text
    assert "script-src 'self'" in client.get("/dataset/xss").headers["content-security-policy"]


def test_distribution_upload_edit_and_delete(client, catalog, world):
    sign_in(client)
    token = csrf_of(client.get("/dataset/air-1/resource/new").text)
    r = client.post("/dataset/air-1/resource/new", data={"csrf_token": token}, params={"lang": "en"})
    assert r.status_code == 422 and "Give a URL or upload a file" in field_error(r.text, "url")
    r = client.post(
        "/dataset/air-1/resource/new",
        data={"csrf_token": token, "title_en": "Readings"},
        files={"upload": ("readings.csv", b"a,b\n1,2\n", "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    ds = client.get("/api/v1/datasets/air-1").json()
    uploaded = next(d for d in ds["distributions"] if d["title"].get("en") == "Readings")
    html = client.get("/dataset/air-1", params={"lang": "en"}).text
    link = f"/dataset/{ds['id']}/resource/{uploaded['id']}/download/readings.csv"
    assert f'href="{link}"' in html and "8\u00a0B" in html
    r = client.get(link)
    assert r.status_code == 200 and r.content == b"a,b\n1,2\n"
    assert r.headers["content-disposition"].startswith("attachment")

    edit = f"/dataset/air-1/resource/{uploaded['id']}/edit"
    r = client.post(edit, data={"csrf_token": token, "title_ca": "Lectures", "url": "ftp://x"}, params={"lang": "en"})
    assert r.status_code == 422 and "http://" in field_error(r.text, "url")
    assert 'value="Lectures"' in r.text and 'value="ftp://x"' in r.text
    r = client.post(edit, data={"csrf_token": token, "title_ca": "Lectures", "format": "CSV"}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get(link).content == b"a,b\n1,2\n"  # editing the text keeps the file
    assert "Lectures" in client.get("/dataset/air-1", params={"lang": "ca"}).text

    r = client.post(f"/dataset/air-1/resource/{uploaded['id']}/delete", data={"csrf_token": token})
    assert r.status_code == 200
    assert client.get(link).status_code == 404

    r = client.post("/dataset/air-1/delete", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/organization/environment"
    assert client.get("/dataset/air-1").status_code == 404


def test_download_refuses_non_members_of_a_non_public_dataset(client, catalog, world):
    dist = catalog["closed_dist"]
    link = f"/dataset/{catalog['closed_id']}/resource/{dist.id}/download/rows.csv"
    for who in (None, "outsider", "member_b"):
        headers = world.auth(who) if who else {}
        r = client.get(link, headers=headers)
        assert r.status_code == 403, who
    html = client.get("/dataset/closed", params={"lang": "en"}).text
    assert "Download restricted" in html and link not in html
    r = client.get(link, headers=world.auth("editor"))
    assert r.status_code == 200 and r.content == b"station,no2\nGracia,41\n"
    assert client.get(f"/dataset/{catalog['closed_id']}/resource/nope/download/x.csv").status_code == 404


def test_dataset_page_metadata_and_alternates(client, uow, world):
    with uow() as s:
        factories.make_dataset(
            s,
            "full",
            identifier="ENV-042",
            temporal_start="2020-01-01",
            temporal_end="2020-12-31",
            frequency="MONTHLY",
            version="2.1",
            contact_name="Data office",
            contact_email="data@example.org",
            spatial_uri="https://www.wikidata.org/wiki/Q1492",
        )
    html = client.get("/dataset/full", params={"lang": "en"}).text
    for text in (
        "ENV-042",
        "Monthly",
        "2.1",
        "mailto:data@example.org",
        "Q1492",
        "creativecommons.org/licenses/by/4.0",
    ):
        assert text in html, text
    assert "January 1, 2020 to December 31, 2020" in html
    html = client.get("/dataset/full", params={"lang": "ca"}).text
    assert "Del 1 de gener del 2020 al 31 de desembre del 2020" in html


def test_content_negotiation_when_dcat_provides_it(client, catalog):
    from citycommons.dcat import api as dcat_api

    if not hasattr(dcat_api, "wanted_rdf_format"):
        pytest.skip("the DCAT module does not negotiate yet")
    r = client.get("/dataset/air-1", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and "turtle" in r.headers["content-type"]
    r = client.get("/dataset/air-1")
    assert '<link rel="alternate" type="text/turtle"' in r.text
    assert "Accept" in r.headers["vary"].split(", ")


def test_rate_limited_page_tells_when_to_retry(tmp_path):
    settings = Settings(
        environment="test", data_dir=tmp_path / "var", rate_limit_enabled=True, rate_limit_anonymous_per_minute=1
    )
    upgrade(settings)
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        assert client.get("/about").status_code == 200
        r = client.get("/about", params={"lang": "es"}, headers={"Accept": "text/html"})
    app.state.engine.dispose()
    assert r.status_code == 429 and r.headers["content-type"].startswith("text/html")
    seconds = int(r.headers["retry-after"])
    assert f"Espera {seconds} segundo" in r.text


def test_static_assets(client):
    r = client.get("/static/css/site.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    assert client.get("/static/../app.py").status_code == 404
