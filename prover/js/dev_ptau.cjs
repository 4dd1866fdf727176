#!/usr/bin/env node
/*
 * dev_ptau.cjs: a fast, deterministic and INSECURE powers-of-tau file for development.
 *
 *   node dev_ptau.cjs POWER OUT.ptau [--seed TEXT] [--no-lagrange]
 *
 * INSECURE BY CONSTRUCTION. The toxic waste (tau, alpha, beta) is derived from a public
 * seed, so anyone can forge Groth16 proofs for every circuit set up from this file. Use it
 * for tests and development only, never for proofs that anyone is asked to trust.
 *
 * Secrets. With r the BN254 scalar field order and SHA-512 read as a big-endian integer:
 *     x = SHA-512(seed || 0x00 || label) mod r,   label in {"tau", "alpha", "beta"}.
 * The default seed is "zkmargin INSECURE development setup".
 *
 * Format: the snarkjs "ptau" file (@iden3/binfileutils container: magic "ptau", version 1,
 * section count, then sections of (id u32, size u64, payload)). A point is stored affine as
 * it lies in ffjavascript's WASM memory: x then y, each coordinate in Montgomery form,
 * little-endian, 32 bytes per Fq element (G1: 64 bytes; G2 over Fq2 = (c0, c1): 128 bytes).
 * With p = POWER, G1 and G2 the generators, the sections hold:
 *      1  header: n8 = 32 (u32), q (32 bytes LE), power p (u32), ceremony power p (u32)
 *      2  tauG1       tau^i G1            i = 0 .. 2^(p+1) - 2
 *      3  tauG2       tau^i G2            i = 0 .. 2^p - 1
 *      4  alphaTauG1  alpha tau^i G1      i = 0 .. 2^p - 1
 *      5  betaTauG1   beta tau^i G1       i = 0 .. 2^p - 1
 *      6  betaG2      beta G2
 *      7  contributions: count 0 (there is no ceremony transcript)
 * and, unless --no-lagrange (the file `snarkjs powersoftau prepare phase2` would write):
 *     12  L_{k,j}(tau) G1, 13 L_{k,j}(tau) G2, 14 alpha L_{k,j}(tau) G1,
 *     15  beta L_{k,j}(tau) G1, each for k = 0 .. p in order (section 12 also k = p + 1),
 *         j = 0 .. 2^k - 1.
 *
 * Lagrange scalars. snarkjs obtains block k by an inverse FFT of the first n = 2^k points
 * of the matching power section. By linearity that is ifft(tau^i)_j G with
 *     ifft(tau^i)_j = (1/n) sum_i tau^i w^(-ij) = L_{k,j}(tau),
 * the Lagrange basis of the domain D = {w^j} of the n-th roots of unity, w = Fr.w[k] in
 * ffjavascript (w_28 = 5^((r-1)/2^28), w_k = w_28^(2^(28-k))). With Z(x) = prod_{d in D}
 * (x - d) the vanishing polynomial, L_d(tau) = Z(tau) / (Z'(d) (tau - d)); for D = {w^j},
 * Z = x^n - 1 and Z'(w^j) = n w^(-j). So we compute every scalar in Fr directly (O(n) with
 * one batch inversion per chunk) and never run a group FFT.
 *   Section 12, block p + 1: tauG1 has only N - 1 = 2^(p+1) - 1 points, and snarkjs pads
 * the input with the point at infinity. The missing tau^(N-1) term removes tau^(N-1) times
 * the leading coefficient 1/Z'(d) of L_d, giving (Z(tau)/(tau - d) - tau^(N-1)) / Z'(d).
 *   Power 28 only: block 29 exceeds the 2-adicity 28 of r, and ffjavascript's
 * lagrangeEvaluations then uses D = H u gH with H the 2^28-th roots of unity, g = Fr.shift
 * = 25 (first half of the block on H, second on gH); the same formula holds with
 * Z = (x^m - 1)(x^m - g^m), m = 2^28.
 *   Every block therefore has the form s_j = x_j (A / (tau - h x_j) + B) with x_j = w^j:
 * Z'(h w^j) = K w^(-j), A = c Z(tau) / K, B = -c T / K, where c is 1, alpha or beta, T is
 * tau^(N-1) for section 12's last block and 0 otherwise, and (h, K) is (1, n) on {w^j},
 * (1, m(1 - g^m)) on H and (g, m g^(m-1) (g^m - 1)) on gH.
 *
 * Points. Each point is scalar * generator by a fixed-base window method: with window w,
 * each worker thread precomputes T_k[d] = d 2^(wk) G once, and a point is the sum of
 * ceil(254/w) table entries (one mixed addition each), then a batch conversion to affine.
 * We call ffjavascript's BN254 WASM exports (g1m_addMixed, ...) directly from
 * worker_threads, one WASM instance per thread: per point and thread this is ~10x faster
 * than ffjavascript's scalar multiplication (timesScalarAffine, G.batchApplyKey; measured
 * in prover/README.md). Windows stay <= 13 bits (tables <= 20 MB per group and thread).
 */
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { Worker, isMainThread, parentPort, workerData } = require("node:worker_threads");

