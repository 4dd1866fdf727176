"""``zkmargin audit``: verify an artifact directory, stopping at the first failure.

The audit is this list of checks, in this order; each is a function of the same name, and
the first failure raises :class:`AuditError` naming the file and the check. A batch
counts as good only after its proof verified.

1. ``manifest`` -- the manifest parses and every field is valid
   (:meth:`~zkmargin.statement.Manifest.from_json`);
2. ``sha256`` -- every listed file exists and matches its sha256; no unlisted public files;
3. ``verification_key`` -- the key the manifest names is listed and well formed, for one
   public signal;
4. ``params_hash`` -- the Poseidon hash of ``params.json`` for the circuit shape equals the
   manifest's (and so, below, every commitment's);
5. ``batch_indices`` -- the batch directories are exactly ``000000 .. B-1``;
6. per batch (:func:`check_batch`): ``batch_file`` (parses, its index and params hash),
   ``commitment`` (recomputed from ``batch.json`` equals ``public.json``), ``proof``
   (Groth16, EVM semantics);
7. ``accounts`` -- every batch but the last is full and the counts add up to the manifest's;
8. ``root`` -- the tree over the batch roots gives the manifest's root and depth, and
   ``tree/levels.json`` holds exactly that tree;
9. ``totals`` -- the sum of the batch totals is the manifest's totals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkmargin import artifacts
from zkmargin.artifacts import sha256_file
from zkmargin.errors import InputError, ZkMarginError
from zkmargin.params import RiskParams, load_params
from zkmargin.statement import (
    BatchRecord,
    Manifest,
    Totals,
    circuit_params,
    levels_json,
    params_hash,
    read_json,
    top_tree,
    tree_depth,
)
from zkmargin.verifier.encoding import Proof, ProofFormatError, VerificationKey, parse_public
from zkmargin.verifier.groth16 import verify


class AuditError(ZkMarginError):
    """The first failed check: which file and which check."""

    def __init__(self, file: str, check: str, reason: str) -> None:
        self.file = file
        self.check = check
        self.reason = reason
        super().__init__(f"{file}: check '{check}' failed: {reason}")


@dataclass(frozen=True)
class AuditReport:
    root: int
    params_hash: int
    batches: int
    totals: Totals
    symbols: tuple[str, ...]
    insecure_setup: bool

    def to_json(self) -> dict[str, Any]:
        return {"valid": True, "root": str(self.root), "params_hash": str(self.params_hash),
                "batches": self.batches, **self.totals.to_json(self.symbols),
                "insecure_setup": self.insecure_setup}

    def render(self, directory: str) -> str:
        lines = [
            f"zkmargin audit: {directory}: VALID",
            f"  all {self.batches:,} batch proofs verify, the batches cover the root exactly, "
            "and",
            "  their totals add up to the published totals.",
            "",
            f"  root        0x{self.root:064x}",
            f"  params hash 0x{self.params_hash:064x}",
            "",
            *self.totals.render(self.symbols),
        ]
        if self.insecure_setup:
            lines.append("\n  WARNING: these proofs use an INSECURE development setup (public "
                         "tau):\n  anyone could have forged them. They show consistency, not "
                         "solvency.")
        return "\n".join(lines)


def audit(root: Path, *, impl: str = "fast",
          progress: Callable[[int], None] | None = None) -> AuditReport:
    """Run every check of the module docstring; raises AuditError at the first failure."""
    man = check_manifest(root)
    check_sha256(root, man)
    vk = check_verification_key(root, man)
    params = check_params_hash(root, man)
    check_batch_indices(root, man)
    records = []
    for i in range(man.batches):
        records.append(check_batch(root, i, vk, man.params_hash, params.asset_symbols,
                                   impl=impl))
        if progress:
            progress(1)
    check_accounts(man, records)
    check_root(root, man, records)
    summed = check_totals(man, records, params.asset_symbols)
    return AuditReport(root=man.root, params_hash=man.params_hash, batches=man.batches,
                       totals=summed, symbols=params.asset_symbols,
                       insecure_setup=man.insecure_setup)


@contextmanager
def named(file: str, check: str) -> Iterator[None]:
    """Turn a located input error (a bad file or value) into the failure of ``check``."""
    try:
        yield
    except InputError as exc:
        raise AuditError(file, check, exc.detail) from None


def check_manifest(root: Path) -> Manifest:
    """1. The manifest parses and every field is valid."""
    with named(artifacts.MANIFEST, "manifest"):
        return Manifest.read(root / artifacts.MANIFEST, file=artifacts.MANIFEST)


def check_sha256(root: Path, man: Manifest) -> None:
    """2. Every listed file matches its sha256, and no public file is unlisted."""
    for rel, digest in sorted(man.files.items()):
        path = root / rel
        if not path.is_file():
            raise AuditError(rel, "sha256", "listed in the manifest but missing")
        actual = sha256_file(path)
        if actual != digest:
            raise AuditError(rel, "sha256", f"sha256 {actual} differs from the manifest's "
                                            f"{digest}")
    for path in artifacts.public_files(root):
        rel = path.relative_to(root).as_posix()
        if rel not in man.files:
            raise AuditError(rel, "sha256", "file is not listed in the manifest")


def check_verification_key(root: Path, man: Manifest) -> VerificationKey:
    """3. The manifest's key is a listed, well-formed key of one public signal."""
    rel = man.verification_key
    if rel not in man.files:
        raise AuditError(rel, "verification_key", "the manifest's key is not a listed file")
    with named(rel, "verification_key"):
        doc = read_json(root / rel, file=rel)
    try:
        vk = VerificationKey.from_json(doc)
    except ProofFormatError as exc:
        raise AuditError(rel, "verification_key", str(exc)) from None
    if vk.n_public != 1:
        raise AuditError(rel, "verification_key",
                         f"{vk.n_public} public signals; the batch circuit has exactly 1")
    return vk


