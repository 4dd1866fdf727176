"""Cheating witnesses the honest code never produces; the constraint system rejects each.

Two kinds of attempts:
* through the inputs (the witness calculator runs the honest hint code; its asserts are
  the circuit's constraints): out-of-range values, bad selectors, padding with balances,
  invalid parameters;
* by editing a finished witness (a prover is free to write any witness file): the R1CS
  evaluator must then find a violated constraint.
The circuit divides nothing, so there is no quotient/remainder hint to attack.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.circuit_helpers import (
    assert_cheat_refused_at,
    compiled,
    rejected,
    vector_accounts,
    witness,
)
from zkmargin.field import SNARK_FIELD
from zkmargin.fixed import I63
from zkmargin.prover.witness import plan_batch

pytestmark = [pytest.mark.node, pytest.mark.circuit]


def honest() -> dict[str, Any]:
    c = compiled()
    return plan_batch(c.params, c.shape, 0, vector_accounts()[:3]).inputs


def with_value(path: tuple[Any, ...], value: int) -> dict[str, Any]:
    inputs = copy.deepcopy(honest())
    node = inputs
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = str(value % SNARK_FIELD)
    return inputs


def test_honest_inputs_are_accepted() -> None:
    c = compiled()
    w = witness(honest())
    assert c.r1cs.first_violation(w) is None


# -- values out of range / field wrap ---------------------------------------------------

OUT_OF_RANGE = pytest.mark.parametrize(
    "value",
    [I63, -I63, I63 + 5, (SNARK_FIELD - 1) // 2, SNARK_FIELD - I63 - 1],
    ids=["2^63", "-2^63", "2^63+5", "half-field", "wrap-below--2^63"],
)


@pytest.mark.parametrize(
    "path",
    [("x", 0, 0), ("x", 1, 1), ("c", 0, 1)],
    ids=["balance", "balance-2", "perp-cost"],
)
@OUT_OF_RANGE
def test_out_of_range_values_are_rejected(path: tuple[Any, ...], value: int) -> None:
    rejected(with_value(path, value), "SignedInt64")


def _signed(value: int) -> int:
    """The signed integer a field element stands for (|v| < r/2)."""
    v = value % SNARK_FIELD
    return v - SNARK_FIELD if v > SNARK_FIELD // 2 else v


@OUT_OF_RANGE
def test_out_of_range_perp_size_is_rejected(value: int) -> None:
    """A perp size has no range check of its own: its |q| hint must sit between two
    thresholds below 2^63. The cheat is consistent: q, |q| and the sign hint agree."""
    inputs = with_value(("q", 2, 0), value)
    v = _signed(value)
    inputs["absq"][2][0] = str(abs(v) % SNARK_FIELD)
    inputs["qNonNeg"][2][0] = str(int(v >= 0))
    inputs["sel"][2][0] = ["0", "0", "1"]  # the unbounded bracket: upper edge 2^63
    msg = rejected(inputs, "Num2Bits")
    assert "Error in template RangeCheck_" in msg and "Error in template AccountMargin_" in msg


@pytest.mark.parametrize("field", ["absq", "qNonNeg"])
def test_size_hints_must_match_the_size(field: str) -> None:
    """|q| and its sign are hints: q = +-|q| with the sign boolean."""
    inputs = honest()
    assert inputs["q"][2][0] == str(10**8) and inputs["absq"][2][0] == str(10**8)
    if field == "absq":
        inputs["absq"][2][0] = str(10**8 + 1)  # a different size in the same bracket
    else:
        inputs["qNonNeg"][2][0] = "0"  # -|q| != q
    rejected(inputs, "AccountMargin")
    inputs = honest()
    inputs["qNonNeg"][2][0] = "2"  # not boolean (and 2*2-1 = 3: q = 3|q| for q = 0 only)
    rejected(inputs, "AccountMargin")


def test_leaf_slot_cannot_overflow_into_its_neighbour() -> None:
    """x0 = 2^63 would give slot 2^64, i.e. +1 in the next slot of the packed field."""
    msg = rejected(with_value(("x", 0, 0), I63), "Num2Bits")
    assert "Error in template SignedInt64_" in msg


# -- selector / bracket hints ------------------------------------------------------------

def test_selector_must_be_boolean() -> None:
    inputs = with_value(("sel", 2, 0, 0), 2)
    inputs["sel"][2][0][1] = str(SNARK_FIELD - 1)  # 2 + (-1) = 1: one-hot sum still 1
    inputs["sel"][2][0][2] = "0"
    rejected(inputs, "AccountMargin")


def test_selector_must_be_one_hot() -> None:
    inputs = honest()
    inputs["sel"][2][0] = ["1", "1", "0"]
    rejected(inputs, "AccountMargin")
    inputs["sel"][2][0] = ["0", "0", "0"]
    rejected(inputs, "AccountMargin")


@pytest.mark.parametrize("wrong", [0, 2])
def test_selector_must_pick_the_bracket_of_the_notional(wrong: int) -> None:
    inputs = honest()
    # account 2 holds 1 BTC-PERP: N = 60000 is in bracket 1 ([50000, 250000))
    assert inputs["sel"][2][0] == ["0", "1", "0"]
    sel = ["0", "0", "0"]
    sel[wrong] = "1"
    inputs["sel"][2][0] = sel
    # the bracket edge checks are range checks: N below the lower or above the upper edge
    rejected(inputs, "RangeCheck")


# -- padding -----------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["x", "q", "c", "idHash"])
def test_padding_account_must_be_zero(field: str) -> None:
    inputs = honest()
    assert inputs["isReal"][3] == "0"
    if field == "idHash":
        inputs["idHash"][3] = "5"
    else:
        inputs[field][3][0] = "5"
    rejected(inputs, "Batch")


def test_is_real_must_be_boolean() -> None:
    rejected(with_value(("isReal", 3), 2), "Batch")


# -- parameters --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("rate", 0, 1), 3000),  # below the previous bracket's 4000
        (("rate", 0, 2), 1_000_001),
        (("bound", 0, 1), 5_000_000_000_000),  # equal to the previous bound
        (("tierWeight", 1, 0), 10_001),
        (("tierWeight", 0, 0), -1),
        (("price", 0), 0),
        (("mark", 1), -5),
        (("bound", 0, 0), 0),  # the first bound must be >= 1
        (("bound", 0, 1), I63),  # increasing from the previous bound, but not below 2^63
    ],
    ids=["decreasing-rate", "rate-above-1e6", "equal-bounds", "weight-above-1",
         "negative-weight", "zero-price", "negative-mark", "zero-first-bound",
         "last-bound-2^63"],
)
def test_invalid_parameters_are_rejected(path: tuple[Any, ...], value: int) -> None:
    msg = rejected(with_value(path, value), "RangeCheck")
    assert "Error in template RiskParams_" in msg


def test_other_parameters_give_another_commitment() -> None:
    """Parameters are bound by the params hash inside the public commitment."""
    c = compiled()
    w = witness(honest())
    other = with_value(("price", 1), 6_000_100_000_000)  # BTC at 60001 instead of 60000
    w2 = witness(other)
    assert w2[c.sym["main.commitment"]] != w[c.sym["main.commitment"]]


# -- editing a finished witness ----------------------------------------------------------

def _tamper(name: str, delta: int) -> int | None:
    c = compiled()
    w = witness(honest())
    idx = c.sym[name]
    w[idx] = (w[idx] + delta) % SNARK_FIELD
    return c.r1cs.first_violation(w)


@pytest.mark.parametrize(
    "name",
    [
        "main.commitment",  # claiming other totals / root / params hash
        "main.acct[0].equity",
        "main.acct[1].requirement",
        "main.acct[1].deficient",  # hiding a deficient account
        "main.acct[1].shortfall",
        "main.acct[0].pos[0]",
        "main.acct[0].xs[0].inv",  # the inverse hint of the -2^63 exclusion
        "main.acct[2].mm[0]",
        "main.absq[2][0]",  # the |q| hint
        "main.leaf[0].leaf",
    ],
)
@pytest.mark.parametrize("delta", [1, -1])
def test_edited_witness_violates_a_constraint(name: str, delta: int) -> None:
    assert _tamper(name, delta) is not None


# -- the account count cannot be inflated -----------------------------------------------

def test_padding_slot_cannot_count_as_an_account() -> None:
    """Attack "inflated count": isReal = 1 on the all-zero, idHash-0 padding slot would add
    an account with the root unchanged (the padding leaf is the zero account's leaf)."""
    inputs = honest()
    assert inputs["isReal"] == ["1", "1", "1", "0"] and inputs["idHash"][3] == "0"
    inputs["isReal"][3] = "1"
    rejected(inputs, "Batch")


def test_real_accounts_come_before_padding() -> None:
    """Padding only after the last real account: a gap is refused even when every real
    account is well formed."""
    inputs = honest()
    for key in ("idHash", "x", "q", "c", "sel"):
        inputs[key][2], inputs[key][3] = inputs[key][3], inputs[key][2]
    inputs["isReal"] = ["1", "1", "0", "1"]
    rejected(inputs, "Batch")


# -- consistent multi-signal edits ------------------------------------------------------
# The witness a cheating prover writes: its inputs changed and EVERY dependent signal
# recomputed by the circuit's own hint code with the asserts compiled away, so only a
# constraint can refuse it. Each case names the constraint that must be the first one
# violated, by the signals it involves (a name, or a prefix ending in '.').

def _cheat(edit: Any) -> dict[str, Any]:
    inputs = honest()
    edit(inputs)
    return inputs


def _set(path: tuple[Any, ...], value: int) -> Any:
    def edit(inputs: dict[str, Any]) -> None:
        node = inputs
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = str(value % SNARK_FIELD)
    return edit


def _bracket(sel: list[str]) -> Any:
    def edit(inputs: dict[str, Any]) -> None:
        assert inputs["sel"][2][0] == ["0", "1", "0"]  # N = 60000 lies in bracket 1
        inputs["sel"][2][0] = sel  # one-hot, but another bracket
    return edit


def _huge_size(inputs: dict[str, Any]) -> None:
    """q = 2^63 with consistent hints, in the unbounded bracket: only the 2^63 edge stops it."""
    inputs["q"][2][0] = inputs["absq"][2][0] = str(I63)
    inputs["qNonNeg"][2][0] = "1"
    inputs["sel"][2][0] = ["0", "0", "1"]


def _threshold(delta: int) -> Any:
    """A threshold hint off by ``delta`` (a cheaper or dearer bracket edge for everyone)."""
    def edit(inputs: dict[str, Any]) -> None:
        inputs["thrCeil"][0][0] = str(int(inputs["thrCeil"][0][0]) + delta)
    return edit


def _clamp(inputs: dict[str, Any]) -> None:
    """Claim a reachable threshold is capped at 2^63 (the bracket could never be left)."""
    assert inputs["thrClamp"][0][1] == "0"
    inputs["thrClamp"][0][1] = "1"


def _gap(inputs: dict[str, Any]) -> None:
    for key in ("idHash", "x", "q", "c", "sel"):
        inputs[key][2], inputs[key][3] = inputs[key][3], inputs[key][2]
    inputs["isReal"] = ["1", "1", "0", "1"]


MULTI: dict[str, tuple[Any, set[str]]] = {
    "inflated-count": (_set(("isReal", 3), 1), {"main.isReal[3]", "main.idUnit[3]"}),
    "gap-before-padding": (_gap, {"main.isReal[2]", "main.isReal[3]"}),
    "balance-2^63": (_set(("x", 1, 0), I63), {"main.acct[1].xs[0].bits."}),
    "padding-with-balance": (_set(("x", 3, 1), 7), {"main.leaf[3].leaf", "main.isReal[3]"}),
    "weight-above-one": (_set(("tierWeight", 0, 0), 10_001),
                         {"main.params.weightHi[0][0].bits."}),
    "perp-size-2^63": (_huge_size, {"main.acct[2].upperOk[0].bits."}),
    "threshold-low": (_threshold(-1), {"main.params.threshold[0][0].gapLo.bits."}),
    "threshold-high": (_threshold(+1), {"main.params.threshold[0][0].gapHi.bits."}),
    "threshold-capped": (_clamp, {"main.params.threshold[0][1].clampOk.bits."}),
    "cheaper-bracket": (_bracket(["1", "0", "0"]), {"main.acct[2].upperOk[0].bits."}),
    "dearer-bracket": (_bracket(["0", "0", "1"]), {"main.acct[2].lowerOk[0].bits."}),
}


@pytest.mark.parametrize("name", sorted(MULTI))
def test_consistent_multi_signal_edit_is_refused(name: str) -> None:
    edit, expected = MULTI[name]
    assert_cheat_refused_at(honest(), _cheat(edit), expected)
