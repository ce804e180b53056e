"""``search`` over real ingested files: every kind of filter, full text, projection, sort, keyset pages, distinct
rows, group-by aggregates with percentiles, time buckets, and the errors each parameter can raise."""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from citycommons.datastore import DatastoreConfig, ingest_file, versions
from citycommons.datastore.facade import close_read_pools
from citycommons.datastore.query import search
from citycommons.datastore.values import frictionless_type, json_safe
from citycommons.errors import Invalid, NotFound
from tests.datastore.conftest import DATA

PADRO = "bcn-padro-educacio-2023"
STATIONS = "bcn-air-stations"
POBLACION = "madrid-poblacion-barrios"
DISTRICTES = "bcn-districtes"
CITIBIKE = "nyc-citibike-stations"
FILES = {
    PADRO: "bcn-padro-educacio-2023.csv",
    STATIONS: "bcn-air-stations.csv",
    POBLACION: "madrid-poblacion-barrios.csv",
    DISTRICTES: "bcn-districtes.geojson",
    CITIBIKE: "nyc-citibike-stations.json",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatastoreConfig]:
    config = DatastoreConfig(root=tmp_path_factory.mktemp("query") / "store", memory_limit="256MB", threads=1)
    for table_id, name in FILES.items():
        ingest_file(config=config, table_id=table_id, source=DATA / name, filename=name)
    yield config
    close_read_pools(config)


def table(config: DatastoreConfig, table_id: str) -> list[dict[str, Any]]:
    """The published rows, read with pyarrow: the independent reference every search is checked against."""
    return pq.read_table(versions.data_path(config=config, table_id=table_id)).to_pylist()


def total(config: DatastoreConfig, **kw: Any) -> int:
    result = search(config=config, table_id=PADRO, include_total=True, limit=0, **kw)
    assert result.total is not None and result.records == []
    return result.total


# --- Filters --------------------------------------------------------------------------------------------------------


def test_equality_filter_counts(store: DatastoreConfig) -> None:
    rows = table(store, PADRO)
    expected = sum(r["Codi_Districte"] == 1 for r in rows)
    assert expected == 648
    assert total(store, filters={"Codi_Districte": 1}) == expected
    assert total(store, filters={"Codi_Districte": "1"}) == expected  # query-string values are coerced
    assert total(store, filters=[{"field": "Codi_Districte", "op": "eq", "value": 1}]) == expected
    page = search(config=store, table_id=PADRO, filters={"Codi_Districte": 1}, limit=5)
    assert len(page.records) == 5 and {r["Codi_Districte"] for r in page.records} == {1}
    gracia = sum(r["Nom_Districte"] == "Gràcia" for r in rows)
    assert gracia > 0 and total(store, filters={"Nom_Districte": "Gràcia"}) == gracia


def test_null_filters(store: DatastoreConfig) -> None:
    assert total(store, filters={"Valor": None}) == 817
    assert total(store, filters={"Valor": {"is_null": True}}) == 817
    assert total(store, filters={"Valor": {"not_null": True}}) == 12687 - 817
    assert total(store, filters={"Valor": {"is_null": False}}) == 12687 - 817


def test_in_ne_and_not_in(store: DatastoreConfig) -> None:
    rows = table(store, PADRO)
    assert total(store, filters={"Codi_Districte": [1, 2, 3]}) == sum(r["Codi_Districte"] in (1, 2, 3) for r in rows)
    assert total(store, filters={"NIV_EDUCA_esta": {"ne": 1}}) == sum(r["NIV_EDUCA_esta"] != 1 for r in rows)
    # ne and not_in mean "is not this value": null cells are kept
    assert total(store, filters={"Valor": {"ne": 8}}) == sum(r["Valor"] != 8 for r in rows)
    assert total(store, filters={"Valor": {"not_in": [8, 9]}}) == sum(r["Valor"] not in (8, 9) for r in rows)


def test_range_filters(store: DatastoreConfig) -> None:
    rows = table(store, PADRO)
    values = [r["Valor"] for r in rows if r["Valor"] is not None]
    assert total(store, filters={"Valor": {"gte": 100, "lt": 200}}) == sum(100 <= v < 200 for v in values)
    assert total(store, filters={"Valor": {"gt": 100, "lte": 200}}) == sum(100 < v <= 200 for v in values)
    assert total(store, filters={"Data_Referencia": "2023-01-01"}) == 12687
    assert total(store, filters={"Data_Referencia": {"gt": "2023-01-01"}}) == 0
    assert total(store, filters={"Nom_Barri": {"gte": "la", "lt": "lb"}}) == sum(
        "la" <= r["Nom_Barri"] < "lb" for r in rows
    )


