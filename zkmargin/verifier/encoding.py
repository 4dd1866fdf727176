"""Groth16 keys, proofs and public inputs: strict parsing of snarkjs JSON, EVM calldata.

Everything a verifier reads is checked here, once, before any pairing is computed, so
the reference and the fast verifier accept and refuse exactly the same inputs. The rules
are the EVM's (the ``ecAdd``/``ecMul``/``ecPairing`` precompiles of EIP-196/197 and the
snarkjs Solidity verifier):

* every coordinate is canonical, ``0 <= c < q``: ``x + q`` names the same field element
  but the precompiles refuse it (``snarkjs groth16 verify`` reduces it and accepts);
* every point is on its curve; G2 points are in the order-``r`` subgroup; the point at
  infinity is refused (a valid proof never has one);
* snarkjs JSON is projective with ``z = 1`` exactly (``["1", "0"]`` for G2): any other
  ``z`` is refused even when it describes the same point;
* every public input is canonical, ``0 <= x < r`` (the Solidity verifier's
  ``checkField``), and there are exactly ``nPublic`` of them;
* numbers in JSON are decimal strings without sign, spaces or leading zeros.

A malformed or non-canonical input raises :class:`ProofFormatError` naming the field and
the value; :class:`Proof` and :class:`VerificationKey` run the checks in their
constructors, so every instance is valid, however it was made.

G2 coordinates are ``(c0, c1)`` pairs (``c0 + c1 * u``), the order of snarkjs JSON and
py_ecc; EVM calldata writes ``c1`` first, which :func:`to_calldata` and
:func:`from_calldata` translate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zkmargin.errors import ZkMarginError
from zkmargin.verifier.curve import (
    G1Point,
    G2Point,
    Q,
    R,
    g1_on_curve,
    g2_in_subgroup,
    g2_on_curve,
)

__all__ = [
    "Calldata",
    "Proof",
    "ProofFormatError",
    "VerificationKey",
    "check_public",
    "from_calldata",
    "parse_public",
    "proof_to_evm_bytes",
    "to_calldata",
]

_MISSING = object()


class ProofFormatError(ZkMarginError):
    """A malformed or non-canonical key, proof or public input; names the field and value.

    ``field`` is a path such as ``proof.pi_a[0]``, ``vk.IC[1]`` or ``public[0]`` (empty for
    a whole file that is not JSON); ``file`` is set when the value came from a file
    (:func:`zkmargin.verifier.verify_files`).
    """

    def __init__(self, field: str, reason: str, *, value: object = _MISSING,
                 file: str | None = None) -> None:
        self.field = field
        self.reason = reason
        self.value = value
        self.file = file
        shown = "" if value is _MISSING else f"{value if isinstance(value, str) else repr(value)} "
        where = "".join(f"{w}: " for w in (file, field) if w)
        super().__init__(f"{where}{shown}{reason}")

    def in_file(self, file: str) -> ProofFormatError:
        """The same error, located in ``file``."""
        return ProofFormatError(self.field, self.reason, value=self.value, file=file)


_DECIMAL = re.compile(r"0|[1-9][0-9]{0,79}", re.ASCII)


def _short(value: object) -> str:
    """``repr(value)``, cut to 200 characters for messages."""
    shown = repr(value)
    return shown if len(shown) <= 200 else shown[:190] + "...(cut)"


def _decimal(value: object, field: str) -> int:
    """A JSON number written as a canonical decimal string (the snarkjs convention)."""
    if not isinstance(value, str):
        raise ProofFormatError(field, f"({type(value).__name__}) must be a decimal string",
                               value=_short(value))
    if not _DECIMAL.fullmatch(value):
        raise ProofFormatError(
            field, "is not a canonical decimal string (digits only, no sign, spaces or "
            "leading zeros, at most 80 digits)", value=_short(value))
    return int(value)


def _list(value: object, field: str, length: int) -> list[Any]:
    if not isinstance(value, list) or len(value) != length:
        raise ProofFormatError(field, f"must be a list of {length}", value=_short(value))
    return value


def _int(value: object, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProofFormatError(field, f"({type(value).__name__}) must be an integer",
                               value=_short(value))
    return value


def _coordinate(value: object, field: str) -> int:
    c = _int(value, field)
    if c < 0:
        raise ProofFormatError(field, "is negative", value=c)
    if c >= Q:
        raise ProofFormatError(field, "is not below the base field modulus q", value=c)
    return c


def _pair(value: object, field: str) -> tuple[object, object]:
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise ProofFormatError(field, "must be a pair", value=_short(value))
    return value[0], value[1]


def _g1(value: object, field: str) -> G1Point:
    """A checked affine G1 point: canonical coordinates, on the curve, not infinity."""
    vx, vy = _pair(value, field)
    p = _coordinate(vx, f"{field}[0]"), _coordinate(vy, f"{field}[1]")
    if p == (0, 0):
        raise ProofFormatError(field, "is the point at infinity (EVM encoding (0, 0)), "
                               "which is not accepted", value=p)
    if not g1_on_curve(p):
        raise ProofFormatError(field, "is not on the curve y^2 = x^3 + 3", value=p)
    return p


def _g2(value: object, field: str) -> G2Point:
    """A checked affine G2 point: canonical, on the twist, in the r-torsion subgroup."""
    vx, vy = _pair(value, field)
    x0, x1 = _pair(vx, f"{field}[0]")
    y0, y1 = _pair(vy, f"{field}[1]")
    p = ((_coordinate(x0, f"{field}[0][0]"), _coordinate(x1, f"{field}[0][1]")),
         (_coordinate(y0, f"{field}[1][0]"), _coordinate(y1, f"{field}[1][1]")))
    if p == ((0, 0), (0, 0)):
        raise ProofFormatError(field, "is the point at infinity (EVM encoding (0, 0, 0, 0)), "
                               "which is not accepted", value=p)
    if not g2_on_curve(p):
        raise ProofFormatError(field, "is not on the twist curve y^2 = x^3 + 3/(9+u) "
                               "(coordinates are [c0, c1]; swapped halves land here)", value=p)
    if not g2_in_subgroup(p):
        raise ProofFormatError(field, "is on the twist but not in the order-r subgroup", value=p)
    return p


def _json_g1(data: object, field: str) -> tuple[int, int]:
    x, y, z = _list(data, field, 3)
    if z != "1":
        raise ProofFormatError(f"{field}[2]", 'must be "1" (affine point, z = 1; projective '
                               "coordinates and the point at infinity are not accepted)",
                               value=_short(z))
    return _decimal(x, f"{field}[0]"), _decimal(y, f"{field}[1]")


def _json_g2(data: object, field: str) -> tuple[tuple[int, int], tuple[int, int]]:
    x, y, z = _list(data, field, 3)
    if z != ["1", "0"]:
        raise ProofFormatError(f"{field}[2]", 'must be ["1", "0"] (affine point, z = 1; '
                               "projective coordinates and the point at infinity are not "
                               "accepted)", value=_short(z))
    xs, ys = _list(x, f"{field}[0]", 2), _list(y, f"{field}[1]", 2)
    return ((_decimal(xs[0], f"{field}[0][0]"), _decimal(xs[1], f"{field}[0][1]")),
            (_decimal(ys[0], f"{field}[1][0]"), _decimal(ys[1], f"{field}[1][1]")))


def _object(data: object, field: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProofFormatError(field, f"must be a JSON object, got {type(data).__name__}")
    return data


def _key(data: dict[str, Any], key: str, field: str) -> Any:
    if key not in data:
        raise ProofFormatError(f"{field}.{key}", "is missing")
    return data[key]


def _header(data: dict[str, Any], field: str, *, required: bool) -> None:
    for key, want in (("protocol", "groth16"), ("curve", "bn128")):
        if key in data or required:
            got = _key(data, key, field)
            if got != want:
                raise ProofFormatError(f"{field}.{key}", f"must be {want!r}", value=_short(got))


def _g1_json(p: G1Point) -> list[str]:
    return [str(p[0]), str(p[1]), "1"]


def _g2_json(p: G2Point) -> list[list[str]]:
    return [[str(p[0][0]), str(p[0][1])], [str(p[1][0]), str(p[1][1])], ["1", "0"]]


@dataclass(frozen=True)
class VerificationKey:
    """A checked Groth16 verification key over BN254 (``IC[0]`` first in ``ic``)."""

    alpha1: G1Point
    beta2: G2Point
    gamma2: G2Point
    delta2: G2Point
    ic: tuple[G1Point, ...]

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "alpha1", _g1(self.alpha1, "vk.vk_alpha_1"))
        set_(self, "beta2", _g2(self.beta2, "vk.vk_beta_2"))
        set_(self, "gamma2", _g2(self.gamma2, "vk.vk_gamma_2"))
        set_(self, "delta2", _g2(self.delta2, "vk.vk_delta_2"))
        if not isinstance(self.ic, tuple | list) or not self.ic:
            raise ProofFormatError("vk.IC", "must hold at least one point", value=_short(self.ic))
        set_(self, "ic", tuple(_g1(p, f"vk.IC[{i}]") for i, p in enumerate(self.ic)))

    @property
    def n_public(self) -> int:
        """Number of public inputs, ``len(IC) - 1``."""
        return len(self.ic) - 1

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VerificationKey:
        """Parse and check a snarkjs ``verification_key.json`` (``vk_alphabeta_12`` is
        derived data and is not read)."""
        d = _object(data, "vk")
        _header(d, "vk", required=True)
        ic_json = _key(d, "IC", "vk")
        if not isinstance(ic_json, list) or not ic_json:
            raise ProofFormatError("vk.IC", "must be a non-empty list of points",
                                   value=_short(ic_json))
        n_public = _int(_key(d, "nPublic", "vk"), "vk.nPublic")
        if n_public != len(ic_json) - 1:
            raise ProofFormatError("vk.nPublic", f"does not match len(IC) - 1 = "
                                   f"{len(ic_json) - 1}", value=n_public)
        return cls(
            alpha1=_json_g1(_key(d, "vk_alpha_1", "vk"), "vk.vk_alpha_1"),
            beta2=_json_g2(_key(d, "vk_beta_2", "vk"), "vk.vk_beta_2"),
            gamma2=_json_g2(_key(d, "vk_gamma_2", "vk"), "vk.vk_gamma_2"),
            delta2=_json_g2(_key(d, "vk_delta_2", "vk"), "vk.vk_delta_2"),
            ic=tuple(_json_g1(p, f"vk.IC[{i}]") for i, p in enumerate(ic_json)),
        )

    def to_json(self) -> dict[str, Any]:
        """snarkjs ``verification_key.json`` shape (without ``vk_alphabeta_12``)."""
        return {
            "protocol": "groth16",
            "curve": "bn128",
            "nPublic": self.n_public,
            "vk_alpha_1": _g1_json(self.alpha1),
            "vk_beta_2": _g2_json(self.beta2),
            "vk_gamma_2": _g2_json(self.gamma2),
            "vk_delta_2": _g2_json(self.delta2),
            "IC": [_g1_json(p) for p in self.ic],
        }


@dataclass(frozen=True)
class Proof:
    """A checked Groth16 proof ``(A, B, C)``; ``b`` holds ``(c0, c1)`` pairs."""

    a: G1Point
    b: G2Point
    c: G1Point

    def __post_init__(self) -> None:
        object.__setattr__(self, "a", _g1(self.a, "proof.pi_a"))
        object.__setattr__(self, "b", _g2(self.b, "proof.pi_b"))
        object.__setattr__(self, "c", _g1(self.c, "proof.pi_c"))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Proof:
        """Parse and check a snarkjs ``proof.json``."""
        d = _object(data, "proof")
        _header(d, "proof", required=False)
        return cls(a=_json_g1(_key(d, "pi_a", "proof"), "proof.pi_a"),
                   b=_json_g2(_key(d, "pi_b", "proof"), "proof.pi_b"),
                   c=_json_g1(_key(d, "pi_c", "proof"), "proof.pi_c"))

    def to_json(self) -> dict[str, Any]:
        """snarkjs ``proof.json`` shape."""
        return {"pi_a": _g1_json(self.a), "pi_b": _g2_json(self.b), "pi_c": _g1_json(self.c),
                "protocol": "groth16", "curve": "bn128"}


def check_public(public: Sequence[int], n_public: int | None = None) -> list[int]:
    """Public inputs as ints, each ``0 <= x < r``; exactly ``n_public`` of them if given."""
    if not isinstance(public, Sequence) or isinstance(public, str | bytes):
        raise ProofFormatError("public", "must be a list of integers", value=_short(public))
    if n_public is not None and len(public) != n_public:
        raise ProofFormatError("public", f"has {len(public)} values; the verification key "
                               f"takes nPublic = {n_public}")
    out = []
    for i, v in enumerate(public):
        x = _int(v, f"public[{i}]")
        if x < 0:
            raise ProofFormatError(f"public[{i}]", "is negative", value=x)
        if x >= R:
            raise ProofFormatError(f"public[{i}]", "is not below the scalar field modulus r",
                                   value=x)
        out.append(x)
    return out


def parse_public(data: list[Any], n_public: int) -> list[int]:
    """Parse and check a snarkjs ``public.json``: ``n_public`` decimal strings, each < r."""
    if not isinstance(data, list):
        raise ProofFormatError("public", f"must be a JSON list, got {type(data).__name__}")
    return check_public([_decimal(v, f"public[{i}]") for i, v in enumerate(data)], n_public)


#: ``verifyProof(uint[2] a, uint[2][2] b, uint[2] c, uint[N] input)`` arguments.
Calldata = tuple[tuple[int, int], tuple[tuple[int, int], tuple[int, int]], tuple[int, int],
                 tuple[int, ...]]


def to_calldata(proof: Proof, public: Sequence[int]) -> Calldata:
    """Arguments of the snarkjs Solidity verifier's ``verifyProof(a, b, c, input)``.

    ``b = [[x.c1, x.c0], [y.c1, y.c0]]``: the EVM (EIP-197) puts the imaginary part first.
    """
    (x0, x1), (y0, y1) = proof.b
    return proof.a, ((x1, x0), (y1, y0)), proof.c, tuple(check_public(public))


def from_calldata(a: Sequence[int], b: Sequence[Sequence[int]], c: Sequence[int],
                  inputs: Sequence[int]) -> tuple[Proof, list[int]]:
    """Inverse of :func:`to_calldata`: the checked proof and public inputs."""
    bx, by = _pair(b, "calldata.b")
    bx1, bx0 = _pair(bx, "calldata.b[0]")
    by1, by0 = _pair(by, "calldata.b[1]")
    proof = Proof(a=_pair(a, "calldata.a"),  # type: ignore[arg-type]  # checked in Proof
                  b=((bx0, bx1), (by0, by1)),  # type: ignore[arg-type]
                  c=_pair(c, "calldata.c"))  # type: ignore[arg-type]
    return proof, check_public(inputs)


def proof_to_evm_bytes(proof: Proof) -> bytes:
    """The 256-byte EVM encoding ``a | b | c`` (32-byte big-endian words in calldata order),
    the encoding groth16py reads; :func:`zkmargin.prover.backends.proof_from_evm` is its
    inverse."""
    a, b, c, _ = to_calldata(proof, ())
    words = (*a, *b[0], *b[1], *c)
    return b"".join(w.to_bytes(32, "big") for w in words)
