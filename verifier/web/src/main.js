// The account holders' page: opens the holder's inclusion file and the exchange's
// published files (from published.js beside the page, or files, a folder or a .zip the
// holder opens), runs verify.js, and shows the verdict in plain words. No network: the
// page's Content-Security-Policy forbids every connection, and nothing here asks for one.
import { initCurve, isDevKey, parseVerificationKey } from "./groth16.js";
import { parseFixed, usd, show } from "./fixed.js";
import { JObj, decodeUtf8, parseJson, pyInt } from "./json.js";
import { initPoseidon } from "./poseidon.js";
import { OPTION_SCALE } from "./statement.js";
import { FORMAT, InclusionError, Published, parseRoot, verify } from "./verify.js";
import { readZip } from "./zip.js";

const $ = (id) => document.getElementById(id);
const hex64 = (x) => "0x" + x.toString(16).padStart(64, "0");
const started = performance.now();

const state = {
  inclusion: null, // { name, text }
  embedded: null, // Published from published.js
  opened: new Map(), // rel -> text, opened by the holder
  loose: { proof: null, public: null, vk: null }, // files without a path
  running: 0,
  keyInsecure: false,
};

// --- start: the engines (about 0.1 s to 0.3 s), then the embedded published files -------
const ready = Promise.all([initPoseidon(), initCurve()]).then(() => {
  window.zkmarginInitMs = performance.now() - started;
  document.body.dataset.ready = "true";
  showInsecureFromKey();
  return true;
});

function embeddedFiles() {
  const data = globalThis.ZKMARGIN_PUBLISHED;
  if (!data || data.format !== "zkmargin-page/1" || typeof data.files !== "object") return null;
  return new Published(new Map(Object.entries(data.files)));
}

// --- reading what the holder opens --------------------------------------------------------
async function fileText(file) {
  try {
    return decodeUtf8(new Uint8Array(await file.arrayBuffer()));
  } catch {
    return null;
  }
}

function classify(text) {
  let doc;
  try {
    doc = parseJson(text);
  } catch {
    return null;
  }
  if (Array.isArray(doc)) return "public";
  if (!(doc instanceof JObj)) return null;
  const format = doc.get("format");
  if (format === FORMAT) return "inclusion";
  if (typeof format === "string" && format.startsWith("zkmargin-artifacts/")) return "manifest.json";
  if (doc.has("vk_alpha_1")) return "vk";
  if (doc.has("pi_a")) return "proof";
  if (doc.has("commitment") && doc.has("totals") && doc.has("index")) {
    try {
      return `batches/${pyInt(doc.get("index")).toString().padStart(6, "0")}/batch.json`;
    } catch {
      return null;
    }
  }
  if (doc.has("assets") && doc.has("perps")) return "params.json";
  if (doc.has("levels") && doc.has("zeros")) return "tree/levels.json";
  return null;
}

/** Paths inside the artifacts: the part after the folder that holds manifest.json (or
 * batches/, circuit/, tree/). Files under private/ are never read. */
function artifactPaths(paths) {
  const prefixes = [];
  for (const p of paths) {
    const m = /^(.*?)(?:manifest\.json|params\.json|batches\/\d{6}\/[a-z]+\.json|circuit\/[^/]+|tree\/levels\.json)$/.exec(p);
    if (m) prefixes.push(m[1]);
  }
  prefixes.sort((a, b) => a.length - b.length);
  const root = prefixes.length ? prefixes[0] : "";
  const out = new Map();
  for (const p of paths) {
    if (!p.startsWith(root)) continue;
    const rel = p.slice(root.length);
    if (rel.split("/")[0] === "private") continue;
    out.set(p, rel);
  }
  return out;
}

async function addFiles(entries) {
  // entries: [{ path, text }] where path is "" for a file without a folder
  const mapped = artifactPaths(entries.filter((e) => e.path).map((e) => e.path));
  for (const e of entries) {
    const kind = e.text === null ? null : classify(e.text);
    if (kind === "inclusion") {
      state.inclusion = { name: e.name, text: e.text };
      continue;
    }
    const rel = e.path ? mapped.get(e.path) : undefined;
    if (rel) {
      state.opened.set(rel, e.text);
    } else if (kind === "proof" || kind === "public" || kind === "vk") {
      state.loose[kind] = e.text;
    } else if (kind) {
      state.opened.set(kind, e.text);
    }
  }
}

