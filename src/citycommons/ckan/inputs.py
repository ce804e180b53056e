"""CKAN request dicts -> the services' input schemas. The inverse of ``dicts.py``: what ``package_show`` returns is
accepted back; read-only and unknown keys are ignored as CKAN ignores them; a value of the wrong type is a
validation error naming the CKAN field.
"""

from __future__ import annotations

import json
from typing import Any

from citycommons.catalog import vocabularies
from citycommons.catalog.schemas import LANGS, DatasetRead, DistributionRead
from citycommons.ckan.dicts import DCAT_EXTRAS, RESOURCE_KEYS
from citycommons.ckan.errors import CkanInvalid

DataDict = dict[str, Any]
TRUE = ("true", "1", "yes", "on", "t", "y")
FALSE = ("false", "0", "no", "off", "f", "n", "")


class Errors:
    """Collects field errors while a request dict is read; ``raise_if_any`` raises them together (409)."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, key: str, message: str) -> None:
        self.fields.setdefault(key, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise CkanInvalid("Invalid input", fields=self.fields)


# --- scalar readers -------------------------------------------------------------------------------------


def text(data: DataDict, key: str, errors: Errors) -> str | None:
    """A string value, None when absent or null; numbers are accepted as CKAN's unicode_safe does."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        errors.add(key, "Must be a string")
        return None
    return str(value)


