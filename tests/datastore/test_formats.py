"""Format and dialect detection, JSON shapes and the DuckDB sandbox, on small generated files."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from citycommons.datastore import DatastoreConfig, ingest_file
from citycommons.datastore.facade import EngineError, Params, open_engine
from citycommons.errors import Invalid
from tests.datastore.conftest import DATA, column, rows, types


def ingest(config: DatastoreConfig, tmp_path: Path, name: str, data: bytes | str, **kw: object):  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return ingest_file(config=config, table_id="t", source=path, filename=name, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(config: DatastoreConfig, tmp_path: Path, delimiter: str) -> None:
    text = (
        delimiter.join(["a", "b", "c"]) + "\r\n" + "\r\n".join(delimiter.join(["1", '"x, y"', "2"]) for _ in range(5))
    )
    r = ingest(config, tmp_path, "f.txt", text)
    assert r.report.delimiter == delimiter and r.report.rows == 5
    assert column(r, "b")[0] == "x, y" and types(r) == {"a": "integer", "b": "string", "c": "integer"}


def test_quoted_newlines_and_quotes(config: DatastoreConfig, tmp_path: Path) -> None:
    r = ingest(config, tmp_path, "q.csv", 'id,text\n1,"two\nlines"\n2,"say ""hi"""\n')
    assert column(r, "text") == ["two\nlines", 'say "hi"']


def test_utf16_with_bom(config: DatastoreConfig, tmp_path: Path) -> None:
    r = ingest(config, tmp_path, "u.txt", "nom\tvalor\nGràcia\t1\n".encode("utf-16"))
    assert r.report.encoding == "utf-16" and rows(r) == [{"nom": "Gràcia", "valor": 1}]


def test_header_names_are_made_unique(config: DatastoreConfig, tmp_path: Path) -> None:
    r = ingest(config, tmp_path, "h.csv", "a, a ,,A\n1,2,3,4\n")
    assert [f.name for f in r.table_schema.fields] == ["a", "a_2", "field_3", "A_3"]


def test_column_filled_only_after_the_sample(config: DatastoreConfig, tmp_path: Path) -> None:
    small = DatastoreConfig(root=config.root, sample_rows=10)
    text = "a,b\n" + "1,\n" * 30 + "".join(f"2,{i}.5\n" for i in range(30))
    r = ingest(small, tmp_path, "late.csv", text)
    assert types(r) == {"a": "integer", "b": "number"} and column(r, "b")[-1] == 29.5


def test_leading_zeros_after_the_sample_make_a_code(config: DatastoreConfig, tmp_path: Path) -> None:
    small = DatastoreConfig(root=config.root, sample_rows=10)
    r = ingest(small, tmp_path, "z.csv", "c\n" + "12\n" * 30 + "007\n")
    assert types(r) == {"c": "string"} and column(r, "c")[-1] == "007"
    assert r.table_schema.field("c").kind == "code"


def test_ndjson(config: DatastoreConfig, tmp_path: Path) -> None:
    lines = [{"id": 1, "code": "007", "v": 1.5, "ok": True}, {"id": 2, "code": "008", "v": 2, "extra": [1]}]
    r = ingest(config, tmp_path, "d.ndjson", "\n".join(json.dumps(x) for x in lines) + "\n")
    assert r.report.format == "ndjson"
    assert types(r) == {"id": "integer", "code": "string", "v": "number", "ok": "boolean", "extra": "array"}
    assert column(r, "code") == ["007", "008"]


def test_json_array_with_dates_and_non_objects(config: DatastoreConfig, tmp_path: Path) -> None:
    data = [{"d": "2024-01-02", "t": "2024-01-02T10:00:00Z", "n": 1}, 5, {"d": "2024-03-04", "n": 99999999999999999999}]
    r = ingest(config, tmp_path, "a.json", json.dumps(data))
    assert types(r) == {"d": "date", "t": "datetime", "n": "string"}
    assert r.report.rows == 2 and r.report.quarantined_rows == 1
    assert r.report.quarantine[0].row == 2 and r.report.quarantine[0].problem == "record is not an object"
    assert column(r, "n") == ["1", "99999999999999999999"]


def test_json_picks_the_shallowest_record_array(config: DatastoreConfig, tmp_path: Path) -> None:
    doc = {"meta": {"n": 2}, "rows": [{"a": 1, "tags": [{"x": 1}, {"x": 2}, {"x": 3}]}, {"a": 2, "tags": []}]}
    r = ingest(config, tmp_path, "n.json", json.dumps(doc))
    assert r.report.json_path == "rows" and r.report.rows == 2
    assert any("records read from `rows` (detected)" in w for w in r.report.warnings)


def test_geojson_property_named_like_a_geometry_column(config: DatastoreConfig, tmp_path: Path) -> None:
    square = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"geometry": "x", "code": "01"}, "geometry": square},
            {"type": "Feature", "properties": {"code": "02"}, "geometry": {"type": "Point", "coordinates": [5, 6]}},
            {"type": "Feature", "properties": {"code": "03"}, "geometry": None},
        ],
    }
    r = ingest(config, tmp_path, "g.json", json.dumps(doc))
    data = rows(r)
    assert r.report.format == "geojson" and data[0]["property_geometry"] == "x"
    assert (data[0]["centroid_lon"], data[0]["centroid_lat"]) == (1.0, 1.0)
    assert (data[1]["bbox_minx"], data[1]["bbox_maxy"], data[1]["centroid_lat"]) == (5.0, 6.0, 6.0)
    assert data[2]["geometry"] is None and data[2]["bbox_minx"] is None


def test_parquet_passthrough(config: DatastoreConfig, tmp_path: Path) -> None:
    table = pa.table({"id": [1, 2], "name": ["a", "b"], "when": pa.array([0, 1], pa.timestamp("s"))})
    pq.write_table(table, tmp_path / "in.parquet")
    r = ingest_file(config=config, table_id="t", source=tmp_path / "in.parquet", filename="in.parquet")
    assert types(r) == {"id": "integer", "name": "string", "when": "datetime"} and r.report.rows == 2


def test_turtle_is_refused_even_when_named_csv(config: DatastoreConfig) -> None:
    with pytest.raises(Invalid, match="DCAT catalog record"):
        ingest_file(config=config, table_id="t", source=DATA / "madrid-dcat-dataset-gob-es.ttl", filename="x.csv")


def test_progress_is_reported(config: DatastoreConfig, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    r = ingest(config, tmp_path, "p.csv", "a\n1\n2\n", progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (r.report.source_bytes, r.report.source_bytes)


def test_engine_sandbox(config: DatastoreConfig, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    allowed = tmp_path / "ok.csv"
    allowed.write_text("a\n1\n")
    with open_engine(config=config, workdir=work, readable=[allowed]) as engine:
        params = Params()
        assert engine.fetchone(f"SELECT count(*) FROM read_csv({params.add(str(allowed))})", params) == (1,)
        with pytest.raises(EngineError, match="Permission"):
            p2 = Params()
            engine.fetchall(f"SELECT * FROM read_csv({p2.add(str(DATA / 'bcn-air-stations.csv'))})", p2)
        with pytest.raises(EngineError):
            engine.execute("SET enable_external_access = true")
    with open_engine(config=config, workdir=work, timeout=0.2) as engine, pytest.raises(EngineError) as err:
        engine.fetchall("SELECT count(*) FROM range(10000000000) a")
    assert err.value.interrupted
