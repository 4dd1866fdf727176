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
from zkmargin.params import OPTION_SCALE, WEIGHT_ONE, Asset, Perp, RiskParams
from zkmargin.statement import Totals


@dataclass(frozen=True)
class AccountMargin:
    """Exact margin figures of one account, all in F = USD x 1e22."""

    equity: int  # E
    requirement: int  # R = sum_{bracket perps} MM_i + sum_g PM_g
    maintenance: tuple[int, ...]  # MM_i per perp (0 for a group perp)
    portfolio: tuple[int, ...] = ()  # PM_g per group (params.groups order)

    @property
    def sufficient(self) -> bool:
        return self.equity >= self.requirement

    @property
    def shortfall(self) -> int:
        return max(0, self.requirement - self.equity)


def tier_value(asset: Asset, v: int) -> int:
    """``CV_a = min_k (w_ak * V + C_ak)`` for a value ``V = x_a * P_a > 0`` (USD x 1e16);
    USD x 1e20."""
    c = asset.tier_constants()  # C_ak
    return min(tier.weight_bps * v + c[k] for k, tier in enumerate(asset.tiers))


def collateral(asset: Asset, x_a: int) -> int:
    """``coll_a = CV_a if x_a > 0 else x_a * P_a * 10000`` (USD x 1e20): a holding is
    weighted by its tiers, a debt counts at full value."""
    if x_a > 0:
        return tier_value(asset, x_a * asset.price)
    return x_a * asset.price * WEIGHT_ONE


def perp_pnl(perp: Perp, q_i: int, c_i: int) -> int:
    """``pnl_i = q_i * M_i - c_i * 1e8`` (USD x 1e16): unrealised PnL at the mark."""
    return q_i * perp.mark - c_i * SCALE


def perp_maintenance(perp: Perp, q_i: int) -> int:
    """``MM_i = max_k (N_i * r_ik - D_ik)`` with ``N_i = |q_i| * M_i`` (F); a bracket
    perp only."""
    n_i = abs(q_i) * perp.mark  # N_i, USD x 1e16
    d = perp.deductions()  # D_ik, F
    return max(n_i * b.mmr_ppm - d[k] for k, b in enumerate(perp.brackets))


def scan_risk(members: Sequence[tuple[int, Sequence[int]]], n_scenarios: int) -> int:
    """``scan_g = max_s sum_{j in g} size_j * L_j[s]`` (USD x 1e16) over the group's
    members ``(size_j, L_j)``; an empty sum is 0."""
    return max(sum(size * risk[s] for size, risk in members) for s in range(n_scenarios))


def short_charge(shorts: Sequence[tuple[int, int]]) -> int:
    """``short_g = sum_{options j in g} max(-o_j, 0) * short_min_j`` (USD x 1e16) over the
    group's options ``(o_j, short_min_j)``."""
    return sum(max(-o_j, 0) * short_min for o_j, short_min in shorts)


def portfolio_margin(scan_g: int, short_g: int) -> int:
    """``PM_g = 1e6 * max(scan_g, short_g, 0)`` (F)."""
    return OPTION_SCALE * max(scan_g, short_g, 0)


def account_margin(
    params: RiskParams,
    x: Sequence[int],
    q: Sequence[int],
    c: Sequence[int],
    o: Sequence[int] = (),
) -> AccountMargin:
    """E, MM_i, PM_g and R of one account (balances ``x``, perp sizes ``q``, costs ``c``,
    option sizes ``o``)."""
    if len(o) != len(params.options):
        raise ValueError(f"{len(o)} option sizes for {len(params.options)} options")
    # sum_a coll_a, USD x 1e20
    coll = sum(collateral(asset, x_a) for asset, x_a in zip(params.assets, x, strict=True))
    # sum_i pnl_i over ALL perps (group perps included), USD x 1e16
    pnl = sum(perp_pnl(perp, q_i, c_i) for perp, q_i, c_i in zip(params.perps, q, c,
                                                                     strict=True))
    # sum_j o_j * mark_j: the options at their marks, USD x 1e16
    option_value = sum(o_j * opt.mark for opt, o_j in zip(params.options, o, strict=True))
    # E = 100 * (sum_a coll_a + 10000 * sum_i pnl_i) + 1e6 * sum_j o_j * mark_j
    equity = 100 * (coll + WEIGHT_ONE * pnl) + OPTION_SCALE * option_value

    maintenance = tuple(
        0 if perp.grouped else perp_maintenance(perp, q_i)
        for perp, q_i in zip(params.perps, q, strict=True)
    )
    portfolio = []
    for g in params.groups:
        members = [(q_i, perp.risk) for perp, q_i in zip(params.perps, q, strict=True)
                   if perp.group == g]
        members += [(o_j, opt.risk) for opt, o_j in zip(params.options, o, strict=True)
                    if opt.group == g]
        shorts = [(o_j, opt.short_min) for opt, o_j in zip(params.options, o, strict=True)
                  if opt.group == g]
        portfolio.append(portfolio_margin(scan_risk(members, len(params.scenarios)),
                                          short_charge(shorts)))
    # R = sum_{bracket perps i} MM_i + sum_g PM_g
    requirement = sum(maintenance) + sum(portfolio)
    return AccountMargin(
        equity=equity, requirement=requirement, maintenance=maintenance,
        portfolio=tuple(portfolio),
    )


class ReferenceCore:
    """The readable twin: one account at a time, Python ints throughout."""

    name = "reference"

    def excess(self, params: RiskParams, block: AccountBlock) -> list[int]:
        """``E - R`` of every account (F)."""
        rows = zip(block.balances.tolist(), block.qty.tolist(), block.cost.tolist(),
                   block.options.tolist(), strict=True)
        out = []
        for x, q, c, o in rows:
            m = account_margin(params, x, q, c, o)
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
        options = block.options.tolist()
        for j in range(len(block)):
            m = account_margin(params, balances[j], qty[j], cost[j], options[j])
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
