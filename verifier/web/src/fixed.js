// Exact decimals and their rendering: zkmargin/fixed.py and zkmargin/report.py.
import { PyTypeError, PyValueError } from "./json.js";

export const SCALE_DECIMALS = 8;
export const SCALE = 10n ** 8n;
export const FINE_DECIMALS = 22;
export const I63 = 1n << 63n;
const DECIMAL = /^([+-]?)([0-9]+)(?:\.([0-9]+))?$/;

/** parse_fixed: a decimal string (at most 8 fractional digits) as an integer x 1e8. */
export function parseFixed(text) {
  if (typeof text !== "string") throw new PyTypeError("expected string or bytes-like object");
  const m = DECIMAL.exec(text);
  if (m === null) {
    const stripped = text.trim();
    if (stripped !== text && stripped) return parseFixed(stripped);
    throw new PyValueError("is not a decimal number (expected digits with an optional sign and "
      + `up to ${SCALE_DECIMALS} fractional digits, e.g. -12.5)`);
  }
  const [, sign, whole, frac = ""] = m;
  if (frac.length > SCALE_DECIMALS) {
    throw new PyValueError(`has ${frac.length} fractional digits; at most ${SCALE_DECIMALS} are allowed`);
  }
  let value = BigInt(whole) * SCALE;
  if (frac) value += BigInt(frac) * 10n ** BigInt(SCALE_DECIMALS - frac.length);
  return sign === "-" ? -value : value;
}

export function groupDigits(whole) {
  let out = "";
  for (let i = 0; i < whole.length; i++) {
    if (i && (whole.length - i) % 3 === 0) out += ",";
    out += whole[i];
  }
  return out;
}

/** format_units: value / 10^decimals with `shown` decimals, truncated toward zero, grouped. */
export function formatUnits(value, decimals, shown) {
  const sign = value < 0n ? "-" : "";
  const abs = value < 0n ? -value : value;
  const unit = 10n ** BigInt(decimals);
  let text = groupDigits((abs / unit).toString());
  if (shown) text += "." + (abs % unit).toString().padStart(decimals, "0").slice(0, shown);
  return sign + text;
}

/** usd: F (USD x 1e22) as dollars and cents, truncated toward zero, grouped. */
export function usd(fine) {
  return formatUnits(fine, FINE_DECIMALS, 2);
}

/** Verdict._show: a decimal of the file as written, its whole part grouped. */
export function show(decimal) {
  const sign = decimal.startsWith("-") ? "-" : "";
  const rest = decimal.replace(/^-+/, "");
  const dot = rest.indexOf(".");
  const whole = dot < 0 ? rest : rest.slice(0, dot);
  const frac = dot < 0 ? "" : rest.slice(dot + 1);
  return sign + groupDigits(whole) + (frac ? `.${frac}` : "");
}
