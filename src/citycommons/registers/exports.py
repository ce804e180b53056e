"""Machine-readable exports of the register: our own fields, the NL Algoritmeregister v1.0 profile, UK ATRS, EU AI
Act Annex VIII Section C, a DCAT-style JSON-LD listing, CSV encoding, and a JSON Schema per profile.

Profiles are plain functions ``(record, site_url) -> dict``; ``PROFILES`` maps the ``?profile=`` value to one.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from citycommons.catalog.schemas import pick
from citycommons.errors import NotFound
from citycommons.registers.schemas import THEMES, AlgorithmRead

Profile = Callable[[AlgorithmRead, str], dict[str, Any]]

NL_STATUS = {"in_development": "In ontwikkeling", "in_use": "In gebruik", "retired": "Buiten gebruik"}
NL_CATEGORY = {
    "high_risk_ai": "Hoog-risico AI-systeem",
    "impactful": "Impactvolle algoritmes",
    "other": "Overige algoritmes",
}
# The NL v1.0 download columns, in the register's order (design note, "Machine-readable export").
NL_KEYS = (
    "algorithm_id",
    "name",
    "description_short",
    "organization",
    "category",
    "status",
    "begin_date",
    "end_date",
    "contact_email",
    "website",
    "publication_category",
    "url",
    "goal",
    "proportionality",
    "human_intervention",
    "risks",
    "lawful_basis",
    "lawful_basis_grouping",
    "process_index_url",
    "impacttoetsen_grouping",
    "impacttoetsen",
    "source_data",
    "source_data_grouping",
    "methods_and_models",
    "provider",
    "publiccode",
    "lang",
    "standard_version",
    "source_id",
    "tags",
    "publication_dt",
)
NL_REQUIRED = ("name", "description_short", "organization", "status", "contact_email", "publication_category", "lang")
NL_GROUPING_KEYS = ("lawful_basis_grouping", "impacttoetsen_grouping", "source_data_grouping")
ATRS_PHASE = {"in_development": "development", "in_use": "production", "retired": "retired"}


def record_url(site_url: str, record: AlgorithmRead) -> str:
    return f"{site_url}/algorithms/{record.slug}"


def dataset_uri(site_url: str, dataset_id: str) -> str:
    return f"{site_url}/dataset/{dataset_id}"


def _link_url(site_url: str, link: Any) -> str:
    return dataset_uri(site_url, link.dataset_id) if link.dataset_id else link.url


def ours(record: AlgorithmRead, site_url: str) -> dict[str, Any]:
    """Our snake_case fields; ``datasets`` carry catalog URIs."""
    data = record.model_dump(mode="json")
    data["organization"] = record.organization.name
    data["datasets"] = [
        {"role": d.role, "title": d.title, "uri": _link_url(site_url, d), "dataset_id": d.dataset_id}
        for d in record.datasets
    ]
    data["url"] = record_url(site_url, record)
    return data


def nl(record: AlgorithmRead, site_url: str) -> dict[str, Any]:
    """Exactly the NL v1.0 keys, NL enum labels, grouping fields as ``[{"title", "link"}]``."""
    return {
        "algorithm_id": record.id,
        "name": record.name,
        "description_short": record.description_short,
        "organization": pick(record.organization.title, "en", record.organization.name),
        "category": [THEMES[t] for t in record.themes if t in THEMES],
        "status": NL_STATUS.get(record.status, record.status),
        "begin_date": record.begin_date,
        "end_date": record.end_date,
        "contact_email": record.contact,
        "website": record.public_page_url,
        "publication_category": NL_CATEGORY.get(record.publication_category, record.publication_category),
        "url": record.source_register_url or record_url(site_url, record),
        "goal": record.goal_and_impact,
        "proportionality": record.proportionality,
        "human_intervention": record.human_oversight,
        "risks": record.risk_summary,
        "lawful_basis": record.legal_basis,
        "lawful_basis_grouping": [{"title": x["title"], "link": x["url"]} for x in record.legal_basis_links],
        "process_index_url": record.processing_register_url,
        "impacttoetsen_grouping": [{"title": x["title"], "link": x.get("url", "")} for x in record.impact_assessments],
        "impacttoetsen": record.impact_assessment_notes,
        "source_data": record.data_description,
        "source_data_grouping": [{"title": d.title, "link": _link_url(site_url, d)} for d in record.datasets],
        "methods_and_models": record.technical_description,
        "provider": record.supplier,
        "publiccode": record.source_code_url,
        "lang": record.language,
        "standard_version": "1.0",
        "source_id": record.source_id or record.id,
        "tags": ",".join(record.tags),
        "publication_dt": record.first_published_at.isoformat() if record.first_published_at else "",
    }


def atrs(record: AlgorithmRead, site_url: str) -> dict[str, Any]:
    """UK ATRS v1.1 attribute names, Tier 1 first; multi-value fields as arrays."""
    return {
        # Tier 1
        "name": record.name,
        "description": record.description_short,
        "website": record.public_page_url or record_url(site_url, record),
        "contact_email": record.contact,
        "organisation": pick(record.organization.title, "en", record.organization.name),
        "team": record.department,
        "phase": ATRS_PHASE.get(record.status, record.status),
        # Tier 2
        "senior_responsible_owner": record.senior_responsible_owner,
        "external_supplier": record.supplier,
        "external_supplier_role": record.supplier_role,
        "scope": record.goal_and_impact,
        "benefit": record.goal_and_impact,
        "alternatives_considered": record.proportionality,
        "process_integration": record.decision_role,
        "human_decisions": record.human_oversight,
        "appeals_and_review": record.appeal_and_objection,
        "frequency_usage": record.frequency_of_use,
        "model_type": record.model_type,
        "maintenance": record.performance_and_monitoring,
        "source_data_name": [d.title for d in record.datasets],
        "source_data_url": [_link_url(site_url, d) for d in record.datasets],
        "source_data_description": record.data_description,
        "data_collection": record.data_description,
        "data_sharing_agreements": record.data_access_and_sharing,
        "data_access_and_storage": record.data_access_and_sharing,
        "impact_assessment_name": [a["title"] for a in record.impact_assessments],
        "impact_assessment_description": [a.get("summary", "") for a in record.impact_assessments],
        "impact_assessment_date": [a.get("date") or "" for a in record.impact_assessments],
        "impact_assessment_link": [a.get("url", "") for a in record.impact_assessments],
        "risk_name": [r["name"] for r in record.risks],
        "risk_description": [r.get("description", "") for r in record.risks],
        "risk_mitigation": [r.get("mitigation", "") for r in record.risks],
        "standard_version": "1.1",
        "id": record.id,
    }


def _summary(record: AlgorithmRead, kind: str) -> str:
    return " ".join(a.get("summary", "") for a in record.impact_assessments if a.get("kind") == kind).strip()


def eu_annex_viii_c(record: AlgorithmRead, site_url: str) -> dict[str, Any]:
    """The five Section C items of a deployer's registration (EU AI Act Art. 49(3), Annex VIII)."""
    deployer = {"name": pick(record.organization.title, "en", record.organization.name), "contact": record.contact}
    return {
        "id": record.id,
        "name": record.name,
        "1_deployer": deployer,
        "2_submitted_on_behalf_of_deployer": deployer,
        "3_provider_eu_database_entry_url": record.eu_database_url,
        "4_fundamental_rights_impact_assessment_summary": _summary(record, "FRIA"),
        "5_data_protection_impact_assessment_summary": _summary(record, "DPIA"),
    }