const DEFAULT_SEED = "zkmargin INSECURE development setup";
const MAX_POWER = 28;
const TWO_ADICITY = 28; // 2^28 divides r - 1
const SCALAR_BITS = 254; // r < 2^254
const CHUNK = 1 << 12; // points per worker job
const MAX_WINDOW = 13; // larger tables (> 20 MB) were no faster here and doubled the memory
const FR_BYTES = 32;
const GROUPS = {
    G1: { prefix: "g1m", n8: 32 }, // n8: bytes per coordinate (Fq)
    G2: { prefix: "g2m", n8: 64 }, // Fq2
};

// ---------------------------------------------------------------------------- main thread

function usage(message) {
    process.stderr.write(
        `dev_ptau: ${message}\n` +
        "usage: node dev_ptau.cjs POWER OUT.ptau [--seed TEXT] [--no-lagrange]\n" +
        `  POWER: 1..${MAX_POWER}; writes an INSECURE (public tau) powers-of-tau file\n`);
    process.exit(2);
}

function parseArgs(argv) {
    const positional = [];
    let seed = DEFAULT_SEED;
    let lagrange = true;
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--seed") {
            if (i + 1 >= argv.length) usage("--seed needs a value");
            seed = argv[++i];
        } else if (argv[i] === "--no-lagrange") {
            lagrange = false;
        } else if (argv[i].startsWith("--")) {
            usage(`unknown option ${argv[i]}`);
        } else {
            positional.push(argv[i]);
        }
    }
    if (positional.length !== 2) usage("expected POWER and OUT.ptau");
    const power = Number(positional[0]);
    if (!/^[0-9]+$/.test(positional[0]) || power < 1 || power > MAX_POWER) {
        usage(`POWER must be an integer in 1..${MAX_POWER}, got ${JSON.stringify(positional[0])}`);
    }
    return { power, out: positional[1], seed, lagrange };
}

function mod(a, r) {
    const x = a % r;
    return x < 0n ? x + r : x;
}

function powMod(base, exp, r) {
    let result = 1n;
    let b = mod(base, r);
    for (let e = exp; e > 0n; e >>= 1n) {
        if (e & 1n) result = (result * b) % r;
        b = (b * b) % r;
    }
    return result;
}

function invMod(a, r) {
    return powMod(a, r - 2n, r);
}

function deriveSecret(seed, label, r) {
    const digest = crypto.createHash("sha512").update(`${seed}\0${label}`, "utf8").digest();
    return mod(BigInt(`0x${digest.toString("hex")}`), r);
}

function le32(x) {
    return Buffer.from(x.toString(16).padStart(64, "0"), "hex").reverse();
}

/** Constants of ffjavascript's BN254 engine, as BigInts and byte strings. */
async function curveConstants() {
    const { buildBn128 } = require("ffjavascript");
    const curve = await buildBn128(true); // single-threaded: no ffjavascript workers
    const Fr = curve.Fr;
    return {
        q: curve.q,
        r: curve.r,
        roots: Fr.w.map((w) => Fr.toObject(w)), // roots[k]: the 2^k-th root snarkjs uses
        shift: Fr.toObject(Fr.shift),
        code: curve.tm.code, // the WASM module; each worker instantiates its own copy
        generators: { G1: curve.G1.oneAffine, G2: curve.G2.oneAffine },
    };
}

