"""Account commitments: digest, salt, packing (non-overlapping), leaf; three-way checks."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import run_node
from zkmargin.commitments import (
    LEAF_TAG,
    SLOT_OFFSET,
    account_id_digest,
    account_leaf,
    account_slots,
    derive_salt,
    id_hash,
    leaf_from_fields,
    leaf_width,
    pack_values,
    padding_leaf,
    unpack_values,
)
from zkmargin.fixed import I63
from zkmargin.poseidon import Poseidon, get_poseidon

MAX = I63 - 1
value63 = st.one_of(st.sampled_from([0, 1, -1, MAX, -MAX]), st.integers(-MAX, MAX))


def test_digest_is_truncated_sha256() -> None:
    d = account_id_digest("alice")
    assert d == int.from_bytes(hashlib.sha256(b"alice").digest()[:31], "big")
    assert d < 1 << 248
    assert account_id_digest("alice") != account_id_digest("alice ")


def test_salt_is_deterministic_secret_dependent_and_bounded() -> None:
    s1 = derive_salt(b"0" * 32, "alice")
    assert s1 == derive_salt(b"0" * 32, "alice")
    assert s1 != derive_salt(b"1" * 32, "alice")
    assert s1 != derive_salt(b"0" * 32, "bob")
    assert 0 <= s1 < 1 << 248
    with pytest.raises(ValueError, match="at least 16 bytes, got 3"):
        derive_salt(b"abc", "alice")


def test_id_hash_range_checks(hasher: Poseidon) -> None:
    assert id_hash(1, 2, hasher) == hasher.hash((1, 2))
    with pytest.raises(ValueError, match=r"salt = \d+ must be in 0\.\.2\^248-1"):
        id_hash(1, 1 << 248, hasher)


@given(st.lists(value63, min_size=1, max_size=20))
def test_pack_roundtrip(values: list[int]) -> None:
    fields = pack_values(values)
    assert len(fields) == -(-len(values) // 3)
    assert all(0 <= f < 1 << 192 for f in fields)
    assert unpack_values(fields, len(values)) == values


@given(st.lists(value63, min_size=3, max_size=9), st.data())
def test_changing_one_value_changes_only_its_slot(values: list[int], data: st.DataObject) -> None:
    k = data.draw(st.integers(0, len(values) - 1))
    new = data.draw(value63.filter(lambda v: v != values[k]))
    changed = list(values)
    changed[k] = new
    a, b = pack_values(values), pack_values(changed)
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    assert diff == [k // 3]
    delta = b[k // 3] - a[k // 3]
    assert delta == (new - values[k]) << (64 * (k % 3))


@pytest.mark.parametrize("bad", [I63, -I63, 1 << 64])
def test_pack_rejects_out_of_range(bad: int) -> None:
    with pytest.raises(ValueError, match="outside the slot range"):
        pack_values([0, bad])
    with pytest.raises(ValueError, match="outside the signed 64-bit slot"):
        account_slots([bad], [], [])


def test_slot_order_and_layout() -> None:
    assert account_slots([1, 2], [3, 4], [5, 6]) == [1, 2, 3, 5, 4, 6]
    f = pack_values([-1, 0, 1, 2])
    assert f[0] == (SLOT_OFFSET - 1) | (SLOT_OFFSET << 64) | ((SLOT_OFFSET + 1) << 128)
    assert f[1] == SLOT_OFFSET + 2


def test_leaf_structure(hasher: Poseidon) -> None:
    idh = 12345
    bal, qty, cost = [10, -20], [3], [-4]
    fields = pack_values(account_slots(bal, qty, cost))
    assert len(fields) == 2
    assert account_leaf(idh, bal, qty, cost, hasher) == hasher.hash((LEAF_TAG, idh, *fields))
    # more than 10 fields fold: Poseidon(tag, idh, f1..f10), then Poseidon(h, f11..)
    many = list(range(1, 14))
    first = hasher.hash((LEAF_TAG, idh, *many[:10]))
    assert leaf_from_fields(idh, many, hasher) == hasher.hash((first, *many[10:]))
    # 11 fields would leave a 2-input Poseidon(h, f11): a zero field is appended
    eleven = many[:11]
    first = hasher.hash((LEAF_TAG, idh, *eleven[:10]))
    assert leaf_from_fields(idh, eleven, hasher) == hasher.hash((first, eleven[10], 0))


@pytest.mark.parametrize("fields", range(1, 80))
def test_no_leaf_hash_has_two_inputs(fields: int) -> None:
    """A leaf never uses a 2-input Poseidon (the hash of an inner node), for any shape, so
    no account can pose as a subtree (attack "node as leaf")."""
    widths = []

    class Recorder:
        name = "recorder"

        def hash(self, inputs: Sequence[int]) -> int:
            widths.append(len(inputs))
            return get_poseidon("fast").hash(inputs)

        def hash_pairs(self, flat: Sequence[int]) -> list[int]:
            raise AssertionError("a leaf hashes no pairs")

        def hash_many(self, width: int, flat: Sequence[int]) -> list[int]:
            widths.append(width)
            return get_poseidon("fast").hash_many(width, flat)

    leaf_from_fields(7, list(range(1, fields + 1)), Recorder())
    assert widths and min(widths) >= 3, widths
    assert leaf_width(fields) in (fields + 2, fields + 3)


def test_leaf_binds_every_value(hasher: Poseidon) -> None:
    base = ([5, -6, 7], [8, 9], [-10, 11])
    leaf = account_leaf(1, base[0], base[1], base[2], hasher=hasher)
    for part in range(3):
        for j in range(len(base[part])):
            changed = [list(p) for p in base]
            changed[part][j] += 1
            assert account_leaf(1, changed[0], changed[1], changed[2], hasher=hasher) != leaf
    assert account_leaf(2, base[0], base[1], base[2], hasher=hasher) != leaf


def test_padding_leaf_is_the_zero_account() -> None:
    assert padding_leaf(2, 1) == account_leaf(0, [0, 0], [0], [0])
    assert padding_leaf(2, 1) != padding_leaf(3, 1)


@pytest.mark.node
def test_leaves_match_circomlibjs() -> None:
    """Three-way: the fast hash, the Grain reference, and circomlibjs agree on leaves."""
    from zkmargin.poseidon import get_poseidon

    rng = random.Random(5)
    cases = []
    for n_a, n_p in [(1, 0), (2, 1), (8, 4), (20, 10)]:
        idh = id_hash(account_id_digest(f"acct-{n_a}"), rng.randrange(1 << 248))
        bal = [rng.randint(-MAX, MAX) for _ in range(n_a)]
        qty = [rng.randint(-MAX, MAX) for _ in range(n_p)]
        cost = [rng.randint(-MAX, MAX) for _ in range(n_p)]
        cases.append((idh, bal, qty, cost))
    fast = [account_leaf(*c, hasher=get_poseidon("fast")) for c in cases]
    ref = [account_leaf(*c, hasher=get_poseidon("reference")) for c in cases]
    assert fast == ref
    # circomlibjs, folding by hand the same way: [tag, id hash, fields, zero padding], the
    # first 12 in one Poseidon, then the chain and up to 11 more per Poseidon
    payload = []
    for idh, bal, qty, cost in cases:
        fields = pack_values(account_slots(bal, qty, cost))
        values = [LEAF_TAG, idh, *fields]
        values += [0] * (leaf_width(len(fields)) - len(values))
        payload.append([str(v) for v in values])
    # the node helper hashes flat lists; fold in Python only over its outputs
    results = []
    for inputs in payload:
        node = run_node("poseidon.js", [inputs[:12]])[0]
        for j in range(12, len(inputs), 11):
            node = run_node("poseidon.js", [[node, *inputs[j : j + 11]]])[0]
        results.append(int(node))
    assert results == fast


def test_option_slots_follow_the_perps() -> None:
    """Leaf order: [x_1..x_A, q_1, c_1, ..., q_P, c_P, o_1..o_O] (params order)."""
    assert account_slots([1, 2], [3, 4], [5, 6], [7, 8, 9]) == [1, 2, 3, 5, 4, 6, 7, 8, 9]
    assert account_slots([1], [], [], [-2]) == [1, -2]
    assert account_slots([1, 2], [3], [4], ()) == account_slots([1, 2], [3], [4])
    with pytest.raises(ValueError, match="outside the signed 64-bit slot"):
        account_slots([0], [], [], [I63])


def test_leaf_with_options(hasher: Poseidon) -> None:
    idh = 99
    bal, qty, cost, opt = [10, -20], [3], [-4], [5, -6, 7]
    fields = pack_values([10, -20, 3, -4, 5, -6, 7])
    assert len(fields) == 3
    leaf = account_leaf(idh, bal, qty, cost, hasher, opt)
    assert leaf == hasher.hash((LEAF_TAG, idh, *fields))
    assert leaf == account_leaf(idh, bal, qty, cost, hasher=hasher, options=opt)
    # no options: exactly the leaf of before options existed
    assert account_leaf(idh, bal, qty, cost, hasher, ()) == account_leaf(idh, bal, qty, cost,
                                                                       hasher)
    for j in range(len(opt)):
        changed = list(opt)
        changed[j] += 1
        assert account_leaf(idh, bal, qty, cost, hasher, changed) != leaf
    # a zero option slot still counts: a leaf with one more option is another leaf
    assert account_leaf(idh, bal, qty, cost, hasher, [*opt, 0]) != leaf


def test_padding_leaf_with_options() -> None:
    assert padding_leaf(2, 1, 0) == padding_leaf(2, 1)
    assert padding_leaf(2, 1, 3) == account_leaf(0, [0, 0], [0], [0], options=[0, 0, 0])
    assert padding_leaf(2, 1, 3) != padding_leaf(2, 1)
