"""``zkmargin audit``: verify an artifact directory, stopping at the first failure.

The audit is this list of checks, in this order; each is a function of the same name, and
the first failure raises :class:`AuditError` naming the file and the check. A batch
counts as good only after its proof verified.

1. ``manifest`` -- the manifest parses and every field is valid
   (:meth:`~zkmargin.statement.Manifest.from_json`);
2. ``sha256`` -- every listed file exists and matches its sha256; no unlisted public files;
3. ``circuit`` -- the batch circuit of the manifest's shape, recompiled here by the pinned
   compiler from this checkout's sources (cached), has the r1cs whose sha256 the manifest
   names: the circuit is the published one, not one the exchange wrote;
4. ``verification_key`` -- the key is a listed, well-formed key of one public signal; the
   published proving key (zkey) has the recompiled r1cs's sizes and exactly its constraint
   coefficients (recomputed from the r1cs), and the verification key is the zkey's own;
5. ``setup`` -- the development setup is recognised by recomputing its public alpha and
   beta (whatever the manifest says); with ``ptau`` (the auditor's trusted phase-1 file),
   ``snarkjs zkey verify`` checks the zkey against the recompiled r1cs and that ptau, with
   every phase-2 contribution, and each ``expected`` contribution hash must be in the chain;
6. ``params_hash`` -- the Poseidon hash of ``params.json`` for the circuit shape equals the
   manifest's (and so, below, every commitment's);
7. ``batch_indices`` -- the batch directories are exactly ``000000 .. B-1``;
8. per batch (:func:`check_batch`): ``batch_file`` (parses, every value in range, its index
   and params hash), ``commitment`` (recomputed from ``batch.json`` equals
   ``public.json``), ``proof`` (Groth16, EVM semantics);
9. ``accounts`` -- every batch but the last is full and the counts add up to the manifest's;
10. ``root`` -- the tree over the batch roots gives the manifest's root and depth, and
    ``tree/levels.json`` holds exactly that tree;
11. ``totals`` -- the sum of the batch totals is the manifest's totals.

What a VALID audit establishes, and what it does not, is in docs/trust.md: without
``ptau`` the phase-1 identity and the contribution chain are not checked, and only
contributions the auditor names (``expected``) count as independent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkmargin import __version__, artifacts
from zkmargin.artifacts import sha256_file
from zkmargin.devsetup import is_dev_key
from zkmargin.errors import InputError, ZkMarginError
from zkmargin.params import RiskParams, load_params
from zkmargin.prover.binfmt import read_r1cs
from zkmargin.statement import (
    BatchRecord,
    Commitment,
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
from zkmargin.verifier.zkey import (
    Contribution,
    ZKey,
    coefficients_section,
    domain_size,
    read_zkey,
)


class AuditError(ZkMarginError):
    """The first failed check: which file and which check."""

    def __init__(self, file: str, check: str, reason: str) -> None:
        self.file = file
        self.check = check
        self.reason = reason
        super().__init__(f"{file}: check '{check}' failed: {reason}")


@dataclass(frozen=True)
class SetupFindings:
    """What the audit established about the key's setup (recomputed, not read)."""

    circuit_id: str
    insecure_reason: str | None  # why the setup is INSECURE, None when not recognised
    manifest_claims_insecure: bool
    ptau_sha256: str | None  # phase 1 verified against this file; None: not checked
    contributions: tuple[Contribution, ...]  # the zkey's phase-2 chain
    independent: tuple[str, ...]  # expected contribution hashes found in the chain

    @property
    def insecure(self) -> bool:
        return self.insecure_reason is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "proofs_valid": True,
            "circuit_id": self.circuit_id,
            "key_bound_to_circuit": True,
            "phase1": {"checked": self.ptau_sha256 is not None,
                       "ptau_sha256": self.ptau_sha256},
            "phase2": {"checked": self.ptau_sha256 is not None,
                       "contributions": [c.to_json() for c in self.contributions],
                       "independent_contributions": list(self.independent)},
            "independently_set_up": bool(self.independent) and not self.insecure,
            "insecure_setup": self.insecure,
            "insecure_reason": self.insecure_reason,
            "manifest_claims_insecure": self.manifest_claims_insecure,
        }

    def render(self) -> list[str]:
        lines = [
            f"  circuit     recompiled from these sources: r1cs sha256 {self.circuit_id[:16]}...",
            "  key         bound to that circuit (the published zkey's constraints and key)",
        ]
        if self.ptau_sha256 is None:
            lines.append("  phase 1     NOT CHECKED: pass --ptau FILE (the ceremony file you "
                         "trust)")
        else:
            lines.append(f"  phase 1     verified against the given ptau (sha256 "
                         f"{self.ptau_sha256[:16]}...), phase 2 chain verified")
        named = [f"{c.kind} {c.index} '{c.name}'" for c in self.contributions]
        lines.append(f"  phase 2     {len(self.contributions)} step(s): {', '.join(named)}")
        if self.independent:
            lines.append(f"  independent {len(self.independent)} contribution(s) you named "
                         "are in the chain: " + ", ".join(h[:16] + "..." for h in
                                                          self.independent))
        else:
            lines.append("  independent NONE confirmed: whoever made the contributions (the "
                         "exchange?) may know the trapdoor;\n              pass --ptau and "
                         "--expect-contribution HASH for each contributor you trust")
        return lines


