"""Shared helpers for the circuit tests: one small compiled shape (``batch-test`` of
circuits/circuits.json), witness runs."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
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


def _unchecked_binary() -> Path:
    """The circuit's C++ witness generator compiled with ``-DNDEBUG``: circom's asserts
    (one per constraint and hint check) compile away, so it computes every signal with the
    honest hint code from whatever inputs it is given. Built once, cached beside the
    circuit (``circuit_cpp_unchecked/``)."""
    c = compiled()
    target = c.circuit.directory / "circuit_cpp_unchecked"
    binary = target / "circuit"
    with (c.circuit.directory / ".unchecked.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.exists():
            work = Path(tempfile.mkdtemp(dir=c.circuit.directory))
            for src in c.circuit.cpp_dir.iterdir():
                if src.is_file() and src.suffix in (".cpp", ".hpp", ".asm", ".dat", "") \
                        and src.name != "circuit":
                    shutil.copy2(src, work / src.name)
            env = {k: v for k, v in os.environ.items()
                   if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
            proc = subprocess.run(["make", "-j2", "CFLAGS=-std=c++11 -O1 -I. -DNDEBUG"],
                                  cwd=work, capture_output=True, text=True, timeout=3600,
                                  env=env, check=False)
            if proc.returncode != 0:
                raise AssertionError(f"building the unchecked generator failed: "
                                     f"{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
            shutil.rmtree(target, ignore_errors=True)
            work.rename(target)
    return binary


def unchecked_witness(inputs: dict[str, Any]) -> list[int]:
    """The witness a cheating prover writes for ``inputs``: every signal computed by the
    circuit's own hint code with its asserts compiled away (:func:`_unchecked_binary`), so
    the dependent signals are consistent with the cheat; only the R1CS can refuse it."""
    binary = _unchecked_binary()
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.json", Path(tmp) / "w.wtns"
        src.write_text(json.dumps(inputs))
        proc = subprocess.run([str(binary), str(src), str(out)], capture_output=True,
                              text=True, timeout=300, check=False)
        if proc.returncode != 0 or not out.exists():
            raise AssertionError(f"the unchecked generator failed: {proc.stderr[-2000:]}")
        return read_wtns(out)
def violated_signals(w: list[int]) -> set[str]:
    """The signal names of the first constraint ``w`` violates (empty when none is)."""
    c = compiled()
    index = c.r1cs.first_violation(w)
    if index is None:
        return set()
    names = {i: name for name, i in c.sym.items()}
    a, b, cc = c.r1cs.constraints[index]
    return {names.get(wire, f"wire {wire}") for wire, _ in (*a, *b, *cc) if wire}
