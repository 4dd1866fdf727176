"""Vectorized margin core vs the reference, same generated data.

Two shapes: the default (A=8, P=4 with L=4, no options, one-tier assets) and an options
shape (A=8, P=4, O=16 options in 2 portfolio groups, S=16 scenarios: CME SPAN's set).

Run: OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_core.py [--accounts N]
(one core: the BLAS thread count is pinned to 1 before NumPy loads).
Lines ``accounts_per_s=<int> speedup_vs_reference=<float>`` for the default shape, then
``options_accounts_per_s=<int> options_speedup_vs_reference=<float>`` (the last line).
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


def _sub(block: AccountBlock, n: int) -> AccountBlock:
    return AccountBlock(block.ids[:n], block.balances[:n], block.qty[:n], block.cost[:n],
                        options=block.options[:n])


def measure(opts: GenerateOptions, accounts: int, reference_accounts: int,
            repeat: int) -> tuple[float, float, str]:
    """(vectorized accounts/s, reference accounts/s, a summary line)."""
    params = make_params(opts)
    rng = np.random.default_rng(opts.seed)
    block = _block(params, opts, 0, accounts, rng)
    want = rng.random(accounts) < 0.01
    block = _adjust(params, block, want)
    vec, ref = get_core("vectorized"), get_core("reference")
    vec.evaluate(params, _sub(block, 10))  # warm the parameter plan cache
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        res_v = vec.evaluate(params, block)
        best = min(best, time.perf_counter() - t0)
    n_ref = min(reference_accounts, accounts)
    sub = _sub(block, n_ref)
    t0 = time.perf_counter()
    res_r = ref.evaluate(params, sub)
    ref_rate = n_ref / (time.perf_counter() - t0)
    check = vec.evaluate(params, sub)
    if check.totals != res_r.totals or check.deficient.tolist() != res_r.deficient.tolist():
        raise SystemExit("the vectorized and the reference core disagree")
    line = (f"vectorized: {accounts} accounts in {best:.3f} s (best of {repeat}), "
            f"{int(res_v.deficient.sum())} deficient\n"
            f"reference:  {n_ref} accounts at {ref_rate:,.0f} accounts/s (results identical)")
    return accounts / best, ref_rate, line


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--reference-accounts", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--options-accounts", type=int, default=200_000,
                    help="accounts of the options shape")
    args = ap.parse_args()
    default = GenerateOptions(accounts=args.accounts, assets=8, perps=4, brackets=4, seed=11)
    vec_rate, ref_rate, line = measure(default, args.accounts, args.reference_accounts,
                                       args.repeat)
    print("default shape A=8 P=4 L=4, no options:")
    print(line)
    print(f"accounts_per_s={int(vec_rate)} speedup_vs_reference={vec_rate / ref_rate:.1f}")
    options = GenerateOptions(accounts=args.options_accounts, assets=8, perps=4, brackets=4,
                              seed=11, options=16, groups=2, scenarios=16)
    vec_rate, ref_rate, line = measure(options, args.options_accounts,
                                       args.reference_accounts // 4, args.repeat)
    print("options shape A=8 P=4 L=4, O=16 in 2 groups, S=16:")
    print(line)
    print(f"options_accounts_per_s={int(vec_rate)} "
          f"options_speedup_vs_reference={vec_rate / ref_rate:.1f}")


if __name__ == "__main__":
    main()