def boolean(value: Any, key: str, errors: Errors, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    errors.add(key, "Value must be one of: True, False")
    return default


def integer(value: Any, key: str, errors: Errors, *, default: int | None, minimum: int | None = 0) -> int | None:
    if value is None or value == "":
        return default
    try:
        if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
            raise ValueError
        number = int(value)
    except (TypeError, ValueError):
        errors.add(key, "Invalid integer")
        return default
    if minimum is not None and number < minimum:
        errors.add(key, "Must be a natural number")
        return default
    return number


def string_list(value: Any, key: str, errors: Errors) -> list[str]:
    """A list of strings, given as a list, a JSON list (as GET requests send them) or one string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except ValueError:
                errors.add(key, "Must be a JSON list of strings")
                return []
        else:
            return [stripped]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.add(key, "Must be a list of strings")
        return []
    return value


# --- multilingual text ----------------------------------------------------------------------------------


def i18n(data: DataDict, key: str, errors: Errors, *, lang: str) -> dict[str, str] | None:
    """``key`` (one string) merged into ``key_translated`` ({ca, es, en}); None when neither is given.

    The single string replaces the language it would be shown in: the site's default language, else the first of
    ca, es, en that the translations have. So a dict read with ``*_show`` and sent back unchanged round-trips.
    """
    single = text(data, key, errors)
    many = data.get(f"{key}_translated")
    if many is not None and not (isinstance(many, dict) and all(isinstance(v, str | None) for v in many.values())):
        errors.add(f"{key}_translated", "Must be an object of language: text")
        many = None
    if single is None and many is None:
        return None
    out = {k: v for k, v in (many or {}).items() if v}
    if single is not None:
        target = next((code for code in (lang, *LANGS) if out.get(code)), lang)
        if single.strip():
            out[target] = single
        else:
            out.pop(target, None)
    return out


# --- vocabulary values ----------------------------------------------------------------------------------


def term_id(vocabulary: str, value: str) -> str:
    """A vocabulary term id from its id, URI or (languages) ISO 639-1 code; unknown values pass through, for the
    service to report."""
    vocab = vocabularies.vocabulary(vocabulary)
    term = vocab.get(value)
    if term is not None:
        return term.id
    for candidate in vocab.terms:
        if value in (candidate.uri, candidate.extra.get("iso639_1")):
            return candidate.id
    return value


def _extra_list(value: str) -> list[str]:
    stripped = value.strip()
    if stripped.startswith("["):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            parsed = None
        if isinstance(parsed, list):
            return [str(v) for v in parsed if v not in (None, "")]
    return [v.strip() for v in stripped.split(",") if v.strip()]


def extras(data: DataDict, errors: Errors) -> tuple[dict[str, Any], dict[str, str]] | None:
    """CKAN's ``extras`` list -> (DCAT dataset fields, the remaining free extras); None when absent."""
    raw = data.get("extras")
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        errors.add("extras", "Must be a list of {key, value} objects")
        return None
    fields: dict[str, Any] = {}
    free: dict[str, str] = {}
    for item in raw:
        key = item.get("key")
        if not isinstance(key, str) or not key.strip():
            errors.add("extras", "Every extra needs a key")
            continue
        if item.get("deleted") in (True, "on", "true"):
            continue
        value = item.get("value")
        value = "" if value is None else value if isinstance(value, str) else json.dumps(value)
        if key not in DCAT_EXTRAS:
            free[key] = value
            continue
        attr, vocabulary, many = DCAT_EXTRAS[key]
        if many:
            items = _extra_list(value)
            fields[attr] = [term_id(vocabulary, v) for v in items] if vocabulary else items
        elif vocabulary:
            fields[attr] = term_id(vocabulary, value.strip()) if value.strip() else None
        else:
            fields[attr] = value.strip() or None
    if "access_rights" in fields and fields["access_rights"] is None:
        del fields["access_rights"]
    return fields, free


# --- datasets -------------------------------------------------------------------------------------------


def tags(data: DataDict, errors: Errors) -> list[str] | None:
    raw = data.get("tags")
    names: list[str] | None = None
    if raw is not None:
        if not isinstance(raw, list):
            errors.add("tags", "Must be a list of {name} objects")
        else:
            names = []
            for item in raw:
                name = item.get("name") if isinstance(item, dict) else item
                if not isinstance(name, str):
                    errors.add("tags", "Every tag needs a name")
                    continue
                names.append(name)
    tag_string = text(data, "tag_string", errors)
    if tag_string is not None:
        names = (names or []) + [t.strip() for t in tag_string.split(",") if t.strip()]
    return names


def group_refs(data: DataDict, errors: Errors) -> list[str] | None:
    raw = data.get("groups")
    if raw is None:
        return None
    if not isinstance(raw, list):
        errors.add("groups", "Must be a list of {name} objects")
        return None
    refs = []
    for item in raw:
        ref = (item.get("name") or item.get("id")) if isinstance(item, dict) else item
        if not isinstance(ref, str) or not ref:
            errors.add("groups", "Every group needs a name or id")
            continue
        refs.append(ref)
    return refs


def dataset_fields(
    data: DataDict, errors: Errors, *, lang: str, organization: str | None, current: DatasetRead | None
) -> dict[str, Any]:
    """The fields of a DatasetCreate/DatasetUpdate read from a CKAN package dict (CKAN's update semantics: what
    the dict omits is reset, except ``private``, ``access_rights``, ``owner_org`` and ``resources``, which are
    kept: forgetting them must not publish a dataset nor drop its files)."""
    name = text(data, "name", errors)
    out: dict[str, Any] = {}
    if name is not None:
        out["name"] = name
    title = i18n(data, "title", errors, lang=lang)
    out["title"] = title or {lang: name or (current.name if current else "")}
    out["description"] = i18n(data, "notes", errors, lang=lang) or {}
    if organization is not None:
        out["organization"] = organization
    private = data.get("private")
    out["private"] = boolean(private, "private", errors, default=current.private if current else False)
    out["license_id"] = text(data, "license_id", errors) or "notspecified"
    out["landing_page"] = text(data, "url", errors) or ""
    out["version"] = text(data, "version", errors) or ""
    out["contact_name"] = text(data, "maintainer", errors) or text(data, "author", errors) or ""
    email = text(data, "maintainer_email", errors) or text(data, "author_email", errors) or ""
    out["contact_email"] = email.strip()
    out["tags"] = tags(data, errors) or []
    out["groups"] = group_refs(data, errors) or []
    parsed = extras(data, errors)
    dcat, free = parsed if parsed is not None else ({}, {})
    out.update(dcat)
    if "access_rights" not in dcat and current is not None:
        out["access_rights"] = current.access_rights
    out["extras"] = free
    if "resources" in data:
        raw = data["resources"]
        if not isinstance(raw, list) or not all(isinstance(r, dict) for r in raw):
            errors.add("resources", "Must be a list of resource objects")
        else:
            existing = {d.id: d for d in current.distributions} if current else {}
            items = []
            for r in raw:
                item = resource_fields(r, errors, lang=lang, replace=True)
                rid = r.get("id")
                if isinstance(rid, str) and rid in existing:
                    item["id"] = rid
                items.append(item)
            out["distributions"] = items
    return out


def owner_org_refs(data: DataDict) -> list[str]:
    """The organisation references of a package dict, best first: ``owner_org`` (id or name), then, when it
    describes the same organisation, the embedded ``organization`` dict's name (a dump from another CKAN carries
    that site's ids, so its organisations are found here by name)."""
    owner = data.get("owner_org")
    owner = owner if isinstance(owner, str) and owner else None
    embedded = data.get("organization")
    names: list[str] = []
    if isinstance(embedded, dict):
        names = [v for v in (embedded.get("name"), embedded.get("id")) if isinstance(v, str) and v]
    if owner is None:
        return names
    if owner in names:
        return list(dict.fromkeys([owner, *names]))
    return [owner]


# --- resources ------------------------------------------------------------------------------------------


def resource_fields(
    data: DataDict, errors: Errors, *, lang: str, replace: bool, current: DistributionRead | None = None
) -> dict[str, Any]:
    """The fields of a distribution read from a CKAN resource dict. ``replace`` (create/update): every field,
    defaults for the omitted ones; else (patch) only the given ones. Unknown keys become resource extras, as in
    CKAN, where extras are flattened into the resource dict."""
    out: dict[str, Any] = {}
    title = i18n(data, "name", errors, lang=lang)
    if title is not None or replace:
        out["title"] = title or {}
    description = i18n(data, "description", errors, lang=lang)
    if description is not None or replace:
        out["description"] = description or {}
    for ckan_key, key in (
        ("url", "url"),
        ("access_url", "access_url"),
        ("format", "format"),
        ("mimetype", "media_type"),
        ("hash", "checksum"),
        ("license_id", "license_id"),
    ):
        value = text(data, ckan_key, errors)
        if value is not None or replace:
            out[key] = (value or "").strip()
    if "size" in data or replace:
        out["byte_size"] = integer(data.get("size"), "size", errors, default=None)
    free = {k: _extra_value(v) for k, v in data.items() if k not in RESOURCE_KEYS and not k.startswith("_")}
    if replace:
        out["extras"] = free
    elif free:
        out["extras"] = {**(current.extras if current else {}), **free}
    return out


def _extra_value(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


# --- organisations and groups ---------------------------------------------------------------------------


def group_fields(data: DataDict, errors: Errors, *, lang: str, is_organization: bool, replace: bool) -> dict[str, Any]:
    """The fields of an Organization/Group create or patch read from a CKAN group dict."""
    out: dict[str, Any] = {}
    name = text(data, "name", errors)
    title = i18n(data, "title", errors, lang=lang)
    if title is not None or replace:
        out["title"] = title or ({lang: name} if name else {})
    description = i18n(data, "description", errors, lang=lang)
    if description is not None or replace:
        out["description"] = description or {}
    image_url = text(data, "image_url", errors)
    if image_url is not None or replace:
        out["image_url"] = (image_url or "").strip()
    if is_organization:
        parsed = extras(data, errors)
        free = parsed[1] if parsed is not None else {}
        for key in ("email", "homepage"):
            if key in free or replace:
                out[key] = free.get(key, "").strip()
    return out
