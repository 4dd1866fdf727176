"""Human-readable rendering of exact integers (display only; JSON keeps the integers)."""

from __future__ import annotations

from zkmargin.fixed import FINE_DECIMALS, SCALE_DECIMALS


def group_digits(whole: str) -> str:
    out = []
    for i, ch in enumerate(reversed(whole)):
        if i and i % 3 == 0:
            out.append(",")
        out.append(ch)
    return "".join(reversed(out))


def format_units(value: int, decimals: int, shown: int) -> str:
    """``value / 10^decimals`` with ``shown`` decimals, truncated toward zero, grouped."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**decimals)
    text = group_digits(str(whole))
    if shown:
        text += "." + str(frac).rjust(decimals, "0")[:shown]
    return sign + text


def usd(value_fine: int) -> str:
    """F (USD x 1e22) as dollars and cents, truncated toward zero, grouped."""
    return format_units(value_fine, FINE_DECIMALS, 2)


def amount(value: int) -> str:
    """An amount x 1e8 with its significant decimals, grouped."""
    text = format_units(value, SCALE_DECIMALS, SCALE_DECIMALS)
    return text.rstrip("0").rstrip(".") if "." in text else text
