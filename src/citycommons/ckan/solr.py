"""The subset of Solr's query syntax that CKAN clients and harvesters send to ``package_search``.

``q``, ``fq`` and every ``fq_list`` item are tokenised, parsed into a small tree, then lowered to what the search
service understands: free-text words (all required), ``field IN values`` filters (optionally negated) and date
ranges, all ANDed. Supported::

    air quality                      free text (every word must match)
    tags:"air quality"  tags:air     a field equals a value (quoted or bare)
    -tags:noise  NOT tags:noise      exclusion; ``+`` marks a required clause (a no-op: clauses are ANDed)
    tags:(air OR noise)              any of several values of one field
    tags:air OR tags:noise           likewise, written out
    metadata_modified:[2026-01-01T00:00:00Z TO *]   ranges; ``{ }`` exclusive, ``NOW-1DAY``/``NOW/DAY`` date math
    *:*                              everything
    text:x  title:x  notes:x         free text (matched against the whole search document, title weighted)
    capacity:public  state:active    CKAN's own filters; site_id is accepted and ignored

What the service cannot answer (OR across different fields or free text, excluding free text, wildcards inside
values) is refused with a ``SearchQueryError`` rather than answered wrongly.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from citycommons.catalog.schemas import FieldFilter, RangeFilter, SortKey
from citycommons.ckan.errors import SearchQueryError

# CKAN field -> the service's filter field
FILTER_FIELDS: dict[str, str] = {
    "organization": "organization",
    "owner_org": "organization",
    "groups": "groups",
    "tags": "tags",
    "res_format": "res_format",
    "license_id": "license_id",
    "name": "name",
    "id": "id",
    "private": "private",
    "theme": "theme",
    "access_rights": "access_rights",
    "frequency": "frequency",
}
RANGE_FIELDS = ("metadata_modified", "metadata_created", "issued", "modified")
TEXT_FIELDS = ("text", "title", "notes")  # matched against the full-text index (title, keywords, description)
IGNORED_FIELDS = ("site_id",)
SORT_FIELDS: dict[str, str] = {
    "score": "score",
    "metadata_modified": "metadata_modified",
    "metadata_created": "metadata_created",
    "name": "name",
    "id": "id",
    "title_string": "title",
    "title": "title",
}
DEFAULT_SORT = "score desc, metadata_modified desc"

# --- tokens ----------------------------------------------------------------------------------------------

PUNCT = "()[]{}"
BREAK = set(PUNCT) | {'"'}


@dataclass(frozen=True)
class Token:
    kind: str  # WORD QUOTED AND OR NOT PLUS MINUS ( ) [ ] { }
    text: str


def tokenize(source: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
        elif ch in PUNCT:
            tokens.append(Token(ch, ch))
            i += 1
        elif ch == '"':
            i, text = _quoted(source, i + 1)
            tokens.append(Token("QUOTED", text))
        elif source.startswith("&&", i) or source.startswith("||", i):
            tokens.append(Token("AND" if ch == "&" else "OR", source[i : i + 2]))
            i += 2
        elif ch in "+-!" and i + 1 < n and not source[i + 1].isspace():
            tokens.append(Token({"+": "PLUS", "-": "MINUS", "!": "NOT"}[ch], ch))
            i += 1
        else:
            i, raw = _word(source, i)
            if raw in ("AND", "OR", "NOT"):
                tokens.append(Token(raw, raw))
            else:
                tokens.append(Token("WORD", raw))
    return tokens


def _quoted(source: str, i: int) -> tuple[int, str]:
    out = []
    while i < len(source):
        ch = source[i]
        if ch == "\\" and i + 1 < len(source):
            out.append(source[i + 1])
            i += 2
            continue
        if ch == '"':
            return i + 1, "".join(out)
        out.append(ch)
        i += 1
    raise SearchQueryError("Unterminated quoted value")


def _word(source: str, i: int) -> tuple[int, str]:
    """A bare word, keeping backslash escapes (they are resolved once the word is split at its colon)."""
    start = i
    while i < len(source):
        ch = source[i]
        if ch == "\\" and i + 1 < len(source):
            i += 2
            continue
        if ch.isspace() or ch in BREAK:
            break
        i += 1
    return i, source[start:i]


def _unescape(raw: str) -> str:
    return re.sub(r"\\(.)", r"\1", raw)


def _split_field(raw: str) -> tuple[str, str] | None:
    """``field:value`` at the first unescaped colon, or None for a bare word."""
    i = 0
    while i < len(raw):
        if raw[i] == "\\":
            i += 2
            continue
        if raw[i] == ":":
            return raw[:i], raw[i + 1 :]
        i += 1
    return None


# --- tree ------------------------------------------------------------------------------------------------


@dataclass
class Node:
    pass


@dataclass
class Text(Node):
    value: str


@dataclass
class Match(Node):
    field: str
    value: str
    wildcard: bool = False


@dataclass
class Range(Node):
    field: str
    start: str
    end: str
    start_inclusive: bool = True
    end_inclusive: bool = True


@dataclass
class Everything(Node):
    pass


@dataclass
class Not(Node):
    child: Node


@dataclass
class And(Node):
    children: list[Node]


@dataclass
class Or(Node):
    children: list[Node]


class Parser:
    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.pos = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str | None = None) -> Token:
        token = self.peek()
        if token is None or (kind is not None and token.kind != kind):
            raise SearchQueryError(f"Expected {kind or 'a term'} at position {self.pos + 1}")
        self.pos += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            return Everything()
        node = self.or_expr(field=None)
        if self.peek() is not None:
            raise SearchQueryError(f"Unexpected '{self.take().text}'")
        return node

    def or_expr(self, *, field: str | None) -> Node:
        children = [self.and_expr(field=field)]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            children.append(self.and_expr(field=field))
        return children[0] if len(children) == 1 else Or(children)

    def and_expr(self, *, field: str | None) -> Node:
        children = [self.clause(field=field)]
        while (token := self.peek()) is not None and token.kind not in ("OR", ")"):
            if token.kind == "AND":
                self.take()
            children.append(self.clause(field=field))
        return children[0] if len(children) == 1 else And(children)

    def clause(self, *, field: str | None) -> Node:
        token = self.peek()
        if token is not None and token.kind in ("PLUS", "MINUS", "NOT"):
            self.take()
            child = self.atom(field=field)
            return child if token.kind == "PLUS" else Not(child)
        return self.atom(field=field)

    def atom(self, *, field: str | None) -> Node:
        token = self.take()
        if token.kind == "(":
            node = self.or_expr(field=field)
            self.take(")")
            return node
        if token.kind == "QUOTED":
            return Match(field, token.text) if field else Text(token.text)
        if token.kind in ("[", "{") and field:
            return self.range(field, inclusive=token.kind == "[")
        if token.kind != "WORD":
            raise SearchQueryError(f"Unexpected '{token.text}'")
        split = None if field else _split_field(token.text)
        if split is None:
            value = _unescape(token.text)
            if field:
                return Match(field, value, wildcard=_has_wildcard(token.text))
            if _has_wildcard(token.text):
                raise SearchQueryError(f"Wildcards are not supported in free text ('{value}')")
            return Text(value)
        name, rest = _unescape(split[0]), split[1]
        if name == "*" and rest == "*":
            return Everything()
        if rest:
            return Match(name, _unescape(rest), wildcard=_has_wildcard(rest))
        following = self.peek()
        if following is None or following.kind not in ("(", "QUOTED", "[", "{"):
            raise SearchQueryError(f"Missing value after '{name}:'")
        return self.atom(field=name)

    def range(self, field: str, *, inclusive: bool) -> Range:
        start = self._bound()
        to = self.take()
        if to.kind != "WORD" or to.text != "TO":
            raise SearchQueryError("A range is written [start TO end]")
        end = self._bound()
        close = self.take()
        if close.kind not in ("]", "}"):
            raise SearchQueryError("A range must end with ] or }")
        return Range(field, start, end, start_inclusive=inclusive, end_inclusive=close.kind == "]")

    def _bound(self) -> str:
        token = self.take()
        if token.kind not in ("WORD", "QUOTED"):
            raise SearchQueryError(f"Unexpected '{token.text}' in a range")
        return token.text if token.kind == "QUOTED" else _unescape(token.text)


def _has_wildcard(raw: str) -> bool:
    i = 0
    while i < len(raw):
        if raw[i] == "\\":
            i += 2
            continue
        if raw[i] in "*?":
            return True
        i += 1
    return False


# --- lowering to the search service's terms ----------------------------------------------------------------


@dataclass
class Constraints:
    """A conjunction the search service can answer: all ``words``, every filter, every range."""

    words: list[str] = field(default_factory=list)
    filters: list[FieldFilter] = field(default_factory=list)
    ranges: list[RangeFilter] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.words)


NOTHING = FieldFilter(field="id", values=[])


def parse(source: str, into: Constraints | None = None, *, now: datetime | None = None) -> Constraints:
    """Adds the constraints of one ``q`` or ``fq`` string to ``into`` (a new one by default)."""
    out = into if into is not None else Constraints()
    _lower(Parser(source).parse(), out, negate=False, now=now or datetime.now(UTC))
    return out


def _lower(node: Node, out: Constraints, *, negate: bool, now: datetime) -> None:
    if isinstance(node, Everything):
        if negate:
            out.filters.append(NOTHING)
    elif isinstance(node, Not):
        _lower(node.child, out, negate=not negate, now=now)
    elif isinstance(node, And):
        if negate and len(node.children) > 1:
            raise SearchQueryError("Excluding a combination of terms (-(a AND b)) is not supported")
        for child in node.children:
            _lower(child, out, negate=negate, now=now)
    elif isinstance(node, Or):
        _lower_or(node, out, negate=negate)
    elif isinstance(node, Text):
        if not node.value.strip():
            return
        if negate:
            raise SearchQueryError(f"Excluding free text is not supported ('-{node.value}')")
        out.words.append(node.value)
    elif isinstance(node, Match):
        if node.field in RANGE_FIELDS:
            _lower(Range(node.field, node.value, node.value), out, negate=negate, now=now)
        elif node.field in TEXT_FIELDS:
            _lower(Text(node.value), out, negate=negate, now=now)
        else:
            _add_filter(out, node.field, [node], negate=negate)
    elif isinstance(node, Range):
        if negate:
            raise SearchQueryError("Excluding a range is not supported")
        if node.field not in RANGE_FIELDS:
            raise SearchQueryError(f"Ranges are only supported on {', '.join(RANGE_FIELDS)}; not on {node.field}")
        start = None if node.start == "*" else parse_date(node.start, now=now)
        end = None if node.end == "*" else parse_date(node.end, now=now)
        if start is not None and not node.start_inclusive:
            start += timedelta(microseconds=1)
        if end is not None and not node.end_inclusive:
            end -= timedelta(microseconds=1)
        out.ranges.append(RangeFilter(field=node.field, start=start, end=end))


def _lower_or(node: Or, out: Constraints, *, negate: bool) -> None:
    """``a OR b`` is answerable when every branch is a value of the same field (or one branch is everything)."""
    if any(isinstance(child, Everything) for child in node.children):
        if negate:
            out.filters.append(NOTHING)
        return
    matches = [child for child in node.children if isinstance(child, Match)]
    fields = {m.field for m in matches}
    if len(matches) != len(node.children) or len(fields) != 1:
        raise SearchQueryError("OR is only supported between values of the same field, e.g. tags:(a OR b)")
    (name,) = fields
    if name in RANGE_FIELDS or name in TEXT_FIELDS:
        raise SearchQueryError(f"OR is not supported on {name}")
    _add_filter(out, name, matches, negate=negate)


def _add_filter(out: Constraints, name: str, matches: list[Match], *, negate: bool) -> None:
    if any(m.wildcard for m in matches):
        raise SearchQueryError(f"Wildcards are not supported in field values ({name})")
    values = [m.value for m in matches]
    if name in IGNORED_FIELDS:
        return
    if name == "capacity":
        wanted = {"public": "false", "private": "true"}
        unknown = [v for v in values if v not in wanted]
        if unknown:
            raise SearchQueryError(f"capacity is public or private, not {unknown[0]}")
        out.filters.append(FieldFilter(field="private", values=[wanted[v] for v in values], negate=negate))
        return
    if name in ("state", "dataset_type", "type"):
        accepted = "active" if name == "state" else "dataset"
        if (accepted in values) == negate:  # only active datasets of type "dataset" exist in this catalog
            out.filters.append(NOTHING)
        return
    if name not in FILTER_FIELDS:
        raise SearchQueryError(f"undefined field {name}")
    if name == "private":
        bad = [v for v in values if v.lower() not in ("true", "false")]
        if bad:
            raise SearchQueryError(f"private is true or false, not {bad[0]}")
    out.filters.append(FieldFilter(field=FILTER_FIELDS[name], values=values, negate=negate))


# --- dates -----------------------------------------------------------------------------------------------

ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|[+-]\d{2}:?\d{2})?")
MATH = re.compile(r"([+-]\d+|/)([A-Z]+)")
UNITS = {
    "YEAR": "years",
    "MONTH": "months",
    "DAY": "days",
    "DATE": "days",
    "HOUR": "hours",
    "MINUTE": "minutes",
    "MIN": "minutes",
    "SECOND": "seconds",
    "SEC": "seconds",
}
ROUNDING = ("years", "months", "days", "hours", "minutes", "seconds")


def parse_date(value: str, *, now: datetime) -> datetime:
    """An ISO 8601 timestamp or Solr date math (``NOW``, ``NOW-1DAY``, ``NOW/DAY``, ``2026-01-01T00:00:00Z+1MONTH``)."""
    text = value.strip()
    if text.upper().startswith("NOW"):
        base, rest = now, text[3:]
    else:
        match = ISO_DATE.match(text)
        if match is None:
            raise SearchQueryError(f"Invalid date '{value}'; use 2026-01-01T00:00:00Z or NOW-1DAY")
        try:
            base = datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
        except ValueError:
            raise SearchQueryError(f"Invalid date '{value}'")
        base = base.replace(tzinfo=UTC) if base.tzinfo is None else base.astimezone(UTC)
        rest = text[match.end() :]
    position = 0
    for op in MATH.finditer(rest.upper()):
        if op.start() != position:
            break
        position = op.end()
        base = _date_math(base, op.group(1), op.group(2), value)
    if position != len(rest):
        raise SearchQueryError(f"Invalid date math in '{value}'")
    return base


def _date_math(base: datetime, op: str, raw_unit: str, value: str) -> datetime:
    unit = UNITS.get(raw_unit.rstrip("S")) or UNITS.get(raw_unit)
    if unit is None:
        raise SearchQueryError(f"Unknown date unit '{raw_unit}' in '{value}'")
    if op == "/":  # round down to the unit
        level = ROUNDING.index(unit)
        return datetime(
            base.year,
            base.month if level >= 1 else 1,
            base.day if level >= 2 else 1,
            base.hour if level >= 3 else 0,
            base.minute if level >= 4 else 0,
            base.second if level >= 5 else 0,
            tzinfo=base.tzinfo,
        )
    amount = int(op)
    if unit in ("years", "months"):
        months = base.month - 1 + amount * (12 if unit == "years" else 1)
        year, month = base.year + months // 12, months % 12 + 1
        day = min(base.day, calendar.monthrange(year, month)[1])
        return base.replace(year=year, month=month, day=day)
    return base + timedelta(**{unit: amount})


# --- sort ------------------------------------------------------------------------------------------------


def parse_sort(value: str) -> list[SortKey]:
    """``"score desc, metadata_modified desc"`` -> sort keys; an unknown field or direction is a query error."""
    keys = []
    for part in value.split(","):
        words = part.split()
        if not words:
            continue
        if len(words) > 2 or words[0] not in SORT_FIELDS:
            raise SearchQueryError('Invalid "sort" parameter')
        direction = words[1].lower() if len(words) == 2 else "asc"
        if direction not in ("asc", "desc"):
            raise SearchQueryError('Invalid "sort" parameter')
        keys.append(SortKey(field=SORT_FIELDS[words[0]], descending=direction == "desc"))
    return keys
