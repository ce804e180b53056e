"""The register through httpx: pages, forms, API, exports, import, principles, dataset page, visibility, XSS."""

from __future__ import annotations

import csv
import io
import json

import pytest

from citycommons.actor import SYSTEM
from citycommons.registers import demo, service
from citycommons.registers.schemas import AlgorithmCreate
from tests import factories as catalog_factories
from tests.registers import factories
from tests.test_web_pages import csrf_of, field_error, sign_in

DRAFT_NAME = "Secret draft scoring"


@pytest.fixture
def register(uow, world):
    """A published record using a public and a private dataset, a draft, and a withdrawn record."""
    with uow() as s:
        catalog_factories.make_dataset(s, "stations")
        secret = catalog_factories.make_dataset(s, "secret-census", private=True, title={"en": "Secret census"})
        factories.make_reviewer(s)
    with uow() as s:
        live = factories.publish(
            s,
            factories.complete(
                datasets=[
                    {"dataset": "stations", "role": "operating"},
                    {"dataset": secret.id, "role": "training"},
                    {"title": "Weather", "url": "https://meteo.example.org/api", "role": "operating"},
                ],
                tags=["bikes", "forecast"],
                legal_basis_links=[{"title": "Llei 19/2014", "url": "https://example.org/llei"}],
            ),
        )
        hr = factories.publish(s, factories.high_risk(organization="mobility"))
        service.create(
            session=s,
            actor=SYSTEM,
            data=AlgorithmCreate.model_validate(factories.complete(DRAFT_NAME, principles=[3])),
        )
        gone = factories.publish(s, factories.complete("Old parking model"))
        from citycommons.registers.schemas import TransitionRequest

        service.transition(
            session=s,
            actor=SYSTEM,
            slug=gone.slug,
            data=TransitionRequest(action="withdraw", reason="Retired <b>x</b>"),
        )
    return {"live": live, "hr": hr, "gone": gone}


def test_public_surfaces_hide_drafts_and_private_datasets(client, register):
    slug = register["live"].slug
    public_paths = [
        "/algorithms",
        "/algorithms?record_state=draft",
        "/api/v1/algorithms",
        "/api/v1/algorithms?record_state=draft&record_state=in_review",
        "/algorithms.csv",
        "/algorithms.json",
        "/algorithms.jsonld",
        "/algorithms.csv?profile=nl-1.0",
        "/principles/3",
        "/api/v1/principles/3",
        f"/algorithms/{slug}",
        f"/api/v1/algorithms/{slug}",
    ]
    for path in public_paths:
        r = client.get(path)
        assert r.status_code == 200, path
        assert DRAFT_NAME not in r.text, path
        assert "secret-census" not in r.text and "Secret census" not in r.text, path
    assert client.get("/algorithms/secret-draft-scoring").status_code == 404
    assert client.get("/api/v1/algorithms/secret-draft-scoring").status_code == 404
    page = client.get(f"/algorithms/{slug}").text
    assert 'href="/dataset/stations"' in page and "https://meteo.example.org/api" in page
    assert "Bicing demand forecast" in client.get("/principles/3").text


def test_tombstone_keeps_id_and_reason(client, register):
    gone = register["gone"]
    html = client.get(f"/algorithms/{gone.slug}", params={"lang": "en"}).text
    assert "withdrawn" in html and gone.id in html and "Retired &lt;b&gt;x&lt;/b&gt;" in html
    body = client.get(f"/api/v1/algorithms/{gone.slug}").json()
    assert body["current"] is None and body["tombstone"]["id"] == gone.id
    assert "goal_and_impact" not in json.dumps(body)


def test_api_drafts_edits_and_transitions(client, world, register):
    payload = factories.complete("Noise complaint router", organization="environment")
    assert client.post("/api/v1/algorithms", json=payload, headers=world.auth("outsider")).status_code == 403
    r = client.post("/api/v1/algorithms", json=payload, headers=world.auth("editor"))
    assert r.status_code == 201, r.text
    slug = r.json()["slug"]
    assert client.get(f"/api/v1/algorithms/{slug}", headers=world.auth("outsider")).status_code == 404
    assert client.get(f"/api/v1/algorithms/{slug}", headers=world.auth("editor")).json()["working"]["name"]
    r = client.patch(
        f"/api/v1/algorithms/{slug}", json={"public_page_url": "http://x.org"}, headers=world.auth("editor")
    )
    assert r.status_code == 422 and "public_page_url" in r.json()["error"]["fields"]
    r = client.post(f"/api/v1/algorithms/{slug}/transitions", json={"action": "submit"}, headers=world.auth("editor"))
    assert r.json()["record_state"] == "in_review"
    r = client.post(f"/api/v1/algorithms/{slug}/transitions", json={"action": "publish"}, headers=world.auth("editor"))
    assert r.status_code == 403
    r = client.post(f"/api/v1/algorithms/{slug}/transitions", json={"action": "publish"}, headers=world.auth("admin"))
    assert r.json()["record_state"] == "published"
    listed = client.get("/api/v1/algorithms", params={"q": "noise"}).json()
    assert [x["slug"] for x in listed["results"]] == [slug]
    assert client.get("/api/v1/algorithms", params={"principle": 9}).status_code == 422


