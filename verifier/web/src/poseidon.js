// Poseidon over BN254 exactly as circomlib computes it: circomlibjs's reference
// implementation and constants (circomlibjs 0.1.7, src/poseidon_reference.js), over
// ffjavascript's BigInt field (see bigint_curve.js and build.mjs). Every input must be a
// field element: circomlibjs would reduce a larger one silently, zkmargin refuses it.
import buildPoseidonReference from "zkmargin:circomlibjs-poseidon";
import { R } from "./bigint_curve.js";
import { PyValueError } from "./json.js";
import { sha256 } from "./sha256.js";

export { R };
export const MAX_INPUTS = 16;
let poseidon = null;

export async function initPoseidon() {
  if (poseidon === null) poseidon = await buildPoseidonReference();
  return poseidon;
}

export function hash(inputs) {
  if (poseidon === null) throw new Error("Poseidon is not initialised");
  if (inputs.length < 1 || inputs.length > MAX_INPUTS) {
    throw new PyValueError(`Poseidon takes 1..${MAX_INPUTS} inputs, got ${inputs.length}`);
  }
  inputs.forEach((x, i) => {
    if (typeof x !== "bigint" || x < 0n || x >= R) {
      throw new PyValueError(`Poseidon input ${i} = ${x} is not a field element (need 0 <= x < SNARK_FIELD)`);
    }
  });
  return poseidon(inputs);
}

// --- zkmargin/commitments.py -------------------------------------------------------------
export const DIGEST_BYTES = 31;
const SLOT_BITS = 64n;
const SLOT_OFFSET = 1n << 63n;
const I63 = 1n << 63n;
const FIELDS_PER_HASH = 11;
/** "zkmargin/leaf" as a big-endian integer. */
export const LEAF_TAG = BigInt("0x" + Array.from(new TextEncoder().encode("zkmargin/leaf"),
  (b) => b.toString(16).padStart(2, "0")).join(""));

function isWellFormed(text) {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/** int(sha256(utf8(id))[:31], big-endian). */
export function accountIdDigest(accountId) {
  if (!isWellFormed(accountId)) {
    throw new PyValueError("'utf-8' codec can't encode the account id: surrogates not allowed");
  }
  const digest = sha256(new TextEncoder().encode(accountId)).slice(0, DIGEST_BYTES);
  return BigInt("0x" + Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""));
}

export function idHash(digest, salt) {
  for (const [name, v] of [["account_id_digest", digest], ["salt", salt]]) {
    if (v < 0n || v >= 1n << 248n) throw new PyValueError(`${name} = ${v} must be in 0..2^248-1`);
  }
  return hash([digest, salt]);
}

/** account_slots: [x_1..x_A, q_1, c_1, ..., q_P, c_P, o_1..o_O], each |v| < 2^63. */
export function accountSlots(balances, qty, cost, options = []) {
  if (qty.length !== cost.length) throw new PyValueError(`${qty.length} perp sizes but ${cost.length} costs`);
  const values = [...balances];
  qty.forEach((q, i) => values.push(q, cost[i]));
  values.push(...options);
  values.forEach((v, k) => {
    if (!(-I63 < v && v < I63)) {
      throw new PyValueError(`value ${k} = ${v} is outside the signed 64-bit slot (|v| < 2^63)`);
    }
  });
  return values;
}

export function packValues(values) {
  const fields = [];
  for (let j = 0; j < values.length; j += 3) {
    let f = 0n;
    values.slice(j, j + 3).forEach((v, k) => {
      f |= (v + SLOT_OFFSET) << (SLOT_BITS * BigInt(k));
    });
    fields.push(f);
  }
  return fields;
}

/** fold_hash: Poseidon(values[:12]), then Poseidon(h, next 11 values) until done. */
export function foldHash(values) {
  if (!values.length) throw new PyValueError("fold_hash needs at least one value");
  let node = hash(values.slice(0, FIELDS_PER_HASH + 1));
  for (let j = FIELDS_PER_HASH + 1; j < values.length; j += FIELDS_PER_HASH) {
    node = hash([node, ...values.slice(j, j + FIELDS_PER_HASH)]);
  }
  return node;
}

/** leaf_width: the tag, the id hash, the fields, and one zero field when the last
 * Poseidon of the fold would otherwise take 2 inputs (as an inner node does). */
export function leafWidth(fields) {
  let n = fields + 2;
  if (n > FIELDS_PER_HASH + 1 && (n - FIELDS_PER_HASH - 1) % FIELDS_PER_HASH === 1) n += 1;
  return n;
}

/** account_leaf: the Merkle leaf of one account (`options`: its option sizes). */
export function accountLeaf(idh, balances, qty, cost, options = []) {
  const fields = packValues(accountSlots(balances, qty, cost, options));
  const values = [LEAF_TAG, idh, ...fields];
  while (values.length < leafWidth(fields.length)) values.push(0n);
  return foldHash(values);
}

/** padding_leaf: the leaf of the all-zero account with id_hash 0. */
export function paddingLeaf(assets, perps, options = 0) {
  const zeros = (n) => Array(n).fill(0n);
  return accountLeaf(0n, zeros(assets), zeros(perps), zeros(perps), zeros(options));
}

// --- zkmargin/merkle.py ------------------------------------------------------------------
export function depthFor(count) {
  const c = count - 1n > 0n ? count - 1n : 0n;
  return BigInt(c.toString(2).replace(/^0+/, "").length);
}

export function bitLength(x) {
  return x === 0n ? 0 : x.toString(2).length;
}

/** root_from_path, with every level (for the picture): levels[l] = [node, sibling]. */
export function rootFromPath(leaf, index, siblings, levels = null) {
  if (!(0n <= index && index < 1n << BigInt(siblings.length))) {
    throw new PyValueError(`index ${index} does not fit a path of ${siblings.length} siblings`);
  }
  let node = leaf;
  siblings.forEach((sib, level) => {
    const right = (index >> BigInt(level)) & 1n;
    if (levels) levels.push({ node, sibling: sib, right: right === 1n });
    node = right ? hash([sib, node]) : hash([node, sib]);
  });
  return node;
}
