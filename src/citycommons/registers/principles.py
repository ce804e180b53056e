"""The five principles of the Cities Coalition for Digital Rights, shipped as data (``principles.json``), and what
implements each of them.

``implementations`` asks every provider in ``SECTION_PROVIDERS`` for a section of the principle page. The register
provides the algorithm section; another domain (initiatives...) adds its own with ``register_section``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.errors import NotFound
from citycommons.registers import service
from citycommons.registers.schemas import AlgorithmQuery

DATA = Path(__file__).with_name("principles.json")


class Principle(BaseModel):
    number: int
    slug: str
    title: dict[str, str]
    description: dict[str, str]


@dataclass(frozen=True)
class SectionItem:
    title: str
    url: str
    summary: str = ""


@dataclass(frozen=True)
class Section:
    """One block of a principle page: ``key`` is stable (API), ``title`` an untranslated msgid."""

    key: str
    title: str
    items: list[SectionItem] = field(default_factory=list)


SectionProvider = Callable[..., Section]  # (*, session, actor, number) -> Section


@cache
def principles() -> tuple[Principle, ...]:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    return tuple(Principle.model_validate(p) for p in raw["principles"])


def get(number: int) -> Principle:
    for principle in principles():
        if principle.number == number:
            return principle
    raise NotFound("Principle not found")


def algorithm_section(*, session: Session, actor: Actor, number: int) -> Section:
    page = service.search(session=session, actor=actor, query=AlgorithmQuery(principle=[number], limit=1000))
    items = [SectionItem(title=r.name, url=f"/algorithms/{r.slug}", summary=r.description_short) for r in page.results]
    return Section(key="algorithms", title="Algorithms", items=items)


SECTION_PROVIDERS: list[SectionProvider] = [algorithm_section]


def register_section(provider: SectionProvider) -> None:
    """Adds a section provider (idempotent)."""
    if provider not in SECTION_PROVIDERS:
        SECTION_PROVIDERS.append(provider)


def implementations(*, session: Session, actor: Actor, number: int) -> list[Section]:
    """What implements principle ``number``, one section per provider, as ``actor`` may see it."""
    get(number)
    return [provider(session=session, actor=actor, number=number) for provider in SECTION_PROVIDERS]
