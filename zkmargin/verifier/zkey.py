"""A snarkjs Groth16 proving key (``.zkey``), read in Python: what an auditor needs to bind
a published verification key to a circuit and to its setup.

* :func:`read_zkey` -- the sizes, the key's points (alpha, beta, gamma, delta), the IC
  points, the sha256 of the coefficient section and the phase-2 contributions;
* :func:`coefficients_section` -- the coefficient section that ``snarkjs groth16 setup``
  writes for an r1cs, recomputed here from the r1cs alone (it does not depend on the
  powers of tau), so a zkey can be compared with a recompiled circuit without any setup;
* :class:`Contribution` -- a phase-2 contribution and its hash, the value snarkjs prints
  as "Contribution Hash" to the contributor, who records it.

The container (iden3 binfileutils): magic ``zkey``, version, sections of
``(id u32, size u64, payload)``. Groth16 sections: 1 protocol (1 = groth16), 2 header
(``n8q q n8r r nVars nPublic domainSize alpha1 beta1 beta2 gamma2 delta1 delta2``), 3 IC,
4 coefficients, 5 A, 6 B1, 7 B2, 8 L, 9 H, 10 the MPC parameters (circuit hash, then the
contributions). Points are affine, each coordinate little-endian in Montgomery form
(x R mod q, R = 2^256); the point at infinity is all zero bytes.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from zkmargin.binfile import BinFile, BinFileError
from zkmargin.field import BASE_FIELD, SNARK_FIELD
from zkmargin.verifier.curve import G1Point, G2Point
from zkmargin.verifier.encoding import VerificationKey

GROTH16 = 1
_N8 = 32
_R_INV_Q = pow(1 << 256, -1, BASE_FIELD)
_R2_R = pow(1 << 256, 2, SNARK_FIELD)  # snarkjs stores coefficient c as c * R^2 mod r


class ZKeyError(BinFileError):
    """A zkey that cannot be read as a BN254 Groth16 key."""


@dataclass(frozen=True)
class Contribution:
    """One phase-2 contribution of a zkey's MPC transcript."""

    index: int  # 1-based, in chain order
    kind: str  # "contribution" (a secret random value) or "beacon" (public randomness)
    name: str
    hash: str  # 128 hex digits: blake2b-512 of the contribution's public key
    beacon_hash: str | None  # hex, for a beacon
    iterations_exp: int | None  # for a beacon

    def to_json(self) -> dict[str, object]:
        return {"index": self.index, "type": self.kind, "name": self.name, "hash": self.hash,
                "beacon_hash": self.beacon_hash, "iterations_exp": self.iterations_exp}


@dataclass(frozen=True)
class ZKey:
    n_vars: int
    n_public: int
    domain_size: int
    vk: VerificationKey
    coefficients_sha256: str
    circuit_hash: str  # hex of the MPC "circuit hash" (csHash) snarkjs derives at setup
    contributions: tuple[Contribution, ...]


def _fq(raw: bytes) -> int:
    return int.from_bytes(raw, "little") * _R_INV_Q % BASE_FIELD


def g1_point(raw: bytes) -> G1Point | None:
    """A G1 point as a zkey stores it (affine, Montgomery form; all zero: infinity, None)."""
    if not any(raw):
        return None
    return _fq(raw[:_N8]), _fq(raw[_N8:])


def g2_point(raw: bytes) -> G2Point | None:
    """A G2 point as a zkey stores it (x.c0 x.c1 y.c0 y.c1; all zero: infinity, None)."""
    if not any(raw):
        return None
    return ((_fq(raw[0:32]), _fq(raw[32:64])), (_fq(raw[64:96]), _fq(raw[96:128])))


#: The points of the header section (2), after ``n8q q n8r r nVars nPublic domainSize``:
#: name -> (offset, size); G1 points take 64 bytes, G2 points 128.
HEADER_POINTS = {"alpha1": (84, 64), "beta1": (148, 64), "beta2": (212, 128),
                 "gamma2": (340, 128), "delta1": (468, 64), "delta2": (532, 128)}
