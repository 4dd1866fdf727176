"""Vectorized margin core: the margin model (docs/margin.md) in NumPy, exact, no wrap.

How it stays exact
------------------
Every signed input ``v`` (``|v| < 2^63``) is split into three 21-bit limbs
``v = l0 + l1*2^21 + l2*2^42`` (``l0, l1`` in ``[0, 2^21)``, ``l2`` in ``[-2^21, 2^21)``,
by arithmetic shifts, so negative values need no special case). Every constant the spec
multiplies an input by (``100*P_a*10000``, ``M_i * r_ik``, ``L_j[s]`` ...) is split the
same way into signed limbs of at most 21 bits. One product of an input limb and a
constant limb is below ``2^42`` in magnitude. The feature rows of one account
(:func:`_layout`) are multiplied by constant matrices whose columns form *column sets*,
each the limbs of one integer:

* ``diff`` and ``equity`` (``t_all``, over every row): ``E - R`` without the portfolio
  requirement, and ``E``;
* per portfolio group ``g`` (``t_scan``, over the last rows only: perp sizes, option
  sizes, short option sizes): ``scan(g, s)`` = ``sum_j size_j * L_j[s]`` for every
  scenario ``s``, then ``short(g)`` = ``sum_j max(-o_j, 0) * short_min_j``.

One column of a set sums at most ``3*(2A + 2P) + 4P + 4A + 3O`` such products (``diff``,
``equity``: each perp activates one bracket, each tiered asset one tier) or
``3*(O_g + P_g)`` (a scan) for one account, which :func:`_check_budget` asserts stays
below ``2^11``. All partial sums are therefore integers below ``2^53`` and a float64
matrix product (BLAS) computes them exactly. The columns are then carried into canonical
21-bit limbs in int64 (every limb in ``[0, 2^21)`` but the signed top one), in which
integers compare lexicographically from the top limb.

The portfolio requirement is selected exactly (``max(scan, short, 0) = max(scan, short)``
because ``short >= 0``): per group, the largest of the ``S + 1`` values is found on
float64 approximations summed from the exact limb columns, with a rigorous error bound
(``C`` exact terms summed in float64 err by at most ``(C - 1) * 2^-53`` of the sum of their
magnitudes; the test uses 8 times that); where the bound cannot separate the largest from
another value (ties, near ties), the canonical limbs of the candidates are packed into
63-bit words and compared exactly. The chosen columns are summed over the groups in
int64 and carried, ``1e6 * sum_g PM_g`` is subtracted from the ``diff`` limbs (every
limb product below ``2^50``) and the result carried again.

How the requirement avoids a wide comparison
--------------------------------------------
The bracket of ``N_i = |q_i| * M_i`` is decided on ``|q_i|`` alone: for an integer
``|q|``, ``|q| * M < B * 1e8`` holds exactly when ``|q| < ceil(B * 1e8 / M)``, and that
threshold is computed once per parameter set with Python integers. Because rates never
decrease and ``D`` makes the bracket lines meet at the bounds, the line of the bracket
containing ``N_i`` is the spec's ``max_k (N_i * r_ik - D_ik)``. Collateral tiers are the
mirror image: the tier of a balance ``x > 0`` is decided on ``x`` against
``ceil(T * 1e8 / P)``, and because weights never increase and ``C`` makes the tier lines
meet, that tier's line ``w_k * V + C_k`` is the spec's ``min_k``. The property tests check
both against the reference, bounds +-1 and extremes included.

Totals are exact Python integers combined from int64 sums of canonical limbs: ``E`` has
its own limb columns in the same matrix product, ``R = E - (E - R)``, and balance totals
come from the row sums of the balance limb features; no float ever sums a large value.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from zkmargin.fixed import SCALE
from zkmargin.margin.model import AccountBlock, BlockResult, I64Array
from zkmargin.params import OPTION_SCALE, THRESHOLD_CAP, WEIGHT_ONE, RiskParams
from zkmargin.statement import Totals

LIMB_BITS = 21
LIMB_MASK = (1 << LIMB_BITS) - 1
INPUT_LIMBS = 3  # 3 x 21 = 63 bits (top limb signed)
FLOAT_EXACT_BITS = 53
PRODUCT_BITS = 2 * LIMB_BITS  # |input limb| <= 2^21, |constant limb| < 2^21
#: Canonical limbs of every per-account result: 9 x 21 = 189 bits > 2^170 and a sign.
RESULT_LIMBS = 9
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


def _check_budget(
    n_assets: int,
    n_perps: int,
    n_options: int = 0,
    *,
    tiered: bool = False,
    group_members: int = 0,
) -> None:
    """Raise ValueError unless every column of every set sums fewer than 2^11 products
    of 2^42 for one account (see the module docstring). ``group_members``: the largest
    ``O_g + P_g`` of a portfolio group."""
    main = (INPUT_LIMBS * (2 * n_assets + 2 * n_perps) + (INPUT_LIMBS + 1) * n_perps
            + ((INPUT_LIMBS + 1) * n_assets if tiered else 0) + INPUT_LIMBS * n_options)
    terms = max(main, INPUT_LIMBS * group_members, INPUT_LIMBS * n_options)
    if terms * (1 << PRODUCT_BITS) >= 1 << FLOAT_EXACT_BITS:
        raise ValueError(
            f"{n_assets} assets, {n_perps} perps and {n_options} options exceed the exact "
            f"float64 budget: {terms} products of 2^{PRODUCT_BITS} per column must stay "
            "below 2^53"
        )


#: The feature rows of one account, in order: the ONE definition of the layout, used by
#: the plan (constants), the feature writer and the totals. Each group is a name and its
#: number of rows for A assets, P perps, L brackets, T tiers and O options.
def _layout(n_a: int, n_p: int, n_l: int, n_t: int = 1, n_o: int = 0) -> dict[str, slice]:
    sizes = (
        ("balance", INPUT_LIMBS * n_a),  # limbs of x_a
        ("positive", INPUT_LIMBS * n_a),  # limbs of max(x_a, 0)
        ("tier_positive", INPUT_LIMBS * n_a * (n_t - 1)),  # onehot_ak * max(x_a, 0), k >= 2
        ("tier", n_a * (n_t - 1)),  # onehot_ak, k >= 2
        ("cost_sum", INPUT_LIMBS if n_p else 0),  # limbs of sum_i c_i, summed limb-wise
        ("bracket_qty", INPUT_LIMBS * n_p * n_l),  # limbs of onehot_ik * |q_i|
        ("bracket", n_p * n_l),  # onehot_ik
        # the rows the scan sets read, last and together (the ``scan_rows`` of the plan)
        ("qty", INPUT_LIMBS * n_p),  # limbs of q_i
        ("option", INPUT_LIMBS * n_o),  # limbs of o_j
        ("short", INPUT_LIMBS * n_o),  # limbs of max(-o_j, 0)
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
    n_tiers: int
    n_options: int
    n_groups: int
    n_scenarios: int
    #: group name -> its rows in the feature matrix (:func:`_layout`)
    rows: dict[str, slice]
    #: (K, C + C') float64: feature k adds ``X[k, :] * T[k, c]`` to limb column c: the
    #: first C columns are the limbs of E - R (without the portfolio requirement), the
    #: next C' those of E.
    t_all: F64Array
    #: C: number of limb columns of E - R.
    n_cols: int
    n_e: int
    #: (K_s, G * (S + 1) * n_scan) float64 over the feature rows ``scan_rows``: per group
    #: the limb columns of its S scans, then of its short charge, ``n_scan`` each.
    t_scan: F64Array
    scan_rows: slice
    n_scan: int
    #: (P, L-1) uint64 thresholds on |q|: bracket index = #{k: |q| >= thr[i, k]}.
    thresholds: npt.NDArray[np.uint64]
    #: (A, T-1) uint64 thresholds on max(x, 0): tier index = #{k: x >= thr[a, k]}.
    tier_thresholds: npt.NDArray[np.uint64]
    #: the assets with more than one tier (the others never leave tier 1)
    tiered: tuple[int, ...]


def _set_block(js: Sequence[int], consts: Sequence[int]) -> tuple[F64Array, int]:
    """The limb columns of one column set: feature k (input limb ``js[k]``) times the
    limbs of ``consts[k]``; returns (K, C) float64 and C."""
    limbs = [_limbs(c) for c in consts]
    n_cols = max((j + len(c) for j, c in zip(js, limbs, strict=True)), default=1)
    t = np.zeros((len(js), n_cols), dtype=np.float64)
    for k, (j, cl) in enumerate(zip(js, limbs, strict=True)):
        for m, c in enumerate(cl):
            if c:
                t[k, j + m] = float(c)  # |c| < 2^21: exact
    return t, n_cols


@lru_cache(maxsize=32)
def _plan(params: RiskParams) -> _Plan:
    n_a, n_p, n_o = len(params.assets), len(params.perps), len(params.options)
    groups = params.groups
    members = [sum(p.group == g for p in params.perps) + sum(o.group == g for o in
                                                               params.options)
               for g in groups]
    tiered = tuple(a for a, asset in enumerate(params.assets) if asset.tiered)
    _check_budget(n_a, n_p, n_o, tiered=bool(tiered), group_members=max(members, default=0))
    params.check_budget()
    n_l = max(params.max_brackets, 1)
    n_t = params.max_tiers if tiered else 1
    n_s = len(params.scenarios)
    rows = _layout(n_a, n_p, n_l, n_t, n_o)
    n_rows = max(span.stop for span in rows.values())
    js = [0] * n_rows  # input limb index of every feature row (0 for a one-hot)
    for span in rows.values():
        for k in range(span.start, span.stop):
            js[k] = (k - span.start) % INPUT_LIMBS
    for name in ("tier", "bracket"):
        for k in range(rows[name].start, rows[name].stop):
            js[k] = 0
    # per column set: the constant multiplying each feature row's *value*
    const_e = [0] * n_rows  # E
    const_r = [0] * n_rows  # R without PM

    def put(target: list[int], group: str, index: int, value: int, width: int) -> None:
        start = rows[group].start + index * width
        for k in range(start, start + width):
            target[k] = value

    for a, asset in enumerate(params.assets):
        # 100 * P_a * 10000 for every sign; the first tier's weight for positive balances
        put(const_e, "balance", a, 100 * asset.price * WEIGHT_ONE, INPUT_LIMBS)
        w1 = asset.tiers[0].weight_bps
        put(const_e, "positive", a, 100 * asset.price * (w1 - WEIGHT_ONE), INPUT_LIMBS)
        c = asset.tier_constants()
        for k in range(1, len(asset.tiers)):  # tier k + 1: w_k - w_1 and C_k
            put(const_e, "tier_positive", a * (n_t - 1) + k - 1,
                100 * asset.price * (asset.tiers[k].weight_bps - w1), INPUT_LIMBS)
            put(const_e, "tier", a * (n_t - 1) + k - 1, 100 * c[k], 1)
    for i, p in enumerate(params.perps):
        put(const_e, "qty", i, 100 * WEIGHT_ONE * p.mark, INPUT_LIMBS)
        d = p.deductions()
        for k in range(len(p.brackets)):
            put(const_r, "bracket_qty", i * n_l + k, p.mark * p.brackets[k].mmr_ppm,
                INPUT_LIMBS)  # N_i * r_ik
            put(const_r, "bracket", i * n_l + k, -d[k], 1)  # -D_ik
    if params.perps:
        put(const_e, "cost_sum", 0, -100 * WEIGHT_ONE * SCALE, INPUT_LIMBS)
    for j, o in enumerate(params.options):
        put(const_e, "option", j, OPTION_SCALE * o.mark, INPUT_LIMBS)
    t_diff, n_cols = _set_block(js, [e - r for e, r in zip(const_e, const_r, strict=True)])
    t_e, n_e = _set_block(js, const_e)
    scan_rows = slice(rows["qty"].start, rows["short"].stop)
    scan_blocks: list[F64Array] = []
    for g in groups:
        for s in range(n_s):
            const_s = [0] * n_rows
            for i, p in enumerate(params.perps):
                if p.group == g:
                    put(const_s, "qty", i, p.risk[s], INPUT_LIMBS)
            for j, o in enumerate(params.options):
                if o.group == g:
                    put(const_s, "option", j, o.risk[s], INPUT_LIMBS)
            scan_blocks.append(_set_block(js, const_s)[0])
        const_short = [0] * n_rows
        for j, o in enumerate(params.options):
            if o.group == g:
                put(const_short, "short", j, o.short_min, INPUT_LIMBS)
        scan_blocks.append(_set_block(js, const_short)[0])
    n_scan = max((b.shape[1] for b in scan_blocks), default=0)
    # one width for every scan set: (G, S + 1, n_scan) columns, over the scan rows only
    padded = [np.pad(b[scan_rows], ((0, 0), (0, n_scan - b.shape[1]))) for b in scan_blocks]
    t_scan = (np.concatenate(padded, axis=1) if padded
              else np.zeros((scan_rows.stop - scan_rows.start, 0)))
    outside = [b for b in scan_blocks if b[: scan_rows.start].any()]
    if outside:
        raise AssertionError("a scan set reads a feature row outside the scan rows")
    # missing brackets of shorter tables: never reached (|q| < 2^63 <= the cap)
    thresholds = np.full((n_p, n_l - 1), THRESHOLD_CAP, dtype=np.uint64)
    for i, p in enumerate(params.perps):
        for k, thr in enumerate(p.thresholds()):
            thresholds[i, k] = thr
    tier_thresholds = np.full((n_a, n_t - 1), THRESHOLD_CAP, dtype=np.uint64)
    for a in tiered:
        for k, thr in enumerate(params.assets[a].tier_thresholds()):
            tier_thresholds[a, k] = thr
    return _Plan(
        n_assets=n_a,
        n_perps=n_p,
        n_brackets=n_l,
        n_tiers=n_t,
        n_options=n_o,
        n_groups=len(groups),
        n_scenarios=n_s,
        rows=rows,
        t_all=np.concatenate([t_diff, t_e], axis=1),
        n_cols=n_cols,
        n_e=n_e,
        t_scan=t_scan,
        scan_rows=scan_rows,
        n_scan=n_scan,
        thresholds=thresholds,
        tier_thresholds=tier_thresholds,
        tiered=tiered,
    )


def _put_limbs(dst: F64Array, values: I64Array) -> None:
    """Write the 3 limbs of ``values`` (G, n) into ``dst`` of shape (G, 3, n) (each limb
    below 2^21 in magnitude: the int64 -> float64 casts are exact)."""
    high = values >> LIMB_BITS
    np.bitwise_and(values, LIMB_MASK, out=dst[:, 0, :], casting="unsafe")
    np.bitwise_and(high, LIMB_MASK, out=dst[:, 1, :], casting="unsafe")
    np.right_shift(high, LIMB_BITS, out=dst[:, 2, :], casting="unsafe")


def _features(
    plan: _Plan,
    bal: I64Array,
    qty: I64Array,
    cost: I64Array,
    out: F64Array | None = None,
    opt: I64Array | None = None,
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
    pos = np.maximum(b_t, 0)
    _put_limbs(x[rows["balance"]].reshape(n_a, 3, n), b_t)
    pos_limbs = x[rows["positive"]].reshape(n_a, 3, n)
    _put_limbs(pos_limbs, pos)
    if plan.n_tiers > 1:
        n_t1 = plan.n_tiers - 1
        tier_pos = x[rows["tier_positive"]].reshape(n_a, n_t1, 3, n)
        tier = x[rows["tier"]].reshape(n_a, n_t1, n)
        tier_pos[...] = 0.0
        tier[...] = 0.0
        for a in plan.tiered:  # tier index = number of thresholds <= max(x, 0)
            idx = np.searchsorted(plan.tier_thresholds[a], pos[a].astype(np.uint64), "right")
            onehot = idx[None, :] == np.arange(1, plan.n_tiers)[:, None]  # (T-1, n)
            tier[a] = onehot
            np.multiply(onehot[:, None, :], pos_limbs[a][None, :, :], out=tier_pos[a])
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
    if plan.n_options:
        assert opt is not None
        o_t = np.ascontiguousarray(opt.T)
        _put_limbs(x[rows["option"]].reshape(plan.n_options, 3, n), o_t)
        _put_limbs(x[rows["short"]].reshape(plan.n_options, 3, n), np.maximum(-o_t, 0))
    return x


def _carry(cols: I64Array, extra: int) -> I64Array:
    """Canonical limbs of (..., C, n) columns: limbs but the last in [0, 2^21), the last
    signed."""
    c = cols.shape[-2]
    out = np.zeros((*cols.shape[:-2], c + extra, cols.shape[-1]), dtype=np.int64)
    out[..., :c, :] = cols
    for k in range(c + extra - 1):
        out[..., k + 1, :] += out[..., k, :] >> LIMB_BITS
        out[..., k, :] &= LIMB_MASK
    return out


def _words(limbs: I64Array) -> I64Array:
    """Canonical limbs (..., C, n) packed 3 per int64 word, top word first: the words
    compare lexicographically as the integers do (every word but the top one in
    [0, 2^63), the top one signed)."""
    c = limbs.shape[-2]
    n_w = -(-c // INPUT_LIMBS)
    out = np.zeros((*limbs.shape[:-2], n_w, limbs.shape[-1]), dtype=np.int64)
    for k in range(c):
        out[..., n_w - 1 - k // INPUT_LIMBS, :] += limbs[..., k, :] << (LIMB_BITS * (k % 3))
    return out


def _lex_argmax(words: I64Array) -> npt.NDArray[np.int64]:
    """Per account, the index of the largest of (K, W, n) integers given as words (top
    word first); the first of equal ones."""
    best = words[0]
    pick = np.zeros(words.shape[-1], dtype=np.int64)
    for s in range(1, words.shape[0]):
        cand = words[s]
        greater = np.zeros(words.shape[-1], dtype=np.bool_)
        equal = np.ones(words.shape[-1], dtype=np.bool_)
        for w in range(words.shape[1]):
            greater |= equal & (cand[w] > best[w])
            equal &= cand[w] == best[w]
        best = np.where(greater[None, :], cand, best)
        pick[greater] = s
    return pick


#: Per term, the bound on the float64 error of a value summed from its C limb columns:
#: C exact terms (powers of two times integers below 2^53) summed in float64 err by at
#: most (C - 1) * 2^-53 of the sum of their magnitudes; 8 times that covers the roundings
#: of the bound itself and of ``approx -+ error``.
_APPROX_ERROR = 2.0**-50


def _portfolio(plan: _Plan, scan: F64Array) -> I64Array:
    """``sum_g max(scan_g, short_g)`` as (RESULT_LIMBS, n) canonical limbs, from the scan
    columns (G, S + 1, n_scan, n) of the matrix product (exact integers in float64).

    The maximum is found on float64 approximations of the values with a rigorous error
    bound; only the groups of accounts where the bound cannot separate the largest value
    from another one (ties, near ties) are compared exactly, on canonical limbs packed in
    words. The chosen values' exact columns are then summed in int64 and carried."""
    c = scan.shape[2]
    weights = np.ldexp(1.0, LIMB_BITS * np.arange(c))  # 2^(21k): exact scalings
    approx = np.einsum("gsck,c->gsk", scan, weights)
    error = np.einsum("gsck,c->gsk", np.abs(scan), weights) * (max(c - 1, 1) * _APPROX_ERROR)
    pick = approx.argmax(axis=1)  # (G, n)
    low = np.take_along_axis(approx - error, pick[:, None, :], axis=1)[:, 0]
    high = approx + error
    np.put_along_axis(high, pick[:, None, :], -np.inf, axis=1)
    unsure = high.max(axis=1) > low  # another value may be as large: decide exactly
    if unsure.any():
        gi, ki = np.nonzero(unsure)
        sub = scan[gi, :, :, ki].astype(np.int64).transpose(1, 2, 0)  # (S + 1, C, m)
        pick[gi, ki] = _lex_argmax(_words(_carry(sub, RESULT_LIMBS - c)))
    chosen = np.take_along_axis(scan, pick[:, None, None, :], axis=1)[:, 0]  # (G, C, n)
    # every column below 2^53, G <= 2^9 of them: below 2^62 in int64
    total = chosen.astype(np.int64).sum(axis=0)
    return _carry(total, RESULT_LIMBS - c)


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
        if block.options.shape[1] != plan.n_options:
            raise ValueError(f"the block has {block.options.shape[1]} option columns, the "
                             f"params {plan.n_options} options")
        balance, positive = plan.rows["balance"], plan.rows["positive"]
        buf = np.empty(plan.t_all.shape[0] * min(CHUNK, len(block)), dtype=np.float64)
        n_scan_sets = (plan.n_groups, plan.n_scenarios + 1, plan.n_scan)
        for lo in range(0, len(block), CHUNK):
            hi = min(len(block), lo + CHUNK)
            x = _features(
                plan, block.balances[lo:hi], block.qty[lo:hi], block.cost[lo:hi], out=buf,
                opt=block.options[lo:hi],
            )
            cols = np.rint(plan.t_all.T @ x).astype(np.int64)  # exact: every sum < 2^53
            # limbs < 2^21 summed over < 2^32 accounts: exact
            sums = np.stack([x[balance].sum(axis=1), x[positive].sum(axis=1)])
            diff = _carry(cols[: plan.n_cols], 3)
            if plan.n_groups:
                scan = plan.t_scan.T @ x[plan.scan_rows]  # exact: every sum < 2^53
                pm = _portfolio(plan, np.rint(scan).reshape(*n_scan_sets, hi - lo))
                width = max(diff.shape[0], RESULT_LIMBS) + 1
                total = np.zeros((width, hi - lo), dtype=np.int64)
                total[: diff.shape[0]] = diff
                total[:RESULT_LIMBS] -= OPTION_SCALE * pm  # |.| < 2^20 * 2^30: no wrap
                diff = _carry(total, 0)
            yield lo, hi, diff, _carry(cols[plan.n_cols :], 3), sums

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
