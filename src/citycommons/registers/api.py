"""JSON API of the register (``/api/v1/algorithms``, ``/api/v1/principles``) and its downloads
(``/algorithms.csv|json|jsonld``, ``/algorithms/schema/{profile}.json``). Routes translate; services decide."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, File, Form, Query, UploadFile, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.errors import Invalid
from citycommons.registers import exports, importer, principles, service
from citycommons.registers.schemas import (
    AiActClass,
    AlgorithmCreate,
    AlgorithmDetail,
    AlgorithmPage,
    AlgorithmQuery,
    AlgorithmRead,
    ImportReport,
    RecordState,
    Status,
    TransitionRequest,
)
from citycommons.web.deps import ActorDep, SessionDep, SettingsDep
from citycommons.web.errors import validation_fields

router = APIRouter(tags=["algorithm register"])
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"description": "Bad request"},
    403: {"description": "Not allowed"},
    404: {"description": "Not found"},
    409: {"description": "Not possible in the record's state"},
    422: {"description": "Invalid input; `error.fields` names each field"},
}
ProfileName = Literal["citycommons", "nl-1.0", "atrs", "eu-annex-viii-c"]


def query_of(
    q: Annotated[str, Query(max_length=1000)] = "",
    status: Annotated[list[Status] | None, Query()] = None,
    ai_act_class: Annotated[list[AiActClass] | None, Query()] = None,
    organization: Annotated[list[str] | None, Query()] = None,
    principle: Annotated[list[int] | None, Query()] = None,
    record_state: Annotated[list[RecordState] | None, Query()] = None,
    history: bool = False,
    limit: Annotated[int, Query(ge=0, le=1000)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AlgorithmQuery:
    try:
        return AlgorithmQuery(
            q=q,
            status=status or [],
            ai_act_class=ai_act_class or [],
            organization=organization or [],
            principle=principle or [],
            record_state=record_state or [],
            history=history,
            limit=limit,
            offset=offset,
        )
    except ValidationError as exc:
        raise Invalid("Invalid query", fields=validation_fields(list(exc.errors()))) from None


@router.get("/api/v1/algorithms", response_model=AlgorithmPage, responses=ERRORS)
def list_algorithms(
    session: SessionDep, actor: ActorDep, query: Annotated[AlgorithmQuery, Depends(query_of)]
) -> AlgorithmPage:
    """Published records (``history=true``: every published version); editors may ask for ``record_state=draft``."""
    return service.search(session=session, actor=actor, query=query)


@router.post("/api/v1/algorithms", response_model=AlgorithmRead, status_code=status.HTTP_201_CREATED, responses=ERRORS)
def create_algorithm(session: SessionDep, actor: ActorDep, data: AlgorithmCreate) -> AlgorithmRead:
    return service.create(session=session, actor=actor, data=data)


@router.post("/api/v1/algorithms/import", response_model=ImportReport, responses=ERRORS)
def import_algorithms(
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="NL Algoritmeregister v1.0 records: JSON array or CSV download")],
    organization: Annotated[str, Form(description="Organisation (name or id) the drafts belong to")],
) -> ImportReport:
    records = importer.parse(file.file.read(), filename=file.filename or "")
    return importer.import_nl(
        session=session, actor=actor, records=records, organization=organization, site_url=settings.site_url
    )


@router.get("/api/v1/algorithms/{slug}", response_model=AlgorithmDetail, responses=ERRORS)
def get_algorithm(session: SessionDep, actor: ActorDep, slug: str) -> AlgorithmDetail:
    return service.get(session=session, actor=actor, slug=slug)


@router.patch("/api/v1/algorithms/{slug}", response_model=AlgorithmRead, responses=ERRORS)
def patch_algorithm(
    session: SessionDep, actor: ActorDep, slug: str, data: Annotated[dict[str, Any], Body()]
) -> AlgorithmRead:
    """Changes fields of the draft; on a published record this opens a new draft version."""
    return service.patch(session=session, actor=actor, slug=slug, data=data)


@router.post("/api/v1/algorithms/{slug}/transitions", response_model=AlgorithmRead, responses=ERRORS)
def transition_algorithm(
    session: SessionDep, actor: ActorDep, settings: SettingsDep, slug: str, data: TransitionRequest
) -> AlgorithmRead:
    """``submit`` (editors), ``reject`` / ``publish`` / ``withdraw`` (organisation admins; reject and withdraw need a
    ``reason``)."""
    return service.transition(
        session=session,
        actor=actor,
        slug=slug,
        data=data,
        allow_self_publish=settings.register_allow_self_publish,
        pseudonym_key=settings.pseudonym_key,
    )


# --- principles -------------------------------------------------------------------------------------------------


class SectionRead(BaseModel):
    key: str
    title: str
    items: list[dict[str, str]]


class PrincipleRead(principles.Principle):
    sections: list[SectionRead] = []


@router.get("/api/v1/principles", response_model=list[PrincipleRead])
def list_principles() -> list[PrincipleRead]:
    return [PrincipleRead.model_validate(p.model_dump()) for p in principles.principles()]


@router.get("/api/v1/principles/{number}", response_model=PrincipleRead, responses=ERRORS)
def get_principle(session: SessionDep, actor: ActorDep, number: int) -> PrincipleRead:
    read = PrincipleRead.model_validate(principles.get(number).model_dump())
    read.sections = [
        SectionRead(key=s.key, title=s.title, items=[vars(i) for i in s.items])
        for s in principles.implementations(session=session, actor=actor, number=number)
    ]
    return read


# --- downloads --------------------------------------------------------------------------------------------------


def all_records(session: Session, actor: Actor, *, history: bool) -> list[AlgorithmRead]:
    out: list[AlgorithmRead] = []
    while True:
        page = service.search(
            session=session, actor=actor, query=AlgorithmQuery(history=history, limit=1000, offset=len(out))
        )
        out.extend(page.results)
        if not page.results or len(out) >= page.count:
            return out


DOWNLOAD_HEADERS = {"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"}


@router.get("/algorithms.json", include_in_schema=False)
def download_json(
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    profile: ProfileName | None = None,
    history: bool = False,
) -> Response:
    fn = exports.profile(profile)
    records = exports.records_for(profile, all_records(session, actor, history=history))
    body = {
        "profile": profile or "citycommons",
        "count": len(records),
        "data": [fn(r, settings.site_url) for r in records],
    }
    return JSONResponse(body, headers=DOWNLOAD_HEADERS)


@router.get("/algorithms.csv", include_in_schema=False)
def download_csv(
    session: SessionDep,
    actor: ActorDep,
    settings: SettingsDep,
    profile: ProfileName | None = None,
    history: bool = False,
) -> Response:
    fn = exports.profile(profile)
    records = exports.records_for(profile, all_records(session, actor, history=history))
    rows = [fn(r, settings.site_url) for r in records]
    columns = exports.NL_KEYS if profile == "nl-1.0" else None
    if columns is None and not rows:
        columns = tuple(exports.json_schema(profile or "citycommons")["properties"])
    text = exports.to_csv(rows, columns=columns, plain=profile == "nl-1.0")
    name = f"algorithms-{profile or 'citycommons'}.csv"
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={**DOWNLOAD_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/algorithms.jsonld", include_in_schema=False)
def download_jsonld(session: SessionDep, actor: ActorDep, settings: SettingsDep) -> Response:
    body = exports.jsonld(all_records(session, actor, history=False), settings.site_url)
    return JSONResponse(body, media_type="application/ld+json", headers=DOWNLOAD_HEADERS)


@router.get("/algorithms/schema/{profile}.json", include_in_schema=False)
def download_schema(profile: ProfileName) -> Response:
    return JSONResponse(exports.json_schema(profile), media_type="application/schema+json", headers=DOWNLOAD_HEADERS)
