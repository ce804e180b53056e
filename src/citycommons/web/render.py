"""Server-rendered pages: one autoescaping Jinja2 environment per language, locale negotiation, template helpers.

Translations are the ``translations/<lang>/LC_MESSAGES/*.po`` catalogs, compiled in memory with Babel when
first used (nothing binary is committed). Each language gets its own environment with the catalog installed, so a
request never changes shared state. Routes build a :class:`View` (``ViewDep``) and call ``view.render(...)``.
"""

from __future__ import annotations

import gettext
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from babel.dates import format_date, format_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from citycommons import __version__
from citycommons.actor import ANONYMOUS, Actor
from citycommons.catalog import vocabularies
from citycommons.catalog.schemas import LANGS, pick
from citycommons.settings import Settings
from citycommons.web import csrf
from citycommons.web.deps import ActorDep, SettingsDep

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
TRANSLATIONS_DIR = WEB_DIR / "translations"
LANG_COOKIE = "citycommons_lang"
LANG_NAMES = {"ca": "Català", "es": "Español", "en": "English"}
FLASH_KEY = "flash"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: https:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown (``view.gettext``, templates)."""
    return message


# --- languages -------------------------------------------------------------------------------------------------


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled message catalog of ``lang`` (English is the source language: msgids are shown as they are)."""
    files = sorted((TRANSLATIONS_DIR / lang / "LC_MESSAGES").glob("*.po"))
    if lang not in LANGS or not files:
        return gettext.NullTranslations()
    catalog = Catalog(locale=lang)
    for po in files:  # messages.po plus one file per feature area (datastore.po, transparency.po...)
        with po.open("rb") as fh:
            for message in read_po(fh, locale=lang):
                if message.id:
                    catalog[message.id] = message
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def accepted_languages(header: str) -> list[str]:
    """The primary language tags of an Accept-Language header, best first."""
    weighted: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q=([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, i, tag.split("-")[0].strip().lower()))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate_lang(request: Request, settings: Settings) -> str:
    """``?lang=``, then the language cookie, then Accept-Language, then ``Settings.default_locale``."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate in LANGS:
            return str(candidate)
    for tag in accepted_languages(request.headers.get("accept-language", "")):
        if tag in LANGS:
            return tag
    return settings.default_locale


# --- helpers exposed to templates ---------------------------------------------------------------------------


def human_size(size: int | None, lang: str) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):  # binary multiples, as file managers show them
        if value < 1024 or unit == "GB":
            digits = "#,##0" if unit == "B" else "#,##0.#"
            return f"{format_decimal(value, format=digits, locale=lang)}\u00a0{unit}"
        value /= 1024
    return str(size)  # pragma: no cover - the loop always returns


def paragraphs(text: str) -> Markup:
    """Plain text to escaped ``<p>`` paragraphs (blank lines separate them, single newlines become ``<br>``)."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    return Markup("").join(
        Markup("<p>{}</p>").format(Markup("<br>").join(escape(line) for line in p.split("\n"))) for p in parts
    )


def truncate_words(text: str, length: int = 220) -> str:
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    return text[:length].rsplit(" ", 1)[0].rstrip(".,;:") + "…"


@cache
def static_version() -> str:
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def static_url(path: str) -> str:
    return f"/static/{path}?v={static_version()}"


def _term_label(vocabulary: str, lang: str, term_id: str) -> str:
    term = vocabularies.vocabulary(vocabulary).get(term_id) if term_id else None
    return term.text(lang) if term else term_id


def _license_url(license_id: str) -> str:
    term = vocabularies.licenses().get(license_id) if license_id else None
    return str(term.extra.get("url") or "") if term else ""


