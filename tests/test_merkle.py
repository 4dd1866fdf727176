"""Poseidon Merkle tree: hand-built roots, incremental == batch, paths, circomlibjs."""

from __future__ import annotations

import random

import pytest

from tests.conftest import run_node
from zkmargin.field import SNARK_FIELD
from zkmargin.merkle import (
    IncrementalMerkleTree,
    MerkleTree,
    depth_for,
    root_from_path,
    verify_path,
    zero_hashes,
)
from zkmargin.poseidon import Poseidon


def test_root_by_hand(hasher: Poseidon) -> None:
    leaves = [11, 22, 33]
    pad = 7
    h = hasher.hash
    expected = h((h((11, 22)), h((33, pad))))
    assert MerkleTree.build(leaves, pad_leaf=pad, hasher=hasher).root == expected
    # depth 3: the right half is all padding
    z1 = h((pad, pad))
    expected3 = h((expected, h((z1, z1))))
    assert MerkleTree.build(leaves, depth=3, pad_leaf=pad, hasher=hasher).root == expected3
    assert zero_hashes(2, pad, hasher) == [pad, z1, h((z1, z1))]


def test_single_leaf_and_empty_tree(hasher: Poseidon) -> None:
    assert MerkleTree.build([5], hasher=hasher).root == 5  # depth 0: the leaf is the root
    empty = MerkleTree.build([], depth=2, pad_leaf=3, hasher=hasher)
    assert empty.root == zero_hashes(2, 3, hasher)[2]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17])
def test_build_all_at_once_equals_insert_one_by_one(hasher: Poseidon, count: int) -> None:
    rng = random.Random(count)
    leaves = [rng.randrange(SNARK_FIELD) for _ in range(count)]
    depth = depth_for(count) + 1
    inc = IncrementalMerkleTree(depth, pad_leaf=9, hasher=hasher)
    for i, leaf in enumerate(leaves):
        assert inc.insert(leaf) == i
        prefix = MerkleTree.build(leaves[: i + 1], depth=depth, pad_leaf=9, hasher=hasher)
        assert inc.root == prefix.root


def test_paths_verify_and_tampering_fails(hasher: Poseidon) -> None:
    rng = random.Random(1)
    leaves = [rng.randrange(SNARK_FIELD) for _ in range(11)]
    tree = MerkleTree.build(leaves, pad_leaf=4, hasher=hasher)
    assert tree.depth == 4
    for i in range(16):
        leaf = leaves[i] if i < 11 else 4
        path = tree.path(i)
        assert len(path) == 4
        assert verify_path(leaf, i, path, tree.root, hasher)
        assert root_from_path(leaf, i, path, hasher) == tree.root
        assert not verify_path((leaf + 1) % SNARK_FIELD, i, path, tree.root, hasher)
        if path[0] != leaf:  # two padding leaves side by side are interchangeable
            assert not verify_path(leaf, i ^ 1, path, tree.root, hasher)
        bad = list(path)
        bad[rng.randrange(4)] ^= 1
        assert not verify_path(leaf, i, bad, tree.root, hasher)
    assert not verify_path(leaves[0], 16, tree.path(0), tree.root, hasher)  # index too big
    with pytest.raises(IndexError, match=r"leaf index 16 outside 0\.\.15"):
        tree.path(16)


def test_rejects_bad_leaves_and_sizes() -> None:
    with pytest.raises(ValueError, match="not a field element"):
        MerkleTree.build([SNARK_FIELD])
    with pytest.raises(ValueError, match="5 leaves do not fit in a tree of depth 2"):
        MerkleTree.build([1, 2, 3, 4, 5], depth=2)
    inc = IncrementalMerkleTree(1)
    inc.insert(1)
    inc.insert(2)
    with pytest.raises(ValueError, match="tree of depth 1 is full"):
        inc.insert(3)


def test_parallel_build_equals_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    import zkmargin.merkle as merkle

    monkeypatch.setattr(merkle, "PARALLEL_MIN_LEAVES", 8)  # exercise the pool on a small tree
    rng = random.Random(2)
    leaves = [rng.randrange(SNARK_FIELD) for _ in range(301)]
    serial = MerkleTree.build(leaves, pad_leaf=1)
    parallel = MerkleTree.build(leaves, pad_leaf=1, workers=2)
    assert parallel.levels == serial.levels
    assert parallel.root == serial.root
    for count in (8, 9, 64, 65):  # exact power of two, one past it
        part = leaves[:count]
        assert MerkleTree.build(part, workers=2).levels == MerkleTree.build(part).levels


@pytest.mark.node
def test_root_matches_circomlibjs() -> None:
    rng = random.Random(3)
    leaves = [rng.randrange(SNARK_FIELD) for _ in range(13)]
    pad = rng.randrange(SNARK_FIELD)
    tree = MerkleTree.build(leaves, depth=5, pad_leaf=pad)
    out = run_node("merkle.js", {"leaves": [str(x) for x in leaves], "depth": 5, "pad": str(pad)})
    assert int(out["root"]) == tree.root