async function openFiles(fileList) {
  const entries = [];
  for (const file of fileList) {
    if (/\.zip$/i.test(file.name)) {
      try {
        const files = await readZip(await file.arrayBuffer());
        for (const [path, bytes] of files) {
          let text = null;
          try {
            text = decodeUtf8(bytes);
          } catch {
            text = null;
          }
          entries.push({ path, name: `${file.name}:${path}`, text });
        }
      } catch (exc) {
        showMessage(`${file.name}: ${exc.message}`);
      }
      continue;
    }
    entries.push({ path: file.webkitRelativePath || "", name: file.name, text: await fileText(file) });
  }
  await addFiles(entries);
}

/** The published files of this run: the ones the holder opened, else published.js. The
 * loose proof and public signal belong to the holder's batch; a loose key is the one the
 * manifest names. */
function publishedSet() {
  const opened = state.opened.size || state.loose.proof || state.loose.public || state.loose.vk;
  if (!opened) return state.embedded;
  const files = new Map(state.opened);
  let batch = null;
  try {
    batch = pyInt(parseJson(state.inclusion.text).get("batch_index"));
  } catch {
    batch = null;
  }
  if (batch !== null && batch >= 0n) {
    const dir = `batches/${batch.toString().padStart(6, "0")}`;
    if (state.loose.proof !== null) files.set(`${dir}/proof.json`, state.loose.proof);
    if (state.loose.public !== null) files.set(`${dir}/public.json`, state.loose.public);
  }
  if (state.loose.vk !== null) {
    let rel = "circuit/verification_key.json";
    try {
      const name = parseJson(files.get("manifest.json")).get("verification_key");
      if (typeof name === "string") rel = name;
    } catch {
      // no manifest: the artifacts check fails on it first
    }
    files.set(rel, state.loose.vk);
  }
  return new Published(files);
}

// --- the INSECURE banner ------------------------------------------------------------------
function showInsecure(on) {
  $("insecure").hidden = !on;
  document.body.classList.toggle("insecure", on);
}

/** The banner as soon as the published key is the development setup's (recognised from
 * the key's points, never from the manifest's insecure_setup or a file name). */
function showInsecureFromKey() {
  state.keyInsecure = false;
  const pub = publishedSet();
  if (pub) {
    try {
      const manifest = parseJson(pub.get("manifest.json"));
      const vk = parseVerificationKey(parseJson(pub.get(manifest.get("verification_key"))));
      state.keyInsecure = isDevKey(vk);
    } catch {
      // an unreadable key: verification says which check fails
    }
  }
  showInsecure(state.keyInsecure);
}

// --- verification and rendering -----------------------------------------------------------
const EXPLAIN = {
  file: "The file could not be read as a zkmargin inclusion proof.",
  params: "The risk parameters in the file are not the ones the params hash commits to, so "
    + "the names and numbers shown for your account could not be trusted.",
  labels: "Your balances, positions and options are not labelled with the committed asset, "
    + "perp and option names, in their order.",
  leaf: "Your account id, salt, balances, positions or options in the file do not give the "
    + "leaf the exchange committed: something in the file was changed.",
  batch: "The batch numbers in the file do not fit together, or the path does not end in the "
    + "root that the batch proof proves.",
  path: "The Merkle path in the file does not lead from your leaf to the root.",
  root: "The root your account leads to is not the published root you entered.",
  artifacts: "The file does not match the published files (root, params hash, batch count, "
    + "tree depth), or those files are incomplete or invalid.",
  proof: "The proof of your batch does not verify against the published verification key, "
    + "or its public data (batch.json, public.json) are inconsistent.",
  internal: "The page hit an error it did not expect: nothing is verified (please report it).",
};

function showMessage(text) {
  $("message").textContent = text;
  $("message").hidden = !text;
}

function rootInput(id) {
  const text = $(id).value;
  if (!text.trim()) return null;
  return parseRoot(text);
}

async function run() {
  const token = ++state.running;
  showMessage("");
  const published = publishedSet();
  describePublished(published);
  if (!state.inclusion) {
    render({ verified: null });
    return;
  }
  let root, expectedParamsHash;
  try {
    root = rootInput("root");
    expectedParamsHash = rootInput("params-hash");
  } catch (exc) {
    showMessage(exc.message);
    render({ verified: null });
    return;
  }
  await ready;
  const passed = [];
  const details = {};
  const timings = {};
  const t0 = performance.now();
  let result;
  try {
    const verdict = await verify(state.inclusion.text, {
      name: state.inclusion.name, root, expectedParamsHash, published, timings,
      trace: (step, info) => {
        passed.push(step);
        Object.assign(details, info || {});
      },
    });
    timings.total = performance.now() - t0;
    result = { verified: true, verdict, passed, details, timings };
  } catch (exc) {
    timings.total = performance.now() - t0;
    if (!(exc instanceof InclusionError)) {
      console.error(exc);
      const reason = `internal error: ${exc.message}`;
      result = { verified: false, check: "internal", reason, detail: reason, passed, details, timings };
    } else {
      result = { verified: false, check: exc.check, reason: exc.message, detail: exc.reason, passed, details, timings };
    }
  }
  if (token !== state.running) return;
  render(result);
}

