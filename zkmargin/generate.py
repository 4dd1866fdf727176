"""Deterministic synthetic exchange snapshots (``zkmargin generate``).

A few majors at real-looking prices and collateral weights, stablecoins at full weight,
long-tail tokens at low weights, perps with multi-bracket maintenance tables. Accounts
hold a few assets and perps; a share of them borrow, and a chosen share is made
margin-deficient by moving their USDT balance (weight 1 on both sides, so the move shifts
E linearly); every other account is topped up to be sufficient. The exact core decides
each adjustment, so the requested shares are met exactly on every block.

Optionally (``--options N``; nothing below happens without it, so the default output is
unchanged): options on the first ``--groups`` non-stable assets, one portfolio group per
underlying, valued with Black-76 under ``--scenarios`` scenarios (CME SPAN's 16 by
default) through :mod:`zkmargin.riskarrays`; books that are long, naked short, vertical
spreads, or hedged (covered calls, protective puts) with spot or a group perp
(``--group-perps``). ``--tiers`` gives the non-stable assets 3 collateral tiers.

``--params FILE`` (:func:`generate_for`) writes a book for an existing params file (for
example one of ``zkmargin params risk-arrays``) with the same logic, for whatever the
params hold: balances of every asset (tiers as the params say), perps, and option books
in every group that has options (hedged with the group's perp or its underlying asset,
when the params have them). The accounts' margin is moved with a cash asset: the first
asset whose collateral weight is 10000 bps in every tier.

Rows stream to disk block by block: memory is bounded by the block size.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from zkmargin.atomic import atomic_text
from zkmargin.errors import InputError
from zkmargin.fixed import SCALE, format_fixed, parse_fixed
from zkmargin.margin.model import AccountBlock
from zkmargin.margin.vectorized import VectorizedCore
from zkmargin.params import (
    MAX_OPTIONS,
    MAX_SCENARIOS,
    WEIGHT_ONE,
    Asset,
    Bracket,
    Perp,
    RiskParams,
    Tier,
)

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
    options: int = 0
    groups: int = 2
    scenarios: int = 16
    tiers: bool = False
    group_perps: bool = False

    def validate_book(self) -> None:
        """The options a book for given params uses: accounts and shares."""
        if self.accounts < 1:
            raise ValueError(f"--accounts must be at least 1, got {self.accounts}")
        for name, v in (("borrow", self.borrow_share), ("deficient", self.deficient_share)):
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"--{name}-share must be in 0..1, got {v}")

    def validate(self) -> None:
        self.validate_book()
        if not 1 <= self.assets <= 64:
            raise ValueError(f"--assets must be in 1..64, got {self.assets}")
        if not 0 <= self.perps <= min(self.assets, 64):
            raise ValueError(f"--perps must be in 0..{min(self.assets, 64)}, got {self.perps}")
        if not 1 <= self.brackets <= 10:
            raise ValueError(f"--brackets must be in 1..10, got {self.brackets}")
        if not 0 <= self.options <= MAX_OPTIONS:
            raise ValueError(f"--options must be in 0..{MAX_OPTIONS}, got {self.options}")
        if not 1 <= self.scenarios <= MAX_SCENARIOS:
            raise ValueError(f"--scenarios must be in 1..{MAX_SCENARIOS}, got "
                             f"{self.scenarios}")
        if self.options or self.group_perps:
            underlyings = len(_underlyings(self))
            if not 1 <= self.groups <= underlyings:
                raise ValueError(f"--groups must be in 1..{underlyings} (one per non-stable "
                                 f"asset), got {self.groups}")
            if self.options and self.groups > self.options:
                raise ValueError(f"--groups ({self.groups}) must not exceed --options "
                                 f"({self.options}): every group needs an option")
            if self.group_perps and not self.options and self.perps == 0:
                raise ValueError("--group-perps needs perps (--perps) or options (--options)")

    @property
    def portfolio(self) -> bool:
        return self.options > 0 or self.group_perps


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
    bases = _bases(assets)
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
    params = RiskParams(assets=tuple(assets), perps=tuple(perps))
    if opts.tiers:
        params = RiskParams(tuple(_tiered(a, i) for i, a in enumerate(params.assets)),
                            params.perps)
    if opts.portfolio:
        params = _with_portfolio(params, opts)
    return params


def _bases(assets: tuple[Asset, ...] | list[Asset]) -> list[int]:
    """The non-stable assets (weight below 1), in order; the first if there is none."""
    return [i for i, a in enumerate(assets) if a.tiers[0].weight_bps < WEIGHT_ONE] or [0]


def _underlyings(opts: GenerateOptions) -> list[int]:
    """The assets that can underlie a portfolio group: the non-stable ones."""
    if opts.assets <= len(_MAJORS):
        return [i for i in range(opts.assets) if _MAJORS[i][2] < WEIGHT_ONE]
    return _bases(make_params(GenerateOptions(accounts=1, assets=opts.assets, perps=0,
                                              seed=opts.seed)).assets)


def _tiered(asset: Asset, index: int) -> Asset:
    """A non-stable asset with 3 collateral tiers: its weight up to 5 typical holdings,
    90% of it up to 50, 70% beyond (rounded down to 100 bps)."""
    w = asset.tiers[0].weight_bps
    if w >= WEIGHT_ONE:
        return asset
    typical = _MAJORS[index][3] if index < len(_MAJORS) else max(1.0, 500.0 / (asset.price
                                                                               / SCALE))
    value = max(1, round(float(typical) * asset.price / SCALE))  # whole USD
    tiers = (Tier(5 * value * SCALE, w), Tier(50 * value * SCALE, w * 9 // 10 // 100 * 100),
             Tier(None, w * 7 // 10 // 100 * 100))
    return Asset(asset.symbol, asset.price, tiers=tiers)


_AS_OF = "2026-01-02"
_EXPIRIES = (("2026-01-09", "09JAN26"), ("2026-01-30", "30JAN26"), ("2026-03-27", "27MAR26"),
             ("2026-06-26", "26JUN26"), ("2026-09-25", "25SEP26"), ("2026-12-25", "25DEC26"))
_MONEYNESS = tuple(Decimal(50 + 5 * k) / 100 for k in range(21))  # 0.50 .. 1.50
# per underlying index: price scan range, vol scan range, at-the-money vol
_RANGES = {1: ("0.15", "0.10", "0.55"), 2: ("0.20", "0.12", "0.65")}
_OTHER_RANGES = ("0.30", "0.20", "0.85")


def _strike(price: int, m: Decimal) -> Decimal:
    """``price x m`` (price in USD x 1e8) to 3 significant digits."""
    raw = Decimal(price) / SCALE * m
    return raw.quantize(Decimal(1).scaleb(raw.adjusted() - 2)).normalize()


def _scenario_spec(n: int) -> object:
    """CME SPAN's 16 scenarios, or ``n`` price moves spread over -1..+1 of the scan range
    with volatility alternately up and down."""
    if n == 16:
        return "span16"
    out = []
    for k in range(n):
        price = "0" if n == 1 else str(Fraction(2 * k - (n - 1), n - 1))
        vol = "1" if k % 2 == 0 else "-1"
        out.append({"name": f"s{k + 1:02d} price{price} vol{vol}", "price_scan": price,
                    "vol_scan": vol})
    return out


def _with_portfolio(params: RiskParams, opts: GenerateOptions) -> RiskParams:
    """``params`` with options and portfolio groups, through a market file."""
    from zkmargin.riskarrays import build_params, loads_market

    rng = np.random.default_rng([opts.seed, 2])
    groups = _bases(params.assets)[: opts.groups]
    underlyings = []
    for i in groups:
        a = params.assets[i]
        psr, vsr, _ = _RANGES.get(i, _OTHER_RANGES)
        underlyings.append({"symbol": a.symbol, "price": format_fixed(a.price),
                            "price_scan_range": psr, "vol_scan_range": vsr})
    per_group = [opts.options // len(groups) + (k < opts.options % len(groups))
                 for k in range(len(groups))]
    options = []
    for i, count in zip(groups, per_group, strict=True):
        a = params.assets[i]
        atm = Decimal(_RANGES.get(i, _OTHER_RANGES)[2])
        combos = [(e, m, t) for e in range(len(_EXPIRIES)) for m in _MONEYNESS
                  for t in ("call", "put")]
        weight = np.array([np.exp(-abs(float(m) - 1) / 0.15) for _, m, _ in combos])
        picked = rng.choice(len(combos), size=count, replace=False, p=weight / weight.sum())
        for c in sorted(int(k) for k in picked):
            e, m, t = combos[c]
            strike = _strike(a.price, m)
            code = format(strike, "f").replace(".", "D")
            vol = (atm + Decimal("0.4") * (m - 1) ** 2).quantize(Decimal("0.0001"))
            options.append({"symbol": f"{a.symbol}-{_EXPIRIES[e][1]}-{code}-{t[0].upper()}",
                            "underlying": a.symbol, "type": t, "strike": format(strike, "f"),
                            "expiry": _EXPIRIES[e][0], "vol": format(vol, "f")})
    doc = params.to_json()
    if opts.group_perps:
        names = {params.assets[i].symbol for i in groups}
        for p in doc["perps"]:
            base = p["symbol"].split("-PERP")[0]
            if base in names:
                del p["brackets"]
                p.update({"group": base, "underlying": base})
    market = {"as_of": _AS_OF, "underlyings": underlyings,
              "scenarios": _scenario_spec(opts.scenarios), "short_min_fraction": "0.001",
              "options": options, "assets": doc["assets"], "perps": doc["perps"]}
    return build_params(loads_market(json.dumps(market), "<generated market>"),
                        "<generated market>")


_TYPICAL = {sym: units for sym, _, _, units, _ in _MAJORS}
#: The typical notional (USD) of a perp whose base is not one of the params' assets.
_TYPICAL_NOTIONAL = 5_000.0


def _typical_units(params: RiskParams) -> npt.NDArray[np.float64]:
    """A typical holding of each asset, in units: the majors' own, else about 500 USD."""
    return np.array([_TYPICAL.get(a.symbol, max(1.0, 500.0 / (a.price / SCALE)))
                     for a in params.assets])


