"""Readable reference implementation of Poseidon over the BN254 scalar field.

This module follows the Poseidon paper (Grassi, Khovratovich, Rechberger, Roy,
Schofnegger; https://eprint.iacr.org/2019/458) and is bit-exact with circomlib's
``Poseidon(nInputs)`` template and circomlibjs' ``poseidon`` for 1 to 16 inputs:

* state width ``t = nInputs + 1``; the capacity element ``state[0]`` starts at 0,
  the inputs fill ``state[1:]`` and the hash is ``state[0]`` after the permutation;
* S-box ``x -> x^5`` (``alpha = 5``, the smallest integer coprime to ``p - 1``);
* ``R_F = 8`` full rounds (4 before and 4 after the partial rounds) and ``R_P``
  partial rounds, where only ``state[0]`` goes through the S-box;
* every round is ARK (add round constants) -> S-box layer -> MDS mix.

No constant is hard-coded. The round constants and MDS matrices are generated at run
time by the Grain LFSR procedure of the paper's reference script
(``generate_parameters_grain.sage``, Appendix F of the paper); see
:func:`poseidon_constants`.

This is a specification to read and to test faster implementations against, not a
fast hash: it does plain big-integer arithmetic modulo ``p``. (``galois.GF(r)`` arrays
would read as field arithmetic but measured 18x slower for a 2-input hash, 3x for 12
inputs; see the note on the dependencies in pyproject.toml.)
"""

from __future__ import annotations

import functools
import math
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from zkmargin.field import SNARK_FIELD

__all__ = [
    "ALPHA",
    "FULL_ROUNDS",
    "MAX_INPUTS",
    "PARTIAL_ROUNDS",
    "BitSource",
    "PoseidonConstants",
    "constants_from",
    "grain_seed",
    "poseidon_constants",
    "poseidon_reference",
]

#: S-box exponent: ``x -> x^ALPHA``. 5 is the smallest ``alpha`` with gcd(alpha, p - 1) = 1.
ALPHA = 5

#: Number of full rounds ``R_F`` (half of them before the partial rounds, half after).
FULL_ROUNDS = 8

#: Number of partial rounds ``R_P`` for state width ``t = 2 .. 17`` (index ``t - 2``), as in
#: circomlib: the paper's 128-bit security bounds, rounded up.
PARTIAL_ROUNDS: tuple[int, ...] = (
    56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68,
)  # fmt: skip

#: Largest supported number of inputs (state width 17).
MAX_INPUTS = len(PARTIAL_ROUNDS)

#: Bit length ``n`` of the field size, as fed to the Grain LFSR (254 for BN254).
_FIELD_BITS = SNARK_FIELD.bit_length()

# Grain LFSR seed tags (Appendix F): field = 1 for GF(p), sbox = 0 for x^alpha.
_GRAIN_FIELD_PRIME = 1
_GRAIN_SBOX_POWER = 0

# x^5 is a permutation of GF(p) and x^3 is not (3 divides p - 1), so alpha = 5 is the smallest.
if math.gcd(ALPHA, SNARK_FIELD - 1) != 1 or math.gcd(3, SNARK_FIELD - 1) == 1:
    raise AssertionError("x^5 must be the smallest invertible S-box over r")


@dataclass(frozen=True)
class PoseidonConstants:
    """All parameters of the Poseidon permutation for one state width ``t``.

    ``round_constants[r][i]`` is added to ``state[i]`` at the start of round ``r``
    (``r = 0 .. full_rounds + partial_rounds - 1``); ``mds[i][j]`` is the MDS matrix
    entry, so the mix computes ``new_state[i] = sum_j mds[i][j] * state[j]``.
    """

    round_constants: tuple[tuple[int, ...], ...]
    mds: tuple[tuple[int, ...], ...]
    full_rounds: int
    partial_rounds: int

    @property
    def t(self) -> int:
        """State width (number of field elements in the state)."""
        return len(self.mds)


