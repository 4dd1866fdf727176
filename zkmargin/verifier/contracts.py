"""Solidity contracts for on-chain verification: ``zkmargin contracts export DIR --out OUT``.

Writes, from an artifact directory of ``zkmargin prove``:

* ``OUT/Groth16Verifier.sol``: the verifier of this verification key, rendered from the
  template ``verifier/contracts/Groth16Verifier.sol.in`` (constants in EVM order; beta, gamma and
  delta negated here so the contract never negates anything);
* ``OUT/SolvencyRegistry.sol``: the registry, copied as shipped;
* ``OUT/publish.json``: the arguments of ``publishEpoch`` (epoch, the verifier's address as
  the placeholder :data:`VERIFIER_PLACEHOLDER`, root, params hash, batchesRoot,
  batchCount), the runtime code both contracts compile to with the pinned solc and
  :func:`solc_settings` (sha256, with and without the trailing CBOR metadata) and, per
  batch, the arguments of ``submitBatch`` (proof in EVM order, commitment, sibling path to
  batchesRoot).

Deploying: compile ``OUT/Groth16Verifier.sol`` with solc :data:`SOLC_VERSION`, optimizer
on, 200 runs, the compiler's default EVM version, and deploy it; its ``eth_getCode``
without the metadata must have ``deploy.runtime.Groth16Verifier.sha256_without_metadata``
(with the metadata too, ``sha256``, when compiled from solc-js standard JSON under the
source name ``Groth16Verifier.sol`` as :func:`solc_compile` does). Then replace argument
``deploy.verifier_argument`` (1) of ``publishEpoch``, the placeholder, by that address.
``zkmargin audit --rpc`` (:mod:`zkmargin.verifier.onchain`) compiles the same way and
compares the code on chain with it.

``batchesRoot`` is a SHA-256 Merkle root over the batches' (index, commitment) pairs,
defined in SolvencyRegistry.sol and computed by :func:`batches_levels` here::

    leaf = sha256(uint256be(index) || uint256be(commitment))    # abi.encode(uint256, uint256)
    node = sha256(left || right)                                # abi.encode(bytes32, bytes32)

with the leaves padded by ``bytes32(0)`` to ``2^depth``, ``depth`` the least ``d`` with
``2^d >= batchCount``, and a path listing the siblings leaf level first (bit ``k`` of the
index set: the running node is the right child at level ``k``).

Every input is checked before anything is written (each output file is then written
atomically); a bad file is named in the error with the field and value.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from zkmargin.artifacts import MANIFEST, batch_rel, sha256_file
from zkmargin.atomic import write_text_atomic
from zkmargin.devsetup import is_dev_key
from zkmargin.errors import InputError, ZkMarginError
from zkmargin.paths import CONTRACTS, NODE_MODULES
from zkmargin.statement import BatchRecord, Manifest, read_json
from zkmargin.verifier.curve import G2Point, Q
from zkmargin.verifier.encoding import (
    Proof,
    ProofFormatError,
    VerificationKey,
    parse_public,
    to_calldata,
)

FORMAT = "zkmargin-contracts/1"
VERIFIER_TEMPLATE = "Groth16Verifier.sol.in"
VERIFIER_SOL = "Groth16Verifier.sol"
REGISTRY_SOL = "SolvencyRegistry.sol"
PUBLISH_JSON = "publish.json"
VERIFIER_CONTRACT = "Groth16Verifier"
REGISTRY_CONTRACT = "SolvencyRegistry"
UINT256_MAX = (1 << 256) - 1
#: publish.json's stand-in for the deployed verifier's address, argument 1 of publishEpoch.
VERIFIER_PLACEHOLDER = "<address of the deployed Groth16Verifier>"
VERIFIER_ARGUMENT = 1

#: The pinned compiler (package.json / package-lock.json pin the same solc-js).
SOLC_VERSION = "0.8.37"
#: The Node script that runs it (standard JSON in, standard JSON out).
SOLC_JS = CONTRACTS.parent / "js" / "solc.cjs"

_T = TypeVar("_T")


# --------------------------------------------------------------------------------------
# batchesRoot: the SHA-256 tree over (batch index, commitment), as SolvencyRegistry.sol.


def _word(v: int) -> bytes:
    return v.to_bytes(32, "big")


def batch_leaf(index: int, commitment: int) -> bytes:
    """``sha256(abi.encode(uint256 index, uint256 commitment))``."""
    return hashlib.sha256(_word(index) + _word(commitment)).digest()


def batches_depth(count: int) -> int:
    """The least ``d`` with ``2^d >= count`` (0 for one batch)."""
    if count < 1:
        raise ValueError(f"at least one batch is needed, got {count}")
    return (count - 1).bit_length()


def batches_levels(commitments: Sequence[int]) -> list[list[bytes]]:
    """Every level of the tree, ``levels[0]`` the ``2^depth`` padded leaves, last the root."""
    depth = batches_depth(len(commitments))
    level = [batch_leaf(i, c) for i, c in enumerate(commitments)]
    level += [bytes(32)] * ((1 << depth) - len(level))
    levels = [level]
    while len(level) > 1:
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
        levels.append(level)
    return levels


def batches_path(levels: Sequence[Sequence[bytes]], index: int) -> list[bytes]:
    """The siblings of leaf ``index``, leaf level first."""
    return [levels[k][(index >> k) ^ 1] for k in range(len(levels) - 1)]


def batches_root_from_path(index: int, commitment: int, path: Sequence[bytes]) -> bytes:
    """What ``SolvencyRegistry.batchesRootOf`` returns."""
    node = batch_leaf(index, commitment)
    for k, sibling in enumerate(path):
        pair = sibling + node if (index >> k) & 1 else node + sibling
        node = hashlib.sha256(pair).digest()
    return node


# --------------------------------------------------------------------------------------
# The pinned compiler: the exporter, the auditor and the tests compile the same way.


class SolcError(ZkMarginError):
    """The pinned solc-js is missing, is not the pinned version, or refused the sources."""


def solc_settings() -> dict[str, Any]:
    """The compiler settings: optimizer on, 200 runs, solc's default EVM version (no
    ``evmVersion`` key)."""
    return {"optimizer": {"enabled": True, "runs": 200}}


def solc_compile(sources: Mapping[str, str],
                 outputs: Sequence[str] = ("evm.deployedBytecode.object",)) -> dict[str, Any]:
    """Compile ``sources`` (source name -> Solidity text) with the pinned solc-js and
    :func:`solc_settings`; return solc's standard JSON output (its ``errors`` keep the
    warnings) with ``solcVersion`` added. Raises :class:`SolcError` for a missing or
    other compiler and for any error of severity ``error``."""
    node = shutil.which("node")
    if node is None:
        raise SolcError("node is not on PATH; Node 20 is required (run `make setup`)")
    package = NODE_MODULES / "solc"
    if not (package / "package.json").is_file():
        raise SolcError(f"{package} is missing: run `make setup` (npm ci) first")
    std_in = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": {**solc_settings(),
                     "outputSelection": {"*": {"*": list(outputs)}}},
    }
    cmd = [node, str(SOLC_JS), str(package)]
    try:
        proc = subprocess.run(cmd, input=json.dumps(std_in), capture_output=True, text=True,
                              timeout=600, check=False)
    except subprocess.TimeoutExpired:
        raise SolcError(f"solc-js timed out: {' '.join(cmd)}") from None
    except OSError as exc:
        raise SolcError(f"solc-js could not run: {' '.join(cmd)}: {exc}") from None
    if proc.returncode != 0:
        raise SolcError(f"solc-js failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
    try:
        out: dict[str, Any] = json.loads(proc.stdout)
    except ValueError:
        raise SolcError(f"solc-js printed no JSON: {proc.stdout[:200]!r}") from None
    version = str(out.get("solcVersion"))
    if not version.startswith(SOLC_VERSION + "+"):
        raise SolcError(f"{package} is solc {version}; zkmargin pins {SOLC_VERSION} "
                        "(run `make setup`)")
    errors = [e for e in out.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise SolcError("solc refused the sources:\n" + "\n".join(
            str(e.get("formattedMessage", e.get("message"))) for e in errors))
    return out


def runtime_code(out: Mapping[str, Any], source: str, contract: str) -> bytes:
    """The runtime (deployed) bytecode of ``contract`` in ``source`` of :func:`solc_compile`'s
    output."""
    try:
        code = out["contracts"][source][contract]["evm"]["deployedBytecode"]["object"]
        return bytes.fromhex(code)
    except (KeyError, TypeError, ValueError):
        raise SolcError(f"solc gave no runtime code for {source}:{contract}") from None


def strip_metadata(code: bytes) -> bytes:
    """``code`` without solc's trailing CBOR metadata: its last two bytes are the metadata's
    length (big-endian), the metadata precedes them. Raises ValueError when the length
    does not fit the code."""
    if len(code) < 2:
        raise ValueError(f"{len(code)} bytes of code: no metadata length")
    n = int.from_bytes(code[-2:], "big")
    if n + 2 > len(code):
        raise ValueError(f"metadata length {n} exceeds the {len(code)} bytes of code")
    return code[:len(code) - n - 2]


def compile_runtimes(verifier_sol: str, registry_sol: str) -> tuple[str, dict[str, bytes]]:
    """The solc version and the runtime code of Groth16Verifier.sol (this text) and of
    SolvencyRegistry.sol (this text), compiled together by :func:`solc_compile`."""
    version, verifier, registry = _compile_runtimes(verifier_sol, registry_sol)
    return version, {VERIFIER_CONTRACT: verifier, REGISTRY_CONTRACT: registry}


@functools.lru_cache(maxsize=4)
def _compile_runtimes(verifier_sol: str, registry_sol: str) -> tuple[str, bytes, bytes]:
    out = solc_compile({VERIFIER_SOL: verifier_sol, REGISTRY_SOL: registry_sol})
    return (str(out["solcVersion"]), runtime_code(out, VERIFIER_SOL, VERIFIER_CONTRACT),
            runtime_code(out, REGISTRY_SOL, REGISTRY_CONTRACT))


def runtime_digest(code: bytes) -> dict[str, Any]:
    """What publish.json records of one runtime code."""
    return {"sha256": hashlib.sha256(code).hexdigest(),
            "sha256_without_metadata": hashlib.sha256(strip_metadata(code)).hexdigest(),
            "bytes": len(code)}


# --------------------------------------------------------------------------------------
# Reading the artifacts, every value checked and located. Keys, proofs and public signals
# are parsed by zkmargin.verifier.encoding (the checks of the Python verifier and of the
# EVM precompiles); its ProofFormatError is raised here with the file name added.


def _load_json(path: Path, root: Path) -> Any:
    return read_json(path, file=_rel(path, root))


def _rel(path: Path, root: Path) -> str:
    try:
        return str(root.name / path.relative_to(root))
    except ValueError:
        return str(path)


def _parse(name: str, parse: Callable[[Any], _T], doc: Any) -> _T:
    """``parse(doc)``, a :class:`ProofFormatError` located in the file ``name``."""
    try:
        return parse(doc)
    except ProofFormatError as exc:
        raise exc.in_file(name) from None


def _check_sha(root: Path, manifest: Manifest, rel: str) -> None:
    """The file's sha256 must match the manifest's, when the manifest lists the file."""
    if rel not in manifest.files:
        return
    h = sha256_file(root / rel)
    if h != manifest.files[rel]:
        raise InputError(_rel(root / rel, root),
                         f"sha256 {h} does not match manifest.json ({manifest.files[rel]})")


def _load_vk(root: Path, manifest: Manifest) -> tuple[str, str, VerificationKey]:
    """The manifest's verification key: its path in the artifacts, its sha256, the key."""
    rel = manifest.verification_key
    path = root / rel
    doc = _load_json(path, root)
    _check_sha(root, manifest, rel)
    name = _rel(path, root)
    vk = _parse(name, VerificationKey.from_json, doc)
    if vk.n_public != 1:
        raise ProofFormatError("vk.nPublic", "expected 1 public signal (the batch commitment)",
                               value=vk.n_public, file=name)
    return rel, sha256_file(path), vk


