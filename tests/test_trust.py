"""The trust chain: each attack of the first adversarial review, built end to end by a
cheating exchange, and the refusal that now meets it (docs/trust.md).

1. foreign key: another circuit (``commitment <== c``), an honest setup, the same public
   commitments (or any totals) re-proved under it;
2. setup trapdoor: development artifacts relabelled as secure; the exchange as the only
   phase-2 contributor; a full multi-party ceremony as the honest baseline;
3. relabelled inclusion: a holder's values shown under other labels;
4. node as leaf: an account posing as a subtree, a path one level longer;
5. aliased totals: a total shifted by r, which hashes the same;
6. inflated count: only the last batch may pad (the circuit half is in tests/soundness).

The registry (7) is in tests/test_contracts.py; the evaluator and multi-signal edits (8) in
tests/test_binfmt.py and tests/soundness/.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import ROOT, zk, zk_json
from tests.support.exchange import BATCH_SIZE, Exchange, copy_artifacts, plain_book
from tests.support.node import SNARKJS
from tests.support.ptau import random_ptau
from tests.support.tamper import audit_fails, audit_json, edit_json, rehash
from zkmargin.commitments import account_id_digest, account_leaf, id_hash, pack_values
from zkmargin.field import SNARK_FIELD
from zkmargin.merkle import MerkleTree
from zkmargin.params import loads_params
from zkmargin.poseidon import get_poseidon
from zkmargin.statement import (
    BatchRecord,
    CircuitShape,
    Manifest,
    Totals,
    batch_commitment,
    circuit_params,
    params_hash,
)
from zkmargin.verifier import verify_files

pytestmark = [pytest.mark.circuit, pytest.mark.node, pytest.mark.slow]

R = SNARK_FIELD


def manifest_of(art: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((art / "manifest.json").read_text())
    return doc


def write_manifest(art: Path, doc: dict[str, Any]) -> None:
    (art / "manifest.json").write_text(json.dumps(doc, indent=1))


# --------------------------------------------------------------------------------------
# 1. Foreign key


FAKE_CIRCUIT = """pragma circom 2.1.6;
// The cheating exchange's circuit: states whatever commitment it is given.
template Fake() {
    signal input c;
    signal output commitment;
    signal square;
    square <== c * c;
    commitment <== c;
}
component main = Fake();
"""


@dataclass(frozen=True)
class FakeCircuit:
    directory: Path
    wasm: Path
    r1cs: Path
    zkey: Path
    vkey: Path

    def prove(self, commitment: str, work: Path) -> tuple[dict[str, Any], list[str]]:
        """A VALID Groth16 proof, under the fake key, that states ``commitment``."""
        (work / "in.json").write_text(json.dumps({"c": commitment}))
        subprocess.run([*SNARKJS, "groth16", "fullprove", str(work / "in.json"),
                        str(self.wasm), str(self.zkey), str(work / "proof.json"),
                        str(work / "public.json")], check=True, capture_output=True,
                       timeout=300)
        return (json.loads((work / "proof.json").read_text()),
                json.loads((work / "public.json").read_text()))


@pytest.fixture(scope="module")
def fake_circuit(tmp_path_factory: pytest.TempPathFactory) -> FakeCircuit:
    d = tmp_path_factory.mktemp("fake-circuit")
    (d / "fake.circom").write_text(FAKE_CIRCUIT)
    subprocess.run(["node", str(ROOT / "node_modules" / "circom2" / "cli.js"), "fake.circom",
                    "--r1cs", "--wasm", "-o", "."], cwd=d, check=True, capture_output=True,
                   timeout=600)
    ptau = random_ptau(6, d / "pot06.ptau")  # an honest setup: a random, discarded tau
    run = [*SNARKJS]
    subprocess.run([*run, "groth16", "setup", "fake.r1cs", str(ptau), "f0.zkey"], cwd=d,
                   check=True, capture_output=True, timeout=600)
    subprocess.run([*run, "zkey", "contribute", "f0.zkey", "fake.zkey", "-n=exchange",
                    f"-e={secrets.token_hex(16)}"], cwd=d, check=True, capture_output=True,
                   timeout=600)
    subprocess.run([*run, "zkey", "export", "verificationkey", "fake.zkey", "fake_vk.json"],
                   cwd=d, check=True, capture_output=True, timeout=600)
    return FakeCircuit(d, d / "fake_js" / "fake.wasm", d / "fake.r1cs", d / "fake.zkey",
                       d / "fake_vk.json")


def _reprove_under_fake_key(art: Path, fake: FakeCircuit, work: Path) -> None:
    """Replace every batch proof by a fake-circuit proof of the same public signal, and
    publish the fake verification key (claiming a ceremony)."""
    man = manifest_of(art)
    for i in range(man["batches"]):
        b = art / "batches" / f"{i:06d}"
        commitment = json.loads((b / "public.json").read_text())[0]
        proof, public = fake.prove(commitment, work)
        assert public == [commitment]
        (b / "proof.json").write_text(json.dumps(proof))
        # the attack is real: the forged proof verifies under the forged key
        assert verify_files(fake.vkey, b / "proof.json", b / "public.json")
    for old in (art / "circuit").iterdir():
        old.unlink()
    shutil.copyfile(fake.vkey, art / "circuit" / "verification_key.json")
    man["verification_key"] = "circuit/verification_key.json"
    man["insecure_setup"] = False
    man["setup"]["kind"] = "ceremony"
    write_manifest(art, man)


def test_foreign_key_with_its_own_zkey_is_refused(exchange: Exchange, fake_circuit: FakeCircuit,
                                                  tmp_path: Path) -> None:
    art = copy_artifacts(exchange, tmp_path / "art", private=False)
    _reprove_under_fake_key(art, fake_circuit, tmp_path)
    shutil.copyfile(fake_circuit.zkey, art / "circuit" / "circuit.zkey")
    edit_json(art / "manifest.json", lambda d: d["setup"].update(zkey="circuit/circuit.zkey"))
    rehash(art)
    err = audit_fails(art, "verification_key", "circuit/circuit.zkey")
    assert "it is the key of another circuit" in err


def test_foreign_key_beside_the_real_zkey_is_refused(exchange: Exchange,
                                                     fake_circuit: FakeCircuit,
                                                     tmp_path: Path) -> None:
    """The honest zkey published, the exchange's own verification key used for proofs."""
    art = copy_artifacts(exchange, tmp_path / "art", private=False)
    real_zkey = manifest_of(exchange.art)["setup"]["zkey"]
    _reprove_under_fake_key(art, fake_circuit, tmp_path)
    shutil.copyfile(exchange.art / real_zkey, art / real_zkey)
    rehash(art)
    err = audit_fails(art, "verification_key", "circuit/verification_key.json")
    assert f"is not the one of {real_zkey}" in err


