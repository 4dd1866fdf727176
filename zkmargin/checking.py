"""``zkmargin check``: run the margin core over a whole snapshot, block by block."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zkmargin.margin import AccountBlock, BlockResult, get_core
from zkmargin.params import RiskParams
from zkmargin.snapshot import DEFAULT_BLOCK, SnapshotReader
from zkmargin.statement import Totals


@dataclass
class CheckReport:
    """The snapshot's :class:`Totals` and the ids of its margin-deficient accounts."""

    asset_symbols: tuple[str, ...]
    totals: Totals = field(init=False)
    deficient_ids: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.totals = Totals.zero(len(self.asset_symbols))

    def add(self, block: AccountBlock, result: BlockResult) -> None:
        self.totals = self.totals + result.totals
        self.deficient_ids.extend(block.ids[i] for i in np.flatnonzero(result.deficient))

    def to_json(self) -> dict[str, Any]:
        """``check --json``: the totals' keys and units, then ``deficient_ids``."""
        return {**self.totals.to_json(self.asset_symbols),
                "deficient_ids": list(self.deficient_ids)}

    def render(self, snapshot: str, params: str, max_ids: int = 10) -> str:
        lines = [f"zkmargin check: {snapshot} under {params}", "",
                 *self.totals.render(self.asset_symbols), ""]
        count = self.totals.deficient
        if self.deficient_ids:
            shown = ", ".join(self.deficient_ids[:max_ids])
            more = count - min(max_ids, count)
            lines.append(f"  first deficient accounts: {shown}" + (f" (+{more} more)" if more
                                                                     else ""))
        else:
            lines.append("  no deficient accounts: every account's equity covers its "
                         "requirement")
        lines.append("  (USD figures truncated to cents; --json gives exact integers in "
                     "USD x 1e22)")
        return "\n".join(lines)


def check_snapshot(
    snapshot: str | Path,
    params: RiskParams,
    *,
    core: str = "vectorized",
    fmt: str | None = None,
    block_size: int = DEFAULT_BLOCK,
    progress: Callable[[int], None] | None = None,
    name: str | None = None,
) -> CheckReport:
    """Exact totals of the margin model (docs/margin.md) for every account of
    ``snapshot``."""
    impl = get_core(core)
    report = CheckReport(params.asset_symbols)
    for block in SnapshotReader(snapshot, params, fmt=fmt, block_size=block_size, name=name):
        report.add(block, impl.evaluate(params, block))
        if progress:
            progress(len(block))
    return report
