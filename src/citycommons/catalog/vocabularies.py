"""Controlled vocabularies shipped as data in ``catalog/vocab/*.json`` (EU authority tables and licences)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

VOCAB_DIR = Path(__file__).parent / "vocab"
NAMES = ("themes", "file_types", "frequencies", "access_rights", "licenses", "languages")


@dataclass(frozen=True)
class Term:
    id: str
    uri: str
    label: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str) -> str:
        return self.label.get(lang) or self.label.get("en") or self.id


@dataclass(frozen=True)
class Vocabulary:
    id: str
    scheme: str
    title: dict[str, str]
    terms: tuple[Term, ...]
    index: dict[str, Term] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, Term] = {}
        for term in self.terms:
            index[term.id] = term
            index[term.id.upper()] = term
        object.__setattr__(self, "index", index)

    def get(self, term_id: str) -> Term | None:
        return self.index.get(term_id.upper()) or self.index.get(term_id)

    def __contains__(self, term_id: str) -> bool:
        return self.get(term_id) is not None

    def ids(self) -> list[str]:
        return [t.id for t in self.terms]


@cache
def vocabulary(name: str) -> Vocabulary:
    if name not in NAMES:
        raise KeyError(name)
    raw = json.loads((VOCAB_DIR / f"{name}.json").read_text(encoding="utf-8"))
    terms = tuple(
        Term(
            id=t["id"],
            uri=t.get("uri") or "",
            label=t.get("label", {}),
            extra={k: v for k, v in t.items() if k not in {"id", "uri", "label"}},
        )
        for t in raw["terms"]
    )
    return Vocabulary(id=raw["id"], scheme=raw.get("scheme", ""), title=raw.get("title", {}), terms=terms)


def themes() -> Vocabulary:
    return vocabulary("themes")


def file_types() -> Vocabulary:
    return vocabulary("file_types")


def frequencies() -> Vocabulary:
    return vocabulary("frequencies")


def access_rights() -> Vocabulary:
    return vocabulary("access_rights")


def licenses() -> Vocabulary:
    return vocabulary("licenses")


def languages() -> Vocabulary:
    return vocabulary("languages")


def file_type_for(*, format: str = "", media_type: str = "", filename: str = "") -> Term | None:
    """Finds the file type of a distribution from its declared format, media type or file extension."""
    vocab = file_types()
    if format:
        term = vocab.get(format.strip().upper().replace("-", "_").replace(" ", "_"))
        if term:
            return term
        for t in vocab.terms:
            if format.strip().lower() in [e.lower() for e in t.extra.get("extensions", [])]:
                return t
    if media_type:
        base = media_type.split(";")[0].strip().lower()
        for t in vocab.terms:
            if str(t.extra.get("media_type", "")).lower() == base:
                return t
    if filename and "." in filename:
        ext = filename.rsplit(".", 1)[1].lower()
        for t in vocab.terms:
            if ext in [e.lower() for e in t.extra.get("extensions", [])]:
                return t
    return None
