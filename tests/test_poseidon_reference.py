"""The pure-Python reference Poseidon against circomlib-compatible implementations.

* arities 1..12: light_poseidon_python (Rust/arkworks, circomlib constants);
* arities 13..16: circomlibjs itself, run by node (light-poseidon stops at 12 inputs).
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import light_poseidon_python
import pytest

from zkmargin.field import SNARK_FIELD
from zkmargin.poseidon.reference import (
    PARTIAL_ROUNDS,
    PoseidonConstants,
    _bits,
    poseidon_constants,
    poseidon_reference,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
NODE_HELPER = REPO_ROOT / "tests" / "js" / "poseidon.js"
P = SNARK_FIELD


def _random_inputs(rng: random.Random, arity: int, count: int) -> list[list[int]]:
    """``count`` input lists of length ``arity``: edge cases first, then uniform ones."""
    cases = [[0] * arity, [P - 1] * arity, [(i % 2) * (P - 1) for i in range(arity)]]
    cases += [[rng.randrange(P) for _ in range(arity)] for _ in range(count)]
    # Sprinkle 0 and p-1 into random positions too.
    for _ in range(2):
        case = [rng.randrange(P) for _ in range(arity)]
        case[rng.randrange(arity)] = 0
        case[rng.randrange(arity)] = P - 1
        cases.append(case)
    return cases


def _light_poseidon(inputs: list[int]) -> int:
    hasher = light_poseidon_python.Hasher(len(inputs))
    digest = hasher.hash_bytes_be([x.to_bytes(32, "big") for x in inputs])
    assert isinstance(digest, str) and digest.startswith("0x")
    return int(digest, 16)


def _circomlibjs(batches: list[list[int]]) -> list[int]:
    request = json.dumps([[str(x) for x in inputs] for inputs in batches])
    done = subprocess.run(
        ["node", str(NODE_HELPER)],
        input=request,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=REPO_ROOT,
    )
    hashes = json.loads(done.stdout)
    assert len(hashes) == len(batches)
    return [int(h) for h in hashes]


def test_known_answer_two_inputs() -> None:
    expected = 0x115CC0F5E7D690413DF64C6B9662E9CF2A3617F2743245519E19607A4417189A
    assert poseidon_reference([1, 2]) == expected


@pytest.mark.parametrize("arity", range(1, 13))
def test_matches_light_poseidon(arity: int) -> None:
    rng = random.Random(0x5EED + arity)
    for inputs in _random_inputs(rng, arity, count=6):
        assert poseidon_reference(inputs) == _light_poseidon(inputs), inputs


@pytest.mark.node
def test_matches_circomlibjs_wide() -> None:
    rng = random.Random(0xC1C0)
    batches = [inputs for arity in range(13, 17) for inputs in _random_inputs(rng, arity, 4)]
    # A few narrow ones as well, to check the node helper against the Rust hasher's answers.
    batches += [[1, 2], [0], [P - 1, 0, 5]]
    expected = _circomlibjs(batches)
    for inputs, want in zip(batches, expected, strict=True):
        assert poseidon_reference(inputs) == want, f"arity {len(inputs)}: {inputs}"


@pytest.mark.parametrize("t", range(2, 18))
def test_constants_shape(t: int) -> None:
    c = poseidon_constants(t)
    assert isinstance(c, PoseidonConstants)
    assert c.t == t
    assert c.full_rounds == 8
    assert c.partial_rounds == PARTIAL_ROUNDS[t - 2]
    assert len(c.round_constants) == c.full_rounds + c.partial_rounds
    assert all(len(row) == t and all(0 <= x < P for x in row) for row in c.round_constants)
    assert len(c.mds) == t
    assert all(len(row) == t and all(0 < x < P for x in row) for row in c.mds)
    assert poseidon_constants(t) is c  # cached


def test_constants_bad_width() -> None:
    for t in (0, 1, 18):
        with pytest.raises(ValueError, match="state width"):
            poseidon_constants(t)


def test_rejects_input_equal_to_modulus() -> None:
    with pytest.raises(ValueError, match=rf"input 1 = {P} is not a field element"):
        poseidon_reference([5, P])


def test_rejects_negative_input() -> None:
    with pytest.raises(ValueError, match=r"input 0 = -1 is not a field element"):
        poseidon_reference([-1, 2])


@pytest.mark.parametrize("count", [0, 17])
def test_rejects_bad_arity(count: int) -> None:
    with pytest.raises(ValueError, match=rf"takes 1\.\.16 inputs, got {count}"):
        poseidon_reference([1] * count)


def test_grain_seed_bits_refuse_values_that_do_not_fit() -> None:
    """A raise, not an assert: a too-wide seed field would be truncated under python -O."""
    assert _bits(5, 4) == [0, 1, 0, 1]
    for value in (16, -1):
        with pytest.raises(ValueError, match=rf"{value} does not fit in 4 bits"):
            _bits(value, 4)
