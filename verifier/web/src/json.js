// JSON as Python's json module reads it, so that the page and `zkmargin inclusion verify`
// see the same values: JSON.parse would round every number to a double (a 254-bit root or
// salt) and put integer-like keys first (a symbol such as "1000" would move), so:
//
// * a number stays its source text (JNum); pyInt / pyStr convert it as Python's int() and
//   str() would convert what json.loads made of it;
// * an object is a JObj, a Map in file order; a repeated key keeps its first place and its
//   last value (as a Python dict does) and is remembered in `duplicate`;
// * a text is decoded as UTF-8 strictly, a byte order mark included (Python's read_text).

export class JNum {
  constructor(raw) {
    this.raw = raw;
  }

  get isInt() {
    return /^-?[0-9]+$/.test(this.raw);
  }

  /** NaN, Infinity or -Infinity: a float, but not a JSON number (no source digits). */
  get isConstant() {
    return /^(?:NaN|-?Infinity)$/.test(this.raw);
  }
}

export class JObj extends Map {
  constructor() {
    super();
    this.duplicate = null;
  }
}

export class JsonError extends Error {}

/** Python's ValueError and TypeError, as the file check of `verify` catches them. */
export class PyValueError extends Error {}
export class PyTypeError extends Error {}

export function decodeUtf8(bytes) {
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/y;
const ESCAPES = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

export function parseJson(text) {
  let i = 0;
  const n = text.length;
  const fail = (msg) => {
    const line = text.slice(0, i).split("\n").length;
    throw new JsonError(`${msg}: line ${line} column ${i - text.lastIndexOf("\n", i - 1)} (char ${i})`);
  };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const string = () => {
    i++;
    let out = "";
    let start = i;
    for (;;) {
      if (i >= n) fail("Unterminated string starting at");
      const c = text.charCodeAt(i);
      if (c === 34) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c === 92) {
        out += text.slice(start, i);
        const e = text[i + 1];
        if (e in ESCAPES) {
          out += ESCAPES[e];
          i += 2;
        } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else {
          fail("Invalid \\escape");
        }
        start = i;
        continue;
      }
      if (c < 32) fail("Invalid control character at");
      i++;
    }
  };
  const value = () => {
    ws();
    if (i >= n) fail("Expecting value");
    const c = text[i];
    if (c === "{") {
      i++;
      const obj = new JObj();
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("Expecting property name enclosed in double quotes");
        const key = string();
        ws();
        if (text[i] !== ":") fail("Expecting ':' delimiter");
        i++;
        const v = value();
        if (obj.has(key) && obj.duplicate === null) obj.duplicate = key;
        obj.set(key, v);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return obj;
        }
        fail("Expecting ',' delimiter");
      }
    }
    if (c === "[") {
      i++;
      const arr = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value());
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return arr;
        }
        fail("Expecting ',' delimiter");
      }
    }
    if (c === '"') return string();
    if ((c === "-" && text[i + 1] !== "I") || (c >= "0" && c <= "9")) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) fail("Expecting value");
      i += m[0].length;
      return new JNum(m[0]);
    }
    // Python's json also reads NaN, Infinity and -Infinity (as floats)
    for (const word of ["NaN", "Infinity", "-Infinity"]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return new JNum(word);
      }
    }
    for (const [word, v] of [["true", true], ["false", false], ["null", null]]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    return fail("Expecting value");
  };
  const v = value();
  ws();
  if (i !== n) fail("Extra data");
  return v;
}

/** Python's repr of the float a JSON number becomes (shortest round trip, Python's
 * switch to exponent notation below 1e-4 and from 1e16). */
export function pyFloatRepr(raw) {
  const x = Number(raw);
  if (!Number.isFinite(x)) return x > 0 ? "inf" : x < 0 ? "-inf" : "nan";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expText] = x.toExponential().split("e");
  const exp = Number(expText);
  const sign = mant.startsWith("-") ? "-" : "";
  const digits = mant.replace("-", "").replace(".", "");
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const frac = digits.slice(exp + 1);
  return `${sign}${whole}.${frac || "0"}`;
}

