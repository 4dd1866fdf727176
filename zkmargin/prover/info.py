"""Constraint accounting for a circuit shape (``zkmargin circuit info``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from zkmargin.prover.toolchain import compile_circuit
from zkmargin.statement import CircuitShape


@dataclass(frozen=True)
class CircuitInfo:
    assets: int
    perps: int
    brackets: int
    tiers: int
    options: int
    groups: int
    scenarios: int
    batch_size: int
    constraints: int
    wires: int
    per_account: int
    batch_overhead: int
    ptau_power: int
    circuit_id: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def circuit_info(shape: CircuitShape) -> CircuitInfo:
    """Compile ``shape`` and its one-account twin; split constraints per account/batch.

    ``per_account`` includes the account's share of the subtree hashing (K - 1 nodes per
    K accounts, rounded); ``ptau_power`` is the smallest ``n`` with
    ``2^n >= constraints + public signals + 1`` (the Groth16 domain snarkjs needs).
    """
    circuit = compile_circuit(shape)
    total = circuit.constraints
    k = shape.batch_size
    if k > 1:
        one = compile_circuit(shape.with_depth(0))
        per_account = round((total - one.constraints) / (k - 1))
    else:
        two = compile_circuit(shape.with_depth(1))
        per_account = two.constraints - total
    overhead = total - k * per_account
    return CircuitInfo(
        assets=shape.assets,
        perps=shape.perps,
        brackets=shape.brackets,
        tiers=shape.tiers,
        options=shape.options,
        groups=shape.groups,
        scenarios=shape.scenarios,
        batch_size=k,
        constraints=total,
        wires=int(circuit.info["stats"]["wires"]),
        per_account=per_account,
        batch_overhead=overhead,
        ptau_power=circuit.ptau_power,
        circuit_id=str(circuit.info["circuit_id"]),
    )