function describePublished(published) {
  const el = $("published-state");
  if (!published) {
    el.textContent = "None opened: the batch proof is not checked. Open the files the exchange published, or paste its root.";
    return;
  }
  const rels = [...published.files.keys()];
  const batches = rels.filter((r) => /^batches\/\d{6}\/proof\.json$/.test(r)).length;
  const source = published === state.embedded ? "published with this page" : "opened by you";
  el.textContent = `${rels.length} files ${source} (manifest${published.get("manifest.json") === undefined ? " MISSING" : ""}, `
    + `${batches} batch proof${batches === 1 ? "" : "s"}).`;
}

function cell(tag, text, cls) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (cls) el.className = cls;
  return el;
}

/** A table; `numeric(i)`: column i holds numbers (right-aligned, monospace). */
function table(id, head, rows, numeric = (i) => i > 0) {
  const t = $(id);
  t.replaceChildren();
  const tr = document.createElement("tr");
  head.forEach((h) => tr.append(cell("th", h)));
  t.append(tr);
  for (const row of rows) {
    const r = document.createElement("tr");
    row.forEach((v, i) => r.append(cell("td", v, numeric(i) ? "num" : "")));
    t.append(r);
  }
}

const STEPS = [
  ["file", "file", "the file is a readable inclusion proof"],
  ["params", "params", "its risk parameters hash to its params hash"],
  ["labels", "labels", "your balances, positions and options carry the hashed parameters' names, in order"],
  ["leaf", "leaf", "your id, salt and values give the committed leaf"],
  ["batch", "batch", "leaf and batch numbers fit together"],
  ["path", "path", "the path leads from your leaf to the root"],
  ["root", "root", "the root is the published root you entered"],
  ["artifacts", "artifacts", "the file matches the published manifest and params"],
  ["proof", "proof", "the batch proof verifies (Groth16, snarkjs)"],
  ["batch-root", "batch", "the path passes through the proven batch root"],
];

function render(result) {
  window.zkmarginResult = result.verified === null ? null : {
    verified: result.verified,
    check: result.verified ? null : result.check,
    reason: result.verified ? null : result.reason,
    verdict: result.verified ? result.verdict.toJSON() : null,
    timings: result.timings,
    initMs: window.zkmarginInitMs,
  };
  const box = $("verdict");
  const head = $("verdict-head");
  const body = $("verdict-text");
  $("details").hidden = !result.verified;
  if (result.verified === null) {
    box.className = "verdict idle";
    box.dataset.state = "idle";
    head.textContent = "Open your inclusion file to start.";
    body.textContent = "";
    $("checks").replaceChildren();
    document.body.dataset.state = "idle";
    return;
  }
  // the checklist: passed, failed (the first failure), skipped (not asked for), not run
  const failing = result.verified ? null
    : result.check === "batch" && result.passed.includes("batch") ? "batch-root" : result.check;
  const list = $("checks");
  list.replaceChildren();
  for (const [step, label, text] of STEPS) {
    const st = result.passed.includes(step) ? "passed" : step === failing ? "failed"
      : result.verified ? "skipped" : "not-run";
    const li = document.createElement("li");
    li.className = st;
    li.dataset.check = label;
    li.dataset.step = step;
    li.append(cell("span", { passed: "✔", failed: "✘", skipped: "–", "not-run": "·" }[st], "mark"),
      cell("code", label), cell("span", ` ${text}`));
    list.append(li);
  }
  if (!result.verified) {
    box.className = "verdict fail";
    box.dataset.state = "failed";
    box.dataset.check = result.check;
    head.textContent = `NOT verified: the check '${result.check}' failed.`;
    body.replaceChildren(cell("p", EXPLAIN[result.check] || ""), cell("p", result.detail, "reason"));
    document.body.dataset.state = "failed";
    showInsecure(state.keyInsecure || Boolean(result.details.insecure));
    showTiming(result);
    return;
  }
  const v = result.verdict;
  delete box.dataset.check;
  if (v.root_confirmed) {
    box.className = "verdict ok";
    box.dataset.state = "included";
    head.textContent = v.proof_checked
      ? "Included: your account is in the published root, and its batch proof is valid."
      : "Included: your account is in the root you entered.";
  } else {
    box.className = "verdict unconfirmed";
    box.dataset.state = "unconfirmed";
    head.textContent = "Not confirmed yet: compare the root below with the one the exchange published.";
  }
  body.replaceChildren(cell("p", v.sentence()));
  document.body.dataset.state = box.dataset.state;
  showInsecure(state.keyInsecure || v.insecure_setup);

  $("account-id").textContent = v.account_id;
  showAccount(v);
  $("equity").textContent = `${usd(v.equity)} USD`;
  $("requirement").textContent = `${usd(v.requirement)} USD`;
  $("excess").textContent = `${usd(v.equity - v.requirement)} USD`;
  $("excess").className = `v ${v.sufficient ? "good" : "bad"}`;
  const status = $("status");
  status.textContent = v.sufficient
    ? "sufficient: your equity covers your maintenance requirement"
    : `DEFICIENT: your equity is below your maintenance requirement by ${usd(v.shortfall)} USD`;
  status.className = v.sufficient ? "good" : "bad";
  $("root-hex").textContent = hex64(v.root);
  $("root-dec").textContent = v.root.toString();
  $("params-hex").textContent = hex64(v.params_hash);
  $("batch-pos").textContent = `batch ${v.batch_index} of ${v.batch_count} (tree depth ${v.levels.length}, `
    + `${v.batch_depth} levels inside the batch)`;
  drawPath(v);
  showTiming(result);
}

