// What circomlibjs's Poseidon imports from ffjavascript, for the page: getCurveFromName
// returns the BN254 scalar field as ffjavascript's F1Field (BigInt arithmetic), which the
// reference Poseidon only uses through e, add, mul, square, zero. The WASM curve that
// ffjavascript would build instead costs about a second to start and gains nothing for
// the few dozen hashes of one inclusion proof.
import { F1Field } from "ffjavascript";

export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

export async function getCurveFromName(name, singleThread) {
  if (name !== "bn128" || singleThread !== true) {
    throw new Error(`the page's Poseidon field is bn128 (single thread), not ${name}`);
  }
  return { Fr: new F1Field(R) };
}
