"""Signing in and out (the session cookie holds ``user_id``) and the account page with its API tokens."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from citycommons.accounts import service as accounts
from citycommons.accounts.schemas import TokenCreated
from citycommons.catalog import organizations
from citycommons.errors import CityCommonsError, NotAuthenticated
from citycommons.web import csrf
from citycommons.web.csrf import FormDep
from citycommons.web.deps import SessionDep
from citycommons.web.form_errors import field_errors
from citycommons.web.render import N_, View, ViewDep

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}


def safe_next(target: str | None) -> str:
    """Only a path on this site (never ``//host`` or ``https://host``) is followed after signing in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/user/login")
def login_page(view: ViewDep, next: str = "/") -> Response:
    return view.render("login.html", next=safe_next(next), login="", error="")


@router.post("/user/login")
def login(view: ViewDep, session: SessionDep, form: FormDep) -> Response:
    login_name = str(form.get("login") or "").strip()
    target = safe_next(str(form.get("next") or "/"))
    try:
        user = accounts.authenticate_password(
            session=session, login=login_name, password=str(form.get("password") or "")
        )
    except NotAuthenticated:
        error = view.gettext("The user name or password is not right.")
        return view.render("login.html", status_code=401, next=target, login=login_name, error=error)
    view.request.session.clear()  # a fresh session: nothing from before signing in carries over
    view.request.session["user_id"] = user.id
    return view.redirect(target, flash=N_("You are signed in."))


@router.get("/user/logout")
def logout_page(view: ViewDep) -> Response:
    if not view.actor.authenticated:
        return view.redirect("/")
    return view.render("logout.html")


@router.post("/user/logout")
def logout(view: ViewDep, form: FormDep) -> Response:
    view.request.session.clear()
    csrf.rotate(view.request)
    return view.redirect("/", flash=N_("You are signed out."))


def _account(
    view: View,
    session: SessionDep,
    *,
    created: TokenCreated | None = None,
    token_name: str = "",
    errors: dict[str, list[str]] | None = None,
    status_code: int = 200,
) -> Response:
    if not view.actor.user_id:
        raise NotAuthenticated("Sign in first")
    user = accounts.get_user(session=session, actor=view.actor, id_or_name=view.actor.user_id)
    tokens = accounts.list_tokens(session=session, actor=view.actor, user=view.actor.user_id)
    memberships = [
        (org, view.actor.roles[org.id])
        for org in organizations.list_all(session=session, actor=view.actor)
        if org.id in view.actor.roles
    ]
    return view.render(
        "account.html",
        status_code=status_code,
        headers=NO_STORE,
        user=user,
        tokens=sorted(tokens, key=lambda t: (t.revoked is not None, t.created), reverse=False),
        memberships=memberships,
        created=created,
        token_name=token_name,
        errors=errors or {},
    )


@router.get("/user/me")
def account_page(view: ViewDep, session: SessionDep) -> Response:
    return _account(view, session)


@router.post("/user/me/tokens")
def create_token(view: ViewDep, session: SessionDep, form: FormDep) -> Response:
    if not view.actor.user_id:
        raise NotAuthenticated("Sign in first")
    name = str(form.get("name") or "").strip()
    try:
        created = accounts.create_token(session=session, actor=view.actor, user=view.actor.user_id, name=name)
    except CityCommonsError as exc:
        if exc.status != 422:
            raise
        session.rollback()
        return _account(view, session, token_name=name, errors=field_errors(view, exc), status_code=422)
    return _account(view, session, created=created, status_code=201)


@router.post("/user/me/tokens/{token_id}/revoke")
def revoke_token(view: ViewDep, session: SessionDep, token_id: str, form: FormDep) -> Response:
    if not view.actor.user_id:
        raise NotAuthenticated("Sign in first")
    accounts.revoke_token(session=session, actor=view.actor, token_id=token_id)
    return view.redirect("/user/me", flash=N_("The token was revoked."))
