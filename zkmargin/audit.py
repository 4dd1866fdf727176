"""``zkmargin audit``: verify an artifact directory, stopping at the first failure.

In order (each step names the file and the check when it fails; a batch counts as good only
after its proof verified):

1. ``manifest`` -- the manifest parses and has the expected format;
2. ``sha256`` -- every listed file exists and matches its sha256; no unlisted public files;
3. ``verification_key`` -- the key the manifest names is listed and well formed;
4. ``params_hash`` -- the Poseidon hash of ``params.json`` for the circuit shape equals the
   manifest's (and so, below, every commitment's);
5. ``batch_indices`` -- the batch directories are exactly ``000000 .. B-1``;
6. per batch: ``batch_file`` (parses, its index and params hash), ``commitment`` (recomputed
   from ``batch.json`` equals ``public.json``), ``proof`` (Groth16, EVM semantics);
7. ``accounts`` -- every batch but the last is full and the counts add up to the manifest's;
8. ``root`` -- the tree over the batch roots gives the manifest's root (and tree/levels.json);
9. ``totals`` -- the sum of the batch totals is the manifest's totals.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkmargin import artifacts
from zkmargin.artifacts import BatchRecord, batch_commitment, sha256_file
from zkmargin.circuit_inputs import BatchTotals, CircuitShape, circuit_params, params_hash
from zkmargin.commitments import padding_leaf
from zkmargin.errors import ZkMarginError
from zkmargin.merkle import MerkleTree, depth_for, zero_hashes
from zkmargin.params import RiskParams, load_params
from zkmargin.verifier import Proof, ProofFormatError, VerificationKey, parse_public, verify


class AuditError(ZkMarginError):
    """The first failed check: which file and which check."""

    def __init__(self, file: str, check: str, reason: str) -> None:
        self.file = file
        self.check = check
        self.reason = reason
        super().__init__(f"{file}: check '{check}' failed: {reason}")


@dataclass
class AuditReport:
    root: int
    params_hash: int
    batches: int
    totals: BatchTotals
    symbols: tuple[str, ...]
    insecure_setup: bool

    def to_json(self) -> dict[str, Any]:
        body = artifacts.totals_json(self.totals, self.symbols)
        return {"valid": True, "root": str(self.root), "params_hash": str(self.params_hash),
                "batches": self.batches, **body, "insecure_setup": self.insecure_setup}


def _read_json(root: Path, rel: str, check: str) -> Any:
    path = root / rel
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise AuditError(rel, check, "file is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AuditError(rel, check, f"not readable JSON: {exc}") from None


def _shape(manifest: dict[str, Any]) -> CircuitShape:
    c = manifest["circuit"]
    k = int(c["batch_size"])
    if k < 1 or k & (k - 1):
        raise AuditError(artifacts.MANIFEST, "manifest", f"batch_size {k} is not a power of 2")
    return CircuitShape(int(c["assets"]), int(c["perps"]), int(c["brackets"]), k.bit_length() - 1)


def audit(root: Path, *, impl: str = "fast",
          progress: Callable[[int], None] | None = None) -> AuditReport:
    """Run every check of the module docstring; raises AuditError at the first failure."""
    manifest = _read_json(root, artifacts.MANIFEST, "manifest")
    try:
        if manifest.get("format") != artifacts.FORMAT:
            raise AuditError(artifacts.MANIFEST, "manifest",
                             f"format {manifest.get('format')!r}, expected {artifacts.FORMAT!r}")
        files: dict[str, str] = dict(manifest["files"])
        shape = _shape(manifest)
        n_batches = int(manifest["batches"])
        n_accounts = int(manifest["accounts"])
        vk_rel = str(manifest["verification_key"])
        claimed_root = int(manifest["root"])
        claimed_ph = int(manifest["params_hash"])
        tree_depth = int(manifest["tree_depth"])
    except (KeyError, TypeError, ValueError) as exc:
        raise AuditError(artifacts.MANIFEST, "manifest", f"missing or invalid field: {exc}") \
            from None

    # 2. sha256 of every file, and nothing unlisted
    for rel, digest in sorted(files.items()):
        path = root / rel
        if not path.is_file():
            raise AuditError(rel, "sha256", "listed in the manifest but missing")
        actual = sha256_file(path)
        if actual != digest:
            raise AuditError(rel, "sha256", f"sha256 {actual} differs from the manifest's "
                                            f"{digest}")
    for path in artifacts.public_files(root):
        rel = path.relative_to(root).as_posix()
        if rel not in files:
            raise AuditError(rel, "sha256", "file is not listed in the manifest")

    # 3. verification key
    if vk_rel not in files:
        raise AuditError(vk_rel, "verification_key", "the manifest's key is not a listed file")
    try:
        vk = VerificationKey.from_json(_read_json(root, vk_rel, "verification_key"))
    except ProofFormatError as exc:
        raise AuditError(vk_rel, "verification_key", str(exc)) from None
    if vk.n_public != 1:
        raise AuditError(vk_rel, "verification_key",
                         f"{vk.n_public} public signals; the batch circuit has exactly 1")

    # 4. params hash
    try:
        params = load_params(root / artifacts.PARAMS)
    except ZkMarginError as exc:
        raise AuditError(artifacts.PARAMS, "params_hash", str(exc)) from None
    ph = _params_hash(params, shape)
    if ph != claimed_ph:
        raise AuditError(artifacts.PARAMS, "params_hash",
                         f"Poseidon hash {ph} differs from the manifest's {claimed_ph}")
    symbols = params.asset_symbols

    # 5. batch indices
    names = sorted(p.name for p in (root / artifacts.BATCHES_DIR).iterdir()) \
        if (root / artifacts.BATCHES_DIR).is_dir() else []
    expected = [f"{i:06d}" for i in range(n_batches)]
    if names != expected:
        extra = sorted(set(names) - set(expected))
        missing = sorted(set(expected) - set(names))
        raise AuditError(artifacts.BATCHES_DIR, "batch_indices",
                         f"expected batches 000000..{n_batches - 1:06d}; missing {missing[:5]}, "
                         f"unexpected {extra[:5]}")

    # 6. every batch: record, commitment, proof
    records: list[BatchRecord] = []
    for i in range(n_batches):
        records.append(check_batch(root, i, vk, ph, symbols, impl=impl))
        if progress:
            progress(1)

    # 7. account counts
    k = shape.batch_size
    for rec in records:
        last = rec.index == n_batches - 1
        if not 1 <= rec.totals.accounts <= k or (not last and rec.totals.accounts != k):
            raise AuditError(f"{artifacts.BATCHES_DIR}/{rec.index:06d}/batch.json", "accounts",
                             f"{rec.totals.accounts} accounts; every batch but the last holds "
                             f"{k}, the last 1..{k}")
    total_accounts = sum(r.totals.accounts for r in records)
    if total_accounts != n_accounts:
        raise AuditError(artifacts.MANIFEST, "accounts",
                         f"batches hold {total_accounts} accounts, the manifest says "
                         f"{n_accounts}")

    # 8. the root over the batch roots
    depth = max(shape.depth, depth_for(n_accounts))
    if tree_depth != depth:
        raise AuditError(artifacts.MANIFEST, "root",
                         f"tree_depth {tree_depth}; {n_accounts} accounts in batches of {k} "
                         f"give {depth}")
    pad = zero_hashes(shape.depth, padding_leaf(shape.assets, shape.perps))[shape.depth]
    top = MerkleTree.build([r.root for r in records], depth=depth - shape.depth, pad_leaf=pad)
    if top.root != claimed_root:
        raise AuditError(artifacts.MANIFEST, "root",
                         f"the tree over the batch roots gives {top.root}, the manifest says "
                         f"{claimed_root}")
    levels = _read_json(root, artifacts.TREE_LEVELS, "root")
    try:
        stored = [[int(v) for v in level] for level in levels["levels"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise AuditError(artifacts.TREE_LEVELS, "root", f"invalid levels: {exc}") from None
    if stored != top.levels or int(levels.get("root", -1)) != top.root:
        raise AuditError(artifacts.TREE_LEVELS, "root",
                         "the stored levels differ from the tree recomputed from the batches")

    # 9. totals
    summed = artifacts.sum_totals((r.totals for r in records), len(symbols))
    try:
        claimed = artifacts.totals_from_json(manifest["totals"], symbols)
    except (KeyError, TypeError, ValueError) as exc:
        raise AuditError(artifacts.MANIFEST, "totals", f"invalid totals: {exc}") from None
    if summed != claimed:
        raise AuditError(artifacts.MANIFEST, "totals",
                         f"the batch totals sum to {artifacts.totals_json(summed, symbols)}, "
                         f"the manifest says {manifest['totals']}")
    return AuditReport(root=top.root, params_hash=ph, batches=n_batches, totals=summed,
                       symbols=symbols, insecure_setup=bool(manifest.get("insecure_setup")))


def check_batch(root: Path, index: int, vk: VerificationKey, expected_params_hash: int,
                symbols: tuple[str, ...], *, impl: str = "fast") -> BatchRecord:
    """One batch of the artifacts in ``root``: its ``batch.json`` (index, params hash), the
    commitment recomputed from it against ``public.json``, then the Groth16 proof.

    Returns the record only after the proof verified; raises AuditError otherwise.
    """
    rel = f"{artifacts.BATCHES_DIR}/{index:06d}"
    data = _read_json(root, f"{rel}/batch.json", "batch_file")
    try:
        rec = BatchRecord.from_json(data, symbols)
    except (KeyError, TypeError, ValueError) as exc:
        raise AuditError(f"{rel}/batch.json", "batch_file",
                         f"missing or invalid field: {exc}") from None
    if rec.index != index:
        raise AuditError(f"{rel}/batch.json", "batch_file",
                         f"index {rec.index} in the directory of batch {index}")
    if rec.params_hash != expected_params_hash:
        raise AuditError(f"{rel}/batch.json", "params_hash",
                         f"params hash {rec.params_hash} differs from params.json's "
                         f"{expected_params_hash}")
    commitment = batch_commitment(index, rec.root, rec.params_hash, rec.totals)
    if commitment != rec.commitment:
        raise AuditError(f"{rel}/batch.json", "commitment",
                         f"commitment {rec.commitment} is not the hash of the file's fields "
                         f"({commitment})")
    try:
        public = parse_public(_read_json(root, f"{rel}/public.json", "commitment"), 1)
    except ProofFormatError as exc:
        raise AuditError(f"{rel}/public.json", "commitment", str(exc)) from None
    if public != [commitment]:
        raise AuditError(f"{rel}/public.json", "commitment",
                         f"public signal {public[0]} differs from batch.json's commitment "
                         f"{commitment}")
    try:
        proof = Proof.from_json(_read_json(root, f"{rel}/proof.json", "proof"))
    except ProofFormatError as exc:
        raise AuditError(f"{rel}/proof.json", "proof", str(exc)) from None
    if not verify(vk, proof, public, impl=impl):
        raise AuditError(f"{rel}/proof.json", "proof",
                         "the Groth16 proof does not verify for this public signal")
    return rec


def _params_hash(params: RiskParams, shape: CircuitShape) -> int:
    if len(params.assets) != shape.assets or len(params.perps) != shape.perps:
        raise AuditError(artifacts.PARAMS, "params_hash",
                         f"{len(params.assets)} assets and {len(params.perps)} perps; the "
                         f"circuit has {shape.assets} and {shape.perps}")
    try:
        cp = circuit_params(params, shape.brackets)
    except ValueError as exc:
        raise AuditError(artifacts.PARAMS, "params_hash", str(exc)) from None
    return params_hash(shape, cp)


def render_audit(report: AuditReport, directory: str) -> str:
    from zkmargin.report import amount, group_digits, usd

    t = report.totals
    lines = [
        f"zkmargin audit: {directory}: VALID",
        f"  all {report.batches:,} batch proofs verify, the batches cover the root exactly, and",
        "  their totals add up to the published totals.",
        "",
        f"  root        0x{report.root:064x}",
        f"  params hash 0x{report.params_hash:064x}",
        "",
        f"  {'accounts':<28}{group_digits(str(t.accounts)):>26}",
        f"  {'deficient accounts':<28}{group_digits(str(t.deficient)):>26}",
        f"  {'total shortfall (USD)':<28}{usd(t.shortfall):>26}",
        f"  {'total equity (USD)':<28}{usd(t.equity):>26}",
        f"  {'total requirement (USD)':<28}{usd(t.requirement):>26}",
        "",
        f"  {'asset':<10}{'liabilities (user balances)':>30}{'debts (user borrowing)':>30}",
    ]
    for a, sym in enumerate(report.symbols):
        lines.append(f"  {sym:<10}{amount(t.liabilities[a]):>30}{amount(t.debts[a]):>30}")
    if report.insecure_setup:
        lines.append("\n  WARNING: these proofs use an INSECURE development setup (public tau):\n"
                     "  anyone could have forged them. They show consistency, not solvency.")
    return "\n".join(lines)
