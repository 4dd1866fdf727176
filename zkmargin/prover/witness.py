"""Inputs of the batch circuit (circuits/lib/batch.circom) and what it must output.

:func:`plan_batch` turns K accounts (padded with all-zero accounts) into the circuit's
input JSON, and computes in Python everything the circuit must reproduce: the leaves, the
subtree root, the totals (by the reference margin core) and the batch commitment. The
prover refuses a proof whose public signal differs from that commitment.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from zkmargin.commitments import account_leaf, account_leaves, padding_leaf
from zkmargin.margin.model import AccountBlock
from zkmargin.margin.reference import ReferenceCore
from zkmargin.merkle import MerkleTree
from zkmargin.params import THRESHOLD_CAP, RiskParams
from zkmargin.statement import (
    CircuitParams,
    CircuitShape,
    Totals,
    batch_commitment,
    circuit_params,
    params_hash,
    to_field,
)


@dataclass(frozen=True)
class BatchAccount:
    """One account as the circuit sees it: its id hash and its exact values."""

    id_hash: int
    balances: tuple[int, ...]
    qty: tuple[int, ...]
    cost: tuple[int, ...]
    options: tuple[int, ...] = ()

    def leaf(self) -> int:
        return account_leaf(self.id_hash, self.balances, self.qty, self.cost,
                            options=self.options)


def leaves_of(accounts: Sequence[BatchAccount]) -> list[int]:
    """The leaves of many accounts (one call into the hash per step for all)."""
    return account_leaves([(a.id_hash, a.balances, a.qty, a.cost, a.options)
                           for a in accounts])


@dataclass(frozen=True)
class BatchWitnessPlan:
    """The circuit input JSON and every output the circuit must reproduce."""

    inputs: dict[str, Any]
    root: int
    leaves: tuple[int, ...]
    params_hash: int
    totals: Totals
    commitment: int


def scan_selector(cp: CircuitParams, q: Sequence[int], o: Sequence[int], g: int) -> int:
    """The scenario the circuit's ``scanSel`` picks for group ``g``: the first one whose
    line ``sum size * member * risk`` is the largest."""
    sizes = [*q, *o]
    lines = [sum(size * member[g] * risk[s]
                 for size, member, risk in zip(sizes, cp.members, cp.risk, strict=True))
             for s in range(len(cp.scenario_name))]
    return lines.index(max(lines))


def _block(accounts: Sequence[BatchAccount], shape: CircuitShape) -> AccountBlock:
    n = len(accounts)

    def matrix(rows: list[tuple[int, ...]], width: int) -> npt.NDArray[np.int64]:
        return np.array(rows, dtype=np.int64).reshape(n, width)

    return AccountBlock(
        ids=[""] * n,
        balances=matrix([a.balances for a in accounts], shape.assets),
        qty=matrix([a.qty for a in accounts], shape.perps),
        cost=matrix([a.cost for a in accounts], shape.perps),
        options=matrix([a.options for a in accounts], shape.options),
    )


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
    for a in accounts:
        if (len(a.balances), len(a.qty), len(a.cost), len(a.options)) != (
                shape.assets, shape.perps, shape.perps, shape.options):
            raise ValueError(f"an account with {len(a.balances)} balances, {len(a.qty)} "
                             f"perps and {len(a.options)} options does not fit "
                             f"{shape.describe()}")
    cp = circuit_params(params, shape)
    rows = list(accounts) + [
        BatchAccount(0, (0,) * shape.assets, (0,) * shape.perps, (0,) * shape.perps,
                     (0,) * shape.options)
        for _ in range(k - len(accounts))
    ]

    def one_hot(index: int, size: int) -> list[str]:
        return [str(int(b == index)) for b in range(size)]

    leaves = leaves_of(rows)
    # padding accounts are all zero: they add nothing and are never deficient
    totals = ReferenceCore().evaluate(params, _block(accounts, shape)).totals
    tree = MerkleTree.build(leaves, depth=shape.depth,
                            pad_leaf=padding_leaf(shape.assets, shape.perps, shape.options))
    ph = params_hash(shape, cp)

    def f(v: int) -> str:
        return str(to_field(v))

    def strs(matrix: Sequence[Sequence[int]], conv: Callable[[int], str] = str
             ) -> list[list[str]]:
        return [[conv(v) for v in row] for row in matrix]

    thr_ceil = [[cp.threshold(i, b) for b in range(shape.brackets - 1)]
                for i in range(shape.perps)]
    tier_ceil = [[cp.tier_threshold(a, t) for t in range(shape.tiers - 1)]
                 for a in range(shape.assets)]
    inputs: dict[str, Any] = {
        "batchIndex": str(batch_index),
        "idHash": [str(a.id_hash) for a in rows],
        "x": [[f(v) for v in a.balances] for a in rows],
        "q": [[f(v) for v in a.qty] for a in rows],
        "c": [[f(v) for v in a.cost] for a in rows],
        "o": [[f(v) for v in a.options] for a in rows],
        "absq": [[str(abs(v)) for v in a.qty] for a in rows],
        "qNonNeg": [[str(int(v >= 0)) for v in a.qty] for a in rows],
        "sel": [[one_hot(cp.bracket(i, abs(v)), shape.brackets) for i, v in enumerate(a.qty)]
                for a in rows],
        "tierSel": [[one_hot(cp.tier(n, max(v, 0)), shape.tiers)
                     for n, v in enumerate(a.balances)] if shape.tiers > 1 else []
                    for a in rows],
        "scanSel": [[one_hot(scan_selector(cp, a.qty, a.options, g), shape.scenarios)
                     for g in range(shape.groups)] for a in rows],
        "isReal": [str(int(n < len(accounts))) for n in range(k)],
        "assetSym": [str(v) for v in cp.asset_sym],
        "perpSym": [str(v) for v in cp.perp_sym],
        "optSym": [str(v) for v in cp.option_sym],
        "groupSym": [str(v) for v in cp.group_sym],
        "scenarioName": [str(v) for v in cp.scenario_name],
        "price": [str(v) for v in cp.price],
        "tierWeight": strs(cp.tier_weight),
        "tierBound": strs(cp.tier_bound),
        "mark": [str(v) for v in cp.mark],
        "bound": strs(cp.bound),
        "rate": strs(cp.rate),
        "perpGroup": strs(cp.perp_group),
        "perpRisk": strs(cp.perp_risk, f),
        "optMark": [str(v) for v in cp.option_mark],
        "optShortMin": [str(v) for v in cp.option_short_min],
        "optGroup": strs(cp.option_group),
        "optRisk": strs(cp.option_risk, f),
        "thrCeil": strs(thr_ceil),
        "thrClamp": [[str(int(v >= THRESHOLD_CAP)) for v in row] for row in thr_ceil],
        "tierCeil": strs(tier_ceil),
        "tierClamp": [[str(int(v >= THRESHOLD_CAP)) for v in row] for row in tier_ceil],
    }
    # an input of no values (no options, one tier, ...) is left out: both witness
    # calculators expect none
    inputs = {name: v for name, v in inputs.items() if _size(v)}
    return BatchWitnessPlan(inputs=inputs, root=tree.root, leaves=tuple(leaves),
                            params_hash=ph, totals=totals,
                            commitment=batch_commitment(batch_index, tree.root, ph, totals))


def _size(v: Any) -> int:
    if isinstance(v, list):
        return sum(_size(x) for x in v)
    return 1