@cache
def environment(lang: str) -> Environment:
    """The Jinja2 environment of one language: autoescape on for every template, gettext installed."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]

    def pick_lang(text: dict[str, str]) -> Markup:
        """`` lang="xx"`` when the text shown is not in the page's language (screen readers switch voice)."""
        shown = next((x for x in (lang, *LANGS) if text.get(x)), lang)
        return Markup(' lang="{}"').format(shown) if shown != lang else Markup("")

    def date_filter(value: date | datetime | None, fmt: str = "long") -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.astimezone(UTC).date()
        return format_date(value, format=fmt, locale=lang)

    def datetime_filter(value: datetime | None) -> str:
        if value is None:
            return ""
        value = value.astimezone(UTC)
        day = format_date(value.date(), format="medium", locale=lang)
        return f"{day}, {format_time(value, format='short', tzinfo=UTC, locale=lang)} UTC"

    def choices(items: Any) -> list[tuple[str, str]]:
        """(value, label) pairs for a <select>: vocabulary terms or organisations."""
        return [
            (item.id, item.text(lang))
            if isinstance(item, vocabularies.Term)
            else (item.name, pick(item.title, lang, item.name))
            for item in items
        ]

    env.filters.update(
        choices=choices,
        pick=lambda text, fallback="": pick(text or {}, lang, fallback),
        lang_attr=pick_lang,
        date=date_filter,
        datetime=datetime_filter,
        filesize=lambda size: human_size(size, lang),
        paragraphs=paragraphs,
        excerpt=truncate_words,
        number=lambda n: format_decimal(n, locale=lang),
    )
    env.globals.update(
        lang=lang,
        LANGS=LANGS,
        LANG_NAMES=LANG_NAMES,
        static_url=static_url,
        term=lambda vocabulary, term_id: _term_label(vocabulary, lang, term_id),
        license_url=_license_url,
        vocab=vocabularies.vocabulary,
    )
    return env


# --- the view: who, in which language, and how to answer ----------------------------------------------------


@dataclass(frozen=True)
class View:
    """What every page needs to answer: the request, settings, the Actor and the language of the answer."""

    request: Request
    settings: Settings
    actor: Actor
    lang: str

    def gettext(self, message: str, **variables: Any) -> str:
        text = translations(self.lang).gettext(message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, n: int, **variables: Any) -> str:
        return translations(self.lang).ngettext(singular, plural, n) % {"num": n, **variables}

    def flash(self, message: str) -> None:
        """Queues a message (an untranslated msgid, see ``N_``) for the next page the visitor sees."""
        self.request.session.setdefault(FLASH_KEY, [])
        self.request.session[FLASH_KEY] = [*self.request.session[FLASH_KEY], message][-5:]

    def take_flashes(self) -> list[str]:
        if "session" not in self.request.scope:
            return []
        return [self.gettext(m) for m in self.request.session.pop(FLASH_KEY, [])]

    def url_with(self, **changes: Any) -> str:
        """The current path with some query parameters replaced (None removes one; lists repeat a key).

        ``lang`` is dropped unless given: once chosen, the language lives in a cookie, not in every link."""
        params: dict[str, list[str]] = {}
        for key, value in self.request.query_params.multi_items():
            if key != "lang":
                params.setdefault(key, []).append(value)
        for key, value in changes.items():
            if value is None or value == [] or value == "":
                params.pop(key, None)
            else:
                params[key] = [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]
        query = urlencode([(k, v) for k, values in params.items() for v in values])
        return self.request.url.path + ("?" + query if query else "")

    def render(
        self, template: str, *, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any
    ) -> HTMLResponse:
        html = (
            environment(self.lang)
            .get_template(template)
            .render(
                view=self,
                actor=self.actor,
                settings=self.settings,
                request=self.request,
                csrf_token=lambda: csrf.token(self.request),
                flashes=self.take_flashes(),
                **context,
            )
        )
        response = HTMLResponse(html, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})})
        response.headers["Content-Language"] = self.lang
        response.headers.setdefault("Vary", "Accept-Language, Cookie")
        self.remember_lang(response)
        return response

    def redirect(self, url: str, *, flash: str | None = None) -> RedirectResponse:
        if flash:
            self.flash(flash)
        response = RedirectResponse(url, status_code=303)
        self.remember_lang(response)
        return response

    def remember_lang(self, response: HTMLResponse | RedirectResponse) -> None:
        chosen = self.request.query_params.get("lang")
        if chosen in LANGS and self.request.cookies.get(LANG_COOKIE) != chosen:
            response.set_cookie(
                LANG_COOKIE,
                str(chosen),
                max_age=365 * 24 * 3600,
                samesite="lax",
                httponly=True,
                secure=self.settings.environment == "production",
            )


def view_for(request: Request, settings: Settings, actor: Actor | None = None) -> View:
    """A View outside dependency injection (the error handler): the Actor is the one the request resolved."""
    known = actor or getattr(request.state, "actor", None)
    return View(
        request=request,
        settings=settings,
        actor=known if isinstance(known, Actor) else ANONYMOUS,
        lang=negotiate_lang(request, settings),
    )


def get_view(request: Request, settings: SettingsDep, actor: ActorDep) -> View:
    return View(request=request, settings=settings, actor=actor, lang=negotiate_lang(request, settings))


ViewDep = Annotated[View, Depends(get_view)]
