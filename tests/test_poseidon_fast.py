"""The C Poseidon (``zkmargin.poseidon._fast``, the "fast" implementation) against the
readable reference: every width 1..16, edge values, many hashes per call, and refusal of
anything that is not a field element (never reduced modulo r in silence).

The reference is itself tested against light-poseidon and circomlibjs
(tests/test_poseidon_reference.py), and the fast one against circomlibjs through the
leaves and Merkle roots of tests/test_commitments.py and tests/test_merkle.py.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zkmargin.field import SNARK_FIELD
from zkmargin.poseidon import get_poseidon, poseidon_reference, sparse_form
from zkmargin.poseidon.reference import MAX_INPUTS

P = SNARK_FIELD
FAST = get_poseidon("fast")
ELEMENTS = st.one_of(st.integers(0, P - 1), st.sampled_from([0, 1, P - 1, P - 2, 1 << 253]))


@pytest.mark.parametrize("width", range(1, MAX_INPUTS + 1))
def test_every_width_matches_the_reference(width: int) -> None:
    rng = random.Random(width)
    cases = [[0] * width, [P - 1] * width, [(i % 2) * (P - 1) for i in range(width)]]
    cases += [[rng.randrange(P) for _ in range(width)] for _ in range(4)]
    flat = [x for case in cases for x in case]
    expected = [poseidon_reference(case) for case in cases]
    assert FAST.hash_many(width, flat) == expected
    assert [FAST.hash(case) for case in cases] == expected


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 12).flatmap(lambda w: st.tuples(
    st.just(w), st.lists(st.lists(ELEMENTS, min_size=w, max_size=w), min_size=1,
                         max_size=5))))
def test_many_hashes_in_one_call_equal_one_by_one(case: tuple[int, list[list[int]]]) -> None:
    width, rows = case
    assert FAST.hash_many(width, [x for r in rows for x in r]) == [
        poseidon_reference(r) for r in rows]


def test_sparse_form_is_the_reference_permutation_rewritten() -> None:
    """The rewritten rounds (appendix B form) hold the reference's constants, moved: one
    constant per partial round, a sparse matrix of 2t - 1 entries per partial round."""
    for width in (1, 2, 8, 16):
        full_rc, mixes, partial_rc, sparse = sparse_form(width)
        t = width + 1
        assert len(full_rc) == len(mixes) == 8
        assert all(len(row) == t for row in full_rc)
        assert len(partial_rc) == len(sparse) and all(len(s) == 2 * t - 1 for s in sparse)


@pytest.mark.parametrize("bad", [P, P + 1, (1 << 256) - 1, 1 << 256, -1])
def test_a_value_outside_the_field_is_refused_not_reduced(bad: int) -> None:
    with pytest.raises(ValueError, match="field"):
        FAST.hash([1, bad])
    with pytest.raises(ValueError, match="field"):
        FAST.hash_many(2, [1, 2, 3, bad])


def test_malformed_calls_are_refused() -> None:
    with pytest.raises(ValueError, match="multiple of 2"):
        FAST.hash_many(2, [1, 2, 3])
    with pytest.raises(ValueError, match=r"1\.\.16 inputs"):
        FAST.hash_many(17, [0] * 17)
    with pytest.raises(ValueError, match=r"1\.\.16 inputs"):
        FAST.hash([])
    assert FAST.hash_many(3, []) == []


def test_block_grain_gives_the_reference_constants_for_every_width() -> None:
    """The fast path's constants (18 Grain bits per step) are the reference's (one bit per
    step, the specification), for every width."""
    from zkmargin.poseidon import fast_constants
    from zkmargin.poseidon.reference import poseidon_constants

    for t in range(2, MAX_INPUTS + 2):
        assert fast_constants(t) == poseidon_constants(t)
    with pytest.raises(ValueError, match="width"):
        fast_constants(1)
