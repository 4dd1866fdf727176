"""Deterministic synthetic exchange snapshots (``zkmargin generate``).

A few majors at real-looking prices and collateral weights, stablecoins at full weight,
long-tail tokens at low weights, perps with multi-bracket maintenance tables. Accounts
hold a few assets and perps; a share of them borrow, and a chosen share is made
margin-deficient by moving their USDT balance (weight 1 on both sides, so the move shifts
E linearly); every other account is topped up to be sufficient. The exact core decides
each adjustment, so the requested shares are met exactly on every block.

Rows stream to disk block by block: memory is bounded by the block size.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from zkmargin.atomic import atomic_text
from zkmargin.fixed import SCALE, format_fixed, parse_fixed
from zkmargin.margin.model import AccountBlock
from zkmargin.margin.vectorized import VectorizedCore
from zkmargin.params import WEIGHT_ONE, Asset, Bracket, Perp, RiskParams

# symbol, USD price, weight (bps), typical holding in units, perp bracket scale (USD)
_MAJORS: tuple[tuple[str, str, int, float, int], ...] = (
    ("USDT", "1", 10000, 5000.0, 0),
    ("BTC", "67250.5", 9500, 0.25, 50_000),
    ("ETH", "3412.75", 9000, 3.0, 25_000),
    ("USDC", "0.9998", 10000, 2000.0, 0),
    ("SOL", "148.32", 8500, 20.0, 10_000),
    ("BNB", "592.1", 8500, 4.0, 10_000),
    ("XRP", "0.5231", 8000, 3000.0, 5_000),
    ("DOGE", "0.1374", 7000, 10000.0, 5_000),
)
_RATES = (4000, 5000, 10000, 25000, 50000, 100000, 125000, 150000, 250000, 500000)
_BOUND_STEPS = (1, 5, 50, 200, 1000, 5000, 20000, 100000, 500000)
BLOCK = 16384


@dataclass(frozen=True)
class GenerateOptions:
    accounts: int
    assets: int = 8
    perps: int = 4
    brackets: int = 4
    seed: int = 1
    borrow_share: float = 0.15
    deficient_share: float = 0.01

    def validate(self) -> None:
        if self.accounts < 1:
            raise ValueError(f"--accounts must be at least 1, got {self.accounts}")
        if not 1 <= self.assets <= 64:
            raise ValueError(f"--assets must be in 1..64, got {self.assets}")
        if not 0 <= self.perps <= min(self.assets, 64):
            raise ValueError(f"--perps must be in 0..{min(self.assets, 64)}, got {self.perps}")
        if not 1 <= self.brackets <= 10:
            raise ValueError(f"--brackets must be in 1..10, got {self.brackets}")
        for name, v in (("borrow", self.borrow_share), ("deficient", self.deficient_share)):
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"--{name}-share must be in 0..1, got {v}")


def make_params(opts: GenerateOptions) -> RiskParams:
    rng = np.random.default_rng([opts.seed, 0])
    assets: list[Asset] = []
    scales: list[int] = []
    for i in range(opts.assets):
        if i < len(_MAJORS):
            sym, price, weight, _, scale = _MAJORS[i]
        else:
            sym = f"TKN{i - len(_MAJORS) + 1:02d}"
            price = format_fixed(int(10 ** rng.uniform(-4, 1.5) * SCALE) or 1)
            weight = int(rng.integers(0, 11)) * 500
            scale = 2_000
        assets.append(Asset(symbol=sym, price=parse_fixed(price), weight_bps=weight))
        scales.append(scale or 5_000)
    perps: list[Perp] = []
    # perps on the non-stable assets first, then wrap around
    bases = [i for i, a in enumerate(assets) if a.weight_bps < WEIGHT_ONE] or [0]
    for j in range(opts.perps):
        base = bases[j % len(bases)]
        sym = assets[base].symbol + ("-PERP" if j < len(bases) else f"-PERP{j // len(bases)}")
        mark = max(1, int(assets[base].price * (1 + rng.normal(0, 0.0005))))
        brackets = []
        for k in range(opts.brackets):
            last = k == opts.brackets - 1
            bound = None if last else scales[base] * _BOUND_STEPS[k] * SCALE
            brackets.append(Bracket(max_notional=bound, mmr_ppm=_RATES[k]))
        perps.append(Perp(symbol=sym, mark=mark, brackets=tuple(brackets)))
    return RiskParams(assets=tuple(assets), perps=tuple(perps))


def _typical_units(params: RiskParams) -> npt.NDArray[np.float64]:
    out = []
    for i, a in enumerate(params.assets):
        if i < len(_MAJORS):
            out.append(_MAJORS[i][3])
        else:
            out.append(max(1.0, 500.0 / (a.price / SCALE)))
    return np.array(out)


def _block(
    params: RiskParams, opts: GenerateOptions, start: int, n: int, rng: np.random.Generator
) -> AccountBlock:
    n_a, n_p = len(params.assets), len(params.perps)
    typical = _typical_units(params)
    held = rng.random((n, n_a)) < np.where(np.arange(n_a) < 3, 0.7, 0.25)
    held[:, 0] = True  # everybody has a USDT line (possibly zero after adjustment)
    amount = rng.lognormal(0.0, 1.5, (n, n_a)) * typical
    borrower = rng.random(n) < opts.borrow_share
    borrow_asset = rng.integers(0, n_a, n)
    sign = np.ones((n, n_a))
    sign[np.arange(n)[borrower], borrow_asset[borrower]] = -1.0
    bal = np.where(held | (sign < 0), amount * sign * 0.6 ** (sign < 0), 0.0)
    bal_units = np.round(bal * 1e6).astype(np.int64) * 100  # 6 decimals of amounts
    qty_units = np.zeros((n, n_p), dtype=np.int64)
    cost_units = np.zeros((n, n_p), dtype=np.int64)
    if n_p:
        base_of = [params.asset_symbols.index(p.symbol.split("-PERP")[0]) for p in params.perps]
        has = rng.random((n, n_p)) < 0.3
        lev = rng.lognormal(0.5, 1.0, (n, n_p))
        q = typical[base_of] * lev * rng.choice([-1.0, 1.0], (n, n_p))
        qty_units = np.where(has, np.round(q * 1e4).astype(np.int64) * 10_000, 0)
        marks = np.array([p.mark for p in params.perps], dtype=np.float64)
        entry = marks * (1 + rng.normal(0, 0.04, (n, n_p)))
        cost_units = np.where(has, np.round(qty_units * entry / SCALE).astype(np.int64), 0)
    ids = [f"acct-{start + k:09d}" for k in range(n)]
    return AccountBlock(ids=ids, balances=bal_units, qty=qty_units, cost=cost_units)


def _adjust(
    params: RiskParams, block: AccountBlock, deficient: npt.NDArray[np.bool_]
) -> AccountBlock:
    """Move USDT (asset 0) so ``deficient`` accounts have E < R and the others E >= R."""
    usdt = params.assets[0]
    per_unit = 100 * usdt.price * WEIGHT_ONE  # dE per 1e-8 USDT (weight 1 both sides)
    assert usdt.weight_bps == WEIGHT_ONE
    excess = VectorizedCore().excess(params, block)
    bal = block.balances.copy()
    cushion = SCALE * 10  # 10 USDT
    for j, e in enumerate(excess):
        if deficient[j]:
            if e >= 0:  # lower E below R by (excess + cushion)
                bal[j, 0] -= e // per_unit + 1 + cushion
        elif e < 0:
            bal[j, 0] += -(e // per_unit) + cushion
    return AccountBlock(ids=block.ids, balances=bal, qty=block.qty, cost=block.cost)


def generate(
    out_dir: str | Path,
    opts: GenerateOptions,
    *,
    fmt: str = "csv",
    progress: Callable[[int], None] | None = None,
) -> tuple[Path, Path]:
    """Write ``snapshot.<fmt>`` and ``params.json`` into ``out_dir`` (atomically)."""
    opts.validate()
    params = make_params(opts)
    out = Path(out_dir)
    snap_path = out / f"snapshot.{fmt}"
    params_path = out / "params.json"
    columns = params.snapshot_columns()
    with atomic_text(snap_path) as fh:
        if fmt == "csv":
            fh.write(",".join(("account_id", *columns)) + "\n")
        parquet = _ParquetRows(fh.buffer, columns) if fmt == "parquet" else None
        try:
            done = 0
            k = 0
            while done < opts.accounts:
                n = min(BLOCK, opts.accounts - done)
                rng = np.random.default_rng([opts.seed, 1, k])
                block = _block(params, opts, done, n, rng)
                want = np.zeros(n, dtype=bool)
                target = (round((done + n) * opts.deficient_share)
                          - round(done * opts.deficient_share))
                want[rng.choice(n, size=target, replace=False)] = True
                block = _adjust(params, block, want)
                if parquet is not None:
                    parquet.write(block)
                else:
                    _write_rows(fh, fmt, columns, block)
                done += n
                k += 1
                if progress:
                    progress(n)
        finally:
            if parquet is not None:  # the footer; on an error the file is discarded
                parquet.close()
    with atomic_text(params_path) as fh:
        json.dump(params.to_json(), fh, indent=2)
        fh.write("\n")
    return snap_path, params_path


class _ParquetRows:
    """``snapshot.parquet``: ``account_id`` utf8 and every value column ``decimal128(19, 8)``
    (the exact integer x 1e8; |value| < 2^63 has at most 19 digits), one row group per
    generated block of accounts, so the file streams back by row group."""

    def __init__(self, sink: BinaryIO, columns: tuple[str, ...]) -> None:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        self.pa = pa
        self.columns = columns
        self.type = pa.decimal128(19, 8)
        schema = pa.schema([("account_id", pa.string())] + [(c, self.type) for c in columns])
        self.writer = pq.ParquetWriter(sink, schema)

    def write(self, block: AccountBlock) -> None:
        pa = self.pa
        n_a = block.balances.shape[1]
        arrays = [pa.array(block.ids, pa.string())]
        for k in range(len(self.columns)):
            if k < n_a:
                values = block.balances[:, k]
            else:
                values = (block.qty if (k - n_a) % 2 == 0 else block.cost)[:, (k - n_a) // 2]
            # decimal128 is a little-endian two's complement: low 64 bits, then the sign
            limbs = np.empty((len(values), 2), dtype=np.int64)
            limbs[:, 0] = values
            limbs[:, 1] = values >> 63
            arrays.append(pa.Array.from_buffers(self.type, len(values),
                                                [None, pa.py_buffer(limbs.tobytes())]))
        self.writer.write_table(pa.Table.from_arrays(arrays, names=["account_id",
                                                                    *self.columns]))

    def close(self) -> None:
        self.writer.close()


def _write_rows(fh: object, fmt: str, columns: tuple[str, ...], block: AccountBlock) -> None:
    n_a = block.balances.shape[1]
    vals = np.empty((len(block), n_a + 2 * block.qty.shape[1]), dtype=np.int64)
    vals[:, :n_a] = block.balances
    vals[:, n_a::2] = block.qty
    vals[:, n_a + 1 :: 2] = block.cost
    lines = []
    for account_id, row in zip(block.ids, vals.tolist(), strict=True):
        cells = [format_fixed(v) if v else "" for v in row]
        if fmt == "csv":
            lines.append(account_id + "," + ",".join(cells) + "\n")
        else:
            obj = {"account_id": account_id}
            obj.update({c: v for c, v in zip(columns, cells, strict=True) if v})
            lines.append(json.dumps(obj) + "\n")
    fh.write("".join(lines))  # type: ignore[attr-defined]