def _neg_g2_evm(p: G2Point) -> tuple[int, int, int, int]:
    """``-P = (x, -y)`` in the EVM word order ``(x.c1, x.c0, y.c1, y.c0)``."""
    (x0, x1), (y0, y1) = p
    return x1, x0, (-y1) % Q, (-y0) % Q


def verifier_source(vk: VerificationKey, vk_file: str, vk_sha256: str) -> str:
    """Groth16Verifier.sol as ``zkmargin contracts export`` writes it for the key ``vk``
    (read from ``vk_file`` with that sha256): the setup note says INSECURE when the key is
    recognised as the development setup's."""
    note = ("INSECURE development setup: proofs under this key prove nothing to a third party."
            if is_dev_key(vk.alpha1, vk.beta2) else "Setup: see the artifacts' manifest.json.")
    return render_verifier(vk, vk_file, vk_sha256, note)


def registry_source() -> str:
    """SolvencyRegistry.sol as shipped."""
    return (CONTRACTS / REGISTRY_SOL).read_text(encoding="utf-8")


def render_verifier(vk: VerificationKey, vk_file: str, vk_sha256: str, setup_note: str) -> str:
    """Groth16Verifier.sol for the key ``vk`` (of one public signal), read from ``vk_file``
    with that sha256."""
    fields: dict[str, int | str] = {
        "VK_FILE": vk_file, "VK_SHA256": vk_sha256, "SETUP_NOTE": setup_note,
        "ALPHA_X": vk.alpha1[0], "ALPHA_Y": vk.alpha1[1],
        "IC0_X": vk.ic[0][0], "IC0_Y": vk.ic[0][1],
        "IC1_X": vk.ic[1][0], "IC1_Y": vk.ic[1][1],
    }
    for name, point in (("BETA", vk.beta2), ("GAMMA", vk.gamma2), ("DELTA", vk.delta2)):
        for part, w in zip(("X1", "X0", "Y1", "Y0"), _neg_g2_evm(point), strict=True):
            fields[f"NEG_{name}_{part}"] = w
    text = (CONTRACTS / VERIFIER_TEMPLATE).read_text(encoding="utf-8")
    for field, value in fields.items():
        text = text.replace("{{" + field + "}}", str(value))
    if "{{" in text:  # pragma: no cover - the template and the fields above go together
        raise AssertionError("unfilled field in " + VERIFIER_TEMPLATE)
    return text


