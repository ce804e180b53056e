"""FastAPI dependencies shared by every front door: settings, database session, the Actor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from citycommons.accounts.service import actor_for_token, actor_for_user
from citycommons.actor import ANONYMOUS, Actor
from citycommons.errors import NotAuthenticated
from citycommons.settings import Settings


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request; the request commits once, after the handler returned without error."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def bearer_token(request: Request) -> str | None:
    raw = request.headers.get("authorization") or request.headers.get("x-ckan-api-key")
    if not raw:
        return None
    raw = raw.strip()
    if raw.lower().startswith("bearer "):
        raw = raw[7:].strip()
    return raw or None


def get_actor(request: Request, session: Annotated[Session, Depends(get_session, scope="function")]) -> Actor:
    cached = getattr(request.state, "actor", None)
    if isinstance(cached, Actor):
        return cached
    client = client_address(request)
    token = bearer_token(request)
    actor = ANONYMOUS
    if token:
        actor = actor_for_token(session=session, token=token, client=client)
    elif "session" in request.scope and request.session.get("user_id"):
        try:
            actor = actor_for_user(session=session, user_id=request.session["user_id"], client=client)
        except NotAuthenticated:
            request.session.clear()
    request.state.actor = actor
    return actor


# scope="function": the commit happens before the response is sent, so a failed commit is never reported as success
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ActorDep = Annotated[Actor, Depends(get_actor)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
