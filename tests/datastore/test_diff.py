"""Diff between two versions of a small generated CSV: by primary key, by row hash, schema changes, paging."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from citycommons.datastore import DatastoreConfig, apply_schema_override, ingest_file
from citycommons.datastore.diff import diff
from citycommons.datastore.facade import close_read_pools
from citycommons.datastore.schemas import SchemaOverride
from citycommons.errors import Invalid, NotFound

V1 = """id,name,value,day
1,Sants,10,2024-01-01
2,Gràcia,20,2024-01-02
3,Horta,30,2024-01-03
4,Les Corts,40,2024-01-04
5,Sarrià,50,2024-01-05
"""
V2 = """id,name,value,day
1,Sants,10,2024-01-01
2,GRÀCIA,20,2024-01-02
4,Les Corts,41,2024-01-09
5,Sarrià,50,2024-01-05
6,Nou Barris,60,2024-01-06
7,Sant Andreu,,2024-01-07
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DatastoreConfig]:
    config = DatastoreConfig(root=tmp_path / "store", memory_limit="256MB", threads=1)
    yield config
    close_read_pools(config)


def upload(config: DatastoreConfig, tmp_path: Path, text: str, table_id: str = "barris") -> int:
    source = tmp_path / "upload.csv"
    source.write_text(text, encoding="utf-8")
    return ingest_file(config=config, table_id=table_id, source=source, filename="upload.csv").version


def test_diff_by_primary_key(store: DatastoreConfig, tmp_path: Path) -> None:
    upload(store, tmp_path, V1)
    apply_schema_override(config=store, table_id="barris", override=SchemaOverride(primary_key=["id"]))
    assert upload(store, tmp_path, V2) == 2
    d = diff(config=store, table_id="barris", from_version=1, to_version=2)
    assert d.match == "primary_key" and d.key == ["id"] and d.warnings == []
    assert d.summary.model_dump() == {"added": 2, "removed": 1, "changed": 2, "unchanged": 2}
    assert [(r.change, r.key["id"], r.changed_fields) for r in d.rows] == [
        ("changed", 2, ["name"]),
        ("removed", 3, []),
        ("changed", 4, ["value", "day"]),
        ("added", 6, []),
        ("added", 7, []),
    ]
    four = d.rows[2]
    assert four.old == {"id": 4, "name": "Les Corts", "value": 40, "day": "2024-01-04"}
    assert four.new == {"id": 4, "name": "Les Corts", "value": 41, "day": "2024-01-09"}
    assert d.rows[1].new is None and d.rows[3].old is None and d.rows[4].new == {
        "id": 7, "name": "Sant Andreu", "value": None, "day": "2024-01-07",
    }  # fmt: skip
    page = diff(config=store, table_id="barris", from_version=1, to_version=2, changes=["changed", "added"],
                limit=2, offset=1)  # fmt: skip
    assert [(r.change, r.key["id"]) for r in page.rows] == [("changed", 4), ("added", 6)]
    assert page.summary == d.summary  # counts do not depend on the page
    back = diff(config=store, table_id="barris", from_version=2, to_version=1)
    assert back.summary.model_dump() == {"added": 1, "removed": 2, "changed": 2, "unchanged": 2}


def test_diff_by_row_hash_without_key(store: DatastoreConfig, tmp_path: Path) -> None:
    upload(store, tmp_path, V1)
    upload(store, tmp_path, V2)
    d = diff(config=store, table_id="barris", from_version=1, to_version=2)
    assert d.match == "row_hash" and d.key == ["_row_hash"]
    assert d.summary.model_dump() == {"added": 4, "removed": 3, "changed": 0, "unchanged": 2}
    added = sorted(r.new["id"] for r in d.rows if r.change == "added" and r.new)
    removed = sorted(r.old["id"] for r in d.rows if r.change == "removed" and r.old)
    assert added == [2, 4, 6, 7] and removed == [2, 3, 4]
    assert all(len(r.key["_row_hash"]) == 16 for r in d.rows)
    same = diff(config=store, table_id="barris", from_version=2, to_version=2)
    assert same.summary.model_dump() == {"added": 0, "removed": 0, "changed": 0, "unchanged": 6} and same.rows == []


def test_row_hash_counts_duplicates(store: DatastoreConfig, tmp_path: Path) -> None:
    upload(store, tmp_path, "a,b\n1,x\n1,x\n1,x\n2,y\n")
    upload(store, tmp_path, "a,b\n1,x\n2,y\n2,y\n")
    d = diff(config=store, table_id="barris", from_version=1, to_version=2)
    assert d.summary.model_dump() == {"added": 1, "removed": 2, "changed": 0, "unchanged": 2}


def test_schema_changes_are_reported_apart(store: DatastoreConfig, tmp_path: Path) -> None:
    upload(store, tmp_path, "id,name,old\n1,a,x\n2,b,y\n")
    apply_schema_override(config=store, table_id="barris", override=SchemaOverride(primary_key=["id"]))
    upload(store, tmp_path, "id,name,new\n1,a,1\n2,c,2\n")
    d = diff(config=store, table_id="barris", from_version=1, to_version=2)
    assert d.schema_changes.added_fields == ["new"] and d.schema_changes.removed_fields == ["old"]
    assert d.summary.changed == 1 and d.rows[0].changed_fields == ["name"]
    assert d.rows[0].old == {"id": 2, "name": "b", "old": "y"} and d.rows[0].new == {"id": 2, "name": "c", "new": 2}


def test_type_change_is_compared_as_text(store: DatastoreConfig, tmp_path: Path) -> None:
    upload(store, tmp_path, "id,code\n1,10\n2,20\n")
    apply_schema_override(config=store, table_id="barris", override=SchemaOverride(primary_key=["id"]))
    upload(store, tmp_path, "id,code\n1,10\n2,2O\n")
    d = diff(config=store, table_id="barris", from_version=1, to_version=2)
    assert d.schema_changes.type_changes == {"code": ("integer", "string")}
    assert d.summary.model_dump() == {"added": 0, "removed": 0, "changed": 1, "unchanged": 1}


def test_repeated_key_falls_back_to_row_hash(store: DatastoreConfig, tmp_path: Path) -> None:
    upload(store, tmp_path, "id,v\n1,a\n1,b\n")
    apply_schema_override(config=store, table_id="barris", override=SchemaOverride(primary_key=["id"]))
    upload(store, tmp_path, "id,v\n1,a\n2,b\n")
    d = diff(config=store, table_id="barris", from_version=1, to_version=2)
    assert d.match == "row_hash" and "repeats" in d.warnings[0]
    assert d.summary.model_dump() == {"added": 1, "removed": 1, "changed": 0, "unchanged": 1}


def test_diff_errors(store: DatastoreConfig, tmp_path: Path) -> None:
    upload(store, tmp_path, V1)
    with pytest.raises(NotFound):
        diff(config=store, table_id="barris", from_version=1, to_version=9)
    with pytest.raises(Invalid) as err:
        diff(config=store, table_id="barris", from_version=1, to_version=1, changes=["moved"])  # type: ignore[list-item]
    assert "changes" in err.value.fields
    with pytest.raises(Invalid) as err:
        diff(config=store, table_id="barris", from_version=1, to_version=1, limit=5000)
    assert "limit" in err.value.fields
