"""The batch circuit computes exactly what the Python core and commitments compute."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.circuit_helpers import BATCH, compiled, vector_accounts, witness
from zkmargin.fixed import I63
from zkmargin.margin.reference import account_margin
from zkmargin.prover.witness import BatchAccount, plan_batch
from zkmargin.statement import to_field

pytestmark = [pytest.mark.node, pytest.mark.circuit]


def _check(batch_index: int, accounts: list[BatchAccount]) -> None:
    c = compiled()
    plan = plan_batch(c.params, c.shape, batch_index, accounts)
    w = witness(plan.inputs)
    assert w[c.sym["main.commitment"]] == plan.commitment
    for n, acct in enumerate(accounts):
        m = account_margin(c.params, acct.balances, acct.qty, acct.cost)
        assert w[c.sym[f"main.acct[{n}].equity"]] == to_field(m.equity)
        assert w[c.sym[f"main.acct[{n}].requirement"]] == to_field(m.requirement)
        assert w[c.sym[f"main.acct[{n}].deficient"]] == int(not m.sufficient)
        assert w[c.sym[f"main.acct[{n}].shortfall"]] == m.shortfall
        assert w[c.sym[f"main.leaf[{n}].leaf"]] == plan.leaves[n]
    assert c.r1cs.first_violation(w) is None


@pytest.mark.parametrize("start", range(0, 8, BATCH))
def test_vectors_agree(start: int) -> None:
    accounts = vector_accounts()[start : start + BATCH]
    _check(start // BATCH, accounts)


def test_partial_batch_pads_with_zero_accounts() -> None:
    c = compiled()
    accounts = vector_accounts()[:1]
    plan = plan_batch(c.params, c.shape, 9, accounts)
    assert plan.totals.accounts == 1
    _check(9, accounts)


MAX = I63 - 1
value = st.one_of(st.sampled_from([0, 1, -1, MAX, -MAX]), st.integers(-MAX, MAX),
                  st.integers(-(10**13), 10**13))


@st.composite
def account(draw: st.DrawFn) -> BatchAccount:
    return BatchAccount(
        id_hash=draw(st.integers(1, 2**248)),
        balances=(draw(value), draw(value)),
        qty=(draw(value), draw(value)),
        cost=(draw(value), draw(value)),
    )


@settings(max_examples=12, deadline=None)
@given(st.lists(account(), min_size=1, max_size=BATCH), st.integers(0, 2**32))
def test_random_accounts_agree(accounts: list[BatchAccount], index: int) -> None:
    _check(index, accounts)
