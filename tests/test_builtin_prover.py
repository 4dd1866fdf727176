"""zkmargin's own Groth16 prover (``zkmargin.prover.builtin``, C).

* the multi-exponentiation against a plain sum with py_ecc, on G1 and G2, including what a
  batch of affine additions cannot take (a point added to itself, a point and its opposite,
  many additions to one bucket), zero and extreme scalars and bases at infinity;
* proofs of a real circuit's witness accepted by ``snarkjs groth16 verify`` and by
  zkmargin's reference verifier, fresh blinding per proof;
* a key, witness or value that does not fit is refused, never reduced or guessed.

The zkmargin prove tests (tests/test_prove.py) and every verifier-side test run on proofs
made by this prover, the default backend.
"""

from __future__ import annotations

import json
import random
import struct
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from py_ecc.optimized_bn128 import optimized_curve as bn

from tests.circuit_helpers import compiled, vector_accounts
from tests.support.node import SNARKJS
from zkmargin.field import BASE_FIELD, SNARK_FIELD
from zkmargin.prover import _groth16, builtin
from zkmargin.prover.backends import get_backend, proof_from_le
from zkmargin.prover.setup import dev_keys
from zkmargin.prover.toolchain import calculate_witness
from zkmargin.prover.witness import plan_batch
from zkmargin.verifier import Proof, VerificationKey, verify

Q, R = BASE_FIELD, SNARK_FIELD
MONT = 1 << 256


