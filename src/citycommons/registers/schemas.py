"""The register's schema families. Field set, enums and required-ness follow
/work/shared/design/algorithm-register.md ("Unified field table").

Saving a draft checks formats only (``AlgorithmFields``: https URLs, lengths, enums); completeness (M, M-HR, the
conditional dates) is checked by ``completeness_errors`` when a version is submitted or published, as the Dutch
register does, so that an editor (or the NL importer) can save an unfinished record.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

HTTPS_RE = re.compile(r"^https://[^\s<>\"]+$")
EMAIL_RE = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
MONTH_RE = r"^(\d{4}-(0[1-9]|1[0-2]))?$"
SLUG_RE = r"^[a-z0-9][a-z0-9-]{1,99}$"
STANDARD_VERSION = "citycommons-1.0"

RecordState = Literal["draft", "in_review", "published", "superseded", "withdrawn"]
Action = Literal["submit", "reject", "publish", "withdraw"]
Status = Literal["in_development", "in_use", "retired"]
PhaseDetail = Literal["idea", "design", "development", "pilot", "production", "retired"]
PublicationCategory = Literal["high_risk_ai", "impactful", "other"]
AiActClass = Literal["high_risk", "not_high_risk_art_6_3", "transparency_only", "minimal", "not_ai"]
DecisionRole = Literal["informs_human", "decides_with_review", "decides_alone", "no_individual_decisions"]
PersonalData = Literal["none", "pseudonymised", "identified"]
ModelType = Literal["rules", "statistical", "machine_learning", "generative_ai", "other"]
DatasetRole = Literal["training", "testing", "operating"]
AssessmentKind = Literal["DPIA", "FRIA", "IAMA", "AIIA", "other"]
Language = Literal["cat", "spa", "eng", "nld", "fry", "fra", "deu"]
ProtectedAttribute = Literal[
    "sex", "age", "origin", "nationality", "religion", "health", "disability", "orientation", "income", "other"
]
AnnexIIIArea = Annotated[str, StringConstraints(pattern=r"^([1-8](\([a-d]\))?)?$", max_length=20)]
PrincipleNumber = Annotated[int, Field(ge=1, le=5)]

# The NL "Thema" list (16 values), keyed by our snake_case id; the Dutch label is what the NL profile exports.
THEMES: dict[str, str] = {
    "organisation_and_operations": "Organisatie en bedrijfsvoering",
    "culture_and_recreation": "Cultuur en recreatie",
    "economy": "Economie",
    "public_finance": "Overheidsfinanciën",
    "housing": "Wonen",
    "international": "Internationaal",
    "migration_and_integration": "Migratie en integratie",
    "nature_and_environment": "Natuur en milieu",
    "education_and_science": "Onderwijs en wetenschap",
    "public_order_and_safety": "Openbare orde en veiligheid",
    "law": "Recht",
    "spatial_planning_and_infrastructure": "Ruimte en infrastructuur",
    "social_security": "Sociale zekerheid",
    "traffic": "Verkeer",
    "work": "Werk",
    "care_and_health": "Zorg en gezondheid",
}


def _https(value: str) -> str:
    value = value.strip()
    if value and not HTTPS_RE.match(value):
        raise ValueError("must be an https:// URL")
    return value


def _contact(value: str) -> str:
    value = value.strip()
    if value and not (EMAIL_RE.match(value) or HTTPS_RE.match(value)):
        raise ValueError("must be an e-mail address or an https:// URL")
    return value


def _theme(value: str) -> str:
    if value not in THEMES:
        raise ValueError(f"Unknown theme '{value}'")
    return value


Text100 = Annotated[str, StringConstraints(max_length=100, strip_whitespace=True)]
Text200 = Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)]
Text400 = Annotated[str, StringConstraints(max_length=400, strip_whitespace=True)]
Text500 = Annotated[str, StringConstraints(max_length=500, strip_whitespace=True)]
Text2000 = Annotated[str, StringConstraints(max_length=2000, strip_whitespace=True)]
Text2500 = Annotated[str, StringConstraints(max_length=2500, strip_whitespace=True)]
Text5000 = Annotated[str, StringConstraints(max_length=5000, strip_whitespace=True)]
HttpsUrl = Annotated[str, StringConstraints(max_length=2000), AfterValidator(_https)]
Contact = Annotated[str, StringConstraints(max_length=500), AfterValidator(_contact)]
Month = Annotated[str, StringConstraints(pattern=MONTH_RE)]
Theme = Annotated[str, AfterValidator(_theme)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Risk(Strict):
    name: Text200
    description: Text2500 = ""
    mitigation: Text2500 = ""


class LegalLink(Strict):
    title: Text100
    url: HttpsUrl


class ImpactAssessment(Strict):
    kind: AssessmentKind
    title: Text200
    date: dt.date | None = None
    url: HttpsUrl = ""
    summary: Text2500 = ""


class DatasetLinkIn(Strict):
    """A catalog dataset (``dataset``: id or name) or an external source (``title`` and ``url``)."""

    dataset: Text100 = ""
    title: Text200 = ""
    url: HttpsUrl = ""
    role: DatasetRole = "operating"

    @model_validator(mode="after")
    def _one_kind(self) -> DatasetLinkIn:
        if not self.dataset and not (self.title and self.url):
            raise ValueError("datasets: give a catalog dataset, or the title and https URL of an external source")
        return self


class Conformity(Strict):
    declaration_url: HttpsUrl = ""
    certificate_type: Text100 = ""
    certificate_number: Text100 = ""
    certificate_expiry: dt.date | None = None
    notified_body: Text200 = ""


class AlgorithmFields(Strict):
    """Everything an editor writes. Only ``name`` is needed to save a draft."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
    trade_name: Text200 = ""
    description_short: Text400 = ""
    description_long: Text5000 = ""
    department: Text200 = ""
    senior_responsible_owner: Text200 = ""
    contact: Contact = ""
    public_page_url: HttpsUrl = ""
    themes: list[Theme] = Field(default_factory=list, max_length=3)
    principles: list[PrincipleNumber] = Field(default_factory=list, max_length=5)
    tags: list[Text100] = Field(default_factory=list, max_length=30)
    language: Language | Literal[""] = ""
    status: Status | Literal[""] = ""
    phase_detail: PhaseDetail | Literal[""] = ""
    begin_date: Month = ""
    end_date: Month = ""
    publication_category: PublicationCategory | Literal[""] = ""
    ai_act_class: AiActClass | Literal[""] = ""
    annex_iii_area: AnnexIIIArea = ""
    decision_role: DecisionRole | Literal[""] = ""
    goal_and_impact: Text2500 = ""
    proportionality: Text2500 = ""
    human_oversight: Text2500 = ""
    frequency_of_use: Text500 = ""
    appeal_and_objection: Text2500 = ""
    risk_summary: Text2500 = ""
    risks: list[Risk] = Field(default_factory=list, max_length=30)
    non_discrimination: Text2500 = ""
    protected_attributes: list[ProtectedAttribute] = Field(default_factory=list)
    legal_basis: Text2500 = ""
    legal_basis_links: list[LegalLink] = Field(default_factory=list, max_length=30)
    processing_register_url: HttpsUrl = ""
    impact_assessments: list[ImpactAssessment] = Field(default_factory=list, max_length=30)
    impact_assessment_notes: Text2500 = ""
    datasets: list[DatasetLinkIn] = Field(default_factory=list, max_length=50)
    data_description: Text2500 = ""
    personal_data: PersonalData | Literal[""] = ""
    data_access_and_sharing: Text2500 = ""
    technical_description: Text5000 = ""
    model_type: ModelType | Literal[""] = ""
    self_learning: bool = False
    performance_and_monitoring: Text2500 = ""
    supplier: Text200 = ""
    supplier_role: Text500 = ""
    procurement_reference: Text200 = ""
    source_code_url: HttpsUrl = ""
    eu_database_url: HttpsUrl = ""
    conformity: Conformity = Field(default_factory=Conformity)
    instructions_for_use_url: HttpsUrl = ""
    member_states: list[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]] = Field(default_factory=list)
    source_register_url: HttpsUrl = ""
    source_id: Text100 = ""


