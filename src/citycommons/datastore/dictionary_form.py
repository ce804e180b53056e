"""The data dictionary page's editor form: the rows it shows (from the Table Schema, the editors' override, or what
was just typed) and the ``SchemaOverride`` a submitted form asks for, with its field errors."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from citycommons.datastore.page_models import TEMPORAL
from citycommons.datastore.schemas import FieldOverride, FieldSchema, SchemaOverride, TableSchema
from citycommons.web.render import N_

OVERRIDABLE_TYPES = ("string", "integer", "number", "boolean", "date", "datetime")
SCHEMA_EDIT_MESSAGES = (
    N_("Titles and descriptions show at once. Types, missing values and the primary key apply from the next upload."),
    N_("The data dictionary was saved."),
)
FORM_MESSAGES = (
    N_("The table changed while you were editing it; reload the page and try again."),
    N_("Choose one of the options."),
    N_("A format is only accepted for date and datetime types."),
    N_("Write the format with strftime codes, for example %d/%m/%Y."),
    N_("This is too long (at most 200 characters)."),
    N_("This is too long (at most 2000 characters)."),
    N_("Choose the primary key among the table's columns."),
)


def missing_text(f: FieldSchema, schema: TableSchema) -> str:
    values = f.missing_values if f.missing_values is not None else schema.missing_values
    return ", ".join(v for v in values if v)


def dictionary_rows(
    schema: TableSchema, override: SchemaOverride | None, form: FormData | None = None
) -> list[dict[str, Any]]:
    """One row per column: the schema's field, and the editor's inputs (as typed in ``form``, else as saved)."""
    pinned = override.fields if override else {}
    keys = (override.primary_key if override and override.primary_key else schema.primary_key) or []
    rows = []
    for i, f in enumerate(schema.fields):
        fo = pinned.get(f.name)
        rows.append(
            {
                "i": i,
                "field": f,
                "missing": missing_text(f, schema),
                "pinned": bool(fo and fo.type),
                "title": form.get(f"title-{i}", "") if form else f.title,
                "description": form.get(f"description-{i}", "") if form else f.description,
                "type": form.get(f"type-{i}", "") if form else (fo.type if fo and fo.type else ""),
                "format": form.get(f"format-{i}", "") if form else (fo.format if fo and fo.format else ""),
                "missing_input": form.get(f"missing-{i}", "") if form else missing_text(f, schema),
                "primary": (f.name in form.getlist("primary_key")) if form else f.name in keys,
            }
        )
    return rows


def override_from_form(
    form: FormData, schema: TableSchema, current: SchemaOverride | None
) -> tuple[SchemaOverride, dict[str, list[str]]]:
    """The editor form as a ``SchemaOverride`` plus field errors (form field -> messages).

    Titles and descriptions are always sent (an empty one clears it). A type is sent when the editor picked one
    (empty: what the next upload infers); missing values only when they were changed, so that an untouched
    form does not replace the loader's own list of missing-value markers (or the editors' earlier list)."""
    errors: dict[str, list[str]] = {}
    fields: dict[str, FieldOverride] = {}
    for i, f in enumerate(schema.fields):
        if form.get(f"name-{i}") != f.name:
            errors["form"] = ["The table changed while you were editing it; reload the page and try again."]
            break
        chosen = str(form.get(f"type-{i}") or "")
        if chosen and chosen not in OVERRIDABLE_TYPES:
            errors[f"type-{i}"] = ["Choose one of the options."]
            continue
        fmt = str(form.get(f"format-{i}") or "").strip()
        if fmt and chosen not in TEMPORAL:
            errors[f"format-{i}"] = ["A format is only accepted for date and datetime types."]
            continue
        if fmt and "%" not in fmt:
            errors[f"format-{i}"] = ["Write the format with strftime codes, for example %d/%m/%Y."]
            continue
        typed_missing = str(form.get(f"missing-{i}") or "")
        before = current.fields.get(f.name) if current else None
        missing = before.missing_values if before else None
        if typed_missing.strip() != missing_text(f, schema):
            missing = [v.strip() for v in typed_missing.split(",") if v.strip()]
        title = str(form.get(f"title-{i}") or "").strip()
        description = str(form.get(f"description-{i}") or "").strip()
        if len(title) > 200:
            errors[f"title-{i}"] = ["This is too long (at most 200 characters)."]
        if len(description) > 2000:
            errors[f"description-{i}"] = ["This is too long (at most 2000 characters)."]
        fields[f.name] = FieldOverride(
            type=chosen or None,
            format=fmt or None,
            title=title,
            description=description,
            missing_values=missing,
        )
    keys = [str(k) for k in form.getlist("primary_key")]
    unknown = [k for k in keys if k not in {f.name for f in schema.fields}]
    if unknown:
        errors["primary_key"] = ["Choose the primary key among the table's columns."]
    return SchemaOverride(fields=fields, primary_key=keys or None), errors
