"""The one-pass writer (``datastore/onepass.py``): correct results on clean files, the careful path on the others.

No timings here: ``bench/datastore.py`` measures. These tests pin that a well-formed file is written by one DuckDB
statement with the right types, that a file with misfits still gets the careful path's quarantine (with source row
numbers), and that every strict guard accepts nothing the careful conversion would treat differently.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from citycommons.datastore import DatastoreConfig, infer, ingest_file, materialize, onepass, textio
from citycommons.datastore.casts import TextType, sql_str, typed_sql
from citycommons.datastore.facade import Params, open_engine
from citycommons.datastore.schemas import IngestResult
from tests.datastore.conftest import column, types

DISTRICTS = ["Ciutat Vella", "Eixample", "Sants-Montjuïc", "Gràcia", "Sant Martí"]


def sensors_csv(path: Path, rows: int, *, bad: dict[int, str] | None = None) -> Path:
    """Readings in time order; ``bad`` replaces the value of some 1-based records."""
    lines = ["sensor_id,ts,district,metric,value"]
    for i in range(rows):
        s = i % 500
        minute = i // 500
        value = (bad or {}).get(i + 1, f"{(i * 7919) % 10000 / 100:.2f}")
        ts = f"2024-{1 + minute // 1440 % 12:02d}-{1 + minute // 60 % 24:02d}T{minute % 24:02d}:{s % 60:02d}:00"
        lines.append(f"{s + 1},{ts},{DISTRICTS[s % 5]},{'no2' if s % 2 else 'pm10'},{value}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Spy:
    """Records how the ingest went: write calls, misfits, careful verifications, Python decoding passes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.writes: list[dict[str, Any]] = []
        self.misfits = 0
        self.verified = 0
        self.decoded = 0
        real_write, real_verify, real_stream = materialize.write_parquet, materialize.verify, textio._stream

        def stream(*args: Any) -> None:
            self.decoded += 1
            real_stream(*args)

        def write(**kw: Any) -> int:
            self.writes.append(kw)
            try:
                return real_write(**kw)
            except onepass.Misfit:
                self.misfits += 1
                raise

        def verify(**kw: Any) -> Any:
            self.verified += 1
            return real_verify(**kw)

        monkeypatch.setattr(materialize, "write_parquet", write)
        monkeypatch.setattr(materialize, "verify", verify)
        monkeypatch.setattr(textio, "_stream", stream)


def ingest(config: DatastoreConfig, path: Path) -> IngestResult:
    return ingest_file(config=config, table_id="sensors", source=path, filename=path.name)


