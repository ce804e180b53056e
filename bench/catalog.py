"""Catalog read benchmark: package_search and package_show over HTTP against 10,000 datasets, SQLite vs PostgreSQL.

    .venv/bin/python bench/catalog.py [--datasets 10000] [--requests 500] [--engines sqlite,postgres]

For each engine it builds the catalog in a fresh place (a temporary SQLite data directory; a new schema in the
PostgreSQL database ``test`` on 127.0.0.1:5432, dropped afterwards), starts ``citycommons serve`` (uvicorn, one
worker, rate limiting off) as a subprocess, and from this process sends a fixed, seeded list of requests with httpx
(sequential by default; ``--concurrency`` for more clients). It prints p50/p95/p99 latencies per operation for each
engine side by side, their ratio, and the targets.

Loading. The first ``--via-service`` datasets (default 50) are created through ``catalog.service.create`` exactly as
the API would; the rest go through a fast path (``fast_create``) that builds the same ORM rows in batches: the
dataset, its themes, tags, groups and distributions (fields validated by the service's own
``check_distribution_fields``), the "new package" activity row, and the search document from the service's own
``search_index.document_for`` (mirrored into FTS5 on SQLite). Before loading, ``verify_fast_path`` creates the same
dataset both ways and fails the benchmark if ``dataset_read`` or the search document differ. The fast path spreads
``metadata_created``/``metadata_modified`` over two years (the service stamps "now") so that sorting by date is
realistic. After loading, both engines run ``ANALYZE`` (what autovacuum or ``PRAGMA optimize`` would do in time).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.orm import Session

from citycommons.accounts.schemas import UserCreate
from citycommons.accounts.service import create_user
from citycommons.actor import SYSTEM, Actor
from citycommons.catalog import groups, organizations, service, vocabularies
from citycommons.catalog.models import (
    Activity,
    Dataset,
    DatasetTheme,
    Distribution,
    Group,
    Organization,
    SearchDocument,
    Tag,
)
from citycommons.catalog.reads import dataset_read
from citycommons.catalog.schemas import DatasetCreate, DistributionCreate, GroupCreate, OrganizationCreate
from citycommons.catalog.search_index import document_for, fold
from citycommons.catalog.service import check_distribution_fields
from citycommons.db.base import new_id
from citycommons.db.engine import make_engine, make_sessionmaker, unit_of_work
from citycommons.db.migrate import upgrade
from citycommons.demo import places
from citycommons.demo.build import SPECS
from citycommons.demo.publishers import DEPARTMENTS, GROUPS
from citycommons.settings import Settings

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGETS = {  # operation -> {percentile: ms}
    "package_search": {"p50": 20.0, "p99": 100.0},
    "package_show": {"p50": 5.0},
}
ANALYZED = ("dataset", "dataset_tag", "dataset_group", "dataset_theme", "distribution", "tag", "organization",
            "catalog_group", "search_document", "activity")  # fmt: skip
FORMATS = ["CSV", "JSON", "GEOJSON", "XLSX", "PDF", "ZIP", "XML", "WMS_SRVC"]
LICENSES = ["cc-by-4.0"] * 8 + ["cc-zero", "odc-by", "odc-odbl", "cc-by-sa-4.0"]
FREQUENCIES = ["ANNUAL", "MONTHLY", "DAILY", "QUARTERLY", "IRREG", "HOURLY", "WEEKLY"]
YEARS = list(range(2012, 2026))
SEARCH_WORDS = [
    "aire", "qualitat", "soroll", "poblacio", "bici", "pressupost", "arbres", "gracia", "sant marti", "lloguer",
    "air quality", "budget", "trees", "noise", "accidents", "biblioteques", "museus", "habitatge", "renda", "atur",
    "contractes", "residus", "aparcament", "salut", "Eixample", "Sants", "Nou Barris", "padro edat", "transit",
    "equipaments", "enquesta", "subvencions", "farmacies", "energia", "aigua", "cultura", "Poblenou", "xyzzy",
]  # fmt: skip


# --- the synthetic catalog ---------------------------------------------------------------------------------


def slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(value)).strip("-")


@dataclass(frozen=True)
class Item:
    """One dataset to create: its DatasetCreate plus the dates the fast path sets."""

    data: DatasetCreate
    created: datetime
    modified: datetime


def catalog_items(count: int, seed: int = 7) -> list[Item]:
    """``count`` distinct, plausible datasets: the demo's 53 subjects x 83 places x 14 years."""
    rng = random.Random(seed)
    areas: list[tuple[str, str]] = [(d.name, d.uri) for d in places.districts()]
    areas += [(n.name, n.uri) for n in places.neighbourhoods()]
    areas = list({slug(name): (name, uri) for name, uri in reversed(areas)}.values())  # "Les Corts" is both
    combos = [(s, a, y) for s in SPECS for a in areas for y in YEARS]
    rng.shuffle(combos)
    if count > len(combos):
        raise SystemExit(f"at most {len(combos)} datasets")
    now = datetime.now(UTC).replace(microsecond=0)
    tag_pool = sorted({t for s in SPECS for t in s.tags})
    items = []
    for i, (spec, (place, uri), year) in enumerate(combos[:count]):
        created = now - timedelta(days=rng.uniform(1, 730))
        modified = min(now, created + timedelta(days=rng.uniform(0, 200)))
        distributions = [
            DistributionCreate(
                title={"en": f"{fmt} file", "ca": f"Fitxer {fmt}"},
                url=f"https://barcelona.example/files/{i}/{k}.{fmt.lower()}",
                format=fmt,
            )
            for k, fmt in enumerate(rng.sample(FORMATS, rng.randint(1, 4)))
        ]
        data = DatasetCreate(
            name=f"{spec.name}-{slug(place)}-{year}"[:100],
            title={lang: f"{text}: {place} ({year})" for lang, text in spec.title.items()},
            description={lang: f"{text} {place}, {year}." for lang, text in spec.description.items()},
            organization=spec.org,
            private=rng.random() < 0.03,
            access_rights=rng.choices(["PUBLIC", "RESTRICTED", "NON_PUBLIC"], [90, 6, 4])[0],
            license_id=rng.choice(LICENSES),
            themes=list(spec.themes),
            tags=sorted({*spec.tags, *rng.sample(tag_pool, 2), str(year)}),
            groups=list(spec.groups),
            spatial_uri=uri,
            temporal_start=date(year, 1, 1),
            temporal_end=date(year, 12, 31),
            frequency=rng.choice(FREQUENCIES),
            issued=created.date(),
            modified=modified.date(),
            languages=["CAT", "SPA", "ENG"],
            extras={"bench": "catalog"},
            distributions=distributions,
        )
        items.append(Item(data, created, modified))
    return items


