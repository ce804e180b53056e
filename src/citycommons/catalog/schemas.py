"""The catalog's schema families (Base / Create / Update / Patch / Read / Page). Validation lives here."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from citycommons.jobs.schemas import JobSummary

LANGS: tuple[str, ...] = ("ca", "es", "en")
NAME_RE = r"^[a-z0-9][a-z0-9_-]{1,99}$"
URL_RE = re.compile(r"^https?://[^\s<>\"]+$")
EMAIL_RE = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")

Name = Annotated[str, StringConstraints(pattern=NAME_RE, max_length=100)]
ShortText = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]


def _check_i18n(value: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(value) - set(LANGS))
    if unknown:
        raise ValueError(f"unknown language(s) {', '.join(unknown)}; use ca, es, en")
    return {k: v.strip() for k, v in value.items() if v is not None and v.strip()}


def _check_url(value: str) -> str:
    value = value.strip()
    if value and not URL_RE.match(value):
        raise ValueError("must be an http(s) URL")
    return value


def _check_email(value: str) -> str:
    value = value.strip()
    if value and not EMAIL_RE.match(value):
        raise ValueError("must be an e-mail address")
    return value


I18n = Annotated[dict[str, Annotated[str, StringConstraints(max_length=20000)]], AfterValidator(_check_i18n)]
Url = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_check_url)]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_check_email)]
AccessRights = Literal["PUBLIC", "RESTRICTED", "NON_PUBLIC"]
TagName = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


def pick(text: dict[str, str], lang: str, fallback: str = "") -> str:
    """The text in ``lang``, else in the first language that has it."""
    if text.get(lang):
        return text[lang]
    for other in LANGS:
        if text.get(other):
            return text[other]
    return fallback


# --- organisations and groups -------------------------------------------------------------------------


class OrganizationCreate(Strict):
    name: Name
    title: I18n
    description: I18n = Field(default_factory=dict)
    email: Email = ""
    homepage: Url = ""
    image_url: Url = ""

    @model_validator(mode="after")
    def _needs_title(self) -> OrganizationCreate:
        if not self.title:
            raise ValueError("title: give a title in at least one of ca, es, en")
        return self


class OrganizationPatch(Strict):
    title: I18n | None = None
    description: I18n | None = None
    email: Email | None = None
    homepage: Url | None = None
    image_url: Url | None = None


class OrganizationSummary(BaseModel):
    id: str
    name: str
    title: dict[str, str]
    image_url: str = ""


class OrganizationRead(OrganizationSummary):
    description: dict[str, str]
    email: str
    homepage: str
    state: str
    created: datetime
    dataset_count: int = 0


class MemberRead(BaseModel):
    user_id: str
    user_name: str
    role: str


class GroupCreate(Strict):
    name: Name
    title: I18n
    description: I18n = Field(default_factory=dict)
    image_url: Url = ""


class GroupPatch(Strict):
    title: I18n | None = None
    description: I18n | None = None
    image_url: Url | None = None


class GroupRead(BaseModel):
    id: str
    name: str
    title: dict[str, str]
    description: dict[str, str]
    image_url: str
    state: str
    created: datetime
    dataset_count: int = 0


# --- distributions -------------------------------------------------------------------------------------


class DistributionFields(Strict):
    title: I18n = Field(default_factory=dict)
    description: I18n = Field(default_factory=dict)
    url: Url = ""
    access_url: Url = ""
    format: Annotated[str, StringConstraints(max_length=30)] = ""
    media_type: Annotated[str, StringConstraints(max_length=200)] = ""
    byte_size: Annotated[int, Field(ge=0)] | None = None
    checksum: Annotated[str, StringConstraints(max_length=128)] = ""
    license_id: Annotated[str, StringConstraints(max_length=50)] = ""
    extras: dict[str, Annotated[str, StringConstraints(max_length=5000)]] = Field(default_factory=dict)


class DistributionCreate(DistributionFields):
    pass


class DistributionPatch(Strict):
    title: I18n | None = None
    description: I18n | None = None
    url: Url | None = None
    access_url: Url | None = None
    format: Annotated[str, StringConstraints(max_length=30)] | None = None
    media_type: Annotated[str, StringConstraints(max_length=200)] | None = None
    byte_size: Annotated[int, Field(ge=0)] | None = None
    checksum: Annotated[str, StringConstraints(max_length=128)] | None = None
    license_id: Annotated[str, StringConstraints(max_length=50)] | None = None
    extras: dict[str, Annotated[str, StringConstraints(max_length=5000)]] | None = None


class DistributionRead(BaseModel):
    id: str
    dataset_id: str
    position: int
    title: dict[str, str]
    description: dict[str, str]
    url: str
    url_type: str
    access_url: str
    download_url: str
    format: str
    media_type: str
    byte_size: int | None
    checksum: str
    license_id: str
    extras: dict[str, str]
    state: str
    created: datetime
    last_modified: datetime
    datastore_active: bool = Field(False, description="The datastore has a queryable table of this distribution.")
    ingest: JobSummary | None = Field(
        None, description="The latest datastore ingest job (on the distribution's own endpoints; null in listings)."
    )


class Upload(BaseModel):
    """A file handed to a service by a front door (already spooled to a local temporary file)."""

    filename: str
    path: str
    content_type: str = ""


# --- datasets ------------------------------------------------------------------------------------------


class DatasetFields(Strict):
    title: I18n
    description: I18n = Field(default_factory=dict)
    identifier: Annotated[str, StringConstraints(max_length=200)] = ""
    organization: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    private: bool = False
    access_rights: AccessRights = "PUBLIC"
    license_id: Annotated[str, StringConstraints(max_length=50)] = "cc-by-4.0"
    themes: list[Annotated[str, StringConstraints(max_length=20)]] = Field(default_factory=list, max_length=20)
    tags: list[TagName] = Field(default_factory=list, max_length=100)
    groups: list[Annotated[str, StringConstraints(max_length=100)]] = Field(default_factory=list, max_length=50)
    contact_name: ShortText = ""
    contact_email: Email = ""
    spatial_uri: Url = ""
    spatial_wkt: Annotated[str, StringConstraints(max_length=100000)] = ""
    temporal_start: date | None = None
    temporal_end: date | None = None
    frequency: Annotated[str, StringConstraints(max_length=30)] = ""
    issued: date | None = None
    modified: date | None = None
    version: Annotated[str, StringConstraints(max_length=50)] = ""
    conforms_to: list[Url] = Field(default_factory=list, max_length=20)
    languages: list[Annotated[str, StringConstraints(max_length=10)]] = Field(default_factory=list, max_length=20)
    landing_page: Url = ""
    extras: dict[str, Annotated[str, StringConstraints(max_length=5000)]] = Field(default_factory=dict, max_length=100)

    @model_validator(mode="after")
    def _coherent(self) -> DatasetFields:
        if not self.title:
            raise ValueError("title: give a title in at least one of ca, es, en")
        if self.temporal_start and self.temporal_end and self.temporal_end < self.temporal_start:
            raise ValueError("temporal_end: must not be before temporal_start")
        return self


class DatasetCreate(DatasetFields):
    name: Name
    distributions: list[DistributionCreate] = Field(default_factory=list, max_length=200)


class DatasetUpdate(DatasetFields):
    """A full replacement of a dataset's metadata (CKAN's package_update). Distributions, when given, replace
    the existing ones matched by ``id``; when omitted (None) they are kept."""

    name: Name | None = None
    distributions: list[DistributionUpdateItem] | None = None


class DistributionUpdateItem(DistributionFields):
    id: str | None = None


class DatasetPatch(Strict):
    name: Name | None = None
    title: I18n | None = None
    description: I18n | None = None
    identifier: Annotated[str, StringConstraints(max_length=200)] | None = None
    organization: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    private: bool | None = None
    access_rights: AccessRights | None = None
    license_id: Annotated[str, StringConstraints(max_length=50)] | None = None
    themes: list[Annotated[str, StringConstraints(max_length=20)]] | None = None
    tags: list[TagName] | None = None
    groups: list[Annotated[str, StringConstraints(max_length=100)]] | None = None
    contact_name: ShortText | None = None
    contact_email: Email | None = None
    spatial_uri: Url | None = None
    spatial_wkt: Annotated[str, StringConstraints(max_length=100000)] | None = None
    temporal_start: date | None = None
    temporal_end: date | None = None
    frequency: Annotated[str, StringConstraints(max_length=30)] | None = None
    issued: date | None = None
    modified: date | None = None
    version: Annotated[str, StringConstraints(max_length=50)] | None = None
    conforms_to: list[Url] | None = None
    languages: list[Annotated[str, StringConstraints(max_length=10)]] | None = None
    landing_page: Url | None = None
    extras: dict[str, Annotated[str, StringConstraints(max_length=5000)]] | None = None


class DatasetRead(BaseModel):
    id: str
    name: str
    title: dict[str, str]
    description: dict[str, str]
    identifier: str
    organization: OrganizationSummary
    private: bool
    access_rights: str
    license_id: str
    themes: list[str]
    tags: list[str]
    groups: list[str]
    contact_name: str
    contact_email: str
    spatial_uri: str
    spatial_wkt: str
    temporal_start: date | None
    temporal_end: date | None
    frequency: str
    issued: date | None
    modified: date | None
    version: str
    conforms_to: list[str]
    languages: list[str]
    landing_page: str
    extras: dict[str, str]
    state: str
    creator_user_id: str | None
    metadata_created: datetime
    metadata_modified: datetime
    distributions: list[DistributionRead]


class ActivityRead(BaseModel):
    id: str
    object_id: str
    activity_type: str
    user_id: str | None
    user_name: str
    timestamp: datetime
    changes: list[dict[str, object]]


# --- search --------------------------------------------------------------------------------------------

FacetField = Literal["organization", "groups", "tags", "res_format", "license_id", "theme", "access_rights"]
FACET_FIELDS: tuple[str, ...] = (
    "organization",
    "theme",
    "groups",
    "tags",
    "res_format",
    "license_id",
    "access_rights",
)
FilterField = Literal[
    "organization",
    "groups",
    "tags",
    "res_format",
    "license_id",
    "theme",
    "access_rights",
    "name",
    "id",
    "private",
    "frequency",
]
RangeField = Literal["metadata_modified", "metadata_created", "issued", "modified"]
SortField = Literal["score", "metadata_modified", "metadata_created", "title", "name", "id"]


class FieldFilter(BaseModel):
    """``field`` equals any of ``values`` (OR); ``negate`` excludes them instead."""

    field: FilterField
    values: list[str]
    negate: bool = False


class RangeFilter(BaseModel):
    field: RangeField
    start: datetime | None = None
    end: datetime | None = None


class SortKey(BaseModel):
    field: SortField
    descending: bool = False


class SearchQuery(BaseModel):
    q: str = Field("", max_length=1000)
    filters: list[FieldFilter] = Field(default_factory=list)
    ranges: list[RangeFilter] = Field(default_factory=list)
    sort: list[SortKey] = Field(default_factory=list)
    rows: int = Field(20, ge=0, le=1000)
    start: int = Field(0, ge=0)
    facet_fields: list[FacetField] = Field(default_factory=list)
    facet_limit: int = Field(50, ge=-1, le=1000)
    include_private: bool = True
    include_drafts: bool = False
    lang: Literal["ca", "es", "en"] = "en"


class FacetItem(BaseModel):
    name: str
    count: int
    display_name: str


class SearchResult(BaseModel):
    count: int
    results: list[DatasetRead]
    facets: dict[str, list[FacetItem]]


DatasetUpdate.model_rebuild()
