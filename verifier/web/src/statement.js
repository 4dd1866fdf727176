// The public statement, as zkmargin/params.py and zkmargin/statement.py read it: risk
// parameters (every rule), the params hash, totals, batch.json, manifest.json. Each reader
// refuses what its Python twin refuses; messages follow the Python ones.
import { I63, SCALE, parseFixed } from "./fixed.js";
import { JNum, JObj, PyValueError, parseJson, pyFloatRepr, pyRepr } from "./json.js";
import { R, foldHash } from "./poseidon.js";

export class InputError extends Error {
  constructor(file, reason, { path = null, value = undefined, row = null } = {}) {
    const where = [file];
    if (row !== null) where.push(`row ${row}`);
    if (path !== null) where.push(`field ${path}`);
    const shown = value !== undefined && value !== null ? `: value ${pyRepr(value)}` : "";
    super(`${where.join(", ")}${shown}: ${reason}`);
    this.file = file;
    this.reason = reason;
  }
}

/** StatementError: a published file that does not hold a valid statement. */
export class StatementError extends InputError {}

// --- zkmargin/params.py ------------------------------------------------------------------
const SYMBOL = /^[A-Z0-9_-]{1,31}$/;
export const WEIGHT_ONE = 10000n;
const RATE_ONE = 1000000n;
const MAX_ASSETS = 64;
const MAX_PERPS = 64;
const MAX_BRACKETS = 16;

/** A params value as loads_params sees it: a JSON number keeps its source text. In the
 * inclusion file's params (`embedded`), a float is first what json.dumps writes of it. */
function rawText(v, embedded) {
  if (v instanceof JNum) return embedded && !v.isInt ? pyFloatRepr(v.raw) : v.raw;
  return null;
}

function show(v, embedded) {
  const raw = rawText(v, embedded);
  return raw !== null ? raw : v;
}

function decimalField(file, path, raw, positive, embedded) {
  const text = typeof raw === "string" ? raw : rawText(raw, embedded);
  if (typeof raw === "boolean" || text === null) {
    throw new InputError(file, "must be a decimal string or number", { path, value: show(raw, embedded) });
  }
  let value;
  try {
    value = parseFixed(text);
  } catch (exc) {
    throw new InputError(file, exc.message, { path, value: text });
  }
  if (positive && value <= 0n) throw new InputError(file, "must be positive", { path, value: text });
  if (!(-I63 < value && value < I63)) {
    throw new InputError(file, "is out of range: value x 10^8 must be below 2^63", { path, value: text });
  }
  return value;
}

function intField(file, path, raw, lo, hi, embedded) {
  const text = rawText(raw, embedded);
  let value;
  if (text !== null && /^-?[0-9]+$/.test(text)) {
    value = BigInt(text);
  } else if (typeof raw === "string") {
    throw new InputError(file, `must be a JSON integer in ${lo}..${hi}, not a string`, { path, value: raw });
  } else {
    throw new InputError(file, `must be an integer in ${lo}..${hi}`, { path, value: show(raw, embedded) });
  }
  if (!(lo <= value && value <= hi)) {
    throw new InputError(file, `must be an integer in ${lo}..${hi}`, { path, value: text });
  }
  return value;
}

function symbol(file, path, raw, embedded) {
  if (typeof raw !== "string" || !SYMBOL.test(raw)) {
    throw new InputError(file, "must be a symbol matching [A-Z0-9_-]+ of at most 31 characters",
      { path, value: show(raw, embedded) });
  }
  return raw;
}

function obj(file, path, raw, keys, embedded) {
  if (!(raw instanceof JObj)) throw new InputError(file, "must be a JSON object", { path, value: show(raw, embedded) });
  if (!embedded && raw.duplicate !== null) {
    throw new InputError(file, `duplicate key ${pyRepr(raw.duplicate)}`, { path });
  }
  const unknown = [...raw.keys()].filter((k) => !keys.includes(k)).sort();
  if (unknown.length) {
    throw new InputError(file, `unknown key ${pyRepr(unknown[0])}; allowed keys: ${keys.join(", ")}`, { path });
  }
  const missing = keys.filter((k) => !raw.has(k));
  if (missing.length) throw new InputError(file, `missing key ${pyRepr(missing[0])}`, { path });
  return raw;
}

