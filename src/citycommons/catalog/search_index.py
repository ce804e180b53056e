"""Keeps each dataset's accent-folded search document current (FTS5 on SQLite, GIN tsvector on PostgreSQL)."""

from __future__ import annotations

import unicodedata

from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from citycommons.catalog.models import Dataset, SearchDocument


def fold(value: str) -> str:
    """Lower-case, accent-free text: "Plaça" -> "placa", "l·l" -> "l l"."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("·", " ").casefold()


def document_for(dataset: Dataset) -> tuple[str, str, str]:
    title = " ".join(v for v in dataset.title.values() if v)
    keywords = " ".join([t.name for t in dataset.tags] + [dataset.name.replace("-", " ")])
    body = " ".join(v for v in dataset.description.values() if v)
    return fold(title), fold(keywords), fold(body)


def index_dataset(session: Session, dataset: Dataset) -> None:
    title, keywords, body = document_for(dataset)
    doc = session.get(SearchDocument, dataset.id)
    if doc is None:
        session.add(SearchDocument(dataset_id=dataset.id, title=title, keywords=keywords, body=body))
    else:
        doc.title, doc.keywords, doc.body = title, keywords, body
    session.flush()
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DELETE FROM dataset_fts WHERE dataset_id = :id"), {"id": dataset.id})
        session.execute(
            text("INSERT INTO dataset_fts (dataset_id, title, keywords, body) VALUES (:id, :t, :k, :b)"),
            {"id": dataset.id, "t": title, "k": keywords, "b": body},
        )


def unindex_dataset(session: Session, dataset_id: str) -> None:
    session.execute(delete(SearchDocument).where(SearchDocument.dataset_id == dataset_id))
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DELETE FROM dataset_fts WHERE dataset_id = :id"), {"id": dataset_id})