# --- Full text ------------------------------------------------------------------------------------------------------


def test_q_ignores_case_and_accents(store: DatastoreConfig) -> None:
    expected = sum("Plaça" in (r["ubicacio"] or "") for r in table(store, STATIONS))
    assert expected > 0
    for q in ("placa", "PLAÇA", "plaça"):
        result = search(config=store, table_id=STATIONS, q=q, include_total=True)
        assert result.total == expected
        assert all("Plaça" in r["ubicacio"] for r in result.records)
    both = search(config=store, table_id=STATIONS, q="placa trueta", include_total=True)
    assert both.total and all("Trueta" in r["ubicacio"] for r in both.records)
    by_column = search(config=store, table_id=STATIONS, q={"ubicacio": "placa"}, include_total=True)
    assert by_column.total == expected


def test_q_wildcards_are_literal(store: DatastoreConfig) -> None:
    assert search(config=store, table_id=STATIONS, q="%", include_total=True).total == 0
    assert search(config=store, table_id=STATIONS, q="_", include_total=True).total == 0


# --- Projection, sort, pages ----------------------------------------------------------------------------------------


def test_fields_projection_and_types(store: DatastoreConfig) -> None:
    result = search(config=store, table_id=PADRO, fields=["Nom_Barri", "Valor", "Data_Referencia"], limit=3)
    assert [(f.name, f.type) for f in result.fields] == [
        ("Nom_Barri", "string"),
        ("Valor", "integer"),
        ("Data_Referencia", "date"),
    ]
    assert all(list(r) == ["Nom_Barri", "Valor", "Data_Referencia"] for r in result.records)
    assert result.records[0]["Data_Referencia"] == "2023-01-01"  # ISO text, JSON-safe
    json.dumps(result.model_dump())


def test_geometry_is_geojson_text_and_objects_are_parsed(store: DatastoreConfig) -> None:
    d = search(config=store, table_id=DISTRICTES, fields="NOM,geometry", sort="NOM", limit=1)
    assert d.fields[1].type == "geojson" and d.records[0]["NOM"] == "Ciutat Vella"
    assert json.loads(d.records[0]["geometry"])["type"] in ("Polygon", "MultiPolygon")
    c = search(config=store, table_id=CITIBIKE, fields=["rental_uris"], limit=1)
    assert c.fields[0].type == "object" and isinstance(c.records[0]["rental_uris"], dict)


def test_multi_column_sort(store: DatastoreConfig) -> None:
    result = search(config=store, table_id=PADRO, sort="Codi_Districte desc, Valor", limit=200)
    keys = [(r["Codi_Districte"], r["Valor"]) for r in result.records]
    assert keys[0][0] == 10
    assert keys == sorted(keys, key=lambda k: (-k[0], k[1] is None, k[1] or 0))  # nulls last


def pages(store: DatastoreConfig, *, use_cursor: bool, size: int, **kw: Any) -> list[list[dict[str, Any]]]:
    out: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        if use_cursor:
            result = search(config=store, table_id=PADRO, limit=size, cursor=cursor, **kw)
        else:
            result = search(config=store, table_id=PADRO, limit=size, offset=len(out) * size, **kw)
        if result.records:
            out.append(result.records)
        cursor = result.next_cursor
        if (use_cursor and cursor is None) or (not use_cursor and len(result.records) < size):
            return out


def test_keyset_pages_equal_offset_pages(store: DatastoreConfig) -> None:
    kw: dict[str, Any] = {"sort": [{"field": "Nom_Barri"}, {"field": "Valor", "direction": "desc"}]}
    by_cursor = pages(store, use_cursor=True, size=1000, **kw)
    by_offset = pages(store, use_cursor=False, size=1000, **kw)
    assert len(by_cursor) == 13 and by_cursor == by_offset
    assert sum(len(p) for p in by_cursor) == 12687
    seen = Counter(json.dumps(r, sort_keys=True) for p in by_cursor for r in p)
    assert seen == Counter(json.dumps(r, sort_keys=True, default=str) for r in _iso(table(store, PADRO)))


def _iso(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in r.items()} for r in rows]


