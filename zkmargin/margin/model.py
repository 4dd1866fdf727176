"""Types shared by the two margin cores, and the accumulation of snapshot totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from zkmargin.params import RiskParams

#: Fine unit of equity, requirement and shortfall: USD x 10^22.
FINE_DECIMALS = 22

I64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class AccountBlock:
    """A block of accounts as exact integers (the snapshot reader's output).

    ``balances``: (n, A) amount x 1e8; ``qty``: (n, P) contracts x 1e8; ``cost``: (n, P)
    USD x 1e8. Every value satisfies ``|v| < 2^63`` (the reader rejects the rest), so
    int64 holds it; no arithmetic is ever done in int64 on products.
    """

    ids: list[str]
    balances: I64Array
    qty: I64Array
    cost: I64Array
    first_row: int = 2  # file row of ids[0] (CSV header is row 1)

    def __post_init__(self) -> None:
        n = len(self.ids)
        assert self.balances.ndim == 2 and self.balances.shape[0] == n
        assert self.qty.shape == self.cost.shape and self.qty.shape[0] == n
        assert self.balances.dtype == np.int64 and self.qty.dtype == np.int64
        assert self.cost.dtype == np.int64

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class BlockResult:
    """Exact results for one block: per-account flags and block totals (Python ints)."""

    deficient: BoolArray  # (n,) E < R
    equity_total: int  # F
    requirement_total: int  # F
    shortfall_total: int  # F, sum of max(0, R - E)
    liabilities: tuple[int, ...]  # per asset, sum of max(x, 0), amount x 1e8
    debts: tuple[int, ...]  # per asset, sum of max(-x, 0), amount x 1e8


class MarginCore(Protocol):
    """One implementation of DESIGN.md section 3."""

    name: str

    def evaluate(self, params: RiskParams, block: AccountBlock) -> BlockResult:
        """Evaluate every account of ``block`` under ``params``, exactly."""
        ...

    def excess(self, params: RiskParams, block: AccountBlock) -> list[int]:
        """``E - R`` (F) of every account of ``block``, exactly."""
        ...


@dataclass
class Totals:
    """Snapshot totals accumulated over blocks (the ``check --json`` report)."""

    asset_symbols: tuple[str, ...]
    accounts: int = 0
    deficient: int = 0
    equity_total: int = 0
    requirement_total: int = 0
    shortfall_total: int = 0
    liabilities: list[int] = field(default_factory=list)
    debts: list[int] = field(default_factory=list)
    deficient_ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.liabilities:
            self.liabilities = [0] * len(self.asset_symbols)
            self.debts = [0] * len(self.asset_symbols)

    def add(self, block: AccountBlock, result: BlockResult) -> None:
        self.accounts += len(block)
        idx = np.flatnonzero(result.deficient)
        self.deficient += int(idx.size)
        self.deficient_ids.extend(block.ids[i] for i in idx.tolist())
        self.equity_total += result.equity_total
        self.requirement_total += result.requirement_total
        self.shortfall_total += result.shortfall_total
        for a in range(len(self.asset_symbols)):
            self.liabilities[a] += result.liabilities[a]
            self.debts[a] += result.debts[a]

    def to_json(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "deficient": self.deficient,
            "equity_total": self.equity_total,
            "requirement_total": self.requirement_total,
            "shortfall_total": self.shortfall_total,
            "assets": {
                s: {"liabilities": self.liabilities[a], "debts": self.debts[a]}
                for a, s in enumerate(self.asset_symbols)
            },
            "deficient_ids": list(self.deficient_ids),
        }


def get_core(name: str) -> MarginCore:
    """``"reference"`` or ``"vectorized"``."""
    if name == "reference":
        from zkmargin.margin.reference import ReferenceCore

        return ReferenceCore()
    if name == "vectorized":
        from zkmargin.margin.vectorized import VectorizedCore

        return VectorizedCore()
    raise ValueError(f"unknown margin core {name!r}; choose 'reference' or 'vectorized'")
