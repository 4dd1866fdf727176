"""`zkmargin prove --scheduler`: the same batch tasks on a real Dask cluster.

A scheduler and two workers run as separate processes on loopback (`dask scheduler`,
`dask worker`, one thread each, no nanny), as on a cluster. One worker is killed mid-run:
its batches are re-run on the other; the client is killed mid-run: the same command
resumes without re-proving what landed. The result audits VALID and equals the local
pool's root and totals."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import ROOT, ZKMARGIN
from tests.support.exchange import Book, plain_book
from tests.support.tamper import audit_json

pytestmark = [pytest.mark.circuit, pytest.mark.node, pytest.mark.slow]

def _dask(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "dask"), *args]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    logs: Path

    def stop(self) -> None:
        for p in [*self.workers, self.scheduler]:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)


def _start(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as fh:
        return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT,
                                start_new_session=True)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    scheduler = _start(_dask("scheduler", "--host", "127.0.0.1", "--port", str(port),
                             "--no-dashboard"), logs / "scheduler.log")
    workers = [_start(_dask("worker", address, "--nthreads", "1", "--no-nanny",
                            "--no-dashboard", "--name", f"w{n}", "--host", "127.0.0.1"),
                      logs / f"worker{n}.log") for n in range(2)]
    c = Cluster(address, scheduler, workers, logs)
    try:
        deadline = time.monotonic() + 120
        pattern = re.compile(r"Registered to|Starting established connection")
        while not all(pattern.search((logs / f"worker{n}.log").read_text()) for n in range(2)):
            if time.monotonic() > deadline or any(p.poll() is not None for p in
                                                  (scheduler, *workers)):
                raise AssertionError("the Dask cluster did not start: " + "\n".join(
                    f.read_text()[-1500:] for f in logs.iterdir()))
            time.sleep(0.2)
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    """A book without options proved at K = 1: the cluster runs, not the margin model,
    are under test (``plain_book`` of tests/support/exchange.py)."""
    return plain_book(tmp_path_factory.mktemp("plain"))


def prove_cmd(book: Book, out: Path, *extra: str) -> list[str]:
    return [*ZKMARGIN, "prove", str(book.snapshot), "--params", str(book.params),
            "--out", str(out), "--batch-size", "1", "--salt-secret", str(book.secret),
            "--backend", "snarkjs", "--witness", "wasm", "--json", *extra]


def finished(out: Path) -> int:
    return len(list((out / "batches").glob("*/batch.json")))


def wait_until(cond: object, what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_dask_cluster_proves_survives_a_lost_worker_and_a_lost_client(
        book: Book, cluster: Cluster, tmp_path: Path) -> None:
    out = tmp_path / "art"
    # 1. the client is killed mid-run: what landed is kept
    client = subprocess.Popen(prove_cmd(book, out, "--scheduler", cluster.address),
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              start_new_session=True)
    wait_until(lambda: finished(out) >= 2 or client.poll() is not None, "two batches")
    assert client.poll() is None, client.communicate()[1][-2000:]
    os.killpg(client.pid, signal.SIGKILL)
    client.wait(timeout=60)
    kept = {p: p.stat().st_mtime_ns for p in (out / "batches").glob("*/proof.json")
            if (p.parent / "batch.json").exists()}
    assert len(kept) >= 2

    # 2. the same command resumes; a worker is killed mid-run, its batches run elsewhere
    client = subprocess.Popen(prove_cmd(book, out, "--scheduler", cluster.address),
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              start_new_session=True)
    wait_until(lambda: finished(out) >= len(kept) + 1 or client.poll() is not None,
               "a batch of the resumed run")
    victim = cluster.workers[0]
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    stdout, stderr = client.communicate(timeout=1800)
    assert client.returncode == 0, stderr.decode()[-3000:]
    summary = json.loads(stdout)
    # workers finish the tasks they hold when the client dies, and those batches land too
    # (nothing finished is lost): the resumed run proves at most what was missing at the kill
    assert summary["batches"] == 10 and summary["proved"] <= 10 - len(kept)
    assert finished(out) == 10
    for path, mtime in kept.items():
        assert path.stat().st_mtime_ns == mtime  # landed batches are never re-proved

    # 3. audited VALID, and the same root and totals as the local process pool
    doc = audit_json(out)
    local = subprocess.run([*ZKMARGIN, "prove", str(book.snapshot), "--params",
                            str(book.params), "--out", str(tmp_path / "local"),
                            "--batch-size", "1", "--salt-secret", str(book.secret),
                            "--json"], cwd=ROOT, capture_output=True, text=True,
                           timeout=1800, check=False)
    assert local.returncode == 0, local.stderr
    local_doc = audit_json(tmp_path / "local")
    totals = ("accounts", "deficient", "equity_total", "requirement_total",
              "shortfall_total", "assets")
    assert doc["root"] == local_doc["root"] == json.loads(local.stdout)["root"]
    assert {k: doc[k] for k in totals} == {k: local_doc[k] for k in totals}
    assert doc["accounts"] == 10


def test_unreachable_scheduler_is_a_clear_error(book: Book, tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.run(prove_cmd(book, tmp_path / "art", "--scheduler",
                                    f"tcp://127.0.0.1:{port}"), cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 1
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr
