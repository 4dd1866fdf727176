"""Shared helpers for the circuit tests: two small compiled shapes of circuits/circuits.json
and their shared vectors, witness runs.

* ``batch-test``: the parameters of tests/vectors/margin_cases.json (A=2, P=2, L=3);
* ``batch-options-test``: those of tests/vectors/portfolio_cases.json (tiers, options in
  two portfolio groups over three scenarios, a group perp).

Every helper takes the shape's registry ``name`` (``batch-test`` by default)."""

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

#: The registered test shapes and the vectors whose parameters they fit.
VECTORS = {"batch-test": "margin_cases.json", "batch-options-test": "portfolio_cases.json"}
DEFAULT = "batch-test"
#: The default test shape: the vectors' parameters (A=2, P=2, L=3), K = 4 accounts.
SHAPE = registered_shape(DEFAULT)
BATCH = SHAPE.batch_size


@dataclass(frozen=True)
class Compiled:
    params: RiskParams
    shape: CircuitShape
    circuit: CompiledCircuit
    sym: dict[str, int]
    r1cs: R1CS


@cache
def compiled(name: str = DEFAULT) -> Compiled:
    v = load_vector(VECTORS[name])
    params = loads_params(json.dumps(v["params"]))
    shape = registered_shape(name)
    if CircuitShape.for_params(params, shape.batch_size) != shape:
        raise AssertionError(f"circuits.json {name} {shape} is not the shape of the "
                             f"parameters of {VECTORS[name]}")
    circuit = compile_circuit(shape)
    return Compiled(params, shape, circuit, read_sym(circuit.sym), read_r1cs(circuit.r1cs))


def vector_accounts(name: str = DEFAULT) -> list[BatchAccount]:
    v = load_vector(VECTORS[name])
    return [
        BatchAccount(
            id_hash=1000 + i,
            balances=tuple(parse_fixed(x) for x in a["balances"]),
            qty=tuple(parse_fixed(x) for x in a["qty"]),
            cost=tuple(parse_fixed(x) for x in a["cost"]),
            options=tuple(parse_fixed(x) for x in a.get("options", [])),
        )
        for i, a in enumerate(v["accounts"])
    ]


def witness(inputs: dict[str, Any], name: str = DEFAULT) -> list[int]:
    """The witness for ``inputs``; raises ToolchainError if any constraint assert fails."""
    c = compiled(name)
    with tempfile.TemporaryDirectory() as tmp:
        out = calculate_witness(c.circuit, inputs, Path(tmp) / "w.wtns")
        return read_wtns(out)


def rejected(inputs: dict[str, Any], template: str, name: str = DEFAULT) -> str:
    """Assert a constraint of ``template`` refuses ``inputs``; return the message."""
    try:
        witness(inputs, name)
    except ToolchainError as exc:
        assert "Assert Failed" in exc.stderr, exc.stderr
        assert f"Error in template {template}_" in exc.stderr, exc.stderr[:500]
        return exc.stderr
    raise AssertionError("the circuit accepted a cheating witness")


def _unchecked_binary(name: str) -> Path:
    """The circuit's C++ witness generator compiled with ``-DNDEBUG``: circom's asserts
    (one per constraint and hint check) compile away, so it computes every signal with the
    honest hint code from whatever inputs it is given. Built once, cached beside the
    circuit (``circuit_cpp_unchecked/``)."""
    c = compiled(name)
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


def unchecked_witness(inputs: dict[str, Any], name: str = DEFAULT) -> list[int]:
    """The witness a cheating prover writes for ``inputs``: every signal computed by the
    circuit's own hint code with its asserts compiled away (:func:`_unchecked_binary`), so
    the dependent signals are consistent with the cheat; only the R1CS can refuse it."""
    binary = _unchecked_binary(name)
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.json", Path(tmp) / "w.wtns"
        src.write_text(json.dumps(inputs))
        proc = subprocess.run([str(binary), str(src), str(out)], capture_output=True,
                              text=True, timeout=300, check=False)
        if proc.returncode != 0 or not out.exists():
            raise AssertionError(f"the unchecked generator failed: {proc.stderr[-2000:]}")
        return read_wtns(out)


def violated_signals(w: list[int], name: str = DEFAULT) -> set[str]:
    """The signal names of the first constraint ``w`` violates (empty when none is)."""
    c = compiled(name)
    index = c.r1cs.first_violation(w)
    if index is None:
        return set()
    names = {i: name for name, i in c.sym.items()}
    a, b, cc = c.r1cs.constraints[index]
    return {names.get(wire, f"wire {wire}") for wire, _ in (*a, *b, *cc) if wire}


def assert_cheat_refused_at(honest: dict[str, Any], cheat: dict[str, Any],
                            expected: set[str], name: str = DEFAULT) -> None:
    """A consistent multi-signal cheat: ``cheat`` (honest inputs edited) through the
    unchecked generator changes more than one witness value, and the first constraint it
    violates involves ``expected`` (exact signal names, or prefixes ending in '.'); the
    honest inputs through the same generator violate nothing."""
    honest_w = unchecked_witness(honest, name)
    assert violated_signals(honest_w, name) == set()  # the unchecked generator is honest code
    w = unchecked_witness(cheat, name)
    changed = sum(a != b for a, b in zip(w, honest_w, strict=True))
    assert changed > 1  # a real multi-signal edit, not a single poked value
    names = violated_signals(w, name)
    exact = {e for e in expected if not e.endswith(".")}
    prefixes = expected - exact
    assert exact <= names and all(any(n.startswith(p) for n in names) for p in prefixes), \
        sorted(names)[:12]
