// Baseline for bench_merkle.py: build a Poseidon Merkle tree with circomlibjs.
// stdin: {"leaves": ["decimal", ...]} (a power of two); stdout: {"root", "seconds", "hashes"}.
"use strict";

const { buildPoseidon } = require("circomlibjs");

async function main() {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    const req = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const poseidon = await buildPoseidon();
    const F = poseidon.F;
    let level = req.leaves.map((x) => F.e(BigInt(x)));
    const t0 = process.hrtime.bigint();
    let hashes = 0;
    while (level.length > 1) {
        const next = [];
        for (let i = 0; i < level.length; i += 2) next.push(poseidon([level[i], level[i + 1]]));
        hashes += next.length;
        level = next;
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    process.stdout.write(JSON.stringify({ root: F.toString(level[0]), seconds, hashes }) + "\n");
}

main().then(
    () => process.exit(0),
    (err) => {
        console.error(err);
        process.exit(1);
    },
);
