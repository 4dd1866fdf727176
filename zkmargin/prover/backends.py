"""Groth16 proving backends behind one interface; every proof comes out in snarkjs JSON.

* ``snarkjs``: ``snarkjs groth16 prove`` as a subprocess, the reference.
* ``builtin``: zkmargin's own prover in C (:mod:`zkmargin.prover.builtin`), built with the
  package, one batch per core; the default.
* ``native``: the arkworks prover of ``groth16py`` (GPL-3.0, the optional ``native``
  extra) reading the same snarkjs zkey and witness file. Its proof comes back as the
  256-byte Ethereum encoding and is converted to snarkjs JSON here.

Both write ``proof.json`` and ``public.json`` that ``snarkjs groth16 verify`` accepts
against the circuit's ``verification_key.json`` (tested for each backend).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from zkmargin.errors import ZkMarginError
from zkmargin.prover.binfmt import read_wtns
from zkmargin.prover.builtin import ProvingKey, load_key, prove, read_witness
from zkmargin.prover.toolchain import run, snarkjs_command

PROVE_TIMEOUT = 3600
BACKENDS = ("builtin", "native", "snarkjs")
DEFAULT_BACKEND = "builtin"

Proof = dict[str, Any]


class Backend(Protocol):
    name: str

    def prove(self, zkey: Path, wtns: Path, n_public: int) -> tuple[Proof, list[str]]:
        """Prove the witness file ``wtns`` under ``zkey``: (proof JSON, public signals)."""
        ...


class SnarkjsBackend:
    name = "snarkjs"

    def prove(self, zkey: Path, wtns: Path, n_public: int) -> tuple[Proof, list[str]]:
        proof_path, public_path = wtns.with_suffix(".proof.json"), wtns.with_suffix(".public.json")
        try:
            run("snarkjs groth16 prove",
                snarkjs_command("groth16", "prove", str(zkey), str(wtns), str(proof_path),
                                str(public_path)), timeout=PROVE_TIMEOUT)
            proof: Proof = json.loads(proof_path.read_text())
            public: list[str] = json.loads(public_path.read_text())
        finally:
            proof_path.unlink(missing_ok=True)
            public_path.unlink(missing_ok=True)
        return proof, public


def proof_from_evm(blob: bytes) -> Proof:
    """snarkjs proof JSON from the 256-byte EVM encoding ``a | b | c``.

    EVM order: ``a = (x, y)``, ``b = ((x.c1, x.c0), (y.c1, y.c0))``, ``c = (x, y)``, each a
    32-byte big-endian word; snarkjs writes G2 coordinates as ``[c0, c1]`` and every point
    in projective form with ``z = 1``.
    """
    if len(blob) != 256:
        raise ZkMarginError(f"a Groth16 proof is 256 bytes in EVM encoding, got {len(blob)}")
    w = [int.from_bytes(blob[i : i + 32], "big") for i in range(0, 256, 32)]
    return snarkjs_proof(w[0], w[1], w[3], w[2], w[5], w[4], w[6], w[7])


def snarkjs_proof(ax: int, ay: int, bx0: int, bx1: int, by0: int, by1: int, cx: int,
                  cy: int) -> Proof:
    """A proof in snarkjs JSON from its affine coordinates (G2 as ``[c0, c1]``, every point
    projective with ``z = 1``)."""
    return {
        "pi_a": [str(ax), str(ay), "1"],
        "pi_b": [[str(bx0), str(bx1)], [str(by0), str(by1)], ["1", "0"]],
        "pi_c": [str(cx), str(cy), "1"],
        "protocol": "groth16",
        "curve": "bn128",
    }


def proof_from_le(blob: bytes) -> Proof:
    """snarkjs proof JSON from the builtin prover's 256 bytes: ``pi_a.x pi_a.y pi_b.x.c0
    pi_b.x.c1 pi_b.y.c0 pi_b.y.c1 pi_c.x pi_c.y``, each 32 bytes little-endian."""
    if len(blob) != 256:
        raise ZkMarginError(f"the builtin prover returned {len(blob)} bytes, not 256")
    w = [int.from_bytes(blob[i : i + 32], "little") for i in range(0, 256, 32)]
    return snarkjs_proof(*w)


class BuiltinBackend:
    """zkmargin's C prover; the key's sections are kept in memory per process and zkey."""

    name = "builtin"

    def __init__(self) -> None:
        self._keys: dict[tuple[Path, int, int], ProvingKey] = {}

    def _key(self, zkey: Path) -> ProvingKey:
        path = zkey.resolve()
        stat = path.stat()
        ident = (path, stat.st_mtime_ns, stat.st_size)  # a key replaced on disk is reread
        if ident not in self._keys:
            self._keys = {ident: load_key(path)}
        return self._keys[ident]

    def prove(self, zkey: Path, wtns: Path, n_public: int) -> tuple[Proof, list[str]]:
        key = self._key(zkey)
        if key.n_public != n_public:
            raise ZkMarginError(f"{zkey}: the key has {key.n_public} public signals, the "
                                f"batch circuit {n_public}")
        witness = read_witness(wtns)
        blob = prove(key, witness)
        public = [str(int.from_bytes(witness[32 * i : 32 * i + 32], "little"))
                  for i in range(1, 1 + n_public)]
        return proof_from_le(blob), public


class NativeBackend:
    """groth16py's arkworks prover; the imported key is kept per process and zkey."""

    name = "native"

    def __init__(self) -> None:
        if not native_available():
            raise ZkMarginError(
                "the native backend needs the optional groth16py package (GPL-3.0): "
                "pip install 'zkmargin[native]', or use --backend snarkjs"
            )
        self._keys: dict[Path, Any] = {}

    def _key(self, zkey: Path) -> Any:
        import groth16py

        key = zkey.resolve()
        if key not in self._keys:
            self._keys[key] = groth16py.import_zkey(str(key))[0]
        return self._keys[key]

    def prove(self, zkey: Path, wtns: Path, n_public: int) -> tuple[Proof, list[str]]:
        import groth16py

        pk = self._key(zkey)
        try:
            blob = groth16py.prove_wtns(pk, str(wtns))
        except Exception as exc:  # groth16py raises its own exception types
            raise ZkMarginError(f"native prover failed on {wtns}: {exc}") from None
        witness = read_wtns(wtns)
        return proof_from_evm(bytes(blob)), [str(v) for v in witness[1 : 1 + n_public]]


_INSTANCES: dict[str, Backend] = {}


def get_backend(name: str) -> Backend:
    """The backend called ``name`` (one instance per process)."""
    if name not in BACKENDS:
        raise ZkMarginError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name not in _INSTANCES:
        kinds: dict[str, type[Backend]] = {"snarkjs": SnarkjsBackend, "native": NativeBackend,
                                           "builtin": BuiltinBackend}
        _INSTANCES[name] = kinds[name]()
    return _INSTANCES[name]


def native_available() -> bool:
    try:
        import groth16py  # noqa: F401
    except ImportError:
        return False
    return True
