"""Options, portfolio groups and collateral tiers: params rules, snapshot columns, generate.

The params cases start from the hand-computed portfolio vector's params
(tests/vectors/portfolio_cases.json), change ONE thing and expect a located error
through the real CLI (`zkmargin check`), as tests/test_inputs.py does for the base rules.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from tests.conftest import load_vector
from tests.test_inputs import assert_rejected, run_check, write_csv, write_params
from zkmargin.cli import main
from zkmargin.fixed import format_fixed, parse_fixed
from zkmargin.margin import get_core
from zkmargin.params import (
    MAX_OPTIONS,
    Asset,
    Option,
    Perp,
    RiskParams,
    Tier,
    loads_params,
)
from zkmargin.snapshot import SnapshotReader

VECTOR = load_vector("portfolio_cases.json")
PARAMS: dict[str, Any] = VECTOR["params"]
HEADER = ["account_id", "USDT", "BTC", "ETH", "BTC-PERP.qty", "BTC-PERP.cost", "ETH-PERP.qty",
          "ETH-PERP.cost", "BTC-C-50000.qty", "BTC-P-45000.qty", "ETH-C-2000.qty",
          "ETH-P-2000.qty"]


def vector_rows() -> list[list[str]]:
    rows = []
    for a in VECTOR["accounts"]:
        perps = [v for pair in zip(a["qty"], a["cost"], strict=True) for v in pair]
        rows.append([a["id"], *a["balances"], *perps, *a["options"]])
    return rows


def usd(text: str) -> int:
    return parse_fixed(text) * 10**14  # USD x 1e8 -> F = USD x 1e22


def expected_report() -> dict[str, Any]:
    t = VECTOR["totals"]
    return {
        "accounts": t["accounts"], "deficient": t["deficient"],
        "equity_total": usd(t["equity_usd"]), "requirement_total": usd(t["requirement_usd"]),
        "shortfall_total": usd(t["shortfall_usd"]),
        "assets": {s: {k: parse_fixed(v) for k, v in entry.items()}
                   for s, entry in t["assets"].items()},
        "deficient_ids": [a["id"] for a in VECTOR["accounts"] if a["deficient"]],
    }


@pytest.fixture
def report(tmp_path: Path) -> Path:
    return tmp_path / "out" / "report.json"


# --------------------------------------------------------------------------------------
# the valid base through every snapshot format


@pytest.mark.parametrize("core", ["reference", "vectorized"])
def test_vector_snapshot_csv(tmp_path: Path, report: Path, core: str) -> None:
    params = write_params(tmp_path / "p.json", PARAMS)
    snap = write_csv(tmp_path / "s.csv", HEADER, vector_rows())
    result = run_check(snap, params, report, "--json", "--core", core)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected_report()


def test_vector_snapshot_jsonl_any_column_order(tmp_path: Path, report: Path) -> None:
    params = write_params(tmp_path / "p.json", PARAMS)
    lines = []
    for row in vector_rows():
        obj = {k: v for k, v in zip(HEADER, row, strict=True) if v != "0"}
        lines.append(json.dumps(dict(reversed(list(obj.items())))))
    snap = tmp_path / "s.jsonl"
    snap.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_check(snap, params, report, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected_report()


def test_vector_snapshot_parquet(tmp_path: Path, report: Path) -> None:
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    params = write_params(tmp_path / "p.json", PARAMS)
    rows = vector_rows()
    columns = {name: [row[k] for row in rows] for k, name in enumerate(HEADER)}
    table = pa.table({name: pa.array(values if name in ("account_id", "USDT") else
                                     [None if v == "0" else v for v in values], pa.string())
                      for name, values in columns.items()})
    snap = tmp_path / "s.parquet"
    pq.write_table(table, snap)
    result = run_check(snap, params, report, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected_report()


def test_reader_blocks_carry_option_sizes(tmp_path: Path) -> None:
    params = loads_params(json.dumps(PARAMS))
    snap = write_csv(tmp_path / "s.csv", HEADER, vector_rows())
    blocks = list(SnapshotReader(snap, params, block_size=5))
    assert [len(b) for b in blocks] == [5, 5, 5, 2]
    sizes = np.concatenate([b.options for b in blocks])
    assert sizes.shape == (17, 4)
    assert sizes.tolist() == [[parse_fixed(v) for v in a["options"]] for a in VECTOR["accounts"]]
    assert np.concatenate([b.cost for b in blocks])[8].tolist() == [50000 * 10**8, 0]


def test_option_column_is_required_and_checked(tmp_path: Path, report: Path) -> None:
    params = write_params(tmp_path / "p.json", PARAMS)
    snap = write_csv(tmp_path / "s.csv", HEADER[:-1], [r[:-1] for r in vector_rows()])
    assert_rejected(run_check(snap, params, report), report, file=snap, row=1,
                    column="ETH-P-2000.qty", reason="missing column")
    rows = vector_rows()
    rows[2][HEADER.index("BTC-C-50000.qty")] = "1.123456789"
    snap = write_csv(tmp_path / "s2.csv", HEADER, rows)
    assert_rejected(run_check(snap, params, report), report, file=snap, row=4,
                    column="BTC-C-50000.qty", value="1.123456789",
                    reason="has 9 fractional digits")
    rows = vector_rows()
    rows[0][HEADER.index("ETH-C-2000.qty")] = "-92233720368.54775808"
    snap = write_csv(tmp_path / "s3.csv", HEADER, rows)
    assert_rejected(run_check(snap, params, report), report, file=snap, row=2,
                    column="ETH-C-2000.qty", reason="is out of range")


def test_empty_option_cell_is_zero_and_needs_no_cost(tmp_path: Path, report: Path) -> None:
    params = write_params(tmp_path / "p.json", PARAMS)
    rows = [["x", "100", "", "", "", "", "", "", "", "", "", "-1"]]  # one short ETH put
    snap = write_csv(tmp_path / "s.csv", HEADER, rows)
    result = run_check(snap, params, report, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["equity_total"] == usd("10") and out["requirement_total"] == usd("140")


# --------------------------------------------------------------------------------------
# params rules


def _set(path: list[str | int], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        node: Any = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def _delete(path: list[str | int]) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        node: Any = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return change


def _both(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        for c in changes:
            c(doc)

    return change


TIERS: list[str | int] = ["assets", 1, "tiers"]
OPT: list[str | int] = ["options", 0]

PARAMS_CASES = [
    # (change, JSON field path, shown value, reason)
    pytest.param(_set([*TIERS, 1, "max_value"], "100000"), "assets[1].tiers[1].max_value",
                 "100000", "tier bounds must strictly increase", id="equal-tier-bound"),
    pytest.param(_set([*TIERS, 1, "weight_bps"], 9600), "assets[1].tiers[1].weight_bps",
                 "9600", "collateral weights must never increase (previous tier has 9500)",
                 id="increasing-weight"),
    pytest.param(_set([*TIERS, 0, "max_value"], None), "assets[1].tiers[0].max_value", "null",
                 "only the last tier may be unbounded", id="non-last-unbounded-tier"),
    pytest.param(_set([*TIERS, 2, "max_value"], "900000"), "assets[1].tiers[2].max_value",
                 "900000", "the last tier must be unbounded", id="last-tier-bounded"),
    pytest.param(_set([*TIERS, 0, "max_value"], "0"), "assets[1].tiers[0].max_value", "0",
                 "must be positive", id="tier-bound-zero"),
    pytest.param(_set([*TIERS, 2, "weight_bps"], 10001), "assets[1].tiers[2].weight_bps",
                 "10001", "must be an integer in 0..10000", id="tier-weight-10001"),
    pytest.param(_set(TIERS, []), "assets[1].tiers", None, "must have 1..16 entries, has 0",
                 id="no-tiers"),
    pytest.param(_set(["assets", 1, "weight_bps"], 9500), "assets[1]", None,
                 "give either \"weight_bps\" (one weight) or \"tiers\", not both",
                 id="weight-and-tiers"),
    pytest.param(_delete(TIERS), "assets[1]", None, "missing key 'weight_bps' (or 'tiers')",
                 id="no-weight"),
    pytest.param(_set(["assets", 0, "haircut"], 1), "assets[0]", None,
                 "unknown key 'haircut'; allowed keys: symbol, price, weight_bps, tiers",
                 id="asset-unknown-key"),
    pytest.param(_set([*OPT, "risk"], ["1", "2"]), "options[0].risk", None,
                 "has 2 values but the portfolio has 3 scenarios", id="risk-too-short"),
    pytest.param(_set(["perps", 0, "risk"], ["1", "2", "3", "4"]), "perps[0].risk", None,
                 "has 4 values but the portfolio has 3 scenarios", id="perp-risk-too-long"),
    pytest.param(_set([*OPT, "risk", 1], "92233720368.54775808"), "options[0].risk[1]",
                 "92233720368.54775808", "is out of range", id="risk-2^63"),
    pytest.param(_set([*OPT, "risk", 2], "-0.123456789"), "options[0].risk[2]",
                 "-0.123456789", "has 9 fractional digits", id="risk-decimals"),
    pytest.param(_set([*OPT, "mark"], "-1"), "options[0].mark", "-1", "must not be negative",
                 id="negative-option-mark"),
    pytest.param(_set([*OPT, "short_min"], "-0.01"), "options[0].short_min", "-0.01",
                 "must not be negative", id="negative-short-min"),
    pytest.param(_set([*OPT, "symbol"], "BTC"), "options[0].symbol", "BTC",
                 "option symbol equals the symbol of an asset", id="option-named-like-asset"),
    pytest.param(_set([*OPT, "symbol"], "ETH-PERP"), "options[0].symbol", "ETH-PERP",
                 "option symbol equals the symbol of a perp", id="option-named-like-perp"),
    pytest.param(_set(["options", 1, "symbol"], "BTC-C-50000"), "options[1].symbol",
                 "BTC-C-50000", "option symbol equals the symbol of another option",
                 id="duplicate-option"),
    pytest.param(_set([*OPT, "symbol"], "btc-c"), "options[0].symbol", "btc-c",
                 "must be a symbol matching [A-Z0-9_-]+", id="bad-option-symbol"),
    pytest.param(_set([*OPT, "group"], "b t c"), "options[0].group", "b t c",
                 "must be a group name matching [A-Z0-9_-]+", id="bad-group-name"),
    pytest.param(_both(_delete(["portfolio"]), _set(["perps", 0], {
                     "symbol": "BTC-PERP", "mark": "1", "brackets": [
                         {"max_notional": None, "mmr_ppm": 1000}]})),
                 "options[0]", None, "an option needs a \"portfolio\" with scenarios",
                 id="options-without-portfolio"),
    pytest.param(_both(_delete(["portfolio"]), _delete(["options"])), "perps[0].group", None,
                 "a group perp needs a \"portfolio\"", id="group-perp-without-portfolio"),
    pytest.param(_set(["portfolio", "scenarios"], []), "portfolio.scenarios", None,
                 "a portfolio without scenarios", id="empty-scenarios"),
    pytest.param(_delete(["portfolio", "scenarios"]), "portfolio", None,
                 "a portfolio without scenarios", id="no-scenarios-key"),
    pytest.param(_set(["portfolio", "scenarios"], [{"name": f"s{k}"} for k in range(33)]),
                 "portfolio.scenarios", None, "must have 1..32 entries, has 33",
                 id="33-scenarios"),
    pytest.param(_set(["portfolio", "scenarios", 2, "name"], "down-15%"),
                 "portfolio.scenarios[2].name", "down-15%",
                 "duplicate scenario name (scenario 0 has it)", id="duplicate-scenario"),
    pytest.param(_set(["portfolio", "scenarios", 1, "name"], ""), "portfolio.scenarios[1].name",
                 "", "a scenario name must be a non-empty string",
                 id="empty-scenario-name"),
    pytest.param(_set(["portfolio", "groups"], ["BTC"]), "options[2].group", "ETH",
                 "group 'ETH' is not listed in portfolio.groups (which lists BTC)",
                 id="group-not-listed"),
    pytest.param(_set(["portfolio", "groups"], ["BTC", "ETH", "SOL"]), "portfolio.groups[2]",
                 "SOL", "a group with no members", id="group-without-members"),
    pytest.param(_set(["portfolio", "groups"], ["BTC", "ETH", "BTC"]), "portfolio.groups[2]",
                 "BTC", "duplicate group name", id="duplicate-group"),
    pytest.param(_set(["perps", 0, "brackets"], [{"max_notional": None, "mmr_ppm": 1}]),
                 "perps[0]", None, "give either \"brackets\" (tiered maintenance) or \"group\" "
                 "and \"risk\" (portfolio margin), not both", id="brackets-and-group"),
    pytest.param(_delete(["perps", 0, "risk"]), "perps[0]", None, "missing key 'risk'",
                 id="group-without-risk"),
    pytest.param(_both(_delete(["perps", 1, "brackets"])), "perps[1]", None,
                 "missing key 'brackets' (or 'group' and 'risk'", id="perp-without-brackets"),
    pytest.param(_set(["portfolio", "extra"], 1), "portfolio", None,
                 "unknown key 'extra'; allowed keys: scenarios, groups", id="portfolio-key"),
    pytest.param(_set([*OPT, "cost"], "1"), "options[0]", None,
                 "unknown key 'cost'; allowed keys: symbol, group, mark, short_min, risk",
                 id="option-cost-key"),
]


@pytest.mark.parametrize(("change", "path", "value", "reason"), PARAMS_CASES)
def test_portfolio_params_bad_field(
    tmp_path: Path,
    report: Path,
    change: Callable[[dict[str, Any]], None],
    path: str,
    value: object,
    reason: str,
) -> None:
    doc = copy.deepcopy(PARAMS)
    change(doc)
    params = write_params(tmp_path / "risk.json", doc)
    snap = write_csv(tmp_path / "snap.csv", HEADER, vector_rows())
    result = run_check(snap, params, report)
    assert_rejected(result, report, file=params, path=path, value=value, reason=reason)


def test_too_many_options(tmp_path: Path, report: Path) -> None:
    doc = copy.deepcopy(PARAMS)
    doc["options"] = [dict(doc["options"][0], symbol=f"O{j}") for j in range(MAX_OPTIONS + 1)]
    params = write_params(tmp_path / "risk.json", doc)
    snap = write_csv(tmp_path / "snap.csv", HEADER, vector_rows())
    assert_rejected(run_check(snap, params, report), report, file=params, path="options",
                    reason=f"must have 0..{MAX_OPTIONS} entries, has {MAX_OPTIONS + 1}")


def test_groups_in_order_of_first_appearance() -> None:
    doc = copy.deepcopy(PARAMS)
    doc["options"][0]["group"] = "ZED"  # the perp names BTC first, then options ZED, BTC, ETH
    doc["portfolio"]["groups"] = ["ETH", "ZED", "BTC"]  # any order, every group listed
    params = loads_params(json.dumps(doc))
    assert params.groups == ("BTC", "ZED", "ETH")
    assert params.option_symbols == ("BTC-C-50000", "BTC-P-45000", "ETH-C-2000", "ETH-P-2000")
    del doc["portfolio"]["groups"]
    assert loads_params(json.dumps(doc)).groups == ("BTC", "ZED", "ETH")


def test_params_api() -> None:
    params = loads_params(json.dumps(PARAMS))
    btc = params.assets[1]
    assert btc.tiered and params.max_tiers == 3
    assert [t.weight_bps for t in btc.tiers] == [9500, 9000, 8000]
    # C_k in USD x 1e20: 5000 and 55000 USD
    assert btc.tier_constants() == (0, 5000 * 10**20, 55000 * 10**20)
    # least x with x * 50000 >= 100000 (then 500000): 2 BTC (then 10)
    assert btc.tier_thresholds() == (2 * 10**8, 10 * 10**8)
    with pytest.raises(ValueError, match="has 3 collateral tiers"):
        _ = btc.weight_bps
    assert params.assets[0].weight_bps == 10000 and not params.assets[0].tiered
    perp, bracket_perp = params.perps
    assert perp.grouped and perp.group == "BTC" and perp.brackets == ()
    assert perp.risk == (7500 * 10**8, 0, -7500 * 10**8)
    assert perp.deductions() == () and perp.thresholds() == ()
    assert not bracket_perp.grouped and bracket_perp.deductions() == (0, 100 * 10**22)
    assert params.max_brackets == 2
    assert params.scenarios == ("down-15%", "flat-vol-up", "up-15%")
    assert params.has_portfolio
    assert params.options[3] == Option("ETH-P-2000", "ETH", 90 * 10**8, 140 * 10**8,
                                       (-140 * 10**8, -10 * 10**8, 70 * 10**8))
    assert params.snapshot_columns() == tuple(HEADER[1:])
    assert params.asset_symbols == ("USDT", "BTC", "ETH")
    assert params.perp_symbols == ("BTC-PERP", "ETH-PERP")


def test_to_json_is_canonical_and_round_trips() -> None:
    params = loads_params(json.dumps(PARAMS))
    doc = params.to_json()
    assert loads_params(json.dumps(doc)) == params
    assert doc == PARAMS  # the vector's params are already canonical
    one = copy.deepcopy(PARAMS)
    one["assets"][2] = {"symbol": "ETH", "price": "2000",
                        "tiers": [{"max_value": None, "weight_bps": 9000}]}
    assert loads_params(json.dumps(one)) == params  # one tier is the weight_bps form
    assert loads_params(json.dumps(one)).to_json()["assets"][2] == PARAMS["assets"][2]
    # without options and portfolio: the keys of before
    old = load_vector("margin_cases.json")["params"]
    assert loads_params(json.dumps(old)).to_json() == old


def test_budget_of_the_largest_params() -> None:
    """A full params set at the limits stays below 2^160 per product, 2^170 per value."""
    from zkmargin.params import (
        MAX_ASSETS,
        MAX_PERPS,
        MAX_SCENARIOS,
        PRODUCT_BOUND,
        VALUE_BOUND,
        value_bounds,
    )

    big = (1 << 63) - 1
    tiers = (*(Tier(big - 16 + k, 10000 - k) for k in range(15)), Tier(None, 0))
    params = RiskParams(
        tuple(Asset(f"A{a}", big, tiers=tiers) for a in range(MAX_ASSETS)),
        tuple(Perp(f"P{i}", big, group="G", risk=(big,) * MAX_SCENARIOS)
              for i in range(MAX_PERPS)),
        tuple(Option(f"O{j}", "G", big, big, (-big,) * MAX_SCENARIOS)
              for j in range(MAX_OPTIONS)),
        tuple(f"s{k}" for k in range(MAX_SCENARIOS)),
    )
    product, value = value_bounds(params)
    assert product < PRODUCT_BOUND and value < VALUE_BOUND
    params.check_budget()  # the loader runs the same check on every file


def test_asset_constructor_forms() -> None:
    a = Asset("X", 5, 9000)
    assert a.tiers == (Tier(None, 9000),) and a == Asset("X", 5, tiers=(Tier(None, 9000),))
    with pytest.raises(TypeError, match="either weight_bps or tiers"):
        Asset("X", 5)
    with pytest.raises(ValueError, match="last collateral tier must be unbounded"):
        Asset("X", 5, tiers=(Tier(10, 9000),))
    import pickle

    assert pickle.loads(pickle.dumps(a)) == a


# --------------------------------------------------------------------------------------
# generate


def _run(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_generate_options_is_deterministic_and_checks(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    args = ["--accounts", "3000", "--options", "12", "--groups", "3", "--scenarios", "7",
            "--tiers", "--group-perps", "--deficient-share", "0.05"]
    _run("generate", "--out", str(a), "--seed", "4", *args)
    _run("generate", "--out", str(b), "--seed", "4", *args)
    _run("generate", "--out", str(c), "--seed", "5", *args)
    for name in ("snapshot.csv", "params.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / "snapshot.csv").read_bytes() != (c / "snapshot.csv").read_bytes()
    params = loads_params((a / "params.json").read_text())
    assert len(params.options) == 12 and len(params.groups) == 3
    assert len(params.scenarios) == 7 and params.max_tiers == 3
    assert any(p.grouped for p in params.perps) and any(not p.grouped for p in params.perps)
    header = (a / "snapshot.csv").read_text().splitlines()[0].split(",")
    assert header[1:] == list(params.snapshot_columns())
    reports = []
    for core in ("reference", "vectorized"):
        out = _run("check", str(a / "snapshot.csv"), "--params", str(a / "params.json"),
                   "--json", "--core", core)
        reports.append(json.loads(out.stdout))
    assert reports[0] == reports[1]
    assert reports[0]["deficient"] == 150  # the requested share, exactly
    blocks = list(SnapshotReader(a / "snapshot.csv", params))
    sizes = np.concatenate([blk.options for blk in blocks])
    assert (sizes > 0).any() and (sizes < 0).any()  # long and short options
    held = (sizes != 0).sum(axis=1)
    assert (held == 0).any() and (held == 1).any() and (held >= 2).any()


def test_generate_options_in_every_format(tmp_path: Path) -> None:
    reports = []
    for fmt in ("csv", "jsonl", "parquet"):
        out = tmp_path / fmt
        _run("generate", "--out", str(out), "--accounts", "600", "--options", "5",
             "--groups", "1", "--scenarios", "16", "--format", fmt, "--seed", "2")
        result = _run("check", str(out / f"snapshot.{fmt}"), "--params",
                      str(out / "params.json"), "--json")
        reports.append(json.loads(result.stdout))
    assert reports[0] == reports[1] == reports[2]
    params = loads_params((tmp_path / "csv" / "params.json").read_text())
    assert params.scenarios[0] == "01 price0 vol+1" and len(params.scenarios) == 16


@pytest.mark.parametrize(("args", "reason"), [
    (["--options", "3", "--groups", "4"], "must not exceed --options"),
    (["--options", "8", "--groups", "7"], "--groups must be in 1..6"),
    (["--options", "241"], "241 is not in the range 0<=x<=240"),
    (["--scenarios", "33"], "33 is not in the range 1<=x<=32"),
])
def test_generate_rejects_bad_option_arguments(tmp_path: Path, args: list[str],
                                              reason: str) -> None:
    result = CliRunner().invoke(main, ["generate", "--out", str(tmp_path), "--accounts", "5",
                                       *args])
    assert result.exit_code == 2, result.output
    assert reason in result.output
    assert not list(tmp_path.iterdir())


def test_generate_tiers_only(tmp_path: Path) -> None:
    _run("generate", "--out", str(tmp_path), "--accounts", "400", "--tiers", "--seed", "3")
    params = loads_params((tmp_path / "params.json").read_text())
    assert [len(a.tiers) for a in params.assets] == [1, 3, 3, 1, 3, 3, 3, 3]
    assert not params.options and not params.scenarios
    assert "portfolio" not in json.loads((tmp_path / "params.json").read_text())
    block = next(iter(SnapshotReader(tmp_path / "snapshot.csv", params)))
    ref, vec = get_core("reference"), get_core("vectorized")
    assert ref.excess(params, block) == vec.excess(params, block)
    # some holdings reach the second and third tiers
    tiers = {a.symbol: a.tier_thresholds() for a in params.assets if a.tiered}
    btc = block.balances[:, 1]
    assert (btc >= tiers["BTC"][0]).any()
    assert format_fixed(int(btc.max())) != "0"


# --------------------------------------------------------------------------------------
# generate --params: a book for an existing params file


@pytest.fixture(scope="module")
def sample_params(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The params of ``zkmargin params risk-arrays`` on the embedded sample market."""
    from zkmargin.riskarrays import write_sample_market

    tmp = tmp_path_factory.mktemp("sample")
    market = write_sample_market(tmp / "market.json")
    _run("params", "risk-arrays", str(market), "--out", str(tmp / "params.json"))
    return tmp / "params.json"