def check_params_hash(root: Path, man: Manifest) -> RiskParams:
    """4. ``params.json`` hashes, for the manifest's shape, to the manifest's params hash."""
    try:
        params = load_params(root / artifacts.PARAMS)
    except ZkMarginError as exc:
        raise AuditError(artifacts.PARAMS, "params_hash", str(exc)) from None
    shape = man.shape
    if len(params.assets) != shape.assets or len(params.perps) != shape.perps:
        raise AuditError(artifacts.PARAMS, "params_hash",
                         f"{len(params.assets)} assets and {len(params.perps)} perps; the "
                         f"circuit has {shape.assets} and {shape.perps}")
    try:
        ph = params_hash(shape, circuit_params(params, shape.brackets))
    except ValueError as exc:
        raise AuditError(artifacts.PARAMS, "params_hash", str(exc)) from None
    if ph != man.params_hash:
        raise AuditError(artifacts.PARAMS, "params_hash",
                         f"Poseidon hash {ph} differs from the manifest's {man.params_hash}")
    return params


def check_batch_indices(root: Path, man: Manifest) -> None:
    """5. The batch directories are exactly 000000 .. B-1."""
    batches = root / artifacts.BATCHES_DIR
    names = sorted(p.name for p in batches.iterdir()) if batches.is_dir() else []
    expected = [f"{i:06d}" for i in range(man.batches)]
    if names != expected:
        extra = sorted(set(names) - set(expected))
        missing = sorted(set(expected) - set(names))
        raise AuditError(artifacts.BATCHES_DIR, "batch_indices",
                         f"expected batches 000000..{man.batches - 1:06d}; missing "
                         f"{missing[:5]}, unexpected {extra[:5]}")


