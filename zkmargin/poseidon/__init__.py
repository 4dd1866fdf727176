"""Poseidon over BN254, bit-exact with circomlib/circomlibjs, in two implementations.

* ``reference`` -- :mod:`zkmargin.poseidon.reference`, pure Python, constants generated
  by the paper's Grain LFSR; readable, ~3k two-input hashes/s;
* ``fast`` -- the Rust ``light-poseidon`` package (arkworks field arithmetic, circomlib
  constants) for 1..12 inputs, ~40k two-input hashes/s here; wider inputs fall back to the
  reference.

Both implement :class:`Poseidon`; tests run every check on both and against circomlibjs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import light_poseidon_python as _lp

from zkmargin.field import SNARK_FIELD
from zkmargin.poseidon.reference import MAX_INPUTS, poseidon_reference

#: Widest input the Rust package supports (it matches circomlibjs for 1..12 inputs).
FAST_MAX_INPUTS = 12


class Poseidon(Protocol):
    name: str

    def hash(self, inputs: Sequence[int]) -> int:
        """Poseidon of 1..16 field elements (each ``0 <= x < r``)."""
        ...

    def hash_pairs(self, flat: Sequence[int]) -> list[int]:
        """``[H(flat[0], flat[1]), H(flat[2], flat[3]), ...]``: one Merkle level."""
        ...


class ReferencePoseidon:
    name = "reference"

    def hash(self, inputs: Sequence[int]) -> int:
        return poseidon_reference(inputs)

    def hash_pairs(self, flat: Sequence[int]) -> list[int]:
        if len(flat) % 2:
            raise ValueError(f"hash_pairs needs an even number of nodes, got {len(flat)}")
        return [poseidon_reference((flat[i], flat[i + 1])) for i in range(0, len(flat), 2)]


def _check(inputs: Sequence[int]) -> None:
    if not 1 <= len(inputs) <= MAX_INPUTS:
        raise ValueError(f"Poseidon takes 1..{MAX_INPUTS} inputs, got {len(inputs)}")
    for i, x in enumerate(inputs):
        if not 0 <= x < SNARK_FIELD:
            raise ValueError(
                f"Poseidon input {i} = {x} is not a field element (need 0 <= x < SNARK_FIELD)"
            )


class FastPoseidon:
    name = "fast"

    def __init__(self) -> None:
        self._hashers = {n: _lp.Hasher(n) for n in range(1, FAST_MAX_INPUTS + 1)}

    def hash(self, inputs: Sequence[int]) -> int:
        _check(inputs)
        if len(inputs) > FAST_MAX_INPUTS:
            return poseidon_reference(inputs)
        raw = [x.to_bytes(32, "big") for x in inputs]
        hexed: str = self._hashers[len(inputs)].hash_bytes_be(raw)
        return int(hexed, 16)

    def hash_pairs(self, flat: Sequence[int]) -> list[int]:
        if len(flat) % 2:
            raise ValueError(f"hash_pairs needs an even number of nodes, got {len(flat)}")
        h = self._hashers[2].hash_bytes_be
        b = [x.to_bytes(32, "big") for x in flat]  # raises OverflowError if x >= 2^256 or < 0
        return [int(h([b[i], b[i + 1]]), 16) for i in range(0, len(b), 2)]


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
