"""Shared fixtures: every core test runs on both margin cores, every hash test on both
Poseidon implementations (one parametrized fixture: a readable reference and an optimized
implementation); one proved small exchange for every verifier-side test."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.support import exchange as exchange_support
from tests.support.cli import ROOT
from tests.support.exchange import Exchange
from tests.support.node import run_node
from zkmargin.margin import MarginCore, get_core
from zkmargin.poseidon import Poseidon, get_poseidon

VECTORS = ROOT / "tests" / "vectors"

# The suite compiles the C++ witness generator of every circuit it proves with: at -O1 a
# build takes 2.4x less time, for witnesses 1.35x slower (benchmarks/README.md, "C++
# witness"); production keeps circom's -O3. Inherited by the zkmargin subprocesses.
os.environ.setdefault("ZKMARGIN_CPP_CFLAGS", "-std=c++11 -O1 -I.")

__all__ = ["ROOT", "VECTORS", "load_vector", "run_node"]

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


@pytest.fixture(scope="session")
def exchange(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Exchange:
    """The small proved exchange of :mod:`tests.support.exchange`, built once per session
    (shared by the xdist workers through their common temporary root)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if worker_id != "master" else base
    return exchange_support.build(Path(root) / "shared-exchange")


def load_vector(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())
