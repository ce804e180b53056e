"""The per-dataset activity stream: every metadata change with who, when and what changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.catalog.models import Activity, Dataset
from citycommons.catalog.schemas import DatasetRead

VOLATILE = {"metadata_modified", "metadata_created", "creator_user_id"}


def snapshot(read: DatasetRead) -> dict[str, Any]:
    data = read.model_dump(mode="json", exclude=VOLATILE)
    data["organization"] = read.organization.name
    data["distributions"] = [
        {k: v for k, v in d.items() if k not in {"created", "last_modified", "dataset_id"}}
        for d in data["distributions"]
    ]
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    changes = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            changes.append({"field": key, "old": old, "new": new})
    return changes


def record_activity(
    session: Session,
    *,
    actor: Actor,
    dataset: Dataset,
    activity_type: str,
    before: dict[str, Any] | None,
    after: DatasetRead,
) -> None:
    after_snap = snapshot(after)
    if before is None:
        changes = [{"field": "*", "old": None, "new": after.name}]
    else:
        changes = diff(before, after_snap) if activity_type == "changed package" else []
        if activity_type == "changed package" and not changes:
            return
    session.add(
        Activity(
            object_id=dataset.id,
            organization_id=dataset.organization_id,
            user_id=actor.user_id,
            user_name=actor.name or "",
            activity_type=activity_type,
            changes=changes,
        )
    )
