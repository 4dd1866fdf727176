"""The INSECURE development setup, defined once, and how a verifier recognises it.

The development powers of tau (``prover/js/dev_ptau.cjs``) derive their secrets from a
public seed::

    x = SHA-512(seed || 0x00 || label) mod r,     label in {"tau", "alpha", "beta"}

so anyone can recompute tau, alpha and beta and forge Groth16 proofs under every key set
up from that file. A verifier therefore never believes a flag or a file name written by
the exchange: it recomputes ``alpha G1`` and ``beta G2`` from the seed and compares them
with the verification key (:func:`is_dev_key`), and the prover refuses a ptau file whose
``alpha G1`` or ``tau G1`` is the development one (:func:`dev_ptau_reason`).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from py_ecc.optimized_bn128 import optimized_curve as bn

from zkmargin.binfile import BinFile
from zkmargin.field import BASE_FIELD, SNARK_FIELD

#: The public seed of the development powers of tau (passed to dev_ptau.cjs by
#: zkmargin.prover.ptau, so this is the one definition).
DEV_SEED = "zkmargin INSECURE development setup"
#: The public beacon that closes the development phase 2.
DEV_BEACON = hashlib.sha256(b"zkmargin INSECURE development phase 2").hexdigest()
_R_INV_Q = pow(1 << 256, -1, BASE_FIELD)


def dev_secret(label: str, seed: str = DEV_SEED) -> int:
    """tau, alpha or beta of the development setup (public by construction)."""
    digest = hashlib.sha512(seed.encode() + b"\x00" + label.encode()).digest()
    return int.from_bytes(digest, "big") % SNARK_FIELD


def _g1(scalar: int) -> tuple[int, int]:
    x, y = bn.normalize(bn.multiply(bn.G1, scalar))
    return int(x.n), int(y.n)


@cache
def dev_points() -> dict[str, object]:
    """``tau G1``, ``alpha G1`` and ``beta G2`` (EVM coordinates) of the development tau."""
    bx, by = bn.normalize(bn.multiply(bn.G2, dev_secret("beta")))
    return {
        "tau_g1": _g1(dev_secret("tau")),
        "alpha_g1": _g1(dev_secret("alpha")),
        "beta_g2": ((int(bx.coeffs[0]), int(bx.coeffs[1])),
                    (int(by.coeffs[0]), int(by.coeffs[1]))),
    }


def is_dev_key(alpha1: tuple[int, int], beta2: tuple[tuple[int, int], tuple[int, int]]) -> bool:
    """True when a verification key's alpha or beta is the development setup's: its
    phase 1 has a public tau, so proofs under it can be forged by anyone."""
    points = dev_points()
    return alpha1 == points["alpha_g1"] or beta2 == points["beta_g2"]


def _ptau_point(bf: BinFile, section: int, index: int) -> tuple[int, int] | None:
    where = bf.sections.get(section, [])
    if len(where) != 1 or where[0][1] < 64 * (index + 1):
        return None
    raw = bf.read_at(where[0][0] + 64 * index, 64)
    return (int.from_bytes(raw[:32], "little") * _R_INV_Q % BASE_FIELD,
            int.from_bytes(raw[32:], "little") * _R_INV_Q % BASE_FIELD)


def dev_ptau_reason(path: Path) -> str | None:
    """Why ``path`` is the development powers of tau (its tau or alpha is the public
    one), or None. Reads two points, whatever the file's size."""
    points = dev_points()
    with BinFile.open(path, b"ptau") as bf:
        if _ptau_point(bf, 2, 1) == points["tau_g1"]:
            return "its tau is the development setup's public tau"
        if _ptau_point(bf, 4, 0) == points["alpha_g1"]:
            return "its alpha is the development setup's public alpha"
    return None
