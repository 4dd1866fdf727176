"""Shared fixtures: every core test runs on both margin cores, every hash test on both
Poseidon implementations (STYLE.md: one parametrized fixture, reference + optimized)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from zkmargin.margin import MarginCore, get_core
from zkmargin.poseidon import Poseidon, get_poseidon

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors"

settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")


@pytest.fixture(params=["reference", "vectorized"])
def core(request: pytest.FixtureRequest) -> MarginCore:
    return get_core(request.param)


@pytest.fixture(params=["reference", "fast"])
def hasher(request: pytest.FixtureRequest) -> Poseidon:
    return get_poseidon(request.param)


def load_vector(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())


def run_node(script: str, payload: Any, timeout: float = 300) -> Any:
    """Run a Node helper from tests/js with JSON on stdin; return its JSON stdout."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "circomlibjs").is_dir():
        pytest.fail("node and the pinned npm packages are required: run `make setup`")
    proc = subprocess.run(
        [node, str(ROOT / "tests" / "js" / script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"node {script} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)
