"""Cheating the hints of tiered collateral, options and portfolio groups (``batch-options-
test``, the parameters of tests/vectors/portfolio_cases.json): every new hint (tier
selector, tier thresholds, scenario selector) and every new value (option sizes, marks,
short minimums, risk arrays, group rows) is tried out of range, non-boolean, two-hot, or
pointing at a cheaper or dearer choice, both through the inputs (the honest hint code
asserts) and as a consistent cheating witness (only the R1CS can refuse it)."""

from __future__ import annotations

import copy
from collections.abc import Callable
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
from zkmargin.margin.reference import account_margin
from zkmargin.prover.witness import plan_batch

pytestmark = [pytest.mark.node, pytest.mark.circuit]

NAME = "batch-options-test"
Edit = Callable[[dict[str, Any]], None]

#: Two honest batches of vector accounts:
#: "tiers": BTC 1 (tier 0), 2 (exactly the 100000 USD bound: tier 1), 1.99999999 (tier
#:   0, one unit below the bound), 2.00000001 (tier 1);
#: "options": a naked short call (worst scenario up-15%), the same one unit short of
#:   margin, a covered call with a long group perp, a short ETH strangle (a scenario tie).
BATCHES = {"tiers": [0, 1, 2, 3], "options": [6, 7, 8, 12]}


def honest(batch: str) -> dict[str, Any]:
    c = compiled(NAME)
    accounts = [vector_accounts(NAME)[i] for i in BATCHES[batch]]
    return plan_batch(c.params, c.shape, 0, accounts).inputs


def edited(batch: str, *edits: Edit) -> dict[str, Any]:
    inputs = copy.deepcopy(honest(batch))
    for edit in edits:
        edit(inputs)
    return inputs


def put(path: tuple[Any, ...], value: int | list[int]) -> Edit:
    """Set the input at ``path`` (a field element, or a row of them)."""
    def edit(inputs: dict[str, Any]) -> None:
        node = inputs
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = ([str(v % SNARK_FIELD) for v in value] if isinstance(value, list)
                          else str(value % SNARK_FIELD))
    return edit


def test_honest_batches_are_accepted_and_as_described() -> None:
    c = compiled(NAME)
    tiers, options = honest("tiers"), honest("options")
    for inputs in (tiers, options):
        assert c.r1cs.first_violation(witness(inputs, NAME)) is None
    # BTC is asset 1: tiers 0, 1, 0, 1 for the four accounts
    assert [tiers["tierSel"][n][1] for n in range(4)] == [["1", "0", "0"], ["0", "1", "0"],
                                                          ["1", "0", "0"], ["0", "1", "0"]]
    # the naked short call's worst BTC scenario is up-15% (index 2); the strangle's ETH
    # scan ties (down and up cost the same): the selector takes the first maximum
    assert options["scanSel"][0][0] == ["0", "0", "1"]
    assert options["scanSel"][3][1] == ["1", "0", "0"]
    a = vector_accounts(NAME)[12]
    m = account_margin(c.params, a.balances, a.qty, a.cost, a.options)
    assert m.portfolio[1] > 0


# -- through the inputs: the honest hint code's asserts are the constraints ---------------

@pytest.mark.parametrize(
    ("batch", "edit", "template"),
    [
        # tier selector: not boolean (2 and -1 still sum to one), two-hot, none
        ("tiers", put(("tierSel", 0, 1), [2, -1, 0]), "AccountMargin"),
        ("tiers", put(("tierSel", 0, 1), [1, 1, 0]), "AccountMargin"),
        ("tiers", put(("tierSel", 0, 1), [0, 0, 0]), "AccountMargin"),
        # a cheaper tier (2.00000001 BTC valued at 95%) and a dearer one (1.99999999 at 90%)
        ("tiers", put(("tierSel", 3, 1), [1, 0, 0]), "RangeCheck"),
        ("tiers", put(("tierSel", 2, 1), [0, 1, 0]), "RangeCheck"),
        ("tiers", put(("tierSel", 0, 1), [0, 0, 1]), "RangeCheck"),
        # scenario selector: not boolean, two-hot, none, a cheaper scenario
        ("options", put(("scanSel", 0, 0), [2, 0, -1]), "AccountMargin"),
        ("options", put(("scanSel", 0, 0), [0, 1, 1]), "AccountMargin"),
        ("options", put(("scanSel", 0, 0), [0, 0, 0]), "AccountMargin"),
        ("options", put(("scanSel", 0, 0), [0, 1, 0]), "RangeCheck"),
        ("options", put(("scanSel", 0, 0), [1, 0, 0]), "RangeCheck"),
        # the covered call's group perp hedges in the BTC scan: a cheaper scenario there
        ("options", put(("scanSel", 2, 0), [0, 1, 0]), "RangeCheck"),
    ],
    ids=["tier-not-boolean", "tier-two-hot", "tier-none", "cheaper-tier", "dearer-tier",
         "last-tier", "scan-not-boolean", "scan-two-hot", "scan-none", "cheaper-scenario",
         "cheapest-scenario", "cheaper-scenario-with-group-perp"],
)
def test_account_hints_are_checked(batch: str, edit: Edit, template: str) -> None:
    msg = rejected(edited(batch, edit), template, NAME)
    assert "Error in template AccountMargin_" in msg


