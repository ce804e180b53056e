"""RFC 9162 §2.1 Merkle trees (Certificate Transparency 2.0), with SHA-256. Pure functions, no storage.

Hashing (§2.1.1)::

    leaf hash  = SHA-256(0x00 || entry bytes)
    node hash  = SHA-256(0x01 || left || right)
    MTH({})    = SHA-256("")                      (the empty tree)
    MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n]))   k = the largest power of two < n

Everything here is written in terms of *ranges* of leaves ``[lo, hi)`` and *perfect subtrees*: the subtree at
``(level, index)`` covers leaves ``[index * 2**level, (index + 1) * 2**level)``. Level 0 holds the leaf hashes.
Every range that RFC 9162's PATH and PROOF recursions name is aligned, so its hash is a right fold of at most
``log2(n)`` perfect subtrees (:func:`cover`). A store that keeps the hash of every complete perfect subtree
therefore answers any proof with O(log n) reads: ask :func:`inclusion_ranges` / :func:`consistency_ranges` which
ranges a proof needs, :func:`cover` which nodes those take, read them at once and fold with :func:`range_hash`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeKey = tuple[int, int]  # (level, index) of a perfect subtree
NodeLookup = Callable[[int, int], bytes]


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_perfect(lo: int, hi: int) -> bool:
    size = hi - lo
    return size > 0 and size & (size - 1) == 0 and lo % size == 0


# -- ranges -> perfect subtrees ---------------------------------------------------------------------------------


def cover(lo: int, hi: int) -> list[NodeKey]:
    """The perfect subtrees whose hashes :func:`range_hash` reads for MTH(D[lo:hi]), left to right."""
    keys: list[NodeKey] = []
    stack = [(lo, hi)]
    while stack:
        a, b = stack.pop()
        if _is_perfect(a, b):
            level = (b - a).bit_length() - 1
            keys.append((level, a >> level))
        else:
            k = split_point(b - a)
            stack.append((a + k, b))
            stack.append((a, a + k))
    return keys


def range_hash(lo: int, hi: int, node: NodeLookup) -> bytes:
    """MTH(D[lo:hi]) from perfect-subtree hashes ``node(level, index)``. Empty range → the empty-tree hash."""
    if hi <= lo:
        return EMPTY_ROOT
    if _is_perfect(lo, hi):
        level = (hi - lo).bit_length() - 1
        return node(level, lo >> level)
    k = split_point(hi - lo)
    return node_hash(range_hash(lo, lo + k, node), range_hash(lo + k, hi, node))


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.3.1 PATH(index, D[size]) as the leaf ranges whose MTHs form the path, leaf to root."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo = lo + k
    path.reverse()
    return path


def consistency_ranges(first: int, second: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.4.1 PROOF(first, D[second]) as leaf ranges. Empty when first is 0 or equals second."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    if first in (0, second):
        return []
    proof: list[tuple[int, int]] = []
    lo, hi, whole = 0, second, True  # SUBPROOF(m, D[lo:hi], b): ``whole`` is b
    while True:
        if first == hi:
            if not whole:
                proof.append((lo, hi))
            break
        k = split_point(hi - lo)
        if first - lo <= k:
            proof.append((lo + k, hi))
            hi = lo + k
        else:
            proof.append((lo, lo + k))
            lo, whole = lo + k, False
    proof.reverse()
    return proof


def nodes_for(ranges: Iterable[tuple[int, int]]) -> set[NodeKey]:
    """Every perfect subtree needed to hash all ``ranges``."""
    keys: set[NodeKey] = set()
    for lo, hi in ranges:
        keys.update(cover(lo, hi))
    return keys


# -- verification (RFC 9162 §2.1.3.2 and §2.1.4.2, step by step) ------------------------------------------------


def verify_inclusion(*, index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> bool:
    """§2.1.3.2: does ``path`` prove the leaf hash ``leaf`` at ``index`` in the tree of ``size`` with ``root``?"""
    if index >= size or index < 0:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn and not fn & 1:  # LSB(fn) not set: shift until it is, or fn is 0
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    *, first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """§2.1.4.2: does ``proof`` show that the tree of ``second`` leaves extends the tree of ``first`` leaves?

    The RFC defines proofs for 0 < first < second. For first == second the proof is empty and the roots must be
    equal; every tree extends the empty one (first == 0, empty proof)."""
    if first < 0 or first > second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is itself a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# -- an in-memory tree (the offline verifier, tests) ------------------------------------------------------------


class MerkleTree:
    """An append-only tree kept as one ``bytearray`` per level (32 bytes per perfect subtree, ~64 bytes a leaf).

    ``append`` fills every perfect subtree it completes, exactly as the database store does at append time."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.levels: list[bytearray] = [bytearray()]
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self.levels[0]) // HASH_SIZE

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Adds a leaf hash; returns the perfect subtrees (level, index, hash) it completed above level 0."""
        if len(leaf) != HASH_SIZE:
            raise ValueError("a leaf hash has 32 bytes")
        self.levels[0] += leaf
        completed: list[tuple[int, int, bytes]] = []
        level, current = 0, leaf
        while len(self.levels[level]) % (2 * HASH_SIZE) == 0:
            row = self.levels[level]
            current = node_hash(bytes(row[-2 * HASH_SIZE : -HASH_SIZE]), current)
            level += 1
            if len(self.levels) == level:
                self.levels.append(bytearray())
            self.levels[level] += current
            completed.append((level, len(self.levels[level]) // HASH_SIZE - 1, current))
        return completed

    def node(self, level: int, index: int) -> bytes:
        row = self.levels[level] if level < len(self.levels) else b""
        value = bytes(row[index * HASH_SIZE : (index + 1) * HASH_SIZE])
        if len(value) != HASH_SIZE:
            raise KeyError((level, index))
        return value

    def leaf(self, index: int) -> bytes:
        return self.node(0, index)

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        self._check_size(size)
        return range_hash(0, size, self.node)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        self._check_size(size)
        return [range_hash(lo, hi, self.node) for lo, hi in inclusion_ranges(index, size)]

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        second = self.size if second is None else second
        self._check_size(second)
        return [range_hash(lo, hi, self.node) for lo, hi in consistency_ranges(first, second)]

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is outside 0..{self.size}")
