"""Datasets: get, list, create, update, patch, delete, restore, history. Services never commit.

Distributions given inline (create, update) are ingested into the datastore like those of
``distributions.create``/``patch`` when the caller passes the deployment's ``settings`` (front doors do; ``None``:
nothing is ingested, e.g. fixtures). Deleting a dataset keeps its datastore tables, hidden with it until it is
restored; a distribution removed by an update is deleted for good and its table dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.catalog import permissions, vocabularies
from citycommons.catalog.history import record_activity, snapshot
from citycommons.catalog.models import Activity, Dataset, DatasetTheme, Distribution, Group, Organization, Tag
from citycommons.catalog.organizations import find_organization
from citycommons.catalog.reads import dataset_read
from citycommons.catalog.schemas import (
    ActivityRead,
    DatasetCreate,
    DatasetFields,
    DatasetPatch,
    DatasetRead,
    DatasetUpdate,
    DistributionFields,
)
from citycommons.catalog.search_index import index_dataset
from citycommons.datastore import jobs as datastore_jobs
from citycommons.db.base import new_id, utcnow
from citycommons.errors import Conflict, Forbidden, Invalid, NotFound
from citycommons.ledger import record as ledger_record
from citycommons.settings import Settings

SCALAR_FIELDS = (
    "title",
    "description",
    "identifier",
    "private",
    "access_rights",
    "license_id",
    "contact_name",
    "contact_email",
    "spatial_uri",
    "spatial_wkt",
    "temporal_start",
    "temporal_end",
    "frequency",
    "issued",
    "modified",
    "version",
    "conforms_to",
    "languages",
    "landing_page",
    "extras",
)


def load_dataset(session: Session, id_or_name: str, *, include_deleted: bool = False) -> Dataset:
    """The ORM row by id or name, or NotFound. Visibility is checked by the callers."""
    ds = session.scalars(select(Dataset).where(or_(Dataset.id == id_or_name, Dataset.name == id_or_name))).first()
    if ds is None or (ds.state == "deleted" and not include_deleted):
        raise NotFound("Dataset not found")
    return ds


def load_visible_dataset(session: Session, actor: Actor, id_or_name: str, *, include_deleted: bool = False) -> Dataset:
    ds = load_dataset(session, id_or_name, include_deleted=include_deleted)
    if not permissions.can_read_dataset(actor, organization_id=ds.organization_id, private=ds.private):
        raise NotFound("Dataset not found")
    if ds.state == "deleted" and not permissions.can_edit_dataset(actor, organization_id=ds.organization_id):
        raise NotFound("Dataset not found")
    return ds


def get(*, session: Session, actor: Actor, id_or_name: str, include_deleted: bool = False) -> DatasetRead:
    return dataset_read(load_visible_dataset(session, actor, id_or_name, include_deleted=include_deleted))


def list_names(*, session: Session, actor: Actor, limit: int | None = None, offset: int = 0) -> list[str]:
    stmt = (
        select(Dataset.name)
        .where(Dataset.state == "active", permissions.visible_datasets(actor, include_private=False))
        .order_by(Dataset.name)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def list_recent(
    *,
    session: Session,
    actor: Actor,
    limit: int = 20,
    offset: int = 0,
    organization_id: str | None = None,
    include_private: bool = False,
) -> list[DatasetRead]:
    stmt = select(Dataset).where(
        Dataset.state == "active", permissions.visible_datasets(actor, include_private=include_private)
    )
    if organization_id:
        stmt = stmt.where(Dataset.organization_id == organization_id)
    stmt = stmt.order_by(Dataset.metadata_modified.desc(), Dataset.id).limit(limit).offset(offset)
    return [dataset_read(ds) for ds in session.scalars(stmt)]


def count(*, session: Session, actor: Actor) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Dataset)
            .where(Dataset.state == "active", permissions.visible_datasets(actor, include_private=False))
        )
        or 0
    )


def list_modified(
    *, session: Session, actor: Actor, limit: int | None = None, offset: int = 0
) -> list[tuple[str, datetime]]:
    """(name, metadata_modified) of the active public datasets, by name: sitemaps and harvest listings."""
    stmt = (
        select(Dataset.name, Dataset.metadata_modified)
        .where(Dataset.state == "active", permissions.visible_datasets(actor, include_private=False))
        .order_by(Dataset.name)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(name, modified) for name, modified in session.execute(stmt)]


def last_modified_by_organization(*, session: Session, actor: Actor) -> dict[str, datetime]:
    """Organisation id -> newest metadata_modified of its active public datasets."""
    rows = session.execute(
        select(Dataset.organization_id, func.max(Dataset.metadata_modified))
        .where(Dataset.state == "active", permissions.visible_datasets(actor, include_private=False))
        .group_by(Dataset.organization_id)
    )
    return {org_id: modified for org_id, modified in rows if modified is not None}


# --- writes --------------------------------------------------------------------------------------------


def _check_vocabularies(data: DatasetFields | DatasetPatch) -> None:
    errors: dict[str, list[str]] = {}
    if data.license_id is not None and data.license_id not in vocabularies.licenses():
        errors["license_id"] = [f"Unknown licence '{data.license_id}'; see license_list"]
    for theme in data.themes or []:
        if theme not in vocabularies.themes():
            errors.setdefault("themes", []).append(f"Unknown EU data theme '{theme}'")
    if data.frequency and data.frequency not in vocabularies.frequencies():
        errors["frequency"] = [f"Unknown frequency '{data.frequency}'"]
    for lang in data.languages or []:
        if lang not in vocabularies.languages():
            errors.setdefault("languages", []).append(f"Unknown language '{lang}'")
    if errors:
        raise Invalid("Unknown vocabulary values", fields=errors)


def check_distribution_fields(data: DistributionFields, *, field_prefix: str = "") -> dict[str, Any]:
    """Validated column values of a distribution: the format becomes a file-type id from the vocabulary."""
    values = data.model_dump()
    term = vocabularies.file_type_for(format=data.format, media_type=data.media_type, filename=data.url)
    if data.format and term is None:
        raise Invalid(
            "Unknown format",
            fields={f"{field_prefix}format": [f"Unknown file format '{data.format}'"]},
        )
    if data.license_id and data.license_id not in vocabularies.licenses():
        raise Invalid("Unknown licence", fields={f"{field_prefix}license_id": [f"Unknown licence '{data.license_id}'"]})
    if term is not None:
        values["format"] = term.id
        values["media_type"] = data.media_type or str(term.extra.get("media_type") or "")
    return values


def _resolve_groups(session: Session, names: list[str]) -> list[Group]:
    groups = []
    for ref in dict.fromkeys(names):
        group = session.scalars(
            select(Group).where(or_(Group.name == ref, Group.id == ref), Group.state == "active")
        ).first()
        if group is None:
            raise Invalid("Unknown group", fields={"groups": [f"Unknown group '{ref}'"]})
        groups.append(group)
    return groups


def _resolve_tags(session: Session, names: list[str]) -> list[Tag]:
    tags = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        tag = session.scalars(select(Tag).where(Tag.name == name)).first()
        if tag is None:
            tag = Tag(name=name)
            session.add(tag)
        tags.append(tag)
    return tags


def _writable_org(session: Session, actor: Actor, ref: str) -> Organization:
    try:
        org = find_organization(session, ref)
    except NotFound:
        raise Invalid("Unknown organisation", fields={"organization": [f"Unknown organisation '{ref}'"]})
    if not permissions.can_create_dataset(actor, organization_id=org.id):
        raise Forbidden("You may not add datasets to this organisation")
    return org


NULLABLE_FIELDS = frozenset({"temporal_start", "temporal_end", "issued", "modified"})


def _apply(session: Session, ds: Dataset, values: dict[str, Any]) -> None:
    """Sets the given fields; ``None`` clears a date and leaves any other field as it is."""
    for field in SCALAR_FIELDS:
        if field in values and (values[field] is not None or field in NULLABLE_FIELDS):
            setattr(ds, field, values[field])
    if "themes" in values and values["themes"] is not None:
        wanted = list(dict.fromkeys(vocabularies.themes().get(t).id for t in values["themes"]))  # type: ignore[union-attr]
        ds.theme_rows = [DatasetTheme(theme=t) for t in wanted]
    if values.get("tags") is not None:
        ds.tags = _resolve_tags(session, values["tags"])
    if values.get("groups") is not None:
        ds.groups = _resolve_groups(session, values["groups"])


def _add_distributions(session: Session, ds: Dataset, items: list[DistributionFields], *, start: int = 0) -> None:
    for i, item in enumerate(items):
        values = check_distribution_fields(item, field_prefix=f"distributions.{i}.")
        if not values.get("license_id"):
            values["license_id"] = ""
        session.add(Distribution(dataset_id=ds.id, position=start + i, **values))


def _touch(session: Session, ds: Dataset) -> None:
    ds.metadata_modified = utcnow()
    session.flush()
    session.expire(ds, ["distributions", "tags", "groups", "theme_rows"])
    index_dataset(session, ds)


def create(*, session: Session, actor: Actor, settings: Settings | None, data: DatasetCreate) -> DatasetRead:
    _check_vocabularies(data)
    org = _writable_org(session, actor, data.organization)
    if session.scalar(select(func.count()).select_from(Dataset).where(Dataset.name == data.name)):
        raise Conflict("That URL is already in use.", fields={"name": ["That URL is already in use."]})
    ds = Dataset(name=data.name, organization_id=org.id, creator_user_id=actor.user_id)
    session.add(ds)
    _apply(
        session,
        ds,
        data.model_dump(exclude={"distributions", "organization", "name"})
        | {
            "themes": data.themes,
            "tags": data.tags,
            "groups": data.groups,
        },
    )
    session.flush()
    _add_distributions(session, ds, list(data.distributions))
    _touch(session, ds)
    if settings is not None:
        datastore_jobs.schedule_new(session=session, actor=actor, settings=settings, distributions=ds.distributions)
    read = dataset_read(ds)
    record_activity(session, actor=actor, dataset=ds, activity_type="new package", before=None, after=read)
    if not ledger_record.is_open(ds):  # born private or restricted: the transparency log records its access rights
        _log_access_rights(session, actor, ds, {"private": None, "access_rights": None})
    return read


def _access_rights(ds: Dataset) -> dict[str, Any]:
    return {"private": ds.private, "access_rights": ds.access_rights}


def _log_access_rights(session: Session, actor: Actor, ds: Dataset, before: dict[str, Any]) -> None:
    if before == _access_rights(ds):
        return
    key = ledger_record.deployment_key(session)
    ledger_record.access_rights_changed(session=session, actor=actor, key=key, dataset=ds, before=before)


def save_changes(session: Session, actor: Actor, ds: Dataset, before: dict[str, Any]) -> DatasetRead:
    _touch(session, ds)
    read = dataset_read(ds)
    record_activity(session, actor=actor, dataset=ds, activity_type="changed package", before=before, after=read)
    return read


def editable_dataset(session: Session, actor: Actor, id_or_name: str, *, include_deleted: bool = False) -> Dataset:
    ds = load_visible_dataset(session, actor, id_or_name, include_deleted=include_deleted)
    if not permissions.can_edit_dataset(actor, organization_id=ds.organization_id):
        raise Forbidden("You may not edit this dataset")
    return ds


def _rename(session: Session, ds: Dataset, name: str | None) -> None:
    if name and name != ds.name:
        taken = session.scalar(
            select(func.count()).select_from(Dataset).where(Dataset.name == name, Dataset.id != ds.id)
        )
        if taken:
            raise Conflict("That URL is already in use.", fields={"name": ["That URL is already in use."]})
        ds.name = name


def _move(session: Session, actor: Actor, ds: Dataset, organization: str | None) -> None:
    if organization:
        org = _writable_org(session, actor, organization)
        ds.organization_id = org.id


def update(
    *, session: Session, actor: Actor, settings: Settings | None, id_or_name: str, data: DatasetUpdate
) -> DatasetRead:
    ds = editable_dataset(session, actor, id_or_name)
    _check_vocabularies(data)
    before, rights = snapshot(dataset_read(ds)), _access_rights(ds)
    _rename(session, ds, data.name)
    _move(session, actor, ds, data.organization)
    # a full update: every field is given, so what the caller omitted returns to its default
    _apply(session, ds, data.model_dump(exclude={"distributions", "organization", "name"}))
    if data.distributions is not None:
        _replace_distributions(session, actor, settings, ds, data.distributions)
    _log_access_rights(session, actor, ds, rights)
    return save_changes(session, actor, ds, before)


def _replace_distributions(
    session: Session, actor: Actor, settings: Settings | None, ds: Dataset, items: list[Any]
) -> None:
    """The distributions become ``items`` (matched by id); the others are deleted and their tables dropped.
    New ones, and those whose file or URL changed, are ingested (when ``settings`` is given)."""
    existing = {d.id: d for d in ds.distributions}
    keep: set[str] = set()
    before_ingest = {
        d.id: datastore_jobs.ingest_params(settings=settings, distribution=d) if settings is not None else None
        for d in existing.values()
    }
    added: list[Distribution] = []
    for position, item in enumerate(items):
        values = check_distribution_fields(item, field_prefix=f"distributions.{position}.")
        values.pop("id", None)
        row = existing.get(item.id) if item.id else None
        if row is None:
            added.append(Distribution(id=new_id(), dataset_id=ds.id, position=position, **values))
            session.add(added[-1])
            continue
        keep.add(row.id)
        for key, value in values.items():
            if key in {"url"} and row.url_type == "upload" and not value:
                continue
            setattr(row, key, value)
        row.position = position
        row.last_modified = utcnow()
    for dist_id, row in existing.items():
        if dist_id not in keep:
            row.state = "deleted"
            datastore_jobs.schedule_drop(session=session, actor=actor, distribution=row)
    if settings is None:
        return
    session.flush()
    for dist_id in keep:
        datastore_jobs.schedule_if_changed(session=session, actor=actor, settings=settings,
                                           distribution=existing[dist_id], before=before_ingest[dist_id],
                                           uploaded=False)  # fmt: skip
    datastore_jobs.schedule_new(session=session, actor=actor, settings=settings, distributions=added)


def patch(*, session: Session, actor: Actor, id_or_name: str, data: DatasetPatch) -> DatasetRead:
    ds = editable_dataset(session, actor, id_or_name)
    _check_vocabularies(data)
    before, rights = snapshot(dataset_read(ds)), _access_rights(ds)
    given = data.model_dump(exclude_unset=True)
    _rename(session, ds, given.pop("name", None))
    _move(session, actor, ds, given.pop("organization", None))
    _apply(session, ds, given)
    if ds.temporal_start and ds.temporal_end and ds.temporal_end < ds.temporal_start:
        raise Invalid(fields={"temporal_end": ["must not be before temporal_start"]})
    if not ds.title:
        raise Invalid(fields={"title": ["give a title in at least one of ca, es, en"]})
    _log_access_rights(session, actor, ds, rights)
    return save_changes(session, actor, ds, before)


def delete(*, session: Session, actor: Actor, id_or_name: str) -> None:
    ds = editable_dataset(session, actor, id_or_name)
    ds.state = "deleted"
    ds.metadata_modified = utcnow()
    record_activity(
        session, actor=actor, dataset=ds, activity_type="deleted package", before=None, after=dataset_read(ds)
    )


def restore(*, session: Session, actor: Actor, id_or_name: str) -> DatasetRead:
    ds = editable_dataset(session, actor, id_or_name, include_deleted=True)
    if ds.state != "deleted":
        raise Conflict("Dataset is not deleted", fields={"state": ["Dataset is not deleted"]})
    ds.state = "active"
    before = {"state": "deleted"}
    return save_changes(session, actor, ds, before)


def history(*, session: Session, actor: Actor, id_or_name: str, limit: int = 100) -> list[ActivityRead]:
    ds = load_visible_dataset(session, actor, id_or_name, include_deleted=True)
    rows = session.scalars(
        select(Activity)
        .where(Activity.object_id == ds.id)
        .order_by(Activity.timestamp.desc(), Activity.id)
        .limit(limit)
    )
    return [ActivityRead.model_validate(r, from_attributes=True) for r in rows]
