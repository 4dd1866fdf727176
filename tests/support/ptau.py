"""Stand-ins for a public phase-1 ceremony: prepared powers-of-tau files whose tau, alpha
and beta come from a random seed that is discarded at once, so nobody (this test
included) knows them. Made by the project's own ptau generator (prover/js/dev_ptau.cjs,
byte-identical to `snarkjs powersoftau prepare phase2`) in seconds instead of minutes."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path

from tests.support.cli import ROOT

SCRIPT = ROOT / "prover" / "js" / "dev_ptau.cjs"


def random_ptau(power: int, out: Path) -> Path:
    """A prepared BN254 ptau of ``power`` at ``out`` with a random, discarded tau."""
    proc = subprocess.run(["node", str(SCRIPT), str(power), str(out), "--seed",
                           secrets.token_hex(32)], capture_output=True, text=True,
                          timeout=900, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"dev_ptau.cjs failed: {proc.stderr[-2000:]}")
    return out
