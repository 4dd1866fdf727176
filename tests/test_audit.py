"""``zkmargin audit`` and ``zkmargin inclusion`` on real artifacts of ``zkmargin prove``:
the shared proved exchange, an options book (tests/support/exchange.py).

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
from tests.support.exchange import OPTION_HOLDERS, Exchange, copy_artifacts
from tests.support.tamper import audit_fails, edit_json, rehash
from zkmargin.fixed import format_fixed
from zkmargin.margin.reference import account_margin
from zkmargin.params import load_params
from zkmargin.report import usd
from zkmargin.snapshot import SnapshotReader
from zkmargin.statement import BatchRecord, CircuitShape, batch_commitment

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


def test_the_shared_exchange_is_an_options_book(exchange: Exchange) -> None:
    manifest = exchange.manifest
    shape = CircuitShape.from_json(manifest["circuit"], file="manifest.json")
    assert shape.describe() == "A=3 P=2 L=2 T=3 O=4 G=2 S=3 K=4"
    params = load_params(exchange.params)
    assert CircuitShape.for_params(params, 4) == shape
    assert exchange.check["deficient"] == 3 and exchange.check["accounts"] == 10
    assert manifest["totals"]["deficient"] == 3


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
    edit_json(art / "batches" / "000002" / "batch.json",  # 0 <-> 1 deficient account
              lambda d: d["totals"].update(deficient=1 - min(d["totals"]["deficient"], 1)))
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
    assert "a balance, position, option or the salt was changed" in \
        verify_fails(exported, "leaf")


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


# --------------------------------------------------------------------------------------
# inclusion of option holders: the holder's view, recomputed from the committed values
# --------------------------------------------------------------------------------------


def snapshot_account(exchange: Exchange, account: str) -> tuple[list[int], list[int],
                                                                 list[int], list[int]]:
    """The account's balances, perp sizes, costs and option sizes from the snapshot."""
    params = load_params(exchange.params)
    for block in SnapshotReader(exchange.snapshot, params):
        if account in block.ids:
            n = block.ids.index(account)
            return (block.balances[n].tolist(), block.qty[n].tolist(),
                    block.cost[n].tolist(), block.options[n].tolist())
    raise AssertionError(f"{account} is not in {exchange.snapshot}")


@pytest.mark.parametrize("account", OPTION_HOLDERS)
def test_option_holder_inclusion_shows_the_reference_margin(exchange: Exchange,
                                                            tmp_path: Path,
                                                            account: str) -> None:
    params = load_params(exchange.params)
    bal, qty, cost, opt = snapshot_account(exchange, account)
    assert any(opt)
    out = tmp_path / "me.json"
    assert zk("inclusion", "export", str(exchange.art), "--account", account, "--out",
              str(out)).returncode == 0
    doc = json.loads(out.read_text())
    assert list(doc)[:6] == ["format", "account_id", "salt", "balances", "positions",
                             "options"]
    assert doc["options"] == {o: format_fixed(v)
                              for o, v in zip(params.option_symbols, opt, strict=True)}
    proc = zk("inclusion", "verify", str(out), "--artifacts", str(exchange.art), "--json")
    assert proc.returncode == 0, proc.stderr
    v = json.loads(proc.stdout)
    m = account_margin(params, bal, qty, cost, opt)
    assert v["verified"] is True and v["included"] is True and v["proof_checked"] is True
    assert v["options"] == doc["options"]
    assert (int(v["equity"]), int(v["requirement"])) == (m.equity, m.requirement)
    assert v["status"] == ("sufficient" if m.sufficient else "deficient")
    assert int(v["shortfall"]) == m.shortfall
    assert int(v["excess"]) == m.equity - m.requirement
    # the parts: MM of the bracket perp (ETH-PERP; the BTC group perp is in the BTC
    # group's PM), PM of each group
    assert v["maintenance"] == {"ETH-PERP": str(m.maintenance[1])}
    assert v["portfolio"] == {g: str(pm) for g, pm in zip(params.groups, m.portfolio,
                                                          strict=True)}
    assert int(v["requirement"]) == m.maintenance[1] + sum(m.portfolio)
    assert m.portfolio != (0, 0)  # an option position is margined in its group

    text = zk("inclusion", "verify", str(out), "--artifacts", str(exchange.art))
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    for o, q in zip(params.option_symbols, opt, strict=True):
        if q:
            side = "short" if q < 0 else "long"
            assert any(line.split() == ["option", o, format_fixed(q), side]
                       for line in lines), (o, text.stdout)
    assert f"  equity       {usd(m.equity)} USD" in lines
    assert f"  requirement  {usd(m.requirement)} USD" in lines
    assert any(line.split()[:3] == ["ETH-PERP", "maintenance", usd(m.maintenance[1])]
               for line in lines)
    for g, pm in zip(params.groups, m.portfolio, strict=True):
        assert any(line.split()[:4] == [g, "portfolio", "margin", usd(pm)] for line in lines)
    status = ("  status       margin-sufficient (equity covers the requirement)"
              if m.sufficient else
              f"  status       margin-DEFICIENT: shortfall {usd(m.shortfall)} USD")
    assert status in lines


