"""Every library template on its own, through the test mains of circuits/circuits.json.

In the style of circomlib's ``test/poseidoncircuit.js``, each output is checked three ways:
against the Python twin (``fold_hash``, ``MerkleTree``, ``pack_values``, plain integer
logic), against a hard-coded known answer, and against the constraint system (the R1CS
holds for every honest witness and breaks when an output is edited). Out-of-range inputs
must fail the template's asserts (the witness calculator runs the same constraints).
"""

from __future__ import annotations

import json
import random
import re
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import load_vector
from zkmargin.commitments import fold_hash, leaf_from_fields, pack_values, padding_leaf
from zkmargin.errors import ZkMarginError
from zkmargin.field import SNARK_FIELD
from zkmargin.generate import GenerateOptions, make_params
from zkmargin.merkle import MerkleTree, zero_hashes
from zkmargin.params import loads_params
from zkmargin.paths import CIRCUITS_LIB
from zkmargin.poseidon import get_poseidon
from zkmargin.prover.binfmt import R1CS, read_r1cs, read_sym, read_wtns
from zkmargin.prover.pipeline import DEFAULT_BATCH_SIZE
from zkmargin.prover.toolchain import (
    CompiledMain,
    MainSpec,
    ToolchainError,
    calculate_witness,
    compile_circuit,
    compile_named,
    compile_template,
    registered,
    registered_shape,
    registry,
)
from zkmargin.statement import CircuitShape

pytestmark = [pytest.mark.node, pytest.mark.circuit]

P = SNARK_FIELD
I63 = 1 << 63

# Known answers, computed ONCE with the independent circomlibjs 0.1.7 (node_modules): its
# buildPoseidon, folding and building the tree by hand in JavaScript exactly as
# tests/js/poseidon.js and tests/js/merkle.js use it (no zkmargin code involved). The
# Poseidon([1]) and Poseidon([1, 2]) values are also circomlib's own test vectors.
# FoldHash(N, 12) over [1, 2, ..., N]:
KNOWN_FOLD = {
    1: 18586133768512220936620570745912940619677854269274689475585506675881198879027,
    11: 3572015662710076994097916907865950486270383304442561406230608893458731714472,
    12: 2501997477381648492950318384533644783248002172679259592360114615426357826485,
    13: 18223204463857662444816723992059667546994898008640883792593826447536288645412,
    23: 8928196585417620502141337204366090755140387227532055380831412164535429575065,
    24: 16091319150759963463972070286619058643242276322422694117226445442179401872435,
}
# SubtreeRoot(DEPTH) over the leaves [1, 2, ..., 2^DEPTH] (depth 1: Poseidon([1, 2])):
KNOWN_ROOT = {
    0: 1,
    1: 7853200120776062878684798364095072458815029376092732009249414926327459813530,
    2: 3330844108758711782672220159612173083623710937399719017074673646455206473965,
    3: 14629452129687363793084585378194807561782241384488665279773588974567494940279,
}
# AccountLeaf(S): (idHash, the signed values whose slots v + 2^63 are the inputs) -> leaf
KNOWN_LEAF = {
    4: (12345, [-1, 0, 1, I63 - 1],
        16701325043118799430027092067748185781162404920018004290506878127127057331231),
    34: (777, [i - 17 for i in range(34)],
         10797505700614526445249815288791593487045465673615228368933411357707813696722),
}
# SignedInt64: in -> (slot, nonNeg), by hand (slot = in + 2^63).
KNOWN_SIGNED = {
    0: (9223372036854775808, 1),
    1: (9223372036854775809, 1),
    -1: (9223372036854775807, 0),
    I63 - 1: (18446744073709551615, 1),
    -(I63 - 1): (1, 0),
}
# NonNegative(8): in -> flag, by hand.
KNOWN_SIGN_8 = {0: 1, 1: 1, 255: 1, -1: 0, -255: 0, -256: 0}


# -- helpers ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Main:
    circuit: CompiledMain
    sym: dict[str, int]
    r1cs: R1CS


