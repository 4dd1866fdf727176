"""The BN254 scalar field, the field every circuit signal and Poseidon hash lives in, and
the base field of the curve's coordinates."""

from __future__ import annotations

#: Order r of the BN254 (alt_bn128) scalar field; circom's ``p``.
SNARK_FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617
#: Order q of the BN254 base field (coordinates of curve points).
BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583

#: The BN curve parameter u.
BN_U = 4965661367192848881

# The constants check themselves (raising, so the check survives ``python -O``): r and q
# are the BN polynomials at u, r is a 254-bit prime with r - 1 divisible by 2^28 (the FFT
# domain snarkjs relies on).
if (SNARK_FIELD != 36 * BN_U**4 + 36 * BN_U**3 + 18 * BN_U**2 + 6 * BN_U + 1
        or BASE_FIELD != 36 * BN_U**4 + 36 * BN_U**3 + 24 * BN_U**2 + 6 * BN_U + 1
        or SNARK_FIELD.bit_length() != 254
        or (SNARK_FIELD - 1) % (1 << 28) != 0
        or pow(5, SNARK_FIELD - 1, SNARK_FIELD) != 1):
    raise AssertionError("BN254 field constants are wrong")
