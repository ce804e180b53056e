"""Bad uploads fail with a precise error, keep the previous version served and leave nothing on disk."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from citycommons.datastore import DatastoreConfig, ingest_file
from citycommons.datastore import versions as v
from citycommons.datastore.schemas import IngestResult
from citycommons.errors import CityCommonsError, Invalid, TooLarge
from tests.datastore.conftest import DATA, column, listing

GOOD = "id;name;value\n1;Gràcia;1,5\n2;Sants;2,25\n"


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / "uploads" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


@pytest.fixture
def previous(config: DatastoreConfig, tmp_path: Path) -> IngestResult:
    """Version 1 of table ``t``, which every failing upload below must leave in place."""
    return ingest_file(config=config, table_id="t", source=write(tmp_path, "good.csv", GOOD), filename="good.csv")


def refused(
    config: DatastoreConfig, previous: IngestResult, path: Path, error: type[CityCommonsError], match: str, **kw: object
) -> CityCommonsError:
    before = listing(config.root)
    with pytest.raises(error, match=match) as err:
        ingest_file(config=config, table_id="t", source=path, filename=path.name, **kw)  # type: ignore[arg-type]
    assert listing(config.root) == before  # nothing left behind, nothing changed
    assert v.latest_version(config=config, table_id="t") == 1
    assert column(previous, "value") == [1.5, 2.25]
    return err.value


def test_previous_version_reads_back(previous: IngestResult) -> None:
    assert column(previous, "name") == ["Gràcia", "Sants"]
    assert previous.table_schema.field("value").decimal_char == ","


def test_empty_file(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    err = refused(config, previous, write(tmp_path, "empty.csv", b""), Invalid, "empty")
    assert err.fields == {"file": ["the file is empty"]}


def test_header_only(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    refused(config, previous, write(tmp_path, "h.csv", "id;name;value\r\n"), Invalid, "header only")


def test_only_empty_records(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    refused(config, previous, write(tmp_path, "e.csv", "a;b\n;\n;\n"), Invalid, "all 2 records are empty")


def test_binary_junk(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    junk = bytes((i * 97 + 13) % 256 for i in range(4096))
    refused(config, previous, write(tmp_path, "junk.csv", junk), Invalid, "binary")


def test_nul_bytes_late_in_file(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    small = DatastoreConfig(root=config.root, sample_bytes=4096)
    data = GOOD.encode() * 200 + b"3;x\x00y;1\n"  # past the sniffing sample
    refused(small, previous, write(tmp_path, "late.csv", data), Invalid, "NUL byte at offset 8203")


def test_known_binary_formats(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    refused(config, previous, write(tmp_path, "a.csv", b"%PDF-1.7\n..."), Invalid, "not a table: a PDF")
    refused(
        config, previous, write(tmp_path, "b.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)), Invalid, "xls"
    )


def test_truncated_csv_inside_quotes(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    data = 'id,text\n1,"complete"\n2,"cut in the mid'
    refused(config, previous, write(tmp_path, "cut.csv", data), Invalid, "unterminated quoted field")


def test_truncated_json(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    full = (DATA / "nyc-citibike-stations.json").read_bytes()
    refused(config, previous, write(tmp_path, "cut.json", full[: len(full) // 2]), Invalid, "truncated JSON")


def test_truncated_xlsx(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    full = (DATA / "madrid-zonas-verdes-2024.xlsx").read_bytes()
    refused(config, previous, write(tmp_path, "cut.xlsx", full[: len(full) // 2]), Invalid, "damaged or truncated")


def test_truncated_parquet(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    full = previous.path.read_bytes()
    refused(config, previous, write(tmp_path, "cut.parquet", full[:-100]), Invalid, "truncated Parquet")


def test_wrong_declared_encoding(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    latin = write(tmp_path, "latin.csv", GOOD.encode("cp1252"))
    err = refused(config, previous, latin, Invalid, "not valid UTF-8", encoding="utf-8")
    assert "byte 0xE0 at offset" in err.fields["encoding"][0]
    utf8 = write(tmp_path, "utf8.csv", GOOD)
    err = refused(config, previous, utf8, Invalid, "mojibake", encoding="latin-1")
    assert "encoding" in err.fields


def test_latin1_detected_without_declaration(config: DatastoreConfig, tmp_path: Path) -> None:
    data = ("id;nombre\n" + "".join(f"{i};Año {i} – “citas” €\n" for i in range(5))).encode("cp1252")
    result = ingest_file(config=config, table_id="latin", source=write(tmp_path, "l.csv", data), filename="l.csv")
    assert result.report.encoding == "cp1252"
    assert column(result, "nombre")[0] == "Año 0 – “citas” €"


def test_invalid_utf8_after_the_sample(config: DatastoreConfig, tmp_path: Path) -> None:
    small = DatastoreConfig(root=config.root, sample_bytes=4096)
    ascii_head = "id;name\n" + "1;plain\n" * 1000  # longer than the sample
    path = write(tmp_path, "late.csv", ascii_head.encode() + "2;Peñalara\n".encode("cp1252"))
    result = ingest_file(config=small, table_id="late", source=path, filename="late.csv")
    assert column(result, "name")[-1] == "Peñalara"
    assert any("read as Windows-1252" in w for w in result.report.warnings)


def test_many_ragged_rows(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    data = "a,b,c\n" + "1,2,3\n" * 50 + "1,2\n" * 10 + "1,2,3,4\n"
    err = refused(config, previous, write(tmp_path, "r.csv", data), Invalid, "wrong number of fields")
    assert "record 51: Expected Number of Columns: 3 Found: 2" in err.message


def test_few_ragged_rows_are_quarantined(config: DatastoreConfig, tmp_path: Path) -> None:
    body = "".join(f"{i},{i * 2},{i}.5\n" for i in range(1, 201))
    body = body.replace("150,300,150.5\n", "150,300\n").replace("180,360,180.5\n", "180,360,oops\n")
    path = write(tmp_path, "r.csv", "a,b,c\n" + body)
    result = ingest_file(config=config, table_id="ragged", source=path, filename="r.csv")
    assert result.report.rows == 199 and result.report.quarantined_rows == 1
    entries = [(q.row, q.column, q.value, q.problem) for q in result.report.quarantine]
    assert entries[0] == (150, None, "150,300", "expected 3 fields, found 2")
    assert entries[1][:3] == (180, "c", "oops")  # row number counts the rejected record before it
    assert result.table_schema.field("c").type == "number"


def test_over_size_limit(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    small = DatastoreConfig(root=config.root, max_file_bytes=20)
    path = write(tmp_path, "big.csv", GOOD * 2)
    with pytest.raises(TooLarge) as err:
        ingest_file(config=small, table_id="t", source=path, filename="big.csv")
    assert "over the limit of 20" in err.value.fields["file"][0]
    assert v.latest_version(config=config, table_id="t") == 1


def _zip_bomb(path: Path) -> Path:
    """A real XLSX skeleton whose one sheet unpacks to 100 MB of whitespace (~100 KB packed)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(DATA / "madrid-zonas-verdes-2024.xlsx") as src, zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info, src.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with out.open(info, "w", force_zip64=True) as sheet:
            chunk = b" " * (1 << 20)
            for _ in range(100):
                sheet.write(chunk)
    path.write_bytes(buf.getvalue())
    return path


