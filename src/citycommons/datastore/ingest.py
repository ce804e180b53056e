"""``ingest_file``: one uploaded file -> a new immutable version (Parquet + Table Schema + report), or an error.

Everything is built in a staging directory inside the table directory and published with one atomic rename;
any failure removes the staging directory, so the previous version stays the latest and nothing is left behind.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from citycommons.datastore import materialize, overrides, pipeline, versions
from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.facade import Engine, EngineError, open_engine
from citycommons.datastore.readers.common import Staged
from citycommons.datastore.readers.csv import read_header, stage_csv
from citycommons.datastore.readers.json import stage_json
from citycommons.datastore.readers.parquet import stage_parquet
from citycommons.datastore.readers.xlsx import stage_xlsx
from citycommons.datastore.schemas import IngestReport, IngestResult, TableSchema
from citycommons.datastore.sniff import Sniffed, bad_file, sniff
from citycommons.datastore.tableschema import build_schema
from citycommons.datastore.textio import NotUtf8, prepare_text
from citycommons.errors import TooLarge, invalid

Progress = Callable[[int, int], None]


def ingest_file(
    *,
    config: DatastoreConfig,
    table_id: str,
    source: Path,
    filename: str,
    declared_format: str | None = None,
    json_path: str | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Ingest ``source`` (uploaded as ``filename``) as the next version of ``table_id``.

    ``declared_format`` and the file name are hints: the content decides. ``json_path`` names the record array of
    a JSON document (``data.stations``); without it the shallowest array of objects is used, and the report says
    which. ``encoding`` is checked, never trusted blindly. ``progress(done_bytes, total_bytes)`` is called while
    the file is streamed. Raises ``Invalid`` or ``TooLarge`` with a ``file`` (or ``encoding``/``json_path``) field.
    """
    started = time.monotonic()
    tdir = versions.table_dir(config=config, table_id=table_id)
    if not source.is_file():
        raise invalid("file", "the uploaded file does not exist")
    size = source.stat().st_size
    if size > config.max_file_bytes:
        message = f"{size} bytes is over the limit of {config.max_file_bytes}"
        raise TooLarge(f"file: {message}", fields={"file": [message]})
    if size == 0:
        raise bad_file("the file is empty")
    override = overrides.load_override(config=config, table_id=table_id)
    created = not tdir.exists()
    staging = versions.new_staging(config=config, table_id=table_id)
    try:
        work = staging / "work"
        work.mkdir()
        sniffed = sniff(
            config=config, path=source, filename=filename, declared_format=declared_format, encoding=encoding
        )
        with open_engine(config=config, workdir=staging, readable=[source]) as engine:

            def attempt(defer_utf8: bool) -> tuple[Staged, materialize.Outcome]:
                staged = _stage(engine, sniffed, source, work, json_path, progress, config, list(sniffed.warnings),
                                defer_utf8=defer_utf8)  # fmt: skip
                outcome = pipeline.run(engine=engine, staged=staged, override=override, config=config,
                                       out=staging / versions.DATA_FILE)  # fmt: skip
                return staged, outcome

            try:
                staged, outcome = attempt(defer_utf8=sniffed.format == "csv")
            except NotUtf8:  # DuckDB found bytes that are not UTF-8 past the sniffed sample: decode in Python
                staged, outcome = attempt(defer_utf8=False)
            materialize.check_primary_key(
                engine=engine, data=staging / versions.DATA_FILE, override=override, staged=staged
            )
        shutil.rmtree(work)
        schema = build_schema(staged=staged, override=override)
        quarantine = (staged.quarantine + outcome.quarantine)[: config.max_quarantine_listed]
        report = IngestReport(
            table_id=table_id,
            version=0,
            created_at=datetime.now(UTC),
            source_filename=filename,
            source_bytes=size,
            format=staged.format,
            declared_format=declared_format,
            encoding=staged.encoding,
            delimiter=staged.delimiter,
            json_path=staged.json_path,
            json_path_source=staged.json_path_source,
            sheet=staged.sheet,
            rows=outcome.rows,
            source_records=outcome.records + staged.quarantined_rows,
            skipped_empty_records=outcome.empty_records,
            quarantined_rows=staged.quarantined_rows,
            quarantined_cells=outcome.quarantined_cells,
            quarantine=quarantine,
            quarantine_truncated=len(staged.quarantine) + outcome.quarantined_cells > len(quarantine),
            warnings=staged.warnings,
            override_applied=override is not None,
            sorted_by=outcome.sorted_by,
        )

        def stamp(number: int) -> None:
            report.version = number
            report.seconds = round(time.monotonic() - started, 3)
            versions.write_json(staging / versions.SCHEMA_FILE, schema.to_json_dict())
            versions.write_json(staging / versions.REPORT_FILE, report.model_dump(mode="json"))

        number = versions.publish(config=config, table_id=table_id, staging=staging, before=stamp)
    except EngineError as exc:
        versions.discard(config=config, table_id=table_id, staging=staging, created_table_dir=created)
        if exc.interrupted:
            message = f"processing took longer than {config.ingest_timeout_seconds:g} s"
            raise TooLarge(f"file: {message}", fields={"file": [message]}) from exc
        raise bad_file(f"could not be read: {exc.message.splitlines()[0]}") from exc
    except BaseException:
        versions.discard(config=config, table_id=table_id, staging=staging, created_table_dir=created)
        raise
    if progress:
        progress(size, size)
    path = versions.data_path(config=config, table_id=table_id, version=number)
    return IngestResult(table_id=table_id, version=number, path=path, table_schema=schema, report=report)


def _stage(
    engine: Engine, sniffed: Sniffed, source: Path, work: Path, json_path: str | None, progress: Progress | None,
    config: DatastoreConfig, warnings: list[str], *, defer_utf8: bool = False,
) -> Staged:  # fmt: skip
    if sniffed.format == "xlsx":
        return stage_xlsx(path=source, workdir=work, config=config, warnings=warnings)
    if sniffed.format == "parquet":
        return stage_parquet(path=source, engine=engine, warnings=warnings)
    assert sniffed.encoding is not None
    text = prepare_text(
        source=source,
        encoding=sniffed.encoding,
        declared=sniffed.encoding_declared,
        sample_has_non_ascii=sniffed.sample_has_non_ascii,
        workdir=work,
        progress=progress if sniffed.format == "csv" else None,
        defer_utf8=defer_utf8,
    )
    warnings.extend(text.warnings)
    if sniffed.format == "csv":
        assert sniffed.delimiter is not None
        header = read_header(text.path, sniffed.delimiter)
        staged = stage_csv(path=text.path, delimiter=sniffed.delimiter, header=header, warnings=warnings)
        staged.utf8_unchecked = text.utf8_unchecked
    else:
        staged = stage_json(path=text.path, fmt=sniffed.format, json_path=json_path, workdir=work, progress=progress,
                            warnings=warnings)  # fmt: skip
    staged.encoding = text.encoding
    return staged


def preview_schema(*, config: DatastoreConfig, table_id: str) -> TableSchema:
    """The latest version's schema with the stored override shown (what the next upload will use)."""
    schema = versions.read_schema(config=config, table_id=table_id)
    return overrides.annotate(schema=schema, override=overrides.load_override(config=config, table_id=table_id))
