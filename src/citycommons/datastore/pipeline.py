"""From a ``Staged`` scan to ``data.parquet``: infer on a sample, apply the override, verify, settle, write."""

from __future__ import annotations

import re
from pathlib import Path

from citycommons.datastore import infer, materialize, overrides
from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.facade import Engine
from citycommons.datastore.readers.common import SourceColumn, Staged
from citycommons.datastore.readers.csv import collect_rejects
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


def _align_families(staged: Staged, quarantined: set[str]) -> None:
    """Integer columns of a numbered family (``H01``…``H24``) whose siblings are numbers become numbers."""
    families: dict[str, list[SourceColumn]] = {}
    for col in staged.columns:
        key = re.sub(r"\d+", "#", col.name)
        if key != col.name:
            families.setdefault(key, []).append(col)
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
                col.text, col.field_type = number, "number"


def run(
    *, engine: Engine, staged: Staged, override: SchemaOverride | None, config: DatastoreConfig, out: Path
) -> materialize.Outcome:
    outcome = materialize.Outcome()

    def sample(cols: list[SourceColumn]) -> dict[str, list[str | None]]:
        return materialize.sample_text(engine=engine, staged=staged, columns=cols, limit=config.sample_rows)

    if staged.text_source:
        samples = sample(staged.columns)
        if staged.european and any(infer.unambiguous_dot_decimal(v) for v in samples.values()):
            staged.european = False  # the file writes decimals with `.`: never read `.` as thousands
        for col in staged.columns:
            _infer(col, samples[col.ident], staged, config)
    staged.warnings.extend(overrides.apply_types(staged=staged, override=override, sample=sample))

    checked = [c for c in staged.columns if c.text is not None or c.empty_in_sample]
    if checked or staged.check_rejects:
        records, empty, stats = materialize.verify(
            engine=engine, staged=staged, columns=checked, rejects=staged.check_rejects
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
                _, _, more = materialize.verify(engine=engine, staged=staged, columns=again, rejects=False)
                settled += list(zip(again, more, strict=True))
        for col, st in settled:
            warning = materialize.settle(col=col, stats=st, config=config, staged=staged)
            if warning:
                staged.warnings.append(warning)
            if col.text is not None and st[0]:
                room = max(0, config.max_quarantine_listed - len(outcome.quarantine))
                outcome.quarantine += materialize.quarantine_cells(engine=engine, staged=staged, col=col, limit=room)
                outcome.quarantined_cells += int(st[0])
        if empty:
            staged.warnings.append(f"{empty} empty record(s) (every field empty) skipped")
    _align_families(staged, {q.column for q in outcome.quarantine if q.column})
    outcome.rows = materialize.write_parquet(engine=engine, staged=staged, out=out, config=config)
    if not checked and not staged.check_rejects:
        outcome.records = outcome.rows
    return outcome
