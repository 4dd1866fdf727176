"""The one small proved exchange that every verifier-side test reads.

10 accounts, A=2 assets, P=2 perps, L=3 brackets, 30% of them margin-deficient, proved by
``zkmargin prove --batch-size 4`` (3 batches, the last one partial) with the default
backend and the INSECURE development setup. It is built once per test session, even
under pytest-xdist: the first worker builds it under a lock in the session's shared
temporary directory, the others wait and reuse it. Tests must not write into it; they
copy it (``copy_artifacts``) before tampering.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.cli import zk, zk_json

ACCOUNTS = 10
SHAPE_ARGS = ("--assets", "2", "--perps", "2", "--brackets", "3")
BATCH_SIZE = 4
SECRET = "a7" * 32


@dataclass(frozen=True)
class Exchange:
    """A proved snapshot: its inputs, the artifacts and the exact check report."""

    snapshot: Path
    params: Path
    secret: Path
    art: Path
    check: dict[str, Any]  # `zkmargin check --json`

    @property
    def manifest(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads((self.art / "manifest.json").read_text())
        return doc


def build(root: Path) -> Exchange:
    """The exchange under ``root`` (made by the first caller, reused by the others)."""
    root.mkdir(parents=True, exist_ok=True)
    data, art = root / "data", root / "art"
    exchange = Exchange(data / "snapshot.csv", data / "params.json", root / "secret.hex", art,
                        {})
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "check.json").exists():
            shutil.rmtree(data, ignore_errors=True)
            shutil.rmtree(art, ignore_errors=True)
            gen = zk("generate", "--accounts", str(ACCOUNTS), *SHAPE_ARGS, "--seed", "77",
                     "--deficient-share", "0.3", "--out", str(data))
            if gen.returncode != 0:
                raise AssertionError(gen.stderr)
            exchange.secret.write_text(SECRET + "\n")
            zk_json("prove", str(exchange.snapshot), "--params", str(exchange.params),
                    "--out", str(art), "--batch-size", str(BATCH_SIZE), "--salt-secret",
                    str(exchange.secret))
            check = zk_json("check", str(exchange.snapshot), "--params", str(exchange.params))
            (root / "check.json").write_text(json.dumps(check))
    check = json.loads((root / "check.json").read_text())
    return Exchange(exchange.snapshot, exchange.params, exchange.secret, art, check)


def copy_artifacts(exchange: Exchange, dst: Path, *, private: bool = True) -> Path:
    """A copy of the artifacts to tamper with (``private=False`` leaves private/ out)."""
    ignore = None if private else shutil.ignore_patterns("private")
    shutil.copytree(exchange.art, dst, ignore=ignore)
    return dst
