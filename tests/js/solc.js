// Compile Solidity with the pinned solc-js: standard JSON input on stdin, standard JSON
// output on stdout (https://docs.soliditylang.org/en/latest/using-the-compiler.html).
// Prints the compiler version under "solcVersion" beside the standard output keys.
"use strict";
const solc = require("solc");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const output = JSON.parse(solc.compile(input));
  output.solcVersion = solc.version();
  process.stdout.write(JSON.stringify(output));
});
