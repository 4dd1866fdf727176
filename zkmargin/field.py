"""The BN254 scalar field, the field every circuit signal and Poseidon hash lives in."""

from __future__ import annotations

#: Order r of the BN254 (alt_bn128) scalar field; circom's ``p``.
SNARK_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617

# The constant checks itself: 254-bit prime with r - 1 divisible by 2^28 (the FFT domain
# snarkjs relies on), and r = 36u^4 + 36u^3 + 18u^2 + 6u + 1 for the BN parameter u.
_BN_U = 4965661367192848881
assert SNARK_FIELD == 36 * _BN_U**4 + 36 * _BN_U**3 + 18 * _BN_U**2 + 6 * _BN_U + 1
assert SNARK_FIELD.bit_length() == 254
assert (SNARK_FIELD - 1) % (1 << 28) == 0
assert pow(5, SNARK_FIELD - 1, SNARK_FIELD) == 1

#: Order q of the BN254 base field (coordinates of curve points).
BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583
assert BASE_FIELD == 36 * _BN_U**4 + 36 * _BN_U**3 + 24 * _BN_U**2 + 6 * _BN_U + 1


def is_field_element(value: int) -> bool:
    """True when ``value`` is a canonical field element, ``0 <= value < r``."""
    return 0 <= value < SNARK_FIELD
