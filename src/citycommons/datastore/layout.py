"""Row order of a published table: readings of many things are sorted by (thing, time).

A query for one sensor over a period then touches one or two row groups, found by their min/max statistics,
instead of every row group of the file (a file arrives in time order, so each row group holds every sensor). The
sort costs ingest time (measured in ``bench/datastore.py``), so it is applied only where it pays:

1. the publisher's primary key (schema override) includes a date or datetime column: sort by the other key
   columns, then the time column(s);
2. otherwise, for tables of ``sort_min_bytes`` or more, an *obvious* key and time: exactly one datetime column,
   and a column named like an identifier (``sensor_id``, ``station``, ``codi_estacio``…) whose values repeat in
   the sample (a unique row id would only re-sort a file that is usually in that order already).
"""

from __future__ import annotations

import re

from citycommons.datastore.config import DatastoreConfig
from citycommons.datastore.readers.common import SourceColumn, Staged
from citycommons.datastore.schemas import SchemaOverride

KEY_NAMES = re.compile(
    r"(?i)(^id$|[_\s-]id$|^id[_\s-]|sensor|station|estaci[oó]n?|device|dispositi|meter|comptador|codi|code|^cod[_\s-])"
)
TIME_TYPES = ("date", "datetime")
MAX_KEY_DISTINCT_SHARE = 0.9
"""A key column repeats: at most this share of its sampled values are distinct."""


def sort_columns(
    *, staged: Staged, override: SchemaOverride | None, samples: dict[str, list[str | None]], config: DatastoreConfig
) -> list[str]:
    """Published column names to sort by; empty for source order."""
    if not config.sort_by_key_and_time:
        return []
    by_name = {c.name: c for c in staged.columns}
    declared = [by_name[k] for k in (override.primary_key if override else None) or [] if k in by_name]
    if any(c.field_type in TIME_TYPES for c in declared):
        keys = [c.name for c in declared if c.field_type not in TIME_TYPES]
        return keys + [c.name for c in declared if c.field_type in TIME_TYPES]
    if staged.source_bytes < config.sort_min_bytes:
        return []
    times = [c for c in staged.columns if c.field_type == "datetime"]
    if len(times) != 1:
        return []
    key = next((c for c in staged.columns if c is not times[0] and _is_key(c, samples.get(c.ident))), None)
    return [key.name, times[0].name] if key is not None else []


def _is_key(col: SourceColumn, sample: list[str | None] | None) -> bool:
    if col.field_type not in ("integer", "string") or not KEY_NAMES.search(col.name):
        return False
    values = [v for v in sample or [] if v is not None and v.strip()]
    return bool(values) and len(set(values)) <= MAX_KEY_DISTINCT_SHARE * len(values)