@pytest.fixture(params=["adx", "portable"], autouse=True)
def multiplication(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every test runs with both Montgomery multiplications: MULX/ADX (where the CPU has
    it) and the portable C one."""
    before = _groth16.adx()
    _groth16.set_adx(request.param == "adx")
    if _groth16.adx() != (request.param == "adx"):
        _groth16.set_adx(before)
        pytest.skip("this CPU has no BMI2/ADX")
    yield request.param
    _groth16.set_adx(before)


def mont(x: int) -> bytes:
    return (x * MONT % Q).to_bytes(32, "little")


def g1_bytes(p: Any) -> bytes:
    if bn.is_inf(p):
        return bytes(64)
    x, y = bn.normalize(p)
    return mont(x.n) + mont(y.n)


def g2_bytes(p: Any) -> bytes:
    if bn.is_inf(p):
        return bytes(128)
    x, y = bn.normalize(p)
    return b"".join(mont(c) for c in (*x.coeffs, *y.coeffs))


def scalars_bytes(scalars: list[int]) -> bytes:
    return b"".join(s.to_bytes(32, "little") for s in scalars)


def expected(generator: Any, logs: list[int | None], scalars: list[int]) -> Any:
    """sum s_i (k_i G) = (sum s_i k_i) G; a base with log None is the point at infinity."""
    total = sum(s * k for s, k in zip(scalars, logs, strict=True) if k is not None) % R
    return bn.multiply(generator, total)


def g1_out(blob: bytes) -> tuple[int, int]:
    return int.from_bytes(blob[:32], "little"), int.from_bytes(blob[32:], "little")


def g2_out(blob: bytes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    c = [int.from_bytes(blob[i:i + 32], "little") for i in range(0, 128, 32)]
    return (c[0], c[1]), (c[2], c[3])


def as_g1(p: Any) -> tuple[int, int]:
    if bn.is_inf(p):
        return 0, 0
    x, y = bn.normalize(p)
    return x.n, y.n


def as_g2(p: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    if bn.is_inf(p):
        return (0, 0), (0, 0)
    x, y = bn.normalize(p)
    return tuple(x.coeffs), tuple(y.coeffs)


def multiples(generator: Any, count: int) -> list[Any]:
    """k G for k = 1..count, by repeated addition (cheap next to multiplications)."""
    out = [generator]
    for _ in range(count - 1):
        out.append(bn.add(out[-1], generator))
    return out


def logs_with_hard_cases(rng: random.Random, n: int, distinct: int) -> list[int | None]:
    """Discrete logs of the bases: few distinct points, so the same point and its opposite
    come back often (x1 = x2 inside one batch of additions), and some bases at infinity."""
    logs: list[int | None] = []
    for _ in range(n):
        roll = rng.random()
        k = rng.randint(1, distinct)
        logs.append(None if roll < 0.05 else (R - k if roll < 0.4 else k))
    return logs


def scalars_with_hard_cases(rng: random.Random, n: int) -> list[int]:
    picks = [0, 1, 2, R - 1, R - 2, (R - 1) // 2, 1 << 253]
    return [rng.choice(picks) if rng.random() < 0.3 else rng.randrange(R) for _ in range(n)]


#: per group: generator, zkey bytes of a point, the C multi-exponentiation, its output and
#: py_ecc's point in the same form
GROUPS: dict[str, tuple[Any, Callable[[Any], bytes], Callable[[bytes, bytes], bytes],
                        Callable[[bytes], Any], Callable[[Any], Any]]] = {
    "g1": (bn.G1, g1_bytes, _groth16.msm_g1, g1_out, as_g1),
    "g2": (bn.G2, g2_bytes, _groth16.msm_g2, g2_out, as_g2),
}


@pytest.mark.parametrize("group,n,distinct,seed", [
    ("g1", 1, 1, 1), ("g1", 7, 3, 2), ("g1", 300, 5, 3), ("g1", 3000, 40, 4),
    ("g1", 3000, 3000, 5),
    ("g2", 5, 2, 6), ("g2", 600, 6, 7), ("g2", 1500, 1500, 8), ("g2", 4000, 4, 10)])
def test_msm_equals_the_plain_sum(group: str, n: int, distinct: int, seed: int) -> None:
    generator, to_bytes, msm, out, as_point = GROUPS[group]
    rng = random.Random(seed)
    table = multiples(generator, distinct)
    logs = logs_with_hard_cases(rng, n, distinct)
    scalars = scalars_with_hard_cases(rng, n)
    infinity = bytes(len(to_bytes(generator)))
    bases = b"".join(infinity if k is None else to_bytes(
        table[k - 1] if k <= distinct else bn.neg(table[R - k - 1])) for k in logs)
    got = out(msm(bases, scalars_bytes(scalars)))
    assert got == as_point(expected(generator, logs, scalars))


def test_msm_of_one_point_many_times_and_cancelling_sums() -> None:
    """One point 2000 times: with scalar 1 (one bucket, Jacobian additions only) and with
    random scalars (batches where every addition has x1 = x2: doubling or cancelling);
    and a sum that is exactly the point at infinity (every k G cancelled by (r - k) G)."""
    p = g1_bytes(bn.G1)
    same = _groth16.msm_g1(p * 2000, scalars_bytes([1] * 2000))
    assert g1_out(same) == as_g1(bn.multiply(bn.G1, 2000))
    rng = random.Random(9)
    ks = [rng.randrange(R) for _ in range(2000)]
    assert g1_out(_groth16.msm_g1(p * 2000, scalars_bytes(ks))) == as_g1(
        bn.multiply(bn.G1, sum(ks) % R))
    ks = [rng.randrange(R) for _ in range(1000)]
    both = _groth16.msm_g1(p * 2000, scalars_bytes(ks + [R - k for k in ks]))
    assert both == bytes(64)
    assert _groth16.msm_g1(b"", b"") == bytes(64)


def test_msm_refuses_values_outside_the_fields() -> None:
    p = g1_bytes(bn.G1)
    with pytest.raises(ValueError, match="scalar >= r"):
        _groth16.msm_g1(p, R.to_bytes(32, "little"))
    with pytest.raises(ValueError, match="coordinate >= q"):
        _groth16.msm_g1(Q.to_bytes(32, "little") + p[32:], (1).to_bytes(32, "little"))
    with pytest.raises(ValueError, match="differ in number"):
        _groth16.msm_g1(p * 2, (1).to_bytes(32, "little"))
    with pytest.raises(TypeError, match="bytes objects only"):  # mutable under the checks
        _groth16.msm_g1(bytearray(p), (1).to_bytes(32, "little"))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# Whole proofs of a real circuit


@pytest.fixture(scope="module")
def circuit_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    c = compiled()
    keys = dev_keys(c.circuit)  # INSECURE development setup, cached per circuit
    plan = plan_batch(c.params, c.shape, 0, vector_accounts()[:c.shape.batch_size])
    tmp = tmp_path_factory.mktemp("builtin")
    wtns = calculate_witness(c.circuit, plan.inputs, tmp / "w.wtns")
    vk = json.loads(keys.vkey.read_text())
    return {"tmp": tmp, "zkey": keys.zkey, "vk_path": keys.vkey, "vk": vk, "wtns": wtns,
            "commitment": plan.commitment}


def snarkjs_ok(tmp: Path, vk_path: Path, proof: Any, public: Any) -> bool:
    (tmp / "proof.json").write_text(json.dumps(proof))
    (tmp / "public.json").write_text(json.dumps(public))
    proc = subprocess.run([*SNARKJS, "groth16", "verify", str(vk_path), str(tmp / "public.json"),
                           str(tmp / "proof.json")], capture_output=True, text=True,
                          timeout=300, check=False)
    return proc.returncode == 0 and "OK!" in proc.stdout


@pytest.mark.circuit
@pytest.mark.node
def test_builtin_proofs_verify_with_snarkjs_and_zkmargin(circuit_run: dict[str, Any]) -> None:
    backend = get_backend("builtin")
    proof1, public1 = backend.prove(circuit_run["zkey"], circuit_run["wtns"], 1)
    proof2, public2 = backend.prove(circuit_run["zkey"], circuit_run["wtns"], 1)
    assert public1 == public2 == [str(circuit_run["commitment"])]
    assert proof1 != proof2  # fresh r and s: two proofs of one witness differ
    vk = VerificationKey.from_json(circuit_run["vk"])
    for proof in (proof1, proof2):
        assert snarkjs_ok(circuit_run["tmp"], circuit_run["vk_path"], proof, public1)
        assert verify(vk, Proof.from_json(proof), [int(public1[0])], impl="reference")
    # the same proof for another public value is refused: the proof is bound to it
    assert not verify(vk, Proof.from_json(proof1), [int(public1[0]) + 1], impl="reference")


@pytest.mark.circuit
@pytest.mark.node
def test_builtin_prover_refuses_what_does_not_fit(circuit_run: dict[str, Any],
                                                  tmp_path: Path) -> None:
    key = builtin.load_key(circuit_run["zkey"])
    witness = builtin.read_witness(circuit_run["wtns"])
    with pytest.raises(builtin.ProverError, match="values; the key"):
        builtin.prove(key, witness[:-32])
    big = witness[:64] + R.to_bytes(32, "little") + witness[96:]
    with pytest.raises(builtin.ProverError, match="a witness value is >= r"):
        builtin.prove(key, big)
    # a coefficient naming a signal outside the key
    coefs = bytearray(key.coefficients)
    struct.pack_into("<I", coefs, 4 + 8, key.n_vars)
    bad = builtin.ProvingKey(**{**key.__dict__, "coefficients": bytes(coefs)})
    with pytest.raises(builtin.ProverError, match="outside the key"):
        builtin.prove(bad, witness)
    # a point coordinate >= q
    a = bytearray(key.a)
    a[64:96] = Q.to_bytes(32, "little")
    with pytest.raises(builtin.ProverError, match="coordinate >= q"):
        builtin.prove(builtin.ProvingKey(**{**key.__dict__, "a": bytes(a)}), witness)
    # the C prover's own checks, each on the sections it is given
    args = [key.header, key.coefficients, key.a, key.b1, key.b2, key.c, key.h, witness,
            builtin._fft_constants(key.domain_size), bytes(64)]

    def refused(i: int, value: bytes, message: str) -> None:
        bad_args = list(args)
        bad_args[i] = value
        with pytest.raises(ValueError, match=message):
            _groth16.prove(*bad_args)

    header = bytearray(key.header)
    struct.pack_into("<I", header, 80, key.domain_size + 1)  # not a power of two
    refused(0, bytes(header), "sizes are inconsistent")
    refused(0, key.header[:-1], "not that of a BN254")
    for i in range(1, 7):  # every section one byte short
        refused(i, args[i][:-1], "wrong length")
    coefs = bytearray(key.coefficients)
    struct.pack_into("<I", coefs, 4, 2)  # matrix 2: neither A nor B
    refused(1, bytes(coefs), "outside the key")
    coefs = bytearray(key.coefficients)
    struct.pack_into("<I", coefs, 8, key.domain_size)  # row past the domain
    refused(1, bytes(coefs), "outside the key")
    refused(9, R.to_bytes(32, "little") + bytes(32), "blinding scalar is >= r")
    with pytest.raises(TypeError, match="bytes objects only"):
        _groth16.prove(*args[:7], bytearray(witness), *args[8:])  # type: ignore[call-arg]
    # a key whose delta would not blind: at infinity, or off the curve
    for offset, size, message in ((468, 64, "delta1 is not a point of G1"),
                                  (532, 128, "delta2 is not a point of G2")):
        header = bytearray(key.header)
        header[offset:offset + size] = bytes(size)
        junk_key = tmp_path / f"delta-{offset}.zkey"
        junk_key.write_bytes(zkey_with_header(circuit_run["zkey"], bytes(header)))
        with pytest.raises(builtin.ProverError, match=message):
            builtin.load_key(junk_key)
    header = bytearray(key.header)
    header[500] ^= 1  # delta1.y changed: off the curve
    junk_key = tmp_path / "delta-off.zkey"
    junk_key.write_bytes(zkey_with_header(circuit_run["zkey"], bytes(header)))
    with pytest.raises(builtin.ProverError, match="delta1 is not a point of G1"):
        builtin.load_key(junk_key)
    # not a zkey, not a witness
    junk = tmp_path / "junk.zkey"
    junk.write_bytes(b"nope" + bytes(40))
    with pytest.raises(builtin.ProverError, match="not a zkey"):
        builtin.load_key(junk)
    with pytest.raises(builtin.ProverError, match="not a wtns"):
        builtin.read_witness(junk)


def zkey_with_header(zkey: Path, header: bytes) -> bytes:
    """The zkey's bytes with section 2 (the header) replaced by ``header``, same size."""
    data = bytearray(zkey.read_bytes())
    (count,) = struct.unpack_from("<I", data, 8)
    pos = 12
    for _ in range(count):
        kind, size = struct.unpack_from("<IQ", data, pos)
        if kind == 2:
            assert size == len(header)
            data[pos + 12:pos + 12 + size] = header
            return bytes(data)
        pos += 12 + size
    raise AssertionError("no header section")


@pytest.mark.circuit
@pytest.mark.node
def test_backend_refuses_a_key_of_another_public_count(circuit_run: dict[str, Any]) -> None:
    with pytest.raises(Exception, match="1 public signals, the batch circuit 2"):
        get_backend("builtin").prove(circuit_run["zkey"], circuit_run["wtns"], 2)


def test_proof_bytes_become_snarkjs_json() -> None:
    blob = b"".join(i.to_bytes(32, "little") for i in range(1, 9))
    assert proof_from_le(blob) == {"pi_a": ["1", "2", "1"], "pi_b": [["3", "4"], ["5", "6"],
                                                                     ["1", "0"]],
                                   "pi_c": ["7", "8", "1"], "protocol": "groth16",
                                   "curve": "bn128"}
    with pytest.raises(Exception, match="not 256"):
        proof_from_le(blob[:-1])


def test_roots_of_unity_are_ffjavascripts() -> None:
    """w[k] has order exactly 2^k, and w[28] = nqr^t for the smallest non-residue 5."""
    w = builtin.roots_of_unity()
    assert len(w) == 29 and w[28] == pow(5, (R - 1) >> 28, R)
    for k in (1, 5, 17, 28):
        assert pow(w[k], 1 << k, R) == 1 and pow(w[k], 1 << (k - 1), R) != 1
