"""The public statement: what an exchange publishes for one snapshot, in one place.

The prover writes it, and the auditor, the account holders' tools and the contract export
read it; all of them import these types instead of keeping their own copy:

* :class:`CircuitShape` -- the batch circuit's shape (A assets, P perps, L brackets,
  K = 2^depth accounts per proof, T collateral tiers, O options in G portfolio groups
  over S scenarios);
* :func:`circuit_params` and :func:`params_hash` -- the risk parameters in circuit form
  (tables padded to the shape) and their Poseidon hash, the one the circuit computes
  (:meth:`CircuitParams.hashed_values` is the layout, docs/artifacts.md section 5);
* :class:`Totals` -- the facts a batch proof states and the snapshot totals (one type,
  with its JSON form, its sum and its rendering);
* :func:`batch_commitment` and :class:`BatchRecord` -- a batch's one public signal and
  ``batch.json``;
* :func:`tree_depth`, :func:`top_tree`, :func:`levels_json`, :func:`read_levels` -- the
  tree over the batch roots and ``tree/levels.json``;
* :class:`Manifest` -- ``manifest.json``, one writer and one validating reader.

Every reader checks every value it takes from a file (type, range, field-element bound)
and raises :class:`StatementError` naming the file, the field and the value. A total is
an exact integer whose magnitude is checked against :data:`TOTAL_BOUND` (far below r/2),
so a number and its alias modulo r can never both pass.

This module imports no NumPy and nothing of the prover: the verifying side depends only on
it, :mod:`zkmargin.params`, the commitments and the Merkle tree.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from zkmargin.commitments import fold_hash, padding_leaf
from zkmargin.errors import InputError
from zkmargin.field import SNARK_FIELD
from zkmargin.fixed import I63
from zkmargin.merkle import MAX_DEPTH, MerkleTree, depth_for, zero_hashes
from zkmargin.params import RiskParams, notional_threshold
from zkmargin.report import amount, group_digits, usd

#: Brackets per perp in the circuit: at least 2 (shorter tables are padded, see
#: :func:`circuit_params`).
MIN_BRACKETS = 2
#: Largest batch: 2^MAX_BATCH_DEPTH accounts per proof.
MAX_BATCH_DEPTH = 24
#: |total| < 2^224 for every total in a file. Per account the circuit's values stay below
#: 2^170, and a tree holds at most 2^48 accounts, so honest totals stay below 2^218; the
#: bound is far below r/2 (~2^253), so a total and its alias modulo r never both pass.
TOTAL_BOUND = 1 << 224
if not (1 << 218) < TOTAL_BOUND < SNARK_FIELD // 2:
    raise AssertionError("TOTAL_BOUND must hold every honest total and stay below r/2")


class StatementError(InputError):
    """A published file that does not hold a valid statement; names file, field and value."""


# --------------------------------------------------------------------------------------
# Shape and parameters


@dataclass(frozen=True)
class CircuitShape:
    """The batch circuit ``Batch(A, P, L, T, O, G, S, DEPTH)``: A assets with T collateral
    tiers, P perps with L brackets, O options in G portfolio groups over S scenarios, and
    K = 2^depth accounts per proof. ``CircuitShape(A, P, L, depth)`` is a book without
    tiers, options or portfolio groups."""

    assets: int
    perps: int
    brackets: int
    depth: int
    tiers: int = 1
    options: int = 0
    groups: int = 0
    scenarios: int = 0

    #: The JSON keys of a shape in manifest.json and commitment.json (with batch_size).
    JSON_KEYS: ClassVar[tuple[str, ...]] = ("assets", "perps", "brackets", "tiers",
                                            "options", "groups", "scenarios")

    def __post_init__(self) -> None:
        if not (self.assets >= 1 and self.perps >= 0 and self.brackets >= MIN_BRACKETS
                and self.tiers >= 1 and self.options >= 0 and self.groups >= 0
                and self.scenarios >= 0 and 0 <= self.depth <= MAX_BATCH_DEPTH):
            raise ValueError(f"not a circuit shape: {self.describe()}")
        if self.options and not self.groups:
            raise ValueError(f"options need a portfolio group: {self.describe()}")
        if self.groups and not self.scenarios:
            raise ValueError(f"portfolio groups need scenarios: {self.describe()}")

    @property
    def batch_size(self) -> int:
        return 1 << self.depth

    @property
    def slots(self) -> int:
        """Values in an account leaf: A balances, P (size, cost) pairs, O option sizes."""
        return self.assets + 2 * self.perps + self.options

    def template_params(self) -> tuple[int, ...]:
        """``(A, P, L, T, O, G, S, DEPTH)``, the parameters of ``Batch``."""
        return (self.assets, self.perps, self.brackets, self.tiers, self.options,
                self.groups, self.scenarios, self.depth)

    @classmethod
    def from_template_params(cls, values: Sequence[int]) -> CircuitShape:
        a, p, l_, t, o, g, s, d = values
        return cls(a, p, l_, d, tiers=t, options=o, groups=g, scenarios=s)

    def with_depth(self, depth: int) -> CircuitShape:
        return replace(self, depth=depth)

    def describe(self) -> str:
        """``A=8 P=4 L=4`` (and ``T= O= G= S=`` when not the plain book) ``K=16``."""
        text = f"A={self.assets} P={self.perps} L={self.brackets}"
        if (self.tiers, self.options, self.groups, self.scenarios) != (1, 0, 0, 0):
            text += (f" T={self.tiers} O={self.options} G={self.groups} "
                     f"S={self.scenarios}")
        return f"{text} K={self.batch_size}"

    def to_json(self) -> dict[str, int]:
        """The shape's keys of ``circuit`` in manifest.json and commitment.json."""
        return {"assets": self.assets, "perps": self.perps, "brackets": self.brackets,
                "tiers": self.tiers, "options": self.options, "groups": self.groups,
                "scenarios": self.scenarios, "batch_size": self.batch_size}

    @classmethod
    def from_json(cls, c: Mapping[str, Any], *, file: str, path: str = "circuit"
                  ) -> CircuitShape:
        """The shape from the ``circuit`` object (keys :data:`JSON_KEYS` and
        ``batch_size``, already present), every value checked."""
        k = _count(c["batch_size"], file, f"{path}.batch_size")
        if k < 1 or k & (k - 1) or k > 1 << MAX_BATCH_DEPTH:
            raise StatementError(file, f"must be a power of two up to 2^{MAX_BATCH_DEPTH}",
                                 path=f"{path}.batch_size", value=k)
        n = {key: _count(c[key], file, f"{path}.{key}") for key in cls.JSON_KEYS}
        try:
            return cls(n["assets"], n["perps"], n["brackets"], k.bit_length() - 1,
                       tiers=n["tiers"], options=n["options"], groups=n["groups"],
                       scenarios=n["scenarios"])
        except ValueError as exc:
            raise StatementError(file, str(exc), path=path) from None

    @classmethod
    def for_params(cls, params: RiskParams, batch_size: int) -> CircuitShape:
        if batch_size < 1 or batch_size & (batch_size - 1):
            raise ValueError(f"batch size must be a power of two >= 1, got {batch_size}")
        return cls(
            assets=len(params.assets),
            perps=len(params.perps),
            brackets=max(MIN_BRACKETS, params.max_brackets),
            depth=batch_size.bit_length() - 1,
            tiers=params.max_tiers,
            options=len(params.options),
            groups=len(params.groups),
            scenarios=len(params.scenarios),
        )


