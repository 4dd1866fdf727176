"""Binary Poseidon Merkle tree: padding to a power of two, inclusion paths, verification.

``node = Poseidon(left, right)`` (circomlib ``Poseidon(2)``). A tree of depth ``d`` has
``2^d`` leaf positions; positions past the real leaves hold ``pad_leaf`` (the leaf of the
all-zero padding account, see :mod:`zkmargin.commitments`), and a subtree made only of
padding has the precomputed root ``zeros[level]``, so padding is never hashed twice.

A large tree can be built by a process pool (``workers``): aligned subtrees of ``2^s``
leaves are built in parallel, one task each, and the few levels above them in-process;
the result is identical for any worker count.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from zkmargin.field import SNARK_FIELD
from zkmargin.poseidon import FastPoseidon, Poseidon, ReferencePoseidon, get_poseidon

#: Trees with fewer leaves than this are built in-process even with workers.
PARALLEL_MIN_LEAVES = 1 << 15
MAX_DEPTH = 48


def zero_hashes(depth: int, pad_leaf: int, hasher: Poseidon | None = None) -> list[int]:
    """``zeros[0] = pad_leaf``, ``zeros[l+1] = H(zeros[l], zeros[l])`` for ``l < depth``."""
    h = hasher or get_poseidon()
    out = [pad_leaf]
    for _ in range(depth):
        out.append(h.hash((out[-1], out[-1])))
    return out


@lru_cache(maxsize=256)
def _shared_zero_hashes(depth: int, pad_leaf: int, name: str) -> tuple[int, ...]:
    return tuple(zero_hashes(depth, pad_leaf, get_poseidon(name)))


def depth_for(count: int) -> int:
    """Smallest depth whose ``2^depth`` leaf positions hold ``count`` leaves (>= 0)."""
    return max(count - 1, 0).bit_length()


def hash_level(nodes: Sequence[int], zero: int, hasher: Poseidon) -> list[int]:
    """The parent level of ``nodes`` (an odd last node is paired with ``zero``)."""
    flat = list(nodes)
    if len(flat) % 2:
        flat.append(zero)
    return hasher.hash_pairs(flat)


def _subtree_worker(args: tuple[str, list[int], int, int]) -> list[list[int]]:
    name, leaves, depth, pad = args
    return MerkleTree.build(leaves, depth=depth, pad_leaf=pad, hasher=get_poseidon(name)).levels[1:]


@dataclass
class MerkleTree:
    """All levels of a tree: ``levels[0]`` are the real leaves, ``levels[depth] == [root]``.

    Only real nodes are stored; missing right-hand nodes are ``zeros[level]``.
    """

    depth: int
    pad_leaf: int
    levels: list[list[int]]
    zeros: list[int] = field(repr=False)

    @classmethod
    def build(
        cls,
        leaves: Sequence[int],
        *,
        depth: int | None = None,
        pad_leaf: int = 0,
        hasher: Poseidon | None = None,
        workers: int = 1,
    ) -> MerkleTree:
        h = hasher or get_poseidon()
        d = depth_for(len(leaves)) if depth is None else depth
        if not 0 <= d <= MAX_DEPTH:
            raise ValueError(f"tree depth must be in 0..{MAX_DEPTH}, got {d}")
        if len(leaves) > 1 << d:
            raise ValueError(f"{len(leaves)} leaves do not fit in a tree of depth {d}")
        for i, leaf in enumerate(leaves):
            if not 0 <= leaf < SNARK_FIELD:
                raise ValueError(f"leaf {i} = {leaf} is not a field element")
        zeros = (list(_shared_zero_hashes(d, pad_leaf, h.name))  # once per process
                 if type(h) in (FastPoseidon, ReferencePoseidon) else
                 zero_hashes(d, pad_leaf, h))
        levels = [list(leaves)]
        if workers > 1 and len(leaves) >= PARALLEL_MIN_LEAVES:
            # aligned subtrees of 2^s leaves, about 4 tasks per worker
            s = min(d, max(0, -(-len(leaves) // (4 * workers)) - 1).bit_length())
            size = 1 << s
            tasks = [(h.name, levels[0][i : i + size], s, pad_leaf)
                     for i in range(0, len(leaves), size)]
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                parts = pool.map(_subtree_worker, tasks)
            for level in range(s):
                levels.append([x for part in parts for x in part[level]])
        for level in range(len(levels) - 1, d):
            cur = levels[-1]
            levels.append(hash_level(cur, zeros[level], h) if cur else [])
        return cls(depth=d, pad_leaf=pad_leaf, levels=levels, zeros=zeros)

    @property
    def root(self) -> int:
        top = self.levels[self.depth]
        return top[0] if top else self.zeros[self.depth]

    def node(self, level: int, index: int) -> int:
        row = self.levels[level]
        return row[index] if index < len(row) else self.zeros[level]

    def path(self, index: int) -> list[int]:
        """Siblings from the leaf level up (``depth`` of them)."""
        if not 0 <= index < 1 << self.depth:
            raise IndexError(f"leaf index {index} outside 0..{(1 << self.depth) - 1}")
        return [self.node(level, (index >> level) ^ 1) for level in range(self.depth)]


def root_from_path(
    leaf: int, index: int, siblings: Sequence[int], hasher: Poseidon | None = None
) -> int:
    """Recompute the root from a leaf, its index and its siblings (bit l of index = side)."""
    h = hasher or get_poseidon()
    if not 0 <= index < 1 << len(siblings):
        raise ValueError(f"index {index} does not fit a path of {len(siblings)} siblings")
    node = leaf
    for level, sib in enumerate(siblings):
        node = h.hash((sib, node) if (index >> level) & 1 else (node, sib))
    return node


def verify_path(
    leaf: int, index: int, siblings: Sequence[int], root: int, hasher: Poseidon | None = None
) -> bool:
    """True when ``leaf`` sits at ``index`` of the tree with ``root``."""
    try:
        return root_from_path(leaf, index, siblings, hasher) == root
    except ValueError:
        return False


class IncrementalMerkleTree:
    """Append-only tree of fixed depth keeping one frontier node per level (O(depth))."""

    def __init__(self, depth: int, pad_leaf: int = 0, hasher: Poseidon | None = None) -> None:
        if not 0 <= depth <= MAX_DEPTH:
            raise ValueError(f"tree depth must be in 0..{MAX_DEPTH}, got {depth}")
        self.depth = depth
        self._h = hasher or get_poseidon()
        self.zeros = zero_hashes(depth, pad_leaf, self._h)
        self._frontier: list[int] = list(self.zeros[:depth])
        self.count = 0
        self._root = self.zeros[depth]

    def insert(self, leaf: int) -> int:
        """Append ``leaf``; returns its index."""
        if self.count >= 1 << self.depth:
            raise ValueError(f"tree of depth {self.depth} is full ({self.count} leaves)")
        index = self.count
        node = leaf
        for level in range(self.depth):
            if (index >> level) & 1:
                node = self._h.hash((self._frontier[level], node))
            else:
                self._frontier[level] = node
                node = self._h.hash((node, self.zeros[level]))
        self._root = node
        self.count += 1
        return index

    @property
    def root(self) -> int:
        return self._root
