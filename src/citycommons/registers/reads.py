"""ORM rows of the register to read schemas, in batches (one query for organisations, one for datasets).

Catalog datasets linked from a record are shown only to readers who may see them: a private dataset simply does
not appear in the ``datasets`` of someone outside its organisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.catalog import permissions as catalog_permissions
from citycommons.catalog.models import Dataset, Organization
from citycommons.catalog.schemas import pick
from citycommons.registers.models import JSON_FIELDS, SCALAR_FIELDS, AlgorithmVersion
from citycommons.registers.schemas import AlgorithmRead, AlgorithmTombstone, DatasetLinkRead, OrganizationRef


def organization_refs(session: Session, ids: set[str]) -> dict[str, OrganizationRef]:
    if not ids:
        return {}
    rows = session.scalars(select(Organization).where(Organization.id.in_(sorted(ids))))
    return {o.id: OrganizationRef(id=o.id, name=o.name, title=dict(o.title or {})) for o in rows}


def visible_datasets(session: Session, actor: Actor, ids: set[str]) -> dict[str, Dataset]:
    """The linked catalog datasets ``actor`` may see, by id."""
    if not ids:
        return {}
    rows = session.scalars(select(Dataset).where(Dataset.id.in_(sorted(ids)), Dataset.state == "active"))
    return {
        ds.id: ds
        for ds in rows
        if catalog_permissions.can_read_dataset(actor, organization_id=ds.organization_id, private=ds.private)
    }


def _links(items: list[Any], datasets: dict[str, Dataset]) -> list[DatasetLinkRead]:
    out = []
    for item in items:
        if item.get("dataset_id"):
            ds = datasets.get(item["dataset_id"])
            if ds is not None:
                titles = dict(ds.title or {})
                out.append(
                    DatasetLinkRead(
                        role=item["role"],
                        dataset_id=ds.id,
                        dataset_name=ds.name,
                        title=pick(titles, "en", ds.name),
                        titles=titles,
                    )
                )
        else:
            out.append(DatasetLinkRead(role=item["role"], title=item.get("title", ""), url=item.get("url", "")))
    return out


def algorithm_reads(session: Session, actor: Actor, rows: Sequence[AlgorithmVersion]) -> list[AlgorithmRead]:
    orgs = organization_refs(session, {r.organization_id for r in rows})
    wanted = {item["dataset_id"] for r in rows for item in r.datasets or [] if item.get("dataset_id")}
    datasets = visible_datasets(session, actor, wanted)
    reads = []
    for row in rows:
        values: dict[str, Any] = {field: getattr(row, field) for field in (*SCALAR_FIELDS, *JSON_FIELDS)}
        values.update(
            id=row.record_id,
            version_id=row.id,
            slug=row.slug,
            version=row.version,
            record_state=row.state,
            organization=orgs[row.organization_id],
            datasets=_links(row.datasets or [], datasets),
            first_published_at=row.first_published_at,
            published_at=row.published_at,
            updated_at=row.updated_at,
            archived_at=row.archived_at,
        )
        reads.append(AlgorithmRead.model_validate(values))
    return reads


def algorithm_read(session: Session, actor: Actor, row: AlgorithmVersion) -> AlgorithmRead:
    return algorithm_reads(session, actor, [row])[0]


def tombstone(session: Session, row: AlgorithmVersion) -> AlgorithmTombstone:
    return AlgorithmTombstone(
        id=row.record_id,
        slug=row.slug,
        name=row.name,
        organization=organization_refs(session, {row.organization_id})[row.organization_id],
        first_published_at=row.first_published_at,
        archived_at=row.archived_at,
        reason=row.state_reason,
    )


def stored_fields(row: AlgorithmVersion) -> dict[str, Any]:
    """The version's content as ``AlgorithmFields`` input (what an edit starts from)."""
    values: dict[str, Any] = {field: getattr(row, field) for field in (*SCALAR_FIELDS, *JSON_FIELDS)}
    values["datasets"] = [
        {"dataset": item["dataset_id"], "role": item["role"]}
        if item.get("dataset_id")
        else {"title": item.get("title", ""), "url": item.get("url", ""), "role": item["role"]}
        for item in row.datasets or []
    ]
    values["conformity"] = dict(row.conformity or {})
    return values