def symbol_field(symbol: str) -> int:
    """A symbol as a field element: the big-endian integer of its ASCII bytes. Symbols are
    1 to 31 characters of ``[A-Z0-9_-]`` (no zero byte), so the encoding is injective and
    below 2^248."""
    raw = symbol.encode("ascii")
    if not 1 <= len(raw) <= 31 or 0 in raw:
        raise ValueError(f"symbol {symbol!r} must have 1 to 31 non-zero ASCII bytes")
    return int.from_bytes(raw, "big")


def name_field(name: str) -> int:
    """A scenario name (any text up to 256 characters) as a field element: its UTF-8
    SHA-256, first 31 bytes, big-endian (below 2^248)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:31], "big")


Matrix = tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class CircuitParams:
    """Risk parameters in circuit form: every perp has exactly ``L`` brackets, every asset
    ``T`` collateral tiers; group membership as 0/1 rows over the G groups.

    A group perp is a bracket perp with every rate 0 (its MM is 0) whose ``perp_group``
    row names its group; a bracket perp has a zero ``perp_group`` row and zero risk."""

    asset_sym: tuple[int, ...]  # symbol_field of each asset symbol
    perp_sym: tuple[int, ...]
    option_sym: tuple[int, ...]
    group_sym: tuple[int, ...]  # symbol_field of each group name (RiskParams.groups order)
    scenario_name: tuple[int, ...]  # name_field of each scenario name
    price: tuple[int, ...]
    tier_weight: Matrix  # (A, T) bps, never increasing
    tier_bound: Matrix  # (A, T-1) USD x 1e8, strictly increasing
    mark: tuple[int, ...]
    bound: Matrix  # (P, L-1)
    rate: Matrix  # (P, L)
    perp_group: Matrix  # (P, G) 0/1, at most one 1
    perp_risk: Matrix  # (P, S) USD x 1e8, signed
    option_mark: tuple[int, ...]
    option_short_min: tuple[int, ...]
    option_group: Matrix  # (O, G) 0/1, exactly one 1
    option_risk: Matrix  # (O, S)

    def threshold(self, i: int, k: int) -> int:
        """The least ``|q|`` in bracket ``k + 1`` of perp ``i`` (uncapped: the circuit's
        ``thrCeil`` hint; its ``thr`` is this capped at 2^63)."""
        return notional_threshold(self.bound[i][k], self.mark[i])

    def bracket(self, i: int, abs_q: int) -> int:
        """Index of the bracket containing N = |q| * M (B_(k-1)*1e8 <= N < B_k*1e8): the
        number of thresholds ``<= |q|``."""
        return _count_reached(abs_q, [self.threshold(i, k) for k in range(len(self.bound[i]))])

    def tier_threshold(self, a: int, k: int) -> int:
        """The least balance in tier ``k + 1`` of asset ``a`` (uncapped: the circuit's
        ``tierCeil`` hint): ``ceil(T_k * 1e8 / P)``."""
        return notional_threshold(self.tier_bound[a][k], self.price[a])

    def tier(self, a: int, pos: int) -> int:
        """Index of the tier containing the value ``V = pos * P`` of a holding ``pos >= 0``
        (T_(k-1)*1e8 <= V < T_k*1e8); 0 for no holding."""
        return _count_reached(pos, [self.tier_threshold(a, k)
                                    for k in range(len(self.tier_bound[a]))])

    @property
    def members(self) -> Matrix:
        """``(P + O, G)``: the group rows of the perps, then of the options."""
        return self.perp_group + self.option_group

    @property
    def risk(self) -> Matrix:
        """``(P + O, S)``: the risk rows of the perps, then of the options."""
        return self.perp_risk + self.option_risk

    def hashed_values(self, shape: CircuitShape) -> list[int]:
        """What :func:`params_hash` folds, in order: the shape ``[A, P, L, T, O, G, S]``,
        the symbols (assets, perps, options, groups), the scenario names, prices, tier
        weights and bounds (asset-major), marks, bracket bounds and rates (perp-major),
        perp group rows and risk rows, option marks, short minimums, group rows and risk
        rows."""
        values = [shape.assets, shape.perps, shape.brackets, shape.tiers, shape.options,
                  shape.groups, shape.scenarios, *self.asset_sym, *self.perp_sym,
                  *self.option_sym, *self.group_sym, *self.scenario_name, *self.price]
        for matrix in (self.tier_weight, self.tier_bound):
            values += [v for row in matrix for v in row]
        values += self.mark
        for matrix in (self.bound, self.rate, self.perp_group):
            values += [v for row in matrix for v in row]
        values += [to_field(v) for row in self.perp_risk for v in row]
        values += [*self.option_mark, *self.option_short_min]
        values += [v for row in self.option_group for v in row]
        values += [to_field(v) for row in self.option_risk for v in row]
        return values


def _count_reached(v: int, thresholds: Sequence[int]) -> int:
    """How many of the (non-decreasing) ``thresholds`` are ``<= v``."""
    k = 0
    while k < len(thresholds) and v >= thresholds[k]:
        k += 1
    return k


def _pad_table(what: str, bounds: list[int], values: list[int], size: int) -> None:
    """Pad a (bounds, values) table to ``size`` entries in place by splitting its unbounded
    last entry at ``B_last + 1, B_last + 2, ...`` with the same value: equal values give
    identical lines, so the function is unchanged."""
    if len(values) > size:
        raise ValueError(f"{what} has {len(values)} entries; the circuit has {size}")
    last = bounds[-1] if bounds else 0
    while len(values) < size:
        last += 1
        bounds.append(last)
        values.append(values[-1])
    if last >= I63:
        raise ValueError(f"{what}: padding its table needs bounds up to {last}, which is "
                         "not below 2^63")


def circuit_params(params: RiskParams, shape: CircuitShape) -> CircuitParams:
    """``params`` in the circuit's form for ``shape``.

    Shorter bracket and tier tables are padded by splitting the unbounded last entry
    (:func:`_pad_table`): the requirement and the collateral are exactly the spec's. A group
    perp gets one bracket of rate 0, padded the same way (MM = 0).
    """
    counts = (len(params.assets), len(params.perps), len(params.options),
              len(params.groups), len(params.scenarios))
    if counts != (shape.assets, shape.perps, shape.options, shape.groups, shape.scenarios):
        raise ValueError(
            f"the parameters have A={counts[0]} P={counts[1]} O={counts[2]} G={counts[3]} "
            f"S={counts[4]}; the circuit is {shape.describe()}")
    bounds, rates = [], []
    for p in params.perps:
        b = [br.max_notional for br in p.brackets[:-1] if br.max_notional is not None]
        r = [br.mmr_ppm for br in p.brackets] or [0]
        _pad_table(f"perp {p.symbol}", b, r, shape.brackets)
        bounds.append(tuple(b))
        rates.append(tuple(r))
    tier_bounds, tier_weights = [], []
    for a in params.assets:
        b = [t.max_value for t in a.tiers[:-1] if t.max_value is not None]
        w = [t.weight_bps for t in a.tiers]
        _pad_table(f"asset {a.symbol}", b, w, shape.tiers)
        tier_bounds.append(tuple(b))
        tier_weights.append(tuple(w))
    groups = params.groups

    def row(group: str | None) -> tuple[int, ...]:
        return tuple(int(g == group) for g in groups)

    return CircuitParams(
        asset_sym=tuple(symbol_field(a.symbol) for a in params.assets),
        perp_sym=tuple(symbol_field(p.symbol) for p in params.perps),
        option_sym=tuple(symbol_field(o.symbol) for o in params.options),
        group_sym=tuple(symbol_field(g) for g in groups),
        scenario_name=tuple(name_field(n) for n in params.scenarios),
        price=tuple(a.price for a in params.assets),
        tier_weight=tuple(tier_weights),
        tier_bound=tuple(tier_bounds),
        mark=tuple(p.mark for p in params.perps),
        bound=tuple(bounds),
        rate=tuple(rates),
        perp_group=tuple(row(p.group) for p in params.perps),
        perp_risk=tuple(p.risk if p.grouped else (0,) * shape.scenarios
                        for p in params.perps),
        option_mark=tuple(o.mark for o in params.options),
        option_short_min=tuple(o.short_min for o in params.options),
        option_group=tuple(row(o.group) for o in params.options),
        option_risk=tuple(o.risk for o in params.options),
    )


def params_hash(shape: CircuitShape, cp: CircuitParams) -> int:
    """The fold hash of :meth:`CircuitParams.hashed_values`, as the circuit's
    ``RiskParams`` computes it: the shape, every symbol and every number, in file order."""
    return fold_hash(cp.hashed_values(shape))


def hash_of_params(params: RiskParams, shape: CircuitShape) -> int:
    """``params_hash(shape, circuit_params(params, shape))``: what a verifier recomputes
    from a published params.json."""
    return params_hash(shape, circuit_params(params, shape))


def to_field(v: int) -> int:
    """A signed integer as a field element (negative = r - |v|); |v| must be < r / 2."""
    if not -SNARK_FIELD // 2 < v < SNARK_FIELD // 2:
        raise ValueError(f"{v} does not fit a signed field element (|v| < r/2)")
    return v % SNARK_FIELD


# --------------------------------------------------------------------------------------
# Totals


def _total(label: str, unit: str) -> Any:
    return field(metadata={"label": label, "unit": unit})


def _per_asset(label: str) -> Any:
    return field(metadata={"label": label, "unit": "amount"})


@dataclass(frozen=True)
class Totals:
    """What a batch proof states about its accounts, and what a snapshot sums to.

    Exact integers in the units of ``zkmargin check --json``: counts; ``*_total`` in
    F = USD x 1e22; per asset, amounts x 1e8. The field order is the order in the batch
    commitment (scalars, then each per-asset tuple), in the JSON and in the report. A new
    total is one new field here (and the circuit that proves it).
    """

    accounts: int = _total("accounts", "count")
    deficient: int = _total("deficient accounts", "count")
    equity_total: int = _total("total equity (USD)", "usd")
    requirement_total: int = _total("total requirement (USD)", "usd")
    shortfall_total: int = _total("total shortfall (USD)", "usd")
    liabilities: tuple[int, ...] = _per_asset("liabilities (user balances)")
    debts: tuple[int, ...] = _per_asset("debts (user borrowing)")

    #: Totals that a batch counts, never negative.
    NON_NEGATIVE: ClassVar[tuple[str, ...]] = ("accounts", "deficient", "shortfall_total",
                                               "liabilities", "debts")

    @classmethod
    def scalar_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.metadata["unit"] != "amount")

    @classmethod
    def per_asset_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.metadata["unit"] == "amount")

    @classmethod
    def zero(cls, n_assets: int) -> Totals:
        values: dict[str, Any] = dict.fromkeys(cls.scalar_names(), 0)
        values.update(dict.fromkeys(cls.per_asset_names(), (0,) * n_assets))
        return cls(**values)

    def __add__(self, other: Totals) -> Totals:
        values: dict[str, Any] = {}
        for name in self.scalar_names():
            values[name] = getattr(self, name) + getattr(other, name)
        for name in self.per_asset_names():
            values[name] = tuple(a + b for a, b in
                                 zip(getattr(self, name), getattr(other, name), strict=True))
        return type(self)(**values)

    @classmethod
    def sum(cls, parts: Iterable[Totals], n_assets: int) -> Totals:
        acc = cls.zero(n_assets)
        for part in parts:
            acc = acc + part
        return acc

    def fields(self) -> list[int]:
        """The totals as field elements, in commitment order."""
        out = [to_field(getattr(self, name)) for name in self.scalar_names()]
        for name in self.per_asset_names():
            out += [to_field(v) for v in getattr(self, name)]
        return out

    def to_json(self, symbols: Sequence[str]) -> dict[str, Any]:
        """The key layout of ``zkmargin check --json``: scalars, then ``assets``."""
        doc: dict[str, Any] = {name: getattr(self, name) for name in self.scalar_names()}
        doc["assets"] = {s: {name: getattr(self, name)[a] for name in self.per_asset_names()}
                         for a, s in enumerate(symbols)}
        return doc

    @classmethod
    def from_json(cls, data: Any, symbols: Sequence[str] | None, *, file: str,
                  path: str = "totals") -> Totals:
        """Read :meth:`to_json`'s layout, every value checked. ``symbols=None`` takes the
        asset symbols in the file's order (see :meth:`symbols_of`)."""
        obj = _object(data, file, path, (*cls.scalar_names(), "assets"))
        assets = _object(obj["assets"], file, f"{path}.assets", None)
        if symbols is None:
            symbols = cls.symbols_of(data, file=file, path=path)
        if list(assets) != list(symbols):
            raise StatementError(file, f"the assets must be exactly {', '.join(symbols)} in "
                                 "this order", path=f"{path}.assets", value=list(assets))
        values: dict[str, Any] = {name: _int_total(obj[name], file, f"{path}.{name}", name)
                                  for name in cls.scalar_names()}
        per: dict[str, list[int]] = {name: [] for name in cls.per_asset_names()}
        for s in symbols:
            entry = _object(assets[s], file, f"{path}.assets.{s}", cls.per_asset_names())
            for name in per:
                per[name].append(_int_total(entry[name], file, f"{path}.assets.{s}.{name}",
                                            name))
        values.update({name: tuple(v) for name, v in per.items()})
        totals = cls(**values)
        if totals.deficient > totals.accounts:
            raise StatementError(file, f"more deficient accounts than accounts "
                                 f"({totals.accounts})", path=f"{path}.deficient",
                                 value=totals.deficient)
        return totals

    @staticmethod
    def symbols_of(data: Any, *, file: str, path: str = "totals") -> tuple[str, ...]:
        """The asset symbols of a totals object, in the file's order."""
        assets = _object(_object(data, file, path, None).get("assets"), file,
                         f"{path}.assets", None)
        return tuple(assets)

    def render(self, symbols: Sequence[str]) -> list[str]:
        """The report lines shared by ``check`` and ``audit`` (USD truncated to cents)."""
        lines = []
        for f in fields(self):
            unit = f.metadata["unit"]
            if unit == "count":
                shown = group_digits(str(getattr(self, f.name)))
            elif unit == "usd":
                shown = usd(getattr(self, f.name))
            else:
                continue
            lines.append(f"  {f.metadata['label']:<28}{shown:>26}")
        per = [f for f in fields(self) if f.metadata["unit"] == "amount"]
        lines += ["", f"  {'asset':<10}" + "".join(f"{f.metadata['label']:>30}" for f in per)]
        for a, sym in enumerate(symbols):
            lines.append(f"  {sym:<10}" + "".join(f"{amount(getattr(self, f.name)[a]):>30}"
                                                  for f in per))
        return lines


