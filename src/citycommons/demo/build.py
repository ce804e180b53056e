"""Builds the demo city through the services, as an editor of each department would: the catalog record,
departments, groups, users and ~50 datasets with generated files. Idempotent: whatever already exists (by name) is
left alone, so a second run changes nothing. Deterministic: every dataset draws from its own seeded generator, and
all dates count back from an anchor day, the catalog's ``issued`` date (the day of the first run)."""

from __future__ import annotations

import random
import secrets
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session

from citycommons.accounts import service as accounts
from citycommons.accounts.schemas import UserCreate
from citycommons.actor import SYSTEM, Actor
from citycommons.catalog import catalog_info, distributions, groups, organizations
from citycommons.catalog import service as datasets
from citycommons.catalog.models import Activity, Dataset, Distribution
from citycommons.catalog.schemas import DatasetCreate, DistributionCreate, GroupCreate, OrganizationCreate, Upload
from citycommons.demo import files, places
from citycommons.demo.datasets_city import ENVIRONMENT, FINANCE, MOBILITY, URBAN
from citycommons.demo.datasets_people import CULTURE, HEALTH, PARTICIPATION, STATISTICS
from citycommons.demo.publishers import CATALOG, DEPARTMENTS, GROUPS, Department
from citycommons.demo.spec import Link, Spec, T
from citycommons.demo.tables import Ctx, months_back
from citycommons.errors import NotFound
from citycommons.initiatives import demo as initiatives_demo
from citycommons.ledger import demo as ledger_demo
from citycommons.registers import demo as registers_demo
from citycommons.settings import Settings

SEED = "citycommons-demo-barcelona-v1"
SPECS: tuple[Spec, ...] = ENVIRONMENT + MOBILITY + URBAN + FINANCE + STATISTICS + HEALTH + CULTURE + PARTICIPATION
ADMIN = "admin"
GEOJSON_SPEC = "https://www.rfc-editor.org/rfc/rfc7946"
LANGUAGES = ["CAT", "SPA", "ENG"]


@dataclass
class DemoReport:
    created: Counter[str] = field(default_factory=Counter)
    existing: Counter[str] = field(default_factory=Counter)
    generated_password: str | None = None

    ORDER = ("catalog record", "organisations", "groups", "users", "memberships", "datasets", "files", "links")

    def counts(self) -> dict[str, tuple[int, int]]:
        return {what: (self.created[what], self.existing[what]) for what in self.ORDER}

    @property
    def changed(self) -> bool:
        return sum(self.created.values()) > 0


@dataclass
class _Passwords:
    given: str | None
    report: DemoReport

    def get(self) -> str:
        if self.given is None:
            self.given = secrets.token_urlsafe(12)
            self.report.generated_password = self.given
        return self.given


def build_demo(*, session: Session, settings: Settings, admin_password: str | None = None) -> DemoReport:
    """Creates whatever part of the demo city is missing; the caller commits."""
    report = DemoReport()
    passwords = _Passwords(admin_password, report)
    anchor = _catalog_record(session, settings, report)
    admin_id = _user(session, report, passwords, ADMIN, "Administrador/a del portal", sysadmin=True)
    editors: dict[str, Actor] = {}
    for dept in DEPARTMENTS:
        _organisation(session, report, dept)
        user_id = _user(session, report, passwords, dept.editor, f"Editor/a · {dept.title['ca']}")
        _membership(session, report, dept, user_id)
        editors[dept.name] = accounts.actor_for_user(session=session, user_id=user_id, client="demo")
    for name, title, description in GROUPS:
        _group(session, report, name, title, description)
    with tempfile.TemporaryDirectory(prefix="citycommons-demo-") as tmp:
        for spec in SPECS:
            _dataset(session, settings, report, editors[spec.org], spec, anchor, Path(tmp))
    session.flush()
    registers_demo.seed(session=session)
    moderator = accounts.actor_for_user(session=session, user_id=admin_id, client="demo")
    initiatives_demo.seed(session=session, moderator=moderator, key=settings.pseudonym_key)  # decisions logged
    ledger_demo.seed(session=session, settings=settings)  # reads of the non-open datasets; a signed tree head
    return report


