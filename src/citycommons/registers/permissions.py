"""Who may see and change what in the algorithm register.

Published (and superseded) versions are public. Drafts, versions in review and withdrawn content are seen by the
organisation's editors; editors draft and submit, organisation admins (or sysadmins) review, publish and withdraw.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, or_

from citycommons.actor import ROLE_RANK, Actor
from citycommons.registers.models import AlgorithmVersion

PUBLIC_STATES = ("published", "superseded")
PRIVATE_STATES = ("draft", "in_review", "withdrawn")


def can_edit(actor: Actor, *, organization_id: str) -> bool:
    return actor.has_role(organization_id, "editor")


def can_review(actor: Actor, *, organization_id: str) -> bool:
    return actor.has_role(organization_id, "admin")


def can_import(actor: Actor) -> bool:
    return actor.sysadmin


def editable_organizations(actor: Actor) -> list[str]:
    return sorted(org for org, role in actor.roles.items() if ROLE_RANK.get(role, 0) >= ROLE_RANK["editor"])


def visible_versions(actor: Actor, states: Sequence[str]) -> ColumnElement[bool]:
    """SQL condition: versions in ``states`` that ``actor`` may read."""
    public = [s for s in states if s in PUBLIC_STATES]
    private = [s for s in states if s in PRIVATE_STATES]
    conditions: list[ColumnElement[bool]] = []
    if public:
        conditions.append(AlgorithmVersion.state.in_(public))
    if private and actor.sysadmin:
        conditions.append(AlgorithmVersion.state.in_(private))
    elif private and editable_organizations(actor):
        conditions.append(
            and_(
                AlgorithmVersion.state.in_(private),
                AlgorithmVersion.organization_id.in_(editable_organizations(actor)),
            )
        )
    if not conditions:
        return AlgorithmVersion.id.is_(None)
    return or_(*conditions)
