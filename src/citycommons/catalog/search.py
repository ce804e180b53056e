"""Ranked, accent-insensitive full-text search with filters, facets, sort and paging.

One contract (SearchQuery -> SearchResult) over two engines: SQLite FTS5 (bm25, title weighted over keywords over
description) and PostgreSQL full text (ts_rank over the stored weighted tsvector ``search_document.search_vector``,
migration 0006, query passed through unaccent).

The total count and the facet counts go through ``search_cache`` (keyed by a catalog stamp read per request); the page
of results is always read fresh.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    literal_column,
    not_,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.catalog import permissions, search_cache, vocabularies
from citycommons.catalog.models import (
    Dataset,
    DatasetTheme,
    Distribution,
    Group,
    Organization,
    Tag,
    dataset_group,
    dataset_tag,
)
from citycommons.catalog.reads import dataset_read
from citycommons.catalog.schemas import (
    FacetItem,
    FieldFilter,
    RangeFilter,
    SearchQuery,
    SearchResult,
    pick,
)
from citycommons.catalog.search_index import fold

TOKEN = re.compile(r"\w+", re.UNICODE)
# generated, stored and GIN-indexed by migration 0006 (not in the model: SQLite has no such column)
PG_VECTOR = "sd.search_vector"


def terms(q: str) -> list[str]:
    return TOKEN.findall(fold(q))[:32]


def _match_subquery(session: Session, words: list[str], *, scored: bool = True) -> Any:
    """(dataset_id, score) of the datasets matching every word (prefix match), higher score = better.

    ``scored=False`` leaves the score out: counts and facets only need the ids."""
    if session.get_bind().dialect.name == "postgresql":
        tsquery = " & ".join(f"{w}:*" for w in words)
        columns: list[Any] = [literal_column("sd.dataset_id").label("dataset_id")]
        if scored:
            columns.append(literal_column(f"ts_rank({PG_VECTOR}, q.query)").label("score"))
        return (
            select(*columns)
            .select_from(text("search_document sd, to_tsquery('simple'::regconfig, unaccent(:tsq)) AS q(query)"))
            .where(text(f"{PG_VECTOR} @@ q.query"))
            .params(tsq=tsquery)
            .subquery("m")
        )
    match = " ".join(f'"{w}"*' for w in words)
    fts_columns: list[Any] = [literal_column("dataset_fts.dataset_id").label("dataset_id")]
    if scored:
        fts_columns.append(literal_column("-bm25(dataset_fts, 0.0, 10.0, 5.0, 1.0)").label("score"))
    return (
        select(*fts_columns)
        .select_from(text("dataset_fts"))
        .where(text("dataset_fts MATCH :fts_match"))
        .params(fts_match=match)
        .subquery("m")
    )


def _filter_condition(f: FieldFilter) -> ColumnElement[bool]:
    values = [v for v in f.values if v != ""]
    cond: ColumnElement[bool]
    if f.field == "organization":
        cond = Dataset.organization_id.in_(
            select(Organization.id).where(or_(Organization.name.in_(values), Organization.id.in_(values)))
        )
    elif f.field == "groups":
        cond = Dataset.id.in_(
            select(dataset_group.c.dataset_id)
            .join(Group, Group.id == dataset_group.c.group_id)
            .where(or_(Group.name.in_(values), Group.id.in_(values)))
        )
    elif f.field == "tags":
        cond = Dataset.id.in_(
            select(dataset_tag.c.dataset_id).join(Tag, Tag.id == dataset_tag.c.tag_id).where(Tag.name.in_(values))
        )
    elif f.field == "res_format":
        # stored formats are vocabulary ids (upper case, set by check_distribution_fields): compare the bare
        # column so that no function runs on every distribution row
        upper = [v.upper() for v in values]
        cond = Dataset.id.in_(
            select(Distribution.dataset_id).where(Distribution.state == "active", Distribution.format.in_(upper))
        )
    elif f.field == "theme":
        cond = Dataset.id.in_(
            select(DatasetTheme.dataset_id).where(DatasetTheme.theme.in_([v.upper() for v in values]))
        )
    elif f.field == "private":
        cond = Dataset.private.in_([v.lower() == "true" for v in values])
    else:
        column = {
            "license_id": Dataset.license_id,
            "access_rights": Dataset.access_rights,
            "name": Dataset.name,
            "id": Dataset.id,
            "frequency": Dataset.frequency,
        }[f.field]
        cond = column.in_(values)
    if not values:
        cond = false()
    return not_(cond) if f.negate else cond


def _range_condition(r: RangeFilter) -> ColumnElement[bool]:
    column: Any = getattr(Dataset, r.field)
    parts = []
    if r.start is not None:
        parts.append(column >= (r.start if r.field.startswith("metadata") else r.start.date()))
    if r.end is not None:
        parts.append(column <= (r.end if r.field.startswith("metadata") else r.end.date()))
    return and_(*parts) if parts else and_(True)


def _title_key(lang: str) -> Any:
    order = [lang] + [x for x in ("ca", "es", "en") if x != lang]
    return func.lower(func.coalesce(*[Dataset.title[x].as_string() for x in order], Dataset.name))


def _ordered(stmt: Select[Any], query: SearchQuery, score: Any) -> Select[Any]:
    keys = list(query.sort)
    if not keys:
        keys_sql: list[Any] = [score.desc()] if score is not None else []
        keys_sql.append(Dataset.metadata_modified.desc())
        return stmt.order_by(*keys_sql, Dataset.id)
    order = []
    for key in keys:
        if key.field == "score":
            if score is None:
                continue
            column = score
        elif key.field == "title":
            column = _title_key(query.lang)
        else:
            column = getattr(Dataset, key.field)
        order.append(column.desc() if key.descending else column.asc())
    return stmt.order_by(*order, Dataset.id)


def search(*, session: Session, actor: Actor, query: SearchQuery) -> SearchResult:
    conds: list[ColumnElement[bool]] = [
        Dataset.state == "active",
        permissions.visible_datasets(actor, include_private=query.include_private),
    ]
    conds += [_filter_condition(f) for f in query.filters]
    conds += [_range_condition(r) for r in query.ranges]
    words = terms(query.q)

    def restrict(stmt: Any) -> Any:
        """``stmt`` over Dataset, limited to the matching datasets (unranked: for counts and facets)."""
        stmt = stmt.where(*conds)
        if words:
            found = _match_subquery(session, words, scored=False)
            stmt = stmt.join(found, found.c.dataset_id == Dataset.id)
        return stmt

    base = restrict(select(Dataset.id))

    def count() -> int:
        return session.scalar(select(func.count()).select_from(base.subquery())) or 0

    # the cache pays (a stamp query per request) only when facets are asked for: they are the expensive part
    key = search_cache.search_key(session, actor, query, words) if query.facet_fields else None
    total = count() if key is None else search_cache.CACHE.get_or_compute((key, "count"), count)

    results = []
    if query.rows and total:
        page = select(Dataset.id).where(*conds)
        score = None
        if words:
            match = _match_subquery(session, words)
            page = page.join(match, match.c.dataset_id == Dataset.id)
            score = match.c.score
        page = _ordered(page, query, score).limit(query.rows).offset(query.start)
        ids = list(session.scalars(page))
        rows = {ds.id: ds for ds in session.scalars(select(Dataset).where(Dataset.id.in_(ids)))}
        results = [dataset_read(rows[i]) for i in ids if i in rows]

    facets = {}
    if query.facet_fields and total:
        matching = base.subquery()
        for field in dict.fromkeys(query.facet_fields):
            counts = search_cache.CACHE.get_or_compute(
                (key, "facet", field), partial(_facet_counts, session, field, matching, restrict)
            )
            facets[field] = _facet_items(session, field, counts, query)
    elif query.facet_fields:
        facets = {field: [] for field in query.facet_fields}
    return SearchResult(count=total, results=results, facets=facets)


def _facet_counts(
    session: Session, field: str, matching: Any, restrict: Callable[[Any], Any]
) -> tuple[tuple[str, int], ...]:
    """(value, count) of ``field`` over the matching datasets, most frequent first. Values stored on the dataset row
    group the matching rows directly (``restrict``); values in other tables take the matching ids as a subquery."""
    ids = select(matching.c.id)
    n = func.count().label("n")
    stmt: Any
    if field == "organization":
        stmt = restrict(
            select(Organization.name, n)
            .select_from(Dataset)
            .join(Organization, Dataset.organization_id == Organization.id)
        ).group_by(Organization.name)
    elif field == "groups":
        stmt = (
            select(Group.name, n)
            .join(dataset_group, dataset_group.c.group_id == Group.id)
            .where(dataset_group.c.dataset_id.in_(ids))
            .group_by(Group.name)
        )
    elif field == "tags":
        stmt = (
            select(Tag.name, n)
            .join(dataset_tag, dataset_tag.c.tag_id == Tag.id)
            .where(dataset_tag.c.dataset_id.in_(ids))
            .group_by(Tag.name)
        )
    elif field == "res_format":
        per_dataset = (
            select(Distribution.dataset_id, Distribution.format)
            .where(Distribution.state == "active", Distribution.format != "", Distribution.dataset_id.in_(ids))
            .distinct()
            .subquery()
        )
        stmt = select(per_dataset.c.format, n).group_by(per_dataset.c.format)
    elif field == "theme":
        stmt = select(DatasetTheme.theme, n).where(DatasetTheme.dataset_id.in_(ids)).group_by(DatasetTheme.theme)
    elif field == "license_id":
        stmt = restrict(select(Dataset.license_id, n)).group_by(Dataset.license_id)
    elif field == "access_rights":
        stmt = restrict(select(Dataset.access_rights, n)).group_by(Dataset.access_rights)
    else:
        return ()
    rows = ((name, count) for name, count in session.execute(stmt).all() if name)
    return tuple(sorted(rows, key=lambda r: (-r[1], r[0])))


def _facet_items(
    session: Session, field: str, counts: tuple[tuple[str, int], ...], query: SearchQuery
) -> list[FacetItem]:
    """``counts`` cut to the facet limit, with display names in ``query.lang`` (read fresh: titles are not in the
    cache's stamp)."""
    rows = list(counts)
    if query.facet_limit >= 0:
        rows = rows[: query.facet_limit]
    if not rows:
        return []
    labels: dict[str, str] = {}
    if field == "organization":
        labels = {o.name: pick(o.title, query.lang, o.name) for o in session.scalars(select(Organization))}
    elif field == "groups":
        labels = {g.name: pick(g.title, query.lang, g.name) for g in session.scalars(select(Group))}
    elif field == "theme":
        labels = {t.id: t.text(query.lang) for t in vocabularies.themes().terms}
    elif field == "license_id":
        labels = {t.id: t.text(query.lang) for t in vocabularies.licenses().terms}
    elif field == "access_rights":
        labels = {t.id: t.text(query.lang) for t in vocabularies.access_rights().terms}
    return [FacetItem(name=name, count=count, display_name=labels.get(name, name)) for name, count in rows]
