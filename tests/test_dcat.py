"""DCAT-AP 3 export: SHACL validation of every serialisation, content, Hydra paging, visibility, negotiation."""

from __future__ import annotations

import contextlib
import importlib.util
import io
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from citycommons.actor import SYSTEM, Actor
from citycommons.app import create_app
from citycommons.catalog import catalog_info, distributions, organizations
from citycommons.catalog.catalog_info import CatalogInfoPatch
from citycommons.catalog.schemas import DistributionCreate, OrganizationCreate, Upload
from citycommons.db.migrate import upgrade
from citycommons.dcat.api import dataset_alternate_links, dataset_rdf_response, wanted_rdf_format
from citycommons.dcat.profile import DCAT, DCT, FOAF, HYDRA, LOCN, SKOS, SPDX, VCARD
from citycommons.errors import Forbidden, NotFound
from tests.conftest import SHARED, _settings
from tests.factories import make_dataset

pytest.importorskip("pyshacl")
VALIDATOR = SHARED / "dcat-ap" / "validate.py"
EXTENSIONS = ("ttl", "jsonld", "rdf")
SITE = "http://127.0.0.1:8000"
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.fixture(scope="module")
def validator() -> ModuleType:
    if not VALIDATOR.exists():
        pytest.skip("shared/dcat-ap/validate.py not available")
    spec = importlib.util.spec_from_file_location("dcat_ap_validate", VALIDATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def validate(validator: ModuleType, path: Path, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = validator.main([str(path), *extra])
    return code, out.getvalue()


def build_catalog(session: Any, settings: Any, tmp_path: Path) -> dict[str, str]:
    """Three departments, datasets using every field, a private one, distributions with and without size/checksum."""
    for name, title in (("environment", "Medi Ambient"), ("mobility", "Mobilitat")):
        organizations.create(session=session, actor=SYSTEM, data=OrganizationCreate(name=name, title={"ca": title}))
    organizations.create(
        session=session,
        actor=SYSTEM,
        data=OrganizationCreate(
            name="culture",
            title={"ca": "Cultura", "es": "Cultura", "en": "Culture"},
            email="cultura@example.org",
            homepage="https://example.org/cultura",
        ),
    )
    catalog_info.update(
        session=session,
        actor=SYSTEM,
        settings=settings,
        data=CatalogInfoPatch(
            title={"ca": "Dades obertes de la ciutat", "es": "Datos abiertos de la ciudad", "en": "City open data"},
            description={"ca": "Catàleg municipal.", "es": "Catálogo municipal.", "en": "The city's catalog."},
            publisher_name="Ajuntament",
            publisher_url="https://example.org/ajuntament",
            publisher_email="dades@example.org",
            spatial_uri="http://publications.europa.eu/resource/authority/place/ESP_BCN",
            languages=["CAT", "SPA", "ENG"],
            license_id="cc-by-4.0",
        ),
    )
    full = make_dataset(
        session,
        "air-quality",
        title={"ca": "Qualitat de l'aire", "es": "Calidad del aire", "en": "Air quality"},
        description={"ca": "Mesures horàries <b>NO2</b> & PM10.", "en": "Hourly NO2 and PM10."},
        identifier="BCN-AIR-1",
        access_rights="RESTRICTED",
        contact_name="Oficina de dades",
        contact_email="aire@example.org",
        spatial_uri="https://sws.geonames.org/3128760/",
        spatial_wkt="POLYGON((2.05 41.32, 2.23 41.32, 2.23 41.47, 2.05 41.47, 2.05 41.32))",
        temporal_start="2020-01-01",
        temporal_end="2024-12-31",
        frequency="HOURLY",
        issued="2020-02-01",
        modified="2025-01-02",
        version="2.1",
        conforms_to=["https://example.org/standards/air"],
        languages=["CAT", "SPA"],
        landing_page="https://example.org/air",
        themes=["ENVI", "HEAL"],
        tags=["air", "no2"],
        license_id="odc-odbl",
        distributions=[
            {
                "title": {"ca": "Mesures", "en": "Measurements"},
                "description": {"en": "All stations."},
                "url": "https://example.org/air.csv",
                "format": "CSV",
                "byte_size": 123456,
                "checksum": f"sha256:{SHA}",
            },
            {
                "title": {"en": "API"},
                "access_url": "https://example.org/api/air",
                "format": "JSON",
                "license_id": "cc-zero",
            },
            {"url": "https://example.org/air.parquet", "format": "PARQUET", "byte_size": 0},
        ],
    )
    sparse = make_dataset(
        session,
        "bike-lanes",
        organization="mobility",
        title={"en": "Bike lanes"},
        description={},
        themes=[],
        tags=[],
        spatial_wkt="POINT(2.17 41.38)",
        license_id="notspecified",
        distributions=[{"url": "https://example.org/bike.geojson", "format": "GEOJSON"}],
    )
    uploaded = make_dataset(
        session,
        "libraries",
        organization="culture",
        frequency="ANNUAL",
        distributions=[],
        license_id="cc-by-sa-4.0",
    )
    source = tmp_path / "libraries.csv"
    source.write_text("name,district\nSagrada Família,Eixample\n", encoding="utf-8")
    distributions.create(
        session=session,
        actor=SYSTEM,
        settings=settings,
        dataset="libraries",
        data=DistributionCreate(title={"ca": "Biblioteques"}),
        upload=Upload(filename="libraries.csv", path=str(source), content_type="text/csv"),
    )
    private = make_dataset(session, "secret-plans", private=True)
    return {"full": full.id, "sparse": sparse.id, "uploaded": uploaded.id, "private": private.id}


def _graph(body: bytes, ext: str) -> Graph:
    return Graph().parse(data=body, format={"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml"}[ext])


def test_exports_pass_dcat_ap_shapes(client, uow, settings, tmp_path, validator):
    with uow() as session:
        ids = build_catalog(session, settings, tmp_path)

    files = []
    for ext in EXTENSIONS:
        r = client.get(f"/catalog.{ext}")
        assert r.status_code == 200, r.text
        files.append(tmp_path / f"catalog.{ext}")
        files[-1].write_bytes(r.content)
        for name in ("air-quality", "bike-lanes", "libraries"):
            r = client.get(f"/dataset/{name}.{ext}")
            assert r.status_code == 200, r.text
            files.append(tmp_path / f"{name}.{ext}")
            files[-1].write_bytes(r.content)
    for path in files:
        for extra in ((), ("--with-vocabularies",)):
            code, report = validate(validator, path, *extra)
            assert code == 0, f"{path.name} {extra}:\n{report}"
            assert "Violations: 0" in report

    g = Graph().parse(tmp_path / "catalog.ttl", format="turtle")
    cat = URIRef(f"{SITE}/catalog")
    datasets = set(g.objects(cat, DCAT.dataset))
    assert datasets == {URIRef(f"{SITE}/dataset/{ids[k]}") for k in ("full", "sparse", "uploaded")}
    assert Literal("City open data", lang="en") in set(g.objects(cat, DCT.title))
    publisher = g.value(cat, DCT.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in g and (publisher, RDF.type, FOAF.Organization) in g
    local_authority = URIRef("http://purl.org/adms/publishertype/LocalAuthority")
    assert g.value(publisher, DCT.type) == local_authority
    assert (local_authority, SKOS.inScheme, URIRef("http://purl.org/adms/publishertype/1.0")) in g
    taxonomy = URIRef("http://publications.europa.eu/resource/authority/data-theme")
    assert (cat, DCAT.themeTaxonomy, taxonomy) in g and g.value(taxonomy, DCT.title) is not None
    assert g.value(cat, DCT.modified).datatype == XSD.dateTime

    ds = URIRef(f"{SITE}/dataset/{ids['full']}")
    assert Literal("Calidad del aire", lang="es") in set(g.objects(ds, DCT.title))
    assert g.value(ds, DCT.identifier) == Literal("BCN-AIR-1")
    assert g.value(ds, DCT.issued) == Literal("2020-02-01", datatype=XSD.date)
    assert g.value(ds, DCAT.version) == Literal("2.1")
    assert g.value(ds, DCT.accrualPeriodicity) == URIRef(
        "http://publications.europa.eu/resource/authority/frequency/HOURLY"
    )
    contact = g.value(ds, DCAT.contactPoint)
    assert g.value(contact, VCARD.hasEmail) == URIRef("mailto:aire@example.org")
    period = g.value(ds, DCT.temporal)
    assert g.value(period, DCAT.startDate) == Literal("2020-01-01", datatype=XSD.date)
    geometries = [g.value(loc, LOCN.geometry) for loc in g.objects(ds, DCT.spatial) if g.value(loc, LOCN.geometry)]
    assert len(geometries) == 1 and geometries[0].startswith("POLYGON")

    dists = {g.value(d, DCAT.accessURL): d for d in g.objects(ds, DCAT.distribution)}
    csv = dists[URIRef("https://example.org/air.csv")]
    assert g.value(csv, DCAT.byteSize) == Literal("123456", datatype=XSD.nonNegativeInteger)
    assert g.value(csv, DCAT.mediaType) == URIRef("https://www.iana.org/assignments/media-types/text/csv")
    checksum = g.value(csv, SPDX.checksum)
    assert g.value(checksum, SPDX.checksumValue) == Literal(SHA, datatype=XSD.hexBinary)
    assert str(g.value(checksum, SPDX.algorithm)).endswith("terms#checksumAlgorithm_sha256")
    api = dists[URIRef("https://example.org/api/air")]
    assert g.value(api, DCAT.byteSize) is None and g.value(api, SPDX.checksum) is None
    assert g.value(api, DCT.license) == URIRef("http://publications.europa.eu/resource/authority/licence/CC0")

    uploaded = URIRef(f"{SITE}/dataset/{ids['uploaded']}")
    (upload,) = g.objects(uploaded, DCAT.distribution)
    size = len((tmp_path / "libraries.csv").read_bytes())
    assert g.value(upload, DCAT.byteSize) == Literal(str(size), datatype=XSD.nonNegativeInteger)
    assert g.value(g.value(upload, SPDX.checksum), SPDX.checksumValue) is not None
    assert str(g.value(upload, DCAT.downloadURL)).endswith("/download/libraries.csv")
    culture = g.value(uploaded, DCT.publisher)
    assert g.value(culture, FOAF.mbox) == URIRef("mailto:cultura@example.org")

    sparse = URIRef(f"{SITE}/dataset/{ids['sparse']}")
    assert g.value(sparse, DCT.description) is not None, "mandatory description falls back to the title"
    assert URIRef(f"{SITE}/dataset/{ids['private']}") not in set(g.subjects())


def test_serialisations_agree_and_carry_media_types(client, world, uow):
    with uow() as session:
        make_dataset(session, "one")
    graphs = []
    for ext, media in (("ttl", "text/turtle"), ("jsonld", "application/ld+json"), ("rdf", "application/rdf+xml")):
        r = client.get(f"/dataset/one.{ext}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(media)
        graphs.append(_graph(r.content, ext))
    r = client.get("/dataset/one.xml")
    assert r.headers["content-type"].startswith("application/rdf+xml")
    assert all(len(g) == len(graphs[0]) and len(g) > 20 for g in graphs)


@pytest.fixture
def paged_client(tmp_path: Path) -> Iterator[tuple[TestClient, Any]]:
    s = _settings(tmp_path, dcat_page_size=2)
    upgrade(s)
    app = create_app(s)
    with TestClient(app, base_url=SITE) as c:
        yield c, app
    app.state.engine.dispose()


def _paging(g: Graph) -> dict[str, Any]:
    (node,) = set(g.subjects(RDF.type, HYDRA.PagedCollection))
    assert (node, RDF.type, HYDRA.PartialCollectionView) in g
    out: dict[str, Any] = {"self": str(node)}
    for key in ("totalItems", "itemsPerPage", "first", "last", "next", "previous", "nextPage", "lastPage"):
        value = g.value(node, HYDRA[key])
        out[key] = value.toPython() if isinstance(value, Literal) else (str(value) if value is not None else None)
    return out


def test_catalog_is_hydra_paged(paged_client):
    client, app = paged_client
    from citycommons.db.engine import unit_of_work
    from tests.factories import make_world

    with unit_of_work(app.state.sessionmaker) as session:
        make_world(session)
        for i in range(5):
            make_dataset(session, f"ds-{i}")
        make_dataset(session, "hidden", private=True)

    seen: list[set[str]] = []
    for page in (1, 2, 3):
        r = client.get("/catalog.ttl", params={"page": page})
        assert r.status_code == 200
        g = _graph(r.content, "ttl")
        paging = _paging(g)
        assert paging["totalItems"] == 5 and paging["itemsPerPage"] == 2
        assert paging["self"] == f"{SITE}/catalog.ttl?page={page}"
        assert paging["first"] == f"{SITE}/catalog.ttl?page=1"
        assert paging["last"] == paging["lastPage"] == f"{SITE}/catalog.ttl?page=3"
        assert paging["next"] == (f"{SITE}/catalog.ttl?page={page + 1}" if page < 3 else None)
        assert paging["next"] == paging["nextPage"]
        assert paging["previous"] == (f"{SITE}/catalog.ttl?page={page - 1}" if page > 1 else None)
        seen.append({str(d) for d in g.objects(URIRef(f"{SITE}/catalog"), DCAT.dataset)})
    assert [len(s) for s in seen] == [2, 2, 1]
    assert len(set().union(*seen)) == 5, "pages do not overlap and together hold every public dataset"

    r = client.get("/catalog.jsonld", params={"page": 9, "q": "air"})
    paging = _paging(_graph(r.content, "jsonld"))
    assert paging["previous"] == f"{SITE}/catalog.jsonld?q=air&page=3", "past the end: previous is the last page"
    assert client.get("/catalog.rdf", params={"page": 0}).status_code == 422
    assert client.get("/catalog.rdf", params={"page": "x"}).status_code == 422


def test_private_dataset_is_invisible(client, world, uow, engine_kind):
    with uow() as session:
        make_dataset(session, "open")
        make_dataset(session, "secret", private=True)
    for ext in EXTENSIONS:
        g = _graph(client.get(f"/catalog.{ext}").content, ext)
        titles = {str(t) for t in g.objects(None, DCT.title)}
        assert any("open" in t for t in titles) and not any("secret" in t for t in titles)
        assert client.get(f"/dataset/secret.{ext}").status_code == 404
        assert client.get(f"/dataset/secret.{ext}", headers=world.auth("outsider")).status_code == 404
    assert client.get("/dataset/secret.ttl", headers=world.auth("editor")).status_code == 200
    g = _graph(client.get("/catalog.ttl", headers=world.auth("editor")).content, "ttl")
    assert any("secret" in str(t) for t in g.objects(None, DCT.title)), "members see their organisation's datasets"
    assert client.get("/dataset/no-such-thing.ttl").status_code == 404


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("text/turtle;q=0.5, application/ld+json;q=0.9", "json-ld"),
        ("application/rdf+xml, text/html;q=0.8", "xml"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", None),
        ("text/html;q=0.9, text/turtle", "turtle"),
        ("text/turtle, text/html", "turtle"),
        ("text/html, text/turtle", None),
        ("text/turtle;q=0, */*", None),
        ("*/*", None),
        ("application/json", None),
        ("", None),
        ("text/turtle;q=abc, application/ld+json;q=0.1", "json-ld"),
        ('application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"', "json-ld"),
    ],
)
def test_wanted_rdf_format(accept, expected):
    assert wanted_rdf_format(accept) == expected


def test_dataset_rdf_response_and_alternate_links(db, world, settings):
    make_dataset(db, "neg")
    make_dataset(db, "neg-private", private=True)
    db.flush()
    r = dataset_rdf_response(session=db, actor=Actor(), settings=settings, id_or_name="neg", fmt="json-ld")
    assert r.media_type == "application/ld+json" and b"dcat:Dataset" in r.body
    r = dataset_rdf_response(session=db, actor=Actor(), settings=settings, id_or_name="neg", fmt="turtle")
    assert r.media_type == "text/turtle"
    with pytest.raises(NotFound):
        dataset_rdf_response(session=db, actor=Actor(), settings=settings, id_or_name="neg-private", fmt="xml")
    assert dataset_alternate_links(settings, "neg") == [
        ("text/turtle", f"{SITE}/dataset/neg.ttl"),
        ("application/ld+json", f"{SITE}/dataset/neg.jsonld"),
        ("application/rdf+xml", f"{SITE}/dataset/neg.rdf"),
    ]


def test_catalog_uri_negotiates(client):
    r = client.get("/catalog", headers={"Accept": "application/ld+json"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/catalog.jsonld"
    r = client.get("/catalog?page=2", headers={"Accept": "*/*"}, follow_redirects=False)
    assert r.headers["location"] == "/catalog.ttl?page=2"
    r = client.get("/catalog", headers={"Accept": "text/html"}, follow_redirects=False)
    assert r.headers["location"] == "/dataset"


def test_catalog_info_falls_back_to_settings(db, settings, engine_kind):
    info = catalog_info.get(session=db, settings=settings)
    assert info.title == {settings.default_locale: settings.site_title}
    assert set(info.description) == {"ca", "es", "en"} and info.publisher_name == settings.site_title
    assert info.languages == ["CAT", "SPA", "ENG"] and info.homepage == settings.site_url
    with pytest.raises(Forbidden):
        catalog_info.update(session=db, actor=Actor(user_id="u1"), settings=settings, data=CatalogInfoPatch(title={}))
    info = catalog_info.update(
        session=db, actor=SYSTEM, settings=settings, data=CatalogInfoPatch(title={"en": "Open City"}, languages=["cat"])
    )
    assert info.title == {"en": "Open City"} and info.languages == ["CAT"] and info.modified is not None
