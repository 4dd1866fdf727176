"""The batch circuit with tiered collateral, options, portfolio groups and a group perp
computes exactly what the Python cores and commitments compute (``batch-options-test``:
the parameters of tests/vectors/portfolio_cases.json, A=3 with a 3-tier BTC, P=2 with the
BTC perp in the BTC group, O=4 options in 2 groups over S=3 scenarios, K=4)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.circuit_helpers import compiled, vector_accounts, witness
from zkmargin.field import SNARK_FIELD
from zkmargin.fixed import I63
from zkmargin.margin.model import AccountBlock
from zkmargin.margin.reference import account_margin
from zkmargin.margin.vectorized import VectorizedCore
from zkmargin.prover.witness import BatchAccount, plan_batch
from zkmargin.statement import to_field

pytestmark = [pytest.mark.node, pytest.mark.circuit]

NAME = "batch-options-test"


def _check(batch_index: int, accounts: list[BatchAccount]) -> None:
    c = compiled(NAME)
    plan = plan_batch(c.params, c.shape, batch_index, accounts)
    w = witness(plan.inputs, NAME)
    assert w[c.sym["main.commitment"]] == plan.commitment
    for n, acct in enumerate(accounts):
        m = account_margin(c.params, acct.balances, acct.qty, acct.cost, acct.options)
        acct_sym = f"main.acct[{n}]"
        assert w[c.sym[f"{acct_sym}.equity"]] == to_field(m.equity)
        assert w[c.sym[f"{acct_sym}.requirement"]] == to_field(m.requirement)
        assert w[c.sym[f"{acct_sym}.deficient"]] == int(not m.sufficient)
        assert w[c.sym[f"{acct_sym}.shortfall"]] == m.shortfall
        # R splits the same way: MM_i per perp (0 for the group perp), the rest is sum PM_g
        mm = [w[c.sym[f"{acct_sym}.mm[{i}]"]] for i in range(c.shape.perps)]
        assert mm == list(m.maintenance)
        assert m.requirement - sum(mm) == sum(m.portfolio)
        assert w[c.sym[f"main.leaf[{n}].leaf"]] == plan.leaves[n]
    assert c.r1cs.first_violation(w) is None


def test_the_shape_is_the_vectors_shape() -> None:
    c = compiled(NAME)
    s = c.shape
    assert (s.assets, s.perps, s.brackets, s.tiers, s.options, s.groups, s.scenarios) \
        == (3, 2, 2, 3, 4, 2, 3)
    assert c.params.groups == ("BTC", "ETH") and c.params.perps[0].group == "BTC"


@pytest.mark.parametrize("start", range(0, 17, 4))
def test_portfolio_vectors_agree(start: int) -> None:
    """Every hand-computed case (tier edges +-1, debts, naked/covered/protective books,
    scenario ties, empty groups, a short group perp), the last batch partial."""
    accounts = vector_accounts(NAME)[start : start + 4]
    assert accounts
    _check(start // 4, accounts)


def test_vectors_cover_deficient_and_sufficient_accounts() -> None:
    c = compiled(NAME)
    accounts = vector_accounts(NAME)
    verdicts = {account_margin(c.params, a.balances, a.qty, a.cost, a.options).sufficient
                for a in accounts}
    assert verdicts == {True, False}


MAX = I63 - 1
value = st.one_of(st.sampled_from([0, 1, -1, MAX, -MAX]), st.integers(-MAX, MAX),
                  st.integers(-(10**13), 10**13))
# balances of BTC around its tier thresholds (1e5 and 5e5 USD at 50000: 2 and 10 BTC)
btc = st.one_of(value, st.sampled_from([2 * 10**8 + d for d in (-1, 0, 1)]
                                       + [10 * 10**8 + d for d in (-1, 0, 1)]))
size = st.one_of(st.sampled_from([0, 10**8, -(10**8)]), st.integers(-(10**12), 10**12),
                 value)


@st.composite
def account(draw: st.DrawFn) -> BatchAccount:
    return BatchAccount(
        id_hash=draw(st.integers(1, 2**248)),
        balances=(draw(value), draw(btc), draw(value)),
        qty=(draw(size), draw(size)),
        cost=(draw(value), draw(value)),
        options=tuple(draw(size) for _ in range(4)),
    )


@settings(max_examples=12, deadline=None)
@given(st.lists(account(), min_size=1, max_size=4), st.integers(0, 2**32))
def test_random_accounts_agree(accounts: list[BatchAccount], index: int) -> None:
    """Full-range values: extreme option sizes and risk products, BTC at its tier edges."""
    _check(index, accounts)


def test_vectors_agree_with_the_vectorized_core() -> None:
    """The vectorized core (what check and commit use) gives the circuit's E - R too."""
    c = compiled(NAME)
    accounts = vector_accounts(NAME)[12:16]
    plan = plan_batch(c.params, c.shape, 3, accounts)
    w = witness(plan.inputs, NAME)
    block = AccountBlock(
        ids=[str(i) for i in range(len(accounts))],
        balances=np.array([a.balances for a in accounts], dtype=np.int64),
        qty=np.array([a.qty for a in accounts], dtype=np.int64),
        cost=np.array([a.cost for a in accounts], dtype=np.int64),
        options=np.array([a.options for a in accounts], dtype=np.int64),
    )
    excess = VectorizedCore().excess(c.params, block)
    for n in range(len(accounts)):
        e = w[c.sym[f"main.acct[{n}].equity"]]
        r = w[c.sym[f"main.acct[{n}].requirement"]]
        assert (e - r) % SNARK_FIELD == to_field(int(excess[n]))
    assert any(x < 0 for x in excess) and any(x > 0 for x in excess)
