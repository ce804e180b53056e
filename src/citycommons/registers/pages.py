"""The register's pages: ``/algorithms`` (list, filters, paging), ``/algorithms/{slug}`` (record, versions,
tombstone), the editor forms and workflow buttons, and ``/principles``. Forms go through the same schemas and
services as the JSON API; structured fields (risks, links, assessments, datasets) are edited as JSON.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from citycommons.catalog import organizations
from citycommons.catalog.schemas import OrganizationRead
from citycommons.errors import Forbidden, Invalid, NotAuthenticated
from citycommons.registers import permissions, principles, service
from citycommons.registers.api import query_of
from citycommons.registers.schemas import (
    THEMES,
    AlgorithmCreate,
    AlgorithmDetail,
    AlgorithmFields,
    TransitionRequest,
)
from citycommons.web.csrf import FormDep
from citycommons.web.deps import SessionDep
from citycommons.web.form_errors import field_errors
from citycommons.web.listing import pager
from citycommons.web.render import N_, View, ViewDep

router = APIRouter(include_in_schema=False)
Many = Annotated[list[str] | None, Query()]
PAGE_SIZE = 20

CHOICES: dict[str, dict[str, str]] = {
    "status": {"in_development": N_("In development"), "in_use": N_("In use"), "retired": N_("Retired")},
    "ai_act_class": {
        "high_risk": N_("High-risk AI system"),
        "not_high_risk_art_6_3": N_("Not high-risk (AI Act Art. 6(3))"),
        "transparency_only": N_("Transparency obligations only"),
        "minimal": N_("Minimal risk"),
        "not_ai": N_("Not an AI system"),
    },
    "publication_category": {
        "high_risk_ai": N_("High-risk AI system"),
        "impactful": N_("Impactful algorithm"),
        "other": N_("Other algorithm"),
    },
    "decision_role": {
        "informs_human": N_("Informs a person who decides"),
        "decides_with_review": N_("Decides, a person reviews"),
        "decides_alone": N_("Decides without human review"),
        "no_individual_decisions": N_("No decisions about individuals"),
    },
    "personal_data": {"none": N_("None"), "pseudonymised": N_("Pseudonymised"), "identified": N_("Identified")},
    "model_type": {
        "rules": N_("Rules"),
        "statistical": N_("Statistical model"),
        "machine_learning": N_("Machine learning"),
        "generative_ai": N_("Generative AI"),
        "other": N_("Other"),
    },
    "phase_detail": {
        "idea": N_("Idea"),
        "design": N_("Design"),
        "development": N_("Development"),
        "pilot": N_("Pilot"),
        "production": N_("Production"),
        "retired": N_("Retired"),
    },
    "language": {"cat": "Català", "spa": "Español", "eng": "English", "nld": "Nederlands"},
    "record_state": {
        "draft": N_("Draft"),
        "in_review": N_("In review"),
        "published": N_("Published"),
        "superseded": N_("Superseded"),
        "withdrawn": N_("Withdrawn"),
    },
    "themes": {
        "organisation_and_operations": N_("Organisation and operations"),
        "culture_and_recreation": N_("Culture and recreation"),
        "economy": N_("Economy"),
        "public_finance": N_("Public finance"),
        "housing": N_("Housing"),
        "international": N_("International"),
        "migration_and_integration": N_("Migration and integration"),
        "nature_and_environment": N_("Nature and environment"),
        "education_and_science": N_("Education and science"),
        "public_order_and_safety": N_("Public order and safety"),
        "law": N_("Law"),
        "spatial_planning_and_infrastructure": N_("Spatial planning and infrastructure"),
        "social_security": N_("Social security"),
        "traffic": N_("Traffic"),
        "work": N_("Work"),
        "care_and_health": N_("Care and health"),
    },
}
assert set(CHOICES["themes"]) == set(THEMES)

# (legend, [(field, label, kind)]): kinds text, textarea, select, checks, list (comma-separated), json, bool
FORM: list[tuple[str, list[tuple[str, str, str]]]] = [
    (
        N_("About the system"),
        [
            ("name", N_("Name"), "text"),
            ("description_short", N_("Short description"), "textarea"),
            ("description_long", N_("Detailed description"), "textarea"),
            ("department", N_("Department or team"), "text"),
            ("senior_responsible_owner", N_("Senior responsible owner (role)"), "text"),
            ("contact", N_("Contact (e-mail or https address)"), "text"),
            ("public_page_url", N_("Web page"), "text"),
            ("language", N_("Language of the record"), "select"),
            ("themes", N_("Themes"), "checks"),
            ("principles", N_("Digital rights principles"), "checks"),
            ("tags", N_("Tags"), "list"),
        ],
    ),
    (
        N_("Use and decisions"),
        [
            ("status", N_("Status"), "select"),
            ("phase_detail", N_("Phase"), "select"),
            ("begin_date", N_("In use since (YYYY-MM)"), "text"),
            ("end_date", N_("Out of use since (YYYY-MM)"), "text"),
            ("publication_category", N_("Publication category"), "select"),
            ("ai_act_class", N_("EU AI Act class"), "select"),
            ("annex_iii_area", N_("AI Act Annex III area, e.g. 5(a)"), "text"),
            ("decision_role", N_("Role in decisions"), "select"),
            ("goal_and_impact", N_("Goal and impact"), "textarea"),
            ("proportionality", N_("Trade-offs and alternatives"), "textarea"),
            ("human_oversight", N_("Human oversight"), "textarea"),
            ("frequency_of_use", N_("Frequency of use"), "text"),
            ("appeal_and_objection", N_("How to object or appeal"), "textarea"),
        ],
    ),
    (
        N_("Risks and rights"),
        [
            ("risk_summary", N_("Risk management"), "textarea"),
            ("risks", N_("Risks (JSON list of name, description, mitigation)"), "json"),
            ("non_discrimination", N_("Preventing discrimination"), "textarea"),
            ("legal_basis", N_("Legal basis"), "textarea"),
            ("legal_basis_links", N_("Legal basis links (JSON list of title, url)"), "json"),
            ("processing_register_url", N_("Record of processing activities"), "text"),
            ("impact_assessments", N_("Impact assessments (JSON list of kind, title, date, url, summary)"), "json"),
            ("impact_assessment_notes", N_("Notes on impact assessments"), "textarea"),
        ],
    ),
    (
        N_("Data"),
        [
            ("datasets", N_("Datasets (JSON list of dataset or title and url, and role)"), "json"),
            ("data_description", N_("Data used"), "textarea"),
            ("personal_data", N_("Personal data"), "select"),
            ("data_access_and_sharing", N_("Data access and sharing"), "textarea"),
        ],
    ),
    (
        N_("Technology and supply"),
        [
            ("technical_description", N_("How it works"), "textarea"),
            ("model_type", N_("Model type"), "select"),
            ("self_learning", N_("Self-learning"), "bool"),
            ("performance_and_monitoring", N_("Performance and monitoring"), "textarea"),
            ("supplier", N_("Supplier"), "text"),
            ("supplier_role", N_("Supplier's role"), "text"),
            ("procurement_reference", N_("Procurement reference"), "text"),
            ("trade_name", N_("Product name and version"), "text"),
            ("source_code_url", N_("Source code"), "text"),
            ("eu_database_url", N_("Provider's entry in the EU database"), "text"),
            ("instructions_for_use_url", N_("Instructions for use"), "text"),
            ("source_register_url", N_("Same record in another register"), "text"),
            ("source_id", N_("Identifier in the owner's register"), "text"),
        ],
    ),
]
FIELD_KINDS = {name: kind for _, fields in FORM for name, _, kind in fields}
FIELD_LABELS = {name: label for _, fields in FORM for name, label, _ in fields}
ACTIONS = {
    "submit": N_("Submit for review"),
    "reject": N_("Return to draft"),
    "publish": N_("Publish"),
    "withdraw": N_("Withdraw"),
}


def _signed_in(view: View) -> None:
    if not view.actor.authenticated:
        raise NotAuthenticated("Sign in first")


def _options(view: View, field: str) -> list[tuple[str, str]]:
    if field == "principles":
        return [
            (str(p.number), f"{p.number}. {p.title.get(view.lang) or p.title['en']}") for p in principles.principles()
        ]
    return [(value, view.gettext(label)) for value, label in CHOICES.get(field, {}).items()]


def labels(view: View) -> dict[str, Any]:
    """Translated labels for templates: choice values and field names."""
    return {
        "choices": {field: dict(_options(view, field)) for field in (*CHOICES, "principles")},
        "fields": {field: view.gettext(label) for field, label in FIELD_LABELS.items()},
        "actions": {action: view.gettext(label) for action, label in ACTIONS.items()},
    }


# --- list and record ----------------------------------------------------------------------------------------------


@router.get("/algorithms")
def algorithm_list(
    view: ViewDep,
    session: SessionDep,
    q: Annotated[str, Query(max_length=1000)] = "",
    status: Many = None,
    ai_act_class: Many = None,
    organization: Many = None,
    principle: Annotated[list[int] | None, Query()] = None,
    record_state: Many = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    query = query_of(
        q,
        status,  # type: ignore[arg-type]  # checked by AlgorithmQuery
        ai_act_class,  # type: ignore[arg-type]
        organization,
        principle,
        record_state,  # type: ignore[arg-type]
        False,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
    )
    result = service.search(session=session, actor=view.actor, query=query)
    orgs = organizations.list_all(session=session, actor=view.actor)
    return view.render(
        "algorithms.html",
        q=q,
        query=query,
        result=result,
        organizations=orgs,
        labels=labels(view),
        can_draft=bool(view.actor.sysadmin or permissions.editable_organizations(view.actor)),
        pager=pager(view, page=page, count=result.count, page_size=PAGE_SIZE),
    )


@router.get("/algorithms/new")
def new_algorithm(view: ViewDep, session: SessionDep) -> Response:
    orgs = _editable_organizations(view, session)
    values: dict[str, Any] = {name: "" for name in FIELD_KINDS}
    values["organization"] = orgs[0].name if len(orgs) == 1 else ""
    values.update(themes=[], principles=[], self_learning=False)
    return _form(view, orgs=orgs, values=values)


@router.post("/algorithms/new")
def create_algorithm(view: ViewDep, session: SessionDep, form: FormDep) -> Response:
    orgs = _editable_organizations(view, session)
    values = form_values(form)
    try:
        payload = _payload(values)
        payload["organization"] = values["organization"]
        created = service.create(session=session, actor=view.actor, data=AlgorithmCreate.model_validate(payload))
    except (ValidationError, Invalid) as exc:
        session.rollback()
        return _form(view, orgs=orgs, values=values, errors=_errors(view, exc))
    return view.redirect(f"/algorithms/{created.slug}", flash=N_("The draft was saved."))


@router.get("/algorithms/{slug}")
def algorithm_page(view: ViewDep, session: SessionDep, slug: str, version: int | None = None) -> Response:
    detail = service.get(session=session, actor=view.actor, slug=slug)
    shown = detail.current
    if version is not None:
        shown = service.get_version(session=session, actor=view.actor, slug=slug, version=version)
    return _record_page(view, detail, shown)


def _record_page(
    view: View, detail: AlgorithmDetail, shown: Any, errors: dict[str, list[str]] | None = None
) -> Response:
    record = detail.current or detail.working
    org_id = record.organization.id if record else detail.tombstone.organization.id  # type: ignore[union-attr]
    return view.render(
        "algorithms_record.html",
        status_code=422 if errors else 200,
        detail=detail,
        shown=shown,
        labels=labels(view),
        can_edit=permissions.can_edit(view.actor, organization_id=org_id),
        can_review=permissions.can_review(view.actor, organization_id=org_id),
        errors=errors or {},
        principle_titles={p.number: p.title for p in principles.principles()},
    )


@router.get("/algorithms/{slug}/edit")
def edit_algorithm(view: ViewDep, session: SessionDep, slug: str) -> Response:
    _signed_in(view)
    detail = service.get(session=session, actor=view.actor, slug=slug)
    record = detail.working or detail.current
    if record is None or not permissions.can_edit(view.actor, organization_id=record.organization.id):
        raise Forbidden("You may not edit this algorithm")
    values = _values_of(record)
    return _form(view, orgs=[], values=values, slug=detail_slug(detail))


@router.post("/algorithms/{slug}/edit")
def update_algorithm(view: ViewDep, session: SessionDep, slug: str, form: FormDep) -> Response:
    _signed_in(view)
    values = form_values(form)
    try:
        saved = service.update(
            session=session, actor=view.actor, slug=slug, data=AlgorithmFields.model_validate(_payload(values))
        )
    except (ValidationError, Invalid) as exc:
        session.rollback()
        return _form(view, orgs=[], values=values, errors=_errors(view, exc), slug=slug)
    return view.redirect(f"/algorithms/{saved.slug}", flash=N_("Your changes were saved."))


@router.post("/algorithms/{slug}/transition")
def transition_algorithm(view: ViewDep, session: SessionDep, slug: str, form: FormDep) -> Response:
    _signed_in(view)
    try:
        data = TransitionRequest.model_validate({"action": form.get("action"), "reason": form.get("reason") or ""})
        service.transition(
            session=session,
            actor=view.actor,
            slug=slug,
            data=data,
            allow_self_publish=view.settings.register_allow_self_publish,
            pseudonym_key=view.settings.pseudonym_key,
        )
    except (ValidationError, Invalid) as exc:
        session.rollback()
        detail = service.get(session=session, actor=view.actor, slug=slug)
        return _record_page(view, detail, detail.current, errors=_errors(view, exc))
    return view.redirect(f"/algorithms/{slug}", flash=N_("The record moved on."))


# --- principles ---------------------------------------------------------------------------------------------------


@router.get("/principles")
def principle_list(view: ViewDep) -> Response:
    return view.render("principles.html", principles=principles.principles())


@router.get("/principles/{number}")
def principle_page(view: ViewDep, session: SessionDep, number: int) -> Response:
    principle = principles.get(number)
    sections = principles.implementations(session=session, actor=view.actor, number=number)
    return view.render("principle.html", principle=principle, sections=sections)


# --- form helpers -----------------------------------------------------------------------------------------------


def detail_slug(detail: AlgorithmDetail) -> str:
    record = detail.working or detail.current
    return record.slug if record else ""


def _editable_organizations(view: View, session: SessionDep) -> list[OrganizationRead]:
    _signed_in(view)
    orgs = [o for o in organizations.list_all(session=session, actor=view.actor) if view.actor.has_role(o.id, "editor")]
    if not orgs:
        raise Forbidden("You are not an editor of any organisation")
    return orgs


def form_values(form: FormData) -> dict[str, Any]:
    """The form as typed (shown again when something is wrong)."""
    values: dict[str, Any] = {}
    for name, kind in FIELD_KINDS.items():
        if kind == "checks":
            values[name] = [v for v in form.getlist(name) if isinstance(v, str)]
        elif kind == "bool":
            values[name] = form.get(name) == "true"
        else:
            raw = form.get(name)
            values[name] = raw.strip() if isinstance(raw, str) else ""
    raw_org = form.get("organization")
    values["organization"] = raw_org.strip() if isinstance(raw_org, str) else ""
    return values


def _payload(values: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    bad: dict[str, list[str]] = {}
    for name, kind in FIELD_KINDS.items():
        value = values[name]
        if kind == "list":
            payload[name] = [v.strip() for v in value.split(",") if v.strip()]
        elif kind == "json":
            try:
                payload[name] = json.loads(value) if value else ({} if name == "conformity" else [])
            except json.JSONDecodeError:
                bad[name] = ["Enter valid JSON, for example []."]
        elif name == "principles":
            payload[name] = [int(v) for v in value if v.isdigit()]
        else:
            payload[name] = value
    if bad:
        raise Invalid(fields=bad)
    return payload


def _values_of(record: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    stored = record.model_dump(mode="json")
    for name, kind in FIELD_KINDS.items():
        value = stored[name]
        if kind == "list":
            values[name] = ", ".join(value)
        elif kind == "json":
            values[name] = json.dumps(value, ensure_ascii=False, indent=1) if value else ""
        elif name == "principles":
            values[name] = [str(v) for v in value]
        else:
            values[name] = value
    values["datasets"] = json.dumps(
        [
            {"dataset": d.dataset_name, "role": d.role}
            if d.dataset_id
            else {"title": d.title, "url": d.url, "role": d.role}
            for d in record.datasets
        ],
        ensure_ascii=False,
        indent=1,
    )
    values["organization"] = record.organization.name
    return values


def _errors(view: View, exc: ValidationError | Invalid) -> dict[str, list[str]]:
    errors = field_errors(view, exc)
    # nested paths (datasets.0.url) are shown on their top-level field
    return {key.split(".")[0]: value for key, value in errors.items()}


def _form(
    view: View,
    *,
    orgs: list[OrganizationRead],
    values: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
    slug: str = "",
) -> Response:
    return view.render(
        "algorithms_form.html",
        status_code=422 if errors else 200,
        form=FORM,
        options={name: _options(view, name) for name, kind in FIELD_KINDS.items() if kind in ("select", "checks")},
        organizations=orgs,
        values=values,
        errors=errors or {},
        slug=slug,
    )
