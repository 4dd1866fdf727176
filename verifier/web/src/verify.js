// The checks of `zkmargin inclusion verify` (zkmargin/verifier/inclusion.py), in its order
// and under its names; the first failure names its check:
//
//   file, params, labels, leaf, batch, path, root, then with published files: artifacts,
//   proof, batch (the path's batch root is the proven one).
//
// Nothing here touches the network: the inclusion file and the published files are texts
// the page already holds (files the holder opened, or published.js beside the page).
import { I63, parseFixed, show, usd } from "./fixed.js";
import { JNum, JObj, PyValueError, parseJson, pyRepr } from "./json.js";
import { accountIdDigest, accountLeaf, bitLength, depthFor, idHash, rootFromPath } from "./poseidon.js";
import {
  ProofFormatError, isDevKey, parseProof, parsePublic, parseVerificationKey, verifyGroth16,
} from "./groth16.js";
import {
  InputError, accountMargin, batchCommitment, batchRecordFromJson, circuitParams, loadParamsText,
  manifestFromJson, paramsHash, parseParams, readJson, shapeForParams,
} from "./statement.js";

export const FORMAT = "zkmargin-inclusion/2";
export const CHECKS = ["file", "params", "labels", "leaf", "batch", "path", "root", "artifacts", "proof", "batch"];

export class InclusionError extends Error {
  constructor(check, reason) {
    super(`check '${check}' failed: ${reason}`);
    this.check = check;
    this.reason = reason;
  }
}

const hex64 = (x) => "0x" + x.toString(16).padStart(64, "0");

/** _brief: Python's repr of a value, cut at 80 characters. */
function brief(value) {
  const text = [...pyRepr(value)];
  return text.length <= 80 ? text.join("") : text.slice(0, 77).join("") + "...";
}

/** inclusion.py's _Reader: the inclusion file's fields; every refusal is the check 'file'
 * naming the file, the field and the value. */
class Reader {
  constructor(name, doc) {
    this.name = name;
    this.doc = doc;
  }

  fail(path, value, reason) {
    return new InclusionError("file", `${this.name}: field ${path}: value ${brief(value)}: ${reason}`);
  }

  get(key) {
    if (!this.doc.has(key)) throw new InclusionError("file", `${this.name}: the file has no ${pyRepr(key)}`);
    return this.doc.get(key);
  }

  text(key) {
    const value = this.get(key);
    if (typeof value !== "string" || !value) throw this.fail(key, value, "must be a non-empty string");
    return value;
  }

  /** An exact decimal string (amount, size or cost x 1e8), |v| < 2^63. */
  decimal(path, value) {
    if (typeof value !== "string") throw this.fail(path, value, 'must be a decimal string, e.g. "-12.5"');
    let v;
    try {
      v = parseFixed(value);
    } catch (exc) {
      if (!(exc instanceof PyValueError)) throw exc;
      throw this.fail(path, value, exc.message);
    }
    if (!(-I63 < v && v < I63)) throw this.fail(path, value, "is out of range: |value x 10^8| must be below 2^63");
    return v;
  }

  /** A non-negative integer: a JSON integer, or a decimal string of ASCII digits. */
  integer(path, value) {
    if (value instanceof JNum && value.isInt && BigInt(value.raw) >= 0n) return BigInt(value.raw);
    if (typeof value === "string" && /^[0-9]+$/.test(value)) return BigInt(value);
    throw this.fail(path, value, "must be a non-negative integer");
  }

  number(key) {
    return this.integer(key, this.get(key));
  }

  /** An object of labels (absent and not `required`: empty). */
  values(key, required = true) {
    if (!this.doc.has(key) && !required) return new JObj();
    const value = this.get(key);
    if (!(value instanceof JObj)) throw this.fail(key, value, "must be a JSON object of labels");
    return value;
  }
}

/**
 * parse_root: a root or hash as the holder may paste it. "0x" + hex digits; without the
 * prefix, 64 characters or any letter a-f mean hex (zkmargin prints roots as 64 hex
 * digits); other digit strings are decimal. Returns a BigInt or throws.
 */
export function parseRoot(text) {
  const t = text.trim();
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return BigInt("0x" + t.slice(2));
  if (/^[0-9]+$/.test(t) && t.length !== 64) return BigInt(t);
  if (/^[0-9a-fA-F]+$/.test(t)) return BigInt("0x" + t);
  throw new Error(`a root is hex (with or without 0x) or decimal, got ${pyRepr(text)}`);
}