def _asset_named(params: RiskParams, *names: str | None) -> int | None:
    """The index of the first asset called one of ``names``, or None."""
    for name in names:
        if name is not None and name in params.asset_symbols:
            return params.asset_symbols.index(name)
    return None


def _perp_units(params: RiskParams, typical: npt.NDArray[np.float64]
                ) -> npt.NDArray[np.float64]:
    """A typical size of each perp, in contracts: its base asset's typical holding (the
    base is the symbol before ``-PERP``, or the perp's group), else 5000 USD at its mark."""
    out = []
    for p in params.perps:
        base = _asset_named(params, p.symbol.split("-PERP")[0], p.group)
        out.append(float(typical[base]) if base is not None
                   else _TYPICAL_NOTIONAL / (p.mark / SCALE))
    return np.array(out)


def cash_asset(params: RiskParams) -> int | None:
    """The asset generate moves to set an account's margin: the first whose collateral
    weight is 10000 bps in every tier (a holding and a debt then count at full value, so
    a move shifts E linearly). None when there is none."""
    for i, a in enumerate(params.assets):
        if all(t.weight_bps == WEIGHT_ONE for t in a.tiers):
            return i
    return None


def _block(
    params: RiskParams, opts: GenerateOptions, start: int, n: int, rng: np.random.Generator
) -> AccountBlock:
    n_a, n_p = len(params.assets), len(params.perps)
    typical = _typical_units(params)
    held = rng.random((n, n_a)) < np.where(np.arange(n_a) < 3, 0.7, 0.25)
    held[:, _cash(params)] = True  # everybody has a cash line (maybe 0 after adjustment)
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
        has = rng.random((n, n_p)) < 0.3
        lev = rng.lognormal(0.5, 1.0, (n, n_p))
        q = _perp_units(params, typical) * lev * rng.choice([-1.0, 1.0], (n, n_p))
        qty_units = np.where(has, np.round(q * 1e4).astype(np.int64) * 10_000, 0)
        marks = np.array([p.mark for p in params.perps], dtype=np.float64)
        entry = marks * (1 + rng.normal(0, 0.04, (n, n_p)))
        cost_units = np.where(has, np.round(qty_units * entry / SCALE).astype(np.int64), 0)
    ids = [f"acct-{start + k:09d}" for k in range(n)]
    opt_units = np.zeros((n, len(params.options)), dtype=np.int64)
    if params.options:  # drawn after everything else: the rows above stay as without
        _option_books(params, rng, typical, bal_units, qty_units, cost_units, opt_units)
    return AccountBlock(ids=ids, balances=bal_units, qty=qty_units, cost=cost_units,
                        options=opt_units)