# --------------------------------------------------------------------------------------
# Batch commitment and batch.json


def batch_commitment(index: int, root: int, params_hash: int, totals: Totals) -> int:
    """The batch's one public signal, as the circuit computes it:
    ``FoldHash([index, root, params_hash, *totals.fields()])``."""
    return fold_hash([index, root, params_hash, *totals.fields()])


@dataclass(frozen=True)
class BatchRecord:
    """``batches/NNNNNN/batch.json``: what the batch's commitment is the hash of."""

    index: int
    root: int
    params_hash: int
    totals: Totals
    commitment: int

    def to_json(self, symbols: Sequence[str]) -> dict[str, Any]:
        return {
            "index": self.index,
            "root": str(self.root),
            "params_hash": str(self.params_hash),
            "totals": self.totals.to_json(symbols),
            "commitment": str(self.commitment),
        }

    @classmethod
    def from_json(cls, data: Any, symbols: Sequence[str], *, file: str) -> BatchRecord:
        obj = _object(data, file, "$", ("index", "root", "params_hash", "totals",
                                        "commitment"))
        return cls(
            index=_count(obj["index"], file, "index"),
            root=_scalar(obj["root"], file, "root"),
            params_hash=_scalar(obj["params_hash"], file, "params_hash"),
            totals=Totals.from_json(obj["totals"], symbols, file=file),
            commitment=_scalar(obj["commitment"], file, "commitment"),
        )

    def recomputed_commitment(self) -> int:
        return batch_commitment(self.index, self.root, self.params_hash, self.totals)