def test_keyset_pages_with_filters_projection_and_hidden_sort_key(store: DatastoreConfig) -> None:
    kw: dict[str, Any] = {"filters": {"Codi_Districte": [1, 2]}, "fields": ["Nom_Barri"], "sort": "Valor desc"}
    by_cursor = pages(store, use_cursor=True, size=97, **kw)
    assert by_cursor == pages(store, use_cursor=False, size=97, **kw)
    assert sum(len(p) for p in by_cursor) == total(store, filters={"Codi_Districte": [1, 2]})
    assert all(list(r) == ["Nom_Barri"] for p in by_cursor for r in p)


def test_last_page_has_no_cursor(store: DatastoreConfig) -> None:
    assert search(config=store, table_id=STATIONS, limit=55).next_cursor is None
    assert search(config=store, table_id=STATIONS, limit=54).next_cursor is not None


def test_distinct(store: DatastoreConfig) -> None:
    result = search(config=store, table_id=PADRO, fields=["Codi_Districte", "Nom_Districte"], distinct=True,
                    include_total=True, sort="Codi_Districte")  # fmt: skip
    assert result.total == 10 and [r["Codi_Districte"] for r in result.records] == list(range(1, 11))
    first = search(config=store, table_id=PADRO, fields=["Nom_Districte"], distinct=True, limit=4)
    second = search(config=store, table_id=PADRO, fields=["Nom_Districte"], distinct=True, limit=10,
                    cursor=first.next_cursor)  # fmt: skip
    names = [r["Nom_Districte"] for r in first.records + second.records]
    assert len(names) == 10 and names == sorted(names)


# --- Aggregates and time buckets ------------------------------------------------------------------------------------


def quantile_cont(values: list[int], q: float) -> float:
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def test_group_by_aggregates_and_percentiles(store: DatastoreConfig) -> None:
    result = search(
        config=store,
        table_id=PADRO,
        group_by=["Codi_Districte"],
        aggregates=[
            "count",
            "count:Valor",
            "sum:Valor",
            "avg:Valor",
            "min:Valor",
            "max:Valor",
            "p50:Valor",
            "p90:Valor",
            "p95:Valor",
            "p99:Valor",
            {"function": "count_distinct", "field": "Seccio_Censal", "alias": "sections"},
        ],  # fmt: skip
        include_total=True,
    )
    names = [f.name for f in result.fields]
    assert names[:4] == ["Codi_Districte", "count", "count_Valor", "sum_Valor"] and names[-1] == "sections"
    types = {f.name: f.type for f in result.fields}
    assert types["sum_Valor"] == "integer" and types["p90_Valor"] == "number" and types["min_Valor"] == "integer"
    assert result.total == 10 and [r["Codi_Districte"] for r in result.records] == list(range(1, 11))
    rows = table(store, PADRO)
    for record in result.records:
        group = [r for r in rows if r["Codi_Districte"] == record["Codi_Districte"]]
        values = [r["Valor"] for r in group if r["Valor"] is not None]
        assert record["count"] == len(group) and record["count_Valor"] == len(values)
        assert record["sum_Valor"] == sum(values) and record["avg_Valor"] == pytest.approx(sum(values) / len(values))
        assert record["min_Valor"] == min(values) and record["max_Valor"] == max(values)
        for p in (50, 90, 95, 99):
            assert record[f"p{p}_Valor"] == pytest.approx(quantile_cont(values, p / 100))
        assert record["sections"] == len({r["Seccio_Censal"] for r in group})


def test_aggregates_sorted_and_paged(store: DatastoreConfig) -> None:
    kw: dict[str, Any] = {"group_by": "Nom_Barri", "aggregates": ["sum:Valor"], "sort": "sum_Valor desc"}
    full = search(config=store, table_id=PADRO, limit=100, **kw)
    first = search(config=store, table_id=PADRO, limit=30, **kw)
    rest = search(config=store, table_id=PADRO, limit=100, cursor=first.next_cursor, **kw)
    assert first.records + rest.records == full.records and len(full.records) == 73
    sums = [r["sum_Valor"] for r in full.records]
    assert sums == sorted(sums, reverse=True)


def test_aggregates_without_groups(store: DatastoreConfig) -> None:
    result = search(config=store, table_id=PADRO, aggregates=["count", "sum:Valor"], filters={"SEXE": 1})
    rows = [r for r in table(store, PADRO) if r["SEXE"] == 1]
    assert result.records == [{"count": len(rows), "sum_Valor": sum(r["Valor"] or 0 for r in rows)}]


