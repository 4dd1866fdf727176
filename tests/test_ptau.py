"""The INSECURE development powers of tau (prover/js/dev_ptau.cjs, prover/ptau.py).

Byte-identical to what `snarkjs powersoftau prepare phase2` makes of the same unprepared
file; points equal to the documented scalars times the generator; pairing-consistent;
usable for a Groth16 round trip; clear errors for bad powers and bad files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import subprocess
import threading
from pathlib import Path

import pytest

from zkmargin.errors import ZkMarginError
from zkmargin.field import BASE_FIELD as BN254_Q
from zkmargin.prover import ptau
from zkmargin.prover.ptau import check_ptau, dev_ptau, ptau_power

pytestmark = pytest.mark.node

ROOT = Path(__file__).resolve().parent.parent
SNARKJS = ROOT / "node_modules" / "snarkjs" / "build" / "cli.cjs"
CIRCOM = ROOT / "node_modules" / "circom2" / "cli.js"
SEED = "zkmargin INSECURE development setup"
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
Q = BN254_Q
MONT_INV = pow(1 << 256, -1, Q)  # points are stored in Montgomery form (x * 2^256 mod q)
SMALL = (5, 6)

Point = tuple[int, int] | None  # affine G1 point, None = infinity


def node() -> str:
    found = shutil.which("node")
    if found is None or not SNARKJS.exists():
        pytest.fail("node and the pinned npm packages are required: run `make setup`")
    return found


def sh(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)


def generate(power: int, out: Path, *extra: str) -> Path:
    proc = sh(node(), ptau.SCRIPT, str(power), out, *extra)
    assert proc.returncode == 0, proc.stderr
    assert "INSECURE" in proc.stderr
    return out


def sections(path: Path) -> list[tuple[int, bytes]]:
    """(id, payload) of every section, in file order."""
    data = path.read_bytes()
    assert data[:4] == b"ptau"
    version, count = struct.unpack_from("<II", data, 4)
    assert version == 1
    out, pos = [], 12
    for _ in range(count):
        kind, size = struct.unpack_from("<IQ", data, pos)
        out.append((kind, data[pos + 12 : pos + 12 + size]))
        pos += 12 + size
    assert pos == len(data)
    return out


# --- independent reference: the documented secrets, Lagrange scalars and G1 arithmetic ---

def secret(label: str, seed: str = SEED) -> int:
    return int.from_bytes(hashlib.sha512(f"{seed}\0{label}".encode()).digest(), "big") % R


def root_of_unity(bits: int) -> int:
    return pow(pow(5, (R - 1) >> 28, R), 1 << (28 - bits), R)


def lagrange(bits: int, j: int, tau: int, truncated: bool = False) -> int:
    """L_j(tau) on the 2^bits roots of unity; truncated: minus tau^(n-1) x leading coeff."""
    n = 1 << bits
    wj = pow(root_of_unity(bits), j, R)
    lead = wj * pow(n, -1, R) % R  # 1 / Z'(w^j)
    value = (pow(tau, n, R) - 1) * pow(tau - wj, -1, R) * lead % R
    return (value - truncated * pow(tau, n - 1, R) * lead) % R


def g1_add(a: Point, b: Point) -> Point:
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % Q == 0:
        return None
    if a == b:
        lam = 3 * a[0] * a[0] * pow(2 * a[1], -1, Q) % Q
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], -1, Q) % Q
    x = (lam * lam - a[0] - b[0]) % Q
    return x, (lam * (a[0] - x) - a[1]) % Q


def g1_mul(k: int, p: Point) -> Point:
    acc: Point = None
    while k:
        if k & 1:
            acc = g1_add(acc, p)
        p = g1_add(p, p)
        k >>= 1
    return acc


def g1_at(payload: bytes, index: int) -> Point:
    raw = payload[64 * index : 64 * index + 64]
    assert len(raw) == 64
    if raw == bytes(64):
        return None
    return (int.from_bytes(raw[:32], "little") * MONT_INV % Q,
            int.from_bytes(raw[32:], "little") * MONT_INV % Q)


GEN: Point = (1, 2)


# --- fixtures -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[Path, Path, Path]]:
    """power -> (ours prepared, ours unprepared, snarkjs' preparation of ours unprepared)."""
    tmp = tmp_path_factory.mktemp("ptau")
    out = {}
    for power in SMALL:
        ours = generate(power, tmp / f"ours{power}.ptau")
        raw = generate(power, tmp / f"raw{power}.ptau", "--no-lagrange")
        theirs = tmp / f"snarkjs{power}.ptau"
        proc = sh(node(), SNARKJS, "powersoftau", "prepare", "phase2", raw, theirs)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        out[power] = (ours, raw, theirs)
    return out


# --- (a) byte-identical to snarkjs; the documented layout and scalars ----------------

@pytest.mark.parametrize("power", SMALL)
def test_prepared_file_is_byte_identical_to_snarkjs_prepare(
    small: dict[int, tuple[Path, Path, Path]], power: int
) -> None:
    ours, raw, theirs = small[power]
    mine, snark = sections(ours), sections(theirs)
    assert [k for k, _ in mine] == [k for k, _ in snark] == [1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15]
    for (kind, a), (_, b) in zip(mine, snark, strict=True):
        assert a == b, f"section {kind} differs from snarkjs prepare phase2"
    assert ours.read_bytes() == theirs.read_bytes()
    # the unprepared file is exactly sections 1-7 of the prepared one
    assert sections(raw) == mine[:7]


@pytest.mark.parametrize("power", SMALL)
def test_sections_hold_the_documented_points(
    small: dict[int, tuple[Path, Path, Path]], power: int
) -> None:
    s = dict(sections(small[power][0]))
    n = 1 << power
    header = struct.pack("<I", 32) + Q.to_bytes(32, "little") + struct.pack("<II", power, power)
    assert s[1] == header
    sizes = {2: (2 * n - 1) * 64, 3: n * 128, 4: n * 64, 5: n * 64, 6: 128, 7: 4,
             12: (4 * n - 1) * 64, 13: (2 * n - 1) * 128, 14: (2 * n - 1) * 64,
             15: (2 * n - 1) * 64}
    assert {k: len(v) for k, v in s.items() if k != 1} == sizes
    assert s[7] == bytes(4)  # zero contributions

    tau, alpha, beta = secret("tau"), secret("alpha"), secret("beta")
    assert g1_at(s[2], 0) == GEN
    for i in (1, 2, n, 2 * n - 2):
        assert g1_at(s[2], i) == g1_mul(pow(tau, i, R), GEN), f"tauG1[{i}]"
    assert g1_at(s[4], 0) == g1_mul(alpha, GEN)
    assert g1_at(s[5], n - 1) == g1_mul(beta * pow(tau, n - 1, R), GEN)
    # section 12: blocks k = 0 .. power + 1 of 2^k points; the last one truncated
    assert g1_at(s[12], 0) == GEN  # L_0 on the one-point domain is 1
    block = (1 << power) - 1  # first index of block k = power
    assert g1_at(s[12], block + 3) == g1_mul(lagrange(power, 3, tau), GEN)
    last = (2 << power) - 1
    for j in (0, 5, 2 * n - 1):
        want = g1_mul(lagrange(power + 1, j, tau, truncated=True), GEN)
        assert g1_at(s[12], last + j) == want, f"section 12 block {power + 1} [{j}]"
    assert g1_at(s[14], 3 + 1) == g1_mul(alpha * lagrange(2, 1, tau) % R, GEN)  # block 2 at 3
    assert g1_at(s[15], block + n - 1) == g1_mul(beta * lagrange(power, n - 1, tau) % R, GEN)


def test_the_seed_determines_the_file(
    tmp_path: Path, small: dict[int, tuple[Path, Path, Path]]
) -> None:
    again = generate(5, tmp_path / "again.ptau")
    assert again.read_bytes() == small[5][0].read_bytes()
    other = dict(sections(generate(5, tmp_path / "other.ptau", "--seed", "another seed")))
    assert g1_at(other[2], 0) == GEN
    assert g1_at(other[2], 1) == g1_mul(secret("tau", "another seed"), GEN)
    assert other[2] != dict(sections(small[5][0]))[2]
    assert not list(tmp_path.glob(".*.tmp"))  # temporary files were renamed


# --- (b) snarkjs verify refuses it; pairing consistency checked here instead --------

def test_snarkjs_verify_refuses_a_file_without_contributions(
    small: dict[int, tuple[Path, Path, Path]],
) -> None:
    # snarkjs 0.7.6 powersoftau verify returns false before any point check when the file
    # has no contribution record ("This file has no contribution! It cannot be used in
    # production"); a valid record needs snarkjs' transcript hashes and a proof of
    # knowledge of a ceremony key, which a known-tau file cannot honestly claim. Its own
    # prepared copy of our file is refused the same way.
    for path in (small[5][0], small[5][2]):
        proc = sh(node(), SNARKJS, "powersoftau", "verify", path)
        assert proc.returncode != 0
        assert "This file has no contribution" in proc.stdout + proc.stderr


# What `powersoftau verify` would check, with ffjavascript: random linear combinations of
# consecutive powers have the ratio tau (pairings), and every Lagrange block k satisfies
# sum_j R_k(w^j) L_j G = sum_{i<m} r_{k,i} tau^i G for a random R_k of degree < m (m = 2^k,
# or 2^(p+1) - 1 for section 12's last block), all blocks of a section summed into one
# equation. Prints JSON {check: passed}.
CONSISTENCY_JS = r"""
const fs = require("node:fs");
const crypto = require("node:crypto");
const { buildBn128, Scalar } = require("ffjavascript");
(async () => {
  const curve = await buildBn128();
  const { Fr, G1, G2 } = curve;
  const G = { G1, G2 }, size = { G1: 64, G2: 128 };
  const data = fs.readFileSync(process.argv[1]);
  const sec = {};
  for (let i = 0, pos = 12; i < data.readUInt32LE(8); i++) {
    const len = Number(data.readBigUInt64LE(pos + 4));
    sec[data.readUInt32LE(pos)] = data.subarray(pos + 12, pos + 12 + len);
    pos += 12 + len;
  }
  const power = sec[1].readUInt32LE(36);
  const at = (g, id, i) => G[g].fromRprLEM(sec[id], i * size[g]);
  const count = (g, id) => sec[id].length / size[g];
  const randomScalars = (n) => {  // standard form, < 2^253 < r
    const b = crypto.randomBytes(32 * n);
    for (let i = 0; i < n; i++) b[32 * i + 31] &= 0x1f;
    return b;
  };
  const msm = (g, id, start, n, scalars) =>
    G[g].multiExpAffine(sec[id].subarray(start * size[g], (start + n) * size[g]), scalars);
  const sameRatio = (a1, b1, a2, b2) => curve.pairingEq(G1.neg(a1), b2, b1, a2);
  const shifted = async (g, id) => {
    const n = count(g, id) - 1, r = randomScalars(n);
    return [await msm(g, id, 0, n, r), await msm(g, id, 1, n, r)];
  };
  const tau1 = at("G1", 2, 1), tau2 = at("G2", 3, 1);
  const res = {};
  res.generators = G1.eq(at("G1", 2, 0), G1.g) && G2.eq(at("G2", 3, 0), G2.g);
  res.tau = await sameRatio(G1.g, tau1, G2.g, tau2);
  res.tauG1 = await sameRatio(...await shifted("G1", 2), G2.g, tau2);
  res.tauG2 = await sameRatio(G1.g, tau1, ...await shifted("G2", 3));
  res.alphaTauG1 = await sameRatio(...await shifted("G1", 4), G2.g, tau2);
  res.betaTauG1 = await sameRatio(...await shifted("G1", 5), G2.g, tau2);
  res.betaG2 = await sameRatio(G1.g, at("G1", 5, 0), G2.g, at("G2", 6, 0));
  for (const [id, src, g] of [[12, 2, "G1"], [13, 3, "G2"], [14, 4, "G1"], [15, 5, "G1"]]) {
    // one random R_k per block k, checked together: two multi-exponentiations per section
    const atRoots = [], coeffs = new Array(count(g, src)).fill(0n);
    let blocks = 0;
    for (let k = 0, offset = 0; offset < count(g, id); offset += 2 ** k, k++) {
      const n = 2 ** k, m = Math.min(n, coeffs.length);
      blocks++;
      const r = randomScalars(m);
      for (let i = 0; i < m; i++) coeffs[i] += Scalar.fromRprLE(r, 32 * i, 32);
      let values = new Uint8Array(32 * n);  // R_k(w^j), j < n: forward FFT of r
      values.set(r);
      if (n > 1) {
        values = await Fr.batchFromMontgomery(await Fr.fft(await Fr.batchToMontgomery(values)));
      }
      atRoots.push(values);
    }
    const rhs = new Uint8Array(32 * coeffs.length);
    coeffs.forEach((c, i) => Scalar.toRprLE(rhs, 32 * i, c % curve.r, 32));
    const lhs = await G[g].multiExpAffine(sec[id], Buffer.concat(atRoots));
    res[`lagrange${id}`] = blocks === power + (id === 12 ? 2 : 1) &&
      G[g].eq(lhs, await msm(g, src, 0, coeffs.length, rhs));
  }
  console.log(JSON.stringify(res));
  await curve.terminate();
})();
"""


@pytest.mark.slow
def test_pairing_and_lagrange_consistency(tmp_path: Path) -> None:
    # 2^13: blocks of 8192 points span several worker jobs (4096 points each)
    path = generate(13, tmp_path / "pot13.ptau")
    proc = sh(node(), "-e", CONSISTENCY_JS, path, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result == dict.fromkeys(
        ["generators", "tau", "tauG1", "tauG2", "alphaTauG1", "betaTauG1", "betaG2",
         "lagrange12", "lagrange13", "lagrange14", "lagrange15"], True)


def test_consistency_check_detects_a_wrong_point(
    tmp_path: Path, small: dict[int, tuple[Path, Path, Path]]
) -> None:
    # swap tauG1[1] and tauG1[2]: both still valid curve points
    data = bytearray(small[5][0].read_bytes())
    s2 = 12 + 12 + 44 + 12  # file header, section 1, section 2 header
    data[s2 + 64 : s2 + 128], data[s2 + 128 : s2 + 192] = (data[s2 + 128 : s2 + 192],
                                                           data[s2 + 64 : s2 + 128])
    bad = tmp_path / "bad.ptau"
    bad.write_bytes(bytes(data))
    proc = sh(node(), "-e", CONSISTENCY_JS, bad, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["tau"] is False and result["tauG1"] is False
    assert result["lagrange12"] is False and result["lagrange13"] is True


# --- (c) Groth16 end to end ------------------------------------------------------------

CIRCUIT = """pragma circom 2.0.0;
template Cube() {
    signal input a;
    signal input b;
    signal output c;
    signal ab;
    ab <== a * b;
    c <== ab * a;
}
component main {public [a]} = Cube();
"""


@pytest.mark.slow
def test_groth16_round_trip_with_the_dev_ptau(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ptau, "CACHE", tmp_path / "cache")
    pot = dev_ptau(6)
    assert pot == tmp_path / "cache" / "setup" / "INSECURE-dev-pot06.ptau"
    assert check_ptau(pot, 3) == 6

    (tmp_path / "x.circom").write_text(CIRCUIT)
    (tmp_path / "input.json").write_text(json.dumps({"a": "3", "b": "11"}))

    def snarkjs(*args: str) -> subprocess.CompletedProcess[str]:
        return sh(node(), SNARKJS, *args, cwd=tmp_path)

    steps = [
        sh(node(), CIRCOM, "x.circom", "--r1cs", "--wasm", "-o", ".", cwd=tmp_path),
        snarkjs("groth16", "setup", "x.r1cs", str(pot), "x.zkey"),
        snarkjs("zkey", "export", "verificationkey", "x.zkey", "vk.json"),
        snarkjs("groth16", "fullprove", "input.json", "x_js/x.wasm", "x.zkey", "proof.json",
                "public.json"),
    ]
    for proc in steps:
        assert proc.returncode == 0, [*proc.args[2:4], proc.stdout + proc.stderr]

    vk = json.loads((tmp_path / "vk.json").read_text())
    alpha = g1_mul(secret("alpha"), GEN)
    assert alpha is not None
    assert vk["vk_alpha_1"] == [str(alpha[0]), str(alpha[1]), "1"]  # the seed's alpha
    assert vk["nPublic"] == 2
    assert json.loads((tmp_path / "public.json").read_text()) == ["99", "3"]  # c = a*b*a

    ok = snarkjs("groth16", "verify", "vk.json", "public.json", "proof.json")
    assert ok.returncode == 0 and "OK!" in ok.stdout, ok.stdout + ok.stderr
    (tmp_path / "public.json").write_text(json.dumps(["100", "3"]))
    bad = snarkjs("groth16", "verify", "vk.json", "public.json", "proof.json")
    assert bad.returncode != 0 and "Invalid proof" in bad.stdout + bad.stderr


# --- (d) cache, powers and errors -------------------------------------------------------

def test_dev_ptau_is_generated_once_even_by_concurrent_callers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small: dict[int, tuple[Path, Path, Path]]
) -> None:
    monkeypatch.setattr(ptau, "CACHE", tmp_path)
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(dev_ptau(5))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    target = tmp_path / "setup" / "INSECURE-dev-pot05.ptau"
    assert results == [target] * 3
    assert target.read_bytes() == small[5][0].read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == [
        ".INSECURE-dev-pot05.ptau.lock", "INSECURE-dev-pot05.ptau"]
    mtime = target.stat().st_mtime_ns
    assert dev_ptau(5) == target and target.stat().st_mtime_ns == mtime  # cached


def test_ptau_power_and_check(small: dict[int, tuple[Path, Path, Path]]) -> None:
    for power in SMALL:
        ours, raw, theirs = small[power]
        assert ptau_power(ours) == ptau_power(raw) == ptau_power(theirs) == power
        assert check_ptau(ours, power) == power
        assert check_ptau(theirs, 2) == power
    with pytest.raises(ZkMarginError) as err:
        check_ptau(small[5][0], 15)
    assert str(err.value) == (
        f"{small[5][0]}: powers-of-tau file has power 5 (up to 2^5 constraints), but the "
        "circuit needs power 15 (2^15); use a ptau file of power >= 15 or a smaller batch size")
    with pytest.raises(ZkMarginError, match=r"raw5\.ptau: .*not prepared for phase 2 "
                                            r"\(no sections 12, 13, 14, 15\)"):
        check_ptau(small[5][1], 5)


@pytest.mark.parametrize("power", [0, 29, -1, True])
def test_dev_ptau_rejects_powers_out_of_range(power: int) -> None:
    with pytest.raises(ZkMarginError, match=r"power must be an integer in 1\.\.28 .*got "):
        dev_ptau(power)


@pytest.mark.parametrize(("args", "message"), [
    (["0", "x.ptau"], 'POWER must be an integer in 1..28, got "0"'),
    (["29", "x.ptau"], 'POWER must be an integer in 1..28, got "29"'),
    (["5"], "expected POWER and OUT.ptau"),
    (["5", "x.ptau", "--fast"], "unknown option --fast"),
    (["5", "x.ptau", "--seed"], "--seed needs a value"),
])
def test_script_rejects_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    proc = sh(node(), ptau.SCRIPT, *args, cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr and "usage:" in proc.stderr
    assert not list(tmp_path.iterdir())


def test_bad_files_give_clear_errors(
    tmp_path: Path, small: dict[int, tuple[Path, Path, Path]]
) -> None:
    good = small[5][0].read_bytes()
    cases = {
        "missing.ptau": None,
        "r1cs.ptau": b"r1cs" + good[4:],
        "short.ptau": good[:100],
        "empty.ptau": b"",
        "bls.ptau": good[:12 + 12 + 4] + (Q + 2).to_bytes(32, "little") + good[12 + 12 + 36:],
        "v2.ptau": good[:4] + struct.pack("<I", 2) + good[8:],
    }
    expected = {
        "missing.ptau": "cannot read powers-of-tau file: No such file or directory",
        "r1cs.ptau": "not a powers-of-tau file (expected magic b'ptau', got b'r1cs')",
        "short.ptau": "truncated powers-of-tau file (section 2 needs 4032 bytes at offset 80",
        "empty.ptau": "not a powers-of-tau file (expected magic b'ptau', got b'')",
        "bls.ptau": "powers-of-tau file is not for BN254",
        "v2.ptau": "unsupported ptau version 2 (expected 1)",
    }
    for name, content in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        with pytest.raises(ZkMarginError) as err:
            ptau_power(path)
        assert str(err.value).startswith(f"{path}: "), name
        assert expected[name] in str(err.value), name
