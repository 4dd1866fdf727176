// Test: the holders' page's margin code (verifier/web/src/statement.js accountMargin, bundled
// for node by `node verifier/web/build.mjs --lib LIB.mjs`) against the shared hand-computed
// vectors, read here directly (no Python involved): per account E, MM per perp, PM per
// group, R and deficiency, and the vector's totals.
//
//   node tests/js/web_vectors.mjs LIB.mjs VECTOR.json...
//
// stdout: one JSON object {VECTOR: {"accounts": n, "mismatches": [...]}}; exit status 1
// when anything differs.
import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const lib = await import(pathToFileURL(resolve(process.argv[2])).href);
const F_PER_USD_FIXED = 10n ** 14n; // USD x 1e8 (parseFixed) -> F = USD x 1e22
const usd = (text) => lib.parseFixed(text) * F_PER_USD_FIXED;
const sum = (xs) => xs.reduce((s, v) => s + v, 0n);

function check(file) {
  const doc = lib.parseJson(readFileSync(file, "utf8"));
  const params = lib.parseParams(doc.get("params"), basename(file));
  const mismatches = [];
  const expect = (where, got, want) => {
    if (got !== want) mismatches.push({ where, got: got.toString(), want: want.toString() });
  };
  const totals = { equity: 0n, requirement: 0n, shortfall: 0n, deficient: 0n };
  const liabilities = params.assets.map(() => 0n);
  const debts = params.assets.map(() => 0n);
  const accounts = doc.get("accounts");
  for (const a of accounts) {
    const id = a.get("id");
    const values = (key) => (a.has(key) ? a.get(key) : []).map(lib.parseFixed);
    const x = values("balances");
    const m = lib.accountMargin(params, x, values("qty"), values("cost"), values("options"));
    expect(`${id}: equity`, m.equity, usd(a.get("equity_usd")));
    expect(`${id}: requirement`, m.requirement, usd(a.get("requirement_usd")));
    expect(`${id}: requirement = sum MM + sum PM`, m.requirement, sum(m.maintenance) + sum(m.portfolio));
    a.get("mm_usd").forEach((v, i) => expect(`${id}: MM ${params.perps[i].symbol}`, m.maintenance[i], usd(v)));
    if (a.has("pm_usd")) {
      expect(`${id}: groups`, m.portfolio.length, a.get("pm_usd").length);
      a.get("pm_usd").forEach((v, g) => expect(`${id}: PM ${params.groups[g]}`, m.portfolio[g], usd(v)));
    } else {
      expect(`${id}: groups`, m.portfolio.length, 0);
    }
    expect(`${id}: deficient`, m.equity < m.requirement, a.get("deficient"));
    totals.equity += m.equity;
    totals.requirement += m.requirement;
    totals.shortfall += m.requirement > m.equity ? m.requirement - m.equity : 0n;
    totals.deficient += m.equity < m.requirement ? 1n : 0n;
    x.forEach((v, i) => {
      if (v > 0n) liabilities[i] += v;
      else debts[i] -= v;
    });
  }
  const t = doc.get("totals");
  expect("totals: accounts", BigInt(accounts.length), BigInt(t.get("accounts").raw));
  expect("totals: deficient", totals.deficient, BigInt(t.get("deficient").raw));
  expect("totals: equity", totals.equity, usd(t.get("equity_usd")));
  expect("totals: requirement", totals.requirement, usd(t.get("requirement_usd")));
  expect("totals: shortfall", totals.shortfall, usd(t.get("shortfall_usd")));
  params.assetSymbols.forEach((s, i) => {
    const entry = t.get("assets").get(s);
    expect(`totals: ${s} liabilities`, liabilities[i], lib.parseFixed(entry.get("liabilities")));
    expect(`totals: ${s} debts`, debts[i], lib.parseFixed(entry.get("debts")));
  });
  return { accounts: accounts.length, mismatches };
}

const out = {};
for (const file of process.argv.slice(3)) out[basename(file)] = check(file);
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(Object.values(out).some((r) => r.mismatches.length) ? 1 : 0);