/** The account under the hashed labels, and where its requirement comes from: MM per
 * bracket perp, PM per portfolio group (worst scenario, short-option minimum). */
function showAccount(v) {
  const { params, margin } = v;
  const perps = new Map(params.perps.map((p) => [p.symbol, p]));
  table("balances", ["asset", "balance"], [...v.balances].map(([s, x]) => [s, show(x)]));
  table("positions", ["perp", "size (contracts)", "cost (USD)", "margined"],
    [...v.positions].map(([p, x]) => {
      const perp = perps.get(p);
      return [p, show(x.qty), show(x.cost), perp.group !== null ? `in group ${perp.group}` : "brackets"];
    }), (i) => i === 1 || i === 2);
  $("positions-none").hidden = v.positions.size > 0;
  const options = new Map(params.options.map((o) => [o.symbol, o]));
  table("options", ["option", "group", "size (contracts)", "value at mark (USD)"],
    [...v.options].map(([o, size]) => {
      const opt = options.get(o);
      return [o, opt.group, show(size), usd(OPTION_SCALE * parseFixed(size) * opt.mark)];
    }), (i) => i >= 2);
  $("options-box").hidden = params.options.length === 0;
  const parts = [];
  params.perps.forEach((p, i) => {
    if (p.group === null) {
      parts.push([p.symbol, "maintenance margin (brackets of its notional)", usd(margin.maintenance[i])]);
    }
  });
  margin.groups.forEach((g) => {
    const scan = `worst scenario '${g.scenario}': loss ${usd(OPTION_SCALE * g.scan)} USD`;
    const how = params.options.some((o) => o.group === g.group)
      ? `${scan}; short-option minimum ${usd(OPTION_SCALE * g.short)} USD` : scan;
    parts.push([`group ${g.group}`, `portfolio margin (${how})`, usd(g.pm)]);
  });
  table("requirement-parts", ["part", "how", "requirement (USD)"], parts, (i) => i === 2);
  $("requirement-parts").hidden = parts.length === 0;
}

function showTiming(result) {
  const t = result.timings;
  const ms = (x) => (x === undefined ? "–" : `${x.toFixed(1)} ms`);
  $("timing").textContent = `Checked in ${ms(t.total)} (leaf ${ms(t.leaf)}, path ${ms(t.path)}, `
    + `batch proof ${ms(t.proof)}); page ready in ${ms(window.zkmarginInitMs)}. Nothing was sent anywhere.`;
}

