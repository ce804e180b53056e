"""Read-only SQL: accepted queries return typed records; every escape attempt is refused with a 4xx on ``sql``;
a query that would run for minutes stops at its time limit; the sandbox holds even without the checks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from citycommons.datastore import DatastoreConfig, ingest_file, versions
from citycommons.datastore.facade import EngineError, close_read_pools, read_pool
from citycommons.datastore.sql import check_sql, resolver_for, run_sql
from citycommons.errors import CityCommonsError, Forbidden, Invalid, TooLarge
from tests.datastore.conftest import DATA

PADRO = "bcn-padro-educacio-2023"
STATIONS = "bcn-air-stations"
DISTRICTES = "bcn-districtes"
PRIVATE = "madrid-arbolado-distritos-2024"
FILES = {
    PADRO: "bcn-padro-educacio-2023.csv",
    STATIONS: "bcn-air-stations.csv",
    DISTRICTES: "bcn-districtes.geojson",
    PRIVATE: "madrid-arbolado-distritos-2024.csv",
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatastoreConfig]:
    config = DatastoreConfig(root=tmp_path_factory.mktemp("sql") / "store", memory_limit="256MB", threads=1)
    for table_id, name in FILES.items():
        ingest_file(config=config, table_id=table_id, source=DATA / name, filename=name)
    yield config
    close_read_pools(config)


@pytest.fixture(scope="module")
def public(store: DatastoreConfig) -> Any:
    """The caller may read three tables; the fourth exists on disk but is private to them."""
    return resolver_for(config=store, readable={PADRO: None, STATIONS: None, DISTRICTES: 1})


def sql(store: DatastoreConfig, public: Any, query: str, **kw: Any) -> Any:
    return run_sql(config=store, sql=query, resolver=public, **kw)


def test_select_with_filter_and_types(store: DatastoreConfig, public: Any) -> None:
    result = sql(store, public, f'SELECT count(*) AS n, sum(Valor) AS s FROM "{PADRO}" WHERE Codi_Districte = 1')
    rows = pq.read_table(versions.data_path(config=store, table_id=PADRO)).to_pylist()
    district = [r for r in rows if r["Codi_Districte"] == 1]
    assert result.records == [{"n": 648, "s": sum(r["Valor"] or 0 for r in district)}]
    assert [(f.name, f.type) for f in result.fields] == [("n", "integer"), ("s", "integer")]
    assert result.tables == [PADRO] and not result.truncated


def test_cte_join_subquery_and_union(store: DatastoreConfig, public: Any) -> None:
    query = f"""
        WITH s AS (SELECT DISTINCT Codi_districte AS d, ubicacio FROM "{STATIONS}")
        SELECT x.NOM, count(*) AS stations,
               (SELECT max(Valor) FROM "{PADRO}" p WHERE p.Codi_Districte = CAST(x.DISTRICTE AS INTEGER)) AS top
        FROM "{DISTRICTES}" AS x JOIN s ON s.d = CAST(x.DISTRICTE AS INTEGER)
        GROUP BY ALL ORDER BY x.NOM
    """
    result = sql(store, public, query)
    assert result.tables == sorted([DISTRICTES, PADRO, STATIONS])
    assert result.records and all(r["stations"] >= 1 and r["top"] > 0 for r in result.records)
    union = sql(store, public, f'SELECT Estacio AS n FROM "{STATIONS}" UNION SELECT 99 ORDER BY n DESC LIMIT 1')
    assert union.records == [{"n": 99}]


def test_accents_dates_geometry_and_functions(store: DatastoreConfig, public: Any) -> None:
    r = sql(store, public, f"""SELECT ubicacio FROM "{STATIONS}" WHERE strip_accents(lower(ubicacio)) LIKE '%placa%'""")
    assert r.records and all("Plaça" in x["ubicacio"] for x in r.records)
    d = sql(
        store, public, f"SELECT date_trunc('month', Data_Referencia) AS m, count(*) AS c FROM \"{PADRO}\" GROUP BY 1"
    )
    assert d.records == [{"m": "2023-01-01T00:00:00", "c": 12687}] and d.fields[0].type == "datetime"
    g = sql(
        store, public, f"SELECT NOM, geometry, geometry->>'$.type' AS kind FROM \"{DISTRICTES}\" ORDER BY NOM LIMIT 1"
    )
    assert [f.type for f in g.fields] == ["string", "geojson", "string"]
    assert g.records[0]["geometry"].startswith('{"type":') and g.records[0]["kind"] in ("Polygon", "MultiPolygon")
    p = sql(
        store,
        public,
        f'SELECT quantile_cont(Valor, [0.5, 0.9]) AS q, list(DISTINCT SEXE ORDER BY SEXE) AS s FROM "{PADRO}"',
    )
    assert p.fields[0].type == "array" and len(p.records[0]["q"]) == 2 and p.records[0]["s"] == [1, 2]
    assert sql(store, public, "SELECT x FROM range(3) t(x)").records == [{"x": 0}, {"x": 1}, {"x": 2}]
    assert sql(store, public, "SELECT * FROM unnest([1, 2]) AS u(x)").records == [{"x": 1}, {"x": 2}]
    assert sql(store, public, f'SELECT count(*) AS n FROM "{PADRO}";').records == [{"n": 12687}]


def test_row_cap_sets_truncated(store: DatastoreConfig, public: Any) -> None:
    result = sql(store, public, f'SELECT * FROM "{PADRO}"', max_rows=100)
    assert len(result.records) == 100 and result.truncated
    assert not sql(store, public, f'SELECT * FROM "{STATIONS}"', max_rows=55).truncated


ESCAPES = [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM read_json_auto('/etc/passwd')",
    "SELECT * FROM read_parquet('/etc/passwd')",
    "SELECT * FROM parquet_scan('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM query('SELECT 1')",
    "SELECT * FROM duckdb_settings()",
    "SELECT sniff_csv('/etc/passwd')",
    "SELECT * FROM (SELECT * FROM read_csv('/etc/passwd')) AS t",
    f"WITH x AS (SELECT * FROM read_csv('/etc/passwd')) SELECT * FROM \"{PADRO}\", x",
    "SELECT * FROM \"read_csv\"('/etc/passwd')",
    "SELECT * FROM READ_CSV('/etc/passwd')",
    "SELECT * FROM read_csv(\u2018/etc/passwd\u2019)",
    "COPY (SELECT 1) TO '/tmp/out.csv'",
    f"COPY \"{PADRO}\" TO '/tmp/out.parquet'",
    "ATTACH '/tmp/x.duckdb' AS x",
    "DETACH x",
    "INSTALL httpfs",
    "LOAD httpfs",
    "PRAGMA database_list",
    "SET enable_external_access = true",
    "RESET lock_configuration",
    "CALL pragma_version()",
    "CREATE TABLE x AS SELECT 1",
    "CREATE MACRO f(a) AS a",
    f'INSERT INTO "{PADRO}" VALUES (1)',
    f'UPDATE "{PADRO}" SET Valor = 1',
    f'DELETE FROM "{PADRO}"',
    f'DROP VIEW "{PADRO}"',
    "EXPLAIN SELECT 1",
    f'DESCRIBE "{PADRO}"',
    "SHOW TABLES",
    "SELECT 1; SELECT 2",
    f'SELECT 1; DROP VIEW "{PADRO}"',
    "SELECT 1; -- a comment after the statement",
    "SELECT 1 /* ; */; /* */ DROP TABLE x",
    "SELECT 'http://example.org/x.csv'",
    "SELECT 'https://example.org/x.csv'",
    "SELECT 's3://bucket/key.parquet'",
    "SELECT 'file:///etc/passwd'",
    "SELECT getenv('HOME')",
    "SELECT \"getenv\"('HOME')",
    "SELECT current_setting('allowed_paths')",
    "SELECT getvariable('x')",
    "SELECT json_execute_serialized_sql('{}')",
    "SELECT nextval('s')",
    "SELECT setseed(0.5)",
    "SELECT $1",
    "SELECT ?",
    "WITH duckdb_settings AS (SELECT 1) SELECT * FROM duckdb_settings",
    "SELECT 1 INTO x",
    "",
    "SELEC 1",
]


@pytest.mark.parametrize("query", ESCAPES)
def test_escape_attempts_are_refused(store: DatastoreConfig, public: Any, query: str) -> None:
    with pytest.raises((Invalid, Forbidden)) as err:
        sql(store, public, query)
    assert 400 <= err.value.status < 500
    assert list(err.value.fields) == ["sql"] and err.value.fields["sql"][0]


def test_refusals_say_why(store: DatastoreConfig, public: Any) -> None:
    def message(query: str) -> str:
        with pytest.raises(CityCommonsError) as err:
            sql(store, public, query)
        return err.value.fields["sql"][0]

    assert "table function `read_csv`" in message("SELECT * FROM read_csv('/etc/passwd')")
    assert "function `getenv`" in message("SELECT getenv('HOME')")
    assert "only SELECT" in message("COPY (SELECT 1) TO '/tmp/x'")
    assert "exactly one" in message("SELECT 1; SELECT 2")
    assert "URL" in message("SELECT 'https://x'")
    assert "parameters" in message("SELECT $1")


def test_unknown_and_private_tables_look_the_same(store: DatastoreConfig, public: Any) -> None:
    assert versions.latest_version(config=store, table_id=PRIVATE) == 1  # it exists
    messages = {}
    for name in (PRIVATE, "no-such-table", "sqlite_master", "information_schema.tables", "/etc/passwd"):
        with pytest.raises(Invalid) as err:
            sql(store, public, f'SELECT * FROM "{name}"' if "." not in name else f"SELECT * FROM {name}")
        messages[name] = err.value.fields["sql"][0]
    assert messages[PRIVATE] == f"unknown table `{PRIVATE}`"
    assert messages["no-such-table"] == "unknown table `no-such-table`"
    assert all(m.startswith("unknown table") for m in messages.values())
    with pytest.raises(Invalid, match="unknown table"):
        sql(store, public, f'SELECT * FROM "{STATIONS}" WHERE Estacio IN (SELECT 1 FROM "{PRIVATE}")')


def test_cte_names_do_not_need_a_table(store: DatastoreConfig, public: Any) -> None:
    result = sql(store, public, "WITH t AS (SELECT 1 AS a) SELECT a FROM t")
    assert result.records == [{"a": 1}] and result.tables == []


def test_long_queries_stop_at_the_time_limit(store: DatastoreConfig, public: Any) -> None:
    for query in (
        "SELECT count(*) FROM range(10000000000)",
        f'SELECT count(*) FROM "{PADRO}" a, "{PADRO}" b, "{PADRO}" c WHERE a.Valor + b.Valor > c.Valor',
    ):
        started = time.monotonic()
        with pytest.raises(TooLarge) as err:
            sql(store, public, query, timeout=0.5)
        assert time.monotonic() - started < 5
        assert err.value.status == 413 and "longer than 0.5 s" in err.value.fields["sql"][0]
    assert sql(store, public, "SELECT 1 AS one").records == [{"one": 1}]  # the pool still works


def test_engine_errors_are_4xx_without_paths(store: DatastoreConfig, public: Any) -> None:
    with pytest.raises(Invalid) as err:
        sql(store, public, f'SELECT nope FROM "{STATIONS}"')
    assert "nope" in err.value.message and str(store.root) not in err.value.message


def test_checked_sql_is_regenerated_from_the_tree(public: Any) -> None:
    checked = check_sql(sql=f'/* hello */ SELECT Valor FROM "{PADRO}" -- bye */ , 2', resolver=public)
    assert "hello" not in checked.sql and "bye" not in checked.sql and "2" not in checked.sql.replace(PADRO, "")
    assert f'"{PADRO}" AS "{PADRO}"' in checked.sql
    assert set(checked.views) == {PADRO} and checked.views[PADRO].name == "data.parquet"


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('{private}')",
        "COPY (SELECT 1) TO '{tmp}/out.csv'",
        "ATTACH '{tmp}/x.duckdb' AS x",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET allowed_paths = ['/etc/passwd']",
    ],
)
def test_sandbox_holds_without_the_checks(store: DatastoreConfig, public: Any, tmp_path: Path, statement: str) -> None:
    """Defence in depth: statements that never pass ``check_sql`` fail in the sandbox anyway."""
    private = versions.data_path(config=store, table_id=PRIVATE)
    query = statement.format(private=private, tmp=tmp_path)
    with pytest.raises(EngineError):
        read_pool(store).fetch_sandboxed(query, views={STATIONS: public(STATIONS)}, timeout=5, max_rows=10)
    assert list(tmp_path.iterdir()) == []
