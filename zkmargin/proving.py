"""``zkmargin prove``: exact check, setup, parallel resumable batch proofs, artifacts.

The run, in order:

1. the fixed-point core checks the whole snapshot (bad rows stop everything before any
   file is written; deficient accounts are reported, then proved and counted like others);
2. the batch circuit of the parameter shape is compiled (cached) and its keys set up
   (cached; a development setup is INSECURE and every message says so);
3. accounts stream into batches of K; each batch is a pure task, :func:`prove_batch`
   (inputs in, files out), run in a pool of worker processes;
4. the tree over the batch roots, the manifest with the sha256 of every public file.

Resuming: the same command on the same ``--out`` re-proves nothing whose ``batch.json``
exists (it is written last, atomically); the run state in ``private/run.json`` refuses to
mix snapshots, parameters, batch sizes or keys in one directory.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from zkmargin import __version__, artifacts
from zkmargin.artifacts import BatchRecord, InclusionIndex, batch_dir, write_json
from zkmargin.atomic import write_text_atomic
from zkmargin.checking import check_snapshot
from zkmargin.circuit_inputs import BatchAccount, BatchTotals, CircuitShape, plan_batch
from zkmargin.commitments import account_id_digest, derive_salt, id_hash, padding_leaf
from zkmargin.errors import ZkMarginError
from zkmargin.margin.model import Totals
from zkmargin.merkle import MerkleTree, depth_for, zero_hashes
from zkmargin.params import RiskParams, load_params
from zkmargin.prover.backends import get_backend
from zkmargin.prover.setup import Keys, dev_keys, ptau_keys
from zkmargin.prover.toolchain import (
    CompiledCircuit,
    Engine,
    ToolchainError,
    build_witness_binary,
    calculate_witness,
    circom_version,
)
from zkmargin.snapshot import SnapshotReader

#: Accounts per proof when --batch-size is not given (see benchmarks/README.md).
DEFAULT_BATCH_SIZE = 16
#: With --witness auto, build the C++ witness generator (about 2 min per circuit here) only
#: when this many batches remain (WASM costs about 0.5 s more per batch); once built it is
#: cached and always used.
CPP_BUILD_MIN_BATCHES = 240
SNARKJS_VERSION = "0.7.6"


@dataclass(frozen=True)
class ProveOptions:
    batch_size: int = DEFAULT_BATCH_SIZE
    workers: int = os.cpu_count() or 1
    backend: str = "snarkjs"
    engine: Engine = "auto"  # witness calculator: C++ when it builds, else WASM
    ptau: Path | None = None  # None: the INSECURE development setup
    salt_secret: Path | None = None  # None: generated once into OUT/private/salt_secret
    fmt: str | None = None


class Events:
    """What a run reports; the CLI renders it (progress bar, or nothing with --json)."""

    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def batches(self, total: int, done: int, accounts_per_batch: int) -> None:
        pass

    def batch_done(self, accounts: int, skipped: bool) -> None:
        pass


@dataclass(frozen=True)
class BatchTask:
    """One batch proof: everything a worker (here or on a cluster) needs, nothing shared."""

    index: int
    accounts: tuple[BatchAccount, ...]
    params: RiskParams
    shape: CircuitShape
    circuit_dir: Path
    zkey: Path
    backend: str
    engine: Engine
    out: Path


@dataclass(frozen=True)
class BatchOutcome:
    record: BatchRecord
    leaves: tuple[int, ...]
    seconds: float


def prove_batch(task: BatchTask) -> BatchOutcome:
    """Witness, proof and the three batch files of one batch (``batch.json`` last)."""
    start = time.perf_counter()
    plan = plan_batch(task.params, task.shape, task.index, task.accounts)
    circuit = CompiledCircuit(task.shape, task.circuit_dir)
    with tempfile.TemporaryDirectory(prefix="zkmargin-batch-") as tmp:
        wtns = Path(tmp) / "witness.wtns"
        calculate_witness(circuit, plan.inputs, wtns, engine=task.engine)
        proof, public = get_backend(task.backend).prove(task.zkey, wtns, 1)
    if public != [str(plan.commitment)]:
        raise ZkMarginError(
            f"batch {task.index}: the circuit's public signal {public} differs from the "
            f"commitment {plan.commitment} computed in Python; nothing was written"
        )
    record = BatchRecord(task.index, plan.root, plan.params_hash, plan.totals, plan.commitment)
    write_json(task.out / "proof.json", proof)
    write_json(task.out / "public.json", public)
    write_json(task.out / "batch.json", record.to_json(task.params.asset_symbols))
    return BatchOutcome(record, plan.leaves, time.perf_counter() - start)


@dataclass
class ProveResult:
    out: Path
    root: int
    params_hash: int
    accounts: int
    batches: int
    proved: int  # batches proved by this run (the rest were already done)
    insecure_setup: bool
    totals: Totals
    seconds: float
    manifest: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class BatchMember:
    account_id: str
    salt: int
    account: BatchAccount


def read_secret(path: Path) -> bytes:
    """A salt secret file: hex of at least 16 bytes."""
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise ZkMarginError(f"{path}: cannot read the salt secret: {exc.strerror}") from None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise ZkMarginError(f"{path}: the salt secret must be hex digits") from None
    if len(secret) < 16:
        raise ZkMarginError(f"{path}: the salt secret must have at least 16 bytes, "
                            f"got {len(secret)}")
    return secret


def _salt_secret(out: Path, given: Path | None) -> bytes:
    """The exchange's salt secret, kept in OUT/private/salt_secret so a resume reuses it."""
    kept = out / artifacts.SALT_SECRET
    if kept.exists():
        secret = read_secret(kept)
        if given is not None and read_secret(given) != secret:
            raise ZkMarginError(f"{given}: differs from the salt secret this run started "
                                f"with ({kept}); resuming would change the leaves")
        return secret
    secret = read_secret(given) if given is not None else secrets.token_bytes(32)
    write_text_atomic(kept, secret.hex() + "\n")
    kept.chmod(0o600)
    return secret


