"""Checks a copy of the transparency log offline (``citycommons log verify URL_OR_DIR``) and the stored log.

Given the entries, the signed tree heads and the log's public key, :func:`verify_log` recomputes every leaf hash
from the canonical entry bytes, rebuilds the tree, compares every head's root with the recomputed one, checks
every signature, checks consistency between successive heads and (for the stored log) every subtree node. It
returns the tree size it could verify end to end, or a list of mismatches naming the index and what differs.

Sources: a directory written by ``service.export`` (:func:`verify_directory`) or a running portal over HTTP
(:func:`verify_url`), which also checks a sample of the inclusion proofs and every consistency proof the server
hands out. Without ``pinned_key`` the key the source publishes is trusted; pin it to catch a replaced key.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from citycommons.ledger import merkle
from citycommons.ledger.canonical import ENTRY_VERSION, NotCanonical, canonical_json
from citycommons.ledger.keys import key_id, load_public_key, verify_signature
from citycommons.ledger.schemas import (
    ConsistencyProof,
    EntryPage,
    InclusionProof,
    PublicKeyRead,
    SignedTreeHead,
    TreeHeadList,
)

ENTRY_FIELDS = {"v", "index", "type", "timestamp", "subjects", "objects", "purpose", "details"}
API = "/api/v1/log"


@dataclass(frozen=True)
class Record:
    """One entry as a source holds it: where it says the entry sits, its bytes, and its recorded leaf hash."""

    index: int
    entry: bytes
    leaf_hash: bytes | None = None


@dataclass(frozen=True)
class Mismatch:
    kind: str  # entry | order | leaf | tree_head | signature | consistency | inclusion | node
    index: int | None  # the entry index, or the tree size for tree heads and proofs
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class VerifyResult:
    tree_size: int = 0  # the largest signed tree size verified end to end
    entries: int = 0
    tree_heads: int = 0
    key_id: str = ""
    mismatches: list[Mismatch] = field(default_factory=list)
    truncated: bool = False  # more mismatches than ``max_mismatches`` were found

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def summary(self) -> str:
        if self.ok:
            return (
                f"OK: {self.entries} entries, {self.tree_heads} signed tree heads, verified tree size "
                f"{self.tree_size} (key {self.key_id[:16]})"
            )
        more = " (and more)" if self.truncated else ""
        lines = [f"FAILED: {len(self.mismatches)} mismatch(es){more}; verified tree size {self.tree_size}"]
        lines += [f"  - {m.message}" for m in self.mismatches]
        return "\n".join(lines)


class ProofSource(Protocol):
    """Proofs served by the log, checked against the recomputed tree (the HTTP source)."""

    def inclusion(self, index: int, tree_size: int) -> list[bytes]: ...

    def consistency(self, first: int, second: int) -> list[bytes]: ...


class _Report:
    def __init__(self, result: VerifyResult, limit: int) -> None:
        self.result, self.limit = result, limit
        self.first_bad_entry: int | None = None  # the lowest position whose entry is wrong

    def add(self, kind: str, index: int | None, message: str, *, position: int | None = None) -> None:
        if position is not None and (self.first_bad_entry is None or position < self.first_bad_entry):
            self.first_bad_entry = position
        if len(self.result.mismatches) >= self.limit:
            self.result.truncated = True
            return
        self.result.mismatches.append(Mismatch(kind, index, message))


def _short(h: bytes) -> str:
    return h.hex()[:16]


def _check_heads(
    heads: Sequence[SignedTreeHead], public_key: Ed25519PublicKey, report: _Report
) -> list[tuple[int, SignedTreeHead]]:
    """Signatures and order; returns the heads whose signature verifies, with their position."""
    kid = key_id(public_key)
    valid: list[tuple[int, SignedTreeHead]] = []
    previous: SignedTreeHead | None = None
    for n, head in enumerate(heads):
        label = f"tree head #{n} (size {head.tree_size}, timestamp {head.timestamp})"
        if previous is not None and (head.tree_size < previous.tree_size or head.timestamp < previous.timestamp):
            report.add(
                "order",
                head.tree_size,
                f"{label} is older than tree head #{n - 1} (size "
                f"{previous.tree_size}, timestamp {previous.timestamp}): heads out of order",
            )
        previous = head
        if head.key_id != kid:
            report.add(
                "signature", head.tree_size, f"{label}: signed by key {head.key_id[:16]}, not the log's key {kid[:16]}"
            )
            continue
        try:
            signature = head.signature_bytes()
        except ValueError:
            signature = b""
        if not verify_signature(public_key, signature, head.signed_data()):
            report.add(
                "signature",
                head.tree_size,
                f"{label}: the Ed25519 signature does not verify with the "
                "log's public key (forged or altered tree head)",
            )
            continue
        valid.append((n, head))
    return valid


class _Order:
    """Entry indices must run 0, 1, 2... A jump opens a gap; an index that later fills the gap was moved, one
    seen before is a duplicate, and gaps still open at the end are missing entries."""

    def __init__(self, report: _Report) -> None:
        self.report = report
        self.expected = 0
        self.gaps: list[tuple[int, int, int]] = []  # [start, stop) missing so far, position where seen

    def see(self, position: int, index: int) -> None:
        if index == self.expected:
            self.expected += 1
        elif index > self.expected:
            self.gaps.append((self.expected, index, position))
            self.expected = index + 1
        else:
            for n, (start, stop, seen_at) in enumerate(self.gaps):
                if start <= index < stop:
                    self.gaps[n : n + 1] = [
                        g for g in ((start, index, seen_at), (index + 1, stop, seen_at)) if g[0] < g[1]
                    ]
                    self.report.add(
                        "order",
                        index,
                        f"entry {index} appears at position {position}, after entry "
                        f"{self.expected - 1} (entries reordered)",
                        position=min(index, position),
                    )
                    return
            self.report.add(
                "order", index, f"entry {index} appears again at position {position} (duplicated)", position=position
            )

    def finish(self) -> None:
        for start, stop, seen_at in self.gaps:
            what = f"entry {start} is" if stop == start + 1 else f"entries {start}..{stop - 1} are"
            self.report.add(
                "order", start, f"{what} missing (position {seen_at} holds entry {stop} or later)", position=start
            )


def _check_entry(record: Record, position: int, report: _Report) -> bytes:
    """One entry's bytes, index and leaf hash. Returns its recomputed leaf hash."""
    computed = merkle.leaf_hash(record.entry)
    try:
        decoded = json.loads(record.entry.decode("utf-8"))
        if not isinstance(decoded, dict) or set(decoded) != ENTRY_FIELDS or decoded["v"] != ENTRY_VERSION:
            raise ValueError("not a version 1 log entry")
        if canonical_json(decoded) != record.entry:
            raise ValueError("not canonical JSON")
        if decoded["index"] != record.index:
            report.add(
                "order",
                record.index,
                f"entry {record.index}: holds the bytes of entry {decoded['index']} (entries swapped or moved)",
                position=position,
            )
    except (ValueError, NotCanonical, UnicodeDecodeError) as exc:
        report.add("entry", record.index, f"entry {record.index}: {exc}", position=position)
    if record.leaf_hash is not None and record.leaf_hash != computed:
        report.add(
            "leaf",
            record.index,
            f"entry {record.index}: recorded leaf hash {_short(record.leaf_hash)}… "
            f"but SHA-256(0x00 || entry) is {_short(computed)}… (the entry's bytes were altered)",
            position=position,
        )
    return computed


