"""JSON arrays, NDJSON, objects with a nested record array, and GeoJSON, streamed with ijson.

A first pass finds the record array (or checks the one the caller named) and refuses catalog documents; a second
pass streams the records to a staging NDJSON file with synthetic keys while tracking each key's JSON types. JSON
types are kept: a string stays a string (``"080193"``, ``"7082.08"``), except strings that are all ISO dates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import ijson
import orjson

from citycommons.datastore.infer import DATE_ISO, ISO_DATETIME, iso_datetime
from citycommons.datastore.readers.common import SourceColumn, Staged, unique_names
from citycommons.datastore.readers.geometry import bbox, centroid
from citycommons.datastore.schemas import QuarantineEntry, SourceFormat
from citycommons.datastore.sniff import bad_file, not_a_table
from citycommons.errors import Invalid

Progress = Callable[[int, int], None]
GEO_COLUMNS = ("geometry", "bbox_minx", "bbox_miny", "bbox_maxx", "bbox_maxy", "centroid_lon", "centroid_lat")
INT64 = 2**63


class _Reader:
    """A binary file that skips a UTF-8 BOM and reports progress."""

    def __init__(self, fh: IO[bytes], total: int, progress: Progress | None) -> None:
        self._fh, self._total, self._progress = fh, total, progress
        if fh.read(3) != b"\xef\xbb\xbf":
            fh.seek(0)

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n)
        if self._progress:
            self._progress(self._fh.tell(), self._total)
        return data


@dataclass
class _Discovery:
    top: str = ""
    keys: list[str] = field(default_factory=list)
    scalars: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, int] = field(default_factory=dict)


def _discover(path: Path, backend: Any) -> _Discovery:
    found = _Discovery()
    with path.open("rb") as fh:
        for prefix, event, value in backend.parse(_Reader(fh, 0, None)):
            if prefix == "" and event in ("start_map", "start_array") and not found.top:
                found.top = "map" if event == "start_map" else "array"
            elif prefix == "" and event == "map_key":
                found.keys.append(value)
            elif event == "start_map" and (prefix == "item" or prefix.endswith(".item")):
                parent = prefix[:-5] if prefix != "item" else ""
                found.arrays[parent] = found.arrays.get(parent, 0) + 1
            elif "." not in prefix and prefix and event in ("string", "number", "boolean"):
                found.scalars.setdefault(prefix, value)
    return found


def _refuse_catalogs(found: _Discovery) -> None:
    keys = set(found.keys)
    if {"help", "success", "result"} <= keys:
        raise not_a_table("a CKAN API response (catalog records); import it with catalog harvesting")
    if keys & {"@context", "@graph"}:
        raise not_a_table("JSON-LD metadata (e.g. a DCAT catalog record); import it through the catalog")
    if "dataset" in keys and "conformsTo" in keys:
        raise not_a_table("a DCAT-US data.json catalog; import it with catalog harvesting")
    if "resources" in keys and ("profile" in keys or "name" in keys) and "resources" in found.arrays:
        raise not_a_table("a data package descriptor; upload the tables it lists")


def normalise_path(json_path: str) -> str:
    path = json_path.strip().removeprefix("$").lstrip(".").replace("/", ".").replace("[*]", "").replace("[]", "")
    return path.strip(".")


def choose_path(found: _Discovery, json_path: str | None) -> tuple[str, str]:
    if json_path is not None:
        wanted = normalise_path(json_path)
        if wanted not in found.arrays:
            options = ", ".join(f"`{p or '$'}`" for p in found.arrays) or "none"
            message = f"no array of objects at `{json_path}` (arrays of objects found: {options})"
            raise Invalid(f"json_path: {message}", fields={"json_path": [message]})
        return wanted, "given"
    if not found.arrays:
        raise not_a_table("a JSON document without an array of records (objects)")
    best = min(found.arrays, key=lambda p: (p.count(".") + (1 if p else 0), -found.arrays[p]))
    return best, "detected"


@dataclass
class _Column:
    key: str
    index: int
    kinds: set[str] = field(default_factory=set)
    iso_date: bool = True
    iso_datetime: bool = True
    samples: list[str] = field(default_factory=list)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int" if -INT64 <= value < INT64 else "bigint"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "object" if isinstance(value, dict) else "array"


def _feature_row(feature: Any, warnings: set[str]) -> dict[str, Any] | None:
    if not isinstance(feature, dict):
        return None
    props = feature.get("properties") or {}
    row: dict[str, Any] = {}
    for key, value in props.items():
        if key in GEO_COLUMNS:
            warnings.add(f"property `{key}` renamed `property_{key}` (name reserved for the geometry columns)")
            key = f"property_{key}"
        row[key] = value
    geometry = feature.get("geometry")
    box = bbox(geometry) if isinstance(geometry, dict) else None
    center = centroid(geometry) if isinstance(geometry, dict) else None
    row["geometry"] = geometry
    for name, value in zip(GEO_COLUMNS[1:5], box or (None,) * 4, strict=True):
        row[name] = value
    row["centroid_lon"], row["centroid_lat"] = center or (None, None)
    return row


def _records(
    path: Path, prefix: str, ndjson: bool, total: int, progress: Progress | None, backend: Any
) -> Iterator[Any]:
    with path.open("rb") as fh:
        reader = _Reader(fh, total, progress)
        if ndjson:
            yield from backend.items(reader, "", multiple_values=True, use_float=True)
        else:
            yield from backend.items(reader, f"{prefix}.item" if prefix else "item", use_float=True)


def stage_json(
    *, path: Path, fmt: SourceFormat, json_path: str | None, workdir: Path, progress: Progress | None,
    warnings: list[str], backend: Any = ijson,
) -> Staged:  # fmt: skip
    total = path.stat().st_size
    prefix, source, geo = "", None, False
    try:
        if fmt != "ndjson":
            found = _discover(path, backend)
            geo = found.top == "map" and found.scalars.get("type") == "FeatureCollection"
            if not geo:
                _refuse_catalogs(found)
                if found.top == "array" and "" not in found.arrays:
                    raise not_a_table("a JSON array whose items are not objects")
            prefix, source = ("features", "detected") if geo and json_path is None else choose_path(found, json_path)
            if geo and found.scalars.get("crs") is not None:
                warnings.append("GeoJSON has a `crs` member: coordinates may not be WGS84 lon/lat")
        elif json_path:
            warnings.append("json_path ignored: NDJSON has one record per line")
        return _stage_records(path, prefix, source, fmt, geo, workdir, total, progress, warnings, backend)
    except ijson.JSONError as exc:
        if "integer overflow" in str(exc) and backend is ijson:  # the C parser stops at 64 bits; Python's does not
            return stage_json(path=path, fmt=fmt, json_path=json_path, workdir=workdir, progress=progress,
                              warnings=warnings, backend=ijson.get_backend("python"))  # fmt: skip
        raise bad_file(f"malformed or truncated JSON ({str(exc).splitlines()[0]})") from exc


def _stage_records(
    path: Path, prefix: str, source: str | None, fmt: SourceFormat, geo: bool, workdir: Path, total: int,
    progress: Progress | None, warnings: list[str], backend: Any,
) -> Staged:  # fmt: skip
    columns: dict[str, _Column] = {}
    quarantine: list[QuarantineEntry] = []
    rejected: list[int] = []
    notes: set[str] = set()
    geometry_types: dict[str, int] = {}
    target = workdir / "records.ndjson"
    count = longest = 0
    with target.open("wb") as out:
        for count, item in enumerate(_records(path, prefix, fmt == "ndjson", total, progress, backend), start=1):
            record = _feature_row(item, notes) if geo else item
            if not isinstance(record, dict):
                quarantine.append(QuarantineEntry(row=count, value=str(item)[:200], problem="record is not an object"))
                rejected.append(count)
                continue
            if geo and isinstance(record.get("geometry"), dict):
                gtype = str(record["geometry"].get("type"))
                geometry_types[gtype] = geometry_types.get(gtype, 0) + 1
            line: dict[str, Any] = {}
            for key, value in record.items():
                col = columns.get(key)
                if col is None:
                    col = columns[key] = _Column(key, index=len(columns))
                kind = _kind(value)
                col.kinds.add(kind)
                if kind == "bigint":
                    value = str(value)
                elif kind == "str":
                    col.iso_date = col.iso_date and bool(re.fullmatch(DATE_ISO.pattern or "", value))
                    col.iso_datetime = col.iso_datetime and bool(re.fullmatch(ISO_DATETIME, value))
                    if len(col.samples) < 200:
                        col.samples.append(value)
                line[f"c{col.index}"] = value
            encoded = orjson.dumps(line) + b"\n"
            longest = max(longest, len(encoded))
            out.write(encoded)
    warnings.extend(sorted(notes))
    if count == 0:
        raise bad_file("no records: the record array is empty")
    if len(rejected) == count:
        raise not_a_table("no record is a JSON object")
    if quarantine:
        warnings.append(f"{len(quarantine)} record(s) that are not objects quarantined")
    if source is not None:
        kind = "GeoJSON features" if geo else "records"
        warnings.append(f"{kind} read from `{prefix or '$'}` ({source})")
    if geometry_types:
        warnings.append("geometry: " + ", ".join(f"{n} {t}" for t, n in sorted(geometry_types.items())))
    staged_cols = _columns(list(columns.values()), geo, warnings)
    spec = "{" + ", ".join(f"'c{i}': '{c.duck_type}'" for i, c in enumerate(staged_cols)) + "}"

    def scan(params: Any, rejects: bool) -> str:
        return (
            f"read_json({params.add(str(target))}, format='newline_delimited', records=true, columns={spec}, "
            f"maximum_object_size={max(1 << 20, 2 * longest)})"
        )

    return Staged(format=fmt if not geo else "geojson", scan=scan, columns=staged_cols, text_source=False,
                  json_path=prefix if source else None, json_path_source=source, warnings=warnings,
                  quarantine=quarantine, quarantined_rows=len(quarantine), rejected_records=rejected)  # fmt: skip


def _columns(raw: list[_Column], geo: bool, warnings: list[str]) -> list[SourceColumn]:
    names = unique_names([c.key for c in raw], warnings=warnings)
    result = []
    nested = 0
    for i, (col, name) in enumerate(zip(raw, names, strict=True)):
        sc = SourceColumn(name=name, ident=f'"c{i}"')
        kinds = col.kinds - {"null"}
        if geo and col.key == "geometry":
            sc.duck_type, sc.field_type = "JSON", "geojson"
        elif geo and col.key in GEO_COLUMNS:
            sc.duck_type, sc.field_type = "DOUBLE", "number"
        elif not kinds:
            warnings.append(f"{name}: always null")
        elif kinds == {"int"}:
            sc.duck_type, sc.field_type = "BIGINT", "integer"
        elif kinds <= {"int", "float"}:
            sc.duck_type, sc.field_type = "DOUBLE", "number"
        elif kinds == {"bool"}:
            sc.duck_type, sc.field_type = "BOOLEAN", "boolean"
        elif kinds == {"str"} and col.iso_date:
            sc.field_type, sc.text = "date", DATE_ISO
        elif kinds == {"str"} and col.iso_datetime:
            sc.field_type, sc.text = "datetime", iso_datetime(col.samples) or DATE_ISO
        elif kinds <= {"object", "array"}:
            sc.duck_type = "JSON"
            sc.field_type = "object" if kinds == {"object"} else "array" if kinds == {"array"} else "any"
            nested += 1
        elif kinds == {"bigint"} or kinds == {"int", "bigint"}:
            warnings.append(f"{name}: integers beyond 64 bits: kept as text")
        elif kinds != {"str"}:
            warnings.append(f"{name}: mixed JSON types ({', '.join(sorted(kinds))}): kept as text")
        result.append(sc)
    if not geo and len(result) >= 4 and nested * 2 > len(result):
        raise not_a_table("records are nested documents (most fields are objects or arrays), not rows")
    return result
