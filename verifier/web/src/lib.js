// The page's checks without the page: what tests/js/web_lib.mjs drives under node to
// compare the JavaScript with the Python it mirrors (params, params hash, leaf, margin,
// the whole verdict). Built by `node verifier/web/build.mjs --lib OUT.mjs`; not part of
// the page's bundle.
export { initPoseidon, accountIdDigest, accountLeaf, foldHash, idHash, paddingLeaf } from "./poseidon.js";
export {
  InputError, accountMargin, circuitParams, hashedValues, loadParamsText, makeShape, manifestFromJson,
  nameField, paramsHash, parseParams, readJson, shapeForParams, symbolField,
} from "./statement.js";
export { PyValueError, parseJson } from "./json.js";
export { parseFixed } from "./fixed.js";
export { InclusionError, Published, verify } from "./verify.js";
export { initCurve } from "./groth16.js";