def _option_books(
    params: RiskParams,
    rng: np.random.Generator,
    typical: npt.NDArray[np.float64],
    bal: npt.NDArray[np.int64],
    qty: npt.NDArray[np.int64],
    cost: npt.NDArray[np.int64],
    opt: npt.NDArray[np.int64],
) -> None:
    """Option books for about a third of the accounts, in place: long (0), naked short
    (1), a vertical spread (2: long one, short another), or hedged (3: a short call with
    long spot or a long group perp, a long put with long spot), in the groups that have
    options. A group's underlying is the asset named like the group or like its options'
    symbols before the first ``-`` (none: contracts are sized 1, no spot hedge)."""
    n = bal.shape[0]
    groups = [g for g in params.groups if any(o.group == g for o in params.options)]
    members = [[j for j, o in enumerate(params.options) if o.group == g] for g in groups]
    under = [_asset_named(params, g, params.options[legs[0]].symbol.split("-")[0])
             for g, legs in zip(groups, members, strict=True)]
    perp_of = [next((i for i, p in enumerate(params.perps) if p.group == g), -1)
               for g in groups]
    has = np.asarray(rng.random(n)) < 0.35
    book = np.asarray(rng.integers(0, 4, n)).tolist()
    grp = np.asarray(rng.integers(0, len(groups), n)).tolist()
    pick1 = np.asarray(rng.random(n)).tolist()
    pick2 = np.asarray(rng.random(n)).tolist()
    size = np.asarray(rng.lognormal(-0.5, 1.0, n)).tolist()
    for k in np.flatnonzero(has).tolist():
        g = int(grp[k])
        legs = members[g]
        leg1 = legs[int(pick1[k] * len(legs))]
        base = under[g]
        per = float(typical[base]) if base is not None else 1.0
        units = round(float(size[k]) * per * 100) * 1_000_000 or 1_000_000
        kind = int(book[k])
        if kind == 0:
            opt[k, leg1] += units
        elif kind == 1:
            opt[k, leg1] -= units
        elif kind == 2:
            leg2 = legs[int(pick2[k] * len(legs))]
            opt[k, leg1] += units
            opt[k, leg2] -= units  # the same option twice: flat
        else:
            call = params.options[leg1].symbol.endswith("-C")
            opt[k, leg1] += -units if call else units
            i = perp_of[g]
            if call and i >= 0:
                qty[k, i] = units
                cost[k, i] = units * params.perps[i].mark // SCALE
            elif base is not None:
                bal[k, base] += units