def test_time_bucket_by_year(store: DatastoreConfig) -> None:
    result = search(config=store, table_id=POBLACION, time_bucket={"field": "fecha", "unit": "year"},
                    aggregates=["sum:num_personas"], filters={"cod_distrito": None})  # fmt: skip
    assert [(f.name, f.type) for f in result.fields] == [("fecha_year", "date"), ("sum_num_personas", "integer")]
    assert [r["fecha_year"] for r in result.records] == [f"{y}-01-01" for y in range(2018, 2025)]
    assert result.records[-1]["sum_num_personas"] == 3460491  # the city total of 2024


def test_time_bucket_by_month_and_week_with_groups(store: DatastoreConfig) -> None:
    result = search(config=store, table_id=PADRO, time_bucket={"field": "Data_Referencia", "unit": "month",
                    "alias": "month"}, group_by="SEXE")  # fmt: skip
    by_sex = Counter(r["SEXE"] for r in table(store, PADRO))
    assert [list(r.values()) for r in result.records] == [[1, "2023-01-01", by_sex[1]], [2, "2023-01-01", by_sex[2]]]
    week = search(config=store, table_id=PADRO, time_bucket={"field": "Data_Referencia", "unit": "week"})
    assert week.records == [{"Data_Referencia_week": "2022-12-26", "count": 12687}]  # ISO weeks start on Monday


# --- Versions, concurrency ------------------------------------------------------------------------------------------


def test_cursor_pins_the_version(tmp_path: Path) -> None:
    config = DatastoreConfig(root=tmp_path / "store", memory_limit="256MB", threads=1)
    source = tmp_path / "t.csv"
    source.write_text("id,name\n" + "".join(f"{i},n{i}\n" for i in range(1, 21)))
    ingest_file(config=config, table_id="t", source=source, filename="t.csv")
    first = search(config=config, table_id="t", limit=5)
    source.write_text("id,name\n" + "".join(f"{i},m{i}\n" for i in range(100, 110)))
    ingest_file(config=config, table_id="t", source=source, filename="t.csv")
    second = search(config=config, table_id="t", limit=5, cursor=first.next_cursor)
    assert second.version == 1 and [r["id"] for r in second.records] == [6, 7, 8, 9, 10]
    assert search(config=config, table_id="t", limit=1).version == 2
    assert search(config=config, table_id="t", version=1, limit=1).records == [{"id": 1, "name": "n1"}]
    with pytest.raises(Invalid) as err:
        search(config=config, table_id="t", version=2, cursor=first.next_cursor)
    assert "cursor" in err.value.fields
    with pytest.raises(NotFound):
        search(config=config, table_id="t", version=3)
    with pytest.raises(NotFound):
        search(config=config, table_id="nothing-here")
    close_read_pools(config)


def test_concurrent_searches(store: DatastoreConfig) -> None:
    def one(district: int) -> int | None:
        return search(config=store, table_id=PADRO, filters={"Codi_Districte": district}, include_total=True).total

    with ThreadPoolExecutor(8) as pool:
        totals = list(pool.map(one, [d for d in range(1, 11) for _ in range(3)]))
    rows = table(store, PADRO)
    assert totals == [sum(r["Codi_Districte"] == d for r in rows) for d in range(1, 11) for _ in range(3)]


# --- Errors ---------------------------------------------------------------------------------------------------------