# --------------------------------------------------------------------------------------
# The tree over the batch roots


def tree_depth(shape: CircuitShape, batches: int) -> int:
    """Depth of the whole account tree: the batch subtree plus the top over ``batches``."""
    return shape.depth + depth_for(batches)


def top_tree(shape: CircuitShape, batch_roots: Sequence[int]) -> MerkleTree:
    """The tree whose leaves are the batch roots; missing batches are all-padding
    subtrees (root ``zeros[depth]`` of the padding leaf). Its root is the published root."""
    pad = zero_hashes(shape.depth, padding_leaf(shape.assets, shape.perps,
                                                shape.options))[shape.depth]
    return MerkleTree.build(batch_roots, depth=depth_for(len(batch_roots)), pad_leaf=pad)


def levels_json(shape: CircuitShape, tree: MerkleTree) -> dict[str, Any]:
    """``tree/levels.json``: every level of the top tree, its padding nodes and root."""
    return {
        "batch_depth": shape.depth,
        "depth": shape.depth + tree.depth,
        "levels": [[str(v) for v in level] for level in tree.levels],
        "zeros": [str(v) for v in tree.zeros],
        "root": str(tree.root),
    }


def read_levels(data: Any, *, file: str) -> MerkleTree:
    """The top tree stored in ``tree/levels.json`` (values checked, not yet recomputed)."""
    obj = _object(data, file, "$", ("batch_depth", "depth", "levels", "zeros", "root"))
    zeros = [_scalar(v, file, f"zeros[{i}]") for i, v in enumerate(_list(obj["zeros"], file,
                                                                         "zeros"))]
    levels = [[_scalar(v, file, f"levels[{i}][{j}]")
               for j, v in enumerate(_list(level, file, f"levels[{i}]"))]
              for i, level in enumerate(_list(obj["levels"], file, "levels"))]
    if not zeros or len(levels) != len(zeros):
        raise StatementError(file, f"{len(levels)} levels but {len(zeros)} padding nodes",
                             path="levels")
    return MerkleTree(depth=len(zeros) - 1, pad_leaf=zeros[0], zeros=zeros, levels=levels)