/**
 * The file after its header as a list of sections, each raw `bytes` or a list of blocks of
 * points: {group, count, kind, ...}.
 *   geometric: scalar_i = first ratio^i;   lagrange: scalar_j = x_j (A/(tau - h x_j) + B),
 *   x_j = omega^j.
 */
function planFile(power, lagrange, secrets, c) {
    const { tau, alpha, beta } = secrets;
    const r = c.r;
    const geometric = (group, count, first) =>
        ({ group, count, kind: "geometric", first, ratio: tau });
    const sections = [
        { id: 2, name: "tauG1", blocks: [geometric("G1", 2 ** (power + 1) - 1, 1n)] },
        { id: 3, name: "tauG2", blocks: [geometric("G2", 2 ** power, 1n)] },
        { id: 4, name: "alphaTauG1", blocks: [geometric("G1", 2 ** power, alpha)] },
        { id: 5, name: "betaTauG1", blocks: [geometric("G1", 2 ** power, beta)] },
        { id: 6, name: "betaG2", blocks: [geometric("G2", 1, beta)] },
        { id: 7, name: "contributions", blocks: [], bytes: Buffer.alloc(4) }, // u32 count 0
    ];
    if (!lagrange) return sections;

    // One Lagrange block: scalar_j = c (Z(tau)/(tau - h w^j) - T) w^j / K.
    const block = (group, count, omega, h, zTau, K, t, coef) => {
        const scale = (coef * invMod(K, r)) % r;
        return {
            group, count, kind: "lagrange", omega, h,
            a: (scale * zTau) % r, b: mod(-scale * t, r),
        };
    };
    const domainBlocks = (group, bits, coef, truncated) => {
        const t = truncated ? powMod(tau, 2n ** BigInt(bits) - 1n, r) : 0n;
        if (bits <= TWO_ADICITY) {
            const n = 2n ** BigInt(bits);
            const zTau = mod(powMod(tau, n, r) - 1n, r);
            return [block(group, 2 ** bits, c.roots[bits], 1n, zTau, n, t, coef)];
        }
        const m = 2n ** BigInt(TWO_ADICITY); // D = H u gH
        const g = c.shift;
        const gm = powMod(g, m, r);
        const tm = powMod(tau, m, r);
        const zTau = mod((tm - 1n) * (tm - gm), r);
        const w = c.roots[TWO_ADICITY];
        const count = 2 ** TWO_ADICITY;
        return [
            block(group, count, w, 1n, zTau, mod(m * (1n - gm), r), t, coef),
            block(group, count, w, g, zTau, mod(m * powMod(g, m - 1n, r) * (gm - 1n), r), t, coef),
        ];
    };
    const lagrangeSection = (id, name, group, coef, extra) => {
        const blocks = [];
        for (let bits = 0; bits <= power; bits++) {
            blocks.push(...domainBlocks(group, bits, coef, false));
        }
        if (extra) blocks.push(...domainBlocks(group, power + 1, coef, true));
        return { id, name, blocks };
    };
    sections.push(
        lagrangeSection(12, "tauG1 (Lagrange)", "G1", 1n, true),
        lagrangeSection(13, "tauG2 (Lagrange)", "G2", 1n, false),
        lagrangeSection(14, "alphaTauG1 (Lagrange)", "G1", alpha, false),
        lagrangeSection(15, "betaTauG1 (Lagrange)", "G1", beta, false),
    );
    return sections;
}

/** Split a block into worker jobs of at most CHUNK points; x0 is the chunk's first x. */
function* blockJobs(block, r) {
    for (let start = 0; start < block.count; start += CHUNK) {
        const count = Math.min(CHUNK, block.count - start);
        const offset = BigInt(start);
        if (block.kind === "geometric") {
            yield { group: block.group, kind: "geometric", count,
                x0: (block.first * powMod(block.ratio, offset, r)) % r, ratio: block.ratio };
        } else {
            yield { group: block.group, kind: "lagrange", count,
                x0: powMod(block.omega, offset, r), ratio: block.omega,
                h: block.h, a: block.a, b: block.b };
        }
    }
}

