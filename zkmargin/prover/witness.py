"""Inputs of the batch circuit (circuits/lib/batch.circom) and what it must output.

:func:`plan_batch` turns K accounts (padded with all-zero accounts) into the circuit's
input JSON, and computes in Python everything the circuit must reproduce: the leaves, the
subtree root, the totals (by the reference margin core) and the batch commitment. The
prover refuses a proof whose public signal differs from that commitment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from zkmargin.commitments import account_leaf, padding_leaf
from zkmargin.margin.model import AccountBlock
from zkmargin.margin.reference import ReferenceCore
from zkmargin.merkle import MerkleTree
from zkmargin.params import THRESHOLD_CAP, RiskParams
from zkmargin.statement import (
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


@dataclass(frozen=True)
class BatchWitnessPlan:
    """The circuit input JSON and every output the circuit must reproduce."""

    inputs: dict[str, Any]
    root: int
    leaves: tuple[int, ...]
    params_hash: int
    totals: Totals
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
    real = AccountBlock(
        ids=[""] * len(accounts),
        balances=np.array([a.balances for a in accounts],
                          dtype=np.int64).reshape(len(accounts), shape.assets),
        qty=np.array([a.qty for a in accounts], dtype=np.int64).reshape(len(accounts),
                                                                         shape.perps),
        cost=np.array([a.cost for a in accounts], dtype=np.int64).reshape(len(accounts),
                                                                           shape.perps),
    )
    totals = ReferenceCore().evaluate(params, real).totals
    tree = MerkleTree.build(leaves, depth=shape.depth,
                            pad_leaf=padding_leaf(shape.assets, shape.perps))
    ph = params_hash(shape, cp)

    def f(v: int) -> str:
        return str(to_field(v))

    thr_ceil = [[cp.threshold(i, k) for k in range(shape.brackets - 1)]
                for i in range(shape.perps)]
    inputs = {
        "batchIndex": str(batch_index),
        "idHash": [str(a.id_hash) for a in rows],
        "x": [[f(v) for v in a.balances] for a in rows],
        "q": [[f(v) for v in a.qty] for a in rows],
        "c": [[f(v) for v in a.cost] for a in rows],
        "absq": [[str(abs(v)) for v in a.qty] for a in rows],
        "qNonNeg": [[str(int(v >= 0)) for v in a.qty] for a in rows],
        "sel": [[[str(s) for s in per] for per in acct_sel] for acct_sel in sel],
        "isReal": [str(int(n < len(accounts))) for n in range(k)],
        "assetSym": [str(v) for v in cp.asset_sym],
        "perpSym": [str(v) for v in cp.perp_sym],
        "price": [str(v) for v in cp.price],
        "weight": [str(v) for v in cp.weight],
        "mark": [str(v) for v in cp.mark],
        "bound": [[str(v) for v in row] for row in cp.bound],
        "rate": [[str(v) for v in row] for row in cp.rate],
        "thrCeil": [[str(v) for v in row] for row in thr_ceil],
        "thrClamp": [[str(int(v >= THRESHOLD_CAP)) for v in row] for row in thr_ceil],
    }
    return BatchWitnessPlan(inputs=inputs, root=tree.root, leaves=tuple(leaves),
                            params_hash=ph, totals=totals,
                            commitment=batch_commitment(batch_index, tree.root, ph, totals))
