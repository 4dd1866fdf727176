// Groth16 in the page: the strict input rules of zkmargin/verifier/encoding.py (the EVM's:
// canonical decimal strings, coordinates below q, affine z = 1, points on their curve, G2
// in the order-r subgroup, no point at infinity, public inputs below r, nPublic matching
// IC), then `snarkjs groth16 verify` (snarkjs 0.7.6) for the pairing check. One BN254
// engine (ffjavascript's WASM, single thread: no worker) serves both.
import { buildBn128 } from "ffjavascript";
import { groth16 } from "snarkjs";
import { JNum, JObj, pyRepr } from "./json.js";
import { R } from "./poseidon.js";

export const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
let curve = null;

export async function initCurve() {
  if (curve === null) {
    curve = await buildBn128(true);
    // snarkjs's getCurveFromName returns this cached engine instead of starting workers
    globalThis.curve_bn128 = curve;
  }
  return curve;
}

export class ProofFormatError extends Error {
  constructor(field, reason, value = undefined) {
    super(`${field} ${reason}${value === undefined ? "" : `: ${pyRepr(value)}`}`);
  }
}

const DECIMAL = /^(?:0|[1-9][0-9]{0,79})$/;

function decimal(value, field) {
  if (typeof value !== "string") throw new ProofFormatError(field, "must be a decimal string", value);
  if (!DECIMAL.test(value)) {
    throw new ProofFormatError(field, "is not a canonical decimal string (digits only, no sign, spaces or leading zeros, at most 80 digits)", value);
  }
  return BigInt(value);
}

function exactList(value, field, length) {
  if (!Array.isArray(value) || value.length !== length) throw new ProofFormatError(field, `must be a list of ${length}`);
  return value;
}

function object(data, field) {
  if (!(data instanceof JObj)) throw new ProofFormatError(field, "must be a JSON object");
  return data;
}

function key(data, k, field) {
  if (!data.has(k)) throw new ProofFormatError(`${field}.${k}`, "is missing");
  return data.get(k);
}

function header(data, field, required) {
  for (const [k, want] of [["protocol", "groth16"], ["curve", "bn128"]]) {
    if (data.has(k) || required) {
      const got = key(data, k, field);
      if (got !== want) throw new ProofFormatError(`${field}.${k}`, `must be '${want}'`, got);
    }
  }
}

function jsonG1(data, field) {
  const [x, y, z] = exactList(data, field, 3);
  if (z !== "1") throw new ProofFormatError(`${field}[2]`, 'must be "1" (affine point, z = 1)');
  return [decimal(x, `${field}[0]`), decimal(y, `${field}[1]`)];
}

function jsonG2(data, field) {
  const [x, y, z] = exactList(data, field, 3);
  if (!Array.isArray(z) || z.length !== 2 || z[0] !== "1" || z[1] !== "0") {
    throw new ProofFormatError(`${field}[2]`, 'must be ["1", "0"] (affine point, z = 1)');
  }
  const xs = exactList(x, `${field}[0]`, 2);
  const ys = exactList(y, `${field}[1]`, 2);
  return [[decimal(xs[0], `${field}[0][0]`), decimal(xs[1], `${field}[0][1]`)],
    [decimal(ys[0], `${field}[1][0]`), decimal(ys[1], `${field}[1][1]`)]];
}

function coordinate(c, field) {
  if (c >= Q) throw new ProofFormatError(field, "is not below the base field modulus q", c);
  return c;
}

function g1(p, field) {
  coordinate(p[0], `${field}[0]`);
  coordinate(p[1], `${field}[1]`);
  if (p[0] === 0n && p[1] === 0n) throw new ProofFormatError(field, "is the point at infinity (EVM encoding (0, 0)), which is not accepted");
  if ((p[1] * p[1] - p[0] * p[0] * p[0] - 3n) % Q !== 0n) throw new ProofFormatError(field, "is not on the curve y^2 = x^3 + 3");
  return p;
}

function g2(p, field) {
  p.forEach((pair, i) => pair.forEach((c, j) => coordinate(c, `${field}[${i}][${j}]`)));
  if (p.flat().every((c) => c === 0n)) {
    throw new ProofFormatError(field, "is the point at infinity (EVM encoding (0, 0, 0, 0)), which is not accepted");
  }
  const point = curve.G2.fromObject([p[0], p[1], [1n, 0n]]);
  if (!curve.G2.isValid(point)) {
    throw new ProofFormatError(field, "is not on the twist curve y^2 = x^3 + 3/(9+u) (coordinates are [c0, c1]; swapped halves land here)");
  }
  if (!curve.G2.isZero(curve.G2.timesScalar(point, R))) {
    throw new ProofFormatError(field, "is on the twist but not in the order-r subgroup");
  }
  return p;
}

function int(value, field) {
  if (!(value instanceof JNum) || !value.isInt) throw new ProofFormatError(field, "must be an integer", value);
  return BigInt(value.raw);
}

