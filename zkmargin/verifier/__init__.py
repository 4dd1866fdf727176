"""Groth16 verification over BN254 with the EVM's semantics (issue "Verification").

* :mod:`zkmargin.verifier.encoding` -- strict parsing of snarkjs JSON (keys, proofs, public
  inputs) and the EVM calldata / 256-byte encodings; raises :class:`ProofFormatError`;
* :mod:`zkmargin.verifier.groth16` -- the pairing check, ``reference`` (py_ecc, pure
  Python) and ``fast`` (groth16py's native pairing) behind one interface;
* :mod:`zkmargin.verifier.curve` -- the BN254 curve, twist and subgroup checks.
"""

from __future__ import annotations

from zkmargin.verifier.encoding import (
    Calldata,
    Proof,
    ProofFormatError,
    VerificationKey,
    from_calldata,
    parse_public,
    proof_to_evm_bytes,
    to_calldata,
)
from zkmargin.verifier.groth16 import (
    VERIFIERS,
    Groth16Verifier,
    get_verifier,
    verify,
    verify_batch,
    verify_files,
)

__all__ = [
    "VERIFIERS",
    "Calldata",
    "Groth16Verifier",
    "Proof",
    "ProofFormatError",
    "VerificationKey",
    "from_calldata",
    "get_verifier",
    "parse_public",
    "proof_to_evm_bytes",
    "to_calldata",
    "verify",
    "verify_batch",
    "verify_files",
]
