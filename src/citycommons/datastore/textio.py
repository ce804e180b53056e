"""One streaming pass over a text file: validate UTF-8 in place, or transcode anything else to UTF-8.

Memory stays at one chunk whatever the file size. The pass also rejects NUL bytes (binary data) and reports
progress in bytes. A CSV sniffed as UTF-8 may skip the Python decoding (``defer_utf8``): DuckDB's CSV scan checks
UTF-8 itself, several times faster, and the caller redoes the full pass (``NotUtf8``) only if the scan finds a
byte that is not UTF-8. The NUL check, which DuckDB does not make, stays here (a byte search, ~5 GB/s).
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from citycommons.datastore.sniff import bad_file, wrong_utf8
from citycommons.errors import Invalid

CHUNK = 1024 * 1024
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class TextFile:
    path: Path
    encoding: str
    warnings: list[str] = field(default_factory=list)
    utf8_unchecked: bool = False
    """Only the sniffed sample was decoded; the reader must check the rest (``defer_utf8``)."""


class NotUtf8(Exception):
    """A file taken as UTF-8 without decoding it in Python turned out to hold bytes that are not UTF-8."""


class _Undecodable(Exception):
    def __init__(self, byte: int, offset: int) -> None:
        self.byte, self.offset = byte, offset


def prepare_text(
    *,
    source: Path,
    encoding: str,
    declared: bool,
    sample_has_non_ascii: bool,
    workdir: Path,
    progress: Progress | None,
    defer_utf8: bool = False,
) -> TextFile:
    """Return a UTF-8 file DuckDB can read: ``source`` itself when it is UTF-8, else a transcoded copy.

    With ``defer_utf8``, a file sniffed as UTF-8 is only searched for NUL bytes; its reader checks UTF-8.
    """
    total = source.stat().st_size
    if encoding in ("utf-8", "utf-8-sig") and defer_utf8 and not _has_nul(source, total, progress):
        return TextFile(path=source, encoding=encoding, utf8_unchecked=True)
    if encoding in ("utf-8", "utf-8-sig"):
        try:
            _stream(source, "utf-8", None, total, progress)
            return TextFile(path=source, encoding=encoding)
        except _Undecodable as bad:
            if declared:
                raise wrong_utf8(bad.byte, bad.offset) from None
            if sample_has_non_ascii:
                raise bad_file(
                    f"mixed encodings: UTF-8 at the start but byte 0x{bad.byte:02X} at offset {bad.offset} is not "
                    "UTF-8; re-export the file in one encoding"
                ) from None
            warning = f"not UTF-8 from byte {bad.offset} (0x{bad.byte:02X}) on: read as Windows-1252"
            return _transcode(source, "cp1252", False, workdir, total, progress, [warning])
    return _transcode(source, encoding, declared, workdir, total, progress, [])


def _transcode(
    source: Path,
    encoding: str,
    declared: bool,
    workdir: Path,
    total: int,
    progress: Progress | None,
    warnings: list[str],
) -> TextFile:
    target = workdir / "source.utf8.txt"
    try:
        _stream(source, encoding, target, total, progress)
    except _Undecodable as bad:
        if declared or encoding != "cp1252":
            message = f"the file is not valid {encoding} (byte 0x{bad.byte:02X} at offset {bad.offset})"
            raise Invalid(f"encoding: {message}", fields={"encoding": [message]}) from None
        encoding = "latin_1"  # bytes undefined in cp1252 (0x81, 0x8D, 0x8F, 0x90, 0x9D): plain ISO-8859-1
        _stream(source, encoding, target, total, progress)
    label = {"cp1252": "Windows-1252", "latin_1": "ISO-8859-1"}.get(encoding, encoding)
    if not declared:
        warnings.append(f"file is not UTF-8: decoded as {label} and stored as UTF-8")
    return TextFile(path=target, encoding=encoding, warnings=warnings)


def _has_nul(source: Path, total: int, progress: Progress | None) -> bool:
    """Whether the file holds a NUL byte (the full pass then says where, and what else is wrong first)."""
    done = 0
    with source.open("rb") as fh:
        while chunk := fh.read(CHUNK * 8):
            if b"\x00" in chunk:
                return True
            done += len(chunk)
            if progress:
                progress(done, total)
    return False


def _stream(source: Path, encoding: str, target: Path | None, total: int, progress: Progress | None) -> None:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    done = 0
    out = target.open("w", encoding="utf-8", newline="") if target else None
    try:
        with source.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                nul = chunk.find(b"\x00")
                if nul >= 0 and not encoding.startswith("utf-16"):
                    raise bad_file(f"binary data (NUL byte at offset {done + nul}), not a text table")
                pending = len(decoder.getstate()[0])
                try:
                    text = decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    offset = done - pending + exc.start
                    raise _Undecodable((exc.object[exc.start] if exc.object else 0), offset) from None
                if out:
                    out.write(text)
                done += len(chunk)
                if progress:
                    progress(done, total)
            try:
                tail = decoder.decode(b"", final=True)
            except UnicodeDecodeError as exc:
                raise _Undecodable(exc.object[exc.start], done - len(exc.object) + exc.start) from None
            if out:
                out.write(tail)
    finally:
        if out:
            out.close()
