"""Accounts proved per second by ``zkmargin prove`` vs plain ``snarkjs groth16 fullprove``.

Run: .venv/bin/python benchmarks/bench_prove.py [--sizes 4,8,16] [--batches 8]
Last line: ``accounts_per_s=<float> accounts_per_s_per_core=<float> speedup_vs_snarkjs=<float>
constraints_per_account=<int> batch_size=<int>`` (the best configuration).

For each batch size K (shape A=8, P=4, L=4: circuits/circuits.json ``batch-default``, the
shape of the generated parameters), the same generated accounts are proved:

* ``snarkjs fullprove``: the baseline, one ``snarkjs groth16 fullprove`` per batch (WASM
  witness + snarkjs prover, as a user of plain snarkjs would run it), one after another
  (snarkjs already spreads its multi-exponentiations over the cores);
* ``zkmargin prove`` with each backend of ``--backends`` (default: builtin, and native when
  groth16py is installed): the whole command (exact check, batching, witnesses, proofs,
  files, index, tree, manifest) with ``--workers`` processes.

Compilation, the C++ witness build and the (INSECURE, development) key setup are done
before timing and reported separately: they are cached per circuit. The last line takes
the fastest configuration and divides by the baseline at the same K.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from zkmargin.generate import GenerateOptions, generate
from zkmargin.params import load_params
from zkmargin.paths import NODE_MODULES
from zkmargin.prover.backends import native_available
from zkmargin.prover.info import circuit_info
from zkmargin.prover.pipeline import ProveOptions, batch_members, prove_snapshot
from zkmargin.prover.setup import dev_keys
from zkmargin.prover.toolchain import build_witness_binary, compile_circuit, registered_shape
from zkmargin.prover.witness import plan_batch
from zkmargin.statement import CircuitShape

SNARKJS = ["node", str(NODE_MODULES / "snarkjs" / "build" / "cli.cjs")]
SECRET = bytes(range(32))


def timed(what: str, fn: object) -> float:
    t = time.perf_counter()
    assert callable(fn)
    fn()
    dt = time.perf_counter() - t
    print(f"  {what}: {dt:.1f} s", flush=True)
    return dt


def baseline(snap: Path, params_path: Path, shape: CircuitShape, wasm: Path, zkey: Path,
             work: Path) -> float:
    """Seconds for plain snarkjs fullprove over every batch of ``snap``."""
    params = load_params(params_path)
    inputs = []
    for i, members in enumerate(batch_members(snap, params, shape.batch_size, SECRET, None)):
        path = work / f"input-{i}.json"
        plan = plan_batch(params, shape, i, [m.account for m in members])
        path.write_text(json.dumps(plan.inputs))
        inputs.append(path)
    start = time.perf_counter()
    for path in inputs:
        subprocess.run([*SNARKJS, "groth16", "fullprove", str(path), str(wasm), str(zkey),
                        str(work / "proof.json"), str(work / "public.json")],
                       check=True, capture_output=True, timeout=3600)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="4,8,16", help="batch sizes K (powers of two)")
    ap.add_argument("--batches", type=int, default=8, help="batches proved per configuration")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--backends", default="builtin,native",
                    help="zkmargin prove backends to time (native when installed; snarkjs "
                         "is the slow reference)")
    args = ap.parse_args()
    registered = registered_shape("batch-default")  # A, P, L; --sizes gives K
    backends = args.backends.split(",")
    if "native" in backends and not native_available():
        backends.remove("native")
    rows: list[tuple[int, str, float, float, int]] = []
    work = Path(tempfile.mkdtemp(prefix="bench-prove-"))
    secret_file = work / "secret.hex"
    secret_file.write_text(SECRET.hex())
    try:
        for k in (int(s) for s in args.sizes.split(",")):
            shape = CircuitShape(registered.assets, registered.perps, registered.brackets,
                                 k.bit_length() - 1)
            print(f"K={k}: one-time work (cached afterwards)", flush=True)
            circuit = compile_circuit(shape)
            timed("C++ witness generator build", lambda c=circuit: build_witness_binary(c))
            keys = dev_keys(circuit)  # INSECURE development setup: fine for timing
            info = circuit_info(shape)
            n = k * args.batches
            snap, params = generate(work / f"k{k}", GenerateOptions(
                accounts=n, assets=shape.assets, perps=shape.perps, brackets=shape.brackets,
                seed=k))
            base = baseline(snap, params, shape, circuit.wasm, keys.zkey, work)
            rows.append((k, "snarkjs fullprove", n / base, base, info.per_account))
            print(f"  snarkjs fullprove: {n / base:.2f} accounts/s ({base:.1f} s)", flush=True)
            for backend in backends:
                out = work / f"out-{k}-{backend}"
                opts = ProveOptions(batch_size=k, workers=args.workers, backend=backend,
                                    engine="cpp", salt_secret=secret_file)
                t = time.perf_counter()
                result = prove_snapshot(snap, params, out, opts)
                dt = time.perf_counter() - t
                assert result.proved == args.batches
                rows.append((k, f"zkmargin prove --backend {backend}", n / dt, dt,
                             info.per_account))
                print(f"  zkmargin prove --backend {backend}: {n / dt:.2f} accounts/s "
                      f"({dt:.1f} s)", flush=True)
                shutil.rmtree(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cores = os.cpu_count() or 1
    print(f"\n| K | prover | accounts/s | per core ({cores}) | seconds | vs snarkjs fullprove |")
    print("|---|---|---|---|---|---|")
    base_rate = {k: rate for k, name, rate, _, _ in rows if name == "snarkjs fullprove"}
    for k, name, rate, secs, _ in rows:
        print(f"| {k} | {name} | {rate:.2f} | {rate / cores:.2f} | {secs:.1f} | "
              f"{rate / base_rate[k]:.2f}x |")
    k, _, rate, _, per_account = max((r for r in rows if r[1] != "snarkjs fullprove"),
                                     key=lambda r: r[2])
    print(f"accounts_per_s={rate:.2f} accounts_per_s_per_core={rate / cores:.2f} "
          f"speedup_vs_snarkjs={rate / base_rate[k]:.2f} "
          f"constraints_per_account={per_account} batch_size={k}")


if __name__ == "__main__":
    main()
