"""Scaling on a Dask cluster: the same batches proved with 1 and with 2 Dask workers.

Run: .venv/bin/python benchmarks/bench_scale.py [--batch-size 32] [--batches 32]
Last line: ``workers_1_accounts_per_s=<f> workers_2_accounts_per_s=<f> speedup=<f>
projection_1m_32_cores_h=<f> projection_1m_128_cores_h=<f>``.

A real cluster on loopback: ``dask scheduler`` and ``dask worker`` processes (one thread
each, no nanny, as tests/test_dask.py starts them, Dask's worker profiler off:
``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``), the shape of the generated params
(A=8, P=4, L=4, ``batch-default``). The baseline is the same command with one worker,
measured in the same run. Each run is the whole ``zkmargin prove --scheduler`` command into
a fresh directory (exact check, batching, witnesses, proofs, files, index, tree and
manifest included); compilation, the C++ witness build and the INSECURE development key
setup happen before timing (cached per circuit), and each worker loads the proving key
once per process, inside the timed run.

**Cores:** the run with n workers is pinned to n cores (``taskset -c 0..n-1``: scheduler,
workers and the ``zkmargin prove`` client alike), so each run has the client and the
scheduler on its workers' cores, as a machine of n cores would. Unpinned, the 1-worker run
on a 2-core machine gets a free second core for the client and the scheduler (about 15% of
a core here) that the 2-worker run does not, and the speedup measures that asymmetry too.

The projection for 1,000,000 accounts divides by the measured per-worker rate of the 2-
worker run (one worker per core, perfect scaling assumed beyond what was measured: the
tasks are independent and only the small index and tree work stays on the client).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from zkmargin.generate import GenerateOptions, generate
from zkmargin.prover.backends import DEFAULT_BACKEND
from zkmargin.prover.setup import dev_keys
from zkmargin.prover.toolchain import build_witness_binary, compile_circuit, registered_shape
from zkmargin.statement import CircuitShape

BIN = Path(sys.executable).parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def pinned(cores: int) -> list[str]:
    """The command prefix that keeps a process on the first ``cores`` cores."""
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < cores:
        raise SystemExit(f"bench_scale needs taskset and {cores} cores")
    return ["taskset", "-c", f"0-{cores - 1}"]


class Cluster:
    """A scheduler and ``n`` single-thread workers on loopback, as separate processes,
    pinned to the first ``n`` cores."""

    def __init__(self, n: int, logs: Path) -> None:
        self.address = f"tcp://127.0.0.1:{_port()}"
        logs.mkdir(parents=True, exist_ok=True)
        # Dask's statistical profiler samples every worker thread's stack every 10 ms:
        # about 8% of a worker's CPU on these CPU-bound tasks, off as an operator would run it
        env = {**os.environ, "RAYON_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED": "False"}
        self.procs = [self._start([*pinned(n), str(BIN / "dask"), "scheduler",
                                   "--host", "127.0.0.1",
                                   "--port", self.address.rsplit(":", 1)[1],
                                   "--no-dashboard"], logs / "scheduler.log", env)]
        self.logs = [logs / f"worker{i}.log" for i in range(n)]
        for i, log in enumerate(self.logs):
            self.procs.append(self._start(
                [*pinned(n), str(BIN / "dask"), "worker", self.address, "--nthreads", "1",
                 "--no-nanny", "--no-dashboard", "--name", f"w{i}", "--host", "127.0.0.1"],
                log, env))
        ready = re.compile(r"Registered to|Starting established connection")
        deadline = time.monotonic() + 120
        while not all(log.exists() and ready.search(log.read_text()) for log in self.logs):
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                self.stop()
                raise SystemExit(f"the Dask cluster did not start; logs in {logs}")
            time.sleep(0.2)

    @staticmethod
    def _start(cmd: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        with log.open("wb") as fh:
            return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)


def prove(snap: Path, params: Path, out: Path, secret: Path, batch_size: int,
          backend: str, address: str, cores: int) -> float:
    cmd = [*pinned(cores), str(BIN / "zkmargin"), "prove", str(snap), "--params",
           str(params), "--out", str(out), "--batch-size", str(batch_size), "--salt-secret",
           str(secret),
           "--backend", backend, "--witness", "cpp", "--scheduler", address, "--json"]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=7200, check=False)
    dt = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"zkmargin prove failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch-size", type=int,
                    default=registered_shape("batch-default").batch_size)  # the default K
    ap.add_argument("--batches", type=int, default=32, help="batches proved per run")
    args = ap.parse_args()
    k = args.batch_size
    reg = registered_shape("batch-default")
    shape = CircuitShape(reg.assets, reg.perps, reg.brackets, k.bit_length() - 1)
    backend = DEFAULT_BACKEND
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        print(f"K={k}, {args.batches} batches, backend {backend}: one-time work (cached)",
              flush=True)
        circuit = compile_circuit(shape)
        build_witness_binary(circuit)
        dev_keys(circuit)  # INSECURE development setup: fine for timing
        n = k * args.batches
        snap, params = generate(work / "data", GenerateOptions(
            accounts=n, assets=shape.assets, perps=shape.perps, brackets=shape.brackets,
            seed=7))
        secret = work / "secret.hex"
        secret.write_text(bytes(range(32)).hex())
        rate: dict[int, float] = {}
        for workers in (1, 2):
            cluster = Cluster(workers, work / f"logs-{workers}")
            try:
                dt = prove(snap, params, work / f"out-{workers}", secret, k, backend,
                           cluster.address, workers)
            finally:
                cluster.stop()
            rate[workers] = n / dt
            print(f"  {workers} worker(s): {n} accounts in {dt:.1f} s = "
                  f"{rate[workers]:.2f} accounts/s", flush=True)
        roots = {json.loads((work / f"out-{w}" / "manifest.json").read_text())["root"]
                 for w in (1, 2)}
        if len(roots) != 1:
            raise SystemExit("the two runs published different roots")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    speedup = rate[2] / rate[1]
    per_core = rate[2] / 2
    hours = {cores: 1_000_000 / (per_core * cores) / 3600 for cores in (32, 128)}
    print(f"per core (2-worker run): {per_core:.2f} accounts/s; 1M accounts: "
          f"{hours[32]:.2f} h on 32 cores, {hours[128]:.2f} h on 128 cores")
    print(f"workers_1_accounts_per_s={rate[1]:.2f} workers_2_accounts_per_s={rate[2]:.2f} "
          f"speedup={speedup:.2f} projection_1m_32_cores_h={hours[32]:.2f} "
          f"projection_1m_128_cores_h={hours[128]:.2f}")


if __name__ == "__main__":
    main()