def publishers(session: Session) -> None:
    for dept in DEPARTMENTS:
        organizations.create(
            session=session,
            actor=SYSTEM,
            data=OrganizationCreate(name=dept.name, title=dept.title, description=dept.description),
        )
    for name, title, description in GROUPS:
        groups.create(session=session, actor=SYSTEM, data=GroupCreate(name=name, title=title, description=description))


@dataclass
class FastLoader:
    """Builds the rows ``service.create`` builds, many datasets per flush."""

    session: Session
    actor: Actor
    orgs: dict[str, str] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    tags: dict[str, Tag] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.orgs = {o.name: o.id for o in self.session.scalars(select(Organization))}
        self.groups = {g.name: g for g in self.session.scalars(select(Group))}
        self.tags = {t.name: t for t in self.session.scalars(select(Tag))}

    def _tag(self, name: str) -> Tag:
        if name not in self.tags:
            self.tags[name] = Tag(name=name)
            self.session.add(self.tags[name])
        return self.tags[name]

    def create(self, items: list[Item]) -> list[Dataset]:
        rows = []
        for item in items:
            d = item.data
            values = d.model_dump(exclude={"distributions", "organization", "name", "themes", "tags", "groups"})
            ds = Dataset(
                id=new_id(),
                name=d.name,
                organization_id=self.orgs[d.organization],
                creator_user_id=self.actor.user_id,
                metadata_created=item.created,
                metadata_modified=item.modified,
                **{k: v for k, v in values.items() if v is not None},
            )
            themes = [vocabularies.themes().get(t).id for t in d.themes]  # type: ignore[union-attr]
            ds.theme_rows = [DatasetTheme(theme=t) for t in dict.fromkeys(themes)]
            ds.tags = [self._tag(t) for t in dict.fromkeys(x.strip() for x in d.tags if x.strip())]
            ds.groups = [self.groups[g] for g in dict.fromkeys(d.groups)]
            self.session.add(ds)
            rows.append(ds)
        self.session.flush()  # datasets first: distributions only reference them by key
        for item, ds in zip(items, rows, strict=True):
            for position, dist in enumerate(item.data.distributions):
                values = check_distribution_fields(dist, field_prefix=f"distributions.{position}.")
                values["license_id"] = values.get("license_id") or ""
                self.session.add(
                    Distribution(
                        dataset_id=ds.id,
                        position=position,
                        created=item.modified,
                        last_modified=item.modified,
                        **values,
                    )
                )
        self.session.flush()
        docs, activities = [], []
        for ds in rows:
            title, keywords, body = document_for(ds)
            docs.append({"dataset_id": ds.id, "title": title, "keywords": keywords, "body": body})
            activities.append(
                {
                    "id": new_id(),
                    "object_id": ds.id,
                    "object_type": "dataset",
                    "organization_id": ds.organization_id,
                    "user_id": self.actor.user_id,
                    "user_name": self.actor.name or "",
                    "activity_type": "new package",
                    "timestamp": ds.metadata_created,
                    "changes": [{"field": "*", "old": None, "new": ds.name}],
                }
            )
        self.session.execute(insert(SearchDocument), docs)
        self.session.execute(insert(Activity), activities)
        if self.session.get_bind().dialect.name == "sqlite":
            self.session.execute(
                text("INSERT INTO dataset_fts (dataset_id, title, keywords, body) VALUES (:id, :t, :k, :b)"),
                [{"id": d["dataset_id"], "t": d["title"], "k": d["keywords"], "b": d["body"]} for d in docs],
            )
        return rows


