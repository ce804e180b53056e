"""Editing pages: dataset create/edit/delete and distribution create (URL or upload)/edit/delete.

Each POST is CSRF-checked (``FormDep``), turned into the same schema the JSON API takes and handed to the same
service. Invalid input re-renders the form with the visitor's input and a message next to each field; the
transaction is rolled back first, so nothing half-done is committed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from citycommons.catalog import distributions, organizations, permissions, service, vocabularies
from citycommons.catalog.schemas import (
    LANGS,
    DatasetCreate,
    DatasetPatch,
    DatasetRead,
    DatasetUpdate,
    DistributionCreate,
    DistributionPatch,
    DistributionRead,
    OrganizationRead,
    Upload,
)
from citycommons.datastore.status import latest_job
from citycommons.errors import CityCommonsError, Forbidden, NotAuthenticated, NotFound, TooLarge
from citycommons.jobs.pages import ingest_url
from citycommons.web.csrf import FormDep
from citycommons.web.deps import SessionDep
from citycommons.web.form_errors import field_errors
from citycommons.web.render import N_, View, ViewDep

router = APIRouter(include_in_schema=False)

TEXT_FIELDS = (
    "name",
    "identifier",
    "organization",
    "access_rights",
    "license_id",
    "contact_name",
    "contact_email",
    "spatial_uri",
    "frequency",
    "version",
    "landing_page",
)
DATE_FIELDS = ("temporal_start", "temporal_end", "issued", "modified")
RECOVERABLE = (ValidationError, CityCommonsError)


def _signed_in(view: View) -> None:
    if not view.actor.authenticated:
        raise NotAuthenticated("Sign in first")


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _i18n(form: FormData, key: str) -> dict[str, str]:
    return {lang: _text(form, f"{key}_{lang}") for lang in LANGS}


def _recoverable(exc: Exception) -> bool:
    """Errors shown next to the fields (anything else, e.g. Forbidden, gets the error page)."""
    if isinstance(exc, ValidationError):
        return True
    return isinstance(exc, CityCommonsError) and (exc.status in (409, 422) or isinstance(exc, TooLarge))


# --- datasets ---------------------------------------------------------------------------------------------------


def dataset_values(form: FormData) -> dict[str, Any]:
    """The form as typed: what the page shows again when something is wrong."""
    values: dict[str, Any] = {key: _text(form, key) for key in (*TEXT_FIELDS, *DATE_FIELDS, "tags")}
    values["title"] = _i18n(form, "title")
    values["description"] = _i18n(form, "description")
    values["private"] = form.get("private") == "true"
    values["themes"] = [t for t in form.getlist("themes") if isinstance(t, str)]
    return values


def dataset_values_from(ds: DatasetRead) -> dict[str, Any]:
    values: dict[str, Any] = {key: getattr(ds, key) for key in TEXT_FIELDS if key != "organization"}
    values.update({key: (getattr(ds, key).isoformat() if getattr(ds, key) else "") for key in DATE_FIELDS})
    values.update(
        organization=ds.organization.name,
        title={lang: ds.title.get(lang, "") for lang in LANGS},
        description={lang: ds.description.get(lang, "") for lang in LANGS},
        private=ds.private,
        themes=list(ds.themes),
        tags=", ".join(ds.tags),
    )
    return values


def blank_dataset_values(organization: str) -> dict[str, Any]:
    values: dict[str, Any] = {key: "" for key in (*TEXT_FIELDS, *DATE_FIELDS, "tags")}
    values.update(
        organization=organization,
        access_rights="PUBLIC",
        license_id="cc-by-4.0",
        title=dict.fromkeys(LANGS, ""),
        description=dict.fromkeys(LANGS, ""),
        private=False,
        themes=[],
    )
    return values


def dataset_payload(values: dict[str, Any], *, with_name: bool) -> dict[str, Any]:
    """The form values as the schemas take them (empty dates are no date, tags are comma-separated)."""
    payload = {key: values[key] for key in TEXT_FIELDS if key != "name" or with_name or values[key]}
    payload.update({key: values[key] or None for key in DATE_FIELDS})
    payload.update(
        title=values["title"],
        description=values["description"],
        private=values["private"],
        themes=values["themes"],
        tags=[t.strip() for t in values["tags"].split(",") if t.strip()],
    )
    return payload


def _editable_organizations(view: View, session: SessionDep, *, keep: str = "") -> list[OrganizationRead]:
    _signed_in(view)
    orgs = [
        org
        for org in organizations.list_all(session=session, actor=view.actor)
        if view.actor.has_role(org.id, "editor") or org.name == keep
    ]
    if not orgs:
        raise Forbidden("You are not an editor of any organisation")
    return orgs


def _editable_dataset(view: View, session: SessionDep, name: str) -> DatasetRead:
    _signed_in(view)
    ds = service.get(session=session, actor=view.actor, id_or_name=name)
    if not permissions.can_edit_dataset(view.actor, organization_id=ds.organization.id):
        raise Forbidden("You may not edit this dataset")
    return ds


def _dataset_form(
    view: View,
    *,
    orgs: list[OrganizationRead],
    values: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
    ds: DatasetRead | None = None,
) -> Response:
    return view.render(
        "dataset_form.html",
        status_code=422 if errors else 200,
        organizations=orgs,
        values=values,
        errors=errors or {},
        ds=ds,
        themes=vocabularies.themes().terms,
        licenses=vocabularies.licenses().terms,
        frequencies=vocabularies.frequencies().terms,
        access_rights=vocabularies.access_rights().terms,
    )


@router.get("/dataset/new")
def new_dataset(view: ViewDep, session: SessionDep, organization: str = "") -> Response:
    orgs = _editable_organizations(view, session)
    chosen = organization if any(o.name == organization for o in orgs) else (orgs[0].name if len(orgs) == 1 else "")
    return _dataset_form(view, orgs=orgs, values=blank_dataset_values(chosen))


@router.post("/dataset/new")
def create_dataset(view: ViewDep, session: SessionDep, form: FormDep) -> Response:
    orgs = _editable_organizations(view, session)
    values = dataset_values(form)
    payload = dataset_payload(values, with_name=True)
    try:
        data = DatasetCreate.model_validate(payload)
        created = service.create(session=session, actor=view.actor, settings=view.settings, data=data)
    except RECOVERABLE as exc:
        if not _recoverable(exc):
            raise
        session.rollback()
        errors = field_errors(view, exc, schema=DatasetCreate, payload=payload)
        return _dataset_form(view, orgs=orgs, values=values, errors=errors)
    return view.redirect(f"/dataset/{created.name}", flash=N_("The dataset was created."))


@router.get("/dataset/{name}/edit")
def edit_dataset(view: ViewDep, session: SessionDep, name: str) -> Response:
    ds = _editable_dataset(view, session, name)
    orgs = _editable_organizations(view, session, keep=ds.organization.name)
    return _dataset_form(view, orgs=orgs, values=dataset_values_from(ds), ds=ds)


@router.post("/dataset/{name}/edit")
def update_dataset(view: ViewDep, session: SessionDep, name: str, form: FormDep) -> Response:
    ds = _editable_dataset(view, session, name)
    orgs = _editable_organizations(view, session, keep=ds.organization.name)
    values = dataset_values(form)
    payload = dataset_payload(values, with_name=False)
    try:
        data = DatasetPatch.model_validate(payload)
        saved = service.patch(session=session, actor=view.actor, id_or_name=ds.id, data=data)
    except RECOVERABLE as exc:
        if not _recoverable(exc):
            raise
        session.rollback()
        # whole-model checks (a title, coherent dates) are those of a full update
        errors = field_errors(view, exc, schema=DatasetUpdate, payload=payload)
        return _dataset_form(view, orgs=orgs, values=values, errors=errors, ds=ds)
    return view.redirect(f"/dataset/{saved.name}", flash=N_("Your changes were saved."))


@router.get("/dataset/{name}/delete")
def confirm_dataset_delete(view: ViewDep, session: SessionDep, name: str) -> Response:
    ds = _editable_dataset(view, session, name)
    return view.render("confirm_delete.html", ds=ds, dist=None)


@router.post("/dataset/{name}/delete")
def delete_dataset(view: ViewDep, session: SessionDep, name: str, form: FormDep) -> Response:
    ds = _editable_dataset(view, session, name)
    service.delete(session=session, actor=view.actor, id_or_name=ds.id)
    return view.redirect(f"/organization/{ds.organization.name}", flash=N_("The dataset was deleted."))


# --- distributions ----------------------------------------------------------------------------------------------


def distribution_values(form: FormData) -> dict[str, Any]:
    return {
        "title": _i18n(form, "title"),
        "description": _i18n(form, "description"),
        "url": _text(form, "url"),
        "format": _text(form, "format"),
    }


def distribution_values_from(dist: DistributionRead) -> dict[str, Any]:
    return {
        "title": {lang: dist.title.get(lang, "") for lang in LANGS},
        "description": {lang: dist.description.get(lang, "") for lang in LANGS},
        "url": "" if dist.url_type == "upload" else dist.url,
        "format": dist.format,
    }


@contextmanager
def spooled_upload(form: FormData) -> Iterator[Upload | None]:
    """The form's ``upload`` file copied to a temporary file for the service (None when no file was chosen)."""
    file = form.get("upload")
    if not isinstance(file, UploadFile) or not file.filename:
        yield None
        return
    with tempfile.NamedTemporaryFile(prefix="cc-upload-") as tmp:
        shutil.copyfileobj(file.file, tmp)
        tmp.flush()
        yield Upload(filename=file.filename, path=tmp.name, content_type=file.content_type or "")


