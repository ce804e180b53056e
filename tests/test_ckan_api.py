"""CKAN Action API through httpx: envelope, error bodies and status codes, package/resource/organisation/group
actions, the Solr subset of package_search — on both engines and both paths (/api/3/action, /api/action)."""

from __future__ import annotations

import re

import pytest

PATHS = ("/api/3/action", "/api/action")
ACCESS_RESTRICTED = "http://publications.europa.eu/resource/authority/access-right/RESTRICTED"
CKAN_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$")


def package(name: str, **extra):
    data = {
        "name": name,
        "title": f"Qualitat de l'aire {name}",
        "title_translated": {"ca": f"Qualitat de l'aire {name}", "en": f"Air quality {name}"},
        "notes": "Mesures horàries de NO2.",
        "owner_org": "environment",
        "license_id": "cc-by-4.0",
        "tags": [{"name": "air"}, {"name": "air quality"}],
        "extras": [{"key": "theme", "value": '["ENVI"]'}, {"key": "source", "value": "sensors"}],
        "resources": [{"name": "CSV", "url": "https://example.org/air.csv", "format": "CSV"}],
    }
    data.update(extra)
    return data


def call(client, action, data=None, *, who=None, world=None, path=PATHS[0], method="POST"):
    headers = world.auth(who) if who else {}
    if method == "GET":
        return client.get(f"{path}/{action}", params=data or {}, headers=headers)
    return client.post(f"{path}/{action}", json=data or {}, headers=headers)


def ok(response):
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    return body["result"]


@pytest.mark.parametrize("path", PATHS)
def test_envelope_and_status_show(client, path):
    r = client.get(f"{path}/status_show")
    body = r.json()
    assert body["help"] == "http://127.0.0.1:8000/api/3/action/help_show?name=status_show"
    assert body["success"] is True
    assert body["result"]["ckan_version"] == "2.11.0"
    assert body["result"]["site_url"] == "http://127.0.0.1:8000"
    assert isinstance(body["result"]["extensions"], list)
    assert "Solr" in ok(client.get(f"{path}/help_show", params={"name": "package_search"}))


