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
from zkmargin.params import Asset, Bracket, Perp, RiskParams, loads_params

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
