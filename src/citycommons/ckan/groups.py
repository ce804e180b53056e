"""CKAN actions on organisations and groups, translated to the catalog's organisation and group services."""

from __future__ import annotations

from typing import Any

from citycommons.catalog import groups, organizations, search
from citycommons.catalog.schemas import (
    FieldFilter,
    GroupCreate,
    GroupPatch,
    GroupRead,
    OrganizationCreate,
    OrganizationPatch,
    OrganizationRead,
    SearchQuery,
)
from citycommons.ckan import inputs
from citycommons.ckan.call import Call, DataDict, require, validate
from citycommons.ckan.errors import CkanInvalid

LIST_MAX = 1000
LIST_ALL_FIELDS_MAX = 25
DATASETS_MAX = 1000
SORTS = {"name": "name", "title": "title", "package_count": "package_count", "packages": "package_count"}


def _sorted(call: Call, items: list[Any], sort: str) -> list[Any]:
    """CKAN's group list sort: ``name``, ``title`` or ``package_count`` with ``asc``/``desc`` (default title asc;
    a bare ``package_count`` sorts descending)."""
    words = sort.split() or ["title"]
    field = SORTS.get(words[0])
    if field is None:
        raise CkanInvalid("Invalid sort", fields={"message": [f"Cannot sort by field `{words[0]}`"]})
    direction = words[1].lower() if len(words) > 1 else ("desc" if field == "package_count" else "asc")
    if direction not in ("asc", "desc") or len(words) > 2:
        raise CkanInvalid("Invalid sort", fields={"message": [f"Invalid sort direction `{direction}`"]})

    def key(item: Any) -> Any:
        if field == "package_count":
            return item.dataset_count
        if field == "title":
            return call.dicts.text(item.title, item.name).casefold()
        return item.name

    return sorted(items, key=key, reverse=direction == "desc")


def _list(call: Call, data: DataDict, items: list[Any], *, filter_key: str, is_organization: bool) -> list[Any]:
    errors = inputs.Errors()
    all_fields = inputs.boolean(data.get("all_fields"), "all_fields", errors)
    limit = inputs.integer(data.get("limit"), "limit", errors, default=None)
    offset = inputs.integer(data.get("offset"), "offset", errors, default=0) or 0
    wanted = inputs.string_list(data.get(filter_key), filter_key, errors)
    q = (inputs.text(data, "q", errors) or "").strip().casefold()
    sort = inputs.text(data, "sort", errors) or inputs.text(data, "order_by", errors) or "title asc"
    errors.raise_if_any()
    most = LIST_ALL_FIELDS_MAX if all_fields else LIST_MAX
    limit = most if not limit or limit > most else limit
    if wanted:
        items = [i for i in items if i.name in wanted]
    if q:
        items = [
            i
            for i in items
            if q in i.name.casefold() or any(q in v.casefold() for v in (*i.title.values(), *i.description.values()))
        ]
    page = _sorted(call, items, sort)[offset : offset + limit]
    if not all_fields:
        return [i.name for i in page]
    if is_organization:
        return [call.dicts.organization(i) for i in page]
    return [call.dicts.group(i) for i in page]


def _datasets(call: Call, field: str, value: str) -> list[DataDict]:
    query = SearchQuery(
        filters=[FieldFilter(field=field, values=[value])],
        rows=DATASETS_MAX,
        include_private=True,
        lang=call.lang,
    )
    found = search.search(session=call.session, actor=call.actor, query=query)
    return [call.dicts.package(ds) for ds in found.results]


def _show_options(data: DataDict) -> tuple[bool, bool]:
    errors = inputs.Errors()
    include_datasets = inputs.boolean(data.get("include_datasets"), "include_datasets", errors)
    include_count = inputs.boolean(data.get("include_dataset_count"), "include_dataset_count", errors, default=True)
    errors.raise_if_any()
    return include_datasets, include_count


# --- organisations --------------------------------------------------------------------------------------


def organization_list(call: Call, data: DataDict) -> list[Any]:
    """Return the names of the organisations (``all_fields``: their dicts), sorted by ``sort`` (default
    ``title asc``); ``limit``/``offset`` page, ``organizations`` and ``q`` filter."""
    items = organizations.list_all(session=call.session, actor=call.actor)
    return _list(call, data, items, filter_key="organizations", is_organization=True)


