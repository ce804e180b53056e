"""From a ``Staged`` scan to ``data.parquet``: infer on a sample, apply the override, then write.

A text table (CSV, XLSX) is first written by the one-pass writer (``onepass``): one DuckDB statement that converts
with the sampled types and stops at the first value those types cannot take. Only then does the careful path run:
verify every row, settle each column's type, quarantine misfits, write. JSON and Parquet go the careful way
directly (their types come from the source, so there is little to verify).
"""

from __future__ import annotations

import re
from pathlib import Path

from citycommons.datastore import infer, layout, materialize, onepass, overrides
from citycommons.datastore.casts import TextType
from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.facade import Engine
from citycommons.datastore.readers.common import SourceColumn, Staged
from citycommons.datastore.readers.csv import clear_rejects, collect_rejects
from citycommons.datastore.schemas import SchemaOverride
from citycommons.datastore.sniff import bad_file


def _infer(col: SourceColumn, values: list[str | None], staged: Staged, config: DatastoreConfig) -> None:
    found = infer.infer_column(
        values,
        name=col.name,
        european=staged.european,
        tolerance=config.bad_value_tolerance,
        min_values=config.min_values_for_tolerance,
    )
    col.kind, col.empty_in_sample = found.kind, found.empty
    staged.warnings.extend(found.notes)
    if found.text_type is not None:
        col.text, col.field_type, col.markers = found.text_type, found.text_type.type, infer.NULL_MARKERS


def _family_numbers(staged: Staged, quarantined: set[str]) -> dict[str, TextType]:
    """Integer columns of a numbered family (``H01``…``H24``) whose siblings are numbers become numbers."""
    families: dict[str, list[SourceColumn]] = {}
    for col in staged.columns:
        key = re.sub(r"\d+", "#", col.name)
        if key != col.name:
            families.setdefault(key, []).append(col)
    aligned: dict[str, TextType] = {}
    for cols in families.values():
        number = next((c.text for c in cols if c.text is not None and c.field_type == "number"), None)
        if number is None or number.group_char is not None:
            continue
        for col in cols:
            if (
                col.text is not None
                and col.field_type == "integer"
                and not col.forced
                and col.text.group_char is None
                and col.name not in quarantined  # its misfits were judged as integers
            ):
                aligned[col.ident] = number
    return aligned


def _align(staged: Staged, aligned: dict[str, TextType]) -> None:
    for col in staged.columns:
        if col.ident in aligned:
            col.text, col.field_type = aligned[col.ident], "number"


def run(
    *, engine: Engine, staged: Staged, override: SchemaOverride | None, config: DatastoreConfig, out: Path
) -> materialize.Outcome:
    """Infer, apply the override, then write: in one pass when the data agrees with the sample, else carefully."""

    def sample(cols: list[SourceColumn]) -> dict[str, list[str | None]]:
        return materialize.sample_text(engine=engine, staged=staged, columns=cols, limit=config.sample_rows)

    samples: dict[str, list[str | None]] = {}
    if staged.text_source:
        samples = sample(staged.columns)
        if staged.european and any(infer.unambiguous_dot_decimal(v) for v in samples.values()):
            staged.european = False  # the file writes decimals with `.`: never read `.` as thousands
        for col in staged.columns:
            _infer(col, samples[col.ident], staged, config)
    staged.warnings.extend(overrides.apply_types(staged=staged, override=override, sample=sample))
    out.unlink(missing_ok=True)  # left by an attempt that found the file was not UTF-8
    if staged.text_source:
        done = _one_pass(engine=engine, staged=staged, override=override, config=config, out=out, samples=samples)
        if done is not None:
            return done
        clear_rejects(engine)
    return _careful(engine=engine, staged=staged, override=override, config=config, out=out, samples=samples)


