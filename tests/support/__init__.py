"""Helpers shared by the tests: the CLI as a subprocess and in process (:mod:`.cli`), Node
(:mod:`.node`), an EVM JSON-RPC client and anvil (:mod:`.evm`), and the one small proved
exchange every verifier-side test reads (:mod:`.exchange`)."""