class AlgorithmCreate(AlgorithmFields):
    organization: Text100  # id or name
    slug: Annotated[str, StringConstraints(pattern=SLUG_RE)] | None = None


class AlgorithmPatch(Strict):
    """Any subset of the fields; the result is checked as a whole (``AlgorithmFields``)."""

    model_config = ConfigDict(extra="allow")  # names are checked against AlgorithmFields by the service


class TransitionRequest(Strict):
    action: Action
    reason: Text2000 = ""


M_FIELDS = (
    "name",
    "description_short",
    "contact",
    "language",
    "status",
    "publication_category",
    "ai_act_class",
    "decision_role",
    "goal_and_impact",
    "human_oversight",
    "appeal_and_objection",
    "data_description",
    "personal_data",
)
M_HR_FIELDS = ("trade_name", "senior_responsible_owner", "annex_iii_area", "eu_database_url")
REQUIRED = "This field is required."


def completeness_errors(record: AlgorithmFields) -> dict[str, list[str]]:
    """Field -> messages for what a record must have before review and publication (M, M-HR, C)."""
    errors: dict[str, list[str]] = {}
    for field in M_FIELDS:
        if not getattr(record, field):
            errors[field] = [REQUIRED]
    if record.ai_act_class == "high_risk":
        for field in M_HR_FIELDS:
            if not getattr(record, field):
                errors[field] = ["Required for a high-risk AI system."]
        kinds = {a.kind for a in record.impact_assessments if a.summary}
        missing = [k for k in ("FRIA", "DPIA") if k not in kinds]
        if missing:
            errors["impact_assessments"] = [
                f"A high-risk AI system needs a summary of its {' and '.join(missing)} (EU AI Act Annex VIII C.4-5)."
            ]
        if record.publication_category and record.publication_category != "high_risk_ai":
            errors["publication_category"] = ["Must be high_risk_ai for a high-risk AI system."]
    if record.status == "in_use" and not record.begin_date:
        errors["begin_date"] = ["Required when the system is in use."]
    if record.status == "retired" and not record.end_date:
        errors["end_date"] = ["Required when the system is retired."]
    if record.status != "retired" and record.end_date:
        errors["end_date"] = ["Leave empty unless the system is retired."]
    if record.begin_date and record.end_date and record.end_date < record.begin_date:
        errors["end_date"] = ["Must not be before the begin date."]
    return errors