@dataclass(frozen=True)
class AuditReport:
    root: int
    params_hash: int
    batches: int
    totals: Totals
    symbols: tuple[str, ...]
    setup: SetupFindings

    @property
    def insecure_setup(self) -> bool:
        return self.setup.insecure

    def to_json(self) -> dict[str, Any]:
        return {"valid": True, "root": str(self.root), "params_hash": str(self.params_hash),
                "batches": self.batches, **self.totals.to_json(self.symbols),
                "insecure_setup": self.insecure_setup, "trust": self.setup.to_json()}

    def render(self, directory: str) -> str:
        lines = [
            f"zkmargin audit: {directory}: VALID",
            f"  all {self.batches:,} batch proofs verify, the batches cover the root exactly, "
            "and",
            "  their totals add up to the published totals.",
            "",
            f"  root        0x{self.root:064x}",
            f"  params hash 0x{self.params_hash:064x}",
            *self.setup.render(),
            "",
            *self.totals.render(self.symbols),
        ]
        if self.insecure_setup:
            lines.append(f"\n  WARNING: INSECURE setup ({self.setup.insecure_reason}):\n"
                         "  anyone could have forged these proofs. They show consistency, not "
                         "solvency.")
            if not self.setup.manifest_claims_insecure:
                lines.append("  (the manifest calls this setup secure: it is not)")
        return "\n".join(lines)


def audit(root: Path, *, impl: str = "fast", ptau: Path | None = None,
          expected: Sequence[str] = (),
          progress: Callable[[int], None] | None = None) -> AuditReport:
    """Run every check of the module docstring; raises AuditError at the first failure.

    ``ptau``: the phase-1 file the auditor trusts (nothing is downloaded); ``expected``:
    the phase-2 contribution hashes the auditor trusts (each must be in the chain; they
    need ``ptau``, since only a verified chain means anything).
    """
    if expected and ptau is None:
        raise ZkMarginError("expected contributions need --ptau: only a chain verified "
                            "against the ptau you trust shows who contributed")
    man = check_manifest(root)
    check_sha256(root, man)
    r1cs = check_circuit(man)
    vk, zkey = check_verification_key(root, man, r1cs)
    setup = check_setup(root, man, r1cs, vk, zkey, ptau, expected)
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
                       totals=summed, symbols=params.asset_symbols, setup=setup)


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


def check_circuit(man: Manifest) -> Path:
    """3. The circuit recompiled here has the r1cs the manifest names; returns its path."""
    from zkmargin.prover.toolchain import compile_circuit

    circuit = compile_circuit(man.shape)
    actual = sha256_file(circuit.r1cs)
    if actual != man.circuit_id:
        raise AuditError(artifacts.MANIFEST, "circuit",
                         f"circuit.id {man.circuit_id} is not the sha256 of the r1cs that "
                         f"zkmargin {__version__}'s sources compile to for this shape "
                         f"({actual}): the proofs are for another circuit")
    return circuit.r1cs


def parse_verification_key(root: Path, man: Manifest) -> VerificationKey:
    """The manifest's key: a listed, well-formed key of one public signal."""
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


def check_verification_key(root: Path, man: Manifest,
                           r1cs_path: Path) -> tuple[VerificationKey, ZKey]:
    """4. The key is well formed, and bound to the recompiled circuit through the published
    zkey: same sizes, same constraint coefficients, and the key is the zkey's own."""
    vk = parse_verification_key(root, man)
    rel = man.setup.zkey
    if rel not in man.files:
        raise AuditError(rel, "verification_key", "the manifest's proving key (setup.zkey) "
                         "is not a listed file: there is no evidence binding the key to the "
                         "circuit")
    try:
        zkey = read_zkey(root / rel, file=rel)
    except ZkMarginError as exc:
        raise AuditError(rel, "verification_key", str(exc)) from None
    r1cs = read_r1cs(r1cs_path)
    n_public = r1cs.n_outputs + r1cs.n_pub_inputs
    want = (r1cs.n_wires, n_public, domain_size(len(r1cs.constraints), n_public))
    have = (zkey.n_vars, zkey.n_public, zkey.domain_size)
    if have != want:
        raise AuditError(rel, "verification_key",
                         f"the zkey has (wires, public signals, domain) {have}; the recompiled "
                         f"circuit has {want}: it is the key of another circuit")
    coefficients = coefficients_section(len(r1cs.constraints), n_public, r1cs.constraints)
    if hashlib.sha256(coefficients).hexdigest() != zkey.coefficients_sha256:
        raise AuditError(rel, "verification_key",
                         "the zkey's constraint coefficients are not the recompiled "
                         "circuit's: it is the key of another circuit")
    if zkey.vk != vk:
        raise AuditError(man.verification_key, "verification_key",
                         f"the published verification key is not the one of {rel}")
    return vk, zkey


