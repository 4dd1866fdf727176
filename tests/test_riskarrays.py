"""Risk arrays from a market file (zkmargin/riskarrays.py, docs/margin.md section 11).

Expected numbers come from a separately written Black-76 in float64 (``math.erfc``) in
this file, never from zkmargin: each expected risk value is
``ceil(weight * (mark - value) * 1e8)``, and the test first checks that the float value
is far enough from an integer (0.01 units) for the float's error (below 1e-3 units here)
not to matter.
"""

from __future__ import annotations

import copy
import json
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from zkmargin.cli import main
from zkmargin.errors import InputError
from zkmargin.fixed import parse_fixed
from zkmargin.params import loads_params
from zkmargin.riskarrays import (
    black76,
    build_params,
    ceil_units,
    loads_market,
    norm_cdf,
    round_units,
    sample_market,
    span16,
    write_sample_market,
)

U = 10**8


def n_float(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def black76_float(kind: str, f: float, k: float, t: float, vol: float, r: float = 0.0) -> float:
    """Black-76, written independently of zkmargin (float64)."""
    disc = math.exp(-r * t)
    if vol * math.sqrt(t) == 0:
        return disc * max(f - k if kind == "call" else k - f, 0.0)
    w = vol * math.sqrt(t)
    d1 = (math.log(f / k) + w * w / 2) / w
    d2 = d1 - w
    if kind == "call":
        return disc * (f * n_float(d1) - k * n_float(d2))
    return disc * (k * n_float(-d2) - f * n_float(-d1))


def ceil_clear(usd: float) -> int:
    """ceil(usd * 1e8), asserting the float is not within 0.01 units of an integer."""
    units = usd * U
    assert abs(units - round(units)) > 0.01, f"{units} is too close to an integer to test"
    return math.ceil(units)


def half_up_clear(usd: float) -> int:
    units = usd * U
    assert abs(units - math.floor(units) - 0.5) > 0.01, units
    return math.floor(units + 0.5)


BASE: dict[str, Any] = {
    "underlyings": [{"symbol": "BTC", "price": "100000", "price_scan_range": "0.15",
                     "vol_scan_range": "0.1"}],
    "scenarios": [
        {"name": "up 1/3, vol up", "price_scan": "1/3", "vol_scan": "1"},
        {"name": "down 1, vol down", "price_scan": "-1", "vol_scan": "-1"},
        {"name": "down 3, 35%", "price_scan": "-3", "vol_scan": "0", "weight": "0.35"},
    ],
    "options": [
        {"symbol": "BTC-ATM-C", "underlying": "BTC", "type": "call", "strike": "100000",
         "expiry": "0.25", "vol": "0.6"},
        {"symbol": "BTC-OTM-P", "underlying": "BTC", "type": "put", "strike": "80000",
         "expiry": "0.1", "vol": "0.8"},
        {"symbol": "BTC-ITM-C", "underlying": "BTC", "type": "call", "strike": "50000",
         "expiry": "0.5", "vol": "0.5"},
    ],
    "assets": [{"symbol": "USDT", "price": "1", "weight_bps": 10000}],
    "perps": [],
}
# (price move, vol shift, weight) of the three scenarios above
SCEN = [(0.15 / 3, 0.1, 1.0), (-0.15, -0.1, 1.0), (-0.45, 0.0, 0.35)]
SPECS = [("call", 100000.0, 0.25, 0.6), ("put", 80000.0, 0.1, 0.8), ("call", 50000.0, 0.5, 0.5)]


def build(doc: Any) -> Any:
    return build_params(loads_market(json.dumps(doc)), "market.json")


def test_black76_against_an_independent_float_formula() -> None:
    params = build(BASE)
    assert params.scenarios == ("up 1/3, vol up", "down 1, vol down", "down 3, 35%")
    assert params.groups == ("BTC",)
    for opt, (kind, k, t, vol) in zip(params.options, SPECS, strict=True):
        theo = black76_float(kind, 100000.0, k, t, vol)
        assert opt.mark == half_up_clear(theo), opt.symbol  # computed mark: half up
        mark = opt.mark / U
        expected = []
        for move, shift, weight in SCEN:
            value = black76_float(kind, 100000.0 * (1 + move), k, t, max(vol + shift, 0.0))
            expected.append(ceil_clear(weight * (mark - value)))
        assert list(opt.risk) == expected, opt.symbol
        assert opt.short_min == 0 and opt.group == "BTC"
    # sanity of the three kinds: the ATM call loses when the price falls, the OTM put
    # gains; the deep ITM call moves almost one for one with the price
    atm, otm, itm = params.options
    assert atm.risk[0] < 0 < atm.risk[1] and otm.risk[1] < 0 and otm.risk[2] < 0
    assert 14_000 * U < itm.risk[1] < 16_000 * U


def test_worked_numbers() -> None:
    """The ATM call worked out with the textbook formula and a table value of N."""
    # F = K = 100000, T = 0.25, vol = 0.6: w = 0.3, d1 = 0.15, d2 = -0.15,
    # call = 100000 (N(0.15) - N(-0.15)) = 100000 (2 N(0.15) - 1), N(0.15) = 0.5596176923702425
    value = black76(
        "call", Decimal(100000), Decimal(100000), Decimal("0.25"), Decimal("0.6")
    )
    assert abs(value - Decimal("11923.53847404850")) < Decimal("1e-9")
    assert abs(float(value) - 100000 * (2 * n_float(0.15) - 1)) < 1e-6
    # vol 0: the intrinsic value, exactly
    assert black76("call", Decimal(105000), Decimal(100000), Decimal(1), Decimal(0)) == 5000
    assert black76("put", Decimal(105000), Decimal(100000), Decimal(1), Decimal(0)) == 0


def test_put_call_parity_and_norm_cdf() -> None:
    f, k, t, vol, r = Decimal(3400), Decimal(3000), Decimal("0.3"), Decimal("0.7"), Decimal(
        "0.05")
    c = black76("call", f, k, t, vol, r)
    p = black76("put", f, k, t, vol, r)
    parity = (-r * t).exp() * (f - k)
    assert abs(c - p - parity) < Decimal("1e-40")
    assert norm_cdf(Decimal(0)) == Decimal("0.5")
    for x in ("0.3", "1.96", "-2.5", "7", "-9", "20"):
        d = Decimal(x)
        assert abs(norm_cdf(d) + norm_cdf(-d) - 1) < Decimal("1e-45")
        assert abs(float(norm_cdf(d)) - n_float(float(x))) < 1e-15
    assert abs(norm_cdf(Decimal("1.96")) - Decimal("0.9750021048517795")) < Decimal("1e-16")


def test_rounding_rules() -> None:
    assert ceil_units(Decimal("1.000000001")) == 100000001  # up, never down
    assert ceil_units(Decimal("-1.000000009")) == -100000000  # toward +infinity
    assert ceil_units(Decimal("1")) == 100000001  # the margin: an inexact value at an
    # integer may round one unit up, never below (exact values never take this path)
    assert round_units(Decimal("1.000000005")) == 100000001  # half up
    assert round_units(Decimal("1.0000000049")) == 100000000


def test_exact_values_have_exact_ceilings() -> None:
    """Group perps, short minimums and vol-0 options are rational: no margin."""
    doc = copy.deepcopy(BASE)
    doc["short_min_fraction"] = "0.0015"
    doc["options"] = [
        {"symbol": "BTC-Z", "underlying": "BTC", "type": "put", "strike": "95000",
         "expiry": "0.2", "vol": "0.1", "mark": "123.45", "short_min": "7"},
        {"symbol": "BTC-Y", "underlying": "BTC", "type": "call", "strike": "90000",
         "expiry": "0.2", "vol": "0.05", "multiplier": "0.1"},
    ]
    doc["perps"] = [{"symbol": "BTC-PERP", "mark": "100010", "group": "BTC",
                     "underlying": "BTC"}]
    params = build(doc)
    perp = params.perps[0]
    # loss of one long perp = weight * mark * (-move): exact
    assert perp.risk == (-ceil_exact(Fraction(100010) * Fraction(5, 100)),
                         ceil_exact(Fraction(100010) * Fraction(15, 100)),
                         ceil_exact(Fraction(35, 100) * 100010 * Fraction(45, 100)))
    z, y = params.options
    assert z.mark == 12345 * 10**6 and z.short_min == 7 * U  # published: taken exactly
    assert y.short_min == 15 * U  # 0.0015 x 100000 x 0.1
    # BTC-Y in scenario 2: vol 0.05 - 0.1 -> 0: intrinsic 0.1 x (85000 - 90000)^+ = 0
    assert y.risk[1] == y.mark
    # BTC-Z in scenario 2: intrinsic put 95000 - 85000 = 10000, exactly
    assert z.risk[1] == 12345 * 10**6 - 10000 * U


def ceil_exact(usd: Fraction) -> int:
    return math.ceil(usd * U)


def test_span16_and_grid() -> None:
    s = span16()
    assert len(s) == 16 and len({x.name for x in s}) == 16
    one, third = Fraction(1), Fraction(1, 3)
    assert [(x.price_scan, x.vol_scan) for x in s[:4]] == [
        (0 * one, one), (0 * one, -one), (third, one), (third, -one)]
    assert (s[14].price_scan, s[14].vol_scan, s[14].weight) == (3 * one, 0 * one,
                                                                Fraction(35, 100))
    assert s[15].price_scan == -3 and s[14].name == "15 price+3 vol0 x0.35"
    doc = copy.deepcopy(BASE)
    doc["scenarios"] = {"grid": {"price_scan": ["-1", "-0.5", "0", "0.5", "1"],
                                 "vol_scan": ["-1", "1"]}}
    params = build(doc)
    assert len(params.scenarios) == 10 and params.scenarios[0] == "price-1 vol-1"
    doc["scenarios"] = "span16"
    assert len(build(doc).scenarios) == 16


def test_dates_and_rate() -> None:
    doc = copy.deepcopy(BASE)
    doc["as_of"] = "2026-01-02"
    doc["rate"] = "0.04"
    doc["options"] = [dict(BASE["options"][0], expiry="2026-04-03")]  # 91 days
    (opt,) = build(doc).options
    t = 91 / 365
    theo = black76_float("call", 100000.0, 100000.0, t, 0.6, 0.04)
    assert opt.mark == half_up_clear(theo)
    value = black76_float("call", 85000.0, 100000.0, t, 0.5, 0.04)
    assert opt.risk[1] == ceil_clear(opt.mark / U - value)


@pytest.mark.parametrize(("change", "path", "reason"), [
    (lambda d: d["options"][0].update(underlying="ETH"), "options[0].underlying",
     "unknown underlying"),
    (lambda d: d["options"][0].update(type="straddle"), "options[0].type",
     "must be \"call\" or \"put\""),
    (lambda d: d["options"][0].update(expiry="2026-03-27"), "options[0].expiry",
     "a date expiry needs \"as_of\""),
    (lambda d: d.update(as_of="2026-04-01") or d["options"][0].update(expiry="2026-03-27"),
     "options[0].expiry", "the option has expired"),
    (lambda d: d["options"][0].update(expiry="0"), "options[0].expiry",
     "years to expiry must be positive"),
    (lambda d: d["options"][0].update(strike="-5"), "options[0].strike", "must be positive"),
    (lambda d: d["options"][0].update(vol="1e-2"), "options[0].vol", "must be a decimal"),
    (lambda d: d["options"][0].update(mark="1.123456789"), "options[0].mark",
     "has 9 fractional digits"),
    (lambda d: d["scenarios"][0].update(price_scan="-7"), "options[0].underlying",
     "a move must keep it positive"),
    (lambda d: d["scenarios"][0].update(price_scan="1/0"), "scenarios[0].price_scan",
     "division by zero"),
    (lambda d: d.update(scenarios={"grid": {"price_scan": ["0"] * 11, "vol_scan": ["1"] * 3}}),
     "scenarios.grid", "at most 32 are allowed"),
    (lambda d: d["scenarios"][1].update(name="up 1/3, vol up"), "portfolio.scenarios[1].name",
     "duplicate scenario name"),
    (lambda d: d["assets"][0].update(weight_bps=10001), "assets[0].weight_bps",
     "must be an integer in 0..10000"),
    (lambda d: d["options"][1].update(symbol="BTC-ATM-C"), "options[1].symbol",
     "option symbol equals the symbol of another option"),
])
def test_market_errors(change: Any, path: str, reason: str) -> None:
    doc = copy.deepcopy(BASE)
    change(doc)
    with pytest.raises(InputError) as info:
        build(doc)
    assert info.value.file == "market.json"
    assert info.value.path == path, str(info.value)
    assert reason in str(info.value)


def test_sample_market_and_cli(tmp_path: Path) -> None:
    market = write_sample_market(tmp_path / "market.json")
    out = tmp_path / "params.json"
    result = CliRunner().invoke(main, ["params", "risk-arrays", str(market), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "8 options and 1 group perps in 2 groups, 16 scenarios" in result.output
    params = loads_params(out.read_text())
    assert params == build(sample_market())
    assert params.groups == ("BTC", "ETH") and params.max_tiers == 3
    assert json.loads(out.read_text()) == params.to_json()
    # the params check a snapshot holding a hedged book
    cols = params.snapshot_columns()
    row = dict.fromkeys(cols, "0") | {"USDT": "20000", "BTC-PERP.qty": "1",
                                      "BTC-PERP.cost": "97010",
                                      "BTC-27MAR26-100000-C.qty": "-1"}
    snap = tmp_path / "s.csv"
    snap.write_text("account_id," + ",".join(cols) + "\nalice," +
                    ",".join(row[c] for c in cols) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(snap), "--params", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    call = params.options[params.option_symbols.index("BTC-27MAR26-100000-C")]
    perp = params.perps[0]
    scan = max(perp.risk[s] * U - call.risk[s] * U for s in range(16))
    assert report["requirement_total"] == 10**6 * max(scan, call.short_min * U)
    assert report["equity_total"] == 10**22 * 20000 - 10**6 * call.mark * U


def test_cli_errors_name_the_market_file(tmp_path: Path) -> None:
    market = tmp_path / "m.json"
    doc = copy.deepcopy(BASE)
    doc["options"][0]["vol"] = "-0.1"
    market.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "p.json"
    result = CliRunner().invoke(main, ["params", "risk-arrays", str(market), "--out", str(out)])
    assert result.exit_code == 1
    assert f"error: {market}, field options[0].vol: value '-0.1': must not be negative" in \
        result.stderr
    assert not out.exists()
    assert parse_fixed("1") == U