PROFILES: dict[str, Profile] = {"citycommons": ours, "nl-1.0": nl, "atrs": atrs, "eu-annex-viii-c": eu_annex_viii_c}


def profile(name: str | None) -> Profile:
    try:
        return PROFILES[name or "citycommons"]
    except KeyError:
        raise NotFound(f"Unknown export profile '{name}'; use one of {', '.join(PROFILES)}") from None


def records_for(name: str | None, records: Iterable[AlgorithmRead]) -> list[AlgorithmRead]:
    """Annex VIII C only concerns high-risk systems."""
    if name == "eu-annex-viii-c":
        return [r for r in records if r.ai_act_class == "high_risk"]
    return list(records)


# --- CSV --------------------------------------------------------------------------------------------------------


def _flat(value: Any, *, plain: bool) -> str:
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if plain:  # NL rules: HTML tags stripped, newlines as spaces
        text = re.sub(r"\s*\n\s*", " ", re.sub(r"<[^>]+>", "", text))
    return text


def to_csv(rows: list[dict[str, Any]], *, columns: Iterable[str] | None = None, plain: bool = False) -> str:
    """UTF-8 with BOM (added here), every field quoted, lists and objects as JSON strings."""
    keys = list(columns or (rows[0].keys() if rows else []))
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(keys)
    for row in rows:
        writer.writerow([_flat(row.get(key), plain=plain) for key in keys])
    return out.getvalue()