# --------------------------------------------------------------------------------------
# commitment.json: the root published at snapshot time


COMMITMENT_FORMAT = "zkmargin-commitment/1"


@dataclass(frozen=True)
class Commitment:
    """``commitment.json``: what ``zkmargin commit`` publishes before any proof exists:
    the root of every account's leaf, for the shape, parameters and batch size the proofs
    will use. The proofs must then reproduce exactly this root (``prove`` and ``audit``
    both check it)."""

    shape: CircuitShape
    params_hash: int
    root: int
    tree_depth: int
    batches: int
    accounts: int

    def to_json(self) -> dict[str, Any]:
        return {"format": COMMITMENT_FORMAT,
                "circuit": self.shape.to_json(),
                "params_hash": str(self.params_hash), "root": str(self.root),
                "tree_depth": self.tree_depth, "batches": self.batches,
                "accounts": self.accounts}

    @classmethod
    def from_json(cls, data: Any, *, file: str = "commitment.json") -> Commitment:
        obj = _object(data, file, "$", ("format", "circuit", "params_hash", "root",
                                        "tree_depth", "batches", "accounts"))
        if obj["format"] != COMMITMENT_FORMAT:
            raise StatementError(file, f"expected {COMMITMENT_FORMAT!r}", path="format",
                                 value=_brief(obj["format"]))
        c = _object(obj["circuit"], file, "circuit", (*CircuitShape.JSON_KEYS, "batch_size"))
        return cls(shape=CircuitShape.from_json(c, file=file),
                   params_hash=_scalar(obj["params_hash"], file, "params_hash"),
                   root=_scalar(obj["root"], file, "root"),
                   tree_depth=_count(obj["tree_depth"], file, "tree_depth"),
                   batches=_count(obj["batches"], file, "batches", minimum=1),
                   accounts=_count(obj["accounts"], file, "accounts", minimum=1))


