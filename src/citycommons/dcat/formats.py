"""RDF serialisations offered by the DCAT export: file extensions, media types, content negotiation."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph

from citycommons.errors import NotFound
from citycommons.settings import Settings


@dataclass(frozen=True)
class RdfFormat:
    name: str  # rdflib parser name, also the value wanted_rdf_format() returns
    media_type: str
    extension: str  # the canonical one
    serializer: str  # rdflib serializer name


TURTLE = RdfFormat("turtle", "text/turtle", "ttl", "turtle")
JSON_LD = RdfFormat("json-ld", "application/ld+json", "jsonld", "json-ld")
RDF_XML = RdfFormat("xml", "application/rdf+xml", "rdf", "pretty-xml")
FORMATS: tuple[RdfFormat, ...] = (TURTLE, JSON_LD, RDF_XML)

# every extension served, including aliases
BY_EXTENSION: dict[str, RdfFormat] = {"ttl": TURTLE, "jsonld": JSON_LD, "rdf": RDF_XML, "xml": RDF_XML}
# media types recognised in Accept headers (aliases included); HTML is what the web pages answer
ACCEPTED: dict[str, RdfFormat] = {
    "text/turtle": TURTLE,
    "application/x-turtle": TURTLE,
    "application/ld+json": JSON_LD,
    "application/rdf+xml": RDF_XML,
}
HTML_TYPES = ("text/html", "application/xhtml+xml")


def rdf_format(name_or_extension: str) -> RdfFormat:
    """The format named by an rdflib name ("turtle", "json-ld", "xml") or an extension ("ttl", "jsonld", "rdf")."""
    key = name_or_extension.lower().lstrip(".")
    for fmt in FORMATS:
        if key == fmt.name:
            return fmt
    if key in BY_EXTENSION:
        return BY_EXTENSION[key]
    raise NotFound(f"Unknown RDF format '{name_or_extension}'")


def serialize(graph: Graph, fmt: RdfFormat) -> bytes:
    if fmt is JSON_LD:
        return graph.serialize(format=fmt.serializer, auto_compact=True, encoding="utf-8")
    return graph.serialize(format=fmt.serializer, encoding="utf-8")


def _parse_accept(accept: str) -> list[tuple[str, float, int]]:
    """(media type, q, position) of each entry of an Accept header; malformed q-values count as 0."""
    entries = []
    for position, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media or "/" not in media:
            continue
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        entries.append((media, q, position))
    return entries


def _preference(entries: list[tuple[str, float, int]], media_type: str) -> tuple[float, int, int]:
    """(q, specificity, -position) of the most specific Accept entry matching ``media_type``; q=0 if none."""
    major = media_type.split("/")[0]
    best: tuple[int, float, int] | None = None  # specificity, q, position
    for media, q, position in entries:
        if media == media_type:
            specificity = 2
        elif media == f"{major}/*":
            specificity = 1
        elif media == "*/*":
            specificity = 0
        else:
            continue
        if best is None or specificity > best[0]:
            best = (specificity, q, position)
    if best is None:
        return (0.0, 0, 0)
    return (best[1], best[0], -best[2])


def wanted_rdf_format(accept: str) -> str | None:
    """ "turtle", "json-ld" or "xml" when the Accept header prefers an RDF serialisation, else None (HTML).

    q-values decide; at equal q an explicitly named type beats a wildcard, then the one listed first wins;
    HTML wins the remaining ties (``*/*`` alone gives None).
    """
    entries = _parse_accept(accept or "")
    if not entries:
        return None
    html = max(_preference(entries, media) for media in HTML_TYPES)
    best: tuple[tuple[float, int, int], RdfFormat] | None = None
    for media, fmt in ACCEPTED.items():
        pref = _preference(entries, media)
        if pref[0] > 0 and (best is None or pref > best[0]):
            best = (pref, fmt)
    if best is None or best[0] <= html:
        return None
    return best[1].name


def dataset_alternate_links(settings: Settings, dataset_name: str) -> list[tuple[str, str]]:
    """(media type, URL) of each RDF serialisation of a dataset, for ``<link rel="alternate">``."""
    return [(fmt.media_type, f"{settings.site_url}/dataset/{dataset_name}.{fmt.extension}") for fmt in FORMATS]
