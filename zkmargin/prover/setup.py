"""Groth16 keys for a compiled batch circuit, and the multi-party phase-2 ceremony.

Three ways to a key, each recorded in the manifest's ``setup`` (a claim the auditor
recomputes from the published zkey, never believes):

* **development** (:func:`dev_keys`): the development powers of tau (tau, alpha and beta
  are derived from the public :data:`~zkmargin.devsetup.DEV_SEED`) and a phase 2 closed by
  the public :data:`~zkmargin.devsetup.DEV_BEACON`. Anyone can forge proofs under it; it
  is INSECURE and every message says so. It is deterministic and cached.
* **single-party** (:func:`ptau_keys`): a public ceremony's prepared ptau, then phase 2
  with one contribution of fresh OS randomness by the exchange. The exchange could keep
  that randomness: nobody else has reason to trust this key.
* **ceremony** (:func:`ceremony_keys`): the final zkey of a multi-party phase 2 run with
  :func:`init`, :func:`contribute` (each independent party, on its own machine, with only
  the current zkey; it records the contribution hash) and :func:`beacon` (a public random
  value closes it); :func:`verify_zkey` checks the whole chain against the r1cs and the
  ptau. One honest contributor is enough for nobody to know the trapdoor delta.

Every ptau is checked (BN254, power, prepared) and the development ptau is refused for
the last two. Keys are cached under ``CACHE/setup/<circuit>/`` and written atomically.
"""

from __future__ import annotations

import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from zkmargin.artifacts import sha256_file
from zkmargin.atomic import atomic_directory
from zkmargin.devsetup import DEV_BEACON, dev_ptau_reason
from zkmargin.errors import ZkMarginError
from zkmargin.paths import CACHE
from zkmargin.prover.ptau import check_ptau, dev_ptau
from zkmargin.prover.toolchain import CompiledCircuit, ToolchainError, run, snarkjs_command
from zkmargin.verifier.zkey import Contribution, read_zkey

SETUP_TIMEOUT = 7200
INSECURE_VK_NAME = "verification_key.INSECURE-dev-setup.json"
SECURE_VK_NAME = "verification_key.json"
ZKEY_NAME = "circuit.zkey"
KINDS = ("development", "single-party", "ceremony")


class SetupError(ZkMarginError):
    """A ptau or zkey that cannot give a trustworthy key for this circuit."""


@dataclass(frozen=True)
class PtauId:
    """Which powers of tau a key was set up from."""

    name: str
    sha256: str
    power: int


@dataclass(frozen=True)
class Keys:
    """A proving key (snarkjs zkey) and its verification key for one circuit."""

    zkey: Path
    vkey: Path
    kind: str  # one of KINDS
    ptau: PtauId
    contributions: tuple[Contribution, ...]

    @property
    def insecure(self) -> bool:
        return self.kind == "development"

    @property
    def vk_name(self) -> str:
        """File name of the verification key in the artifacts (says INSECURE if it is)."""
        return INSECURE_VK_NAME if self.insecure else SECURE_VK_NAME

    @property
    def zkey_name(self) -> str:
        """File name of the proving key in the artifacts."""
        return "circuit.INSECURE-dev-setup.zkey" if self.insecure else ZKEY_NAME


def _ptau_id(ptau: Path, power: int) -> PtauId:
    return PtauId(ptau.name, sha256_file(ptau), power)


def _refuse_dev_ptau(ptau: Path) -> None:
    reason = dev_ptau_reason(ptau)
    if reason is not None:
        raise SetupError(f"{ptau}: this is the INSECURE development powers of tau ({reason}); "
                         "anyone can forge proofs under keys made from it. Use a public "
                         "ceremony's ptau file.")


def _keys(target: Path, kind: str, ptau: PtauId) -> Keys:
    zkey = target / ZKEY_NAME
    return Keys(zkey, target / "vkey.json", kind, ptau, read_zkey(zkey).contributions)


def _export_vk(zkey: Path, out: Path) -> None:
    run("zkey export verificationkey",
        snarkjs_command("zkey", "export", "verificationkey", str(zkey), str(out)),
        timeout=SETUP_TIMEOUT)


def _phase2(circuit: CompiledCircuit, ptau: Path, target: Path, *, dev: bool) -> None:
    """zkey new + one contribution (dev: the public beacon) + verification key export."""
    with atomic_directory(target) as work:
        z0, z1 = work / "phase2-0.zkey", work / ZKEY_NAME
        init(circuit, ptau, z0, allow_dev=dev)
        if dev:
            beacon(z0, z1, DEV_BEACON, 10, "zkmargin INSECURE dev beacon")
        else:
            contribute(z0, z1, "zkmargin operator (single-party setup)")
        z0.unlink()
        _export_vk(z1, work / "vkey.json")


def dev_keys(circuit: CompiledCircuit) -> Keys:
    """The INSECURE development keys of ``circuit`` (generated once, then cached)."""
    ptau = dev_ptau(circuit.ptau_power)
    target = CACHE / "setup" / circuit.directory.name / "INSECURE-dev"
    if not (target / "vkey.json").exists():
        _phase2(circuit, ptau, target, dev=True)
    return _keys(target, "development", _ptau_id(ptau, circuit.ptau_power))