def test_exports_csv_nl_profile_and_jsonld(client, register, settings):
    raw = client.get("/algorithms.csv").content
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    first_line = text.splitlines()[0]
    assert first_line.startswith('"id","version_id","slug"') and all(c.startswith('"') for c in first_line.split(","))
    rows = list(csv.DictReader(io.StringIO(text)))
    bikes = next(r for r in rows if r["slug"] == register["live"].slug)
    assert json.loads(bikes["tags"]) == ["bikes", "forecast"]

    nl_text = client.get("/algorithms.csv?profile=nl-1.0").content.decode("utf-8-sig")
    from citycommons.registers.exports import NL_KEYS

    reader = csv.DictReader(io.StringIO(nl_text))
    assert tuple(reader.fieldnames or ()) == NL_KEYS
    nl_rows = list(reader)
    assert {r["status"] for r in nl_rows} == {"In gebruik"}
    assert "Hoog-risico AI-systeem" in {r["publication_category"] for r in nl_rows}
    nl_json = client.get("/algorithms.json?profile=nl-1.0").json()["data"]
    assert all(set(item) == set(NL_KEYS) for item in nl_json)
    grouping = next(x for x in nl_json if x["name"] == "Bicing demand forecast")["source_data_grouping"]
    assert {"title": "Weather", "link": "https://meteo.example.org/api"} in grouping

    eu = client.get("/algorithms.json?profile=eu-annex-viii-c").json()["data"]
    assert [x["name"] for x in eu] == ["Social benefit triage"]
    assert eu[0]["4_fundamental_rights_impact_assessment_summary"] == "No disparate impact found."
    atrs = client.get("/algorithms.json?profile=atrs").json()["data"]
    assert list(atrs[0])[:4] == ["name", "description", "website", "contact_email"]

    ld = client.get("/algorithms.jsonld")
    assert ld.headers["content-type"].startswith("application/ld+json")
    node = next(n for n in ld.json()["@graph"] if n["dct:title"] == "Bicing demand forecast")
    stations_id = client.get("/api/v1/datasets/stations").json()["id"]
    assert {"@id": f"{settings.site_url}/dataset/{stations_id}"} in node["dct:relation"]
    assert node["dcat:contactPoint"]["vcard:hasEmail"]["@id"] == "mailto:algorismes@example.org"
    assert set(node) >= {"dct:description", "dct:publisher", "dct:modified"}


def test_schemas_describe_the_exports(client, register):
    for profile in ("citycommons", "nl-1.0", "atrs", "eu-annex-viii-c"):
        schema = client.get(f"/algorithms/schema/{profile}.json").json()
        data = client.get("/algorithms.json", params={"profile": profile}).json()["data"]
        assert data, profile
        for item in data:
            assert set(schema["required"]) <= set(item), profile
            assert set(item) <= set(schema["properties"]) or profile == "citycommons", profile
    assert client.get("/algorithms/schema/nope.json").status_code in (404, 422)


