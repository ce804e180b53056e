"""RFC 9162 §2.1 against a naive transcription of the RFC's recursive definitions and published vectors."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from citycommons.ledger import merkle

# The RFC 6962 / 9162 test data used by Certificate Transparency implementations.
CT_LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                        "606162636465666768696a6b6c6d6e6f"]]  # fmt: skip
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {  # (index, size) -> path
    (0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}  # fmt: skip
CT_CONSISTENCY = {  # (first, second) -> proof
    (1, 1): [],
    (1, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}  # fmt: skip


# -- the RFC's definitions, transcribed literally (lists of entries, recursion) ---------------------------------


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def k_of(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return sha(b"")
    if len(d) == 1:
        return sha(b"\x00" + d[0])
    k = k_of(len(d))
    return sha(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = k_of(len(d))
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = k_of(n)
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    return ref_subproof(m, d, True)


def entries(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


def tree_of(d: list[bytes]) -> merkle.MerkleTree:
    return merkle.MerkleTree(merkle.leaf_hash(e) for e in d)


def flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


# -- known vectors ---------------------------------------------------------------------------------------------


def test_empty_tree_is_sha256_of_nothing() -> None:
    assert merkle.EMPTY_ROOT.hex() == CT_ROOTS[0] == hashlib.sha256(b"").hexdigest()
    assert merkle.MerkleTree().root() == merkle.EMPTY_ROOT
    assert merkle.range_hash(0, 0, lambda level, idx: b"") == merkle.EMPTY_ROOT


def test_leaf_and_node_prefixes() -> None:
    assert merkle.leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert merkle.node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()


def test_published_roots_inclusion_and_consistency_vectors() -> None:
    tree = tree_of(CT_LEAVES)
    for size, root in enumerate(CT_ROOTS):
        assert tree.root(size).hex() == root
        assert ref_mth(CT_LEAVES[:size]).hex() == root
    for (index, size), path in CT_INCLUSION.items():
        proof = tree.inclusion_proof(index, size)
        assert [h.hex() for h in proof] == path
        assert merkle.verify_inclusion(
            index=index, size=size, leaf=tree.leaf(index), path=proof, root=bytes.fromhex(CT_ROOTS[size])
        )
    for (first, second), path in CT_CONSISTENCY.items():
        proof = tree.consistency_proof(first, second)
        assert [h.hex() for h in proof] == path
        assert merkle.verify_consistency(
            first=first,
            second=second,
            first_root=bytes.fromhex(CT_ROOTS[first]),
            second_root=bytes.fromhex(CT_ROOTS[second]),
            proof=proof,
        )


# -- every index and pair of small trees -----------------------------------------------------------------------


def test_every_inclusion_and_consistency_proof_up_to_33_leaves() -> None:
    d = entries(33)
    tree = tree_of(d)
    for n in range(1, len(d) + 1):
        root = ref_mth(d[:n])
        assert tree.root(n) == root
        for m in range(n):
            path = tree.inclusion_proof(m, n)
            assert path == ref_path(m, d[:n])
            assert merkle.verify_inclusion(index=m, size=n, leaf=tree.leaf(m), path=path, root=root)
            assert not merkle.verify_inclusion(index=m, size=n, leaf=flip(tree.leaf(m)), path=path, root=root)
            if path:
                assert not merkle.verify_inclusion(index=m, size=n, leaf=tree.leaf(m), path=path[:-1], root=root)
        for m in range(1, n + 1):
            proof = tree.consistency_proof(m, n)
            if m < n:
                assert proof == ref_proof(m, d[:n])
            first_root = ref_mth(d[:m])
            ok = dict(first=m, second=n, first_root=first_root, second_root=root)
            assert merkle.verify_consistency(**ok, proof=proof)
            assert not merkle.verify_consistency(**{**ok, "first_root": flip(first_root)}, proof=proof)
            assert not merkle.verify_consistency(**{**ok, "second_root": flip(root)}, proof=proof)
            if proof:
                assert not merkle.verify_consistency(**ok, proof=[flip(proof[0]), *proof[1:]])


def test_edges_of_the_definitions() -> None:
    tree = tree_of(entries(5))
    assert tree.consistency_proof(0, 5) == []
    assert merkle.verify_consistency(first=0, second=5, first_root=merkle.EMPTY_ROOT, second_root=tree.root(), proof=[])
    assert not merkle.verify_consistency(first=3, second=5, first_root=tree.root(3), second_root=tree.root(), proof=[])
    assert not merkle.verify_consistency(first=6, second=5, first_root=tree.root(), second_root=tree.root(), proof=[])
    assert not merkle.verify_inclusion(index=5, size=5, leaf=tree.leaf(4), path=[], root=tree.root())
    for bad in ((5, 5), (-1, 5)):
        try:
            merkle.inclusion_ranges(*bad)
        except ValueError:
            continue
        raise AssertionError(f"inclusion_ranges{bad} should refuse")


# -- random sizes ----------------------------------------------------------------------------------------------

BIG = entries(3000)
BIG_TREE = tree_of(BIG)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_inclusion_matches_rfc(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, len(BIG)))
    m = data.draw(st.integers(0, n - 1))
    path = BIG_TREE.inclusion_proof(m, n)
    assert path == ref_path(m, BIG[:n])
    assert merkle.verify_inclusion(index=m, size=n, leaf=BIG_TREE.leaf(m), path=path, root=BIG_TREE.root(n))
    wrong = data.draw(st.integers(0, n - 1).filter(lambda i: i != m))  # a proof for m proves nothing about others
    if BIG_TREE.leaf(wrong) != BIG_TREE.leaf(m):
        assert not merkle.verify_inclusion(index=m, size=n, leaf=BIG_TREE.leaf(wrong), path=path, root=BIG_TREE.root(n))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_consistency_matches_rfc(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, len(BIG)))
    m = data.draw(st.integers(1, n - 1))
    proof = BIG_TREE.consistency_proof(m, n)
    assert proof == ref_proof(m, BIG[:n])
    assert merkle.verify_consistency(
        first=m, second=n, first_root=BIG_TREE.root(m), second_root=BIG_TREE.root(n), proof=proof
    )
    # A forked history (one different entry before m) is not consistent with the real one.
    fork = data.draw(st.integers(0, m - 1))
    forked = tree_of([*BIG[:fork], b"forged", *BIG[fork + 1 : m]])
    assert not merkle.verify_consistency(
        first=m, second=n, first_root=forked.root(m), second_root=BIG_TREE.root(n), proof=proof
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 1 << 40), st.integers(1, 1 << 40))
def test_ranges_are_log_sized_and_aligned(a: int, b: int) -> None:
    index, size = min(a, b - 1), b
    ranges = merkle.inclusion_ranges(index, size)
    assert len(ranges) <= size.bit_length()
    keys = merkle.nodes_for(ranges)
    assert len(keys) <= 2 * size.bit_length()
    for level, idx in keys:  # every key is a real perfect subtree inside the tree
        assert (idx + 1) << level <= size
    first = max(1, min(a, size))
    assert len(merkle.nodes_for(merkle.consistency_ranges(first, size))) <= 2 * size.bit_length()


def test_append_reports_the_nodes_it_completes() -> None:
    tree = merkle.MerkleTree()
    completed = [tree.append(merkle.leaf_hash(e)) for e in entries(8)]
    assert [[(lvl, idx) for lvl, idx, _ in c] for c in completed] == [
        [], [(1, 0)], [], [(1, 1), (2, 0)], [], [(1, 2)], [], [(1, 3), (2, 1), (3, 0)]
    ]  # fmt: skip
    assert completed[-1][-1][2] == tree.root()