/** The window minimising table size + additions for `perWorker` points per thread. */
function bestWindow(perWorker) {
    let best = 2;
    const cost = (w) => Math.ceil(SCALAR_BITS / w) * (2 ** w + perWorker);
    for (let w = 3; w <= MAX_WINDOW; w++) if (cost(w) < cost(best)) best = w;
    return best;
}

class Pool {
    constructor(n, data) {
        this.idle = [];
        this.queue = [];
        for (let i = 0; i < n; i++) {
            const worker = new Worker(__filename, { workerData: data });
            worker.on("error", (err) => this.fail(err));
            worker.on("exit", (code) => this.fail(new Error(`worker thread exited (${code})`)));
            worker.on("message", (buff) => {
                worker.current.resolve(buff);
                this.release(worker);
            });
            this.release(worker);
        }
        this.workers = [...this.idle];
    }

    run(job) {
        return new Promise((resolve, reject) => {
            if (this.error) return reject(this.error);
            this.queue.push({ job, resolve, reject });
            this.dispatch();
        });
    }

    release(worker) {
        worker.current = null;
        this.idle.push(worker);
        this.dispatch();
    }

    dispatch() {
        while (this.idle.length && this.queue.length) {
            const worker = this.idle.pop();
            worker.current = this.queue.shift();
            worker.postMessage(worker.current.job);
        }
    }

    fail(err) {
        this.error ??= err;
        for (const w of this.workers) if (w.current) w.current.reject(err);
        for (const item of this.queue) item.reject(err);
        this.queue = [];
    }

    async close() {
        this.error ??= new Error("pool closed");
        await Promise.all(this.workers.map((w) => w.terminate()));
    }
}

function sectionSize(section) {
    if (section.bytes) return section.bytes.length;
    return section.blocks.reduce((sum, b) => sum + b.count * 2 * GROUPS[b.group].n8, 0);
}

function sectionHeader(id, size) {
    const buff = Buffer.alloc(12);
    buff.writeUInt32LE(id, 0);
    buff.writeBigUInt64LE(BigInt(size), 4);
    return buff;
}

async function main(argv) {
    const args = parseArgs(argv);
    const t0 = Date.now();
    const log = (msg) => process.stderr.write(`dev_ptau: ${msg}\n`);
    const c = await curveConstants();
    const secrets = {};
    for (const label of ["tau", "alpha", "beta"]) {
        secrets[label] = deriveSecret(args.seed, label, c.r);
        if (secrets[label] === 0n) {
            throw new Error(`seed gives ${label} = 0; choose another --seed`);
        }
    }
    // tau must avoid every domain (and the coset of power 28): tau^(2^28) not in {1, g^(2^28)}
    const m = 2n ** BigInt(TWO_ADICITY);
    const tauM = powMod(secrets.tau, m, c.r);
    if (tauM === 1n || tauM === powMod(c.shift, m, c.r)) {
        throw new Error("seed puts tau on an evaluation domain; choose another --seed");
    }

    const sections = planFile(args.power, args.lagrange, secrets, c);
    const threads = Math.max(1, os.availableParallelism());
    const points = { G1: 0, G2: 0 };
    for (const s of sections) for (const b of s.blocks) points[b.group] += b.count;
    const windows = {
        G1: bestWindow(points.G1 / threads),
        G2: bestWindow(points.G2 / threads),
    };
    log(`INSECURE setup 2^${args.power} from seed ${JSON.stringify(args.seed)}: ` +
        `${points.G1} G1 + ${points.G2} G2 points, ${threads} threads, ` +
        `windows G1 ${windows.G1} / G2 ${windows.G2} bits` +
        (args.lagrange ? "" : ", no Lagrange sections"));

    const out = path.resolve(args.out);
    const tmp = path.join(path.dirname(out),
        `.${path.basename(out)}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`);
    const fd = fs.openSync(tmp, "wx");
    let closed = false;
    const pool = new Pool(threads, {
        code: c.code, tau: secrets.tau, generators: c.generators, windows,
    });
    try {
        const head = Buffer.alloc(12);
        head.write("ptau", 0, "ascii");
        head.writeUInt32LE(1, 4); // version
        head.writeUInt32LE(sections.length + 1, 8); // + the header
        fs.writeSync(fd, head);
        const header = Buffer.alloc(44);
        header.writeUInt32LE(32, 0);
        le32(c.q).copy(header, 4);
        header.writeUInt32LE(args.power, 36);
        header.writeUInt32LE(args.power, 40);
        fs.writeSync(fd, Buffer.concat([sectionHeader(1, header.length), header]));

        for (const section of sections) {
            const ts = Date.now();
            fs.writeSync(fd, sectionHeader(section.id, sectionSize(section)));
            if (section.bytes) {
                fs.writeSync(fd, section.bytes);
                continue;
            }
            const pending = [];
            for (const block of section.blocks) {
                for (const job of blockJobs(block, c.r)) {
                    const result = pool.run(job);
                    result.catch(() => {}); // awaited in order below; a failure surfaces there
                    pending.push(result);
                    if (pending.length >= 2 * threads) fs.writeSync(fd, await pending.shift());
                }
            }
            for (const p of pending) fs.writeSync(fd, await p);
            const count = section.blocks.reduce((sum, b) => sum + b.count, 0);
            log(`section ${section.id} ${section.name}: ${count} ${section.blocks[0].group} ` +
                `points, ${((Date.now() - ts) / 1000).toFixed(1)} s`);
        }
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        closed = true;
        fs.renameSync(tmp, out);
    } catch (err) {
        if (!closed) fs.closeSync(fd);
        fs.rmSync(tmp, { force: true });
        throw err;
    } finally {
        await pool.close();
    }
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);
    log(`wrote ${out} (${fs.statSync(out).size} bytes) in ${seconds} s`);
}

