"""Type inference for text columns (CSV, XLSX) on a sample of values.

The sample proposes a type; ``materialize`` then verifies it over every row. Rules, in order: booleans
(``true``/``false``), integers (with leading zeros -> text ``code``), numbers in one of four notations (decimal
``.`` or ``,``, optional ``.``/``,`` thousands groups, chosen by evidence and by the file's convention), ISO and
day/month/year dates and timestamps, Spanish/Catalan long dates (``1 de enero de 2024``), else text. Common null
markers (``..``, ``NA``, ``-``…) are nulls in typed columns only. A few misfits (``bad_value_tolerance``) keep the
type and are quarantined; more make the column text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from citycommons.datastore.casts import LONG_DATE, TextType, regex

NULL_MARKERS = ("..", "...", "-", "--", "NA", "N/A", "n/a", "n.d.", "NULL", "null", "NaN", "nan", "s.d.")
INT = r"[+-]?\d+"
LEADING_ZERO = r"[+-]?0\d+"
NUM_DOT = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
NUM_COMMA = r"[+-]?\d+(,\d+)?"
GROUP_DOT = r"[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?"
GROUP_COMMA = r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?"
ISO_DATE = r"\d{4}-\d{2}-\d{2}"
ISO_DATETIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?"
DMY = r"(\d{1,2})([/.-])(\d{1,2})([/.-])(\d{4})"
DMY_TIME = r"\d{1,2}/\d{1,2}/\d{4}[ T]\d{1,2}:\d{2}(:\d{2})?"

CODE_NAMES = re.compile(r"(?i)(postal|postcode|zip|^cp$|_cp$|tel[eè]?fono|phone|^tel$|^fax$|m[oò]bil)")
"""Integer-looking columns that are identifiers whatever their digits (postal codes, phone numbers)."""

BOOLEAN = TextType("boolean", "bool", "a boolean (true/false)")
INTEGER = TextType("integer", "int", "an integer", pattern=INT)
NUMBER = TextType("number", "num", "a number", pattern=NUM_DOT)
NUMBER_COMMA = TextType("number", "num", "a number (decimal comma)", pattern=NUM_COMMA, decimal_char=",")
INT_GROUP_DOT = TextType("integer", "int", "an integer (thousands `.`)", pattern=r"[+-]?(\d{1,3}(\.\d{3})+|\d+)",
                         group_char=".")  # fmt: skip
NUM_GROUP_DOT = TextType("number", "num", "a number (thousands `.`, decimal `,`)", pattern=GROUP_DOT, decimal_char=",",
                         group_char=".")  # fmt: skip
INT_GROUP_COMMA = TextType("integer", "int", "an integer (thousands `,`)", pattern=r"[+-]?(\d{1,3}(,\d{3})+|\d+)",
                           group_char=",")  # fmt: skip
NUM_GROUP_COMMA = TextType("number", "num", "a number (thousands `,`)", pattern=GROUP_COMMA, group_char=",")
DATE_ISO = TextType("date", "date", "a date (YYYY-MM-DD)", pattern=ISO_DATE)
LONGDATE = TextType("date", "longdate", "a long-form date", pattern="(?i)" + LONG_DATE, format="%d de %B de %Y")


@dataclass
class Inference:
    text_type: TextType | None
    """None: the column stays text."""
    kind: str | None = None
    notes: list[str] = field(default_factory=list)
    empty: bool = False
    """No value in the sample: re-sampled later from rows where the column is filled."""


def clean(values: Sequence[str | None]) -> tuple[list[str], set[str]]:
    """Trimmed non-empty values without null markers, and the markers seen."""
    present = [v.strip() for v in values if v is not None and v.strip()]
    return [v for v in present if v not in NULL_MARKERS], {v for v in present if v in NULL_MARKERS}


def unambiguous_dot_decimal(values: Sequence[str | None]) -> bool:
    """True if the column shows `.` as a decimal point for sure (a fraction not of exactly 3 digits)."""
    real, _ = clean(values)
    pattern = regex(r"[+-]?\d*\.(\d{1,2}|\d{4,})")
    return any(pattern.fullmatch(v) for v in dict.fromkeys(real))


def infer_column(
    values: Sequence[str | None], *, name: str, european: bool, tolerance: float, min_values: int
) -> Inference:
    real, _markers = clean(values)
    if not real:
        return Inference(None, empty=True)
    counts = Counter(real)  # rules look at distinct values (first-seen order); shares count repeats
    distinct = list(counts)
    if CODE_NAMES.search(name) and not _all(distinct, INT):
        return Inference(None)
    exact = _exact(distinct, name=name, european=european)
    if exact is not None:
        return exact
    if len(real) < min_values:
        return Inference(None)
    candidates = [INTEGER, NUMBER_COMMA if european else NUMBER, DATE_ISO, _dmy(distinct)]
    best, share = None, 0.0
    for cand in candidates:
        if cand is None:
            continue
        fit = _weight(counts, cand) / len(real)
        if fit > share:
            best, share = cand, fit
    if best is not None and share >= 1 - tolerance:
        if best is INTEGER and _any(distinct, LEADING_ZERO):
            return Inference(None, kind="code")
        return Inference(best)
    return Inference(None)


def _all(values: list[str], pattern: str) -> bool:
    match = regex(pattern).fullmatch
    return all(match(v) for v in values)


def _any(values: list[str], pattern: str) -> bool:
    match = regex(pattern).fullmatch
    return any(match(v) for v in values)


def _weight(counts: Counter[str], cand: TextType) -> int:
    """How many sample values (repeats included) ``cand`` converts."""
    return sum(n for v, n in counts.items() if cand.fits(v))


def _exact(real: list[str], *, name: str, european: bool) -> Inference | None:
    if all(v.lower() in ("true", "false") for v in real):
        return Inference(BOOLEAN)
    if _all(real, INT):
        if CODE_NAMES.search(name):
            return Inference(None, kind="code", notes=[f"{name}: digits kept as text (code): the name says identifier"])
        if _any(real, LEADING_ZERO) or any(len(v.lstrip("+-")) > 18 for v in real):
            return Inference(None, kind="code")
        return Inference(INTEGER)
    number = _number(real, name=name, european=european)
    if number is not None:
        return number
    for cand in (DATE_ISO, _dmy(real), iso_datetime(real), _dmy_datetime(real), LONGDATE):
        if cand is not None and all(cand.fits(v) for v in real):
            notes = []
            if cand is LONGDATE:
                notes.append(f"{name}: long-form dates (`{real[0]}`) read as dates")
            return Inference(cand, notes=notes)
    return None


def _number(real: list[str], *, name: str, european: bool) -> Inference | None:
    dot, comma = _all(real, NUM_DOT), _all(real, NUM_COMMA)
    gdot, gcomma = _all(real, GROUP_DOT), _all(real, GROUP_COMMA)
    dot_evidence = gdot and _any(real, r"[+-]?\d{1,3}(\.\d{3}){2,}(,\d+)?|[+-]?\d{1,3}(\.\d{3})+,\d+")
    comma_evidence = gcomma and _any(real, r"[+-]?\d{1,3}(,\d{3}){2,}(\.\d+)?|[+-]?\d{1,3}(,\d{3})+\.\d+")
    if gdot and (dot_evidence or (dot and european)):
        grouped = INT_GROUP_DOT if not any("," in v for v in real) else NUM_GROUP_DOT
        if dot_evidence or not dot:
            return Inference(grouped)
        example_dot = next((v for v in real if "." in v), "")
        note = f"{name}: `.` read as a thousands separator (`{example_dot}` = {example_dot.replace('.', '')})"
        return Inference(grouped, notes=[note])
    if gcomma and comma_evidence:
        return Inference(INT_GROUP_COMMA if not any("." in v for v in real) else NUM_GROUP_COMMA)
    if dot:
        return Inference(NUMBER)
    if comma and (european or not gcomma):
        return Inference(NUMBER_COMMA)
    if gcomma:
        grouped = INT_GROUP_COMMA if not any("." in v for v in real) else NUM_GROUP_COMMA
        example_comma = next((v for v in real if "," in v), "")
        note = f"{name}: `,` read as a thousands separator (`{example_comma}`)"
        return Inference(grouped, notes=[note])
    if gdot:
        return Inference(INT_GROUP_DOT if not any("," in v for v in real) else NUM_GROUP_DOT)
    return None


def _dmy(real: list[str]) -> TextType | None:
    match = regex(DMY).fullmatch
    matches: list[re.Match[str]] = []
    for v in real:  # stops at the first value that is no d/m/y date
        m = match(v)
        if m is None or m.group(2) != m.group(4):
            return None
        matches.append(m)
    if not matches:
        return None
    sep = matches[0].group(2)
    if any(m.group(2) != sep for m in matches):
        return None
    first_big = any(int(m.group(1)) > 12 for m in matches)
    second_big = any(int(m.group(3)) > 12 for m in matches)
    if second_big and not first_big:
        fmt, label = f"%m{sep}%d{sep}%Y", f"a date (mm{sep}dd{sep}yyyy)"
    else:
        fmt, label = f"%d{sep}%m{sep}%Y", f"a date (dd{sep}mm{sep}yyyy)"
    return TextType("date", "date", label, pattern=DMY, strptime=(fmt,), format=fmt)


def iso_datetime(real: list[str]) -> TextType | None:
    if not _all(real, ISO_DATETIME + "|" + ISO_DATE):
        return None
    offset = regex(r"[+-]\d{2}(:?\d{2})?$").search
    tz = any(v.endswith("Z") or offset(v[10:]) for v in real)
    return TextType("datetime", "datetime", "a timestamp (ISO 8601)", pattern=ISO_DATETIME + "|" + ISO_DATE, tz=tz)


def _dmy_datetime(real: list[str]) -> TextType | None:
    if not _all(real, DMY_TIME):
        return None
    fmts = ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%YT%H:%M:%S", "%d/%m/%YT%H:%M")
    return TextType("datetime", "datetime", "a timestamp (dd/mm/yyyy hh:mm)", pattern=DMY_TIME, strptime=fmts,
                    format="%d/%m/%Y %H:%M:%S")  # fmt: skip


def for_override(field_type: str, values: Sequence[str | None], *, european: bool) -> TextType:
    """The conversion for a type an editor chose, with the notation that fits the sample best."""
    real, _ = clean(values)
    counts = Counter(real)
    real = list(counts)
    if field_type == "string":
        raise ValueError("string needs no conversion")
    options: list[TextType | None]
    if field_type == "boolean":
        options = [BOOLEAN]
    elif field_type == "integer":
        options = [INTEGER, INT_GROUP_DOT if european else INT_GROUP_COMMA]
    elif field_type == "number":
        options = [NUMBER_COMMA, NUM_GROUP_DOT, NUMBER] if european else [NUMBER, NUM_GROUP_COMMA, NUMBER_COMMA]
    elif field_type == "date":
        options = [DATE_ISO, _dmy(real), LONGDATE]
    else:
        options = [iso_datetime(real), _dmy_datetime(real), TextType("datetime", "datetime", "a timestamp")]
    usable = [o for o in options if o is not None]
    return max(usable, key=lambda o: _weight(counts, o))
