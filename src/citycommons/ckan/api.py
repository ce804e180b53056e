"""The CKAN Action API: ``/api/3/action/{name}`` and ``/api/action/{name}``, GET or POST (JSON body, form or
multipart with file uploads), answered in CKAN's envelope::

    {"help": "<site>/api/3/action/help_show?name=<name>", "success": true, "result": ...}
    {"help": "...", "success": false, "error": {"__type": "...", ...}}

Routes read the request and pick the action; actions translate to and from the services; errors of the
services are rendered here, in CKAN's shape (see ``errors.py``), because this router cannot register handlers.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from citycommons.actor import ANONYMOUS, Actor
from citycommons.catalog.schemas import Upload
from citycommons.ckan.actions import ACTIONS, READ_ACTIONS, WRITE_ACTIONS
from citycommons.ckan.call import Call, DataDict
from citycommons.ckan.dicts import Dictizer
from citycommons.ckan.errors import BadRequestData, error_body
from citycommons.errors import CityCommonsError, Forbidden
from citycommons.settings import Settings
from citycommons.web.deps import SessionDep, SettingsDep, bearer_token, get_actor

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
INTERNAL_ERROR = {"__type": "Internal Server Error", "message": "Internal Server Error"}


@router.get("/api/3")
def api_version() -> dict[str, int]:
    return {"version": 3}


@router.api_route("/api/3/action/{name}", methods=["GET", "POST"])
@router.api_route("/api/action/{name}", methods=["GET", "POST"])
async def action(name: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    help_url = f"{settings.site_url}/api/3/action/help_show?name={quote(name)}"
    if name not in ACTIONS:
        return _error(BadRequestData(f"Action name not known: {name}"), help_url)
    form: FormData | None = None
    try:
        data, form = await _request_data(request, read_only=name in READ_ACTIONS)
        result = await run_in_threadpool(_run, name, data, request, session, settings)
    except CityCommonsError as exc:
        await run_in_threadpool(session.rollback)
        return _error(exc, help_url)
    except Exception:
        log.exception("CKAN action %s failed", name)
        await run_in_threadpool(session.rollback)
        return JSONResponse({"help": help_url, "success": False, "error": INTERNAL_ERROR}, status_code=500)
    finally:
        if form is not None:
            await form.close()
    return JSONResponse({"help": help_url, "success": True, "result": result})


def render_error(request: Request, exc: CityCommonsError) -> Response:
    """CKAN's error envelope for errors raised outside the action route (for ``app.state.ckan_error_renderer``)."""
    name = request.path_params.get("name", "")
    settings: Settings = request.app.state.settings
    return _error(exc, f"{settings.site_url}/api/3/action/help_show?name={quote(str(name))}")


def _error(exc: CityCommonsError, help_url: str) -> JSONResponse:
    code, error = error_body(exc)
    if isinstance(exc, BadRequestData):
        return JSONResponse(error, status_code=code)
    return JSONResponse({"help": help_url, "success": False, "error": error}, status_code=code)


def _actor(request: Request, session: Session) -> Actor:
    """The token's user (an invalid token is refused). A browser session counts for GET requests only: a POST must
    carry a token, so that another site cannot make a signed-in visitor's browser post to this API."""
    if request.method != "GET" and bearer_token(request) is None:
        return ANONYMOUS
    return get_actor(request, session)


def _run(name: str, data: DataDict, request: Request, session: Session, settings: Settings) -> Any:
    actor = _actor(request, session)
    if name in WRITE_ACTIONS and not actor.authenticated:
        raise Forbidden(f"Action {name} requires an authenticated user")
    call = Call(session=session, actor=actor, settings=settings, dicts=Dictizer(session, actor, settings))
    with _spooled_uploads(data) as resolved:
        return ACTIONS[name](call, resolved)


# --- request data ---------------------------------------------------------------------------------------


def _mixed(items: list[tuple[str, Any]]) -> DataDict:
    """Repeated keys become lists, single ones stay scalars (as CKAN reads query strings and forms)."""
    out: DataDict = {}
    for key, value in items:
        if key in out:
            out[key] = out[key] + [value] if isinstance(out[key], list) else [out[key], value]
        else:
            out[key] = value
    return out


async def _request_data(request: Request, *, read_only: bool) -> tuple[DataDict, FormData | None]:
    """The action's parameters: the query string of a GET; the form, multipart or JSON body of a POST."""
    if request.method == "GET":
        if not read_only:
            raise BadRequestData("JSON Error: Invalid request. Please use POST method for your request")
        return _without_callback(_mixed(list(request.query_params.multi_items()))), None
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        try:
            form = await request.form()
        except Exception as exc:  # python-multipart's errors have no common base we can rely on
            raise BadRequestData(f"JSON Error: Could not read the form: {exc}")
        return _without_callback(_form_data(form)), form
    body = await request.body()
    if not body.strip():
        return (_mixed(list(request.query_params.multi_items())) if read_only else {}), None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequestData(f"JSON Error: Error decoding JSON data. Error: {exc!r}")
    if not isinstance(data, dict):
        raise BadRequestData(
            f"Bad request data: Request data JSON decoded to {data!r} but it needs to be a dictionary."
        )
    return _without_callback(data), None


def _form_data(form: FormData) -> DataDict:
    fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    files = {k: v for k, v in form.multi_items() if not isinstance(v, str)}
    data: DataDict
    if len(fields) == 1 and fields[0][1] in ("", "1") and fields[0][0].lstrip().startswith("{"):
        try:  # a JSON document posted as the only form key, as old clients do
            data = json.loads(fields[0][0])
        except ValueError as exc:
            raise BadRequestData(f"JSON Error: Error decoding JSON data. Error: {exc!r}")
        if not isinstance(data, dict):
            raise BadRequestData("Bad request data: Request data JSON decoded to a non-dictionary.")
    else:
        data = _mixed(fields)
    data.update(files)
    return data


def _without_callback(data: DataDict) -> DataDict:
    data.pop("callback", None)  # JSONP is not supported
    return data


@contextmanager
def _spooled_uploads(data: DataDict) -> Iterator[DataDict]:
    """Uploaded files written to temporary files the services can read (``Upload``), removed afterwards."""
    with ExitStack() as stack:
        resolved = dict(data)
        for key, value in data.items():
            if isinstance(value, UploadFile):
                fd, path = tempfile.mkstemp(prefix="ckan-upload-")
                stack.callback(os.unlink, path)
                with os.fdopen(fd, "wb") as out:
                    value.file.seek(0)
                    shutil.copyfileobj(value.file, out)
                resolved[key] = Upload(filename=value.filename or key, path=path, content_type=value.content_type or "")
        yield resolved