VOLATILE = {"id", "metadata_created", "metadata_modified", "distributions"}


def verify_fast_path(session: Session, actor: Actor, item: Item) -> None:
    """Creates ``item`` through the service and through the fast path; their reads and search rows must match."""
    twin = Item(item.data.model_copy(update={"name": item.data.name[:90] + "-fast"}), item.created, item.modified)
    by_service = service.create(session=session, actor=actor, settings=None, data=item.data)
    (fast_row,) = FastLoader(session, actor).create([twin])
    session.expire_all()
    by_fast = dataset_read(session.get(Dataset, fast_row.id))  # type: ignore[arg-type]
    a, b = by_service.model_dump(exclude=VOLATILE), by_fast.model_dump(exclude=VOLATILE)
    b["name"] = a["name"]
    assert a == b, f"fast path differs from the service: {sorted(k for k in a if a[k] != b[k])}"
    keep = {"id", "dataset_id", "created", "last_modified"}
    da = [x.model_dump(exclude=keep) for x in by_service.distributions]
    db = [x.model_dump(exclude=keep) for x in by_fast.distributions]
    assert da == db, "fast path distributions differ from the service's"
    names = {by_service.id: by_service.name, fast_row.id: twin.data.name}
    docs = {
        d.dataset_id: (d.title, d.body, d.keywords.removesuffix(names[d.dataset_id].replace("-", " ")))
        for d in session.scalars(select(SearchDocument).where(SearchDocument.dataset_id.in_(list(names))))
    }
    assert docs[by_service.id] == docs[fast_row.id], "fast path search document differs"
    ids = list(names)
    session.execute(Activity.__table__.delete().where(Activity.object_id.in_(ids)))
    session.execute(SearchDocument.__table__.delete().where(SearchDocument.dataset_id.in_(ids)))
    session.execute(Dataset.__table__.delete().where(Dataset.id.in_(ids)))
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("DELETE FROM dataset_fts WHERE dataset_id IN (:a, :b)"), {"a": ids[0], "b": ids[1]})


def build(settings: Settings, items: list[Item], via_service: int, log: Callable[[str], None]) -> None:
    upgrade(settings)
    engine = make_engine(settings)
    factory = make_sessionmaker(engine)
    started = time.perf_counter()
    with unit_of_work(factory) as session:
        publishers(session)
        user = create_user(
            session=session,
            actor=SYSTEM,
            data=UserCreate(name="bench", email="bench@example.org", password="bench password", sysadmin=True),
        )
        actor = Actor(user_id=user.id, name=user.name, sysadmin=True, client="bench")
    with unit_of_work(factory) as session:
        verify_fast_path(session, actor, items[0])
    with unit_of_work(factory) as session:
        for item in items[:via_service]:
            service.create(session=session, actor=actor, settings=None, data=item.data)
    rest = items[via_service:]
    for start in range(0, len(rest), 500):
        with unit_of_work(factory) as session:
            FastLoader(session, actor).create(rest[start : start + 500])
    with engine.begin() as conn:
        for table in ANALYZED:
            conn.execute(text(f"ANALYZE {table}"))
    engine.dispose()
    log(f"  loaded {len(items)} datasets in {time.perf_counter() - started:.1f} s")