HEADER_SIZE = 660


def header_g1(header: bytes, name: str) -> G1Point | None:
    """The G1 point ``name`` of a zkey header section (None: infinity)."""
    offset, size = HEADER_POINTS[name]
    if size != 64:
        raise ValueError(f"{name} is not a G1 point of the header")
    return g1_point(header[offset:offset + size])


def header_g2(header: bytes, name: str) -> G2Point | None:
    """The G2 point ``name`` of a zkey header section (None: infinity)."""
    offset, size = HEADER_POINTS[name]
    if size != 128:
        raise ValueError(f"{name} is not a G2 point of the header")
    return g2_point(header[offset:offset + size])


def _point(point: G1Point | G2Point | None, what: str, file: str) -> object:
    if point is None:
        raise ZKeyError(f"{file}: {what} is the point at infinity")
    return point


def _uncompressed_g1(raw: bytes) -> bytes:
    """snarkjs' ``toRprUncompressed`` of a G1 point: x and y big-endian (infinity: 0s)."""
    if not any(raw):
        return bytes(64)
    x, y = (_fq(raw[:32]), _fq(raw[32:]))
    return x.to_bytes(32, "big") + y.to_bytes(32, "big")


def _uncompressed_g2(raw: bytes) -> bytes:
    """The same for G2: each Fq2 coordinate as (c1, c0), big-endian."""
    if not any(raw):
        return bytes(128)
    c = [_fq(raw[i:i + 32]) for i in range(0, 128, 32)]  # x.c0, x.c1, y.c0, y.c1
    return b"".join(v.to_bytes(32, "big") for v in (c[1], c[0], c[3], c[2]))


def read_zkey(path: Path, *, file: str | None = None) -> ZKey:
    """Read a BN254 Groth16 zkey; raises :class:`ZKeyError` naming ``file``."""
    name = file or str(path)
    try:
        bf = BinFile.open(path, b"zkey")
    except BinFileError as exc:
        raise ZKeyError(f"{name}: {exc.reason}") from None
    with bf:
        protocol = bf.section(1, name)
        if len(protocol) != 4 or struct.unpack("<I", protocol)[0] != GROTH16:
            raise ZKeyError(f"{name}: not a Groth16 zkey (protocol section {protocol.hex()})")
        header = bf.section(2, name)
        n8q = struct.unpack_from("<I", header, 0)[0]
        if n8q != _N8 or int.from_bytes(header[4:36], "little") != BASE_FIELD:
            raise ZKeyError(f"{name}: the key is not over BN254 (base field size {n8q})")
        n8r = struct.unpack_from("<I", header, 36)[0]
        if n8r != _N8 or int.from_bytes(header[40:72], "little") != SNARK_FIELD:
            raise ZKeyError(f"{name}: the key is not over BN254's scalar field")
        n_vars, n_public, domain = struct.unpack_from("<III", header, 72)
        if len(header) != HEADER_SIZE:
            raise ZKeyError(f"{name}: header section has {len(header)} bytes, expected "
                            f"{HEADER_SIZE}")
        alpha1 = header_g1(header, "alpha1")
        beta2 = header_g2(header, "beta2")
        gamma2 = header_g2(header, "gamma2")
        delta2 = header_g2(header, "delta2")
        ic_raw = bf.section(3, name)
        if len(ic_raw) != 64 * (n_public + 1):
            raise ZKeyError(f"{name}: IC section holds {len(ic_raw) // 64} points for "
                            f"{n_public} public signals")
        ic = [g1_point(ic_raw[i:i + 64]) for i in range(0, len(ic_raw), 64)]
        coefficients = bf.section(4, name)
        mpc = bf.section(10, name)
    parts = [_point(alpha1, "vk_alpha_1", name), _point(beta2, "vk_beta_2", name),
             _point(gamma2, "vk_gamma_2", name), _point(delta2, "vk_delta_2", name)]
    vk = VerificationKey(alpha1=parts[0], beta2=parts[1], gamma2=parts[2],  # type: ignore[arg-type]
                         delta2=parts[3],  # type: ignore[arg-type]
                         ic=tuple(_point(p, f"IC[{i}]", name)  # type: ignore[misc]
                                  for i, p in enumerate(ic)))
    circuit_hash, contributions = _mpc(mpc, name)
    return ZKey(n_vars, n_public, domain, vk, hashlib.sha256(coefficients).hexdigest(),
                circuit_hash, contributions)


