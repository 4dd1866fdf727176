"""Groth16 key setup for a compiled batch circuit: a development mode and a production mode.

* **Development** (``dev_keys``): the locally generated powers of tau of
  :mod:`zkmargin.prover.ptau` (tau, alpha and beta are public, derived from a fixed seed)
  and a phase 2 finished by a fixed public beacon. Anyone can forge proofs under this key.
  It is INSECURE and says so: in the cached file names, in ``Keys.insecure`` (the
  manifest's ``insecure_setup``), in the verification key file name written to the
  artifacts, and in every CLI message that uses it. It is deterministic, so every machine
  derives the same verification key for the same circuit.
* **Production** (``ptau_keys``): a prepared powers-of-tau file from a public ceremony,
  then the Groth16 phase 2 with snarkjs (``groth16 setup`` + one ``zkey contribute`` with
  32 bytes of fresh OS randomness that are never stored).

Keys are cached under ``.cache/setup/<circuit>/`` and reused; every file is written to a
temporary name and renamed, so a killed setup leaves nothing half-written behind.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from zkmargin.artifacts import sha256_file
from zkmargin.paths import CACHE
from zkmargin.prover.ptau import check_ptau, dev_ptau
from zkmargin.prover.toolchain import CompiledCircuit, _node, _tool, run

SETUP_TIMEOUT = 7200
#: Public beacon that closes the development phase 2 (deterministic on purpose).
DEV_BEACON = hashlib.sha256(b"zkmargin INSECURE development phase 2").hexdigest()
INSECURE_VK_NAME = "verification_key.INSECURE-dev-setup.json"
SECURE_VK_NAME = "verification_key.json"


@dataclass(frozen=True)
class Keys:
    """A proving key (snarkjs zkey) and its verification key for one circuit."""

    zkey: Path
    vkey: Path
    insecure: bool
    origin: str  # what the key was made from, for the manifest and messages

    @property
    def vk_name(self) -> str:
        """File name of the verification key in the artifacts (says INSECURE if it is)."""
        return INSECURE_VK_NAME if self.insecure else SECURE_VK_NAME


def _snarkjs(*args: str) -> list[str]:
    return [_node(), str(_tool("snarkjs", "build/cli.cjs")), *args]


def _finish(work: Path, target: Path) -> None:
    try:
        work.rename(target)
    except OSError:  # a concurrent setup won: use its keys
        shutil.rmtree(work, ignore_errors=True)


def _phase2(circuit: CompiledCircuit, ptau: Path, target: Path, *, dev: bool) -> None:
    """zkey new + one contribution (dev: the public beacon) + verification key export."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".setup-", dir=target.parent))
    try:
        z0, z1 = work / "phase2-0.zkey", work / "circuit.zkey"
        run("groth16 setup", _snarkjs("groth16", "setup", str(circuit.r1cs), str(ptau), str(z0)),
            timeout=SETUP_TIMEOUT)
        if dev:
            run("zkey beacon", _snarkjs("zkey", "beacon", str(z0), str(z1), DEV_BEACON, "10",
                                        "-n=zkmargin INSECURE dev beacon"), timeout=SETUP_TIMEOUT)
        else:
            run("zkey contribute",
                _snarkjs("zkey", "contribute", str(z0), str(z1), "-n=zkmargin operator",
                         f"-e={secrets.token_hex(32)}"), timeout=SETUP_TIMEOUT)
        z0.unlink()
        run("zkey export verificationkey",
            _snarkjs("zkey", "export", "verificationkey", str(z1), str(work / "vkey.json")),
            timeout=SETUP_TIMEOUT)
        (work / "origin.txt").write_text(
            ("INSECURE development setup (public tau) " if dev else "ptau ") + ptau.name + "\n")
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _finish(work, target)


def _keys(target: Path, insecure: bool) -> Keys:
    origin = (target / "origin.txt").read_text().strip()
    return Keys(target / "circuit.zkey", target / "vkey.json", insecure, origin)


def dev_keys(circuit: CompiledCircuit) -> Keys:
    """The INSECURE development keys of ``circuit`` (generated once, then cached)."""
    target = CACHE / "setup" / circuit.directory.name / "INSECURE-dev"
    if not (target / "vkey.json").exists():
        _phase2(circuit, dev_ptau(circuit.ptau_power), target, dev=True)
    return _keys(target, insecure=True)


def ptau_keys(circuit: CompiledCircuit, ptau: Path) -> Keys:
    """Production keys: phase 2 over a ceremony's prepared powers of tau (cached per file)."""
    check_ptau(ptau, circuit.ptau_power)
    target = CACHE / "setup" / circuit.directory.name / f"ptau-{sha256_file(ptau)[:16]}"
    if not (target / "vkey.json").exists():
        _phase2(circuit, ptau, target, dev=False)
    return _keys(target, insecure=False)
