"""The two byte strings an offline verifier recomputes: an entry, and a tree head's signed data.

**Entry bytes** are canonical JSON: keys sorted, no whitespace (``,`` and ``:`` separators), UTF-8, non-ASCII
characters written as themselves, the escapes of Python's ``json.dumps`` (``\\"``, ``\\\\``, ``\\n``, ``\\r``,
``\\t``, ``\\b``, ``\\f`` and ``\\u00xx`` in lower case for other control characters). Values are restricted
so that the encoding is unambiguous in every language: objects with ASCII keys, arrays, strings, booleans,
null and integers within ±(2**53 - 1); no floats. Within that domain the bytes equal RFC 8785 (JCS). An entry
is the object::

    {"details": {...}, "index": 41, "objects": ["dataset:…"], "purpose": "…" | null,
     "subjects": ["<64 hex: HMAC-SHA256 pseudonym>"], "timestamp": <ms since the epoch, UTC>,
     "type": "dataset.read", "v": 1}

and its leaf hash is ``SHA-256(0x00 || entry bytes)``. The entry carries its own index, so a deleted or
reordered entry is named precisely by a verifier.

**Tree head signed data** follows RFC 9162 §4.9 ``TreeHeadDataV2`` in TLS presentation encoding with no
extensions (51 bytes)::

    uint64 timestamp (ms, big-endian) || uint64 tree_size (big-endian) || 0x20 || root_hash (32) || 0x0000

The log's Ed25519 key signs exactly these bytes.
"""

from __future__ import annotations

import json
import struct
from typing import Any

ENTRY_VERSION = 1
MAX_SAFE_INTEGER = 2**53 - 1


class NotCanonical(ValueError):
    """A value outside the canonical JSON domain (float, non-ASCII key, huge integer, lone surrogate...)."""


def _is_canonical(value: Any) -> bool:
    """The fast check (no messages): every value in the domain described above."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return False
        elif kind is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return False
        elif kind is dict:
            for key in item:
                if type(key) is not str or not key.isascii():
                    return False
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif item is not None and kind is not bool:
            return False
    return True


def _explain(value: Any, where: str) -> None:
    """The slow walk that names the first offending value; raises :class:`NotCanonical`."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise NotCanonical(f"{where}: not valid Unicode text") from None
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise NotCanonical(f"{where}: integer outside ±(2**53 - 1)")
    elif isinstance(value, float):
        raise NotCanonical(f"{where}: floats are not allowed; use an integer or a string")
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise NotCanonical(f"{where}: keys must be ASCII strings")
            _explain(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _explain(item, f"{where}[{i}]")
    else:
        raise NotCanonical(f"{where}: {type(value).__name__} is not a JSON value")


def canonical_json(value: Any, *, where: str = "value") -> bytes:
    """The canonical bytes of ``value`` (see the module docstring). Raises :class:`NotCanonical`."""
    if not _is_canonical(value):
        _explain(value, where)
        raise NotCanonical(f"{where}: not in the canonical JSON domain")  # subclasses of str, int... as values
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_bytes(
    *,
    index: int,
    type: str,
    timestamp_ms: int,
    subjects: list[str],
    objects: list[str],
    purpose: str | None,
    details: dict[str, Any],
) -> bytes:
    return canonical_json(
        {
            "v": ENTRY_VERSION,
            "index": index,
            "type": type,
            "timestamp": timestamp_ms,
            "subjects": subjects,
            "objects": objects,
            "purpose": purpose,
            "details": details,
        },
        where="entry",
    )


def tree_head_bytes(*, tree_size: int, timestamp_ms: int, root_hash: bytes) -> bytes:
    """RFC 9162 TreeHeadDataV2 (no extensions): what a tree head's signature covers."""
    if len(root_hash) != 32:
        raise ValueError("a root hash has 32 bytes")
    return struct.pack(">QQB", timestamp_ms, tree_size, len(root_hash)) + root_hash + b"\x00\x00"