def organization_show(call: Call, data: DataDict) -> DataDict:
    """Return an organisation (``id``: id or name); ``include_datasets`` adds its datasets as ``packages``."""
    org = organizations.get(session=call.session, actor=call.actor, id_or_name=require(data, "id"))
    return _org_dict(call, org, *_show_options(data))


def _org_dict(call: Call, org: OrganizationRead, include_datasets: bool, include_count: bool) -> DataDict:
    out = call.dicts.organization(org, package_count=include_count or include_datasets)
    if include_datasets:
        out["packages"] = _datasets(call, "organization", org.id)
    return out


def _fields(call: Call, data: DataDict, *, is_organization: bool, replace: bool) -> DataDict:
    """Our fields from a CKAN organisation or group dict; every bad field reported at once."""
    errors = inputs.Errors()
    fields = inputs.group_fields(data, errors, lang=call.lang, is_organization=is_organization, replace=replace)
    errors.raise_if_any()
    return fields


def organization_create(call: Call, data: DataDict) -> DataDict:
    """Create an organisation (``name``, ``title``, ``description``, ``image_url``; sysadmins only)."""
    fields = _fields(call, data, is_organization=True, replace=True) | {"name": require(data, "name")}
    org = organizations.create(session=call.session, actor=call.actor, data=validate(OrganizationCreate, fields))
    return _org_dict(call, org, False, True)


def _change_org(call: Call, data: DataDict, *, replace: bool) -> DataDict:
    org = organizations.get(session=call.session, actor=call.actor, id_or_name=require(data, "id"))
    fields = _fields(call, data, is_organization=True, replace=replace)
    if not fields.get("title", True):
        del fields["title"]  # an update without a title keeps the current one
    patch = validate(OrganizationPatch, fields)
    changed = organizations.patch(session=call.session, actor=call.actor, id_or_name=org.id, data=patch)
    return _org_dict(call, changed, False, True)


def organization_update(call: Call, data: DataDict) -> DataDict:
    """Replace an organisation's metadata (``id``); omitted fields are reset."""
    return _change_org(call, data, replace=True)


def organization_patch(call: Call, data: DataDict) -> DataDict:
    """Change the given fields of an organisation (``id``), keeping the others."""
    return _change_org(call, data, replace=False)


# --- groups ---------------------------------------------------------------------------------------------


def group_list(call: Call, data: DataDict) -> list[Any]:
    """Return the names of the groups (``all_fields``: their dicts), sorted by ``sort`` (default ``title asc``);
    ``limit``/``offset`` page, ``groups`` and ``q`` filter."""
    items = groups.list_all(session=call.session, actor=call.actor)
    return _list(call, data, items, filter_key="groups", is_organization=False)


def group_show(call: Call, data: DataDict) -> DataDict:
    """Return a group (``id``: id or name); ``include_datasets`` adds its datasets as ``packages``."""
    group = groups.get(session=call.session, actor=call.actor, id_or_name=require(data, "id"))
    return _group_dict(call, group, *_show_options(data))


def _group_dict(call: Call, group: GroupRead, include_datasets: bool, include_count: bool) -> DataDict:
    out = call.dicts.group(group, package_count=include_count or include_datasets)
    if include_datasets:
        out["packages"] = _datasets(call, "groups", group.name)
    return out


def group_create(call: Call, data: DataDict) -> DataDict:
    """Create a group (``name``, ``title``, ``description``, ``image_url``; sysadmins only)."""
    fields = _fields(call, data, is_organization=False, replace=True) | {"name": require(data, "name")}
    group = groups.create(session=call.session, actor=call.actor, data=validate(GroupCreate, fields))
    return _group_dict(call, group, False, True)


def _change_group(call: Call, data: DataDict, *, replace: bool) -> DataDict:
    group = groups.get(session=call.session, actor=call.actor, id_or_name=require(data, "id"))
    fields = _fields(call, data, is_organization=False, replace=replace)
    if not fields.get("title", True):
        del fields["title"]
    changed = groups.patch(
        session=call.session, actor=call.actor, id_or_name=group.id, data=validate(GroupPatch, fields)
    )
    return _group_dict(call, changed, False, True)


def group_update(call: Call, data: DataDict) -> DataDict:
    """Replace a group's metadata (``id``); omitted fields are reset."""
    return _change_group(call, data, replace=True)


def group_patch(call: Call, data: DataDict) -> DataDict:
    """Change the given fields of a group (``id``), keeping the others."""
    return _change_group(call, data, replace=False)