/** The published files: relative path -> text (null: not UTF-8), as in the artifacts. */
export class Published {
  constructor(files = new Map()) {
    this.files = files;
  }

  get size() {
    return this.files.size;
  }

  get(rel) {
    return this.files.get(rel);
  }
}

/** Verdict: what inclusion.py's Verdict holds, plus the margin figures. */
export class Verdict {
  constructor(fields) {
    Object.assign(this, fields);
  }

  held() {
    const parts = [];
    for (const [s, v] of this.balances) if (parseFixed(v) !== 0n) parts.push(`${s} ${show(v)}`);
    for (const [p, v] of this.positions) {
      if (parseFixed(v.qty) !== 0n) parts.push(`${p} position ${show(v.qty)} (cost ${show(v.cost)} USD)`);
    }
    for (const [o, v] of this.options) if (parseFixed(v) !== 0n) parts.push(`${o} option ${show(v)}`);
    return parts.join(", ") || "no balances";
  }

  get sufficient() {
    return this.equity >= this.requirement;
  }

  get shortfall() {
    return this.requirement > this.equity ? this.requirement - this.equity : 0n;
  }

  /** E - R (F): negative when deficient. */
  get excess() {
    return this.equity - this.requirement;
  }

  sentence() {
    const root = hex64(this.root);
    if (!this.root_confirmed) {
      return `Account ${this.account_id} with ${this.held()} leads, through the file's path, to root ${root} `
        + `(batch ${this.batch_index} of ${this.batch_count}; params hash ${hex64(this.params_hash)}). `
        + "That root is the exchange's own claim: compare it with the root the exchange published "
        + "(paste it above, or open the published files to also verify the batch proof). Until then "
        + "this is not evidence that the account is included.";
    }
    let text = `Account ${this.account_id} with ${this.held()} is included in root ${root}, `
      + `batch ${this.batch_index} of ${this.batch_count}`;
    if (this.proof_checked) {
      text += "; the batch proof is valid";
      if (this.insecure_setup) {
        text += " (but made with an INSECURE development setup: its tau is public, anyone could have forged it)";
      }
    }
    text += ".";
    if (!this.params_confirmed) {
      text += ` Its labels come from params hashing to ${hex64(this.params_hash)}: compare that with `
        + "the published params hash.";
    }
    return text;
  }

  /** The JSON of `zkmargin inclusion verify --json`, which the tests compare. */
  toJSON() {
    return {
      verified: true,
      included: this.root_confirmed,
      account_id: this.account_id,
      balances: Object.fromEntries(this.balances),
      positions: Object.fromEntries([...this.positions].map(([p, v]) => [p, { qty: v.qty, cost: v.cost }])),
      options: Object.fromEntries(this.options),
      root: hex64(this.root),
      params_hash: hex64(this.params_hash),
      batch_index: Number(this.batch_index),
      batch_count: Number(this.batch_count),
      root_confirmed: this.root_confirmed,
      params_confirmed: this.params_confirmed,
      proof_checked: this.proof_checked,
      insecure_setup: this.insecure_setup,
      equity: this.equity.toString(),
      requirement: this.requirement.toString(),
      maintenance: Object.fromEntries([...this.maintenance].map(([p, v]) => [p, v.toString()])),
      portfolio: Object.fromEntries([...this.portfolio].map(([g, v]) => [g, v.toString()])),
      excess: this.excess.toString(),
      shortfall: this.shortfall.toString(),
      status: this.sufficient ? "sufficient" : "deficient",
      equity_usd: usd(this.equity),
      requirement_usd: usd(this.requirement),
      maintenance_usd: Object.fromEntries([...this.maintenance].map(([p, v]) => [p, usd(v)])),
      portfolio_usd: Object.fromEntries([...this.portfolio].map(([g, v]) => [g, usd(v)])),
      excess_usd: usd(this.excess),
      shortfall_usd: usd(this.shortfall),
      sentence: this.sentence(),
    };
  }
}

/**
 * verify(): every check; resolves to a Verdict or rejects with an InclusionError.
 * `name` names the file in messages; `root`, `expectedParamsHash`: BigInt or null;
 * `published`: a Published or null; `trace(step, info)` sees each passed check.
 */