def _mpc(raw: bytes, name: str) -> tuple[str, tuple[Contribution, ...]]:
    """Section 10: the circuit hash and every contribution (see snarkjs zkey_utils)."""
    try:
        cs_hash = raw[:64]
        (count,) = struct.unpack_from("<I", raw, 64)
        pos = 68
        out = []
        for i in range(count):
            delta_after, g1_s, g1_sx = raw[pos:pos + 64], raw[pos + 64:pos + 128], \
                raw[pos + 128:pos + 192]
            g2_spx = raw[pos + 192:pos + 320]
            transcript = raw[pos + 320:pos + 384]
            kind, plen = struct.unpack_from("<II", raw, pos + 384)
            params = raw[pos + 392:pos + 392 + plen]
            if len(params) != plen:
                raise ZKeyError(f"{name}: contribution {i + 1} is truncated")
            pos += 392 + plen
            label, beacon, iterations = "", None, None
            k = 0
            while k < len(params):
                tag = params[k]
                if tag == 1:
                    size = params[k + 1]
                    label = params[k + 2:k + 2 + size].decode("utf-8", errors="replace")
                    k += 2 + size
                elif tag == 2:
                    iterations = params[k + 1]
                    k += 2
                elif tag == 3:
                    size = params[k + 1]
                    beacon = params[k + 2:k + 2 + size].hex()
                    k += 2 + size
                else:
                    raise ZKeyError(f"{name}: contribution {i + 1} has unknown parameter "
                                    f"{tag}")
            digest = hashlib.blake2b(
                _uncompressed_g1(delta_after) + _uncompressed_g1(g1_s)
                + _uncompressed_g1(g1_sx) + _uncompressed_g2(g2_spx) + transcript,
                digest_size=64).hexdigest()
            out.append(Contribution(i + 1, "beacon" if kind == 1 else "contribution", label,
                                    digest, beacon, iterations))
    except (struct.error, IndexError):
        raise ZKeyError(f"{name}: the MPC section (10) is truncated") from None
    if pos != len(raw):
        raise ZKeyError(f"{name}: {len(raw) - pos} unexpected bytes after the contributions")
    return cs_hash.hex(), tuple(out)


def coefficients_section(n_constraints: int, n_public: int,
                         constraints: Sequence[tuple[Sequence[tuple[int, int]],
                                                     Sequence[tuple[int, int]], object]]) -> bytes:
    """The coefficient section (4) ``snarkjs groth16 setup`` writes for this constraint
    system: for every constraint its A terms, then its B terms, as ``(matrix, constraint,
    signal, c R^2 mod r)``, then ``A[m + s][s] = 1`` for the one wire and every public
    signal ``s``. It depends on the r1cs only."""
    entries = []
    for c, (a, b, _) in enumerate(constraints):
        entries += [(0, c, s, v) for s, v in a]
        entries += [(1, c, s, v) for s, v in b]
    entries += [(0, n_constraints + s, s, 1) for s in range(n_public + 1)]
    out = bytearray(struct.pack("<I", len(entries)))
    for matrix, c, s, v in entries:
        out += struct.pack("<III", matrix, c, s)
        out += (v * _R2_R % SNARK_FIELD).to_bytes(32, "little")
    return bytes(out)


def domain_size(n_constraints: int, n_public: int) -> int:
    """snarkjs' Groth16 domain: 2^(floor(log2(m + public)) + 1)."""
    return 1 << ((n_constraints + n_public).bit_length())