# --- the server and the load -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(settings: Settings) -> Iterator[str]:
    """``citycommons serve`` in a subprocess (uvicorn, one worker) over ``settings``' database."""
    port = free_port()
    env = {
        **os.environ,
        "CITYCOMMONS_DATA_DIR": str(settings.data_dir),
        "CITYCOMMONS_DATABASE_URL": settings.database_url or "",
        "CITYCOMMONS_RATE_LIMIT_ENABLED": "false",
        "CITYCOMMONS_ENVIRONMENT": "test",
        "CITYCOMMONS_SITE_URL": f"http://127.0.0.1:{port}",
    }
    command = [sys.executable, "-m", "citycommons.cli", "serve", "--port", str(port), "--log-level", "warning"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/vocabularies/licenses", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                raise SystemExit(f"server did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.1)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass(frozen=True)
class Request:
    operation: str
    path: str
    params: dict[str, str]
    kind: str = ""  # for the breakdown: what the request asks of the search


def requests_for(
    names: list[str], orgs: list[str], tags: list[str], count: int, ckan: bool, seed: int = 11
) -> list[Request]:
    """The same seeded mix for every engine: q terms, filters, facets, sorts, pages; and package_show by name."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        rows = rng.choice([10, 20, 20, 50])
        start = rng.choice([0, 0, 0, 20, 100, 1000])
        q = rng.choice(SEARCH_WORDS) if rng.random() < 0.7 else ""
        filters = []
        if rng.random() < 0.4:
            filters.append(("organization", rng.choice(orgs)))
        if rng.random() < 0.25:
            filters.append(("tags", rng.choice(tags)))
        if rng.random() < 0.25:
            filters.append(("res_format", rng.choice(["CSV", "JSON", "GEOJSON", "PDF"])))
        if rng.random() < 0.15:
            filters.append(("groups", rng.choice([g[0] for g in GROUPS])))
        facets = rng.random() < 0.5
        sort = rng.choice(["", "", "metadata_modified desc", "title_string asc", "name asc"])
        kind = f"{'q' if q else 'no q'}, {'filters' if filters else 'no filter'}, {'facets' if facets else 'no facets'}"
        if ckan:
            params = {"q": q, "rows": str(rows), "start": str(start)}
            if filters:
                params["fq"] = " ".join(f'{k}:"{v}"' for k, v in filters)
            if facets:
                params["facet.field"] = '["organization","tags","res_format","license_id","groups"]'
            if sort:
                params["sort"] = sort
            out.append(Request("package_search", "/api/3/action/package_search", params, kind))
        else:
            keys = {"organization": "organization", "tags": "tag", "res_format": "format", "groups": "group"}
            params = {"q": q, "limit": str(rows), "offset": str(start), "facets": str(facets).lower()}
            params |= {keys[k]: v for k, v in filters}
            v1_sort = {
                "": "relevance",
                "metadata_modified desc": "modified",
                "title_string asc": "title",
                "name asc": "name",
            }
            params["sort"] = v1_sort[sort]
            out.append(Request("package_search", "/api/v1/datasets", params, kind))
    for _ in range(count):
        name = rng.choice(names)
        if ckan:
            out.append(Request("package_show", "/api/3/action/package_show", {"id": name}))
        else:
            out.append(Request("package_show", f"/api/v1/datasets/{name}", {}))
    # the floor: a request that touches no database (routing, middleware, JSON, HTTP)
    out += [Request("baseline", "/api/v1/vocabularies/licenses", {}) for _ in range(max(20, count // 5))]
    return out


def measure(base: str, requests: list[Request], concurrency: int, warmup: int = 30) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {}
    errors: dict[str, int] = {}

    def one(client: httpx.Client, req: Request) -> tuple[Request, float, int]:
        t0 = time.perf_counter()
        r = client.get(base + req.path, params=req.params)
        _ = r.content
        return req, (time.perf_counter() - t0) * 1000, r.status_code

    with httpx.Client(timeout=httpx.Timeout(30.0), limits=httpx.Limits(max_connections=concurrency)) as client:
        for req in requests[:warmup] + requests[-warmup:]:
            one(client, req)
        if concurrency == 1:
            results = [one(client, req) for req in requests]
        else:
            with ThreadPoolExecutor(concurrency) as pool:
                results = list(pool.map(lambda r: one(client, r), requests))
    for req, ms, status in results:
        timings.setdefault(req.operation, []).append(ms)
        if req.kind:
            timings.setdefault(f"{req.operation}: {req.kind}", []).append(ms)
        if status != 200:
            errors[req.operation] = errors.get(req.operation, 0) + 1
    if errors:
        raise SystemExit(f"non-200 answers: {errors}")
    return timings


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


# --- the engines -------------------------------------------------------------------------------------------


@contextmanager
def engine_settings(kind: str, workdir: Path) -> Iterator[Settings]:
    data_dir = workdir / kind
    if kind == "sqlite":
        yield Settings(environment="test", data_dir=data_dir, rate_limit_enabled=False)
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        url = f"{PG_URL}?options=-csearch_path%3D{schema},public"
        yield Settings(environment="test", data_dir=data_dir, database_url=url, rate_limit_enabled=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def detect_ckan(base: str) -> bool:
    r = httpx.get(f"{base}/api/3/action/package_search", params={"rows": "0"}, timeout=10)
    return r.status_code == 200 and r.json().get("success") is True


def run_engine(
    kind: str, args: argparse.Namespace, items: list[Item], workdir: Path
) -> tuple[dict[str, list[float]], bool]:
    print(f"{kind}:", flush=True)
    with engine_settings(kind, workdir) as settings:
        build(settings, items, args.via_service, lambda m: print(m, flush=True))
        with server(settings) as base:
            ckan = detect_ckan(base) if args.api == "auto" else args.api == "ckan"
            public = [i.data.name for i in items if not i.data.private]
            orgs = [d.name for d in DEPARTMENTS]
            tags = sorted({t for i in items[:500] for t in i.data.tags})
            reqs = requests_for(public, orgs, tags, args.requests, ckan)
            started = time.perf_counter()
            timings = measure(base, reqs, args.concurrency)
            print(f"  {len(reqs)} requests in {time.perf_counter() - started:.1f} s ({'CKAN' if ckan else '/api/v1'})")
    return timings, ckan


def report(results: dict[str, dict[str, list[float]]], args: argparse.Namespace, ckan: bool) -> None:
    engines = list(results)
    api = "CKAN Action API /api/3/action" if ckan else "native API /api/v1"
    print()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} CPUs, load average {load} (other work on the machine inflates every figure)")
    print(
        f"catalog bench: {args.datasets:,} datasets, {args.requests} requests per operation, "
        f"{args.concurrency} client(s), uvicorn 1 worker, {api}"
    )
    head = f"{'operation':<16}{'pct':<5}" + "".join(f"{e + ' ms':>14}" for e in engines)
    if len(engines) == 2:
        head += f"{engines[1] + '/' + engines[0]:>20}"
    head += f"{'target ms':>12}  verdict"
    print(head)
    print("-" * len(head))
    for operation in ("package_search", "package_show"):
        for p in (50, 95, 99):
            values = [percentile(results[e][operation], p) for e in engines]
            line = f"{operation:<16}{'p' + str(p):<5}" + "".join(f"{v:>14.1f}" for v in values)
            if len(values) == 2:
                line += f"{values[1] / values[0]:>20.2f}"
            target = TARGETS[operation].get(f"p{p}")
            if target is not None:
                verdict = ", ".join(
                    f"{e} {'ok' if v <= target else 'MISS'}" for e, v in zip(engines, values, strict=True)
                )
                line += f"{target:>12.0f}  {verdict}"
            print(line)
    print()
    print("p50 / p95 ms by kind of request" + " " * 24 + "".join(f"{e:>18}" for e in engines) + f"{'n':>6}")
    names = ["baseline"] + sorted(k for k in results[engines[0]] if k.startswith("package_search: "))
    for name in names:
        cells = []
        for e in engines:
            v = results[e][name]
            cells.append(f"{percentile(v, 50):>8.1f} /{percentile(v, 95):>7.1f}")
        print(f"{name:<55}" + "".join(f"{c:>18}" for c in cells) + f"{len(results[engines[0]][name]):>6}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=500, help="requests per operation")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--via-service", type=int, default=50, help="datasets created through catalog.service")
    parser.add_argument("--api", choices=["auto", "ckan", "v1"], default="auto")
    args = parser.parse_args()

    items = catalog_items(args.datasets)
    workdir = Path(tempfile.mkdtemp(prefix="citycommons-bench-"))
    results: dict[str, dict[str, list[float]]] = {}
    ckan = False
    try:
        for kind in args.engines.split(","):
            results[kind], ckan = run_engine(kind, args, items, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(results, args, ckan)


if __name__ == "__main__":
    main()
