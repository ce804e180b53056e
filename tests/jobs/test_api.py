"""Who sees job status: the dataset's readers; a private dataset's jobs are invisible (404) to outsiders."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import dataset_payload
from tests.jobs.helpers import SMALL_CSV, job_settings, wait_for_job


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    return job_settings(request, tmp_path)


def _upload(client, world, name: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    h = world.auth("editor")
    assert client.post("/api/v1/datasets", json=dataset_payload(name, distributions=[], **extra), headers=h).is_success
    r = client.post(
        f"/api/v1/datasets/{name}/distributions/upload", files={"file": ("d.csv", SMALL_CSV, "text/csv")}, headers=h
    )
    assert r.status_code == 201, r.text
    dist = r.json()
    assert wait_for_job(client, dist["ingest"]["id"], h)["status"] == "succeeded"
    return dist


def test_private_dataset_jobs_are_invisible_to_outsiders(client, world):
    dist = _upload(client, world, "secret", private=True)
    job_id, dist_id = dist["ingest"]["id"], dist["id"]
    urls = [f"/api/v1/jobs/{job_id}", f"/api/v1/distributions/{dist_id}/jobs"]
    for who in (None, "outsider", "member_b"):
        headers = world.auth(who) if who else {}
        for url in urls:
            r = client.get(url, headers=headers)
            assert r.status_code == 404, (who, url, r.text)
            assert job_id not in r.text
        assert client.get(f"/dataset/secret/resource/{dist_id}/ingest", headers=headers).status_code == 404
        assert client.post(f"/api/v1/distributions/{dist_id}/ingest", headers=headers).status_code == 404
    for who in ("editor", "admin"):
        job = client.get(urls[0], headers=world.auth(who)).json()
        assert job["id"] == job_id and job["requested_by"] == world.editor_id
        assert client.get(urls[1], headers=world.auth(who)).json()[0]["id"] == job_id
        assert client.get(f"/dataset/secret/resource/{dist_id}/ingest", headers=world.auth(who)).status_code == 200
    assert client.get("/api/v1/jobs/not-a-job").status_code == 404


def test_public_dataset_jobs_are_readable_but_only_editors_ingest_again(client, world):
    dist = _upload(client, world, "open")
    job_id, dist_id = dist["ingest"]["id"], dist["id"]
    for who in (None, "outsider", "member_b"):
        headers = world.auth(who) if who else {}
        job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        assert job["status"] == "succeeded" and job["requested_by"] is None  # who asked: editors only
        assert client.get(f"/dataset/open/resource/{dist_id}/ingest", headers=headers).status_code == 200
        r = client.post(f"/api/v1/distributions/{dist_id}/ingest", headers=headers)
        assert r.status_code == 403, r.text
    page = client.get(f"/dataset/open/resource/{dist_id}/ingest?lang=en").text
    assert "Ingest again" not in page
    r = client.post(f"/api/v1/distributions/{dist_id}/ingest", headers=world.auth("editor"))
    assert r.status_code == 202 and r.json()["status"] == "queued"
    again = wait_for_job(client, r.json()["id"], world.auth("editor"))
    assert again["status"] == "succeeded" and again["version"] == 2
    other = client.post(
        "/api/v1/datasets", json=dataset_payload("other", distributions=[]), headers=world.auth("editor")
    )
    assert other.status_code == 201
    assert client.get(f"/dataset/other/resource/{dist_id}/ingest").status_code == 404  # not that dataset's


def test_the_job_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/jobs/{job_id}" in paths and "/api/v1/distributions/{distribution_id}/jobs" in paths
    assert "post" in paths["/api/v1/distributions/{distribution_id}/ingest"]


def test_the_status_page_refreshes_itself_while_the_job_waits_or_runs(app, world, settings):
    from fastapi.testclient import TestClient
    from sqlalchemy import update

    from citycommons.jobs import service
    from citycommons.jobs.models import Job

    client = TestClient(app, base_url="http://127.0.0.1:8000")  # no lifespan: no worker runs the job
    h = world.auth("editor")
    assert client.post("/api/v1/datasets", json=dataset_payload("slow", distributions=[]), headers=h).is_success
    dist = client.post(
        "/api/v1/datasets/slow/distributions/upload", files={"file": ("d.csv", SMALL_CSV)}, headers=h
    ).json()
    url = f"/dataset/slow/resource/{dist['id']}/ingest?lang=en"
    queued = client.get(url)
    assert queued.headers["cache-control"] == "no-store"
    html = queued.text
    assert '<meta http-equiv="refresh" content="2">' in html and "Waiting for a worker" in html
    assert '<progress id="ingest-progress" max="100">' in html and "no queryable table yet" in html

    factory = app.state.sessionmaker
    assert service.claim(factory=factory, job_id=dist["ingest"]["id"])
    with factory() as session, session.begin():
        session.execute(update(Job).values(stage="reading", progress_done=30, progress_total=40))
    html = client.get(url).text
    assert 'http-equiv="refresh"' in html and "Reading the file" in html and 'value="75"' in html
    assert "En curso" in client.get(url.replace("lang=en", "lang=es")).text
    done = service.run_claimed(settings=settings, factory=factory, job_id=dist["ingest"]["id"])
    assert done.status == "succeeded"
    html = client.get(url).text
    assert 'http-equiv="refresh"' not in html and 'value="100"' in html and "can be queried" in html
