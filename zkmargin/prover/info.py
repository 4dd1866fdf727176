"""Constraint accounting for a circuit shape (``zkmargin circuit info``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from zkmargin.circuit_inputs import CircuitShape
from zkmargin.prover.toolchain import compile_circuit


@dataclass(frozen=True)
class CircuitInfo:
    assets: int
    perps: int
    brackets: int
    batch_size: int
    constraints: int
    wires: int
    per_account: int
    batch_overhead: int
    ptau_power: int
    circuit_id: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _constraints(shape: CircuitShape) -> tuple[int, int, str]:
    c = compile_circuit(shape)
    stats = c.info["stats"]
    total = int(stats["non-linear constraints"]) + int(stats.get("linear constraints", 0))
    return total, int(stats["wires"]), str(c.info["circuit_id"])


def circuit_info(shape: CircuitShape) -> CircuitInfo:
    """Compile ``shape`` and its one-account twin; split constraints per account/batch.

    ``per_account`` includes the account's share of the subtree hashing (K - 1 nodes per
    K accounts, rounded); ``ptau_power`` is the smallest ``n`` with
    ``2^n >= constraints + public signals + 1`` (the Groth16 domain snarkjs needs).
    """
    total, wires, cid = _constraints(shape)
    k = shape.batch_size
    if k > 1:
        one, _, _ = _constraints(CircuitShape(shape.assets, shape.perps, shape.brackets, 0))
        per_account = round((total - one) / (k - 1))
    else:
        half = CircuitShape(shape.assets, shape.perps, shape.brackets, 1)
        two, _, _ = _constraints(half)
        per_account = two - total
    overhead = total - k * per_account
    domain = total + 1 + 1  # one public output
    return CircuitInfo(
        assets=shape.assets,
        perps=shape.perps,
        brackets=shape.brackets,
        batch_size=k,
        constraints=total,
        wires=wires,
        per_account=per_account,
        batch_overhead=overhead,
        ptau_power=max(domain - 1, 1).bit_length(),
        circuit_id=cid,
    )