def batch_members(snapshot: Path, params: RiskParams, k: int, secret: bytes,
                  fmt: str | None) -> Iterator[list[BatchMember]]:
    """The snapshot's accounts in batches of ``k``, with their salts and id hashes."""
    batch: list[BatchMember] = []
    for block in SnapshotReader(snapshot, params, fmt=fmt):
        bal, qty, cost = block.balances.tolist(), block.qty.tolist(), block.cost.tolist()
        for n, acct_id in enumerate(block.ids):
            salt = derive_salt(secret, acct_id)
            idh = id_hash(account_id_digest(acct_id), salt)
            batch.append(BatchMember(acct_id, salt,
                                 BatchAccount(idh, tuple(bal[n]), tuple(qty[n]), tuple(cost[n]))))
            if len(batch) == k:
                yield batch
                batch = []
    if batch:
        yield batch


def _index_rows(index: int, members: list[BatchMember], leaves: tuple[int, ...],
                depth: int, pad: int) -> list[tuple[Any, ...]]:
    tree = MerkleTree.build(leaves[: len(members)], depth=depth, pad_leaf=pad)
    return [
        (m.account_id, index, pos, str(m.salt), str(m.account.id_hash), str(leaves[pos]),
         json.dumps(list(m.account.balances)), json.dumps(list(m.account.qty)),
         json.dumps(list(m.account.cost)), json.dumps([str(s) for s in tree.path(pos)]))
        for pos, m in enumerate(members)
    ]


def _run_state(snapshot: Path, params_path: Path, k: int, circuit: CompiledCircuit,
               keys: Keys) -> dict[str, Any]:
    return {
        "snapshot_sha256": artifacts.sha256_file(snapshot),
        "params_sha256": artifacts.sha256_file(params_path),
        "batch_size": k,
        "circuit_id": circuit.info["circuit_id"],
        "verification_key_sha256": artifacts.sha256_file(keys.vkey),
        "insecure_setup": keys.insecure,
    }


def _claim_directory(out: Path, state: dict[str, Any]) -> bool:
    """Start or resume a run in ``out``; True when resuming. Refuses foreign content."""
    run_file = out / artifacts.RUN_STATE
    if run_file.exists():
        old = json.loads(run_file.read_text())
        diff = [k for k in state if old.get(k) != state[k]]
        if diff:
            raise ZkMarginError(
                f"{out} holds a run with a different {', '.join(diff)}; resuming would mix "
                "proofs of different inputs. Use another --out (or delete it)."
            )
        return True
    if out.exists() and any(out.iterdir()):
        raise ZkMarginError(f"{out} exists and is not a zkmargin artifact directory; "
                            "choose an empty or new --out")
    write_json(run_file, state)
    return False


