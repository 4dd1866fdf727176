"""Inputs of the batch circuit (circuits/lib/batch.circom) and what it must output.

The circuit has a fixed shape ``(A, P, L, DEPTH)``: ``L`` brackets for every perp (at
least 2). A perp with fewer brackets is padded by splitting its unbounded last bracket at
``B_last + 1, B_last + 2, ...`` with the same rate: equal rates give identical bracket
lines (``D`` does not change), so the requirement is exactly the spec's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from zkmargin.commitments import account_leaf, fold_hash, padding_leaf
from zkmargin.field import SNARK_FIELD
from zkmargin.fixed import I63, SCALE
from zkmargin.margin.model import AccountBlock
from zkmargin.margin.reference import ReferenceCore
from zkmargin.merkle import MerkleTree
from zkmargin.params import RiskParams

MIN_BRACKETS = 2


@dataclass(frozen=True)
class CircuitShape:
    assets: int
    perps: int
    brackets: int
    depth: int  # batch of K = 2^depth accounts

    @property
    def batch_size(self) -> int:
        return 1 << self.depth

    @classmethod
    def for_params(cls, params: RiskParams, batch_size: int) -> CircuitShape:
        if batch_size < 1 or batch_size & (batch_size - 1):
            raise ValueError(f"batch size must be a power of two >= 1, got {batch_size}")
        return cls(
            assets=len(params.assets),
            perps=len(params.perps),
            brackets=max(MIN_BRACKETS, params.max_brackets),
            depth=batch_size.bit_length() - 1,
        )


@dataclass(frozen=True)
class CircuitParams:
    """Risk parameters in circuit form: every perp has exactly ``L`` brackets."""

    price: tuple[int, ...]
    weight: tuple[int, ...]
    mark: tuple[int, ...]
    bound: tuple[tuple[int, ...], ...]  # (P, L-1)
    rate: tuple[tuple[int, ...], ...]  # (P, L)

    def bracket(self, i: int, abs_q: int) -> int:
        """Index of the bracket containing N = |q| * M (B_(k-1)*1e8 <= N < B_k*1e8)."""
        n = abs_q * self.mark[i]
        k = 0
        while k < len(self.bound[i]) and n >= self.bound[i][k] * SCALE:
            k += 1
        return k


def circuit_params(params: RiskParams, brackets: int) -> CircuitParams:
    bounds, rates = [], []
    for p in params.perps:
        if len(p.brackets) > brackets:
            raise ValueError(
                f"perp {p.symbol} has {len(p.brackets)} brackets; the circuit has {brackets}"
            )
        b: list[int] = []
        for br in p.brackets[:-1]:
            assert br.max_notional is not None
            b.append(br.max_notional)
        r = [br.mmr_ppm for br in p.brackets]
        last = b[-1] if b else 0
        while len(r) < brackets:  # split the unbounded bracket, same rate
            last += 1
            b.append(last)
            r.append(r[-1])
        if last >= I63:
            raise ValueError(
                f"perp {p.symbol}: padding its bracket table needs bounds up to {last}, "
                "which is not below 2^63"
            )
        bounds.append(tuple(b))
        rates.append(tuple(r))
    return CircuitParams(
        price=tuple(a.price for a in params.assets),
        weight=tuple(a.weight_bps for a in params.assets),
        mark=tuple(p.mark for p in params.perps),
        bound=tuple(bounds),
        rate=tuple(rates),
    )


def params_hash(shape: CircuitShape, cp: CircuitParams) -> int:
    """FoldHash([A, P, L, prices, weights, marks, bounds, rates]) as RiskParams computes."""
    values = [shape.assets, shape.perps, shape.brackets, *cp.price, *cp.weight, *cp.mark]
    for row in cp.bound:
        values += row
    for row in cp.rate:
        values += row
    return fold_hash(values)


def to_field(v: int) -> int:
    """A signed integer as a field element (negative = r - |v|); |v| must be < r / 2."""
    assert -SNARK_FIELD // 2 < v < SNARK_FIELD // 2
    return v % SNARK_FIELD


@dataclass(frozen=True)
class BatchAccount:
    id_hash: int
    balances: tuple[int, ...]
    qty: tuple[int, ...]
    cost: tuple[int, ...]


@dataclass(frozen=True)
class BatchTotals:
    accounts: int
    deficient: int
    equity: int
    requirement: int
    shortfall: int
    liabilities: tuple[int, ...]
    debts: tuple[int, ...]

    def fields(self) -> list[int]:
        return [to_field(v) for v in (self.accounts, self.deficient, self.equity,
                                      self.requirement, self.shortfall,
                                      *self.liabilities, *self.debts)]


@dataclass(frozen=True)
class BatchWitnessPlan:
    """The circuit input JSON and every output the circuit must reproduce."""

    inputs: dict[str, Any]
    root: int
    leaves: tuple[int, ...]
    params_hash: int
    totals: BatchTotals
    commitment: int


def plan_batch(
    params: RiskParams,
    shape: CircuitShape,
    batch_index: int,
    accounts: Sequence[BatchAccount],
) -> BatchWitnessPlan:
    """Circuit inputs for one batch, and the expected root, totals and commitment."""
    k = shape.batch_size
    if len(accounts) > k:
        raise ValueError(f"{len(accounts)} accounts do not fit a batch of {k}")
    cp = circuit_params(params, shape.brackets)
    zeros = (0,) * shape.assets, (0,) * shape.perps
    rows = list(accounts) + [
        BatchAccount(0, zeros[0], zeros[1], zeros[1]) for _ in range(k - len(accounts))
    ]
    sel = [
        [[int(b == cp.bracket(i, abs(q))) for b in range(shape.brackets)]
         for i, q in enumerate(acct.qty)]
        for acct in rows
    ]
    leaves = [account_leaf(a.id_hash, a.balances, a.qty, a.cost) for a in rows]
    # padding accounts are all zero: they add nothing and are never deficient
    block = AccountBlock(
        ids=[""] * k,
        balances=np.array([a.balances for a in rows], dtype=np.int64).reshape(k, shape.assets),
        qty=np.array([a.qty for a in rows], dtype=np.int64).reshape(k, shape.perps),
        cost=np.array([a.cost for a in rows], dtype=np.int64).reshape(k, shape.perps),
    )
    res = ReferenceCore().evaluate(params, block)
    totals = BatchTotals(len(accounts), int(res.deficient.sum()), res.equity_total,
                         res.requirement_total, res.shortfall_total, res.liabilities,
                         res.debts)
    tree = MerkleTree.build(leaves, depth=shape.depth,
                            pad_leaf=padding_leaf(shape.assets, shape.perps))
    ph = params_hash(shape, cp)
    commitment = fold_hash([batch_index, tree.root, ph, *totals.fields()])

    def f(v: int) -> str:
        return str(to_field(v))

    inputs = {
        "batchIndex": str(batch_index),
        "idHash": [str(a.id_hash) for a in rows],
        "x": [[f(v) for v in a.balances] for a in rows],
        "q": [[f(v) for v in a.qty] for a in rows],
        "c": [[f(v) for v in a.cost] for a in rows],
        "sel": [[[str(s) for s in per] for per in acct_sel] for acct_sel in sel],
        "isReal": [str(int(n < len(accounts))) for n in range(k)],
        "price": [str(v) for v in cp.price],
        "weight": [str(v) for v in cp.weight],
        "mark": [str(v) for v in cp.mark],
        "bound": [[str(v) for v in row] for row in cp.bound],
        "rate": [[str(v) for v in row] for row in cp.rate],
    }
    return BatchWitnessPlan(inputs=inputs, root=tree.root, leaves=tuple(leaves),
                            params_hash=ph, totals=totals, commitment=commitment)
