// Test helper: Poseidon hashes from circomlibjs (the pinned npm package in ./node_modules).
//
// stdin:  JSON list of input lists, each input a decimal string, e.g. [["1","2"],["3"]]
// stdout: JSON list of the hashes as decimal strings, in the same order.
"use strict";

const { buildPoseidon } = require("circomlibjs");

async function readStdin() {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    return Buffer.concat(chunks).toString("utf8");
}

async function main() {
    const batches = JSON.parse(await readStdin());
    const poseidon = await buildPoseidon();
    const out = batches.map((inputs) => poseidon.F.toString(poseidon(inputs.map(BigInt))));
    process.stdout.write(JSON.stringify(out) + "\n");
}

main().then(
    () => process.exit(0),
    (err) => {
        console.error(err);
        process.exit(1);
    },
);
