"""The one small proved exchange that every verifier-side test reads: an options book.

10 accounts under the params of tests/vectors/portfolio_cases.json (USDT, BTC with 3
collateral tiers, ETH; a BTC group perp and an ETH bracket perp; 4 options in the BTC and
ETH portfolio groups over 3 scenarios), their book written by ``zkmargin generate
--params`` (30% margin-deficient; accounts 0, 5 and 9 hold options, 9 a short put beside
its perps), proved by ``zkmargin prove --batch-size 4`` (3 batches, the last one partial:
the circuit ``batch-options-test``, A=3 P=2 L=2 T=3 O=4 G=2 S=3 K=4) with the default
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

from tests.support.cli import ROOT, zk, zk_json

ACCOUNTS = 10
#: The params: those of the options circuit's vectors (registered as batch-options-test).
PARAMS_VECTOR = ROOT / "tests" / "vectors" / "portfolio_cases.json"
SEED = 22
BATCH_SIZE = 4
SECRET = "a7" * 32
#: Accounts holding options (0 and 5 margin-deficient; 9 also holds both perps).
OPTION_HOLDERS = ("acct-000000000", "acct-000000005", "acct-000000009")


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
            data.mkdir(parents=True)
            params = json.loads(PARAMS_VECTOR.read_text())["params"]
            exchange.params.write_text(json.dumps(params, indent=1) + "\n")
            gen = zk("generate", "--params", str(exchange.params), "--accounts",
                     str(ACCOUNTS), "--seed", str(SEED), "--deficient-share", "0.3",
                     "--out", str(data))
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


@dataclass(frozen=True)
class Book:
    """Inputs of a proof run, not proved: a snapshot, its params and a salt secret."""

    snapshot: Path
    params: Path
    secret: Path


#: The plain book's shape: the circuit of batch-test (A=2 P=2 L=3), and of batch-test-one
#: with --batch-size 1.
PLAIN_SHAPE_ARGS = ("--assets", "2", "--perps", "2", "--brackets", "3")


def plain_book(dst: Path) -> Book:
    """A book without options (the shared exchange's size, ``ACCOUNTS`` accounts) in
    ``dst``, for the operator tests that prove a whole book many times at K = 1: they test
    the run (interrupts, resume, progress, a cluster), and the plain circuit is the
    cheapest registered one."""
    gen = zk("generate", "--accounts", str(ACCOUNTS), *PLAIN_SHAPE_ARGS, "--seed", "77",
             "--deficient-share", "0.3", "--out", str(dst))
    if gen.returncode != 0:
        raise AssertionError(gen.stderr)
    (dst / "secret.hex").write_text(SECRET + "\n")
    return Book(dst / "snapshot.csv", dst / "params.json", dst / "secret.hex")


def copy_artifacts(exchange: Exchange, dst: Path, *, private: bool = True) -> Path:
    """A copy of the artifacts to tamper with (``private=False`` leaves private/ out)."""
    ignore = None if private else shutil.ignore_patterns("private")
    shutil.copytree(exchange.art, dst, ignore=ignore)
    return dst