def _dataset_distribution(
    view: View, session: SessionDep, name: str, resource_id: str
) -> tuple[DatasetRead, DistributionRead]:
    ds = _editable_dataset(view, session, name)
    dist = next((d for d in ds.distributions if d.id == resource_id and d.state == "active"), None)
    if dist is None:
        raise NotFound("Resource not found")
    return ds, dist


def _distribution_form(
    view: View,
    *,
    ds: DatasetRead,
    values: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
    dist: DistributionRead | None = None,
) -> Response:
    return view.render(
        "resource_form.html",
        status_code=422 if errors else 200,
        ds=ds,
        dist=dist,
        values=values,
        errors=errors or {},
        file_types=vocabularies.file_types().terms,
        max_upload=view.settings.max_upload_bytes,
    )


@router.get("/dataset/{name}/resource/new")
def new_distribution(view: ViewDep, session: SessionDep, name: str) -> Response:
    ds = _editable_dataset(view, session, name)
    values = {"title": dict.fromkeys(LANGS, ""), "description": dict.fromkeys(LANGS, ""), "url": "", "format": ""}
    return _distribution_form(view, ds=ds, values=values)


@router.post("/dataset/{name}/resource/new")
def create_distribution(view: ViewDep, session: SessionDep, name: str, form: FormDep) -> Response:
    ds = _editable_dataset(view, session, name)
    values = distribution_values(form)
    try:
        data = DistributionCreate.model_validate(values)
        with spooled_upload(form) as upload:
            created = distributions.create(
                session=session, actor=view.actor, settings=view.settings, dataset=ds.id, data=data, upload=upload
            )
    except RECOVERABLE as exc:
        if not _recoverable(exc):
            raise
        session.rollback()
        return _distribution_form(view, ds=ds, values=values, errors=field_errors(view, exc))
    if created.ingest is not None:  # a tabular file or link: follow its ingest into the datastore
        return view.redirect(ingest_url(ds.name, created.id), flash=N_("The resource was added."))
    return view.redirect(f"/dataset/{ds.name}#resources", flash=N_("The resource was added."))