// ---------------------------------------------------------------------------- worker thread

/** One instance of ffjavascript's BN254 WASM module with a growable memory. */
class Wasm {
    constructor(code) {
        this.memory = new WebAssembly.Memory({ initial: 256, maximum: 32767 });
        const module = new WebAssembly.Module(code);
        this.ex = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports;
    }

    // Word 0 is the module's free-memory pointer; its batch functions take scratch from it.
    get free() {
        return new Uint32Array(this.memory.buffer, 0, 1)[0];
    }

    set free(p) {
        new Uint32Array(this.memory.buffer, 0, 1)[0] = p;
    }

    alloc(bytes) {
        const p = (this.free + 7) & ~7;
        this.free = p + bytes;
        this.reserve(0);
        return p;
    }

    /** Make sure `bytes` of scratch exist past the free pointer (grows the memory). */
    reserve(bytes) {
        const need = this.free + bytes + 65536;
        const have = this.memory.buffer.byteLength;
        if (need > have) this.memory.grow(Math.ceil((need - have) / 65536));
    }

    view() {
        return new Uint8Array(this.memory.buffer);
    }

    setFr(p, x) {
        this.view().set(le32(x), p);
        this.ex.frm_toMontgomery(p, p);
    }
}

function workerMain() {
    const wasm = new Wasm(workerData.code);
    const tau = wasm.alloc(FR_BYTES);
    wasm.setFr(tau, workerData.tau);
    const tables = {};
    parentPort.on("message", (job) => {
        tables[job.group] ??= buildTable(wasm, job.group, workerData.windows[job.group]);
        const out = runJob(wasm, tables[job.group], job, tau);
        parentPort.postMessage(out, [out.buffer]);
    });
}