def _adjust(
    params: RiskParams, block: AccountBlock, deficient: npt.NDArray[np.bool_]
) -> AccountBlock:
    """Move the cash asset (USDT for generated params, :func:`cash_asset`) so
    ``deficient`` accounts have E < R and the others E >= R."""
    c = _cash(params)
    cash = params.assets[c]
    per_unit = 100 * cash.price * WEIGHT_ONE  # dE per 1e-8 units (weight 1 both sides)
    excess = VectorizedCore().excess(params, block)
    bal = block.balances.copy()
    cushion = SCALE * 10  # 10 units of cash
    for j, e in enumerate(excess):
        if deficient[j]:
            if e >= 0:  # lower E below R by (excess + cushion)
                bal[j, c] -= e // per_unit + 1 + cushion
        elif e < 0:
            bal[j, c] += -(e // per_unit) + cushion
    return AccountBlock(ids=block.ids, balances=bal, qty=block.qty, cost=block.cost,
                        options=block.options)


def _cash(params: RiskParams) -> int:
    c = cash_asset(params)
    if c is None:
        raise ValueError("the params have no asset of weight 10000 bps in every tier")
    return c


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
    snap_path = _write_book(params, out, opts, fmt, progress)
    params_path = out / "params.json"
    with atomic_text(params_path) as fh:
        json.dump(params.to_json(), fh, indent=2)
        fh.write("\n")
    return snap_path, params_path


def check_book_params(params: RiskParams, file: str) -> None:
    """Refuse params :func:`generate_for` cannot make a book for, naming ``file``."""
    if cash_asset(params) is None:
        weights = ", ".join(f"{a.symbol} {'/'.join(str(t.weight_bps) for t in a.tiers)}"
                            for a in params.assets)
        raise InputError(file, "generate needs a cash asset, one whose collateral weight is "
                         f"10000 bps in every tier (a stablecoin such as USDT), to set the "
                         f"accounts' margin; the weights (bps) are: {weights}", path="assets")


def generate_for(
    params: RiskParams,
    out_dir: str | Path,
    opts: GenerateOptions,
    *,
    file: str = "<params>",
    fmt: str = "csv",
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write ``snapshot.<fmt>`` for ``params`` (read from ``file``) into ``out_dir``
    (atomically); only ``accounts``, ``seed`` and the shares of ``opts`` are used."""
    opts.validate_book()
    check_book_params(params, file)
    return _write_book(params, Path(out_dir), opts, fmt, progress)


def _write_book(params: RiskParams, out: Path, opts: GenerateOptions, fmt: str,
                progress: Callable[[int], None] | None) -> Path:
    """``out/snapshot.<fmt>``: ``opts.accounts`` accounts under ``params``."""
    snap_path = out / f"snapshot.{fmt}"
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
    return snap_path


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
        vals = _values(block)
        arrays = [pa.array(block.ids, pa.string())]
        for k in range(len(self.columns)):
            values = np.ascontiguousarray(vals[:, k])
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


def _values(block: AccountBlock) -> npt.NDArray[np.int64]:
    """The block's values in snapshot column order: assets, (qty, cost) per perp, options."""
    n_a, n_p = block.balances.shape[1], block.qty.shape[1]
    end = n_a + 2 * n_p
    vals = np.empty((len(block), end + block.options.shape[1]), dtype=np.int64)
    vals[:, :n_a] = block.balances
    vals[:, n_a:end:2] = block.qty
    vals[:, n_a + 1 : end : 2] = block.cost
    vals[:, end:] = block.options
    return vals


def _write_rows(fh: object, fmt: str, columns: tuple[str, ...], block: AccountBlock) -> None:
    vals = _values(block)
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