// --- the path, leaf to root ---------------------------------------------------------------
const SVG = "http://www.w3.org/2000/svg";
const short = (x) => {
  const h = x.toString(16).padStart(64, "0");
  return `0x${h.slice(0, 6)}…${h.slice(-4)}`;
};

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function drawPath(v) {
  const levels = v.levels;
  const rowH = 46;
  const width = 720;
  const height = (levels.length + 1) * rowH + 16;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
    "aria-label": "Merkle path from your leaf to the root" });
  const boxW = 190;
  const xs = { left: 70, right: 280 };
  const yOf = (l) => height - 8 - (l + 1) * rowH;
  const rootX = 175;
  // the centre of the box each level hashes into: your node one level up, or the root
  const parentX = (l) => (l + 1 < levels.length ? xs[levels[l + 1].right ? "right" : "left"] : rootX) + boxW / 2;
  levels.forEach((lv, l) => {
    const y = yOf(l);
    const mine = lv.right ? "right" : "left";
    const other = lv.right ? "left" : "right";
    const label = l === 0 ? "your leaf" : l === v.batch_depth ? "batch root" : "node";
    root.append(svg("line", { x1: xs[mine] + boxW / 2, y1: y, x2: parentX(l), y2: y - rowH + 28, class: "edge" }));
    root.append(svg("line", { x1: xs[other] + boxW / 2, y1: y, x2: parentX(l), y2: y - rowH + 28, class: "edge thin" }));
    root.append(svg("text", { x: 4, y: y + 19, class: "lvl" }, `level ${l}`));
    root.append(svg("rect", { x: xs[mine], y, width: boxW, height: 28, rx: 5, class: l === 0 ? "leaf" : "mine" }));
    root.append(svg("text", { x: xs[mine] + 8, y: y + 19, class: "val" }, `${label} ${short(lv.node)}`));
    root.append(svg("rect", { x: xs[other], y, width: boxW, height: 28, rx: 5, class: "sib" }));
    root.append(svg("text", { x: xs[other] + 8, y: y + 19, class: "val" }, `sibling ${short(lv.sibling)}`));
    if (l === v.batch_depth && l > 0) {
      root.append(svg("line", { x1: 50, y1: y + 37, x2: width - 4, y2: y + 37, class: "boundary" }));
      root.append(svg("text", { x: 490, y: y + 18, class: "note" }, "above: the tree over the"));
      root.append(svg("text", { x: 490, y: y + 31, class: "note" }, "batch roots (tree/levels.json)"));
      root.append(svg("text", { x: 490, y: y + 52, class: "note" }, "below: inside your batch,"));
      root.append(svg("text", { x: 490, y: y + 65, class: "note" }, "proven by its Groth16 proof"));
    }
  });
  const y = yOf(levels.length);
  root.append(svg("rect", { x: rootX, y, width: boxW, height: 28, rx: 5, class: "root" }));
  root.append(svg("text", { x: rootX + 8, y: y + 19, class: "val" }, `root ${short(v.root)}`));
  $("path-picture").replaceChildren(root);
}

// --- wiring -------------------------------------------------------------------------------
// body[data-busy] is "true" while a file is being read or a check runs (tests wait on it)
let pending = 0;
function busy(delta) {
  pending += delta;
  document.body.dataset.busy = pending > 0 ? "true" : "false";
}

let timer = null;
function schedule() {
  if (timer === null) busy(+1);
  else clearTimeout(timer);
  timer = setTimeout(async () => {
    timer = null;
    try {
      await run();
    } finally {
      busy(-1);
    }
  }, 60);
}

function whileBusy(handler) {
  return async (e) => {
    busy(+1);
    try {
      await handler(e);
    } finally {
      schedule();
      busy(-1);
    }
  };
}

$("inclusion-file").addEventListener("change", whileBusy(async (e) => {
  const file = e.target.files[0];
  if (file) state.inclusion = { name: file.name, text: await fileText(file) };
}));
for (const id of ["published-files", "published-dir"]) {
  $(id).addEventListener("change", whileBusy(async (e) => {
    await openFiles([...e.target.files]);
    await ready;
    showInsecureFromKey();
  }));
}
$("clear-published").addEventListener("click", whileBusy(async () => {
  state.opened.clear();
  state.loose = { proof: null, public: null, vk: null };
  await ready;
  showInsecureFromKey();
}));
$("root").addEventListener("input", schedule);
$("params-hash").addEventListener("input", schedule);
$("verify").addEventListener("click", schedule);
document.addEventListener("dragover", (e) => e.preventDefault());
document.addEventListener("drop", whileBusy(async (e) => {
  e.preventDefault();
  await openFiles([...e.dataTransfer.files]);
  await ready;
  showInsecureFromKey();
}));

state.embedded = embeddedFiles();
if (state.embedded) {
  const manifest = state.embedded.get("manifest.json");
  try {
    $("published-root").textContent = hex64(BigInt(parseJson(manifest).get("root")));
    $("published-root-box").hidden = false;
  } catch {
    // verification names the problem
  }
}
window.zkmargin = { run, ready, state };
busy(0);
describePublished(publishedSet());
render({ verified: null });
