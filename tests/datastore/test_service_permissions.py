"""The datastore service layer: who sees which table (NotFound), who reads which rows (Forbidden), who writes, and
that every read of rows of non-open data is logged. Real files from ../shared/data, ingested with ``ingest_file``
for distributions created through the catalog services."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from citycommons.accounts.service import actor_for_token
from citycommons.actor import ANONYMOUS, SYSTEM, Actor
from citycommons.catalog import distributions, organizations
from citycommons.datastore import DatastoreConfig, ingest_file, service
from citycommons.datastore.config import from_settings
from citycommons.datastore.query import parse_request
from citycommons.errors import Forbidden, Invalid, NotFound
from citycommons.ledger.models import LedgerEntry
from citycommons.ledger.schemas import EventType
from citycommons.settings import Settings
from tests import factories
from tests.conftest import SHARED

DATA = SHARED / "data"
PADRO = "bcn-padro-educacio-2023.csv"
STATIONS = "bcn-air-stations.csv"
TREES = "madrid-arbolado-distritos-2024.csv"
DISTRICTES = "bcn-districtes.geojson"


@dataclass
class Tables:
    """Distribution ids of the tables of the test world, and tokens of everyone who asks."""

    open: str  # PUBLIC dataset of org A (Barcelona Padró, 12,687 rows)
    restricted: str  # RESTRICTED dataset of org A (air stations)
    private: str  # private dataset of org A (Madrid trees)
    geo: str  # PUBLIC dataset of org A (districts, GeoJSON)
    deleted: str  # a deleted distribution whose table is still on disk
    no_table: str  # a distribution without a table
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": self.tokens[who]} if who != "anonymous" else {}


def ingest(settings: Settings, table_id: str, name: str) -> None:
    ingest_file(config=from_settings(settings), table_id=table_id, source=DATA / name, filename=name)


_TEMPLATES: dict[str, Path] = {}


def ingest_once(settings: Settings, table_id: str, name: str) -> None:
    """``ingest`` of the first version, done once per test session for each file and copied afterwards: the
    version directory is self-contained (Parquet, schema, report), so a copy is what the ingest would publish."""
    template = _TEMPLATES.get(name)
    if template is None or not template.is_dir():
        root = Path(tempfile.mkdtemp(prefix="datastore-template-"))
        atexit.register(shutil.rmtree, root, True)
        ingest_file(config=DatastoreConfig(root=root, memory_limit="256MB", threads=1), table_id="template",
                    source=DATA / name, filename=name)  # fmt: skip
        template = _TEMPLATES[name] = root / "template" / "v1"
    target = from_settings(settings).root / table_id / "v1"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template, target)


def build_tables(session: Session, settings: Settings) -> Tables:
    """Org A (``environment``: an editor and a plain member), org B (``mobility``: a member), an outsider, a
    sysadmin; four tables in org A."""
    world = factories.make_world(session)
    member_id, member_token = factories.make_user(session, "member-a")
    organizations.set_member(session=session, actor=SYSTEM, id_or_name=world.org_a, user=member_id,
                             role="member")  # fmt: skip

    def dataset(name: str, file: str, **extra: Any) -> str:
        ds = factories.make_dataset(session, name, distributions=[{"title": {"en": file}, "url": f"https://example.org/{file}", "format": "CSV"}], **extra)  # fmt: skip  # noqa: E501
        table_id = ds.distributions[0].id
        ingest_once(settings, table_id, file)
        return table_id

    open_id = dataset("padro", PADRO)
    restricted = dataset("stations", STATIONS, access_rights="RESTRICTED")
    private = dataset("trees", TREES, private=True)
    geo = dataset("districtes", DISTRICTES)
    deleted = dataset("gone", STATIONS)
    distributions.delete(session=session, actor=SYSTEM, distribution_id=deleted)
    no_table = factories.make_dataset(session, "no-table").distributions[0].id
    session.flush()
    tokens = {
        "admin": world.admin_token, "editor": world.editor_token, "member": member_token,
        "other": world.member_b_token, "outsider": world.outsider_token,
    }  # fmt: skip
    return Tables(open_id, restricted, private, geo, deleted, no_table, tokens)


def actor(db: Session, tables: Tables, who: str) -> Actor:
    return ANONYMOUS if who == "anonymous" else actor_for_token(session=db, token=tables.tokens[who], client="test")


def reads_logged(db: Session) -> int:
    return (
        db.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.event_type == EventType.DATASET_READ.value)
        )
        or 0
    )


READERS_OF_RESTRICTED = ["admin", "editor", "member"]
NOT_MEMBERS = ["anonymous", "outsider", "other"]


@pytest.mark.parametrize("who", READERS_OF_RESTRICTED + NOT_MEMBERS)
def test_open_table_is_readable_by_everyone(db: Session, settings: Settings, tables: Tables, who: str) -> None:
    a = actor(db, tables, who)
    info = service.get_table(session=db, actor=a, settings=settings, resource_id=tables.open)
    assert info.rows == 12687 and info.version == 1 and info.can_read_data
    assert info.can_edit == (who in ("admin", "editor"))
    assert {f.name: f.type for f in info.table_schema.fields}["Valor"] == "integer"
    page = service.search(session=db, actor=a, settings=settings, resource_id=tables.open,
                          request=parse_request({"filters": {"Codi_Districte": 1}, "limit": 5, "include_total": True}))  # fmt: skip  # noqa: E501
    assert page.total == 648 and len(page.records) == 5


@pytest.mark.parametrize("who", NOT_MEMBERS)
def test_restricted_rows_are_forbidden_to_non_members(
    db: Session, settings: Settings, tables: Tables, who: str
) -> None:
    a = actor(db, tables, who)
    info = service.get_table(session=db, actor=a, settings=settings, resource_id=tables.restricted)
    assert not info.can_read_data and info.rows == 55  # the metadata is visible, as the dataset is
    request = parse_request({})
    with pytest.raises(Forbidden):
        service.search(session=db, actor=a, settings=settings, resource_id=tables.restricted, request=request)
    with pytest.raises(Forbidden):
        service.export(
            session=db, actor=a, settings=settings, resource_id=tables.restricted, request=request, fmt="csv"
        )
    with pytest.raises(Forbidden):
        service.diff(
            session=db, actor=a, settings=settings, resource_id=tables.restricted, from_version=1, to_version=1
        )
    # in SQL a restricted table is as unknown as a table that does not exist
    with pytest.raises(Invalid, match="unknown table"):
        service.run_sql(session=db, actor=a, settings=settings, sql=f'SELECT count(*) AS n FROM "{tables.restricted}"')  # noqa: E501


@pytest.mark.parametrize("who", NOT_MEMBERS)
def test_private_deleted_unknown_tables_are_not_found(
    db: Session, settings: Settings, tables: Tables, who: str
) -> None:
    a = actor(db, tables, who)
    for resource_id in (tables.private, tables.deleted, tables.no_table, "no-such-table", "../../etc"):
        with pytest.raises(NotFound):
            service.get_table(session=db, actor=a, settings=settings, resource_id=resource_id)
        with pytest.raises(NotFound):
            service.search(session=db, actor=a, settings=settings, resource_id=resource_id, request=parse_request({}))
        with pytest.raises(NotFound):
            service.list_versions(session=db, actor=a, settings=settings, resource_id=resource_id)


@pytest.mark.parametrize("who", READERS_OF_RESTRICTED)
def test_members_read_restricted_and_private_rows_and_each_read_is_logged(
    db: Session, settings: Settings, tables: Tables, who: str
) -> None:
    a = actor(db, tables, who)
    before = reads_logged(db)
    page = service.search(session=db, actor=a, settings=settings, resource_id=tables.restricted,
                          request=parse_request({"limit": 3}))  # fmt: skip
    assert len(page.records) == 3
    result = service.run_sql(session=db, actor=a, settings=settings,
                             sql=f'SELECT count(*) AS n FROM "{tables.private}"')  # fmt: skip
    assert result.records == [{"n": 282 - 22}]
    export = service.export(session=db, actor=a, settings=settings, resource_id=tables.private,
                            request=parse_request({}), fmt="csv")  # fmt: skip
    assert b"".join(export.chunks).count(b"\n") == 261
    service.diff(session=db, actor=a, settings=settings, resource_id=tables.restricted, from_version=1, to_version=1)
    assert reads_logged(db) == before + 4
    service.search(session=db, actor=a, settings=settings, resource_id=tables.open, request=parse_request({}))
    assert reads_logged(db) == before + 4  # open data is not logged


def test_schema_edits_are_for_editors(db: Session, settings: Settings, tables: Tables) -> None:
    from citycommons.datastore.schemas import FieldOverride, SchemaOverride

    override = SchemaOverride(fields={"Valor": FieldOverride(title="Persones", description="Nombre de persones")})
    for who in ("member", "other", "outsider", "anonymous"):
        with pytest.raises((Forbidden, NotFound)):
            service.update_schema(session=db, actor=actor(db, tables, who), settings=settings,
                                  resource_id=tables.open, override=override)  # fmt: skip
    schema = service.update_schema(session=db, actor=actor(db, tables, "editor"), settings=settings,
                                   resource_id=tables.open, override=override)  # fmt: skip
    assert schema.field("Valor").title == "Persones"
    assert (
        service.get_schema(session=db, actor=ANONYMOUS, settings=settings, resource_id=tables.open).field("Valor").title
        == "Persones"
    )


def test_versions_and_pinning(db: Session, settings: Settings, tables: Tables) -> None:
    ingest(settings, tables.open, PADRO)
    a = ANONYMOUS
    listed = service.list_versions(session=db, actor=a, settings=settings, resource_id=tables.open)
    assert [v.version for v in listed] == [1, 2] and all(v.rows == 12687 for v in listed)
    assert service.get_table(session=db, actor=a, settings=settings, resource_id=tables.open, version=1).version == 1
    with pytest.raises(NotFound):
        service.get_table(session=db, actor=a, settings=settings, resource_id=tables.open, version=3)
    with pytest.raises(NotFound):
        service.get_report(session=db, actor=a, settings=settings, resource_id=tables.open, version=9)
    diff = service.diff(session=db, actor=a, settings=settings, resource_id=tables.open, from_version=1, to_version=2)
    assert diff.summary.added == diff.summary.removed == diff.summary.changed == 0


def test_report_values_are_hidden_from_non_members(db: Session, settings: Settings, tables: Tables) -> None:
    # a second version of the restricted table from the car parks file, whose malformed longitude is quarantined
    ingest(settings, tables.restricted, "madrid-aparcamientos-publicos.csv")
    member = actor(db, tables, "member")
    report = service.get_report(session=db, actor=member, settings=settings, resource_id=tables.restricted)
    assert any(q.value for q in report.quarantine)
    hidden = service.get_report(session=db, actor=ANONYMOUS, settings=settings, resource_id=tables.restricted)
    assert len(hidden.quarantine) == len(report.quarantine) and all(q.value is None for q in hidden.quarantine)
    assert any("--3.65138632197171" in w for w in report.warnings)
    assert not any("--3.65138632197171" in w for w in hidden.warnings)
    info = service.get_table(session=db, actor=ANONYMOUS, settings=settings, resource_id=tables.restricted)
    assert all(q.value is None for q in info.report.quarantine)


def test_geometry_field_is_named(db: Session, settings: Settings, tables: Tables) -> None:
    info = service.get_table(session=db, actor=ANONYMOUS, settings=settings, resource_id=tables.geo)
    assert info.geometry_field == "geometry" and info.rows == 10
