"""The datastore's service layer: every front door (native API, CKAN ``datastore_*`` actions, web pages) reads
and writes tables through these functions.

Each function takes the session, the actor and the settings, checks the catalog's permissions for the table's
distribution (``datastore.permissions``), logs reads of rows of non-open data in the transparency log
(``ledger.record.data_read``) and calls the datastore library. A table is the distribution id; it exists when it
has a version on disk. Services never commit.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from citycommons.actor import Actor
from citycommons.catalog import distributions
from citycommons.catalog.models import Distribution
from citycommons.catalog.schemas import DistributionCreate
from citycommons.datastore import diff as diff_module
from citycommons.datastore import exports, overrides, query, records, rowids, status, versions
from citycommons.datastore import sql as sandbox
from citycommons.datastore.config import DatastoreConfig, from_settings
from citycommons.datastore.facade import EngineError
from citycommons.datastore.ingest import preview_schema
from citycommons.datastore.permissions import Owner, find_owner, not_found, require
from citycommons.datastore.query_schemas import DiffChange, Filter, QueryResult, SearchRequest, SqlResult, TableDiff
from citycommons.datastore.schemas import IngestReport, SchemaOverride, SourceFormat, TableSchema
from citycommons.errors import Invalid, NotFound, invalid
from citycommons.ledger import record
from citycommons.ledger.record import ReadChannel
from citycommons.settings import Settings


class VersionSummary(BaseModel):
    """One immutable version of a table, as listed for readers."""

    version: int
    created_at: datetime
    rows: int
    source_filename: str
    source_bytes: int
    format: SourceFormat
    quarantined_rows: int = 0
    quarantined_cells: int = 0
    warnings: int = 0
    override_applied: bool = False


class TableInfo(BaseModel):
    """A table (the latest or a named version): what it is, its schema, its report and its other versions."""

    resource_id: str
    dataset_id: str
    dataset_name: str
    dataset_title: dict[str, str] = Field(default_factory=dict)
    organization_id: str
    title: dict[str, str] = Field(default_factory=dict)
    format: str = ""
    version: int
    latest_version: int
    rows: int
    versions: list[VersionSummary]
    table_schema: TableSchema
    report: IngestReport
    datastore_active: bool = True
    can_read_data: bool
    """False for restricted or non-public data the actor is not a member for: rows are refused (403) and the
    report's quarantined values are hidden."""
    can_edit: bool
    geometry_field: str | None = None
    access_rights: str = "PUBLIC"


_QUOTED = re.compile(r"`[^`]*`")

# --- helpers -------------------------------------------------------------------------------------------------------


def config_of(settings: Settings) -> DatastoreConfig:
    return from_settings(settings)


def _log(session: Session, actor: Actor, settings: Settings, owner: Owner, channel: ReadChannel, version: int) -> None:
    record.data_read(session=session, actor=actor, key=settings.pseudonym_key, dataset=owner.dataset,
                     channel=channel, distribution_id=owner.distribution.id, version=version)  # fmt: skip


def _versions_of(config: DatastoreConfig, resource_id: str) -> list[int]:
    numbers = versions.list_versions(config=config, table_id=resource_id)
    if not numbers:
        raise not_found(resource_id)
    return numbers


def _check_version(resource_id: str, numbers: list[int], version: int | None) -> int:
    if version is None:
        return numbers[-1]
    if version not in numbers:
        raise NotFound(f"Resource `{resource_id}` has no version {version} (versions: {_ranges(numbers)})")
    return version


def _ranges(numbers: list[int]) -> str:
    return f"{numbers[0]}-{numbers[-1]}" if len(numbers) > 1 else str(numbers[0])


def _redacted(report: IngestReport, owner: Owner) -> IngestReport:
    """Quarantined cell values are data: hidden from those who may not read the rows (also where a warning quotes
    one between backticks)."""
    if owner.can_read_data:
        return report
    quarantine = [q.model_copy(update={"value": None}) for q in report.quarantine]
    warnings = [_QUOTED.sub("`…`", w) for w in report.warnings]
    return report.model_copy(update={"quarantine": quarantine, "warnings": warnings})


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "the query failed"