def _load_batch(root: Path, manifest: Manifest, index: int) -> dict[str, Any]:
    """The proof (EVM order) and commitment of batch ``index``; public.json must agree
    with batch.json."""
    base = batch_rel(index)
    files = {k: f"{base}/{k}.json" for k in ("proof", "public", "batch")}
    docs = {k: _load_json(root / rel, root) for k, rel in files.items()}
    names = {k: _rel(root / rel, root) for k, rel in files.items()}
    for rel in files.values():
        _check_sha(root, manifest, rel)

    record = BatchRecord.from_json(docs["batch"], manifest.symbols, file=names["batch"])
    if record.index != index:
        raise InputError(names["batch"], f"expected index {index}", path="index",
                         value=record.index)
    commitment = record.commitment
    public = _parse(names["public"], lambda doc: parse_public(doc, 1), docs["public"])
    if public[0] != commitment:
        raise ProofFormatError("public[0]", f"public signal differs from {names['batch']} "
                               f"commitment {commitment}", value=docs["public"][0],
                               file=names["public"])
    proof = _parse(names["proof"], Proof.from_json, docs["proof"])
    a, b, c, _ = to_calldata(proof, public)
    return {"index": index, "commitment": commitment, "a": a, "b": b, "c": c}


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def export_contracts(artifacts_dir: Path, out_dir: Path, *, epoch: int = 1) -> dict[str, Any]:
    """Write OUT/Groth16Verifier.sol, OUT/SolvencyRegistry.sol and OUT/publish.json for the
    artifacts of ``zkmargin prove`` in ``artifacts_dir``; return the publish.json document.

    Raises :class:`~zkmargin.errors.InputError` naming the file for a missing, unreadable
    or invalid manifest or batch file, and :class:`~zkmargin.verifier.ProofFormatError`
    (its ``file`` set) for an invalid verification key, proof or public signal, with the
    field and the value; nothing is written then. Compiles both contracts with the pinned
    solc (:class:`SolcError` when it is missing) to record their runtime code's sha256.
    """
    root = Path(artifacts_dir)
    if not 0 <= epoch <= UINT256_MAX:
        raise InputError("--epoch", "must be a uint256", value=epoch)
    manifest = Manifest.read(root / MANIFEST, file=_rel(root / MANIFEST, root))
    count = manifest.batches
    ep_root, params_hash = manifest.root, manifest.params_hash

    vk_file, vk_sha256, vk = _load_vk(root, manifest)
    # recognised from the key itself, whatever the manifest says
    insecure = is_dev_key(vk.alpha1, vk.beta2)
    batches = [_load_batch(root, manifest, i) for i in range(count)]
    levels = batches_levels([b["commitment"] for b in batches])
    batches_root = levels[-1][0]

    verifier_sol = verifier_source(vk, vk_file, vk_sha256)
    registry_sol = registry_source()
    solc_version, runtimes = compile_runtimes(verifier_sol, registry_sol)

    publish_args = [str(epoch), VERIFIER_PLACEHOLDER, str(ep_root), str(params_hash),
                    _hex(batches_root), count]
    doc: dict[str, Any] = {
        "format": FORMAT,
        "insecure_setup": insecure,
        "verification_key": vk_file,
        "verification_key_sha256": vk_sha256,
        "contracts": {
            VERIFIER_SOL: hashlib.sha256(verifier_sol.encode()).hexdigest(),
            REGISTRY_SOL: hashlib.sha256(registry_sol.encode()).hexdigest(),
        },
        "deploy": {
            "solc": solc_version,
            "settings": {**solc_settings(), "evmVersion": "the compiler's default"},
            "runtime": {name: runtime_digest(code) for name, code in runtimes.items()},
            "verifier_argument": VERIFIER_ARGUMENT,
            "verifier_placeholder": VERIFIER_PLACEHOLDER,
            "how": (f"compile {VERIFIER_SOL} and {REGISTRY_SOL} with solc {SOLC_VERSION}, "
                    "these settings; deploy both; the runtime code on chain without its "
                    "trailing CBOR metadata must have runtime.*.sha256_without_metadata; "
                    f"replace publishEpoch[{VERIFIER_ARGUMENT}] by the verifier's address "
                    "and call publishEpoch from the registry's owner"),
        },
        "batches_tree": {
            "leaf": "sha256(abi.encode(uint256 batchIndex, uint256 commitment))",
            "node": "sha256(abi.encode(bytes32 left, bytes32 right))",
            "padding": "bytes32(0) leaves up to 2^depth",
            "path": "siblings leaf level first; bit k of batchIndex set: node is the right child",
            "depth": batches_depth(count),
        },
        "epoch": {
            "epoch": str(epoch),
            "root": str(ep_root),
            "params_hash": str(params_hash),
            "batches_root": _hex(batches_root),
            "batch_count": count,
        },
        "publishEpoch": publish_args,
        "batches": [
            {
                "index": b["index"],
                "commitment": str(b["commitment"]),
                "path": [_hex(s) for s in batches_path(levels, b["index"])],
                "proof": {
                    "a": [str(v) for v in b["a"]],
                    "b": [[str(v) for v in row] for row in b["b"]],
                    "c": [str(v) for v in b["c"]],
                },
            }
            for b in batches
        ],
    }
    for b in doc["batches"]:
        b["submitBatch"] = [str(epoch), b["index"], b["proof"]["a"], b["proof"]["b"],
                            b["proof"]["c"], b["commitment"], b["path"]]

    out = Path(out_dir)
    try:
        write_text_atomic(out / VERIFIER_SOL, verifier_sol)
        write_text_atomic(out / REGISTRY_SOL, registry_sol)
        write_text_atomic(out / PUBLISH_JSON, json.dumps(doc, indent=1) + "\n")
    except OSError as exc:
        raise InputError(str(out), f"cannot be written: {exc.strerror or exc}") from None
    return doc


