"""The unmodified ckanapi client from PyPI against a live server: datastore_search (filters, q, sort, limit/offset,
include_total, fields, distinct, records_format) and datastore_search_sql on a real ingested file (Barcelona's
Padró 2023, 12,687 rows), then a programmatic publisher's datastore_create / upsert / delete, with CKAN's errors."""

from __future__ import annotations

from collections.abc import Iterator

import ckanapi
import pytest

from citycommons.datastore.config import from_settings
from citycommons.datastore.facade import close_read_pools
from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from tests.conftest import LiveServer
from tests.datastore.test_service_permissions import Tables, build_tables

pytestmark = pytest.mark.slow


@pytest.fixture
def served(live_server: LiveServer) -> Iterator[tuple[LiveServer, Tables]]:
    engine = make_engine(live_server.settings)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            tables = build_tables(session, live_server.settings)
    finally:
        engine.dispose()
    yield live_server, tables
    close_read_pools(from_settings(live_server.settings))


def client(server: LiveServer, tables: Tables, who: str = "anonymous") -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(server.url, apikey=tables.tokens.get(who), user_agent="citycommons-tests")


def test_datastore_search_with_ckanapi(served: tuple[LiveServer, Tables]) -> None:
    server, tables = served
    ckan = client(server, tables)
    result = ckan.action.datastore_search(
        resource_id=tables.open,
        filters={"Codi_Districte": [1, 6], "SEXE": 2},
        q="gracia",
        sort="Valor desc, Seccio_Censal asc",
        limit=10,
        offset=5,
        include_total=True,
    )
    assert result["resource_id"] == tables.open and result["limit"] == 10 and result["offset"] == 5
    types = {f["id"]: f["type"] for f in result["fields"]}
    assert result["fields"][0] == {"id": "_id", "type": "int"}
    assert types["Valor"] == "int8" and types["Nom_Barri"] == "text" and types["Data_Referencia"] == "date"
    assert result["total"] > 10 and result["total_was_estimated"] is False
    records = result["records"]
    assert len(records) == 10 and all(r["Codi_Districte"] == 6 and r["SEXE"] == 2 for r in records)
    assert all(isinstance(r["_id"], int) and r["_id"] >= 1 for r in records)
    values = [r["Valor"] for r in records if r["Valor"] is not None]
    assert values == sorted(values, reverse=True)
    links = result["_links"]
    assert links["start"].startswith("/api/3/action/datastore_search?") and "offset=15" in links["next"]

    # paging by offset gives the same rows as one larger page
    first = ckan.action.datastore_search(resource_id=tables.open, sort="_id", limit=20)
    page2 = ckan.action.datastore_search(resource_id=tables.open, sort="_id", limit=10, offset=10)
    assert first["records"][10:] == page2["records"] and first["total"] == 12687
    assert [r["_id"] for r in first["records"]] == list(range(1, 21))
    by_id = ckan.action.datastore_search(resource_id=tables.open, filters={"_id": 7})
    assert by_id["records"] == [first["records"][6]]

    # fields, distinct, lists and CSV formats
    distinct = ckan.action.datastore_search(resource_id=tables.open, fields=["Nom_Districte"], distinct=True,
                                            sort="Nom_Districte", limit=100)  # fmt: skip
    assert len(distinct["records"]) == 10 and distinct["records"][0] == {"Nom_Districte": "Ciutat Vella"}
    lists = ckan.action.datastore_search(resource_id=tables.open, fields="_id,Valor", limit=2, records_format="lists")
    assert lists["records"] == [[1, first["records"][0]["Valor"]], [2, first["records"][1]["Valor"]]]
    as_csv = ckan.action.datastore_search(resource_id=tables.open, limit=3, records_format="csv")
    assert len(as_csv["records"].splitlines()) == 3 and as_csv["records"].startswith("1,")

    # q as a dict; and GET requests (get_only: every parameter in the query string, dicts as JSON)
    named = ckan.action.datastore_search(resource_id=tables.open, q={"Nom_Barri": "vila gracia"}, limit=1)
    assert named["total"] > 0 and "Gràcia" in named["records"][0]["Nom_Barri"]
    getter = ckanapi.RemoteCKAN(server.url, get_only=True)
    via_get = getter.action.datastore_search(resource_id=tables.open, filters='{"Codi_Districte": 6}', limit=1,
                                             sort="_id desc")  # fmt: skip
    assert (
        via_get["records"][0]["Codi_Districte"] == 6 and via_get["total"] == 1034
    )  # rows of district 6 in the source file
    assert via_get["records"][0]["_id"] == 6914  # the last row of district 6 in the source file


def test_datastore_search_sql_and_info_with_ckanapi(served: tuple[LiveServer, Tables]) -> None:
    server, tables = served
    ckan = client(server, tables)
    sql = f'SELECT "Nom_Districte" AS district, sum("Valor") AS people FROM "{tables.open}" GROUP BY 1 ORDER BY 2 DESC'
    result = ckan.action.datastore_search_sql(sql=sql)
    assert result["sql"] == sql and len(result["records"]) == 10
    assert result["fields"] == [{"id": "district", "type": "text"}, {"id": "people", "type": "int8"}]
    assert result["records"][0]["district"] == "Eixample"
    info = ckan.action.datastore_info(id=tables.open)
    assert info["meta"]["count"] == 12687 and info["meta"]["id"] == tables.open and info["meta"]["size"] > 0
    fields = {f["id"]: f for f in info["fields"]}
    assert fields["Valor"]["type"] == "int8" and fields["Valor"]["schema"]["native_type"] == "bigint"