@router.get("/dataset/{name}/resource/{resource_id}/edit")
def edit_distribution(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> Response:
    ds, dist = _dataset_distribution(view, session, name, resource_id)
    return _distribution_form(view, ds=ds, dist=dist, values=distribution_values_from(dist))


@router.post("/dataset/{name}/resource/{resource_id}/edit")
def update_distribution(view: ViewDep, session: SessionDep, name: str, resource_id: str, form: FormDep) -> Response:
    ds, dist = _dataset_distribution(view, session, name, resource_id)
    values = distribution_values(form)
    given = dict(values)
    if dist.url_type == "upload" and not given["url"]:
        given.pop("url")  # an uploaded file keeps its download URL unless a link replaces it
    try:
        data = DistributionPatch.model_validate(given)
        previous = latest_job(session, dist.id)
        with spooled_upload(form) as upload:
            changed = distributions.patch(
                session=session,
                actor=view.actor,
                settings=view.settings,
                distribution_id=dist.id,
                data=data,
                upload=upload,
            )
    except RECOVERABLE as exc:
        if not _recoverable(exc):
            raise
        session.rollback()
        return _distribution_form(view, ds=ds, dist=dist, values=values, errors=field_errors(view, exc))
    if changed.ingest is not None and (previous is None or changed.ingest.id != previous.id):  # a new ingest
        return view.redirect(ingest_url(ds.name, dist.id), flash=N_("Your changes were saved."))
    return view.redirect(f"/dataset/{ds.name}#resources", flash=N_("Your changes were saved."))


@router.get("/dataset/{name}/resource/{resource_id}/delete")
def confirm_distribution_delete(view: ViewDep, session: SessionDep, name: str, resource_id: str) -> Response:
    ds, dist = _dataset_distribution(view, session, name, resource_id)
    return view.render("confirm_delete.html", ds=ds, dist=dist)


@router.post("/dataset/{name}/resource/{resource_id}/delete")
def delete_distribution(view: ViewDep, session: SessionDep, name: str, resource_id: str, form: FormDep) -> Response:
    ds, dist = _dataset_distribution(view, session, name, resource_id)
    distributions.delete(session=session, actor=view.actor, distribution_id=dist.id)
    return view.redirect(f"/dataset/{ds.name}#resources", flash=N_("The resource was deleted."))
