"""Pydantic models of what the datastore produces: Table Schemas, ingest reports, results and overrides.

``TableSchema`` is serialised as a Frictionless Table Schema (camelCase keys, ``by_alias=True``). A field may carry
``kind: "code"``: an identifier that looks numeric (``08``, ``019``) and is therefore kept as text.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FieldType = Literal["string", "integer", "number", "boolean", "date", "datetime", "object", "array", "geojson", "any"]
OverridableType = Literal["string", "integer", "number", "boolean", "date", "datetime"]
SourceFormat = Literal["csv", "json", "ndjson", "geojson", "xlsx", "parquet"]


class _Frictionless(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")


class FieldSchema(_Frictionless):
    name: str
    type: FieldType
    format: str = "default"
    title: str = ""
    description: str = ""
    kind: Literal["code"] | None = None
    missing_values: list[str] | None = Field(None, alias="missingValues")
    decimal_char: str | None = Field(None, alias="decimalChar")
    group_char: str | None = Field(None, alias="groupChar")
    constraints: dict[str, bool] | None = None


class TableSchema(_Frictionless):
    fields: list[FieldSchema]
    missing_values: list[str] = Field(default_factory=lambda: [""], alias="missingValues")
    primary_key: list[str] | None = Field(None, alias="primaryKey")

    def field(self, name: str) -> FieldSchema:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def to_json_dict(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class QuarantineEntry(BaseModel):
    """One bad record or cell. ``row`` is the 1-based data record number (header excluded)."""

    row: int | None
    column: str | None = None
    value: str | None = None
    problem: str


class IngestReport(BaseModel):
    table_id: str
    version: int
    created_at: datetime
    source_filename: str
    source_bytes: int
    format: SourceFormat
    declared_format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    json_path: str | None = None
    json_path_source: Literal["given", "detected"] | None = None
    sheet: str | None = None
    rows: int
    source_records: int
    skipped_empty_records: int = 0
    quarantined_rows: int = 0
    quarantined_cells: int = 0
    quarantine: list[QuarantineEntry] = Field(default_factory=list)
    quarantine_truncated: bool = False
    warnings: list[str] = Field(default_factory=list)
    override_applied: bool = False
    sorted_by: list[str] = Field(default_factory=list)
    """Columns the rows are sorted by (``datastore.layout``); empty: the order of the source."""
    seconds: float = 0.0


class IngestResult(BaseModel):
    table_id: str
    version: int
    path: Path
    table_schema: TableSchema
    report: IngestReport


class FieldOverride(BaseModel):
    """An editor's correction of one field; ``None`` keeps what inference found."""

    model_config = ConfigDict(extra="forbid")

    type: OverridableType | None = None
    format: str | None = None
    title: str | None = None
    description: str | None = None
    missing_values: list[str] | None = None


class SchemaOverride(BaseModel):
    """Stored next to the versions of a table and re-applied to every later upload."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[str, FieldOverride] = Field(default_factory=dict)
    primary_key: list[str] | None = None
