"""Run the margin core over a whole snapshot, block by block."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from zkmargin.margin import Totals, get_core
from zkmargin.params import RiskParams
from zkmargin.snapshot import DEFAULT_BLOCK, SnapshotReader


def check_snapshot(
    snapshot: str | Path,
    params: RiskParams,
    *,
    core: str = "vectorized",
    fmt: str | None = None,
    block_size: int = DEFAULT_BLOCK,
    progress: Callable[[int], None] | None = None,
) -> Totals:
    """Exact totals of DESIGN.md section 3 for every account of ``snapshot``."""
    impl = get_core(core)
    totals = Totals(asset_symbols=params.asset_symbols)
    for block in SnapshotReader(snapshot, params, fmt=fmt, block_size=block_size):
        totals.add(block, impl.evaluate(params, block))
        if progress:
            progress(len(block))
    return totals
