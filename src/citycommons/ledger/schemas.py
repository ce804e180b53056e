"""The transparency log's schemas: the event every capability appends, entries, tree heads and proofs.

Hashes and key ids travel as lower-case hex; signatures and raw public keys as base64. These are also the JSON
shapes of the planned ``/api/v1/log/...`` endpoints and of the files that ``service.export`` writes.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from citycommons.ledger.canonical import MAX_SAFE_INTEGER, NotCanonical, canonical_json, tree_head_bytes

HEX32_RE = r"^[0-9a-f]{64}$"
MAX_DETAILS_BYTES = 16 * 1024
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Hex32 = Annotated[str, StringConstraints(pattern=HEX32_RE)]
Pseudonym = Annotated[str, StringConstraints(pattern=HEX32_RE)]
# ``kind:id`` (``dataset:<uuid>``, ``organization:<name>``...): ids of things, no room for e-mail addresses or names.
ObjectId = Annotated[str, StringConstraints(max_length=200, pattern=r"^[a-z][a-z_]*:[A-Za-z0-9._:/-]+$")]


class EventType(StrEnum):
    """Every kind of event the log records. A capability that logs something new adds its type here."""

    DATASET_READ = "dataset.read"  # a use of non-open data
    DATASET_ACCESS_RIGHTS_CHANGED = "dataset.access_rights_changed"
    ROLE_GRANTED = "role.granted"
    REGISTER_PUBLISHED = "register.published"
    MODERATION_DECIDED = "moderation.decided"
    GRANT_DECIDED = "grant.decided"
    TERMS_CHANGED = "terms.changed"  # a change of a contributor's terms
    ERASURE = "erasure"


def _check_details(value: dict[str, Any]) -> dict[str, Any]:
    try:
        size = len(canonical_json(value, where="details"))
    except NotCanonical as exc:
        raise ValueError(str(exc)) from None
    if size > MAX_DETAILS_BYTES:
        raise ValueError(f"details take {size} bytes as canonical JSON; at most {MAX_DETAILS_BYTES}")
    return value


def _check_timestamp(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not 0 <= value.timestamp() * 1000 <= MAX_SAFE_INTEGER:
        raise ValueError("timestamp out of range")
    return value.astimezone(UTC)


Details = Annotated[dict[str, Any], AfterValidator(_check_details)]


class LedgerEvent(BaseModel):
    """What a capability appends. Carries pseudonyms and ids, never personal data.

    ``subjects`` are people, as ``service.pseudonym(key, person_id)``; ``objects`` are ids of things (``dataset:<id>``,
    ``organization:<id>``...); ``details`` is a small dict of non-personal facts. ``timestamp`` defaults to now."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: EventType
    subjects: list[Pseudonym] = Field(default_factory=list, max_length=32)
    objects: list[ObjectId] = Field(default_factory=list, max_length=32)
    purpose: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = None
    details: Details = Field(default_factory=dict)
    timestamp: Annotated[datetime | None, AfterValidator(_check_timestamp)] = None


class EntryRead(BaseModel):
    """One log entry. ``entry`` is the exact canonical JSON text; ``leaf_hash = SHA-256(0x00 || UTF-8(entry))``.
    The other fields are ``entry`` decoded, for convenience."""

    index: int
    leaf_hash: Hex32
    entry: str
    type: str
    timestamp: datetime
    subjects: list[str]
    objects: list[str]
    purpose: str | None
    details: dict[str, Any]

    @classmethod
    def from_stored(cls, *, index: int, leaf_hash: bytes, data: bytes) -> EntryRead:
        text = data.decode("utf-8")
        decoded = json.loads(text)
        return cls(
            index=index,
            leaf_hash=leaf_hash.hex(),
            entry=text,
            type=decoded["type"],
            timestamp=EPOCH + timedelta(milliseconds=decoded["timestamp"]),
            subjects=decoded["subjects"],
            objects=decoded["objects"],
            purpose=decoded["purpose"],
            details=decoded["details"],
        )


class EntryPage(BaseModel):
    start: int
    limit: int
    tree_size: int  # entries in the log when the page was read
    entries: list[EntryRead]


class SignedTreeHead(BaseModel):
    """A signed tree head. ``signature`` is Ed25519 over ``canonical.tree_head_bytes`` (RFC 9162 TreeHeadDataV2)."""

    tree_size: int = Field(ge=0)
    timestamp: int = Field(ge=0, le=MAX_SAFE_INTEGER, description="milliseconds since the epoch, UTC")
    root_hash: Hex32
    key_id: Hex32
    signature: str

    def signed_data(self) -> bytes:
        return tree_head_bytes(
            tree_size=self.tree_size, timestamp_ms=self.timestamp, root_hash=bytes.fromhex(self.root_hash)
        )

    def signature_bytes(self) -> bytes:
        return base64.b64decode(self.signature)


class TreeHeadList(BaseModel):
    tree_heads: list[SignedTreeHead]  # oldest first


class InclusionProof(BaseModel):
    index: int
    tree_size: int
    leaf_hash: Hex32
    inclusion_path: list[Hex32]  # RFC 9162 PATH, leaf to root


class ConsistencyProof(BaseModel):
    first: int
    second: int
    consistency_path: list[Hex32]  # RFC 9162 PROOF


class EntryProofRead(BaseModel):
    """An entry with its inclusion proof against ``tree_head`` (None while no signed head covers it yet)."""

    entry: EntryRead
    tree_head: SignedTreeHead | None
    inclusion: InclusionProof | None


class PublicKeyRead(BaseModel):
    algorithm: str = "Ed25519"
    key_id: Hex32
    public_key: str  # base64 of the 32 raw bytes
    pem: str