/** T_k[d] = d 2^(wk) G for k < ceil(254/w), d < 2^w, affine; built with additions only. */
function buildTable(wasm, group, w) {
    const { prefix, n8 } = GROUPS[group];
    const ex = wasm.ex;
    const sA = 2 * n8;
    const sJ = 3 * n8;
    const size = 2 ** w;
    const windows = Math.ceil(SCALAR_BITS / w);
    const table = wasm.alloc(windows * size * sA);
    const mark = wasm.free;
    const gen = wasm.alloc(sA);
    const base = wasm.alloc(sJ); // 2^(wk) G
    const row = wasm.alloc(size * sJ);
    wasm.view().set(workerData.generators[group], gen);
    ex[`${prefix}_toJacobian`](gen, base);
    for (let k = 0; k < windows; k++) {
        ex[`${prefix}_zero`](row);
        for (let d = 1; d < size; d++) ex[`${prefix}_add`](row + (d - 1) * sJ, base, row + d * sJ);
        ex[`${prefix}_add`](row + (size - 1) * sJ, base, base);
        wasm.reserve(size * sJ);
        ex[`${prefix}_batchToAffine`](row, size, table + k * size * sA);
    }
    wasm.free = mark;
    return { prefix, sA, sJ, w, windows, table };
}

/** Compute the job's scalars (standard form, little-endian) at pS. */
function computeScalars(wasm, job, pS, tau) {
    const ex = wasm.ex;
    const n = job.count;
    const x = wasm.alloc(FR_BYTES);
    const ratio = wasm.alloc(FR_BYTES);
    wasm.setFr(x, job.x0);
    wasm.setFr(ratio, job.ratio);
    if (job.kind === "geometric") {
        for (let i = 0; i < n; i++) {
            ex.frm_copy(x, pS + i * FR_BYTES);
            ex.frm_mul(x, ratio, x);
        }
    } else {
        const [h, a, b, tmp] = [job.h, job.a, job.b, 0n].map((v) => {
            const p = wasm.alloc(FR_BYTES);
            wasm.setFr(p, v);
            return p;
        });
        const den = wasm.alloc(n * FR_BYTES);
        for (let i = 0; i < n; i++) { // s_i = x_i, den_i = tau - h x_i
            ex.frm_copy(x, pS + i * FR_BYTES);
            ex.frm_mul(h, x, tmp);
            ex.frm_sub(tau, tmp, den + i * FR_BYTES);
            ex.frm_mul(x, ratio, x);
        }
        wasm.reserve((n + 1) * FR_BYTES);
        ex.frm_batchInverse(den, FR_BYTES, n, den, FR_BYTES);
        for (let i = 0; i < n; i++) { // s_i = x_i (A / den_i + B)
            ex.frm_mul(a, den + i * FR_BYTES, tmp);
            ex.frm_add(tmp, b, tmp);
            ex.frm_mul(pS + i * FR_BYTES, tmp, pS + i * FR_BYTES);
        }
    }
    ex.frm_batchFromMontgomery(pS, n, pS);
}

function runJob(wasm, t, job, tau) {
    const ex = wasm.ex;
    const n = job.count;
    const mark = wasm.free;
    const pS = wasm.alloc(n * FR_BYTES);
    computeScalars(wasm, job, pS, tau);
    const out = wasm.alloc(n * t.sJ);
    wasm.reserve(n * t.sJ);
    const addMixed = ex[`${t.prefix}_addMixed`];
    const zero = ex[`${t.prefix}_zero`];
    const u8 = wasm.view();
    const size = 2 ** t.w;
    for (let i = 0; i < n; i++) {
        const acc = out + i * t.sJ;
        const s = pS + i * FR_BYTES;
        zero(acc);
        for (let k = 0, bit = 0; k < t.windows; k++, bit += t.w) {
            // Bits bit .. bit+w-1 of s (at most 3 bytes); bits >= 254 are masked off, so
            // reading past the scalar's 32 bytes never changes the digit.
            const o = s + (bit >> 3);
            const width = Math.min(t.w, SCALAR_BITS - bit);
            const d = ((u8[o] | (u8[o + 1] << 8) | (u8[o + 2] << 16)) >>> (bit & 7)) &
                ((1 << width) - 1);
            if (d !== 0) addMixed(acc, t.table + (k * size + d) * t.sA, acc);
        }
    }
    ex[`${t.prefix}_batchToAffine`](out, n, out);
    const result = u8.slice(out, out + n * t.sA);
    wasm.free = mark;
    return result;
}

if (isMainThread) {
    main(process.argv.slice(2)).catch((err) => {
        process.stderr.write(`dev_ptau: error: ${err.message}\n`);
        process.exit(1);
    });
} else {
    workerMain();
}
