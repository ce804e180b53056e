"""Read-only SQL over published tables (``datastore_search_sql``, ``/api/v1/sql``).

A query is accepted only when all of these hold. It parses (sqlglot, DuckDB dialect) as exactly one SELECT; CTEs,
subqueries and set operations are allowed. No statement other than a query appears anywhere in it. Every
function is on the allow-list below, and the only table functions are ``range``, ``generate_series`` and
``unnest``. No string literal holds a URL (``scheme://``). There are no parameters. Every table it reads is a
bare name that the caller's ``resolver`` maps to a Parquet file. The resolver returns ``None`` for unknown and for
private tables alike, so both get the same "unknown table" error.

The statement that runs is the one sqlglot regenerates from the checked tree (comments dropped), never the
caller's text, so comments and quoting tricks cannot smuggle in anything that was not checked. A side effect:
an expression without an alias is named after its regenerated text (``count(*)`` becomes ``count_star()``), so
callers should alias computed columns. It runs in a fresh in-memory DuckDB
database. There each table is a view over its Parquet file. File access is switched off once the views exist:
only those files stay readable. The configuration is locked, a timer interrupts the query at its time limit, and
the rows are cut at the row cap (``truncated``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError, TokenError
from sqlglot.optimizer.scope import traverse_scope

from citycommons.datastore import versions
from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.facade import EngineError, read_pool
from citycommons.datastore.query import DEFAULT_MAX_ROWS
from citycommons.datastore.query_schemas import ResultField, ResultType, SqlResult
from citycommons.datastore.schemas import TableSchema
from citycommons.datastore.values import converter, frictionless_type
from citycommons.errors import CityCommonsError, Forbidden, Invalid, NotFound, TooLarge

Resolver = Callable[[str], Path | None]
"""``table_id -> Parquet path`` of a table the caller may read; ``None`` when unknown or not permitted."""

MAX_SQL_CHARS = 20_000
MAX_NODES = 20_000
DIALECT = "duckdb"

_SAFE_FUNCTION_NAMES = """
count count_star sum avg mean min max median mode quantile quantile_cont quantile_disc percentile_cont
percentile_disc stddev stddev_pop stddev_samp variance var_pop var_samp corr covar_pop covar_samp regr_slope
regr_intercept regr_r2 regr_count regr_avgx regr_avgy entropy kurtosis skewness mad approx_count_distinct
approx_quantile string_agg group_concat listagg list array_agg histogram first last any_value arbitrary arg_min
arg_max argmin argmax min_by max_by bool_and bool_or bit_and bit_or bit_xor count_if countif product fsum
sumkahan geomean favg
row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
abs ceil ceiling floor round round_even trunc sign sqrt cbrt exp ln log log2 log10 pow power mod pi degrees
radians sin cos tan asin acos atan atan2 cot greatest least isnan isinf isfinite gcd lcm factorial even
bit_count random gamma lgamma xor divide add subtract multiply fdiv fmod
lower upper lcase ucase length len strlen char_length character_length octet_length bit_length substr
substring left right trim ltrim rtrim lpad rpad replace reverse repeat concat concat_ws contains starts_with
ends_with suffix prefix position strpos instr split_part string_split str_split string_to_array
regexp_matches regexp_replace regexp_extract regexp_extract_all regexp_split_to_array regexp_full_match
strip_accents nfc_normalize ascii chr unicode ord md5 sha1 sha256 hash format printf levenshtein
damerau_levenshtein hamming jaccard jaro_similarity jaro_winkler_similarity mismatches editdist3 translate
to_base64 from_base64 base64 url_encode url_decode bar format_bytes array_to_string list_to_string
date_trunc datetrunc date_part datepart date_diff datediff date_sub datesub date_add extract year month day
hour minute second millisecond microsecond week weekofyear weekday dayofweek dayofmonth dayofyear isodow
isoyear yearweek quarter decade century millennium era epoch epoch_ms epoch_us epoch_ns make_date make_time
make_timestamp make_timestamptz strftime strptime try_strptime to_timestamp age last_day dayname monthname
time_bucket current_date current_timestamp now today get_current_time get_current_timestamp to_days to_hours
to_minutes to_seconds to_months to_years to_weeks to_milliseconds to_microseconds timezone
list_value list_pack array_value list_extract list_element array_extract list_slice array_slice list_concat
array_concat list_cat array_cat list_contains array_contains list_has array_has list_position array_position
list_distinct array_distinct list_unique array_unique list_sort array_sort list_reverse_sort list_reverse
list_transform array_transform apply list_apply list_filter array_filter filter list_reduce array_reduce
reduce list_aggregate list_aggr aggregate array_aggregate list_sum list_min list_max list_avg array_length
flatten unnest generate_series range list_zip array_zip list_has_any list_has_all list_intersect
array_intersect list_resize array_resize list_where list_select list_append array_append list_prepend
array_prepend struct_pack struct_extract struct_insert row map map_from_entries map_keys map_values
map_entries map_extract element_at cardinality
json_extract json_extract_string json_extract_path json_extract_path_text json_value json_exists json_type
json_valid json_array_length json_keys json_structure json_contains json_object json_array to_json json
json_quote json_merge_patch json_transform from_json
coalesce ifnull nullif if iff typeof cast try_cast uuid gen_random_uuid
"""
SAFE_FUNCTIONS: frozenset[str] = frozenset(_SAFE_FUNCTION_NAMES.split())
"""DuckDB functions a query may call. Not here, so refused: file readers and table functions (``read_*``,
``glob``, ``*_scan``, ``query``), settings and environment (``current_setting``, ``getenv``, ``duckdb_*``,
``pragma_*``), SQL execution (``json_execute_serialized_sql``), sequences, variables and ``setseed``."""

_SYNTAX_SAMPLES = (
    "CAST(a AS INT)", "TRY_CAST(a AS INT)", "a::INT", "EXTRACT(YEAR FROM a)", "[1, 2]", "{'a': 1}", "MAP {'a': 1}",
    "a -> '$.x'", "a ->> '$.x'", "a[1]", "a[1:2]", "CASE WHEN a THEN b ELSE c END", "a IS DISTINCT FROM b",
    "count(*)", "count(DISTINCT a)", "a LIKE b", "a ILIKE b", "a SIMILAR TO b", "a BETWEEN b AND c", "a IN (1, 2)",
    "list_transform(a, x -> x + 1)", "INTERVAL 1 DAY", "DATE '2020-01-01'", "TIMESTAMP '2020-01-01 00:00'",
    "a || b", "a // b", "a ^ b", "a % b", "a ** b", "percentile_cont(0.5) WITHIN GROUP (ORDER BY a)",
    "string_agg(a, ',' ORDER BY a)", "TRIM(BOTH 'x' FROM a)", "POSITION('a' IN b)", "SUBSTRING(a FROM 1 FOR 2)",
    "current_date", "current_timestamp", "a IS NULL", "a = ANY([1])", "row_number() OVER (ORDER BY a)",
    "count(*) FILTER (WHERE a > 1)", "COLUMNS('x')", "DATE '2020-01-01' + INTERVAL 1 DAY",
    "a @> b", "a <@ b", "a && b", "a !~~ b", "a ~~* b", "a ^@ b",
)  # fmt: skip
_TABLE_FUNCTIONS: tuple[type[exp.Expr], ...] = (exp.GenerateSeries, exp.Unnest, exp.ExplodingGenerateSeries)
_STATEMENTS: tuple[type[exp.Expr], ...] = (
    exp.Command, exp.Create, exp.Insert, exp.Update, exp.Delete, exp.Drop, exp.Copy, exp.Pragma, exp.Set,
    exp.Attach, exp.Detach, exp.Install, exp.Use, exp.Describe, exp.Alter, exp.Merge, exp.Transaction, exp.Commit,
    exp.Rollback, exp.Into, exp.Summarize, exp.Show, exp.LoadData, exp.Export, exp.Cache, exp.Uncache, exp.Refresh,
    exp.Kill, exp.Analyze, exp.Grant, exp.Revoke, exp.Comment, exp.TruncateTable, exp.Declare, exp.Execute,
)  # fmt: skip
_NO_PARAMETERS: tuple[type[exp.Expr], ...] = (exp.Placeholder, exp.Parameter, exp.SessionParameter)
_URL = re.compile(r"[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_SYSTEM_NAME = re.compile(r"(duckdb_|pg_|sqlite_|pragma_|information_schema)", re.IGNORECASE)


_SAMPLE_ARGS = (
    "a", "a, b", "a, b, c", "[1], x -> x", "'day', DATE '2020-01-01'", "DATE '2020-01-01', 'x'",
    "TIMESTAMP '2020-01-01 10:00'", "'day', DATE '2020-01-01', DATE '2020-01-02'",
    "INTERVAL 1 DAY, TIMESTAMP '2020-01-01'",
)  # fmt: skip


@cache
def _safe_function_classes() -> frozenset[type[exp.Expr]]:
    """The sqlglot classes the allowed functions and SQL syntax parse into (sqlglot turns ``date_trunc`` into
    ``TimestampTrunc`` or ``DateTrunc`` depending on its arguments...): derived by parsing them, so the allow-list
    has one source."""
    found: set[type[exp.Expr]] = set(_TABLE_FUNCTIONS)
    groups = [[f"{name}({args})" for args in _SAMPLE_ARGS] for name in sorted(SAFE_FUNCTIONS)]
    for group in [*groups, list(_SYNTAX_SAMPLES)]:
        for sample in group:
            try:
                tree = sqlglot.parse_one(f"SELECT {sample}", read=DIALECT)
            except (ParseError, TokenError, ValueError):
                continue
            found.update(type(node) for node in tree.walk() if isinstance(node, exp.Func))
    found.discard(exp.Anonymous)
    return frozenset(found)


@dataclass(frozen=True)
class CheckedSql:
    """A query that passed every check: the SQL to run and the Parquet file behind each table it reads."""

    sql: str
    views: dict[str, Path]
    """``table_id -> Parquet path``: the views of the sandbox."""

    @property
    def tables(self) -> list[str]:
        return sorted(self.views)


def refuse(message: str, *, forbidden: bool = False) -> CityCommonsError:
    """``Forbidden`` for a construct that reaches outside the published tables, ``Invalid`` otherwise."""
    cls = Forbidden if forbidden else Invalid
    return cls(f"sql: {message}", fields={"sql": [message]})


def check_sql(*, sql: str, resolver: Resolver) -> CheckedSql:
    """Parse and check ``sql``; raise ``Invalid`` or ``Forbidden`` (field ``sql``) at the first problem."""
    if not sql.strip():
        raise refuse("the query is empty")
    if len(sql) > MAX_SQL_CHARS:
        raise refuse(f"the query is longer than {MAX_SQL_CHARS} characters")
    try:
        statements = sqlglot.parse(sql, read=DIALECT)
    except SqlglotError as exc:
        raise refuse(f"could not parse the query: {_first_line(str(exc))}") from None
    except RecursionError:
        raise refuse("the query is nested too deeply") from None
    present = [s for s in statements if s is not None]
    if len(present) != 1:
        raise refuse("send exactly one SELECT statement", forbidden=True)
    tree = present[0]
    if not isinstance(tree, exp.Select | exp.SetOperation | exp.Subquery):
        raise refuse(f"only SELECT queries are allowed, not {tree.key.upper()}", forbidden=True)
    nodes = list(tree.walk())
    if len(nodes) > MAX_NODES:
        raise refuse("the query is too large")
    for node in nodes:
        _check_node(node)
    try:
        views = _resolve_tables(tree, resolver)
        text = tree.sql(dialect=DIALECT, comments=False)  # comments never reach DuckDB
    except SqlglotError as exc:
        raise refuse(f"could not analyse the query: {_first_line(str(exc))}") from None
    return CheckedSql(sql=text, views=views)


def _check_node(node: exp.Expr) -> None:
    if isinstance(node, _STATEMENTS):
        raise refuse(f"{node.key.upper()} is not allowed: queries only read", forbidden=True)
    if isinstance(node, _NO_PARAMETERS):
        raise refuse("parameters are not supported: write the values into the query")
    if isinstance(node, exp.Literal) and node.is_string and _URL.search(node.this):
        raise refuse("URLs are not allowed in queries", forbidden=True)
    if isinstance(node, exp.Func):
        if isinstance(node, exp.Anonymous):
            name = node.name
            allowed = name.lower() in SAFE_FUNCTIONS
        else:
            name = node.sql_name().lower()
            allowed = type(node) in _safe_function_classes()
        if not allowed:
            raise refuse(f"function `{name}` is not allowed", forbidden=True)
    if isinstance(node, exp.Table) and isinstance(node.this, exp.Func) and not isinstance(node.this, _TABLE_FUNCTIONS):
        fn = node.this
        name = fn.name if isinstance(fn, exp.Anonymous) else fn.sql_name().lower()
        message = f"table function `{name}` is not allowed (only range, generate_series and unnest are)"
        raise refuse(message, forbidden=True)


def _resolve_tables(tree: exp.Expr, resolver: Resolver) -> dict[str, Path]:
    """Point every table reference at its view; CTE references are left alone (scopes decide which is which)."""
    cte_refs: set[int] = set()
    for scope in traverse_scope(tree):
        for table in scope.tables:
            if table.name in scope.cte_sources and not table.args.get("db"):
                cte_refs.add(id(table))
    for cte in tree.find_all(exp.CTE):
        if _SYSTEM_NAME.match(cte.alias_or_name):
            raise refuse(f"`{cte.alias_or_name}` is a reserved name", forbidden=True)
    views: dict[str, Path] = {}
    for table in list(tree.find_all(exp.Table)):
        if id(table) in cte_refs or isinstance(table.this, exp.Func):
            continue
        name = table.sql(dialect=DIALECT) if table.args.get("db") or table.args.get("catalog") else table.name
        table_id = name.lower()
        path = resolver(table_id) if versions.TABLE_ID.fullmatch(table_id) else None
        if path is None:
            raise refuse(f"unknown table `{name}`")
        views[table_id] = path
        original = table.name
        table.set("this", exp.to_identifier(table_id, quoted=True))
        if table.args.get("alias") is None:
            table.set("alias", exp.TableAlias(this=exp.to_identifier(original, quoted=True)))
    return views


def run_sql(
    *,
    config: DatastoreConfig,
    sql: str,
    resolver: Resolver,
    timeout: float | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> SqlResult:
    """Check and run ``sql``; at most ``max_rows`` records (``truncated`` says when more were cut off)."""
    checked = check_sql(sql=sql, resolver=resolver)
    seconds = timeout if timeout is not None else config.query_timeout_seconds
    try:
        rows = read_pool(config).fetch_sandboxed(checked.sql, views=checked.views, timeout=seconds, max_rows=max_rows)
    except EngineError as exc:
        raise engine_error(exc, checked=checked, seconds=seconds) from exc
    fields = result_fields([(c.name, c.duck_type) for c in rows.columns], checked=checked)
    convert = [converter(f.type) for f in fields]
    records = [{f.name: conv(v) for f, conv, v in zip(fields, convert, row, strict=True)} for row in rows.rows]
    return SqlResult(fields=fields, records=records, truncated=rows.truncated, tables=checked.tables)


def engine_error(exc: EngineError, *, checked: CheckedSql, seconds: float) -> CityCommonsError:
    """A DuckDB failure as a 4xx: ``TooLarge`` at the time limit, ``Invalid`` otherwise (file paths hidden)."""
    if exc.interrupted:
        message = f"the query took longer than {seconds:g} s"
        return TooLarge(f"sql: {message}", fields={"sql": [message]})
    message = _first_line(exc.message)
    for table_id, path in checked.views.items():
        message = message.replace(str(path), table_id)
    return refuse(message)


def result_fields(columns: list[tuple[str, str]], *, checked: CheckedSql) -> list[ResultField]:
    """Fields of a SQL result: Frictionless types from DuckDB's, ``geojson`` for a JSON column named like a
    geometry column of a table read; repeated names get a ``_2``, ``_3``... suffix."""
    geometry = set()
    for path in checked.views.values():
        schema_file = path.parent / versions.SCHEMA_FILE
        if schema_file.is_file():
            schema = TableSchema.model_validate_json(schema_file.read_text(encoding="utf-8"))
            geometry |= {f.name for f in schema.fields if f.type == "geojson"}
    fields: list[ResultField] = []
    seen: set[str] = set()
    for name, duck_type in columns:
        kind: ResultType = frictionless_type(duck_type)
        if duck_type == "JSON" and name in geometry:
            kind = "geojson"
        unique, n = name, 2
        while unique in seen:
            unique, n = f"{name}_{n}", n + 1
        seen.add(unique)
        fields.append(ResultField(name=unique, type=kind))
    return fields


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "the query failed"


def resolver_for(*, config: DatastoreConfig, readable: Mapping[str, int | None]) -> Resolver:
    """A resolver over the tables of ``config``: ``readable`` maps each table id the caller may read to a version
    (``None``: the latest). Permission decisions stay with the caller; this only finds files."""

    def resolve(table_id: str) -> Path | None:
        if table_id not in readable:
            return None
        version = readable[table_id]
        if version is None:
            version = versions.latest_version(config=config, table_id=table_id)
            if version is None:
                return None
        try:  # a local file (with S3 storage: the read-through cache's copy)
            path = versions.data_path(config=config, table_id=table_id, version=version)
        except NotFound:
            return None
        return path if path.is_file() else None

    return resolve
