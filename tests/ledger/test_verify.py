"""Tampering with the stored log or with an export is detected, with a message that names what differs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from sqlalchemy import text

from citycommons.errors import CityCommonsError
from citycommons.ledger import merkle, service
from citycommons.ledger.keys import generate_signer, public_key_b64, public_key_info
from citycommons.ledger.schemas import SignedTreeHead
from citycommons.ledger.verify import verify, verify_directory, verify_url
from tests.ledger.factories import event

TABLES = ("ledger_entry", "ledger_node", "ledger_tree_head")
HEAD_SIZES = (10, 20, 32)


@pytest.fixture
def signer():  # type: ignore[no-untyped-def]
    return generate_signer()


@pytest.fixture
def log(uow, signer):  # type: ignore[no-untyped-def]
    """32 entries with signed tree heads at 10, 20 and 32."""
    done = 0
    for size in HEAD_SIZES:
        with uow() as s:
            service.append_many(session=s, events=[event(n) for n in range(done, size)])
            service.sign_tree_head(session=s, signer=signer)
        done = size
    return uow


def tamper(uow, engine_kind: str, *statements: tuple[str, dict[str, Any]]) -> None:  # type: ignore[no-untyped-def]
    """What an attacker with write access to the database does: lift the append-only triggers, then write."""
    with uow() as s:
        for table in TABLES:
            if engine_kind == "sqlite":
                s.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
                s.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
            else:
                s.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        for statement, params in statements:
            s.execute(text(statement), params)


def stored(uow, index: int) -> tuple[bytes, bytes]:  # type: ignore[no-untyped-def]
    with uow() as s:
        row = s.execute(text("SELECT data, leaf_hash FROM ledger_entry WHERE idx = :i"), {"i": index}).one()
    return bytes(row[0]), bytes(row[1])


def audit(uow, signer):  # type: ignore[no-untyped-def]
    with uow() as s:
        return service.audit(session=s, public_key=signer.public_key)


def messages(result) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(m.message for m in result.mismatches)


# -- the stored log (both engines) -----------------------------------------------------------------------------


def test_intact_log_verifies(engine_kind, log, signer) -> None:  # type: ignore[no-untyped-def]
    result = audit(log, signer)
    assert result.ok, result.summary()
    assert (result.tree_size, result.entries, result.tree_heads) == (32, 32, 3)
    assert result.summary().startswith("OK: 32 entries, 3 signed tree heads, verified tree size 32")


def test_altered_entry_bytes(engine_kind, log, signer) -> None:  # type: ignore[no-untyped-def]
    data, _ = stored(log, 14)
    forged = data.replace(b'"rows":42', b'"rows":43')
    assert forged != data
    tamper(log, engine_kind, ("UPDATE ledger_entry SET data = :d WHERE idx = 14", {"d": forged}))
    result = audit(log, signer)
    assert not result.ok
    assert result.mismatches[0].kind == "leaf" and result.mismatches[0].index == 14
    assert "entry 14: recorded leaf hash" in messages(result) and "bytes were altered" in messages(result)
    assert "tree head #1 (size 20)" in messages(result) and "entries 10..19 differ" in messages(result)
    assert result.tree_size == 10


def test_altered_entry_and_its_leaf_hash(engine_kind, log, signer) -> None:  # type: ignore[no-untyped-def]
    data, _ = stored(log, 14)
    forged = data.replace(b'"rows":42', b'"rows":43')
    tamper(
        log,
        engine_kind,
        (
            "UPDATE ledger_entry SET data = :d, leaf_hash = :h WHERE idx = 14",
            {"d": forged, "h": merkle.leaf_hash(forged)},
        ),
    )
    result = audit(log, signer)
    text_ = messages(result)
    assert "node (level 1, index 7) over entries 14..15: stored hash" in text_
    assert "tree head #1 (size 20): signed root" in text_ and "entries 10..19 differ from what was signed" in text_
    assert result.tree_size == 10


def test_deleted_entry(engine_kind, log, signer) -> None:  # type: ignore[no-untyped-def]
    tamper(log, engine_kind, ("DELETE FROM ledger_entry WHERE idx = 7", {}))
    result = audit(log, signer)
    assert "entry 7 is missing" in messages(result)
    assert result.tree_size == 0  # every signed head covers entry 7
    with log() as s, pytest.raises(CityCommonsError):
        service.get_entry(session=s, index=7)


def test_reordered_entries(engine_kind, log, signer) -> None:  # type: ignore[no-untyped-def]
    (a, ha), (b, hb) = stored(log, 3), stored(log, 9)
    tamper(
        log,
        engine_kind,
        ("UPDATE ledger_entry SET data = :d, leaf_hash = :h WHERE idx = 3", {"d": b, "h": hb}),
        ("UPDATE ledger_entry SET data = :d, leaf_hash = :h WHERE idx = 9", {"d": a, "h": ha}),
    )
    result = audit(log, signer)
    assert "entry 3: holds the bytes of entry 9 (entries swapped or moved)" in messages(result)
    assert "entry 9: holds the bytes of entry 3" in messages(result)
    assert result.tree_size == 0


def test_altered_and_deleted_nodes(engine_kind, log, signer) -> None:  # type: ignore[no-untyped-def]
    tamper(
        log,
        engine_kind,
        ("UPDATE ledger_node SET hash = :h WHERE level = 2 AND idx = 1", {"h": b"\x00" * 32}),
        ("DELETE FROM ledger_node WHERE level = 1 AND idx = 12", {}),
    )
    result = audit(log, signer)
    assert [m.kind for m in result.mismatches] == ["node", "node"]
    assert "node (level 1, index 12) missing from the stored tree" in messages(result)
    assert "node (level 2, index 1) over entries 4..7: stored hash 0000000000000000…" in messages(result)
    assert result.tree_size == 32  # the signed entries are intact; only the proofs' shortcuts are wrong
    with log() as s, pytest.raises(service.LedgerIntegrityError):
        service.inclusion_proof(session=s, index=27, tree_size=32)  # its path has (1, 12)


def test_forged_tree_heads(engine_kind, log, signer) -> None:  # type: ignore[no-untyped-def]
    other = generate_signer()
    with log() as s:
        s.execute(  # a head that claims an extra entry, signed by somebody else's key
            text(
                "INSERT INTO ledger_tree_head (tree_size, timestamp_ms, root_hash, key_id, signature) "
                "VALUES (33, 1, :r, :k, :s)"
            ),
            {"r": b"\x01" * 32, "k": other.key_id, "s": other.sign(b"x")},
        )
    tamper(log, engine_kind, ("UPDATE ledger_tree_head SET root_hash = :r WHERE tree_size = 20", {"r": b"\x02" * 32}))
    result = audit(log, signer)
    text_ = messages(result)
    assert "tree head #1 (size 20, timestamp" in text_ and "signature does not verify" in text_
    assert f"tree head #3 (size 33, timestamp 1): signed by key {other.key_id[:16]}, not the log's key" in text_
    assert "tree head #3 (size 33, timestamp 1) is older than tree head #2" in text_
    assert result.tree_size == 32


# -- an export, checked offline --------------------------------------------------------------------------------


@pytest.fixture
def exported(log, signer, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    with log() as s:
        outcome = service.export(session=s, directory=tmp_path / "export", public_key=signer.public_key)
    assert (outcome.entries, outcome.tree_heads) == (32, 3)
    return outcome.directory


def lines(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (directory / "entries.ndjson").read_text().splitlines()]


def rewrite(directory: Path, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
    items = change(lines(directory))
    (directory / "entries.ndjson").write_text("".join(json.dumps(i) + "\n" for i in items))


def test_export_needs_an_empty_directory(log, signer, exported) -> None:  # type: ignore[no-untyped-def]
    with log() as s, pytest.raises(CityCommonsError, match="not empty"):
        service.export(session=s, directory=exported, public_key=signer.public_key)


def test_export_verifies_offline(exported, signer) -> None:  # type: ignore[no-untyped-def]
    assert sorted(p.name for p in exported.iterdir()) == ["entries.ndjson", "public-key.json", "sths.json"]
    result = verify(exported, pinned_key=public_key_b64(signer.public_key))
    assert result.ok and result.tree_size == 32, result.summary()
    first = lines(exported)[0]
    assert merkle.leaf_hash(first["entry"].encode()).hex() == first["leaf_hash"]


def test_export_with_an_edited_line(exported) -> None:  # type: ignore[no-untyped-def]
    def edit(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        items[25]["entry"] = items[25]["entry"].replace('"rows":75', '"rows":0')
        return items

    rewrite(exported, edit)
    result = verify_directory(exported)
    assert result.mismatches[0].message.startswith("entry 25: recorded leaf hash")
    assert "tree head #2 (size 32)" in messages(result) and "entries 20..31 differ" in messages(result)
    assert result.tree_size == 20


def test_export_with_a_deleted_line(exported) -> None:  # type: ignore[no-untyped-def]
    rewrite(exported, lambda items: items[:12] + items[13:])
    result = verify_directory(exported)
    assert "entry 12 is missing (position 12 holds entry 13 or later)" in messages(result)
    assert "tree head #2 (size 32) covers entries 31..31, which are missing" in messages(result)
    assert result.tree_size == 10


def test_export_with_two_lines_swapped(exported) -> None:  # type: ignore[no-untyped-def]
    rewrite(exported, lambda items: [*items[:4], items[6], items[5], items[4], *items[7:]])
    result = verify_directory(exported)
    assert "entry 4 appears at position 6, after entry 6 (entries reordered)" in messages(result)
    assert "missing" not in messages(result)
    assert result.tree_size == 0


def test_export_with_a_forged_or_resigned_head(exported, signer) -> None:  # type: ignore[no-untyped-def]
    heads = json.loads((exported / "sths.json").read_text())
    heads["tree_heads"][2]["root_hash"] = "ab" * 32
    (exported / "sths.json").write_text(json.dumps(heads))
    result = verify_directory(exported)
    assert "tree head #2 (size 32, timestamp" in messages(result)
    assert "the Ed25519 signature does not verify with the log's public key" in messages(result)
    assert result.tree_size == 20
    # Replacing the key and re-signing everything fools nobody who pinned the key.
    (exported / "public-key.json").write_text(public_key_info(generate_signer().public_key).model_dump_json())
    with pytest.raises(ValueError, match="not the pinned key"):
        verify_directory(exported, pinned_key=public_key_b64(signer.public_key))


# -- over HTTP (the planned API, served from the services through httpx.MockTransport) -------------------------


def api(uow, signer, *, forge_consistency: bool = False) -> httpx.Client:  # type: ignore[no-untyped-def]
    def handle(request: httpx.Request) -> httpx.Response:
        q = {k: int(v[0]) for k, v in parse_qs(request.url.query.decode()).items()}
        path = request.url.path.removeprefix("/api/v1/log")
        with uow() as s:
            body: Any
            if path == "/entries":
                body = service.list_entries(session=s, start=q["start"], limit=q["limit"])
            elif path == "/sth":
                body = service.latest_tree_head(session=s)
            elif path == "/sths":
                body = service.list_tree_heads(session=s)
            elif path == "/public-key":
                body = public_key_info(signer.public_key)
            elif path == "/proof/inclusion":
                body = service.inclusion_proof(session=s, index=q["index"], tree_size=q["tree_size"])
            elif path == "/proof/consistency":
                body = service.consistency(session=s, first=q["first"], second=q["second"])
                if forge_consistency and q["second"] == 32:
                    body.consistency_path[0] = "00" * 32
            else:
                return httpx.Response(404)
        return httpx.Response(200, content=body.model_dump_json())

    return httpx.Client(transport=httpx.MockTransport(handle), base_url="http://portal.test")


def test_verify_url_checks_the_served_proofs(log, signer) -> None:  # type: ignore[no-untyped-def]
    with log() as s:  # entries after the latest signed head are not fetched
        service.append(session=s, event=event(32))
    result = verify_url("http://portal.test", client=api(log, signer), pinned_key=public_key_b64(signer.public_key))
    assert result.ok and result.tree_size == 32 and result.entries == 32, result.summary()

    forged = verify_url("http://portal.test", client=api(log, signer, forge_consistency=True))
    assert [m.message for m in forged.mismatches] == [
        "consistency proof from size 20 to 32 does not verify against the signed roots"
    ]


def test_tree_head_signed_bytes_are_tree_head_data_v2(log, signer) -> None:  # type: ignore[no-untyped-def]
    with log() as s:
        head = service.latest_tree_head(session=s)
    assert isinstance(head, SignedTreeHead)
    data = head.signed_data()
    assert len(data) == 51
    assert int.from_bytes(data[:8], "big") == head.timestamp and int.from_bytes(data[8:16], "big") == 32
    assert data[16] == 32 and data[17:49].hex() == head.root_hash and data[49:] == b"\x00\x00"
    signer.public_key.verify(head.signature_bytes(), data)
