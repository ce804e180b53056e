"""The DCAT-AP 3.0.1 profile: the catalog, its datasets and their distributions as RDF triples.

The official SHACL shapes check ranges with ``sh:class`` and no inference, so every linked resource is typed
in the graph itself: concepts are ``skos:Concept`` with ``skos:prefLabel`` and ``skos:inScheme`` (their scheme a
``skos:ConceptScheme`` with ``dct:title``), agents are ``foaf:Agent`` as well as ``foaf:Organization``, licences
``dct:LicenseDocument``, pages ``foaf:Document``... (see shared/dcat-ap/README.md). Functions here take Read
schemas, never ORM rows; ``dcat.service`` fetches them through the catalog services.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, XSD

from citycommons.catalog import vocabularies
from citycommons.catalog.catalog_info import CatalogInfoRead
from citycommons.catalog.schemas import LANGS, DatasetRead, DistributionRead, OrganizationRead, OrganizationSummary
from citycommons.catalog.vocabularies import Term, Vocabulary

ADMS = Namespace("http://www.w3.org/ns/adms#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCATAP = Namespace("http://data.europa.eu/r5r/")
DCT = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")

PREFIXES = {
    "adms": ADMS,
    "dcat": DCAT,
    "dcatap": DCATAP,
    "dct": DCT,
    "foaf": FOAF,
    "gsp": GSP,
    "hydra": HYDRA,
    "locn": LOCN,
    "owl": OWL,
    "skos": SKOS,
    "spdx": SPDX,
    "vcard": VCARD,
    "xsd": XSD,
}

IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"
MEDIA_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")

# ADMS publisher types (http://purl.org/adms/publishertype/1.0): every publisher here is a city authority.
PUBLISHER_TYPE_SCHEME = URIRef("http://purl.org/adms/publishertype/1.0")
PUBLISHER_TYPE_TITLE = {"en": "Publisher type", "ca": "Tipus d'editor", "es": "Tipo de editor"}
LOCAL_AUTHORITY = URIRef("http://purl.org/adms/publishertype/LocalAuthority")
LOCAL_AUTHORITY_LABEL = {"en": "Local Authority", "ca": "Autoritat local", "es": "Autoridad local"}

# ADMS licence types (http://purl.org/adms/licencetype/1.0) of the licences in catalog/vocab/licenses.json.
LICENCE_TYPE_SCHEME = URIRef("http://purl.org/adms/licencetype/1.0")
LICENCE_TYPE_TITLE = {"en": "Licence type", "ca": "Tipus de llicència", "es": "Tipo de licencia"}
LICENCE_TYPE_LABELS = {
    "Attribution": {"en": "Attribution", "ca": "Reconeixement", "es": "Reconocimiento"},
    "ShareAlike": {"en": "Share-alike", "ca": "Compartir igual", "es": "Compartir igual"},
    "PublicDomain": {"en": "Public domain", "ca": "Domini públic", "es": "Dominio público"},
}
LICENCE_TYPES = {
    "cc-by-4.0": ("Attribution",),
    "cc-by-sa-4.0": ("Attribution", "ShareAlike"),
    "cc-zero": ("PublicDomain",),
    "odc-odbl": ("Attribution", "ShareAlike"),
    "odc-by": ("Attribution",),
    "odc-pddl": ("PublicDomain",),
    "uk-ogl": ("Attribution",),
}

# SPDX 2.x checksum algorithms, keyed by the prefix of a stored checksum ("sha256:<hex>").
# The SPDX namespace is http://spdx.org/rdf/terms#, but DCAT-AP 3.0.1's mdr-vocabularies.shape.ttl requires the
# algorithm to match "^https://spdx.org/rdf/terms" (a Violation otherwise). We emit the https form, which the
# shape accepts, and state it owl:sameAs the canonical SPDX individual so SPDX-aware consumers can follow.
SPDX_ALGORITHM_BASE = "https://spdx.org/rdf/terms#"
SPDX_ALGORITHMS = {
    "md5": "checksumAlgorithm_md5",
    "sha1": "checksumAlgorithm_sha1",
    "sha224": "checksumAlgorithm_sha224",
    "sha256": "checksumAlgorithm_sha256",
    "sha384": "checksumAlgorithm_sha384",
    "sha512": "checksumAlgorithm_sha512",
}
DIGEST_LENGTHS = {32: "md5", 40: "sha1", 56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}

XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
IRI_INVALID = re.compile(r"[\x00-\x20<>\"{}|\\^`]")
NUMBER_PAIR = re.compile(r"(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s+(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)")


@dataclass(frozen=True)
class Uris:
    """Where each resource of the catalog lives (all under ``site_url``)."""

    site_url: str

    @property
    def catalog(self) -> URIRef:
        return URIRef(f"{self.site_url}/catalog")

    @property
    def catalog_publisher(self) -> URIRef:
        return URIRef(f"{self.site_url}/catalog#publisher")

    def dataset(self, dataset_id: str) -> URIRef:
        return URIRef(f"{self.site_url}/dataset/{dataset_id}")

    def dataset_page(self, name: str) -> str:
        return f"{self.site_url}/dataset/{name}"

    def distribution(self, dataset_id: str, distribution_id: str) -> URIRef:
        return URIRef(f"{self.site_url}/dataset/{dataset_id}/resource/{distribution_id}")

    def organization(self, organization_id: str) -> URIRef:
        return URIRef(f"{self.site_url}/organization/{organization_id}")


@dataclass(frozen=True)
class PageLinks:
    """Hydra paging of a catalog page, as ckanext-dcat publishes it."""

    current: str
    first: str
    last: str
    next: str | None
    previous: str | None
    total: int
    per_page: int


def new_graph() -> Graph:
    g = Graph(bind_namespaces="core")
    for prefix, namespace in PREFIXES.items():
        g.bind(prefix, namespace)
    return g


# --- small helpers -----------------------------------------------------------------------------------------


def clean(text: str) -> str:
    """Text without the control characters XML cannot carry."""
    return XML_INVALID.sub("", text)


def iri(value: str) -> URIRef:
    """A URIRef from a user-given URL, percent-encoding the characters an IRI may not contain."""
    return URIRef(IRI_INVALID.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), value.strip()))


def typed_date(value: date | datetime) -> Literal:
    if isinstance(value, datetime):
        return Literal(value.isoformat(), datatype=XSD.dateTime)
    return Literal(value.isoformat(), datatype=XSD.date)


def _texts(g: Graph, subject: URIRef | BNode, predicate: URIRef, text: dict[str, str]) -> None:
    for lang in LANGS:
        if text.get(lang):
            g.add((subject, predicate, Literal(clean(text[lang]), lang=lang)))


def _typed(g: Graph, node: URIRef | BNode, *classes: URIRef) -> URIRef | BNode:
    for cls in classes:
        g.add((node, RDF.type, cls))
    return node


def _scheme(g: Graph, scheme: URIRef, title: dict[str, str]) -> URIRef:
    _typed(g, scheme, SKOS.ConceptScheme)
    _texts(g, scheme, DCT.title, title)
    return scheme


def _concept(
    g: Graph,
    node: URIRef,
    *,
    label: dict[str, str],
    scheme: URIRef,
    scheme_title: dict[str, str],
    types: tuple[URIRef, ...] = (),
) -> URIRef:
    _typed(g, node, SKOS.Concept, *types)
    _texts(g, node, SKOS.prefLabel, label)
    g.add((node, SKOS.inScheme, _scheme(g, scheme, scheme_title)))
    return node


def _term(g: Graph, vocab: Vocabulary, term: Term, *types: URIRef) -> URIRef:
    label = {lang: term.text(lang) for lang in LANGS}
    return _concept(
        g, URIRef(term.uri), label=label, scheme=URIRef(vocab.scheme), scheme_title=vocab.title, types=types
    )


def _document(g: Graph, url: str) -> URIRef:
    node = iri(url)
    _typed(g, node, FOAF.Document)
    return node


def _mailto(email: str) -> URIRef:
    return iri(f"mailto:{email.strip()}")


def _local_authority(g: Graph) -> URIRef:
    return _concept(
        g, LOCAL_AUTHORITY, label=LOCAL_AUTHORITY_LABEL, scheme=PUBLISHER_TYPE_SCHEME, scheme_title=PUBLISHER_TYPE_TITLE
    )


def _license(g: Graph, license_id: str) -> URIRef | None:
    """The licence document of a vocabulary licence (its EU URI, else its URL); None when it has neither."""
    term = vocabularies.licenses().get(license_id) if license_id else None
    if term is None:
        return None
    url = term.uri or str(term.extra.get("url") or "")
    if not url:
        return None
    node = iri(url)
    _typed(g, node, DCT.LicenseDocument)
    for kind in LICENCE_TYPES.get(term.id, ()):
        concept = _concept(
            g,
            URIRef(f"http://purl.org/adms/licencetype/{kind}"),
            label=LICENCE_TYPE_LABELS[kind],
            scheme=LICENCE_TYPE_SCHEME,
            scheme_title=LICENCE_TYPE_TITLE,
        )
        g.add((node, DCT.type, concept))
    return node


def _languages(g: Graph, subject: URIRef, codes: list[str]) -> None:
    vocab = vocabularies.languages()
    for code in codes:
        term = vocab.get(code)
        if term is not None:
            g.add((subject, DCT.language, _term(g, vocab, term, DCT.LinguisticSystem)))


# --- geometry ------------------------------------------------------------------------------------------------


def _coordinates(wkt: str) -> list[tuple[float, float]]:
    body = re.sub(r"^\s*<[^>]*>\s*", "", wkt)  # a GeoSPARQL CRS prefix is not a coordinate
    body = re.sub(r"^\s*SRID=\d+;", "", body, flags=re.IGNORECASE)
    out = []
    for part in body.split(","):
        m = NUMBER_PAIR.search(part)
        if m:
            out.append((float(m.group(1)), float(m.group(2))))
    return out


def _wkt(value: str) -> Literal:
    return Literal(value, datatype=GSP.wktLiteral)


def _location(g: Graph, wkt: str) -> BNode:
    """A dct:Location with one WKT geometry (locn:geometry), its bounding box and, for a point, its centroid."""
    node = BNode()
    _typed(g, node, DCT.Location)
    g.add((node, LOCN.geometry, _wkt(clean(wkt.strip()))))
    coords = _coordinates(wkt)
    if coords:
        xs, ys = [c[0] for c in coords], [c[1] for c in coords]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
        if x0 < x1 and y0 < y1:
            bbox = f"POLYGON(({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"
            g.add((node, DCAT.bbox, _wkt(bbox)))
        if len(coords) == 1:
            g.add((node, DCAT.centroid, _wkt(f"POINT({x0} {y0})")))
    return node


# --- agents --------------------------------------------------------------------------------------------------


def add_organization(g: Graph, uris: Uris, org: OrganizationSummary) -> URIRef:
    """A city department as the publisher of its datasets."""
    node = uris.organization(org.id)
    _typed(g, node, FOAF.Agent, FOAF.Organization)
    if org.title:
        _texts(g, node, FOAF.name, org.title)
    else:
        g.add((node, FOAF.name, Literal(org.name)))
    g.add((node, DCT.type, _local_authority(g)))
    if isinstance(org, OrganizationRead):
        if org.email:
            g.add((node, FOAF.mbox, _mailto(org.email)))
        if org.homepage:
            g.add((node, FOAF.homepage, _document(g, org.homepage)))
    return node


def _contact_point(g: Graph, ds: DatasetRead, org: OrganizationSummary) -> BNode | None:
    email = ds.contact_email or (org.email if isinstance(org, OrganizationRead) else "")
    name = ds.contact_name or next((org.title[lang] for lang in LANGS if org.title.get(lang)), org.name)
    if not email and not ds.contact_name:
        return None
    node = BNode()
    _typed(g, node, VCARD.Kind)
    g.add((node, VCARD.fn, Literal(clean(name))))
    if email:
        g.add((node, VCARD.hasEmail, _mailto(email)))
    return node


# --- catalog -------------------------------------------------------------------------------------------------


def add_catalog(
    g: Graph, *, uris: Uris, info: CatalogInfoRead, issued: date | datetime | None, modified: date | datetime | None
) -> URIRef:
    cat = uris.catalog
    _typed(g, cat, DCAT.Catalog)
    _texts(g, cat, DCT.title, info.title)
    _texts(g, cat, DCT.description, info.description or info.title)

    publisher = uris.catalog_publisher
    _typed(g, publisher, FOAF.Agent, FOAF.Organization)
    g.add((publisher, FOAF.name, Literal(clean(info.publisher_name))))
    g.add((publisher, DCT.type, _local_authority(g)))
    if info.publisher_email:
        g.add((publisher, FOAF.mbox, _mailto(info.publisher_email)))
    if info.publisher_url:
        g.add((publisher, FOAF.homepage, _document(g, info.publisher_url)))
    g.add((cat, DCT.publisher, publisher))

    g.add((cat, FOAF.homepage, _document(g, info.homepage)))
    _languages(g, cat, info.languages)
    licence = _license(g, info.license_id)
    if licence is not None:
        g.add((cat, DCT.license, licence))
    themes = vocabularies.themes()
    g.add((cat, DCAT.themeTaxonomy, _scheme(g, URIRef(themes.scheme), themes.title)))
    if issued is not None:
        g.add((cat, DCT.issued, typed_date(issued)))
    if modified is not None:
        g.add((cat, DCT.modified, typed_date(modified)))
    if info.spatial_uri:
        g.add((cat, DCT.spatial, _typed(g, iri(info.spatial_uri), DCT.Location)))
    return cat


def add_paging(g: Graph, links: PageLinks) -> URIRef:
    """Hydra paging as ckanext-dcat writes it (current and deprecated predicates), typed for both designs."""
    node = URIRef(links.current)
    _typed(g, node, HYDRA.PagedCollection, HYDRA.PartialCollectionView)
    g.add((node, HYDRA.totalItems, Literal(links.total)))
    g.add((node, HYDRA.itemsPerPage, Literal(links.per_page)))
    for key, predicates in (
        ("first", (HYDRA.first, HYDRA.firstPage)),
        ("last", (HYDRA.last, HYDRA.lastPage)),
        ("next", (HYDRA.next, HYDRA.nextPage)),
        ("previous", (HYDRA.previous, HYDRA.previousPage)),
    ):
        url = getattr(links, key)
        if url:
            for predicate in predicates:
                g.add((node, predicate, URIRef(url)))
    return node


# --- datasets ------------------------------------------------------------------------------------------------


def add_dataset(g: Graph, *, uris: Uris, dataset: DatasetRead, publisher: OrganizationSummary | None = None) -> URIRef:
    """The dataset, its distributions and everything they link to. ``publisher``: its organisation, with e-mail
    and homepage when an ``OrganizationRead`` is given."""
    ds = dataset
    org = publisher or ds.organization
    node = uris.dataset(ds.id)
    _typed(g, node, DCAT.Dataset)
    _texts(g, node, DCT.title, ds.title)
    _texts(g, node, DCT.description, ds.description or ds.title)  # mandatory: the title stands in
    g.add((node, DCT.identifier, Literal(clean(ds.identifier or ds.id))))
    for tag in ds.tags:
        g.add((node, DCAT.keyword, Literal(clean(tag))))

    themes = vocabularies.themes()
    for theme in ds.themes:
        term = themes.get(theme)
        if term is not None:
            g.add((node, DCAT.theme, _term(g, themes, term)))

    g.add((node, DCT.publisher, add_organization(g, uris, org)))
    contact = _contact_point(g, ds, org)
    if contact is not None:
        g.add((node, DCAT.contactPoint, contact))

    rights = vocabularies.access_rights()
    term = rights.get(ds.access_rights) if ds.access_rights else None
    if term is not None:
        g.add((node, DCT.accessRights, _term(g, rights, term, DCT.RightsStatement)))
    frequencies = vocabularies.frequencies()
    term = frequencies.get(ds.frequency) if ds.frequency else None
    if term is not None:
        g.add((node, DCT.accrualPeriodicity, _term(g, frequencies, term, DCT.Frequency)))

    if ds.temporal_start or ds.temporal_end:
        period = BNode()
        _typed(g, period, DCT.PeriodOfTime)
        if ds.temporal_start:
            g.add((period, DCAT.startDate, typed_date(ds.temporal_start)))
        if ds.temporal_end:
            g.add((period, DCAT.endDate, typed_date(ds.temporal_end)))
        g.add((node, DCT.temporal, period))

    # a shared place URI must not collect the geometries of several datasets: the WKT gets its own Location
    if ds.spatial_uri:
        g.add((node, DCT.spatial, _typed(g, iri(ds.spatial_uri), DCT.Location)))
    if ds.spatial_wkt.strip():
        g.add((node, DCT.spatial, _location(g, ds.spatial_wkt)))

    g.add((node, DCT.issued, typed_date(ds.issued or ds.metadata_created)))
    g.add((node, DCT.modified, typed_date(ds.modified or ds.metadata_modified)))
    if ds.version:
        g.add((node, DCAT.version, Literal(clean(ds.version))))
    for url in ds.conforms_to:
        g.add((node, DCT.conformsTo, _typed(g, iri(url), DCT.Standard)))
    g.add((node, DCAT.landingPage, _document(g, ds.landing_page or uris.dataset_page(ds.name))))
    _languages(g, node, ds.languages)

    for dist in ds.distributions:
        g.add((node, DCAT.distribution, add_distribution(g, uris=uris, dataset=ds, distribution=dist)))
    return node


def _checksum(g: Graph, value: str) -> BNode | None:
    """An spdx:Checksum from a stored "algorithm:hex" (or bare hex) checksum; None when it is not one."""
    algorithm, sep, digest = value.strip().partition(":")
    if not sep:
        algorithm, digest = DIGEST_LENGTHS.get(len(value.strip()), ""), value.strip()
    algorithm = algorithm.lower().replace("-", "")
    digest = digest.strip().lower()
    if algorithm not in SPDX_ALGORITHMS or not re.fullmatch(r"(?:[0-9a-f]{2})+", digest):
        return None
    node = BNode()
    _typed(g, node, SPDX.Checksum)
    name = SPDX_ALGORITHMS[algorithm]
    algorithm_node = _typed(g, URIRef(SPDX_ALGORITHM_BASE + name), SPDX.ChecksumAlgorithm)
    if algorithm_node != SPDX[name]:
        g.add((algorithm_node, OWL.sameAs, SPDX[name]))
    g.add((node, SPDX.algorithm, algorithm_node))
    g.add((node, SPDX.checksumValue, Literal(digest, datatype=XSD.hexBinary)))
    return node


def _media_type(g: Graph, media_type: str) -> URIRef | None:
    base = media_type.split(";")[0].strip().lower()
    if not MEDIA_TYPE_RE.match(base):
        return None
    node = URIRef(IANA_MEDIA_TYPES + base)
    _typed(g, node, DCT.MediaType)
    return node


def add_distribution(g: Graph, *, uris: Uris, dataset: DatasetRead, distribution: DistributionRead) -> URIRef:
    dist = distribution
    node = uris.distribution(dataset.id, dist.id)
    _typed(g, node, DCAT.Distribution)
    _texts(g, node, DCT.title, dist.title)
    _texts(g, node, DCT.description, dist.description)
    access = dist.access_url or dist.download_url or uris.dataset_page(dataset.name)  # accessURL is mandatory
    g.add((node, DCAT.accessURL, iri(access)))
    if dist.download_url:
        g.add((node, DCAT.downloadURL, iri(dist.download_url)))

    file_types = vocabularies.file_types()
    term = file_types.get(dist.format) if dist.format else None
    if term is not None:
        g.add((node, DCT["format"], _term(g, file_types, term, DCT.MediaTypeOrExtent)))
    media = _media_type(g, dist.media_type or (str(term.extra.get("media_type") or "") if term else ""))
    if media is not None:
        g.add((node, DCAT.mediaType, media))
    if dist.byte_size is not None:
        g.add((node, DCAT.byteSize, Literal(str(dist.byte_size), datatype=XSD.nonNegativeInteger)))
    checksum = _checksum(g, dist.checksum) if dist.checksum else None
    if checksum is not None:
        g.add((node, SPDX.checksum, checksum))
    licence = _license(g, dist.license_id or dataset.license_id)
    if licence is not None:
        g.add((node, DCT.license, licence))
    g.add((node, DCT.issued, typed_date(dist.created)))
    g.add((node, DCT.modified, typed_date(dist.last_modified)))
    return node
