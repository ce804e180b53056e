"""Initiative schemas: what a visitor submits, what a moderator changes or decides, what the public reads.

Vocabularies: ``ORG_TYPES`` here; the five principles of the Cities Coalition for Digital Rights come from the
algorithm register's vocabulary (``citycommons.registers.principles`` or its ``principles.json``) when present,
else from ``FALLBACK_PRINCIPLES`` (the numbers 1-5 with English titles).

Coordinates: WGS84, inside ``BBOX`` (Barcelona's metropolitan area, generously); they are rounded to
``COORD_DECIMALS`` (about 1 m), so what is stored is always a valid point the map can draw.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

OrgType = Literal["association", "cooperative", "company", "public_body", "university", "informal_group", "other"]
ORG_TYPES: tuple[str, ...] = (
    "association",
    "cooperative",
    "company",
    "public_body",
    "university",
    "informal_group",
    "other",
)
Status = Literal["pending", "approved", "rejected"]
# (south, west, north, east): Barcelona's metropolitan area with a margin (Castelldefels to Badalona, up to Terrassa)
BBOX = (41.20, 1.80, 41.70, 2.45)
COORD_DECIMALS = 5
MAX_PAGE_SIZE = 100
FALLBACK_PRINCIPLES: dict[int, dict[str, str]] = {
    1: {"en": "Universal and equal access to the internet, and digital literacy"},
    2: {"en": "Privacy, data protection and security"},
    3: {"en": "Transparency, accountability, and non-discrimination of data, content and algorithms"},
    4: {"en": "Participatory democracy, diversity and inclusion"},
    5: {"en": "Open and ethical digital service standards"},
}
EMAIL_RE = re.compile(r"^[^@\s<>\"'()\[\],;:\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
HOST_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?$")


@cache
def principles() -> dict[int, dict[str, str]]:
    """Principle number -> title per language, from the register's vocabulary when it exists."""
    try:
        module: Any = import_module("citycommons.registers.principles")
        for name in ("titles", "PRINCIPLES", "principles", "load", "all_principles"):
            found = getattr(module, name, None)
            found = found() if callable(found) else found
            titles = _titles(found)
            if titles:
                return titles
    except ImportError:
        pass
    path = Path(__file__).resolve().parents[1] / "registers" / "principles.json"
    if path.exists():
        titles = _titles(json.loads(path.read_text(encoding="utf-8")).get("principles"))
        if titles:
            return titles
    return FALLBACK_PRINCIPLES


def _titles(found: Any) -> dict[int, dict[str, str]]:
    """Tolerates the shapes a vocabulary may take: a list or dict of items with a number and a title."""
    items = list(found.values()) if isinstance(found, dict) else found
    out: dict[int, dict[str, str]] = {}
    for item in items if isinstance(items, list | tuple) else []:
        get = item.get if isinstance(item, dict) else lambda key, item=item: getattr(item, key, None)
        number, title = get("number"), get("title")
        if isinstance(number, int) and isinstance(title, dict) and title:
            out[number] = {str(k): str(v) for k, v in title.items()}
    return out if set(out) == set(FALLBACK_PRINCIPLES) else {}


def principle_title(number: int, lang: str) -> str:
    title = principles().get(number, {})
    return title.get(lang) or title.get("en") or str(number)


def _clean(text: str) -> str:
    """No control characters other than newlines and tabs; Windows newlines made plain."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or ch.isprintable()).strip()


def _one_line(text: str) -> str:
    return " ".join(_clean(text).split())


def _https_url(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    if not value.lower().startswith("https://"):
        raise ValueError("must be an https:// address")
    host = value[8:].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if not HOST_RE.match(host) or "." not in host or any(ch.isspace() or ch in "<>\"'`\\" for ch in value):
        raise ValueError("must be an https:// address")
    return value


def _email(value: str) -> str:
    value = value.strip()
    if not EMAIL_RE.match(value):
        raise ValueError("must be an e-mail address")
    return value


def _principles(value: list[int]) -> list[int]:
    known = principles()
    unknown = [n for n in value if n not in known]
    if unknown:
        raise ValueError(f"Unknown principle {unknown[0]}; choose among {sorted(known)}")
    return sorted(set(value))


def _coordinate(value: float | None, low: float, high: float) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"must be a number between {low} and {high} (the Barcelona area)")
    return round(value, COORD_DECIMALS)


def _blank_to_none(value: Any) -> Any:
    """An empty form input is no coordinate."""
    return None if isinstance(value, str) and not value.strip() else value


Name = Annotated[str, AfterValidator(_one_line), StringConstraints(min_length=3, max_length=200)]
Description = Annotated[str, AfterValidator(_clean), StringConstraints(min_length=10, max_length=4000)]
Website = Annotated[str, StringConstraints(max_length=500), AfterValidator(_https_url)]
Address = Annotated[str, StringConstraints(max_length=300), AfterValidator(_one_line)]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]
Principles = Annotated[list[int], Field(min_length=1, max_length=5), AfterValidator(_principles)]
Lat = Annotated[float | None, AfterValidator(lambda v: _coordinate(v, BBOX[0], BBOX[2]))]
Lon = Annotated[float | None, AfterValidator(lambda v: _coordinate(v, BBOX[1], BBOX[3]))]
Reason = Annotated[str, AfterValidator(_one_line), StringConstraints(max_length=500)]


class InitiativeBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    description: Description
    org_type: OrgType
    principles: Principles
    website: Website = ""
    address: Address = ""
    lat: Lat = None
    lon: Lon = None

    _blank_is_none = field_validator("lat", "lon", mode="before")(_blank_to_none)


class InitiativeCreate(InitiativeBase):
    """A submission. Give ``lat`` and ``lon``, or an ``address`` that names a Barcelona district or neighbourhood."""

    contact_email: Email


class InitiativePatch(BaseModel):
    """A moderator's edit: only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    org_type: OrgType | None = None
    principles: Principles | None = None
    website: Website | None = None
    address: Address | None = None
    lat: Lat = None
    lon: Lon = None
    contact_email: Email | None = None

    _blank_is_none = field_validator("lat", "lon", mode="before")(_blank_to_none)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    reason: Reason = ""


class InitiativeRead(BaseModel):
    """What anyone may read of an approved initiative (no e-mail address, no moderation state)."""

    id: str
    name: str
    description: str
    org_type: OrgType
    principles: list[int]
    website: str
    address: str
    lat: float
    lon: float
    district_code: int | None
    district: str | None
    created_at: datetime


class InitiativeModeration(InitiativeRead):
    """What a moderator reads: the private contact and the moderation state too."""

    contact_email: str
    status: Status
    rejection_reason: str
    decided_at: datetime | None


class Submitted(BaseModel):
    id: str
    status: Status


class InitiativeQuery(BaseModel):
    """Filters of the public list, the map's GeoJSON and the CSV export."""

    model_config = ConfigDict(extra="forbid")

    q: Annotated[str, StringConstraints(max_length=200)] = ""
    principle: Annotated[int, Field(ge=1, le=5)] | None = None
    org_type: OrgType | None = None
    district: Annotated[int, Field(ge=1, le=99)] | None = None
    page: Annotated[int, Field(ge=1, le=100_000)] = 1
    size: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = 20


class InitiativePage(BaseModel):
    count: int
    page: int
    size: int
    results: list[InitiativeRead]


class ModerationPage(BaseModel):
    count: int
    results: list[InitiativeModeration]