def test_generate_for_params_meets_the_share_and_checks(sample_params: Path,
                                                        tmp_path: Path) -> None:
    out, again = tmp_path / "book", tmp_path / "again"
    args = ["--params", str(sample_params), "--accounts", "1000", "--seed", "9",
            "--deficient-share", "0.07"]
    result = _run("generate", *args, "--out", str(out))
    snap = out / "snapshot.csv"
    assert result.stdout == (f"wrote {snap} (1000 accounts; 3 assets, 2 perps, 8 options in "
                             f"2 groups of {sample_params})\n")
    assert sorted(p.name for p in out.iterdir()) == ["snapshot.csv"]  # the params stay put
    _run("generate", *args, "--out", str(again))
    assert snap.read_bytes() == (again / "snapshot.csv").read_bytes()  # deterministic
    params = loads_params(sample_params.read_text())
    header = snap.read_text().splitlines()[0].split(",")
    assert header == ["account_id", "USDT", "BTC", "ETH", "BTC-PERP.qty", "BTC-PERP.cost",
                      "ETH-PERP.qty", "ETH-PERP.cost",
                      *(f"{o}.qty" for o in params.option_symbols)]
    reports = [json.loads(_run("check", str(snap), "--params", str(sample_params), "--json",
                               "--core", core).stdout) for core in ("reference", "vectorized")]
    assert reports[0] == reports[1]
    assert reports[0]["accounts"] == 1000
    assert reports[0]["deficient"] == 70  # the requested share, exactly
    block = next(iter(SnapshotReader(snap, params)))
    sizes = block.options
    assert (sizes > 0).any() and (sizes < 0).any()  # long and short options
    btc, eth = sizes[:, :6], sizes[:, 6:]
    assert (btc != 0).any() and (eth != 0).any()  # books in both groups
    holders = (sizes != 0).any(axis=1)
    assert 0.25 < holders.mean() < 0.45  # about a third hold options
    # hedged books: a short BTC call with a long BTC group perp (the covered call)
    calls = [j for j, o in enumerate(params.option_symbols) if o.startswith("BTC")
             and o.endswith("-C")]
    covered = (sizes[:, calls] < 0).any(axis=1) & (block.qty[:, 0] > 0)
    assert covered.any()
    # the group perp and the bracket perp are both traded, long and short
    assert (block.qty > 0).any(axis=0).all() and (block.qty < 0).any(axis=0).all()