def _one_pass(
    *, engine: Engine, staged: Staged, override: SchemaOverride | None, config: DatastoreConfig, out: Path,
    samples: dict[str, list[str | None]],
) -> materialize.Outcome | None:  # fmt: skip
    """The one-pass writer (``onepass``); None when the careful path must judge the file instead."""
    aligned = _family_numbers(staged, set())
    plan = onepass.plan(staged=staged, samples=samples, as_number=frozenset(aligned))
    order = layout.sort_columns(staged=staged, override=override, samples=samples, config=config)
    clear_rejects(engine)
    try:
        records = materialize.write_parquet(
            engine=engine, staged=staged, out=out, config=config, order_by=order, one_pass=plan
        )
    except onepass.Misfit:
        return None
    nulls = onepass.null_counts(engine=engine, path=out, width=len(staged.columns))
    late = any(
        c.text is None and c.empty_in_sample and n != records for c, n in zip(staged.columns, nulls, strict=True)
    )
    empty = 0
    if records and all(n != 0 for n in nulls):  # else a column is never null: no record is empty
        empty = onepass.count_empty(engine=engine, path=out, staged=staged, one_pass=plan)
    if late or (empty and any(plan.markers.values())):  # values to infer, or rows only the source can tell apart
        out.unlink()
        return None
    collect_rejects(engine=engine, staged=staged, records=records, config=config)
    if records == 0:
        raise bad_file("header only: no data rows")
    if records == empty:
        raise bad_file(f"no data: all {records} records are empty")
    _align(staged, aligned)
    for col in staged.columns:
        if col.text is not None:
            col.missing_seen = list(plan.markers[col.ident])
    rows = records
    if empty:
        staged.warnings.append(f"{empty} empty record(s) (every field empty) skipped")
        rows = onepass.drop_empty(engine=engine, path=out, staged=staged, one_pass=plan, config=config)
    return materialize.Outcome(records=records, empty_records=empty, rows=rows, sorted_by=order)


def _careful(
    *, engine: Engine, staged: Staged, override: SchemaOverride | None, config: DatastoreConfig, out: Path,
    samples: dict[str, list[str | None]],
) -> materialize.Outcome:  # fmt: skip
    """Verify every typed column over the whole file, settle and quarantine, then write."""
    outcome = materialize.Outcome()
    checked = [c for c in staged.columns if c.text is not None or c.empty_in_sample]
    if checked or staged.check_rejects:
        listed = config.max_quarantine_listed
        records, empty, stats = materialize.verify(
            engine=engine, staged=staged, columns=checked, rejects=staged.check_rejects, listed=listed
        )
        if staged.check_rejects:
            collect_rejects(engine=engine, staged=staged, records=records, config=config)
        if records == 0:
            raise bad_file("header only: no data rows")
        if records == empty:
            raise bad_file(f"no data: all {records} records are empty")
        outcome.records, outcome.empty_records = records, empty
        late = [c for c, s in zip(checked, stats, strict=True) if c.text is None and s[3]]
        settled = [(c, s) for c, s in zip(checked, stats, strict=True) if c.text is not None]
        if late:  # empty in the sample, filled further down: infer from filled rows and verify those columns
            filled = materialize.sample_text(
                engine=engine, staged=staged, columns=late, limit=config.sample_rows, filled=True
            )
            for col in late:
                _infer(col, filled[col.ident], staged, config)
            again = [c for c in late if c.text is not None]
            if again:
                _, _, more = materialize.verify(
                    engine=engine, staged=staged, columns=again, rejects=False, listed=listed
                )
                settled += list(zip(again, more, strict=True))
        for col, st in settled:
            warning = materialize.settle(col=col, stats=st, config=config, staged=staged)
            if warning:
                staged.warnings.append(warning)
            if col.text is not None and st[0]:
                room = max(0, config.max_quarantine_listed - len(outcome.quarantine))
                outcome.quarantine += materialize.quarantine_entries(staged=staged, col=col, stats=st, limit=room)
                outcome.quarantined_cells += int(st[0])
        if empty:
            staged.warnings.append(f"{empty} empty record(s) (every field empty) skipped")
    _align(staged, _family_numbers(staged, {q.column for q in outcome.quarantine if q.column}))
    order = layout.sort_columns(staged=staged, override=override, samples=samples, config=config)
    outcome.rows = materialize.write_parquet(engine=engine, staged=staged, out=out, config=config, order_by=order)
    outcome.sorted_by = order
    if not checked and not staged.check_rejects:
        outcome.records = outcome.rows
    return outcome
