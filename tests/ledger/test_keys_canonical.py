"""Keys on disk, the canonical entry encoding and pseudonyms."""

from __future__ import annotations

import json
import stat

import pytest

from citycommons.ledger import keys
from citycommons.ledger.canonical import NotCanonical, canonical_json, entry_bytes
from citycommons.ledger.service import pseudonym


def test_signing_key_is_created_once_with_mode_0600(tmp_path) -> None:  # type: ignore[no-untyped-def]
    signer = keys.load_or_create_signer(tmp_path)
    path = tmp_path / "ledger" / "signing-key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = keys.load_or_create_signer(tmp_path)
    assert again.key_id == signer.key_id == keys.key_id(signer.public_key)
    with pytest.raises(FileExistsError):
        keys.save_signer(keys.generate_signer(), path)


def test_public_key_exports_round_trip() -> None:
    signer = keys.generate_signer()
    info = keys.public_key_info(signer.public_key)
    assert info.algorithm == "Ed25519" and info.key_id == signer.key_id and len(info.key_id) == 64
    for text in (info.public_key, info.pem):
        assert keys.key_id(keys.load_public_key(text)) == signer.key_id
    assert keys.verify_signature(signer.public_key, signer.sign(b"m"), b"m")
    assert not keys.verify_signature(signer.public_key, signer.sign(b"m"), b"n")
    with pytest.raises(ValueError):
        keys.load_public_key("AAAA")


def test_canonical_json_is_sorted_compact_utf8() -> None:
    value = {"b": [1, True, None], "a": {"z": 'Plaça Catalunya\n"€"', "y": -3}}
    assert canonical_json(value) == '{"a":{"y":-3,"z":"Plaça Catalunya\\n\\"€\\""},"b":[1,true,null]}'.encode()
    assert json.loads(canonical_json(value)) == value
    assert canonical_json({"c": "\x01"}) == b'{"c":"\\u0001"}'
    for bad in ({"x": 1.5}, {"é": 1}, {"x": 2**53}, {"x": "\ud800"}, {"x": b"bytes"}):
        with pytest.raises(NotCanonical):
            canonical_json(bad)


def test_entry_bytes_layout() -> None:
    data = entry_bytes(
        index=3, type="erasure", timestamp_ms=1700000000000, subjects=["ab" * 32], objects=[], purpose=None, details={}
    )
    assert data == (
        b'{"details":{},"index":3,"objects":[],"purpose":null,"subjects":["' + b"ab" * 32 + b'"],'
        b'"timestamp":1700000000000,"type":"erasure","v":1}'
    )


def test_pseudonyms_are_keyed_and_stable() -> None:
    key = b"k" * 32
    assert pseudonym(key, "user-1") == pseudonym(key, "user-1") != pseudonym(key, "user-2")
    assert pseudonym(key, "user-1") != pseudonym(b"j" * 32, "user-1")
    assert pseudonym("k" * 32, "user-1") == pseudonym(key, "user-1") and len(pseudonym(key, "x")) == 64
