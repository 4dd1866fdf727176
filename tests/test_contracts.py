"""Solidity verifier and SolvencyRegistry on a real EVM (anvil), with real proofs, and
``zkmargin audit --rpc`` comparing the chain with the audited artifacts.

The shared small proved exchange (tests/support/exchange.py: an options book of 10
accounts, A=3 P=2 L=2 T=3 O=4 G=2 S=3, K=4: 3 batches) is exported with ``zkmargin
contracts export``; the contracts are compiled with the pinned solc-js (the product's
``solc_compile``) and deployed on anvil
(tests/support/evm.py), then driven by raw JSON-RPC. The exchange is the adversary: each
registry test forges one input the exchange chooses (the verifier, root, params hash,
batch count, batchesRoot, a commitment at two indices) and asserts the refusal, on chain
or by the audit.

Gas numbers: ``.venv/bin/python -m pytest -q -s tests/test_contracts.py -k gas``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import ROOT, zk
from tests.support.evm import (
    Chain,
    Dyn,
    RevertError,
    Rpc,
    abi_encode,
    anvil,
    compile_texts,
    connect,
    contracts_of,
    expect_revert,
    words,
)
from tests.support.evm import word as _word
from tests.support.exchange import Exchange, copy_artifacts
from zkmargin.artifacts import sha256_file
from zkmargin.field import BASE_FIELD, SNARK_FIELD
from zkmargin.verifier import contracts as sol
from zkmargin.verifier import onchain

pytestmark = [pytest.mark.node, pytest.mark.slow, pytest.mark.circuit]

GAS_TARGET = 230_000
R, Q = SNARK_FIELD, BASE_FIELD
GAS: dict[str, Any] = {}  # measured numbers, printed by test_gas_report


# ------------------------------------------------------------------------------------------
# Fixtures: proved artifacts, exported contracts, anvil, compiled contracts


def zk_contracts(*args: str) -> subprocess.CompletedProcess[str]:
    return zk("contracts", *args)


def test_cli_registers_contracts() -> None:
    proc = zk("contracts", "export", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "publish.json" in proc.stdout


def test_cli_starts_without_the_verifier_package() -> None:
    """`zkmargin contracts` is defined in zkmargin/cli.py and imports the verifier package
    only when it runs: a broken verifier package leaves the other commands working."""
    code = ("import sys; sys.modules['zkmargin.verifier'] = None; "
            "from zkmargin.cli import main; main(sys.argv[1:], prog_name='zkmargin')")
    for args in (["--help"], ["contracts", "export", "--help"], ["check", "--help"]):
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                              text=True, timeout=120, cwd=ROOT, check=False)
        assert proc.returncode == 0, (args, proc.stderr)
        assert "Usage: zkmargin" in proc.stdout, args


@pytest.fixture(scope="module")
def art(exchange: Exchange, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("contracts")
    art = exchange.art
    sol = tmp / "sol"
    proc = zk_contracts("export", str(art), "--out", str(sol), "--epoch", "7", "--json")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((art / "manifest.json").read_text())
    publish = json.loads((sol / "publish.json").read_text())
    assert json.loads(proc.stdout)["batches_root"] == publish["epoch"]["batches_root"]
    return {"tmp": tmp, "art": art, "sol": sol, "manifest": manifest, "publish": publish,
            "vk": json.loads((art / manifest["verification_key"]).read_text())}


@pytest.fixture(scope="module")
def rpc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rpc]:
    with anvil(tmp_path_factory.mktemp("anvil")) as client:
        yield client


@pytest.fixture(scope="module")
def chain(rpc: Rpc, art: dict[str, Any]) -> Chain:
    return connect(rpc, art["sol"])


@pytest.fixture(scope="module")
def verifier(chain: Chain) -> str:
    return chain.deploy("Groth16Verifier")


VERIFY = "verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[1])"
PUBLISH = "publishEpoch(uint256,address,uint256,uint256,bytes32,uint256)"
SUBMIT = "submitBatch(uint256,uint256,uint256[2],uint256[2][2],uint256[2],uint256,bytes32[])"


@dataclass
class Batch:
    index: int
    commitment: int
    a: list[int]
    b: list[list[int]]
    c: list[int]
    path: list[str]


def batches(art: dict[str, Any]) -> list[Batch]:
    return [Batch(b["index"], int(b["commitment"]), [int(v) for v in b["proof"]["a"]],
                  [[int(v) for v in row] for row in b["proof"]["b"]],
                  [int(v) for v in b["proof"]["c"]], list(b["path"]))
            for b in art["publish"]["batches"]]


def verify_data(chain: Chain, a: Any, b: Any, c: Any, public: int) -> bytes:
    return chain.calldata("Groth16Verifier", VERIFY, a, b, c, [public])


def verify_outcome(chain: Chain, verifier: str, a: Any, b: Any, c: Any, public: int) -> str:
    """"true", "false" or the name of the revert."""
    try:
        out = chain.call(verifier, verify_data(chain, a, b, c, public))
    except RevertError as exc:
        if exc.data.startswith(chain.rpc.selector("PrecompileFailed()")):
            return "PrecompileFailed"
        return f"revert {exc.data}"
    assert words(out) in ([0], [1]), out
    return "true" if words(out) == [1] else "false"


# ------------------------------------------------------------------------------------------
# Export


def test_export_matches_the_artifacts(art: dict[str, Any]) -> None:
    pub, manifest = art["publish"], art["manifest"]
    assert pub["epoch"]["epoch"] == "7"
    assert pub["epoch"]["root"] == manifest["root"]
    assert pub["epoch"]["params_hash"] == manifest["params_hash"]
    assert pub["epoch"]["batch_count"] == manifest["batches"] == 3
    assert pub["insecure_setup"] is True
    commitments = []
    for i, b in enumerate(pub["batches"]):
        rec = json.loads((art["art"] / "batches" / f"{i:06d}" / "batch.json").read_text())
        assert b["commitment"] == rec["commitment"]
        assert [b["commitment"]] == json.loads(
            (art["art"] / "batches" / f"{i:06d}" / "public.json").read_text())
        commitments.append(int(rec["commitment"]))
    # batchesRoot by hand: 3 leaves + 1 zero pad, depth 2
    leaves = [hashlib.sha256(i.to_bytes(32, "big") + c.to_bytes(32, "big")).digest()
              for i, c in enumerate(commitments)] + [bytes(32)]
    n01 = hashlib.sha256(leaves[0] + leaves[1]).digest()
    n23 = hashlib.sha256(leaves[2] + leaves[3]).digest()
    root = hashlib.sha256(n01 + n23).digest()
    assert pub["epoch"]["batches_root"] == "0x" + root.hex()
    assert pub["batches"][2]["path"] == ["0x" + bytes(32).hex(), "0x" + n01.hex()]
    assert pub["batches"][1]["path"] == ["0x" + leaves[0].hex(), "0x" + n23.hex()]
    assert pub["publishEpoch"] == ["7", sol.VERIFIER_PLACEHOLDER, manifest["root"],
                                   manifest["params_hash"], "0x" + root.hex(), 3]
    deploy = pub["deploy"]
    assert deploy["verifier_argument"] == 1
    assert pub["publishEpoch"][deploy["verifier_argument"]] == deploy["verifier_placeholder"]
    assert deploy["solc"].startswith(sol.SOLC_VERSION + "+")
    assert deploy["settings"]["optimizer"] == {"enabled": True, "runs": 200}
    assert set(deploy["runtime"]) == {"Groth16Verifier", "SolvencyRegistry"}
    verifier_sol = (art["sol"] / "Groth16Verifier.sol").read_text()
    assert "{{" not in verifier_sol and manifest["verification_key"] in verifier_sol
    shipped = ROOT / "verifier" / "contracts" / "SolvencyRegistry.sol"
    assert (art["sol"] / "SolvencyRegistry.sol").read_text() == shipped.read_text()


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 8, 9])
def test_batches_tree_paths(count: int) -> None:
    commitments = [(7919 * i + 13) % R for i in range(count)]
    levels = sol.batches_levels(commitments)
    assert len(levels[0]) == 1 << (count - 1).bit_length()
    for i, c in enumerate(commitments):
        path = sol.batches_path(levels, i)
        assert sol.batches_root_from_path(i, c, path) == levels[-1][0]
        assert sol.batches_root_from_path(i, c + 1, path) != levels[-1][0]
    assert levels[0][0] == sol.batch_leaf(0, commitments[0])


def _copy_art(exchange: Exchange, tmp: Path) -> Path:
    return copy_artifacts(exchange, tmp / "art", private=False)


def test_export_errors_name_the_file(art: dict[str, Any], exchange: Exchange,
                                     tmp_path: Path) -> None:
    manifest = art["manifest"]
    vk_rel = manifest["verification_key"]
    cases: list[tuple[str, Any, tuple[str, ...]]] = []

    def case(name: str, edit: Any, *expect: str) -> None:
        cases.append((name, edit, expect))

    case("vk missing", lambda d: (d / vk_rel).unlink(), f"{vk_rel}: file is missing")
    case("vk not json", lambda d: (d / vk_rel).write_text("{"), "not valid JSON")

    def edit_json(rel: str, fn: Any) -> Any:
        """Edit one file and its sha256 in the manifest: consistent, but wrong inside."""
        def go(d: Path) -> None:
            doc = json.loads((d / rel).read_text())
            fn(doc)
            (d / rel).write_text(json.dumps(doc))
            man = json.loads((d / "manifest.json").read_text())
            man["files"][rel] = sha256_file(d / rel)
            (d / "manifest.json").write_text(json.dumps(man))
        return go

    def off_curve(doc: dict[str, Any]) -> None:
        doc["vk_alpha_1"][1] = str((int(doc["vk_alpha_1"][1]) + 1) % Q)

    case("vk point off curve", edit_json(vk_rel, off_curve), f"{vk_rel}: vk.vk_alpha_1: (",
         "is not on the curve y^2 = x^3 + 3")

    def delta_off(doc: dict[str, Any]) -> None:
        doc["vk_delta_2"][0][0] = str((int(doc["vk_delta_2"][0][0]) + 1) % Q)

    case("vk G2 off curve", edit_json(vk_rel, delta_off), f"{vk_rel}: vk.vk_delta_2: ((",
         "is not on the twist curve")

    def two_public(doc: dict[str, Any]) -> None:
        doc["nPublic"] = 2

    case("vk nPublic", edit_json(vk_rel, two_public), f"{vk_rel}: vk.nPublic: 2 ",
         "does not match len(IC) - 1 = 1")

    def two_signals(doc: dict[str, Any]) -> None:
        doc["nPublic"] = 2
        doc["IC"].append(doc["IC"][0])

    case("vk of two public signals", edit_json(vk_rel, two_signals),
         f"{vk_rel}: vk.nPublic: 2 ", "expected 1 public signal")

    def big(doc: dict[str, Any]) -> None:
        doc["IC"][1][0] = str(Q)

    case("vk coordinate >= q", edit_json(vk_rel, big), f"{vk_rel}: vk.IC[1][0]: {Q} ",
         "is not below the base field modulus q")
    case("proof missing", lambda d: (d / "batches/000001/proof.json").unlink(),
         "batches/000001/proof.json: file is missing")

    def alias(doc: list[str]) -> None:
        doc[0] = str(int(doc[0]) + R)

    case("public >= r", edit_json("batches/000002/public.json", alias),
         "batches/000002/public.json: public[0]: ", "is not below the scalar field modulus r")

    def bad_b(doc: dict[str, Any]) -> None:
        doc["pi_b"][1][1] = "12x"

    case("proof not decimal", edit_json("batches/000000/proof.json", bad_b),
         "batches/000000/proof.json: proof.pi_b[1][1]: '12x' is not a canonical decimal")

    def other_commitment(doc: dict[str, Any]) -> None:
        doc["commitment"] = "5"

    case("batch.json disagrees", edit_json("batches/000000/batch.json", other_commitment),
         "batches/000000/public.json: public[0]: ", "public signal differs",
         "batch.json commitment 5")
    case("batch missing", lambda d: (d / "batches/000002/batch.json").unlink(),
         "batches/000002/batch.json: file is missing")

    for n, (name, edit, expect) in enumerate(cases):
        d = _copy_art(exchange, tmp_path / str(n))
        edit(d)
        out = tmp_path / str(n) / "out"
        proc = zk_contracts("export", str(d), "--out", str(out))
        assert proc.returncode == 1, name
        assert proc.stderr.startswith("error: "), (name, proc.stderr)
        assert all(e in proc.stderr for e in expect), (name, proc.stderr)
        assert not out.exists(), name  # nothing written

    # an edited file that still parses is caught by the manifest's sha256
    d = _copy_art(exchange, tmp_path / "sha")
    proof = json.loads((d / "batches/000001/proof.json").read_text())
    (d / "batches/000001/proof.json").write_text(json.dumps(proof, indent=2))
    proc = zk_contracts("export", str(d), "--out", str(tmp_path / "sha" / "out"))
    assert proc.returncode == 1 and "000001/proof.json: sha256" in proc.stderr, proc.stderr


def test_export_is_deterministic(art: dict[str, Any], tmp_path: Path) -> None:
    doc = sol.export_contracts(art["art"], tmp_path, epoch=7)
    assert doc == art["publish"]
    for name in ("Groth16Verifier.sol", "SolvencyRegistry.sol", "publish.json"):
        assert (tmp_path / name).read_bytes() == (art["sol"] / name).read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "Groth16Verifier.sol", "SolvencyRegistry.sol", "publish.json"]  # no temp files left


# ------------------------------------------------------------------------------------------
# Groth16Verifier


def test_verifier_accepts_the_real_proofs(chain: Chain, verifier: str,
                                          art: dict[str, Any]) -> None:
    for b in batches(art):
        assert verify_outcome(chain, verifier, b.a, b.b, b.c, b.commitment) == "true"
    b = batches(art)[0]
    data = verify_data(chain, b.a, b.b, b.c, b.commitment)
    receipt = chain.tx(verifier, data)
    assert int(receipt["status"], 16) == 1
    used = int(receipt["gasUsed"], 16)
    GAS["verifyProof"] = {"tx": used, "estimate": chain.estimate(verifier, data)}
    assert used <= GAS_TARGET, used
    # The transaction's gas came from eth_estimateGas, and it ran the pairing: a verifier
    # that answers false when a precompile runs out of gas (the snarkjs template) gets an
    # estimate of ~32.5k here, a successful transaction whose answer is false.
    assert used > 200_000, used


def _change_byte(v: int, byte: int) -> int:
    """``v`` with its byte number ``byte`` (0 = least significant) changed."""
    return v ^ (0x5A << (8 * byte))


def test_verifier_rejects_every_changed_proof_word(chain: Chain, verifier: str,
                                                   art: dict[str, Any]) -> None:
    b = batches(art)[1]
    outcomes = set()
    for k in range(8):
        for byte in (0, 17):
            a, bb, c = copy.deepcopy((b.a, b.b, b.c))
            if k < 2:
                a[k] = _change_byte(a[k], byte)
            elif k < 6:
                bb[(k - 2) // 2][(k - 2) % 2] = _change_byte(bb[(k - 2) // 2][(k - 2) % 2], byte)
            else:
                c[k - 6] = _change_byte(c[k - 6], byte)
            got = verify_outcome(chain, verifier, a, bb, c, b.commitment)
            # A changed coordinate leaves the curve: the precompile fails and the verifier
            # reverts; a canonicality failure (>= q) returns false. Never true.
            assert got in ("PrecompileFailed", "false"), (k, byte, got)
            outcomes.add(got)
    assert "PrecompileFailed" in outcomes


def test_verifier_rejects_valid_points_that_are_not_the_proof(chain: Chain, verifier: str,
                                                              art: dict[str, Any]) -> None:
    b0, b1 = batches(art)[:2]
    # another batch's proof, or its C: valid points, so the pairing runs and says no
    assert verify_outcome(chain, verifier, b1.a, b1.b, b1.c, b0.commitment) == "false"
    assert verify_outcome(chain, verifier, b0.a, b0.b, b1.c, b0.commitment) == "false"
    # -A: on the curve, wrong
    assert verify_outcome(chain, verifier, [b0.a[0], Q - b0.a[1]], b0.b, b0.c,
                          b0.commitment) == "false"
    # the public signal one off
    assert verify_outcome(chain, verifier, b0.a, b0.b, b0.c, b0.commitment + 1) == "false"
    # B with its Fq2 halves in snarkjs order (c0 first) instead of the EVM's
    swapped = [[b0.b[0][1], b0.b[0][0]], [b0.b[1][1], b0.b[1][0]]]
    assert verify_outcome(chain, verifier, b0.a, swapped, b0.c,
                          b0.commitment) in ("false", "PrecompileFailed")


def test_verifier_rejects_field_aliases(chain: Chain, verifier: str, art: dict[str, Any]) -> None:
    b = batches(art)[2]
    assert verify_outcome(chain, verifier, b.a, b.b, b.c, b.commitment) == "true"
    # public + r: the same scalar to ecMul, refused as non-canonical (false, no revert)
    assert b.commitment + R < 1 << 256
    assert verify_outcome(chain, verifier, b.a, b.b, b.c, b.commitment + R) == "false"
    assert verify_outcome(chain, verifier, b.a, b.b, b.c, R) == "false"
    # coordinates + q (the precompiles would fail; refused first, as false)
    assert verify_outcome(chain, verifier, [b.a[0] + Q, b.a[1]], b.b, b.c,
                          b.commitment) == "false"
    assert verify_outcome(chain, verifier, b.a, b.b, [b.c[0], b.c[1] + Q],
                          b.commitment) == "false"
    bb = copy.deepcopy(b.b)
    bb[1][0] += Q
    assert verify_outcome(chain, verifier, b.a, bb, b.c, b.commitment) == "false"
    assert verify_outcome(chain, verifier, b.a, b.b, b.c, (1 << 256) - 1) == "false"


def test_verifier_starved_of_gas_reverts_instead_of_false(chain: Chain, verifier: str,
                                                          art: dict[str, Any]) -> None:
    b = batches(art)[0]
    data = verify_data(chain, b.a, b.b, b.c, b.commitment)
    for gas in (60_000, 120_000, 180_000):
        revert = expect_revert(chain.call, verifier, data, gas=gas)
        assert revert.startswith(chain.rpc.selector("PrecompileFailed()")) or revert == "0x", gas
    assert words(chain.call(verifier, data, gas=GAS_TARGET)) == [1]


def test_agreement_with_the_python_verifier(chain: Chain, verifier: str,
                                            art: dict[str, Any]) -> None:
    """The EVM and zkmargin.verifier (both implementations) give the same verdicts.

    Python True <=> EVM true; Python False => EVM false; Python ProofFormatError (a
    non-canonical or off-curve encoding) => EVM false (non-canonical) or PrecompileFailed.
    """
    pytest.importorskip("zkmargin.verifier.groth16")
    import zkmargin.verifier as gv

    vk = gv.VerificationKey.from_json(art["vk"])
    seen: dict[tuple[str, str], int] = {}
    for i, b in enumerate(batches(art)):
        d = art["art"] / "batches" / f"{i:06d}"
        proof_json = json.loads((d / "proof.json").read_text())
        public_json = json.loads((d / "public.json").read_text())
        a, bb, c, inp = gv.to_calldata(gv.Proof.from_json(proof_json),
                                       gv.parse_public(public_json, 1))
        assert ([int(v) for v in a], [[int(v) for v in row] for row in bb],
                [int(v) for v in c], [int(v) for v in inp]) == (b.a, b.b, b.c, [b.commitment])

        other = json.loads((art["art"] / "batches" / f"{(i + 1) % 3:06d}" /
                            "proof.json").read_text())
        neg_a = copy.deepcopy(proof_json)
        neg_a["pi_a"][1] = str(Q - int(neg_a["pi_a"][1]))
        off_curve = copy.deepcopy(proof_json)
        off_curve["pi_c"][0] = str(_change_byte(int(off_curve["pi_c"][0]), 5))
        alias_q = copy.deepcopy(proof_json)
        alias_q["pi_a"][0] = str(int(alias_q["pi_a"][0]) + Q)
        variants: list[tuple[dict[str, Any], list[str]]] = [
            (proof_json, public_json),
            (other, public_json),
            (proof_json, [str(b.commitment + 1)]),
            (neg_a, public_json),
            (off_curve, public_json),
            (alias_q, public_json),
            (proof_json, [str(b.commitment + R)]),
        ]
        for n, (pj, pub) in enumerate(variants):
            evm = verify_outcome(chain, verifier, *_evm(pj), int(pub[0]))
            # the pure-Python reference takes seconds a proof: batch 0 only
            for impl in ("fast", "reference") if i == 0 else ("fast",):
                try:
                    py = "true" if gv.verify(vk, gv.Proof.from_json(pj),
                                             gv.parse_public(pub, 1), impl=impl) else "false"
                except gv.ProofFormatError:
                    py = "ProofFormatError"
                allowed = {"true": {"true"}, "false": {"false"},
                           "ProofFormatError": {"false", "PrecompileFailed"}}[py]
                assert evm in allowed, (i, n, impl, py, evm)
                seen[py, evm] = seen.get((py, evm), 0) + 1
    assert set(seen) == {("true", "true"), ("false", "false"), ("ProofFormatError", "false"),
                         ("ProofFormatError", "PrecompileFailed")}, seen


def _evm(proof_json: dict[str, Any]) -> tuple[list[int], list[list[int]], list[int]]:
    pa, pb, pc = proof_json["pi_a"], proof_json["pi_b"], proof_json["pi_c"]
    return ([int(pa[0]), int(pa[1])],
            [[int(pb[0][1]), int(pb[0][0])], [int(pb[1][1]), int(pb[1][0])]],
            [int(pc[0]), int(pc[1])])


# ------------------------------------------------------------------------------------------
# SolvencyRegistry


def _arg(a: Any) -> Any:
    return _word(a) if isinstance(a, str) and a.startswith("0x") else int(a)


def _ok(receipt: dict[str, Any]) -> bool:
    return int(receipt["status"], 16) == 1


@dataclass
class Registry:
    chain: Chain
    address: str

    def publish_data(self, epoch: int, args: Sequence[Any]) -> bytes:
        return self.chain.calldata("SolvencyRegistry", PUBLISH, epoch, *[_arg(a) for a in args])

    def publish(self, epoch: int, args: Sequence[Any], *, sender: int = 0) -> dict[str, Any]:
        return self.chain.tx(self.address, self.publish_data(epoch, args), sender=sender)

    def submit_data(self, epoch: int, index: int, b: Batch, *, commitment: int | None = None,
                    path: Sequence[str] | None = None) -> bytes:
        return self.chain.calldata(
            "SolvencyRegistry", SUBMIT, epoch, index, b.a, b.b, b.c,
            b.commitment if commitment is None else commitment,
            Dyn([_word(p) for p in (b.path if path is None else path)]))

    def submit(self, epoch: int, index: int, b: Batch, *,
               path: Sequence[str] | None = None) -> dict[str, Any]:
        """Submitted by another account than the owner: anyone may submit."""
        return self.chain.tx(self.address, self.submit_data(epoch, index, b, path=path),
                             sender=2)

    def view(self, signature: str, *args: Any) -> list[int]:
        return words(self.chain.call(self.address,
                                     self.chain.calldata("SolvencyRegistry", signature, *args)))

    def verified(self, epoch: int, index: int) -> bool:
        return self.view("isBatchVerified(uint256,uint256)", epoch, index) == [1]

    def count(self, epoch: int) -> int:
        return self.view("verifiedBatches(uint256)", epoch)[0]

    def full(self, epoch: int) -> bool:
        return self.view("epochFullyVerified(uint256)", epoch) == [1]

    def revert_of(self, data: bytes, *, sender: int = 0) -> str:
        return expect_revert(self.chain.call, self.address, data, sender=sender)


def error(chain: Chain, signature: str, *args: Any) -> str:
    return chain.rpc.selector(signature) + abi_encode(*args).hex()


@pytest.fixture()
def registry(chain: Chain) -> Registry:
    return Registry(chain, chain.deploy("SolvencyRegistry"))


def epoch_args(art: dict[str, Any], verifier: str) -> list[Any]:
    """publish.json's publishEpoch arguments after the epoch, the deployed verifier's
    address in the placeholder's slot (the deployer's step): [verifier, root, paramsHash,
    batchesRoot, batchCount]."""
    args = list(art["publish"]["publishEpoch"])
    slot = art["publish"]["deploy"]["verifier_argument"]
    assert args[slot] == sol.VERIFIER_PLACEHOLDER
    args[slot] = verifier
    return args[1:]


def code_at(chain: Chain, address: str) -> bytes:
    return bytes.fromhex(chain.rpc("eth_getCode", address, "latest")[2:])


def test_registry_records_every_batch_of_a_published_epoch(registry: Registry, chain: Chain,
                                                           art: dict[str, Any],
                                                           verifier: str) -> None:
    epoch = int(art["publish"]["epoch"]["epoch"])
    args = epoch_args(art, verifier)
    # only the owner publishes
    data = registry.publish_data(epoch, args)
    assert registry.revert_of(data, sender=1) == error(chain, "NotOwner(address)",
                                                       _word(chain.accounts[1]))
    receipt = registry.publish(epoch, args)
    assert _ok(receipt)
    codehash = int.from_bytes(onchain.keccak256(code_at(chain, verifier)), "big")
    topic = chain.rpc.keccak(
        "EpochPublished(uint256,address,bytes32,uint256,uint256,bytes32,uint256)")
    assert receipt["logs"][0]["topics"] == [topic, "0x" + _word(epoch).hex(),
                                            "0x" + _word(verifier).hex()]
    assert words(receipt["logs"][0]["data"]) == [codehash, int(args[1]), int(args[2]),
                                                 int(args[3], 16), 3]
    # the verifier and the keccak256 of its code (EXTCODEHASH: the Python keccak agrees)
    got = registry.view("getEpoch(uint256)", epoch)
    assert got == [int(verifier, 16), codehash, int(args[1]), int(args[2]), int(args[3], 16),
                   3, 0]
    # published once, never changed
    assert registry.revert_of(data) == error(chain, "EpochExists(uint256)", epoch)
    assert not registry.full(epoch) and registry.count(epoch) == 0

    bs = batches(art)
    verified_topic = chain.rpc.keccak("BatchVerified(uint256,uint256,uint256,address)")
    for n, b in enumerate([bs[2], bs[0], bs[1]]):  # any order, any submitter
        receipt = registry.submit(epoch, b.index, b)
        assert _ok(receipt)
        assert receipt["logs"][0]["topics"] == [verified_topic, "0x" + _word(epoch).hex(),
                                                "0x" + _word(b.index).hex()]
        assert words(receipt["logs"][0]["data"]) == [b.commitment,
                                                     int(chain.accounts[2], 16)]
        assert registry.verified(epoch, b.index)
        assert registry.count(epoch) == n + 1
        assert registry.full(epoch) == (n == 2)
        GAS.setdefault("submitBatch", {}).setdefault("txs", []).append(
            (b.index, int(receipt["gasUsed"], 16)))
    last = receipt["logs"]
    assert [log["topics"][0] for log in last] == [
        verified_topic, chain.rpc.keccak("EpochVerified(uint256)")]
    # recorded once
    assert registry.revert_of(registry.submit_data(epoch, 1, bs[1])) == error(
        chain, "AlreadyVerified(uint256,uint256)", epoch, 1)
    assert registry.count(epoch) == 3


def test_registry_tree_matches_python(registry: Registry, chain: Chain,
                                      art: dict[str, Any]) -> None:
    sig = "batchesRootOf(uint256,uint256,bytes32[])"
    for count in (1, 2, 3, 5):
        commitments = [(1 << 200) + 977 * i for i in range(count)]
        levels = sol.batches_levels(commitments)
        for i, c in enumerate(commitments):
            path = sol.batches_path(levels, i)
            got = registry.view(sig, i, c, Dyn(path))
            assert got == [int.from_bytes(levels[-1][0], "big")], (count, i)
    root = art["publish"]["epoch"]["batches_root"]
    for b in batches(art):
        assert registry.view(sig, b.index, b.commitment, Dyn([_word(p) for p in b.path])) == [
            int(root, 16)]


def test_registry_rejects_wrong_paths_indices_and_epochs(registry: Registry, chain: Chain,
                                                         art: dict[str, Any],
                                                         verifier: str) -> None:
    epoch = 3
    assert _ok(registry.publish(epoch, epoch_args(art, verifier)))
    b0, b1, b2 = batches(art)

    def reason(data: bytes) -> str:
        return registry.revert_of(data)

    not_in = "NotInEpoch(uint256,uint256,uint256)"
    # a sibling changed
    bad = list(b0.path)
    bad[1] = "0x" + _word(int(bad[1], 16) ^ 1).hex()
    assert reason(registry.submit_data(epoch, 0, b0, path=bad)) == error(
        chain, not_in, epoch, 0, b0.commitment)
    # the right proof and path under another index
    assert reason(registry.submit_data(epoch, 1, b0)) == error(
        chain, not_in, epoch, 1, b0.commitment)
    # another batch's commitment on this path
    assert reason(registry.submit_data(epoch, 0, b0, commitment=b1.commitment)) == error(
        chain, not_in, epoch, 0, b1.commitment)
    # the padding position and beyond
    assert reason(registry.submit_data(epoch, 3, b2)) == error(
        chain, "BatchIndexOutOfRange(uint256,uint256,uint256)", epoch, 3, 3)
    # a path of the wrong length (an inner node posing as a leaf)
    assert reason(registry.submit_data(epoch, 0, b0, path=b0.path[:1])) == error(
        chain, "BadPathLength(uint256,uint256)", 1, 2)
    assert reason(registry.submit_data(epoch, 0, b0, path=[*b0.path, b0.path[0]])) == error(
        chain, "BadPathLength(uint256,uint256)", 3, 2)
    # an epoch never published
    assert reason(registry.submit_data(4, 0, b0)) == error(chain, "UnknownEpoch(uint256)", 4)
    # the path checks out, the proof does not: another batch's proof, a tampered one
    swapped = Batch(0, b0.commitment, b1.a, b1.b, b1.c, b0.path)
    assert reason(registry.submit_data(epoch, 0, swapped)) == error(
        chain, "ProofRejected(uint256,uint256)", epoch, 0)
    tampered = Batch(0, b0.commitment, [_change_byte(b0.a[0], 3), b0.a[1]], b0.b, b0.c, b0.path)
    assert reason(registry.submit_data(epoch, 0, tampered)) == chain.rpc.selector(
        "PrecompileFailed()")
    # mined, not just simulated: the tampered proof's transaction reverts
    receipt = chain.tx(registry.address, registry.submit_data(epoch, 0, tampered),
                       gas=1_000_000)
    assert int(receipt["status"], 16) == 0 and receipt["logs"] == []
    assert registry.count(epoch) == 0
    assert not any(registry.verified(epoch, i) for i in range(4))
    # the genuine submission still goes through after all that
    assert _ok(registry.submit(epoch, 0, b0))
    assert registry.count(epoch) == 1


def test_registry_publish_checks(registry: Registry, chain: Chain, art: dict[str, Any],
                                 verifier: str) -> None:
    args = epoch_args(art, verifier)
    assert registry.revert_of(registry.publish_data(1, [*args[:4], 0])) == error(
        chain, "BadBatchCount(uint256)", 0)
    assert registry.revert_of(registry.publish_data(1, [*args[:4], 1 << 48])) == error(
        chain, "BadBatchCount(uint256)", 1 << 48)
    assert _ok(registry.publish(11, [*args[:4], (1 << 48) - 1]))
    # one batch: depth 0, the leaf is the root, the path is empty
    b = batches(art)[0]
    registry.publish(9, [*args[:3], "0x" + sol.batch_leaf(0, b.commitment).hex(), 1])
    single = Batch(0, b.commitment, b.a, b.b, b.c, [])
    assert _ok(registry.submit(9, 0, single))
    assert registry.full(9)
    # ownership moves, and only the owner moves it
    move = chain.calldata("SolvencyRegistry", "transferOwnership(address)",
                          _word(chain.accounts[1]))
    assert registry.revert_of(move, sender=1) == error(chain, "NotOwner(address)",
                                                       _word(chain.accounts[1]))
    assert _ok(chain.tx(registry.address, move))
    assert registry.view("owner()") == [int(chain.accounts[1], 16)]
    assert registry.revert_of(registry.publish_data(10, args)) == error(
        chain, "NotOwner(address)", _word(chain.accounts[0]))
    assert _ok(registry.publish(10, args, sender=1))


def test_registry_refuses_a_verifier_without_code(registry: Registry, chain: Chain,
                                                  art: dict[str, Any], verifier: str) -> None:
    """The exchange names a verifier that cannot run: the zero address, an account without
    code (anything would "verify" through a call that returns nothing checked), or a
    precompile (the pairing's, 0x08)."""
    args = epoch_args(art, verifier)
    for forged in ("0x" + "00" * 20, chain.accounts[3], "0x" + "00" * 19 + "08"):
        data = registry.publish_data(12, [forged, *args[1:]])
        assert registry.revert_of(data) == error(chain, "VerifierWithoutCode(address)",
                                                 _word(forged)), forged
        receipt = chain.tx(registry.address, data, gas=1_000_000)
        assert not _ok(receipt) and receipt["logs"] == []
    assert registry.view("getEpoch(uint256)", 12) == [0] * 7


def test_registry_refuses_a_commitment_at_two_indices(registry: Registry, chain: Chain,
                                                      art: dict[str, Any],
                                                      verifier: str) -> None:
    """batchesRoot with batch 0's commitment at indices 0 and 1: the one proof of batch 0
    verifies for either index (the index inside the commitment is not visible on chain),
    but it fills only one."""
    b0, _, b2 = batches(art)
    levels = sol.batches_levels([b0.commitment, b0.commitment, b2.commitment])
    args = epoch_args(art, verifier)
    args[3] = "0x" + levels[-1][0].hex()

    def path(i: int) -> list[str]:
        return ["0x" + p.hex() for p in sol.batches_path(levels, i)]

    for epoch, (first, second) in ((30, (0, 1)), (31, (1, 0))):
        assert _ok(registry.publish(epoch, args))
        assert _ok(registry.submit(epoch, first, b0, path=path(first)))
        data = registry.submit_data(epoch, second, b0, path=path(second))
        assert registry.revert_of(data) == error(chain, "CommitmentReused(uint256,uint256)",
                                                 epoch, b0.commitment)
        receipt = chain.tx(registry.address, data, gas=1_000_000)
        assert not _ok(receipt) and receipt["logs"] == []
        assert registry.count(epoch) == 1 and not registry.verified(epoch, second)
        # the other batch still counts; the epoch can never be fully verified
        assert _ok(registry.submit(epoch, 2, b2, path=path(2)))
        assert registry.count(epoch) == 2 and not registry.full(epoch)


def test_registry_never_records_a_call_starved_of_gas(registry: Registry, chain: Chain,
                                                      art: dict[str, Any],
                                                      verifier: str) -> None:
    epoch = 5
    registry.publish(epoch, epoch_args(art, verifier))
    b = batches(art)[1]
    data = registry.submit_data(epoch, 1, b)
    estimate = chain.estimate(registry.address, data)
    results = []
    # from "enough for the path checks, not the pairing" up to just below the estimate
    for gas in (60_000, 100_000, 150_000, 200_000, 230_000, estimate - 2_000, estimate - 1):
        receipt = chain.tx(registry.address, data, gas=gas)
        results.append((gas, int(receipt["status"], 16), int(receipt["gasUsed"], 16)))
        assert int(receipt["status"], 16) == 0, (gas, receipt)
        assert receipt["logs"] == []
        assert not registry.verified(epoch, 1) and registry.count(epoch) == 0
    receipt = chain.tx(registry.address, data, gas=estimate)
    assert _ok(receipt)
    assert registry.verified(epoch, 1) and registry.count(epoch) == 1
    GAS.setdefault("submitBatch", {}).update(
        estimate=estimate, tx_at_estimate=int(receipt["gasUsed"], 16), starved=results)


# ------------------------------------------------------------------------------------------
# zkmargin audit --rpc: the chain against the audited artifacts

ALWAYS_TRUE = """// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// The exchange's own "verifier": accepts every proof.
contract AlwaysTrue {
    function verifyProof(
        uint256[2] calldata,
        uint256[2][2] calldata,
        uint256[2] calldata,
        uint256[1] calldata
    ) external pure returns (bool) {
        return true;
    }
}
"""


@pytest.fixture(scope="module")
def always_true_code(chain: Chain) -> str:
    """The creation code of AlwaysTrue (compiled like the product's contracts)."""
    code: str = contracts_of(compile_texts({"AlwaysTrue.sol": ALWAYS_TRUE}))["AlwaysTrue"][
        "bytecode"]
    return code


def deploy_code(chain: Chain, creation_hex: str) -> str:
    receipt = chain.tx(None, bytes.fromhex(creation_hex))
    assert _ok(receipt), receipt
    address: str = receipt["contractAddress"]
    return address


def junk(b: Batch) -> Batch:
    """Batch ``b`` with a proof of zeros: nothing a real verifier accepts."""
    return Batch(b.index, b.commitment, [0, 0], [[0, 0], [0, 0]], [0, 0], b.path)


def audit_rpc(art: dict[str, Any], rpc: Rpc, registry: str, epoch: int,
              *extra: str) -> subprocess.CompletedProcess[str]:
    return zk("audit", str(art["art"]), "--rpc", rpc.url, "--registry", registry,
              "--epoch", str(epoch), *extra)


def audit_fails(art: dict[str, Any], rpc: Rpc, registry: str, epoch: int) -> dict[str, Any]:
    """``zkmargin audit --rpc --json`` must fail the check 'onchain'; its JSON."""
    proc = audit_rpc(art, rpc, registry, epoch, "--json")
    assert proc.returncode == 1, (proc.stdout, proc.stderr[-3000:])
    doc: dict[str, Any] = json.loads(proc.stdout)
    assert doc["valid"] is False and doc["check"] == "onchain", doc
    assert "check 'onchain' failed" in proc.stderr, proc.stderr
    assert rpc.url not in proc.stdout + proc.stderr  # the endpoint may hold an API key
    return doc


def test_audit_rpc_refuses_an_always_true_verifier(registry: Registry, chain: Chain, rpc: Rpc,
                                                   art: dict[str, Any],
                                                   always_true_code: str) -> None:
    """The exchange pins its own verifier that accepts anything: the registry records every
    batch and says fully verified; the audit names the verifier code."""
    fake = deploy_code(chain, always_true_code)
    epoch = 40
    assert _ok(registry.publish(epoch, epoch_args(art, fake)))  # honest root, params, tree
    for b in batches(art):
        assert _ok(registry.submit(epoch, b.index, junk(b)))
    assert registry.full(epoch)
    doc = audit_fails(art, rpc, registry.address, epoch)
    assert doc["file"] == art["manifest"]["verification_key"]
    assert fake.lower() in doc["error"], doc
    assert "not Groth16Verifier.sol of this verification key" in doc["error"], doc
    assert "the verifier code differs" in doc["error"], doc


def test_audit_rpc_refuses_the_verifier_of_another_key(registry: Registry, chain: Chain,
                                                       rpc: Rpc, art: dict[str, Any]) -> None:
    """A genuine Groth16Verifier.sol, rendered for another key (here delta replaced by
    gamma, as if the exchange had run its own setup): same template, same comments, other
    constants."""
    from zkmargin.verifier.encoding import VerificationKey

    vk = VerificationKey.from_json(art["vk"])
    other = dataclasses.replace(vk, delta2=vk.gamma2)
    vk_rel = art["manifest"]["verification_key"]
    text = sol.verifier_source(other, vk_rel, art["publish"]["verification_key_sha256"])
    code = contracts_of(compile_texts({"Groth16Verifier.sol": text}))["Groth16Verifier"]
    fake = deploy_code(chain, code["bytecode"])
    epoch = 41
    assert _ok(registry.publish(epoch, epoch_args(art, fake)))
    b = batches(art)[0]
    assert registry.revert_of(registry.submit_data(epoch, 0, b)) == error(
        chain, "ProofRejected(uint256,uint256)", epoch, 0)
    doc = audit_fails(art, rpc, registry.address, epoch)
    assert doc["file"] == vk_rel and "the verifier code differs" in doc["error"], doc


def test_audit_rpc_refuses_a_verifier_whose_code_changed(registry: Registry, chain: Chain,
                                                         rpc: Rpc, art: dict[str, Any],
                                                         verifier: str,
                                                         always_true_code: str) -> None:
    """A metamorphic verifier: AlwaysTrue while batches are recorded, then the genuine
    verifier's code at the same address (CREATE2 redeployment; anvil_setCode here). The
    registry pinned the code hash: later submissions revert, and the audit fails although
    the code now on chain is the genuine one."""
    fake = deploy_code(chain, always_true_code)
    epoch = 42
    assert _ok(registry.publish(epoch, epoch_args(art, fake)))
    b0, b1, b2 = batches(art)
    assert _ok(registry.submit(epoch, 0, junk(b0)))
    assert _ok(registry.submit(epoch, 1, junk(b1)))
    chain.rpc("anvil_setCode", fake, "0x" + code_at(chain, verifier).hex())
    assert code_at(chain, fake) == code_at(chain, verifier)
    assert registry.revert_of(registry.submit_data(epoch, 2, b2)) == error(
        chain, "VerifierCodeChanged(uint256,address)", epoch, _word(fake))
    doc = audit_fails(art, rpc, registry.address, epoch)
    assert doc["file"] == art["manifest"]["verification_key"]
    assert "other code than when the epoch was published" in doc["error"], doc


@pytest.mark.parametrize("forged", ["root", "params_hash", "batch_count", "batches_reordered",
                                    "batches_other"])
def test_audit_rpc_refuses_a_forged_epoch_field(forged: str, registry: Registry, chain: Chain,
                                                rpc: Rpc, art: dict[str, Any],
                                                verifier: str) -> None:
    """The genuine verifier and registry; one published field is not the artifacts'."""
    args = epoch_args(art, verifier)  # [verifier, root, paramsHash, batchesRoot, batchCount]
    b0, b1, b2 = batches(art)
    reordered: list[Batch] = []
    if forged == "root":
        args[1] = str(int(args[1]) ^ 1)
        want = ("manifest.json", "root")
    elif forged == "params_hash":
        args[2] = str(int(args[2]) ^ 1)
        want = ("manifest.json", "params hash")
    elif forged == "batch_count":
        args[4] = 4
        want = ("manifest.json", "batch count 4")
    else:
        if forged == "batches_reordered":
            # batches 0 and 1 swapped: each proof still verifies on chain at the wrong index
            commitments = [b1.commitment, b0.commitment, b2.commitment]
        else:  # a commitment that is not the artifacts'
            commitments = [b0.commitment, b1.commitment, (b2.commitment + 1) % R]
        levels = sol.batches_levels(commitments)
        args[3] = "0x" + levels[-1][0].hex()
        if forged == "batches_reordered":
            reordered = [Batch(i, b.commitment, b.a, b.b, b.c,
                               ["0x" + p.hex() for p in sol.batches_path(levels, i)])
                         for i, b in enumerate((b1, b0, b2))]
        want = ("batches", "batchesRoot")
    epoch = 50
    assert _ok(registry.publish(epoch, args))
    for b in reordered:
        assert _ok(registry.submit(epoch, b.index, b))
    assert registry.full(epoch) == bool(reordered)
    doc = audit_fails(art, rpc, registry.address, epoch)
    assert doc["file"] == want[0] and want[1] in doc["error"], doc


def test_audit_rpc_honest_epoch(registry: Registry, chain: Chain, rpc: Rpc,
                                art: dict[str, Any], verifier: str) -> None:
    """The verifier deployed from `contracts export`, the epoch published with publish.json's
    arguments: valid, fully verified only after the last batch."""
    runtime = art["publish"]["deploy"]["runtime"]
    for address, name in ((verifier, "Groth16Verifier"), (registry.address, "SolvencyRegistry")):
        code = code_at(chain, address)
        assert hashlib.sha256(code).hexdigest() == runtime[name]["sha256"], name
        assert hashlib.sha256(sol.strip_metadata(code)).hexdigest() == runtime[name][
            "sha256_without_metadata"], name
    epoch = int(art["publish"]["epoch"]["epoch"])
    assert _ok(registry.publish(epoch, epoch_args(art, verifier)))
    b0, b1, b2 = batches(art)
    assert _ok(registry.submit(epoch, 0, b0))
    assert _ok(registry.submit(epoch, 1, b1))

    proc = audit_rpc(art, rpc, registry.address, epoch, "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    assert doc["valid"] is True and doc["root"] == art["manifest"]["root"]
    assert {k: doc["onchain"][k] for k in ("epoch", "verifier", "fully_verified",
                                           "verified_batches", "batch_count")} == {
        "epoch": epoch, "verifier": verifier.lower(), "fully_verified": False,
        "verified_batches": 2, "batch_count": 3}
    assert "NOT fully verified" in doc["onchain"]["established"][-1]

    assert _ok(registry.submit(epoch, 2, b2))
    proc = audit_rpc(art, rpc, registry.address, epoch, "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = json.loads(proc.stdout)["onchain"]
    assert (found["fully_verified"], found["verified_batches"]) == (True, 3)
    assert found["registry"] == registry.address.lower()
    assert found["verifier_runtime_sha256_without_metadata"] == runtime["Groth16Verifier"][
        "sha256_without_metadata"]
    assert len(found["established"]) == 4 and found["not_established"]
    proc = audit_rpc(art, rpc, registry.address, epoch)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "VALID" in proc.stdout
    assert "on chain    FULLY VERIFIED: 3 of 3 batch proofs verified" in proc.stdout
    text = " ".join(proc.stdout.split())
    assert "runtime code is Groth16Verifier.sol of the audited verification key" in text
    assert "not established:" in text


@pytest.fixture(scope="module")
def audited(art: dict[str, Any]) -> Any:
    """The artifact audit's report, in this process (for the cheap on-chain cases)."""
    from zkmargin.verifier.audit import audit

    return audit(art["art"])


def test_onchain_check_refuses_what_it_cannot_trust(registry: Registry, chain: Chain, rpc: Rpc,
                                                    art: dict[str, Any], verifier: str,
                                                    audited: Any) -> None:
    from zkmargin.verifier.audit import AuditError

    def fails(*, url: str = rpc.url, address: str = registry.address, epoch: int = 7) -> str:
        with pytest.raises(AuditError) as info:
            onchain.check_onchain(art["art"], audited, rpc_url=url, registry=address,
                                  epoch=epoch)
        assert info.value.check == "onchain"
        return str(info.value)

    assert _ok(registry.publish(7, epoch_args(art, verifier)))
    found = onchain.check_onchain(art["art"], audited, rpc_url=rpc.url,
                                  registry=registry.address, epoch=7)
    assert (found.fully_verified, found.verified_batches) == (False, 0)
    # an epoch never published
    assert "epoch 8 is not published" in fails(epoch=8)
    # a registry that is not SolvencyRegistry.sol (its numbers could be anything): other
    # code, no code
    assert "not SolvencyRegistry.sol of this zkmargin" in fails(address=verifier)
    assert "holds no code" in fails(address=chain.accounts[4])
    # nobody listening, or not JSON-RPC
    assert "cannot read the chain over JSON-RPC" in fails(url="http://127.0.0.1:9/")
    assert "--registry" in fails(address="0x1234")


def test_audit_rpc_options_go_together(art: dict[str, Any]) -> None:
    proc = zk("audit", str(art["art"]), "--rpc", "http://127.0.0.1:9/")
    assert proc.returncode == 2 and "--registry, --epoch" in proc.stderr, proc.stderr
    proc = zk("audit", str(art["art"]), "--rpc", "http://127.0.0.1:9/", "--registry", "0x12",
              "--epoch", "1")
    assert proc.returncode == 2 and "--registry" in proc.stderr, proc.stderr


def test_keccak_and_selectors(chain: Chain) -> None:
    """The auditor's keccak256 (pure Python) against anvil's and solc's."""
    for n in (0, 1, 55, 135, 136, 137, 271, 272, 300):
        data = bytes((7 * i + n) & 0xFF for i in range(n))
        assert "0x" + onchain.keccak256(data).hex() == chain.rpc("web3_sha3", "0x" + data.hex())
    for signature, sel in chain.solc["SolvencyRegistry"]["methods"].items():
        assert onchain.selector(signature).hex() == sel, signature


def test_gas_report(chain: Chain, art: dict[str, Any]) -> None:
    """Prints the measured gas (run with -s); needs the tests above in the same run."""
    if "verifyProof" not in GAS or not {"estimate", "txs"} <= set(GAS.get("submitBatch", {})):
        pytest.skip("run the whole module for the gas report")
    v, s = GAS["verifyProof"], GAS["submitBatch"]
    lines = [
        f"solc {chain.solc_version} (optimizer 200 runs), anvil hardfork {chain.hardfork}",
        f"verifyProof tx gasUsed={v['tx']} eth_estimateGas={v['estimate']} "
        f"(target <= {GAS_TARGET})",
        "submitBatch tx gasUsed (batch index, gas) in submission order, depth-2 paths: "
        + ", ".join(f"({i}, {g})" for i, g in s["txs"]),
        f"submitBatch batch 1 first of its epoch: eth_estimateGas={s['estimate']}, gasUsed "
        f"with that limit={s['tx_at_estimate']}",
        "starved submitBatch (gas limit, status, gasUsed): "
        + ", ".join(f"({g}, {st}, {u})" for g, st, u in s["starved"]),
    ]
    with contextlib.suppress(Exception):
        print("\n" + "\n".join(lines))
    assert v["tx"] <= GAS_TARGET
