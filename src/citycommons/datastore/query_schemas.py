"""Pydantic models of datastore reads: search requests (filters, sort, aggregates...), and the results of a search,
of read-only SQL and of a diff between two versions.

Requests accept the compact shapes a query string or a CKAN client sends (``filters={"col": 1}``,
``sort="a desc, b"``, ``aggregates=["count", "p90:Valor"]``) and normalise them into the typed lists below.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from citycommons.errors import Invalid

ResultType = Literal[
    "string", "integer", "number", "boolean", "date", "datetime", "time", "duration", "object", "array", "geojson",
    "any",
]  # fmt: skip
FilterOp = Literal["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "is_null", "not_null"]
FILTER_OPS: tuple[str, ...] = FilterOp.__args__  # type: ignore[attr-defined]
AggregateFunction = Literal["count", "count_distinct", "sum", "avg", "min", "max", "p50", "p90", "p95", "p99"]
AGGREGATE_FUNCTIONS: tuple[str, ...] = AggregateFunction.__args__  # type: ignore[attr-defined]
TimeUnit = Literal["hour", "day", "week", "month", "year"]
MAX_IN_VALUES = 1000


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Filter(_Request):
    """``field <op> value``. ``in``/``not_in`` take a list; ``is_null``/``not_null`` take no value. ``ne`` and
    ``not_in`` keep rows where the column is null (they mean "is not this value")."""

    field: str
    op: FilterOp = "eq"
    value: Any = None


class SortKey(_Request):
    field: str
    direction: Literal["asc", "desc"] = "asc"


class Aggregate(_Request):
    """``count`` without a field counts rows; ``p50``..``p99`` are continuous percentiles (``quantile_cont``)."""

    function: AggregateFunction
    field: str | None = None
    alias: str | None = None

    @property
    def name(self) -> str:
        """The output column: the alias, ``count``, or ``<function>_<field>``."""
        if self.alias:
            return self.alias
        return self.function if self.field is None else f"{self.function}_{self.field}"


class TimeBucket(_Request):
    """Group a date or timestamp column by ``unit`` (``date_trunc``): the bucket is a group-by key."""

    field: str
    unit: TimeUnit
    alias: str | None = None

    @property
    def name(self) -> str:
        return self.alias or f"{self.field}_{self.unit}"


def _split(value: Any) -> Any:
    """``"a, b"`` -> ``["a", "b"]`` (names containing commas need the list form)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class SearchRequest(_Request):
    """Everything a search may ask, after the shorthands are expanded. Checked against the table schema later."""

    version: int | None = Field(None, ge=1)
    filters: list[Filter] = Field(default_factory=list)
    q: str | dict[str, str] | None = None
    fields: list[str] | None = None
    sort: list[SortKey] = Field(default_factory=list)
    limit: int = Field(100, ge=0)
    offset: int = Field(0, ge=0)
    cursor: str | None = None
    include_total: bool = False
    distinct: bool = False
    group_by: list[str] = Field(default_factory=list)
    aggregates: list[Aggregate] = Field(default_factory=list)
    time_bucket: TimeBucket | None = None

    @field_validator("filters", mode="before")
    @classmethod
    def _filters(cls, value: Any) -> Any:
        if value is None:
            return []
        if not isinstance(value, dict):
            return value
        out: list[dict[str, Any]] = []
        for name, spec in value.items():
            if spec is None:
                out.append({"field": name, "op": "is_null"})
            elif isinstance(spec, list):
                out.append({"field": name, "op": "in", "value": spec})
            elif isinstance(spec, dict):
                if not spec:
                    raise ValueError(f"`{name}`: no operator given")
                for op, arg in spec.items():
                    if op not in FILTER_OPS:
                        raise ValueError(f"`{name}`: unknown operator `{op}`; use one of {', '.join(FILTER_OPS)}")
                    if op in ("is_null", "not_null") and arg is False:
                        op = "not_null" if op == "is_null" else "is_null"
                    out.append({"field": name, "op": op, "value": None if op in ("is_null", "not_null") else arg})
            else:
                out.append({"field": name, "op": "eq", "value": spec})
        return out

    @field_validator("sort", mode="before")
    @classmethod
    def _sort(cls, value: Any) -> Any:
        if value is None:
            return []
        out: list[Any] = []
        for item in _split(value):
            if not isinstance(item, str):
                out.append(item)
                continue
            text = item.strip()
            name, _, last = text.rpartition(" ")
            if last.lower() in ("asc", "desc") and name.strip():
                out.append({"field": name.strip(), "direction": last.lower()})
            elif text.startswith("-"):
                out.append({"field": text[1:], "direction": "desc"})
            else:
                out.append({"field": text, "direction": "asc"})
        return out

    @field_validator("aggregates", mode="before")
    @classmethod
    def _aggregates(cls, value: Any) -> Any:
        if value is None:
            return []
        out: list[Any] = []
        for item in _split(value):
            if isinstance(item, str):
                function, _, name = item.partition(":")
                out.append({"function": function.strip(), "field": name.strip() or None})
            else:
                out.append(item)
        return out

    @field_validator("fields", mode="before")
    @classmethod
    def _fields(cls, value: Any) -> Any:
        return _split(value)

    @field_validator("group_by", mode="before")
    @classmethod
    def _group_by(cls, value: Any) -> Any:
        return [] if value is None else _split(value)