function list(file, path, raw, lo, hi, embedded) {
  if (!Array.isArray(raw)) throw new InputError(file, "must be a JSON list", { path, value: show(raw, embedded) });
  if (!(lo <= raw.length && raw.length <= hi)) {
    throw new InputError(file, `must have ${lo}..${hi} entries, has ${raw.length}`, { path });
  }
  return raw;
}

/** parse_params. `embedded`: the params object of an inclusion file, which Python reads
 * after a json.loads / json.dumps round trip (repeated keys already merged). */
export function parseParams(doc, file, embedded = false) {
  const top = obj(file, "$", doc, ["assets", "perps"], embedded);
  const assets = [];
  const seen = new Set();
  list(file, "assets", top.get("assets"), 1, MAX_ASSETS, embedded).forEach((raw, i) => {
    const path = `assets[${i}]`;
    const a = obj(file, path, raw, ["symbol", "price", "weight_bps"], embedded);
    const sym = symbol(file, `${path}.symbol`, a.get("symbol"), embedded);
    if (seen.has(sym)) throw new InputError(file, "duplicate asset symbol", { path: `${path}.symbol`, value: sym });
    seen.add(sym);
    assets.push({
      symbol: sym,
      price: decimalField(file, `${path}.price`, a.get("price"), true, embedded),
      weight_bps: intField(file, `${path}.weight_bps`, a.get("weight_bps"), 0n, WEIGHT_ONE, embedded),
    });
  });
  const perps = [];
  const seenPerps = new Set();
  list(file, "perps", top.get("perps"), 0, MAX_PERPS, embedded).forEach((raw, i) => {
    const path = `perps[${i}]`;
    const p = obj(file, path, raw, ["symbol", "mark", "brackets"], embedded);
    const sym = symbol(file, `${path}.symbol`, p.get("symbol"), embedded);
    if (seenPerps.has(sym)) throw new InputError(file, "duplicate perp symbol", { path: `${path}.symbol`, value: sym });
    if (seen.has(sym)) throw new InputError(file, "perp symbol equals an asset symbol", { path: `${path}.symbol`, value: sym });
    seenPerps.add(sym);
    const mark = decimalField(file, `${path}.mark`, p.get("mark"), true, embedded);
    const rawBrackets = list(file, `${path}.brackets`, p.get("brackets"), 1, MAX_BRACKETS, embedded);
    const brackets = [];
    rawBrackets.forEach((rb, k) => {
      const bpath = `${path}.brackets[${k}]`;
      const b = obj(file, bpath, rb, ["max_notional", "mmr_ppm"], embedded);
      const last = k === rawBrackets.length - 1;
      let bound;
      if (b.get("max_notional") === null) {
        if (!last) {
          throw new InputError(file, "only the last bracket may be unbounded (null)",
            { path: `${bpath}.max_notional`, value: "null" });
        }
        bound = null;
      } else {
        if (last) {
          throw new InputError(file, 'the last bracket must be unbounded: "max_notional": null',
            { path: `${bpath}.max_notional`, value: show(b.get("max_notional"), embedded) });
        }
        bound = decimalField(file, `${bpath}.max_notional`, b.get("max_notional"), true, embedded);
        const prev = brackets.length ? brackets[brackets.length - 1].max_notional : null;
        if (prev !== null && bound <= prev) {
          throw new InputError(file, "bracket bounds must strictly increase (previous bound is larger or equal)",
            { path: `${bpath}.max_notional`, value: show(b.get("max_notional"), embedded) });
        }
      }
      const rate = intField(file, `${bpath}.mmr_ppm`, b.get("mmr_ppm"), 0n, RATE_ONE, embedded);
      if (brackets.length && rate < brackets[brackets.length - 1].mmr_ppm) {
        throw new InputError(file, `maintenance rates must never decrease (previous bracket has ${brackets[brackets.length - 1].mmr_ppm})`,
          { path: `${bpath}.mmr_ppm`, value: show(b.get("mmr_ppm"), embedded) });
      }
      brackets.push({ max_notional: bound, mmr_ppm: rate });
    });
    perps.push({ symbol: sym, mark, brackets });
  });
  return {
    assets,
    perps,
    assetSymbols: assets.map((a) => a.symbol),
    perpSymbols: perps.map((p) => p.symbol),
    maxBrackets: Math.max(0, ...perps.map((p) => p.brackets.length)),
  };
}