export async function verify(text, { name = "the file", root = null, expectedParamsHash = null,
  published = null, trace = () => {}, timings = {} } = {}) {
  const now = () => performance.now();
  // 1. file
  let doc;
  try {
    if (text === null) throw new Error("not UTF-8 text");
    doc = parseJson(text);
  } catch (exc) {
    throw new InclusionError("file", `${name}: not a readable inclusion file: ${exc.message}`);
  }
  if (!(doc instanceof JObj) || doc.get("format") !== FORMAT) {
    const found = doc instanceof JObj && doc.has("format") ? pyRepr(doc.get("format")) : "None";
    throw new InclusionError("file", `${name}: format ${found}, expected '${FORMAT}'`);
  }
  const r = new Reader(name, doc);
  const acct = r.text("account_id");
  const salt = r.number("salt");
  const balances = r.values("balances");
  const positions = r.values("positions");
  const options = r.values("options", false); // absent: a book without options may omit it
  const bal = [...balances].map(([s, v]) => r.decimal(`balances.${s}`, v));
  const qty = [];
  const cost = [];
  for (const [p, v] of positions) {
    const keys = v instanceof JObj ? [...v.keys()] : null;
    if (keys === null || keys.length !== 2 || !keys.includes("qty") || !keys.includes("cost")) {
      throw r.fail(`positions.${p}`, v, "must be an object with exactly 'qty' and 'cost'");
    }
    qty.push(r.decimal(`positions.${p}.qty`, v.get("qty")));
    cost.push(r.decimal(`positions.${p}.cost`, v.get("cost")));
  }
  const opt = [...options].map(([o, v]) => r.decimal(`options.${o}`, v));
  const leaf = r.number("leaf");
  const index = r.number("leaf_index");
  const pathDoc = r.get("path");
  if (!Array.isArray(pathDoc)) throw r.fail("path", pathDoc, "must be a JSON list of field elements");
  const path = pathDoc.map((v, n) => r.integer(`path[${n}]`, v));
  const batch = r.number("batch_index");
  const count = r.number("batch_count");
  const k = r.number("batch_size");
  const depth = r.number("tree_depth");
  const claimedRoot = r.number("root");
  const claimedPh = r.number("params_hash");
  trace("file");

  // 2. params
  if (expectedParamsHash !== null && claimedPh !== expectedParamsHash) {
    throw new InclusionError("params", `the file's params hash ${hex64(claimedPh)} is not the published `
      + `${hex64(expectedParamsHash)}: its labels are not the committed ones`);
  }
  if (!doc.has("params")) throw new InclusionError("file", "the file has no 'params'");
  const paramsDoc = doc.get("params");
  let params, computedPh;
  try {
    // loads_params(json.dumps(doc["params"]), file="the file's params")
    params = parseParams(paramsDoc, "the file's params", true);
    const shape = shapeForParams(params, 1n);
    computedPh = paramsHash(shape, circuitParams(params, shape));
  } catch (exc) {
    if (!(exc instanceof InputError || exc instanceof PyValueError)) throw exc;
    throw new InclusionError("params", exc.message);
  }
  if (computedPh !== claimedPh) {
    throw new InclusionError("params", `the params in the file hash to ${computedPh}, not to the file's params `
      + `hash ${claimedPh}: the labels or numbers shown would not be the committed ones`);
  }
  trace("params", { params });

  // 3. labels
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  if (!same([...balances.keys()], params.assetSymbols)) {
    throw new InclusionError("labels", `the file labels its balances ${pyRepr([...balances.keys()])}, the `
      + `hashed params list ${pyRepr(params.assetSymbols)}`);
  }
  if (!same([...positions.keys()], params.perpSymbols)) {
    throw new InclusionError("labels", `the file labels its positions ${pyRepr([...positions.keys()])}, `
      + `the hashed params list ${pyRepr(params.perpSymbols)}`);
  }
  if (!doc.has("options")) {
    if (params.options.length) {
      throw new InclusionError("labels", `the file has no 'options', the hashed params list options `
        + `${pyRepr(params.optionSymbols)}`);
    }
  } else if (!same([...options.keys()], params.optionSymbols)) {
    throw new InclusionError("labels", `the file labels its options ${pyRepr([...options.keys()])}, the `
      + `hashed params list ${pyRepr(params.optionSymbols)}`);
  }
  trace("labels");

  // 4. leaf
  let t = now();
  let computed;
  try {
    computed = accountLeaf(idHash(accountIdDigest(acct), salt), bal, qty, cost, opt);
  } catch (exc) {
    if (!(exc instanceof PyValueError)) throw exc;
    throw new InclusionError("leaf", exc.message);
  }
  timings.leaf = now() - t;
  if (computed !== leaf) {
    throw new InclusionError("leaf", `the id, salt and values in the file give leaf ${computed}, not the file's `
      + `${leaf}: a balance, position, option or the salt was changed`);
  }
  trace("leaf", { leaf });

  // 5. batch
  if (k < 1n || (k & (k - 1n)) || index / k !== batch) {
    throw new InclusionError("batch", `leaf ${index} is not in batch ${batch} of size ${k}`);
  }
  if (!(batch < count)) {
    throw new InclusionError("batch", `batch ${batch} is not below the proven batch count ${count}`);
  }
  trace("batch");

  // 6. path
  const batchDepth = BigInt(bitLength(k) - 1);
  const expectedDepth = batchDepth + depthFor(count);
  if (depth !== expectedDepth || BigInt(path.length) !== depth) {
    throw new InclusionError("path", `the path has ${path.length} levels and the file says depth ${depth}; `
      + `${count} batches of ${k} make a tree of depth ${expectedDepth}`);
  }
  t = now();
  const levels = [];
  let top;
  try {
    top = rootFromPath(leaf, index, path, levels);
  } catch (exc) {
    if (!(exc instanceof PyValueError)) throw exc;
    throw new InclusionError("path", exc.message);
  }
  timings.path = now() - t;
  if (top !== claimedRoot) {
    throw new InclusionError("path", `the path from the leaf gives root ${top}, not the file's ${claimedRoot}`);
  }
  trace("path", { levels, root: top, batchDepth: Number(batchDepth) });

  // 7. root
  if (root !== null && root !== claimedRoot) {
    throw new InclusionError("root", `the file's root ${hex64(claimedRoot)} is not the expected ${hex64(root)}`);
  }
  if (root !== null) trace("root");

  // 8. artifacts, proof, batch
  let checked = false;
  let insecure = false;
  if (published !== null) {
    t = now();
    const claimed = { root: claimedRoot, params_hash: claimedPh, batch_index: batch, batch_count: count,
      batch_size: k, tree_depth: depth };
    insecure = await checkArtifacts(published, claimed, leaf, index, path, trace);
    timings.proof = now() - t;
    checked = true;
  }
  const margin = accountMargin(params, bal, qty, cost, opt);
  return new Verdict({
    account_id: acct,
    balances,
    positions: new Map([...positions].map(([p, v]) => [p, { qty: v.get("qty"), cost: v.get("cost") }])),
    options,
    maintenance: new Map(params.perps.map((p, i) => [p, margin.maintenance[i]]).filter(([p]) => p.group === null)
      .map(([p, mm]) => [p.symbol, mm])),
    portfolio: new Map(params.groups.map((g, i) => [g, margin.portfolio[i]])),
    root: claimedRoot,
    params_hash: claimedPh,
    batch_index: batch,
    batch_count: count,
    root_confirmed: root !== null || checked,
    params_confirmed: expectedParamsHash !== null || checked,
    proof_checked: checked,
    insecure_setup: insecure,
    equity: margin.equity,
    requirement: margin.requirement,
    margin,
    params,
    levels,
    batch_depth: Number(batchDepth),
  });
}

