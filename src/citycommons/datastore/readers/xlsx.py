"""XLSX: zip-bomb guard, then openpyxl in read-only (streaming) mode to a UTF-8 CSV staged like any CSV.

Text cells lose trailing space padding; numbers, dates and booleans are written in a canonical text form that
type inference reads back (``300000``, ``2024-01-31``, ``true``).
"""

from __future__ import annotations

import csv
import warnings as pywarnings
import zipfile
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.readers.common import Staged
from citycommons.datastore.readers.csv import stage_csv
from citycommons.datastore.sniff import bad_file
from citycommons.errors import TooLarge


def check_zip_bomb(*, path: Path, config: DatastoreConfig) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise bad_file(f"damaged or truncated XLSX ({exc})") from exc
    unpacked = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if unpacked > config.max_xlsx_uncompressed_bytes:
        message = f"XLSX unpacks to {unpacked} bytes, over the limit of {config.max_xlsx_uncompressed_bytes}"
        raise TooLarge(f"file: {message}", fields={"file": [message]})
    if unpacked / packed > config.max_xlsx_compression_ratio:
        message = (
            f"XLSX compression ratio {unpacked / packed:.0f}:1 is over the limit of "
            f"{config.max_xlsx_compression_ratio:g}:1 (zip bomb?)"
        )
        raise TooLarge(f"file: {message}", fields={"file": [message]})


def _cell_text(value: Any) -> tuple[str, bool]:
    """Canonical text of a cell value, and whether trailing padding was trimmed."""
    if value is None:
        return "", False
    if isinstance(value, str):
        trimmed = value.rstrip(" ")
        return trimmed, trimmed != value
    if isinstance(value, bool):
        return ("true" if value else "false"), False
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value)), False
    if isinstance(value, datetime):
        return (value.date().isoformat() if value.time() == time(0) else value.isoformat()), False
    if isinstance(value, date | time):
        return value.isoformat(), False
    return str(value), False


def stage_xlsx(*, path: Path, workdir: Path, config: DatastoreConfig, warnings: list[str]) -> Staged:
    check_zip_bomb(path=path, config=config)
    import openpyxl  # heavy import, only when needed

    target = workdir / "sheet.csv"
    try:
        with pywarnings.catch_warnings():
            pywarnings.simplefilter("ignore")
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged archives
        raise bad_file(f"damaged or unreadable XLSX ({type(exc).__name__}: {exc})") from exc
    try:
        sheets = book.worksheets
        if not sheets:
            raise bad_file("the workbook has no worksheet")
        sheet = sheets[0]
        if len(sheets) > 1:
            warnings.append(f"workbook has {len(sheets)} sheets: read the first, `{sheet.title}`")
        header, trimmed = _write_rows(sheet, target)
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as exc:
        raise bad_file(f"damaged or truncated XLSX ({exc})") from exc
    finally:
        book.close()
    if header is None:
        raise bad_file("the worksheet is empty")
    if trimmed:
        warnings.append(f"{trimmed} text cells had trailing spaces: trimmed")
    staged = stage_csv(path=target, delimiter=",", header=header, fmt="xlsx", warnings=warnings)
    staged.sheet = sheet.title
    staged.european = False
    return staged


def _write_rows(sheet: Any, target: Path) -> tuple[list[str] | None, int]:
    header: list[str] | None = None
    trimmed = 0
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        for row in sheet.iter_rows(values_only=True):
            cells = []
            for value in row:
                text, cut = _cell_text(value)
                trimmed += cut
                cells.append(text)
            if header is None:
                if not any(cells):
                    continue  # blank rows above the header
                while cells and not cells[-1]:
                    cells.pop()
                header = cells
                writer.writerow(header)
                continue
            width = len(header)
            while len(cells) > width and not cells[-1]:
                cells.pop()
            cells += [""] * (width - len(cells))
            writer.writerow(cells)
    return header, trimmed
