"""The CKAN action names this adapter answers, each mapped to its function (the only string lookup)."""

from __future__ import annotations

from citycommons.ckan import datasets, datastore, groups, package_search, site
from citycommons.ckan.call import Action, Call, DataDict, require
from citycommons.errors import NotFound


def help_show(call: Call, data: DataDict) -> str | None:
    """Return the help text of an action (``name``)."""
    function = ACTIONS.get(require(data, "name"))
    if function is None:
        raise NotFound("Action function not found")
    return function.__doc__


# Actions without side effects: they also answer GET, with their parameters in the query string.
READ_ACTIONS: dict[str, Action] = {
    "status_show": site.status_show,
    "help_show": help_show,
    "license_list": site.license_list,
    "user_show": site.user_show,
    "package_list": datasets.package_list,
    "current_package_list_with_resources": datasets.current_package_list_with_resources,
    "package_show": datasets.package_show,
    "package_search": package_search.package_search,
    "tag_list": package_search.tag_list,
    "resource_show": datasets.resource_show,
    "resource_view_list": datasets.resource_view_list,
    "organization_list": groups.organization_list,
    "organization_show": groups.organization_show,
    "group_list": groups.group_list,
    "group_show": groups.group_show,
    "datastore_search": datastore.datastore_search,
    "datastore_search_sql": datastore.datastore_search_sql,
    "datastore_info": datastore.datastore_info,
}

WRITE_ACTIONS: dict[str, Action] = {
    "package_create": datasets.package_create,
    "package_update": datasets.package_update,
    "package_patch": datasets.package_patch,
    "package_delete": datasets.package_delete,
    "resource_create": datasets.resource_create,
    "resource_update": datasets.resource_update,
    "resource_patch": datasets.resource_patch,
    "resource_delete": datasets.resource_delete,
    "organization_create": groups.organization_create,
    "organization_update": groups.organization_update,
    "organization_patch": groups.organization_patch,
    "group_create": groups.group_create,
    "group_update": groups.group_update,
    "group_patch": groups.group_patch,
    "datastore_create": datastore.datastore_create,
    "datastore_upsert": datastore.datastore_upsert,
    "datastore_delete": datastore.datastore_delete,
    "datastore_records_delete": datastore.datastore_records_delete,
}

ACTIONS: dict[str, Action] = READ_ACTIONS | WRITE_ACTIONS
