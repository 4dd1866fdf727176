// An independent Merkle root with circomlibjs Poseidon (test helper and benchmark baseline).
//
// stdin:  {"leaves": ["decimal", ...], "depth": d, "pad": "decimal"}
// stdout: {"root": "decimal", "seconds": hashing time, "hashes": count}
// Positions past the leaves hold `pad`; node = Poseidon([left, right]). `seconds` covers
// the hashing only (node start-up and parsing excluded).
"use strict";

const { buildPoseidon } = require("circomlibjs");

async function main() {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    const req = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const poseidon = await buildPoseidon();
    const F = poseidon.F;
    let level = [];
    for (let i = 0; i < 2 ** req.depth; i++) {
        level.push(F.e(BigInt(i < req.leaves.length ? req.leaves[i] : req.pad)));
    }
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
