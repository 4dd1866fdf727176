"""C++ witness generator: build time and witness time of circom's generated ``circuit.cpp``
at -O1 (what the test suite builds, ``ZKMARGIN_CPP_CFLAGS``) against -O3 (circom's
Makefile and zkmargin's default, the baseline), for one registered batch circuit; both
binaries must give the same witness.

    python benchmarks/bench_witness.py [--circuit batch-options-test] [--runs 20]

Prints both build times, the median witness time of each over ``--runs`` runs on one full
batch of generated accounts, and the ratios. Builds run in temporary copies of the
circuit's ``circuit_cpp/`` (the cached binary is not touched).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from zkmargin.generate import GenerateOptions, make_params
from zkmargin.params import RiskParams, loads_params
from zkmargin.prover.toolchain import (
    CIRCUIT_CFLAGS,
    compile_circuit,
    registered_shape,
)
from zkmargin.prover.witness import BatchAccount, plan_batch
from zkmargin.statement import CircuitShape

TEST_CFLAGS = "-std=c++11 -O1 -I."


def _build(cpp_dir: Path, work: Path, cflags: str) -> float:
    shutil.copytree(cpp_dir, work)
    for f in work.iterdir():
        if f.suffix == ".o" or f.name == "circuit" or f.name == "BUILD_FAILED":
            f.unlink()
    t = time.perf_counter()
    # as zkmargin builds it: circom's runtime objects with the Makefile's flags first
    subprocess.run(["make", "-j2", "main.o", "calcwit.o", "fr.o", "fr_asm.o"], cwd=work,
                   check=True, capture_output=True)
    subprocess.run(["make", "-j2", f"CFLAGS={cflags}"], cwd=work, check=True,
                   capture_output=True)
    return time.perf_counter() - t


def _accounts(shape: CircuitShape) -> list[BatchAccount]:
    """One full batch of plain accounts of the shape (values only need to be in range)."""
    n = shape.batch_size
    return [BatchAccount(id_hash=1000 + i,
                         balances=tuple((i + 1) * 10**8 * (a + 1) for a in range(shape.assets)),
                         qty=tuple((-1) ** i * 10**7 * (p + 1) for p in range(shape.perps)),
                         cost=tuple(10**9 * (p + 1) for p in range(shape.perps)),
                         options=tuple((-1) ** (i + j) * 10**8 for j in range(shape.options)))
            for i in range(n)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--circuit", default="batch-options-test",
                    help="a batch entry of circuits/circuits.json (default %(default)s)")
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    shape = registered_shape(args.circuit)
    params = _params_for(args.circuit, shape)
    circuit = compile_circuit(shape)
    inputs = plan_batch(params, shape, 0, _accounts(shape)).inputs
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        (tmp / "in.json").write_text(json.dumps(inputs))
        builds: dict[str, float] = {}
        times: dict[str, float] = {}
        outs: dict[str, bytes] = {}
        for label, flags in (("-O3 (baseline)", CIRCUIT_CFLAGS), ("-O1 (tests)", TEST_CFLAGS)):
            work = tmp / label.split()[0]
            builds[label] = _build(circuit.cpp_dir, work, flags)
            runs = []
            for _ in range(args.runs):
                t = time.perf_counter()
                subprocess.run([str(work / "circuit"), str(tmp / "in.json"),
                                str(work / "w.wtns")], check=True, capture_output=True)
                runs.append(time.perf_counter() - t)
            times[label] = statistics.median(runs)
            outs[label] = (work / "w.wtns").read_bytes()
    if len(set(outs.values())) != 1:
        print("the two binaries gave different witnesses", file=sys.stderr)
        return 1
    print(f"circuit {args.circuit} ({shape.describe()}), {circuit.constraints} constraints")
    for label in builds:
        print(f"  {label}: build {builds[label]:7.1f} s, witness {times[label] * 1000:8.1f} ms "
              f"(median of {args.runs})")
    base, ours = "-O3 (baseline)", "-O1 (tests)"
    print(f"  build time ratio -O3 / -O1: {builds[base] / builds[ours]:.2f}x; "
          f"witness time ratio -O1 / -O3: {times[ours] / times[base]:.2f}x")
    return 0


#: Test shapes of circuits/circuits.json and the vectors whose parameters they fit.
_VECTORS = {"batch-test": "margin_cases.json", "batch-options-test": "portfolio_cases.json"}


def _params_for(name: str, shape: CircuitShape) -> RiskParams:
    """The test vectors' params for the test shapes, else generated ones of the shape."""
    if name in _VECTORS:
        path = Path(__file__).resolve().parent.parent / "tests" / "vectors" / _VECTORS[name]
        return loads_params(json.dumps(json.loads(path.read_text())["params"]))
    return make_params(GenerateOptions(accounts=1, assets=shape.assets, perps=shape.perps,
                                       brackets=shape.brackets, options=shape.options,
                                       groups=max(shape.groups, 1),
                                       scenarios=max(shape.scenarios, 1)))


if __name__ == "__main__":
    sys.exit(main())