# --------------------------------------------------------------------------------------
# manifest.json


FORMAT = "zkmargin-artifacts/2"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTRIBUTION_HASH = re.compile(r"[0-9a-f]{128}")
SETUP_KINDS = ("development", "single-party", "ceremony")


@dataclass(frozen=True)
class SetupClaim:
    """How the exchange says its key was made (``manifest.json`` ``setup``). A claim: the
    audit reads the published zkey and recomputes what matters (the key, the phase-1
    identity, the contribution chain); nothing here is believed."""

    kind: str  # development | single-party | ceremony
    ptau_name: str
    ptau_sha256: str
    ptau_power: int
    zkey: str  # path of the proving key inside the artifacts
    contributions: tuple[tuple[str, str], ...]  # (name, hash) in chain order

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind,
                "ptau": {"name": self.ptau_name, "sha256": self.ptau_sha256,
                         "power": self.ptau_power},
                "zkey": self.zkey,
                "contributions": [{"name": n, "hash": h} for n, h in self.contributions]}

    @classmethod
    def from_json(cls, data: Any, *, file: str) -> SetupClaim:
        obj = _object(data, file, "setup", ("kind", "ptau", "zkey", "contributions"))
        if obj["kind"] not in SETUP_KINDS:
            raise StatementError(file, f"must be one of {', '.join(SETUP_KINDS)}",
                                 path="setup.kind", value=_brief(obj["kind"]))
        ptau = _object(obj["ptau"], file, "setup.ptau", ("name", "sha256", "power"))
        if not isinstance(ptau["name"], str):
            raise StatementError(file, "must be a file name", path="setup.ptau.name",
                                 value=_brief(ptau["name"]))
        if not isinstance(ptau["sha256"], str) or not _SHA256.fullmatch(ptau["sha256"]):
            raise StatementError(file, "must be a sha256 in lowercase hex",
                                 path="setup.ptau.sha256", value=_brief(ptau["sha256"]))
        contributions = []
        for i, c in enumerate(_list(obj["contributions"], file, "setup.contributions")):
            entry = _object(c, file, f"setup.contributions[{i}]", ("name", "hash"))
            if not isinstance(entry["name"], str) or not isinstance(entry["hash"], str) \
                    or not _CONTRIBUTION_HASH.fullmatch(entry["hash"]):
                raise StatementError(file, "a name and a 128-digit lowercase hex hash",
                                     path=f"setup.contributions[{i}]", value=_brief(entry))
            contributions.append((entry["name"], entry["hash"]))
        return cls(kind=obj["kind"], ptau_name=ptau["name"], ptau_sha256=ptau["sha256"],
                   ptau_power=_count(ptau["power"], file, "setup.ptau.power"),
                   zkey=_relative_path(obj["zkey"], file, "setup.zkey"),
                   contributions=tuple(contributions))