class _GrainLFSR:
    """The 80-bit Grain LFSR of the paper's Appendix F, in self-shrinking mode.

    The 80-bit state is seeded with the instance parameters; each clock computes
    ``b[k+80] = b[k+62] ^ b[k+51] ^ b[k+38] ^ b[k+23] ^ b[k+13] ^ b[k]``
    (feedback polynomial ``x^80 + x^67 + x^57 + x^42 + x^29 + x^18 + 1``) and shifts it in.
    """

    def __init__(self, seed: list[int]) -> None:
        if len(seed) != 80:
            raise AssertionError(f"Grain seed must be 80 bits, got {len(seed)}")
        # The 80-bit register, oldest bit first; appending a bit shifts out the oldest.
        self._state: deque[int] = deque(seed, maxlen=80)
        # Warm-up: the first 160 raw bits are discarded (before self-shrinking starts).
        for _ in range(160):
            self._step()
        self._bits = self._self_shrinking()

    def _step(self) -> int:
        """Clock the raw LFSR once and return the new bit."""
        s = self._state
        bit = s[62] ^ s[51] ^ s[38] ^ s[23] ^ s[13] ^ s[0]
        s.append(bit)
        return bit

    def _self_shrinking(self) -> Iterator[int]:
        """Self-shrinking mode: take raw bits in pairs; if the first is 1, output the second."""
        while True:
            if self._step() == 1:
                yield self._step()
            else:
                self._step()

    def random_int(self, n: int) -> int:
        """Next ``n`` output bits as an unsigned integer, most significant bit first."""
        value = 0
        for _ in range(n):
            value = (value << 1) | next(self._bits)
        return value


def grain_seed(t: int) -> list[int]:
    """The 80 seed bits of the Grain LFSR for width ``t``: field = GF(p), sbox = x^5,
    n = 254, t, R_F, R_P, then thirty 1s."""
    return (_bits(_GRAIN_FIELD_PRIME, 2) + _bits(_GRAIN_SBOX_POWER, 4) + _bits(_FIELD_BITS, 12)
            + _bits(t, 12) + _bits(FULL_ROUNDS, 10) + _bits(PARTIAL_ROUNDS[t - 2], 10)
            + [1] * 30)


class BitSource(Protocol):
    def random_int(self, n: int) -> int: ...


def _bits(value: int, width: int) -> list[int]:
    """Big-endian bits of ``value`` in exactly ``width`` bits."""
    if not 0 <= value < 1 << width:
        raise ValueError(f"{value} does not fit in {width} bits")
    return [(value >> (width - 1 - i)) & 1 for i in range(width)]


def _generate_round_constants(grain: BitSource, count: int) -> list[int]:
    """``count`` field elements: ``n``-bit samples, rejecting any sample ``>= p``."""
    constants: list[int] = []
    while len(constants) < count:
        sample = grain.random_int(_FIELD_BITS)
        if sample < SNARK_FIELD:
            constants.append(sample)
    return constants


def _generate_cauchy_mds(grain: BitSource, t: int) -> tuple[tuple[int, ...], ...]:
    """Cauchy matrix ``M[i][j] = 1 / (x_i + y_j)`` as the reference script builds it.

    ``x_0 .. x_{t-1}, y_0 .. y_{t-1}`` are ``2t`` fresh ``n``-bit samples *reduced* mod ``p``
    (the script converts them with ``F(...)``; there is no rejection here, unlike for
    the round constants). The whole list of ``2t`` is resampled if any two are equal,
    and again if some ``x_i + y_j = 0``. Distinct ``x``'s, distinct ``y``'s and nonzero
    sums make every square submatrix invertible, i.e. the matrix is MDS.

    The reference script additionally runs the paper's Algorithms 1-3 (no invariant
    subspace trails) and draws a new matrix if one fails. They are not re-implemented
    here: for every width ``t = 2 .. 17`` the first matrix drawn is the one circomlib
    uses (the tests check this against circomlibjs), so no matrix was ever rejected.
    """
    while True:
        samples = [grain.random_int(_FIELD_BITS) % SNARK_FIELD for _ in range(2 * t)]
        while len(set(samples)) != len(samples):
            samples = [grain.random_int(_FIELD_BITS) % SNARK_FIELD for _ in range(2 * t)]
        xs, ys = samples[:t], samples[t:]
        if any((x + y) % SNARK_FIELD == 0 for x in xs for y in ys):
            continue
        return tuple(tuple(pow(x + y, -1, SNARK_FIELD) for y in ys) for x in xs)


