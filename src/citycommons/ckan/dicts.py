"""Read schemas -> CKAN 2.11 dicts, with the keys and formats CKAN's ``package_show`` & co. return.

Multilingual text appears twice, as ckanext-fluent does: ``title`` is one string (the site's default language, else
the first of ca, es, en that exists) and ``title_translated`` holds all three. DCAT fields that CKAN's core lacks
travel as ``extras`` under ckanext-dcat's names (``theme``, ``access_rights``, ``frequency``, ``language``,
``conforms_to``, ``temporal_start``...), so that what ``package_show`` returns is accepted back by
``package_update`` (see ``inputs.py``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from citycommons.accounts.schemas import UserRead
from citycommons.actor import Actor
from citycommons.catalog import groups, organizations, vocabularies
from citycommons.catalog.schemas import (
    LANGS,
    DatasetRead,
    DistributionRead,
    GroupRead,
    OrganizationRead,
    OrganizationSummary,
    pick,
)
from citycommons.errors import NotFound
from citycommons.settings import Settings

TAG_NAMESPACE = uuid.UUID("5f0e2a8e-0c39-4f55-9b53-3d1c1b0f6a11")

# extras key -> (dataset field, vocabulary whose URIs the extra carries, is a list)
DCAT_EXTRAS: dict[str, tuple[str, str | None, bool]] = {
    "identifier": ("identifier", None, False),
    "theme": ("themes", "themes", True),
    "access_rights": ("access_rights", "access_rights", False),
    "frequency": ("frequency", "frequencies", False),
    "language": ("languages", "languages", True),
    "conforms_to": ("conforms_to", None, True),
    "temporal_start": ("temporal_start", None, False),
    "temporal_end": ("temporal_end", None, False),
    "spatial_uri": ("spatial_uri", None, False),
    "spatial_wkt": ("spatial_wkt", None, False),
    "issued": ("issued", None, False),
    "modified": ("modified", None, False),
}


def ckan_datetime(value: datetime | None) -> str | None:
    """CKAN's timestamp format: ISO 8601 in UTC without a timezone ("2026-11-24T19:20:01.123456")."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat()


def translated(text: dict[str, str]) -> dict[str, str]:
    return {lang: text.get(lang, "") for lang in LANGS}


def term_uri(vocabulary: str, term_id: str) -> str:
    term = vocabularies.vocabulary(vocabulary).get(term_id)
    return term.uri if term is not None and term.uri else term_id


def dcat_extras(ds: DatasetRead) -> list[dict[str, str]]:
    out = []
    for key, (attr, vocabulary, many) in DCAT_EXTRAS.items():
        value = getattr(ds, attr)
        if value in (None, "", []):
            continue
        if vocabulary is not None:
            value = [term_uri(vocabulary, v) for v in value] if many else term_uri(vocabulary, value)
        if many:
            out.append({"key": key, "value": json.dumps(value)})
        elif isinstance(value, date):
            out.append({"key": key, "value": value.isoformat()})
        else:
            out.append({"key": key, "value": str(value)})
    return out


def license_dict(license_id: str) -> dict[str, Any]:
    term = vocabularies.licenses().get(license_id)
    if term is None:
        return {"id": license_id, "title": license_id, "url": "", "is_open": False}
    return {
        "id": term.id,
        "title": term.extra.get("title") or term.text("en"),
        "url": term.extra.get("url") or "",
        "is_open": bool(term.extra.get("is_open")),
        "od_conformance": term.extra.get("od_conformance") or "not reviewed",
        "osd_conformance": "not reviewed",
        "status": "active",
        "maintainer": "",
        "family": "",
        "domain_content": False,
        "domain_data": bool(term.extra.get("is_open")),
        "domain_software": False,
        "is_generic": term.id == "notspecified",
    }