def ptau_keys(circuit: CompiledCircuit, ptau: Path) -> Keys:
    """Single-party keys: phase 2 over a ceremony's prepared ptau with one contribution
    of the exchange (cached per ptau file)."""
    power = check_ptau(ptau, circuit.ptau_power)
    _refuse_dev_ptau(ptau)
    ptau_id = _ptau_id(ptau, power)
    target = CACHE / "setup" / circuit.directory.name / f"ptau-{ptau_id.sha256[:16]}"
    if not (target / "vkey.json").exists():
        _phase2(circuit, ptau, target, dev=False)
    return _keys(target, "single-party", ptau_id)


def ceremony_keys(circuit: CompiledCircuit, zkey: Path, ptau: Path) -> Keys:
    """The final zkey of a multi-party ceremony, verified against this circuit's r1cs and
    ``ptau`` (once: the verified copy and its verification key are cached)."""
    power = check_ptau(ptau, circuit.ptau_power)
    _refuse_dev_ptau(ptau)
    ptau_id = _ptau_id(ptau, power)
    digest = sha256_file(zkey)
    target = CACHE / "setup" / circuit.directory.name / f"zkey-{digest[:16]}-{ptau_id.sha256[:8]}"
    if not (target / "vkey.json").exists():
        with atomic_directory(target) as work:
            shutil.copyfile(zkey, work / ZKEY_NAME)
            verify_zkey(circuit.r1cs, ptau, work / ZKEY_NAME)
            _export_vk(work / ZKEY_NAME, work / "vkey.json")
    return _keys(target, "ceremony", ptau_id)


# --------------------------------------------------------------------------------------
# The ceremony's steps (``zkmargin ceremony``)


def init(circuit: CompiledCircuit, ptau: Path, out: Path, *, allow_dev: bool = False) -> None:
    """The exchange's first step: the initial zkey of ``circuit`` over ``ptau`` (no
    contribution yet: its delta is 1, so it must not be used to prove)."""
    check_ptau(ptau, circuit.ptau_power)
    if not allow_dev:
        _refuse_dev_ptau(ptau)
    out.parent.mkdir(parents=True, exist_ok=True)
    run("groth16 setup", snarkjs_command("groth16", "setup", str(circuit.r1cs), str(ptau),
                                         str(out)), timeout=SETUP_TIMEOUT)


_HASH_LINE = re.compile(r"Contribution Hash:\s*((?:\s*[0-9a-f]{8}){16})")


def _contributed(what: str, cmd: list[str], out: Path) -> Contribution:
    """Run a contribution command; return the new contribution, whose hash snarkjs printed
    and which is recomputed from ``out`` (the two must agree)."""
    stdout = run(what, cmd, timeout=SETUP_TIMEOUT)
    printed = _HASH_LINE.search(stdout)
    last = read_zkey(out).contributions[-1]
    if printed is None or "".join(printed.group(1).split()) != last.hash:
        raise ToolchainError(what, cmd, f"the contribution hash in {out} ({last.hash}) is "
                                        f"not the one snarkjs printed:\n{stdout[-2000:]}")
    return last


def contribute(zkey_in: Path, zkey_out: Path, name: str,
               entropy: str | None = None) -> Contribution:
    """One party's contribution: ``zkey_in`` -> ``zkey_out`` with 32 bytes of fresh OS
    randomness (never stored) unless ``entropy`` is given. Returns the contribution; its
    hash is what the party records and publishes."""
    if not 1 <= len(name.encode()) <= 64:
        raise SetupError(f"a contribution name has 1 to 64 bytes, got {name!r}")
    return _contributed("zkey contribute", snarkjs_command(
        "zkey", "contribute", str(zkey_in), str(zkey_out), f"-n={name}",
        f"-e={entropy if entropy is not None else secrets.token_hex(32)}"), zkey_out)


def beacon(zkey_in: Path, zkey_out: Path, beacon_hex: str, iterations: int,
           name: str) -> Contribution:
    """Close the ceremony with a public random beacon (e.g. a future block hash, hex):
    derived deterministically, so anyone can check it and nobody chose it in advance."""
    if not re.fullmatch(r"(?:[0-9a-fA-F]{2}){1,128}", beacon_hex):
        raise SetupError(f"the beacon is hex bytes (e.g. a block hash), got {beacon_hex!r}")
    if not 1 <= iterations <= 63:
        raise SetupError(f"beacon iterations (2^n hashes) must be in 1..63, got {iterations}")
    return _contributed("zkey beacon", snarkjs_command(
        "zkey", "beacon", str(zkey_in), str(zkey_out), beacon_hex, str(iterations),
        f"-n={name}"), zkey_out)


def verify_zkey(r1cs: Path, ptau: Path, zkey: Path) -> tuple[Contribution, ...]:
    """``snarkjs zkey verify``: ``zkey`` is the key of ``r1cs`` set up from ``ptau`` by the
    chain of contributions it records. Returns that chain; raises SetupError if not."""
    cmd = snarkjs_command("zkey", "verify", str(r1cs), str(ptau), str(zkey))
    try:
        out = run("zkey verify", cmd, timeout=SETUP_TIMEOUT)
    except ToolchainError as exc:
        raise SetupError(f"{zkey} is not the key of {r1cs.name} set up from {ptau.name}: "
                         f"{exc.stderr.strip()[-1500:]}") from None
    if "ZKey Ok!" not in out:
        raise SetupError(f"{zkey} is not the key of {r1cs.name} set up from {ptau.name}: "
                         f"{out.strip()[-1500:]}")
    return read_zkey(zkey).contributions
