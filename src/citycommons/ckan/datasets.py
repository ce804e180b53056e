"""CKAN actions on datasets (packages) and their resources, translated to the catalog services."""

from __future__ import annotations

from typing import Any

from citycommons.catalog import distributions, organizations, service
from citycommons.catalog.schemas import (
    DatasetCreate,
    DatasetRead,
    DatasetUpdate,
    DistributionCreate,
    DistributionPatch,
    Upload,
)
from citycommons.ckan import inputs
from citycommons.ckan.call import Call, DataDict, require, resource_field_names, validate
from citycommons.errors import NotFound
from citycommons.ledger import record as ledger_record

# A package_patch that sends one of these keys without its partner drops the partner read from package_show,
# so that the sent value wins (``title`` and ``title_translated`` describe the same field).
PATCH_PARTNERS = {
    "title_translated": ("title",),
    "notes_translated": ("notes",),
    "author": ("maintainer",),
    "author_email": ("maintainer_email",),
}


def _organization_ref(call: Call, data: DataDict) -> str | None:
    """The first organisation reference of the package dict that exists here, else the first one given (for the
    service to report as unknown), else None."""
    refs = inputs.owner_org_refs(data)
    for ref in refs:
        try:
            return organizations.get(session=call.session, actor=call.actor, id_or_name=ref).id
        except NotFound:
            continue
    return refs[0] if refs else None


def _dataset_fields(call: Call, data: DataDict, current: DatasetRead | None) -> DataDict:
    errors = inputs.Errors()
    organization = _organization_ref(call, data) or (current.organization.id if current else None)
    fields = inputs.dataset_fields(data, errors, lang=call.lang, organization=organization, current=current)
    if current is None and "name" not in fields:
        errors.add("name", "Missing value")
    if organization is None:
        errors.add("owner_org", "An organization must be provided")
    errors.raise_if_any()
    return fields


def package_list(call: Call, data: DataDict) -> list[str]:
    """Return the names of the site's public datasets, sorted; ``limit`` and ``offset`` page through them."""
    errors = inputs.Errors()
    limit = inputs.integer(data.get("limit"), "limit", errors, default=None)
    offset = inputs.integer(data.get("offset"), "offset", errors, default=0) or 0
    errors.raise_if_any()
    return service.list_names(session=call.session, actor=call.actor, limit=limit or None, offset=offset)


def current_package_list_with_resources(call: Call, data: DataDict) -> list[DataDict]:
    """Return the most recently modified datasets with their resources (``limit``, default 10, and ``offset``)."""
    errors = inputs.Errors()
    limit = inputs.integer(data.get("limit"), "limit", errors, default=None) or 10
    offset = inputs.integer(data.get("offset"), "offset", errors, default=None)
    page = inputs.integer(data.get("page"), "page", errors, default=1, minimum=1) or 1
    errors.raise_if_any()
    if offset is None:
        offset = (page - 1) * limit
    reads = service.list_recent(
        session=call.session,
        actor=call.actor,
        limit=min(limit, 1000),
        offset=offset,
        include_private=call.actor.sysadmin,
    )
    return [call.dicts.package(ds) for ds in reads]


def package_show(call: Call, data: DataDict) -> DataDict:
    """Return the metadata of a dataset and its resources (``id``: the id or name of the dataset)."""
    ref = require(data, "id", "name_or_id")
    read = service.get(session=call.session, actor=call.actor, id_or_name=ref)
    ledger_record.data_read(
        session=call.session,
        actor=call.actor,
        key=call.settings.pseudonym_key,
        dataset=ledger_record.DatasetRef.of(read),
        channel="api",
    )
    return call.dicts.package(read)


def package_create(call: Call, data: DataDict) -> DataDict:
    """Create a dataset from a CKAN package dict (``name``, ``title``, ``owner_org``, ``notes``, ``tags``,
    ``groups``, ``extras``, ``resources``...) and return it as package_show does."""
    fields = _dataset_fields(call, data, None)
    create = validate(DatasetCreate, fields)
    created = service.create(session=call.session, actor=call.actor, settings=call.settings, data=create)
    return call.dicts.package(created)


