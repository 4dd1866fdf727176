"""Reference margin core: the margin model in plain Python integers, line by line.

Read it next to docs/margin.md; every name below is the spec's symbol. There is no division
and no rounding: Python integers are exact at any size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zkmargin.fixed import SCALE
from zkmargin.margin.model import AccountBlock, BlockResult
from zkmargin.params import WEIGHT_ONE, RiskParams
from zkmargin.statement import Totals


@dataclass(frozen=True)
class AccountMargin:
    """Exact margin figures of one account, all in F = USD x 1e22."""

    equity: int  # E
    requirement: int  # R = sum_i MM_i
    maintenance: tuple[int, ...]  # MM_i per perp

    @property
    def sufficient(self) -> bool:
        return self.equity >= self.requirement

    @property
    def shortfall(self) -> int:
        return max(0, self.requirement - self.equity)


def account_margin(
    params: RiskParams, x: Sequence[int], q: Sequence[int], c: Sequence[int]
) -> AccountMargin:
    """E, MM_i and R of one account (balances ``x``, perp sizes ``q``, costs ``c``)."""
    # w_a = h_a if x_a > 0 else 10000
    collateral = 0
    for asset, x_a in zip(params.assets, x, strict=True):
        w_a = asset.weight_bps if x_a > 0 else WEIGHT_ONE
        collateral += x_a * asset.price * w_a
    # sum_i (q_i * M_i - c_i * 1e8): unrealised PnL of the perps, USD x 1e16
    pnl = 0
    for perp, q_i, c_i in zip(params.perps, q, c, strict=True):
        pnl += q_i * perp.mark - c_i * SCALE
    # E = 100 * (sum_a x_a*P_a*w_a + 10000 * sum_i (q_i*M_i - c_i*1e8))
    equity = 100 * (collateral + WEIGHT_ONE * pnl)

    maintenance = []
    for perp, q_i in zip(params.perps, q, strict=True):
        n_i = abs(q_i) * perp.mark  # N_i, USD x 1e16
        d = perp.deductions()  # D_ik, F
        # MM_i = max_k (N_i * r_ik - D_ik)
        mm_i = max(n_i * b.mmr_ppm - d[k] for k, b in enumerate(perp.brackets))
        maintenance.append(mm_i)
    return AccountMargin(
        equity=equity, requirement=sum(maintenance), maintenance=tuple(maintenance)
    )


class ReferenceCore:
    """The readable twin: one account at a time, Python ints throughout."""

    name = "reference"

    def excess(self, params: RiskParams, block: AccountBlock) -> list[int]:
        """``E - R`` of every account (F)."""
        rows = zip(block.balances.tolist(), block.qty.tolist(), block.cost.tolist(), strict=True)
        out = []
        for x, q, c in rows:
            m = account_margin(params, x, q, c)
            out.append(m.equity - m.requirement)
        return out

    def evaluate(self, params: RiskParams, block: AccountBlock) -> BlockResult:
        n_assets = len(params.assets)
        deficient = np.zeros(len(block), dtype=np.bool_)
        equity_total = requirement_total = shortfall_total = 0
        liabilities = [0] * n_assets
        debts = [0] * n_assets
        balances = block.balances.tolist()
        qty = block.qty.tolist()
        cost = block.cost.tolist()
        for j in range(len(block)):
            m = account_margin(params, balances[j], qty[j], cost[j])
            deficient[j] = not m.sufficient
            equity_total += m.equity
            requirement_total += m.requirement
            shortfall_total += m.shortfall
            for a, x_a in enumerate(balances[j]):
                liabilities[a] += max(x_a, 0)
                debts[a] += max(-x_a, 0)
        return BlockResult(deficient, Totals(
            accounts=len(block),
            deficient=int(deficient.sum()),
            equity_total=equity_total,
            requirement_total=requirement_total,
            shortfall_total=shortfall_total,
            liabilities=tuple(liabilities),
            debts=tuple(debts),
        ))