/** load_params of a published params.json text. */
export function loadParamsText(text, file) {
  if (text === undefined) throw new InputError(file, "cannot be read: No such file or directory");
  if (text === null) throw new InputError(file, "is not UTF-8 text");
  let doc;
  try {
    doc = parseJson(text.replace(/^\uFEFF/, ""));
  } catch (exc) {
    throw new InputError(file, `is not valid JSON: ${exc.message}`);
  }
  return parseParams(doc, file, false);
}

// --- zkmargin/statement.py: shape, params hash -------------------------------------------
export const MIN_BRACKETS = 2;
export const MAX_BATCH_DEPTH = 24;
export const MAX_DEPTH = 48;
export const TOTAL_BOUND = 1n << 224n;

export function shapeForParams(params, batchSize) {
  return {
    assets: params.assets.length,
    perps: params.perps.length,
    brackets: Math.max(MIN_BRACKETS, params.maxBrackets),
    depth: batchSize.toString(2).length - 1,
  };
}

export function symbolField(sym) {
  const bytes = new TextEncoder().encode(sym);
  if (bytes.length < 1 || bytes.length > 31 || bytes.includes(0)) {
    throw new PyValueError(`symbol ${pyRepr(sym)} must have 1 to 31 non-zero ASCII bytes`);
  }
  return BigInt("0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""));
}

/** circuit_params: every bracket table padded to `brackets` entries. */
export function circuitParams(params, brackets) {
  const bounds = [];
  const rates = [];
  for (const p of params.perps) {
    if (p.brackets.length > brackets) {
      throw new PyValueError(`perp ${p.symbol} has ${p.brackets.length} brackets; the circuit has ${brackets}`);
    }
    const b = p.brackets.slice(0, -1).filter((br) => br.max_notional !== null).map((br) => br.max_notional);
    const r = p.brackets.map((br) => br.mmr_ppm);
    let last = b.length ? b[b.length - 1] : 0n;
    while (r.length < brackets) {
      last += 1n;
      b.push(last);
      r.push(r[r.length - 1]);
    }
    if (last >= I63) {
      throw new PyValueError(`perp ${p.symbol}: padding its bracket table needs bounds up to ${last}, which is not below 2^63`);
    }
    bounds.push(b);
    rates.push(r);
  }
  return {
    assetSym: params.assets.map((a) => symbolField(a.symbol)),
    perpSym: params.perps.map((p) => symbolField(p.symbol)),
    price: params.assets.map((a) => a.price),
    weight: params.assets.map((a) => a.weight_bps),
    mark: params.perps.map((p) => p.mark),
    bound: bounds,
    rate: rates,
  };
}

/** params_hash: FoldHash([A, P, L, symbols, prices, weights, marks, bounds, rates]). */
export function paramsHash(shape, cp) {
  const values = [BigInt(shape.assets), BigInt(shape.perps), BigInt(shape.brackets),
    ...cp.assetSym, ...cp.perpSym, ...cp.price, ...cp.weight, ...cp.mark];
  for (const row of cp.bound) values.push(...row);
  for (const row of cp.rate) values.push(...row);
  return foldHash(values);
}

// --- Totals, batch.json ------------------------------------------------------------------
const SCALARS = ["accounts", "deficient", "equity_total", "requirement_total", "shortfall_total"];
const PER_ASSET = ["liabilities", "debts"];
const NON_NEGATIVE = ["accounts", "deficient", "shortfall_total", "liabilities", "debts"];

function brief(v) {
  const text = pyRepr(v);
  return text.length <= 80 ? v : text.slice(0, 77) + "...";
}

function sobject(data, file, path, keys) {
  if (!(data instanceof JObj)) throw new StatementError(file, "must be a JSON object", { path, value: brief(data) });
  if (keys !== null) {
    const missing = keys.filter((k) => !data.has(k));
    if (missing.length) throw new StatementError(file, `missing key ${pyRepr(missing[0])}`, { path });
    const extra = [...data.keys()].filter((k) => !keys.includes(k));
    if (extra.length) {
      throw new StatementError(file, `unknown key ${pyRepr(extra[0])}; allowed: ${keys.join(", ")}`, { path });
    }
  }
  return data;
}

function slist(data, file, path) {
  if (!Array.isArray(data)) throw new StatementError(file, "must be a JSON list", { path, value: brief(data) });
  return data;
}

function count(value, file, path, minimum = 0n) {
  if (!(value instanceof JNum) || !value.isInt || !(minimum <= BigInt(value.raw) && BigInt(value.raw) < I63)) {
    throw new StatementError(file, `must be a JSON integer in ${minimum}..2^63-1`, { path, value: brief(value) });
  }
  return BigInt(value.raw);
}

/** A field element as a canonical decimal string below r. */
export function scalar(value, file, path) {
  if (typeof value !== "string" || !/^[0-9]+$/.test(value) || (value.length > 1 && value.startsWith("0"))) {
    throw new StatementError(file, "must be a canonical decimal string", { path, value: brief(value) });
  }
  if (BigInt(value) >= R) throw new StatementError(file, "must be below the scalar field modulus r", { path, value });
  return BigInt(value);
}

function intTotal(value, file, path, name) {
  if (!(value instanceof JNum) || !value.isInt) {
    throw new StatementError(file, "must be a JSON integer", { path, value: brief(value) });
  }
  const v = BigInt(value.raw);
  const low = NON_NEGATIVE.includes(name) ? 0n : -TOTAL_BOUND + 1n;
  if (!(low <= v && v < TOTAL_BOUND)) {
    throw new StatementError(file, `out of range: a total must be in [${low === 0n ? "0" : "-2^224"}, 2^224)`, { path, value: v });
  }
  return v;
}

export function totalsSymbols(data, file, path = "totals") {
  return [...sobject(sobject(data, file, path, null).get("assets"), file, `${path}.assets`, null).keys()];
}

export function totalsFromJson(data, symbols, file, path = "totals") {
  const o = sobject(data, file, path, [...SCALARS, "assets"]);
  const assets = sobject(o.get("assets"), file, `${path}.assets`, null);
  const syms = symbols === null ? totalsSymbols(data, file, path) : symbols;
  const have = [...assets.keys()];
  if (have.length !== syms.length || have.some((s, i) => s !== syms[i])) {
    throw new StatementError(file, `the assets must be exactly ${syms.join(", ")} in this order`,
      { path: `${path}.assets`, value: have });
  }
  const totals = {};
  for (const name of SCALARS) totals[name] = intTotal(o.get(name), file, `${path}.${name}`, name);
  for (const name of PER_ASSET) totals[name] = [];
  for (const s of syms) {
    const entry = sobject(assets.get(s), file, `${path}.assets.${s}`, PER_ASSET);
    for (const name of PER_ASSET) totals[name].push(intTotal(entry.get(name), file, `${path}.assets.${s}.${name}`, name));
  }
  if (totals.deficient > totals.accounts) {
    throw new StatementError(file, `more deficient accounts than accounts (${totals.accounts})`,
      { path: `${path}.deficient`, value: totals.deficient });
  }
  return totals;
}

export function toField(v) {
  const half = R / 2n;
  if (!(-half < v && v < half)) throw new PyValueError(`${v} does not fit a signed field element (|v| < r/2)`);
  return ((v % R) + R) % R;
}

export function totalsFields(t) {
  const out = SCALARS.map((name) => toField(t[name]));
  for (const name of PER_ASSET) out.push(...t[name].map(toField));
  return out;
}

/** batch_commitment: FoldHash([index, root, params_hash, *totals fields]). */
export function batchCommitment(index, root, ph, totals) {
  return foldHash([index, root, ph, ...totalsFields(totals)]);
}

export function batchRecordFromJson(data, symbols, file) {
  const o = sobject(data, file, "$", ["index", "root", "params_hash", "totals", "commitment"]);
  return {
    index: count(o.get("index"), file, "index"),
    root: scalar(o.get("root"), file, "root"),
    params_hash: scalar(o.get("params_hash"), file, "params_hash"),
    totals: totalsFromJson(o.get("totals"), symbols, file),
    commitment: scalar(o.get("commitment"), file, "commitment"),
  };
}

// --- manifest.json -----------------------------------------------------------------------
export const MANIFEST_FORMAT = "zkmargin-artifacts/2";
const SHA256 = /^[0-9a-f]{64}$/;
const CONTRIBUTION_HASH = /^[0-9a-f]{128}$/;
const SETUP_KINDS = ["development", "single-party", "ceremony"];

function relativePath(value, file, path) {
  if (typeof value !== "string" || !value) {
    throw new StatementError(file, "must be a non-empty path string", { path, value: brief(value) });
  }
  const parts = value.split("/");
  const normal = !value.startsWith("/") && !value.includes("\\")
    && parts.every((p) => p !== "" && p !== "." && p !== "..");
  if (!normal) throw new StatementError(file, "must be a normalised relative path inside the artifacts", { path, value });
  return value;
}

function setupClaim(data, file) {
  const o = sobject(data, file, "setup", ["kind", "ptau", "zkey", "contributions"]);
  if (!SETUP_KINDS.includes(o.get("kind"))) {
    throw new StatementError(file, `must be one of ${SETUP_KINDS.join(", ")}`, { path: "setup.kind", value: brief(o.get("kind")) });
  }
  const ptau = sobject(o.get("ptau"), file, "setup.ptau", ["name", "sha256", "power"]);
  if (typeof ptau.get("name") !== "string") {
    throw new StatementError(file, "must be a file name", { path: "setup.ptau.name", value: brief(ptau.get("name")) });
  }
  if (typeof ptau.get("sha256") !== "string" || !SHA256.test(ptau.get("sha256"))) {
    throw new StatementError(file, "must be a sha256 in lowercase hex", { path: "setup.ptau.sha256", value: brief(ptau.get("sha256")) });
  }
  slist(o.get("contributions"), file, "setup.contributions").forEach((c, i) => {
    const entry = sobject(c, file, `setup.contributions[${i}]`, ["name", "hash"]);
    if (typeof entry.get("name") !== "string" || typeof entry.get("hash") !== "string"
        || !CONTRIBUTION_HASH.test(entry.get("hash"))) {
      throw new StatementError(file, "a name and a 128-digit lowercase hex hash", { path: `setup.contributions[${i}]`, value: brief(entry) });
    }
  });
  count(ptau.get("power"), file, "setup.ptau.power");
  return { kind: o.get("kind"), zkey: relativePath(o.get("zkey"), file, "setup.zkey") };
}

/** Manifest.from_json: every field validated; the fields the holder's checks use. */
export function manifestFromJson(data, file = "manifest.json") {
  const keys = ["format", "tool", "circuit", "insecure_setup", "setup", "verification_key",
    "params_hash", "root", "tree_depth", "batches", "accounts", "totals", "files"];
  const o = sobject(data, file, "$", keys);
  if (o.get("format") !== MANIFEST_FORMAT) {
    throw new StatementError(file, `expected ${pyRepr(MANIFEST_FORMAT)}`, { path: "format", value: o.get("format") });
  }
  const tool = sobject(o.get("tool"), file, "tool", null);
  for (const [name, version] of tool) {
    if (typeof version !== "string") throw new StatementError(file, "must be a version string", { path: `tool.${name}`, value: version });
  }
  const c = sobject(o.get("circuit"), file, "circuit", ["id", "assets", "perps", "brackets", "batch_size", "constraints"]);
  if (typeof c.get("id") !== "string" || !SHA256.test(c.get("id"))) {
    throw new StatementError(file, "must be the r1cs sha256 in lowercase hex", { path: "circuit.id", value: brief(c.get("id")) });
  }
  const k = count(c.get("batch_size"), file, "circuit.batch_size");
  if (k < 1n || (k & (k - 1n)) || k > 1n << BigInt(MAX_BATCH_DEPTH)) {
    throw new StatementError(file, `must be a power of two up to 2^${MAX_BATCH_DEPTH}`, { path: "circuit.batch_size", value: k });
  }
  const shape = {
    assets: Number(count(c.get("assets"), file, "circuit.assets")),
    perps: Number(count(c.get("perps"), file, "circuit.perps")),
    brackets: Number(count(c.get("brackets"), file, "circuit.brackets")),
    depth: k.toString(2).length - 1,
    batchSize: k,
  };
  if (typeof o.get("insecure_setup") !== "boolean") {
    throw new StatementError(file, "must be true or false", { path: "insecure_setup", value: o.get("insecure_setup") });
  }
  const depth = count(o.get("tree_depth"), file, "tree_depth");
  if (depth > BigInt(MAX_DEPTH)) throw new StatementError(file, `must be at most ${MAX_DEPTH}`, { path: "tree_depth", value: depth });
  const files = sobject(o.get("files"), file, "files", null);
  for (const [rel, digest] of files) {
    relativePath(rel, file, `files[${pyRepr(rel)}]`);
    if (typeof digest !== "string" || !SHA256.test(digest)) {
      throw new StatementError(file, "must be a sha256 in lowercase hex", { path: `files[${pyRepr(rel)}]`, value: digest });
    }
  }
  const symbols = totalsSymbols(o.get("totals"), file);
  count(c.get("constraints"), file, "circuit.constraints");
  const setup = setupClaim(o.get("setup"), file);
  const manifest = {
    shape,
    insecureSetup: o.get("insecure_setup"),
    setup,
    verificationKey: relativePath(o.get("verification_key"), file, "verification_key"),
    paramsHash: scalar(o.get("params_hash"), file, "params_hash"),
    root: scalar(o.get("root"), file, "root"),
    treeDepth: depth,
    batches: count(o.get("batches"), file, "batches", 1n),
    accounts: count(o.get("accounts"), file, "accounts", 1n),
    symbols,
    files: new Map(files),
  };
  manifest.totals = totalsFromJson(o.get("totals"), symbols, file);
  return manifest;
}

/** read_json: a published file's text parsed, or a StatementError naming it. */
export function readJson(text, file) {
  if (text === undefined) throw new StatementError(file, "file is missing");
  if (text === null) throw new StatementError(file, "cannot be read: not UTF-8 text");
  try {
    return parseJson(text);
  } catch (exc) {
    throw new StatementError(file, `not valid JSON: ${exc.message}`);
  }
}

// --- margin: zkmargin/margin/reference.py account_margin ---------------------------------
export function accountMargin(params, x, q, c) {
  let collateral = 0n;
  params.assets.forEach((asset, a) => {
    const w = x[a] > 0n ? asset.weight_bps : WEIGHT_ONE;
    collateral += x[a] * asset.price * w;
  });
  let pnl = 0n;
  params.perps.forEach((perp, i) => {
    pnl += q[i] * perp.mark - c[i] * SCALE;
  });
  const equity = 100n * (collateral + WEIGHT_ONE * pnl);
  let requirement = 0n;
  params.perps.forEach((perp, i) => {
    const n = (q[i] < 0n ? -q[i] : q[i]) * perp.mark;
    const d = [0n];
    for (let j = 0; j < perp.brackets.length - 1; j++) {
      const step = perp.brackets[j + 1].mmr_ppm - perp.brackets[j].mmr_ppm;
      d.push(d[d.length - 1] + perp.brackets[j].max_notional * SCALE * step);
    }
    let mm = null;
    perp.brackets.forEach((b, k) => {
      const v = n * b.mmr_ppm - d[k];
      if (mm === null || v > mm) mm = v;
    });
    requirement += mm;
  });
  return { equity, requirement };
}
