"""Editors' schema corrections: stored per table in ``override.json`` and re-applied to every later upload."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from citycommons.datastore import infer, versions
from citycommons.datastore.casts import TextType
from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.readers.common import SourceColumn, Staged
from citycommons.datastore.schemas import FieldSchema, SchemaOverride, TableSchema
from citycommons.errors import Invalid

Sampler = Callable[[list[SourceColumn]], dict[str, list[str | None]]]


def load_override(*, config: DatastoreConfig, table_id: str) -> SchemaOverride | None:
    text = versions.read_override(config=config, table_id=table_id)
    return SchemaOverride.model_validate_json(text) if text is not None else None


def apply_schema_override(*, config: DatastoreConfig, table_id: str, override: SchemaOverride) -> TableSchema:
    """Check ``override`` against the latest version, store it, and return that version's schema as edited.

    Titles, descriptions and missing values show at once in the returned schema; changed types, missing values
    and the primary key take effect on the data at the next upload of the table.
    """
    schema = versions.read_schema(config=config, table_id=table_id)
    names = {f.name for f in schema.fields}
    errors = [f"unknown field `{n}`" for n in override.fields if n not in names]
    errors += [f"primary key field `{n}` does not exist" for n in override.primary_key or [] if n not in names]
    for name, fo in override.fields.items():
        if fo.format and fo.type not in ("date", "datetime"):
            errors.append(f"`{name}`: a format is only accepted for date and datetime types")
    if errors:
        raise Invalid("schema override: " + "; ".join(errors), fields={"fields": errors})
    versions.write_override(config=config, table_id=table_id, data=override.model_dump(mode="json", exclude_none=True))
    return annotate(schema=schema, override=override)


def annotate(*, schema: TableSchema, override: SchemaOverride | None) -> TableSchema:
    """Copy titles, descriptions, declared types and the primary key of ``override`` onto ``schema``."""
    if override is None:
        return schema
    fields: list[FieldSchema] = []
    for f in schema.fields:
        fo = override.fields.get(f.name)
        if fo is not None:
            changes = {
                "title": fo.title,
                "description": fo.description,
                "type": fo.type,
                "format": fo.format,
                "missing_values": [""] + [v for v in fo.missing_values if v] if fo.missing_values is not None else None,
            }
            f = f.model_copy(update={k: v for k, v in changes.items() if v is not None})
        if override.primary_key and f.name in override.primary_key:
            f = f.model_copy(update={"constraints": {"required": True}})
        fields.append(f)
    names = {f.name for f in fields}
    keys = [k for k in override.primary_key or [] if k in names] or schema.primary_key
    return schema.model_copy(update={"fields": fields, "primary_key": keys})


def apply_types(*, staged: Staged, override: SchemaOverride | None, sample: Sampler) -> list[str]:
    """Force the editor's types and missing values onto the staged columns; returns warnings."""
    if override is None:
        return []
    warnings: list[str] = []
    by_name = {c.name: c for c in staged.columns}
    for name, fo in override.fields.items():
        col = by_name.get(name)
        if col is None:
            warnings.append(f"schema override: field `{name}` is not in this upload: ignored")
            continue
        if fo.missing_values is not None:
            col.markers = tuple(v for v in fo.missing_values if v)[:63]
        if fo.type is None or (fo.type == col.field_type and not fo.format):
            continue
        col.forced, col.kind = True, None
        col.field_type = fo.type
        if fo.type == "string":
            col.text = None
            continue
        values = sample([col])[col.ident]
        col.text = _with_format(fo.type, fo.format) or infer.for_override(fo.type, values, european=staged.european)
        if fo.missing_values is None:
            col.markers = infer.NULL_MARKERS
    missing = [k for k in override.primary_key or [] if k not in by_name]
    if missing:
        warnings.append(f"schema override: primary key field(s) {', '.join(missing)} not in this upload: ignored")
    return warnings


def _with_format(field_type: str, fmt: str | None) -> TextType | None:
    if not fmt or fmt == "default":
        return None
    formats: Sequence[str] = (fmt,)
    parse = "date" if field_type == "date" else "datetime"
    return TextType(field_type, parse, f"a {field_type} ({fmt})", strptime=tuple(formats), format=fmt)  # type: ignore[arg-type]