def _check_nodes(tree: merkle.MerkleTree, nodes: Iterable[tuple[int, int, bytes]], report: _Report) -> None:
    """Stored perfect-subtree nodes (ordered by level, index) against the recomputed tree."""
    size = tree.size
    expected_level, expected_idx = 1, 0

    def report_missing(level: int, start: int, stop: int) -> None:
        if start < stop:
            what = (
                f"node (level {level}, index {start})"
                if stop == start + 1
                else (f"nodes (level {level}, index {start}..{stop - 1})")
            )
            report.add("node", start << level, f"{what} missing from the stored tree")

    for level, idx, stored in nodes:
        while expected_level < level:
            report_missing(expected_level, expected_idx, size >> expected_level)
            expected_level, expected_idx = expected_level + 1, 0
        if level == expected_level:
            report_missing(level, expected_idx, min(idx, size >> level))
            expected_idx = idx + 1
        first, last = idx << level, ((idx + 1) << level) - 1
        label = f"node (level {level}, index {idx}) over entries {first}..{last}"
        if level < 1 or idx >= size >> level:
            report.add("node", first, f"{label}: stored, but the entries do not complete it")
            continue
        computed = tree.node(level, idx)
        if stored != computed:
            report.add(
                "node", first, f"{label}: stored hash {_short(stored)}… but the entries give {_short(computed)}…"
            )
    while (size >> expected_level) > 0:
        report_missing(expected_level, expected_idx, size >> expected_level)
        expected_level, expected_idx = expected_level + 1, 0


