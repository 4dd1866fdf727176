"""Vectorized margin core vs the reference, same generated data (A=8, P=4, L=4).

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_core.py [--accounts N]
(one core: the BLAS thread count is pinned to 1 before NumPy loads).
Last line: ``accounts_per_s=<int> speedup_vs_reference=<float>``.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import time

import numpy as np

from zkmargin.generate import GenerateOptions, _adjust, _block, make_params
from zkmargin.margin import AccountBlock, get_core


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--reference-accounts", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    opts = GenerateOptions(accounts=args.accounts, assets=8, perps=4, brackets=4, seed=11)
    params = make_params(opts)
    rng = np.random.default_rng(11)
    block = _block(params, opts, 0, args.accounts, rng)
    want = rng.random(args.accounts) < 0.01
    block = _adjust(params, block, want)
    vec, ref = get_core("vectorized"), get_core("reference")
    vec.evaluate(params, AccountBlock(block.ids[:10], block.balances[:10], block.qty[:10],
                                      block.cost[:10]))  # warm the parameter plan cache
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        res_v = vec.evaluate(params, block)
        best = min(best, time.perf_counter() - t0)
    vec_rate = args.accounts / best
    n_ref = min(args.reference_accounts, args.accounts)
    sub = AccountBlock(block.ids[:n_ref], block.balances[:n_ref], block.qty[:n_ref],
                       block.cost[:n_ref])
    t0 = time.perf_counter()
    res_r = ref.evaluate(params, sub)
    ref_rate = n_ref / (time.perf_counter() - t0)
    check = vec.evaluate(params, sub)
    if check.totals != res_r.totals or check.deficient.tolist() != res_r.deficient.tolist():
        raise SystemExit("the vectorized and the reference core disagree")
    print(f"vectorized: {args.accounts} accounts in {best:.3f} s (best of {args.repeat}), "
          f"{int(res_v.deficient.sum())} deficient")
    print(f"reference:  {n_ref} accounts at {ref_rate:,.0f} accounts/s (results identical)")
    print(f"accounts_per_s={int(vec_rate)} speedup_vs_reference={vec_rate / ref_rate:.1f}")


if __name__ == "__main__":
    main()
