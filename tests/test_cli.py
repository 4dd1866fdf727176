"""The ``zkmargin`` command line: help, ``generate``, ``check``, ``circuit info`` and
``demo``, end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from zkmargin.cli import main

REPORT_KEYS = {
    "accounts",
    "deficient",
    "equity_total",
    "requirement_total",
    "shortfall_total",
    "assets",
    "deficient_ids",
}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), prog_name="zkmargin")


def ok(*args: str) -> Result:
    result = invoke(*args)
    assert result.exception is None, result.exception
    assert result.exit_code == 0, result.output
    return result


def generate(out: Path, *args: str) -> Result:
    return ok("generate", "--out", str(out), *args)


def check_json(snapshot: Path, params: Path, *args: str) -> dict[str, Any]:
    result = ok("check", str(snapshot), "--params", str(params), "--json", *args)
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def read_bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


# --------------------------------------------------------------------------------------
# help
# --------------------------------------------------------------------------------------


def test_main_help() -> None:
    out = ok("--help").stdout
    assert "Usage: zkmargin" in out
    for command in ("check", "generate", "demo"):
        assert re.search(rf"^\s+{command}\s", out, re.MULTILINE), out
    assert ok("-h").stdout == out


def test_check_help_mentions_units_and_options() -> None:
    out = ok("check", "--help").stdout
    assert "Usage: zkmargin check [OPTIONS] SNAPSHOT" in out
    assert "USD x 1e22" in out  # equity / requirement / shortfall
    assert "amount x 1e8" in out  # liabilities / debts
    for option in ("--params", "--json", "--out", "--format", "--core"):
        assert option in out
    assert "vectorized" in out and "reference" in out


def test_generate_help_mentions_options() -> None:
    out = ok("generate", "--help").stdout
    assert "Usage: zkmargin generate [OPTIONS]" in out
    for option in (
        "--accounts",
        "--assets",
        "--perps",
        "--brackets",
        "--seed",
        "--borrow-share",
        "--deficient-share",
        "--format",
        "--out",
        "--force",
        "--params",
    ):
        assert option in out
    assert "Deterministic for a seed" in out
    assert "zkmargin generate --params params.json --accounts 1000 --out book/" in out


def test_circuit_info_help_teaches_the_shape() -> None:
    out = ok("circuit", "info", "--help").stdout
    assert "Batch(A, P, L, T, O, G, S, K)" in out
    for option, letter in (("--assets", "A: assets"), ("--perps", "P: perps"),
                           ("--brackets", "L: maintenance brackets"),
                           ("--tiers", "T: collateral tiers"), ("--options", "O: options"),
                           ("--groups", "G: portfolio groups"),
                           ("--scenarios", "S: scenarios"), ("--batch-size", "K: accounts"),
                           ("--params", "Take the shape from this params file")):
        assert option in out and letter in out, option
    assert "zkmargin circuit info --params params.json --batch-size 8" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--perps", "1"], "missing --assets, --brackets (or --params FILE)"),
    (["--assets", "3", "--perps", "2", "--brackets", "2", "--options", "4"],
     "options need a portfolio group: A=3 P=2 L=2 T=1 O=4 G=0 S=0 K=4"),
    (["--assets", "3", "--perps", "2", "--brackets", "2", "--groups", "1"],
     "portfolio groups need scenarios"),
    (["--params", "p.json", "--tiers", "3"],
     "--tiers: the shape comes from --params; give either --params or the shape flags"),
])
def test_circuit_info_refuses_an_incomplete_shape(args: list[str], message: str) -> None:
    result = invoke("circuit", "info", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_circuit_info_params_file_errors_name_it(tmp_path: Path) -> None:
    bad = tmp_path / "p.json"
    bad.write_text('{"assets": []}')
    result = invoke("circuit", "info", "--params", str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {bad}")


# --------------------------------------------------------------------------------------
# generate
# --------------------------------------------------------------------------------------


def test_generate_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, "--accounts", "700", "--seed", "5")
    generate(b, "--accounts", "700", "--seed", "5")
    generate(c, "--accounts", "700", "--seed", "6")
    files_a, files_b, files_c = read_bytes(a), read_bytes(b), read_bytes(c)
    assert set(files_a) == {"snapshot.csv", "params.json"}
    assert files_a == files_b
    assert files_a["snapshot.csv"] != files_c["snapshot.csv"]


def test_generate_writes_header_and_exactly_n_rows(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    result = generate(out, "--accounts", "257", "--assets", "3", "--perps", "2", "--brackets", "3")
    snap, params = out / "snapshot.csv", out / "params.json"
    assert result.stdout == f"wrote {snap} (257 accounts) and {params}\n"
    lines = snap.read_text(encoding="utf-8").splitlines()
    assert lines[0] == (
        "account_id,USDT,BTC,ETH,BTC-PERP.qty,BTC-PERP.cost,ETH-PERP.qty,ETH-PERP.cost"
    )
    rows = lines[1:]
    assert len(rows) == 257
    assert all(len(r.split(",")) == 8 for r in rows)
    ids = [r.split(",")[0] for r in rows]
    assert len(set(ids)) == 257
    doc = json.loads(params.read_text())
    assert [a["symbol"] for a in doc["assets"]] == ["USDT", "BTC", "ETH"]
    assert [p["symbol"] for p in doc["perps"]] == ["BTC-PERP", "ETH-PERP"]
    assert all(len(p["brackets"]) == 3 for p in doc["perps"])
    assert all(p["brackets"][-1]["max_notional"] is None for p in doc["perps"])
    assert check_json(snap, params)["accounts"] == 257


def test_generate_default_header(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    generate(out, "--accounts", "3")
    header = (out / "snapshot.csv").read_text().splitlines()[0]
    perps = ("BTC-PERP", "ETH-PERP", "SOL-PERP", "BNB-PERP")
    assert header.split(",") == [
        "account_id",
        *["USDT", "BTC", "ETH", "USDC", "SOL", "BNB", "XRP", "DOGE"],
        *[f"{p}.{part}" for p in perps for part in ("qty", "cost")],
    ]


def test_generate_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    generate(out, "--accounts", "50", "--seed", "1")
    before = read_bytes(out)
    mtimes = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}

    result = invoke("generate", "--out", str(out), "--accounts", "60", "--seed", "2")
    assert isinstance(result.exception, SystemExit)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert str(out / "snapshot.csv") in result.stderr
    assert str(out / "params.json") in result.stderr
    assert "already exist; pass --force to overwrite" in result.stderr
    assert read_bytes(out) == before
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == mtimes

    generate(out, "--accounts", "60", "--seed", "2", "--force")
    fresh = tmp_path / "fresh"
    generate(fresh, "--accounts", "60", "--seed", "2")
    assert read_bytes(out) == read_bytes(fresh)


def test_generate_rejects_more_perps_than_assets(tmp_path: Path) -> None:
    result = invoke(
        "generate",
        "--out",
        str(tmp_path / "g"),
        "--accounts",
        "5",
        "--assets",
        "2",
        "--perps",
        "3",
    )
    assert result.exit_code == 2
    assert "--perps" in result.stderr
    assert "at most --assets (2) perps, got 3" in result.stderr
    assert not (tmp_path / "g").exists()


@pytest.fixture(scope="module")
def deficient_tenth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("deficient")
    generate(out, "--accounts", "1000", "--deficient-share", "0.1", "--seed", "11")
    return out


def test_generate_deficient_share_is_exact(deficient_tenth: Path) -> None:
    doc = check_json(deficient_tenth / "snapshot.csv", deficient_tenth / "params.json")
    assert doc["accounts"] == 1000
    assert doc["deficient"] == 100
    assert len(doc["deficient_ids"]) == 100
    assert len(set(doc["deficient_ids"])) == 100
    assert doc["shortfall_total"] > 0


def test_generate_jsonl_checks_to_the_same_totals_as_csv(tmp_path: Path) -> None:
    generate(tmp_path / "c", "--accounts", "1500", "--seed", "9", "--format", "csv")
    generate(tmp_path / "j", "--accounts", "1500", "--seed", "9", "--format", "jsonl")
    assert sorted(p.name for p in (tmp_path / "j").iterdir()) == ["params.json", "snapshot.jsonl"]
    lines = (tmp_path / "j" / "snapshot.jsonl").read_text().splitlines()
    assert len(lines) == 1500
    assert all(isinstance(json.loads(line), dict) for line in lines)
    assert (tmp_path / "c" / "params.json").read_bytes() == (
        tmp_path / "j" / "params.json"
    ).read_bytes()
    from_csv = check_json(tmp_path / "c" / "snapshot.csv", tmp_path / "c" / "params.json")
    from_jsonl = check_json(tmp_path / "j" / "snapshot.jsonl", tmp_path / "j" / "params.json")
    assert from_csv == from_jsonl
    assert from_csv["accounts"] == 1500
    assert from_csv["deficient"] == 15  # default --deficient-share 0.01


# --------------------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------------------


def test_check_human_output(deficient_tenth: Path) -> None:
    snap, params = deficient_tenth / "snapshot.csv", deficient_tenth / "params.json"
    doc = check_json(snap, params)
    out = ok("check", str(snap), "--params", str(params)).stdout
    assert out.startswith(f"zkmargin check: {snap} under {params}\n")
    assert re.search(r"^\s+accounts\s+1,000$", out, re.MULTILINE), out
    assert re.search(r"^\s+deficient accounts\s+100$", out, re.MULTILINE), out
    first = ", ".join(doc["deficient_ids"][:10])
    assert f"first deficient accounts: {first} (+90 more)\n" in out
    for symbol in doc["assets"]:
        assert re.search(rf"^\s+{symbol}\s", out, re.MULTILINE), symbol


def test_check_json_keys_and_integer_types(deficient_tenth: Path) -> None:
    doc = check_json(deficient_tenth / "snapshot.csv", deficient_tenth / "params.json")
    assert set(doc) == REPORT_KEYS
    for key in ("accounts", "deficient", "equity_total", "requirement_total", "shortfall_total"):
        assert type(doc[key]) is int, key
    assert list(doc["assets"]) == ["USDT", "BTC", "ETH", "USDC", "SOL", "BNB", "XRP", "DOGE"]
    for symbol, entry in doc["assets"].items():
        assert set(entry) == {"liabilities", "debts"}, symbol
        assert type(entry["liabilities"]) is int and entry["liabilities"] >= 0
        assert type(entry["debts"]) is int and entry["debts"] >= 0
    assert all(isinstance(i, str) for i in doc["deficient_ids"])
    # the numbers are written as JSON integers, not floats or strings
    raw = ok(
        "check",
        str(deficient_tenth / "snapshot.csv"),
        "--params",
        str(deficient_tenth / "params.json"),
        "--json",
    ).stdout
    assert f'"equity_total": {doc["equity_total"]},' in raw


def test_check_out_writes_the_same_report(deficient_tenth: Path, tmp_path: Path) -> None:
    report = tmp_path / "sub" / "report.json"
    snap, params = deficient_tenth / "snapshot.csv", deficient_tenth / "params.json"
    result = ok("check", str(snap), "--params", str(params), "--json", "--out", str(report))
    assert json.loads(report.read_text()) == json.loads(result.stdout)


def test_check_cores_agree_on_generated_snapshot(tmp_path: Path) -> None:
    generate(tmp_path, "--accounts", "2000", "--seed", "3", "--deficient-share", "0.05")
    snap, params = tmp_path / "snapshot.csv", tmp_path / "params.json"
    outputs = {}
    for core in ("reference", "vectorized"):
        outputs[core] = ok(
            "check", str(snap), "--params", str(params), "--json", "--core", core
        ).stdout
    assert outputs["reference"] == outputs["vectorized"]
    doc = json.loads(outputs["reference"])
    assert doc["accounts"] == 2000
    assert doc["deficient"] == 100


def test_check_format_option_overrides_extension(tmp_path: Path) -> None:
    generate(tmp_path, "--accounts", "40", "--format", "jsonl")
    renamed = tmp_path / "snapshot.txt"
    (tmp_path / "snapshot.jsonl").rename(renamed)
    params = tmp_path / "params.json"
    result = invoke("check", str(renamed), "--params", str(params))
    assert result.exit_code == 1
    assert "unknown snapshot format" in result.stderr
    assert check_json(renamed, params, "--format", "jsonl")["accounts"] == 40


def test_check_out_unwritable_is_a_clean_error(deficient_tenth: Path) -> None:
    snap, params = deficient_tenth / "snapshot.csv", deficient_tenth / "params.json"
    report = snap / "report.json"  # a path below a regular file
    result = invoke("check", str(snap), "--params", str(params), "--out", str(report))
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {report}: cannot be written: ")
    assert result.stdout == ""


def test_generate_unwritable_out_is_a_clean_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    out = blocker / "gen"
    result = invoke("generate", "--out", str(out), "--accounts", "5")
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {out}: cannot write the output files: ")
    assert result.stdout == ""
    assert blocker.read_text() == "x"


# --------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------


@pytest.mark.circuit
@pytest.mark.node
def test_circuit_info_of_the_options_shape(tmp_path: Path) -> None:
    """The options test circuit (A=3 P=2 L=2 T=3 O=4 G=2 S=3): the flags and the params
    file of its vectors give the same numbers, which are the compiled r1cs's."""
    from tests.conftest import load_vector
    from zkmargin.prover.binfmt import read_r1cs
    from zkmargin.prover.toolchain import compile_circuit, registered_shape

    flags = ["--assets", "3", "--perps", "2", "--brackets", "2", "--tiers", "3",
             "--options", "4", "--groups", "2", "--scenarios", "3", "--batch-size", "4"]
    info = json.loads(ok("circuit", "info", *flags, "--json").stdout)
    params = tmp_path / "params.json"
    params.write_text(json.dumps(load_vector("portfolio_cases.json")["params"]))
    assert json.loads(ok("circuit", "info", "--params", str(params), "--batch-size", "4",
                         "--json").stdout) == info
    shape = registered_shape("batch-options-test")
    assert {k: info[k] for k in ("assets", "perps", "brackets", "tiers", "options", "groups",
                                 "scenarios", "batch_size")} == shape.to_json()
    four = read_r1cs(compile_circuit(shape).r1cs)
    one = read_r1cs(compile_circuit(shape.with_depth(0)).r1cs)
    assert info["constraints"] == len(four.constraints)
    assert info["wires"] == four.n_wires
    assert info["per_account"] == round((len(four.constraints) - len(one.constraints)) / 3)
    assert info["batch_overhead"] == info["constraints"] - 4 * info["per_account"]
    assert 2 ** info["ptau_power"] >= info["constraints"] + 2 > 2 ** (info["ptau_power"] - 1)
    # options cost constraints: more per account than the plain book of the same A, P, L
    plain = json.loads(ok("circuit", "info", "--assets", "3", "--perps", "2", "--brackets",
                          "2", "--batch-size", "4", "--json").stdout)
    assert (plain["tiers"], plain["options"], plain["groups"], plain["scenarios"]) == \
        (1, 0, 0, 0)
    assert info["per_account"] > plain["per_account"]
    text = ok("circuit", "info", *flags).stdout
    assert text.startswith("batch circuit A=3 P=2 L=2 T=3 O=4 G=2 S=3 K=4 (id ")
    assert f"  per account        {info['per_account']:>12,}  (subtree hashing included)" \
        in text


