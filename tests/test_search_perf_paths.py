"""The fast paths of package search: the stored tsvector (PostgreSQL) and the cache of counts and facets.

The cache must never serve a stale count or facet after a write, nor one actor's view of private datasets to another.
"""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from citycommons.actor import ANONYMOUS, SYSTEM, Actor
from citycommons.catalog import organizations, search, search_cache
from citycommons.catalog import service as datasets
from citycommons.catalog.schemas import DatasetPatch, FieldFilter, OrganizationPatch, SearchQuery
from citycommons.db.engine import make_engine
from tests.factories import make_dataset, make_world

FACETS = ["organization", "tags", "res_format", "theme", "license_id", "access_rights", "groups"]


def query(**kw):
    return SearchQuery(facet_fields=FACETS, **kw)


def facet(result, field):
    return {f.name: f.count for f in result.facets[field]}


@pytest.fixture(autouse=True)
def fresh_cache():
    search_cache.CACHE.clear()
    yield
    search_cache.CACHE.clear()


def test_facets_are_cached_and_follow_create_patch_delete(engine_kind, uow) -> None:
    with uow() as s:
        make_world(s)
        make_dataset(s, "air-1")
        make_dataset(s, "air-2", tags=["air", "noise"])

    def run(**kw):
        with uow() as s:
            return search.search(session=s, actor=ANONYMOUS, query=query(**kw))

    first = run()
    assert first.count == 2 and facet(first, "tags") == {"air": 2, "pollution": 1, "noise": 1}
    misses = search_cache.CACHE.misses
    again = run(start=1, rows=1, sort=[{"field": "name"}], lang="ca")
    assert search_cache.CACHE.misses == misses, "count and facets served from the cache"
    assert again.count == 2 and facet(again, "tags") == facet(first, "tags")
    assert [d.name for d in again.results] == ["air-2"], "the page itself is fresh"
    assert {f.display_name for f in again.facets["organization"]} == {"Environment Department"}

    with uow() as s:
        make_dataset(s, "air-3", tags=["noise"], organization="mobility")
    after_create = run()
    assert after_create.count == 3
    assert facet(after_create, "tags") == {"air": 2, "pollution": 1, "noise": 2}
    assert facet(after_create, "organization") == {"environment": 2, "mobility": 1}

    with uow() as s:
        datasets.patch(session=s, actor=SYSTEM, id_or_name="air-1", data=DatasetPatch(tags=["water"]))
    after_patch = run()
    assert facet(after_patch, "tags") == {"air": 1, "noise": 2, "water": 1}

    with uow() as s:
        datasets.delete(session=s, actor=SYSTEM, id_or_name="air-2")
    after_delete = run()
    assert after_delete.count == 2
    assert facet(after_delete, "tags") == {"noise": 1, "water": 1}
    with uow() as s:
        datasets.restore(session=s, actor=SYSTEM, id_or_name="air-2")
    assert run().count == 3

    # filters and q are part of the key
    assert run(q="placa", filters=[FieldFilter(field="organization", values=["mobility"])]).count == 1
    assert run(q="placa", filters=[FieldFilter(field="organization", values=["mobility"], negate=True)]).count == 2
    # titles are read fresh, not from the cache
    with uow() as s:
        organizations.patch(
            session=s, actor=SYSTEM, id_or_name="mobility", data=OrganizationPatch(title={"en": "Transit"})
        )
    assert {f.name: f.display_name for f in run().facets["organization"]}["mobility"] == "Transit"


def test_private_datasets_never_leak_through_the_cache(engine_kind, uow) -> None:
    with uow() as s:
        world = make_world(s)
        make_dataset(s, "open-1")
        make_dataset(s, "open-2")
        make_dataset(s, "hidden", private=True)
    member = Actor(user_id="m", roles={world.org_a: "member"})
    outsider = Actor(user_id="o", roles={world.org_b: "member"})

    def count(actor: Actor, **kw) -> tuple[int, dict[str, int]]:
        with uow() as s:
            r = search.search(session=s, actor=actor, query=query(**kw))
            return r.count, facet(r, "organization")

    # whichever asks first, each sees its own counts from the same cache
    for _ in range(2):
        assert count(member) == (3, {"environment": 3})
        assert count(ANONYMOUS) == (2, {"environment": 2})
        assert count(outsider) == (2, {"environment": 2})
        assert count(SYSTEM) == (3, {"environment": 3})
        assert count(SYSTEM, include_private=False) == (2, {"environment": 2})
        assert count(member, include_private=False) == (2, {"environment": 2})
    assert len(search_cache.CACHE) > 0 and search_cache.CACHE.hits > 0
    # a membership change changes the actor's key
    assert count(Actor(user_id="o", roles={world.org_b: "member", world.org_a: "member"})) == (3, {"environment": 3})


def test_lru_is_bounded_and_thread_safe() -> None:
    import threading
    from functools import partial

    cache = search_cache.LRUCache(max_entries=8)
    for i in range(20):
        assert cache.get_or_compute(i, partial(pow, i, 2)) == i * i
    assert len(cache) == 8
    assert cache.get_or_compute(19, lambda: -1) == 361
    assert cache.get_or_compute(0, lambda: -1) == -1, "evicted"

    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(500):
                key = (n, i % 20)
                assert cache.get_or_compute(key, partial(tuple, key)) == key
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(cache) <= 8


def test_postgres_search_vector_is_stored_and_indexed(engine_kind, settings, uow) -> None:
    if engine_kind != "postgres":
        pytest.skip("PostgreSQL only")
    with uow() as s:
        make_world(s)
        make_dataset(s, "air-1")
        row = s.execute(text("SELECT search_vector IS NOT NULL FROM search_document")).scalar_one()
        assert row is True
        found = search.search(session=s, actor=ANONYMOUS, query=SearchQuery(q="placa"))
        assert [d.name for d in found.results] == ["air-1"]
    engine = make_engine(settings)
    try:
        indexes = {i["name"] for i in inspect(engine).get_indexes("search_document")}
    finally:
        engine.dispose()
    assert "ix_search_document_search_vector" in indexes
    assert "ix_search_document_fts" not in indexes
