"""Human-readable rendering of exact integers (display only; JSON keeps the integers)."""

from __future__ import annotations

from zkmargin.fixed import SCALE_DECIMALS
from zkmargin.margin.model import FINE_DECIMALS, Totals


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
    return format_units(value_fine, FINE_DECIMALS, 2)


def amount(value: int) -> str:
    text = format_units(value, SCALE_DECIMALS, SCALE_DECIMALS)
    return text.rstrip("0").rstrip(".") if "." in text else text


def render_check(totals: Totals, snapshot: str, params: str, max_ids: int = 10) -> str:
    lines = [
        f"zkmargin check: {snapshot} under {params}",
        "",
        f"  {'accounts':<28}{group_digits(str(totals.accounts)):>26}",
        f"  {'deficient accounts':<28}{group_digits(str(totals.deficient)):>26}",
        f"  {'total shortfall (USD)':<28}{usd(totals.shortfall_total):>26}",
        f"  {'total equity (USD)':<28}{usd(totals.equity_total):>26}",
        f"  {'total requirement (USD)':<28}{usd(totals.requirement_total):>26}",
        "",
        f"  {'asset':<10}{'liabilities (user balances)':>30}{'debts (user borrowing)':>30}",
    ]
    for a, sym in enumerate(totals.asset_symbols):
        lines.append(
            f"  {sym:<10}{amount(totals.liabilities[a]):>30}{amount(totals.debts[a]):>30}"
        )
    lines.append("")
    if totals.deficient_ids:
        shown = ", ".join(totals.deficient_ids[:max_ids])
        more = totals.deficient - min(max_ids, totals.deficient)
        lines.append(f"  first deficient accounts: {shown}" + (f" (+{more} more)" if more else ""))
    else:
        lines.append("  no deficient accounts: every account's equity covers its requirement")
    lines.append("  (USD figures truncated to cents; --json gives exact integers in USD x 1e22)")
    return "\n".join(lines)
