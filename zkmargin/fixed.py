"""Exact fixed-point decimals: text with at most 8 fractional digits -> integer x 10^8.

No float ever touches a value: ``"0.1"`` becomes exactly ``10_000_000``.
"""

from __future__ import annotations

import re

from zkmargin.errors import ValueRangeError

#: Fixed-point scale of amounts, prices and notionals: value = units x 10^8.
SCALE_DECIMALS = 8
SCALE = 10**SCALE_DECIMALS
#: Decimals of the fine unit F of equity, requirement and shortfall: USD x 10^22
#: (a balance x 1e8 times a price x 1e8 times a weight in bps x 100).
FINE_DECIMALS = 22
if SCALE != 100_000_000 or FINE_DECIMALS != 2 * SCALE_DECIMALS + 6:
    raise AssertionError("fixed-point units: SCALE = 1e8 and F = USD x 1e22")

#: Largest magnitude of a signed 64-bit quantity (balances, positions, costs): |x| < 2^63.
I63 = 1 << 63

_DECIMAL = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]+))?")


def parse_fixed(text: str) -> int:
    """Parse a decimal string into an exact integer x 10^8.

    Accepts an optional sign, digits, and an optional fraction of 1..8 digits.
    Rejects exponents, NaN/Infinity, empty text, thousands separators and more than
    8 fractional digits, raising :class:`ValueRangeError` with the reason.
    """
    m = _DECIMAL.fullmatch(text)
    if m is None:
        stripped = text.strip()
        if stripped != text and _DECIMAL.fullmatch(stripped):
            return parse_fixed(stripped)
        raise ValueRangeError(
            "is not a decimal number (expected digits with an optional sign and up to "
            f"{SCALE_DECIMALS} fractional digits, e.g. -12.5)"
        )
    sign: str = m.group(1)
    whole: str = m.group(2)
    frac: str = m.group(3) or ""
    if len(frac) > SCALE_DECIMALS:
        raise ValueRangeError(
            f"has {len(frac)} fractional digits; at most {SCALE_DECIMALS} are allowed"
        )
    value: int = int(whole) * SCALE
    if frac:
        value += int(frac) * 10 ** (SCALE_DECIMALS - len(frac))
    return -value if sign == "-" else value


def format_fixed(value: int, decimals: int = SCALE_DECIMALS) -> str:
    """Render an integer x 10^decimals as a plain decimal string, trailing zeros removed."""
    sign = "-" if value < 0 else ""
    q, r = divmod(abs(value), 10**decimals)
    if r == 0:
        return f"{sign}{q}"
    frac = str(r).rjust(decimals, "0").rstrip("0")
    return f"{sign}{q}.{frac}"