def prove_snapshot(snapshot: Path, params_path: Path, out: Path, opts: ProveOptions,
                   events: Events | None = None,
                   check_progress: Callable[[int], None] | None = None) -> ProveResult:
    """Prove every account of ``snapshot``; see the module docstring."""
    ev = events or Events()
    start = time.perf_counter()
    get_backend(opts.backend)  # fail early when the backend is not installed
    if opts.salt_secret is not None:
        read_secret(opts.salt_secret)
    params = load_params(params_path)
    shape = CircuitShape.for_params(params, opts.batch_size)
    k = shape.batch_size

    ev.info(f"checking {snapshot} with the exact margin core")
    totals = check_snapshot(snapshot, params, fmt=opts.fmt, progress=check_progress)
    if totals.accounts == 0:
        raise ZkMarginError(f"{snapshot}: no accounts to prove")
    if totals.deficient:
        shown = ", ".join(totals.deficient_ids[:10])
        more = f" and {totals.deficient - 10} more" if totals.deficient > 10 else ""
        ev.warn(f"{totals.deficient} margin-deficient account(s), proved and counted: "
                f"{shown}{more}")

    from zkmargin.prover.toolchain import compile_circuit

    ev.info(f"batch circuit A={shape.assets} P={shape.perps} L={shape.brackets} K={k} "
            "(compiled once, then cached)")
    circuit = compile_circuit(shape)
    if opts.ptau is None:
        ev.warn("INSECURE development setup: tau is public, anyone can forge proofs under "
                "this key. Use --ptau FILE from a public ceremony for real use.")
        keys = dev_keys(circuit)
    else:
        keys = ptau_keys(circuit, opts.ptau)
    state = _run_state(snapshot, params_path, k, circuit, keys)
    resuming = _claim_directory(out, state)
    if resuming:
        ev.info(f"resuming the run in {out}")
        for stale in (out / artifacts.BATCHES_DIR).glob("*/.*.tmp"):
            stale.unlink()

    write_json(out / artifacts.PARAMS, params.to_json())
    vk_rel = f"{artifacts.CIRCUIT_DIR}/{keys.vk_name}"
    (out / artifacts.CIRCUIT_DIR).mkdir(parents=True, exist_ok=True)
    if not (out / vk_rel).exists():
        tmp = out / artifacts.CIRCUIT_DIR / f".{keys.vk_name}.tmp"
        shutil.copyfile(keys.vkey, tmp)
        tmp.replace(out / vk_rel)
    secret = _salt_secret(out, opts.salt_secret)

    n_batches = -(-totals.accounts // k)
    done = sum((batch_dir(out, i) / "batch.json").exists() for i in range(n_batches))
    engine = _witness_engine(circuit, opts.engine, n_batches - done, ev)
    index = InclusionIndex(out / artifacts.INDEX_DB)
    pad = padding_leaf(shape.assets, shape.perps)
    symbols = params.asset_symbols
    records: dict[int, BatchRecord] = {}
    ev.batches(n_batches, done, k)
    proved = 0

    def task(i: int, members: list[BatchMember]) -> BatchTask:
        return BatchTask(i, tuple(m.account for m in members), params, shape,
                         circuit.directory, keys.zkey, opts.backend, engine,
                         batch_dir(out, i))

    pending: dict[Future[BatchOutcome], tuple[int, list[BatchMember]]] = {}

    def finish(outcome: BatchOutcome, members: list[BatchMember]) -> None:
        rec = outcome.record
        index.put_batch(_index_rows(rec.index, members, outcome.leaves, shape.depth, pad))
        records[rec.index] = rec

    def drain() -> None:
        nonlocal proved
        ready, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for fut in ready:
            i, members = pending.pop(fut)
            try:
                outcome = fut.result()
            except ZkMarginError as exc:
                raise ZkMarginError(f"batch {i}: {exc}") from None
            finish(outcome, members)
            proved += 1
            ev.batch_done(len(members), skipped=False)

    workers = max(1, opts.workers)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        try:
            for i, members in enumerate(batch_members(snapshot, params, k, secret, opts.fmt)):
                record_file = batch_dir(out, i) / "batch.json"
                if record_file.exists():
                    rec = BatchRecord.from_json(json.loads(record_file.read_text()), symbols)
                    records[i] = rec
                    if index.batch_rows(i) != len(members):  # killed before the index commit
                        plan = plan_batch(params, shape, i, [m.account for m in members])
                        if plan.commitment != rec.commitment:
                            raise ZkMarginError(
                                f"{record_file}: commitment {rec.commitment} does not match "
                                f"this snapshot's batch {i} ({plan.commitment})")
                        finish(BatchOutcome(rec, plan.leaves, 0.0), members)
                    ev.batch_done(len(members), skipped=True)
                    continue
                pending[pool.submit(prove_batch, task(i, members))] = (i, members)
                while len(pending) >= 2 * workers:
                    drain()
            while pending:
                drain()
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
        finally:
            index.close()

    missing = [i for i in range(n_batches) if i not in records]
    if missing:
        raise ZkMarginError(f"batches {missing[:10]} were not produced; rerun to resume")
    batch_sum = artifacts.sum_totals((records[i].totals for i in range(n_batches)), len(symbols))
    _same_totals(batch_sum, totals)

    depth = max(shape.depth, depth_for(totals.accounts))
    top = MerkleTree.build([records[i].root for i in range(n_batches)], depth=depth - shape.depth,
                           pad_leaf=zero_hashes(shape.depth, pad)[shape.depth])
    write_json(out / artifacts.TREE_LEVELS, {
        "batch_depth": shape.depth,
        "depth": depth,
        "levels": [[str(v) for v in level] for level in top.levels],
        "zeros": [str(v) for v in top.zeros],
        "root": str(top.root),
    })
    ph = records[0].params_hash
    manifest: dict[str, Any] = {
        "format": artifacts.FORMAT,
        "tool": {"zkmargin": __version__, "circom": circom_version(), "snarkjs": SNARKJS_VERSION},
        "circuit": {"id": circuit.info["circuit_id"], "assets": shape.assets,
                    "perps": shape.perps, "brackets": shape.brackets, "batch_size": k,
                    "constraints": circuit.constraints},
        "insecure_setup": keys.insecure,
        "setup": keys.origin,
        "verification_key": vk_rel,
        "params_hash": str(ph),
        "root": str(top.root),
        "tree_depth": depth,
        "batches": n_batches,
        "accounts": totals.accounts,
        "totals": artifacts.totals_json(batch_sum, symbols),
        "files": {p.relative_to(out).as_posix(): artifacts.sha256_file(p)
                  for p in artifacts.public_files(out)},
    }
    write_json(out / artifacts.MANIFEST, manifest)
    return ProveResult(out=out, root=top.root, params_hash=ph, accounts=totals.accounts,
                       batches=n_batches, proved=proved, insecure_setup=keys.insecure,
                       totals=totals, seconds=time.perf_counter() - start, manifest=manifest)


def _witness_engine(circuit: CompiledCircuit, wanted: Engine, batches: int,
                    ev: Events) -> Engine:
    """The engine for this run; builds the C++ generator here, once, when it pays off."""
    if wanted == "wasm":
        return "wasm"
    if wanted == "auto" and not circuit.cpp_binary.exists():
        if circuit.cpp_failure.exists():
            return "wasm"
        if batches < CPP_BUILD_MIN_BATCHES:
            ev.info(f"witnesses: WASM (building the C++ generator, ~2 min, pays off from "
                    f"{CPP_BUILD_MIN_BATCHES} batches; --witness cpp forces it)")
            return "wasm"
    if not circuit.cpp_binary.exists():
        ev.info("building the C++ witness generator for this circuit (once, ~2 min)")
    try:
        build_witness_binary(circuit)
    except ToolchainError as exc:
        if wanted == "cpp":
            raise
        ev.warn(f"the C++ witness generator does not build, using WASM: {exc}")
        return "wasm"
    return "cpp"


def _same_totals(batch_sum: BatchTotals, check: Totals) -> None:
    exact = BatchTotals(check.accounts, check.deficient, check.equity_total,
                        check.requirement_total, check.shortfall_total,
                        tuple(check.liabilities), tuple(check.debts))
    if batch_sum != exact:
        symbols = check.asset_symbols
        raise ZkMarginError(
            "the proven batch totals differ from the exact check: batches "
            f"{artifacts.totals_json(batch_sum, symbols)}, check "
            f"{artifacts.totals_json(exact, symbols)}")
