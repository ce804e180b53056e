"""Delimited text: DuckDB's CSV reader with explicit options (sniffed by us), every column read as text."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.facade import Engine, Params
from citycommons.datastore.readers.common import SourceColumn, Staged, unique_names
from citycommons.datastore.schemas import QuarantineEntry, SourceFormat
from citycommons.datastore.sniff import bad_file
from citycommons.datastore.textio import NotUtf8
from citycommons.errors import Invalid

FATAL = ("unterminated quote", "invalid unicode", "maximum line size", "invalid encoding")


def _not_utf8(error: str) -> bool:
    return "invalid unicode" in error or "invalid encoding" in error


def read_header(path: Path, delimiter: str) -> list[str]:
    """The first record; bytes that are not UTF-8 further down are left to the scan (``Staged.utf8_unchecked``)."""
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        try:
            header = next(csv.reader(fh, delimiter=delimiter, strict=False))
        except StopIteration:
            raise bad_file("the file is empty") from None
        except csv.Error as exc:
            raise bad_file(f"unreadable header: {exc}") from exc
    if any("\udc80" <= ch <= "\udcff" for name in header for ch in name):
        raise NotUtf8  # only possible when the header is longer than the sniffed sample
    return header


def stage_csv(
    *, path: Path, delimiter: str, header: list[str], fmt: SourceFormat = "csv", warnings: list[str]
) -> Staged:
    names = unique_names(header, warnings=warnings)
    if not any(h.strip() for h in header):
        raise bad_file("the first line (the header) is empty")
    columns = [SourceColumn(name=n, ident=f'"c{i}"') for i, n in enumerate(names)]
    spec = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(columns))) + "}"

    def scan(params: Params, rejects: bool) -> str:
        return (
            f"read_csv({params.add(str(path))}, delim={params.add(delimiter)}, quote='\"', escape='\"', "
            f"header=true, auto_detect=false, columns={spec}, ignore_errors=true, "
            f"store_rejects={str(rejects).lower()}, null_padding=false)"
        )

    european = delimiter == ";"
    return Staged(format=fmt, scan=scan, columns=columns, text_source=True, delimiter=delimiter, european=european,
                  warnings=warnings, check_rejects=True, source_bytes=path.stat().st_size)  # fmt: skip


def clear_rejects(engine: Engine) -> None:
    """Forget what earlier scans with ``store_rejects`` recorded (DuckDB appends to the same tables)."""
    engine.execute("DROP TABLE IF EXISTS reject_errors")
    engine.execute("DROP TABLE IF EXISTS reject_scans")


def collect_rejects(*, engine: Engine, staged: Staged, records: int, config: DatastoreConfig) -> None:
    """After the first scan with ``store_rejects``: fail on broken files, quarantine a few malformed records.

    Raises ``NotUtf8`` when the scan rejected bytes that are not UTF-8 in a file whose UTF-8 check it was left.
    """
    rows = engine.fetchall(
        "SELECT line, error_type, error_message, csv_line FROM reject_errors ORDER BY line, column_idx"
    )
    if staged.utf8_unchecked and any(_not_utf8(f"{t} {m}".lower()) for _, t, m, _ in rows):
        raise NotUtf8
    by_line: dict[int, tuple[str, str]] = {}
    for line, error_type, message, raw in rows:
        text = f"{error_type} {message}".lower()
        if any(f in text for f in FATAL):
            detail = "unterminated quoted field (the file may be truncated)" if "quote" in text else message
            raise bad_file(f"record {int(line) - 1}: {detail}")
        by_line.setdefault(int(line), (str(message), str(raw or "").strip("\r\n")))
    if not by_line:
        return
    total = records + len(by_line)
    if len(by_line) > config.max_rejected_rows or len(by_line) > config.max_rejected_fraction * total:
        examples = "; ".join(f"record {ln - 1}: {msg}" for ln, (msg, _) in list(by_line.items())[:3])
        message = f"{len(by_line)} of {total} records have the wrong number of fields ({examples})"
        raise Invalid(f"file: {message}", fields={"file": [message]})
    width = len(staged.columns)
    for ln, (msg, raw) in by_line.items():
        found = len(next(csv.reader(io.StringIO(raw), delimiter=staged.delimiter or ","), []))
        problem = f"expected {width} fields, found {found}" if found else msg
        staged.quarantine.append(QuarantineEntry(row=ln - 1, value=raw[:500], problem=problem))
    staged.rejected_records = sorted(ln - 1 for ln in by_line)
    staged.quarantined_rows = len(by_line)
    staged.warnings.append(f"{len(by_line)} malformed record(s) quarantined (wrong number of fields)")