def _summary(report: IngestReport) -> VersionSummary:
    return VersionSummary(
        version=report.version,
        created_at=report.created_at,
        rows=report.rows,
        source_filename=report.source_filename,
        source_bytes=report.source_bytes,
        format=report.format,
        quarantined_rows=report.quarantined_rows,
        quarantined_cells=report.quarantined_cells,
        warnings=len(report.warnings),
        override_applied=report.override_applied,
    )


def table_exists(*, session: Session, actor: Actor, settings: Settings, resource_id: str) -> bool:
    """True when the actor may see ``resource_id`` and it has a queryable version."""
    if find_owner(session, actor, resource_id) is None:
        return False
    return versions.latest_version(config=config_of(settings), table_id=resource_id) is not None


# --- reads ---------------------------------------------------------------------------------------------------------


def get_table(
    *, session: Session, actor: Actor, settings: Settings, resource_id: str, version: int | None = None
) -> TableInfo:
    """The table of ``resource_id`` at ``version`` (default: the latest), with every version listed."""
    owner = require(session, actor, resource_id, access="metadata")
    config = config_of(settings)
    numbers = _versions_of(config, resource_id)
    number = _check_version(resource_id, numbers, version)
    if number == numbers[-1]:
        schema = preview_schema(config=config, table_id=resource_id)
    else:
        schema = versions.read_schema(config=config, table_id=resource_id, version=number)
    report = _redacted(versions.read_report(config=config, table_id=resource_id, version=number), owner)
    summaries = [_summary(versions.read_report(config=config, table_id=resource_id, version=n)) for n in numbers]
    ds, dist = owner.dataset, owner.distribution
    return TableInfo(
        resource_id=resource_id,
        dataset_id=ds.id,
        dataset_name=ds.name,
        dataset_title=dict(ds.title or {}),
        organization_id=ds.organization_id,
        title=dict(dist.title or {}),
        format=dist.format,
        version=number,
        latest_version=numbers[-1],
        rows=report.rows,
        versions=summaries,
        table_schema=schema,
        report=report,
        can_read_data=owner.can_read_data,
        can_edit=owner.can_edit,
        geometry_field=next((f.name for f in schema.fields if f.type == "geojson"), None),
        access_rights=ds.access_rights,
    )


def list_versions(*, session: Session, actor: Actor, settings: Settings, resource_id: str) -> list[VersionSummary]:
    """Every version of the table, oldest first."""
    require(session, actor, resource_id, access="metadata")
    config = config_of(settings)
    return [
        _summary(versions.read_report(config=config, table_id=resource_id, version=n))
        for n in _versions_of(config, resource_id)
    ]


def get_report(
    *, session: Session, actor: Actor, settings: Settings, resource_id: str, version: int | None = None
) -> IngestReport:
    """The validation report of ``version`` (default: the latest)."""
    owner = require(session, actor, resource_id, access="metadata")
    config = config_of(settings)
    number = _check_version(resource_id, _versions_of(config, resource_id), version)
    return _redacted(versions.read_report(config=config, table_id=resource_id, version=number), owner)


def get_schema(
    *, session: Session, actor: Actor, settings: Settings, resource_id: str, version: int | None = None
) -> TableSchema:
    """The Table Schema of ``version``; the latest one shows the editors' stored corrections."""
    require(session, actor, resource_id, access="metadata")
    config = config_of(settings)
    numbers = _versions_of(config, resource_id)
    number = _check_version(resource_id, numbers, version)
    if number == numbers[-1]:
        return preview_schema(config=config, table_id=resource_id)
    return versions.read_schema(config=config, table_id=resource_id, version=number)


def get_override(*, session: Session, actor: Actor, settings: Settings, resource_id: str) -> SchemaOverride | None:
    """The editors' stored schema corrections (editors only)."""
    require(session, actor, resource_id, access="edit")
    return overrides.load_override(config=config_of(settings), table_id=resource_id)


def update_schema(
    *, session: Session, actor: Actor, settings: Settings, resource_id: str, override: SchemaOverride
) -> TableSchema:
    """Store an editor's schema corrections (types take effect at the next upload, titles at once)."""
    require(session, actor, resource_id, access="edit")
    config = config_of(settings)
    _versions_of(config, resource_id)
    return overrides.apply_schema_override(config=config, table_id=resource_id, override=override)