def invalid_request(exc: ValidationError) -> Invalid:
    """A pydantic error as ``Invalid``, one entry per request parameter (``filters``, ``sort``...)."""
    fields: dict[str, list[str]] = {}
    for error in exc.errors():
        loc = error.get("loc") or ("request",)
        where = ".".join(str(p) for p in loc[1:])
        message = error.get("msg", "invalid").removeprefix("Value error, ")
        fields.setdefault(str(loc[0]), []).append(f"{where}: {message}" if where else message)
    summary = "; ".join(f"{k}: {' '.join(v)}" for k, v in fields.items())
    return Invalid(summary, fields=fields)


# --- Results -------------------------------------------------------------------------------------------------------


class ResultField(BaseModel):
    name: str
    type: ResultType


class QueryResult(BaseModel):
    """One page of a search. ``next_cursor`` is set when more rows follow; ``total`` only when asked for."""

    table_id: str
    version: int
    fields: list[ResultField]
    records: list[dict[str, Any]]
    limit: int
    offset: int = 0
    total: int | None = None
    next_cursor: str | None = None


class SqlResult(BaseModel):
    """Rows of a read-only SQL query, cut at the row cap (``truncated``)."""

    fields: list[ResultField]
    records: list[dict[str, Any]]
    truncated: bool = False
    tables: list[str] = Field(default_factory=list)
    """The table ids the query read."""


DiffChange = Literal["added", "removed", "changed"]


class DiffSummary(BaseModel):
    added: int = 0
    removed: int = 0
    changed: int = 0
    unchanged: int = 0


class SchemaChanges(BaseModel):
    added_fields: list[str] = Field(default_factory=list)
    removed_fields: list[str] = Field(default_factory=list)
    type_changes: dict[str, tuple[str, str]] = Field(default_factory=dict)
    """``{field: (old type, new type)}``."""


class DiffRow(BaseModel):
    change: DiffChange
    key: dict[str, Any]
    """The primary key values, or ``{"_row_hash": ...}`` when rows are matched by content."""
    old: dict[str, Any] | None = None
    new: dict[str, Any] | None = None
    changed_fields: list[str] = Field(default_factory=list)


class TableDiff(BaseModel):
    """What changed from ``from_version`` to ``to_version``: counts, schema changes and one page of rows."""

    table_id: str
    from_version: int
    to_version: int
    match: Literal["primary_key", "row_hash"]
    key: list[str]
    summary: DiffSummary
    schema_changes: SchemaChanges
    rows: list[DiffRow]
    limit: int
    offset: int
    warnings: list[str] = Field(default_factory=list)
