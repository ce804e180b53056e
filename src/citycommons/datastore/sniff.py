"""Format, encoding and delimiter detection on a bounded sample of the file (``config.sample_bytes``).

Content wins over the file name: an XLSX named ``.csv`` is read as XLSX, with a warning. Catalog records (RDF,
CKAN API responses) and binary files are refused here, before anything is staged.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.schemas import SourceFormat
from citycommons.errors import Invalid

DELIMITERS = (",", ";", "\t", "|")
SINGLE_BYTE = {"cp1252", "iso8859-1", "iso8859-15", "cp1250", "iso8859-2", "cp850", "mac-roman"}
_BINARY_MAGIC = {
    b"\x1f\x8b": "a gzip archive",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"BZh": "a bzip2 archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
    b"\xfd7zXZ": "an xz archive",
    b"SQLite format 3": "an SQLite database",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": "a legacy Excel 97-2003 (.xls) or other OLE file; save it as XLSX or CSV",
}
_EXTENSIONS: dict[str, SourceFormat] = {
    "csv": "csv",
    "tsv": "csv",
    "txt": "csv",
    "json": "json",
    "ndjson": "ndjson",
    "jsonl": "ndjson",
    "geojson": "geojson",
    "xlsx": "xlsx",
    "parquet": "parquet",
}
_RDF = re.compile(r"(@prefix|@base|prefix\s|base\s|<\?xml|<rdf:rdf)", re.IGNORECASE)
_HTML = re.compile(r"<(!doctype html|html)", re.IGNORECASE)
_MOJIBAKE = re.compile("[\u00c3\u00c2][\u0080-\u00bf]")


@dataclass(frozen=True)
class Sniffed:
    format: SourceFormat
    encoding: str | None = None
    encoding_declared: bool = False
    sample_has_non_ascii: bool = False
    delimiter: str | None = None
    warnings: list[str] = field(default_factory=list)


def not_a_table(what: str) -> Invalid:
    message = f"not a table: {what}"
    return Invalid(message, fields={"file": [message]})


def bad_file(message: str) -> Invalid:
    return Invalid(f"file: {message}", fields={"file": [message]})


def declared_kind(declared_format: str | None, filename: str) -> str | None:
    """The format the uploader claims, from ``declared_format`` or else the file extension."""
    if declared_format:
        return declared_format.lower().lstrip(".")
    suffix = Path(filename).suffix.lower().lstrip(".")
    return suffix or None


def sniff(
    *, config: DatastoreConfig, path: Path, filename: str, declared_format: str | None, encoding: str | None
) -> Sniffed:
    with path.open("rb") as fh:
        head = fh.read(config.sample_bytes)
        whole = fh.read(1) == b""
    claimed = declared_kind(declared_format, filename)
    found = _binary_format(head, path)
    if found is not None:
        return Sniffed(format=found, warnings=_mismatch(claimed, found))
    enc, declared = _choose_encoding(head, encoding, whole=whole)
    text = codecs.getincrementaldecoder(enc)("replace").decode(head, final=whole).lstrip("\ufeff")
    non_ascii = any(b > 0x7F for b in head)
    if "\x00" in text:
        raise bad_file("binary data (NUL bytes), not a text table")
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\r\n\f\v")
    if controls > max(2, len(text[:65536]) // 100):
        raise bad_file("binary data (control characters), not a text table")
    warnings: list[str] = []
    if len(_MOJIBAKE.findall(text)) >= 3:
        warnings.append("text looks double-encoded (mojibake such as `Ã©`); check the publisher's export")
    stripped = text.lstrip()
    fmt = _text_format(stripped, claimed)
    warnings += _mismatch(claimed, fmt)
    if fmt != "csv":
        return Sniffed(
            format=fmt, encoding=enc, encoding_declared=declared, sample_has_non_ascii=non_ascii, warnings=warnings
        )
    delimiter = detect_delimiter(text if whole else text[: text.rfind("\n") + 1] or text, claimed=claimed)
    return Sniffed(
        format="csv",
        encoding=enc,
        encoding_declared=declared,
        sample_has_non_ascii=non_ascii,
        delimiter=delimiter,
        warnings=warnings,
    )


def _mismatch(claimed: str | None, found: SourceFormat) -> list[str]:
    expected = _EXTENSIONS.get(claimed or "")
    if claimed is None or expected is None or expected == found:
        return []
    if {expected, found} <= {"json", "geojson", "ndjson"}:
        return []
    return [f"declared as {claimed} but the content is {found.upper()}; read as {found.upper()}"]


def _binary_format(head: bytes, path: Path) -> SourceFormat | None:
    if not head:
        raise bad_file("the file is empty")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise bad_file(f"damaged or truncated zip/XLSX archive ({exc})") from exc
        if "xl/workbook.xml" in names:
            return "xlsx"
        if b"opendocument.spreadsheet" in mimetype:
            raise bad_file("OpenDocument spreadsheets (.ods) are not supported; save it as XLSX or CSV")
        raise not_a_table("a zip archive that is not an XLSX workbook; upload the table inside it")
    if head.startswith(b"PAR1"):
        return "parquet"
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise not_a_table(what)
    return None


def _choose_encoding(head: bytes, declared: str | None, *, whole: bool) -> tuple[str, bool]:
    """Pick the codec for a text file: the declared one (checked), a BOM, strict UTF-8, else Windows-1252."""
    if declared:
        try:
            name = codecs.lookup(declared).name
        except LookupError as exc:
            raise Invalid(
                f"encoding: unknown encoding {declared!r}", fields={"encoding": ["unknown encoding"]}
            ) from exc
        name = "utf-8" if name == "utf-8-sig" else name
        if name == "utf-8":
            _check_utf8(head, whole=whole)
        elif name in SINGLE_BYTE and any(b > 0x7F for b in head) and _is_utf8(head, whole=whole):
            message = (
                f"declared {declared} but the file is valid UTF-8; reading it as {declared} would garble "
                "accented letters (mojibake such as `Ã©`). Leave the encoding out or declare UTF-8"
            )
            raise Invalid(f"encoding: {message}", fields={"encoding": [message]})
        return ("utf-8-sig" if head.startswith(codecs.BOM_UTF8) and name == "utf-8" else name), True
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", False
    if b"\x00" in head:
        raise bad_file("binary data (NUL bytes), not a text table")
    if _is_utf8(head, whole=whole):
        return "utf-8", False
    # Western European single-byte: cp1252 is latin-1 plus printable 0x80-0x9F; bytes it leaves undefined -> latin-1
    try:
        head.decode("cp1252")
    except UnicodeDecodeError:
        return "latin_1", False
    return "cp1252", False


def _is_utf8(head: bytes, *, whole: bool) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=whole)
    except UnicodeDecodeError:
        return False
    return True


def _check_utf8(head: bytes, *, whole: bool) -> None:
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=whole)
    except UnicodeDecodeError as exc:
        raise wrong_utf8(head[exc.start], exc.start) from exc


def wrong_utf8(byte: int, offset: int) -> Invalid:
    message = (
        f"the file is not valid UTF-8 (byte 0x{byte:02X} at offset {offset}); it looks like Windows-1252/Latin-1. "
        "Leave the encoding out to detect it, or declare the right one"
    )
    return Invalid(f"encoding: {message}", fields={"encoding": [message]})


def _text_format(text: str, claimed: str | None) -> SourceFormat:
    if text.startswith(("{", "[")):
        if claimed in ("ndjson", "jsonl") or _looks_ndjson(text):
            return "ndjson"
        return "geojson" if claimed == "geojson" else "json"
    if _RDF.match(text) or re.match(r"<[^>\s]+>\s+<", text):
        kind = "a DCAT catalog record" if "dcat" in text[:20000].lower() else "RDF metadata"
        raise not_a_table(f"{kind} (RDF/Turtle/XML); import it through the catalog, not the datastore")
    if _HTML.match(text):
        raise not_a_table("an HTML page (a download link that returned a web page?)")
    if text.startswith("<"):
        raise not_a_table("an XML document")
    return "csv"


def _looks_ndjson(text: str) -> bool:
    lines = [line.strip() for line in islice(io.StringIO(text), 3) if line.strip()]
    if len(lines) < 2 or not lines[1].startswith("{"):
        return False
    try:
        return isinstance(json.loads(lines[0]), dict)
    except ValueError:
        return False


def detect_delimiter(text: str, *, claimed: str | None) -> str:
    """The delimiter giving the widest, most consistent records over the sample (csv-module parsing)."""
    best: tuple[tuple[bool, float, int], str] | None = None
    for delim in DELIMITERS:
        try:
            rows = [r for r in islice(csv.reader(io.StringIO(text), delimiter=delim, strict=False), 1000) if r]
        except csv.Error:
            continue
        if not rows:
            continue
        width = len(rows[0])
        consistent = sum(1 for r in rows if len(r) == width) / len(rows)
        score = (width > 1, round(consistent, 2) + (0.01 if claimed == "tsv" and delim == "\t" else 0), width)
        if best is None or score > best[0]:
            best = (score, delim)
    return best[1] if best else ","
