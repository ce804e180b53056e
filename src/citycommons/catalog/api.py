"""Native JSON API for the catalog: /api/v1/... (OpenAPI at /api/docs). Routes translate; services decide."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile, status
from pydantic import BaseModel, ValidationError

from citycommons.catalog import distributions, groups, organizations, search, service, vocabularies
from citycommons.catalog.schemas import (
    FACET_FIELDS,
    ActivityRead,
    DatasetCreate,
    DatasetPatch,
    DatasetRead,
    DatasetUpdate,
    DistributionCreate,
    DistributionPatch,
    DistributionRead,
    FieldFilter,
    GroupCreate,
    GroupPatch,
    GroupRead,
    MemberRead,
    OrganizationCreate,
    OrganizationPatch,
    OrganizationRead,
    RangeFilter,
    SearchQuery,
    SearchResult,
    SortKey,
    Upload,
)
from citycommons.errors import Invalid
from citycommons.ledger import record as ledger_record
from citycommons.web.deps import ActorDep, SessionDep, SettingsDep
from citycommons.web.errors import validation_fields

router = APIRouter(prefix="/api/v1", tags=["catalog"])
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"description": "Bad request"},
    403: {"description": "Not allowed"},
    404: {"description": "Not found"},
    409: {"description": "Conflict"},
    422: {"description": "Invalid input; `error.fields` names each field"},
}


@router.get("/datasets", response_model=SearchResult, responses=ERRORS)
def search_datasets(
    session: SessionDep,
    actor: ActorDep,
    q: Annotated[str, Query(max_length=1000)] = "",
    organization: Annotated[list[str] | None, Query()] = None,
    theme: Annotated[list[str] | None, Query()] = None,
    tag: Annotated[list[str] | None, Query()] = None,
    group: Annotated[list[str] | None, Query()] = None,
    format: Annotated[list[str] | None, Query()] = None,
    license: Annotated[list[str] | None, Query()] = None,
    access_rights: Annotated[list[str] | None, Query()] = None,
    modified_since: datetime | None = None,
    sort: Literal["relevance", "modified", "title", "name", "created"] = "relevance",
    limit: Annotated[int, Query(ge=0, le=1000)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    facets: bool = True,
    lang: Literal["ca", "es", "en"] = "en",
) -> SearchResult:
    """Ranked, accent-insensitive search over titles, descriptions and keywords in ca/es/en, with facets."""
    filters = [
        FieldFilter(field=field, values=values)
        for field, values in (
            ("organization", organization),
            ("theme", theme),
            ("tags", tag),
            ("groups", group),
            ("res_format", format),
            ("license_id", license),
            ("access_rights", access_rights),
        )
        if values
    ]
    sort_keys = {
        "relevance": [],
        "modified": [SortKey(field="metadata_modified", descending=True)],
        "title": [SortKey(field="title")],
        "name": [SortKey(field="name")],
        "created": [SortKey(field="metadata_created", descending=True)],
    }[sort]
    query = SearchQuery(
        q=q,
        filters=filters,
        ranges=[RangeFilter(field="metadata_modified", start=modified_since)] if modified_since else [],
        sort=sort_keys,
        rows=limit,
        start=offset,
        facet_fields=list(FACET_FIELDS) if facets else [],
        lang=lang,
    )
    return search.search(session=session, actor=actor, query=query)  # a listing: not logged (see ledger.record)


@router.post("/datasets", response_model=DatasetRead, status_code=status.HTTP_201_CREATED, responses=ERRORS)
def create_dataset(session: SessionDep, actor: ActorDep, settings: SettingsDep, data: DatasetCreate) -> DatasetRead:
    return service.create(session=session, actor=actor, settings=settings, data=data)


@router.get("/datasets/{id_or_name}", response_model=DatasetRead, responses=ERRORS)
def get_dataset(session: SessionDep, actor: ActorDep, settings: SettingsDep, id_or_name: str) -> DatasetRead:
    read = service.get(session=session, actor=actor, id_or_name=id_or_name)
    ref = ledger_record.DatasetRef.of(read)
    ledger_record.data_read(session=session, actor=actor, key=settings.pseudonym_key, dataset=ref, channel="api")
    return read


@router.put("/datasets/{id_or_name}", response_model=DatasetRead, responses=ERRORS)
def update_dataset(
    session: SessionDep, actor: ActorDep, settings: SettingsDep, id_or_name: str, data: DatasetUpdate
) -> DatasetRead:
    return service.update(session=session, actor=actor, settings=settings, id_or_name=id_or_name, data=data)


@router.patch("/datasets/{id_or_name}", response_model=DatasetRead, responses=ERRORS)
def patch_dataset(session: SessionDep, actor: ActorDep, id_or_name: str, data: DatasetPatch) -> DatasetRead:
    return service.patch(session=session, actor=actor, id_or_name=id_or_name, data=data)


@router.delete("/datasets/{id_or_name}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def delete_dataset(session: SessionDep, actor: ActorDep, id_or_name: str) -> None:
    service.delete(session=session, actor=actor, id_or_name=id_or_name)


@router.post("/datasets/{id_or_name}/restore", response_model=DatasetRead, responses=ERRORS)
def restore_dataset(session: SessionDep, actor: ActorDep, id_or_name: str) -> DatasetRead:
    return service.restore(session=session, actor=actor, id_or_name=id_or_name)


@router.get("/datasets/{id_or_name}/history", response_model=list[ActivityRead], responses=ERRORS)
def dataset_history(session: SessionDep, actor: ActorDep, id_or_name: str) -> list[ActivityRead]:
    return service.history(session=session, actor=actor, id_or_name=id_or_name)


@router.post(
    "/datasets/{id_or_name}/distributions",
    response_model=DistributionRead,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
)
def create_distribution(
    session: SessionDep, actor: ActorDep, settings: SettingsDep, id_or_name: str, data: DistributionCreate
) -> DistributionRead:
    return distributions.create(session=session, actor=actor, settings=settings, dataset=id_or_name, data=data)


@router.post(
    "/datasets/{id_or_name}/distributions/upload",
    response_model=DistributionRead,
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
)
def upload_distribution(
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    id_or_name: str,
    file: Annotated[UploadFile, File()],
    metadata: Annotated[str, Form(description="JSON object with the distribution's fields")] = "{}",
) -> DistributionRead:
    """Uploads a file as a new distribution (multipart: `file` and an optional `metadata` JSON object)."""
    try:
        data = DistributionCreate.model_validate_json(metadata or "{}")
    except ValidationError as exc:
        raise Invalid("Invalid metadata", fields=validation_fields(list(exc.errors())))
    with tempfile.NamedTemporaryFile(prefix="cc-upload-") as tmp:
        shutil.copyfileobj(file.file, tmp)
        tmp.flush()
        upload = Upload(filename=file.filename or "upload", path=tmp.name, content_type=file.content_type or "")
        return distributions.create(
            session=session, actor=actor, settings=settings, dataset=id_or_name, data=data, upload=upload
        )


@router.get("/distributions/{distribution_id}", response_model=DistributionRead, responses=ERRORS)
def get_distribution(
    session: SessionDep, actor: ActorDep, settings: SettingsDep, distribution_id: str
) -> DistributionRead:
    read = distributions.get(session=session, actor=actor, distribution_id=distribution_id)
    ledger_record.resource_read(session=session, actor=actor, key=settings.pseudonym_key, dataset_id=read.dataset_id,
                                distribution_id=read.id, channel="api")  # fmt: skip
    return read


@router.patch("/distributions/{distribution_id}", response_model=DistributionRead, responses=ERRORS)
def patch_distribution(
    session: SessionDep, actor: ActorDep, settings: SettingsDep, distribution_id: str, data: DistributionPatch
) -> DistributionRead:
    return distributions.patch(
        session=session, actor=actor, settings=settings, distribution_id=distribution_id, data=data
    )


@router.delete("/distributions/{distribution_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def delete_distribution(session: SessionDep, actor: ActorDep, distribution_id: str) -> None:
    distributions.delete(session=session, actor=actor, distribution_id=distribution_id)


@router.get("/organizations", response_model=list[OrganizationRead])
def list_organizations(session: SessionDep, actor: ActorDep) -> list[OrganizationRead]:
    return organizations.list_all(session=session, actor=actor)


@router.post("/organizations", response_model=OrganizationRead, status_code=201, responses=ERRORS)
def create_organization(session: SessionDep, actor: ActorDep, data: OrganizationCreate) -> OrganizationRead:
    return organizations.create(session=session, actor=actor, data=data)


@router.get("/organizations/{id_or_name}", response_model=OrganizationRead, responses=ERRORS)
def get_organization(session: SessionDep, actor: ActorDep, id_or_name: str) -> OrganizationRead:
    return organizations.get(session=session, actor=actor, id_or_name=id_or_name)


@router.patch("/organizations/{id_or_name}", response_model=OrganizationRead, responses=ERRORS)
def patch_organization(
    session: SessionDep, actor: ActorDep, id_or_name: str, data: OrganizationPatch
) -> OrganizationRead:
    return organizations.patch(session=session, actor=actor, id_or_name=id_or_name, data=data)


@router.get("/organizations/{id_or_name}/members", response_model=list[MemberRead], responses=ERRORS)
def list_members(session: SessionDep, actor: ActorDep, id_or_name: str) -> list[MemberRead]:
    return organizations.members(session=session, actor=actor, id_or_name=id_or_name)


@router.get("/groups", response_model=list[GroupRead])
def list_groups(session: SessionDep, actor: ActorDep) -> list[GroupRead]:
    return groups.list_all(session=session, actor=actor)


@router.post("/groups", response_model=GroupRead, status_code=201, responses=ERRORS)
def create_group(session: SessionDep, actor: ActorDep, data: GroupCreate) -> GroupRead:
    return groups.create(session=session, actor=actor, data=data)


@router.get("/groups/{id_or_name}", response_model=GroupRead, responses=ERRORS)
def get_group(session: SessionDep, actor: ActorDep, id_or_name: str) -> GroupRead:
    return groups.get(session=session, actor=actor, id_or_name=id_or_name)


@router.patch("/groups/{id_or_name}", response_model=GroupRead, responses=ERRORS)
def patch_group(session: SessionDep, actor: ActorDep, id_or_name: str, data: GroupPatch) -> GroupRead:
    return groups.patch(session=session, actor=actor, id_or_name=id_or_name, data=data)


class VocabularyTerm(BaseModel):
    id: str
    uri: str
    label: dict[str, str]


@router.get("/vocabularies/{name}", response_model=list[VocabularyTerm], responses=ERRORS)
def get_vocabulary(
    name: Literal["themes", "file_types", "frequencies", "access_rights", "licenses", "languages"],
) -> list[VocabularyTerm]:
    """A controlled vocabulary (EU authority tables, licences) with labels in ca/es/en."""
    return [VocabularyTerm(id=t.id, uri=t.uri, label=t.label) for t in vocabularies.vocabulary(name).terms]