def test_the_option_holders_cover_the_cases(exchange: Exchange) -> None:
    """The holders above: deficient and sufficient, long and short options, perps."""
    params = load_params(exchange.params)
    cases = {}
    for account in OPTION_HOLDERS:
        bal, qty, cost, opt = snapshot_account(exchange, account)
        cases[account] = (account_margin(params, bal, qty, cost, opt).sufficient,
                          min(opt) < 0, max(opt) > 0, any(qty))
    assert {c[0] for c in cases.values()} == {True, False}
    assert any(c[1] for c in cases.values()) and any(c[2] for c in cases.values())
    assert cases["acct-000000009"][1] and cases["acct-000000009"][3]  # short put and perps


@pytest.fixture
def option_file(exchange: Exchange, tmp_path: Path) -> Path:
    out = tmp_path / "holder.json"
    assert zk("inclusion", "export", str(exchange.art), "--account", "acct-000000009",
              "--out", str(out)).returncode == 0
    return out


def test_forged_option_quantity_is_refused(option_file: Path, exchange: Exchange) -> None:
    """A holder's file whose option size was changed (a short put made smaller) no longer
    gives its leaf: the leaf check refuses it, and no margin is shown."""
    doc = json.loads(option_file.read_text())
    short = next(o for o, q in doc["options"].items() if q.startswith("-"))
    edit_json(option_file, lambda d: d["options"].__setitem__(short, "-0.01"))
    proc = zk("inclusion", "verify", str(option_file), "--artifacts", str(exchange.art),
              "--json")
    assert proc.returncode == 1
    v = json.loads(proc.stdout)
    assert v["verified"] is False and v["check"] == "leaf"
    assert "a balance, position, option or the salt was changed" in v["error"]
    assert "equity" not in v and "requirement" not in v


@pytest.mark.parametrize(("value", "reason"), [
    (-0.19, "must be a decimal string"),
    ("-0.123456789", "has 9 fractional digits; at most 8 are allowed"),
    ("1e3", "is not a decimal number"),
    ("92233720368.54775808", "out of range"),
])
def test_malformed_option_quantity_names_the_field(option_file: Path, value: object,
                                                   reason: str) -> None:
    doc = json.loads(option_file.read_text())
    name = next(iter(doc["options"]))
    edit_json(option_file, lambda d: d["options"].__setitem__(name, value))
    err = verify_fails(option_file, "file")
    assert f"{option_file}: field options.{name}: value {value!r}: " in err, err
    assert reason in err


def test_option_labels_must_be_the_hashed_ones(option_file: Path) -> None:
    good = json.loads(option_file.read_text())
    renamed = dict(good)
    renamed["options"] = {("ETH-C-3000" if o == "ETH-C-2000" else o): q
                          for o, q in good["options"].items()}
    option_file.write_text(json.dumps(renamed))
    err = verify_fails(option_file, "labels")
    assert "the file labels its options ['BTC-C-50000', 'BTC-P-45000', 'ETH-C-3000', " \
        "'ETH-P-2000'], the hashed params list ['BTC-C-50000', 'BTC-P-45000', " \
        "'ETH-C-2000', 'ETH-P-2000']" in err
    dropped = {k: v for k, v in good.items() if k != "options"}
    option_file.write_text(json.dumps(dropped))
    err = verify_fails(option_file, "labels")
    assert "the file has no 'options', the hashed params list options" in err