async function checkArtifacts(published, claimed, leaf, index, path, trace) {
  let manifest, params;
  try {
    manifest = manifestFromJson(readJson(published.get("manifest.json"), "manifest.json"), "manifest.json");
    params = loadParamsText(published.get("params.json"), "params.json");
  } catch (exc) {
    if (exc instanceof InputError) throw new InclusionError("artifacts", exc.message);
    throw exc;
  }
  const wants = [["root", manifest.root], ["params_hash", manifest.paramsHash], ["batch_count", manifest.batches],
    ["batch_size", manifest.shape.batchSize], ["tree_depth", manifest.treeDepth]];
  for (const [key, want] of wants) {
    if (claimed[key] !== want) {
      throw new InclusionError("artifacts", `the file's ${key} ${claimed[key]} differs from manifest.json's ${want}`);
    }
  }
  const k = claimed.batch_size;
  const shape = manifest.shape;
  let publishedPh;
  try {
    publishedPh = paramsHash(shape, circuitParams(params, shape));
  } catch (exc) {
    if (!(exc instanceof PyValueError)) throw exc;
    throw new InclusionError("artifacts", `params.json: ${exc.message}`);
  }
  if (publishedPh !== manifest.paramsHash) {
    throw new InclusionError("artifacts", "params.json does not hash to the published params hash");
  }
  trace("artifacts", { manifest });

  let vk, record;
  try {
    vk = parseVerificationKeyFile(published, manifest);
    record = await checkBatch(published, claimed.batch_index, vk, manifest.paramsHash, params.assetSymbols);
  } catch (exc) {
    if (exc instanceof AuditError) throw new InclusionError("proof", exc.message);
    throw exc;
  }
  trace("proof", { vk, insecure: isDevKey(vk) });

  const batchRoot = rootFromPath(leaf, index % k, path.slice(0, bitLength(k) - 1));
  if (record.root !== batchRoot) {
    throw new InclusionError("batch", `the path gives batch root ${batchRoot}, batch ${record.index} says ${record.root}`);
  }
  trace("batch-root", { batchRoot });
  return isDevKey(vk);
}