OUT_OF_RANGE = pytest.mark.parametrize(
    "value",
    [I63, -I63, (SNARK_FIELD - 1) // 2, SNARK_FIELD - I63 - 1],
    ids=["2^63", "-2^63", "half-field", "wrap-below--2^63"],
)


@OUT_OF_RANGE
def test_option_size_out_of_range_is_rejected(value: int) -> None:
    """|o| < 2^63 keeps o * mark and o * risk far from wrapping modulo p."""
    msg = rejected(edited("options", put(("o", 0, 0), value)), "SignedInt64", NAME)
    assert "Error in template AccountMargin_" in msg


def test_padding_account_holds_no_options() -> None:
    c = compiled(NAME)
    inputs = plan_batch(c.params, c.shape, 0, vector_accounts(NAME)[6:9]).inputs
    assert inputs["isReal"][3] == "0"
    inputs["o"][3][2] = "5"
    rejected(inputs, "Batch", NAME)


@pytest.mark.parametrize(
    ("edit", "template"),
    [
        (put(("optRisk", 0, 1), I63), "RangeCheck"),  # a loss of 2^63 per contract
        (put(("optRisk", 0, 1), -I63 - 1), "RangeCheck"),
        (put(("perpRisk", 0, 2), I63), "RangeCheck"),
        (put(("optMark", 1), -1), "RangeCheck"),
        (put(("optShortMin", 2), -1), "RangeCheck"),
        (put(("optGroup", 0), [1, 1]), "RiskParams"),  # an option in two groups
        (put(("optGroup", 0), [0, 0]), "RiskParams"),  # an option in none
        (put(("optGroup", 0), [2, -1]), "RiskParams"),  # not boolean, sums to one
        (put(("perpGroup", 0), [1, 1]), "RiskParams"),  # a perp in two groups
        (put(("perpGroup", 1), [2, -1]), "RiskParams"),
        (put(("tierWeight", 1, 1), 9600), "RangeCheck"),  # tier weights increasing
        (put(("tierWeight", 1, 0), 10_001), "RangeCheck"),
        (put(("tierWeight", 1, 2), -1), "RangeCheck"),
        (put(("tierBound", 1, 1), 10_000_000_000_000), "RangeCheck"),  # equal bounds
        (put(("tierBound", 1, 0), 0), "RangeCheck"),
        (put(("tierCeil", 1, 0), 200_000_001), "RangeCheck"),  # threshold hints
        (put(("tierCeil", 1, 0), 199_999_999), "RangeCheck"),
        (put(("tierClamp", 1, 0), 1), "RangeCheck"),
    ],
    ids=["option-risk-2^63", "option-risk-below--2^63", "perp-risk-2^63",
         "negative-option-mark", "negative-short-min", "option-in-two-groups",
         "option-in-no-group", "option-group-not-boolean", "perp-in-two-groups",
         "perp-group-not-boolean", "tier-weight-increasing", "tier-weight-above-one",
         "tier-weight-negative", "tier-bounds-equal", "tier-bound-zero",
         "tier-threshold-high", "tier-threshold-low", "tier-threshold-capped"],
)
def test_invalid_parameters_are_rejected(edit: Edit, template: str) -> None:
    msg = rejected(edited("options", edit), template, NAME)
    assert "Error in template RiskParams_" in msg


@pytest.mark.parametrize(
    "edit",
    [put(("optRisk", 0, 2), -400_000_000_000 + 1), put(("optShortMin", 0), 1),
     put(("optGroup", 0), [0, 1]), put(("perpGroup", 0), [0, 0]),
     put(("tierWeight", 1, 2), 7999), put(("scenarioName", 1), 7)],
    ids=["risk", "short-min", "option-group", "perp-group", "tier-weight", "scenario"],
)
def test_other_portfolio_parameters_give_another_commitment(edit: Edit) -> None:
    """Risk arrays, short minimums, group rows, tier weights and scenario names are all
    bound by the params hash in the public commitment."""
    c = compiled(NAME)
    # the tier accounts hold no options or group perps (every scenario line is 0) and no
    # BTC in tier 2: these parameter changes leave every honest hint valid
    base = witness(honest("tiers"), NAME)[c.sym["main.commitment"]]
    other = witness(edited("tiers", edit), NAME)  # valid parameters, accepted
    assert other[c.sym["main.commitment"]] != base


# -- editing a finished witness ------------------------------------------------------------

@pytest.mark.parametrize(
    "name",
    ["main.acct[0].pm[0]", "main.acct[0].pick[0][2]", "main.acct[3].pick[1][0]",
     "main.acct[0].shortTerm[0][0]", "main.acct[0].oNeg[0]", "main.acct[2].om[0]",
     "main.acct[0].requirement", "main.acct[1].deficient"],
)
@pytest.mark.parametrize("delta", [1, -1])
def test_edited_option_witness_violates_a_constraint(name: str, delta: int) -> None:
    c = compiled(NAME)
    w = witness(honest("options"), NAME)
    w[c.sym[name]] = (w[c.sym[name]] + delta) % SNARK_FIELD
    assert c.r1cs.first_violation(w) is not None


@pytest.mark.parametrize("name", ["main.acct[1].posw[1]", "main.acct[3].tierC[1][1]",
                                  "main.acct[0].tierThr[1][0]", "main.acct[0].tierConst[1][2]"])
@pytest.mark.parametrize("delta", [1, -1])
def test_edited_tier_witness_violates_a_constraint(name: str, delta: int) -> None:
    c = compiled(NAME)
    w = witness(honest("tiers"), NAME)
    w[c.sym[name]] = (w[c.sym[name]] + delta) % SNARK_FIELD
    assert c.r1cs.first_violation(w) is not None


# -- consistent multi-signal edits -----------------------------------------------------------
# Inputs changed and every dependent signal recomputed by the circuit's own hint code with
# the asserts compiled away: the cheat a prover can write. Each case names signals of the
# constraint that must be the first violated (exact names, or prefixes ending in '.').

MULTI: dict[str, tuple[str, Edit, set[str]]] = {
    "cheaper-tier": ("tiers", put(("tierSel", 3, 1), [1, 0, 0]),
                     {"main.acct[3].tierHiOk[1].bits."}),
    "dearer-tier": ("tiers", put(("tierSel", 2, 1), [0, 1, 0]),
                    {"main.acct[2].tierLoOk[1].bits."}),
    "tier-two-hot": ("tiers", put(("tierSel", 0, 1), [1, 1, 0]),
                     {"main.tierSel[0][1][0]", "main.tierSel[0][1][1]"}),
    "tier-not-boolean": ("tiers", put(("tierSel", 0, 1), [2, -1, 0]),
                         {"main.tierSel[0][1][0]"}),
    "tier-threshold-low": ("options", put(("tierCeil", 1, 0), 199_999_999),
                           {"main.params.tierThreshold[1][0].gapLo.bits."}),
    "tier-threshold-high": ("options", put(("tierCeil", 1, 0), 200_000_001),
                            {"main.params.tierThreshold[1][0].gapHi.bits."}),
    "tier-threshold-capped": ("options", put(("tierClamp", 1, 0), 1),
                              {"main.params.tierThreshold[1][0].clampOk.bits."}),
    "tier-weight-increasing": ("tiers", put(("tierWeight", 1, 1), 9600),
                               {"main.params.weightDown[1][1].bits."}),
    "cheaper-scenario": ("options", put(("scanSel", 0, 0), [0, 1, 0]),
                         {"main.acct[0].lineOk[0][2].bits."}),
    # --O2 substitutes the last selector entry by 1 minus the others (the one-hot sum), so
    # the violated row is the pick of that entry: (1 - s0 - s1) * line_2 != 1 * line_2
    "scan-two-hot": ("options", put(("scanSel", 0, 0), [0, 1, 1]),
                     {"main.acct[0].pick[0][2]", "main.scanSel[0][0][0]",
                      "main.scanSel[0][0][1]"}),
    "scan-not-boolean": ("options", put(("scanSel", 0, 0), [2, 0, -1]),
                         {"main.scanSel[0][0][0]"}),
    "option-size-wraps": ("options", put(("o", 0, 0), (SNARK_FIELD - 1) // 2),
                          {"main.acct[0].os[0].bits."}),
    "option-size-2^63": ("options", put(("o", 1, 0), -I63), {"main.acct[1].os[0]."}),
    "risk-2^63": ("options", put(("optRisk", 0, 1), I63), {"main.params.riskOk[2][1].bits."}),
    # the same substitution: optGroup[0][1] = 1 - optGroup[0][0] (exactly one group), so
    # the violated row is that member's risk product, (1 - 1) * L != 1 * L
    "option-in-two-groups": ("tiers", put(("optGroup", 0), [1, 1]),
                             {"main.optGroup[0][0]", "main.optRisk[0][0]"}),
    "perp-in-two-groups": ("tiers", put(("perpGroup", 0), [1, 1]),
                           {"main.perpGroup[0][0]", "main.perpGroup[0][1]"}),
}


@pytest.mark.parametrize("case", sorted(MULTI))
def test_consistent_multi_signal_edit_is_refused(case: str) -> None:
    batch, edit, expected = MULTI[case]
    assert_cheat_refused_at(honest(batch), edited(batch, edit), expected, NAME)