def test_zip_bomb(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    bomb = _zip_bomb(tmp_path / "uploads" / "bomb.xlsx")
    assert os.path.getsize(bomb) < 2_000_000
    err = refused(config, previous, bomb, TooLarge, "compression ratio")
    assert "zip bomb" in err.fields["file"][0]
    tight = DatastoreConfig(root=config.root, max_xlsx_uncompressed_bytes=1_000_000)
    with pytest.raises(TooLarge, match="unpacks to"):
        ingest_file(config=tight, table_id="t", source=DATA / "madrid-zonas-verdes-2024.xlsx", filename="z.xlsx")


def test_not_a_zip_workbook(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data.csv", GOOD)
    refused(config, previous, write(tmp_path, "d.zip", buf.getvalue()), Invalid, "zip archive that is not an XLSX")


def test_json_that_is_not_a_table(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    refused(config, previous, write(tmp_path, "a.json", '{"a": 1, "b": {"c": 2}}'), Invalid, "without an array")
    refused(config, previous, write(tmp_path, "b.json", "[1, 2, 3]"), Invalid, "items are not objects")
    refused(config, previous, write(tmp_path, "c.json", '{"@context": {}, "@graph": [{"a": 1}]}'), Invalid, "JSON-LD")
    refused(config, previous, write(tmp_path, "d.html", "<!DOCTYPE html><html></html>"), Invalid, "HTML page")


def test_bad_table_id(config: DatastoreConfig, tmp_path: Path) -> None:
    with pytest.raises(Invalid) as err:
        ingest_file(config=config, table_id="../x", source=write(tmp_path, "g.csv", GOOD), filename="g.csv")
    assert "table_id" in err.value.fields
    assert listing(config.root) == []


def test_failed_first_upload_leaves_no_table_directory(config: DatastoreConfig, tmp_path: Path) -> None:
    with pytest.raises(Invalid):
        ingest_file(config=config, table_id="new", source=write(tmp_path, "h.csv", "a,b\n"), filename="h.csv")
    assert listing(config.root) == []


def test_mixed_encodings(config: DatastoreConfig, previous: IngestResult, tmp_path: Path) -> None:
    small = DatastoreConfig(root=config.root, sample_bytes=4096)
    data = ("id;name\n" + "1;Gràcia\n" * 1000).encode() + "2;Peñalara\n".encode("cp1252")
    refused(small, previous, write(tmp_path, "mixed.csv", data), Invalid, "mixed encodings")
