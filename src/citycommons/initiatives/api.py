"""JSON API of the initiatives map under ``/api/v1/initiatives``: list approved (filters, paging), submit (anyone,
rate-limited per client address), read; moderators: queue, edit (PATCH) and decide.

The pseudonym key of the transparency log (and of the rate limit's client addresses) is ``settings.pseudonym_key``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from citycommons.initiatives import service
from citycommons.initiatives.schemas import (
    Decision,
    InitiativeCreate,
    InitiativeModeration,
    InitiativePage,
    InitiativePatch,
    InitiativeQuery,
    InitiativeRead,
    ModerationPage,
    OrgType,
    Status,
    Submitted,
)
from citycommons.settings import Settings
from citycommons.web.deps import ActorDep, SessionDep, client_address

router = APIRouter(prefix="/api/v1/initiatives", tags=["initiatives"])
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"description": "Bad request"},
    401: {"description": "Not signed in, or an invalid API token"},
    403: {"description": "Not a moderator"},
    404: {"description": "Not found (pending and rejected initiatives are not public)"},
    413: {"description": "Request body too large"},
    422: {"description": "Invalid input; `error.fields` names each field"},
    429: {"description": "Too many submissions from this address; see Retry-After"},
}


def pseudonym_key(request: Request) -> str:
    """The deployment's pseudonym key (``settings.pseudonym_key``)."""
    settings: Settings = request.app.state.settings
    return settings.pseudonym_key


def initiative_query(
    q: Annotated[str, Query(max_length=200)] = "",
    principle: Annotated[int | None, Query(ge=1, le=5)] = None,
    org_type: Annotated[OrgType | None, Query()] = None,
    district: Annotated[int | None, Query(ge=1, le=99)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> InitiativeQuery:
    return InitiativeQuery(q=q, principle=principle, org_type=org_type, district=district, page=page, size=size)


QueryDep = Annotated[InitiativeQuery, Depends(initiative_query)]


@router.get("", response_model=InitiativePage, responses=ERRORS)
def list_initiatives(session: SessionDep, query: QueryDep) -> InitiativePage:
    """Approved initiatives, newest first."""
    return service.list_public(session=session, query=query)


@router.post("", response_model=Submitted, status_code=status.HTTP_202_ACCEPTED, responses=ERRORS)
def submit_initiative(request: Request, session: SessionDep, data: InitiativeCreate) -> Submitted:
    """Submits an initiative for moderation (no account needed; a few submissions per hour per address)."""
    return service.submit(session=session, data=data, client=client_address(request), key=pseudonym_key(request))


@router.get("/moderation", response_model=ModerationPage, responses=ERRORS)
def moderation_queue(session: SessionDep, actor: ActorDep, state: Status = "pending") -> ModerationPage:
    """Moderators: initiatives in one state (pending by default), oldest first, with their private fields."""
    return service.list_for_moderation(session=session, actor=actor, status=state)


@router.get("/{initiative_id}", response_model=InitiativeModeration | InitiativeRead, responses=ERRORS)
def get_initiative(session: SessionDep, actor: ActorDep, initiative_id: str) -> InitiativeRead:
    return service.get(session=session, actor=actor, initiative_id=initiative_id)


@router.patch("/{initiative_id}", response_model=InitiativeModeration, responses=ERRORS)
def patch_initiative(
    request: Request, session: SessionDep, actor: ActorDep, initiative_id: str, data: InitiativePatch
) -> InitiativeModeration:
    """Moderators: edit some fields (logged in the transparency log)."""
    return service.patch(
        session=session, actor=actor, initiative_id=initiative_id, data=data, key=pseudonym_key(request)
    )


@router.post("/{initiative_id}/decision", response_model=InitiativeModeration, responses=ERRORS)
def decide_initiative(
    request: Request, session: SessionDep, actor: ActorDep, initiative_id: str, data: Decision
) -> InitiativeModeration:
    """Moderators: approve, or reject with a reason (logged in the transparency log)."""
    return service.decide(
        session=session, actor=actor, initiative_id=initiative_id, data=data, key=pseudonym_key(request)
    )