# --- reads ----------------------------------------------------------------------------------------------------


class OrganizationRef(BaseModel):
    id: str
    name: str
    title: dict[str, str]


class DatasetLinkRead(BaseModel):
    role: str
    dataset_id: str | None = None
    dataset_name: str | None = None
    title: str = ""
    titles: dict[str, str] = Field(default_factory=dict)  # a catalog dataset's title by language
    url: str = ""  # the catalog URI of a catalog dataset, else the external URL


class AlgorithmRead(BaseModel):
    """A version of a record as readers get it. ``id`` is the record's stable id (NL "Algoritme-ID")."""

    id: str
    version_id: str
    slug: str
    version: int
    record_state: RecordState
    organization: OrganizationRef
    name: str
    trade_name: str
    description_short: str
    description_long: str
    department: str
    senior_responsible_owner: str
    contact: str
    public_page_url: str
    themes: list[str]
    principles: list[int]
    tags: list[str]
    language: str
    status: str
    phase_detail: str
    begin_date: str
    end_date: str
    publication_category: str
    ai_act_class: str
    annex_iii_area: str
    decision_role: str
    goal_and_impact: str
    proportionality: str
    human_oversight: str
    frequency_of_use: str
    appeal_and_objection: str
    risk_summary: str
    risks: list[dict[str, Any]]
    non_discrimination: str
    protected_attributes: list[str]
    legal_basis: str
    legal_basis_links: list[dict[str, Any]]
    processing_register_url: str
    impact_assessments: list[dict[str, Any]]
    impact_assessment_notes: str
    datasets: list[DatasetLinkRead]
    data_description: str
    personal_data: str
    data_access_and_sharing: str
    technical_description: str
    model_type: str
    self_learning: bool
    performance_and_monitoring: str
    supplier: str
    supplier_role: str
    procurement_reference: str
    source_code_url: str
    eu_database_url: str
    conformity: dict[str, Any]
    instructions_for_use_url: str
    member_states: list[str]
    source_register_url: str
    source_id: str
    standard_version: str = STANDARD_VERSION
    first_published_at: datetime | None
    published_at: datetime | None
    updated_at: datetime
    archived_at: datetime | None


class AlgorithmTombstone(BaseModel):
    """What the public still sees of a withdrawn record: that it existed, and why it was withdrawn."""

    id: str
    slug: str
    name: str
    organization: OrganizationRef
    record_state: Literal["withdrawn"] = "withdrawn"
    first_published_at: datetime | None
    archived_at: datetime | None
    reason: str


class VersionSummary(BaseModel):
    version: int
    record_state: str
    published_at: datetime | None
    updated_at: datetime


class ActionRead(BaseModel):
    version: int
    action: str
    from_state: str
    to_state: str
    user_name: str
    reason: str
    at: datetime


class AlgorithmDetail(BaseModel):
    """A record for one reader: the live version (or tombstone), the reader's working version, the history."""

    current: AlgorithmRead | None
    tombstone: AlgorithmTombstone | None = None
    working: AlgorithmRead | None = None  # the newest draft or in-review version, for its editors
    versions: list[VersionSummary]
    actions: list[ActionRead] = Field(default_factory=list)  # editors only


class AlgorithmQuery(BaseModel):
    q: str = ""
    status: list[Status] = Field(default_factory=list)
    ai_act_class: list[AiActClass] = Field(default_factory=list)
    organization: list[str] = Field(default_factory=list)
    principle: list[PrincipleNumber] = Field(default_factory=list)
    record_state: list[RecordState] = Field(default_factory=list)  # default: published (and superseded, history)
    history: bool = False
    limit: Annotated[int, Field(ge=0, le=1000)] = 20
    offset: Annotated[int, Field(ge=0)] = 0


class AlgorithmPage(BaseModel):
    count: int
    limit: int
    offset: int
    results: list[AlgorithmRead]


class ImportReport(BaseModel):
    created: list[str]  # slugs of the drafts created
    unmapped_fields: dict[str, list[str]]  # record index (as text) -> NL keys that have no home in our field set
    incomplete: dict[str, list[str]]  # slug -> fields still missing before the draft can be submitted
