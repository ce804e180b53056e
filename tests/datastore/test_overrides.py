"""Editors' schema edits are stored and re-applied to the next upload of the same table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citycommons.datastore import DatastoreConfig, apply_schema_override, ingest_file, preview_schema
from citycommons.datastore.schemas import FieldOverride, IngestResult, SchemaOverride
from citycommons.errors import Invalid, NotFound
from tests.datastore.conftest import column

CSV = "code;amount;when;note\n0;10;01/02/2024;a\n7;20;15/02/2024;b\n9;n/d;31/12/2024;c\n"


def upload(config: DatastoreConfig, tmp_path: Path, text: str = CSV) -> IngestResult:
    path = tmp_path / "u.csv"
    path.write_text(text, encoding="utf-8")
    return ingest_file(config=config, table_id="t", source=path, filename="u.csv")


def test_inferred_before_override(config: DatastoreConfig, tmp_path: Path) -> None:
    r = upload(config, tmp_path)
    assert [(f.name, f.type) for f in r.table_schema.fields] == [
        ("code", "integer"),
        ("amount", "string"),  # `n/d` is no known marker and 3 values are too few to tolerate it
        ("when", "date"),
        ("note", "string"),
    ]
    assert r.table_schema.field("when").format == "%d/%m/%Y"
    assert column(r, "when")[2].isoformat() == "2024-12-31"


def test_override_survives_reingest(config: DatastoreConfig, tmp_path: Path) -> None:
    upload(config, tmp_path)
    override = SchemaOverride(
        fields={
            "code": FieldOverride(type="string", title="Station code", description="Zero-padded in other files"),
            "amount": FieldOverride(type="integer", missing_values=["", "n/d"], title="Amount"),
            "note": FieldOverride(description="Free text"),
        },
        primary_key=["code"],
    )
    shown = apply_schema_override(config=config, table_id="t", override=override)
    assert shown.field("code").title == "Station code" and shown.primary_key == ["code"]
    stored = json.loads((config.root / "t" / "override.json").read_text())
    assert stored["fields"]["amount"]["missing_values"] == ["", "n/d"]

    again = upload(config, tmp_path, CSV + "10;40;01/01/2025;d\n")
    schema = again.table_schema
    assert again.version == 2 and again.report.override_applied
    assert schema.field("code").type == "string" and column(again, "code") == ["0", "7", "9", "10"]
    assert schema.field("amount").type == "integer" and column(again, "amount") == [10, 20, None, 40]
    assert schema.field("amount").missing_values == ["", "n/d"]
    assert schema.field("amount").title == "Amount" and schema.field("note").description == "Free text"
    assert schema.primary_key == ["code"] and schema.field("code").constraints == {"required": True}
    assert preview_schema(config=config, table_id="t").field("code").title == "Station code"
    saved = json.loads((again.path.parent / "schema.json").read_text())
    assert saved["primaryKey"] == ["code"] and saved["fields"][1]["missingValues"] == ["", "n/d"]


def test_forced_type_quarantines_misfits(config: DatastoreConfig, tmp_path: Path) -> None:
    upload(config, tmp_path)
    apply_schema_override(
        config=config, table_id="t", override=SchemaOverride(fields={"note": FieldOverride(type="integer")})
    )
    r = upload(config, tmp_path)
    assert r.table_schema.field("note").type == "integer" and column(r, "note") == [None, None, None]
    assert [(q.row, q.column, q.value) for q in r.report.quarantine] == [
        (1, "note", "a"),
        (2, "note", "b"),
        (3, "note", "c"),
    ]


def test_primary_key_violation_refuses_upload(config: DatastoreConfig, tmp_path: Path) -> None:
    upload(config, tmp_path)
    apply_schema_override(config=config, table_id="t", override=SchemaOverride(primary_key=["note"]))
    with pytest.raises(Invalid, match="duplicate key") as err:
        upload(config, tmp_path, CSV + "11;1;01/01/2025;a\n")
    assert "primaryKey" in err.value.fields
    assert sorted(p.name for p in (config.root / "t").iterdir()) == ["override.json", "v1"]


def test_override_validation(config: DatastoreConfig, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        apply_schema_override(config=config, table_id="t", override=SchemaOverride())
    upload(config, tmp_path)
    with pytest.raises(Invalid, match="unknown field `nope`"):
        apply_schema_override(config=config, table_id="t", override=SchemaOverride(fields={"nope": FieldOverride()}))
    with pytest.raises(Invalid, match="primary key field `x`"):
        apply_schema_override(config=config, table_id="t", override=SchemaOverride(primary_key=["x"]))
    assert not (config.root / "t" / "override.json").exists()


def test_override_date_format(config: DatastoreConfig, tmp_path: Path) -> None:
    upload(config, tmp_path, "d\n02/01/2024\n03/01/2024\n")
    override = SchemaOverride(fields={"d": FieldOverride(type="date", format="%m/%d/%Y")})
    apply_schema_override(config=config, table_id="t", override=override)
    r = upload(config, tmp_path, "d\n02/01/2024\n03/01/2024\n")
    assert [d.isoformat() for d in column(r, "d")] == ["2024-02-01", "2024-03-01"]


def test_override_for_a_missing_field_is_reported(config: DatastoreConfig, tmp_path: Path) -> None:
    upload(config, tmp_path)
    apply_schema_override(
        config=config, table_id="t", override=SchemaOverride(fields={"note": FieldOverride(title="N")})
    )
    r = upload(config, tmp_path, "code;amount\n1;2\n")
    assert any("field `note` is not in this upload" in w for w in r.report.warnings)