def package_update(call: Call, data: DataDict) -> DataDict:
    """Replace a dataset's metadata (``id`` or ``name``) with the package dict given; omitted fields are reset,
    except ``private``, ``owner_org``, ``resources`` and the ``access_rights`` extra, which are kept when absent."""
    ref = require(data, "id", "name")
    current = service.get(session=call.session, actor=call.actor, id_or_name=ref)
    return _update(call, data, current)


def _update(call: Call, data: DataDict, current: DatasetRead) -> DataDict:
    fields = _dataset_fields(call, data, current)
    update = validate(DatasetUpdate, fields)
    updated = service.update(
        session=call.session, actor=call.actor, settings=call.settings, id_or_name=current.id, data=update
    )
    return call.dicts.package(updated)


def package_patch(call: Call, data: DataDict) -> DataDict:
    """Change the given fields of a dataset (``id``), keeping the others: package_show, merged, package_update."""
    ref = require(data, "id")
    current = service.get(session=call.session, actor=call.actor, id_or_name=ref)
    merged = call.dicts.package(current)
    for sent, partners in PATCH_PARTNERS.items():
        if sent in data:
            for partner in partners:
                if partner not in data:
                    merged.pop(partner, None)
    merged.update(data)
    merged["id"] = current.id
    return _update(call, merged, current)


def package_delete(call: Call, data: DataDict) -> None:
    """Delete a dataset (``id``: its id or name); it can be restored from the web interface or native API."""
    service.delete(session=call.session, actor=call.actor, id_or_name=require(data, "id"))


# --- resources ------------------------------------------------------------------------------------------


def _upload(data: DataDict) -> Upload | None:
    value = data.get("upload")
    return value if isinstance(value, Upload) else None


def resource_show(call: Call, data: DataDict) -> DataDict:
    """Return the metadata of a resource (``id``)."""
    read = distributions.get(session=call.session, actor=call.actor, distribution_id=require(data, "id"))
    ledger_record.resource_read(session=call.session, actor=call.actor, key=call.settings.pseudonym_key,
                                dataset_id=read.dataset_id, distribution_id=read.id, channel="api")  # fmt: skip
    return call.dicts.resource(read)


def resource_create(call: Call, data: DataDict) -> DataDict:
    """Add a resource to a dataset (``package_id``): a link (``url``) or a file sent as multipart ``upload``."""
    package_id = require(data, "package_id")
    errors = inputs.Errors()
    fields = inputs.resource_fields(data, errors, lang=call.lang, replace=True)
    errors.raise_if_any()
    with resource_field_names():
        created = distributions.create(
            session=call.session,
            actor=call.actor,
            settings=call.settings,
            dataset=package_id,
            data=validate(DistributionCreate, fields),
            upload=_upload(data),
        )
    return call.dicts.resource(created)


def _change_resource(call: Call, data: DataDict, *, replace: bool) -> DataDict:
    rid = require(data, "id")
    current = distributions.get(session=call.session, actor=call.actor, distribution_id=rid)
    errors = inputs.Errors()
    given = {k: v for k, v in data.items() if k not in ("id", "package_id")}
    fields = inputs.resource_fields(given, errors, lang=call.lang, replace=replace, current=current)
    errors.raise_if_any()
    with resource_field_names():
        changed = distributions.patch(
            session=call.session,
            actor=call.actor,
            settings=call.settings,
            distribution_id=rid,
            data=validate(DistributionPatch, fields),
            upload=_upload(data),
            replace=replace,
        )
    return call.dicts.resource(changed)


def resource_update(call: Call, data: DataDict) -> DataDict:
    """Replace a resource's metadata (``id``); omitted fields are reset. A multipart ``upload`` replaces the file."""
    return _change_resource(call, data, replace=True)


def resource_patch(call: Call, data: DataDict) -> DataDict:
    """Change the given fields of a resource (``id``), keeping the others. A multipart ``upload`` replaces the file."""
    return _change_resource(call, data, replace=False)


def resource_delete(call: Call, data: DataDict) -> None:
    """Delete a resource (``id``)."""
    distributions.delete(session=call.session, actor=call.actor, distribution_id=require(data, "id"))


def resource_view_list(call: Call, data: DataDict) -> list[Any]:
    """Return the views of a resource (``id``). This portal has no resource view plugins, so the list is empty."""
    distributions.get(session=call.session, actor=call.actor, distribution_id=require(data, "id"))
    return []
