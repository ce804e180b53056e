"""Register rows for tests, built through the services."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from citycommons.accounts.service import actor_for_user
from citycommons.actor import SYSTEM, Actor
from citycommons.catalog import organizations
from citycommons.registers import service
from citycommons.registers.schemas import AlgorithmCreate, AlgorithmRead, TransitionRequest
from tests import factories


def complete(name: str = "Bicing demand forecast", organization: str = "environment", **extra: Any) -> dict[str, Any]:
    """A payload that passes the completeness check (not high-risk)."""
    payload: dict[str, Any] = {
        "name": name,
        "organization": organization,
        "description_short": "Predicts how many bikes each station needs in the next hour.",
        "contact": "algorismes@example.org",
        "language": "cat",
        "status": "in_use",
        "begin_date": "2023-04",
        "publication_category": "other",
        "ai_act_class": "minimal",
        "decision_role": "informs_human",
        "goal_and_impact": "Helps the operator move bikes before stations run empty.",
        "human_oversight": "A dispatcher decides every move.",
        "appeal_and_objection": "Write to the contact address.",
        "data_description": "Station occupancy every five minutes.",
        "personal_data": "none",
        "principles": [3, 5],
        "themes": ["traffic"],
        "risks": [{"name": "Drift", "mitigation": "Monthly review"}],
    }
    payload.update(extra)
    return payload


def high_risk(name: str = "Social benefit triage", **extra: Any) -> dict[str, Any]:
    return complete(
        name,
        ai_act_class="high_risk",
        publication_category="high_risk_ai",
        annex_iii_area="5(a)",
        trade_name="TriageSuite 4.2",
        senior_responsible_owner="Director of Social Rights",
        eu_database_url="https://ai-act-database.europa.eu/entry/123",
        impact_assessments=[
            {"kind": "FRIA", "title": "FRIA 2024", "summary": "No disparate impact found."},
            {"kind": "DPIA", "title": "DPIA 2024", "summary": "Data minimised.", "url": "https://example.org/dpia"},
        ],
        **extra,
    )


def actor(session: Session, name: str) -> Actor:
    from sqlalchemy import select

    from citycommons.accounts.models import User

    user_id = session.scalars(select(User.id).where(User.name == name)).one()
    return actor_for_user(session=session, user_id=user_id)


def make_reviewer(session: Session, org: str = "environment", name: str = "reviewer") -> str:
    user_id, token = factories.make_user(session, name)
    organizations.set_member(session=session, actor=SYSTEM, id_or_name=org, user=user_id, role="admin")
    return token


def publish(session: Session, payload: dict[str, Any], *, by: Actor = SYSTEM) -> AlgorithmRead:
    """Created, submitted and published (self-publishing allowed: for fixtures only)."""
    read = service.create(session=session, actor=by, data=AlgorithmCreate.model_validate(payload))
    for action in ("submit", "publish"):
        read = service.transition(
            session=session,
            actor=by,
            slug=read.slug,
            data=TransitionRequest(action=action),  # type: ignore[arg-type]
            allow_self_publish=True,
        )
    return read