def test_clean_file_is_written_in_one_pass(
    config: DatastoreConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(monkeypatch)
    result = ingest(config, sensors_csv(tmp_path / "s.csv", 50_000))
    assert len(spy.writes) == 1 and spy.writes[0]["one_pass"] is not None
    assert spy.misfits == 0 and spy.verified == 0 and spy.decoded == 0  # DuckDB's scan checked UTF-8
    assert result.report.rows == 50_000 and result.report.source_records == 50_000
    assert types(result) == {
        "sensor_id": "integer",
        "ts": "datetime",
        "district": "string",
        "metric": "string",
        "value": "number",
    }
    assert result.report.sorted_by == []  # a small table keeps its source order
    assert column(result, "sensor_id")[:3] == [1, 2, 3]
    assert str(column(result, "ts")[0]) == "2024-01-01 00:00:00"
    assert column(result, "district")[3] == "Gràcia"
    assert column(result, "value")[1] == pytest.approx(79.19)
    assert result.report.quarantine == [] and result.report.warnings == []


def test_large_table_of_readings_is_sorted_by_key_and_time(config: DatastoreConfig, tmp_path: Path) -> None:
    small = DatastoreConfig(root=config.root, sort_min_bytes=1, row_group_size=10_000)
    result = ingest(small, sensors_csv(tmp_path / "s.csv", 50_000))
    assert result.report.sorted_by == ["sensor_id", "ts"]
    keys = list(zip(column(result, "sensor_id"), column(result, "ts"), strict=True))
    assert keys == sorted(keys) and len(keys) == 50_000
    meta = pq.ParquetFile(result.path).metadata  # row groups of ~10k rows (DuckDB rounds to 2048-row vectors)
    first = meta.row_group(0).column(0).statistics
    assert meta.num_row_groups <= 5 and first.min == 1 and first.max <= 110  # ~100 sensors per row group


def test_three_bad_numbers_are_quarantined_with_their_rows(
    config: DatastoreConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(monkeypatch)
    bad = {12_345: "twelve", 30_001: "n/d", 49_999: "1.2.3"}
    result = ingest(config, sensors_csv(tmp_path / "s.csv", 50_000, bad=bad))
    assert spy.misfits == 1 and spy.verified == 1  # the one pass stopped, the careful path judged
    assert spy.writes[-1].get("one_pass") is None
    assert types(result)["value"] == "number" and result.report.rows == 50_000
    entries = [(q.row, q.column, q.value) for q in result.report.quarantine]
    assert entries == [(row, "value", value) for row, value in sorted(bad.items())]
    assert result.report.quarantined_cells == 3
    values = column(result, "value")
    assert [values[row - 1] for row in bad] == [None, None, None]


def test_ragged_and_empty_records_in_one_pass(
    config: DatastoreConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(monkeypatch)
    records = [f"{i};{i * 10}" if i == 150 else f"{i};{i * 10};2024-01-{1 + i % 28:02d};{i}.5" for i in range(1, 301)]
    records.insert(6, ";; ;")  # an empty record (blank counts as empty) before i=7, another at the end
    path = tmp_path / "r.csv"
    path.write_text("id;n;day;x\n" + "\n".join(records) + "\n;;;\n", encoding="utf-8")
    result = ingest(config, path)
    assert spy.misfits == 0 and spy.verified == 0 and len(spy.writes) == 1
    assert result.report.rows == 299 and result.report.skipped_empty_records == 2
    assert result.report.source_records == 302
    assert [(q.row, q.value) for q in result.report.quarantine] == [(151, "150;1500")]  # source record number
    assert types(result) == {"id": "integer", "n": "integer", "day": "date", "x": "number"}
    assert column(result, "id")[5:7] == [6, 7]


def test_null_markers_seen_in_the_sample_in_one_pass(
    config: DatastoreConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(monkeypatch)
    path = tmp_path / "m.csv"
    path.write_text("id,x\n" + "".join(f"{i},{'..' if i % 50 == 0 else i}\n" for i in range(1, 301)), encoding="utf-8")
    result = ingest(config, path)
    assert spy.misfits == 0 and spy.verified == 0
    assert types(result) == {"id": "integer", "x": "integer"}
    assert result.table_schema.field("x").missing_values == ["", ".."]
    assert column(result, "x").count(None) == 6


def test_markers_outside_the_sample_and_late_values_go_the_careful_way(
    config: DatastoreConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(monkeypatch)
    small = DatastoreConfig(root=config.root, sample_rows=10)
    path = tmp_path / "late.csv"
    path.write_text("id,x,y\n" + "".join(f"{i},{i},\n" for i in range(1, 31)) + "31,NA,7.5\n", encoding="utf-8")
    result = ingest(small, path)
    assert spy.misfits == 1 and spy.verified >= 1
    assert types(result) == {"id": "integer", "x": "integer", "y": "number"}
    assert result.table_schema.field("x").missing_values == ["", "NA"]
    assert column(result, "y")[-1] == 7.5


def test_bytes_that_are_not_utf8_past_the_sample_are_decoded_in_python(
    config: DatastoreConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy(monkeypatch)
    path = sensors_csv(tmp_path / "s.csv", 30_000)  # ~1.4 MB: past the 1 MiB sniffing sample
    path.write_text(path.read_text(encoding="utf-8").replace("ï", "i").replace("à", "a").replace("í", "i"))  # ASCII
    with path.open("ab") as fh:
        fh.write("9,2024-12-31T23:00:00,Sant Andreu,no2,1.5\n9,2024-12-31T23:30:00,Peñalara,no2,2.5\n".encode("cp1252"))
    result = ingest(config, path)
    assert spy.decoded == 2  # the UTF-8 check that failed, then the Windows-1252 transcoding
    assert result.report.rows == 30_002 and result.report.encoding == "cp1252"
    assert column(result, "district")[-1] == "Peñalara"
    assert any("read as Windows-1252" in w for w in result.report.warnings)


STRICT_TYPES = {
    "integer": infer.INTEGER,
    "number": infer.NUMBER,
    "date": infer.DATE_ISO,
    "timestamp": infer.iso_datetime(["2024-01-01T00:00:00"]),
    "timestamptz": infer.iso_datetime(["2024-01-01T00:00:00Z"]),
    "decimal comma": infer.NUMBER_COMMA,
    "thousands dot": infer.INT_GROUP_DOT,
}
SEEDS = {
    "integer": ["12", "-7", "0", "-0", "+5", "007", " 12", "1.5", "1e3", "1_000", "0x1F", "9223372036854775808"],
    "number": ["1.5", "-0.25", "1e3", ".5", "5.", "+-1", "1_0.5", "nan", "inf", " 1.5", "1,5", "--2", "1e400"],
    "date": ["2024-01-31", "2024-1-1", "2024-02-30", " 2024-01-01", "2024-01-01 10:00", "20240101"],
    "timestamp": ["2024-03-05T12:34:56", "2024-03-05 12:34", "2024-1-5T1:2:3", "2024-03-05T12:34:56Z", "epoch"],
    "timestamptz": ["2024-03-05T12:34:56Z", "2024-03-05T12:34:56+02:00", "2024-03-05T12:34:56 Europe/Madrid"],
    "decimal comma": ["1,5", "-0,25", "12", "1.5", " 3,5"],
    "thousands dot": ["145.411", "3.460.491", "999", "1.5", "0.123", "007"],
}


def _strings(seeds: list[str], count: int, rng: random.Random) -> list[str]:
    """The seeds and random mutations of them (characters changed, inserted, removed)."""
    alphabet = "0123456789+-.,eE_ :TZx\t/"
    out = set(seeds)
    while len(out) < count:
        chars = list(rng.choice(seeds))
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(chars) + 1)
            action = rng.random()
            if action < 0.5 and at < len(chars):
                chars[at] = rng.choice(alphabet)
            elif action < 0.8:
                chars.insert(at, rng.choice(alphabet))
            elif chars and at < len(chars):
                del chars[at]
        if chars:
            out.add("".join(chars))
    return sorted(out)


@pytest.mark.parametrize("kind", sorted(STRICT_TYPES))
def test_strict_guards_accept_only_what_the_careful_path_converts_the_same(
    config: DatastoreConfig, tmp_path: Path, kind: str
) -> None:
    tt = STRICT_TYPES[kind]
    assert isinstance(tt, TextType)
    strings = _strings(SEEDS[kind], 3000, random.Random(kind))
    conversion, accepted = onepass.strict_sql(tt, "raw", leading_zeros=False)
    trimmed = "NULLIF(trim(raw), '')"
    careful = typed_sql(tt, trimmed)
    zero = f"regexp_full_match({trimmed}, {sql_str(infer.LEADING_ZERO)})" if tt.parse == "int" else "false"
    params = Params()
    sql = (
        f"SELECT raw, CAST({careful} AS VARCHAR), CAST({conversion} AS VARCHAR), {zero} "  # noqa: S608
        f"FROM (SELECT unnest({params.add(strings)}) AS raw) WHERE coalesce({accepted}, false)"
    )
    work = tmp_path / "work"
    work.mkdir()
    with open_engine(config=config, workdir=work) as engine:
        accepted_rows = engine.fetchall(sql, params)
    wrong = [
        (raw, want, got) for raw, want, got, lz in accepted_rows if want != got or lz or (got is None and raw.strip())
    ]
    assert wrong == []
    assert SEEDS[kind][0] in {raw for raw, *_ in accepted_rows}  # the plain notation goes through
