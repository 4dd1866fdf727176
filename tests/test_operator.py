"""Long runs an operator trusts: no orphan after kill or kill -9, Ctrl-C keeps what is
done and says how to resume, progress as log lines without a terminal, one run per
directory, mismatches refused before any compiling, private files private.

The runs prove a small book without options (``plain_book``: the shared exchange's 10
accounts, A=2 P=2 L=3) with K = 1 (10 batches) on the snarkjs backend and one worker,
slow enough to be interrupted mid-run; the private files are the shared exchange's."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from tests.support.cli import ROOT, ZKMARGIN, zk
from tests.support.exchange import Book, Exchange, plain_book

pytestmark = [pytest.mark.circuit, pytest.mark.node, pytest.mark.slow]


def prove_cmd(book: Book, out: Path, *extra: str) -> list[str]:
    return [*ZKMARGIN, "prove", str(book.snapshot), "--params", str(book.params),
            "--out", str(out), "--batch-size", "1", "--salt-secret", str(book.secret),
            "--workers", "1", "--backend", "snarkjs", "--witness", "wasm", *extra]


def _as_from_a_terminal() -> None:
    """SIGINT as a shell starts a foreground command: default. A test runner's worker may
    ignore SIGINT, and an ignored SIGINT is inherited (Python then never raises
    KeyboardInterrupt), so the Ctrl-C test would not be one."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(cmd: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True,
                            preexec_fn=_as_from_a_terminal)


def wait_for_batches(out: Path, count: int, proc: subprocess.Popen[str],
                     timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while len(list((out / "batches").glob("*/batch.json"))) < count:
        if proc.poll() is not None:
            raise AssertionError(f"prove ended early: {proc.stderr.read() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            raise AssertionError("no batch finished in time")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    return plain_book(tmp_path_factory.mktemp("plain"))


def descendants(pid: int) -> list[psutil.Process]:
    children: list[psutil.Process] = psutil.Process(pid).children(recursive=True)
    return children


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "kill"])
def test_killed_run_leaves_no_orphan_and_resumes(book: Book, tmp_path: Path,
                                                 sig: signal.Signals) -> None:
    out = tmp_path / "art"
    proc = start(prove_cmd(book, out))
    wait_for_batches(out, 1, proc)
    children = descendants(proc.pid)
    assert children  # the worker process (and its node tools) run
    os.kill(proc.pid, sig)
    proc.wait(timeout=60)
    _gone, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, [p.cmdline() for p in alive]
    # the same command resumes: nothing finished is proved again, work files are gone
    before = {p: p.stat().st_mtime_ns for p in (out / "batches").glob("*/proof.json")}
    done = subprocess.run(prove_cmd(book, out, "--json"), cwd=ROOT, capture_output=True,
                          text=True, timeout=1800, check=False)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["batches"] == 10 and summary["proved"] == 10 - len(before)
    for path, mtime in before.items():
        assert path.stat().st_mtime_ns == mtime  # kept, not re-proved
    assert not (out / "private" / "work").exists()


def test_ctrl_c_keeps_finished_batches_and_exits_130(book: Book,
                                                     tmp_path: Path) -> None:
    out = tmp_path / "art"
    proc = start(prove_cmd(book, out))
    wait_for_batches(out, 1, proc)  # 9 of 10 batches still to go: time for the signal
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    kept = len(list((out / "batches").glob("*/batch.json")))
    assert f"interrupted: {kept} of 10 batches kept; rerun the same command to resume" \
        in stderr
    assert 1 <= kept < 10 and "Traceback" not in stderr
    assert not (out / "private" / "work").exists()


def test_progress_is_logged_without_a_terminal(book: Book, tmp_path: Path) -> None:
    env = {**os.environ, "ZKMARGIN_LOG_INTERVAL": "0"}
    proc = subprocess.run(prove_cmd(book, tmp_path / "art"), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1800, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("proved ")]
    assert len(lines) == 10, proc.stderr
    assert lines[-1].startswith("proved 10/10 batches, ") and "accounts/s, ETA" in lines[-1]


def test_a_second_run_into_the_same_directory_is_refused_at_once(book: Book,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "art"
    first = start(prove_cmd(book, out))
    try:
        wait_for_batches(out, 1, first)
        t0 = time.monotonic()
        second = subprocess.run(prove_cmd(book, out), cwd=ROOT, capture_output=True,
                                text=True, timeout=300, check=False)
        assert second.returncode == 1
        assert "another `zkmargin prove` is running in this directory" in second.stderr
        assert time.monotonic() - t0 < 30
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=60)


def test_other_batch_size_is_refused_before_compiling(book: Book,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "art"
    first = subprocess.run(prove_cmd(book, out), cwd=ROOT, capture_output=True,
                           text=True, timeout=1800, check=False)
    assert first.returncode == 0, first.stderr
    cmd = prove_cmd(book, out)
    cmd[cmd.index("--batch-size") + 1] = "2"
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 1
    assert "holds a run with a different batch_size (1, this run 2)" in proc.stderr
    assert "checking" not in proc.stderr and "batch circuit" not in proc.stderr


def test_batch_size_zero_is_an_error(book: Book, tmp_path: Path) -> None:
    proc = zk("prove", str(book.snapshot), "--params", str(book.params), "--out",
              str(tmp_path / "art"), "--batch-size", "0")
    assert proc.returncode == 2
    assert "must be a power of two (1, 2, 4, ...), got 0" in proc.stderr
    assert not (tmp_path / "art").exists()


def test_private_files_are_private_and_public_ones_readable(exchange: Exchange) -> None:
    art = exchange.art
    for rel in ("private/salt_secret", "private/inclusion.sqlite"):
        assert stat.S_IMODE((art / rel).stat().st_mode) == 0o600, rel
    assert stat.S_IMODE((art / "private").stat().st_mode) & 0o077 == 0
    umask = os.umask(0)
    os.umask(umask)
    for rel in ("manifest.json", "params.json", "tree/levels.json",
                "batches/000000/proof.json", "batches/000000/batch.json"):
        assert stat.S_IMODE((art / rel).stat().st_mode) == 0o666 & ~umask, rel