def verify_log(
    *,
    records: Iterable[Record],
    tree_heads: Sequence[SignedTreeHead],
    public_key: Ed25519PublicKey,
    nodes: Iterable[tuple[int, int, bytes]] | None = None,
    proofs: ProofSource | None = None,
    proof_samples: int = 32,
    max_mismatches: int = 1000,
) -> VerifyResult:
    """Verifies a log from its parts; see the module docstring. ``records`` are read once, in order."""
    result = VerifyResult(tree_heads=len(tree_heads), key_id=key_id(public_key))
    report = _Report(result, max_mismatches)
    valid = _check_heads(tree_heads, public_key, report)
    by_size: dict[int, list[tuple[int, SignedTreeHead]]] = {}
    for n, head in valid:
        by_size.setdefault(head.tree_size, []).append((n, head))
    matched: list[SignedTreeHead] = []  # heads whose root matches the entries, in order of tree size
    last_good_size = 0

    def check_heads_at(size: int, root: bytes) -> None:
        nonlocal last_good_size
        for n, head in by_size.get(size, []):
            if head.root_hash == root.hex():
                matched.append(head)
                last_good_size = size
                continue
            where = f"entries {last_good_size}..{size - 1}" if size > last_good_size + 1 else f"entry {size - 1}"
            matched_before = f" (the tree head of size {last_good_size} matched)" if last_good_size else ""
            report.add(
                "tree_head",
                size,
                f"tree head #{n} (size {size}): signed root {head.root_hash[:16]}… but the entries give "
                f"{_short(root)}…: {where} differ from what was signed{matched_before}",
                position=last_good_size,
            )

    tree = merkle.MerkleTree()
    check_heads_at(0, merkle.EMPTY_ROOT)
    order = _Order(report)
    for position, record in enumerate(records):
        order.see(position, record.index)
        tree.append(_check_entry(record, position, report))
        if tree.size in by_size:
            check_heads_at(tree.size, tree.root())
    order.finish()
    result.entries = tree.size
    for n, head in valid:
        if head.tree_size > tree.size:
            report.add(
                "tree_head",
                head.tree_size,
                f"tree head #{n} (size {head.tree_size}) covers entries "
                f"{tree.size}..{head.tree_size - 1}, which are missing",
            )

    # Consistency between successive verified heads, with the proofs this tree (or the server) gives.
    matched.sort(key=lambda h: (h.tree_size, h.timestamp))
    for older, newer in zip(matched, matched[1:], strict=False):
        if older.tree_size == newer.tree_size:
            continue
        if proofs is not None:
            path = proofs.consistency(older.tree_size, newer.tree_size)
        else:
            path = tree.consistency_proof(older.tree_size, newer.tree_size)
        if not merkle.verify_consistency(
            first=older.tree_size,
            second=newer.tree_size,
            first_root=bytes.fromhex(older.root_hash),
            second_root=bytes.fromhex(newer.root_hash),
            proof=path,
        ):
            report.add(
                "consistency",
                newer.tree_size,
                f"consistency proof from size {older.tree_size} to "
                f"{newer.tree_size} does not verify against the signed roots",
            )

    if proofs is not None and matched:
        _check_inclusion_proofs(tree, matched[-1], proofs, proof_samples, report)
    if nodes is not None:
        _check_nodes(tree, nodes, report)

    limit = report.first_bad_entry if report.first_bad_entry is not None else tree.size
    result.tree_size = max((h.tree_size for h in matched if h.tree_size <= limit), default=0)
    return result


def _check_inclusion_proofs(
    tree: merkle.MerkleTree, head: SignedTreeHead, proofs: ProofSource, samples: int, report: _Report
) -> None:
    size = head.tree_size
    if size == 0:
        return
    rng = random.Random(size)  # noqa: S311 - sampling, not secrecy
    indices = sorted({0, size - 1, *(rng.randrange(size) for _ in range(samples))})
    root = bytes.fromhex(head.root_hash)
    for index in indices:
        path = proofs.inclusion(index, size)
        if not merkle.verify_inclusion(index=index, size=size, leaf=tree.leaf(index), path=path, root=root):
            report.add(
                "inclusion",
                index,
                f"the inclusion proof the log serves for entry {index} in tree size "
                f"{size} does not verify against the signed root",
            )


# -- sources ---------------------------------------------------------------------------------------------------


def _pin(published: PublicKeyRead, pinned_key: str | None) -> Ed25519PublicKey:
    key = load_public_key(published.public_key)
    if key_id(key) != published.key_id:
        raise ValueError(f"the published key id {published.key_id} is not SHA-256 of the published key")
    if pinned_key is not None:
        pinned = load_public_key(pinned_key)
        if key_id(pinned) != key_id(key):
            raise ValueError(f"the log publishes key {published.key_id[:16]}, not the pinned key {key_id(pinned)[:16]}")
    return key


def _directory_records(path: Path) -> Iterator[Record]:
    with path.open("r", encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                yield Record(
                    index=int(item["index"]),
                    entry=str(item["entry"]).encode("utf-8"),
                    leaf_hash=bytes.fromhex(item["leaf_hash"]) if item.get("leaf_hash") else None,
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path.name} line {number}: not a log entry ({exc})") from None


def verify_directory(directory: Path, *, pinned_key: str | None = None) -> VerifyResult:
    """Verifies an export (``entries.ndjson``, ``sths.json``, ``public-key.json``)."""
    published = PublicKeyRead.model_validate_json((directory / "public-key.json").read_text(encoding="utf-8"))
    heads = TreeHeadList.model_validate_json((directory / "sths.json").read_text(encoding="utf-8"))
    return verify_log(
        records=_directory_records(directory / "entries.ndjson"),
        tree_heads=heads.tree_heads,
        public_key=_pin(published, pinned_key),
    )


class HttpLog:
    """The planned ``/api/v1/log`` endpoints of a running portal."""

    def __init__(self, base_url: str, *, client: httpx.Client | None = None, page_size: int = 1000) -> None:
        self.base = base_url.rstrip("/")
        self.client = client or httpx.Client(timeout=30, follow_redirects=True)
        self.page_size = page_size

    def _get(self, path: str, **params: int) -> bytes:
        response = self.client.get(f"{self.base}{API}{path}", params=params)
        response.raise_for_status()
        return response.content

    def public_key(self) -> PublicKeyRead:
        return PublicKeyRead.model_validate_json(self._get("/public-key"))

    def tree_heads(self) -> list[SignedTreeHead]:
        heads = TreeHeadList.model_validate_json(self._get("/sths")).tree_heads
        latest = SignedTreeHead.model_validate_json(self._get("/sth"))
        if latest not in heads:
            heads.append(latest)
        return heads

    def records(self, *, stop: int | None = None) -> Iterator[Record]:
        start = 0
        while stop is None or start < stop:
            page = EntryPage.model_validate_json(self._get("/entries", start=start, limit=self.page_size))
            if not page.entries:
                return
            for entry in page.entries:
                if stop is not None and entry.index >= stop:
                    return
                yield Record(
                    index=entry.index, entry=entry.entry.encode("utf-8"), leaf_hash=bytes.fromhex(entry.leaf_hash)
                )
            start = page.entries[-1].index + 1

    def inclusion(self, index: int, tree_size: int) -> list[bytes]:
        proof = InclusionProof.model_validate_json(self._get("/proof/inclusion", index=index, tree_size=tree_size))
        return [bytes.fromhex(h) for h in proof.inclusion_path]

    def consistency(self, first: int, second: int) -> list[bytes]:
        proof = ConsistencyProof.model_validate_json(self._get("/proof/consistency", first=first, second=second))
        return [bytes.fromhex(h) for h in proof.consistency_path]


def verify_url(
    base_url: str, *, pinned_key: str | None = None, client: httpx.Client | None = None, proof_samples: int = 32
) -> VerifyResult:
    """Downloads the log from a running portal and verifies it, including the proofs it serves. Entries are read
    up to the latest signed tree head (later ones are not covered by a signature yet)."""
    log = HttpLog(base_url, client=client)
    key = _pin(log.public_key(), pinned_key)
    heads = log.tree_heads()
    stop = max((h.tree_size for h in heads), default=0)
    return verify_log(
        records=log.records(stop=stop), tree_heads=heads, public_key=key, proofs=log, proof_samples=proof_samples
    )


def verify(location: str | Path, *, pinned_key: str | None = None) -> VerifyResult:
    """``citycommons log verify URL_OR_DIR``: an http(s) URL is a portal, anything else an export directory."""
    text = str(location)
    if text.startswith(("http://", "https://")):
        return verify_url(text, pinned_key=pinned_key)
    return verify_directory(Path(text), pinned_key=pinned_key)
