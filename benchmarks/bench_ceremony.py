"""Time the multi-party phase 2 and the audit of its key, for one batch shape.

Steps, each through the real CLI (subprocesses, as the parties run them): a phase-1 file
with a random, discarded tau (standing in for a public ceremony's), ``ceremony init``,
two ``ceremony contribute``, ``ceremony beacon``, ``ceremony verify``, then ``prove --zkey``
of a small snapshot and ``audit`` with and without ``--ptau``. The baseline is the audit
without ``--ptau`` measured in the same run: the last line prints the cost of checking the
phase-1 and phase-2 chain as a ratio to it.

    .venv/bin/python benchmarks/bench_ceremony.py                 # default shape A=8 P=4 L=4 K=32
    .venv/bin/python benchmarks/bench_ceremony.py --batch-size 8
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zkmargin.prover.toolchain import compile_circuit, registered_shape  # noqa: E402
from zkmargin.statement import CircuitShape  # noqa: E402

ZK = [sys.executable, "-m", "zkmargin.cli"]


def timed(label: str, cmd: list[str], times: dict[str, float]) -> str:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    times[label] = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{label} failed ({proc.returncode}): {proc.stderr[-3000:]}")
    print(f"{label:<28}{times[label]:9.1f} s", flush=True)
    return proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    default = registered_shape("batch-default")
    ap.add_argument("--batch-size", type=int, default=default.batch_size)
    ap.add_argument("--accounts", type=int, default=32, help="accounts proved and audited")
    args = ap.parse_args()
    shape = CircuitShape(default.assets, default.perps, default.brackets,
                         args.batch_size.bit_length() - 1)
    circuit = compile_circuit(shape)
    print(f"shape A={shape.assets} P={shape.perps} L={shape.brackets} K={shape.batch_size}: "
          f"{circuit.constraints:,} constraints, ptau 2^{circuit.ptau_power}", flush=True)
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ceremony-") as tmp:
        d = Path(tmp)
        timed("generate", [*ZK, "generate", "--accounts", str(args.accounts), "--assets",
                           str(shape.assets), "--perps", str(shape.perps), "--brackets",
                           str(shape.brackets), "--out", str(d / "data")], times)
        ptau = d / "phase1.ptau"
        timed("phase-1 stand-in (ptau)", ["node", str(ROOT / "prover" / "js" / "dev_ptau.cjs"),
                                          str(circuit.ptau_power), str(ptau), "--seed",
                                          secrets.token_hex(32)], times)
        shape_args = ["--params", str(d / "data" / "params.json"), "--batch-size",
                      str(shape.batch_size)]
        timed("ceremony init", [*ZK, "ceremony", "init", *shape_args, "--ptau", str(ptau),
                                "--out", str(d / "c0.zkey")], times)
        hashes = []
        for n in (1, 2):
            out = timed(f"ceremony contribute {n}",
                        [*ZK, "ceremony", "contribute", str(d / f"c{n - 1}.zkey"),
                         str(d / f"c{n}.zkey"), "--name", f"party {n}", "--json"], times)
            hashes.append(json.loads(out)["hash"])
        timed("ceremony beacon", [*ZK, "ceremony", "beacon", str(d / "c2.zkey"),
                                  str(d / "final.zkey"), "--beacon", secrets.token_hex(32)],
              times)
        timed("ceremony verify", [*ZK, "ceremony", "verify", str(d / "final.zkey"),
                                  *shape_args, "--ptau", str(ptau)], times)
        timed("prove --zkey", [*ZK, "prove", str(d / "data" / "snapshot.csv"), *shape_args,
                               "--out", str(d / "art"), "--zkey", str(d / "final.zkey"),
                               "--ptau", str(ptau), "--json"], times)
        timed("audit", [*ZK, "audit", str(d / "art"), "--json"], times)
        expect = [a for h in hashes for a in ("--expect-contribution", h)]
        timed("audit --ptau --expect x2", [*ZK, "audit", str(d / "art"), "--json", "--ptau",
                                           str(ptau), *expect], times)
    ratio = times["audit --ptau --expect x2"] / times["audit"]
    print(f"contribute_s={times['ceremony contribute 1']:.1f} "
          f"verify_s={times['ceremony verify']:.1f} "
          f"audit_ptau_s={times['audit --ptau --expect x2']:.1f} "
          f"audit_s={times['audit']:.1f} ptau_check_ratio={ratio:.1f}")


if __name__ == "__main__":
    main()