# --- publishers and people -------------------------------------------------------------------------------------


def _catalog_record(session: Session, settings: Settings, report: DemoReport) -> date:
    """Writes the catalog record once; its ``issued`` date is the demo's anchor day."""
    info = catalog_info.get(session=session, settings=settings)
    if info.modified is not None:  # the row exists
        report.existing["catalog record"] += 1
        return info.issued or datetime.now(UTC).date()
    anchor = datetime.now(UTC).date()
    data = catalog_info.CatalogInfoPatch.model_validate({**CATALOG, "issued": anchor})
    catalog_info.update(session=session, actor=SYSTEM, settings=settings, data=data)
    report.created["catalog record"] += 1
    return anchor


def _user(
    session: Session, report: DemoReport, passwords: _Passwords, name: str, fullname: str, *, sysadmin: bool = False
) -> str:
    try:
        user_id = accounts.find_user_id(session=session, id_or_name=name)
        report.existing["users"] += 1
        return user_id
    except NotFound:
        pass
    data = UserCreate(
        name=name, email=f"{name}@barcelona.example", password=passwords.get(), fullname=fullname, sysadmin=sysadmin
    )
    report.created["users"] += 1
    return accounts.create_user(session=session, actor=SYSTEM, data=data).id


def _organisation(session: Session, report: DemoReport, dept: Department) -> None:
    try:
        organizations.get(session=session, actor=SYSTEM, id_or_name=dept.name, with_count=False)
        report.existing["organisations"] += 1
    except NotFound:
        data = OrganizationCreate(
            name=dept.name,
            title=dept.title,
            description=dept.description,
            email=dept.email,
            homepage=f"https://barcelona.example/{dept.name}",
        )
        organizations.create(session=session, actor=SYSTEM, data=data)
        report.created["organisations"] += 1


def _membership(session: Session, report: DemoReport, dept: Department, user_id: str) -> None:
    current = organizations.members(session=session, actor=SYSTEM, id_or_name=dept.name)
    if any(m.user_id == user_id for m in current):
        report.existing["memberships"] += 1
        return
    organizations.set_member(session=session, actor=SYSTEM, id_or_name=dept.name, user=user_id, role="editor")
    report.created["memberships"] += 1


def _group(session: Session, report: DemoReport, name: str, title: dict[str, str], desc: dict[str, str]) -> None:
    try:
        groups.get(session=session, actor=SYSTEM, id_or_name=name, with_count=False)
        report.existing["groups"] += 1
    except NotFound:
        groups.create(session=session, actor=SYSTEM, data=GroupCreate(name=name, title=title, description=desc))
        report.created["groups"] += 1


# --- datasets --------------------------------------------------------------------------------------------------


def _exists(session: Session, name: str) -> bool:
    try:
        datasets.get(session=session, actor=SYSTEM, id_or_name=name, include_deleted=True)
        return True
    except NotFound:
        return False


def _dates(spec: Spec, anchor: date) -> tuple[datetime, datetime, date, date]:
    """Created and modified (spread over the two years before the anchor), temporal start and end."""
    rng = random.Random(f"{SEED}:{spec.name}:dates")
    noon = datetime(anchor.year, anchor.month, anchor.day, 12, tzinfo=UTC)
    age = rng.randint(20, 730)
    created = noon - timedelta(days=age, minutes=rng.randint(0, 600))
    modified = created + timedelta(days=rng.randint(0, age - 1), minutes=rng.randint(0, 300))
    unit, amount = spec.temporal
    end = anchor - timedelta(days=1)
    if unit == "years" and amount == 1:  # a snapshot of this year
        start = date(anchor.year, 1, 1)
    elif unit == "years":
        start, end = date(anchor.year - amount, 1, 1), date(anchor.year - 1, 12, 31)
    elif unit == "months":
        start, end = months_back(anchor, amount)[0], anchor.replace(day=1) - timedelta(days=1)
    else:
        start = anchor - timedelta(days=amount)
    end = max(start, end)
    return created, modified, start, end


