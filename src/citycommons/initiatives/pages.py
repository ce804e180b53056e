"""The initiatives map's pages: the public map and list, the submission form, the detail page, the moderation
queue and edit form, and the GeoJSON/CSV exports (which take the list's filters).

Spam protection of the form, besides the service's per-address rate limit: a honeypot field (``HONEYPOT``; when
filled, the visitor sees the usual thanks page and nothing is stored) and a minimum fill time (the form carries
its rendering time signed with the session's CSRF token; ``settings.initiative_min_fill_seconds``). The map shows no
tiles unless ``settings.map_tile_url`` gives a template such as ``https://tile.openstreetmap.org/{z}/{x}/{y}.png``
(then ``settings.map_tile_attribution`` too).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from citycommons.errors import CityCommonsError, NotFound
from citycommons.initiatives import exports, geocode, service
from citycommons.initiatives.api import QueryDep, pseudonym_key
from citycommons.initiatives.permissions import can_moderate, require_moderator
from citycommons.initiatives.schemas import (
    ORG_TYPES,
    Decision,
    InitiativeCreate,
    InitiativeModeration,
    InitiativePatch,
    Status,
    principle_title,
    principles,
)
from citycommons.settings import Settings
from citycommons.web import csrf
from citycommons.web.deps import SessionDep, client_address
from citycommons.web.form_errors import field_errors
from citycommons.web.render import N_, View, ViewDep

router = APIRouter(include_in_schema=False)

HONEYPOT = "homepage"  # a plausible name that bots fill; hidden from people and screen readers
MAX_FORM_AGE_SECONDS = 24 * 3600
TEXT_FIELDS = ("name", "description", "org_type", "website", "address", "lat", "lon", "contact_email")
# (start of an English message, msgid shown instead)
MESSAGES: tuple[tuple[str, str], ...] = (
    ("must be an https:// address", N_("Enter a web address that starts with https://.")),
    ("Value should have at least", N_("This is too short.")),
    ("Value should have at most", N_("This is too long.")),
    ("List should have at least 1 item", N_("Choose at least one principle.")),
    ("Unknown principle", N_("Choose principles from the list.")),
    ("must be a number between", N_("Enter coordinates in the Barcelona area, or pick the place on the map.")),
    ("Input should be a valid number", N_("Enter a number, for example 41.3874.")),
    ("Give both latitude and longitude", N_("Give both latitude and longitude.")),
    ("Pick the location on the map", N_("Pick the place on the map, type coordinates, or name a district.")),
    ("Give the reason for rejecting", N_("Give the reason for rejecting.")),
    ("too_fast", N_("That was quick! Please check the form and send it again.")),
    ("expired", N_("The form has expired; please check it and send it again.")),
)


# --- helpers ------------------------------------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _signature(request: Request, stamp: str) -> str:
    key = csrf.token(request).encode()
    return hmac.new(key, f"initiative-form:{stamp}".encode(), hashlib.sha256).hexdigest()[:32]


def form_stamp(request: Request, now: float | None = None) -> str:
    """The form's rendering time, signed with the session's CSRF token."""
    stamp = str(int(now if now is not None else time.time()))
    return f"{stamp}.{_signature(request, stamp)}"


def stamp_problem(request: Request, value: object, now: float | None = None) -> str | None:
    """None when the form was rendered by this session long enough ago; else "too_fast" or "expired"."""
    now = now if now is not None else time.time()
    stamp, _, signature = value.partition(".") if isinstance(value, str) else ("", "", "")
    if not stamp.isdigit() or not hmac.compare_digest(signature.encode(), _signature(request, stamp).encode()):
        return "expired"
    age = now - int(stamp)
    if age > MAX_FORM_AGE_SECONDS:
        return "expired"
    if age < _settings(request).initiative_min_fill_seconds:
        return "too_fast"
    return None


def _text(form: FormData, key: str, limit: int = 5000) -> str:
    value = form.get(key)
    return value.strip()[:limit] if isinstance(value, str) else ""


def form_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {key: _text(form, key) for key in TEXT_FIELDS}
    values["principles"] = [p for p in form.getlist("principles") if isinstance(p, str) and p.isdigit()][:5]
    return values


def _payload(values: dict[str, Any]) -> dict[str, Any]:
    payload = {key: values[key] for key in TEXT_FIELDS}
    payload["principles"] = [int(p) for p in values["principles"]]
    return payload


def _translate(view: View, errors: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for field, messages in errors.items():
        for message in messages:
            shown = next((view.gettext(msgid) for start, msgid in MESSAGES if start in message), message)
            if shown not in out.setdefault(field, []):
                out[field].append(shown)
    return out


def _vocabularies(view: View) -> dict[str, Any]:
    return {
        "principle_titles": {n: principle_title(n, view.lang) for n in sorted(principles())},
        "org_types": ORG_TYPES,
        "districts": sorted(geocode.district_names().items()),
    }


def _map_attrs(request: Request) -> dict[str, str]:
    return {
        "tiles": _settings(request).map_tile_url or "",
        "attribution": _settings(request).map_tile_attribution if _settings(request).map_tile_url else "",
    }


def _form(
    view: View,
    *,
    values: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
    item: InitiativeModeration | None = None,
) -> Response:
    return view.render(
        "initiative_form.html",
        status_code=422 if errors else 200,
        values=values,
        errors=errors or {},
        item=item,
        honeypot=HONEYPOT,
        stamp=form_stamp(view.request),
        map=_map_attrs(view.request),
        **_vocabularies(view),
    )


BLANK = {**dict.fromkeys(TEXT_FIELDS, ""), "principles": []}


# --- public pages ---------------------------------------------------------------------------------------------


@router.get("/initiatives")
def initiatives_page(view: ViewDep, session: SessionDep, query: QueryDep) -> Response:
    result = service.list_public(session=session, query=query)
    filters = query.model_dump(exclude={"page", "size"}, exclude_defaults=True)
    export_query = urlencode(sorted(filters.items()))
    pages = max(1, -(-result.count // query.size))
    return view.render(
        "initiatives.html",
        result=result,
        query=query,
        export_query=export_query,
        pages=pages,
        map=_map_attrs(view.request),
        can_moderate=can_moderate(view.actor),
        **_vocabularies(view),
    )


@router.get("/initiatives.geojson")
def initiatives_geojson(session: SessionDep, query: QueryDep) -> Response:
    items = service.list_all_public(session=session, query=query)
    body = json.dumps(exports.geojson(items), ensure_ascii=False, separators=(",", ":"))
    return Response(
        body,
        media_type="application/geo+json",
        headers={"X-Content-Type-Options": "nosniff", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/initiatives.csv")
def initiatives_csv(session: SessionDep, query: QueryDep) -> Response:
    items = service.list_all_public(session=session, query=query)
    return Response(
        exports.csv_text(items),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="initiatives.csv"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/initiatives/districts.geojson")
def district_outlines() -> Response:
    return Response(
        json.dumps(geocode.district_outlines(), ensure_ascii=False, separators=(",", ":")),
        media_type="application/geo+json",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/initiatives/new")
def new_initiative(view: ViewDep) -> Response:
    return _form(view, values=dict(BLANK))


@router.post("/initiatives/new")
def submit_initiative(view: ViewDep, session: SessionDep, form: csrf.FormDep) -> Response:
    if _text(form, HONEYPOT):
        return view.redirect("/initiatives/thanks")  # looks accepted; nothing is stored
    values = form_values(form)
    problem = stamp_problem(view.request, form.get("form_ts"))
    if problem:
        return _form(view, values=values, errors=_translate(view, {"form": [problem]}))
    payload = _payload(values)
    try:
        data = InitiativeCreate.model_validate(payload)
        service.submit(session=session, data=data, client=client_address(view.request), key=pseudonym_key(view.request))
    except (ValidationError, CityCommonsError) as exc:
        if isinstance(exc, CityCommonsError) and exc.status != 422:
            raise
        session.rollback()
        errors = field_errors(view, exc, schema=InitiativeCreate, payload=payload)
        return _form(view, values=values, errors=_translate(view, errors))
    return view.redirect("/initiatives/thanks")


@router.get("/initiatives/thanks")
def thanks(view: ViewDep) -> Response:
    return view.render("initiative_thanks.html")


# --- moderation -----------------------------------------------------------------------------------------------


@router.get("/initiatives/moderation")
def moderation(view: ViewDep, session: SessionDep, state: Status = "pending") -> Response:
    queue = service.list_for_moderation(session=session, actor=view.actor, status=state)
    return view.render("initiative_moderation.html", queue=queue, state=state, **_vocabularies(view))


@router.post("/initiatives/{initiative_id}/decision")
def decide(view: ViewDep, session: SessionDep, initiative_id: str, form: csrf.FormDep) -> Response:
    require_moderator(view.actor)
    try:
        data = Decision.model_validate({"decision": _text(form, "decision"), "reason": _text(form, "reason", 600)})
        decided = service.decide(
            session=session,
            actor=view.actor,
            initiative_id=initiative_id,
            data=data,
            key=pseudonym_key(view.request),
        )
    except (ValidationError, CityCommonsError) as exc:
        if isinstance(exc, CityCommonsError) and exc.status != 422:
            raise
        session.rollback()
        messages = [m for ms in _translate(view, field_errors(view, exc)).values() for m in ms]
        view.flash(messages[0] if messages else N_("Give the reason for rejecting."))
        return view.redirect("/initiatives/moderation")
    flash = N_("The initiative was approved.") if decided.status == "approved" else N_("The initiative was rejected.")
    return view.redirect("/initiatives/moderation", flash=flash)


def _moderated(view: View, session: SessionDep, initiative_id: str) -> InitiativeModeration:
    require_moderator(view.actor)
    item = service.get(session=session, actor=view.actor, initiative_id=initiative_id)
    if not isinstance(item, InitiativeModeration):  # pragma: no cover - moderators read the full record
        raise NotFound("Initiative not found")
    return item


@router.get("/initiatives/{initiative_id}/edit")
def edit(view: ViewDep, session: SessionDep, initiative_id: str) -> Response:
    item = _moderated(view, session, initiative_id)
    values: dict[str, Any] = {key: str(getattr(item, key)) for key in TEXT_FIELDS}
    values["principles"] = [str(n) for n in item.principles]
    return _form(view, values=values, item=item)


@router.post("/initiatives/{initiative_id}/edit")
def save(view: ViewDep, session: SessionDep, initiative_id: str, form: csrf.FormDep) -> Response:
    item = _moderated(view, session, initiative_id)
    values = form_values(form)
    payload = _payload(values)
    try:
        data = InitiativePatch.model_validate(payload)
        service.patch(
            session=session, actor=view.actor, initiative_id=item.id, data=data, key=pseudonym_key(view.request)
        )
    except (ValidationError, CityCommonsError) as exc:
        if isinstance(exc, CityCommonsError) and exc.status != 422:
            raise
        session.rollback()
        errors = field_errors(view, exc, schema=InitiativeCreate, payload=payload)
        return _form(view, values=values, errors=_translate(view, errors), item=item)
    return view.redirect(f"/initiatives/{item.id}", flash=N_("Your changes were saved."))


@router.get("/initiatives/{initiative_id}")
def detail(view: ViewDep, session: SessionDep, initiative_id: str) -> Response:
    item = service.get(session=session, actor=view.actor, initiative_id=initiative_id)
    return view.render(
        "initiative.html",
        item=item,
        moderation=item if isinstance(item, InitiativeModeration) else None,
        can_moderate=can_moderate(view.actor),
        **_vocabularies(view),
    )
