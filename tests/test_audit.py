"""``zkmargin audit`` and ``zkmargin inclusion`` on real artifacts of ``zkmargin prove``.

Every tamper test changes one thing and names the check that must catch it: first as a
plain byte change (the manifest's sha256 catches it), then with the manifest re-hashed, as
an attacker who rewrites the manifest would, so the deeper check itself must catch it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import zk
from tests.support.exchange import Exchange, copy_artifacts
from tests.support.tamper import audit_fails, edit_json, rehash
from zkmargin.statement import BatchRecord, batch_commitment

pytestmark = [pytest.mark.circuit, pytest.mark.node, pytest.mark.slow]


@pytest.fixture(scope="module")
def proved(exchange: Exchange) -> dict[str, Any]:
    return {"art": exchange.art, "check": exchange.check}


@pytest.fixture
def art(exchange: Exchange, tmp_path: Path) -> Path:
    return copy_artifacts(exchange, tmp_path / "art")


def failed(art: Path, check: str, file: str) -> str:
    return audit_fails(art, check, file)


# --------------------------------------------------------------------------------------
# audit
# --------------------------------------------------------------------------------------


def test_audit_valid_json_matches_check(proved: dict[str, Any]) -> None:
    proc = zk("audit", str(proved["art"]), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    manifest = json.loads((proved["art"] / "manifest.json").read_text())
    assert doc["valid"] is True and doc["batches"] == 3
    assert doc["root"] == manifest["root"] and doc["params_hash"] == manifest["params_hash"]
    check = dict(proved["check"])
    check.pop("deficient_ids")
    assert {k: doc[k] for k in check} == check
    assert doc["insecure_setup"] is True


def test_audit_human_report_and_policies(proved: dict[str, Any]) -> None:
    proc = zk("audit", str(proved["art"]))
    assert proc.returncode == 0
    assert "VALID" in proc.stdout and "INSECURE" in proc.stdout
    assert f"0x{int(json.loads((proved['art'] / 'manifest.json').read_text())['root']):064x}" \
        in proc.stdout
    assert proved["check"]["deficient"] > 0
    strict = zk("audit", str(proved["art"]), "--policy", "strict")
    assert strict.returncode == 2
    assert f"{proved['check']['deficient']} account(s) are margin-deficient" in strict.stderr


def test_audit_reference_verifier_agrees(proved: dict[str, Any]) -> None:
    proc = zk("audit", str(proved["art"]), "--json", "--verifier", "reference")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["valid"] is True


@pytest.mark.parametrize("rel", [
    "batches/000000/proof.json", "batches/000001/public.json", "batches/000002/batch.json",
    "params.json", "tree/levels.json",
])
@pytest.mark.parametrize("where", [0.25, 0.6])
def test_any_changed_byte_fails_sha256(art: Path, rel: str, where: float) -> None:
    data = bytearray((art / rel).read_bytes())
    pos = int(len(data) * where)
    data[pos] = ord("7") if data[pos] != ord("7") else ord("3")
    (art / rel).write_bytes(bytes(data))
    assert "differs from the manifest's" in failed(art, "sha256", rel)


def test_changed_manifest_byte_fails(art: Path) -> None:
    text = (art / "manifest.json").read_text()
    (art / "manifest.json").write_text(text.replace('"accounts": 10', '"accounts": 11', 1))
    assert "the manifest says 11" in failed(art, "accounts", "manifest.json")


def test_unlisted_file_fails(art: Path) -> None:
    (art / "batches" / "000001" / "extra.json").write_text("{}")
    failed(art, "sha256", "batches/000001/extra.json")


def test_forged_proof_fails_the_proof_check(art: Path) -> None:
    other = json.loads((art / "batches" / "000001" / "proof.json").read_text())
    edit_json(art / "batches" / "000000" / "proof.json",
              lambda d: d.update(pi_c=other["pi_c"]))
    rehash(art)
    assert "does not verify" in failed(art, "proof", "batches/000000/proof.json")


def test_public_signal_off_by_one_fails_the_commitment_check(art: Path) -> None:
    path = art / "batches" / "000001" / "public.json"
    path.write_text(json.dumps([str(int(json.loads(path.read_text())[0]) + 1)]))
    rehash(art)
    failed(art, "commitment", "batches/000001/public.json")


def test_edited_totals_fail_the_commitment_check(art: Path) -> None:
    edit_json(art / "batches" / "000002" / "batch.json",
              lambda d: d["totals"].update(deficient=0))
    rehash(art)
    assert "not the hash of the file's fields" in failed(art, "commitment",
                                                         "batches/000002/batch.json")


def test_consistent_lie_fails_the_proof_check(art: Path) -> None:
    """Totals, commitment and public signal all rewritten consistently: only the proof can
    tell, and it does."""
    b = art / "batches" / "000000"
    data = json.loads((b / "batch.json").read_text())
    symbols = list(data["totals"]["assets"])
    data["totals"]["shortfall_total"] = 0
    data["totals"]["deficient"] = 0
    rec = BatchRecord.from_json(data, symbols, file="batch.json")
    c = batch_commitment(rec.index, rec.root, rec.params_hash, rec.totals)
    data["commitment"] = str(c)
    (b / "batch.json").write_text(json.dumps(data))
    (b / "public.json").write_text(json.dumps([str(c)]))
    rehash(art)
    failed(art, "proof", "batches/000000/proof.json")


def test_changed_price_fails_the_params_hash(art: Path) -> None:
    edit_json(art / "params.json", lambda d: d["assets"][1].update(price="1234.5"))
    rehash(art)
    failed(art, "params_hash", "params.json")


def test_changed_manifest_totals_root_and_count(art: Path) -> None:
    edit_json(art / "manifest.json", lambda d: d["totals"].update(deficient=0))
    failed(art, "totals", "manifest.json")
    edit_json(art / "manifest.json", lambda d: d.update(root=str(int(d["root"]) ^ 1)))
    failed(art, "root", "manifest.json")


def test_missing_batch_fails_the_indices(art: Path) -> None:
    shutil.rmtree(art / "batches" / "000002")
    failed(art, "sha256", "batches/000002/batch.json")
    rehash(art)
    edit_json(art / "manifest.json", lambda d: d.update(batches=3))
    failed(art, "batch_indices", "batches")


def test_swapped_verification_key_fails(art: Path) -> None:
    vk_rel = json.loads((art / "manifest.json").read_text())["verification_key"]
    edit_json(art / vk_rel, lambda d: d.update(IC=[d["IC"][1], d["IC"][0]]))
    rehash(art)
    assert "is not the one of" in failed(art, "verification_key", vk_rel)


# --------------------------------------------------------------------------------------
# inclusion
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("account", ["acct-000000000", "acct-000000005", "acct-000000009"])
def test_inclusion_round_trip_first_middle_last_batch(proved: dict[str, Any], tmp_path: Path,
                                                      account: str) -> None:
    out = tmp_path / "me.json"
    proc = zk("inclusion", "export", str(proved["art"]), "--account", account, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["account_id"] == account and doc["batch_count"] == 3
    assert doc["batch_index"] == int(account[-1]) // 4
    assert len(doc["path"]) == 4  # 2 levels inside the batch, 2 above
    assert "acct-" not in json.dumps({k: v for k, v in doc.items() if k != "account_id"})
    manifest = json.loads((proved["art"] / "manifest.json").read_text())
    root_hex = f"0x{int(manifest['root']):064x}"
    ok = zk("inclusion", "verify", str(out), "--root", root_hex, "--artifacts",
            str(proved["art"]))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"Account {account} with ")
    assert f"is included in root {root_hex}, batch {doc['batch_index']} of 3; " \
           "the batch proof is valid" in ok.stdout


@pytest.fixture
def exported(proved: dict[str, Any], tmp_path: Path) -> Path:
    out = tmp_path / "me.json"
    assert zk("inclusion", "export", str(proved["art"]), "--account", "acct-000000006",
              "--out", str(out)).returncode == 0
    return out


def verify_fails(path: Path, check: str, *args: str) -> str:
    proc = zk("inclusion", "verify", str(path), *args)
    assert proc.returncode == 1, proc.stdout
    assert f"NOT verified: check '{check}' failed" in proc.stderr, proc.stderr
    return proc.stderr


def test_inclusion_detects_changed_balance(exported: Path) -> None:
    def richer(d: dict[str, Any]) -> None:
        sym = next(iter(d["balances"]))
        d["balances"][sym] = str(int(d["balances"][sym].split(".")[0]) + 1000)
    edit_json(exported, richer)
    assert "a balance, position or the salt was changed" in verify_fails(exported, "leaf")


def test_inclusion_detects_changed_salt(exported: Path) -> None:
    edit_json(exported, lambda d: d.update(salt=str(int(d["salt"]) + 1)))
    verify_fails(exported, "leaf")


def test_inclusion_detects_changed_path_and_root(exported: Path, proved: dict[str, Any]) -> None:
    good = json.loads(exported.read_text())
    edit_json(exported, lambda d: d["path"].__setitem__(2, str(int(d["path"][2]) + 1)))
    verify_fails(exported, "path")
    exported.write_text(json.dumps(good))
    edit_json(exported, lambda d: d.update(root=str(int(d["root"]) + 1)))
    verify_fails(exported, "path")
    exported.write_text(json.dumps(good))
    verify_fails(exported, "root", "--root", "0x" + "12" * 32)


def test_inclusion_detects_batch_beyond_count(exported: Path) -> None:
    edit_json(exported, lambda d: d.update(batch_count=1))
    assert "not below the proven batch count 1" in verify_fails(exported, "batch")


def test_inclusion_unknown_account(proved: dict[str, Any], tmp_path: Path) -> None:
    proc = zk("inclusion", "export", str(proved["art"]), "--account", "nobody", "--out",
              str(tmp_path / "x.json"))
    assert proc.returncode == 1 and "no account with id 'nobody'" in proc.stderr
    assert not (tmp_path / "x.json").exists()
