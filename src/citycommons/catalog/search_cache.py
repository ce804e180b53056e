"""In-process cache of a search's total count and raw facet counts (the page of results is never cached).

A key is made of: the database (URL), the search without paging, sort, facet limit or language (labels are applied
fresh by the caller), what the actor may see (``visibility_key``: the same three cases as
``permissions.visible_datasets``), and a catalog stamp read at every request (``catalog_stamp``): the number of
datasets and their newest ``metadata_modified`` (every write path of the catalog services, deletes and distribution
changes included, stamps it), plus the (id, name, state) of every organisation and group (renames and state changes
there do not touch datasets but change facet keys and filters). A write makes a new stamp, so old entries are never
served again; the LRU bound drops them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.catalog.models import Dataset, Group, Organization
from citycommons.catalog.schemas import SearchQuery

T = TypeVar("T")
MAX_ENTRIES = 512


class LRUCache:
    """A thread-safe, bounded mapping; the least recently used entry goes first."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            self.misses += 1
        value = compute()  # outside the lock: two threads may compute the same entry, both get the right answer
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)


CACHE = LRUCache()


def visibility_key(actor: Actor, *, include_private: bool) -> Hashable:
    """What ``permissions.visible_datasets(actor, include_private=...)`` selects, as a value."""
    if actor.sysadmin and include_private:
        return "all"
    if not include_private or not actor.member_of:
        return "public"
    return actor.member_of


def query_key(query: SearchQuery, words: list[str]) -> Hashable:
    """The parts of ``query`` that decide which datasets match (not paging, sort, facet limit or language)."""
    return (
        tuple(words),
        tuple((f.field, tuple(f.values), f.negate) for f in query.filters),
        tuple((r.field, r.start, r.end) for r in query.ranges),
        query.include_private,
        query.include_drafts,
    )


def catalog_stamp(session: Session) -> Hashable:
    """One round trip: dataset count and newest ``metadata_modified``; every organisation's and group's name and
    state (in any order: a different order only costs a miss, different contents always give a different string)."""

    def names(model: type[Organization] | type[Group]) -> Any:
        return select(func.aggregate_strings(model.name + ":" + model.state, ",")).scalar_subquery()

    row = session.execute(
        select(
            select(func.count()).select_from(Dataset).scalar_subquery(),
            select(func.max(Dataset.metadata_modified)).scalar_subquery(),
            names(Organization),
            names(Group),
        )
    ).one()
    return tuple(row)


def search_key(session: Session, actor: Actor, query: SearchQuery, words: list[str]) -> Hashable:
    return (
        str(session.get_bind().engine.url),
        visibility_key(actor, include_private=query.include_private),
        query_key(query, words),
        catalog_stamp(session),
    )
