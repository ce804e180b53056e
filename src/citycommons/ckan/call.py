"""What every CKAN action receives (``Call``: who asks, the session, the settings) and small shared helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.ckan.dicts import Dictizer
from citycommons.ckan.errors import RESOURCE_FIELD_NAMES, CkanInvalid
from citycommons.errors import Invalid
from citycommons.settings import Settings
from citycommons.web.errors import validation_fields

DataDict = dict[str, Any]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Call:
    session: Session
    actor: Actor
    settings: Settings
    dicts: Dictizer

    @property
    def lang(self) -> str:
        return self.settings.default_locale


Action = Callable[[Call, DataDict], Any]


def require(data: DataDict, *keys: str) -> str:
    """The first of ``keys`` present as a non-empty string, else CKAN's ``{"<key>": ["Missing value"]}``."""
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    raise CkanInvalid("Missing value", fields={keys[0]: ["Missing value"]})


def validate(model: type[M], fields: DataDict) -> M:
    """``model`` built from ``fields``; pydantic errors become a validation error naming each field."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise Invalid("Invalid input", fields=validation_fields(list(exc.errors())))


@contextmanager
def resource_field_names() -> Iterator[None]:
    """Reports the errors of a distribution service under CKAN's resource field names (``title`` -> ``name``)."""
    try:
        yield
    except CkanInvalid:
        raise
    except Invalid as exc:
        fields: dict[str, list[str]] = {}
        for key, messages in exc.fields.items():
            head = key.split(".")[0]
            fields.setdefault(RESOURCE_FIELD_NAMES.get(head, head), []).extend(messages)
        raise CkanInvalid(exc.message, fields=fields)
