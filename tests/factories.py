"""Factories for rows, built through the services (never raw inserts)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from citycommons.accounts import service as accounts
from citycommons.accounts.schemas import UserCreate
from citycommons.actor import SYSTEM, Actor
from citycommons.catalog import organizations
from citycommons.catalog import service as datasets
from citycommons.catalog.schemas import DatasetCreate, DatasetRead, OrganizationCreate


@dataclass
class World:
    org_a: str
    org_b: str
    admin_token: str
    editor_token: str
    member_b_token: str
    outsider_token: str
    editor_id: str

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": getattr(self, f"{who}_token")}


def make_user(session: Session, name: str, *, sysadmin: bool = False) -> tuple[str, str]:
    user = accounts.create_user(
        session=session,
        actor=SYSTEM,
        data=UserCreate(name=name, email=f"{name}@example.org", password="correct horse battery", sysadmin=sysadmin),
    )
    token = accounts.create_token(session=session, actor=SYSTEM, user=user.id, name="tests").token
    return user.id, token


def make_org(session: Session, name: str, title: str | None = None) -> str:
    org = organizations.create(
        session=session,
        actor=SYSTEM,
        data=OrganizationCreate(name=name, title={"en": title or name.title(), "ca": title or name.title()}),
    )
    return org.id


def make_world(session: Session) -> World:
    org_a = make_org(session, "environment", "Environment Department")
    org_b = make_org(session, "mobility", "Mobility Department")
    _, admin = make_user(session, "admin", sysadmin=True)
    editor_id, editor = make_user(session, "editor")
    member_id, member = make_user(session, "member-b")
    _, outsider = make_user(session, "outsider")
    organizations.set_member(session=session, actor=SYSTEM, id_or_name=org_a, user=editor_id, role="editor")
    organizations.set_member(session=session, actor=SYSTEM, id_or_name=org_b, user=member_id, role="member")
    session.flush()
    return World(org_a, org_b, admin, editor, member, outsider, editor_id)


def dataset_payload(name: str, organization: str = "environment", **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": name,
        "title": {"ca": f"Qualitat de l'aire a la Plaça {name}", "en": f"Air quality at {name} square"},
        "description": {"en": "Hourly measurements of NO2 and PM10.", "es": "Mediciones horarias de NO2."},
        "organization": organization,
        "license_id": "cc-by-4.0",
        "themes": ["ENVI"],
        "tags": ["air", "pollution"],
        "distributions": [{"title": {"en": "CSV"}, "url": "https://example.org/air.csv", "format": "CSV"}],
    }
    payload.update(extra)
    return payload


def make_dataset(session: Session, name: str, *, actor: Actor = SYSTEM, **extra: Any) -> DatasetRead:
    """A dataset made directly through the service: its distributions are not ingested (no settings)."""
    return datasets.create(
        session=session, actor=actor, settings=None, data=DatasetCreate.model_validate(dataset_payload(name, **extra))
    )