def check_batch(root: Path, index: int, vk: VerificationKey, expected_params_hash: int,
                symbols: tuple[str, ...], *, impl: str = "fast") -> BatchRecord:
    """6. One batch: its ``batch.json`` (index, params hash), the commitment recomputed
    from it against ``public.json``, then the Groth16 proof.

    Returns the record only after the proof verified; raises AuditError otherwise.
    """
    rel = artifacts.batch_rel(index)
    with named(f"{rel}/batch.json", "batch_file"):
        rec = BatchRecord.from_json(read_json(root / rel / "batch.json", file=f"{rel}/batch.json"),
                                    symbols,
                                    file=f"{rel}/batch.json")
    if rec.index != index:
        raise AuditError(f"{rel}/batch.json", "batch_file",
                         f"index {rec.index} in the directory of batch {index}")
    if rec.params_hash != expected_params_hash:
        raise AuditError(f"{rel}/batch.json", "params_hash",
                         f"params hash {rec.params_hash} differs from params.json's "
                         f"{expected_params_hash}")
    commitment = rec.recomputed_commitment()
    if commitment != rec.commitment:
        raise AuditError(f"{rel}/batch.json", "commitment",
                         f"commitment {rec.commitment} is not the hash of the file's fields "
                         f"({commitment})")
    with named(f"{rel}/public.json", "commitment"):
        public_doc = read_json(root / rel / "public.json", file=f"{rel}/public.json")
    try:
        public = parse_public(public_doc, 1)
    except ProofFormatError as exc:
        raise AuditError(f"{rel}/public.json", "commitment", str(exc)) from None
    if public != [commitment]:
        raise AuditError(f"{rel}/public.json", "commitment",
                         f"public signal {public[0]} differs from batch.json's commitment "
                         f"{commitment}")
    with named(f"{rel}/proof.json", "proof"):
        proof_doc = read_json(root / rel / "proof.json", file=f"{rel}/proof.json")
    try:
        proof = Proof.from_json(proof_doc)
    except ProofFormatError as exc:
        raise AuditError(f"{rel}/proof.json", "proof", str(exc)) from None
    if not verify(vk, proof, public, impl=impl):
        raise AuditError(f"{rel}/proof.json", "proof",
                         "the Groth16 proof does not verify for this public signal")
    return rec


def check_accounts(man: Manifest, records: list[BatchRecord]) -> None:
    """7. Every batch but the last is full, and the counts add up to the manifest's."""
    k = man.shape.batch_size
    for rec in records:
        last = rec.index == man.batches - 1
        if not 1 <= rec.totals.accounts <= k or (not last and rec.totals.accounts != k):
            raise AuditError(f"{artifacts.batch_rel(rec.index)}/batch.json", "accounts",
                             f"{rec.totals.accounts} accounts; every batch but the last holds "
                             f"{k}, the last 1..{k}")
    total = sum(r.totals.accounts for r in records)
    if total != man.accounts:
        raise AuditError(artifacts.MANIFEST, "accounts",
                         f"batches hold {total} accounts, the manifest says {man.accounts}")


def check_root(root: Path, man: Manifest, records: list[BatchRecord]) -> None:
    """8. The tree over the batch roots gives the manifest's root and depth, and
    ``tree/levels.json`` is exactly that tree."""
    depth = tree_depth(man.shape, man.batches)
    if man.tree_depth != depth:
        raise AuditError(artifacts.MANIFEST, "root",
                         f"tree_depth {man.tree_depth}; {man.accounts} accounts in batches of "
                         f"{man.shape.batch_size} give {depth}")
    top = top_tree(man.shape, [r.root for r in records])
    if top.root != man.root:
        raise AuditError(artifacts.MANIFEST, "root",
                         f"the tree over the batch roots gives {top.root}, the manifest says "
                         f"{man.root}")
    with named(artifacts.TREE_LEVELS, "root"):
        stored = read_json(root / artifacts.TREE_LEVELS, file=artifacts.TREE_LEVELS)
    if stored != levels_json(man.shape, top):
        raise AuditError(artifacts.TREE_LEVELS, "root",
                         "the stored levels differ from the tree recomputed from the batches")


def check_totals(man: Manifest, records: list[BatchRecord], symbols: tuple[str, ...]) -> Totals:
    """9. The batch totals sum to the manifest's totals."""
    if man.symbols != symbols:
        raise AuditError(artifacts.MANIFEST, "totals",
                         f"the totals are for assets {list(man.symbols)}, params.json has "
                         f"{list(symbols)}")
    summed = Totals.sum((r.totals for r in records), len(symbols))
    if summed != man.totals:
        raise AuditError(artifacts.MANIFEST, "totals",
                         f"the batch totals sum to {summed.to_json(symbols)}, the manifest "
                         f"says {man.totals.to_json(symbols)}")
    return summed