# --- DCAT-style JSON-LD ----------------------------------------------------------------------------------------

JSONLD_CONTEXT = {
    "dct": "http://purl.org/dc/terms/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def jsonld(records: Iterable[AlgorithmRead], site_url: str) -> dict[str, Any]:
    graph = []
    for r in records:
        contact_key = "vcard:hasEmail" if "@" in r.contact and not r.contact.startswith("https://") else "vcard:hasURL"
        contact_value = f"mailto:{r.contact}" if contact_key == "vcard:hasEmail" else r.contact
        graph.append(
            {
                "@id": record_url(site_url, r),
                "@type": "dcat:Resource",
                "dct:identifier": r.id,
                "dct:title": r.name,
                "dct:description": r.description_short,
                "dct:publisher": {
                    "@id": f"{site_url}/organization/{r.organization.name}",
                    "@type": "foaf:Agent",
                    "foaf:name": pick(r.organization.title, "en", r.organization.name),
                },
                "dcat:contactPoint": {"@type": "vcard:Kind", contact_key: {"@id": contact_value}},
                "dct:modified": {"@value": r.updated_at.isoformat(), "@type": "xsd:dateTime"},
                "dct:relation": [{"@id": _link_url(site_url, d)} for d in r.datasets],
            }
        )
    return {"@context": JSONLD_CONTEXT, "@graph": graph}


# --- JSON Schemas ---------------------------------------------------------------------------------------------


def _schema_of(example: dict[str, Any], required: Iterable[str], title: str) -> dict[str, Any]:
    def kind(value: Any) -> dict[str, Any]:
        if isinstance(value, list):
            return {"type": "array"}
        if isinstance(value, dict):
            return {"type": "object"}
        if isinstance(value, bool):
            return {"type": "boolean"}
        if isinstance(value, int):
            return {"type": "integer"}
        return {"type": ["string", "null"]}

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "properties": {key: kind(value) for key, value in example.items()},
        "required": list(required),
        "additionalProperties": False,
    }


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one record of a profile (``citycommons``: our read model)."""
    from citycommons.registers.schemas import AlgorithmRead as Read

    if name == "citycommons":
        schema = Read.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        return schema
    sample = _sample()
    fn = profile(name)
    required = {
        "nl-1.0": NL_REQUIRED,
        "atrs": ("name", "description", "contact_email", "organisation"),
        "eu-annex-viii-c": ("id", "name", "1_deployer", "3_provider_eu_database_entry_url"),
    }[name]
    titles = {
        "nl-1.0": "Algoritmeregister publication standard v1.0 (as exported by citycommons)",
        "atrs": "UK Algorithmic Transparency Recording Standard v1.1 attributes (as exported by citycommons)",
        "eu-annex-viii-c": "EU AI Act Annex VIII Section C (deployer registration)",
    }
    return _schema_of(fn(sample, "https://example.org"), required, titles[name])


def _sample() -> AlgorithmRead:
    from datetime import UTC, datetime

    from citycommons.registers.schemas import OrganizationRef

    blank: dict[str, Any] = {
        name: ([] if "list" in str(f.annotation) else "")
        for name, f in AlgorithmRead.model_fields.items()
        if f.is_required()
    }
    blank.update(
        id="x",
        version_id="x",
        slug="x",
        version=1,
        record_state="published",
        organization=OrganizationRef(id="x", name="x", title={}),
        self_learning=False,
        conformity={},
        first_published_at=None,
        published_at=None,
        archived_at=None,
        updated_at=datetime.now(UTC),
    )
    return AlgorithmRead.model_validate(blank)
