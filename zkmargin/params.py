"""Public risk parameters: assets (price, collateral weight) and perps (mark, brackets).

Loaded from one JSON file and validated on load; every violation names the file, the
JSON field and the offending value. Integer units follow docs/margin.md:

* ``price``, ``mark``, ``max_notional``: USD x 10^8 (``0 < value < 2^63``);
* ``weight_bps``: basis points ``0..10000`` (collateral weight of a positive balance);
* ``mmr_ppm``: maintenance-margin rate in parts per million ``0..10^6``.

Brackets: bounds strictly increase, rates never decrease, the last bracket is unbounded
(``"max_notional": null``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkmargin.errors import InputError, ValueRangeError
from zkmargin.fixed import I63, SCALE, parse_fixed

SYMBOL_RE = re.compile(r"[A-Z0-9_-]{1,31}")  # 31 bytes: one field element in the params hash
WEIGHT_ONE = 10_000  # basis points
RATE_ONE = 1_000_000  # ppm
MAX_ASSETS = 64
MAX_PERPS = 64
MAX_BRACKETS = 16
if WEIGHT_ONE != 10**4 or RATE_ONE != 10**6:
    raise AssertionError("weights are in basis points, rates in parts per million")


@dataclass(frozen=True)
class Asset:
    symbol: str
    price: int  # USD x 1e8
    weight_bps: int


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
    symbol: str
    mark: int  # USD x 1e8
    brackets: tuple[Bracket, ...]

    def deductions(self) -> tuple[int, ...]:
        """Maintenance amounts ``D_k`` in F (USD x 1e22), docs/margin.md.

        ``D_1 = 0`` and ``D_k = sum_{j<k} (B_j * 1e8) * (r_{j+1} - r_j)``, which makes the
        bracket lines ``N * r_k - D_k`` meet at every bound.
        """
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
class RiskParams:
    assets: tuple[Asset, ...]
    perps: tuple[Perp, ...]

    @property
    def asset_symbols(self) -> tuple[str, ...]:
        return tuple(a.symbol for a in self.assets)

    @property
    def perp_symbols(self) -> tuple[str, ...]:
        return tuple(p.symbol for p in self.perps)

    @property
    def max_brackets(self) -> int:
        return max((len(p.brackets) for p in self.perps), default=0)

    def snapshot_columns(self) -> tuple[str, ...]:
        """The value columns of a snapshot, in canonical order (after ``account_id``)."""
        cols = list(self.asset_symbols)
        for p in self.perps:
            cols += [f"{p.symbol}.qty", f"{p.symbol}.cost"]
        return tuple(cols)

    def to_json(self) -> dict[str, Any]:
        """The canonical JSON form (decimal strings), which :func:`parse_params` reads back."""
        from zkmargin.fixed import format_fixed

        return {
            "assets": [
                {"symbol": a.symbol, "price": format_fixed(a.price), "weight_bps": a.weight_bps}
                for a in self.assets
            ],
            "perps": [
                {
                    "symbol": p.symbol,
                    "mark": format_fixed(p.mark),
                    "brackets": [
                        {
                            "max_notional": None
                            if b.max_notional is None
                            else format_fixed(b.max_notional),
                            "mmr_ppm": b.mmr_ppm,
                        }
                        for b in p.brackets
                    ],
                }
                for p in self.perps
            ],
        }


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


def _decimal_field(file: str, path: str, raw: object, *, positive: bool) -> int:
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


def _symbol(file: str, path: str, raw: object) -> str:
    if not isinstance(raw, str) or isinstance(raw, _RawNumber) or not SYMBOL_RE.fullmatch(raw):
        raise InputError(
            file, "must be a symbol matching [A-Z0-9_-]+ of at most 31 characters", path=path,
            value=_show(raw)
        )
    return raw


def _obj(file: str, path: str, raw: object, keys: Sequence[str]) -> dict[str, object]:
    if not isinstance(raw, dict):
        raise InputError(file, "must be a JSON object", path=path, value=_show(raw))
    if isinstance(raw, JsonObject) and raw.duplicate is not None:
        raise InputError(file, f"duplicate key {raw.duplicate!r}", path=path)
    unknown = sorted(set(raw) - set(keys))
    if unknown:
        raise InputError(
            file, f"unknown key {unknown[0]!r}; allowed keys: {', '.join(keys)}", path=path
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


def parse_params(doc: object, file: str = "<params>") -> RiskParams:
    """Validate a decoded params document (numbers as :class:`_RawNumber` text)."""
    top = _obj(file, "$", doc, ("assets", "perps"))
    assets: list[Asset] = []
    seen: set[str] = set()
    for i, raw in enumerate(_list(file, "assets", top["assets"], 1, MAX_ASSETS)):
        path = f"assets[{i}]"
        a = _obj(file, path, raw, ("symbol", "price", "weight_bps"))
        sym = _symbol(file, f"{path}.symbol", a["symbol"])
        if sym in seen:
            raise InputError(file, "duplicate asset symbol", path=f"{path}.symbol", value=sym)
        seen.add(sym)
        assets.append(
            Asset(
                symbol=sym,
                price=_decimal_field(file, f"{path}.price", a["price"], positive=True),
                weight_bps=_int_field(file, f"{path}.weight_bps", a["weight_bps"], 0, WEIGHT_ONE),
            )
        )
    perps: list[Perp] = []
    seen_perps: set[str] = set()
    for i, raw in enumerate(_list(file, "perps", top["perps"], 0, MAX_PERPS)):
        path = f"perps[{i}]"
        p = _obj(file, path, raw, ("symbol", "mark", "brackets"))
        sym = _symbol(file, f"{path}.symbol", p["symbol"])
        if sym in seen_perps:
            raise InputError(file, "duplicate perp symbol", path=f"{path}.symbol", value=sym)
        if sym in seen:
            raise InputError(
                file, "perp symbol equals an asset symbol", path=f"{path}.symbol", value=sym
            )
        seen_perps.add(sym)
        mark = _decimal_field(file, f"{path}.mark", p["mark"], positive=True)
        raw_brackets = _list(file, f"{path}.brackets", p["brackets"], 1, MAX_BRACKETS)
        brackets: list[Bracket] = []
        for k, rb in enumerate(raw_brackets):
            bpath = f"{path}.brackets[{k}]"
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
        perps.append(Perp(symbol=sym, mark=mark, brackets=tuple(brackets)))
    return RiskParams(assets=tuple(assets), perps=tuple(perps))


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