def tag_dict(name: str) -> dict[str, Any]:
    """Tags have no id of their own in the services; the id is a stable UUID derived from the name."""
    return {
        "id": str(uuid.uuid5(TAG_NAMESPACE, name)),
        "name": name,
        "display_name": name,
        "state": "active",
        "vocabulary_id": None,
    }


def user_dict(user: UserRead, *, email: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": user.id,
        "name": user.name,
        "fullname": user.fullname or None,
        "display_name": user.fullname or user.name,
        "about": None,
        "created": ckan_datetime(user.created),
        "sysadmin": user.sysadmin,
        "state": user.state,
        "image_url": "",
        "image_display_url": "",
        "email_hash": "",
        "number_created_packages": 0,
    }
    if email is not None:
        out["email"] = email
    return out


@dataclass
class Dictizer:
    """Builds CKAN dicts for one request, looking organisations and groups up once each."""

    session: Session
    actor: Actor
    settings: Settings
    _orgs: dict[str, OrganizationRead | None] = field(default_factory=dict)
    _groups: dict[str, GroupRead | None] = field(default_factory=dict)

    @property
    def lang(self) -> str:
        return self.settings.default_locale

    def text(self, value: dict[str, str], fallback: str = "") -> str:
        return pick(value, self.lang, fallback)

    # --- organisations and groups ----------------------------------------------------------------------

    def _org(self, org_id: str) -> OrganizationRead | None:
        if org_id not in self._orgs:
            try:
                self._orgs[org_id] = organizations.get(
                    session=self.session, actor=self.actor, id_or_name=org_id, with_count=False
                )
            except NotFound:
                self._orgs[org_id] = None
        return self._orgs[org_id]

    def _group(self, name: str) -> GroupRead | None:
        if name not in self._groups:
            try:
                self._groups[name] = groups.get(
                    session=self.session, actor=self.actor, id_or_name=name, with_count=False
                )
            except NotFound:
                self._groups[name] = None
        return self._groups[name]

    def organization(self, org: OrganizationRead, *, package_count: bool = True) -> dict[str, Any]:
        out = self._group_like(org, is_organization=True)
        extras = [{"key": k, "value": getattr(org, k)} for k in ("email", "homepage") if getattr(org, k)]
        out.update(extras=extras)
        if package_count:
            out["package_count"] = org.dataset_count
        return out

    def group(self, group: GroupRead, *, package_count: bool = True) -> dict[str, Any]:
        out = self._group_like(group, is_organization=False)
        out["extras"] = []
        if package_count:
            out["package_count"] = group.dataset_count
        return out

    def _group_like(self, obj: OrganizationRead | GroupRead, *, is_organization: bool) -> dict[str, Any]:
        title = self.text(obj.title, obj.name)
        return {
            "id": obj.id,
            "name": obj.name,
            "title": title,
            "title_translated": translated(obj.title),
            "display_name": title,
            "description": self.text(obj.description),
            "description_translated": translated(obj.description),
            "image_url": obj.image_url,
            "image_display_url": obj.image_url,
            "created": ckan_datetime(obj.created),
            "type": "organization" if is_organization else "group",
            "is_organization": is_organization,
            "approval_status": "approved",
            "state": obj.state,
            "num_followers": 0,
            "tags": [],
            "groups": [],
        }

    def _package_organization(self, summary: OrganizationSummary) -> dict[str, Any]:
        org = self._org(summary.id)
        title = self.text(summary.title, summary.name)
        return {
            "id": summary.id,
            "name": summary.name,
            "title": title,
            "type": "organization",
            "description": self.text(org.description) if org else "",
            "image_url": summary.image_url,
            "created": ckan_datetime(org.created) if org else None,
            "is_organization": True,
            "approval_status": "approved",
            "state": org.state if org else "active",
        }

    def _package_group(self, name: str) -> dict[str, Any]:
        group = self._group(name)
        if group is None:
            return {"id": "", "name": name, "title": name, "display_name": name, "description": ""}
        title = self.text(group.title, group.name)
        return {
            "id": group.id,
            "name": group.name,
            "title": title,
            "display_name": title,
            "description": self.text(group.description),
            "image_display_url": group.image_url,
        }

    # --- datasets and resources ------------------------------------------------------------------------

    def resource(self, dist: DistributionRead) -> dict[str, Any]:
        out: dict[str, Any] = {
            key: value for key, value in dist.extras.items() if key not in RESOURCE_KEYS and not key.startswith("_")
        }
        out.update(
            {
                "id": dist.id,
                "package_id": dist.dataset_id,
                "url": dist.url,
                "name": self.text(dist.title),
                "name_translated": translated(dist.title),
                "description": self.text(dist.description),
                "description_translated": translated(dist.description),
                "format": dist.format,
                "mimetype": dist.media_type or None,
                "mimetype_inner": None,
                "size": dist.byte_size,
                "hash": dist.checksum,
                "created": ckan_datetime(dist.created),
                "last_modified": ckan_datetime(dist.last_modified),
                "metadata_modified": ckan_datetime(dist.last_modified),
                "position": dist.position,
                "url_type": dist.url_type or None,
                "resource_type": None,
                "cache_url": None,
                "cache_last_updated": None,
                "state": dist.state,
                "datastore_active": dist.datastore_active,
            }
        )
        if dist.access_url and dist.access_url != dist.url:
            out["access_url"] = dist.access_url
        if dist.license_id:
            out["license_id"] = dist.license_id
        return out

    def package(self, ds: DatasetRead) -> dict[str, Any]:
        licence = license_dict(ds.license_id)
        title = self.text(ds.title, ds.name)
        resources = [self.resource(d) for d in ds.distributions]
        tags = [tag_dict(t) for t in ds.tags]
        extras = dcat_extras(ds) + [
            {"key": k, "value": v} for k, v in sorted(ds.extras.items()) if k not in DCAT_EXTRAS
        ]
        return {
            "id": ds.id,
            "name": ds.name,
            "title": title,
            "title_translated": translated(ds.title),
            "notes": self.text(ds.description),
            "notes_translated": translated(ds.description),
            "url": ds.landing_page,
            "version": ds.version or None,
            "state": ds.state,
            "private": ds.private,
            "type": "dataset",
            "license_id": ds.license_id,
            "license_title": licence["title"],
            "license_url": licence["url"] or None,
            "isopen": licence["is_open"],
            "author": None,
            "author_email": None,
            "maintainer": ds.contact_name or None,
            "maintainer_email": ds.contact_email or None,
            "metadata_created": ckan_datetime(ds.metadata_created),
            "metadata_modified": ckan_datetime(ds.metadata_modified),
            "creator_user_id": ds.creator_user_id,
            "owner_org": ds.organization.id,
            "organization": self._package_organization(ds.organization),
            "tags": tags,
            "num_tags": len(tags),
            "groups": [self._package_group(g) for g in ds.groups],
            "resources": resources,
            "num_resources": len(resources),
            "extras": sorted(extras, key=lambda e: e["key"]),
            "relationships_as_subject": [],
            "relationships_as_object": [],
        }


# Keys of a CKAN resource dict that are not resource extras (extras are flattened into the resource dict).
RESOURCE_KEYS = frozenset(
    {
        "id",
        "package_id",
        "url",
        "name",
        "name_translated",
        "description",
        "description_translated",
        "format",
        "mimetype",
        "mimetype_inner",
        "size",
        "hash",
        "created",
        "last_modified",
        "metadata_modified",
        "position",
        "url_type",
        "resource_type",
        "cache_url",
        "cache_last_updated",
        "state",
        "datastore_active",
        "access_url",
        "license_id",
        "tracking_summary",
        "resource_views",
        "download_url",
        "upload",
        "clear_upload",
        "datastore_contains_all_records_of_source",
        "on_same_domain",
        "has_views",
    }
)
