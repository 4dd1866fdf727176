"""Public risk parameters: assets, perps, options and their portfolio groups.

Loaded from one JSON file and validated on load; every violation names the file, the
JSON field and the offending value. Integer units follow docs/margin.md:

* ``price``, ``mark``, ``max_notional``, ``max_value``, ``short_min``, ``risk[s]``:
  USD x 10^8 (prices and perp marks ``0 < value < 2^63``; option marks and short
  minimums ``0 <= value < 2^63``; risk values signed, ``|value| < 2^63``);
* ``weight_bps``: basis points ``0..10000`` (collateral weight of a positive balance);
* ``mmr_ppm``: maintenance-margin rate in parts per million ``0..10^6``.

Brackets: bounds strictly increase, rates never decrease, the last bracket is unbounded
(``"max_notional": null``). Collateral tiers: bounds strictly increase, weights never
increase, the last tier is unbounded (``"max_value": null``); ``"weight_bps": w`` is the
one-tier form. Options and perps that give ``"group"`` and ``"risk"`` (instead of
``"brackets"``) are margined per portfolio group over the ``portfolio.scenarios``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkmargin.errors import InputError, ValueRangeError
from zkmargin.fixed import I63, SCALE, format_fixed, parse_fixed

SYMBOL_RE = re.compile(r"[A-Z0-9_-]{1,31}")  # 31 bytes: one field element in the params hash
WEIGHT_ONE = 10_000  # basis points
RATE_ONE = 1_000_000  # ppm
#: Factor of an option's value (USD x 1e16) and of a portfolio requirement in F:
#: 1e6 * (contracts x 1e8) * (USD x 1e8) = USD x 1e22.
OPTION_SCALE = 1_000_000
MAX_ASSETS = 64
MAX_PERPS = 64
MAX_BRACKETS = 16
MAX_TIERS = 16
MAX_OPTIONS = 240
MAX_SCENARIOS = 32
MAX_SCENARIO_NAME = 256
#: Every product of two inputs stays below this (docs/margin.md, section 8).
PRODUCT_BOUND = 1 << 160
#: Every per-account value (E, R, E - R, scan sums) stays below this.
VALUE_BOUND = 1 << 170
if WEIGHT_ONE != 10**4 or RATE_ONE != 10**6 or OPTION_SCALE * SCALE * SCALE != 10**22:
    raise AssertionError("weights are in basis points, rates in parts per million")


@dataclass(frozen=True)
class Tier:
    """One collateral tier: the weight of the part of a holding's value up to
    ``max_value`` (USD x 1e8; None = unbounded, last tier only)."""

    max_value: int | None
    weight_bps: int


@dataclass(frozen=True, init=False)
class Asset:
    """An asset: price (USD x 1e8) and the collateral tiers of a positive balance.

    ``Asset("BTC", price, 9500)`` is the one-tier form (``weight_bps``);
    ``Asset("BTC", price, tiers=(Tier(...), ...))`` the tiered one.
    """

    symbol: str
    price: int  # USD x 1e8
    tiers: tuple[Tier, ...]

    def __init__(
        self,
        symbol: str,
        price: int,
        weight_bps: int | None = None,
        *,
        tiers: Sequence[Tier] | None = None,
    ) -> None:
        if (weight_bps is None) == (tiers is None):
            raise TypeError(f"asset {symbol}: give either weight_bps or tiers")
        table = (Tier(None, weight_bps),) if weight_bps is not None else tuple(tiers or ())
        if not table or table[-1].max_value is not None:
            raise ValueError(f"asset {symbol}: the last collateral tier must be unbounded")
        object.__setattr__(self, "symbol", symbol)
        object.__setattr__(self, "price", price)
        object.__setattr__(self, "tiers", table)

    @property
    def tiered(self) -> bool:
        """More than one collateral tier."""
        return len(self.tiers) > 1

    @property
    def weight_bps(self) -> int:
        """The weight of a one-tier asset (``"weight_bps"`` in the file)."""
        if self.tiered:
            raise ValueError(
                f"asset {self.symbol} has {len(self.tiers)} collateral tiers: it has no "
                "single weight_bps (see tiers, tier_constants())"
            )
        return self.tiers[0].weight_bps

    def tier_constants(self) -> tuple[int, ...]:
        """``C_ak`` in USD x 1e20 (docs/margin.md, section 3b): ``C_1 = 0``,
        ``C_k = C_(k-1) + T_(k-1) * 1e8 * (w_(k-1) - w_k)``, which makes the tier lines
        ``w_k * V + C_k`` meet at every bound."""
        out = [0]
        for k in range(1, len(self.tiers)):
            bound = self.tiers[k - 1].max_value
            if bound is None:
                raise ValueError(f"asset {self.symbol}: only the last tier is unbounded")
            step = self.tiers[k - 1].weight_bps - self.tiers[k].weight_bps
            out.append(out[-1] + bound * SCALE * step)
        return tuple(out)

    def tier_thresholds(self) -> tuple[int, ...]:
        """Per bounded tier, the least balance ``x`` whose value ``x * P`` reaches its
        bound ``T * 1e8`` (capped at 2^63): the tier of ``x > 0`` is the number of
        thresholds ``<= x``."""
        out = []
        for t in self.tiers[:-1]:
            if t.max_value is None:
                raise ValueError(f"asset {self.symbol}: only the last tier is unbounded")
            out.append(min(notional_threshold(t.max_value, self.price), THRESHOLD_CAP))
        return tuple(out)


@dataclass(frozen=True)
class Bracket:
    max_notional: int | None  # USD x 1e8; None = unbounded (last bracket only)
    mmr_ppm: int


#: A bracket threshold on |q| is capped here: |q| < 2^63 never reaches it.
THRESHOLD_CAP = 1 << 63


def notional_threshold(bound: int, mark: int) -> int:
    """The least integer ``|q|`` whose notional ``|q| * mark`` reaches ``bound * 1e8``:
    ``ceil(bound * 1e8 / mark)`` (uncapped). For an integer ``|q|``,
    ``|q| * M >= B * 1e8`` exactly when ``|q| >= notional_threshold(B, M)``."""
    whole, rest = divmod(bound * SCALE, mark)
    return int(whole) + (rest != 0)


@dataclass(frozen=True)
class Perp:
    """A perpetual future: mark (USD x 1e8) and either a bracket table (tiered
    maintenance) or a portfolio ``group`` with a ``risk`` array (one loss per scenario
    of one long contract, USD x 1e8), never both."""

    symbol: str
    mark: int  # USD x 1e8
    brackets: tuple[Bracket, ...] = ()
    group: str | None = None
    risk: tuple[int, ...] = ()

    @property
    def grouped(self) -> bool:
        """In a portfolio group (no brackets, no tiered maintenance)."""
        return self.group is not None

    def deductions(self) -> tuple[int, ...]:
        """Maintenance amounts ``D_k`` in F (USD x 1e22), docs/margin.md; ``()`` for a
        group perp.

        ``D_1 = 0`` and ``D_k = sum_{j<k} (B_j * 1e8) * (r_{j+1} - r_j)``, which makes the
        bracket lines ``N * r_k - D_k`` meet at every bound.
        """
        if not self.brackets:
            return ()
        out = [0]
        for j in range(len(self.brackets) - 1):
            bound = self.brackets[j].max_notional
            assert bound is not None
            step = self.brackets[j + 1].mmr_ppm - self.brackets[j].mmr_ppm
            out.append(out[-1] + bound * SCALE * step)
        return tuple(out)

    def thresholds(self) -> tuple[int, ...]:
        """Per bounded bracket, the least ``|q|`` in the next bracket, capped at 2^63:
        the bracket of ``|q|`` is the number of thresholds ``<= |q|``."""
        out = []
        for b in self.brackets[:-1]:
            if b.max_notional is None:
                raise ValueError(f"perp {self.symbol}: only the last bracket is unbounded")
            out.append(min(notional_threshold(b.max_notional, self.mark), THRESHOLD_CAP))
        return tuple(out)


@dataclass(frozen=True)
class Option:
    """An option series in a portfolio group. ``mark``: USD x 1e8 per contract (>= 0);
    ``short_min``: USD x 1e8 per short contract (>= 0); ``risk[s]``: the loss of ONE long
    contract in scenario ``s`` (USD x 1e8, signed, positive = loss)."""

    symbol: str
    group: str
    mark: int
    short_min: int
    risk: tuple[int, ...]


@dataclass(frozen=True)
class RiskParams:
    """Assets, perps, options and the portfolio scenarios (their names), in file order."""

    assets: tuple[Asset, ...]
    perps: tuple[Perp, ...]
    options: tuple[Option, ...] = ()
    scenarios: tuple[str, ...] = ()

    @property
    def asset_symbols(self) -> tuple[str, ...]:
        return tuple(a.symbol for a in self.assets)

    @property
    def perp_symbols(self) -> tuple[str, ...]:
        return tuple(p.symbol for p in self.perps)

    @property
    def option_symbols(self) -> tuple[str, ...]:
        return tuple(o.symbol for o in self.options)

    @property
    def max_brackets(self) -> int:
        """The longest bracket table (group perps have none)."""
        return max((len(p.brackets) for p in self.perps), default=0)

    @property
    def max_tiers(self) -> int:
        """The longest collateral tier table (1 when no asset is tiered)."""
        return max((len(a.tiers) for a in self.assets), default=1)

    @property
    def groups(self) -> tuple[str, ...]:
        """The portfolio groups: the distinct ``group`` names of the perps, then of the
        options, in order of first appearance."""
        out: dict[str, None] = {}
        for p in self.perps:
            if p.group is not None:
                out.setdefault(p.group)
        for o in self.options:
            out.setdefault(o.group)
        return tuple(out)

    @property
    def has_portfolio(self) -> bool:
        return bool(self.scenarios)

    def snapshot_columns(self) -> tuple[str, ...]:
        """The value columns of a snapshot, in canonical order (after ``account_id``):
        assets, ``<PERP>.qty`` and ``<PERP>.cost`` per perp, ``<OPTION>.qty`` per option."""
        cols = list(self.asset_symbols)
        for p in self.perps:
            cols += [f"{p.symbol}.qty", f"{p.symbol}.cost"]
        cols += [f"{o.symbol}.qty" for o in self.options]
        return tuple(cols)

    def check_budget(self) -> None:
        """Raise ValueError unless every product stays below 2^160 and every per-account
        value below 2^170 (docs/margin.md, section 8)."""
        check_value_budget(self)

    def to_json(self) -> dict[str, Any]:
        """The canonical JSON form (decimal strings), which :func:`parse_params` reads back.
        A one-tier asset is written ``"weight_bps"``, so files without tiers, options and
        portfolio read back to the same text as before these existed."""
        doc: dict[str, Any] = {
            "assets": [_asset_json(a) for a in self.assets],
            "perps": [_perp_json(p) for p in self.perps],
        }
        if self.options:
            doc["options"] = [
                {
                    "symbol": o.symbol,
                    "group": o.group,
                    "mark": format_fixed(o.mark),
                    "short_min": format_fixed(o.short_min),
                    "risk": [format_fixed(v) for v in o.risk],
                }
                for o in self.options
            ]
        if self.scenarios:
            doc["portfolio"] = {
                "scenarios": [{"name": name} for name in self.scenarios],
                "groups": list(self.groups),
            }
        return doc


def _asset_json(a: Asset) -> dict[str, Any]:
    if not a.tiered:
        return {"symbol": a.symbol, "price": format_fixed(a.price), "weight_bps": a.weight_bps}
    return {
        "symbol": a.symbol,
        "price": format_fixed(a.price),
        "tiers": [
            {
                "max_value": None if t.max_value is None else format_fixed(t.max_value),
                "weight_bps": t.weight_bps,
            }
            for t in a.tiers
        ],
    }


def _perp_json(p: Perp) -> dict[str, Any]:
    if p.group is not None:
        return {
            "symbol": p.symbol,
            "mark": format_fixed(p.mark),
            "group": p.group,
            "risk": [format_fixed(v) for v in p.risk],
        }
    return {
        "symbol": p.symbol,
        "mark": format_fixed(p.mark),
        "brackets": [
            {
                "max_notional": None if b.max_notional is None else format_fixed(b.max_notional),
                "mmr_ppm": b.mmr_ppm,
            }
            for b in p.brackets
        ],
    }


def value_bounds(params: RiskParams) -> tuple[int, int]:
    """``(largest product, largest per-account value)`` over every valid input
    (``|x|, |q|, |c|, |o| < 2^63``), from the parameters' actual numbers."""
    lim = I63 - 1
    products = [0]
    collateral = 0
    for a in params.assets:
        # x * P * w (one line of the tier table, <= x * P * 10000) and C_k; a debt at 10000
        constants = a.tier_constants()
        products += [lim * a.price * WEIGHT_ONE, *constants]
        collateral += lim * a.price * WEIGHT_ONE + max(constants)
    pnl = 0
    requirement = 0
    for p in params.perps:
        products += [lim * p.mark, lim * SCALE]
        pnl += lim * p.mark + lim * SCALE
        if p.brackets:
            top = max(b.mmr_ppm for b in p.brackets)
            products.append(lim * p.mark * top)
            requirement += lim * p.mark * top  # MM_i <= N_i * r_ik
    marks = 0
    group_bound: dict[str, int] = {}
    for p in params.perps:
        if p.group is not None:
            worst = max((abs(v) for v in p.risk), default=0)
            products.append(lim * worst)
            group_bound[p.group] = group_bound.get(p.group, 0) + lim * worst
    for o in params.options:
        worst = max(max((abs(v) for v in o.risk), default=0), o.short_min)
        products += [lim * worst, OPTION_SCALE * lim * o.mark]
        marks += lim * o.mark
        group_bound[o.group] = group_bound.get(o.group, 0) + lim * worst
    requirement += OPTION_SCALE * sum(group_bound.values())
    equity = 100 * (collateral + WEIGHT_ONE * pnl) + OPTION_SCALE * marks
    scans = max(group_bound.values(), default=0)
    return max(products), max(equity + requirement, scans)