@pytest.mark.parametrize("path", PATHS)
def test_error_shapes(client, world, path):
    r = client.get(f"{path}/no_such_action")
    assert r.status_code == 400
    assert r.json() == "Bad request - Action name not known: no_such_action"

    r = client.get(f"{path}/package_create")
    assert r.status_code == 400 and "Please use POST" in r.json()

    r = client.post(f"{path}/package_create", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json().startswith("Bad request - JSON Error")

    r = client.get(f"{path}/package_show", params={"id": "missing"})
    assert r.status_code == 404
    assert r.json()["error"] == {"__type": "Not Found Error", "message": "Not found: Dataset not found"}
    assert r.json()["success"] is False and r.json()["help"].endswith("name=package_show")

    r = client.post(f"{path}/package_create", json=package("anon"))
    assert r.status_code == 403
    assert r.json()["error"]["__type"] == "Authorization Error"
    assert r.json()["error"]["message"].startswith("Access denied")

    r = client.post(f"{path}/package_create", json=package("Bad Name!"), headers=world.auth("editor"))
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["__type"] == "Validation Error" and isinstance(error["name"], list)

    r = client.get(f"{path}/package_search", params={"q": "nosuchfield:x"})
    assert r.status_code == 400
    assert r.json()["error"]["__type"] == "Search Query Error"
    assert "nosuchfield" in r.json()["error"]["message"]

    r = client.get(f"{path}/package_search", params={"sort": "popularity desc"})
    assert (
        r.status_code == 400
        and r.json()["error"]["message"] == "Search Query is invalid: ('Invalid \"sort\" parameter',)"
    )

    r = client.get(f"{path}/package_show")
    assert r.status_code == 409 and r.json()["error"] == {"__type": "Validation Error", "id": ["Missing value"]}

    r = client.get(f"{path}/package_list", headers={"Authorization": "cc_not-a-token"})
    assert r.status_code == 403 and r.json()["error"]["__type"] == "Authorization Error"


def test_create_show_and_the_package_dict(client, world, engine_kind):
    result = ok(call(client, "package_create", package("air-1"), who="editor", world=world))
    shown = ok(client.get("/api/3/action/package_show", params={"id": "air-1"}))
    assert shown == result
    assert shown["title"] == "Qualitat de l'aire air-1"  # default locale ca
    assert shown["title_translated"] == {"ca": "Qualitat de l'aire air-1", "es": "", "en": "Air quality air-1"}
    assert shown["notes"] == "Mesures horàries de NO2." and shown["notes_translated"]["ca"] == shown["notes"]
    assert shown["type"] == "dataset" and shown["state"] == "active" and shown["private"] is False
    assert shown["license_id"] == "cc-by-4.0" and shown["license_title"] and shown["license_url"]
    assert CKAN_TIME.match(shown["metadata_created"]) and CKAN_TIME.match(shown["metadata_modified"])
    org = shown["organization"]
    assert org["name"] == "environment" and org["is_organization"] is True and org["type"] == "organization"
    assert shown["owner_org"] == org["id"] and CKAN_TIME.match(org["created"])
    assert [t["name"] for t in shown["tags"]] == ["air", "air quality"] and shown["num_tags"] == 2
    assert set(shown["tags"][0]) == {"id", "name", "display_name", "state", "vocabulary_id"}
    res = shown["resources"][0]
    assert shown["num_resources"] == 1
    assert res["package_id"] == shown["id"] and res["format"] == "CSV" and res["mimetype"] == "text/csv"
    assert res["position"] == 0 and res["datastore_active"] is False and res["state"] == "active"
    assert CKAN_TIME.match(res["created"]) and res["url"] == "https://example.org/air.csv"
    extras = {e["key"]: e["value"] for e in shown["extras"]}
    assert extras["source"] == "sensors"
    assert "data-theme/ENVI" in extras["theme"] and "access-right/PUBLIC" in extras["access_rights"]

    r = client.get("/api/3/action/package_search", params={"fq": "theme:ENVI"})
    assert ok(r)["count"] == 1


def test_update_accepts_what_show_returns(client, world, engine_kind):
    ok(call(client, "package_create", package("round"), who="editor", world=world))
    shown = ok(call(client, "package_show", {"id": "round"}))
    again = ok(call(client, "package_update", dict(shown), who="editor", world=world))

    def stable(pkg):
        volatile = {"metadata_modified", "last_modified"}
        out = {k: v for k, v in pkg.items() if k not in volatile}
        out["resources"] = [{k: v for k, v in r.items() if k not in volatile} for r in pkg["resources"]]
        return out

    assert stable(again) == stable(shown)

    shown["title"] = "Nou títol"
    shown["maintainer"] = "Oficina de dades"
    shown["maintainer_email"] = "dades@example.org"
    shown["tags"] = [{"name": "noise"}]
    shown["resources"].append({"url": "https://example.org/b.json", "format": "JSON", "name": "B"})
    updated = ok(call(client, "package_update", shown, who="editor", world=world))
    assert updated["title"] == "Nou títol" and updated["title_translated"]["en"] == "Air quality round"
    assert updated["maintainer"] == "Oficina de dades" and [t["name"] for t in updated["tags"]] == ["noise"]
    assert [r["format"] for r in updated["resources"]] == ["CSV", "JSON"]
    assert updated["resources"][0]["id"] == shown["resources"][0]["id"], "resources matched by id are kept"

    patched = ok(call(client, "package_patch", {"id": "round", "notes": "Changed"}, who="editor", world=world))
    assert patched["notes"] == "Changed" and patched["title"] == "Nou títol" and patched["num_resources"] == 2
    patched = ok(
        call(
            client,
            "package_patch",
            {"id": "round", "title_translated": {"en": "Only English"}},
            who="editor",
            world=world,
        )
    )
    assert patched["title"] == "Only English" and patched["title_translated"]["ca"] == ""
    patched = ok(call(client, "package_patch", {"id": "round", "private": True}, who="editor", world=world))
    assert patched["private"] is True
    again = ok(
        call(client, "package_update", {"id": "round", "name": "round", "title": "T"}, who="editor", world=world)
    )
    assert again["private"] is True, "an update that omits private keeps it"
    assert again["num_resources"] == 2, "an update that omits resources keeps them"


def test_input_errors_name_ckan_fields(client, world, engine_kind):
    h = {"who": "editor", "world": world}
    ok(call(client, "package_create", package("dup"), **h))
    r = call(client, "package_create", package("dup"), **h)
    assert r.status_code == 409 and r.json()["error"]["name"] == ["That URL is already in use."]
    r = call(client, "package_create", package("t1", tags="air"), **h)
    assert r.status_code == 409 and "tags" in r.json()["error"]
    r = call(client, "package_create", package("t2", owner_org="nowhere"), **h)
    assert r.status_code == 409 and "owner_org" in r.json()["error"]
    r = call(client, "package_patch", {"id": "dup", "owner_org": "nowhere"}, **h)
    assert r.status_code == 409 and "owner_org" in r.json()["error"], "a patch never falls back to the old org"
    r = call(client, "package_create", package("t3", owner_org=None), **h)
    assert r.status_code == 409 and "owner_org" in r.json()["error"]
    r = call(client, "package_create", package("t4", license_id="nope"), **h)
    assert r.status_code == 409 and "license_id" in r.json()["error"]
    r = call(client, "package_create", package("t5", extras=[{"key": "theme", "value": '["XXX"]'}]), **h)
    assert r.status_code == 409 and "theme" in r.json()["error"]
    r = call(client, "package_create", package("t6", resources=[{"url": "not a url"}]), **h)
    assert r.status_code == 409 and r.json()["error"]["resources"] == [{"url": ["must be an http(s) URL"]}]
    r = call(client, "package_create", package("t7", private="maybe"), **h)
    assert r.status_code == 409 and "private" in r.json()["error"]
    r = call(client, "package_create", package("t8", maintainer_email="nope"), **h)
    assert r.status_code == 409 and "maintainer_email" in r.json()["error"]
    r = call(client, "package_search", {"rows": "many"})
    assert r.status_code == 409 and r.json()["error"]["rows"] == ["Invalid integer"]
    r = call(client, "package_create", package("t9", organization={"x": 1}, unknown_key=[1, 2]), **h)
    assert r.status_code == 200, "unknown and read-only keys are ignored"
    r = call(client, "package_create", package("other", owner_org="mobility"), **h)
    assert r.status_code == 403
    assert call(client, "package_search", {"q": "t1 OR t2"}).status_code == 400


def test_private_datasets(client, world, engine_kind):
    ok(call(client, "package_create", package("secret", private=True), who="editor", world=world))
    ok(call(client, "package_create", package("open"), who="editor", world=world))
    for who in (None, "outsider", "member_b"):
        r = call(client, "package_show", {"id": "secret"}, who=who, world=world, method="GET")
        assert r.status_code == 404
        found = ok(call(client, "package_search", {"include_private": "true"}, who=who, world=world))
        assert [p["name"] for p in found["results"]] == ["open"]
    assert ok(call(client, "package_list")) == ["open"]
    assert ok(call(client, "package_show", {"id": "secret"}, who="editor", world=world))["private"] is True
    found = ok(call(client, "package_search", {"include_private": True}, who="editor", world=world))
    assert found["count"] == 2
    assert ok(call(client, "package_search", {}, who="editor", world=world))["count"] == 1, "default: public only"
    found = ok(
        call(client, "package_search", {"fq": "capacity:private", "include_private": True}, who="admin", world=world)
    )
    assert [p["name"] for p in found["results"]] == ["secret"]


def test_search_subset_facets_and_sort(client, world, engine_kind):
    h = {"who": "editor", "world": world}
    ok(call(client, "group_create", {"name": "health", "title": "Salut"}, who="admin", world=world))
    ok(call(client, "package_create", package("alpha", groups=[{"name": "health"}]), **h))
    ok(call(client, "package_create", package("beta", tags=[{"name": "noise"}], license_id="cc-zero"), **h))
    gamma = package("gamma", resources=[{"url": "https://example.org/g.json", "format": "JSON"}])
    ok(call(client, "package_create", gamma, **h))

    def search(**params):
        return ok(client.get("/api/3/action/package_search", params=params))

    assert search()["count"] == 3
    assert search(q="*:*")["count"] == 3
    assert [p["name"] for p in search(q="alpha")["results"]] == ["alpha"]
    assert search(fq='tags:"air quality"')["count"] == 2
    assert {p["name"] for p in search(fq="-tags:noise")["results"]} == {"alpha", "gamma"}
    assert {p["name"] for p in search(q="tags:(noise OR air) -name:gamma")["results"]} == {"alpha", "beta"}
    assert search(fq="+organization:environment +res_format:JSON")["count"] == 1
    assert search(fq="groups:health")["count"] == 1
    assert search(fq="license_id:cc-zero OR license_id:cc-by-4.0")["count"] == 3
    assert search(fq="metadata_modified:[2000-01-01T00:00:00Z TO *]")["count"] == 3
    assert search(fq="metadata_modified:[NOW-1DAY TO NOW+1DAY]")["count"] == 3
    assert search(fq="metadata_modified:[* TO 2000-01-01T00:00:00Z]")["count"] == 0
    owner = search(q="alpha")["results"][0]["owner_org"]
    assert search(fq=f'owner_org:"{owner}"')["count"] == 3
    body = client.post(
        "/api/3/action/package_search", json={"fq_list": ["tags:air", "-name:beta"], "rows": 1, "sort": "name asc"}
    ).json()["result"]
    assert body["count"] == 2 and [p["name"] for p in body["results"]] == ["alpha"] and body["sort"] == "name asc"

    assert [p["name"] for p in search(sort="name desc")["results"]] == ["gamma", "beta", "alpha"]
    assert [p["name"] for p in search(sort="title_string asc")["results"]] == ["alpha", "beta", "gamma"]
    assert search(sort="metadata_modified desc")["results"][0]["name"] == "gamma"
    assert search()["sort"] == "score desc, metadata_modified desc"
    by_id = [p["name"] for p in search(sort="id asc")["results"]]
    assert [p["name"] for p in search(rows=2, start=1, sort="id asc")["results"]] == by_id[1:3]

    facets = search(**{"facet.field": '["organization","tags","res_format","license_id","groups","theme"]', "rows": 0})
    assert facets["results"] == []
    assert facets["facets"]["tags"] == {"air": 2, "air quality": 2, "noise": 1}
    assert facets["facets"]["res_format"] == {"CSV": 2, "JSON": 1}
    assert facets["search_facets"]["organization"] == {
        "title": "organization",
        "items": [{"name": "environment", "display_name": "Environment Department", "count": 3}],
    }
    assert [i["name"] for i in facets["search_facets"]["tags"]["items"]] == ["noise", "air quality", "air"]
    assert facets["search_facets"]["groups"]["items"][0]["display_name"] == "Salut"
    limited = search(**{"facet.field": '["tags"]', "facet.limit": 1})
    assert limited["facets"]["tags"] == {"air": 2}
    assert search(**{"facet.field": '["tags"]', "facet": "false"})["facets"] == {}
    assert client.get("/api/3/action/package_search", params={"facet.field": '["nope"]'}).status_code == 400
    assert client.get("/api/3/action/package_search", params={"bogus": "1"}).status_code == 400
    alpha = search(q="alpha")["results"][0]
    assert search(fl="id,name", q="alpha")["results"] == [{"id": alpha["id"], "name": "alpha"}]


def test_resources(client, world, engine_kind):
    h = {"who": "editor", "world": world}
    ds = ok(call(client, "package_create", package("res", resources=[]), **h))
    res = ok(
        call(client, "resource_create", {"package_id": "res", "url": "https://example.org/x.csv", "name": "X"}, **h)
    )
    assert res["package_id"] == ds["id"] and res["format"] == "CSV" and res["name"] == "X"
    r = client.post(
        "/api/action/resource_create",
        data={"package_id": "res", "name": "Uploaded", "description": "A file"},
        files={"upload": ("data.csv", b"a,b\n1,2\n", "text/csv")},
        headers=world.auth("editor"),
    )
    up = ok(r)
    assert up["url_type"] == "upload" and up["size"] == 8 and up["url"].endswith("/download/data.csv")
    assert up["hash"].startswith("sha256:") and up["name"] == "Uploaded" and up["position"] == 1

    assert ok(call(client, "resource_show", {"id": res["id"]}, method="GET")) == res
    patched = ok(call(client, "resource_patch", {"id": res["id"], "description": "D", "custom": "v"}, **h))
    assert patched["description"] == "D" and patched["name"] == "X" and patched["custom"] == "v"
    shown = ok(call(client, "resource_show", {"id": res["id"]}))
    shown["name"] = "Renamed"
    updated = ok(call(client, "resource_update", shown, **h))
    assert updated["name"] == "Renamed" and updated["custom"] == "v" and updated["description"] == "D"
    updated = ok(call(client, "resource_update", {"id": res["id"], "url": "https://example.org/y.json"}, **h))
    assert updated["format"] == "JSON" and updated["description"] == "" and "custom" not in updated
    r = call(client, "resource_patch", {"id": res["id"], "size": "big"}, **h)
    assert r.status_code == 409 and r.json()["error"]["size"] == ["Invalid integer"]
    r = call(client, "resource_create", {"package_id": "res", "url": "https://example.org/data", "format": "NOPE"}, **h)
    assert r.status_code == 409 and "format" in r.json()["error"]
    r = call(client, "resource_create", {"package_id": "res", "name": {"not": "text"}}, **h)
    assert r.status_code == 409 and r.json()["error"]["name"] == ["Must be a string"]
    assert ok(call(client, "resource_view_list", {"id": res["id"]}, method="GET")) == []
    assert call(client, "resource_delete", {"id": res["id"]}).status_code == 403
    assert ok(call(client, "resource_delete", {"id": res["id"]}, **h)) is None
    assert call(client, "resource_show", {"id": res["id"]}).status_code == 404
    assert ok(call(client, "package_show", {"id": "res"}))["num_resources"] == 1


def test_organizations_groups_and_lists(client, world, engine_kind):
    orgs = ok(call(client, "organization_list", method="GET"))
    assert orgs == ["environment", "mobility"]
    full = ok(call(client, "organization_list", {"all_fields": "true", "limit": 1}, method="GET"))
    assert len(full) == 1 and full[0]["name"] == "environment" and full[0]["package_count"] == 0
    assert ok(call(client, "organization_list", {"sort": "name desc"}))[0] == "mobility"
    r = call(client, "organization_create", {"name": "culture", "title": "Cultura"}, who="editor", world=world)
    assert r.status_code == 403
    org = ok(call(client, "organization_create", {"name": "culture", "title": "Cultura"}, who="admin", world=world))
    assert org["title"] == "Cultura" and org["is_organization"] is True and org["display_name"] == "Cultura"
    org = ok(call(client, "organization_patch", {"id": "culture", "description": "Museus"}, who="admin", world=world))
    assert org["description"] == "Museus" and org["title"] == "Cultura"
    org = ok(call(client, "organization_update", {"id": "culture", "title": "Culture"}, who="admin", world=world))
    assert org["description"] == "" and org["title"] == "Culture"
    r = call(client, "organization_create", {"name": "culture", "title": "X"}, who="admin", world=world)
    assert r.status_code == 409 and "name" in r.json()["error"]

    ok(call(client, "package_create", package("in-org"), who="editor", world=world))
    shown = ok(call(client, "organization_show", {"id": "environment", "include_datasets": "true"}, method="GET"))
    assert shown["package_count"] == 1 and [p["name"] for p in shown["packages"]] == ["in-org"]
    assert call(client, "organization_show", {"id": "nope"}).status_code == 404

    group = ok(call(client, "group_create", {"name": "maps", "title": "Mapes"}, who="admin", world=world))
    assert group["type"] == "group" and group["is_organization"] is False
    ok(call(client, "package_patch", {"id": "in-org", "groups": [{"name": "maps"}]}, who="editor", world=world))
    assert ok(call(client, "group_list")) == ["maps"]
    shown = ok(call(client, "group_show", {"id": "maps", "include_datasets": True}))
    assert shown["package_count"] == 1 and shown["packages"][0]["groups"][0]["name"] == "maps"
    assert (
        ok(call(client, "group_update", {"id": "maps", "title": "Maps"}, who="admin", world=world))["title"] == "Maps"
    )

    assert ok(call(client, "tag_list")) == ["air", "air quality"]
    assert ok(call(client, "tag_list", {"query": "qual", "all_fields": True}))[0]["name"] == "air quality"
    licences = ok(call(client, "license_list"))
    assert {"id", "title", "url"} <= set(licences[0])
    recent = ok(call(client, "current_package_list_with_resources", {"limit": 5}))
    assert [p["name"] for p in recent] == ["in-org"] and recent[0]["resources"]
    me = ok(call(client, "user_show", {}, who="editor", world=world))
    assert me["name"] == "editor" and me["email"] == "editor@example.org"
    assert "email" not in ok(call(client, "user_show", {"id": "editor"}))
    assert ok(call(client, "package_delete", {"id": "in-org"}, who="editor", world=world)) is None
    assert call(client, "package_show", {"id": "in-org"}).status_code == 404


def test_form_posts_and_get_lists(client, world):
    ok(call(client, "package_create", package("formy"), who="editor", world=world))
    r = client.post("/api/3/action/package_show", data={"id": "formy"})
    assert ok(r)["name"] == "formy"
    r = client.post("/api/3/action/package_show", data={'{"id": "formy"}': ""})
    assert ok(r)["name"] == "formy", "a JSON document posted as the only form key"
    r = client.get("/api/3/action/package_search", params=[("fq_list", "tags:air"), ("fq_list", "name:formy")])
    assert ok(r)["count"] == 1
    r = client.post("/api/3/action/package_show", json=["not", "a", "dict"])
    assert r.status_code == 400 and "dictionary" in r.json()
    assert client.get("/api/3").json() == {"version": 3}


def test_error_renderer_the_app_can_register(app, client):
    from citycommons.ckan.api import render_error

    app.state.ckan_error_renderer = render_error
    r = client.put("/api/3/action/package_show")
    assert r.status_code == 405 and r.json()["success"] is False
    assert r.json()["help"].endswith("name=package_show")


def test_update_without_access_rights_keeps_them(client, world):
    restricted = package("restricted", extras=[{"key": "access_rights", "value": "RESTRICTED"}])
    shown = ok(call(client, "package_create", restricted, who="editor", world=world))
    assert {"key": "access_rights", "value": ACCESS_RESTRICTED} in shown["extras"]
    updated = ok(call(client, "package_update", {"id": "restricted", "title": "T"}, who="editor", world=world))
    assert {"key": "access_rights", "value": ACCESS_RESTRICTED} in updated["extras"]
    assert updated["license_id"] == "notspecified", "an omitted licence is not silently CC-BY"