@functools.cache
def poseidon_constants(t: int) -> PoseidonConstants:
    """Generate (once per ``t``, then cached) the round constants and MDS matrix for width ``t``.

    Runs the Grain LFSR seeded with (field = GF(p), sbox = x^5, n = 254, t, R_F, R_P):
    first ``(R_F + R_P) * t`` round constants, then the MDS matrix from the same stream.
    """
    if not 2 <= t <= MAX_INPUTS + 1:
        raise ValueError(f"Poseidon state width t must be in 2..{MAX_INPUTS + 1}, got {t}")
    return constants_from(_GrainLFSR(grain_seed(t)), t)


def constants_from(grain: BitSource, t: int) -> PoseidonConstants:
    """The constants of width ``t`` drawn from ``grain``'s output bits: first
    ``(R_F + R_P) * t`` round constants, then the MDS matrix from the same stream."""
    r_f = FULL_ROUNDS
    r_p = PARTIAL_ROUNDS[t - 2]
    flat = _generate_round_constants(grain, (r_f + r_p) * t)
    round_constants = tuple(tuple(flat[r * t : (r + 1) * t]) for r in range(r_f + r_p))
    mds = _generate_cauchy_mds(grain, t)
    return PoseidonConstants(
        round_constants=round_constants, mds=mds, full_rounds=r_f, partial_rounds=r_p
    )


def _sbox(x: int) -> int:
    """The S-box ``x^5 mod p``."""
    return pow(x, ALPHA, SNARK_FIELD)


def _mix(mds: tuple[tuple[int, ...], ...], state: list[int]) -> list[int]:
    """The linear layer: matrix-vector product ``MDS * state`` mod ``p``."""
    return [sum(m * s for m, s in zip(row, state, strict=True)) % SNARK_FIELD for row in mds]


def poseidon_permutation(state: Sequence[int], constants: PoseidonConstants) -> list[int]:
    """The Poseidon permutation on ``t`` field elements (each round: ARK, S-box, MDS)."""
    half_full = constants.full_rounds // 2
    first_full_after_partial = half_full + constants.partial_rounds
    out = list(state)
    for r, round_constants in enumerate(constants.round_constants):
        # ARK: add the round constants.
        out = [(s + c) % SNARK_FIELD for s, c in zip(out, round_constants, strict=True)]
        # S-box layer: full rounds apply it to every element, partial rounds to state[0].
        if r < half_full or r >= first_full_after_partial:
            out = [_sbox(s) for s in out]
        else:
            out[0] = _sbox(out[0])
        # Linear layer.
        out = _mix(constants.mds, out)
    return out


def poseidon_reference(inputs: Sequence[int]) -> int:
    """Poseidon hash of 1..16 field elements, as circomlib's ``Poseidon(len(inputs))``.

    The state is ``[0, *inputs]`` (width ``t = len(inputs) + 1``) and the result is
    ``state[0]`` after the permutation.

    Raises:
        ValueError: if there are not 1..16 inputs, or an input is not in ``[0, p)``.
    """
    if not 1 <= len(inputs) <= MAX_INPUTS:
        raise ValueError(f"Poseidon takes 1..{MAX_INPUTS} inputs, got {len(inputs)}")
    for i, x in enumerate(inputs):
        if not 0 <= x < SNARK_FIELD:
            raise ValueError(
                f"Poseidon input {i} = {x} is not a field element (need 0 <= x < SNARK_FIELD)"
            )
    constants = poseidon_constants(len(inputs) + 1)
    return poseidon_permutation([0, *inputs], constants)[0]