def check_setup(root: Path, man: Manifest, r1cs: Path, vk: VerificationKey, zkey: ZKey,
                ptau: Path | None, expected: Sequence[str]) -> SetupFindings:
    """5. The setup, as far as it can be recomputed: the development setup recognised by
    its public alpha/beta; with ``ptau``, the whole chain verified and the expected
    contributions found."""
    reason = None
    if is_dev_key(vk.alpha1, vk.beta2):
        reason = ("the key's phase 1 is the development powers of tau, whose tau, alpha and "
                  "beta are public")
    ptau_sha = None
    if ptau is not None:
        from zkmargin.prover.setup import SetupError, verify_zkey

        try:
            verify_zkey(r1cs, ptau, root / man.setup.zkey)
        except SetupError as exc:
            raise AuditError(man.setup.zkey, "setup", str(exc)) from None
        ptau_sha = sha256_file(ptau)
    found = {c.hash: c for c in zkey.contributions}
    wanted = [normalise_contribution_hash(h) for h in expected]
    missing = [h for h in wanted if h not in found]
    if missing:
        chain = ", ".join(f"{c.kind} {c.hash[:16]}..." for c in found.values()) or "nothing"
        raise AuditError(man.setup.zkey, "setup",
                         f"contribution {missing[0]} is not in the phase-2 chain (the chain "
                         f"holds {chain}): not the ceremony you expected")
    independent = tuple(h for h in dict.fromkeys(wanted) if found[h].kind == "contribution")
    if reason is None and not zkey.contributions:
        reason = "phase 2 has no contribution: delta is 1, anyone can forge proofs"
    if reason is None and all(c.kind == "beacon" for c in zkey.contributions):
        reason = ("phase 2 has only public beacons: its delta is derived from public values, "
                  "anyone can recompute it and forge proofs")
    return SetupFindings(circuit_id=man.circuit_id, insecure_reason=reason,
                         manifest_claims_insecure=man.insecure_setup, ptau_sha256=ptau_sha,
                         contributions=zkey.contributions, independent=independent)


def normalise_contribution_hash(text: str) -> str:
    """A contribution hash as snarkjs prints it (groups of hex digits, maybe on several
    lines) or as 128 hex digits: the 128 lowercase hex digits."""
    digits = "".join(text.split()).lower()
    if len(digits) != 128 or any(c not in "0123456789abcdef" for c in digits):
        raise ZkMarginError(f"a contribution hash is 128 hex digits, got {text!r}")
    return digits


def check_params_hash(root: Path, man: Manifest) -> RiskParams:
    """4. ``params.json`` hashes, for the manifest's shape, to the manifest's params hash."""
    try:
        params = load_params(root / artifacts.PARAMS)
    except ZkMarginError as exc:
        raise AuditError(artifacts.PARAMS, "params_hash", str(exc)) from None
    shape = man.shape
    counts = {"assets": (len(params.assets), shape.assets),
              "perps": (len(params.perps), shape.perps),
              "options": (len(params.options), shape.options),
              "groups": (len(params.groups), shape.groups),
              "scenarios": (len(params.scenarios), shape.scenarios)}
    if any(mine != theirs for mine, theirs in counts.values()):
        have = ", ".join(f"{mine} {name}" for name, (mine, _) in counts.items())
        want = ", ".join(f"{theirs} {name}" for name, (_, theirs) in counts.items())
        raise AuditError(artifacts.PARAMS, "params_hash",
                         f"{have}; the manifest's circuit ({shape.describe()}) has {want}")
    try:
        ph = params_hash(shape, circuit_params(params, shape))
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
    if (root / artifacts.COMMITMENT).exists():  # published early by `zkmargin commit`
        with named(artifacts.COMMITMENT, "root"):
            c = Commitment.from_json(read_json(root / artifacts.COMMITMENT,
                                               file=artifacts.COMMITMENT),
                                     file=artifacts.COMMITMENT)
        published = (c.shape, c.params_hash, c.root, c.tree_depth, c.batches, c.accounts)
        proven = (man.shape, man.params_hash, top.root, depth, man.batches, man.accounts)
        if published != proven:
            raise AuditError(artifacts.COMMITMENT, "root",
                             f"the commitment published before the proofs (shape, params "
                             f"hash, root, depth, batches, accounts) {published} is not what "
                             f"the proofs give {proven}")


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



