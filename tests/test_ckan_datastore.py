"""CKAN's datastore_* actions over HTTP (TestClient): CKAN's envelope and shapes, errors (409/403/404 with
``__type``), every escape attempt of the issue refused through datastore_search_sql, and authorisation of every
action for anonymous, outsider, member of another organisation, member and editor."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from citycommons.datastore.config import from_settings
from citycommons.datastore.facade import close_read_pools
from citycommons.settings import Settings
from tests.datastore.test_api import escapes
from tests.datastore.test_service_permissions import Tables, build_tables

ACTION = "/api/3/action/"


@pytest.fixture
def tables(uow, settings: Settings) -> Iterator[Tables]:  # type: ignore[no-untyped-def]
    with uow() as session:
        built = build_tables(session, settings)
    yield built
    close_read_pools(from_settings(settings))


def call(client: TestClient, tables: Tables, action: str, data: dict[str, Any], who: str = "anonymous") -> Any:
    return client.post(ACTION + action, json=data, headers=tables.auth(who))


def test_search_shape_matches_ckan(client: TestClient, tables: Tables) -> None:
    r = call(client, tables, "datastore_search", {"resource_id": tables.open, "limit": 2})
    assert r.status_code == 200
    body = r.json()
    assert body["success"] is True and body["help"].endswith("help_show?name=datastore_search")
    result = body["result"]
    assert set(result) >= {"resource_id", "fields", "records", "total", "total_was_estimated", "limit", "_links",
                           "include_total", "records_format"}  # fmt: skip
    assert result["include_total"] is True and result["records_format"] == "objects" and result["total"] == 12687
    assert result["fields"][0] == {"id": "_id", "type": "int"} and len(result["records"]) == 2
    assert list(result["records"][0])[0] == "_id"
    assert result["_links"]["next"].endswith("offset=2") or "offset=2" in result["_links"]["next"]
    following = client.get(result["_links"]["next"]).json()["result"]
    assert [r["_id"] for r in following["records"]] == [3, 4]


def test_search_get_with_json_parameters(client: TestClient, tables: Tables) -> None:
    r = client.get(ACTION + "datastore_search", params={
        "resource_id": tables.open, "filters": json.dumps({"Codi_Districte": [1, 2]}), "fields": "Codi_Districte",
        "distinct": "true", "sort": "Codi_Districte desc", "include_total": "false"})  # fmt: skip
    result = r.json()["result"]
    assert result["records"] == [{"Codi_Districte": 2}, {"Codi_Districte": 1}] and "total" not in result
    assert result["fields"] == [{"id": "Codi_Districte", "type": "int8"}]


def test_limit_is_clipped_to_the_maximum(client: TestClient, tables: Tables) -> None:
    result = call(client, tables, "datastore_search", {"resource_id": tables.open, "limit": 10**9}).json()["result"]
    assert result["limit"] == 32000 and len(result["records"]) == 12687


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"filters": {"nope": 1}}, "filters"),
        ({"filters": "[1"}, "filters"),
        ({"filters": [1, 2]}, "filters"),
        ({"sort": "nope desc"}, "sort"),
        ({"sort": "Valor sideways"}, "sort"),
        ({"limit": -1}, "limit"),
        ({"offset": "x"}, "offset"),
        ({"records_format": "xml"}, "records_format"),
        ({"unexpected": 1}, "unexpected"),
        ({"fields": ["nope"]}, "fields"),
    ],
)
def test_search_validation_errors(client: TestClient, tables: Tables, data: dict[str, Any], key: str) -> None:
    r = call(client, tables, "datastore_search", {"resource_id": tables.open, **data})
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["__type"] == "Validation Error" and key in error


def test_missing_resource_id(client: TestClient, tables: Tables) -> None:
    r = call(client, tables, "datastore_search", {})
    assert r.status_code == 409 and r.json()["error"]["resource_id"] == ["Missing value"]


def test_search_sql_and_info_shapes(client: TestClient, tables: Tables) -> None:
    sql = f'SELECT "Codi_Districte" AS d, count(*) AS n FROM "{tables.open}" GROUP BY 1 ORDER BY 1'
    result = call(client, tables, "datastore_search_sql", {"sql": sql}).json()["result"]
    assert result["sql"] == sql and result["fields"] == [{"id": "d", "type": "int8"}, {"id": "n", "type": "int8"}]
    assert result["records"][0] == {"d": 1, "n": 648} and "records_truncated" not in result
    info = call(client, tables, "datastore_info", {"id": tables.geo}).json()["result"]
    assert info["meta"]["count"] == 10
    fields = {f["id"]: f for f in info["fields"]}
    assert fields["geometry"]["type"] == "text" and fields["PERIMETRE"]["schema"]["native_type"] == "numeric"


def test_every_escape_attempt_is_refused_through_datastore_search_sql(client: TestClient, tables: Tables) -> None:
    for query in escapes(tables.open):
        for response in (call(client, tables, "datastore_search_sql", {"sql": query}, "admin"),
                         client.get(ACTION + "datastore_search_sql", params={"sql": query})):  # fmt: skip
            assert response.status_code in (403, 409), (query, response.status_code, response.text)
            body = response.json()
            assert body["success"] is False
            error = body["error"]
            assert error["__type"] in ("Validation Error", "Authorization Error"), query
            assert error.get("sql") or error.get("message"), query


def test_timeout_through_datastore_search_sql(tmp_path: Any) -> None:
    from citycommons.app import create_app
    from citycommons.db.migrate import upgrade
    from tests.conftest import _settings

    s = _settings(tmp_path, datastore_query_timeout_seconds=0.5)
    upgrade(s)
    app = create_app(s)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        r = c.post(ACTION + "datastore_search_sql", json={"sql": "SELECT count(*) AS n FROM range(100000000000)"})
        assert r.status_code == 409 and "longer than 0.5 s" in r.json()["error"]["sql"][0]
    close_read_pools(from_settings(s))
    app.state.engine.dispose()


# --- authorisation of every action -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["anonymous", "outsider", "other", "member", "editor", "admin"])
def test_read_actions_authorisation(client: TestClient, tables: Tables, who: str) -> None:
    member = who in ("member", "editor", "admin")
    cases = [
        (tables.open, 200),
        (tables.restricted, 200 if member else 403),
        (tables.private, 200 if member else 404),
        (tables.deleted, 404),
        (tables.no_table, 404),
    ]
    for table, expected in cases:
        search = call(client, tables, "datastore_search", {"resource_id": table, "limit": 1}, who)
        assert search.status_code == expected, (who, table, search.text)
        if expected == 403:
            assert search.json()["error"]["__type"] == "Authorization Error"
        if expected == 404:
            assert search.json()["error"]["__type"] == "Not Found Error"
        info = call(client, tables, "datastore_info", {"id": table}, who)
        assert info.status_code == (200 if expected == 403 else expected), (who, table)
        sql = call(client, tables, "datastore_search_sql", {"sql": f'SELECT 1 AS one FROM "{table}" LIMIT 1'}, who)
        assert sql.status_code == (200 if expected == 200 else 409), (who, table, sql.text)


WRITES = [
    ("datastore_create", {"records": [{"Valor": 1}], "force": True}),
    ("datastore_upsert", {"records": [{"_id": 1, "Valor": 1}], "force": True}),
    ("datastore_delete", {"filters": {"_id": 1}, "force": True}),
]


@pytest.mark.parametrize("who", ["anonymous", "outsider", "other", "member"])
@pytest.mark.parametrize(("action", "data"), WRITES)
def test_write_actions_refuse_everyone_but_editors(
    client: TestClient, tables: Tables, who: str, action: str, data: dict[str, Any]
) -> None:
    private = 404 if who in ("outsider", "other") else 403  # anonymous: refused before the table is looked up
    for table, expected in ((tables.open, 403), (tables.restricted, 403), (tables.private, private)):
        r = call(client, tables, action, {"resource_id": table, **data}, who)
        assert r.status_code == expected, (who, action, table, r.text)


@pytest.mark.parametrize(("action", "data"), WRITES)
def test_editors_write_with_force_and_versions_grow(
    client: TestClient, tables: Tables, action: str, data: dict[str, Any]
) -> None:
    before = client.get(f"/api/v1/datastore/{tables.restricted}/versions", headers=tables.auth("editor")).json()
    without_force = {k: v for k, v in data.items() if k != "force"}
    refused = call(client, tables, action, {"resource_id": tables.restricted, **without_force}, "editor")
    assert refused.status_code == 409 and "read-only" in refused.json()["error"]
    records = data.get("records", [])
    payload = {"resource_id": tables.restricted, **data}
    if action != "datastore_delete":
        payload["records"] = [{**r, "Estacio": 99} if "_id" not in r else {"_id": 1, "Estacio": 99} for r in records]
        payload["records"] = [{k: v for k, v in r.items() if k != "Valor"} for r in payload["records"]]
    r = call(client, tables, action, payload, "editor")
    assert r.status_code == 200, r.text
    after = client.get(f"/api/v1/datastore/{tables.restricted}/versions", headers=tables.auth("editor")).json()
    assert len(after) == len(before) + 1
    rows = after[-1]["rows"]
    assert rows == {"datastore_create": 56, "datastore_upsert": 55, "datastore_delete": 54}[action]


def test_upsert_errors_are_ckan_validation_errors(client: TestClient, tables: Tables) -> None:
    created = call(client, tables, "datastore_create", {
        "resource": {"package_id": "padro", "name": "Counts"}, "primary_key": "k",
        "fields": [{"id": "k", "type": "int"}, {"id": "v", "type": "text"}, {"id": "when", "type": "timestamp"},
                   {"id": "extra", "type": "json"}],
        "records": [{"k": 1, "v": "a", "when": "2025-01-01T10:00:00", "extra": {"a": [1, 2]}}]}, "editor")  # fmt: skip
    assert created.status_code == 200, created.text
    rid = created.json()["result"]["resource_id"]
    for records, message in (
        ([{"k": "x"}], "k"),
        ([{"k": 2, "nope": 1}], "nope"),
        ([{"k": 2, "when": "yesterday"}], "when"),
        ([{"v": "no key"}], "key"),
        ([{"k": 3}, {"k": 3}], "same key"),
    ):
        r = call(client, tables, "datastore_upsert", {"resource_id": rid, "records": records}, "editor")
        assert r.status_code == 409, (records, r.text)
        assert message in json.dumps(r.json()["error"]["records"]), (records, r.text)
    ok = call(client, tables, "datastore_upsert", {"resource_id": rid, "records": [{"k": 1, "extra": {"b": True}}]},
              "editor")  # fmt: skip
    assert ok.status_code == 200, ok.text
    rows = call(client, tables, "datastore_search", {"resource_id": rid}).json()["result"]
    assert rows["records"] == [{"_id": 1, "k": 1, "v": "a", "when": "2025-01-01T10:00:00", "extra": {"b": True}}]
    assert [f["type"] for f in rows["fields"]] == ["int", "int8", "text", "timestamp", "json"]
    gone = call(client, tables, "datastore_delete", {"resource_id": rid}, "editor").json()["result"]
    assert gone["deleted"] == 1 and gone["total"] == 0
    empty = call(client, tables, "datastore_search", {"resource_id": rid}).json()["result"]
    assert empty["records"] == [] and empty["total"] == 0
    again = call(client, tables, "datastore_create", {"resource_id": rid, "fields": [{"id": "k", "type": "int"}],
                                                      "records": [{"k": 5}]}, "editor")  # fmt: skip
    assert again.status_code == 200 and again.json()["result"]["total"] == 1


def test_fields_first_then_records_then_ids(client: TestClient, tables: Tables) -> None:
    created = call(client, tables, "datastore_create", {
        "resource": {"package_id": "padro", "name": "Empty first"},
        "fields": [{"id": "name", "type": "text"}, {"id": "n", "type": "int4"}, {"id": "x", "type": "float8"}],
    }, "editor").json()["result"]  # fmt: skip
    rid = created["resource_id"]
    assert created["total"] == 0 and [f["type"] for f in created["fields"]] == ["text", "int8", "numeric"]
    empty = call(client, tables, "datastore_search", {"resource_id": rid}).json()["result"]
    assert (
        empty["records"] == []
        and empty["total"] == 0
        and [f["id"] for f in empty["fields"]] == ["_id", "name", "n", "x"]
    )
    inserted = call(client, tables, "datastore_upsert", {"resource_id": rid, "method": "insert", "records": [
        {"name": "a", "n": 1, "x": 0.5}, {"name": "b", "n": "2"}, {"name": "c", "n": 3, "x": 2}]}, "editor")  # fmt: skip
    assert inserted.status_code == 200 and inserted.json()["result"]["inserted"] == 3
    # no primary key: rows are changed by `_id`
    by_id = call(client, tables, "datastore_upsert", {"resource_id": rid, "records": [{"_id": 2, "x": 9.75}]}, "editor")
    assert by_id.status_code == 200 and by_id.json()["result"]["updated"] == 1
    missing = call(client, tables, "datastore_upsert", {"resource_id": rid, "records": [{"_id": 99, "x": 1}]}, "editor")
    assert missing.status_code == 409 and "_id" in json.dumps(missing.json()["error"])
    no_key = call(client, tables, "datastore_upsert", {"resource_id": rid, "records": [{"name": "d"}]}, "editor")
    assert no_key.status_code == 409 and "primary key" in json.dumps(no_key.json()["error"])
    ranged = call(client, tables, "datastore_delete", {"resource_id": rid, "filters": {"n": {"lt": 2}}}, "editor")
    assert ranged.json()["result"]["deleted"] == 1
    rows = call(client, tables, "datastore_search", {"resource_id": rid, "sort": "n"}).json()["result"]["records"]
    assert rows == [{"_id": 1, "name": "b", "n": 2, "x": 9.75}, {"_id": 2, "name": "c", "n": 3, "x": 2.0}]
    nothing = call(client, tables, "datastore_delete", {"resource_id": rid, "filters": {"name": "zzz"}}, "editor")
    assert nothing.json()["result"]["deleted"] == 0  # no new version for a delete that matches nothing
    versions = client.get(f"/api/v1/datastore/{rid}/versions").json()
    assert [v["rows"] for v in versions] == [0, 3, 3, 2]
