"""The exact margin core (docs/margin.md): two implementations behind one interface.

* :mod:`zkmargin.margin.reference` -- plain Python integers, read next to the spec;
* :mod:`zkmargin.margin.vectorized` -- NumPy, exact through 21-bit limbs.

Both take an :class:`AccountBlock` and return a :class:`BlockResult`; property tests
prove them equal over the full input range.
"""

from __future__ import annotations

from zkmargin.margin.model import AccountBlock, BlockResult, MarginCore, get_core

__all__ = ["AccountBlock", "BlockResult", "MarginCore", "get_core"]
