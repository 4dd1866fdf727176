"""Poseidon/Merkle throughput vs circomlibjs (same leaves, same run), and a 1M-account tree.

Run: .venv/bin/python benchmarks/bench_merkle.py [--compare-leaves 2^16] [--accounts 1000000]
Last line: ``hashes_per_s=<int> speedup_vs_circomlibjs=<float> tree_1m_s=<float>``.

* hashes_per_s: two-input hashes per second building a tree over the comparison leaves
  with the fast implementation (C, ``zkmargin/poseidon/_fast.c``) in this process (one
  core); also printed: light-poseidon (Rust/arkworks, the fast implementation until
  2026-12-02, now a test dependency) on the same pairs, one by one as it hashes;
* speedup_vs_circomlibjs: circomlibjs's time for the same tree (hashing only, measured
  inside node so start-up is excluded) divided by ours with ``--workers`` processes;
* tree_1m_s: 1,000,000 accounts from leaves to root: id hashes, account leaves and all
  internal nodes, with ``--workers`` processes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import time
from pathlib import Path

import light_poseidon_python
import numpy as np

from zkmargin import commitments
from zkmargin.commitments import account_id_digest, id_hashes, padding_leaf
from zkmargin.field import SNARK_FIELD
from zkmargin.merkle import MerkleTree

ROOT = Path(__file__).resolve().parent.parent


def _leaves_worker(args: tuple[int, int, int]) -> list[int]:
    start, count, seed = args
    rng = np.random.default_rng([seed, start])
    bal = rng.integers(-(10**12), 10**12, size=(count, 8)).tolist()
    pos = rng.integers(-(10**12), 10**12, size=(count, 8)).tolist()
    idhs = id_hashes([account_id_digest(f"acct-{start + k}") for k in range(count)],
                     [(start + k) * 7919 + 1 for k in range(count)])
    return commitments.account_leaves([(idhs[k], bal[k], pos[k][:4], pos[k][4:], ())
                                       for k in range(count)])


def account_leaves(n: int, workers: int, seed: int = 1) -> list[int]:
    step = 16384
    jobs = [(s, min(step, n - s), seed) for s in range(0, n, step)]
    if workers <= 1:
        parts = [_leaves_worker(j) for j in jobs]
    else:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_leaves_worker, jobs)
    return [x for p in parts for x in p]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--compare-leaves", type=int, default=1 << 16)
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    n = args.compare_leaves
    assert n & (n - 1) == 0, "--compare-leaves must be a power of two"
    rng = random.Random(1)
    leaves = [rng.randrange(SNARK_FIELD) for _ in range(n)]

    t0 = time.perf_counter()
    one = MerkleTree.build(leaves, workers=1)
    t_one = time.perf_counter() - t0
    t0 = time.perf_counter()
    many = MerkleTree.build(leaves, workers=args.workers)
    t_many = time.perf_counter() - t0
    assert one.root == many.root
    pairs = [x.to_bytes(32, "big") for x in leaves]
    lp = light_poseidon_python.Hasher(2)
    t0 = time.perf_counter()
    for i in range(0, n, 2):
        lp.hash_bytes_be([pairs[i], pairs[i + 1]])
    t_lp = time.perf_counter() - t0
    print(f"light-poseidon, the same {n // 2} pairs one by one: {n // 2 / t_lp:,.0f} hashes/s")
    proc = subprocess.run(
        ["node", str(ROOT / "tests" / "js" / "merkle.js")],
        input=json.dumps({"leaves": [str(x) for x in leaves], "depth": n.bit_length() - 1,
                          "pad": "0"}),
        capture_output=True, text=True, check=True, timeout=1800, cwd=ROOT,
    )
    js = json.loads(proc.stdout)
    assert int(js["root"]) == one.root, "circomlibjs and zkmargin disagree on the root"
    hashes = n - 1
    rate_one = hashes / t_one
    print(f"tree over {n} leaves ({hashes} hashes): zkmargin 1 worker {t_one:.2f} s "
          f"({rate_one:,.0f}/s), {args.workers} workers {t_many:.2f} s; "
          f"circomlibjs {js['seconds']:.2f} s ({hashes / js['seconds']:,.0f}/s); roots equal")
    print(f"speedup one core: {js['seconds'] / t_one:.2f}x, "
          f"{args.workers} workers: {js['seconds'] / t_many:.2f}x")

    t0 = time.perf_counter()
    acc_leaves = account_leaves(args.accounts, args.workers)
    t_leaves = time.perf_counter() - t0
    tree = MerkleTree.build(acc_leaves, pad_leaf=padding_leaf(8, 4), workers=args.workers)
    t_tree = time.perf_counter() - t0
    print(f"{args.accounts} accounts (A=8, P=4): leaves {t_leaves:.1f} s, "
          f"whole tree {t_tree:.1f} s, depth {tree.depth}, root {hex(tree.root)[:18]}...")
    scale = 1_000_000 / args.accounts
    print(f"hashes_per_s={int(rate_one)} speedup_vs_circomlibjs={js['seconds'] / t_many:.2f} "
          f"tree_1m_s={t_tree * scale:.1f}")


if __name__ == "__main__":
    main()
