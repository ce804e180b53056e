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