def search(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    resource_id: str,
    request: SearchRequest,
    row_ids: bool = False,
) -> QueryResult:
    """One page of rows (filters, full text, sort, distinct, group-by aggregates...); ``request.limit`` is bounded
    by ``settings.datastore_max_page_size``.

    ``row_ids``: add ``_id`` (the 1-based position of the row in its version, stable for that version) as the first
    field of row results, and accept ``_id`` in filters and sort, as CKAN clients expect (offset paging only)."""
    owner = require(session, actor, resource_id, access="rows")
    config = config_of(settings)
    numbers = _versions_of(config, resource_id)
    if request.version is not None:
        _check_version(resource_id, numbers, request.version)
    if row_ids:
        result = rowids.search(config=config, table_id=resource_id, request=request,
                               timeout=settings.datastore_query_timeout_seconds,
                               max_rows=settings.datastore_max_page_size)  # fmt: skip
        if result.records or result.total is not None:
            _log(session, actor, settings, owner, "query", result.version)
        return result
    try:
        result = query.run_search(config=config, table_id=resource_id, request=request,
                                  timeout=settings.datastore_query_timeout_seconds,
                                  max_rows=settings.datastore_max_page_size)  # fmt: skip
    except EngineError as exc:  # a request the checks let through but DuckDB refused (e.g. a value out of range)
        raise Invalid(f"query: {_first_line(exc.message)}", fields={"query": [_first_line(exc.message)]}) from exc
    if result.records or result.total is not None:  # a permission probe (limit 0) reads no rows
        _log(session, actor, settings, owner, "query", result.version)
    return result


def export(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    resource_id: str,
    request: SearchRequest,
    fmt: str,
    limit: int | None = None,
) -> exports.Export:
    """Every row of a search (no cap; ``limit`` when given) streamed as ``fmt`` (csv, json, ndjson, geojson, parquet,
    xlsx). The request is checked before the first byte is produced."""
    owner = require(session, actor, resource_id, access="rows")
    config = config_of(settings)
    numbers = _versions_of(config, resource_id)
    number = _check_version(resource_id, numbers, request.version)
    if fmt not in exports.FORMATS:
        raise invalid("format", f"unknown format `{fmt}`; use one of {', '.join(exports.FORMATS)}")
    pinned = request.model_copy(update={"version": number})
    result = exports.export_request(config=config, table_id=resource_id, request=pinned, format=fmt,  # type: ignore[arg-type]
                                    limit=limit)  # fmt: skip
    _log(session, actor, settings, owner, "export", number)
    return result


def diff(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    resource_id: str,
    from_version: int,
    to_version: int,
    limit: int = 100,
    offset: int = 0,
    changes: list[DiffChange] | None = None,
) -> TableDiff:
    """Rows added, removed and changed from ``from_version`` to ``to_version`` (by primary key or row hash)."""
    owner = require(session, actor, resource_id, access="rows")
    config = config_of(settings)
    numbers = _versions_of(config, resource_id)
    _check_version(resource_id, numbers, from_version)
    _check_version(resource_id, numbers, to_version)
    result = diff_module.diff(config=config, table_id=resource_id, from_version=from_version, to_version=to_version,
                              changes=changes, limit=limit, offset=offset,
                              timeout=settings.datastore_query_timeout_seconds)  # fmt: skip
    _log(session, actor, settings, owner, "diff", to_version)
    return result


class _Readable:
    """The tables a SQL query may name: checked against the catalog lazily, one lookup per table named."""

    def __init__(self, session: Session, actor: Actor, config: DatastoreConfig) -> None:
        self.session, self.actor, self.config = session, actor, config
        self.owners: dict[str, Owner] = {}

    def __call__(self, table_id: str) -> Any:
        owner = self.owners.get(table_id) or find_owner(self.session, self.actor, table_id)
        if owner is None or not owner.can_read_data:
            return None  # unknown, private and restricted tables get the same "unknown table"
        path = sandbox.resolver_for(config=self.config, readable={table_id: None})(table_id)
        if path is not None:
            self.owners[table_id] = owner
        return path

    def log(self, settings: Settings, tables: list[str], channel: ReadChannel) -> None:
        for table_id in tables:
            owner = self.owners.get(table_id)
            if owner is not None and not record.is_open(owner.dataset):
                number = versions.latest_version(config=self.config, table_id=table_id)
                _log(self.session, self.actor, settings, owner, channel, number or 0)


