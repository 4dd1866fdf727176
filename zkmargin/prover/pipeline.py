"""``zkmargin prove``: exact check, setup, parallel resumable batch proofs, artifacts.

:func:`prove_snapshot` is a list of named steps:

1. :func:`prepare` -- the fixed-point core checks the whole snapshot (bad rows stop
   everything before any file is written; deficient accounts are reported, then proved
   and counted like others); the batch circuit of the parameter shape is compiled
   (cached) and its keys set up (cached; a development setup is INSECURE and every
   message says so); the output directory is claimed or resumed;
2. :func:`prove_batches` -- accounts stream into batches of K; each batch is a pure task,
   :func:`prove_batch` (inputs in, files out), run by an executor (here a pool of worker
   processes); a batch whose ``batch.json`` exists is not proved again
   (:func:`reuse_batch`);
3. :func:`write_manifest` -- the tree over the batch roots and the manifest with the
   sha256 of every public file, after the proven totals were compared with the check.

Resuming: the same command on the same ``--out`` re-proves nothing whose ``batch.json``
exists (it is written last, atomically); the run state in ``private/run.json`` refuses to
mix snapshots, parameters, batch sizes or keys in one directory.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from zkmargin import __version__, artifacts
from zkmargin.artifacts import InclusionIndex, batch_dir, write_json
from zkmargin.atomic import PRIVATE, copy_atomic, write_text_atomic
from zkmargin.checking import CheckReport, check_snapshot
from zkmargin.commitments import (
    account_id_digest,
    derive_salt,
    id_hashes,
    padding_leaf,
)
from zkmargin.errors import ZkMarginError
from zkmargin.merkle import MerkleTree
from zkmargin.params import RiskParams, load_params
from zkmargin.prover.backends import get_backend
from zkmargin.prover.executors import DaskCluster, Executor, LocalPool
from zkmargin.prover.setup import Keys, ceremony_keys, dev_keys, ptau_keys
from zkmargin.prover.toolchain import (
    CompiledCircuit,
    Engine,
    ToolchainError,
    build_witness_binary,
    calculate_witness,
    circom_version,
    compile_circuit,
    snarkjs_version,
)
from zkmargin.prover.witness import BatchAccount, leaves_of, plan_batch
from zkmargin.snapshot import STDIN, STDIN_NAME, SnapshotReader, detect_format, local_snapshot
from zkmargin.statement import (
    BatchRecord,
    CircuitShape,
    Commitment,
    Manifest,
    SetupClaim,
    Totals,
    hash_of_params,
    levels_json,
    read_json,
    read_levels,
    top_tree,
    tree_depth,
)

#: Accounts per proof when --batch-size is not given: the best accounts/s measured of K =
#: 16, 32, 64 (native prover, 2 cores, 2026-12-02: 7.5, 10.5, 10.3; benchmarks/README.md).
DEFAULT_BATCH_SIZE = 32
#: With --witness auto, build the C++ witness generator (about 2 min per circuit here) only
#: when this many batches remain (WASM costs about 0.5 s more per batch); once built it is
#: cached and always used.
CPP_BUILD_MIN_BATCHES = 240


@dataclass(frozen=True)
class ProveOptions:
    batch_size: int = DEFAULT_BATCH_SIZE
    workers: int = os.cpu_count() or 1
    backend: str = "snarkjs"
    engine: Engine = "auto"  # witness calculator: C++ when it builds, else WASM
    ptau: Path | None = None  # None: the INSECURE development setup
    zkey: Path | None = None  # a ceremony's final zkey (with ptau): the ceremony setup
    salt_secret: Path | None = None  # None: generated once into OUT/private/salt_secret
    fmt: str | None = None
    scheduler: str | None = None  # a Dask scheduler address: prove on that cluster


class Events(Protocol):
    """What a run reports; the CLI renders it (``TerminalEvents``)."""

    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def batches(self, total: int, done: int, accounts_per_batch: int) -> None: ...

    def batch_done(self, accounts: int, skipped: bool) -> None: ...


class NoEvents:
    """Reports nothing (a library caller's default)."""

    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def batches(self, total: int, done: int, accounts_per_batch: int) -> None:
        pass

    def batch_done(self, accounts: int, skipped: bool) -> None:
        pass


# --------------------------------------------------------------------------------------
# One batch: a pure task


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
    work: Path  # where the worker keeps its temporary witness files (removed per run)


@dataclass(frozen=True)
class BatchOutcome:
    record: BatchRecord
    leaves: tuple[int, ...]


def prove_batch(task: BatchTask) -> BatchOutcome:
    """Witness, proof and the three batch files of one batch (``batch.json`` last)."""
    plan = plan_batch(task.params, task.shape, task.index, task.accounts)
    circuit = CompiledCircuit(task.shape, task.circuit_dir)
    task.work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"batch-{task.index:06d}-", dir=task.work) as tmp:
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
    return BatchOutcome(record, plan.leaves)


