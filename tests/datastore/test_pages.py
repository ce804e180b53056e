"""The datastore's web pages through HTTP: preview (paging, sort, filters, exports, report), chart, map,
dictionary (and its editor form), versions and diff; who may see them; and that data and column names are inert."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from citycommons.datastore import config as datastore_config
from citycommons.datastore import status
from citycommons.datastore.ingest import ingest_file
from citycommons.settings import Settings
from tests import factories

XSS = "<script>alert(1)</script>"
CSV = (
    "station,day,no2,district\n"
    "Gracia,2024-01-01,41,Gràcia\n"
    "Eixample,2024-01-01,52,Eixample\n"
    "Gracia,2024-01-02,38,Gràcia\n"
    "Eixample,2024-01-02,..,Eixample\n"
    f'Sants,2024-01-02,29,"{XSS}"\n'
)
GEOJSON = (
    '{"type":"FeatureCollection","features":['
    '{"type":"Feature","properties":{"name":"Plaça <b>Major</b>","code":"08"},'
    '"geometry":{"type":"Point","coordinates":[2.17,41.39]}},'
    '{"type":"Feature","properties":{"name":"Parc","code":"09"},'
    '"geometry":{"type":"Polygon","coordinates":[[[2.1,41.3],[2.2,41.3],[2.2,41.4],[2.1,41.3]]]}}]}'
)


def ingest(settings: Settings, table_id: str, tmp_path: Path, content: str, filename: str) -> None:
    source = tmp_path / filename
    source.write_text(content, encoding="utf-8")
    ingest_file(config=datastore_config.from_settings(settings), table_id=table_id, source=source, filename=filename)


def make_table(uow: Any, settings: Settings, tmp_path: Path, name: str, content: str = CSV, filename: str = "air.csv",
               **extra: Any) -> str:  # fmt: skip
    with uow() as s:
        ds = factories.make_dataset(s, name, **extra)
    dist_id = ds.distributions[0].id
    ingest(settings, dist_id, tmp_path, content, filename)
    with uow() as s:
        status.set_active(s, dist_id, True)
    return f"/dataset/{name}/resource/{dist_id}"


@pytest.fixture(autouse=True)
def english(client: TestClient) -> None:
    client.headers["Accept-Language"] = "en"


@pytest.fixture
def air(uow: Any, settings: Settings, world: factories.World, tmp_path: Path) -> str:
    return make_table(uow, settings, tmp_path, "air")


def test_preview_shows_rows_types_report_and_exports(client: TestClient, air: str) -> None:
    r = client.get(f"{air}/data")
    assert r.status_code == 200, r.text
    html = r.text
    assert "Rows 1–5 of 5" in html
    assert "Gràcia" in html and "Eixample" in html
    # column types in the header
    assert re.search(r'col-name">no2</span>.*?col-type">integer<', html, re.S)
    assert re.search(r'col-name">day</span>.*?col-type">date<', html, re.S)
    # every export format of this query, pinned to the version
    resource_id = air.rsplit("/", 1)[-1]
    for fmt in ("csv", "xlsx", "json", "ndjson", "parquet"):
        assert f"/api/v1/datastore/{resource_id}/export.{fmt}?version=1" in html
    assert "export.geojson" not in html  # no geometry column
    # the validation report
    assert "Validation report of version 1" in html and "air.csv" in html


def test_preview_sorts_filters_and_pages(client: TestClient, air: str) -> None:
    html = client.get(f"{air}/data?sort=no2&dir=desc").text
    assert html.index(">52<") < html.index(">41<") < html.index(">38<")
    assert 'aria-sort="descending"' in html
    html = client.get(f"{air}/data", params={"fc": "station", "fo": "eq", "fv": "Gracia"}).text
    assert "Rows 1–2 of 2" in html and ">Eixample<" not in html.split("<tbody>")[1]
    # the export links carry the same filter
    link = re.search(r'href="(/api/v1/datastore/[^"]+/export\.csv\?[^"]+)"', html)
    assert link is not None
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert query["filters"] == ['{"station":{"eq":"Gracia"}}']
    html = client.get(f"{air}/data", params={"fc": "no2", "fo": "gte", "fv": "40"}).text
    assert "Rows 1–2 of 2" in html
    html = client.get(f"{air}/data", params={"fc": "no2", "fo": "is_null"}).text
    assert "Rows 1–1 of 1" in html
    html = client.get(f"{air}/data", params={"q": "sants"}).text
    assert "Rows 1–1 of 1" in html
    # paging: the next page goes by keyset cursor, the page numbers by offset
    html = client.get(f"{air}/data?limit=25&sort=station").text
    assert 'rel="next"' not in html
    bad = client.get(f"{air}/data", params={"fc": "no2", "fo": "gt", "fv": "lots"})
    assert bad.status_code == 400 and "The rows could not be shown" in bad.text


def test_preview_cursor_paging(client: TestClient, uow: Any, settings: Settings, world: Any, tmp_path: Path) -> None:
    rows = "\n".join(f"{i},name {i}" for i in range(1, 61))
    base = make_table(uow, settings, tmp_path, "many", content=f"id,name\n{rows}\n", filename="many.csv")
    html = client.get(f"{base}/data?limit=25&sort=id").text
    assert "Rows 1–25 of 60" in html
    nxt = re.search(r'href="([^"]+)" rel="next"', html)
    assert nxt is not None and "cursor=" in nxt.group(1)
    html = client.get(nxt.group(1).replace("&amp;", "&")).text
    assert "Rows 26–50 of 60" in html and ">26<" in html and ">50<" in html
    prev = re.search(r'href="([^"]+)" rel="prev"', html)
    assert prev is not None
    assert "Rows 1–25 of 60" in client.get(prev.group(1).replace("&amp;", "&")).text
    html = client.get(f"{base}/data?limit=25&sort=id&offset=50").text
    assert "Rows 51–60 of 60" in html


def test_html_in_cells_and_column_names_is_inert(
    client: TestClient, uow: Any, settings: Settings, world: Any, tmp_path: Path
) -> None:
    content = f'"<img src=x onerror=alert(1)>",plain\n"{XSS}",b\n'
    base = make_table(uow, settings, tmp_path, "xss", content=content, filename="xss.csv")
    for page in ("data", "dictionary", "chart", "versions"):
        html = client.get(f"{base}/{page}").text
        assert "<script>alert(1)</script>" not in html, page
        assert "<img src=x" not in html, page
    html = client.get(f"{base}/data").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    html = client.get(f"{base}/chart?x=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E").text
    assert "<img src=x" not in html


def test_cell_with_script_in_preview_is_escaped(client: TestClient, air: str) -> None:
    html = client.get(f"{air}/data").text
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_chart_page_without_javascript_shows_the_figures(client: TestClient, air: str) -> None:
    r = client.get(f"{air}/chart")
    assert r.status_code == 200
    assert "vega-lite.min.js" in r.text and "datastore-chart.js" in r.text
    html = client.get(f"{air}/chart?mark=bar&x=station&agg=sum&y=no2").text
    assert "Figures of the chart" in html
    body = html.split('id="chart-table-title"')[1]
    assert re.search(r">Gracia<.*?>79<", body, re.S)  # 41 + 38
    assert re.search(r">Eixample<.*?>52<", body, re.S)
    # the API request the script makes is the same query
    link = re.search(r'href="(/api/v1/datastore/[^"]+/rows\?[^"]+)" id="chart-api-link"', html)
    assert link is not None
    query = parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query)
    assert query["group_by"] == ["station"] and query["aggregates"] == ["sum:no2"]
    html = client.get(f"{air}/chart?x=day&unit=month&agg=count").text
    assert "day_month" in html
    # an aggregate that needs a number falls back to counting
    html = client.get(f"{air}/chart?x=station&agg=avg&y=district").text
    assert ">count<" in html


def test_chart_api_rows_answer_the_scripts_query(client: TestClient, air: str) -> None:
    resource_id = air.rsplit("/", 1)[-1]
    r = client.get(
        f"/api/v1/datastore/{resource_id}/rows",
        params={"version": 1, "limit": 5000, "group_by": "station", "aggregates": "avg:no2", "sort": "station"},
    )
    assert r.status_code == 200, r.text
    records = r.json()["records"]
    assert {rec["station"] for rec in records} == {"Gracia", "Eixample", "Sants"}
    assert "avg_no2" in records[0]


def test_map_page_for_geometry_and_for_coordinates(
    client: TestClient, uow: Any, settings: Settings, world: Any, tmp_path: Path
) -> None:
    base = make_table(uow, settings, tmp_path, "places", content=GEOJSON, filename="places.geojson")
    r = client.get(f"{base}/map")
    assert r.status_code == 200, r.text
    html = r.text
    assert 'data-kind="geojson"' in html and "leaflet.js" in html
    assert "Plaça &lt;b&gt;Major&lt;/b&gt;" in html and "<b>Major</b>" not in html
    source = re.search(r'data-source="([^"]+)"', html)
    assert source is not None
    geo = client.get(source.group(1).replace("&amp;", "&"))
    assert geo.status_code == 200 and len(geo.json()["features"]) == 2
    assert 'href="' + base + '/map"' in client.get(f"{base}/data").text  # the tab shows
    coords = "name,lat,lon\nA,41.38,2.17\nB,41.40,2.15\n"
    base2 = make_table(uow, settings, tmp_path, "points", content=coords, filename="points.csv")
    html = client.get(f"{base2}/map").text
    assert 'data-kind="points"' in html and 'data-lat="lat"' in html and 'data-lon="lon"' in html
    source = re.search(r'data-source="([^"]+)"', html)
    assert source is not None
    assert len(client.get(source.group(1).replace("&amp;", "&")).json()["records"]) == 2
    assert "41.38" in html  # the list of locations, for readers without JavaScript


def test_map_is_404_without_locations(client: TestClient, air: str) -> None:
    assert client.get(f"{air}/map").status_code == 404
    assert f'href="{air}/map"' not in client.get(f"{air}/data").text


def test_dictionary_shows_the_table_schema(client: TestClient, air: str, world: factories.World) -> None:
    r = client.get(f"{air}/dictionary")
    assert r.status_code == 200
    assert "<code>no2</code>" in r.text and "<code>..</code>" in r.text  # the missing-value marker seen
    assert "Edit the data dictionary" not in r.text  # anonymous
    r = client.get(f"{air}/dictionary", headers=world.auth("outsider"))
    assert "Edit the data dictionary" not in r.text


def login(client: TestClient, name: str) -> str:
    page = client.get("/user/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    r = client.post(
        "/user/login",
        data={"login": name, "password": "correct horse battery", "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/user/me").text)


def csrf_of(html: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert token is not None
    return token.group(1)


def dictionary_form(html: str) -> dict[str, Any]:
    form = html[html.index("Edit the data dictionary") :]
    data: dict[str, Any] = {"primary_key": []}
    for name, value in re.findall(r'<input id="[^"]*" name="([^"]+)" type="text" value="([^"]*)"', form):
        data[name] = value.replace("&amp;", "&")
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
        data[name] = value
    for name in re.findall(r'<select id="[^"]*" name="(type-\d+)"', form):
        data[name] = ""
    for name in re.findall(r'<textarea id="[^"]*" name="([^"]+)"', form):
        data[name] = ""
    return data


def test_editor_edits_the_dictionary(client: TestClient, air: str, settings: Settings, tmp_path: Path) -> None:
    login(client, "editor")
    html = client.get(f"{air}/dictionary").text
    assert "Edit the data dictionary" in html and "apply from the next upload" in html
    assert "applied again every time a new file is uploaded" in html
    data = dictionary_form(html)
    names = {data[k]: k.split("-")[1] for k in data if k.startswith("name-")}
    i = names["no2"]
    data[f"title-{i}"] = "Nitrogen dioxide <µg/m³>"
    data[f"description-{i}"] = "Hourly mean"
    data[f"type-{i}"] = "number"
    data["primary_key"] = ["station", "day"]
    r = client.post(f"{air}/dictionary", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text
    html = client.get(f"{air}/dictionary").text
    assert "The data dictionary was saved." in html
    assert "Nitrogen dioxide &lt;µg/m³&gt;" in html and "Hourly mean" in html
    assert re.search(rf'name="type-{i}">.*?<option value="number" selected>', html, re.S)
    # the edits survive the next upload: the type applies to the data
    resource_id = air.rsplit("/", 1)[-1]
    ingest(settings, resource_id, tmp_path, CSV.replace("41", "41.5"), "air2.csv")
    html = client.get(f"{air}/data").text
    assert re.search(r'col-name">no2</span>.*?col-type">number<', html, re.S)
    assert "Nitrogen dioxide" in client.get(f"{air}/dictionary").text
    # field errors, and the form keeps what was typed
    data = dictionary_form(client.get(f"{air}/dictionary").text)
    data[f"format-{names['station']}"] = "%d/%m/%Y"
    data[f"title-{names['station']}"] = "Station name typed"
    r = client.post(f"{air}/dictionary", data=data)
    assert r.status_code == 422
    assert "A format is only accepted for date and datetime types." in r.text
    assert 'value="Station name typed"' in r.text
    # without the CSRF token the form is refused
    data.pop("csrf_token")
    assert client.post(f"{air}/dictionary", data=data).status_code == 403


def test_outsiders_may_not_edit_the_dictionary(client: TestClient, air: str) -> None:
    csrf = login(client, "outsider")
    r = client.post(f"{air}/dictionary", data={"csrf_token": csrf, "name-0": "station"})
    assert r.status_code == 403


def test_versions_and_diff(client: TestClient, air: str, settings: Settings, tmp_path: Path) -> None:
    resource_id = air.rsplit("/", 1)[-1]
    html = client.get(f"{air}/diff").text
    assert "only one version" in html
    changed = CSV.replace("Gracia,2024-01-01,41", "Gracia,2024-01-01,44") + "Sants,2024-01-03,31,Sants\n"
    ingest(settings, resource_id, tmp_path, changed, "air-v2.csv")
    html = client.get(f"{air}/versions").text
    assert "air-v2.csv" in html and "air.csv" in html
    assert f'href="{air}/diff?from=1&amp;to=2"' in html
    r = client.get(f"{air}/diff?from=1&to=2")
    assert r.status_code == 200, r.text
    html = r.text
    assert "From version 1 to version 2" in html
    assert "diff-badge diff-added" in html and "Sants" in html
    # the preview of an older version says which it is
    html = client.get(f"{air}/data?version=1").text
    assert "Version 1 of 2" in html and ">44<" not in html
    assert client.get(f"{air}/data?version=9").status_code == 404
    html = client.get(f"{air}/data").text
    assert ">44<" in html and "Version 2 (latest)" in html


@pytest.mark.parametrize("page", ["data", "chart", "dictionary", "versions", "diff"])
def test_private_dataset_is_not_found_for_outsiders(
    client: TestClient, uow: Any, settings: Settings, world: factories.World, tmp_path: Path, page: str
) -> None:
    base = make_table(uow, settings, tmp_path, "secret", private=True)
    assert client.get(f"{base}/{page}").status_code == 404
    assert client.get(f"{base}/{page}", headers=world.auth("outsider")).status_code == 404
    assert client.get(f"{base}/{page}", headers=world.auth("member_b")).status_code == 404
    assert client.get(f"{base}/{page}", headers=world.auth("editor")).status_code == 200
    assert client.get(f"{base}/{page}", headers=world.auth("admin")).status_code == 200


@pytest.mark.parametrize("page", ["data", "chart", "diff"])
def test_restricted_rows_are_forbidden_for_outsiders(
    client: TestClient, uow: Any, settings: Settings, world: factories.World, tmp_path: Path, page: str
) -> None:
    base = make_table(uow, settings, tmp_path, "restricted", access_rights="RESTRICTED")
    assert client.get(f"{base}/{page}").status_code == 403
    assert client.get(f"{base}/{page}", headers=world.auth("member_b")).status_code == 403
    r = client.get(f"{base}/{page}", headers=world.auth("editor"))
    assert r.status_code == 200, r.text


def test_unknown_resource_and_pending_table(client: TestClient, uow: Any, world: factories.World, air: str) -> None:
    assert client.get("/dataset/air/resource/00000000-0000-0000-0000-000000000000/data").status_code == 404
    assert client.get("/dataset/nope/resource/00000000-0000-0000-0000-000000000000/data").status_code == 404
    with uow() as s:
        ds = factories.make_dataset(s, "pending")
    r = client.get(f"/dataset/pending/resource/{ds.distributions[0].id}/data")
    assert r.status_code == 404
    assert "no queryable table yet" in r.text and f"/resource/{ds.distributions[0].id}/ingest" in r.text
    # a resource of another dataset is not reachable under this one
    other = air.rsplit("/", 1)[-1]
    assert client.get(f"/dataset/pending/resource/{other}/data").status_code == 404


def test_dataset_id_redirects_to_the_name(client: TestClient, air: str, uow: Any) -> None:
    resource_id = air.rsplit("/", 1)[-1]
    dataset_id = client.get("/api/v1/datasets/air").json()["id"]
    r = client.get(f"/dataset/{dataset_id}/resource/{resource_id}/data?sort=no2", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == f"{air}/data?sort=no2"


def test_dataset_page_links_the_data_pages(client: TestClient, air: str) -> None:
    html = client.get("/dataset/air").text
    assert f'href="{air}/data"' in html and f'href="{air}/chart"' in html and f'href="{air}/dictionary"' in html


def test_pages_in_catalan(client: TestClient, air: str) -> None:
    client.headers.pop("Accept-Language")
    html = client.get(f"{air}/data").text  # the default language
    assert '<html lang="ca">' in html
    assert "Files 1–5 de 5" in html and "Descarrega aquestes files:" in html
    html = client.get(f"{air}/chart?lang=es").text
    assert "Tipo de gráfico" in html
