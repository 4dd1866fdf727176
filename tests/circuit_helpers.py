"""Shared helpers for the circuit tests: one small compiled shape (``batch-test`` of
circuits/circuits.json), witness runs."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.conftest import load_vector
from zkmargin.fixed import parse_fixed
from zkmargin.params import RiskParams, loads_params
from zkmargin.prover.binfmt import R1CS, read_r1cs, read_sym, read_wtns
from zkmargin.prover.toolchain import (
    CompiledCircuit,
    ToolchainError,
    calculate_witness,
    compile_circuit,
    registered_shape,
)
from zkmargin.prover.witness import BatchAccount
from zkmargin.statement import CircuitShape

#: The registered test shape: the vectors' parameters (A=2, P=2, L=3), K = 4 accounts.
SHAPE = registered_shape("batch-test")
BATCH = SHAPE.batch_size


@dataclass(frozen=True)
class Compiled:
    params: RiskParams
    shape: CircuitShape
    circuit: CompiledCircuit
    sym: dict[str, int]
    r1cs: R1CS


@cache
def compiled() -> Compiled:
    v = load_vector("margin_cases.json")
    params = loads_params(json.dumps(v["params"]))
    if CircuitShape.for_params(params, BATCH) != SHAPE:
        raise AssertionError(f"circuits.json batch-test {SHAPE} is not the shape of the "
                             "test vectors' parameters")
    circuit = compile_circuit(SHAPE)
    return Compiled(params, SHAPE, circuit, read_sym(circuit.sym), read_r1cs(circuit.r1cs))


def vector_accounts() -> list[BatchAccount]:
    v = load_vector("margin_cases.json")
    return [
        BatchAccount(
            id_hash=1000 + i,
            balances=tuple(parse_fixed(x) for x in a["balances"]),
            qty=tuple(parse_fixed(x) for x in a["qty"]),
            cost=tuple(parse_fixed(x) for x in a["cost"]),
        )
        for i, a in enumerate(v["accounts"])
    ]


def witness(inputs: dict[str, Any]) -> list[int]:
    """The witness for ``inputs``; raises ToolchainError if any constraint assert fails."""
    c = compiled()
    with tempfile.TemporaryDirectory() as tmp:
        out = calculate_witness(c.circuit, inputs, Path(tmp) / "w.wtns")
        return read_wtns(out)


def rejected(inputs: dict[str, Any], template: str) -> str:
    """Assert a constraint of ``template`` refuses ``inputs``; return the message."""
    try:
        witness(inputs)
    except ToolchainError as exc:
        assert "Assert Failed" in exc.stderr, exc.stderr
        assert f"Error in template {template}_" in exc.stderr, exc.stderr[:500]
        return exc.stderr
    raise AssertionError("the circuit accepted a cheating witness")