/** VerificationKey.from_json. */
export function parseVerificationKey(data) {
  const d = object(data, "vk");
  header(d, "vk", true);
  const icJson = key(d, "IC", "vk");
  if (!Array.isArray(icJson) || !icJson.length) throw new ProofFormatError("vk.IC", "must be a non-empty list of points");
  const nPublic = int(key(d, "nPublic", "vk"), "vk.nPublic");
  if (nPublic !== BigInt(icJson.length - 1)) {
    throw new ProofFormatError("vk.nPublic", `does not match len(IC) - 1 = ${icJson.length - 1}`, nPublic);
  }
  const raw = {
    alpha1: jsonG1(key(d, "vk_alpha_1", "vk"), "vk.vk_alpha_1"),
    beta2: jsonG2(key(d, "vk_beta_2", "vk"), "vk.vk_beta_2"),
    gamma2: jsonG2(key(d, "vk_gamma_2", "vk"), "vk.vk_gamma_2"),
    delta2: jsonG2(key(d, "vk_delta_2", "vk"), "vk.vk_delta_2"),
    ic: icJson.map((p, i) => jsonG1(p, `vk.IC[${i}]`)),
  };
  return {
    alpha1: g1(raw.alpha1, "vk.vk_alpha_1"),
    beta2: g2(raw.beta2, "vk.vk_beta_2"),
    gamma2: g2(raw.gamma2, "vk.vk_gamma_2"),
    delta2: g2(raw.delta2, "vk.vk_delta_2"),
    ic: raw.ic.map((p, i) => g1(p, `vk.IC[${i}]`)),
  };
}

/** Proof.from_json. */
export function parseProof(data) {
  const d = object(data, "proof");
  header(d, "proof", false);
  const raw = {
    a: jsonG1(key(d, "pi_a", "proof"), "proof.pi_a"),
    b: jsonG2(key(d, "pi_b", "proof"), "proof.pi_b"),
    c: jsonG1(key(d, "pi_c", "proof"), "proof.pi_c"),
  };
  return { a: g1(raw.a, "proof.pi_a"), b: g2(raw.b, "proof.pi_b"), c: g1(raw.c, "proof.pi_c") };
}

/** parse_public: nPublic canonical decimal strings, each below r. */
export function parsePublic(data, nPublic) {
  if (!Array.isArray(data)) throw new ProofFormatError("public", "must be a JSON list");
  const values = data.map((v, i) => decimal(v, `public[${i}]`));
  if (values.length !== nPublic) {
    throw new ProofFormatError("public", `has ${values.length} values; the verification key takes nPublic = ${nPublic}`);
  }
  values.forEach((x, i) => {
    if (x >= R) throw new ProofFormatError(`public[${i}]`, "is not below the scalar field modulus r", x);
  });
  return values;
}

const s = (x) => x.toString();
const g1Json = (p) => [s(p[0]), s(p[1]), "1"];
const g2Json = (p) => [[s(p[0][0]), s(p[0][1])], [s(p[1][0]), s(p[1][1])], ["1", "0"]];

/** The pairing check, by snarkjs, of inputs that passed the strict rules above. */
export async function verifyGroth16(vk, proof, publicSignals) {
  const vkJson = {
    protocol: "groth16", curve: "bn128", nPublic: vk.ic.length - 1,
    vk_alpha_1: g1Json(vk.alpha1), vk_beta_2: g2Json(vk.beta2),
    vk_gamma_2: g2Json(vk.gamma2), vk_delta_2: g2Json(vk.delta2), IC: vk.ic.map(g1Json),
  };
  const proofJson = { pi_a: g1Json(proof.a), pi_b: g2Json(proof.b), pi_c: g1Json(proof.c),
    protocol: "groth16", curve: "bn128" };
  return groth16.verify(vkJson, publicSignals.map(s), proofJson);
}

// --- the INSECURE development setup (zkmargin/devsetup.py) -------------------------------
// alpha*G1 and beta*G2 of x = SHA-512("zkmargin INSECURE development setup" || 0x00 ||
// label) mod r, computed once by zkmargin.devsetup.dev_points(); tests/test_web.py checks
// that these constants are the Python ones.
export const DEV_ALPHA_G1 = [
  2544758759998313917884118182044997269373821568171240092573212456824860035514n,
  15394873418382832978715569216954775538766997132721598340215839445398302263763n,
];
export const DEV_BETA_G2 = [
  [5080796559316228055198622624175247074098722553496127738620294213351397631994n,
    16672769487277320184380312667627562022710607071703541594037213692743825591526n],
  [18727472271434530382263904667155371261167848940010721747049124481165130700015n,
    3185317032845977614866406914982887209093726471436663094061018970060937110894n],
];

/** is_dev_key: the key's alpha or beta is the development setup's. */
export function isDevKey(vk) {
  const alpha = vk.alpha1[0] === DEV_ALPHA_G1[0] && vk.alpha1[1] === DEV_ALPHA_G1[1];
  const beta = vk.beta2.flat().every((c, i) => c === DEV_BETA_G2.flat()[i]);
  return alpha || beta;
}