@cache
def main(name: str) -> Main:
    circuit = compile_named(name)
    return Main(circuit, read_sym(circuit.sym), read_r1cs(circuit.r1cs))


def enc(v: int) -> str:
    """A signed integer as the decimal field element the witness calculator reads."""
    return str(v % P)


def _calculate(name: str, inputs: dict[str, Any]) -> list[int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = calculate_witness(main(name).circuit, inputs, Path(tmp) / "w.wtns",
                                engine="wasm")
        return read_wtns(out)


@cache
def _witness_cached(name: str, inputs_json: str) -> tuple[int, ...]:
    return tuple(_calculate(name, json.loads(inputs_json)))


def accepted(name: str, inputs: dict[str, Any]) -> list[int]:
    """The witness of ``inputs``; asserts the R1CS holds for it."""
    w = list(_witness_cached(name, json.dumps(inputs, sort_keys=True)))
    assert w[0] == 1
    assert main(name).r1cs.first_violation(w) is None
    return w


def value(name: str, w: list[int], signal: str) -> int:
    return w[main(name).sym[f"main.{signal}"]]


def rejected(name: str, inputs: dict[str, Any], *templates: str) -> str:
    """Assert the witness calculator refuses ``inputs`` with a failed circom assert inside
    each of ``templates``; return its message."""
    try:
        _calculate(name, inputs)
    except ToolchainError as exc:
        assert "Assert Failed" in exc.stderr, exc.stderr
        for template in templates:
            assert f"Error in template {template}_" in exc.stderr, exc.stderr[:800]
        return exc.stderr
    raise AssertionError(f"{name} accepted {inputs}")


def tampered(name: str, w: list[int], signal: str, delta: int = 1) -> int | None:
    """The first violated constraint once ``signal`` is edited in the finished witness."""
    edited = list(w)
    index = main(name).sym[f"main.{signal}"]
    edited[index] = (edited[index] + delta) % P
    return main(name).r1cs.first_violation(edited)


# -- the registry ------------------------------------------------------------------------

TEMPLATE = re.compile(r"^template\s+(\w+)\s*\(([^)]*)\)", re.MULTILINE)


def library_templates() -> dict[str, tuple[str, int]]:
    """Template name -> (file without .circom, number of parameters), from circuits/lib."""
    out = {}
    for src in sorted(CIRCUITS_LIB.glob("*.circom")):
        for name, params in TEMPLATE.findall(src.read_text()):
            out[name] = (src.stem, len([p for p in params.split(",") if p.strip()]))
    return out


def test_registry_entries_instantiate_library_templates() -> None:
    templates = library_templates()
    specs = registry()
    assert len(specs) >= 20
    for name, spec in specs.items():
        assert spec.template in templates, name
        assert (spec.file, len(spec.params)) == templates[spec.template], name
        assert spec.pubs == ()


def test_every_template_has_a_test_main_or_is_tested_in_the_batch() -> None:
    registered_templates = {spec.template for spec in registry().values()}
    # AccountMargin, RiskParams and its Threshold and IncreasingBounds: tests/test_circuit*.py
    # and tests/soundness/ (through Batch)
    assert set(library_templates()) - registered_templates == {
        "AccountMargin", "RiskParams", "Threshold", "IncreasingBounds"}


def test_batch_entries_are_the_shapes_in_use() -> None:
    vectors = loads_params(json.dumps(load_vector("margin_cases.json")["params"]))
    assert registered_shape("batch-test") == CircuitShape.for_params(vectors, 4)
    assert registered_shape("batch-test") == CircuitShape(2, 2, 3, 2)
    assert registered_shape("batch-test-one") == CircuitShape.for_params(vectors, 1)
    generated = make_params(GenerateOptions(accounts=1))  # what `zkmargin demo` generates
    assert registered_shape("batch-demo") == CircuitShape.for_params(generated, 8)
    assert registered_shape("batch-default") == CircuitShape.for_params(
        generated, DEFAULT_BATCH_SIZE)
    assert registered_shape("batch-default") == CircuitShape(8, 4, 4, 5)
    portfolio = loads_params(json.dumps(load_vector("portfolio_cases.json")["params"]))
    assert registered_shape("batch-options-test") == CircuitShape.for_params(portfolio, 4)
    assert registered_shape("batch-options-test") == CircuitShape(
        3, 2, 2, 2, tiers=3, options=4, groups=2, scenarios=3)
    # the options shape of benchmarks and circuit info: A=8, P=4, O=16 in 2 groups, S=16
    book = make_params(GenerateOptions(accounts=1, options=16, groups=2, scenarios=16))
    assert registered_shape("batch-options") == CircuitShape.for_params(book, 16)


def test_registry_lookups_fail_with_the_names() -> None:
    with pytest.raises(ZkMarginError, match=r"no circuit 'nope' in .*registered: batch-test"):
        registered("nope")
    with pytest.raises(ZkMarginError, match=r"FoldHash\(1, 12\) of fold.circom is not the "
                                            r"batch circuit"):
        registered_shape("fold-hash-1")
    with pytest.raises(ZkMarginError, match="parameter True is not an integer"):
        MainSpec("int", "RangeCheck", (True,))
    with pytest.raises(ZkMarginError, match="expected a name like 'batch'"):
        MainSpec("../int", "RangeCheck", (8,))


def test_a_registered_main_is_compiled_once_under_its_content_id() -> None:
    c = compile_named("range-check-8")
    assert compile_template("int", "RangeCheck", [8]) == c
    assert (c.directory / "circuit.circom").read_text() == (
        'pragma circom 2.1.6;\ninclude "int.circom";\ncomponent main = RangeCheck(8);\n')
    assert c.info["main"] == {"file": "int", "template": "RangeCheck", "params": [8]}
    assert c.directory.name == f"int-RangeCheck-8-{c.info['circuit_id']}"
    assert c.spec == registered("range-check-8")
    # a Batch entry is the batch circuit, in the directory `zkmargin prove` uses
    batch = compile_named("batch-test")
    assert batch == compile_circuit(CircuitShape(2, 2, 3, 2))
    assert batch.directory.name.startswith("batch-2-2-3-1-0-0-0-2-")
    assert batch.spec == registered("batch-test")


# -- FoldHash ----------------------------------------------------------------------------

FOLD_SIZES = sorted(KNOWN_FOLD)


def fold_inputs(values: list[int]) -> dict[str, Any]:
    return {"in": [enc(v) for v in values]}


@pytest.mark.parametrize("n", FOLD_SIZES)
def test_fold_hash_known_answer(n: int) -> None:
    name = f"fold-hash-{n}"
    values = list(range(1, n + 1))
    w = accepted(name, fold_inputs(values))
    assert value(name, w, "out") == KNOWN_FOLD[n]
    assert tampered(name, w, "out") is not None


@pytest.mark.parametrize("n", FOLD_SIZES)
def test_fold_hash_matches_python(n: int) -> None:
    name = f"fold-hash-{n}"
    rng = random.Random(n)
    values = [rng.randrange(P) for _ in range(n)]
    values[0], values[-1] = P - 1, 0
    w = accepted(name, fold_inputs(values))
    out = value(name, w, "out")
    for impl in ("fast", "reference"):
        assert out == fold_hash(values, get_poseidon(impl))
    assert out != KNOWN_FOLD[n]


# -- AccountLeaf -------------------------------------------------------------------------

def leaf_inputs(idh: int, values: list[int]) -> dict[str, Any]:
    return {"idHash": enc(idh), "slot": [enc(v + I63) for v in values]}


@pytest.mark.parametrize("s", sorted(KNOWN_LEAF))
def test_account_leaf_known_answer_and_python(s: int) -> None:
    name = f"account-leaf-{s}"
    idh, values, known = KNOWN_LEAF[s]
    w = accepted(name, leaf_inputs(idh, values))
    assert value(name, w, "leaf") == known
    assert leaf_from_fields(idh, pack_values(values)) == known
    assert tampered(name, w, "leaf") is not None
    rng = random.Random(s)
    other = [rng.randrange(-I63 + 1, I63) for _ in range(s)]
    idh2 = rng.randrange(P)
    w2 = accepted(name, leaf_inputs(idh2, other))
    assert value(name, w2, "leaf") == leaf_from_fields(idh2, pack_values(other))


def test_account_leaf_relies_on_the_callers_slot_range_check() -> None:
    """The NOTE of AccountLeaf: an unchecked slot 2^64 carries into its neighbour."""
    name = "account-leaf-4"
    honest = accepted(name, {"idHash": "9", "slot": ["0", "1", "5", "7"]})
    overflow = accepted(name, {"idHash": "9", "slot": [str(1 << 64), "0", "5", "7"]})
    assert value(name, overflow, "leaf") == value(name, honest, "leaf")


# -- SubtreeRoot -------------------------------------------------------------------------

@pytest.mark.parametrize("depth", sorted(KNOWN_ROOT))
def test_subtree_root_known_answer(depth: int) -> None:
    name = f"subtree-root-{depth}"
    leaves = list(range(1, 2**depth + 1))
    w = accepted(name, {"leaves": [str(x) for x in leaves]})
    assert value(name, w, "root") == KNOWN_ROOT[depth]
    assert MerkleTree.build(leaves, depth=depth).root == KNOWN_ROOT[depth]
    if depth == 0:  # the root is the leaf: --O2 leaves one wire and no constraint
        assert main(name).r1cs.constraints == []
    else:
        assert tampered(name, w, "root") is not None


@pytest.mark.parametrize("depth", sorted(KNOWN_ROOT))
def test_subtree_root_matches_python_with_padding(depth: int) -> None:
    name = f"subtree-root-{depth}"
    pad = padding_leaf(2, 2)  # the padding leaf of the batch-test shape
    rng = random.Random(depth)
    real = [rng.randrange(P) for _ in range((2**depth + 1) // 2)]
    leaves = real + [pad] * (2**depth - len(real))
    w = accepted(name, {"leaves": [str(x) for x in leaves]})
    assert value(name, w, "root") == MerkleTree.build(real, depth=depth, pad_leaf=pad).root
    only_padding = accepted(name, {"leaves": [str(pad)] * 2**depth})
    assert value(name, only_padding, "root") == zero_hashes(depth, pad)[depth]


# -- RangeCheck --------------------------------------------------------------------------

def range_bits(name: str, w: list[int], n: int) -> dict[int, int]:
    """The bits of the decomposition that --O2 kept as wires (it substitutes one away)."""
    sym = main(name).sym
    bits = {i: w[sym[f"main.bits.out[{i}]"]] for i in range(n) if f"main.bits.out[{i}]" in sym}
    assert len(bits) >= n - 1
    return bits


@pytest.mark.parametrize("n", [8, 252])
def test_range_check_accepts_0_to_2n_minus_1(n: int) -> None:
    name = f"range-check-{n}"
    rng = random.Random(n)
    for v in [0, 1, (1 << n) - 1, rng.randrange(1 << n)]:
        assert 0 <= v < 1 << n  # the Python range logic
        w = accepted(name, {"in": str(v)})
        assert value(name, w, "in") == v
        assert all(bit == (v >> i) & 1 for i, bit in range_bits(name, w, n).items())
        assert tampered(name, w, "in") is not None


def test_range_check_known_bits() -> None:
    known = [1, 0, 1, 0, 0, 1, 0, 1]  # 0xA5, least significant bit first
    w = accepted("range-check-8", {"in": str(0xA5)})
    assert all(bit == known[i] for i, bit in range_bits("range-check-8", w, 8).items())
    w = accepted("range-check-252", {"in": str((1 << 252) - 1)})
    assert set(range_bits("range-check-252", w, 252).values()) == {1}


@pytest.mark.parametrize("n", [8, 252])
@pytest.mark.parametrize("bad", ["2^N", "2^N+1", "p-1", "(p-1)/2"])
def test_range_check_rejects(n: int, bad: str) -> None:
    v = {"2^N": 1 << n, "2^N+1": (1 << n) + 1, "p-1": P - 1, "(p-1)/2": (P - 1) // 2}[bad]
    assert not 0 <= v < 1 << n  # the Python range logic agrees
    rejected(f"range-check-{n}", {"in": str(v)}, "Num2Bits", "RangeCheck")


# -- SignedInt64 -------------------------------------------------------------------------

@pytest.mark.parametrize("v", sorted(KNOWN_SIGNED))
def test_signed_int64_known_answer_and_python(v: int) -> None:
    name = "signed-int64"
    w = accepted(name, {"in": enc(v)})
    slot, non_neg = KNOWN_SIGNED[v]
    assert (value(name, w, "slot"), value(name, w, "nonNeg")) == (slot, non_neg)
    assert pack_values([v]) == [slot]  # the Python twin: the leaf slot
    assert non_neg == int(v >= 0)
    assert tampered(name, w, "slot") is not None
    assert tampered(name, w, "nonNeg") is not None


def test_signed_int64_random_values() -> None:
    rng = random.Random(64)
    for _ in range(4):
        v = rng.randrange(-I63 + 1, I63)
        w = accepted("signed-int64", {"in": enc(v)})
        assert value("signed-int64", w, "slot") == pack_values([v])[0] == v + I63
        assert value("signed-int64", w, "nonNeg") == int(v >= 0)


@pytest.mark.parametrize(
    ("v", "template"),
    [(I63, "Num2Bits"), (I63 + 5, "Num2Bits"), (-I63, "SignedInt64"),
     ((P - 1) // 2, "Num2Bits"), (-I63 - 1, "Num2Bits")],
    ids=["2^63", "2^63+5", "-2^63", "half-field", "wrap-below--2^63"],
)
def test_signed_int64_rejects(v: int, template: str) -> None:
    rejected("signed-int64", {"in": enc(v)}, template, "SignedInt64")
    if abs(v) < P // 4:  # the Python twin refuses the same integers
        with pytest.raises(ValueError, match="outside the slot range"):
            pack_values([v])


# -- NonNegative -------------------------------------------------------------------------

@pytest.mark.parametrize("v", sorted(KNOWN_SIGN_8))
def test_non_negative_8_known_answer(v: int) -> None:
    w = accepted("non-negative-8", {"in": enc(v)})
    assert value("non-negative-8", w, "flag") == KNOWN_SIGN_8[v] == int(v >= 0)
    assert tampered("non-negative-8", w, "flag") is not None


def test_non_negative_150_matches_python() -> None:
    name = "non-negative-150"
    bound = 1 << 150
    rng = random.Random(150)
    cases = [0, 1, -1, bound - 1, -(bound - 1), rng.randrange(bound), -rng.randrange(bound)]
    for v in cases:
        assert abs(v) < bound
        w = accepted(name, {"in": enc(v)})
        assert value(name, w, "flag") == int(v >= 0)
        assert tampered(name, w, "flag") is not None


@pytest.mark.parametrize("width", [8, 150])
def test_non_negative_accepts_minus_2w_with_the_right_sign(width: int) -> None:
    """The header's NOTE: the decomposition admits in = -2^W (flag 0, still correct)."""
    name = f"non-negative-{width}"
    w = accepted(name, {"in": enc(-(1 << width))})
    assert value(name, w, "flag") == 0


@pytest.mark.parametrize("width", [8, 150])
@pytest.mark.parametrize("bad", ["2^W", "2^W+1", "-2^W-1", "(p-1)/2"])
def test_non_negative_rejects(width: int, bad: str) -> None:
    b = 1 << width
    v = {"2^W": b, "2^W+1": b + 1, "-2^W-1": -b - 1, "(p-1)/2": (P - 1) // 2}[bad]
    rejected(f"non-negative-{width}", {"in": enc(v)}, "Num2Bits", "NonNegative")