def test_ckan_errors_through_ckanapi(served: tuple[LiveServer, Tables]) -> None:
    server, tables = served
    anonymous = client(server, tables)
    with pytest.raises(ckanapi.NotFound):
        anonymous.action.datastore_search(resource_id="no-such-resource")
    with pytest.raises(ckanapi.NotFound):
        anonymous.action.datastore_search(resource_id=tables.private)
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.datastore_search(resource_id=tables.restricted)
    with pytest.raises(ckanapi.ValidationError) as err:
        anonymous.action.datastore_search(resource_id=tables.open, filters={"nope": 1})
    assert "filters" in err.value.error_dict
    with pytest.raises(ckanapi.ValidationError) as err:
        anonymous.action.datastore_search_sql(sql="SELEC 1")
    assert "sql" in err.value.error_dict
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.datastore_search_sql(sql="SELECT * FROM read_csv('/etc/passwd')")
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.datastore_search_sql(sql="COPY (SELECT 1) TO '/tmp/x.csv'")
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.datastore_create(resource_id=tables.open, records=[{"a": 1}])
    member = client(server, tables, "member")
    assert member.action.datastore_search(resource_id=tables.restricted, limit=1)["total"] == 55


def test_programmatic_publisher_with_ckanapi(served: tuple[LiveServer, Tables]) -> None:
    server, tables = served
    editor = client(server, tables, "editor")
    created = editor.action.datastore_create(
        resource={"package_id": "padro", "name": "Sensors", "format": "CSV"},
        fields=[{"id": "sensor", "type": "text", "info": {"label": "Sensor", "notes": "Station code"}},
                {"id": "reading", "type": "numeric"}, {"id": "day", "type": "date"}, {"id": "ok", "type": "bool"}],
        records=[{"sensor": "08019004", "reading": 1.5, "day": "2025-12-24", "ok": True},
                 {"sensor": "08019043", "reading": 2, "day": "2025-12-25", "ok": False}],
        primary_key=["sensor"],
    )  # fmt: skip
    rid = created["resource_id"]
    assert created["version"] == 1 and created["resource"]["url_type"] == "datastore"
    assert created["resource"]["datastore_active"] is True
    assert [(f["id"], f["type"]) for f in created["fields"]] == [
        ("sensor", "text"), ("reading", "numeric"), ("day", "date"), ("ok", "bool")
    ]  # fmt: skip
    editor.action.datastore_upsert(resource_id=rid, records=[{"sensor": "08019043", "reading": 3.25},
                                                              {"sensor": "08019057", "reading": 0, "ok": True}])  # fmt: skip
    rows = editor.action.datastore_search(resource_id=rid, sort="sensor")
    assert [(r["sensor"], r["reading"], r["ok"]) for r in rows["records"]] == [
        ("08019004", 1.5, True), ("08019043", 3.25, False), ("08019057", 0, True)
    ]  # fmt: skip
    assert rows["records"][1]["day"] == "2025-12-25" and rows["total"] == 3
    with pytest.raises(ckanapi.ValidationError):
        editor.action.datastore_upsert(resource_id=rid, method="insert", records=[{"sensor": "08019004"}])
    with pytest.raises(ckanapi.ValidationError):
        editor.action.datastore_upsert(resource_id=rid, method="update", records=[{"sensor": "nope", "reading": 1}])
    with pytest.raises(ckanapi.ValidationError):
        editor.action.datastore_upsert(resource_id=rid, records=[{"sensor": "x", "reading": "high"}])
    deleted = editor.action.datastore_delete(resource_id=rid, filters={"sensor": "08019004"})
    assert deleted["deleted"] == 1 and deleted["version"] == 3
    after = editor.action.datastore_search(resource_id=rid)
    assert after["total"] == 2 and after["version"] == 4 - 1
    pinned = editor.action.datastore_search(resource_id=rid, version=1)
    assert pinned["total"] == 2 and pinned["version"] == 1  # earlier versions stay readable
    info = editor.action.datastore_info(id=rid)
    assert (
        info["meta"]["primary_key"] == ["sensor"]
        and {f["id"]: f for f in info["fields"]}["sensor"]["info"]["label"] == "Sensor"
    )

    # someone else's data: editors of another organisation, members, outsiders may not write
    for who in ("other", "outsider", "member"):
        with pytest.raises(ckanapi.NotAuthorized):
            client(server, tables, who).action.datastore_upsert(resource_id=rid, records=[{"sensor": "z"}])
    # a table ingested from a file needs force=True
    with pytest.raises(ckanapi.ValidationError) as err:
        editor.action.datastore_delete(resource_id=tables.open, filters={"SEXE": 1})
    assert "read-only" in err.value.error_dict
