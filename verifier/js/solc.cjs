// Compile Solidity with the pinned solc-js: standard JSON input on stdin, standard JSON
// output on stdout (https://docs.soliditylang.org/en/latest/using-the-compiler.html).
// Prints the compiler version under "solcVersion" beside the standard output keys.
//
//   node solc.cjs [SOLC_PACKAGE_DIR]   (default: the "solc" package Node resolves from here)
//
// zkmargin/verifier/contracts.py (`solc_compile`) runs it with the pinned package of
// node_modules, for `zkmargin contracts export`, `zkmargin audit --rpc` and the tests.
"use strict";
const solc = require(process.argv[2] || "solc");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const output = JSON.parse(solc.compile(input));
  output.solcVersion = solc.version();
  process.stdout.write(JSON.stringify(output));
});
