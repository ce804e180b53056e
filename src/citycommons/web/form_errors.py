"""Field-level error messages for the HTML forms, in the visitor's language.

Validation happens in the schemas and services (pydantic ``ValidationError``, ``Invalid``/``Conflict`` with
``fields``); this module only maps their field paths to form fields (``title.ca`` -> ``title``) and their English
messages to translated ones. A message it does not know is shown as it is.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ValidationError

from citycommons.errors import CityCommonsError
from citycommons.web.render import N_, View

REQUIRED = N_("This field is required.")
BY_TYPE = {
    "missing": REQUIRED,
    "string_too_short": REQUIRED,
    "string_too_long": N_("This is too long (at most %(max_length)s characters)."),
    "too_long": N_("There are too many values (at most %(max_length)s)."),
    "literal_error": N_("Choose one of the options."),
    "date_from_datetime_parsing": N_("Enter a valid date, for example 2024-12-31."),
    "date_parsing": N_("Enter a valid date, for example 2024-12-31."),
    "date_type": N_("Enter a valid date, for example 2024-12-31."),
    "greater_than_equal": N_("Enter a number that is not negative."),
}
NAME_HINT = N_(
    "Use 2 to 100 characters: lower-case letters, digits, hyphens or underscores, starting with a letter or digit."
)
# (start of the English message, msgid shown instead)
BY_MESSAGE: tuple[tuple[str, str], ...] = (
    ("must be an http(s) URL", N_("Enter a web address that starts with http:// or https://.")),
    ("must be an e-mail address", N_("Enter an e-mail address, such as name@example.org.")),
    ("give a title in at least one of", N_("Give a title in at least one language.")),
    ("must not be before temporal_start", N_("The end date must not be before the start date.")),
    ("Unknown licence", N_("Choose a licence from the list.")),
    ("Unknown EU data theme", N_("Choose themes from the list.")),
    ("Unknown frequency", N_("Choose a frequency from the list.")),
    ("Unknown organisation", N_("Choose an organisation from the list.")),
    ("Unknown language", N_("Choose languages from the list.")),
    ("Unknown file format", N_("Choose a format from the list, or leave it empty to detect it.")),
    ("Unknown group", N_("Choose groups from the list.")),
    ("That URL is already in use", N_("That URL is already in use by another dataset.")),
    ("Give a URL or upload a file", N_("Give a URL or upload a file.")),
    ("The file is empty", N_("The file is empty.")),
    ("File too large", N_("The file is too large.")),
    ("Give the token a name", N_("Give the token a name of at most 200 characters.")),
)


def form_field(path: str) -> str:
    """``title.ca`` -> ``title``; ``distributions.0.format`` -> ``format``."""
    parts = [p for p in path.split(".") if p and not p.isdigit() and p != "distributions"]
    if parts and parts[0] in ("title", "description"):
        return parts[0]
    return parts[0] if parts else "form"


def translate(view: View, message: str, error_type: str = "", ctx: dict[str, Any] | None = None) -> str:
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    for start, msgid in BY_MESSAGE:
        if start in message:
            return view.gettext(msgid)
    if error_type == "string_pattern_mismatch":
        return view.gettext(NAME_HINT)
    if error_type in BY_TYPE:
        return view.gettext(BY_TYPE[error_type], **{k: v for k, v in (ctx or {}).items() if k == "max_length"})
    return message


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    if message not in errors.setdefault(field, []):
        errors[field].append(message)


def field_errors(
    view: View,
    exc: ValidationError | CityCommonsError,
    *,
    schema: type[BaseModel] | None = None,
    payload: dict[str, Any] | None = None,
) -> dict[str, list[str]]:
    """Translated messages per form field.

    Given the ``schema`` and ``payload`` that failed, the valid fields are validated once more on their own (the
    invalid optional ones left at their defaults): pydantic runs whole-model checks (a title in some language,
    coherent dates) only once every field is valid, and a form should name as many problems as it can at once.
    """
    errors = _field_errors(view, exc)
    if schema is not None and payload is not None and isinstance(exc, ValidationError):
        rest = {key: value for key, value in payload.items() if form_field(key) not in errors}
        if any(info.is_required() and key not in rest for key, info in schema.model_fields.items()):
            return errors  # whole-model checks cannot run without the required fields
        try:
            schema.model_validate(rest)
        except ValidationError as again:
            for field, messages in _field_errors(view, again).items():
                if field not in errors and field in payload:
                    errors[field] = messages
    return errors


def _field_errors(view: View, exc: ValidationError | CityCommonsError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if isinstance(exc, ValidationError):
        for err in exc.errors():
            path = ".".join(str(p) for p in err.get("loc", ()))
            message = str(err.get("msg", ""))
            bare = re.sub(r"^Value error, ", "", message)
            if not path and re.match(r"^\w+: ", bare):  # model-level check naming its field
                path = bare.split(": ", 1)[0]
            _add(errors, form_field(path), translate(view, message, str(err.get("type", "")), err.get("ctx")))
        return errors
    for path, messages in (exc.fields or {"form": [exc.message]}).items():
        for message in messages:
            _add(errors, form_field(path), translate(view, message))
    return errors