@pytest.mark.slow
@pytest.mark.circuit
@pytest.mark.node
def test_demo_proves_an_options_book(tmp_path: Path) -> None:
    """`make demo` end to end, with batches of 2 instead of its 8: the same market and
    steps, on half the circuit (43,611 constraints, a 2^16 key; the K=8 circuit has 86,823
    and needs a 2^17 key, whose development setup alone is minutes on a fresh clone)."""
    out = tmp_path / "demo"
    result = ok("demo", "--accounts", "10", "--out", str(out), "--batch-size", "2")
    params = out / "params.json"
    assert "== 1/6 risk parameters: Black-76 risk arrays of the sample market" in result.stdout
    assert (f"wrote {params}: 8 options and 1 group perps in 2 groups, 16 scenarios"
            in result.stdout)
    assert "== 2/6 generate 10 synthetic accounts with options" in result.stdout
    assert "== 3/6 check margin" in result.stdout
    assert "== 4/6 prove every account in batches of 2" in result.stdout
    assert "== 5/6 audit the artifacts" in result.stdout
    assert f"zkmargin audit: {out / 'artifacts'}: VALID" in result.stdout
    holder = re.search(r"== 6/6 inclusion proof of (acct-\d{9}), who holds options",
                       result.stdout)
    assert holder, result.stdout
    account = holder.group(1)
    proof_file = out / f"inclusion-{account}.json"
    doc = json.loads(proof_file.read_text())
    assert any(q != "0" for q in doc["options"].values())
    assert f"Account {account} with " in result.stdout
    assert "batch proof is valid (but made with an INSECURE" in result.stdout
    assert "  holdings" in result.stdout and "    option    " in result.stdout
    assert "portfolio margin" in result.stdout and "  status       margin-" in result.stdout
    assert f"exact JSON report: {out / 'check.json'}" in result.stdout
    assert f"proof artifacts:   {out / 'artifacts'}/" in result.stdout
    assert f"inclusion proof:   {proof_file}" in result.stdout
    assert "INSECURE" in result.stdout and "INSECURE" in result.stderr
    report = json.loads((out / "check.json").read_text())
    assert set(report) == REPORT_KEYS
    assert report["accounts"] == 10
    assert report == check_json(out / "snapshot.csv", params)
    manifest = json.loads((out / "artifacts" / "manifest.json").read_text())
    report.pop("deficient_ids")
    assert manifest["totals"] == report
    assert manifest["batches"] == 5 and manifest["insecure_setup"] is True
    assert {k: manifest["circuit"][k] for k in ("assets", "perps", "brackets", "tiers",
                                                "options", "groups", "scenarios",
                                                "batch_size")} == \
        {"assets": 3, "perps": 2, "brackets": 3, "tiers": 3, "options": 8, "groups": 2,
         "scenarios": 16, "batch_size": 2}
    assert sorted(p.parent.name for p in (out / "artifacts" / "batches").glob("*/proof.json")) \
        == [f"{i:06d}" for i in range(5)]