def cursor_token(data: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("kw", "field", "text"),
    [
        ({"filters": {"Nope": 1}}, "filters", "unknown column `Nope`"),
        ({"filters": {"codi_districte": 1}}, "filters", "did you mean `Codi_Districte`"),
        ({"filters": {"Valor": {"between": [1, 2]}}}, "filters", "unknown operator `between`"),
        ({"filters": [{"field": "Valor", "op": "like", "value": 1}]}, "filters", "Input should be"),
        ({"filters": {"Valor": "many"}}, "filters", "`many` is not an integer"),
        ({"filters": {"Data_Referencia": "1/1/2023"}}, "filters", "is not a date"),
        ({"filters": {"Valor": {"in": []}}}, "filters", "non-empty list"),
        ({"filters": {"Valor": {"gt": None}}}, "filters", "needs a value"),
        ({"fields": ["Valor", "Nope"]}, "fields", "unknown column `Nope`"),
        ({"fields": ["Valor", "Valor"]}, "fields", "twice"),
        ({"sort": "Nope desc"}, "sort", "unknown column `Nope`"),
        ({"sort": [{"field": "Valor", "direction": "down"}]}, "sort", "Input should be"),
        ({"q": {"Valor": "1"}}, "q", "text columns"),
        ({"group_by": "Nope"}, "group_by", "unknown column `Nope`"),
        ({"aggregates": ["median:Valor"]}, "aggregates", "Input should be"),
        ({"aggregates": ["sum:Nom_Barri"]}, "aggregates", "needs a numeric column"),
        ({"aggregates": ["sum"]}, "aggregates", "needs a column"),
        ({"aggregates": ["count", "count"]}, "aggregates", "same name"),
        ({"group_by": "SEXE", "sort": "Valor"}, "sort", "sort a grouped result by its columns"),
        ({"group_by": "SEXE", "fields": ["SEXE"]}, "fields", "own columns"),
        ({"group_by": "SEXE", "distinct": True}, "distinct", "already distinct"),
        ({"distinct": True, "fields": ["SEXE"], "sort": "Valor"}, "sort", "selected columns"),
        ({"time_bucket": {"field": "Valor", "unit": "year"}}, "time_bucket", "not a date"),
        ({"time_bucket": {"field": "Data_Referencia", "unit": "hour"}}, "time_bucket", "holds dates"),
        ({"time_bucket": {"field": "Data_Referencia", "unit": "fortnight"}}, "time_bucket", "Input should be"),
        ({"limit": 40_000}, "limit", "at most 32000"),
        ({"limit": -1}, "limit", "greater than or equal to 0"),
        ({"cursor": "not a cursor!"}, "cursor", "not a cursor"),
        ({"cursor": cursor_token({"v": 1, "h": "0", "k": [1]})}, "cursor", "another search"),
        ({"cursor": cursor_token({"v": 1})}, "cursor", "not a cursor"),
        ({"cursor": cursor_token({"v": 1, "h": "x", "k": []}), "offset": 5}, "offset", "either offset or cursor"),
    ],
)
def test_invalid_requests_name_the_parameter(store: DatastoreConfig, kw: dict[str, Any], field: str, text: str) -> None:
    with pytest.raises(Invalid) as err:
        search(config=store, table_id=PADRO, **kw)
    assert list(err.value.fields) == [field]
    assert text in " ".join(err.value.fields[field]), err.value.fields


def test_invalid_by_column_type(store: DatastoreConfig) -> None:
    with pytest.raises(Invalid, match="is_null or not_null"):
        search(config=store, table_id=DISTRICTES, filters={"geometry": "x"})
    with pytest.raises(Invalid, match="cannot be sorted"):
        search(config=store, table_id=DISTRICTES, sort="geometry")
    assert search(config=store, table_id=DISTRICTES, filters={"geometry": {"not_null": True}}, limit=0,
                  include_total=True).total == 10  # fmt: skip


def test_tampered_cursor_values_are_refused(store: DatastoreConfig) -> None:
    first = search(config=store, table_id=PADRO, sort="Data_Referencia", limit=2)
    assert first.next_cursor
    data = json.loads(base64.urlsafe_b64decode(first.next_cursor + "=" * (-len(first.next_cursor) % 4)))
    data["k"][0] = "'; DROP TABLE x; --"
    with pytest.raises(Invalid) as err:
        search(config=store, table_id=PADRO, sort="Data_Referencia", limit=2, cursor=cursor_token(data))
    assert "cursor" in err.value.fields


@pytest.mark.parametrize(
    ("duck_type", "expected"),
    [
        ("BIGINT", "integer"), ("HUGEINT", "integer"), ("UTINYINT", "integer"), ("DOUBLE", "number"),
        ("DECIMAL(18,3)", "number"), ("VARCHAR", "string"), ("ENUM('a', 'b')", "string"), ("BOOLEAN", "boolean"),
        ("DATE", "date"), ("TIMESTAMP WITH TIME ZONE", "datetime"), ("TIME", "time"), ("INTERVAL", "duration"),
        ("JSON", "object"), ("STRUCT(a INTEGER)", "object"), ("INTEGER[]", "array"), ("BLOB", "any"),
    ],
)  # fmt: skip
def test_duckdb_types_as_frictionless_types(duck_type: str, expected: str) -> None:
    assert frictionless_type(duck_type) == expected


def test_json_safe_values() -> None:
    assert json_safe(Decimal("12")) == 12 and json_safe(Decimal("1.50")) == 1.5
    assert json_safe(float("nan")) is None and json_safe(date(2024, 1, 2)) == "2024-01-02"
    assert json_safe(datetime(2024, 1, 2, 3, 4, tzinfo=UTC)) == "2024-01-02T03:04:00+00:00"
    assert json_safe(timedelta(days=1, hours=2, seconds=30)) == "P1DT2H30S" and json_safe(b"\x00") == "AA=="
    assert json_safe({"a": [Decimal("1.5"), None]}) == {"a": [1.5, None]}
