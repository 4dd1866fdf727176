"""Risk arrays from a public market file: Black-76 values under a scenario grid.

``zkmargin params risk-arrays MARKET.json --out PARAMS.json`` turns a market file
(underlying prices and scan ranges, option specs with implied vols, a scenario grid, and
the assets/perps part of the params passed through) into a params file whose
``options[].risk`` arrays and marks the margin model uses (docs/margin.md, section 11).

Valuation (Black-76, ``F`` the underlying price, ``r`` the rate, 0 unless given)::

    d1 = (ln(F/K) + vol^2 T / 2) / (vol sqrt(T)),  d2 = d1 - vol sqrt(T)
    call = e^(-rT) (F N(d1) - K N(d2)),   put = e^(-rT) (K N(-d2) - F N(-d1))
    (vol sqrt(T) = 0: the intrinsic value e^(-rT) max(+-(F - K), 0))

    scenario s:  F_s = F (1 + price_scan_s * price_scan_range),
                 vol_s = max(vol + vol_scan_s * vol_scan_range, 0),  T unchanged
    L_j[s] = ceil(weight_s * (mark_j - multiplier_j * value(F_s, vol_s)) * 1e8)   [USD x 1e8]

Rounding: every risk value is rounded UP (ceiling, toward +infinity) to USD x 1e8, so a
loss is never understated; a computed mark is rounded half up to USD x 1e8 (a published
``mark`` is taken exactly); a computed ``short_min`` is rounded up. Arithmetic is Python
:mod:`decimal` at 50 significant digits (ln, exp and sqrt correctly rounded; ``N`` by a
series without cancellation): every value in USD x 1e8 is within 10^-24 of the exact
real number, and a margin of :data:`CEILING_MARGIN` = 10^-18 is added before each ceiling,
so the ceiling is never below the exact value's (it can be one unit above it when the
exact value lies within 10^-18 of an integer).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Context, Decimal, localcontext
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any

from zkmargin.errors import InputError
from zkmargin.fixed import I63, SCALE, format_fixed
from zkmargin.params import (
    MAX_SCENARIOS,
    RiskParams,
    _decimal_field,
    _list,
    _obj,
    _RawNumber,
    _show,
    _symbol,
    json_object,
    parse_params,
)

#: Significant digits of every Decimal operation.
PRECISION = 50
#: Added (in units of USD x 1e-8) before a ceiling: far above the error bound (10^-24).
CEILING_MARGIN = Decimal("1e-18")
#: Days per year of a date expiry (ACT/365).
DAYS_PER_YEAR = 365
_CONTEXT = Context(prec=PRECISION, Emin=-999_999, Emax=999_999)
_DECIMAL_RE = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
_FRACTION_RE = re.compile(r"([+-]?[0-9]+)/([0-9]+)")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TYPES = ("call", "put")


# --------------------------------------------------------------------------------------
# Black-76 in Decimal


@lru_cache(maxsize=1)
def _two_over_sqrt_pi() -> Decimal:
    with localcontext(_CONTEXT) as ctx:
        ctx.prec = PRECISION + 10
        return 2 / _pi().sqrt()


def _pi() -> Decimal:
    """pi to the current precision (the recipe of the decimal module's documentation)."""
    with localcontext() as ctx:
        ctx.prec += 2
        three = Decimal(3)
        lasts, t, s, n, na, d, da = Decimal(0), three, Decimal(3), 1, 0, 0, 24
        while s != lasts:
            lasts = s
            n, na = n + na, na + 8
            d, da = d + da, da + 32
            t = (t * n) / d
            s += t
    return +s


def norm_cdf(x: Decimal) -> Decimal:
    """The standard normal distribution function ``N(x) = (1 + erf(x / sqrt 2)) / 2``.

    ``erf(z) = 2/sqrt(pi) e^(-z^2) sum_n 2^n z^(2n+1) / (1*3*...*(2n+1))`` (every term
    positive: no cancellation); for ``|z| > 12``, ``N`` is 0 or 1 within 10^-64.
    """
    with localcontext(_CONTEXT) as ctx:
        ctx.prec = PRECISION + 10
        z = abs(x) / Decimal(2).sqrt()
        if z > 12:
            tail = Decimal(0)
        else:
            z2 = z * z
            term = z
            total = z
            n = 0
            eps = Decimal(10) ** -(PRECISION + 12)
            while term > eps * total:
                n += 1
                term = term * 2 * z2 / (2 * n + 1)
                total += term
            erf = _two_over_sqrt_pi() * (-z2).exp() * total
            tail = (1 - erf) / 2  # N(-|x|)
        result = 1 - tail if x >= 0 else tail
    return +result


def black76(kind: str, f: Decimal, k: Decimal, t: Decimal, vol: Decimal,
            rate: Decimal = Decimal(0)) -> Decimal:
    """The Black-76 value (USD per unit of underlying) of a ``call`` or ``put`` with
    forward/underlying price ``f``, strike ``k``, ``t`` years to expiry, volatility
    ``vol`` (annualised, as a fraction) and rate ``rate``."""
    if kind not in _TYPES:
        raise ValueError(f"option type must be call or put, got {kind!r}")
    if f <= 0 or k <= 0 or t < 0 or vol < 0:
        raise ValueError("black76 needs f > 0, k > 0, t >= 0 and vol >= 0")
    with localcontext(_CONTEXT):
        discount = (-rate * t).exp()
        width = vol * t.sqrt()
        if width == 0:
            intrinsic = f - k if kind == "call" else k - f
            return +(discount * max(intrinsic, Decimal(0)))
        d1 = ((f / k).ln() + width * width / 2) / width
        d2 = d1 - width
        if kind == "call":
            value = f * norm_cdf(d1) - k * norm_cdf(d2)
        else:
            value = k * norm_cdf(-d2) - f * norm_cdf(-d1)
        return +(discount * max(value, Decimal(0)))


def ceil_units(usd: Decimal) -> int:
    """USD as an integer x 1e8, rounded up (with :data:`CEILING_MARGIN`): never below."""
    with localcontext(_CONTEXT):
        scaled = usd * SCALE + CEILING_MARGIN
        return int(scaled.to_integral_value(rounding=ROUND_CEILING))


def round_units(usd: Decimal) -> int:
    """USD as an integer x 1e8, rounded half up (a computed mark)."""
    with localcontext(_CONTEXT):
        return int((usd * SCALE).to_integral_value(rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------------------
# Scenarios


@dataclass(frozen=True)
class Scenario:
    """One scenario: moves in units of each underlying's scan ranges, and the share of
    the loss that counts (``weight``; SPAN's extreme moves count 35%)."""

    name: str
    price_scan: Fraction
    vol_scan: Fraction
    weight: Fraction = Fraction(1)


def _plain(f: Fraction) -> str:
    """``1/3``, or ``0.35`` when the fraction is a finite decimal."""
    d = f.denominator
    while d % 2 == 0:
        d //= 2
    while d % 5 == 0:
        d //= 5
    if d != 1:
        return str(f)
    text = format(Decimal(f.numerator) / Decimal(f.denominator), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _signed(f: Fraction) -> str:
    return "0" if f == 0 else f"{'+' if f > 0 else '-'}{_plain(abs(f))}"


def span16(extreme: Fraction = Fraction(3), cover: Fraction = Fraction(35, 100)
           ) -> tuple[Scenario, ...]:
    """CME SPAN's 16 scenarios: price unchanged, +-1/3, +-2/3, +-3/3 of the price scan
    range, each with volatility up and down by the vol scan range; then +-``extreme``
    times the range with volatility unchanged, of which ``cover`` of the loss counts."""
    moves = [Fraction(0), Fraction(1, 3), Fraction(-1, 3), Fraction(2, 3), Fraction(-2, 3),
             Fraction(1), Fraction(-1)]
    out: list[Scenario] = []
    for m in moves:
        for v in (Fraction(1), Fraction(-1)):
            out.append(Scenario(f"{len(out) + 1:02d} price{_signed(m)} vol{_signed(v)}", m, v))
    for m in (extreme, -extreme):
        out.append(Scenario(f"{len(out) + 1:02d} price{_signed(m)} vol0 x{_plain(cover)}", m,
                            Fraction(0), cover))
    return tuple(out)


def grid(price_scans: Sequence[Fraction], vol_scans: Sequence[Fraction],
         weight: Fraction = Fraction(1)) -> tuple[Scenario, ...]:
    """Every price move with every vol shift (e.g. Deribit-style: price moves -1..+1 of
    a 16% range in quarter steps, vol shifts -1, 0, +1)."""
    return tuple(Scenario(f"price{_signed(p)} vol{_signed(v)}", p, v, weight)
                 for p in price_scans for v in vol_scans)


# --------------------------------------------------------------------------------------
# The market file


def _dec(file: str, path: str, raw: object, *, positive: bool = False,
         non_negative: bool = False) -> Decimal:
    """An exact decimal (JSON string or number, no exponent)."""
    if isinstance(raw, bool) or not isinstance(raw, str) or not _DECIMAL_RE.fullmatch(raw):
        raise InputError(file, "must be a decimal (a JSON string or number such as "
                         "\"0.55\", no exponent)", path=path, value=_show(raw))
    value = Decimal(raw)
    if positive and value <= 0:
        raise InputError(file, "must be positive", path=path, value=str(raw))
    if non_negative and value < 0:
        raise InputError(file, "must not be negative", path=path, value=str(raw))
    return value


def _frac(file: str, path: str, raw: object) -> Fraction:
    """A scan multiple: a decimal or a fraction ``"p/q"`` (``"-1/3"``)."""
    if isinstance(raw, str) and not isinstance(raw, _RawNumber):
        m = _FRACTION_RE.fullmatch(raw)
        if m is not None:
            if int(m.group(2)) == 0:
                raise InputError(file, "division by zero", path=path, value=raw)
            return Fraction(int(m.group(1)), int(m.group(2)))
    if isinstance(raw, str) and _DECIMAL_RE.fullmatch(raw):
        return Fraction(Decimal(raw))
    raise InputError(file, "must be a decimal or a fraction \"p/q\" (e.g. \"-1/3\")",
                     path=path, value=_show(raw))


def _to_dec(f: Fraction) -> Decimal:
    with localcontext(_CONTEXT):
        return Decimal(f.numerator) / Decimal(f.denominator)


def _date(file: str, path: str, raw: object) -> dt.date:
    if isinstance(raw, str) and _DATE_RE.fullmatch(raw):
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            pass
    raise InputError(file, "must be a date YYYY-MM-DD", path=path, value=_show(raw))


def _scenarios(file: str, raw: object) -> tuple[Scenario, ...]:
    path = "scenarios"
    if raw == "span16":
        return span16()
    if isinstance(raw, dict):
        keys = list(raw)
        if keys == ["span16"]:
            spec = _obj(file, f"{path}.span16", raw["span16"], (), ("extreme", "cover"))
            extreme = _frac(file, f"{path}.span16.extreme", spec.get("extreme", "3"))
            cover = _frac(file, f"{path}.span16.cover", spec.get("cover", "0.35"))
            return span16(extreme, cover)
        if keys == ["grid"]:
            spec = _obj(file, f"{path}.grid", raw["grid"], ("price_scan", "vol_scan"),
                        ("weight",))
            prices = [_frac(file, f"{path}.grid.price_scan[{k}]", v) for k, v in
                      enumerate(_list(file, f"{path}.grid.price_scan", spec["price_scan"],
                                      1, MAX_SCENARIOS))]
            vols = [_frac(file, f"{path}.grid.vol_scan[{k}]", v) for k, v in
                    enumerate(_list(file, f"{path}.grid.vol_scan", spec["vol_scan"], 1,
                                    MAX_SCENARIOS))]
            if len(prices) * len(vols) > MAX_SCENARIOS:
                raise InputError(file, f"the grid has {len(prices)} x {len(vols)} scenarios; "
                                 f"at most {MAX_SCENARIOS} are allowed", path=f"{path}.grid")
            weight = _frac(file, f"{path}.grid.weight", spec.get("weight", "1"))
            return grid(prices, vols, weight)
    if isinstance(raw, list):
        out = []
        for s, entry in enumerate(_list(file, path, raw, 1, MAX_SCENARIOS)):
            spath = f"{path}[{s}]"
            sc = _obj(file, spath, entry, ("name", "price_scan", "vol_scan"), ("weight",))
            if not isinstance(sc["name"], str) or isinstance(sc["name"], _RawNumber):
                raise InputError(file, "must be a string", path=f"{spath}.name",
                                 value=_show(sc["name"]))
            out.append(Scenario(
                sc["name"], _frac(file, f"{spath}.price_scan", sc["price_scan"]),
                _frac(file, f"{spath}.vol_scan", sc["vol_scan"]),
                _frac(file, f"{spath}.weight", sc.get("weight", "1"))))
        return tuple(out)
    raise InputError(
        file, "must be \"span16\", {\"span16\": {...}}, {\"grid\": {\"price_scan\": [...], "
        "\"vol_scan\": [...]}} or a list of {\"name\", \"price_scan\", \"vol_scan\"[, "
        "\"weight\"]}", path=path, value=_show(raw) if not isinstance(raw, dict | list) else None,
    )


@dataclass(frozen=True)
class _Underlying:
    price: Fraction  # USD
    price_scan_range: Fraction  # a fraction of the price
    vol_scan_range: Fraction  # vol points (0.1 = 10 points)


#: A value in USD: exact (a Fraction) when it is rational, else a 50-digit Decimal.
Value = Fraction | Decimal


def _shocked(file: str, path: str, u: _Underlying, sc: Scenario) -> Fraction:
    price = u.price * (1 + sc.price_scan * u.price_scan_range)
    if price <= 0:
        raise InputError(file, f"scenario {sc.name!r} moves the underlying price to "
                         f"{float(price):.8g}: a move must keep it positive", path=path)
    return price


def option_value(kind: str, f: Fraction, k: Fraction, t: Fraction, vol: Fraction,
                 rate: Fraction = Fraction(0)) -> Value:
    """Black-76 per unit of underlying: exact (the intrinsic value) when ``vol * sqrt(t)
    = 0`` and ``rate = 0``, else :func:`black76` in Decimal."""
    if (vol == 0 or t == 0) and rate == 0:
        return max(f - k if kind == "call" else k - f, Fraction(0))
    return black76(kind, _to_dec(f), _to_dec(k), _to_dec(t), _to_dec(vol), _to_dec(rate))


def loss_units(weight: Fraction, mark: Fraction, value: Value) -> int:
    """``ceil(weight * (mark - value) * 1e8)``: exact for a rational value, else with
    :data:`CEILING_MARGIN` (never below the exact ceiling)."""
    if isinstance(value, Fraction):
        return math.ceil(weight * (mark - value) * SCALE)
    with localcontext(_CONTEXT):
        return ceil_units(_to_dec(weight) * (_to_dec(mark) - value))


def _exact(raw: Decimal) -> Fraction:
    return Fraction(raw)


def build_params(doc: object, file: str = "<market>") -> RiskParams:
    """The params of a decoded market file (numbers as exact text), validated like any
    params file."""
    top = _obj(file, "$", doc, ("underlyings", "scenarios", "options", "assets", "perps"),
               ("as_of", "rate", "short_min_fraction"))
    as_of = _date(file, "as_of", top["as_of"]) if "as_of" in top else None
    rate = _exact(_dec(file, "rate", top["rate"])) if "rate" in top else Fraction(0)
    fraction = (_exact(_dec(file, "short_min_fraction", top["short_min_fraction"],
                            non_negative=True))
                if "short_min_fraction" in top else Fraction(0))
    underlyings: dict[str, _Underlying] = {}
    for i, raw in enumerate(_list(file, "underlyings", top["underlyings"], 1, 64)):
        path = f"underlyings[{i}]"
        ud = _obj(file, path, raw, ("symbol", "price", "price_scan_range", "vol_scan_range"))
        sym = _symbol(file, f"{path}.symbol", ud["symbol"])
        if sym in underlyings:
            raise InputError(file, "duplicate underlying", path=f"{path}.symbol", value=sym)
        underlyings[sym] = _Underlying(
            _exact(_dec(file, f"{path}.price", ud["price"], positive=True)),
            _exact(_dec(file, f"{path}.price_scan_range", ud["price_scan_range"],
                        non_negative=True)),
            _exact(_dec(file, f"{path}.vol_scan_range", ud["vol_scan_range"],
                        non_negative=True)),
        )
    scenarios = _scenarios(file, top["scenarios"])

    def underlying(path: str, raw: object) -> _Underlying:
        sym = _symbol(file, path, raw)
        if sym not in underlyings:
            raise InputError(file, f"unknown underlying (the market has "
                             f"{', '.join(underlyings)})", path=path, value=sym)
        return underlyings[sym]

    perps: list[object] = []
    for i, raw in enumerate(_list(file, "perps", top["perps"], 0, 64)):
        path = f"perps[{i}]"
        if not (isinstance(raw, dict) and "underlying" in raw):
            perps.append(raw)  # passed through (parse_params checks it)
            continue
        p = _obj(file, path, raw, ("symbol", "mark", "group", "underlying"))
        u = underlying(f"{path}.underlying", p["underlying"])
        mark = Fraction(_decimal_field(file, f"{path}.mark", p["mark"], positive=True),
                        SCALE)
        risk = []
        for s, sc in enumerate(scenarios):  # a linear contract: its value moves with F
            moved = mark * _shocked(file, f"{path}.underlying", u, sc) / u.price
            units = loss_units(sc.weight, mark, moved)
            risk.append(format_fixed(_checked(file, f"{path} (scenario {s})", units)))
        perps.append({"symbol": p["symbol"], "mark": p["mark"], "group": p["group"],
                      "risk": risk})
    options: list[object] = []
    for j, raw in enumerate(_list(file, "options", top["options"], 0, 10_000)):
        path = f"options[{j}]"
        o = _obj(file, path, raw, ("symbol", "underlying", "type", "strike", "expiry", "vol"),
                 ("group", "mark", "short_min", "multiplier"))
        u = underlying(f"{path}.underlying", o["underlying"])
        kind = o["type"]
        if kind not in _TYPES:
            raise InputError(file, "must be \"call\" or \"put\"", path=f"{path}.type",
                             value=_show(kind))
        kind = str(kind)
        strike = _exact(_dec(file, f"{path}.strike", o["strike"], positive=True))
        years = _expiry(file, f"{path}.expiry", o["expiry"], as_of)
        vol = _exact(_dec(file, f"{path}.vol", o["vol"], non_negative=True))
        mult = (_exact(_dec(file, f"{path}.multiplier", o["multiplier"], positive=True))
                if "multiplier" in o else Fraction(1))
        if "mark" in o:  # the exchange's published mark, exactly
            mark_units = _decimal_field(file, f"{path}.mark", o["mark"], positive=False,
                                        non_negative=True)
        else:  # the model value, rounded half up
            theo = option_value(kind, u.price, strike, years, vol, rate)
            mark_units = _checked(file, path, _round_value(mult, theo))
        mark = Fraction(mark_units, SCALE)
        if "short_min" in o:
            short_min: object = o["short_min"]
        else:  # a fraction of the underlying's value per contract, rounded up
            short_min = format_fixed(_checked(file, path, math.ceil(fraction * u.price * mult
                                                                    * SCALE)))
        risk = []
        for s, sc in enumerate(scenarios):
            moved = _shocked(file, f"{path}.underlying", u, sc)
            shocked_vol = max(vol + sc.vol_scan * u.vol_scan_range, Fraction(0))
            value = option_value(kind, moved, strike, years, shocked_vol, rate)
            scaled: Value = mult * value if isinstance(value, Fraction) else _times(mult, value)
            units = loss_units(sc.weight, mark, scaled)
            risk.append(format_fixed(_checked(file, f"{path} (scenario {s})", units)))
        options.append({
            "symbol": o["symbol"],
            "group": o.get("group", o["underlying"]),
            "mark": format_fixed(mark_units),
            "short_min": short_min,
            "risk": risk,
        })
    params_doc = {
        "assets": top["assets"],
        "perps": perps,
        "options": options,
        "portfolio": {"scenarios": [{"name": sc.name} for sc in scenarios]},
    }
    return parse_params(params_doc, file)


def _times(mult: Fraction, value: Decimal) -> Decimal:
    with localcontext(_CONTEXT):
        return _to_dec(mult) * value


def _round_value(mult: Fraction, value: Value) -> int:
    """``mult * value`` in USD x 1e8, rounded half up."""
    if isinstance(value, Fraction):
        scaled = mult * value * SCALE
        return math.floor(scaled + Fraction(1, 2))
    return round_units(_times(mult, value))


def _checked(file: str, path: str, units: int) -> int:
    if not -I63 < units < I63:
        raise InputError(file, f"a computed value ({units} x 1e-8 USD) is out of range: "
                         "|value x 10^8| must be below 2^63", path=path)
    return units


def _expiry(file: str, path: str, raw: object, as_of: dt.date | None) -> Fraction:
    if isinstance(raw, str) and not isinstance(raw, _RawNumber) and _DATE_RE.fullmatch(raw):
        if as_of is None:
            raise InputError(file, "a date expiry needs \"as_of\" (the valuation date) at "
                             "the top of the market file", path=path, value=raw)
        days = (_date(file, path, raw) - as_of).days
        if days <= 0:
            raise InputError(file, f"the option has expired ({days} days after as_of "
                             f"{as_of.isoformat()})", path=path, value=raw)
        return Fraction(days, DAYS_PER_YEAR)
    years = _dec(file, path, raw)
    if years <= 0:
        raise InputError(file, "years to expiry must be positive (or give a date "
                         "YYYY-MM-DD)", path=path, value=_show(raw))
    return Fraction(years)


def loads_market(text: str, file: str = "<market>") -> Any:
    """Decode a market file: numbers keep their exact decimal text."""
    try:
        return json.loads(text.removeprefix("\ufeff"), parse_float=_RawNumber,
                          parse_int=_RawNumber, object_pairs_hook=json_object)
    except json.JSONDecodeError as exc:
        raise InputError(file, f"is not valid JSON: {exc.msg}", row=exc.lineno) from None


def risk_arrays(path: str | Path) -> RiskParams:
    """The params of the market file at ``path``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(str(p), f"cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(str(p), "is not UTF-8 text") from None
    return build_params(loads_market(text, str(p)), str(p))


# --------------------------------------------------------------------------------------
# The sample market


def sample_market() -> dict[str, Any]:
    """A small market file for the demo: USDT, BTC (3 collateral tiers) and ETH; a
    bracket perp on ETH and a group perp on BTC; six BTC options and two ETH options
    under CME SPAN's 16 scenarios."""
    return {
        "as_of": "2026-01-02",
        "underlyings": [
            {"symbol": "BTC", "price": "97000", "price_scan_range": "0.15",
             "vol_scan_range": "0.10"},
            {"symbol": "ETH", "price": "3400", "price_scan_range": "0.20",
             "vol_scan_range": "0.12"},
        ],
        "scenarios": "span16",
        "short_min_fraction": "0.001",
        "assets": [
            {"symbol": "USDT", "price": "1", "weight_bps": 10000},
            {"symbol": "BTC", "price": "97000", "tiers": [
                {"max_value": "1000000", "weight_bps": 9500},
                {"max_value": "10000000", "weight_bps": 9000},
                {"max_value": None, "weight_bps": 8000}]},
            {"symbol": "ETH", "price": "3400", "weight_bps": 9000},
        ],
        "perps": [
            {"symbol": "BTC-PERP", "mark": "97010", "group": "BTC", "underlying": "BTC"},
            {"symbol": "ETH-PERP", "mark": "3401.5", "brackets": [
                {"max_notional": "100000", "mmr_ppm": 5000},
                {"max_notional": "1000000", "mmr_ppm": 10000},
                {"max_notional": None, "mmr_ppm": 25000}]},
        ],
        "options": [
            {"symbol": f"BTC-27MAR26-{k}-{t[0].upper()}", "underlying": "BTC", "type": t,
             "strike": str(k), "expiry": "2026-03-27", "vol": v}
            for k, t, v in ((90000, "put", "0.58"), (95000, "put", "0.55"),
                            (100000, "call", "0.54"), (110000, "call", "0.56"),
                            (80000, "call", "0.62"), (100000, "put", "0.54"))
        ] + [
            {"symbol": f"ETH-27MAR26-{k}-{t[0].upper()}", "underlying": "ETH", "type": t,
             "strike": str(k), "expiry": "2026-03-27", "vol": "0.68"}
            for k, t in ((3400, "call"), (3000, "put"))
        ],
    }


def write_sample_market(path: str | Path) -> Path:
    """Write :func:`sample_market` as JSON to ``path``."""
    from zkmargin.atomic import write_text_atomic

    out = Path(path)
    write_text_atomic(out, json.dumps(sample_market(), indent=2) + "\n")
    return out
