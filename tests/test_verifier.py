"""The Python Groth16 verifier (reference: py_ecc, fast: groth16py) on real proofs.

Every case runs on both implementations (one parametrized fixture) and on
``snarkjs groth16 verify``, whose verdict is recorded next to ours in ``CASES``: snarkjs
reduces non-canonical coordinates and projective encodings and ACCEPTS them, where the
EVM's precompiles and this verifier refuse them.

Proofs come from the shared small proved exchange (tests/support/exchange.py: the real
CLI, shape A=2, P=2, L=3, K=4); batches 0 and 1 are used.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.exchange import Exchange
from tests.support.node import SNARKJS
from zkmargin.errors import ZkMarginError
from zkmargin.field import BASE_FIELD as Q
from zkmargin.field import SNARK_FIELD as R
from zkmargin.prover.backends import proof_from_evm
from zkmargin.verifier import (
    Groth16Verifier,
    Proof,
    ProofFormatError,
    VerificationKey,
    from_calldata,
    get_verifier,
    parse_public,
    proof_to_evm_bytes,
    to_calldata,
    verify,
    verify_batch,
    verify_files,
)
from zkmargin.verifier.curve import (
    B2,
    G2_COFACTOR,
    G2Point,
    g2_in_subgroup,
    g2_in_subgroup_naive,
    g2_on_curve,
)

pytestmark = [pytest.mark.circuit, pytest.mark.node, pytest.mark.slow]



@pytest.fixture(params=["reference", "fast"])
def verifier(request: pytest.FixtureRequest) -> Groth16Verifier:
    if request.param == "fast":
        pytest.importorskip("groth16py")
    return get_verifier(request.param)


@dataclass
class Run:
    art: Path
    vk_path: Path
    vk: dict[str, Any]
    proofs: list[dict[str, Any]]
    publics: list[list[str]]

    def batch(self, i: int) -> Path:
        return self.art / "batches" / f"{i:06d}"


@pytest.fixture(scope="module")
def run(exchange: Exchange) -> Run:
    art = exchange.art
    manifest = json.loads((art / "manifest.json").read_text())
    assert manifest["batches"] == 3
    vk_path = art / manifest["verification_key"]
    batches = [art / "batches" / f"{i:06d}" for i in range(2)]
    return Run(art, vk_path, json.loads(vk_path.read_text()),
               [json.loads((b / "proof.json").read_text()) for b in batches],
               [json.loads((b / "public.json").read_text()) for b in batches])


def snarkjs_verify(tmp: Path, vk: Any, proof: Any, public: Any) -> str:
    """What ``snarkjs groth16 verify`` says: its log line (``OK!``, ``Invalid proof``, ...)."""
    paths = [tmp / "vk.json", tmp / "proof.json", tmp / "public.json"]
    for path, doc in zip(paths, (vk, proof, public), strict=True):
        path.write_text(json.dumps(doc))
    proc = subprocess.run([*SNARKJS, "groth16", "verify", str(paths[0]), str(paths[2]),
                           str(paths[1])], capture_output=True, text=True, timeout=300,
                          check=False)
    out = proc.stdout + proc.stderr
    for verdict in ("OK!", "Invalid proof", "Public inputs are not valid.",
                    "Proof commitments are not valid.", "TypeError"):
        if verdict in out:
            assert (proc.returncode == 0) == (verdict == "OK!"), out
            return verdict
    raise AssertionError(f"unexpected snarkjs output: {out}")


def our_verdict(verifier: Groth16Verifier, vk: Any, proof: Any, public: Any) -> bool | str:
    """True/False from the pairing check, or the ProofFormatError message."""
    try:
        key = VerificationKey.from_json(vk)
        return verifier.verify(key, Proof.from_json(proof), parse_public(public, key.n_public))
    except ProofFormatError as exc:
        return str(exc)


# --- malformed and wrong inputs ------------------------------------------------------------

def sqrt_fq(a: int) -> int | None:
    s = pow(a, (Q + 1) // 4, Q)  # q = 3 (mod 4)
    return s if s * s % Q == a % Q else None


def fq2_mul(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    return (a[0] * b[0] - a[1] * b[1]) % Q, (a[0] * b[1] + a[1] * b[0]) % Q


def sqrt_fq2(a: tuple[int, int]) -> tuple[int, int] | None:
    """A square root in F_q2 = F_q[u]/(u^2 + 1) via the norm, or None."""
    s = sqrt_fq((a[0] ** 2 + a[1] ** 2) % Q)
    if s is None:
        return None
    for n in (s, Q - s):
        x0 = sqrt_fq((a[0] + n) * pow(2, -1, Q) % Q)
        if x0:
            x = (x0, a[1] * pow(2 * x0, -1, Q) % Q)
            if fq2_mul(x, x) == (a[0] % Q, a[1] % Q):
                return x
    return None


def twist_points(count: int) -> list[G2Point]:
    """Points (k + u, y) on the twist for k = 1, 2, ...: NOT multiplied by the cofactor."""
    out = []
    for k in range(1, 1000):
        x = (k, 1)
        x3 = fq2_mul(fq2_mul(x, x), x)
        y = sqrt_fq2(((x3[0] + B2[0]) % Q, (x3[1] + B2[1]) % Q))
        if y is not None:
            out.append((x, y))
            if len(out) == count:
                return out
    raise AssertionError("not enough points found")


def twist_point_outside_subgroup() -> G2Point:
    return twist_points(1)[0]


def g2_json(p: G2Point) -> list[list[str]]:
    return [[str(p[0][0]), str(p[0][1])], [str(p[1][0]), str(p[1][1])], ["1", "0"]]


Docs = tuple[dict[str, Any], dict[str, Any], list[str]]


def with_proof(f: Callable[[dict[str, Any]], None]) -> Callable[[Run], Docs]:
    def make(run: Run) -> Docs:
        proof = copy.deepcopy(run.proofs[0])
        f(proof)
        return run.vk, proof, run.publics[0]
    return make


def a_plus_q(p: dict[str, Any]) -> None:
    p["pi_a"][0] = str(int(p["pi_a"][0]) + Q)


def b_x_c1_plus_q(p: dict[str, Any]) -> None:
    p["pi_b"][0][1] = str(int(p["pi_b"][0][1]) + Q)


def a_off_curve(p: dict[str, Any]) -> None:
    p["pi_a"][1] = str((int(p["pi_a"][1]) + 1) % Q)


def b_halves_swapped(p: dict[str, Any]) -> None:
    p["pi_b"][0].reverse()
    p["pi_b"][1].reverse()


def b_outside_subgroup(p: dict[str, Any]) -> None:
    p["pi_b"] = g2_json(twist_point_outside_subgroup())


def a_z_2(p: dict[str, Any]) -> None:
    p["pi_a"][2] = "2"


def a_jacobian_z_5(p: dict[str, Any]) -> None:
    """The SAME point A written in Jacobian coordinates (x z^2, y z^3, z), z = 5."""
    x, y = int(p["pi_a"][0]), int(p["pi_a"][1])
    p["pi_a"] = [str(x * 25 % Q), str(y * 125 % Q), "5"]


def a_infinity(p: dict[str, Any]) -> None:
    p["pi_a"] = ["0", "1", "0"]


def public_plus(k: int) -> Callable[[Run], Docs]:
    return lambda run: (run.vk, run.proofs[0], [str(int(run.publics[0][0]) + k)])


def other_batch_proof(run: Run) -> Docs:
    return run.vk, run.proofs[1], run.publics[0]


def vk_ic1_negated(run: Run) -> Docs:
    vk = copy.deepcopy(run.vk)
    vk["IC"][1][1] = str(Q - int(vk["IC"][1][1]))  # -IC[1]: a valid point, the wrong key
    return vk, run.proofs[0], run.publics[0]


def vk_ic0_plus_q(run: Run) -> Docs:
    vk = copy.deepcopy(run.vk)
    vk["IC"][0][0] = str(int(vk["IC"][0][0]) + Q)
    return vk, run.proofs[0], run.publics[0]


def vk_gamma_outside_subgroup(run: Run) -> Docs:
    vk = copy.deepcopy(run.vk)
    vk["vk_gamma_2"] = g2_json(twist_point_outside_subgroup())
    return vk, run.proofs[0], run.publics[0]


def two_publics(run: Run) -> Docs:
    return run.vk, run.proofs[0], run.publics[0] * 2


def valid(i: int) -> Callable[[Run], Docs]:
    return lambda run: (run.vk, run.proofs[i], run.publics[i])


#: name -> (make the documents, our verdict: bool or a regex of the error message,
#:          what snarkjs 0.7.6 ``groth16 verify`` says)
CASES: dict[str, tuple[Callable[[Run], Docs], bool | str, str]] = {
    "valid batch 0": (valid(0), True, "OK!"),
    "valid batch 1": (valid(1), True, "OK!"),
    "public + 1": (public_plus(1), False, "Invalid proof"),
    "public + r (alias)": (public_plus(R),
                           r"^public\[0\]: \d+ is not below the scalar field modulus r$",
                           "Public inputs are not valid."),
    "two public signals": (two_publics, r"^public: has 2 values; the verification key takes "
                           r"nPublic = 1$", "TypeError"),
    "A.x + q": (with_proof(a_plus_q),
                r"^proof\.pi_a\[0\]: \d+ is not below the base field modulus q$", "OK!"),
    "B.x.c1 + q": (with_proof(b_x_c1_plus_q),
                   r"^proof\.pi_b\[0\]\[1\]: \d+ is not below the base field modulus q$", "OK!"),
    "A not on the curve": (with_proof(a_off_curve),
                           r"^proof\.pi_a: \(\d+, \d+\) is not on the curve y\^2 = x\^3 \+ 3$",
                           "Proof commitments are not valid."),
    "B on the twist, outside the subgroup": (
        with_proof(b_outside_subgroup),
        r"^proof\.pi_b: .* is on the twist but not in the order-r subgroup$", "Invalid proof"),
    "B halves c0/c1 swapped": (with_proof(b_halves_swapped),
                               r"^proof\.pi_b: .* is not on the twist curve",
                               "Proof commitments are not valid."),
    "A with z = 2": (with_proof(a_z_2), r"^proof\.pi_a\[2\]: '2' must be \"1\"",
                     "Proof commitments are not valid."),
    "A in Jacobian coordinates, z = 5 (same point)": (
        with_proof(a_jacobian_z_5), r"^proof\.pi_a\[2\]: '5' must be \"1\"", "OK!"),
    "A at infinity": (with_proof(a_infinity), r"^proof\.pi_a\[2\]: '0' must be \"1\"",
                      "Invalid proof"),
    "proof of the other batch": (other_batch_proof, False, "Invalid proof"),
    "wrong vk (IC[1] negated)": (vk_ic1_negated, False, "Invalid proof"),
    "vk IC[0].x + q": (vk_ic0_plus_q,
                       r"^vk\.IC\[0\]\[0\]: \d+ is not below the base field modulus q$", "OK!"),
    "vk gamma outside the subgroup": (
        vk_gamma_outside_subgroup,
        r"^vk\.vk_gamma_2: .* is on the twist but not in the order-r subgroup$",
        "Invalid proof"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_verdict(verifier: Groth16Verifier, run: Run, case: str) -> None:
    make, expected, _ = CASES[case]
    got = our_verdict(verifier, *make(run))
    if isinstance(expected, bool):
        assert got is expected
    else:
        assert isinstance(got, str), got
        assert re.search(expected, got), got


@pytest.mark.parametrize("case", list(CASES))
def test_snarkjs_verdict_recorded(run: Run, case: str, tmp_path: Path) -> None:
    """What snarkjs does on the same documents (the record in CASES)."""
    make, _, snarkjs = CASES[case]
    assert snarkjs_verify(tmp_path, *make(run)) == snarkjs


def test_format_error_message_names_field_and_value(run: Run) -> None:
    proof = copy.deepcopy(run.proofs[0])
    a_plus_q(proof)
    with pytest.raises(ProofFormatError) as err:
        Proof.from_json(proof)
    assert str(err.value) == (f"proof.pi_a[0]: {proof['pi_a'][0]} is not below the base "
                              "field modulus q")
    assert err.value.field == "proof.pi_a[0]" and err.value.value == int(proof["pi_a"][0])


def test_checks_run_in_the_constructors(run: Run) -> None:
    """A Proof or key made directly, not from JSON, is checked the same way."""
    good = Proof.from_json(run.proofs[0])
    with pytest.raises(ProofFormatError, match=r"^proof\.pi_c\[1\]: \d+ is not below"):
        Proof(a=good.a, b=good.b, c=(good.c[0], good.c[1] + Q))
    with pytest.raises(ProofFormatError, match=r"^proof\.pi_a: \(0, 0\) is the point at inf"):
        Proof(a=(0, 0), b=good.b, c=good.c)
    vk = VerificationKey.from_json(run.vk)
    with pytest.raises(ProofFormatError, match=r"^vk\.vk_delta_2: .* not in the order-r"):
        VerificationKey(vk.alpha1, vk.beta2, vk.gamma2, twist_point_outside_subgroup(), vk.ic)


@pytest.mark.parametrize(("value", "message"), [
    (7, r"^public\[0\]: 7 \(int\) must be a decimal string$"),
    ("07", r"^public\[0\]: '07' is not a canonical decimal string"),
    ("-1", r"^public\[0\]: '-1' is not a canonical decimal string"),
    (" 1", r"^public\[0\]: ' 1' is not a canonical decimal string"),
    ("0x1", r"^public\[0\]: '0x1' is not a canonical decimal string"),
])
def test_public_inputs_are_canonical_decimal_strings(value: object, message: str) -> None:
    with pytest.raises(ProofFormatError, match=message):
        parse_public([value], 1)
    assert parse_public(["0", str(R - 1)], 2) == [0, R - 1]


def test_vk_header_and_count_are_checked(run: Run) -> None:
    for key, value, message in (("protocol", "plonk", r"^vk\.protocol: 'plonk' must be "),
                                ("curve", "bls12381", r"^vk\.curve: 'bls12381' must be "),
                                ("nPublic", 2, r"^vk\.nPublic: 2 does not match len")):
        vk = dict(run.vk, **{key: value})
        with pytest.raises(ProofFormatError, match=message):
            VerificationKey.from_json(vk)
    vk = {k: v for k, v in run.vk.items() if k != "vk_delta_2"}
    with pytest.raises(ProofFormatError, match=r"^vk\.vk_delta_2: is missing$"):
        VerificationKey.from_json(vk)


def test_subgroup_check_agrees_with_py_ecc(run: Run) -> None:
    """psi(P) == [6u^2]P (the check used) against r * P == O, ours and py_ecc's, on points
    inside G2, random twist points, cofactor-cleared ones and points of order dividing h."""
    from py_ecc.fields import optimized_bn128_FQ2 as FQ2
    from py_ecc.optimized_bn128.optimized_curve import G2, add, is_inf, multiply, normalize

    def ours(p: Any) -> G2Point:
        x, y = normalize(p)
        return (int(x.coeffs[0]), int(x.coeffs[1])), (int(y.coeffs[0]), int(y.coeffs[1]))

    def theirs(p: G2Point) -> Any:
        return FQ2(list(p[0])), FQ2(list(p[1])), FQ2.one()

    cases: list[tuple[G2Point, bool]] = [
        (ours(G2), True),
        (VerificationKey.from_json(run.vk).beta2, True),
        (Proof.from_json(run.proofs[0]).b, True),
    ]
    for p in twist_points(6):
        cases.append((p, False))
        cases.append((ours(multiply(theirs(p), G2_COFACTOR)), True))  # cofactor cleared
        small = multiply(theirs(p), R)  # order divides the cofactor h
        cases.append((ours(small), False))
        cases.append((ours(add(small, G2)), False))
    for p, inside in cases:
        assert g2_on_curve(p)
        assert g2_in_subgroup(p) is inside
        assert g2_in_subgroup_naive(p) is inside
        assert is_inf(multiply(theirs(p), R)) is inside


def test_calldata_round_trip_and_b_order(run: Run) -> None:
    doc, public = run.proofs[0], run.publics[0]
    proof = Proof.from_json(doc)
    x = [int(public[0])]
    a, b, c, inputs = to_calldata(proof, x)
    pa, pb, pc = doc["pi_a"], doc["pi_b"], doc["pi_c"]
    assert a == (int(pa[0]), int(pa[1]))
    # EVM: imaginary part (c1) first; snarkjs JSON: [c0, c1]
    assert b == ((int(pb[0][1]), int(pb[0][0])), (int(pb[1][1]), int(pb[1][0])))
    assert c == (int(pc[0]), int(pc[1]))
    assert inputs == (int(public[0]),)
    assert from_calldata(a, b, c, inputs) == (proof, x)
    with pytest.raises(ProofFormatError, match=r"^proof\.pi_b: .* not on the twist"):
        from_calldata(a, (b[0][::-1], b[1][::-1]), c, inputs)  # c0 first: the classic mistake


#: The BN254 G2 generator as EIP-197 writes it, imaginary part first (32-byte words).
G2_GEN_EVM_HEX = ("198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2"
                  "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed"
                  "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b"
                  "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa")
G2_GEN = ((10857046999023057135944570762232829481370756359578518086990519993285655852781,
           11559732032986387107991004021392285783925812861821192530917403151452391805634),
          (8495653923123431417604973247489272438418190587263600148770280649306958101930,
           4082367875863433681332203403145435568316851327593401208105741076214120093531))


def test_calldata_literal() -> None:
    """(G1 gen, G2 gen, -G1 gen) against literal EVM words: b has c1 before c0."""
    (x0, x1), (y0, y1) = G2_GEN
    proof = Proof(a=(1, 2), b=G2_GEN, c=(1, Q - 2))
    assert to_calldata(proof, [5]) == ((1, 2), ((x1, x0), (y1, y0)), (1, Q - 2), (5,))
    blob = proof_to_evm_bytes(proof)
    assert blob[:64] == (1).to_bytes(32, "big") + (2).to_bytes(32, "big")
    assert blob[64:192].hex() == G2_GEN_EVM_HEX
    assert blob[192:] == (1).to_bytes(32, "big") + (Q - 2).to_bytes(32, "big")
    assert from_calldata(*to_calldata(proof, [5])) == (proof, [5])


def test_calldata_matches_snarkjs_soliditycalldata(run: Run) -> None:
    b = run.batch(0)
    proc = subprocess.run([*SNARKJS, "zkey", "export", "soliditycalldata", str(b / "public.json"),
                           str(b / "proof.json")], capture_output=True, text=True, timeout=300,
                          check=True)
    a, bb, c, inputs = json.loads(f"[{proc.stdout}]")
    words = (tuple(int(v, 16) for v in a), tuple(tuple(int(v, 16) for v in p) for p in bb),
             tuple(int(v, 16) for v in c), tuple(int(v, 16) for v in inputs))
    assert to_calldata(Proof.from_json(run.proofs[0]), [int(run.publics[0][0])]) == words


def test_evm_bytes_inverse_of_proof_from_evm(run: Run) -> None:
    proof = Proof.from_json(run.proofs[0])
    blob = proof_to_evm_bytes(proof)
    assert len(blob) == 256
    assert blob[64:96] == int(run.proofs[0]["pi_b"][0][1]).to_bytes(32, "big")  # x.c1 first
    assert Proof.from_json(proof_from_evm(blob)) == proof
    assert proof_from_evm(blob) == proof.to_json()


def test_verify_files(verifier: Groth16Verifier, run: Run, tmp_path: Path) -> None:
    b = run.batch(1)
    vk, proof, public = run.vk_path, b / "proof.json", b / "public.json"
    assert verify_files(vk, proof, public, verifier.name)
    assert verify(VerificationKey.from_json(run.vk), Proof.from_json(run.proofs[1]),
                  [int(run.publics[1][0])], verifier.name)

    def fails(error: type[Exception], where: Path, message: str,
              files: tuple[Path, Path, Path]) -> None:
        with pytest.raises(error) as err:
            verify_files(files[0], files[1], files[2], verifier.name)
        assert re.match(f"{re.escape(str(where))}: {message}", str(err.value)), str(err.value)

    bad = tmp_path / "proof.json"
    bad.write_text('{"pi_a": [')
    fails(ProofFormatError, bad, "not valid JSON: Expecting value at line 1", (vk, bad, public))
    nope = tmp_path / "nope.json"
    fails(ZkMarginError, nope, "cannot read: No such file", (vk, nope, public))
    doc = copy.deepcopy(run.proofs[1])
    a_plus_q(doc)
    bad.write_text(json.dumps(doc))
    fails(ProofFormatError, bad, r"proof\.pi_a\[0\]: \d+ is not below", (vk, bad, public))
    pub = tmp_path / "public.json"
    pub.write_text(json.dumps([str(R)]))
    fails(ProofFormatError, pub, rf"public\[0\]: {R} is not below", (vk, proof, pub))


def test_public_ints_checked_in_verify(verifier: Groth16Verifier, run: Run) -> None:
    vk, proof = VerificationKey.from_json(run.vk), Proof.from_json(run.proofs[0])
    x = int(run.publics[0][0])
    with pytest.raises(ProofFormatError, match=r"^public\[0\]: \d+ is not below the scalar"):
        verifier.verify(vk, proof, [x + R])
    with pytest.raises(ProofFormatError, match=r"^public: has 0 values"):
        verifier.verify(vk, proof, [])


def test_batch_agrees_with_one_by_one(verifier: Groth16Verifier, run: Run) -> None:
    vk = VerificationKey.from_json(run.vk)
    proofs = [Proof.from_json(p) for p in run.proofs]
    xs = [[int(p[0])] for p in run.publics]
    good = [(proofs[0], xs[0]), (proofs[1], xs[1])]
    mixed = [(proofs[0], xs[0]), (proofs[1], xs[0]), (proofs[1], xs[1])]  # middle one is bad
    assert [verifier.verify(vk, p, x) for p, x in mixed] == [True, False, True]
    assert verifier.verify_batch(vk, good) is True
    assert verifier.verify_batch(vk, mixed) is False
    assert verify_batch(vk, [good[1]], verifier.name) is True
    with pytest.raises(ProofFormatError, match=r"^batch\[1\]\.public\[0\]: \d+ is not below"):
        verifier.verify_batch(vk, [good[0], (proofs[1], [xs[1][0] + R])])


def test_unknown_verifier_name() -> None:
    with pytest.raises(ZkMarginError, match="unknown verifier 'gpu'"):
        get_verifier("gpu")