function pyType(v) {
  if (v === null) return "NoneType";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "string") return "str";
  if (v instanceof JNum) return v.isInt ? "int" : "float";
  if (Array.isArray(v)) return "list";
  if (v instanceof JObj) return "dict";
  return typeof v;
}

/** Python's int() of what json.loads made of v. */
export function pyInt(v) {
  if (typeof v === "boolean") return v ? 1n : 0n;
  if (v instanceof JNum) {
    if (v.isInt) return BigInt(v.raw);
    const x = Number(v.raw);
    if (!Number.isFinite(x)) throw new PyValueError("cannot convert float infinity to integer");
    return BigInt(Math.trunc(x));
  }
  if (typeof v === "string") {
    const m = /^\s*([+-]?)([0-9]+(?:_[0-9]+)*)\s*$/.exec(v);
    if (!m) throw new PyValueError(`invalid literal for int() with base 10: ${pyRepr(v)}`);
    const d = BigInt(m[2].replaceAll("_", ""));
    return m[1] === "-" ? -d : d;
  }
  throw new PyTypeError(`int() argument must be a string, a bytes-like object or a real number, not '${pyType(v)}'`);
}

/** Python's str() of what json.loads made of v (lists and objects: a text no number or
 * decimal string can equal, which is all the checks compare it with). */
export function pyStr(v) {
  if (typeof v === "string") return v;
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v instanceof JNum) return v.isInt ? BigInt(v.raw).toString() : pyFloatRepr(v.raw);
  return `<${pyType(v)}>`;
}

/** Python's repr of a str: its quotes, and escapes for what str.isprintable() refuses. */
function pyStrRepr(text) {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const named = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };
  let out = quote;
  for (const ch of text) {
    const c = ch.codePointAt(0);
    if (named[ch] !== undefined) out += named[ch];
    else if (ch === quote) out += `\\${quote}`;
    else if (ch !== " " && /[\p{C}\p{Z}]/u.test(ch)) {
      const hex = c.toString(16);
      out += c < 0x100 ? `\\x${hex.padStart(2, "0")}` : c < 0x10000 ? `\\u${hex.padStart(4, "0")}`
        : `\\U${hex.padStart(8, "0")}`;
    } else out += ch;
  }
  return out + quote;
}

export function pyRepr(v) {
  if (typeof v === "string") return pyStrRepr(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  if (v instanceof JObj) return `{${[...v].map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(", ")}}`;
  if (typeof v === "bigint") return v.toString();
  return pyStr(v);
}

/** Python's dict() of a JSON value: an object, or a list of [key, value] pairs. */
export function pyDict(v) {
  if (v instanceof JObj) return v;
  if (Array.isArray(v)) {
    const out = new JObj();
    v.forEach((pair, i) => {
      if (!Array.isArray(pair) && typeof pair !== "string") {
        throw new PyTypeError(`cannot convert dictionary update sequence element #${i} to a sequence`);
      }
      if (pair.length !== 2) {
        throw new PyValueError(`dictionary update sequence element #${i} has length ${pair.length}; 2 is required`);
      }
      const [key, value] = pair;
      if (Array.isArray(key) || key instanceof JObj) throw new PyTypeError(`unhashable type: '${pyType(key)}'`);
      out.set(key, value); // a key that is not a text never equals a symbol: labels
    });
    return out;
  }
  if (typeof v === "string") {
    throw new PyValueError("dictionary update sequence element #0 has length 1; 2 is required");
  }
  throw new PyTypeError(`'${pyType(v)}' object is not iterable`);
}

/** Python's v[key] for a value of the file (a dict: KeyError when missing). */
export function pyItem(v, key) {
  if (v instanceof JObj) {
    if (!v.has(key)) throw new PyValueError(`KeyError: '${key}'`);
    return v.get(key);
  }
  throw new PyTypeError(`${pyType(v) === "str" ? "string indices must be integers, not 'str'" : `'${pyType(v)}' object is not subscriptable`}`);
}

/** Python's list iteration of a JSON value (a list; a text iterates its characters). */
export function pyIter(v) {
  if (Array.isArray(v)) return v;
  if (typeof v === "string") return [...v];
  if (v instanceof JObj) return [...v.keys()];
  throw new PyTypeError(`'${pyType(v)}' object is not iterable`);
}

export { pyType };