def test_nl_import_round_trip(client, world, register, settings):
    exported = client.get("/algorithms.json?profile=nl-1.0").json()["data"]
    original = next(x for x in exported if x["name"] == "Bicing demand forecast")
    original["extra_field"] = "not ours"
    files = {"file": ("nl.json", json.dumps([original]).encode(), "application/json")}
    r = client.post(
        "/api/v1/algorithms/import", files=files, data={"organization": "mobility"}, headers=world.auth("editor")
    )
    assert r.status_code == 403
    r = client.post(
        "/api/v1/algorithms/import", files=files, data={"organization": "mobility"}, headers=world.auth("admin")
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["unmapped_fields"] == {"0": ["extra_field"]}
    slug = report["created"][0]
    assert "ai_act_class" in report["incomplete"][slug]
    draft = client.get(f"/api/v1/algorithms/{slug}", headers=world.auth("admin")).json()["working"]
    assert draft["legal_basis_links"] == [{"title": "Llei 19/2014", "url": "https://example.org/llei"}]
    assert [d["dataset_name"] or d["title"] for d in draft["datasets"]] == ["stations", "Weather"]
    for key in ("name", "description_short", "contact", "status", "begin_date", "tags", "themes"):
        assert draft[key] == register["live"].model_dump()[key], key
    # the CSV download imports the same way
    csv_bytes = client.get("/algorithms.csv?profile=nl-1.0").content
    files = {"file": ("nl.csv", csv_bytes, "text/csv")}
    r = client.post(
        "/api/v1/algorithms/import", files=files, data={"organization": "mobility"}, headers=world.auth("admin")
    )
    assert r.status_code == 200 and len(r.json()["created"]) == 2


def test_editor_forms_csrf_errors_and_workflow(client, world, register):
    assert client.get("/algorithms/new", follow_redirects=False).status_code in (303, 401, 403)
    sign_in(client, "outsider")
    assert client.get("/algorithms/new").status_code == 403
    client.post("/user/logout", data={"csrf_token": csrf_of(client.get("/").text)})
    sign_in(client, "editor")
    html = client.get("/algorithms/new").text
    token = csrf_of(html)
    form = {"organization": "environment", "name": "Tree risk model", "public_page_url": "http://trees.example.org"}
    assert client.post("/algorithms/new", data=form).status_code == 403  # no CSRF token
    r = client.post("/algorithms/new", data={**form, "csrf_token": token})
    assert r.status_code == 422 and field_error(r.text, "public_page_url")
    assert 'value="Tree risk model"' in r.text
    form["public_page_url"] = "https://trees.example.org"
    r = client.post("/algorithms/new", data={**form, "csrf_token": token, "principles": ["2"]}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/algorithms/tree-risk-model"
    page = client.get("/algorithms/tree-risk-model").text
    assert "Tree risk model" in page
    r = client.post("/algorithms/tree-risk-model/transition", data={"csrf_token": token, "action": "submit"})
    assert r.status_code == 422 and "description_short" in r.text or "Short description" in r.text
    edit = client.get("/algorithms/tree-risk-model/edit").text
    assert 'value="https://trees.example.org"' in edit
    values = factories.complete("Tree risk model")
    values.pop("organization")
    values["risks"] = json.dumps(values["risks"])
    r = client.post("/algorithms/tree-risk-model/edit", data={**values, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text
    r = client.post("/algorithms/tree-risk-model/transition", data={"csrf_token": token, "action": "submit"})
    assert r.status_code == 200 and "In review" in client.get("/algorithms/tree-risk-model?lang=en").text
    r = client.post("/algorithms/tree-risk-model/transition", data={"csrf_token": token, "action": "publish"})
    assert r.status_code == 403  # editors do not publish


def test_xss_is_inert(client, uow, world):
    evil = "<script>alert(1)</script>"
    with uow() as s:
        factories.publish(
            s,
            factories.complete(
                evil,
                description_short="<img src=x onerror=alert(1)>",
                goal_and_impact="<iframe src=//evil>",
                datasets=[{"title": "<b onmouseover=alert(1)>x</b>", "url": "https://example.org/x"}],
                principles=[3],
            ),
        )
    for path in ("/algorithms", "/algorithms/script-alert-1-script", "/principles/3"):
        html = client.get(path).text
        assert evil not in html and "<img src=x" not in html and "<iframe" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;" in client.get("/algorithms/script-alert-1-script").text


def test_dataset_page_lists_algorithms_using_it(client, register):
    html = client.get("/dataset/stations", params={"lang": "en"}).text
    assert "Algorithms that use this dataset" in html
    assert f'href="/algorithms/{register["live"].slug}"' in html


def test_pages_answer_in_each_language(client, register):
    for lang in ("ca", "es", "en"):
        for path in ("/algorithms", f"/algorithms/{register['hr'].slug}", "/principles", "/principles/1"):
            assert client.get(path, params={"lang": lang}).status_code == 200, path
    assert "Registre d'algorismes" in client.get("/algorithms", params={"lang": "ca"}).text
    assert "Registro de algoritmos" in client.get("/algorithms", params={"lang": "es"}).text
    assert client.get("/principles/7").status_code == 404
    assert len(client.get("/api/v1/principles").json()) == 5


def test_demo_seed_is_idempotent(uow, world):
    from citycommons.catalog import organizations as orgs
    from citycommons.catalog.schemas import OrganizationCreate

    with uow() as s:
        for name in ("mobilitat", "hisenda", "medi-ambient", "salut", "urbanisme", "participacio"):
            orgs.create(session=s, actor=SYSTEM, data=OrganizationCreate(name=name, title={"ca": name}))
        catalog_factories.make_dataset(s, "estacions-bicing", organization="mobilitat")
    with uow() as s:
        demo.seed(session=s)
    with uow() as s:
        demo.seed(session=s)
        from citycommons.registers.schemas import AlgorithmQuery

        states = service.search(
            session=s,
            actor=SYSTEM,
            query=AlgorithmQuery(record_state=["draft", "in_review", "published", "withdrawn"], limit=100),
        )
    assert states.count == 7
    assert {r.record_state for r in states.results} == {"draft", "in_review", "published", "withdrawn"}
    bicing = next(r for r in states.results if r.slug == "prediccio-ocupacio-bicing")
    assert [d.dataset_name for d in bicing.datasets] == ["estacions-bicing", "estacions-bicing"]
