"""The R1CS evaluator refuses witnesses that are no assignment of the wires (wrong length,
a value outside [0, r), wire 0 not 1) and finds the violated constraint of an edited one.

A tiny hand-written R1CS for the unit tests; the cached batch test circuit for the rest.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.circuit_helpers import Compiled, compiled, vector_accounts, witness
from zkmargin.errors import ZkMarginError
from zkmargin.field import SNARK_FIELD
from zkmargin.prover.binfmt import R1CS, WitnessError
from zkmargin.prover.witness import plan_batch

P = SNARK_FIELD

# Wires: 0 = the constant 1, 1 = out, 2 = x, 3 = y.
# Constraint 0: x * y = out.  Constraint 1: (x + 1) * 1 = y.
TINY = R1CS(
    prime=P,
    n_wires=4,
    n_outputs=1,
    n_pub_inputs=0,
    n_prv_inputs=1,
    constraints=[
        ([(2, 1)], [(3, 1)], [(1, 1)]),
        ([(0, 1), (2, 1)], [(0, 1)], [(3, 1)]),
    ],
)
HONEST = [1, 12, 3, 4]  # x = 3, y = 4, out = 12


def _lc(terms: list[tuple[int, int]], w: list[int]) -> int:
    return sum(coef * w[wire] for wire, coef in terms) % P


def _holds(r1cs: R1CS, w: list[int]) -> bool:
    """Every constraint, evaluated without the evaluator's witness checks."""
    return all(_lc(a, w) * _lc(b, w) % P == _lc(c, w) for a, b, c in r1cs.constraints)


# -- the tiny R1CS ------------------------------------------------------------------------

def test_tiny_honest_witness_passes() -> None:
    assert TINY.first_violation(HONEST) is None
    TINY.check_witness(HONEST)  # does not raise


def test_tiny_all_zero_witness_is_refused() -> None:
    zero = [0, 0, 0, 0]
    assert _holds(TINY, zero)  # why the check is needed: 0 satisfies every constraint
    with pytest.raises(WitnessError, match=r"wire 0 is 0; it must be the constant 1"):
        TINY.first_violation(zero)


def test_tiny_wire_zero_two_is_refused() -> None:
    # Scaling the honest witness by 2 keeps the constant-free constraint 0 true.
    with pytest.raises(WitnessError, match=r"wire 0 is 2; it must be the constant 1"):
        TINY.first_violation([2, 24, 6, 8])


@pytest.mark.parametrize("w", [HONEST[:3], [*HONEST, 0], []], ids=["short", "long", "empty"])
def test_tiny_wrong_length_is_refused(w: list[int]) -> None:
    with pytest.raises(WitnessError, match=rf"witness has {len(w)} values; the R1CS has 4 wires"):
        TINY.first_violation(w)


@pytest.mark.parametrize("bad", [P, P + 12, 2 * P + 12, -1], ids=["r", "r+12", "2r+12", "-1"])
def test_tiny_value_outside_the_field_is_refused(bad: int) -> None:
    w = list(HONEST)
    w[1] = bad
    with pytest.raises(WitnessError, match=rf"wire 1 is {bad}; a field element must be in"):
        TINY.first_violation(w)


def test_tiny_value_equal_to_r_plus_its_residue_would_satisfy() -> None:
    """Why the range check is needed: out = 12 + r satisfies x * y = out mod r."""
    w = [1, 12 + P, 3, 4]
    assert _holds(TINY, w)
    with pytest.raises(WitnessError):
        TINY.check_witness(w)


@pytest.mark.parametrize(("wire", "index"), [(1, 0), (2, 0), (3, 0)])
def test_tiny_edited_signal_is_caught(wire: int, index: int) -> None:
    w = list(HONEST)
    w[wire] = (w[wire] + 1) % P
    assert TINY.first_violation(w) == index


def test_tiny_second_constraint_is_reported() -> None:
    # x = 3, y = 5, out = 15: constraint 0 holds, y = x + 1 does not.
    assert TINY.first_violation([1, 15, 3, 5]) == 1


def test_no_constraints_still_checks_the_witness() -> None:
    empty = R1CS(P, 1, 0, 0, 0, [])
    assert empty.first_violation([1]) is None
    with pytest.raises(WitnessError):
        empty.first_violation([0])


def test_witness_error_is_a_value_error_and_a_zkmargin_error() -> None:
    assert issubclass(WitnessError, ValueError)
    assert issubclass(WitnessError, ZkMarginError)


def test_checks_survive_python_dash_o() -> None:
    code = (
        "from zkmargin.prover.binfmt import R1CS, WitnessError\n"
        "r = R1CS(7, 2, 0, 0, 0, [([(1, 1)], [(1, 1)], [(1, 1)])])\n"
        "for w in ([0, 0], [2, 0], [1], [1, 7]):\n"
        "    try:\n"
        "        r.first_violation(w)\n"
        "    except WitnessError:\n"
        "        continue\n"
        "    raise SystemExit(f'accepted {w}')\n"
        "assert False, 'asserts are on'\n"
    )
    done = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


# -- the cached batch test circuit ---------------------------------------------------------

def _honest() -> tuple[Compiled, list[int]]:
    c = compiled()
    return c, witness(plan_batch(c.params, c.shape, 0, vector_accounts()[:3]).inputs)


@pytest.mark.node
@pytest.mark.circuit
def test_circuit_honest_witness_passes() -> None:
    c, w = _honest()
    assert len(w) == c.r1cs.n_wires
    assert w[0] == 1
    assert c.r1cs.first_violation(w) is None


@pytest.mark.node
@pytest.mark.circuit
def test_circuit_all_zero_witness_is_refused() -> None:
    c, w = _honest()
    zero = [0] * len(w)
    assert _holds(c.r1cs, zero)  # the constraints alone accept it
    with pytest.raises(WitnessError, match=r"wire 0 is 0; it must be the constant 1"):
        c.r1cs.first_violation(zero)


@pytest.mark.node
@pytest.mark.circuit
def test_circuit_wire_zero_two_is_refused() -> None:
    c, w = _honest()
    w[0] = 2
    with pytest.raises(WitnessError, match=r"wire 0 is 2; it must be the constant 1"):
        c.r1cs.first_violation(w)


@pytest.mark.node
@pytest.mark.circuit
def test_circuit_short_witness_is_refused() -> None:
    c, w = _honest()
    n = c.r1cs.n_wires
    with pytest.raises(WitnessError, match=rf"witness has {n - 1} values; the R1CS has {n} wires"):
        c.r1cs.first_violation(w[:-1])


@pytest.mark.node
@pytest.mark.circuit
def test_circuit_value_at_least_r_is_refused() -> None:
    c, w = _honest()
    idx = c.sym["main.commitment"]
    w[idx] += P  # the same residue: every constraint still holds mod r
    assert _holds(c.r1cs, w)
    with pytest.raises(WitnessError, match=rf"wire {idx} is {w[idx]}; a field element"):
        c.r1cs.first_violation(w)


@pytest.mark.node
@pytest.mark.circuit
def test_circuit_edited_signal_is_caught() -> None:
    c, w = _honest()
    idx = c.sym["main.commitment"]
    w[idx] = (w[idx] + 1) % P
    violated = c.r1cs.first_violation(w)
    assert violated is not None
    a, b, cc = c.r1cs.constraints[violated]
    assert idx in {wire for wire, _ in (*a, *b, *cc)}  # the violated constraint reads it
