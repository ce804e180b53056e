"""The native datastore API over HTTP: table info, rows (filters, f.<col>, q, sort, paging by offset and cursor,
aggregates, time buckets), exports, versions, reports, diff, schema edits, read-only SQL with every escape attempt
refused, and who may do what (anonymous, outsider, member of another organisation, member, editor)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import hypothesis
import pyarrow.parquet as pq
import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis import checks

from citycommons.datastore.config import from_settings
from citycommons.datastore.facade import close_read_pools
from citycommons.settings import Settings
from tests.datastore.test_service_permissions import PADRO, Tables, build_tables, ingest

EVERYONE = ["anonymous", "outsider", "other", "member", "editor", "admin"]
NON_MEMBERS = ["anonymous", "outsider", "other"]
MEMBERS = ["member", "editor", "admin"]


def get(client: TestClient, tables: Tables, who: str, url: str, **kw: Any) -> Any:
    return client.get(url, headers=tables.auth(who), **kw)


# --- reads ---------------------------------------------------------------------------------------------------------


def test_table_info(client: TestClient, tables: Tables) -> None:
    body = client.get(f"/api/v1/datastore/{tables.open}").json()
    assert body["resource_id"] == tables.open and body["rows"] == 12687 and body["version"] == 1
    assert body["dataset_name"] == "padro" and body["can_read_data"] and not body["can_edit"]
    types = {f["name"]: f["type"] for f in body["table_schema"]["fields"]}
    assert types["Valor"] == "integer" and types["Data_Referencia"] == "date" and types["Nom_Barri"] == "string"
    assert "missingValues" in body["table_schema"]  # Frictionless names
    assert [v["version"] for v in body["versions"]] == [1] and body["report"]["rows"] == 12687


def test_rows_filters_sort_and_links(client: TestClient, tables: Tables) -> None:
    params = {"f.Codi_Districte": "1", "filters": json.dumps({"SEXE": 2, "Valor": {"gte": 10}}),
              "sort": "Valor desc, Seccio_Censal", "limit": 5, "include_total": "true",
              "fields": "Seccio_Censal,Valor,SEXE"}  # fmt: skip
    r = client.get(f"/api/v1/datastore/{tables.open}/rows", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [f["name"] for f in body["fields"]] == ["Seccio_Censal", "Valor", "SEXE"]
    assert len(body["records"]) == 5 and all(rec["SEXE"] == 2 for rec in body["records"])
    values = [rec["Valor"] for rec in body["records"]]
    assert values == sorted(values, reverse=True) and values[-1] >= 10
    assert body["total"] > 5 and body["next_cursor"]
    assert "cursor=" in body["links"]["next"] and "offset=5" in body["links"]["next_offset"]
    second = client.get(body["links"]["next"]).json()
    by_offset = client.get(body["links"]["next_offset"]).json()
    assert second["records"] == by_offset["records"] and second["records"][0]["Valor"] <= values[-1]


def test_full_text_distinct_group_by_and_time_bucket(client: TestClient, tables: Tables) -> None:
    url = f"/api/v1/datastore/{tables.open}/rows"
    found = client.get(url, params={"q": "gracia", "fields": "Nom_Districte", "distinct": "true"}).json()
    assert found["records"] == [{"Nom_Districte": "Gràcia"}]  # accents and case ignored
    grouped = client.get(url, params={"group_by": "Codi_Districte", "aggregates": "count,sum:Valor",
                                      "sort": "Codi_Districte"}).json()  # fmt: skip
    assert len(grouped["records"]) == 10 and grouped["records"][0]["count"] == 648
    bucket = client.get(url, params={"time_bucket_field": "Data_Referencia", "time_bucket_unit": "year"}).json()
    assert bucket["records"] == [{"Data_Referencia_year": "2023-01-01", "count": 12687}]
    posted = client.post(
        f"/api/v1/datastore/{tables.open}/query",
        json={"filters": [{"field": "Valor", "op": "is_null"}], "include_total": True, "limit": 0},
    )
    assert posted.status_code == 200 and posted.json()["total"] == 817  # the `..` suppressed values


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"filters": "{not json"}, "filters"),
        ({"filters": json.dumps({"nope": 1})}, "filters"),
        ({"f.Valor": "many"}, "filters"),
        ({"sort": "nope desc"}, "sort"),
        ({"fields": "a,b"}, "fields"),
        ({"limit": 40000}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"aggregates": "avg:Nom_Barri"}, "aggregates"),
        ({"time_bucket_field": "Valor", "time_bucket_unit": "day"}, "time_bucket"),
        ({"time_bucket_field": "Valor"}, "time_bucket"),
        ({"q": '{"nope": "x"}'}, "q"),
    ],
)
def test_bad_parameters_are_named(client: TestClient, tables: Tables, params: dict[str, Any], field: str) -> None:
    r = client.get(f"/api/v1/datastore/{tables.open}/rows", params=params)
    assert r.status_code == 422, r.text
    assert field in r.json()["error"]["fields"]


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson", "parquet", "xlsx"])
def test_exports_stream_every_row(client: TestClient, tables: Tables, fmt: str) -> None:
    r = client.get(f"/api/v1/datastore/{tables.open}/export.{fmt}", params={"sort": "Valor desc"})
    assert r.status_code == 200
    assert f'filename="{tables.open}-v1.' in r.headers["content-disposition"]
    media = {"csv": "text/csv", "json": "application/json", "ndjson": "application/x-ndjson",
             "parquet": "application/vnd.apache.parquet", "xlsx": "application/vnd.openxmlformats"}[fmt]  # fmt: skip
    assert r.headers["content-type"].startswith(media)
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert len(rows) == 12687  # more than any page: no cap
    elif fmt == "json":
        assert len(r.json()) == 12687
    elif fmt == "ndjson":
        assert len(r.text.splitlines()) == 12687
    elif fmt == "parquet":
        assert pq.read_table(io.BytesIO(r.content)).num_rows == 12687


def test_geojson_export(client: TestClient, tables: Tables) -> None:
    r = client.get(f"/api/v1/datastore/{tables.geo}/export.geojson")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 10
    assert r.status_code == 200
    assert client.get(f"/api/v1/datastore/{tables.open}/export.geojson").status_code == 422  # no geometry


def test_versions_report_diff_and_pinning(client: TestClient, settings: Settings, tables: Tables) -> None:
    ingest(settings, tables.open, PADRO)
    base = f"/api/v1/datastore/{tables.open}"
    assert [v["version"] for v in client.get(f"{base}/versions").json()] == [1, 2]
    assert client.get(f"{base}/versions/1/report").json()["rows"] == 12687
    assert client.get(f"{base}/versions/7/report").status_code == 404
    assert client.get(f"{base}/rows", params={"version": 1, "limit": 1}).json()["version"] == 1
    assert client.get(f"{base}/rows", params={"limit": 1}).json()["version"] == 2
    assert client.get(f"{base}/rows", params={"version": 3}).status_code == 404
    diff = client.get(f"{base}/diff", params={"from": 1, "to": 2})
    assert diff.status_code == 200 and diff.json()["summary"]["added"] == 0


def test_schema_get_and_put(client: TestClient, tables: Tables) -> None:
    url = f"/api/v1/datastore/{tables.open}/schema"
    body = {"fields": {"Valor": {"title": "Persones", "description": "Nombre de persones"}}}
    for who in ("anonymous", "outsider", "other", "member"):
        assert client.put(url, json=body, headers=tables.auth(who)).status_code == 403
    r = client.put(url, json=body, headers=tables.auth("editor"))
    assert r.status_code == 200 and {f["name"]: f for f in r.json()["fields"]}["Valor"]["title"] == "Persones"
    assert {f["name"]: f for f in client.get(url).json()["fields"]}["Valor"]["title"] == "Persones"
    bad = client.put(url, json={"fields": {"nope": {"title": "x"}}}, headers=tables.auth("editor"))
    assert bad.status_code == 422


# --- authorisation -----------------------------------------------------------------------------------------------


def _routes(table: str) -> list[tuple[str, str]]:
    base = f"/api/v1/datastore/{table}"
    return [("GET", f"{base}/rows"), ("POST", f"{base}/query"), ("GET", f"{base}/export.csv"),
            ("GET", f"{base}/diff?from=1&to=1")]  # fmt: skip


def _call(client: TestClient, tables: Tables, who: str, method: str, url: str) -> Any:
    if method == "POST":
        return client.post(url, json={}, headers=tables.auth(who))
    return client.get(url, headers=tables.auth(who))


@pytest.mark.parametrize("who", EVERYONE)
def test_who_reads_what(client: TestClient, tables: Tables, who: str) -> None:
    member = who in MEMBERS
    for table, meta, rows in (
        (tables.open, 200, 200),
        (tables.restricted, 200, 200 if member else 403),
        (tables.private, 200 if member else 404, 200 if member else 404),
        (tables.deleted, 404, 404),
        (tables.no_table, 404, 404),
        ("no-such-table", 404, 404),
    ):
        base = f"/api/v1/datastore/{table}"
        for url in (base, f"{base}/versions", f"{base}/schema", f"{base}/versions/1/report"):
            assert get(client, tables, who, url).status_code == meta, (who, url)
        for method, url in _routes(table):
            r = _call(client, tables, who, method, url)
            assert r.status_code == rows, (who, method, url, r.text)
            if rows >= 400:
                assert r.json()["error"]["code"] in ("forbidden", "not_found")
    sql = client.get("/api/v1/sql", params={"sql": f'SELECT count(*) AS n FROM "{tables.restricted}"'},
                     headers=tables.auth(who))  # fmt: skip
    assert sql.status_code == (200 if member else 422)
    if not member:
        assert sql.json()["error"]["fields"]["sql"] == [f"unknown table `{tables.restricted}`"]


# --- read-only SQL ---------------------------------------------------------------------------------------------


def test_sql_get_and_post(client: TestClient, tables: Tables) -> None:
    query = f'SELECT Nom_Districte AS d, sum(Valor) AS people FROM "{tables.open}" GROUP BY 1 ORDER BY 1 LIMIT 3'
    got = client.get("/api/v1/sql", params={"sql": query})
    posted = client.post("/api/v1/sql", json={"sql": query})
    assert got.status_code == posted.status_code == 200 and got.json() == posted.json()
    body = got.json()
    assert [f["type"] for f in body["fields"]] == ["string", "integer"] and body["tables"] == [tables.open]
    assert body["records"][0]["d"] == "Ciutat Vella"
    export = client.get("/api/v1/sql/export.csv", params={"sql": f'SELECT * FROM "{tables.open}"'})
    assert export.status_code == 200 and len(export.text.splitlines()) == 12688


def test_sql_row_cap(tmp_path: Any, uow: Any) -> None:
    from citycommons.app import create_app
    from citycommons.db.migrate import upgrade
    from tests.conftest import _settings

    s = _settings(tmp_path, datastore_sql_row_cap=7)
    upgrade(s)
    app = create_app(s)
    from citycommons.db.engine import make_sessionmaker, unit_of_work

    with unit_of_work(make_sessionmaker(app.state.engine)) as session:
        built = build_tables(session, s)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        body = c.get("/api/v1/sql", params={"sql": f'SELECT * FROM "{built.open}"'}).json()
    assert len(body["records"]) == 7 and body["truncated"]
    close_read_pools(from_settings(s))
    app.state.engine.dispose()


def escapes(table: str) -> list[str]:
    """The escape attempts of the issue, each of which must get a clear 4xx with a machine-readable body."""
    return [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_csv_auto('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        f"COPY (SELECT * FROM \"{table}\") TO '/tmp/out.csv'",
        f"COPY \"{table}\" TO '/tmp/out.parquet' (FORMAT parquet)",
        "ATTACH '/tmp/x.duckdb' AS x",
        "INSTALL httpfs",
        "LOAD httpfs",
        "PRAGMA database_list",
        "SET enable_external_access = true",
        "SELECT * FROM 'http://127.0.0.1:1/x.csv'",
        "SELECT * FROM read_parquet('s3://bucket/key.parquet')",
        "SELECT 'https://example.org/x.csv' AS u",
        "SELECT 's3://bucket/key.parquet' AS u",
        f'SELECT 1 AS a; DROP VIEW "{table}"',
        "SELECT 1 AS a; SELECT 2 AS b",
        "SELECT 1 /* ; */; /* */ ATTACH '/tmp/y' AS y",
        "SELECT 1 AS a -- ; COPY (SELECT 1) TO '/tmp/z'\n; INSTALL httpfs",
        "SELECT * FROM \"read_csv\"('/etc/passwd')",
        "SELECT * FROM READ_CSV('/etc/passwd')",
        "SELECT getenv('HOME') AS h",
        "SELECT current_setting('allowed_paths') AS s",
        "SELECT * FROM duckdb_settings()",
        "SELECT * FROM glob('/etc/*')",
        f'CREATE TABLE x AS SELECT * FROM "{table}"',
        'SELECT * FROM "/etc/passwd"',
        "SELECT * FROM information_schema.tables",
    ]


def test_every_escape_attempt_is_refused_over_http(client: TestClient, tables: Tables) -> None:
    for query in escapes(tables.open):
        for response in (
            client.get("/api/v1/sql", params={"sql": query}),
            client.post("/api/v1/sql", json={"sql": query}),
        ):
            assert 400 <= response.status_code < 500, (query, response.status_code, response.text)
            error = response.json()["error"]
            assert error["code"] in ("invalid", "forbidden") and error["fields"]["sql"][0], query


def test_a_minutes_long_query_times_out(tmp_path: Any) -> None:
    from citycommons.app import create_app
    from citycommons.db.migrate import upgrade
    from tests.conftest import _settings

    s = _settings(tmp_path, datastore_query_timeout_seconds=0.5)
    upgrade(s)
    app = create_app(s)
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        r = c.get("/api/v1/sql", params={"sql": "SELECT count(*) AS n FROM range(100000000000)"})
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "too_large" and "longer than 0.5 s" in r.json()["error"]["fields"]["sql"][0]
        assert c.get("/api/v1/sql", params={"sql": "SELECT 1 AS one"}).json()["records"] == [{"one": 1}]
    close_read_pools(from_settings(s))
    app.state.engine.dispose()


# --- schemathesis over the datastore routes with a real table ----------------------------------------------------


class _Api:
    def __init__(self, app: Any, tables: Tables) -> None:
        self.app, self.tables = app, tables


@pytest.fixture(scope="module")
def fuzz_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Api]:
    from citycommons.app import create_app
    from citycommons.db.engine import make_sessionmaker, unit_of_work
    from citycommons.db.migrate import upgrade
    from tests.conftest import _settings

    s = _settings(tmp_path_factory.mktemp("fuzz"))
    upgrade(s)
    app = create_app(s)
    with unit_of_work(make_sessionmaker(app.state.engine)) as session:
        built = build_tables(session, s)
    yield _Api(app, built)
    close_read_pools(from_settings(s))
    app.state.engine.dispose()


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_api: _Api) -> Any:
    config = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": True}}})
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz_api.app, config=config)


fuzzed = schemathesis.pytest.from_fixture("fuzz_schema").include(path_regex=r"^/api/v1/(datastore|sql)")


@fuzzed.parametrize()
@hypothesis.settings(max_examples=25, deadline=None, derandomize=True,
                     suppress_health_check=list(hypothesis.HealthCheck))  # fmt: skip
def test_datastore_routes_never_fail_on_a_real_table(case: Any, fuzz_api: _Api) -> None:
    """Random and boundary parameters against the open table: never a 5xx, always the documented shapes."""
    if case.path_parameters and "resource_id" in case.path_parameters:
        case.path_parameters["resource_id"] = fuzz_api.tables.open
    if case.method.upper() == "PUT":  # schema edits would change the table under the other examples
        return
    case.call_and_validate(headers=fuzz_api.tables.auth("editor"), checks=[
        checks.not_a_server_error, checks.status_code_conformance, checks.response_schema_conformance,
        checks.content_type_conformance,
    ])  # fmt: skip
