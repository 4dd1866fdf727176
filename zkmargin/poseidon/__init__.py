"""Poseidon over BN254, bit-exact with circomlib/circomlibjs, in two implementations.

* ``reference`` -- :mod:`zkmargin.poseidon.reference`, pure Python, constants generated
  by the paper's Grain LFSR; readable, ~3k two-input hashes/s;
* ``fast`` -- :mod:`zkmargin.poseidon._fast`, the same permutation in C (Montgomery
  arithmetic, lazy reduction in the MDS mix; ``_fast.c``, built by ``pip install``), fed
  the reference's constants, many hashes per call (:meth:`Poseidon.hash_many`): 1..16
  inputs; see benchmarks/README.md for its speed.

Both implement :class:`Poseidon`; tests run every check on both and against circomlibjs.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np

from zkmargin.field import SNARK_FIELD
from zkmargin.poseidon import _fast
from zkmargin.poseidon.reference import (
    MAX_INPUTS,
    PoseidonConstants,
    _mix,
    constants_from,
    grain_seed,
    poseidon_reference,
)

#: Widest input the fast implementation takes (all of the reference's widths).
FAST_MAX_INPUTS = MAX_INPUTS


class Poseidon(Protocol):
    name: str

    def hash(self, inputs: Sequence[int]) -> int:
        """Poseidon of 1..16 field elements (each ``0 <= x < r``)."""
        ...

    def hash_pairs(self, flat: Sequence[int]) -> list[int]:
        """``[H(flat[0], flat[1]), H(flat[2], flat[3]), ...]``: one Merkle level."""
        ...

    def hash_many(self, width: int, flat: Sequence[int]) -> list[int]:
        """``[H(flat[0:width]), H(flat[width:2 width]), ...]``: many hashes of ``width``
        inputs each."""
        ...


class ReferencePoseidon:
    name = "reference"

    def hash(self, inputs: Sequence[int]) -> int:
        return poseidon_reference(inputs)

    def hash_pairs(self, flat: Sequence[int]) -> list[int]:
        if len(flat) % 2:
            raise ValueError(f"hash_pairs needs an even number of nodes, got {len(flat)}")
        return self.hash_many(2, flat)

    def hash_many(self, width: int, flat: Sequence[int]) -> list[int]:
        if len(flat) % width:
            raise ValueError(f"hash_many needs a multiple of {width} inputs, got {len(flat)}")
        return [poseidon_reference(flat[i:i + width]) for i in range(0, len(flat), width)]


def _check(inputs: Sequence[int]) -> None:
    if not 1 <= len(inputs) <= MAX_INPUTS:
        raise ValueError(f"Poseidon takes 1..{MAX_INPUTS} inputs, got {len(inputs)}")
    for i, x in enumerate(inputs):
        if not 0 <= x < SNARK_FIELD:
            raise ValueError(
                f"Poseidon input {i} = {x} is not a field element (need 0 <= x < SNARK_FIELD)"
            )


Matrix = list[list[int]]


def _matmul(a: Matrix, b: Matrix) -> Matrix:
    return [[sum(a[i][k] * b[k][j] for k in range(len(b))) % SNARK_FIELD
             for j in range(len(b[0]))] for i in range(len(a))]


def _inverse(m: Matrix) -> Matrix:
    """Inverse mod r by Gauss-Jordan (every square submatrix of an MDS matrix is
    invertible)."""
    n = len(m)
    a = [list(row) + [int(i == j) for j in range(n)] for i, row in enumerate(m)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if a[r][col])
        a[col], a[pivot] = a[pivot], a[col]
        inv = pow(a[col][col], -1, SNARK_FIELD)
        a[col] = [x * inv % SNARK_FIELD for x in a[col]]
        for r in range(n):
            if r != col and a[r][col]:
                f = a[r][col]
                a[r] = [(x - f * y) % SNARK_FIELD for x, y in zip(a[r], a[col], strict=True)]
    return [row[n:] for row in a]


class BlockGrain:
    """The reference's Grain LFSR (``reference._GrainLFSR``, the specification) computed
    18 bits per step instead of one: the feedback's nearest tap is 62 of 80 bits back, so
    the next 18 bits depend only on the current 80. The same output bits, 5-6x faster
    (tested against the reference for every width): the first hashing process of a run
    spent 0.1-1.3 s per width on the bit-by-bit register."""

    _BLOCK = 18 * 4096  # raw bits per refill (even: self-shrinking pairs stay aligned)

    def __init__(self, seed: list[int]) -> None:
        self._window = sum(bit << i for i, bit in enumerate(seed))  # bit j = s[i + j]
        self._skip = 160  # the warm-up clocks, discarded before self-shrinking
        self._out = np.zeros(0, dtype=np.uint8)
        self._pos = 0

    def _refill(self) -> None:
        w, chunks = self._window, []
        for _ in range(self._BLOCK // 18):
            new = ((w >> 62) ^ (w >> 51) ^ (w >> 38) ^ (w >> 23) ^ (w >> 13) ^ w) & 0x3FFFF
            chunks.append(new)
            w = (w >> 18) | (new << 62)
        self._window = w
        raw = ((np.array(chunks, dtype=np.uint32)[:, None] >> np.arange(18, dtype=np.uint32))
               & 1).astype(np.uint8).ravel()
        raw, self._skip = raw[self._skip:], 0
        pairs = raw.reshape(-1, 2)
        self._out = np.concatenate([self._out[self._pos:], pairs[pairs[:, 0] == 1, 1]])
        self._pos = 0

    def random_int(self, n: int) -> int:
        """Next ``n`` output bits as an unsigned integer, most significant bit first."""
        while len(self._out) - self._pos < n:
            self._refill()
        bits = self._out[self._pos:self._pos + n]
        self._pos += n
        pad = (-n) % 8
        packed = np.packbits(np.concatenate([np.zeros(pad, dtype=np.uint8), bits]))
        return int.from_bytes(packed.tobytes(), "big")


@lru_cache(maxsize=MAX_INPUTS)
def fast_constants(t: int) -> PoseidonConstants:
    """:func:`reference.poseidon_constants` drawn from :class:`BlockGrain`: equal values."""
    if not 2 <= t <= MAX_INPUTS + 1:
        raise ValueError(f"Poseidon state width t must be in 2..{MAX_INPUTS + 1}, got {t}")
    return constants_from(BlockGrain(grain_seed(t)), t)


def sparse_form(width: int) -> tuple[Matrix, list[Matrix], list[int], list[list[int]]]:
    """The reference permutation for ``width`` inputs in the equivalent form of the Poseidon
    paper's appendix B: (full-round constants, one mix matrix per full round, one constant
    per partial round, one sparse matrix per partial round as ``row 0 + column 0 below
    it``). Two exact rewrites of the partial rounds, where only ``state[0]`` meets the
    S-box:

    1. a constant added to ``state[1:]`` passes the S-box unchanged and the mix linearly,
       so it moves to the next round as ``M (0, c[1:])``;
    2. from the last partial round back, ``N = A B`` with ``B = diag(1, N[1:, 1:])``, which
       commutes with that round's constant and S-box, and the sparse
       ``A = [[n00, N[0, 1:] B'^-1], [N[1:, 0], I]]``; ``B M`` is the previous round's
       ``N``, and the last ``B`` joins the mix of the last full round before them.
    """
    c = fast_constants(width + 1)
    t, half, rounds_p = width + 1, c.full_rounds // 2, c.partial_rounds
    mds = [list(row) for row in c.mds]
    rc = [list(row) for row in c.round_constants]
    for r in range(half, half + rounds_p):
        pushed = _mix(c.mds, [0, *rc[r][1:]])  # the reference's own mix
        rc[r + 1] = [(a + b) % SNARK_FIELD for a, b in zip(rc[r + 1], pushed, strict=True)]
        rc[r][1:] = [0] * (t - 1)
    sparse: list[list[int]] = []
    n = mds
    for _ in range(rounds_p):
        n_hat = [row[1:] for row in n[1:]]
        inv = _inverse(n_hat)
        row0 = [n[0][0]] + [sum(n[0][1 + k] * inv[k][j] for k in range(t - 1)) % SNARK_FIELD
                            for j in range(t - 1)]
        sparse.append(row0 + [row[0] for row in n[1:]])
        b = [[1] + [0] * (t - 1)] + [[0, *row] for row in n_hat]
        n = _matmul(b, mds)
    sparse.reverse()
    mixes = [mds] * c.full_rounds
    mixes[half - 1] = n
    full_rc = rc[:half] + rc[half + rounds_p:]
    return full_rc, mixes, [rc[r][0] for r in range(half, half + rounds_p)], sparse


@lru_cache(maxsize=MAX_INPUTS)
def _fast_constants(width: int) -> tuple[bytes, ...]:
    """:func:`sparse_form` in Montgomery form (``x 2^256 mod r``), 32-byte little-endian:
    what ``_fast.permute_many`` takes."""
    full_rc, mixes, partial_rc, sparse = sparse_form(width)

    def mont(values: Sequence[int]) -> bytes:
        return b"".join(((v << 256) % SNARK_FIELD).to_bytes(32, "little") for v in values)

    return (mont([v for row in full_rc for v in row]),
            mont([v for m in mixes for row in m for v in row]),
            mont(partial_rc), mont([v for row in sparse for v in row]))


class FastPoseidon:
    name = "fast"

    def hash(self, inputs: Sequence[int]) -> int:
        _check(inputs)
        return self.hash_many(len(inputs), inputs)[0]

    def hash_pairs(self, flat: Sequence[int]) -> list[int]:
        if len(flat) % 2:
            raise ValueError(f"hash_pairs needs an even number of nodes, got {len(flat)}")
        return self.hash_many(2, flat)

    def hash_many(self, width: int, flat: Sequence[int]) -> list[int]:
        if not 1 <= width <= FAST_MAX_INPUTS:
            raise ValueError(f"Poseidon takes 1..{FAST_MAX_INPUTS} inputs, got {width}")
        if len(flat) % width:
            raise ValueError(f"hash_many needs a multiple of {width} inputs, got {len(flat)}")
        if not flat:
            return []
        rc, mixes, partial_rc, sparse = _fast_constants(width)
        try:
            # to_bytes raises OverflowError for x < 0 or x >= 2^256; C refuses x >= r
            raw = b"".join([x.to_bytes(32, "little") for x in flat])
        except OverflowError:
            bad = next(x for x in flat if not 0 <= x < SNARK_FIELD)
            raise ValueError(f"Poseidon input {bad} is not a field element "
                             "(need 0 <= x < SNARK_FIELD)") from None
        out = _fast.permute_many(width + 1, rc, mixes, partial_rc, sparse, raw)
        return [int.from_bytes(out[i:i + 32], "little") for i in range(0, len(out), 32)]


_IMPLS: dict[str, Poseidon] = {}


def get_poseidon(name: str = "fast") -> Poseidon:
    """The shared instance of ``"fast"`` or ``"reference"``."""
    if name not in _IMPLS:
        if name == "fast":
            _IMPLS[name] = FastPoseidon()
        elif name == "reference":
            _IMPLS[name] = ReferencePoseidon()
        else:
            raise ValueError(f"unknown Poseidon implementation {name!r}: 'fast' or 'reference'")
    return _IMPLS[name]


def poseidon(inputs: Sequence[int]) -> int:
    """Poseidon hash with the fast implementation."""
    return get_poseidon("fast").hash(inputs)


__all__ = [
    "FastPoseidon",
    "Poseidon",
    "ReferencePoseidon",
    "get_poseidon",
    "poseidon",
    "poseidon_reference",
]