def test_foreign_circuit_named_in_the_manifest_is_refused(exchange: Exchange,
                                                          fake_circuit: FakeCircuit,
                                                          tmp_path: Path) -> None:
    """The manifest names the exchange's circuit: the auditor recompiles from its own
    sources and finds another r1cs."""
    art = copy_artifacts(exchange, tmp_path / "art", private=False)
    _reprove_under_fake_key(art, fake_circuit, tmp_path)
    shutil.copyfile(fake_circuit.zkey, art / "circuit" / "circuit.zkey")
    fake_id = subprocess.run(["sha256sum", str(fake_circuit.r1cs)], capture_output=True,
                             text=True, check=True).stdout.split()[0]
    edit_json(art / "manifest.json", lambda d: (d["setup"].update(zkey="circuit/circuit.zkey"),
                                                d["circuit"].update(id=fake_id)))
    rehash(art)
    err = audit_fails(art, "circuit", "manifest.json")
    assert f"circuit.id {fake_id} is not the sha256 of the r1cs" in err


def test_foreign_key_with_made_up_totals_is_refused(exchange: Exchange,
                                                    fake_circuit: FakeCircuit,
                                                    tmp_path: Path) -> None:
    """Any totals the exchange likes (no liabilities, nobody deficient), consistently
    rewritten and proved under the foreign key: still the key check refuses."""
    art = copy_artifacts(exchange, tmp_path / "art", private=False)
    man = manifest_of(art)
    symbols = list(man["totals"]["assets"])
    records = []
    for i in range(man["batches"]):
        b = art / "batches" / f"{i:06d}"
        data = json.loads((b / "batch.json").read_text())
        rec = BatchRecord.from_json(data, symbols, file="batch.json")
        nice = Totals(rec.totals.accounts, 0, rec.totals.equity_total, 0, 0,
                      (0,) * len(symbols), (0,) * len(symbols))
        commitment = batch_commitment(i, rec.root, rec.params_hash, nice)
        data.update(totals=nice.to_json(symbols), commitment=str(commitment))
        (b / "batch.json").write_text(json.dumps(data))
        (b / "public.json").write_text(json.dumps([str(commitment)]))
        records.append(nice)
    man["totals"] = Totals.sum(records, len(symbols)).to_json(symbols)
    write_manifest(art, man)
    _reprove_under_fake_key(art, fake_circuit, tmp_path)
    shutil.copyfile(fake_circuit.zkey, art / "circuit" / "circuit.zkey")
    edit_json(art / "manifest.json", lambda d: d["setup"].update(zkey="circuit/circuit.zkey"))
    rehash(art)
    audit_fails(art, "verification_key", "circuit/circuit.zkey")
    # and strict policy does not rescue it either
    proc = zk("audit", str(art), "--policy", "strict")
    assert proc.returncode == 1 and "check 'verification_key' failed" in proc.stderr


