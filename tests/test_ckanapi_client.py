"""The unmodified ckanapi client from PyPI against a real server: the library, and ``ckanapi dump``/``load`` as
subprocesses copying a small catalog into a second server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import ckanapi
import pytest

from citycommons.app import create_app
from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from citycommons.db.migrate import upgrade
from tests import factories
from tests.conftest import LiveServer, _settings

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def _world(server: LiveServer) -> factories.World:
    engine = make_engine(server.settings)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            return factories.make_world(session)
    finally:
        engine.dispose()


@pytest.fixture
def target_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A second live server with its own empty database (the destination of ``ckanapi load``)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    settings = _settings(tmp_path / "target", site_url=f"http://127.0.0.1:{port}")
    upgrade(settings)
    app = create_app(settings)
    server = LiveServer(app, settings)
    server.port, server.url = port, settings.site_url
    server.server.config.port = port
    server.start()
    yield server
    server.stop()
    app.state.engine.dispose()


def _ckanapi(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(
        [str(BIN / "ckanapi"), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_ckanapi_library(live_server, tmp_path):
    world = _world(live_server)
    ckan = ckanapi.RemoteCKAN(live_server.url, apikey=world.editor_token)
    anonymous = ckanapi.RemoteCKAN(live_server.url)

    assert ckan.action.status_show()["ckan_version"] == "2.11.0"
    created = ckan.action.package_create(
        name="air-quality",
        title="Qualitat de l'aire",
        owner_org="environment",
        notes="Mesures horàries",
        tags=[{"name": "air"}],
        resources=[{"url": "https://example.org/air.csv", "format": "CSV", "name": "Dades"}],
    )
    assert created["name"] == "air-quality" and created["organization"]["name"] == "environment"
    ckan.action.package_create(name="noise", title="Soroll", owner_org="environment", tags=[{"name": "noise"}])
    ckan.action.package_create(name="hidden", title="Ocult", owner_org="environment", private=True)

    assert anonymous.action.package_list() == ["air-quality", "noise"]
    found = anonymous.action.package_search(q="aire", **{"facet.field": ["tags", "organization"]})
    assert found["count"] == 1 and found["results"][0]["name"] == "air-quality"
    assert found["search_facets"]["tags"]["items"] == [{"name": "air", "display_name": "air", "count": 1}]
    by_get = ckanapi.RemoteCKAN(live_server.url, get_only=True).action.package_search(
        q="aire", include_private=True, **{"facet.field": ["tags", "organization"]}
    )
    assert by_get["count"] == 1 and by_get["facets"]["organization"] == {"environment": 1}
    everything = anonymous.action.package_search(fq="organization:environment", rows=10)
    assert {p["name"] for p in everything["results"]} == {"air-quality", "noise"}
    with pytest.raises(ckanapi.NotFound):
        anonymous.action.package_show(id="hidden")
    assert anonymous.action.package_search(q="ocult", include_private=True)["count"] == 0
    assert ckan.action.package_search(q="ocult", include_private=True)["count"] == 1

    shown = ckan.action.package_show(id="air-quality")
    shown["notes"] = "Mesures horàries de NO2"
    updated = ckan.action.package_update(**shown)
    assert updated["notes"] == "Mesures horàries de NO2" and updated["num_resources"] == 1
    patched = ckan.action.package_patch(id="air-quality", version="2.0")
    assert patched["version"] == "2.0" and patched["notes"] == "Mesures horàries de NO2"

    data = tmp_path / "measures.csv"
    data.write_text("station,no2\nA,12\n", encoding="utf-8")
    with data.open("rb") as fh:
        uploaded = ckan.action.resource_create(package_id="air-quality", name="Fitxer", upload=fh)
    assert uploaded["url_type"] == "upload" and uploaded["size"] == data.stat().st_size
    assert uploaded["url"].startswith(live_server.url) and uploaded["format"] == "CSV"
    with data.open("rb") as fh:
        replaced = ckan.action.resource_patch(id=uploaded["id"], description="Nou", upload=fh)
    assert replaced["description"] == "Nou" and replaced["hash"] == uploaded["hash"]
    assert ckan.action.resource_show(id=uploaded["id"])["name"] == "Fitxer"
    assert ckan.action.resource_view_list(id=uploaded["id"]) == []
    ckan.action.resource_delete(id=uploaded["id"])
    with pytest.raises(ckanapi.NotFound):
        ckan.action.resource_show(id=uploaded["id"])

    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.package_create(name="nope", title="Nope", owner_org="environment")
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.package_delete(id="noise")
    with pytest.raises(ckanapi.NotAuthorized):
        ckanapi.RemoteCKAN(live_server.url, apikey=world.outsider_token).action.package_patch(id="noise", notes="x")
    with pytest.raises(ckanapi.ValidationError) as invalid:
        ckan.action.package_create(name="Not A Valid Name", title="x", owner_org="environment")
    assert "name" in invalid.value.error_dict
    with pytest.raises(ckanapi.ValidationError) as taken:
        ckan.action.package_create(name="noise", title="Again", owner_org="environment")
    assert taken.value.error_dict["name"] == ["That URL is already in use."]
    with pytest.raises(ckanapi.SearchQueryError):
        anonymous.action.package_search(sort="nonsense desc")
    with pytest.raises(ckanapi.CKANAPIError):
        anonymous.action.no_such_action()

    ckan.action.package_delete(id="noise")
    with pytest.raises(ckanapi.NotFound):
        anonymous.action.package_show(id="noise")
    assert anonymous.action.package_list() == ["air-quality"]


def test_dump_and_load_round_trip(live_server, target_server, tmp_path):
    world = _world(live_server)
    ckan = ckanapi.RemoteCKAN(live_server.url, apikey=world.admin_token)
    ckan.action.group_create(name="maps", title="Mapes")
    ckan.action.organization_create(name="culture", title="Cultura", description="Museus i biblioteques")
    ckan.action.package_create(name="museums", title="Museus", owner_org="culture")
    ckan.action.package_create(
        name="trees",
        title="Arbrat",
        title_translated={"ca": "Arbrat", "en": "Trees"},
        owner_org="environment",
        notes="Arbres de la ciutat",
        maintainer="Parcs",
        maintainer_email="parcs@example.org",
        tags=[{"name": "trees"}, {"name": "green"}],
        groups=[{"name": "maps"}],
        extras=[{"key": "frequency", "value": "ANNUAL"}, {"key": "source", "value": "inventory"}],
        resources=[{"url": "https://example.org/trees.geojson", "format": "GEOJSON", "name": "Mapa"}],
    )
    ckan.action.package_create(name="bikes", title="Bicicletes", owner_org="mobility", url="https://example.org/b")
    ckan.action.package_create(name="private-one", title="Privat", owner_org="mobility", private=True)

    dumps = {}
    for thing in ("organizations", "groups", "datasets"):
        out = tmp_path / f"{thing}.jsonl"
        done = _ckanapi("dump", thing, "--all", "-r", live_server.url, "-O", str(out), "-q")
        assert done.returncode == 0, done.stderr
        dumps[thing] = out
    names = [json.loads(line)["name"] for line in dumps["datasets"].read_text().splitlines()]
    assert sorted(names) == ["bikes", "museums", "trees"], "private datasets are not dumped anonymously"

    target = _world(target_server)  # has environment and mobility (other ids), not culture
    for thing in ("organizations", "groups", "datasets"):
        done = _ckanapi("load", thing, "-I", str(dumps[thing]), "-r", target_server.url, "-a", target.admin_token)
        assert done.returncode == 0, done.stderr + done.stdout
    moved = ckanapi.RemoteCKAN(target_server.url)
    assert moved.action.package_list() == ["bikes", "museums", "trees"]
    assert moved.action.organization_list() == ["culture", "environment", "mobility"]
    culture = moved.action.organization_show(id="culture")
    assert culture["title"] == "Cultura" and culture["description"] == "Museus i biblioteques"
    assert culture["package_count"] == 1
    source, copy = ckan.action.package_show(id="trees"), moved.action.package_show(id="trees")
    for key in ("title", "title_translated", "notes", "maintainer", "maintainer_email", "extras", "license_id"):
        assert copy[key] == source[key], key
    assert [t["name"] for t in copy["tags"]] == [t["name"] for t in source["tags"]]
    assert copy["organization"]["name"] == "environment" and copy["groups"][0]["name"] == "maps"
    keep = ("url", "format", "name", "mimetype")
    assert [{k: r[k] for k in keep} for r in copy["resources"]] == [
        {k: r[k] for k in keep} for r in source["resources"]
    ]
    assert moved.action.package_show(id="bikes")["url"] == "https://example.org/b"

    again = _ckanapi(
        "load", "datasets", "-I", str(dumps["datasets"]), "-r", target_server.url, "-a", target.admin_token
    )
    assert again.returncode == 0, again.stderr
    assert " update " in again.stderr
    assert moved.action.package_show(id="trees")["title_translated"] == source["title_translated"]
    assert moved.action.organization_show(id="mobility")["title"] == "Mobility Department"