class AuditError extends Error {
  constructor(file, check, reason) {
    super(`${file}: check '${check}' failed: ${reason}`);
  }
}

function named(file, check, fn) {
  try {
    return fn();
  } catch (exc) {
    if (exc instanceof InputError || exc instanceof ProofFormatError) {
      throw new AuditError(file, check, exc instanceof InputError ? exc.reason : exc.message);
    }
    throw exc;
  }
}

function parseVerificationKeyFile(published, manifest) {
  const rel = manifest.verificationKey;
  if (!manifest.files.has(rel)) throw new AuditError(rel, "verification_key", "the manifest's key is not a listed file");
  const doc = named(rel, "verification_key", () => readJson(published.get(rel), rel));
  const vk = named(rel, "verification_key", () => parseVerificationKey(doc));
  if (vk.ic.length - 1 !== 1) {
    throw new AuditError(rel, "verification_key", `${vk.ic.length - 1} public signals; the batch circuit has exactly 1`);
  }
  return vk;
}

async function checkBatch(published, index, vk, expectedPh, symbols) {
  const rel = `batches/${index.toString().padStart(6, "0")}`;
  const rec = named(`${rel}/batch.json`, "batch_file", () =>
    batchRecordFromJson(readJson(published.get(`${rel}/batch.json`), `${rel}/batch.json`), symbols, `${rel}/batch.json`));
  if (rec.index !== index) throw new AuditError(`${rel}/batch.json`, "batch_file", `index ${rec.index} in the directory of batch ${index}`);
  if (rec.params_hash !== expectedPh) {
    throw new AuditError(`${rel}/batch.json`, "params_hash", `params hash ${rec.params_hash} differs from params.json's ${expectedPh}`);
  }
  const commitment = batchCommitment(rec.index, rec.root, rec.params_hash, rec.totals);
  if (commitment !== rec.commitment) {
    throw new AuditError(`${rel}/batch.json`, "commitment",
      `commitment ${rec.commitment} is not the hash of the file's fields (${commitment})`);
  }
  const publicDoc = named(`${rel}/public.json`, "commitment", () => readJson(published.get(`${rel}/public.json`), `${rel}/public.json`));
  const pub = named(`${rel}/public.json`, "commitment", () => parsePublic(publicDoc, 1));
  if (pub[0] !== commitment) {
    throw new AuditError(`${rel}/public.json`, "commitment", `public signal ${pub[0]} differs from batch.json's commitment ${commitment}`);
  }
  const proofDoc = named(`${rel}/proof.json`, "proof", () => readJson(published.get(`${rel}/proof.json`), `${rel}/proof.json`));
  const proof = named(`${rel}/proof.json`, "proof", () => parseProof(proofDoc));
  if (!(await verifyGroth16(vk, proof, pub))) {
    throw new AuditError(`${rel}/proof.json`, "proof", "the Groth16 proof does not verify for this public signal");
  }
  return rec;
}