def test_key_without_evidence_is_refused(exchange: Exchange, tmp_path: Path) -> None:
    """Artifacts that publish no zkey give no evidence binding the key to the circuit."""
    art = copy_artifacts(exchange, tmp_path / "art", private=False)
    zkey = manifest_of(art)["setup"]["zkey"]
    (art / zkey).unlink()
    rehash(art)
    err = audit_fails(art, "verification_key", zkey)
    assert "no evidence binding the key to the circuit" in err


# --------------------------------------------------------------------------------------
# 2. Setup trapdoor


def test_relabelled_development_setup_is_still_called_insecure(exchange: Exchange,
                                                               tmp_path: Path) -> None:
    """The manifest flag, the file names and the claimed kind all say "secure ceremony":
    the audit, the holder's verifier and the contract export recognise the public tau."""
    art = copy_artifacts(exchange, tmp_path / "art")
    man = manifest_of(art)
    (art / man["verification_key"]).rename(art / "circuit" / "verification_key.json")
    (art / man["setup"]["zkey"]).rename(art / "circuit" / "circuit.zkey")
    man.update(verification_key="circuit/verification_key.json", insecure_setup=False)
    man["setup"].update(kind="ceremony", zkey="circuit/circuit.zkey")
    write_manifest(art, man)
    rehash(art)
    doc = audit_json(art)
    assert doc["insecure_setup"] is True
    assert doc["trust"]["manifest_claims_insecure"] is False
    assert "development powers of tau" in doc["trust"]["insecure_reason"]
    assert doc["trust"]["independently_set_up"] is False
    text = zk("audit", str(art)).stdout
    assert "WARNING: INSECURE setup" in text and "the manifest calls this setup secure" in text

    inc = tmp_path / "me.json"
    assert zk("inclusion", "export", str(art), "--account", "acct-000000001", "--out",
              str(inc)).returncode == 0
    holder = zk("inclusion", "verify", str(inc), "--artifacts", str(art))
    assert holder.returncode == 0 and "INSECURE development setup" in holder.stdout
    out = zk_json("contracts", "export", str(art), "--out", str(tmp_path / "sol"))
    assert out["insecure_setup"] is True
    assert "INSECURE" in (tmp_path / "sol" / "Groth16Verifier.sol").read_text()


