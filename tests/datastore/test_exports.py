"""Streamed exports: each format, uploaded again, gives back the rows it was made from."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from citycommons.datastore import DatastoreConfig, ingest_file, versions
from citycommons.datastore.exports import Export, export_search, export_sql
from citycommons.datastore.facade import close_read_pools
from citycommons.datastore.sql import resolver_for
from citycommons.errors import Forbidden, Invalid
from tests.datastore.conftest import DATA

PADRO = "bcn-padro-educacio-2023"
STATIONS = "bcn-air-stations"
DISTRICTES = "bcn-districtes"
FILES = {PADRO: "bcn-padro-educacio-2023.csv", STATIONS: "bcn-air-stations.csv", DISTRICTES: "bcn-districtes.geojson"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatastoreConfig]:
    config = DatastoreConfig(root=tmp_path_factory.mktemp("exports") / "store", memory_limit="256MB", threads=1)
    for table_id, name in FILES.items():
        ingest_file(config=config, table_id=table_id, source=DATA / name, filename=name)
    yield config
    close_read_pools(config)


def published(config: DatastoreConfig, table_id: str, version: int | None = None) -> list[dict[str, Any]]:
    return pq.read_table(versions.data_path(config=config, table_id=table_id, version=version)).to_pylist()


def reingest(config: DatastoreConfig, export: Export, tmp_path: Path) -> tuple[list[dict[str, Any]], list[bytes]]:
    """Write the export to a file and upload it as the next version of ``reimport``; its rows and the chunks."""
    chunks = list(export.chunks)
    assert all(isinstance(c, bytes) and c for c in chunks)
    path = tmp_path / export.filename
    path.write_bytes(b"".join(chunks))
    result = ingest_file(config=config, table_id="reimport", source=path, filename=export.filename)
    assert result.report.format == ("json" if export.format == "json" else export.format)
    return published(config, "reimport", result.version), chunks


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson", "parquet", "xlsx"])
def test_round_trip_of_a_csv_table(store: DatastoreConfig, tmp_path: Path, fmt: Any) -> None:
    export = export_search(config=store, table_id=STATIONS, format=fmt)
    assert export.filename == f"{STATIONS}-v1.{fmt}" and export.media_type
    rows, _ = reingest(store, export, tmp_path)
    assert rows == published(store, STATIONS)


@pytest.mark.parametrize("fmt", ["geojson", "parquet"])
def test_round_trip_of_a_geojson_table(store: DatastoreConfig, tmp_path: Path, fmt: Any) -> None:
    export = export_search(config=store, table_id=DISTRICTES, format=fmt)
    rows, _ = reingest(store, export, tmp_path)
    original = published(store, DISTRICTES)
    assert rows == original
    assert [json.loads(r["geometry"]) for r in rows] == [json.loads(r["geometry"]) for r in original]


def test_large_export_streams_in_batches(store: DatastoreConfig, tmp_path: Path) -> None:
    export = export_search(config=store, table_id=PADRO, format="csv")
    rows, chunks = reingest(store, export, tmp_path)
    assert len(chunks) >= 3  # the header, then one chunk per Arrow batch of 8192 rows
    assert rows == published(store, PADRO)
    assert chunks[0].startswith(b"Data_Referencia,Codi_Districte,") and chunks[1].startswith(b"2023-01-01,")


def test_xlsx_keeps_dates_and_nulls(store: DatastoreConfig, tmp_path: Path) -> None:
    export = export_search(config=store, table_id=PADRO, format="xlsx", filters={"Codi_Districte": 1})
    rows, _ = reingest(store, export, tmp_path)
    assert rows == [r for r in published(store, PADRO) if r["Codi_Districte"] == 1]
    sheet = load_workbook(tmp_path / export.filename, read_only=True).active
    assert sheet is not None and [c.value for c in next(sheet.iter_rows(max_row=1))][:2] == [
        "Data_Referencia",
        "Codi_Districte",
    ]


def test_export_applies_the_search(store: DatastoreConfig) -> None:
    export = export_search(config=store, table_id=PADRO, format="csv", fields=["Nom_Barri", "Valor"],
                           filters={"Valor": {"gte": 1000}}, sort="Valor desc")  # fmt: skip
    text = b"".join(export.chunks).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    expected = sorted((r for r in published(store, PADRO) if (r["Valor"] or 0) >= 1000), key=lambda r: -r["Valor"])
    assert [(r["Nom_Barri"], int(r["Valor"])) for r in rows] == [(r["Nom_Barri"], r["Valor"]) for r in expected]
    limited = export_search(config=store, table_id=PADRO, format="ndjson", fields="Valor", sort="Valor desc", limit=3)
    top = sorted((r["Valor"] for r in published(store, PADRO) if r["Valor"] is not None), reverse=True)[:3]
    assert [json.loads(line) for line in b"".join(limited.chunks).splitlines()] == [{"Valor": v} for v in top]


def test_export_of_a_grouped_result(store: DatastoreConfig) -> None:
    export = export_search(config=store, table_id=PADRO, format="json", group_by="Codi_Districte",
                           aggregates=["count", "p50:Valor"])  # fmt: skip
    data = json.loads(b"".join(export.chunks))
    assert len(data) == 10 and data[0]["Codi_Districte"] == 1 and sum(d["count"] for d in data) == 12687
    assert [f.name for f in export.fields] == ["Codi_Districte", "count", "p50_Valor"]


def test_empty_exports_are_well_formed(store: DatastoreConfig) -> None:
    none = {"Valor": {"lt": -1}}
    assert json.loads(b"".join(export_search(config=store, table_id=PADRO, format="json", filters=none).chunks)) == []
    assert b"".join(export_search(config=store, table_id=PADRO, format="ndjson", filters=none).chunks) == b""
    header = b"".join(export_search(config=store, table_id=PADRO, format="csv", fields="SEXE", filters=none).chunks)
    assert header.strip() == b"SEXE"
    empty = export_search(config=store, table_id=PADRO, format="parquet", filters=none)
    table = pq.read_table(io.BytesIO(b"".join(empty.chunks)))
    assert table.num_rows == 0 and "Valor" in table.column_names
    geo = export_search(config=store, table_id=DISTRICTES, format="geojson", filters={"NOM": "Atlantis"})
    assert json.loads(b"".join(geo.chunks)) == {"type": "FeatureCollection", "features": []}


def test_export_sql(store: DatastoreConfig, tmp_path: Path) -> None:
    resolver = resolver_for(config=store, readable={STATIONS: None, DISTRICTES: None})
    query = f'SELECT NOM, geometry, count(*) AS n FROM "{DISTRICTES}" d JOIN "{STATIONS}" s ON s.Codi_districte = CAST(d.DISTRICTE AS INTEGER) GROUP BY ALL ORDER BY NOM'
    geo = export_sql(config=store, sql=query, resolver=resolver, format="geojson")
    collection = json.loads(b"".join(geo.chunks))
    assert collection["features"] and all(f["geometry"]["type"] for f in collection["features"])
    assert set(collection["features"][0]["properties"]) == {"NOM", "n"}
    as_csv = export_sql(config=store, sql=query.replace("geometry, ", ""), resolver=resolver, format="csv")
    assert b"".join(as_csv.chunks).decode().splitlines()[0] == "NOM,n"
    with pytest.raises(Forbidden):
        export_sql(config=store, sql="SELECT * FROM read_csv('/etc/passwd')", resolver=resolver, format="csv")
    with pytest.raises(Invalid, match="unknown table"):
        export_sql(config=store, sql=f'SELECT * FROM "{PADRO}"', resolver=resolver, format="csv")


def test_export_errors_come_before_the_stream(store: DatastoreConfig) -> None:
    with pytest.raises(Invalid) as err:
        export_search(config=store, table_id=STATIONS, format="geojson")
    assert "geometry" in err.value.fields["format"][0]
    with pytest.raises(Invalid) as err:
        export_search(config=store, table_id=STATIONS, format="docx")  # type: ignore[arg-type]
    assert "format" in err.value.fields
    with pytest.raises(Invalid) as err:
        export_search(config=store, table_id=STATIONS, format="csv", fields=["Nope"])
    assert "fields" in err.value.fields