@dataclass(frozen=True)
class Manifest:
    """``manifest.json``: the statement of one snapshot and the sha256 of every public file.

    The exchange writes it; nothing in it is believed by a verifier until a check confirms
    it (the audit recomputes the params hash, the batch totals, the root, the counts).
    """

    tool: Mapping[str, str]  # versions: zkmargin, circom, snarkjs
    circuit_id: str  # sha256 of the batch circuit's r1cs (the pinned compiler's output)
    shape: CircuitShape
    constraints: int
    insecure_setup: bool  # the exchange's claim; verifiers decide by recomputation
    setup: SetupClaim
    verification_key: str  # path of the key inside the artifacts
    params_hash: int
    root: int
    tree_depth: int
    batches: int
    accounts: int
    symbols: tuple[str, ...]  # the asset symbols of the totals
    totals: Totals
    files: Mapping[str, str]  # path inside the artifacts -> sha256 (hex)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "tool": dict(self.tool),
            "circuit": {"id": self.circuit_id, **self.shape.to_json(),
                        "constraints": self.constraints},
            "insecure_setup": self.insecure_setup,
            "setup": self.setup.to_json(),
            "verification_key": self.verification_key,
            "params_hash": str(self.params_hash),
            "root": str(self.root),
            "tree_depth": self.tree_depth,
            "batches": self.batches,
            "accounts": self.accounts,
            "totals": self.totals.to_json(self.symbols),
            "files": dict(self.files),
        }

    @classmethod
    def from_json(cls, data: Any, *, file: str = "manifest.json") -> Manifest:
        """Validate every field; raises :class:`StatementError` naming the first bad one."""
        keys = ("format", "tool", "circuit", "insecure_setup", "setup", "verification_key",
                "params_hash", "root", "tree_depth", "batches", "accounts", "totals", "files")
        obj = _object(data, file, "$", keys)
        if obj["format"] != FORMAT:
            raise StatementError(file, f"expected {FORMAT!r}", path="format",
                                 value=obj["format"])
        tool = _object(obj["tool"], file, "tool", None)
        for name, version in tool.items():
            if not isinstance(version, str):
                raise StatementError(file, "must be a version string", path=f"tool.{name}",
                                     value=version)
        c = _object(obj["circuit"], file, "circuit",
                    ("id", *CircuitShape.JSON_KEYS, "batch_size", "constraints"))
        if not isinstance(c["id"], str) or not _SHA256.fullmatch(c["id"]):
            raise StatementError(file, "must be the r1cs sha256 in lowercase hex",
                                 path="circuit.id", value=_brief(c["id"]))
        shape = CircuitShape.from_json(c, file=file)
        if not isinstance(obj["insecure_setup"], bool):
            raise StatementError(file, "must be true or false", path="insecure_setup",
                                 value=obj["insecure_setup"])
        depth = _count(obj["tree_depth"], file, "tree_depth")
        if depth > MAX_DEPTH:
            raise StatementError(file, f"must be at most {MAX_DEPTH}", path="tree_depth",
                                 value=depth)
        files = _object(obj["files"], file, "files", None)
        for rel, digest in files.items():
            _relative_path(rel, file, f"files[{rel!r}]")
            if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
                raise StatementError(file, "must be a sha256 in lowercase hex",
                                     path=f"files[{rel!r}]", value=digest)
        symbols = Totals.symbols_of(obj["totals"], file=file)
        return cls(
            tool=dict(tool),
            circuit_id=c["id"],
            shape=shape,
            constraints=_count(c["constraints"], file, "circuit.constraints"),
            insecure_setup=obj["insecure_setup"],
            setup=SetupClaim.from_json(obj["setup"], file=file),
            verification_key=_relative_path(obj["verification_key"], file,
                                            "verification_key"),
            params_hash=_scalar(obj["params_hash"], file, "params_hash"),
            root=_scalar(obj["root"], file, "root"),
            tree_depth=depth,
            batches=_count(obj["batches"], file, "batches", minimum=1),
            accounts=_count(obj["accounts"], file, "accounts", minimum=1),
            symbols=symbols,
            totals=Totals.from_json(obj["totals"], symbols, file=file),
            files=dict(files),
        )

    @classmethod
    def read(cls, path: Path, *, file: str | None = None) -> Manifest:
        """Read and validate ``path``; errors name it as ``file`` (default: the path)."""
        return cls.from_json(read_json(path, file=file), file=file or str(path))

    def write(self, path: Path) -> None:
        from zkmargin.atomic import write_text_atomic

        write_text_atomic(path, json.dumps(self.to_json(), indent=1) + "\n")


