"""Commit first, prove later: `zkmargin commit` publishes the root before any proof,
`prove` into the same directory must reproduce it, and the audit holds them together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import zk, zk_json
from tests.support.exchange import BATCH_SIZE, Exchange
from tests.support.tamper import audit_fails, audit_json, edit_json, rehash

pytestmark = [pytest.mark.circuit, pytest.mark.node, pytest.mark.slow]


def args(exchange: Exchange, out: Path, *extra: str) -> list[str]:
    return [str(exchange.snapshot), "--params", str(exchange.params), "--out", str(out),
            "--batch-size", str(BATCH_SIZE), "--salt-secret", str(exchange.secret), *extra]


def test_commit_then_prove_then_audit(exchange: Exchange, tmp_path: Path) -> None:
    out = tmp_path / "art"
    committed = zk_json("commit", *args(exchange, out))
    published = json.loads((out / "commitment.json").read_text())
    assert committed == published
    manifest = exchange.manifest
    # the same snapshot, params, batch size and salt: the root the proofs will give
    assert published["root"] == manifest["root"]
    assert published["params_hash"] == manifest["params_hash"]
    assert (published["accounts"], published["batches"]) == (10, 3)
    assert not (out / "batches").exists() and not (out / "manifest.json").exists()
    assert zk_json("commit", *args(exchange, out)) == committed  # idempotent

    summary = zk_json("prove", *args(exchange, out))
    assert summary["root"] == published["root"]
    doc = audit_json(out)
    assert doc["root"] == published["root"]
    assert "commitment.json" in json.loads((out / "manifest.json").read_text())["files"]


def test_prove_with_another_salt_cannot_meet_the_commitment(exchange: Exchange,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "art"
    zk_json("commit", *args(exchange, out))
    other = tmp_path / "other.hex"
    other.write_text("b3" * 32)
    a = args(exchange, out)
    a[a.index("--salt-secret") + 1] = str(other)
    proc = zk("prove", *a)
    assert proc.returncode == 1
    assert "differs from the salt secret this run started with" in proc.stderr


def test_forged_commitment_fails_the_audit(exchange: Exchange, tmp_path: Path) -> None:
    out = tmp_path / "art"
    zk_json("commit", *args(exchange, out))
    zk_json("prove", *args(exchange, out))
    edit_json(out / "commitment.json", lambda d: d.update(accounts=d["accounts"] + 1))
    rehash(out)
    err = audit_fails(out, "root", "commitment.json")
    assert "is not what the proofs give" in err


def test_proofs_of_other_books_are_refused_against_the_commitment(exchange: Exchange,
                                                                  tmp_path: Path) -> None:
    """A batch root of the committed tree changed after publication (or the books did):
    prove refuses the batch whose proof does not give the committed subtree root."""
    out = tmp_path / "art"
    zk_json("commit", *args(exchange, out))
    levels = json.loads((out / "tree" / "levels.json").read_text())
    levels["levels"][0][1] = str(int(levels["levels"][0][1]) ^ 1)
    (out / "tree" / "levels.json").write_text(json.dumps(levels))
    proc = zk("prove", *args(exchange, out))
    assert proc.returncode == 1
    assert "batch 1 proves subtree root" in proc.stderr
    assert "but the published commitment (commitment.json) holds" in proc.stderr


def test_salt_secret_from_a_pipe_is_read_once(exchange: Exchange, tmp_path: Path) -> None:
    """A secret passed through a pipe (`--salt-secret /dev/stdin`) can be read only once."""
    import subprocess

    from tests.support.cli import ROOT, ZKMARGIN

    a = args(exchange, tmp_path / "art", "--json")
    a[a.index("--salt-secret") + 1] = "/dev/stdin"
    proc = subprocess.run([*ZKMARGIN, "commit", *a], input=exchange.secret.read_text(),
                          capture_output=True, text=True, cwd=ROOT, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["root"] == exchange.manifest["root"]
