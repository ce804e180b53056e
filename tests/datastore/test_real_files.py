"""Every file of shared/data, ingested: row counts and column types as MANIFEST.md states them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from citycommons.datastore import DatastoreConfig, ingest_file
from citycommons.datastore.schemas import IngestResult
from citycommons.errors import Invalid
from tests.datastore.conftest import DATA, column, listing, rows, types

TABLES = {
    "bcn-air-quality-realtime-2025-12.csv": 280,
    "bcn-air-stations.csv": 55,
    "bcn-districtes.geojson": 10,
    "bcn-padro-dimensions.csv": 1143,
    "bcn-padro-educacio-2023.csv": 12687,
    "madrid-aparcamientos-publicos.csv": 63,
    "madrid-arbolado-distritos-2024.csv": 260,
    "madrid-calair-tiemporeal.csv": 126,
    "madrid-poblacion-barrios.csv": 1071,
    "madrid-zonas-verdes-2024.xlsx": 1632,
    "nyc-citibike-stations.json": 2233,
}
NOT_TABLES = ("madrid-dcat-dataset-gob-es.ttl", "birmingham-ckan-package-search.json")


def ingest(config: DatastoreConfig, name: str, **kw: object) -> IngestResult:
    table_id = name.split(".")[0]
    return ingest_file(config=config, table_id=table_id, source=DATA / name, filename=name, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], IngestResult]:
    """Each real file ingested once per module (the results are read-only)."""
    config = DatastoreConfig(root=tmp_path_factory.mktemp("real") / "store", memory_limit="256MB", threads=1)
    cache: dict[str, IngestResult] = {}

    def get(name: str) -> IngestResult:
        if name not in cache:
            cache[name] = ingest(config, name)
        return cache[name]

    return get


def test_every_shared_file_is_covered() -> None:
    files = {p.name for p in DATA.iterdir() if p.name != "MANIFEST.md"}
    assert files == set(TABLES) | set(NOT_TABLES)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_row_count_and_version_layout(published: Callable[[str], IngestResult], name: str) -> None:
    result = published(name)
    assert result.report.rows == TABLES[name]
    assert result.version == 1
    vdir = result.path.parent
    assert sorted(p.name for p in vdir.iterdir()) == ["data.parquet", "report.json", "schema.json"]
    assert [p.name for p in vdir.parent.iterdir()] == ["v1"]  # no staging or temporary files


@pytest.mark.parametrize("name", NOT_TABLES)
def test_catalog_records_are_refused(config: DatastoreConfig, name: str) -> None:
    with pytest.raises(Invalid, match="not a table") as err:
        ingest(config, name)
    assert "not a table" in err.value.fields["file"][0]
    assert listing(config.root) == []


def test_bcn_air_quality(published: Callable[[str], IngestResult]) -> None:
    r = published("bcn-air-quality-realtime-2025-12.csv")
    t = types(r)
    for code in ("CODI_PROVINCIA", "CODI_MUNICIPI", "ESTACIO"):
        assert t[code] == "string" and r.table_schema.field(code).kind == "code"
    assert column(r, "CODI_PROVINCIA")[0] == "08" and column(r, "CODI_MUNICIPI")[0] == "019"
    assert set(column(r, "ESTACIO")) >= {"004", "043"}
    assert {t[c] for c in ("CODI_CONTAMINANT", "ANY", "MES", "DIA")} == {"integer"}
    hours = [f"H{h:02d}" for h in range(1, 25)]
    assert {t[h] for h in hours} == {"number"} and {t[f"V{h:02d}"] for h in range(1, 25)} == {"string"}
    values = rows(r)
    assert sum(1 for row in values for h in hours if row[h] is None) == 868
    assert sum(1 for row in values for h in hours if row[h] is not None and row[h] < 0) == 21


def test_bcn_air_stations(published: Callable[[str], IngestResult]) -> None:
    r = published("bcn-air-stations.csv")
    t = types(r)
    assert t["Estacio"] == "integer" and t["codi_eoi"] == "integer" and t["Longitud"] == "number"
    assert column(r, "codi_eoi")[0] == 8019004
    assert column(r, "ubicacio")[0].startswith("Plaça Josep Trueta")
    assert any("," in v for v in column(r, "Nom_barri"))


def test_bcn_padro_educacio_nulls(published: Callable[[str], IngestResult]) -> None:
    r = published("bcn-padro-educacio-2023.csv")
    t = types(r)
    assert t["Data_Referencia"] == "date"
    assert {t[c] for c in ("Codi_Districte", "Codi_Barri", "AEB", "Seccio_Censal", "NIV_EDUCA_esta", "SEXE")} == {
        "integer"
    }
    assert t["Valor"] == "integer"
    assert r.table_schema.field("Valor").missing_values == ["", ".."]
    valor = column(r, "Valor")
    assert sum(v is None for v in valor) == 817
    assert r.report.quarantined_cells == 0


def test_bcn_padro_dimensions_keeps_no_break_spaces(published: Callable[[str], IngestResult]) -> None:
    r = published("bcn-padro-dimensions.csv")
    assert types(r) == {
        "Codi_Dimensio": "integer",
        "Desc_Dimensio": "string",
        "Codi_Valor": "integer",
        "Desc_Valor_CA": "string",
        "Desc_Valor_ES": "string",
        "Desc_Valor_EN": "string",
    }
    labels = column(r, "Desc_Valor_CA") + column(r, "Desc_Valor_ES") + column(r, "Desc_Valor_EN")
    assert any("\u00a0" in (v or "") for v in labels)
    assert len(set(column(r, "Desc_Dimensio"))) == 26


def test_madrid_aparcamientos_latin1_and_bad_longitude(published: Callable[[str], IngestResult]) -> None:
    r = published("madrid-aparcamientos-publicos.csv")
    assert r.report.encoding == "cp1252"
    names = column(r, "NOMBRE")
    assert "Aparcamiento disuasorio Aviación Española" in names
    assert not any("Ã" in (n or "") for n in names)
    t = types(r)
    assert t["PK"] == "integer" and t["ACCESIBILIDAD"] == "integer" and t["NUM"] == "integer"
    assert t["CODIGO-POSTAL"] == "string" and t["LATITUD"] == "number"
    assert t["COORDENADA-X"] == "integer" and t["COD-BARRIO"] == "integer"
    assert t["PLANTA"] == "string" and t["PUERTA"] == "string"
    assert sum(v is None for v in column(r, "NUM")) == 8
    assert t["LONGITUD"] == "number"
    assert sum(v is None for v in column(r, "LONGITUD")) == 1
    assert [(q.row, q.column, q.value) for q in r.report.quarantine] == [(16, "LONGITUD", "--3.65138632197171")]
    assert any(
        w.startswith("LONGITUD: 1 value is not a number: `--3.65138632197171` (row 16)") for w in r.report.warnings
    )
    assert any("\n" in (v or "") for row in rows(r) for v in row.values() if isinstance(v, str))


def test_madrid_poblacion_thousands_and_long_dates(published: Callable[[str], IngestResult]) -> None:
    r = published("madrid-poblacion-barrios.csv")
    t = types(r)
    assert t["num_personas"] == t["num_personas_hombres"] == t["num_personas_mujeres"] == "integer"
    assert r.table_schema.field("num_personas").group_char == "."
    first = rows(r)[0]
    assert first["num_personas"] == 145411 and first["distrito"] == " Centro"
    assert 3460491 in column(r, "num_personas")
    assert 999 in column(r, "num_personas") or min(column(r, "num_personas")) < 1000
    assert t["fecha"] == "date" and len(set(column(r, "fecha"))) == 7
    assert str(first["fecha"]) == "2024-01-01"
    assert t["cod_municipio"] == "integer"
    assert t["cod_distrito"] == "integer"
    todos = [q for q in r.report.quarantine if q.column == "cod_distrito"]
    assert len(todos) == 7 and {q.value for q in todos} == {"Todos"}


def test_madrid_calair(published: Callable[[str], IngestResult]) -> None:
    r = published("madrid-calair-tiemporeal.csv")
    t = types(r)
    assert t["PROVINCIA"] == "integer" and t["MUNICIPIO"] == "string" and column(r, "MUNICIPIO")[0] == "079"
    assert t["ESTACION"] == t["MAGNITUD"] == t["ANO"] == "integer"
    assert t["PUNTO_MUESTREO"] == "string" and column(r, "PUNTO_MUESTREO")[0] == "28079011_12_8"
    assert t["DIA"] in ("string", "integer") and t["MES"] in ("string", "integer")
    assert {t[f"H{h:02d}"] for h in range(1, 25)} == {"number"}
    flags = [row[f"V{h:02d}"] for row in rows(r) for h in range(1, 25)]
    assert flags.count("V") == 2225 and flags.count("N") == 799


def test_madrid_arbolado_empty_records_skipped(published: Callable[[str], IngestResult]) -> None:
    r = published("madrid-arbolado-distritos-2024.csv")
    assert r.report.rows == 260 and r.report.skipped_empty_records == 22 and r.report.source_records == 282
    assert types(r) == {
        "Nº_Distrito": "integer",
        "Nombre_distrito": "string",
        "NOMBRE_ESPECIE": "string",
        "Nº_Unidades 2024": "integer",
    }
    assert set(column(r, "Nº_Distrito")) == set(range(1, 22))
    assert any("22 empty record" in w for w in r.report.warnings)


def test_madrid_zonas_verdes_xlsx(published: Callable[[str], IngestResult]) -> None:
    r = published("madrid-zonas-verdes-2024.xlsx")
    assert r.report.format == "xlsx" and r.report.sheet == "Zonas_Verdes_2024"
    t = types(r)
    assert t["Número de archivo"] == "integer" and min(column(r, "Número de archivo")) >= 300000
    assert t["Solar"] == "string" and column(r, "Solar")[0] == "5025.42 m2"
    for name in ("Distrito", "Subepígrafe", "Apartado", "Destino"):
        values = column(r, name)
        assert all(v is None or v == v.rstrip(" ") for v in values)
        assert max(len(v or "") for v in values) < 8192
    assert len(set(column(r, "Distrito"))) == 21


def test_xlsx_named_csv_is_detected_by_content(config: DatastoreConfig) -> None:
    result = ingest_file(
        config=config,
        table_id="zonas",
        source=DATA / "madrid-zonas-verdes-2024.xlsx",
        filename="Zonas_Verdes_2024.csv",
        declared_format="csv",
    )
    assert result.report.format == "xlsx" and result.report.rows == 1632
    assert any("declared as csv but the content is XLSX" in w for w in result.report.warnings)


def test_geojson_features(published: Callable[[str], IngestResult]) -> None:
    r = published("bcn-districtes.geojson")
    t = types(r)
    for name in ("DISTRICTE", "CODI_UA", "TERME", "LITERAL", "BARRI", "NOM"):
        assert t[name] == "string"
    assert t["PERIMETRE"] == t["AREA"] == t["GRUIXDIMEN"] == "number" and t["ORD_REPRES"] == "integer"
    assert t["geometry"] == "geojson"
    data = rows(r)
    assert data[0]["TERME"] == "080193" and data[0]["DISTRICTE"] == "01"
    assert [d["NOM"] for d in data][:3] == ["Ciutat Vella", "Eixample", "Sants-Montjuïc"]
    assert all(d["DOCUMENTA"] is None and d["TIPUS_POL"] is None for d in data)
    for d in data:
        assert 2.05 <= d["bbox_minx"] <= d["centroid_lon"] <= d["bbox_maxx"] <= 2.23
        assert 41.31 <= d["bbox_miny"] <= d["centroid_lat"] <= d["bbox_maxy"] <= 41.47
        assert d["geometry"].startswith('{"type":')
    assert any("2 MultiPolygon, 8 Polygon" in w for w in r.report.warnings)
    assert len(r.table_schema.fields) == 46 + 7


def test_citibike_nested_records(published: Callable[[str], IngestResult]) -> None:
    r = published("nyc-citibike-stations.json")
    assert r.report.json_path == "data.stations" and r.report.json_path_source == "detected"
    t = types(r)
    assert t["short_name"] == "string" and t["station_id"] == "string" and t["name"] == "string"
    assert t["capacity"] == "integer" and t["lat"] == t["lon"] == "number" and t["region_id"] == "string"
    assert t["rental_uris"] == "object"
    assert "7082.08" in column(r, "short_name")
    ids = column(r, "station_id")
    assert sum(len(i) == 19 and i.isdigit() for i in ids) == 404 and sum(len(i) == 36 for i in ids) == 1829
    assert sum(v is None for v in column(r, "region_id")) == 6


def test_citibike_with_named_path(config: DatastoreConfig) -> None:
    r = ingest(config, "nyc-citibike-stations.json", json_path="$.data.stations")
    assert r.report.rows == 2233 and r.report.json_path_source == "given"
    with pytest.raises(Invalid) as err:
        ingest(config, "nyc-citibike-stations.json", json_path="data.nope")
    assert "data.stations" in err.value.fields["json_path"][0]


def test_parquet_written_with_statistics(config: DatastoreConfig, published: Callable[[str], IngestResult]) -> None:
    import pyarrow.parquet as pq

    r = published("bcn-padro-educacio-2023.csv")
    meta = pq.ParquetFile(r.path).metadata
    stats = meta.row_group(0).column(7).statistics
    assert stats is not None and stats.has_min_max and stats.null_count == 817
    again = ingest_file(config=config, table_id="copy", source=r.path, filename="x.parquet")
    assert again.report.format == "parquet" and again.report.rows == 12687
    assert types(again) == types(r)
    assert listing(config.root / "copy") == ["v1", "v1/data.parquet", "v1/report.json", "v1/schema.json"]
