"""Types shared by the two margin cores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from zkmargin.params import RiskParams
from zkmargin.statement import Totals

I64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
#: The default of :attr:`AccountBlock.options`: replaced by an (n, 0) array.
_NO_OPTIONS: I64Array = np.zeros((0, 0), dtype=np.int64)


@dataclass(frozen=True)
class AccountBlock:
    """A block of accounts as exact integers (the snapshot reader's output).

    ``balances``: (n, A) amount x 1e8; ``qty``: (n, P) contracts x 1e8; ``cost``: (n, P)
    USD x 1e8; ``options``: (n, O) option sizes, contracts x 1e8 (signed; by default
    (n, 0): no options). Every value satisfies ``|v| < 2^63`` (the reader rejects the
    rest), so int64 holds it; no arithmetic is ever done in int64 on products.
    """

    ids: list[str]
    balances: I64Array
    qty: I64Array
    cost: I64Array
    first_row: int = 2  # file row of ids[0] (CSV header is row 1)
    options: I64Array = field(default_factory=lambda: _NO_OPTIONS)

    def __post_init__(self) -> None:
        n = len(self.ids)
        if self.options is _NO_OPTIONS:
            object.__setattr__(self, "options", np.zeros((n, 0), dtype=np.int64))
        if not (self.balances.ndim == 2 and self.balances.shape[0] == n
                and self.qty.ndim == 2 and self.qty.shape == self.cost.shape
                and self.qty.shape[0] == n
                and self.options.ndim == 2 and self.options.shape[0] == n):
            raise ValueError(f"block arrays do not fit {n} accounts: balances "
                             f"{self.balances.shape}, qty {self.qty.shape}, cost "
                             f"{self.cost.shape}, options {self.options.shape}")
        if not all(a.dtype == np.int64
                   for a in (self.balances, self.qty, self.cost, self.options)):
            raise ValueError("block arrays must be int64")

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class BlockResult:
    """Exact results for one block: per-account flags and the block's totals."""

    deficient: BoolArray  # (n,) E < R
    totals: Totals  # accounts = n, deficient = deficient.sum(), sums over the block


class MarginCore(Protocol):
    """One implementation of the margin model (docs/margin.md)."""

    name: str

    def evaluate(self, params: RiskParams, block: AccountBlock) -> BlockResult:
        """Evaluate every account of ``block`` under ``params``, exactly."""
        ...

    def excess(self, params: RiskParams, block: AccountBlock) -> list[int]:
        """``E - R`` (F) of every account of ``block``, exactly."""
        ...


def get_core(name: str) -> MarginCore:
    """``"reference"`` or ``"vectorized"``."""
    if name == "reference":
        from zkmargin.margin.reference import ReferenceCore

        return ReferenceCore()
    if name == "vectorized":
        from zkmargin.margin.vectorized import VectorizedCore

        return VectorizedCore()
    raise ValueError(f"unknown margin core {name!r}; choose 'reference' or 'vectorized'")
