// Test helper: the holders' page's checks (verifier/web/src, bundled for node by
// `node verifier/web/build.mjs --lib LIB.mjs`), run on requests from stdin, so that
// tests/test_web.py compares them with the Python they mirror without a browser.
//
//   node tests/js/web_lib.mjs LIB.mjs  < requests.json  > answers.json
//
// stdin: a JSON list of requests; stdout: a JSON list of answers, in the same order.
//   {"op": "params", "text": params JSON text, "file": name, "shape": {...} (optional:
//    keys of the circuit shape that differ from CircuitShape.for_params, K = 1)}
//       -> {"hash": decimal, "values": the hashed values (field elements), "shape": {...},
//           "groups": [...]} or {"error": message}
//   {"op": "leaf", "id_hash": decimal, "balances": [...], "qty": [...], "cost": [...],
//    "options": [...]}                        (integers as decimal strings) -> {"leaf": decimal}
//   {"op": "padding", "assets": A, "perps": P, "options": O} -> {"leaf": decimal}
//   {"op": "margin", "text": params text, "x": [...], "q": [...], "c": [...], "o": [...]}
//       -> {"equity", "requirement", "maintenance": [...], "portfolio": [...]} (decimals)
//   {"op": "verify", "text": inclusion file text, "name": the file's name in messages,
//    "root": decimal|null, "params_hash": decimal|null}
//       -> {"verified": true, "verdict": {...}} or {"verified": false, "check", "reason"}
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const lib = await import(pathToFileURL(resolve(process.argv[2])).href);

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

const big = (xs) => xs.map(BigInt);
const dec = (xs) => xs.map((v) => v.toString());

async function answer(req) {
  switch (req.op) {
    case "params": {
      try {
        const params = lib.loadParamsText(req.text, req.file);
        let shape = lib.shapeForParams(params, 1n);
        if (req.shape) shape = lib.makeShape({ ...shape, ...req.shape });
        const cp = lib.circuitParams(params, shape);
        const hash = lib.paramsHash(shape, cp);
        const { batchSize, ...rest } = shape;
        return { hash: hash.toString(), values: dec(lib.hashedValues(shape, cp)), shape: rest,
          groups: params.groups };
      } catch (exc) {
        if (!(exc instanceof lib.InputError || exc instanceof lib.PyValueError)) throw exc;
        return { error: exc.message };
      }
    }
    case "leaf":
      return { leaf: lib.accountLeaf(BigInt(req.id_hash), big(req.balances), big(req.qty), big(req.cost),
        big(req.options)).toString() };
    case "padding":
      return { leaf: lib.paddingLeaf(req.assets, req.perps, req.options).toString() };
    case "margin": {
      const params = lib.loadParamsText(req.text, "params.json");
      const m = lib.accountMargin(params, big(req.x), big(req.q), big(req.c), big(req.o));
      return { equity: m.equity.toString(), requirement: m.requirement.toString(),
        maintenance: dec(m.maintenance), portfolio: dec(m.portfolio) };
    }
    case "verify": {
      try {
        const verdict = await lib.verify(req.text, {
          name: req.name,
          root: req.root === null ? null : BigInt(req.root),
          expectedParamsHash: req.params_hash === null ? null : BigInt(req.params_hash),
        });
        return { verified: true, verdict: verdict.toJSON() };
      } catch (exc) {
        if (!(exc instanceof lib.InclusionError)) throw exc;
        return { verified: false, check: exc.check, reason: exc.message };
      }
    }
    default:
      throw new Error(`unknown op ${req.op}`);
  }
}

await lib.initPoseidon();
const requests = JSON.parse(await readStdin());
const out = [];
for (const req of requests) out.push(await answer(req));
process.stdout.write(JSON.stringify(out) + "\n");
