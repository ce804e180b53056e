"""What the search and organisation pages show: search parameters, facet links, pagination."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from citycommons.catalog import vocabularies
from citycommons.catalog.schemas import FacetItem, FieldFilter, SearchResult, SortKey
from citycommons.web.render import N_, View

SORTS: dict[str, tuple[str, list[SortKey]]] = {
    "relevance": (N_("Relevance"), []),
    "modified": (N_("Last modified"), [SortKey(field="metadata_modified", descending=True)]),
    "title": (N_("Title (A–Z)"), [SortKey(field="title")]),
}


@dataclass(frozen=True)
class Facet:
    param: str  # query parameter of the page (as in the JSON API)
    field: str  # FacetField / FilterField of the search service
    label: str  # msgid


FACETS: tuple[Facet, ...] = (
    Facet("organization", "organization", N_("Organisations")),
    Facet("theme", "theme", N_("Themes")),
    Facet("tag", "tags", N_("Tags")),
    Facet("format", "res_format", N_("Formats")),
    Facet("license", "license_id", N_("Licences")),
    Facet("access_rights", "access_rights", N_("Access rights")),
)


@dataclass(frozen=True)
class FacetLink:
    name: str
    display_name: str
    count: int
    selected: bool
    url: str


@dataclass(frozen=True)
class FacetBox:
    param: str
    label: str
    links: list[FacetLink]


@dataclass(frozen=True)
class ActiveFilter:
    label: str
    value: str
    remove_url: str


@dataclass
class Pager:
    page: int
    pages: int
    count: int
    page_size: int
    links: list[tuple[int | None, str]] = field(default_factory=list)  # (page or None for a gap, url)

    @property
    def first_item(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.count else 0

    @property
    def last_item(self) -> int:
        return min(self.page * self.page_size, self.count)


def _format_label(format_id: str, lang: str) -> str:
    term = vocabularies.file_types().get(format_id)
    return term.text(lang) if term else format_id


def filters_from(selected: dict[str, list[str]]) -> list[FieldFilter]:
    by_param = {f.param: f for f in FACETS}
    return [
        FieldFilter(field=by_param[param].field, values=values)
        for param, values in selected.items()
        if values and param in by_param
    ]


def facet_boxes(view: View, result: SearchResult, selected: dict[str, list[str]]) -> list[FacetBox]:
    """Each facet as links that add or remove one value (filters combine; no JavaScript needed)."""
    boxes = []
    for facet in FACETS:
        chosen = selected.get(facet.param, [])
        items: list[FacetItem] = list(result.facets.get(facet.field, []))
        if facet.param == "format":  # the search names formats by id; show the vocabulary's label
            items = [i.model_copy(update={"display_name": _format_label(i.name, view.lang)}) for i in items]
        shown = {i.name for i in items}
        items += [FacetItem(name=v, count=0, display_name=v) for v in chosen if v not in shown]
        links = []
        for item in items:
            is_selected = item.name in chosen
            values = [v for v in chosen if v != item.name] if is_selected else [*chosen, item.name]
            links.append(
                FacetLink(
                    name=item.name,
                    display_name=item.display_name,
                    count=item.count,
                    selected=is_selected,
                    url=view.url_with(**{facet.param: values, "page": None}),
                )
            )
        links.sort(key=lambda link: (not link.selected, -link.count, link.display_name.lower()))
        if links:
            boxes.append(FacetBox(param=facet.param, label=view.gettext(facet.label), links=links))
    return boxes


def active_filters(view: View, boxes: list[FacetBox], selected: dict[str, list[str]]) -> list[ActiveFilter]:
    labels = {(box.param, link.name): link.display_name for box in boxes for link in box.links}
    out = []
    for facet in FACETS:
        chosen = selected.get(facet.param, [])
        for value in chosen:
            out.append(
                ActiveFilter(
                    label=view.gettext(facet.label),
                    value=labels.get((facet.param, value), value),
                    remove_url=view.url_with(**{facet.param: [v for v in chosen if v != value], "page": None}),
                )
            )
    return out


def pager(view: View, *, page: int, count: int, page_size: int) -> Pager:
    pages = max(1, math.ceil(count / page_size)) if page_size else 1
    result = Pager(page=page, pages=pages, count=count, page_size=page_size)
    wanted = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    previous = 0
    for number in wanted:
        if number - previous > 1:
            result.links.append((None, ""))
        result.links.append((number, view.url_with(page=number if number > 1 else None)))
        previous = number
    return result
