// The public statement, as zkmargin/params.py and zkmargin/statement.py read it: risk
// parameters (every rule), the params hash, totals, batch.json, manifest.json. Each reader
// refuses what its Python twin refuses; messages follow the Python ones.
import { I63, SCALE, parseFixed } from "./fixed.js";
import { JNum, JObj, PyValueError, parseJson, pyFloatRepr, pyRepr } from "./json.js";
import { R, foldHash } from "./poseidon.js";
import { sha256 } from "./sha256.js";

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
/** 1e6: an option value (USD x 1e16) or a portfolio requirement in F (USD x 1e22). */
export const OPTION_SCALE = 1000000n;
const MAX_ASSETS = 64;
const MAX_PERPS = 64;
const MAX_BRACKETS = 16;
const MAX_TIERS = 16;
const MAX_OPTIONS = 240;
const MAX_SCENARIOS = 32;
const MAX_SCENARIO_NAME = 256;
const PRODUCT_BOUND = 1n << 160n;
const VALUE_BOUND = 1n << 170n;

/** A params value as loads_params sees it: a JSON number keeps its source text. In the
 * inclusion file's params (`embedded`), a float is first what json.dumps writes of it. */
function rawText(v, embedded) {
  if (!(v instanceof JNum) || v.isConstant) return null;
  if (!embedded || v.isInt) return v.raw;
  // json.loads made a float of it; json.dumps writes an infinite one as Infinity, which
  // loads_params then reads as a float again (not as number text)
  return Number.isFinite(Number(v.raw)) ? pyFloatRepr(v.raw) : null;
}

function show(v, embedded) {
  const raw = rawText(v, embedded);
  return raw !== null ? raw : v;
}