def test_generate_for_params_in_jsonl_and_parquet(sample_params: Path, tmp_path: Path) -> None:
    reports = []
    for fmt in ("csv", "jsonl", "parquet"):
        out = tmp_path / fmt
        _run("generate", "--params", str(sample_params), "--accounts", "300", "--seed", "2",
             "--format", fmt, "--out", str(out))
        reports.append(json.loads(_run("check", str(out / f"snapshot.{fmt}"), "--params",
                                       str(sample_params), "--json").stdout))
    assert reports[0] == reports[1] == reports[2]
    assert reports[0]["deficient"] == 3  # the default 1%


@pytest.mark.parametrize("flag", [["--options", "4"], ["--tiers"], ["--assets", "3"],
                                  ["--group-perps"], ["--scenarios", "16"]])
def test_generate_for_params_refuses_market_flags(sample_params: Path, tmp_path: Path,
                                                 flag: list[str]) -> None:
    result = CliRunner().invoke(main, ["generate", "--params", str(sample_params),
                                       "--accounts", "5", "--out", str(tmp_path / "g"), *flag])
    assert result.exit_code == 2, result.output
    assert (f"{flag[0]} shapes an invented market; with --params the market is the params "
            "file's") in result.output
    assert not (tmp_path / "g").exists()


def test_generate_for_params_needs_a_cash_asset(tmp_path: Path) -> None:
    doc = copy.deepcopy(PARAMS)
    doc["assets"][0]["weight_bps"] = 9900
    params = tmp_path / "p.json"
    params.write_text(json.dumps(doc))
    out = tmp_path / "g"
    result = CliRunner().invoke(main, ["generate", "--params", str(params), "--accounts", "5",
                                       "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: {params}, field assets: generate needs a cash "
                                    "asset, one whose collateral weight is 10000 bps in every "
                                    "tier")
    assert "the weights (bps) are: USDT 9900, BTC 9500/9000/8000, ETH 9000" in result.stderr
    assert not out.exists()


def test_generate_for_params_refuses_bad_params_with_their_location(tmp_path: Path) -> None:
    doc = copy.deepcopy(PARAMS)
    doc["options"][1]["risk"] = ["1", "2"]
    params = tmp_path / "p.json"
    params.write_text(json.dumps(doc))
    result = CliRunner().invoke(main, ["generate", "--params", str(params), "--accounts", "5",
                                       "--out", str(tmp_path / "g")])
    assert result.exit_code == 1, result.output
    assert f"error: {params}, field options[1].risk" in result.stderr
    assert "has 2 values but the portfolio has 3 scenarios" in result.stderr
    assert not (tmp_path / "g").exists()


def test_generate_for_the_vector_params_is_exact_per_account(tmp_path: Path) -> None:
    """The book of the options test circuit's params (the shared proved exchange's):
    the share is met exactly by the reference core too, and the hand-made account
    shapes of the vector's params are all generated."""
    params_path = tmp_path / "p.json"
    params_path.write_text(json.dumps(PARAMS))
    _run("generate", "--params", str(params_path), "--accounts", "80", "--seed", "22",
         "--deficient-share", "0.25", "--out", str(tmp_path))
    params = loads_params(params_path.read_text())
    block = next(iter(SnapshotReader(tmp_path / "snapshot.csv", params)))
    excess = get_core("reference").excess(params, block)
    assert sum(e < 0 for e in excess) == 20
    assert (block.options != 0).any(axis=0).all()  # every option is held by someone
    assert (block.balances[:, 0] < 0).any()  # a cash debt (a borrower or a deficit)