# --------------------------------------------------------------------------------------
# Checked reading of JSON values


def read_json(path: Path, *, file: str | None = None) -> Any:
    """Parse a JSON file; a missing, unreadable or invalid file is a StatementError."""
    name = file or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StatementError(name, "file is missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StatementError(name, f"cannot be read: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise StatementError(name, f"not valid JSON: {exc.msg} at line {exc.lineno}") from None


def _object(data: Any, file: str, path: str, keys: Sequence[str] | None) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise StatementError(file, "must be a JSON object", path=path, value=_brief(data))
    if keys is not None:
        missing = [k for k in keys if k not in data]
        if missing:
            raise StatementError(file, f"missing key {missing[0]!r}", path=path)
        extra = [k for k in data if k not in keys]
        if extra:
            raise StatementError(file, f"unknown key {extra[0]!r}; allowed: {', '.join(keys)}",
                                 path=path)
    return data


def _list(data: Any, file: str, path: str) -> list[Any]:
    if not isinstance(data, list):
        raise StatementError(file, "must be a JSON list", path=path, value=_brief(data))
    return data


def _count(value: Any, file: str, path: str, minimum: int = 0) -> int:
    """A JSON integer >= ``minimum`` and below 2^63 (a count, an index, a size)."""
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value < I63:
        raise StatementError(file, f"must be a JSON integer in {minimum}..2^63-1", path=path,
                             value=_brief(value))
    return value


def _scalar(value: Any, file: str, path: str) -> int:
    """A field element written as a decimal string (as snarkjs writes them), below r."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() \
            or (len(value) > 1 and value.startswith("0")):
        raise StatementError(file, "must be a canonical decimal string", path=path,
                             value=_brief(value))
    if int(value) >= SNARK_FIELD:
        raise StatementError(file, "must be below the scalar field modulus r", path=path,
                             value=value)
    return int(value)


def _int_total(value: Any, file: str, path: str, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise StatementError(file, "must be a JSON integer", path=path, value=_brief(value))
    low = 0 if name in Totals.NON_NEGATIVE else -TOTAL_BOUND + 1
    if not low <= value < TOTAL_BOUND:
        shown = "0" if low == 0 else "-2^224"
        raise StatementError(file, f"out of range: a total must be in [{shown}, 2^224)",
                             path=path, value=value)
    return value


def _relative_path(value: Any, file: str, path: str) -> str:
    """A path inside the artifact directory: relative, '/'-separated, no '..'."""
    if not isinstance(value, str) or not value:
        raise StatementError(file, "must be a non-empty path string", path=path,
                             value=_brief(value))
    p = PurePosixPath(value)
    if p.is_absolute() or ".." in p.parts or "\\" in value or p.as_posix() != value:
        raise StatementError(file, "must be a normalised relative path inside the artifacts",
                             path=path, value=value)
    return value


def _brief(value: Any) -> Any:
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."
