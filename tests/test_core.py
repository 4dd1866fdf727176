"""The exact margin core: hand-computed vectors and properties, on both implementations.

Every test takes the ``core`` fixture, so it runs on the reference and the vectorized
core; the hypothesis tests then assert the two agree on the full input range.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import load_vector
from zkmargin.checking import CheckReport
from zkmargin.fixed import I63, parse_fixed
from zkmargin.margin import AccountBlock, BlockResult, MarginCore, get_core
from zkmargin.margin.reference import account_margin
from zkmargin.params import Asset, Bracket, Option, Perp, RiskParams, Tier, loads_params

F = 10**22
MAX = I63 - 1


def usd(text: str) -> int:
    return int(Decimal(text) * F)


Row = tuple[list[int], list[int], list[int]]


def block_of(rows: list[Row], n_a: int, n_p: int) -> AccountBlock:
    return AccountBlock(
        ids=[f"a{i}" for i in range(len(rows))],
        balances=np.array([r[0] for r in rows], dtype=np.int64).reshape(len(rows), n_a),
        qty=np.array([r[1] for r in rows], dtype=np.int64).reshape(len(rows), n_p),
        cost=np.array([r[2] for r in rows], dtype=np.int64).reshape(len(rows), n_p),
    )


@pytest.fixture(scope="module")
def vector() -> Any:
    return load_vector("margin_cases.json")


def test_hand_computed_vectors(core: MarginCore, vector: Any) -> None:
    params = loads_params(json.dumps(vector["params"]))
    rows = [
        ([parse_fixed(v) for v in a["balances"]], [parse_fixed(v) for v in a["qty"]],
         [parse_fixed(v) for v in a["cost"]])
        for a in vector["accounts"]
    ]
    block = block_of(rows, 2, 2)
    excess = core.excess(params, block)
    for acct, e, row in zip(vector["accounts"], excess, rows, strict=True):
        assert e == usd(acct["equity_usd"]) - usd(acct["requirement_usd"]), acct["id"]
        m = account_margin(params, *row)
        assert m.maintenance == tuple(usd(x) for x in acct["mm_usd"]), acct["id"]
    res = core.evaluate(params, block)
    assert res.deficient.tolist() == [a["deficient"] for a in vector["accounts"]]
    t = vector["totals"]
    report = CheckReport(params.asset_symbols)
    report.add(block, res)
    totals = report.totals
    assert totals.accounts == t["accounts"]
    assert totals.deficient == t["deficient"]
    assert totals.equity_total == usd(t["equity_usd"])
    assert totals.requirement_total == usd(t["requirement_usd"])
    assert totals.shortfall_total == usd(t["shortfall_usd"])
    for a, sym in enumerate(params.asset_symbols):
        assert totals.liabilities[a] == parse_fixed(t["assets"][sym]["liabilities"])
        assert totals.debts[a] == parse_fixed(t["assets"][sym]["debts"])
    assert report.deficient_ids == ["a1", "a4"]


def test_int64_would_wrap_but_core_does_not(core: MarginCore) -> None:
    # 1000 BTC at $100k: x * P = 1e11 * 1e13 = 1e24, far beyond int64.
    params = RiskParams(
        assets=(Asset("BTC", 100_000 * 10**8, 9500),), perps=()
    )
    block = block_of([([1000 * 10**8], [], [])], 1, 0)
    assert core.excess(params, block) == [100 * 1000 * 10**8 * 100_000 * 10**8 * 9500]
    assert core.evaluate(params, block).totals.equity_total == 1000 * 100_000 * 95 * F // 100


def test_extremes_are_exact(core: MarginCore) -> None:
    params = RiskParams(
        assets=(Asset("A", MAX, 10000), Asset("B", MAX, 0)),
        perps=(Perp("P", MAX, (Bracket(MAX, 1_000_000), Bracket(None, 1_000_000))),),
    )
    rows = [
        ([MAX, -MAX], [MAX], [-MAX]),
        ([-MAX, MAX], [-MAX], [MAX]),
        ([MAX, MAX], [0], [0]),
        ([0, 0], [1], [0]),
    ]
    block = block_of(rows, 2, 1)
    expected = []
    for x, q, c in rows:
        e = 100 * (x[0] * MAX * 10000 + x[1] * MAX * (0 if x[1] > 0 else 10000)
                   + 10000 * (q[0] * MAX - c[0] * 10**8))
        r = abs(q[0]) * MAX * 1_000_000  # both brackets have the same rate, D = 0
        expected.append(e - r)
    assert core.excess(params, block) == expected
    res = core.evaluate(params, block)
    assert res.totals.liabilities == (2 * MAX, 2 * MAX)
    assert res.totals.debts == (MAX, MAX)


# -- property tests: reference == vectorized over the full range ------------------------

edge_values = st.sampled_from([0, 1, -1, MAX, -MAX, 1 << 62, -(1 << 62), 10**8, -(10**8)])
signed63 = st.one_of(edge_values, st.integers(-MAX, MAX), st.integers(-(10**14), 10**14))
positive63 = st.one_of(st.sampled_from([1, MAX, MAX - 1, 10**8]), st.integers(1, MAX))


@st.composite
def risk_params(draw: st.DrawFn, max_assets: int = 4, max_perps: int = 3) -> RiskParams:
    n_a = draw(st.integers(1, max_assets))
    n_p = draw(st.integers(0, max_perps))
    assets = tuple(
        Asset(f"A{i}", draw(positive63), draw(st.integers(0, 10000))) for i in range(n_a)
    )
    perps = []
    for i in range(n_p):
        n_l = draw(st.integers(1, 5))
        bounds = sorted(draw(st.sets(positive63, min_size=n_l - 1, max_size=n_l - 1)))
        rates = sorted(draw(st.lists(st.integers(0, 10**6), min_size=n_l, max_size=n_l)))
        brackets = tuple(
            Bracket(bounds[k] if k < n_l - 1 else None, rates[k]) for k in range(n_l)
        )
        perps.append(Perp(f"P{i}", draw(positive63), brackets))
    return RiskParams(assets=assets, perps=tuple(perps))


@st.composite
def params_and_block(draw: st.DrawFn) -> tuple[RiskParams, AccountBlock]:
    params = draw(risk_params())
    n_a, n_p = len(params.assets), len(params.perps)
    n = draw(st.integers(1, 12))
    rows = [
        (
            draw(st.lists(signed63, min_size=n_a, max_size=n_a)),
            draw(st.lists(signed63, min_size=n_p, max_size=n_p)),
            draw(st.lists(signed63, min_size=n_p, max_size=n_p)),
        )
        for _ in range(n)
    ]
    return params, block_of(rows, n_a, n_p)


def _same(a: BlockResult, b: BlockResult) -> None:
    assert a.deficient.tolist() == b.deficient.tolist()
    assert (a.totals.equity_total, a.totals.requirement_total, a.totals.shortfall_total) == (
        b.totals.equity_total, b.totals.requirement_total, b.totals.shortfall_total)
    assert a.totals.liabilities == b.totals.liabilities
    assert a.totals.debts == b.totals.debts


REF = get_core("reference")
VEC = get_core("vectorized")


@given(params_and_block())
def test_cores_agree_on_full_range(case: tuple[RiskParams, AccountBlock]) -> None:
    params, block = case
    _same(REF.evaluate(params, block), VEC.evaluate(params, block))
    assert REF.excess(params, block) == VEC.excess(params, block)


@given(risk_params(max_perps=0), st.data())
def test_bracket_bounds_exactly(params: RiskParams, data: st.DataObject) -> None:
    """|q| * M hits a bracket bound exactly, one below and one above."""
    mark = data.draw(st.integers(1, 10**12))
    k = data.draw(st.integers(1, 10**6))
    bound = k * mark  # USD x 1e8; |q| = k * 1e8 gives N = bound * 1e8 exactly
    rates = sorted(data.draw(st.lists(st.integers(0, 10**6), min_size=3, max_size=3)))
    perp = Perp("P", mark, (Bracket(bound, rates[0]), Bracket(bound * 2, rates[1]),
                            Bracket(None, rates[2])))
    params = RiskParams(params.assets, (perp,))
    n_a = len(params.assets)
    rows = [([0] * n_a, [s * (k * 10**8 + d)], [0]) for d in (-1, 0, 1) for s in (1, -1)]
    rows += [([0] * n_a, [2 * k * 10**8 + d], [0]) for d in (-1, 0, 1)]
    block = block_of(rows, n_a, 1)
    assert REF.excess(params, block) == VEC.excess(params, block)


@st.composite
def boundary_case(draw: st.DrawFn) -> tuple[RiskParams, list[int], list[int], list[int], int]:
    """Random holdings plus two adjusters that put E - R at exactly 0 or -1.

    * perp TICK: mark 1, rate 1 ppm: each unit of q adds 1e6 to E and 1 to R, so it moves
      E - R by 999999 = -1 (mod 100) and fixes the residue modulo 100;
    * asset ADJ: price 1, weight 1 bp: a positive balance x adds exactly 100 x to E;
    * asset COARSE: price 10^8, weight 1 on both sides: a balance y adds
      100 * y * 10^8 * 10^4 = 10^14 y, putting E - R just below the target first.
    """
    target = draw(st.sampled_from([0, -1]))
    base = draw(risk_params(max_assets=3, max_perps=2))
    small = st.integers(-(10**12), 10**12)
    assets = (*base.assets, Asset("ADJ", 1, 1), Asset("COARSE", 10**8, 10000))
    for a in assets:
        assert a.price < I63
    capped = tuple(Perp(p.symbol, min(p.mark, 10**12), p.brackets) for p in base.perps)
    perps = (*capped, Perp("TICK", 1, (Bracket(None, 1),)))
    params = RiskParams(tuple(a if a.price < 10**12 else Asset(a.symbol, 10**12, a.weight_bps)
                              for a in assets), perps)
    n_p = len(base.perps)
    x = [draw(small) for _ in base.assets] + [0, 0]
    q = [draw(small) for _ in range(n_p)] + [0]
    c = [draw(small) for _ in range(n_p)] + [0]
    m = account_margin(params, x, q, c)
    d = m.equity - m.requirement
    # coarse first: E - R into [target - 2e14, target - 1e14) (TICK then adds < 10^8)
    x[-1] = (target - 10**14 - d) // 10**14
    m = account_margin(params, x, q, c)
    d = m.equity - m.requirement
    q[-1] = (d - target) % 100  # residue
    m = account_margin(params, x, q, c)
    gap = target - (m.equity - m.requirement)
    assert gap >= 0 and gap % 100 == 0
    x[-2] = gap // 100
    return params, x, q, c, target


@given(boundary_case())
def test_equity_exactly_at_and_one_below_requirement(
    case: tuple[RiskParams, list[int], list[int], list[int], int],
) -> None:
    params, x, q, c, target = case
    m = account_margin(params, x, q, c)
    assert m.equity - m.requirement == target
    block = block_of([(x, q, c)], len(x), len(q))
    for impl in (REF, VEC):
        res = impl.evaluate(params, block)
        assert res.deficient.tolist() == [target < 0]
        assert res.totals.shortfall_total == -target
        assert impl.excess(params, block) == [target]


def test_zero_accounts_and_zero_positions(core: MarginCore) -> None:
    params = RiskParams(
        assets=(Asset("A", 5, 100),),
        perps=(Perp("P", 7, (Bracket(10, 1000), Bracket(None, 2000))),),
    )
    block = block_of([([0], [0], [0])] * 3, 1, 1)
    res = core.evaluate(params, block)
    assert res.deficient.tolist() == [False] * 3
    assert (res.totals.equity_total, res.totals.requirement_total,
            res.totals.shortfall_total) == (0, 0, 0)
    assert core.excess(params, block) == [0, 0, 0]


def test_bit_budget_guard() -> None:
    from zkmargin.margin.vectorized import _check_budget

    _check_budget(64, 64)  # the largest parameter set the params loader accepts
    with pytest.raises(ValueError, match="exceed the exact float64 budget"):
        _check_budget(1000, 100)


def test_blocks_larger_than_a_chunk_agree() -> None:
    """Several internal chunks plus a partial one: buffers are reused correctly."""
    from zkmargin.generate import GenerateOptions, _block, make_params
    from zkmargin.margin.vectorized import CHUNK

    opts = GenerateOptions(accounts=2 * CHUNK + 77, seed=5)
    params = make_params(opts)
    block = _block(params, opts, 0, opts.accounts, np.random.default_rng(5))
    _same(REF.evaluate(params, block), VEC.evaluate(params, block))
    assert REF.excess(params, block) == VEC.excess(params, block)


# -- tiered collateral and portfolio margin ---------------------------------------------


def block_with_options(rows: list[tuple[list[int], list[int], list[int], list[int]]],
                       n_a: int, n_p: int, n_o: int) -> AccountBlock:
    n = len(rows)
    return AccountBlock(
        ids=[f"a{i}" for i in range(n)],
        balances=np.array([r[0] for r in rows], dtype=np.int64).reshape(n, n_a),
        qty=np.array([r[1] for r in rows], dtype=np.int64).reshape(n, n_p),
        cost=np.array([r[2] for r in rows], dtype=np.int64).reshape(n, n_p),
        options=np.array([r[3] for r in rows], dtype=np.int64).reshape(n, n_o),
    )


@pytest.fixture(scope="module")
def portfolio_vector() -> Any:
    return load_vector("portfolio_cases.json")


def test_portfolio_vectors(core: MarginCore, portfolio_vector: Any) -> None:
    """tests/vectors/portfolio_cases.json: tiers, group perps, options, worked by hand."""
    vector = portfolio_vector
    params = loads_params(json.dumps(vector["params"]))
    assert params.groups == ("BTC", "ETH")
    rows = [
        ([parse_fixed(v) for v in a["balances"]], [parse_fixed(v) for v in a["qty"]],
         [parse_fixed(v) for v in a["cost"]], [parse_fixed(v) for v in a["options"]])
        for a in vector["accounts"]
    ]
    block = block_with_options(rows, 3, 2, 4)
    excess = core.excess(params, block)
    for acct, e, row in zip(vector["accounts"], excess, rows, strict=True):
        assert e == usd(acct["equity_usd"]) - usd(acct["requirement_usd"]), acct["id"]
        m = account_margin(params, *row)
        assert m.equity == usd(acct["equity_usd"]), acct["id"]
        assert m.requirement == usd(acct["requirement_usd"]), acct["id"]
        assert m.maintenance == tuple(usd(x) for x in acct["mm_usd"]), acct["id"]
        assert m.portfolio == tuple(usd(x) for x in acct["pm_usd"]), acct["id"]
    res = core.evaluate(params, block)
    assert res.deficient.tolist() == [a["deficient"] for a in vector["accounts"]]
    t = vector["totals"]
    totals = res.totals
    assert (totals.accounts, totals.deficient) == (t["accounts"], t["deficient"])
    assert totals.equity_total == usd(t["equity_usd"])
    assert totals.requirement_total == usd(t["requirement_usd"])
    assert totals.shortfall_total == usd(t["shortfall_usd"])
    for a, sym in enumerate(params.asset_symbols):
        assert totals.liabilities[a] == parse_fixed(t["assets"][sym]["liabilities"])
        assert totals.debts[a] == parse_fixed(t["assets"][sym]["debts"])


signed_risk = st.one_of(st.sampled_from([0, 1, -1, MAX, -MAX]), st.integers(-MAX, MAX),
                        st.integers(-(10**12), 10**12))
non_negative63 = st.one_of(st.sampled_from([0, 1, MAX]), st.integers(0, MAX))


@st.composite
def tier_table(draw: st.DrawFn) -> tuple[Tier, ...]:
    n_t = draw(st.integers(1, 4))
    bounds = sorted(draw(st.sets(positive63, min_size=n_t - 1, max_size=n_t - 1)))
    weights = sorted(draw(st.lists(st.integers(0, 10000), min_size=n_t, max_size=n_t)),
                     reverse=True)
    return tuple(Tier(bounds[k] if k < n_t - 1 else None, weights[k]) for k in range(n_t))


@st.composite
def portfolio_params(draw: st.DrawFn) -> RiskParams:
    """Tiered assets, bracket and group perps, options in up to 3 groups, 1..5 scenarios;
    risk arrays often repeat values (scenario ties)."""
    base = draw(risk_params(max_assets=3, max_perps=2))
    assets = tuple(Asset(a.symbol, a.price, tiers=draw(tier_table())) if draw(st.booleans())
                   else a for a in base.assets)
    n_s = draw(st.integers(1, 5))
    groups = ["G0", "G1", "G2"][: draw(st.integers(1, 3))]
    pool = draw(st.lists(signed_risk, min_size=1, max_size=4))  # few values: ties

    def risk() -> tuple[int, ...]:
        return tuple(draw(st.one_of(st.sampled_from(pool), signed_risk)) for _ in range(n_s))

    perps = [p if not draw(st.booleans()) else
             Perp(p.symbol, p.mark, group=draw(st.sampled_from(groups)), risk=risk())
             for p in base.perps]
    options = tuple(
        Option(f"O{j}", draw(st.sampled_from(groups)), draw(non_negative63),
               draw(non_negative63), risk())
        for j in range(draw(st.integers(0, 4)))
    )
    return RiskParams(assets, tuple(perps), options, tuple(f"s{k}" for k in range(n_s)))


@st.composite
def portfolio_block(draw: st.DrawFn) -> tuple[RiskParams, AccountBlock]:
    params = draw(portfolio_params())
    n_a, n_p, n_o = len(params.assets), len(params.perps), len(params.options)
    sparse = st.one_of(st.just(0), signed63)  # many empty groups and options-only rows
    rows = [
        (draw(st.lists(sparse, min_size=n_a, max_size=n_a)),
         draw(st.lists(sparse, min_size=n_p, max_size=n_p)),
         draw(st.lists(sparse, min_size=n_p, max_size=n_p)),
         draw(st.lists(sparse, min_size=n_o, max_size=n_o)))
        for _ in range(draw(st.integers(1, 10)))
    ]
    return params, block_with_options(rows, n_a, n_p, n_o)


@given(portfolio_block())
def test_cores_agree_with_tiers_and_options(case: tuple[RiskParams, AccountBlock]) -> None:
    params, block = case
    _same(REF.evaluate(params, block), VEC.evaluate(params, block))
    assert REF.excess(params, block) == VEC.excess(params, block)


@given(st.data())
def test_tier_bounds_exactly(data: st.DataObject) -> None:
    """x * P hits a tier bound exactly, one below and one above (the tier lines meet)."""
    price = data.draw(st.integers(1, 10**12))
    k = data.draw(st.integers(1, 10**6))
    bound = k * price  # USD x 1e8; x = k * 1e8 gives V = bound * 1e8 exactly
    weights = sorted(data.draw(st.lists(st.integers(0, 10000), min_size=3, max_size=3)),
                     reverse=True)
    asset = Asset("A", price, tiers=(Tier(bound, weights[0]), Tier(3 * bound, weights[1]),
                                     Tier(None, weights[2])))
    params = RiskParams((asset, Asset("B", 1, 10000)), ())
    rows: list[Row] = [([m * k * 10**8 + d, 0], [], []) for m in (1, 3) for d in (-1, 0, 1)]
    rows += [([-(k * 10**8) + d, 0], [], []) for d in (-1, 0, 1)]
    block = block_of(rows, 2, 0)
    assert REF.excess(params, block) == VEC.excess(params, block)
    for (x, _, _), e in zip(rows, VEC.excess(params, block), strict=True):
        v = x[0] * price
        expected = (min(weights[0] * v, weights[1] * v + bound * 10**8 * (weights[0] - weights[1]),
                        weights[2] * v + bound * 10**8 * (weights[0] - weights[1])
                        + 3 * bound * 10**8 * (weights[1] - weights[2]))
                    if x[0] > 0 else v * 10000)
        assert e == 100 * expected


@pytest.mark.parametrize("delta", [1, -1, 0])
def test_near_ties_are_decided_exactly(core: MarginCore, delta: int) -> None:
    """Scans 2^125 apart by a few units: float64 cannot separate them, the limbs can."""
    v = 1 << 62
    opt = Option("O", "G", 0, 0, (v, v + delta, v - 1, v + delta))
    perp = Perp("P", 1, group="G", risk=(-v, -v - delta, -v, -v))
    params = RiskParams((Asset("A", 1, 10000),), (perp,), (opt,), ("a", "b", "c", "d"))
    rows = [([0], [0], [0], [MAX]), ([0], [0], [0], [-MAX]), ([0], [MAX], [0], [MAX]),
            ([0], [-1], [0], [MAX]), ([0], [1], [0], [1]), ([0], [0], [0], [0])]
    block = block_with_options(rows, 1, 1, 1)
    expected = []
    for x, q, c, o in rows:
        scan = max(q[0] * perp.risk[s] + o[0] * opt.risk[s] for s in range(4))
        e = 100 * (x[0] * 10000 + 10000 * (q[0] * 1 - c[0] * 10**8))
        expected.append(e - 10**6 * max(scan, 0))
    assert core.excess(params, block) == expected


def test_portfolio_extremes(core: MarginCore) -> None:
    """Every input at +-(2^63 - 1) with many options in one group: exact, no wrap."""
    opts = tuple(Option(f"O{j}", "G", MAX, MAX, (MAX, -MAX, MAX - j)) for j in range(12))
    perps = (Perp("P", MAX, group="G", risk=(-MAX, MAX, 0)),
             Perp("Q", MAX, (Bracket(MAX, 10**6), Bracket(None, 10**6))))
    assets = (Asset("A", MAX, tiers=(Tier(1, 10000), Tier(MAX - 1, 5000), Tier(None, 0))),)
    params = RiskParams(assets, perps, opts, ("x", "y", "z"))
    rows = [([s * MAX], [s * MAX, -s * MAX], [-s * MAX, s * MAX], [s * MAX] * 12)
            for s in (1, -1)]
    rows.append(([MAX], [MAX, MAX], [-MAX, -MAX], [-MAX] * 12))
    block = block_with_options(rows, 1, 2, 12)
    ref = [account_margin(params, *row) for row in rows]
    assert core.excess(params, block) == [m.equity - m.requirement for m in ref]
    assert all(abs(m.equity) < 1 << 170 and m.requirement < 1 << 170 for m in ref)


def test_option_budget_guard() -> None:
    from zkmargin.margin.vectorized import _check_budget
    from zkmargin.params import MAX_ASSETS, MAX_OPTIONS, MAX_PERPS

    # the largest parameter set the params loader accepts, tiers and all
    _check_budget(MAX_ASSETS, MAX_PERPS, MAX_OPTIONS, tiered=True,
                  group_members=MAX_OPTIONS + MAX_PERPS)
    with pytest.raises(ValueError, match="exceed the exact float64 budget"):
        _check_budget(64, 64, 256, tiered=True)


def test_blocks_larger_than_a_chunk_agree_with_options() -> None:
    """Generated option books over several chunks: reused buffers, the exact fallback."""
    from zkmargin.generate import GenerateOptions, _block, make_params
    from zkmargin.margin.vectorized import CHUNK

    opts = GenerateOptions(accounts=CHUNK + 501, seed=6, options=9, groups=2, scenarios=5,
                           tiers=True, group_perps=True)
    params = make_params(opts)
    block = _block(params, opts, 0, opts.accounts, np.random.default_rng(6))
    assert block.options.any()
    _same(REF.evaluate(params, block), VEC.evaluate(params, block))
    assert REF.excess(params, block) == VEC.excess(params, block)
