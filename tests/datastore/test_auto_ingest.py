"""Every front door ingests a tabular distribution automatically (in-process worker), end to end over HTTP:
native upload, CKAN resource_create/resource_update (upload and URL), the web form. A failed ingest keeps the
previous version served."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citycommons.datastore.config import from_settings
from citycommons.datastore.query import search
from citycommons.datastore.versions import list_versions
from tests.factories import dataset_payload
from tests.jobs.helpers import SMALL_CSV, STATIONS, TREES, file_server, job_settings, wait_for_job
from tests.test_web_pages import csrf_of, sign_in


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    return job_settings(request, tmp_path, datastore_url_allowed_hosts=["127.0.0.1"])


def _dataset(client, world, name: str = "air", **extra) -> dict:  # type: ignore[no-untyped-def]
    payload = dataset_payload(name, distributions=[], **extra)
    r = client.post("/api/v1/datasets", json=payload, headers=world.auth("editor"))
    assert r.status_code == 201, r.text
    return r.json()


def _ckan(client, action: str, headers: dict[str, str], **kw):  # type: ignore[no-untyped-def]
    r = client.post(f"/api/3/action/{action}", headers=headers, **kw)
    assert r.status_code == 200, r.text
    return r.json()["result"]


def test_native_upload_is_ingested_and_queryable(client, world, settings, engine_kind):
    _dataset(client, world)
    h = world.auth("editor")
    r = client.post(
        "/api/v1/datasets/air/distributions/upload",
        files={"file": ("stations.csv", STATIONS.read_bytes(), "text/csv")},
        data={"metadata": json.dumps({"title": {"en": "Stations"}})},
        headers=h,
    )
    assert r.status_code == 201, r.text
    dist = r.json()
    assert dist["datastore_active"] is False and dist["ingest"]["status"] == "queued"
    job = wait_for_job(client, dist["ingest"]["id"], h)
    assert job["status"] == "succeeded", job
    assert job["version"] == 1 and job["result"]["rows"] == 55 and len(job["result"]["columns"]) == 15
    assert {"name": "Estacio", "type": "integer"} in job["result"]["columns"]
    assert job["target"] == dist["id"] and job["requested_by"] == world.editor_id
    assert job["progress_total"] == STATIONS.stat().st_size and job["progress_done"] == job["progress_total"]
    shown = client.get(f"/api/v1/distributions/{dist['id']}").json()
    assert shown["datastore_active"] is True and shown["ingest"]["id"] == job["id"]
    assert shown["ingest"]["status"] == "succeeded" and shown["ingest"]["version"] == 1
    in_dataset = client.get("/api/v1/datasets/air").json()["distributions"][0]
    assert in_dataset["datastore_active"] is True
    result = search(config=from_settings(settings), table_id=dist["id"], filters={"Estacio": 4}, include_total=True)
    assert result.total and result.total > 0 and all(row["Estacio"] == 4 for row in result.records)
    jobs = client.get(f"/api/v1/distributions/{dist['id']}/jobs", headers=h).json()
    assert [j["id"] for j in jobs] == [job["id"]]


def test_ckan_upload_url_and_update_are_ingested(client, world, settings, tmp_path):
    _dataset(client, world)
    h = world.auth("editor")
    uploaded = _ckan(
        client, "resource_create", h,
        data={"package_id": "air", "name": "Trees"},
        files={"upload": ("arbolado.csv", TREES.read_bytes(), "text/csv")},
    )  # fmt: skip
    assert uploaded["datastore_active"] is False
    served = tmp_path / "served"
    served.mkdir()
    (served / "small.csv").write_bytes(SMALL_CSV)
    with file_server(served) as base:
        linked = _ckan(
            client, "resource_create", h,
            json={"package_id": "air", "name": "Small", "url": f"{base}/small.csv", "format": "CSV"},
        )  # fmt: skip
        jobs = {
            rid: client.get(f"/api/v1/distributions/{rid}/jobs", headers=h).json()[0]["id"]
            for rid in (uploaded["id"], linked["id"])
        }
        finished = {rid: wait_for_job(client, job_id, h) for rid, job_id in jobs.items()}
    assert finished[uploaded["id"]]["status"] == "succeeded", finished
    assert finished[uploaded["id"]]["result"]["rows"] == 260
    assert finished[linked["id"]]["status"] == "succeeded" and finished[linked["id"]]["result"]["rows"] == 3
    shown = _ckan(client, "resource_show", {}, json={"id": linked["id"]})
    assert shown["datastore_active"] is True
    package = _ckan(client, "package_show", {}, json={"id": "air"})
    assert [r["datastore_active"] for r in package["resources"]] == [True, True]
    rows = search(config=from_settings(settings), table_id=linked["id"], sort="value desc").records
    assert [r["district"] for r in rows] == ["Horta", "Sants", "Gracia"]

    updated = _ckan(
        client, "resource_update", h,
        data={"id": uploaded["id"], "name": "Small now"},
        files={"upload": ("small.csv", SMALL_CSV, "text/csv")},
    )  # fmt: skip
    job = client.get(f"/api/v1/distributions/{updated['id']}/jobs", headers=h).json()[0]
    done = wait_for_job(client, job["id"], h)
    assert done["status"] == "succeeded" and done["version"] == 2 and done["result"]["rows"] == 3
    assert list_versions(config=from_settings(settings), table_id=uploaded["id"]) == [1, 2]


def test_failed_ingest_keeps_the_previous_version(client, world, settings):
    _dataset(client, world)
    h = world.auth("editor")
    first = client.post(
        "/api/v1/datasets/air/distributions/upload", files={"file": ("v.csv", SMALL_CSV, "text/csv")}, headers=h
    ).json()
    assert wait_for_job(client, first["ingest"]["id"], h)["status"] == "succeeded"
    r = client.patch(f"/api/v1/distributions/{first['id']}", json={"format": "CSV"}, headers=h)
    assert r.json()["ingest"]["id"] == first["ingest"]["id"]  # nothing the ingest reads changed: no new job
    broken = _ckan(
        client, "resource_update", h,
        data={"id": first["id"]},
        files={"upload": ("v.csv", b"\x00\x01\x02\x03 binary junk \xff\xfe\x00" * 50, "text/csv")},
    )  # fmt: skip
    job = client.get(f"/api/v1/distributions/{broken['id']}/jobs", headers=h).json()[0]
    failed = wait_for_job(client, job["id"], h)
    assert failed["status"] == "failed" and failed["version"] is None
    assert failed["message"] and "file" in failed["error_fields"], failed
    assert failed["message"] == failed["message"].strip() and "Internal error" not in failed["message"]
    shown = client.get(f"/api/v1/distributions/{first['id']}").json()
    assert shown["datastore_active"] is True and shown["ingest"]["status"] == "failed"
    config = from_settings(settings)
    assert list_versions(config=config, table_id=first["id"]) == [1]
    assert len(search(config=config, table_id=first["id"]).records) == 3
    page = client.get(f"/dataset/air/resource/{first['id']}/ingest?lang=en").text
    assert "The ingest failed" in page and "still the one served" in page


def test_web_form_upload_is_ingested_and_the_status_page_shows_it(client, world, settings):
    _dataset(client, world)
    sign_in(client, "editor")
    form = client.get("/dataset/air/resource/new")
    r = client.post(
        "/dataset/air/resource/new",
        data={"csrf_token": csrf_of(form.text), "title_en": "Stations", "format": ""},
        files={"upload": ("stations.csv", STATIONS.read_bytes(), "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    dist = client.get("/api/v1/datasets/air").json()["distributions"][0]
    job = client.get(f"/api/v1/distributions/{dist['id']}/jobs").json()[0]
    assert wait_for_job(client, job["id"])["status"] == "succeeded"
    page = client.get(f"/dataset/air/resource/{dist['id']}/ingest?lang=en")
    assert page.status_code == 200
    html = page.text
    assert 'http-equiv="refresh"' not in html and '<progress id="ingest-progress" max="100" value="100">' in html
    assert "Succeeded" in html and "Estacio" in html and "integer" in html and "Ingest again" in html
    preview = f"/dataset/air/resource/{dist['id']}/data"
    assert f'href="{preview}"' in html and client.get(preview).status_code == 200
    assert client.get(f"/dataset/air/resource/{dist['id']}/ingest?lang=ca").text.count("Ha acabat bé") >= 1
    again = client.post(
        f"/dataset/air/resource/{dist['id']}/ingest", data={"csrf_token": csrf_of(html)}, follow_redirects=False
    )
    assert again.status_code == 303
    running = client.get(f"/dataset/air/resource/{dist['id']}/ingest?lang=en").text
    newest = client.get(f"/api/v1/distributions/{dist['id']}/jobs").json()[0]
    if newest["status"] in ("queued", "running"):
        assert 'http-equiv="refresh"' in running and "<progress" in running
    assert wait_for_job(client, newest["id"])["version"] == 2


def test_what_is_not_ingested(client, world, settings, tmp_path):
    _dataset(client, world)
    h = world.auth("editor")
    pdf = client.post(
        "/api/v1/datasets/air/distributions/upload",
        files={"file": ("report.pdf", b"%PDF-1.4 not a table", "application/pdf")},
        headers=h,
    ).json()
    assert pdf["ingest"] is None and pdf["datastore_active"] is False
    elsewhere = client.post(
        "/api/v1/datasets/air/distributions",
        json={"url": "https://example.org/data.csv", "format": "CSV"},
        headers=h,
    ).json()
    assert elsewhere["ingest"] is None  # example.org is not on datastore_url_allowed_hosts
    r = client.post(f"/api/v1/distributions/{elsewhere['id']}/ingest", headers=h)
    assert r.status_code == 422 and "distribution" in r.json()["error"]["fields"]


def test_url_redirect_off_the_allowed_hosts_fails(client, world, settings, tmp_path):
    _dataset(client, world)
    h = world.auth("editor")
    with file_server(tmp_path, redirects={"/moved.csv": "http://example.org/elsewhere.csv"}) as base:
        dist = client.post(
            "/api/v1/datasets/air/distributions", json={"url": f"{base}/moved.csv", "format": "CSV"}, headers=h
        ).json()
        job = wait_for_job(client, dist["ingest"]["id"], h)
        missing = client.post(
            "/api/v1/datasets/air/distributions", json={"url": f"{base}/missing.csv"}, headers=h
        ).json()
        gone = wait_for_job(client, missing["ingest"]["id"], h)
    assert job["status"] == "failed" and job["error_fields"] == {
        "url": ["example.org is not a host the datastore downloads from"]
    }
    assert gone["status"] == "failed" and gone["error_fields"] == {"url": ["the server answered 404 File not found"]}
    assert not any((settings.data_dir / "tmp").iterdir())


# --- dataset-level writes: distributions given inline with their dataset --------------------------------------


def _job_of(client, rid: str, headers: dict[str, str]) -> dict | None:  # type: ignore[no-untyped-def]
    jobs = client.get(f"/api/v1/distributions/{rid}/jobs", headers=headers).json()
    return jobs[0] if jobs else None


def test_ckan_package_create_and_update_with_resources_are_ingested(client, world, settings, tmp_path):
    h = world.auth("editor")
    served = tmp_path / "served"
    served.mkdir()
    (served / "small.csv").write_bytes(SMALL_CSV)
    (served / "stations.csv").write_bytes(STATIONS.read_bytes())
    with file_server(served) as base:
        created = _ckan(client, "package_create", h, json={
            "name": "inline", "title": "Inline", "owner_org": "environment", "license_id": "cc-by-4.0",
            "resources": [{"name": "Small", "url": f"{base}/small.csv", "format": "CSV"},
                          {"name": "Elsewhere", "url": "https://example.org/x.csv", "format": "CSV"}],
        })  # fmt: skip
        small, elsewhere = created["resources"]
        assert small["datastore_active"] is False
        first = _job_of(client, small["id"], h)
        assert first is not None and _job_of(client, elsewhere["id"], h) is None  # example.org is not allowed
        assert wait_for_job(client, first["id"], h)["status"] == "succeeded"
        shown = _ckan(client, "package_show", {}, json={"id": "inline"})
        assert [r["datastore_active"] for r in shown["resources"]] == [True, False]
        rows = search(config=from_settings(settings), table_id=small["id"], sort="value desc").records
        assert [r["district"] for r in rows] == ["Horta", "Sants", "Gracia"]

        # package_patch (-> package_update): the unchanged resource is not ingested again, a new one is
        resources = [*shown["resources"], {"name": "Stations", "url": f"{base}/stations.csv", "format": "CSV"}]
        patched = _ckan(client, "package_patch", h, json={"id": "inline", "resources": resources})
        assert _job_of(client, small["id"], h)["id"] == first["id"]  # type: ignore[index]
        added = patched["resources"][2]
        job = _job_of(client, added["id"], h)
        assert job is not None and wait_for_job(client, job["id"], h)["result"]["rows"] == 55

        # package_update pointing the first resource at another URL re-ingests it
        resources = [{**patched["resources"][0], "url": f"{base}/stations.csv"}, *patched["resources"][1:]]
        _ckan(client, "package_update", h, json={**shown, "resources": resources})
        again = _job_of(client, small["id"], h)
        assert again is not None and again["id"] != first["id"]
        done = wait_for_job(client, again["id"], h)
        assert done["version"] == 2 and done["result"]["rows"] == 55


def test_native_dataset_post_and_put_ingest_their_distributions(client, world, settings, tmp_path):
    h = world.auth("editor")
    (tmp_path / "small.csv").write_bytes(SMALL_CSV)
    with file_server(tmp_path) as base:
        link = {"title": {"en": "Small"}, "url": f"{base}/small.csv", "format": "CSV"}
        r = client.post("/api/v1/datasets", json=dataset_payload("native", distributions=[link]), headers=h)
        assert r.status_code == 201, r.text
        dist = r.json()["distributions"][0]
        job = _job_of(client, dist["id"], h)
        assert job is not None and wait_for_job(client, job["id"], h)["status"] == "succeeded"
        assert client.get(f"/api/v1/distributions/{dist['id']}").json()["datastore_active"] is True
        put = dataset_payload("native", distributions=[{"id": dist["id"], **link}, {**link, "title": {"en": "Two"}}])
        r = client.put("/api/v1/datasets/native", json=put, headers=h)
        assert r.status_code == 200, r.text
        kept, added = r.json()["distributions"]
        assert kept["id"] == dist["id"] and _job_of(client, kept["id"], h)["id"] == job["id"]  # type: ignore[index]
        new_job = _job_of(client, added["id"], h)
        assert new_job is not None and wait_for_job(client, new_job["id"], h)["status"] == "succeeded"


def test_datastore_create_tables_are_never_ingested(client, world, settings):
    """A table made by CKAN datastore_create has a URL on the portal itself (127.0.0.1 is an allowed host here)."""
    _dataset(client, world)
    h = world.auth("editor")
    created = _ckan(client, "datastore_create", h, json={
        "resource": {"package_id": "air", "name": "Counts", "format": "CSV"},
        "fields": [{"id": "k", "type": "int"}], "records": [{"k": 1}, {"k": 2}],
    })  # fmt: skip
    rid = created["resource_id"]
    resource = _ckan(client, "resource_show", {}, json={"id": rid})
    assert resource["url_type"] == "datastore" and resource["datastore_active"] is True
    assert resource["url"].startswith("http://127.0.0.1:8000/")
    _ckan(client, "resource_patch", h, json={"id": rid, "name": "Counts, renamed", "format": "CSV"})
    _ckan(client, "resource_patch", h, json={"id": rid, "url": f"{resource['url']}?limit=10"})  # a new URL
    _ckan(client, "package_patch", h, json={"id": "air", "title": "Air, renamed"})
    assert _job_of(client, rid, h) is None
    r = client.post(f"/api/v1/distributions/{rid}/ingest", headers=h)
    assert r.status_code == 422 and "nothing to ingest" in r.json()["error"]["message"]
    assert _ckan(client, "datastore_search", {}, json={"resource_id": rid})["total"] == 2


# --- the web resource form follows the ingest it started ------------------------------------------------------


def test_web_resource_form_redirects_to_the_ingest_status_when_one_was_scheduled(client, world, settings):
    _dataset(client, world)
    sign_in(client, "editor")
    token = csrf_of(client.get("/dataset/air/resource/new").text)
    r = client.post(
        "/dataset/air/resource/new",
        data={"csrf_token": token, "title_en": "Stations", "format": ""},
        files={"upload": ("stations.csv", STATIONS.read_bytes(), "text/csv")},
        follow_redirects=False,
    )
    dist = client.get("/api/v1/datasets/air").json()["distributions"][0]
    assert r.status_code == 303 and r.headers["location"] == f"/dataset/air/resource/{dist['id']}/ingest"
    job = client.get(f"/api/v1/distributions/{dist['id']}/jobs").json()[0]
    assert wait_for_job(client, job["id"])["status"] == "succeeded"
    assert "The resource was added." in client.get(r.headers["location"], params={"lang": "en"}).text

    # a PDF is not ingested: back to the dataset page, as before
    r = client.post(
        "/dataset/air/resource/new",
        data={"csrf_token": token, "title_en": "Report", "format": ""},
        files={"upload": ("report.pdf", b"%PDF-1.4 not a table", "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/dataset/air#resources"

    # editing: a metadata-only change goes back to the dataset, a new file to its ingest
    edit = f"/dataset/air/resource/{dist['id']}/edit"
    token = csrf_of(client.get(edit).text)
    r = client.post(edit, data={"csrf_token": token, "title_en": "Stations 2024", "format": "CSV"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/dataset/air#resources"
    r = client.post(
        edit,
        data={"csrf_token": token, "title_en": "Stations 2025", "format": "CSV"},
        files={"upload": ("small.csv", SMALL_CSV, "text/csv")},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/dataset/air/resource/{dist['id']}/ingest"
    newest = client.get(f"/api/v1/distributions/{dist['id']}/jobs").json()[0]
    assert newest["id"] != job["id"] and wait_for_job(client, newest["id"])["version"] == 2