def check_value_budget(params: RiskParams) -> None:
    """Raise ValueError when a product could reach 2^160 or a per-account value 2^170."""
    product, value = value_bounds(params)
    if product >= PRODUCT_BOUND or value >= VALUE_BOUND:
        raise ValueError(
            f"the parameters exceed the bit budget: products up to 2^{product.bit_length()} "
            f"(must stay below 2^160), per-account values up to 2^{value.bit_length()} "
            "(must stay below 2^170)"
        )


class _RawNumber(str):
    """A JSON number kept as its source text, so no float ever rounds a price."""


class JsonObject(dict[str, object]):
    """A decoded JSON object that remembers its first repeated key (``json`` keeps the last
    value of a repeated key silently; an input file with one is rejected instead)."""

    duplicate: str | None = None


def json_object(pairs: list[tuple[str, object]]) -> JsonObject:
    """``object_pairs_hook`` for :func:`json.loads` building :class:`JsonObject`."""
    obj = JsonObject(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                obj.duplicate = key
                break
            seen.add(key)
    return obj


def _decimal_field(
    file: str, path: str, raw: object, *, positive: bool, non_negative: bool = False
) -> int:
    if isinstance(raw, bool) or not isinstance(raw, str):
        raise InputError(
            file, "must be a decimal string or number", path=path, value=_show(raw)
        )
    try:
        value = parse_fixed(raw)
    except ValueRangeError as exc:
        raise InputError(file, str(exc), path=path, value=str(raw)) from None
    if positive and value <= 0:
        raise InputError(file, "must be positive", path=path, value=str(raw))
    if non_negative and value < 0:
        raise InputError(file, "must not be negative (0 or more)", path=path, value=str(raw))
    if not -I63 < value < I63:
        raise InputError(
            file, "is out of range: value x 10^8 must be below 2^63", path=path, value=str(raw)
        )
    return value


def _int_field(file: str, path: str, raw: object, lo: int, hi: int) -> int:
    if isinstance(raw, _RawNumber) and re.fullmatch(r"-?[0-9]+", raw):
        value = int(raw)
    elif isinstance(raw, str) and not isinstance(raw, _RawNumber):
        raise InputError(
            file, f"must be a JSON integer in {lo}..{hi}, not a string", path=path, value=raw
        )
    else:
        raise InputError(file, f"must be an integer in {lo}..{hi}", path=path, value=_show(raw))
    if not lo <= value <= hi:
        raise InputError(file, f"must be an integer in {lo}..{hi}", path=path, value=str(raw))
    return value


def _show(raw: object) -> object:
    return str(raw) if isinstance(raw, _RawNumber) else raw


def _symbol(file: str, path: str, raw: object, what: str = "a symbol") -> str:
    if not isinstance(raw, str) or isinstance(raw, _RawNumber) or not SYMBOL_RE.fullmatch(raw):
        raise InputError(
            file, f"must be {what} matching [A-Z0-9_-]+ of at most 31 characters", path=path,
            value=_show(raw)
        )
    return raw


def _obj(
    file: str, path: str, raw: object, keys: Sequence[str], optional: Sequence[str] = ()
) -> dict[str, object]:
    if not isinstance(raw, dict):
        raise InputError(file, "must be a JSON object", path=path, value=_show(raw))
    if isinstance(raw, JsonObject) and raw.duplicate is not None:
        raise InputError(file, f"duplicate key {raw.duplicate!r}", path=path)
    allowed = (*keys, *optional)
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise InputError(
            file, f"unknown key {unknown[0]!r}; allowed keys: {', '.join(allowed)}", path=path
        )
    missing = [k for k in keys if k not in raw]
    if missing:
        raise InputError(file, f"missing key {missing[0]!r}", path=path)
    return raw


def _list(file: str, path: str, raw: object, lo: int, hi: int) -> list[object]:
    if not isinstance(raw, list):
        raise InputError(file, "must be a JSON list", path=path, value=_show(raw))
    if not lo <= len(raw) <= hi:
        raise InputError(file, f"must have {lo}..{hi} entries, has {len(raw)}", path=path)
    return raw


def _tiers(file: str, path: str, raw: object) -> tuple[Tier, ...]:
    raw_tiers = _list(file, path, raw, 1, MAX_TIERS)
    tiers: list[Tier] = []
    for k, rt in enumerate(raw_tiers):
        tpath = f"{path}[{k}]"
        t = _obj(file, tpath, rt, ("max_value", "weight_bps"))
        last = k == len(raw_tiers) - 1
        bound: int | None
        if t["max_value"] is None:
            if not last:
                raise InputError(
                    file, "only the last tier may be unbounded (null)",
                    path=f"{tpath}.max_value", value="null",
                )
            bound = None
        else:
            if last:
                raise InputError(
                    file, "the last tier must be unbounded: \"max_value\": null",
                    path=f"{tpath}.max_value", value=_show(t["max_value"]),
                )
            bound = _decimal_field(file, f"{tpath}.max_value", t["max_value"], positive=True)
            prev = tiers[-1].max_value if tiers else None
            if prev is not None and bound <= prev:
                raise InputError(
                    file,
                    "tier bounds must strictly increase (previous bound is larger or equal)",
                    path=f"{tpath}.max_value", value=_show(t["max_value"]),
                )
        weight = _int_field(file, f"{tpath}.weight_bps", t["weight_bps"], 0, WEIGHT_ONE)
        if tiers and weight > tiers[-1].weight_bps:
            raise InputError(
                file,
                f"collateral weights must never increase (previous tier has "
                f"{tiers[-1].weight_bps})",
                path=f"{tpath}.weight_bps", value=str(t["weight_bps"]),
            )
        tiers.append(Tier(max_value=bound, weight_bps=weight))
    return tuple(tiers)


def _brackets(file: str, path: str, raw: object) -> tuple[Bracket, ...]:
    raw_brackets = _list(file, path, raw, 1, MAX_BRACKETS)
    brackets: list[Bracket] = []
    for k, rb in enumerate(raw_brackets):
        bpath = f"{path}[{k}]"
        b = _obj(file, bpath, rb, ("max_notional", "mmr_ppm"))
        last = k == len(raw_brackets) - 1
        bound: int | None
        if b["max_notional"] is None:
            if not last:
                raise InputError(
                    file,
                    "only the last bracket may be unbounded (null)",
                    path=f"{bpath}.max_notional",
                    value="null",
                )
            bound = None
        else:
            if last:
                raise InputError(
                    file,
                    "the last bracket must be unbounded: \"max_notional\": null",
                    path=f"{bpath}.max_notional",
                    value=_show(b["max_notional"]),
                )
            bound = _decimal_field(
                file, f"{bpath}.max_notional", b["max_notional"], positive=True
            )
            prev = brackets[-1].max_notional if brackets else None
            if prev is not None and bound <= prev:
                raise InputError(
                    file,
                    "bracket bounds must strictly increase (previous bound is larger "
                    "or equal)",
                    path=f"{bpath}.max_notional",
                    value=_show(b["max_notional"]),
                )
        rate = _int_field(file, f"{bpath}.mmr_ppm", b["mmr_ppm"], 0, RATE_ONE)
        if brackets and rate < brackets[-1].mmr_ppm:
            raise InputError(
                file,
                f"maintenance rates must never decrease (previous bracket has "
                f"{brackets[-1].mmr_ppm})",
                path=f"{bpath}.mmr_ppm",
                value=str(b["mmr_ppm"]),
            )
        brackets.append(Bracket(max_notional=bound, mmr_ppm=rate))
    return tuple(brackets)


def _risk(file: str, path: str, raw: object, scenarios: int) -> tuple[int, ...]:
    if not isinstance(raw, list):
        raise InputError(file, "must be a JSON list (one loss per scenario)", path=path,
                         value=_show(raw))
    if len(raw) != scenarios:
        raise InputError(
            file,
            f"has {len(raw)} values but the portfolio has {scenarios} scenarios: a risk "
            f"array needs exactly {scenarios} (one loss per scenario, in scenario order)",
            path=path,
        )
    return tuple(
        _decimal_field(file, f"{path}[{s}]", v, positive=False) for s, v in enumerate(raw)
    )


def _no_portfolio(file: str, path: str, what: str) -> InputError:
    return InputError(
        file,
        f"{what} needs a \"portfolio\" with scenarios (the params file has none): add "
        "\"portfolio\": {\"scenarios\": [{\"name\": ...}, ...]}",
        path=path,
    )


def _scenarios(file: str, raw: object) -> tuple[list[str], list[object] | None]:
    port = _obj(file, "portfolio", raw, (), ("scenarios", "groups"))
    if "scenarios" not in port:
        raise InputError(
            file, f"a portfolio without scenarios: give \"scenarios\" (1..{MAX_SCENARIOS})",
            path="portfolio",
        )
    raw_list = port["scenarios"]
    if isinstance(raw_list, list) and not raw_list:
        raise InputError(
            file, f"a portfolio without scenarios: give 1..{MAX_SCENARIOS} scenarios",
            path="portfolio.scenarios",
        )
    names: list[str] = []
    for s, rs in enumerate(_list(file, "portfolio.scenarios", raw_list, 1, MAX_SCENARIOS)):
        spath = f"portfolio.scenarios[{s}]"
        sc = _obj(file, spath, rs, ("name",))
        name = sc["name"]
        if (
            not isinstance(name, str)
            or isinstance(name, _RawNumber)
            or not name
            or len(name) > MAX_SCENARIO_NAME
        ):
            raise InputError(
                file,
                f"a scenario name must be a non-empty string of at most {MAX_SCENARIO_NAME} "
                "characters",
                path=f"{spath}.name", value=_show(name),
            )
        if name in names:
            raise InputError(
                file, f"duplicate scenario name (scenario {names.index(name)} has it)",
                path=f"{spath}.name", value=name,
            )
        names.append(name)
    listed = port.get("groups")
    if listed is not None and not isinstance(listed, list):
        raise InputError(file, "must be a JSON list of group names", path="portfolio.groups",
                         value=_show(listed))
    return names, listed


def parse_params(doc: object, file: str = "<params>") -> RiskParams:
    """Validate a decoded params document (numbers as :class:`_RawNumber` text)."""
    top = _obj(file, "$", doc, ("assets", "perps"), ("options", "portfolio"))
    scenarios: list[str] = []
    listed: list[object] | None = None
    if "portfolio" in top:
        scenarios, listed = _scenarios(file, top["portfolio"])
    n_s = len(scenarios)
    assets: list[Asset] = []
    seen: set[str] = set()
    for i, raw in enumerate(_list(file, "assets", top["assets"], 1, MAX_ASSETS)):
        path = f"assets[{i}]"
        a = _obj(file, path, raw, ("symbol", "price"), ("weight_bps", "tiers"))
        sym = _symbol(file, f"{path}.symbol", a["symbol"])
        if sym in seen:
            raise InputError(file, "duplicate asset symbol", path=f"{path}.symbol", value=sym)
        seen.add(sym)
        price = _decimal_field(file, f"{path}.price", a["price"], positive=True)
        if "weight_bps" in a and "tiers" in a:
            raise InputError(
                file, "give either \"weight_bps\" (one weight) or \"tiers\", not both",
                path=path,
            )
        if "tiers" in a:
            assets.append(Asset(sym, price, tiers=_tiers(file, f"{path}.tiers", a["tiers"])))
        elif "weight_bps" in a:
            weight = _int_field(file, f"{path}.weight_bps", a["weight_bps"], 0, WEIGHT_ONE)
            assets.append(Asset(sym, price, weight))
        else:
            raise InputError(file, "missing key 'weight_bps' (or 'tiers')", path=path)
    perps: list[Perp] = []
    seen_perps: set[str] = set()
    members: dict[str, str] = {}  # group -> the path of its first member
    for i, raw in enumerate(_list(file, "perps", top["perps"], 0, MAX_PERPS)):
        path = f"perps[{i}]"
        p = _obj(file, path, raw, ("symbol", "mark"), ("brackets", "group", "risk"))
        sym = _symbol(file, f"{path}.symbol", p["symbol"])
        if sym in seen_perps:
            raise InputError(file, "duplicate perp symbol", path=f"{path}.symbol", value=sym)
        if sym in seen:
            raise InputError(
                file, "perp symbol equals an asset symbol", path=f"{path}.symbol", value=sym
            )
        seen_perps.add(sym)
        mark = _decimal_field(file, f"{path}.mark", p["mark"], positive=True)
        grouped = "group" in p or "risk" in p
        if grouped and "brackets" in p:
            raise InputError(
                file,
                "give either \"brackets\" (tiered maintenance) or \"group\" and \"risk\" "
                "(portfolio margin), not both",
                path=path,
            )
        if not grouped:
            if "brackets" not in p:
                raise InputError(
                    file, "missing key 'brackets' (or 'group' and 'risk' for a perp in a "
                    "portfolio group)", path=path,
                )
            perps.append(Perp(sym, mark, _brackets(file, f"{path}.brackets", p["brackets"])))
            continue
        for key in ("group", "risk"):
            if key not in p:
                raise InputError(file, f"missing key {key!r} (a group perp needs 'group' "
                                 "and 'risk')", path=path)
        if not scenarios:
            raise _no_portfolio(file, f"{path}.group", "a group perp")
        group = _symbol(file, f"{path}.group", p["group"], "a group name")
        members.setdefault(group, f"{path}.group")
        risk = _risk(file, f"{path}.risk", p["risk"], n_s)
        perps.append(Perp(sym, mark, group=group, risk=risk))
    options: list[Option] = []
    seen_options: set[str] = set()
    raw_options = top.get("options", [])
    for j, raw in enumerate(_list(file, "options", raw_options, 0, MAX_OPTIONS)):
        path = f"options[{j}]"
        o = _obj(file, path, raw, ("symbol", "group", "mark", "short_min", "risk"))
        sym = _symbol(file, f"{path}.symbol", o["symbol"])
        for taken, what in ((seen, "an asset"), (seen_perps, "a perp"),
                            (seen_options, "another option")):
            if sym in taken:
                raise InputError(
                    file, f"option symbol equals the symbol of {what}",
                    path=f"{path}.symbol", value=sym,
                )
        seen_options.add(sym)
        if not scenarios:
            raise _no_portfolio(file, path, "an option")
        group = _symbol(file, f"{path}.group", o["group"], "a group name")
        members.setdefault(group, f"{path}.group")
        options.append(Option(
            symbol=sym,
            group=group,
            mark=_decimal_field(file, f"{path}.mark", o["mark"], positive=False,
                                non_negative=True),
            short_min=_decimal_field(file, f"{path}.short_min", o["short_min"],
                                     positive=False, non_negative=True),
            risk=_risk(file, f"{path}.risk", o["risk"], n_s),
        ))
    if listed is not None:
        names: list[str] = []
        for k, raw in enumerate(listed):
            gpath = f"portfolio.groups[{k}]"
            name = _symbol(file, gpath, raw, "a group name")
            if name in names:
                raise InputError(file, "duplicate group name", path=gpath, value=name)
            if name not in members:
                raise InputError(
                    file, "a group with no members: no perp or option names it",
                    path=gpath, value=name,
                )
            names.append(name)
        for group, where in members.items():
            if group not in names:
                raise InputError(
                    file, f"group {group!r} is not listed in portfolio.groups (which lists "
                    f"{', '.join(names) or 'none'})", path=where, value=group,
                )
    params = RiskParams(
        assets=tuple(assets), perps=tuple(perps), options=tuple(options),
        scenarios=tuple(scenarios),
    )
    try:
        params.check_budget()
    except ValueError as exc:  # unreachable within the limits above; kept as the guard
        raise InputError(file, str(exc)) from None
    return params


def loads_params(text: str, file: str = "<params>") -> RiskParams:
    """Parse params JSON text; numbers keep their exact decimal text. A leading UTF-8
    byte order mark (as some Windows editors write) is ignored."""
    try:
        doc = json.loads(
            text.removeprefix("\ufeff"),
            parse_float=_RawNumber,
            parse_int=_RawNumber,
            object_pairs_hook=json_object,
        )
    except json.JSONDecodeError as exc:
        raise InputError(file, f"is not valid JSON: {exc.msg}", row=exc.lineno) from None
    return parse_params(doc, file)


def load_params(path: str | Path) -> RiskParams:
    """Read and validate a risk-parameters JSON file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")  # -sig: a leading BOM is dropped
    except OSError as exc:
        raise InputError(str(p), f"cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(str(p), "is not UTF-8 text") from None
    return loads_params(text, str(p))
