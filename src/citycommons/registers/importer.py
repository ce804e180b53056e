"""Import of records in the NL Algoritmeregister profile (v1.0 keys, and the older v0.4 keys we can place).

Each record becomes a draft of one organisation; the report names the NL fields that have no home in our field set
and, per draft, what is still missing before it can be submitted for review.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.errors import Forbidden, Invalid
from citycommons.registers import permissions, service
from citycommons.registers.exports import NL_CATEGORY, NL_STATUS
from citycommons.registers.schemas import (
    THEMES,
    AlgorithmCreate,
    AlgorithmFields,
    ImportReport,
    completeness_errors,
)

# NL key -> our field (plain text copies)
TEXT_MAP = {
    "name": "name",
    "description_short": "description_short",
    "begin_date": "begin_date",
    "end_date": "end_date",
    "contact_email": "contact",
    "website": "public_page_url",
    "url": "source_register_url",
    "goal": "goal_and_impact",
    "proportionality": "proportionality",
    "human_intervention": "human_oversight",
    "risks": "risk_summary",
    "lawful_basis": "legal_basis",
    "process_index_url": "processing_register_url",
    "impacttoetsen": "impact_assessment_notes",
    "source_data": "data_description",
    "methods_and_models": "technical_description",
    "provider": "supplier",
    "publiccode": "source_code_url",
    "lang": "language",
    "source_id": "source_id",
    # v0.x keys
    "description": "description_long",
    "department": "department",
    "competent_authority": "senior_responsible_owner",
    "objection_procedure": "appeal_and_objection",
    "monitoring": "performance_and_monitoring",
}
STRUCTURED = {"category", "status", "publication_category", "tags"}
GROUPINGS = {"lawful_basis_grouping", "impacttoetsen_grouping", "source_data_grouping"}
KNOWN_IGNORED = {"algorithm_id", "lars", "uuid", "organization", "standard_version", "publication_dt"}
KNOWN = set(TEXT_MAP) | STRUCTURED | GROUPINGS | KNOWN_IGNORED


def parse(content: bytes, *, filename: str = "") -> list[dict[str, Any]]:
    """NL records from a JSON array (or ``{"data": [...]}``) or from a CSV download (BOM tolerated)."""
    text = content.decode("utf-8-sig")
    if filename.lower().endswith(".csv") or not text.lstrip().startswith(("[", "{")):
        return [dict(row) for row in csv.DictReader(io.StringIO(text))]
    data = json.loads(text)
    if isinstance(data, dict):
        data = data.get("data") or data.get("algorithms") or [data]
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise Invalid(fields={"file": ["Expected a JSON array of records"]})
    return data


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            loaded = json.loads(value)
        except json.JSONDecodeError:
            return [value]
        return loaded if isinstance(loaded, list) else [loaded]
    if isinstance(value, str) and value.strip():
        return [v.strip() for v in value.split(",") if v.strip()]
    return []


def _reverse(labels: dict[str, str], value: Any) -> str:
    by_label = {label.lower(): key for key, label in labels.items()}
    text = str(value or "").strip()
    return by_label.get(text.lower(), text if text in labels else "")


def to_fields(record: dict[str, Any], *, site_url: str = "") -> tuple[dict[str, Any], list[str]]:
    """Our field values for one NL record, and the NL keys left unmapped."""
    out: dict[str, Any] = {}
    for key, field in TEXT_MAP.items():
        if record.get(key) not in (None, ""):
            out[field] = str(record[key])
    out["themes"] = [t for t in (_reverse(THEMES, c) for c in _list(record.get("category"))) if t]
    if record.get("status"):
        out["status"] = _reverse(NL_STATUS, record["status"])
    if record.get("publication_category"):
        out["publication_category"] = _reverse(NL_CATEGORY, record["publication_category"])
    out["tags"] = [str(t) for t in _list(record.get("tags"))]
    out["legal_basis_links"] = [
        {"title": str(x.get("title", ""))[:100], "url": x.get("link", "")}
        for x in _list(record.get("lawful_basis_grouping"))
        if isinstance(x, dict)
    ]
    out["impact_assessments"] = [
        {"kind": "other", "title": str(x.get("title", "")), "url": x.get("link", "")}
        for x in _list(record.get("impacttoetsen_grouping"))
        if isinstance(x, dict)
    ]
    prefix = f"{site_url}/dataset/" if site_url else "\0"
    out["datasets"] = [
        {"dataset": x["link"][len(prefix) :]}
        if str(x.get("link", "")).startswith(prefix)
        else {"title": str(x.get("title", "")), "url": x.get("link", "")}
        for x in _list(record.get("source_data_grouping"))
        if isinstance(x, dict)
    ]
    if site_url and out.get("source_register_url", "").startswith(f"{site_url}/algorithms/"):
        del out["source_register_url"]  # our own page, exported as the NL "bronregistratie"
    if not out.get("source_id") and record.get("algorithm_id"):
        out["source_id"] = str(record["algorithm_id"])
    unmapped = sorted(k for k, v in record.items() if k not in KNOWN and v not in (None, "", []))
    return out, unmapped


def import_nl(
    *, session: Session, actor: Actor, records: list[dict[str, Any]], organization: str, site_url: str = ""
) -> ImportReport:
    """Creates one draft per NL record in ``organization`` (sysadmins only)."""
    if not permissions.can_import(actor):
        raise Forbidden("Only a system administrator may import records")
    report = ImportReport(created=[], unmapped_fields={}, incomplete={})
    for i, record in enumerate(records):
        values, unmapped = to_fields(record, site_url=site_url)
        if unmapped:
            report.unmapped_fields[str(i)] = unmapped
        try:
            data = AlgorithmCreate.model_validate({**values, "organization": organization})
        except ValidationError as exc:
            fields: dict[str, list[str]] = {}
            for err in exc.errors():
                path = ".".join(str(p) for p in err["loc"]) or "record"
                fields.setdefault(f"{i}.{path}", []).append(str(err["msg"]).removeprefix("Value error, "))
            raise Invalid(f"Record {i} is invalid", fields=fields) from None
        read = service.create(session=session, actor=actor, data=data)
        report.created.append(read.slug)
        missing = completeness_errors(AlgorithmFields.model_validate(data.model_dump(exclude={"organization", "slug"})))
        if missing:
            report.incomplete[read.slug] = sorted(missing)
    return report