def run_sql(*, session: Session, actor: Actor, settings: Settings, sql: str) -> SqlResult:
    """One read-only SELECT over the tables the actor may read (table name = resource id); at most
    ``settings.datastore_sql_row_cap`` rows (``truncated``), under ``datastore_query_timeout_seconds``."""
    config = config_of(settings)
    readable = _Readable(session, actor, config)
    result = sandbox.run_sql(config=config, sql=sql, resolver=readable,
                             timeout=settings.datastore_query_timeout_seconds,
                             max_rows=settings.datastore_sql_row_cap)  # fmt: skip
    readable.log(settings, result.tables, "sql")
    return result


def export_sql(*, session: Session, actor: Actor, settings: Settings, sql: str, fmt: str) -> exports.Export:
    """Every row of a read-only SQL query (no cap) streamed as ``fmt``."""
    config = config_of(settings)
    readable = _Readable(session, actor, config)
    result = exports.export_sql(config=config, sql=sql, resolver=readable, format=fmt)  # type: ignore[arg-type]
    readable.log(settings, sorted(readable.owners), "export")
    return result


# --- writes (CKAN datastore_create / datastore_upsert / datastore_delete) ----------------------------------------

DATASTORE_URL_TYPE = "datastore"
READ_ONLY = (
    "Cannot edit read-only resource because changes made may be lost. Use a resource created for editing e.g. "
    'with datastore_create or use "force=True" to ignore this warning.'
)


def _writable(session: Session, actor: Actor, resource_id: str, *, force: bool) -> Owner:
    """An editor's table; a table ingested from a file or URL needs ``force`` (the next upload replaces it)."""
    owner = require(session, actor, resource_id, access="edit")
    if owner.distribution.url_type != DATASTORE_URL_TYPE and not force:
        raise Invalid(READ_ONLY, fields={"read-only": [READ_ONLY]})
    return owner


def create_resource(
    *, session: Session, actor: Actor, settings: Settings, dataset: str, data: DistributionCreate
) -> str:
    """A new distribution of ``dataset`` whose content is its datastore table (CKAN ``datastore_create`` with a
    ``resource``): its URL is the table's CSV export. Returns its id."""
    probe = data.model_copy(update={"url": data.url or f"{settings.site_url}/api/v1/datastore"})
    created = distributions.create(
        session=session, actor=actor, settings=settings, dataset=dataset, data=probe, ingest=False
    )
    dist = session.get(Distribution, created.id)
    assert dist is not None
    dist.url = f"{settings.site_url}/api/v1/datastore/{dist.id}/export.csv"
    dist.url_type = DATASTORE_URL_TYPE
    if not dist.format:
        dist.format = "CSV"
    session.flush()
    return dist.id


def create_table(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    resource_id: str,
    fields: list[records.FieldSpec],
    rows: list[dict[str, Any]],
    primary_key: list[str] | None = None,
    force: bool = False,
) -> records.WriteResult:
    """Define (or extend with new fields) the table of ``resource_id`` and append ``rows``: a new version.
    Declared types, titles and the primary key are kept as the table's schema override."""
    _writable(session, actor, resource_id, force=force)
    result = records.create(config=config_of(settings), table_id=resource_id, fields=fields, records=rows,
                            primary_key=primary_key or [])  # fmt: skip
    status.set_active(session, resource_id, True)  # CKAN's datastore_active, kept by the ingest jobs otherwise
    return result


def upsert(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    resource_id: str,
    rows: list[dict[str, Any]],
    method: records.Method = "upsert",
    force: bool = False,
) -> records.WriteResult:
    """Insert rows or merge them into the rows with the same primary key (or ``_id``): a new version."""
    _writable(session, actor, resource_id, force=force)
    config = config_of(settings)
    _versions_of(config, resource_id)
    result = records.upsert(config=config, table_id=resource_id, records=rows, method=method)
    status.set_active(session, resource_id, True)
    return result


def delete_rows(
    *,
    session: Session,
    actor: Actor,
    settings: Settings,
    resource_id: str,
    filters: list[Filter] | None = None,
    force: bool = False,
) -> records.WriteResult:
    """A new version without the rows matching ``filters`` (none: without any row; the history is kept)."""
    _writable(session, actor, resource_id, force=force)
    config = config_of(settings)
    _versions_of(config, resource_id)
    result = records.delete(config=config, table_id=resource_id, filters=filters or [])
    status.set_active(session, resource_id, True)
    return result
