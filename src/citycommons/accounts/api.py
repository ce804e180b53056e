"""Native JSON API for accounts: who am I, users, API tokens, organisation memberships."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, StringConstraints

from citycommons.accounts import service
from citycommons.accounts.schemas import MembershipChange, TokenCreated, TokenRead, UserRead
from citycommons.catalog import organizations
from citycommons.catalog.schemas import MemberRead
from citycommons.errors import NotAuthenticated
from citycommons.web.deps import ActorDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["accounts"])
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"description": "Not signed in"},
    403: {"description": "Not allowed"},
    404: {"description": "Not found"},
    422: {"description": "Invalid input"},
}


class TokenRequest(BaseModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]


@router.get("/me", response_model=UserRead, responses=ERRORS)
def me(session: SessionDep, actor: ActorDep) -> UserRead:
    if not actor.user_id:
        raise NotAuthenticated("Send an API token in the Authorization header")
    return service.get_user(session=session, actor=actor, id_or_name=actor.user_id)


@router.get("/users/{id_or_name}", response_model=UserRead, responses=ERRORS)
def get_user(session: SessionDep, actor: ActorDep, id_or_name: str) -> UserRead:
    return service.get_user(session=session, actor=actor, id_or_name=id_or_name)


@router.get("/me/tokens", response_model=list[TokenRead], responses=ERRORS)
def my_tokens(session: SessionDep, actor: ActorDep) -> list[TokenRead]:
    if not actor.user_id:
        raise NotAuthenticated("Sign in first")
    return service.list_tokens(session=session, actor=actor, user=actor.user_id)


@router.post("/me/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED, responses=ERRORS)
def create_my_token(session: SessionDep, actor: ActorDep, data: TokenRequest) -> TokenCreated:
    """Creates an API token; the token itself is shown in this response only."""
    if not actor.user_id:
        raise NotAuthenticated("Sign in first")
    return service.create_token(session=session, actor=actor, user=actor.user_id, name=data.name)


@router.delete("/me/tokens/{token_id}", response_model=TokenRead, responses=ERRORS)
def revoke_my_token(session: SessionDep, actor: ActorDep, token_id: str) -> TokenRead:
    if not actor.user_id:
        raise NotAuthenticated("Sign in first")
    return service.revoke_token(session=session, actor=actor, token_id=token_id)


@router.put("/organizations/{id_or_name}/members", response_model=MemberRead, responses=ERRORS)
def set_member(session: SessionDep, actor: ActorDep, id_or_name: str, data: MembershipChange) -> MemberRead:
    return organizations.set_member(session=session, actor=actor, id_or_name=id_or_name, user=data.user, role=data.role)


@router.delete("/organizations/{id_or_name}/members/{user}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def remove_member(session: SessionDep, actor: ActorDep, id_or_name: str, user: str) -> None:
    organizations.remove_member(session=session, actor=actor, id_or_name=id_or_name, user=user)