function decimalField(file, path, raw, positive, embedded, nonNegative = false) {
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
  if (nonNegative && value < 0n) throw new InputError(file, "must not be negative (0 or more)", { path, value: text });
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

function symbol(file, path, raw, embedded, what = "a symbol") {
  if (typeof raw !== "string" || !SYMBOL.test(raw)) {
    throw new InputError(file, `must be ${what} matching [A-Z0-9_-]+ of at most 31 characters`,
      { path, value: show(raw, embedded) });
  }
  return raw;
}

/** _obj: `keys` required, `optional` allowed. */
function obj(file, path, raw, keys, embedded, optional = []) {
  if (!(raw instanceof JObj)) throw new InputError(file, "must be a JSON object", { path, value: show(raw, embedded) });
  if (!embedded && raw.duplicate !== null) {
    throw new InputError(file, `duplicate key ${pyRepr(raw.duplicate)}`, { path });
  }
  const allowed = [...keys, ...optional];
  const unknown = [...raw.keys()].filter((k) => !allowed.includes(k)).sort(pySortKey);
  if (unknown.length) {
    throw new InputError(file, `unknown key ${pyRepr(unknown[0])}; allowed keys: ${allowed.join(", ")}`, { path });
  }
  const missing = keys.filter((k) => !raw.has(k));
  if (missing.length) throw new InputError(file, `missing key ${pyRepr(missing[0])}`, { path });
  return raw;
}

/** Python's sorted() order of texts: by code point (JS sorts by UTF-16 unit). */
function pySortKey(a, b) {
  const x = [...a].map((ch) => ch.codePointAt(0));
  const y = [...b].map((ch) => ch.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

function list(file, path, raw, lo, hi, embedded) {
  if (!Array.isArray(raw)) throw new InputError(file, "must be a JSON list", { path, value: show(raw, embedded) });
  if (!(lo <= raw.length && raw.length <= hi)) {
    throw new InputError(file, `must have ${lo}..${hi} entries, has ${raw.length}`, { path });
  }
  return raw;
}

const last = (xs) => xs[xs.length - 1];

/** _tiers: collateral tiers, bounds strictly increasing, weights never increasing. */
function tiersOf(file, path, raw, embedded) {
  const rawTiers = list(file, path, raw, 1, MAX_TIERS, embedded);
  const tiers = [];
  rawTiers.forEach((rt, k) => {
    const tpath = `${path}[${k}]`;
    const t = obj(file, tpath, rt, ["max_value", "weight_bps"], embedded);
    const isLast = k === rawTiers.length - 1;
    let bound;
    if (t.get("max_value") === null) {
      if (!isLast) {
        throw new InputError(file, "only the last tier may be unbounded (null)", { path: `${tpath}.max_value`, value: "null" });
      }
      bound = null;
    } else {
      if (isLast) {
        throw new InputError(file, 'the last tier must be unbounded: "max_value": null',
          { path: `${tpath}.max_value`, value: show(t.get("max_value"), embedded) });
      }
      bound = decimalField(file, `${tpath}.max_value`, t.get("max_value"), true, embedded);
      const prev = tiers.length ? last(tiers).max_value : null;
      if (prev !== null && bound <= prev) {
        throw new InputError(file, "tier bounds must strictly increase (previous bound is larger or equal)",
          { path: `${tpath}.max_value`, value: show(t.get("max_value"), embedded) });
      }
    }
    const weight = intField(file, `${tpath}.weight_bps`, t.get("weight_bps"), 0n, WEIGHT_ONE, embedded);
    if (tiers.length && weight > last(tiers).weight_bps) {
      throw new InputError(file, `collateral weights must never increase (previous tier has ${last(tiers).weight_bps})`,
        { path: `${tpath}.weight_bps`, value: show(t.get("weight_bps"), embedded) });
    }
    tiers.push({ max_value: bound, weight_bps: weight });
  });
  return tiers;
}

/** _brackets: bounds strictly increasing, rates never decreasing, the last unbounded. */
function bracketsOf(file, path, raw, embedded) {
  const rawBrackets = list(file, path, raw, 1, MAX_BRACKETS, embedded);
  const brackets = [];
  rawBrackets.forEach((rb, k) => {
    const bpath = `${path}[${k}]`;
    const b = obj(file, bpath, rb, ["max_notional", "mmr_ppm"], embedded);
    const isLast = k === rawBrackets.length - 1;
    let bound;
    if (b.get("max_notional") === null) {
      if (!isLast) {
        throw new InputError(file, "only the last bracket may be unbounded (null)",
          { path: `${bpath}.max_notional`, value: "null" });
      }
      bound = null;
    } else {
      if (isLast) {
        throw new InputError(file, 'the last bracket must be unbounded: "max_notional": null',
          { path: `${bpath}.max_notional`, value: show(b.get("max_notional"), embedded) });
      }
      bound = decimalField(file, `${bpath}.max_notional`, b.get("max_notional"), true, embedded);
      const prev = brackets.length ? last(brackets).max_notional : null;
      if (prev !== null && bound <= prev) {
        throw new InputError(file, "bracket bounds must strictly increase (previous bound is larger or equal)",
          { path: `${bpath}.max_notional`, value: show(b.get("max_notional"), embedded) });
      }
    }
    const rate = intField(file, `${bpath}.mmr_ppm`, b.get("mmr_ppm"), 0n, RATE_ONE, embedded);
    if (brackets.length && rate < last(brackets).mmr_ppm) {
      throw new InputError(file, `maintenance rates must never decrease (previous bracket has ${last(brackets).mmr_ppm})`,
        { path: `${bpath}.mmr_ppm`, value: show(b.get("mmr_ppm"), embedded) });
    }
    brackets.push({ max_notional: bound, mmr_ppm: rate });
  });
  return brackets;
}

/** _risk: one signed loss per scenario. */
function riskOf(file, path, raw, scenarios, embedded) {
  if (!Array.isArray(raw)) {
    throw new InputError(file, "must be a JSON list (one loss per scenario)", { path, value: show(raw, embedded) });
  }
  if (raw.length !== scenarios) {
    throw new InputError(file, `has ${raw.length} values but the portfolio has ${scenarios} scenarios: a risk `
      + `array needs exactly ${scenarios} (one loss per scenario, in scenario order)`, { path });
  }
  return raw.map((v, s) => decimalField(file, `${path}[${s}]`, v, false, embedded));
}

function noPortfolio(file, path, what) {
  return new InputError(file, `${what} needs a "portfolio" with scenarios (the params file has none): add `
    + '"portfolio": {"scenarios": [{"name": ...}, ...]}', { path });
}

/** _scenarios: the scenario names and the raw portfolio.groups list (or null). */
function scenariosOf(file, raw, embedded) {
  const port = obj(file, "portfolio", raw, [], embedded, ["scenarios", "groups"]);
  if (!port.has("scenarios")) {
    throw new InputError(file, `a portfolio without scenarios: give "scenarios" (1..${MAX_SCENARIOS})`, { path: "portfolio" });
  }
  const rawList = port.get("scenarios");
  if (Array.isArray(rawList) && !rawList.length) {
    throw new InputError(file, `a portfolio without scenarios: give 1..${MAX_SCENARIOS} scenarios`, { path: "portfolio.scenarios" });
  }
  const names = [];
  list(file, "portfolio.scenarios", rawList, 1, MAX_SCENARIOS, embedded).forEach((rs, s) => {
    const spath = `portfolio.scenarios[${s}]`;
    const sc = obj(file, spath, rs, ["name"], embedded);
    const name = sc.get("name");
    if (typeof name !== "string" || !name || [...name].length > MAX_SCENARIO_NAME) {
      throw new InputError(file, `a scenario name must be a non-empty string of at most ${MAX_SCENARIO_NAME} characters`,
        { path: `${spath}.name`, value: show(name, embedded) });
    }
    if (names.includes(name)) {
      throw new InputError(file, `duplicate scenario name (scenario ${names.indexOf(name)} has it)`,
        { path: `${spath}.name`, value: name });
    }
    names.push(name);
  });
  const listed = port.has("groups") ? port.get("groups") : null;
  if (listed !== null && !Array.isArray(listed)) {
    throw new InputError(file, "must be a JSON list of group names", { path: "portfolio.groups", value: show(listed, embedded) });
  }
  return [names, listed];
}

/** parse_params. `embedded`: the params object of an inclusion file, which Python reads
 * after a json.loads / json.dumps round trip (repeated keys already merged). */
export function parseParams(doc, file, embedded = false) {
  const top = obj(file, "$", doc, ["assets", "perps"], embedded, ["options", "portfolio"]);
  let scenarios = [];
  let listed = null;
  if (top.has("portfolio")) [scenarios, listed] = scenariosOf(file, top.get("portfolio"), embedded);
  const nS = scenarios.length;
  const assets = [];
  const seen = new Set();
  list(file, "assets", top.get("assets"), 1, MAX_ASSETS, embedded).forEach((raw, i) => {
    const path = `assets[${i}]`;
    const a = obj(file, path, raw, ["symbol", "price"], embedded, ["weight_bps", "tiers"]);
    const sym = symbol(file, `${path}.symbol`, a.get("symbol"), embedded);
    if (seen.has(sym)) throw new InputError(file, "duplicate asset symbol", { path: `${path}.symbol`, value: sym });
    seen.add(sym);
    const price = decimalField(file, `${path}.price`, a.get("price"), true, embedded);
    if (a.has("weight_bps") && a.has("tiers")) {
      throw new InputError(file, 'give either "weight_bps" (one weight) or "tiers", not both', { path });
    }
    let tiers;
    if (a.has("tiers")) {
      tiers = tiersOf(file, `${path}.tiers`, a.get("tiers"), embedded);
    } else if (a.has("weight_bps")) {
      tiers = [{ max_value: null, weight_bps: intField(file, `${path}.weight_bps`, a.get("weight_bps"), 0n, WEIGHT_ONE, embedded) }];
    } else {
      throw new InputError(file, "missing key 'weight_bps' (or 'tiers')", { path });
    }
    assets.push({ symbol: sym, price, tiers });
  });
  const perps = [];
  const seenPerps = new Set();
  const members = new Map(); // group -> the path of its first member
  list(file, "perps", top.get("perps"), 0, MAX_PERPS, embedded).forEach((raw, i) => {
    const path = `perps[${i}]`;
    const p = obj(file, path, raw, ["symbol", "mark"], embedded, ["brackets", "group", "risk"]);
    const sym = symbol(file, `${path}.symbol`, p.get("symbol"), embedded);
    if (seenPerps.has(sym)) throw new InputError(file, "duplicate perp symbol", { path: `${path}.symbol`, value: sym });
    if (seen.has(sym)) throw new InputError(file, "perp symbol equals an asset symbol", { path: `${path}.symbol`, value: sym });
    seenPerps.add(sym);
    const mark = decimalField(file, `${path}.mark`, p.get("mark"), true, embedded);
    const grouped = p.has("group") || p.has("risk");
    if (grouped && p.has("brackets")) {
      throw new InputError(file, 'give either "brackets" (tiered maintenance) or "group" and "risk" '
        + "(portfolio margin), not both", { path });
    }
    if (!grouped) {
      if (!p.has("brackets")) {
        throw new InputError(file, "missing key 'brackets' (or 'group' and 'risk' for a perp in a portfolio group)", { path });
      }
      perps.push({ symbol: sym, mark, brackets: bracketsOf(file, `${path}.brackets`, p.get("brackets"), embedded), group: null, risk: [] });
      return;
    }
    for (const key of ["group", "risk"]) {
      if (!p.has(key)) throw new InputError(file, `missing key '${key}' (a group perp needs 'group' and 'risk')`, { path });
    }
    if (!scenarios.length) throw noPortfolio(file, `${path}.group`, "a group perp");
    const group = symbol(file, `${path}.group`, p.get("group"), embedded, "a group name");
    if (!members.has(group)) members.set(group, `${path}.group`);
    const risk = riskOf(file, `${path}.risk`, p.get("risk"), nS, embedded);
    perps.push({ symbol: sym, mark, brackets: [], group, risk });
  });
  const options = [];
  const seenOptions = new Set();
  const rawOptions = top.has("options") ? top.get("options") : [];
  list(file, "options", rawOptions, 0, MAX_OPTIONS, embedded).forEach((raw, j) => {
    const path = `options[${j}]`;
    const o = obj(file, path, raw, ["symbol", "group", "mark", "short_min", "risk"], embedded);
    const sym = symbol(file, `${path}.symbol`, o.get("symbol"), embedded);
    for (const [taken, what] of [[seen, "an asset"], [seenPerps, "a perp"], [seenOptions, "another option"]]) {
      if (taken.has(sym)) {
        throw new InputError(file, `option symbol equals the symbol of ${what}`, { path: `${path}.symbol`, value: sym });
      }
    }
    seenOptions.add(sym);
    if (!scenarios.length) throw noPortfolio(file, path, "an option");
    const group = symbol(file, `${path}.group`, o.get("group"), embedded, "a group name");
    if (!members.has(group)) members.set(group, `${path}.group`);
    options.push({
      symbol: sym,
      group,
      mark: decimalField(file, `${path}.mark`, o.get("mark"), false, embedded, true),
      short_min: decimalField(file, `${path}.short_min`, o.get("short_min"), false, embedded, true),
      risk: riskOf(file, `${path}.risk`, o.get("risk"), nS, embedded),
    });
  });
  if (listed !== null) {
    const names = [];
    listed.forEach((raw, k) => {
      const gpath = `portfolio.groups[${k}]`;
      const name = symbol(file, gpath, raw, embedded, "a group name");
      if (names.includes(name)) throw new InputError(file, "duplicate group name", { path: gpath, value: name });
      if (!members.has(name)) {
        throw new InputError(file, "a group with no members: no perp or option names it", { path: gpath, value: name });
      }
      names.push(name);
    });
    for (const [group, where] of members) {
      if (!names.includes(group)) {
        throw new InputError(file, `group ${pyRepr(group)} is not listed in portfolio.groups (which lists `
          + `${names.join(", ") || "none"})`, { path: where, value: group });
      }
    }
  }
  const params = makeParams(assets, perps, options, scenarios);
  const reason = budgetError(params);
  if (reason !== null) throw new InputError(file, reason);
  return params;
}

/** RiskParams: the parsed lists and what is derived from them. */
function makeParams(assets, perps, options, scenarios) {
  const groups = [];
  for (const p of perps) if (p.group !== null && !groups.includes(p.group)) groups.push(p.group);
  for (const o of options) if (!groups.includes(o.group)) groups.push(o.group);
  return {
    assets,
    perps,
    options,
    scenarios,
    groups,
    assetSymbols: assets.map((a) => a.symbol),
    perpSymbols: perps.map((p) => p.symbol),
    optionSymbols: options.map((o) => o.symbol),
    maxBrackets: Math.max(0, ...perps.map((p) => p.brackets.length)),
    maxTiers: Math.max(1, ...assets.map((a) => a.tiers.length)),
  };
}

/** Asset.tier_constants: C_1 = 0, C_k = C_(k-1) + T_(k-1) * 1e8 * (w_(k-1) - w_k) (USD x 1e20). */
export function tierConstants(asset) {
  const out = [0n];
  for (let k = 1; k < asset.tiers.length; k++) {
    const step = asset.tiers[k - 1].weight_bps - asset.tiers[k].weight_bps;
    out.push(last(out) + asset.tiers[k - 1].max_value * SCALE * step);
  }
  return out;
}

/** Perp.deductions: D_1 = 0, D_k = D_(k-1) + B_(k-1) * 1e8 * (r_k - r_(k-1)) (F); [] for a group perp. */
export function deductions(perp) {
  if (!perp.brackets.length) return [];
  const out = [0n];
  for (let j = 0; j < perp.brackets.length - 1; j++) {
    const step = perp.brackets[j + 1].mmr_ppm - perp.brackets[j].mmr_ppm;
    out.push(last(out) + perp.brackets[j].max_notional * SCALE * step);
  }
  return out;
}

const bigMax = (xs, dflt = 0n) => xs.reduce((m, x) => (x > m ? x : m), dflt);
const bigAbs = (x) => (x < 0n ? -x : x);
const bitLen = (x) => (x === 0n ? 0 : x.toString(2).length);

/** value_bounds / check_value_budget: null, or the reason the parameters are refused. */
function budgetError(params) {
  const lim = I63 - 1n;
  const products = [0n];
  let collateral = 0n;
  for (const a of params.assets) {
    const constants = tierConstants(a);
    products.push(lim * a.price * WEIGHT_ONE, ...constants);
    collateral += lim * a.price * WEIGHT_ONE + bigMax(constants, constants[0]);
  }
  let pnl = 0n;
  let requirement = 0n;
  for (const p of params.perps) {
    products.push(lim * p.mark, lim * SCALE);
    pnl += lim * p.mark + lim * SCALE;
    if (p.brackets.length) {
      const top = bigMax(p.brackets.map((b) => b.mmr_ppm), p.brackets[0].mmr_ppm);
      products.push(lim * p.mark * top);
      requirement += lim * p.mark * top;
    }
  }
  let marks = 0n;
  const groupBound = new Map();
  for (const p of params.perps) {
    if (p.group !== null) {
      const worst = bigMax(p.risk.map(bigAbs));
      products.push(lim * worst);
      groupBound.set(p.group, (groupBound.get(p.group) || 0n) + lim * worst);
    }
  }
  for (const o of params.options) {
    const worst = bigMax([bigMax(o.risk.map(bigAbs)), o.short_min], bigMax(o.risk.map(bigAbs)));
    products.push(lim * worst, OPTION_SCALE * lim * o.mark);
    marks += lim * o.mark;
    groupBound.set(o.group, (groupBound.get(o.group) || 0n) + lim * worst);
  }
  requirement += OPTION_SCALE * [...groupBound.values()].reduce((s, v) => s + v, 0n);
  const equity = 100n * (collateral + WEIGHT_ONE * pnl) + OPTION_SCALE * marks;
  const scans = bigMax([...groupBound.values()]);
  const product = bigMax(products);
  const value = bigMax([equity + requirement, scans], equity + requirement);
  if (product >= PRODUCT_BOUND || value >= VALUE_BOUND) {
    return `the parameters exceed the bit budget: products up to 2^${bitLen(product)} (must stay below 2^160), `
      + `per-account values up to 2^${bitLen(value)} (must stay below 2^170)`;
  }
  return null;
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
const SHAPE_KEYS = ["assets", "perps", "brackets", "tiers", "options", "groups", "scenarios"];

/** CircuitShape.describe: "A=8 P=4 L=4" (and "T= O= G= S=" when not the plain book) "K=16". */
export function describeShape(s) {
  let text = `A=${s.assets} P=${s.perps} L=${s.brackets}`;
  if (s.tiers !== 1 || s.options !== 0 || s.groups !== 0 || s.scenarios !== 0) {
    text += ` T=${s.tiers} O=${s.options} G=${s.groups} S=${s.scenarios}`;
  }
  return `${text} K=${1n << BigInt(s.depth)}`;
}

/** CircuitShape(...): the same checks as its __post_init__ (PyValueError). */
export function makeShape({ assets, perps, brackets, depth, tiers = 1, options = 0, groups = 0, scenarios = 0 }) {
  const s = { assets, perps, brackets, depth, tiers, options, groups, scenarios, batchSize: 1n << BigInt(depth) };
  if (!(assets >= 1 && perps >= 0 && brackets >= MIN_BRACKETS && tiers >= 1 && options >= 0 && groups >= 0
      && scenarios >= 0 && depth >= 0 && depth <= MAX_BATCH_DEPTH)) {
    throw new PyValueError(`not a circuit shape: ${describeShape(s)}`);
  }
  if (options && !groups) throw new PyValueError(`options need a portfolio group: ${describeShape(s)}`);
  if (groups && !scenarios) throw new PyValueError(`portfolio groups need scenarios: ${describeShape(s)}`);
  return s;
}

/** CircuitShape.for_params. */
export function shapeForParams(params, batchSize) {
  return makeShape({
    assets: params.assets.length,
    perps: params.perps.length,
    brackets: Math.max(MIN_BRACKETS, params.maxBrackets),
    depth: batchSize.toString(2).length - 1,
    tiers: params.maxTiers,
    options: params.options.length,
    groups: params.groups.length,
    scenarios: params.scenarios.length,
  });
}

function bytesToInt(bytes) {
  return bytes.length ? BigInt("0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")) : 0n;
}

export function symbolField(sym) {
  const bytes = new TextEncoder().encode(sym);
  if (bytes.length < 1 || bytes.length > 31 || bytes.includes(0)) {
    throw new PyValueError(`symbol ${pyRepr(sym)} must have 1 to 31 non-zero ASCII bytes`);
  }
  return bytesToInt(bytes);
}

/** name_field: a scenario name as a field element, the first 31 bytes of the SHA-256 of
 * its UTF-8 bytes, big-endian. */
export function nameField(name) {
  for (let i = 0, at = 0; i < name.length; i++, at++) {
    const c = name.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < name.length) {
      const d = name.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      throw new PyValueError(`'utf-8' codec can't encode character '\\u${c.toString(16)}' in position ${at}: `
        + "surrogates not allowed");
    }
  }
  return bytesToInt(sha256(new TextEncoder().encode(name)).slice(0, 31));
}

/** _pad_table: pad (bounds, values) to `size` entries by splitting the unbounded last entry
 * at B_last + 1, B_last + 2, ... with the same value (the function is unchanged). */
function padTable(what, bounds, values, size) {
  if (values.length > size) throw new PyValueError(`${what} has ${values.length} entries; the circuit has ${size}`);
  let lastBound = bounds.length ? last(bounds) : 0n;
  while (values.length < size) {
    lastBound += 1n;
    bounds.push(lastBound);
    values.push(last(values));
  }
  if (lastBound >= I63) {
    throw new PyValueError(`${what}: padding its table needs bounds up to ${lastBound}, which is not below 2^63`);
  }
}

/** circuit_params: the params in the circuit's form for `shape`: every bracket table
 * padded to L (a group perp: one bracket of rate 0), every tier table to T, group rows. */
export function circuitParams(params, shape) {
  const counts = [params.assets.length, params.perps.length, params.options.length, params.groups.length,
    params.scenarios.length];
  const want = [shape.assets, shape.perps, shape.options, shape.groups, shape.scenarios];
  if (counts.some((c, i) => c !== want[i])) {
    throw new PyValueError(`the parameters have A=${counts[0]} P=${counts[1]} O=${counts[2]} G=${counts[3]} `
      + `S=${counts[4]}; the circuit is ${describeShape(shape)}`);
  }
  const bounds = [];
  const rates = [];
  for (const p of params.perps) {
    const b = p.brackets.slice(0, -1).filter((br) => br.max_notional !== null).map((br) => br.max_notional);
    const r = p.brackets.length ? p.brackets.map((br) => br.mmr_ppm) : [0n];
    padTable(`perp ${p.symbol}`, b, r, shape.brackets);
    bounds.push(b);
    rates.push(r);
  }
  const tierBounds = [];
  const tierWeights = [];
  for (const a of params.assets) {
    const b = a.tiers.slice(0, -1).filter((t) => t.max_value !== null).map((t) => t.max_value);
    const w = a.tiers.map((t) => t.weight_bps);
    padTable(`asset ${a.symbol}`, b, w, shape.tiers);
    tierBounds.push(b);
    tierWeights.push(w);
  }
  const row = (group) => params.groups.map((g) => (g === group ? 1n : 0n));
  return {
    assetSym: params.assets.map((a) => symbolField(a.symbol)),
    perpSym: params.perps.map((p) => symbolField(p.symbol)),
    optionSym: params.options.map((o) => symbolField(o.symbol)),
    groupSym: params.groups.map(symbolField),
    scenarioName: params.scenarios.map(nameField),
    price: params.assets.map((a) => a.price),
    tierWeight: tierWeights,
    tierBound: tierBounds,
    mark: params.perps.map((p) => p.mark),
    bound: bounds,
    rate: rates,
    perpGroup: params.perps.map((p) => row(p.group)),
    perpRisk: params.perps.map((p) => (p.group !== null ? [...p.risk] : Array(shape.scenarios).fill(0n))),
    optionMark: params.options.map((o) => o.mark),
    optionShortMin: params.options.map((o) => o.short_min),
    optionGroup: params.options.map((o) => row(o.group)),
    optionRisk: params.options.map((o) => [...o.risk]),
  };
}

/** CircuitParams.hashed_values: the shape [A, P, L, T, O, G, S], the symbols (assets,
 * perps, options, groups), the scenario names, prices, tier weights and bounds
 * (asset-major), marks, bracket bounds and rates (perp-major), perp group and risk rows,
 * option marks, short minimums, group rows and risk rows; the risk values (signed) as
 * field elements, v mod r. */
export function hashedValues(shape, cp) {
  const flat = (m) => m.flat();
  return [
    ...[shape.assets, shape.perps, shape.brackets, shape.tiers, shape.options, shape.groups, shape.scenarios].map(BigInt),
    ...cp.assetSym, ...cp.perpSym, ...cp.optionSym, ...cp.groupSym, ...cp.scenarioName, ...cp.price,
    ...flat(cp.tierWeight), ...flat(cp.tierBound), ...cp.mark,
    ...flat(cp.bound), ...flat(cp.rate), ...flat(cp.perpGroup), ...flat(cp.perpRisk).map(toField),
    ...cp.optionMark, ...cp.optionShortMin, ...flat(cp.optionGroup), ...flat(cp.optionRisk).map(toField),
  ];
}

/** params_hash: the fold hash of the hashed values (a signed risk value v as the field
 * element v mod r, as the circuit's RiskParams hashes its signal). */
export function paramsHash(shape, cp) {
  return foldHash(hashedValues(shape, cp));
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

/** CircuitShape.from_json: the shape from a `circuit` object whose keys are present. */
export function shapeFromJson(c, file, path = "circuit") {
  const k = count(c.get("batch_size"), file, `${path}.batch_size`);
  if (k < 1n || (k & (k - 1n)) || k > 1n << BigInt(MAX_BATCH_DEPTH)) {
    throw new StatementError(file, `must be a power of two up to 2^${MAX_BATCH_DEPTH}`, { path: `${path}.batch_size`, value: k });
  }
  const n = {};
  for (const key of SHAPE_KEYS) n[key] = Number(count(c.get(key), file, `${path}.${key}`));
  try {
    return makeShape({ ...n, depth: k.toString(2).length - 1 });
  } catch (exc) {
    if (exc instanceof PyValueError) throw new StatementError(file, exc.message, { path });
    throw exc;
  }
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
  const c = sobject(o.get("circuit"), file, "circuit", ["id", ...SHAPE_KEYS, "batch_size", "constraints"]);
  if (typeof c.get("id") !== "string" || !SHA256.test(c.get("id"))) {
    throw new StatementError(file, "must be the r1cs sha256 in lowercase hex", { path: "circuit.id", value: brief(c.get("id")) });
  }
  const shape = shapeFromJson(c, file);
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
/** tier_value: CV_a = min_k (w_ak * V + C_ak) for a value V = x_a * P_a > 0 (USD x 1e20). */
export function tierValue(asset, v) {
  const c = tierConstants(asset);
  let best = null;
  asset.tiers.forEach((tier, k) => {
    const line = tier.weight_bps * v + c[k];
    if (best === null || line < best) best = line;
  });
  return best;
}

/** collateral: CV_a for a holding, x_a * P_a * 10000 for a debt (USD x 1e20). */
export function collateral(asset, x) {
  return x > 0n ? tierValue(asset, x * asset.price) : x * asset.price * WEIGHT_ONE;
}

/** perp_maintenance: MM_i = max_k (N_i * r_ik - D_ik), N_i = |q_i| * M_i (F); a bracket perp. */
export function perpMaintenance(perp, q) {
  const n = bigAbs(q) * perp.mark;
  const d = deductions(perp);
  let mm = null;
  perp.brackets.forEach((b, k) => {
    const v = n * b.mmr_ppm - d[k];
    if (mm === null || v > mm) mm = v;
  });
  return mm;
}

/**
 * account_margin: E, MM_i, PM_g and R of one account (F = USD x 1e22), exactly:
 *   E    = 100 * (sum_a coll_a + 10000 * sum_i (q_i M_i - c_i 1e8)) + 1e6 * sum_j o_j mark_j
 *   MM_i = max_k (N_i r_ik - D_ik) for a bracket perp, 0 for a group perp
 *   PM_g = 1e6 * max(max_s sum_{j in g} size_j L_j[s], sum_{options j in g} max(-o_j, 0) short_min_j, 0)
 *   R    = sum_i MM_i + sum_g PM_g
 * With `detail`, also per group: the scan (max over scenarios), its scenario, the short charge.
 */
export function accountMargin(params, x, q, c, o = []) {
  if (o.length !== params.options.length) {
    throw new PyValueError(`${o.length} option sizes for ${params.options.length} options`);
  }
  let coll = 0n;
  params.assets.forEach((asset, a) => {
    coll += collateral(asset, x[a]);
  });
  let pnl = 0n;
  params.perps.forEach((perp, i) => {
    pnl += q[i] * perp.mark - c[i] * SCALE;
  });
  let optionValue = 0n;
  params.options.forEach((opt, j) => {
    optionValue += o[j] * opt.mark;
  });
  const equity = 100n * (coll + WEIGHT_ONE * pnl) + OPTION_SCALE * optionValue;
  const maintenance = params.perps.map((perp, i) => (perp.group !== null ? 0n : perpMaintenance(perp, q[i])));
  const groups = params.groups.map((g) => {
    const members = [];
    params.perps.forEach((perp, i) => {
      if (perp.group === g) members.push([q[i], perp.risk]);
    });
    let short = 0n;
    params.options.forEach((opt, j) => {
      if (opt.group !== g) return;
      members.push([o[j], opt.risk]);
      if (o[j] < 0n) short += -o[j] * opt.short_min;
    });
    let scan = null;
    let worst = 0;
    params.scenarios.forEach((_, s) => {
      const loss = members.reduce((sum, [size, risk]) => sum + size * risk[s], 0n);
      if (scan === null || loss > scan) {
        scan = loss;
        worst = s;
      }
    });
    const charged = bigMax([scan, short], 0n);
    return { group: g, scan, scenario: params.scenarios[worst], short, pm: OPTION_SCALE * charged };
  });
  const portfolio = groups.map((g) => g.pm);
  const requirement = maintenance.reduce((s, v) => s + v, 0n) + portfolio.reduce((s, v) => s + v, 0n);
  return { equity, requirement, maintenance, portfolio, groups, collateral: coll, pnl, optionValue };
}
