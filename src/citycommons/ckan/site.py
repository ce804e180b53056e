"""CKAN actions about the site itself: status, licences, users."""

from __future__ import annotations

from typing import Any

from citycommons.accounts import service as accounts
from citycommons.accounts.schemas import UserPrivateRead
from citycommons.catalog import vocabularies
from citycommons.ckan.call import Call, DataDict, require
from citycommons.ckan.dicts import license_dict, user_dict

CKAN_VERSION = "2.11.0"
# What the adapter provides, named as the CKAN extensions clients look for ("fluent": *_translated fields).
EXTENSIONS = ["citycommons", "fluent"]


def status_show(call: Call, data: DataDict) -> DataDict:
    """Return the site's title, URL, default locale, CKAN API version and extensions."""
    return {
        "site_title": call.settings.site_title,
        "site_description": "",
        "site_url": call.settings.site_url,
        "error_emails_to": None,
        "locale_default": call.settings.default_locale,
        "extensions": EXTENSIONS,
        "ckan_version": CKAN_VERSION,
    }


def license_list(call: Call, data: DataDict) -> list[DataDict]:
    """Return the licences datasets may use."""
    return [license_dict(term.id) for term in vocabularies.licenses().terms]


def user_show(call: Call, data: DataDict) -> DataDict:
    """Return a user (``id``: id or name; without it, the user the API token belongs to)."""
    ref = data.get("id") or (call.actor.user_id if call.actor.authenticated else None)
    if not isinstance(ref, str):
        ref = require(data, "id")
    user = accounts.get_user(session=call.session, actor=call.actor, id_or_name=ref)
    email: Any = user.email if isinstance(user, UserPrivateRead) else None
    return user_dict(user, email=email)
