"""Vectorized margin core: the margin model (docs/margin.md) in NumPy, exact, no wrap.

How it stays exact
------------------
Every signed input ``v`` (``|v| < 2^63``) is split into three 21-bit limbs
``v = l0 + l1*2^21 + l2*2^42`` (``l0, l1`` in ``[0, 2^21)``, ``l2`` in ``[-2^21, 2^21)``,
by arithmetic shifts, so negative values need no special case). Every constant the spec
multiplies an input by (``100*P_a*10000``, ``M_i * r_ik`` ...) is split the same way into
signed limbs of at most 21 bits. One product of an input limb and a constant limb is
below ``2^42`` in magnitude; one output column of ``E - R`` sums at most
``3*(2A + 2P) + 4P`` such products for one account (each perp activates one bracket),
which :func:`_check_budget` asserts stays below ``2^11``. All partial sums are therefore
integers below ``2^53`` and a float64 matrix product (BLAS) computes them exactly.
The columns are then carried into canonical 21-bit limbs in int64.

How the requirement avoids a wide comparison
--------------------------------------------
The bracket of ``N_i = |q_i| * M_i`` is decided on ``|q_i|`` alone: for an integer
``|q|``, ``|q| * M < B * 1e8`` holds exactly when ``|q| < ceil(B * 1e8 / M)``, and that
threshold is computed once per parameter set with Python integers. Because rates never
decrease and ``D`` makes the bracket lines meet at the bounds, the line of the bracket
containing ``N_i`` is the spec's ``max_k (N_i * r_ik - D_ik)``; the property tests check
this against the reference, extremes included.

Totals are exact Python integers combined from int64 sums of canonical limbs: ``E`` has
its own limb columns in the same matrix product, ``R = E - (E - R)``, and balance totals
come from the row sums of the balance limb features; no float ever sums a large value.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from zkmargin.fixed import SCALE
from zkmargin.margin.model import AccountBlock, BlockResult, I64Array
from zkmargin.params import THRESHOLD_CAP, WEIGHT_ONE, RiskParams
from zkmargin.statement import Totals

LIMB_BITS = 21
LIMB_MASK = (1 << LIMB_BITS) - 1
INPUT_LIMBS = 3  # 3 x 21 = 63 bits (top limb signed)
FLOAT_EXACT_BITS = 53
PRODUCT_BITS = 2 * LIMB_BITS  # |input limb| <= 2^21, |constant limb| < 2^21
#: Accounts per internal chunk: bounds the float feature matrix to a few MB.
CHUNK = 8192

F64Array = npt.NDArray[np.float64]


def _limbs(value: int) -> list[int]:
    """Signed limbs of a Python int: ``value = sum(l_k * 2^(21k))``, all ``|l_k| < 2^21``."""
    sign = -1 if value < 0 else 1
    mag = abs(value)
    out = []
    while mag:
        out.append(sign * (mag & LIMB_MASK))
        mag >>= LIMB_BITS
    return out or [0]


def _check_budget(n_assets: int, n_perps: int) -> None:
    terms = INPUT_LIMBS * (2 * n_assets + 2 * n_perps) + (INPUT_LIMBS + 1) * n_perps
    if terms * (1 << PRODUCT_BITS) >= 1 << FLOAT_EXACT_BITS:
        raise ValueError(
            f"{n_assets} assets and {n_perps} perps exceed the exact float64 budget: "
            f"{terms} products of 2^{PRODUCT_BITS} per column must stay below 2^53"
        )


#: The feature rows of one account, in order: the ONE definition of the layout, used by
#: the plan (constants), the feature writer and the totals. Each group is a name and its
#: number of rows for A assets, P perps and L brackets.
def _layout(n_a: int, n_p: int, n_l: int) -> dict[str, slice]:
    sizes = (
        ("balance", INPUT_LIMBS * n_a),  # limbs of x_a
        ("positive", INPUT_LIMBS * n_a),  # limbs of max(x_a, 0)
        ("qty", INPUT_LIMBS * n_p),  # limbs of q_i
        ("cost_sum", INPUT_LIMBS if n_p else 0),  # limbs of sum_i c_i, summed limb-wise
        ("bracket_qty", INPUT_LIMBS * n_p * n_l),  # limbs of onehot_ik * |q_i|
        ("bracket", n_p * n_l),  # onehot_ik
    )
    out, start = {}, 0
    for name, rows in sizes:
        out[name] = slice(start, start + rows)
        start += rows
    return out


@dataclass(frozen=True)
class _Plan:
    """Everything the vectorized core derives from one parameter set (cached)."""

    n_assets: int
    n_perps: int
    n_brackets: int
    #: group name -> its rows in the feature matrix (:func:`_layout`)
    rows: dict[str, slice]
    #: (K, C + C') float64: feature k adds ``X[k, :] * T[k, c]`` to limb column c, where
    #: the first C columns are the limbs of E - R and the next C' those of E.
    t_all: F64Array
    #: C: number of limb columns of E - R.
    n_cols: int
    #: (P, L-1) uint64 thresholds on |q|: bracket index = #{k: |q| >= thr[i, k]}.
    thresholds: npt.NDArray[np.uint64]


@lru_cache(maxsize=32)
def _plan(params: RiskParams) -> _Plan:
    n_a, n_p = len(params.assets), len(params.perps)
    _check_budget(n_a, n_p)
    n_l = max(params.max_brackets, 1)
    rows = _layout(n_a, n_p, n_l)
    # Per feature row: (limb index j, constant multiplying the *value* in E and in R)
    consts: dict[str, list[tuple[int, int, int]]] = {name: [] for name in rows}

    def add(group: str, count_limbs: int, const_e: int, const_r: int) -> None:
        consts[group] += [(j, const_e, const_r) for j in range(count_limbs)]

    for a in params.assets:  # 100 * P_a * 10000 (weight 10000 for every sign)
        add("balance", INPUT_LIMBS, 100 * a.price * WEIGHT_ONE, 0)
        # correction to the weight h_a for positive balances
        add("positive", INPUT_LIMBS, 100 * a.price * (a.weight_bps - WEIGHT_ONE), 0)
    for p in params.perps:
        add("qty", INPUT_LIMBS, 100 * WEIGHT_ONE * p.mark, 0)
        d = p.deductions()
        for k in range(n_l):
            rate = p.brackets[k].mmr_ppm if k < len(p.brackets) else 0
            add("bracket_qty", INPUT_LIMBS, 0, p.mark * rate)  # N_i * r_ik
            add("bracket", 1, 0, -d[k] if k < len(d) else 0)  # -D_ik
    if params.perps:
        add("cost_sum", INPUT_LIMBS, -100 * WEIGHT_ONE * SCALE, 0)
    for name, span in rows.items():
        if len(consts[name]) != span.stop - span.start:
            raise AssertionError(f"feature group {name}: {len(consts[name])} constants for "
                                 f"{span.stop - span.start} rows")
    features = [c for name in rows for c in consts[name]]

    diff_limbs = [_limbs(e - r) for _, e, r in features]
    e_limbs = [_limbs(e) for _, e, _ in features]
    n_cols = max(j + len(c) for (j, _, _), c in zip(features, diff_limbs, strict=True))
    n_e = max(j + len(c) for (j, _, _), c in zip(features, e_limbs, strict=True))
    t = np.zeros((len(features), n_cols + n_e), dtype=np.float64)
    for k, (j, _, _) in enumerate(features):
        for m, c in enumerate(diff_limbs[k]):
            t[k, j + m] = float(c)  # |c| < 2^21: exact
        for m, c in enumerate(e_limbs[k]):
            t[k, n_cols + j + m] = float(c)
    # missing brackets of shorter tables: never reached (|q| < 2^63 <= the cap)
    thresholds = np.full((n_p, max(n_l - 1, 0)), THRESHOLD_CAP, dtype=np.uint64)
    for i, p in enumerate(params.perps):
        for k, thr in enumerate(p.thresholds()):
            thresholds[i, k] = thr
    return _Plan(
        n_assets=n_a,
        n_perps=n_p,
        n_brackets=n_l,
        rows=rows,
        t_all=t,
        n_cols=n_cols,
        thresholds=thresholds,
    )


def _put_limbs(dst: F64Array, values: I64Array) -> None:
    """Write the 3 limbs of ``values`` (G, n) into ``dst`` of shape (G, 3, n)."""
    dst[:, 0, :] = values & LIMB_MASK
    dst[:, 1, :] = (values >> LIMB_BITS) & LIMB_MASK
    dst[:, 2, :] = values >> (2 * LIMB_BITS)


def _features(
    plan: _Plan, bal: I64Array, qty: I64Array, cost: I64Array, out: F64Array | None = None
) -> F64Array:
    """The (K, n) feature matrix of a chunk, rows as :func:`_layout` lays them out
    (transposed so every write is contiguous)."""
    n = bal.shape[0]
    n_a, n_p, n_l = plan.n_assets, plan.n_perps, plan.n_brackets
    k = plan.t_all.shape[0]
    # reuse the caller's buffer: a fresh 8 MB array page-faults on every chunk
    x = out[: k * n].reshape(k, n) if out is not None else np.empty((k, n), dtype=np.float64)
    rows = plan.rows
    b_t = np.ascontiguousarray(bal.T)
    q_t = np.ascontiguousarray(qty.T)
    _put_limbs(x[rows["balance"]].reshape(n_a, 3, n), b_t)
    _put_limbs(x[rows["positive"]].reshape(n_a, 3, n), np.maximum(b_t, 0))
    _put_limbs(x[rows["qty"]].reshape(n_p, 3, n), q_t)
    if n_p:
        c_limbs = np.empty((n_p, 3, n), dtype=np.float64)
        _put_limbs(c_limbs, np.ascontiguousarray(cost.T))
        np.sum(c_limbs, axis=0, out=x[rows["cost_sum"]])  # |sum| <= P * 2^21: exact
        aq = np.abs(q_t)  # |q| < 2^63: no int64 overflow
        idx = np.empty((n_p, n), dtype=np.int64)
        for i in range(n_p):  # bracket index = number of thresholds <= |q|
            idx[i] = np.searchsorted(plan.thresholds[i], aq[i].astype(np.uint64), "right")
        onehot = idx[:, None, :] == np.arange(n_l)[None, :, None]  # (P, L, n)
        aq_limbs = np.empty((n_p, 3, n), dtype=np.float64)
        _put_limbs(aq_limbs, aq)
        np.multiply(
            onehot[:, :, None, :],
            aq_limbs[:, None, :, :],
            out=x[rows["bracket_qty"]].reshape(n_p, n_l, 3, n),
        )
        x[rows["bracket"]] = onehot.reshape(n_p * n_l, n)
    return x


def _carry(cols: I64Array, extra: int) -> I64Array:
    """Canonical limbs of (C, n) columns: rows but the last in [0, 2^21), the last signed."""
    c, n = cols.shape
    out = np.zeros((c + extra, n), dtype=np.int64)
    out[:c] = cols
    for k in range(c + extra - 1):
        out[k + 1] += out[k] >> LIMB_BITS
        out[k] &= LIMB_MASK
    return out


def _combine(limb_sums: list[int]) -> int:
    return sum(v << (LIMB_BITS * k) for k, v in enumerate(limb_sums))


class VectorizedCore:
    """The fast twin: blocks of accounts at once, exact through limbs."""

    name = "vectorized"

    def _chunks(
        self, params: RiskParams, block: AccountBlock
    ) -> Iterator[tuple[int, int, I64Array, I64Array, F64Array]]:
        """Per chunk: (lo, hi, canonical limbs of E - R, canonical limbs of E, and the
        row sums of the balance features: limbs of sum x_a, then of sum max(x_a, 0))."""
        plan = _plan(params)
        balance, positive = plan.rows["balance"], plan.rows["positive"]
        buf = np.empty(plan.t_all.shape[0] * min(CHUNK, len(block)), dtype=np.float64)
        for lo in range(0, len(block), CHUNK):
            hi = min(len(block), lo + CHUNK)
            x = _features(
                plan, block.balances[lo:hi], block.qty[lo:hi], block.cost[lo:hi], out=buf
            )
            cols = np.rint(plan.t_all.T @ x).astype(np.int64)  # exact: every sum < 2^53
            # limbs < 2^21 summed over < 2^32 accounts: exact
            sums = np.stack([x[balance].sum(axis=1), x[positive].sum(axis=1)])
            yield lo, hi, _carry(cols[: plan.n_cols], 3), _carry(cols[plan.n_cols :], 3), sums

    def excess(self, params: RiskParams, block: AccountBlock) -> list[int]:
        """``E - R`` of every account (F), as exact Python integers."""
        out: list[int] = []
        for _lo, _hi, diff, _e, _s in self._chunks(params, block):
            cols = [[int(v) << (LIMB_BITS * k) for v in row] for k, row in enumerate(diff)]
            out.extend(sum(vals) for vals in zip(*cols, strict=True))
        return out

    def evaluate(self, params: RiskParams, block: AccountBlock) -> BlockResult:
        n_a = len(params.assets)
        deficient = np.zeros(len(block), dtype=np.bool_)
        equity = excess = shortfall = 0
        bal_sums = np.zeros((2, INPUT_LIMBS * n_a), dtype=np.float64)
        for lo, hi, diff, e, sums in self._chunks(params, block):
            bal_sums += sums
            neg = diff[-1] < 0  # canonical limbs: the sign is the top limb's
            deficient[lo:hi] = neg
            # limb sums over a chunk are below 2^21 * CHUNK: exact in int64
            excess += _combine([int(v) for v in diff.sum(axis=1)])
            equity += _combine([int(v) for v in e.sum(axis=1)])
            if neg.any():
                shortfall -= _combine([int(v) for v in diff[:, neg].sum(axis=1)])
        # per asset, its INPUT_LIMBS limb rows (the order _put_limbs writes)
        net, pos = ([_combine([int(v) for v in row[INPUT_LIMBS * a : INPUT_LIMBS * (a + 1)]])
                     for a in range(n_a)] for row in bal_sums)
        totals, liabilities = list(net), list(pos)
        debts = [pos - total for pos, total in zip(liabilities, totals, strict=True)]
        return BlockResult(deficient, Totals(
            accounts=len(block),
            deficient=int(deficient.sum()),
            equity_total=equity,
            requirement_total=equity - excess,
            shortfall_total=shortfall,
            liabilities=tuple(liabilities),
            debts=tuple(debts),
        ))

