"""What the platform logs through ledger.record, end to end through its front doors: reads of non-open datasets (native
API, CKAN package_show and resource_show, the dataset page, file downloads; not listings), access-rights changes and
role grants (API and CLI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from citycommons.accounts import service as accounts
from citycommons.cli.main import app as cli_app
from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from citycommons.db.migrate import upgrade
from citycommons.ledger.models import LedgerEntry
from citycommons.ledger.service import pseudonym
from citycommons.settings import Settings
from tests import factories
from tests.factories import dataset_payload


def entries(sessionmaker, type: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    with sessionmaker() as s:
        rows = s.scalars(select(LedgerEntry.data).where(LedgerEntry.event_type == type).order_by(LedgerEntry.idx))
        return [json.loads(bytes(data)) for data in rows]


def user_id(sessionmaker, name: str) -> str:  # type: ignore[no-untyped-def]
    with sessionmaker() as s:
        return accounts.find_user_id(session=s, id_or_name=name)


@pytest.fixture
def restricted(client, world):  # type: ignore[no-untyped-def]
    """A RESTRICTED dataset of org A (metadata public, files for members) with an uploaded file; an open one."""
    h = world.auth("editor")
    r = client.post("/api/v1/datasets", json=dataset_payload("census", access_rights="RESTRICTED"), headers=h)
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/datasets/census/distributions/upload",
        files={"file": ("census.txt", b"district;people\n1;100\n", "text/plain")},
        data={"metadata": '{"title": {"en": "Census extract"}, "format": "TXT"}'},
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert client.post("/api/v1/datasets", json=dataset_payload("open-air"), headers=h).status_code == 201
    return r.json()


def test_member_reads_of_a_restricted_dataset_are_logged_with_a_pseudonym(
    client, world, restricted, sessionmaker, settings
):
    h = world.auth("editor")
    editor = pseudonym(settings.pseudonym_key, world.editor_id)
    assert client.get("/api/v1/datasets/census", headers=h).status_code == 200
    assert client.get("/api/3/action/package_show", params={"id": "census"}, headers=h).status_code == 200
    assert client.get("/dataset/census", headers=h).status_code == 200
    download = restricted["url"].replace(settings.site_url, "")
    r = client.get(download, headers=h)
    assert r.status_code == 200 and r.content.startswith(b"district;people")

    reads = entries(sessionmaker, "dataset.read")
    assert [e["details"]["channel"] for e in reads] == ["api", "api", "page", "download"]
    for entry in reads:
        assert entry["subjects"] == [editor]
        assert entry["objects"][:2] == [f"dataset:{restricted['dataset_id']}", f"organization:{world.org_a}"]
        assert entry["details"]["access_rights"] == "RESTRICTED" and entry["details"]["private"] is False
        text = json.dumps(entry)
        assert world.editor_id not in text and "editor@example.org" not in text and '"editor"' not in text
    assert reads[-1]["objects"][2] == f"distribution:{restricted['id']}"


def test_open_reads_and_refused_reads_are_not_logged(client, world, restricted, sessionmaker):
    assert client.get("/api/v1/datasets/open-air").status_code == 200
    assert client.get("/dataset/open-air").status_code == 200
    assert client.get("/api/3/action/package_show", params={"id": "open-air"}).status_code == 200
    download = restricted["url"].split("/dataset/", 1)[1]
    for who in (None, "outsider", "member_b"):  # not members of org A: the file is refused, nothing was read
        r = client.get(f"/dataset/{download}", headers=world.auth(who) if who else {})
        assert r.status_code == 403
    assert [e["details"]["channel"] for e in entries(sessionmaker, "dataset.read")] == []


def test_anonymous_read_of_restricted_metadata_is_logged_without_subject(client, restricted, sessionmaker):
    assert client.get("/api/v1/datasets/census").status_code == 200
    (entry,) = entries(sessionmaker, "dataset.read")
    assert entry["subjects"] == [] and entry["details"]["channel"] == "api"


def test_private_dataset_reads_by_members_only(client, world, sessionmaker, settings):
    h = world.auth("editor")
    client.post("/api/v1/datasets", json=dataset_payload("hidden", private=True), headers=h)
    for who in (None, "outsider", "member_b"):
        assert client.get("/api/v1/datasets/hidden", headers=world.auth(who) if who else {}).status_code == 404
    assert entries(sessionmaker, "dataset.read") == []
    assert client.get("/api/v1/datasets/hidden", headers=h).status_code == 200
    (entry,) = entries(sessionmaker, "dataset.read")
    assert entry["details"]["private"] is True
    assert entry["subjects"] == [pseudonym(settings.pseudonym_key, world.editor_id)]


def test_access_rights_changes_are_logged(client, world, sessionmaker, settings):
    h = world.auth("editor")
    client.post("/api/v1/datasets", json=dataset_payload("air"), headers=h)
    assert entries(sessionmaker, "dataset.access_rights_changed") == []  # born open: nothing to log
    client.patch("/api/v1/datasets/air", json={"title": {"en": "Air"}}, headers=h)
    assert entries(sessionmaker, "dataset.access_rights_changed") == []  # unchanged rights
    r = client.patch("/api/v1/datasets/air", json={"access_rights": "NON_PUBLIC"}, headers=h)
    assert r.status_code == 200, r.text
    r = client.post("/api/3/action/package_patch", json={"id": "air", "private": True}, headers=h)
    assert r.status_code == 200, r.text
    client.post("/api/v1/datasets", json=dataset_payload("born-private", private=True), headers=h)
    changes = entries(sessionmaker, "dataset.access_rights_changed")
    assert [(c["details"]["before"], c["details"]["after"]) for c in changes] == [
        ({"private": False, "access_rights": "PUBLIC"}, {"private": False, "access_rights": "NON_PUBLIC"}),
        ({"private": False, "access_rights": "NON_PUBLIC"}, {"private": True, "access_rights": "NON_PUBLIC"}),
        ({"private": None, "access_rights": None}, {"private": True, "access_rights": "PUBLIC"}),
    ]
    assert all(c["subjects"] == [pseudonym(settings.pseudonym_key, world.editor_id)] for c in changes)


def test_role_grants_and_removals_are_logged(client, world, sessionmaker, settings):
    before = len(entries(sessionmaker, "role.granted"))  # the world's two memberships
    assert before == 2
    outsider = user_id(sessionmaker, "outsider")
    h = world.auth("admin")
    r = client.put(
        f"/api/v1/organizations/{world.org_a}/members", json={"user": "outsider", "role": "member"}, headers=h
    )
    assert r.status_code == 200, r.text
    client.put(f"/api/v1/organizations/{world.org_a}/members", json={"user": "outsider", "role": "member"}, headers=h)
    client.put(f"/api/v1/organizations/{world.org_a}/members", json={"user": "outsider", "role": "admin"}, headers=h)
    assert client.delete(f"/api/v1/organizations/{world.org_a}/members/outsider", headers=h).status_code == 204
    grants = entries(sessionmaker, "role.granted")[before:]
    assert [g["details"]["role"] for g in grants] == ["member", "admin", "none"]  # the repeated grant changed nothing
    admin = pseudonym(settings.pseudonym_key, user_id(sessionmaker, "admin"))
    assert all(g["subjects"] == [admin, pseudonym(settings.pseudonym_key, outsider)] for g in grants)
    assert all(g["objects"] == [f"organization:{world.org_a}"] for g in grants)
    # an outsider may not grant roles, and a refused grant logs nothing
    r = client.put(
        f"/api/v1/organizations/{world.org_a}/members",
        json={"user": "outsider", "role": "admin"},
        headers=world.auth("outsider"),
    )
    assert r.status_code == 403 and len(entries(sessionmaker, "role.granted")) == before + 3


def test_cli_member_add_and_remove_are_logged(tmp_path: Path):
    env = {
        "CITYCOMMONS_DATA_DIR": str(tmp_path / "var"),
        "CITYCOMMONS_DATABASE_URL": "",
        "CITYCOMMONS_ENVIRONMENT": "test",
        "CITYCOMMONS_PSEUDONYM_KEY": "a-test-pseudonym-key-for-the-cli",
    }
    settings = Settings(environment="test", data_dir=tmp_path / "var", pseudonym_key="a-test-pseudonym-key-for-the-cli")
    upgrade(settings)
    engine = make_engine(settings)
    factory = make_sessionmaker(engine)
    try:
        with unit_of_work(factory) as s:
            bob, _ = factories.make_user(s, "bob")
            factories.make_org(s, "mobility")
        runner = CliRunner()
        for args in (
            ["org", "member", "add", "mobility", "bob", "--role", "editor"],
            ["org", "member", "remove", "mobility", "bob"],
        ):
            result = runner.invoke(cli_app, args, env=env)
            assert result.exit_code == 0, (result.stdout, result.stderr)
        grants = entries(factory, "role.granted")
        assert [g["details"]["role"] for g in grants] == ["editor", "none"]
        assert all(g["subjects"] == [pseudonym(settings.pseudonym_key, bob)] for g in grants)  # SYSTEM has none
    finally:
        engine.dispose()


def test_dcat_exports_of_non_open_datasets_are_logged(client, world, restricted, sessionmaker):
    h = world.auth("editor")
    assert client.get("/dataset/census.ttl", headers=h).status_code == 200
    assert client.get("/dataset/census", headers={**h, "Accept": "text/turtle"}).status_code == 200
    assert client.get("/dataset/open-air.jsonld", headers=h).status_code == 200  # open: not logged
    reads = entries(sessionmaker, "dataset.read")
    assert [e["details"]["channel"] for e in reads] == ["export", "export"]


def test_resource_metadata_reads_of_non_open_datasets_are_logged(client, world, restricted, sessionmaker, settings):
    h = world.auth("editor")
    rid = restricted["id"]
    assert client.get("/api/3/action/resource_show", params={"id": rid}, headers=h).status_code == 200
    assert client.get(f"/api/v1/distributions/{rid}", headers=h).status_code == 200
    assert client.get("/api/3/action/resource_show", params={"id": rid}).status_code == 200  # metadata is public
    reads = entries(sessionmaker, "dataset.read")
    assert [e["details"]["channel"] for e in reads] == ["api", "api", "api"]
    editor = pseudonym(settings.pseudonym_key, world.editor_id)
    assert [e["subjects"] for e in reads] == [[editor], [editor], []]  # the anonymous read: no subject
    for entry in reads:
        assert entry["objects"] == [
            f"dataset:{restricted['dataset_id']}",
            f"organization:{world.org_a}",
            f"distribution:{rid}",
        ]
        assert entry["details"]["access_rights"] == "RESTRICTED"


def test_resource_reads_of_open_datasets_and_refused_ones_are_not_logged(client, world, sessionmaker):
    h = world.auth("editor")
    client.post("/api/v1/datasets", json=dataset_payload("air-open"), headers=h)
    client.post("/api/v1/datasets", json=dataset_payload("hidden", private=True), headers=h)
    open_rid = client.get("/api/v1/datasets/air-open").json()["distributions"][0]["id"]
    hidden_rid = client.get("/api/v1/datasets/hidden", headers=h).json()["distributions"][0]["id"]
    (own_read,) = entries(sessionmaker, "dataset.read")  # the editor's read of the private dataset just above
    assert client.get("/api/3/action/resource_show", params={"id": open_rid}).status_code == 200
    assert client.get(f"/api/v1/distributions/{open_rid}", headers=h).status_code == 200
    for who in (None, "outsider", "member_b"):  # the private dataset's resources do not exist for them
        headers = world.auth(who) if who else {}
        assert client.get("/api/3/action/resource_show", params={"id": hidden_rid}, headers=headers).status_code == 404
        assert client.get(f"/api/v1/distributions/{hidden_rid}", headers=headers).status_code == 404
    assert entries(sessionmaker, "dataset.read") == [own_read]


def test_listings_that_include_private_datasets_are_not_logged(client, world, sessionmaker):
    h = world.auth("editor")
    client.post("/api/v1/datasets", json=dataset_payload("hidden", private=True), headers=h)
    r = client.get("/api/3/action/package_search", params={"include_private": "true"}, headers=h)
    assert [p["name"] for p in r.json()["result"]["results"]] == ["hidden"]
    assert "hidden" in client.get("/api/v1/datasets", headers=h).text
    assert "/dataset/hidden" in client.get("/dataset", params={"lang": "en"}, headers=h).text
    assert entries(sessionmaker, "dataset.read") == []