def _spatial(spec: Spec) -> tuple[str, str]:
    kind, _, code = spec.spatial.partition(":")
    if kind == "district":
        return places.district(int(code)).uri, ""
    if kind == "district-wkt":
        d = places.district(int(code))
        return d.uri, d.wkt()
    if kind == "wkt":
        return places.CITY_URI, places.city_wkt()
    return places.CITY_URI, ""


def _dataset(
    session: Session, settings: Settings, report: DemoReport, editor: Actor, spec: Spec, anchor: date, tmp: Path
) -> None:
    if _exists(session, spec.name):
        report.existing["datasets"] += 1
        return
    created, modified, start, end = _dates(spec, anchor)
    spatial_uri, spatial_wkt = _spatial(spec)
    dept = next(d for d in DEPARTMENTS if d.name == spec.org)
    data = DatasetCreate(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        identifier=f"bcn-{spec.name}",
        organization=spec.org,
        private=spec.private,
        access_rights=spec.access_rights,
        license_id=spec.license_id,
        themes=list(spec.themes),
        tags=list(spec.tags),
        groups=list(spec.groups),
        contact_name=dept.title["ca"],
        contact_email=dept.email,
        spatial_uri=spatial_uri,
        spatial_wkt=spatial_wkt,
        temporal_start=start,
        temporal_end=end,
        frequency=spec.frequency,
        issued=created.date(),
        modified=modified.date(),
        version="1.0",
        conforms_to=[GEOJSON_SPEC] if "geojson" in spec.files else [],
        languages=LANGUAGES,
        landing_page=f"https://barcelona.example/{spec.org}/{spec.name}",
        extras={"source": "citycommons demo generator", "granularity": _granularity(spec)},
    )
    read = datasets.create(session=session, actor=editor, settings=settings, data=data)
    report.created["datasets"] += 1
    table = spec.table(Ctx(rng=random.Random(f"{SEED}:{spec.name}"), anchor=anchor))
    stem = f"{anchor.year}_{spec.name.replace('-', '_')}"
    for kind_key in spec.files:
        kind = files.KINDS[kind_key]
        suffix = "_latin1" if kind_key == "csv-latin1" else ""
        path = files.write(table, kind_key, tmp / f"{stem}{suffix}.{kind.extension}")
        n = len(table.rows)
        description = T(
            f"{n} registres. Dades generades per a la demostració.",
            f"{n} registros. Datos generados para la demostración.",
            f"{n} records. Data generated for the demo.",
        )
        distributions.create(
            session=session,
            actor=editor,
            settings=settings,
            dataset=read.id,
            data=DistributionCreate(
                title=kind.label,
                description=description,
                format=kind.format,
                media_type=kind.media_type,
                extras=kind.extras,
            ),
            upload=Upload(filename=path.name, path=str(path), content_type=kind.media_type),
        )
        path.unlink()
        report.created["files"] += 1
    for link in spec.links:
        distributions.create(session=session, actor=editor, settings=settings, dataset=read.id, data=_link(link))
        report.created["links"] += 1
    _backdate(session, read.id, created, modified)


def _granularity(spec: Spec) -> str:
    return "city" if spec.spatial == "city" else "point" if "wkt" in spec.spatial else spec.spatial


def _link(link: Link) -> DistributionCreate:
    is_service = link.path.startswith(("api/", "wms/"))
    return DistributionCreate(
        title=link.title,
        description=link.description or {},
        url="" if is_service else link.url,
        access_url=link.url if is_service else "",
        format=link.format,
    )


def _backdate(session: Session, dataset_id: str, created: datetime, modified: datetime) -> None:
    """Spreads the demo's history over two years: creation, last change, distributions and activity times."""
    session.flush()
    session.execute(
        update(Dataset)
        .where(Dataset.id == dataset_id)
        .values(metadata_created=created, metadata_modified=modified)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Distribution)
        .where(Distribution.dataset_id == dataset_id)
        .values(created=created, last_modified=modified)
        .execution_options(synchronize_session=False)
    )
    for kind, when in (("new package", created), ("changed package", modified)):
        session.execute(
            update(Activity)
            .where(Activity.object_id == dataset_id, Activity.activity_type == kind)
            .values(timestamp=when)
            .execution_options(synchronize_session=False)
        )
    session.expire_all()
