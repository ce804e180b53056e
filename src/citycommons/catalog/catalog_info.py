"""The catalog itself (the single ``catalog_info`` row): get and update.

``get`` returns the *effective* description: every empty field falls back to something derived from Settings
(the site title and URL, the three portal languages), so exports such as DCAT-AP always have a title, a
description and a publisher.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.catalog import permissions, vocabularies
from citycommons.catalog.models import CatalogInfo
from citycommons.catalog.schemas import LANGS, Email, I18n, ShortText, Strict, Url
from citycommons.db.base import utcnow
from citycommons.errors import Forbidden, Invalid
from citycommons.settings import Settings

ROW_ID = 1

DEFAULT_DESCRIPTION = {
    "ca": "Catàleg de dades obertes de {site}.",
    "es": "Catálogo de datos abiertos de {site}.",
    "en": "Open data catalog of {site}.",
}


class CatalogInfoPatch(Strict):
    title: I18n | None = None
    description: I18n | None = None
    publisher_name: ShortText | None = None
    publisher_url: Url | None = None
    publisher_email: Email | None = None
    homepage: Url | None = None
    spatial_uri: Url | None = None
    languages: list[Annotated[str, StringConstraints(max_length=10)]] | None = Field(None, max_length=20)
    license_id: Annotated[str, StringConstraints(max_length=50)] | None = None
    issued: date | None = None


class CatalogInfoRead(BaseModel):
    title: dict[str, str]
    description: dict[str, str]
    publisher_name: str
    publisher_url: str
    publisher_email: str
    homepage: str
    spatial_uri: str
    languages: list[str]
    license_id: str
    issued: date | None
    modified: datetime | None


def _effective(row: CatalogInfo | None, settings: Settings) -> CatalogInfoRead:
    site = settings.site_title
    langs = [t.id for t in vocabularies.languages().terms if t.extra.get("iso639_1") in LANGS]
    return CatalogInfoRead(
        title=(row.title if row else None) or {settings.default_locale: site},
        description=(row.description if row else None)
        or {lang: text.format(site=site) for lang, text in DEFAULT_DESCRIPTION.items()},
        publisher_name=(row.publisher_name if row else "") or site,
        publisher_url=(row.publisher_url if row else "") or "",
        publisher_email=(row.publisher_email if row else "") or "",
        homepage=(row.homepage if row else "") or settings.site_url,
        spatial_uri=(row.spatial_uri if row else "") or "",
        languages=list(row.languages if row else []) or langs,
        license_id=(row.license_id if row else "") or "cc-by-4.0",
        issued=row.issued if row else None,
        modified=row.modified if row else None,
    )


def get(*, session: Session, settings: Settings) -> CatalogInfoRead:
    """The catalog's description, empty fields filled from Settings."""
    return _effective(session.get(CatalogInfo, ROW_ID), settings)


def update(*, session: Session, actor: Actor, settings: Settings, data: CatalogInfoPatch) -> CatalogInfoRead:
    """Changes the given fields (sysadmins only). An empty value clears a field back to its fallback."""
    if not permissions.can_manage_catalog(actor):
        raise Forbidden("Only a sysadmin can change the catalog's description")
    errors: dict[str, list[str]] = {}
    for lang in data.languages or []:
        if lang not in vocabularies.languages():
            errors.setdefault("languages", []).append(f"Unknown language '{lang}'")
    if data.license_id and data.license_id not in vocabularies.licenses():
        errors["license_id"] = [f"Unknown licence '{data.license_id}'"]
    if errors:
        raise Invalid("Unknown vocabulary values", fields=errors)
    row = session.get(CatalogInfo, ROW_ID)
    if row is None:
        row = CatalogInfo(id=ROW_ID, title={}, description={}, languages=[])
        session.add(row)
    for key, value in data.model_dump(exclude_unset=True).items():
        if key == "languages" and value is not None:
            value = [vocabularies.languages().get(v).id for v in value]  # type: ignore[union-attr]
        if value is not None or key == "issued":
            setattr(row, key, value)
    row.modified = utcnow()
    session.flush()
    return _effective(row, settings)