# --------------------------------------------------------------------------------------
# The run


@dataclass(frozen=True)
class ProveResult:
    root: int
    params_hash: int
    accounts: int
    batches: int
    proved: int  # batches proved by this run (the rest were already done)
    insecure_setup: bool
    seconds: float


@dataclass(frozen=True)
class BatchMember:
    account_id: str
    salt: int
    account: BatchAccount


@dataclass(frozen=True)
class Run:
    """What :func:`prepare` settled before the first batch: inputs, keys, directory."""

    snapshot: Path
    out: Path
    opts: ProveOptions
    params: RiskParams
    shape: CircuitShape
    circuit: CompiledCircuit
    keys: Keys
    check: CheckReport
    secret: bytes
    engine: Engine
    vk_rel: str
    zkey_rel: str
    circuit_id: str  # sha256 of the r1cs
    committed: tuple[Commitment, tuple[int, ...]] | None  # `zkmargin commit`: root, roots

    def check_committed(self, record: BatchRecord) -> None:
        """A proven batch must have the subtree root the published commitment holds."""
        if self.committed is not None:
            roots = self.committed[1]
            if record.index >= len(roots) or roots[record.index] != record.root:
                raise ZkMarginError(
                    f"batch {record.index} proves subtree root {record.root}, but the "
                    f"published commitment ({artifacts.COMMITMENT}) holds "
                    f"{roots[record.index] if record.index < len(roots) else 'no such batch'}"
                    ": the snapshot or the salt secret changed since `zkmargin commit`")
    @property
    def batch_count(self) -> int:
        return -(-self.check.totals.accounts // self.shape.batch_size)

    def task(self, index: int, members: list[BatchMember]) -> BatchTask:
        return BatchTask(index, tuple(m.account for m in members), self.params, self.shape,
                         self.circuit.directory, self.keys.zkey, self.opts.backend,
                         self.engine, batch_dir(self.out, index), self.out / artifacts.WORK_DIR)

    def members(self) -> Iterator[list[BatchMember]]:
        return batch_members(self.snapshot, self.params, self.shape.batch_size, self.secret,
                             self.opts.fmt)


def prove_snapshot(snapshot: Path, params_path: Path, out: Path, opts: ProveOptions,
                   events: Events | None = None) -> ProveResult:
    """Prove every account of ``snapshot``; see the module docstring."""
    ev = events or NoEvents()
    start = time.perf_counter()
    # `-` (standard input) is spooled once: the snapshot is read by the check, hashed for
    # the run state, and read again by the batches
    out = out.resolve()
    executor: Executor = (DaskCluster(opts.scheduler) if opts.scheduler  # reachable? now
                          else LocalPool(opts.workers))
    with executor, local_snapshot(snapshot) as local, claim_lock(out):
        fmt = opts.fmt or detect_format(snapshot)
        name = STDIN_NAME if str(snapshot) == STDIN else None
        run = prepare(local, params_path, out, replace(opts, fmt=fmt), ev, name=name)
        try:
            records, proved = prove_batches(run, ev, executor)
        except KeyboardInterrupt:
            executor.stop()
            kept = sum((batch_dir(out, i) / "batch.json").exists()
                       for i in range(run.batch_count))
            raise InterruptedRunError(kept, run.batch_count) from None
        finally:
            shutil.rmtree(out / artifacts.WORK_DIR, ignore_errors=True)
        manifest = write_manifest(run, records)
    return ProveResult(root=manifest.root, params_hash=manifest.params_hash,
                       accounts=manifest.accounts, batches=manifest.batches, proved=proved,
                       insecure_setup=run.keys.insecure, seconds=time.perf_counter() - start)


class InterruptedRunError(ZkMarginError):
    """The run was interrupted (Ctrl-C); what it finished is kept for a resume."""

    def __init__(self, kept: int, total: int) -> None:
        self.kept = kept
        self.total = total
        super().__init__(f"interrupted: {kept} of {total} batches kept; rerun the same "
                         "command to resume")


@contextmanager
def claim_lock(out: Path) -> Iterator[None]:
    """Hold ``out`` for this run: a second run into the same directory is refused at
    once. A directory this run created is removed again if it stays empty (bad input
    leaves no output)."""
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ZkMarginError(f"{out}: another `zkmargin prove` is running in this "
                                "directory; wait for it, or choose another --out") from None
        try:
            yield
        finally:
            if created and not any(out.iterdir()):
                out.rmdir()
    finally:
        os.close(fd)


def _input_state(snapshot: Path, params_path: Path, batch_size: int) -> dict[str, Any]:
    """What a run directory is bound to before any circuit or key exists."""
    return {"snapshot_sha256": artifacts.sha256_file(snapshot),
            "params_sha256": artifacts.sha256_file(params_path), "batch_size": batch_size}


def _mismatch(out: Path, old: dict[str, Any], state: dict[str, Any]) -> None:
    """Refuse to resume ``out`` with other inputs (the keys both states hold)."""
    diff = [k for k in state if k in old and old[k] != state[k]]
    if diff:
        shown = ", ".join(f"{k} ({str(old[k])[:16]}, this run {str(state[k])[:16]})"
                          for k in diff)
        raise ZkMarginError(f"{out} holds a run with a different {shown}; resuming would "
                            "mix proofs of different inputs. Use another --out (or delete "
                            "it).")


def _refuse_mismatch_early(out: Path, snapshot: Path, params_path: Path,
                           batch_size: int) -> None:
    """A resumed directory of another snapshot, other parameters or another batch size is
    refused before anything is checked or compiled (the keys are compared later)."""
    run_file = out / artifacts.RUN_STATE
    if run_file.exists():
        _mismatch(out, json.loads(run_file.read_text()),
                  _input_state(snapshot, params_path, batch_size))


def prepare(snapshot: Path, params_path: Path, out: Path, opts: ProveOptions,
            ev: Events, *, name: str | None = None) -> Run:
    """Step 1: check the snapshot, compile, set up keys, claim (or resume) ``out``."""
    get_backend(opts.backend)  # fail early when the backend is not installed
    given_secret = read_secret(opts.salt_secret) if opts.salt_secret is not None else None
    params = load_params(params_path)
    shape = CircuitShape.for_params(params, opts.batch_size)
    _refuse_mismatch_early(out, snapshot, params_path, shape.batch_size)

    ev.info(f"checking {name or snapshot} with the exact margin core")
    check = check_snapshot(snapshot, params, fmt=opts.fmt, name=name)
    if check.totals.deficient:
        count = check.totals.deficient
        shown = ", ".join(check.deficient_ids[:10])
        more = f" and {count - 10} more" if count > 10 else ""
        ev.warn(f"{count} margin-deficient account(s), proved and counted: {shown}{more}")

    ev.info(f"batch circuit {shape.describe()} (compiled once, then cached)")
    circuit = compile_circuit(shape)
    keys = _keys(circuit, opts, ev)
    circuit_id = artifacts.sha256_file(circuit.r1cs)
    state = _run_state(snapshot, params_path, shape.batch_size, circuit_id, keys)
    if _claim_directory(out, state):
        ev.info(f"resuming the run in {out}")
        for stale in (out / artifacts.BATCHES_DIR).glob("*/.*.tmp"):
            stale.unlink()
    shutil.rmtree(out / artifacts.WORK_DIR, ignore_errors=True)  # a killed run's leftovers

    write_json(out / artifacts.PARAMS, params.to_json())
    vk_rel = f"{artifacts.CIRCUIT_DIR}/{keys.vk_name}"
    zkey_rel = f"{artifacts.CIRCUIT_DIR}/{keys.zkey_name}"
    for src, rel in ((keys.vkey, vk_rel), (keys.zkey, zkey_rel)):
        copy_atomic(src, out / rel)
    secret = _salt_secret(out, opts.salt_secret, given_secret)
    batches = -(-check.totals.accounts // shape.batch_size)
    done = sum((batch_dir(out, i) / "batch.json").exists() for i in range(batches))
    engine = _witness_engine(circuit, opts.engine, batches - done, ev)
    return Run(snapshot, out, opts, params, shape, circuit, keys, check, secret, engine,
               vk_rel, zkey_rel, circuit_id, read_commitment(out, shape))


def _keys(circuit: CompiledCircuit, opts: ProveOptions, ev: Events) -> Keys:
    """The keys of the run: development, single-party (--ptau) or a ceremony's (--zkey)."""
    if opts.zkey is not None:
        if opts.ptau is None:
            raise ZkMarginError("--zkey needs --ptau: the ceremony's key is verified against "
                                "the powers of tau it was set up from")
        ev.info(f"verifying {opts.zkey} against the circuit and {opts.ptau} (once)")
        return ceremony_keys(circuit, opts.zkey, opts.ptau)
    if opts.ptau is not None:
        ev.warn("single-party setup: the exchange alone contributes to phase 2, so nobody "
                "else has reason to trust the key; run `zkmargin ceremony` with independent "
                "contributors for evidence an auditor accepts")
        return ptau_keys(circuit, opts.ptau)
    ev.warn("INSECURE development setup: tau is public, anyone can forge proofs under "
            "this key. Use a public ceremony's ptau (zkmargin ceremony) for real use.")
    return dev_keys(circuit)


def prove_batches(run: Run, ev: Events,
                  executor: Executor) -> tuple[dict[int, BatchRecord], int]:
    """Step 2: every batch proved (or reused), its inclusion rows committed; returns the
    records by index and how many batches this run proved."""
    records: dict[int, BatchRecord] = {}
    total = run.batch_count
    ev.batches(total, sum((batch_dir(run.out, i) / "batch.json").exists()
                          for i in range(total)), run.shape.batch_size)
    proved = 0
    pending: dict[Any, tuple[int, list[BatchMember]]] = {}
    index = open_index(run.out)
    try:
        for i, members in enumerate(run.members()):
            if (batch_dir(run.out, i) / "batch.json").exists():
                records[i] = reuse_batch(run, i, members, index)
                ev.batch_done(len(members), skipped=True)
                continue
            pending[executor.submit(prove_batch, run.task(i, members))] = (i, members)
            while len(pending) >= executor.capacity:
                proved += _collect(run, executor, pending, index, records, ev)
        while pending:
            proved += _collect(run, executor, pending, index, records, ev)
    finally:
        index.close()
    missing = [i for i in range(total) if i not in records]
    if missing:
        raise ZkMarginError(f"batches {missing[:10]} were not produced; rerun to resume")
    return records, proved


def reuse_batch(run: Run, index: int, members: list[BatchMember],
                inclusion: InclusionIndex) -> BatchRecord:
    """A batch an earlier run finished: its record, and its inclusion rows when that run
    was killed between ``batch.json`` and the index commit."""
    record_file = batch_dir(run.out, index) / "batch.json"
    record = BatchRecord.from_json(json.loads(record_file.read_text()),
                                   run.params.asset_symbols, file=str(record_file))
    run.check_committed(record)
    if inclusion.batch_rows(index) != len(members):
        plan = plan_batch(run.params, run.shape, index, [m.account for m in members])
        if plan.commitment != record.commitment:
            raise ZkMarginError(f"{record_file}: commitment {record.commitment} does not "
                                f"match this snapshot's batch {index} ({plan.commitment})")
        put_rows(inclusion, index_rows(run.shape, index, members, plan.leaves)[1])
    return record


def write_manifest(run: Run, records: dict[int, BatchRecord]) -> Manifest:
    """Step 3: compare the proven totals with the check, write the top tree and the
    manifest (last: a directory without one is an unfinished run)."""
    ordered = [records[i] for i in range(len(records))]
    symbols = run.params.asset_symbols
    proven = Totals.sum((r.totals for r in ordered), len(symbols))
    same_totals(proven, run.check.totals, symbols)
    top = top_tree(run.shape, [r.root for r in ordered])
    if run.committed is not None and run.committed[0].root != top.root:
        raise ZkMarginError(f"the proven batches give root {top.root}, the published "
                            f"commitment says {run.committed[0].root}")
    write_json(run.out / artifacts.TREE_LEVELS, levels_json(run.shape, top))
    keys = run.keys
    manifest = Manifest(
        tool={"zkmargin": __version__, "circom": circom_version(),
              "snarkjs": snarkjs_version()},
        circuit_id=run.circuit_id,
        shape=run.shape,
        constraints=run.circuit.constraints,
        insecure_setup=keys.insecure,
        setup=SetupClaim(kind=keys.kind, ptau_name=keys.ptau.name,
                         ptau_sha256=keys.ptau.sha256, ptau_power=keys.ptau.power,
                         zkey=run.zkey_rel,
                         contributions=tuple((c.name, c.hash) for c in keys.contributions)),
        verification_key=run.vk_rel,
        params_hash=ordered[0].params_hash,
        root=top.root,
        tree_depth=tree_depth(run.shape, len(ordered)),
        batches=len(ordered),
        accounts=proven.accounts,
        symbols=symbols,
        totals=proven,
        files={p.relative_to(run.out).as_posix(): artifacts.sha256_file(p)
               for p in artifacts.public_files(run.out)},
    )
    manifest.write(run.out / artifacts.MANIFEST)
    return manifest


def same_totals(proven: Totals, check: Totals, symbols: tuple[str, ...]) -> None:
    """The batch proofs must state exactly the totals the exact core computed."""
    if proven != check:
        raise ZkMarginError(
            "the proven batch totals differ from the exact check: batches "
            f"{proven.to_json(symbols)}, check {check.to_json(symbols)}")


# --------------------------------------------------------------------------------------
# The executor


def _collect(run: Run, executor: Executor,
             pending: dict[Any, tuple[int, list[BatchMember]]], index: InclusionIndex,
             records: dict[int, BatchRecord], ev: Events) -> int:
    """Wait for at least one pending batch; commit the finished ones; how many finished."""
    ready = executor.wait_first(pending)
    for fut in ready:
        i, members = pending.pop(fut)
        try:
            outcome: BatchOutcome = executor.result(fut)
        except ZkMarginError as exc:
            raise ZkMarginError(f"batch {i}: {exc}") from None
        rec = outcome.record
        run.check_committed(rec)
        if index.batch_rows(rec.index) != len(members):  # `zkmargin commit` wrote them
            put_rows(index, index_rows(run.shape, rec.index, members, outcome.leaves)[1])
        records[rec.index] = rec
        ev.batch_done(len(members), skipped=False)
    return len(ready)


# --------------------------------------------------------------------------------------
# Accounts, salts, the inclusion index and the run state


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


def _salt_secret(out: Path, given: Path | None, given_secret: bytes | None) -> bytes:
    """The exchange's salt secret, kept in OUT/private/salt_secret so a resume reuses it.
    ``given_secret`` is ``given``'s content, read once at the start (a pipe is read once)."""
    kept = out / artifacts.SALT_SECRET
    if kept.exists():
        secret = read_secret(kept)
        if given_secret is not None and given_secret != secret:
            raise ZkMarginError(f"{given}: differs from the salt secret this run started "
                                f"with ({kept}); resuming would change the leaves")
        return secret
    secret = given_secret if given_secret is not None else secrets.token_bytes(32)
    write_text_atomic(kept, secret.hex() + "\n", mode=PRIVATE)
    return secret


#: One account as the snapshot gives it: id, balances, perp sizes, perp costs, option
#: sizes (exact integers, params order).
AccountRow = tuple[str, tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]


def snapshot_rows(snapshot: Path, params: RiskParams, fmt: str | None) -> Iterator[AccountRow]:
    """Every account of the snapshot, in order, with its option sizes."""
    for block in SnapshotReader(snapshot, params, fmt=fmt):
        bal, qty, cost = block.balances.tolist(), block.qty.tolist(), block.cost.tolist()
        opt = block.options.tolist()
        for n, acct_id in enumerate(block.ids):
            yield acct_id, tuple(bal[n]), tuple(qty[n]), tuple(cost[n]), tuple(opt[n])


def batch_members(snapshot: Path, params: RiskParams, k: int, secret: bytes,
                  fmt: str | None) -> Iterator[list[BatchMember]]:
    """The snapshot's accounts in batches of ``k``, with their salts and id hashes."""
    batch: list[AccountRow] = []
    for row in snapshot_rows(snapshot, params, fmt):
        batch.append(row)
        if len(batch) == k:
            yield members_of(secret, batch)
            batch = []
    if batch:
        yield members_of(secret, batch)


def members_of(secret: bytes, rows: Sequence[AccountRow]) -> list[BatchMember]:
    """The accounts with their salts and id hashes (one call into the hash for all)."""
    salts = [derive_salt(secret, row[0]) for row in rows]
    hashes = id_hashes([account_id_digest(row[0]) for row in rows], salts)
    members = []
    for (acct_id, bal, qty, cost, options), salt, idh in zip(rows, salts, hashes,
                                                             strict=True):
        if idh == 0:  # probability ~2^-254; the circuit refuses it (the padding id)
            raise ZkMarginError(f"account {acct_id!r} has id hash 0; choose another salt "
                                "secret")
        members.append(BatchMember(acct_id, salt, BatchAccount(idh, bal, qty, cost, options)))
    return members


#: The columns of an inclusion-index row, in the order :func:`index_rows` gives them.
INDEX_COLUMNS = ("id", "batch", "position", "salt", "id_hash", "leaf", "balances", "qty",
                 "cost", "path", "options")


def open_index(out: Path) -> InclusionIndex:
    """``private/inclusion.sqlite`` with its ``options`` column (JSON list of the option
    sizes, contracts x 1e8, params order; ``[]`` without options)."""
    index = InclusionIndex(out / artifacts.INDEX_DB)
    columns = {row[1] for row in index.db.execute("PRAGMA table_info(accounts)")}
    if "options" not in columns:
        with index.db:
            index.db.execute("ALTER TABLE accounts ADD COLUMN options TEXT NOT NULL "
                             "DEFAULT '[]'")
    return index


def put_rows(index: InclusionIndex, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert :func:`index_rows` rows (whole batches) in one transaction: all or nothing."""
    names = ", ".join(INDEX_COLUMNS)
    marks = ", ".join("?" * len(INDEX_COLUMNS))
    with index.db:
        index.db.executemany(f"INSERT OR REPLACE INTO accounts ({names}) VALUES ({marks})",
                             rows)


def index_rows(shape: CircuitShape, index: int, members: list[BatchMember],
               leaves: Sequence[int]) -> tuple[int, list[tuple[Any, ...]]]:
    """The batch's subtree root and its inclusion-index rows (one per account, columns
    :data:`INDEX_COLUMNS`)."""
    tree = MerkleTree.build(leaves[: len(members)], depth=shape.depth,
                            pad_leaf=padding_leaf(shape.assets, shape.perps, shape.options))
    return tree.root, [
        (m.account_id, index, pos, str(m.salt), str(m.account.id_hash), str(leaves[pos]),
         _json_list(m.account.balances), _json_list(m.account.qty),
         _json_list(m.account.cost), _json_list(tree.path(pos), quoted=True),
         _json_list(m.account.options))
        for pos, m in enumerate(members)
    ]


def _json_list(values: Sequence[int], quoted: bool = False) -> str:
    """``json.dumps`` of a list of ints (``quoted``: of their decimal strings), the same
    text, written directly: it is most of the time of an index row."""
    if quoted:
        return "[" + ", ".join(f'"{v}"' for v in values) + "]"
    return "[" + ", ".join(map(str, values)) + "]"


def _run_state(snapshot: Path, params_path: Path, k: int, circuit_id: str,
               keys: Keys) -> dict[str, Any]:
    return {
        **_input_state(snapshot, params_path, k),
        "circuit_id": circuit_id,
        "verification_key_sha256": artifacts.sha256_file(keys.vkey),
        "zkey_sha256": artifacts.sha256_file(keys.zkey),
        "setup": keys.kind,
    }


def _claim_directory(out: Path, state: dict[str, Any]) -> bool:
    """Start or resume a run in ``out``; True when resuming. Refuses foreign content."""
    run_file = out / artifacts.RUN_STATE
    if run_file.exists():
        old = json.loads(run_file.read_text())
        # `commit` records the inputs only; `prove` adds the circuit and the keys
        _mismatch(out, old, state)
        if any(k not in old for k in state):
            write_json(run_file, {**old, **state})
        return True
    if out.exists() and any(out.iterdir()):
        raise ZkMarginError(f"{out} exists and is not a zkmargin artifact directory; "
                            "choose an empty or new --out")
    private = out / artifacts.PRIVATE_DIR
    private.mkdir(mode=0o700, parents=True, exist_ok=True)
    private.chmod(0o700)  # the salt secret and every account's values: the exchange's only
    write_json(run_file, state)
    return False


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


# --------------------------------------------------------------------------------------
# Commit first, prove later (`zkmargin commit`)


#: Batches per commit task: enough work per task to hide the pool's overhead.
COMMIT_CHUNK = 64


@dataclass(frozen=True)
class CommitChunk:
    """Salts, id hashes, leaves and subtree roots of consecutive batches: a pure task.
    ``accounts`` holds (id, balances, qty, cost, options) rows, ``batch_size`` per batch."""

    first: int
    accounts: tuple[AccountRow, ...]
    shape: CircuitShape
    secret: bytes


def commit_chunk(task: CommitChunk) -> tuple[list[tuple[int, int]], list[tuple[Any, ...]]]:
    """The chunk's (batch index, subtree root) pairs and its inclusion rows."""
    k = task.shape.batch_size
    members = members_of(task.secret, task.accounts)
    leaves = leaves_of([m.account for m in members])
    roots, rows = [], []
    for n in range(0, len(members), k):
        root, batch_rows = index_rows(task.shape, task.first + n // k, members[n:n + k],
                                      leaves[n:n + k])
        roots.append((task.first + n // k, root))
        rows += batch_rows
    return roots, rows


def read_commitment(out: Path,
                    shape: CircuitShape) -> tuple[Commitment, tuple[int, ...]] | None:
    """The commitment `zkmargin commit` published in ``out``, and its batch roots (level
    0 of tree/levels.json), or None when there is none."""
    path = out / artifacts.COMMITMENT
    if not path.exists():
        return None
    commitment = Commitment.from_json(read_json(path), file=str(path))
    if commitment.shape != shape:
        raise ZkMarginError(f"{path}: committed for the circuit "
                            f"{commitment.shape.describe()}, this run has {shape.describe()}")
    levels = out / artifacts.TREE_LEVELS
    tree = read_levels(read_json(levels), file=str(levels))
    roots = tuple(tree.levels[0])
    if len(roots) != commitment.batches or tree.root != commitment.root:
        raise ZkMarginError(f"{levels} does not hold the tree of {path}")
    return commitment, roots


def commit_snapshot(snapshot: Path, params_path: Path, out: Path, opts: ProveOptions,
                    events: Events | None = None) -> Commitment:
    """Check the snapshot and publish its root without proving: id hashes, leaves, batch
    subtrees and the tree over them, the private inclusion index, ``commitment.json``
    and ``tree/levels.json`` in ``out``. ``prove`` with the same inputs into the same
    ``out`` then reuses it and must reproduce that root. Idempotent."""
    ev = events or NoEvents()
    out = out.resolve()
    with LocalPool(opts.workers) as pool, local_snapshot(snapshot) as local, \
            claim_lock(out):
        fmt = opts.fmt or detect_format(snapshot)
        name = STDIN_NAME if str(snapshot) == STDIN else None
        given_secret = (read_secret(opts.salt_secret) if opts.salt_secret is not None
                        else None)
        params = load_params(params_path)
        shape = CircuitShape.for_params(params, opts.batch_size)
        _refuse_mismatch_early(out, local, params_path, shape.batch_size)
        ev.info(f"checking {name or local} with the exact margin core")
        check = check_snapshot(local, params, fmt=fmt, name=name)
        _claim_directory(out, _input_state(local, params_path, shape.batch_size))
        existing = read_commitment(out, shape)
        if existing is not None:
            ev.info(f"{out} is already committed")
            return existing[0]
        write_json(out / artifacts.PARAMS, params.to_json())
        secret = _salt_secret(out, opts.salt_secret, given_secret)
        k = shape.batch_size
        total = -(-check.totals.accounts // k)
        ev.batches(total, 0, k)
        roots: dict[int, int] = {}
        pending: dict[Any, int] = {}
        index = open_index(out)

        def land(done: set[Any]) -> None:
            for fut in done:
                del pending[fut]
                chunk_roots, rows = pool.result(fut)
                put_rows(index, rows)  # whole batches, one transaction
                roots.update(chunk_roots)
                for _ in chunk_roots:
                    ev.batch_done(k, skipped=False)

        try:
            chunk: list[AccountRow] = []
            first = 0
            for row in snapshot_rows(local, params, fmt):
                chunk.append(row)
                if len(chunk) == COMMIT_CHUNK * k:
                    pending[pool.submit(commit_chunk, CommitChunk(
                        first, tuple(chunk), shape, secret))] = first
                    first += COMMIT_CHUNK
                    chunk = []
                    while len(pending) >= pool.capacity:
                        land(pool.wait_first(pending))
            if chunk:
                pending[pool.submit(commit_chunk, CommitChunk(first, tuple(chunk), shape,
                                                              secret))] = first
            while pending:
                land(pool.wait_first(pending))
        finally:
            index.close()
        top = top_tree(shape, [roots[i] for i in range(total)])
        write_json(out / artifacts.TREE_LEVELS, levels_json(shape, top))
        commitment = Commitment(
            shape=shape, params_hash=hash_of_params(params, shape),
            root=top.root, tree_depth=tree_depth(shape, total), batches=total,
            accounts=check.totals.accounts)
        write_json(out / artifacts.COMMITMENT, commitment.to_json())
        return commitment
