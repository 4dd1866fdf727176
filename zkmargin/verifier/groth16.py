"""Groth16 verification over BN254 with the EVM's semantics, in two implementations.

The check is the one of the snarkjs Solidity verifier (one ``ecPairing`` call)::

    e(-A, B) * e(alpha, beta) * e(vk_x, gamma) * e(C, delta) == 1,
    vk_x = IC[0] + sum(input[i] * IC[i + 1])

* ``reference`` -- py_ecc's pure Python BN254 (``optimized_bn128``): the four Miller
  loops are multiplied and ONE final exponentiation is done (about 0.5 s a proof);
* ``fast`` -- the native (arkworks) pairing of ``groth16py``, the optional ``native``
  extra (about 1.3 ms a proof; the input checks before it take 1.7 ms more).

Both run the same strict input checks first (:mod:`zkmargin.verifier.encoding`: canonical
coordinates, points on their curves, G2 in its subgroup, public inputs below r), so they
accept and refuse exactly the same inputs: malformed input raises
:class:`ProofFormatError`, a well-formed proof that fails the pairing check gives False.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from zkmargin.errors import ZkMarginError
from zkmargin.verifier.curve import G1Point, G2Point, Q
from zkmargin.verifier.encoding import (
    Proof,
    ProofFormatError,
    VerificationKey,
    check_public,
    parse_public,
    proof_to_evm_bytes,
)

if TYPE_CHECKING:
    import groth16py

__all__ = [
    "BATCH_RHO_BITS",
    "VERIFIERS",
    "FastVerifier",
    "Groth16Verifier",
    "Proof",
    "ProofFormatError",
    "ReferenceVerifier",
    "VerificationKey",
    "get_verifier",
    "parse_public",
    "verify",
    "verify_batch",
    "verify_files",
]

VERIFIERS = ("reference", "fast")
#: Bits of the random coefficients of a batch check: a batch holding a proof that fails
#: passes with probability at most 2^-128.
BATCH_RHO_BITS = 128

Statement = tuple[Proof, Sequence[int]]


class Groth16Verifier(Protocol):
    name: str

    def verify(self, vk: VerificationKey, proof: Proof, public: Sequence[int]) -> bool:
        """The pairing check for one proof; public inputs checked against ``vk`` first."""
        ...

    def verify_batch(self, vk: VerificationKey, items: Sequence[Statement]) -> bool:
        """True when every proof verifies (for the reference: with probability
        ``1 - 2^-128`` for a random linear combination)."""
        ...


def _checked_batch(vk: VerificationKey, items: Sequence[Statement]) -> list[tuple[Proof,
                                                                                  list[int]]]:
    if not items:
        raise ZkMarginError("verify_batch needs at least one (proof, public) pair")
    out = []
    for i, (proof, public) in enumerate(items):
        if not isinstance(proof, Proof):
            raise ZkMarginError(f"batch item {i}: expected a Proof, got {type(proof).__name__}")
        try:
            out.append((proof, check_public(public, vk.n_public)))
        except ProofFormatError as exc:
            raise ProofFormatError(f"batch[{i}].{exc.field}", exc.reason,
                                   value=exc.value) from None
    return out


class ReferenceVerifier:
    """py_ecc, pure Python: readable, slow; the Miller loops of one check share one final
    exponentiation."""

    name = "reference"

    def __init__(self) -> None:
        from py_ecc import optimized_bn128 as bn

        self._bn = bn

    def _g1(self, p: G1Point) -> Any:
        bn = self._bn
        return bn.FQ(p[0]), bn.FQ(p[1]), bn.FQ.one()

    def _g2(self, p: G2Point) -> Any:
        bn = self._bn
        return bn.FQ2(list(p[0])), bn.FQ2(list(p[1])), bn.FQ2.one()

    def _vk_x(self, vk: VerificationKey, public: Sequence[int]) -> Any:
        """``IC[0] + sum(public[i] * IC[i + 1])`` (projective; may be infinity)."""
        bn = self._bn
        acc = self._g1(vk.ic[0])
        for x, ic in zip(public, vk.ic[1:], strict=True):
            acc = bn.add(acc, bn.multiply(self._g1(ic), x))
        return acc

    def _product_is_one(self, pairs: Sequence[tuple[Any, Any]]) -> bool:
        """``prod e(P_i, Q_i) == 1`` for (G1, G2) pairs: Miller loops, one final exponent."""
        bn = self._bn
        f = bn.FQ12.one()
        for p, q in pairs:
            f = f * bn.pairing(q, p, final_exponentiate=False)
        return bool(bn.final_exponentiate(f) == bn.FQ12.one())

    def verify(self, vk: VerificationKey, proof: Proof, public: Sequence[int]) -> bool:
        inputs = check_public(public, vk.n_public)
        neg_a = (proof.a[0], (Q - proof.a[1]) % Q)
        return self._product_is_one([
            (self._g1(neg_a), self._g2(proof.b)),
            (self._g1(vk.alpha1), self._g2(vk.beta2)),
            (self._vk_x(vk, inputs), self._g2(vk.gamma2)),
            (self._g1(proof.c), self._g2(vk.delta2)),
        ])

    def verify_batch(self, vk: VerificationKey, items: Sequence[Statement]) -> bool:
        """One check for n proofs with random ``rho_i`` (``rho_0 = 1``)::

            prod e(-rho_i A_i, B_i) * e(sum rho_i * alpha, beta)
              * e(sum rho_i vk_x_i, gamma) * e(sum rho_i C_i, delta) == 1

        n + 3 Miller loops and one final exponentiation instead of 4n and n.
        """
        bn = self._bn
        checked = _checked_batch(vk, items)
        rhos = [1] + [secrets.randbits(BATCH_RHO_BITS) | 1 for _ in checked[1:]]
        pairs: list[tuple[Any, Any]] = []
        vk_x_sum, c_sum = bn.Z1, bn.Z1
        for rho, (proof, public) in zip(rhos, checked, strict=True):
            pairs.append((bn.neg(bn.multiply(self._g1(proof.a), rho)), self._g2(proof.b)))
            vk_x_sum = bn.add(vk_x_sum, bn.multiply(self._vk_x(vk, public), rho))
            c_sum = bn.add(c_sum, bn.multiply(self._g1(proof.c), rho))
        pairs.append((bn.multiply(self._g1(vk.alpha1), sum(rhos)), self._g2(vk.beta2)))
        pairs.append((vk_x_sum, self._g2(vk.gamma2)))
        pairs.append((c_sum, self._g2(vk.delta2)))
        return self._product_is_one(pairs)


class FastVerifier:
    """groth16py's native pairing (arkworks), on the 256-byte EVM proof encoding; the
    prepared verifier is kept per key."""

    name = "fast"

    def __init__(self) -> None:
        try:
            import groth16py
        except ImportError:
            raise ZkMarginError(
                "the fast verifier needs the optional groth16py package (GPL-3.0): "
                "pip install 'zkmargin[native]', or use the reference verifier"
            ) from None
        self._g = groth16py
        self._verifiers: dict[VerificationKey, groth16py.Verifier] = {}

    def _verifier(self, vk: VerificationKey) -> groth16py.Verifier:
        v = self._verifiers.get(vk)
        if v is None:
            if len(self._verifiers) >= 16:
                self._verifiers.clear()
            key = self._g.VerifyingKey.from_snarkjs(json.dumps(vk.to_json()))
            v = self._verifiers[vk] = self._g.Verifier(key)
        return v

    def verify(self, vk: VerificationKey, proof: Proof, public: Sequence[int]) -> bool:
        inputs = check_public(public, vk.n_public)
        try:
            return bool(self._verifier(vk).verify(proof_to_evm_bytes(proof), inputs))
        except (self._g.EncodingError, self._g.VerificationError) as exc:
            # Unreachable when the checks above are complete: a disagreement is a bug.
            raise ZkMarginError(f"groth16py refused an input that passed zkmargin's format "
                                f"checks: {exc}") from None

    def verify_batch(self, vk: VerificationKey, items: Sequence[Statement]) -> bool:
        """One native check per proof (groth16py exposes no Miller loop; a native check
        costs milliseconds), after every input of the batch is checked."""
        checked = _checked_batch(vk, items)
        return all([self.verify(vk, proof, public) for proof, public in checked])


_INSTANCES: dict[str, Groth16Verifier] = {}


def get_verifier(name: str) -> Groth16Verifier:
    """The verifier called ``name`` (``reference`` or ``fast``), one instance per process."""
    if name not in VERIFIERS:
        raise ZkMarginError(f"unknown verifier {name!r}; choose one of {', '.join(VERIFIERS)}")
    if name not in _INSTANCES:
        _INSTANCES[name] = ReferenceVerifier() if name == "reference" else FastVerifier()
    return _INSTANCES[name]


def verify(vk: VerificationKey, proof: Proof, public: Sequence[int], impl: str = "fast") -> bool:
    """The EVM's Groth16 check: False for a well-formed proof that fails it;
    :class:`ProofFormatError` for a public input that is not canonical or a wrong count."""
    return get_verifier(impl).verify(vk, proof, public)


def verify_batch(vk: VerificationKey, items: Sequence[Statement], impl: str = "fast") -> bool:
    """True when every ``(proof, public)`` of ``items`` verifies under ``vk``."""
    return get_verifier(impl).verify_batch(vk, items)


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ZkMarginError(f"{path}: cannot read: {reason}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProofFormatError("", f"not valid JSON: {exc.msg} at line {exc.lineno} column "
                               f"{exc.colno}", file=str(path)) from None


def verify_files(vk_path: str | Path, proof_path: str | Path, public_path: str | Path,
                 impl: str = "fast") -> bool:
    """:func:`verify` on snarkjs ``verification_key.json``, ``proof.json``, ``public.json``.

    Errors name the file: :class:`ZkMarginError` for an unreadable file,
    :class:`ProofFormatError` for invalid JSON or a malformed value.
    """
    paths = Path(vk_path), Path(proof_path), Path(public_path)
    docs = [_read_json(p) for p in paths]
    try:
        vk = VerificationKey.from_json(docs[0])
    except ProofFormatError as exc:
        raise exc.in_file(str(paths[0])) from None
    try:
        proof = Proof.from_json(docs[1])
    except ProofFormatError as exc:
        raise exc.in_file(str(paths[1])) from None
    try:
        public = parse_public(docs[2], vk.n_public)
    except ProofFormatError as exc:
        raise exc.in_file(str(paths[2])) from None
    return verify(vk, proof, public, impl)