@pytest.fixture(scope="module")
def ceremony(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A full phase-2 ceremony over a ptau with a random, discarded tau (standing in for
    a public phase 1): the exchange initialises, two independent parties contribute (each
    with only the current zkey), a public beacon closes it, the exchange proves.

    The book is the plain one (``plain_book``: A=2 P=2 L=3, the circuit batch-test): the
    ceremony and ``snarkjs zkey verify`` cost time in proportion to the circuit, and the
    trust chain is the same for every shape."""
    d = tmp_path_factory.mktemp("ceremony")
    book = plain_book(d / "book")
    shape = ("--params", str(book.params), "--batch-size", str(BATCH_SIZE))
    ptau = random_ptau(14, d / "phase1.ptau")
    init = zk("ceremony", "init", *shape, "--ptau", str(ptau), "--out", str(d / "c0.zkey"))
    assert init.returncode == 0, init.stderr
    h1 = zk_json("ceremony", "contribute", str(d / "c0.zkey"), str(d / "c1.zkey"),
                 "--name", "Auditor A")["hash"]
    h2 = zk_json("ceremony", "contribute", str(d / "c1.zkey"), str(d / "c2.zkey"),
                 "--name", "Auditor B")["hash"]
    beacon = zk("ceremony", "beacon", str(d / "c2.zkey"), str(d / "final.zkey"), "--beacon",
                "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20")
    assert beacon.returncode == 0, beacon.stderr
    chain = json.loads(zk("ceremony", "verify", str(d / "final.zkey"), *shape, "--ptau",
                          str(ptau), "--json").stdout)
    art = d / "art"
    zk_json("prove", str(book.snapshot), "--params", str(book.params), "--out",
            str(art), "--batch-size", str(BATCH_SIZE), "--salt-secret", str(book.secret),
            "--zkey", str(d / "final.zkey"), "--ptau", str(ptau))
    committed = zk_json("commit", str(book.snapshot), "--params", str(book.params), "--out",
                        str(d / "committed"), "--batch-size", str(BATCH_SIZE),
                        "--salt-secret", str(book.secret))
    return {"dir": d, "ptau": ptau, "h1": h1, "h2": h2, "chain": chain, "art": art,
            "book": book, "root": committed["root"]}


def test_ceremony_chain_lists_every_contribution(ceremony: dict[str, Any]) -> None:
    chain = ceremony["chain"]
    assert [(c["type"], c["name"]) for c in chain] == [
        ("contribution", "Auditor A"), ("contribution", "Auditor B"),
        ("beacon", "final beacon")]
    assert [c["hash"] for c in chain[:2]] == [ceremony["h1"], ceremony["h2"]]


def test_ceremony_audit_with_ptau_and_expected_contributions(ceremony: dict[str, Any]
                                                             ) -> None:
    doc = audit_json(ceremony["art"], "--ptau", str(ceremony["ptau"]),
                     "--expect-contribution", ceremony["h1"],
                     "--expect-contribution", ceremony["h2"])
    trust = doc["trust"]
    assert trust["key_bound_to_circuit"] is True and trust["proofs_valid"] is True
    assert trust["phase1"]["checked"] is True and trust["phase2"]["checked"] is True
    assert trust["phase2"]["independent_contributions"] == [ceremony["h1"], ceremony["h2"]]
    assert trust["independently_set_up"] is True and doc["insecure_setup"] is False
    # the book's root, as `zkmargin commit` computes it from the snapshot and the secret
    assert doc["root"] == ceremony["root"]
    text = zk("audit", str(ceremony["art"]), "--ptau", str(ceremony["ptau"]),
              "--expect-contribution", ceremony["h1"]).stdout
    assert "phase 1     verified against the given ptau" in text
    assert "independent 1 contribution(s) you named are in the chain" in text


def test_ceremony_audit_without_ptau_confirms_no_independence(ceremony: dict[str, Any]) -> None:
    doc = audit_json(ceremony["art"])
    trust = doc["trust"]
    assert trust["key_bound_to_circuit"] is True
    assert trust["phase1"]["checked"] is False
    assert trust["independently_set_up"] is False
    assert "NONE confirmed" in zk("audit", str(ceremony["art"])).stdout
    proc = zk("audit", str(ceremony["art"]), "--expect-contribution", ceremony["h1"])
    assert proc.returncode == 2 and "needs --ptau" in proc.stderr  # click usage error


def test_missing_contribution_fails_the_setup_check(ceremony: dict[str, Any]) -> None:
    stranger = secrets.token_hex(64)
    err = audit_fails(ceremony["art"], "setup", "circuit/circuit.zkey", "--ptau",
                      str(ceremony["ptau"]), "--expect-contribution", ceremony["h1"],
                      "--expect-contribution", stranger)
    assert f"contribution {stranger} is not in the phase-2 chain" in err


def test_another_ptau_fails_the_setup_check(ceremony: dict[str, Any], tmp_path: Path) -> None:
    """The auditor's trusted phase 1 is not the one the key was made from."""
    other = random_ptau(14, tmp_path / "other.ptau")
    err = audit_fails(ceremony["art"], "setup", "circuit/circuit.zkey", "--ptau", str(other))
    assert "is not the key of circuit.r1cs set up from other.ptau" in err


def test_exchange_as_sole_contributor_is_not_independent(ceremony: dict[str, Any],
                                                         tmp_path: Path) -> None:
    """`prove --ptau` alone: the exchange is the only phase-2 contributor. snarkjs calls
    the key fine ("ZKey Ok!"), and the audit says so, but never calls it independent."""
    art = tmp_path / "art"
    book = ceremony["book"]
    zk_json("prove", str(book.snapshot), "--params", str(book.params), "--out",
            str(art), "--batch-size", str(BATCH_SIZE), "--ptau", str(ceremony["ptau"]))
    man = Manifest.read(art / "manifest.json")
    assert man.setup.kind == "single-party" and len(man.setup.contributions) == 1
    doc = audit_json(art, "--ptau", str(ceremony["ptau"]))
    trust = doc["trust"]
    assert trust["phase1"]["checked"] is True and trust["independently_set_up"] is False
    assert [c["name"] for c in trust["phase2"]["contributions"]] == [
        "zkmargin operator (single-party setup)"]
    audit_fails(art, "setup", "circuit/circuit.zkey", "--ptau", str(ceremony["ptau"]),
                "--expect-contribution", ceremony["h1"])


# --------------------------------------------------------------------------------------
# 3. Relabelled inclusion


def _two_asset_holder(exchange: Exchange, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """An inclusion file of an account holding the first two assets, in different
    amounts (their labels can be swapped)."""
    for n in range(10):
        out = tmp_path / f"acct-{n}.json"
        assert zk("inclusion", "export", str(exchange.art), "--account",
                  f"acct-{n:09d}", "--out", str(out)).returncode == 0
        doc = json.loads(out.read_text())
        values = list(doc["balances"].values())[:2]
        if len(set(values)) == 2 and all(float(v) != 0 for v in values):
            return out, doc
    raise AssertionError("no account holds two different non-zero balances")


def _swap_first_two(balances: dict[str, str]) -> tuple[str, str, dict[str, str]]:
    """The labels of the first two balances, and the balances with those labels swapped
    (the values keep their committed order)."""
    (a, va), (b, vb), *rest = balances.items()
    return a, b, {b: va, a: vb, **dict(rest)}


def _fails(file: Path, check: str, *args: str) -> str:
    proc = zk("inclusion", "verify", str(file), *args)
    assert proc.returncode == 1, proc.stdout
    assert f"NOT verified: check '{check}' failed" in proc.stderr, proc.stderr
    return proc.stderr


def test_relabelled_balances_are_refused(exchange: Exchange, tmp_path: Path) -> None:
    """The committed slots say (USDT, BTC) = (40, 3); the file shows BTC 40, USDT 3: the
    values keep their committed order (so the leaf still matches) under swapped labels."""
    path, doc = _two_asset_holder(exchange, tmp_path)
    a, b, doc["balances"] = _swap_first_two(doc["balances"])
    path.write_text(json.dumps(doc))
    err = _fails(path, "labels")
    assert f"the file labels its balances ['{b}', '{a}'" in err


def test_relabelled_params_are_refused(exchange: Exchange, tmp_path: Path) -> None:
    """The exchange also swaps the symbols in the embedded params: they no longer hash to
    the params hash; and if it rewrites that hash too, the published one tells."""
    path, doc = _two_asset_holder(exchange, tmp_path)
    _, _, doc["balances"] = _swap_first_two(doc["balances"])
    assets = doc["params"]["assets"]
    assets[0]["symbol"], assets[1]["symbol"] = assets[1]["symbol"], assets[0]["symbol"]
    path.write_text(json.dumps(doc))
    assert "do not hash" not in _fails(path, "params")
    forged = loads_params(json.dumps(doc["params"]))
    shape = CircuitShape.for_params(forged, 1)
    published = doc["params_hash"]
    doc["params_hash"] = str(params_hash(shape, circuit_params(forged, shape)))
    path.write_text(json.dumps(doc))
    _fails(path, "params", "--params-hash", published)
    _fails(path, "artifacts", "--artifacts", str(exchange.art))


# --------------------------------------------------------------------------------------
# 4. Node as leaf


def test_an_account_cannot_pose_as_a_subtree(tmp_path: Path) -> None:
    """Shape A=1, P=1: three slots, one packed field. The exchange commits a zero account
    whose id hash is the whale's real leaf, and shows the whale a path one level longer
    through it. With a 2-input leaf that path would reach the root; leaves are now tagged
    Poseidons of 3+ inputs, so it does not."""
    params_doc = {"assets": [{"symbol": "BTC", "price": "60000", "weight_bps": 9500}],
                  "perps": [{"symbol": "BTC-PERP", "mark": "60000", "brackets": [
                      {"max_notional": "100000", "mmr_ppm": 5000},
                      {"max_notional": None, "mmr_ppm": 10000}]}]}
    params = loads_params(json.dumps(params_doc))
    shape = CircuitShape.for_params(params, 2)
    ph = params_hash(shape, circuit_params(params, shape))
    salt = 12345
    whale = account_leaf(id_hash(account_id_digest("whale"), salt), [40 * 10**8], [0], [0])
    fake = account_leaf(whale, [0], [0], [0])  # the exchange's zero account "posing"
    others = [account_leaf(id_hash(account_id_digest(f"u{i}"), i + 1), [i * 10**8], [0], [0])
              for i in range(3)]
    tree = MerkleTree.build([fake, *others], depth=2, pad_leaf=0)
    zero_field = pack_values([0, 0, 0])[0]
    # what a 2-input leaf would have allowed: Poseidon(whale leaf, zero field) as the node
    assert get_poseidon().hash((whale, zero_field)) != fake
    doc = {
        "format": "zkmargin-inclusion/2", "account_id": "whale", "salt": str(salt),
        "balances": {"BTC": "40"}, "positions": {"BTC-PERP": {"qty": "0", "cost": "0"}},
        "leaf": str(whale), "leaf_index": 0,
        "path": [str(zero_field), *(str(v) for v in tree.path(0))],
        "batch_index": 0, "batch_count": 2, "batch_size": 4, "tree_depth": 3,
        "root": str(tree.root), "params_hash": str(ph), "params": params_doc,
    }
    file = tmp_path / "whale.json"
    file.write_text(json.dumps(doc))
    err = _fails(file, "path", "--root", str(tree.root))
    assert f"not the file's {tree.root}" in err
    # and a path longer than the published tree's depth is refused as such
    doc.update(batch_count=1, tree_depth=3)
    file.write_text(json.dumps(doc))
    assert "make a tree of depth 2" in _fails(file, "path", "--root", str(tree.root))


# --------------------------------------------------------------------------------------
# 5. Aliased totals; 6. inflated count


def test_total_shifted_by_r_is_refused_also_with_python_o(exchange: Exchange,
                                                      tmp_path: Path) -> None:
    """liabilities - r hashes like liabilities (the commitment and proof still check):
    the range check of every JSON total refuses it, also under `python -O`."""
    art = copy_artifacts(exchange, tmp_path / "art", private=False)
    b = art / "batches" / "000000" / "batch.json"
    data = json.loads(b.read_text())
    sym = next(iter(data["totals"]["assets"]))
    data["totals"]["assets"][sym]["liabilities"] -= R
    b.write_text(json.dumps(data))
    rehash(art)
    err = audit_fails(art, "batch_file", "batches/000000/batch.json")
    assert f"totals.assets.{sym}.liabilities" in err and "out of range" in err
    # the manifest's totals shifted the same way (so that they would add up): refused first
    edit_json(art / "manifest.json",
              lambda d: d["totals"]["assets"][sym].update(
                  liabilities=d["totals"]["assets"][sym]["liabilities"] - R))
    err = audit_fails(art, "manifest", "manifest.json")
    assert f"totals.assets.{sym}.liabilities" in err and "out of range" in err


def test_only_the_last_batch_may_pad(exchange: Exchange) -> None:
    from zkmargin.verifier.audit import AuditError, check_accounts

    man = Manifest.read(exchange.art / "manifest.json")
    symbols = man.symbols
    short = [BatchRecord(i, 1, 1, Totals(n, 0, 0, 0, 0, (0,) * len(symbols),
                                         (0,) * len(symbols)), 1)
             for i, n in enumerate((4, 3, 3))]
    with pytest.raises(AuditError) as info:
        check_accounts(man, short)
    assert info.value.check == "accounts" and "every batch but the last holds 4" in str(
        info.value)
