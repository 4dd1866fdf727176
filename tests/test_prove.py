"""``zkmargin prove`` end to end on a small snapshot: totals, proofs, root, index, resume.

Shape A=2, P=2, L=3, K=4 (the circuit the other circuit tests compile, so the cache is
shared). Every proof is checked with ``snarkjs groth16 verify``; the root is recomputed
independently from the snapshot and the salt secret.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import ROOT, ZKMARGIN, zk, zk_json
from tests.support.node import SNARKJS
from tests.support.ptau import random_ptau
from zkmargin.artifacts import sha256_file
from zkmargin.commitments import account_id_digest, account_leaf, derive_salt, id_hash, padding_leaf
from zkmargin.merkle import MerkleTree, root_from_path
from zkmargin.params import load_params
from zkmargin.prover.toolchain import compile_circuit
from zkmargin.prover.witness import BatchAccount, plan_batch
from zkmargin.snapshot import SnapshotReader
from zkmargin.statement import BatchRecord, CircuitShape, batch_commitment

pytestmark = [pytest.mark.circuit, pytest.mark.node, pytest.mark.slow]

K = 4
SECRET = "5a" * 32
zk_ok = zk_json


def snapshot(tmp: Path, accounts: int, seed: int) -> tuple[Path, Path, Path]:
    out = tmp / f"snap-{accounts}-{seed}"
    proc = zk("generate", "--accounts", str(accounts), "--assets", "2", "--perps", "2",
              "--brackets", "3", "--seed", str(seed), "--deficient-share", "0.25",
              "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    secret = tmp / "secret.hex"
    secret.write_text(SECRET + "\n")
    return out / "snapshot.csv", out / "params.json", secret


def prove_args(snap: Path, params: Path, secret: Path, out: Path, *extra: str) -> list[str]:
    return ["prove", str(snap), "--params", str(params), "--out", str(out), "--batch-size",
            str(K), "--salt-secret", str(secret), *extra]


def expected_tree(snap: Path, params_path: Path) -> tuple[list[BatchAccount], int]:
    """Leaves, accounts and root computed here, independently of the prover."""
    params = load_params(params_path)
    accounts = []
    for block in SnapshotReader(snap, params):
        for n, acct in enumerate(block.ids):
            idh = id_hash(account_id_digest(acct), derive_salt(bytes.fromhex(SECRET), acct))
            accounts.append(BatchAccount(idh, tuple(block.balances[n].tolist()),
                                         tuple(block.qty[n].tolist()),
                                         tuple(block.cost[n].tolist())))
    leaves = [account_leaf(a.id_hash, a.balances, a.qty, a.cost) for a in accounts]
    depth = max((len(leaves) - 1).bit_length(), K.bit_length() - 1)
    tree = MerkleTree.build(leaves, depth=depth, pad_leaf=padding_leaf(2, 2))
    return accounts, tree.root


def snarkjs_verify(art: Path, manifest: dict[str, Any], index: int) -> bool:
    b = art / "batches" / f"{index:06d}"
    proc = subprocess.run([*SNARKJS, "groth16", "verify", str(art / manifest["verification_key"]),
                           str(b / "public.json"), str(b / "proof.json")],
                          capture_output=True, text=True, timeout=300, check=False)
    return proc.returncode == 0 and "OK!" in proc.stdout


@pytest.fixture(scope="module")
def proved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("prove")
    snap, params, secret = snapshot(tmp, 11, seed=20261121)
    art = tmp / "art"
    summary = zk_ok(*prove_args(snap, params, secret, art, "--backend", "snarkjs"))
    manifest = json.loads((art / "manifest.json").read_text())
    return {"snap": snap, "params": params, "secret": secret, "art": art, "summary": summary,
            "manifest": manifest, "tmp": tmp}


def test_batch_totals_sum_to_the_exact_check(proved: dict[str, Any]) -> None:
    check = zk_ok("check", str(proved["snap"]), "--params", str(proved["params"]))
    assert check["deficient"] > 0  # deficient accounts are proved and counted, not refused
    symbols = list(check["assets"])
    records = [BatchRecord.from_json(json.loads(p.read_text()), symbols, file=str(p))
               for p in sorted((proved["art"] / "batches").glob("*/batch.json"))]
    assert [r.index for r in records] == [0, 1, 2]
    assert [r.totals.accounts for r in records] == [4, 4, 3]
    summed = {
        "accounts": sum(r.totals.accounts for r in records),
        "deficient": sum(r.totals.deficient for r in records),
        "equity_total": sum(r.totals.equity_total for r in records),
        "requirement_total": sum(r.totals.requirement_total for r in records),
        "shortfall_total": sum(r.totals.shortfall_total for r in records),
        "assets": {s: {"liabilities": sum(r.totals.liabilities[a] for r in records),
                       "debts": sum(r.totals.debts[a] for r in records)}
                   for a, s in enumerate(symbols)},
    }
    check.pop("deficient_ids")
    assert summed == check
    assert proved["manifest"]["totals"] == check
    assert proved["manifest"]["accounts"] == 11 and proved["manifest"]["batches"] == 3


def test_every_proof_verifies_and_signals_its_batch(proved: dict[str, Any]) -> None:
    art, manifest = proved["art"], proved["manifest"]
    symbols = list(manifest["totals"]["assets"])
    for i in range(3):
        assert snarkjs_verify(art, manifest, i)
        b = art / "batches" / f"{i:06d}"
        rec = BatchRecord.from_json(json.loads((b / "batch.json").read_text()), symbols,
                                    file="batch.json")
        public = json.loads((b / "public.json").read_text())
        assert public == [str(batch_commitment(i, rec.root, rec.params_hash, rec.totals))]
        assert str(rec.params_hash) == manifest["params_hash"]


def test_tampered_public_signal_fails_snarkjs(proved: dict[str, Any], tmp_path: Path) -> None:
    art, manifest = proved["art"], proved["manifest"]
    b = art / "batches" / "000001"
    fake = tmp_path / "public.json"
    fake.write_text(json.dumps([str(int(json.loads((b / "public.json").read_text())[0]) + 1)]))
    proc = subprocess.run([*SNARKJS, "groth16", "verify", str(art / manifest["verification_key"]),
                           str(fake), str(b / "proof.json")], capture_output=True, text=True,
                          timeout=300, check=False)
    assert "OK!" not in proc.stdout


def test_root_and_batches_match_an_independent_computation(proved: dict[str, Any]) -> None:
    accounts, root = expected_tree(proved["snap"], proved["params"])
    manifest = proved["manifest"]
    assert int(manifest["root"]) == root == int(proved["summary"]["root"])
    params = load_params(proved["params"])
    shape = CircuitShape.for_params(params, K)
    for i in range(3):
        plan = plan_batch(params, shape, i, accounts[i * K : (i + 1) * K])
        batch = json.loads((proved["art"] / "batches" / f"{i:06d}" / "batch.json").read_text())
        assert int(batch["root"]) == plan.root and int(batch["commitment"]) == plan.commitment
    levels = json.loads((proved["art"] / "tree" / "levels.json").read_text())
    assert int(levels["root"]) == root and levels["batch_depth"] == 2
    assert len(levels["levels"][0]) == 3


def test_inclusion_index_paths_reach_the_batch_roots(proved: dict[str, Any]) -> None:
    art = proved["art"]
    db = sqlite3.connect(art / "private" / "inclusion.sqlite")
    rows = db.execute("SELECT id, batch, position, salt, id_hash, leaf, balances, qty, cost, "
                      "path FROM accounts ORDER BY batch, position").fetchall()
    assert len(rows) == 11
    for acct, batch, pos, salt, idh, leaf, bal, qty, cost, path in rows:
        assert int(salt) == derive_salt(bytes.fromhex(SECRET), acct)
        assert int(idh) == id_hash(account_id_digest(acct), int(salt))
        assert int(leaf) == account_leaf(int(idh), json.loads(bal), json.loads(qty),
                                         json.loads(cost))
        rec = json.loads((art / "batches" / f"{batch:06d}" / "batch.json").read_text())
        siblings = [int(s) for s in json.loads(path)]
        assert len(siblings) == 2
        assert root_from_path(int(leaf), pos, siblings) == int(rec["root"])


def test_manifest_hashes_every_public_file(proved: dict[str, Any]) -> None:
    art, manifest = proved["art"], proved["manifest"]
    files = manifest["files"]
    on_disk = {p.relative_to(art).as_posix() for p in art.rglob("*")
               if p.is_file() and p.name != "manifest.json" and "private" not in p.parts}
    assert set(files) == on_disk
    assert all(sha256_file(art / f) == h for f, h in files.items())
    assert manifest["insecure_setup"] is True
    assert "INSECURE" in manifest["verification_key"] and manifest["verification_key"] in files
    assert manifest["circuit"]["batch_size"] == K
    assert not any(f.startswith("private/") for f in files)


@pytest.mark.parametrize("backend", ["builtin", "native"])
def test_fast_backends_give_the_same_root_and_snarkjs_valid_proofs(
        proved: dict[str, Any], backend: str) -> None:
    if backend == "native":
        pytest.importorskip("groth16py")
    out = proved["tmp"] / f"art-{backend}"
    summary = zk_ok(*prove_args(proved["snap"], proved["params"], proved["secret"], out,
                                "--backend", backend, "--workers", "2"))
    assert summary["backend"] == backend and summary["proved"] == 3
    assert summary["root"] == proved["summary"]["root"]
    manifest = json.loads((out / "manifest.json").read_text())
    for i in range(3):
        assert snarkjs_verify(out, manifest, i)


def test_kill_and_resume_reproves_nothing(proved: dict[str, Any]) -> None:
    snap, params, secret = snapshot(proved["tmp"], 6 * K, seed=99)
    out = proved["tmp"] / "art-resume"
    proc = subprocess.Popen([*ZKMARGIN, *prove_args(snap, params, secret, out, "--workers", "1",
                                                    "--backend", "snarkjs")],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 900
    while not (out / "batches" / "000001" / "batch.json").exists():
        assert proc.poll() is None, "prove ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "manifest.json").exists()
    done = sorted(p.parent.name for p in (out / "batches").glob("*/batch.json"))
    assert 2 <= len(done) < 6
    before = {d: (out / "batches" / d / "proof.json").read_bytes() for d in done}

    summary = zk_ok(*prove_args(snap, params, secret, out, "--backend", "snarkjs"))
    assert summary["proved"] == 6 - len(done)  # nothing finished was proved again
    # Groth16 proofs are randomised: identical bytes mean the proof was not recomputed
    assert {d: (out / "batches" / d / "proof.json").read_bytes() for d in done} == before
    _, root = expected_tree(snap, params)
    assert int(summary["root"]) == root
    manifest = json.loads((out / "manifest.json").read_text())
    assert all(sha256_file(out / f) == h for f, h in manifest["files"].items())
    assert not list(out.rglob(".*.tmp"))
    rows = sqlite3.connect(out / "private" / "inclusion.sqlite").execute(
        "SELECT COUNT(*) FROM accounts").fetchone()
    assert rows == (6 * K,)
    for i in range(6):
        assert snarkjs_verify(out, manifest, i)


def test_rerun_with_other_inputs_is_refused(proved: dict[str, Any]) -> None:
    snap, params, secret = snapshot(proved["tmp"], 5, seed=3)
    proc = zk(*prove_args(snap, params, secret, proved["art"]))
    assert proc.returncode == 1
    assert "holds a run with a different snapshot_sha256" in proc.stderr


def test_bad_row_stops_before_any_output(tmp_path: Path) -> None:
    snap, params, secret = snapshot(tmp_path, 5, seed=4)
    lines = snap.read_text().splitlines()
    cells = lines[3].split(",")
    cells[1] = "12.3456789012"  # 10 fractional digits: not a fixed-point value
    lines[3] = ",".join(cells)
    snap.write_text("\n".join(lines) + "\n")
    out = tmp_path / "art"
    proc = zk(*prove_args(snap, params, secret, out))
    assert proc.returncode == 1
    assert str(snap) in proc.stderr and "row 4" in proc.stderr and "12.3456789012" in proc.stderr
    assert not out.exists()


def test_production_ptau_path(tmp_path: Path) -> None:
    """--ptau runs a single-party phase 2 over a given ptau file (a random, discarded tau
    stands in for a ceremony's); the keys are not flagged insecure; a too small ptau and
    the development ptau are refused by name."""
    from zkmargin.prover.ptau import dev_ptau

    snap, params, secret = snapshot(tmp_path, 2, seed=5)
    need = compile_circuit(CircuitShape.for_params(load_params(params), 1)).ptau_power
    small = dev_ptau(10)
    proc = zk("prove", str(snap), "--params", str(params), "--out", str(tmp_path / "a"),
              "--batch-size", "1", "--ptau", str(small))
    assert proc.returncode == 1
    assert str(small) in proc.stderr and "2^10" in proc.stderr and f"2^{need}" in proc.stderr
    assert not (tmp_path / "a").exists()

    # the development ptau has a public tau: refused (attack "setup trapdoor" (b))
    proc = zk("prove", str(snap), "--params", str(params), "--out", str(tmp_path / "d"),
              "--batch-size", "1", "--ptau", str(dev_ptau(need)))
    assert proc.returncode == 1
    assert "INSECURE development powers of tau" in proc.stderr
    assert "its tau is the development setup's public tau" in proc.stderr
    assert not (tmp_path / "d").exists()

    out = tmp_path / "b"
    ceremony_ptau = random_ptau(need, tmp_path / "ceremony.ptau")
    summary = zk_ok("prove", str(snap), "--params", str(params), "--out", str(out),
                    "--batch-size", "1", "--ptau", str(ceremony_ptau), "--witness", "wasm",
                    "--salt-secret", str(secret))
    assert summary["insecure_setup"] is False and summary["batches"] == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["verification_key"] == "circuit/verification_key.json"
    assert manifest["insecure_setup"] is False
    for i in range(2):
        assert snarkjs_verify(out, manifest, i)


def test_batch_totals_that_differ_from_the_check_stop_the_run() -> None:
    from zkmargin.errors import ZkMarginError
    from zkmargin.prover.pipeline import same_totals
    from zkmargin.statement import Totals

    symbols = ("USDT", "BTC")
    check = Totals(accounts=3, deficient=1, equity_total=10, requirement_total=4,
                   shortfall_total=2, liabilities=(5, 6), debts=(1, 0))
    same = Totals(3, 1, 10, 4, 2, (5, 6), (1, 0))
    same_totals(same, check, symbols)
    with pytest.raises(ZkMarginError, match=r"differ from the exact check: batches .*"
                                            r"'BTC': \{'liabilities': 7"):
        same_totals(Totals(3, 1, 10, 4, 2, (5, 7), (1, 0)), check, symbols)


def test_prove_reads_standard_input(proved: dict[str, Any], tmp_path: Path) -> None:
    """`prove -` spools standard input once (checked, hashed, batched) and gives the root
    of the same snapshot read from its file."""
    out = tmp_path / "art"
    with proved["snap"].open("rb") as stdin:
        proc = subprocess.run([*ZKMARGIN, *prove_args(Path("-"), proved["params"],
                                                      proved["secret"], out, "--json")],
                              stdin=stdin, capture_output=True, text=True, timeout=1800,
                              cwd=ROOT, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["root"] == proved["summary"]["root"]
    assert not list(Path(tempfile.gettempdir()).glob("zkmargin-stdin-*"))
