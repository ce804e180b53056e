"""``package_search`` (Solr parameters -> the search service, results -> CKAN's shape) and ``tag_list``."""

from __future__ import annotations

from typing import Any

from citycommons.catalog import search
from citycommons.catalog.schemas import FACET_FIELDS, FacetItem, SearchQuery
from citycommons.ckan import inputs, solr
from citycommons.ckan.call import Call, DataDict
from citycommons.ckan.dicts import tag_dict
from citycommons.ckan.errors import SearchQueryError

ROWS_MAX = 1000
# Solr parameters CKAN passes on (lib/search/query.py VALID_SOLR_PARAMETERS) and the ones package_search consumes
ACCEPTED = frozenset(
    {
        "q",
        "fl",
        "fq",
        "fq_list",
        "rows",
        "sort",
        "start",
        "wt",
        "qf",
        "bf",
        "boost",
        "tie",
        "defType",
        "mm",
        "df",
        "facet",
        "facet.mincount",
        "facet.limit",
        "facet.field",
        "extras",
        "include_private",
        "include_drafts",
        "include_deleted",
        "use_default_schema",
    }
)


def _query(call: Call, data: DataDict) -> tuple[SearchQuery, str, list[str] | None, bool]:
    unknown = sorted(k for k in data if k not in ACCEPTED and not k.startswith("ext_"))
    if unknown:
        raise SearchQueryError(f"Invalid search parameters: {unknown}")
    errors = inputs.Errors()
    rows = inputs.integer(data.get("rows"), "rows", errors, default=10) or 0
    start = inputs.integer(data.get("start"), "start", errors, default=0) or 0
    facet_limit = inputs.integer(data.get("facet.limit"), "facet.limit", errors, default=50, minimum=None)
    inputs.integer(data.get("facet.mincount"), "facet.mincount", errors, default=1)
    facet_fields = inputs.string_list(data.get("facet.field"), "facet.field", errors)
    fq_list = inputs.string_list(data.get("fq_list"), "fq_list", errors)
    include_private = inputs.boolean(data.get("include_private"), "include_private", errors)
    include_drafts = inputs.boolean(data.get("include_drafts"), "include_drafts", errors)
    facet = inputs.boolean(data.get("facet", "true"), "facet", errors, default=True)
    q, fq, sort = (inputs.text(data, key, errors) or "" for key in ("q", "fq", "sort"))
    fl = data.get("fl")
    fields = None
    if fl:
        fields = inputs.string_list(fl, "fl", errors) if isinstance(fl, list) else fl.replace(",", " ").split()
    errors.raise_if_any()

    if q.strip() in ('""', "''"):
        q = ""
    constraints = solr.Constraints()
    for source in (q, fq, *fq_list):
        solr.parse(source, constraints)
    if len(constraints.text) > 1000:
        raise SearchQueryError("The query is too long")
    unknown_facets = [f for f in facet_fields if f not in FACET_FIELDS]
    if unknown_facets:
        raise SearchQueryError(f"undefined field {unknown_facets[0]}")
    sort = sort.strip()
    if sort in ("", "rank"):
        sort = solr.DEFAULT_SORT
    query = SearchQuery(
        q=constraints.text,
        filters=constraints.filters,
        ranges=constraints.ranges,
        sort=solr.parse_sort(sort),
        rows=min(rows, ROWS_MAX),
        start=min(start, 10_000_000),
        facet_fields=facet_fields if facet else [],
        facet_limit=max(-1, min(facet_limit if facet_limit is not None else 50, 1000)),
        include_private=include_private,
        include_drafts=include_drafts,
        lang=call.lang,
    )
    return query, sort, fields, facet


def _search_facets(facets: dict[str, list[FacetItem]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """CKAN's deprecated ``facets`` ({field: {name: count}}) and ``search_facets``, whose items CKAN sorts by
    display name, descending."""
    plain = {name: {item.name: item.count for item in items} for name, items in facets.items()}
    rich = {
        name: {
            "title": name,
            "items": [
                {"name": i.name, "display_name": i.display_name, "count": i.count}
                for i in sorted(items, key=lambda i: i.display_name, reverse=True)
            ],
        }
        for name, items in facets.items()
    }
    return plain, rich


def package_search(call: Call, data: DataDict) -> DataDict:
    """Search datasets with Solr parameters: ``q`` and ``fq`` (``field:value``, ``-field:value``, ``OR``, quoted
    values, ranges such as ``metadata_modified:[2026-01-01T00:00:00Z TO *]``), ``fq_list``, ``sort``, ``rows``,
    ``start``, ``facet.field`` (a JSON list), ``facet.limit``, ``include_private``. Fields: organization,
    owner_org, groups, tags, res_format, license_id, name, id, private, capacity, theme, access_rights, frequency,
    metadata_modified, metadata_created, issued, modified."""
    query, sort, fields, facet = _query(call, data)
    result = search.search(session=call.session, actor=call.actor, query=query)
    # a listing, not a read of one dataset: not logged, even with include_private (see ledger.record)
    packages = [call.dicts.package(ds) for ds in result.results]
    results: list[Any] = packages
    if fields:
        results = [{k: p.get(k) for k in fields} for p in packages]
    facets, search_facets = _search_facets(result.facets) if facet else ({}, {})
    return {"count": result.count, "results": results, "facets": facets, "search_facets": search_facets, "sort": sort}


def tag_list(call: Call, data: DataDict) -> list[Any]:
    """Return the tags of the site's public datasets; ``query`` keeps those containing it, ``all_fields`` returns
    tag dicts instead of names."""
    errors = inputs.Errors()
    needle = (inputs.text(data, "query", errors) or inputs.text(data, "q", errors) or "").strip().casefold()
    all_fields = inputs.boolean(data.get("all_fields"), "all_fields", errors)
    errors.raise_if_any()
    query = SearchQuery(rows=0, facet_fields=["tags"], facet_limit=-1, include_private=False, lang=call.lang)
    facets = search.search(session=call.session, actor=call.actor, query=query).facets.get("tags", [])
    names = sorted(item.name for item in facets if needle in item.name.casefold())
    return [tag_dict(n) for n in names] if all_fields else names
