"""Exact fixed-point decimals: text with at most 8 fractional digits -> integer x 10^8.

No float ever touches a value: ``"0.1"`` becomes exactly ``10_000_000``. Snapshot values
may also use exponent notation with a signed exponent, as JSON and CSV writers print
floats (``1e-05``, ``1.5E+3``), when the value is exactly a decimal of at most 8
fractional digits (:func:`parse_fixed` with ``exponent=True``); params never do.
"""

from __future__ import annotations

import re

from zkmargin.errors import ValueRangeError

#: Fixed-point scale of amounts, prices and notionals: value = units x 10^8.
SCALE_DECIMALS = 8
SCALE: int = 10**SCALE_DECIMALS
#: Decimals of the fine unit F of equity, requirement and shortfall: USD x 10^22
#: (a balance x 1e8 times a price x 1e8 times a weight in bps x 100).
FINE_DECIMALS = 22
if SCALE != 100_000_000 or FINE_DECIMALS != 2 * SCALE_DECIMALS + 6:
    raise AssertionError("fixed-point units: SCALE = 1e8 and F = USD x 1e22")

#: Largest magnitude of a signed 64-bit quantity (balances, positions, costs): |x| < 2^63.
I63 = 1 << 63

_DECIMAL = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]+))?")
# sign, whole digits, fraction digits, exponent sign (required), exponent digits
_EXPONENT = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]+))?[eE]([+-])([0-9]+)")
#: Whole digits the regex-free path takes (a valid value has at most 11; longer text takes
#: the regex path, which converts its parts separately, as before).
_FAST_DIGITS = 30
#: Longer text is refused outright (far below Python's int() limit of 4,300 digits).
_MAX_CHARS = 1000
#: Exponents beyond this many digits are not computed: the value is out of range or inexact.
_MAX_EXPONENT_DIGITS = 4

_NOT_DECIMAL = (
    "is not a decimal number (expected digits with an optional sign and up to "
    f"{SCALE_DECIMALS} fractional digits, e.g. -12.5"
)


def parse_fixed(text: str, *, exponent: bool = False) -> int:
    """Parse a decimal string into an exact integer x 10^8.

    Accepts an optional sign, digits, and an optional fraction of 1..8 digits.
    Rejects NaN/Infinity, empty text, thousands separators and more than 8 fractional
    digits, raising :class:`ValueRangeError` with the reason. Exponents are rejected too,
    unless ``exponent`` is true: then ``<decimal>e<sign><digits>`` (the sign is required,
    as Python, JavaScript, C and spreadsheets print it: ``1e-05``, ``1E+3``) is accepted
    when the value it denotes has at most 8 fractional digits.
    """
    # the common case first, without the regex: [sign]digits[.1-8 digits], ASCII only
    # (the same set _DECIMAL accepts there; anything else takes the path below)
    whole, dot, frac = text.partition(".")
    digits = whole[1:] if whole[:1] in ("-", "+") else whole
    if (len(digits) <= _FAST_DIGITS and digits.isascii() and digits.isdigit()
            and (not dot or (frac.isascii() and frac.isdigit() and len(frac) <= SCALE_DECIMALS))):
        value = int(digits + frac.ljust(SCALE_DECIMALS, "0"))
        return -value if whole[:1] == "-" else value
    return _parse_fixed_slow(text, exponent)


def _parse_fixed_slow(text: str, exponent: bool) -> int:
    if len(text) > _MAX_CHARS:
        raise ValueRangeError(f"is {len(text)} characters long: far out of range")
    m = _DECIMAL.fullmatch(text)
    if m is None:
        stripped = text.strip()
        if stripped != text and stripped:
            return parse_fixed(stripped, exponent=exponent)
        if exponent:
            e = _EXPONENT.fullmatch(text)
            if e is not None:
                return _parse_exponent(*e.groups())
            raise ValueRangeError(
                f"{_NOT_DECIMAL}; or exponent notation with a signed exponent, e.g. "
                "1e-05, 1.5E+3)"
            )
        raise ValueRangeError(f"{_NOT_DECIMAL})")
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


def _parse_exponent(sign: str, whole: str, frac: str | None, exp_sign: str,
                    exp_digits: str) -> int:
    """``[sign]whole[.frac]e<exp_sign>exp_digits`` as an exact integer x 10^8."""
    frac = frac or ""
    digits = (whole + frac).lstrip("0")
    if not digits:
        return 0
    significant = digits.rstrip("0")
    exp_text = exp_digits.lstrip("0") or "0"
    huge = len(exp_text) > _MAX_EXPONENT_DIGITS
    exp = 0 if huge else int(exp_text)
    if exp_sign == "-":
        exp = -exp
    # value x 10^8 = int(whole + frac) x 10^shift
    shift = SCALE_DECIMALS + exp - len(frac)
    if (huge and exp_sign == "+") or len(digits) + shift > 2 * SCALE_DECIMALS + 20:
        raise ValueRangeError("is out of range: |value x 10^8| must be below 2^63")
    # fractional digits of the value: the significant digits below 10^0
    fraction_digits = len(significant) - (len(digits) + exp - len(frac))
    if huge or fraction_digits > SCALE_DECIMALS:
        shown = f"more than {10**_MAX_EXPONENT_DIGITS}" if huge else str(fraction_digits)
        raise ValueRangeError(
            f"has {shown} fractional digits; at most {SCALE_DECIMALS} are allowed"
        )
    mantissa = int(digits)
    value: int = mantissa * 10**shift if shift >= 0 else mantissa // 10**-shift
    return -value if sign == "-" else value


def format_fixed(value: int, decimals: int = SCALE_DECIMALS) -> str:
    """Render an integer x 10^decimals as a plain decimal string, trailing zeros removed."""
    sign = "-" if value < 0 else ""
    q, r = divmod(abs(value), 10**decimals)
    if r == 0:
        return f"{sign}{q}"
    frac = str(r).rjust(decimals, "0").rstrip("0")
    return f"{sign}{q}.{frac}"
