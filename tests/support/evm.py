"""An EVM for the tests: anvil (the pinned npm binary, 127.0.0.1 only, a free port), the
pinned solc-js through the product's own compiler call
(:func:`zkmargin.verifier.contracts.solc_compile`, verifier/js/solc.cjs, the settings the
exporter and ``zkmargin audit --rpc`` use), and a JSON-RPC client with the few ABI types
the tests need. anvil's unlocked dev accounts send the transactions; selectors come from
solc's ``evm.methodIdentifiers`` and event/error hashes from anvil's ``web3_sha3``."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import ROOT
from zkmargin.verifier.contracts import solc_compile

ANVIL = ROOT / "node_modules" / ".bin" / "anvil"

class RevertError(Exception):
    """An eth_call / eth_estimateGas that reverted; ``data`` is the revert data (hex)."""

    def __init__(self, message: str, data: str | None) -> None:
        super().__init__(f"{message} data={data}")
        self.data = data or "0x"


@dataclass(frozen=True)
class Dyn:
    """A dynamic array of 32-byte words (``bytes32[]``) in an ABI argument list."""

    words: Sequence[int | bytes]


def word(v: int | bytes | str) -> bytes:
    if isinstance(v, bytes):
        assert len(v) == 32
        return v
    if isinstance(v, str):
        return bytes.fromhex(v.removeprefix("0x")).rjust(32, b"\0")
    assert 0 <= v < 1 << 256
    return v.to_bytes(32, "big")


def flat(v: Any) -> list[bytes]:
    return [w for x in v for w in flat(x)] if isinstance(v, list | tuple) else [word(v)]


def abi_encode(*args: Any) -> bytes:
    """Static types (uint256, bytes32, nested fixed arrays of them) and ``Dyn`` arrays."""
    heads = [len(flat(a)) if not isinstance(a, Dyn) else 1 for a in args]
    offset = 32 * sum(heads)
    head, tail = b"", b""
    for a in args:
        if isinstance(a, Dyn):
            head += word(offset + len(tail))
            tail += word(len(a.words)) + b"".join(word(w) for w in a.words)
        else:
            head += b"".join(flat(a))
    return head + tail


def words(data: str) -> list[int]:
    raw = bytes.fromhex(data.removeprefix("0x"))
    return [int.from_bytes(raw[i:i + 32], "big") for i in range(0, len(raw), 32)]


class Rpc:
    def __init__(self, url: str) -> None:
        self.url = url
        self._id = 0

    def __call__(self, method: str, *params: Any) -> Any:
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method,
                           "params": list(params)}).encode()
        req = urllib.request.Request(self.url, body, {"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            doc = json.loads(resp.read())
        if "error" in doc:
            err = doc["error"]
            if "revert" in str(err.get("message", "")).lower() or "data" in err:
                raise RevertError(str(err.get("message")), err.get("data"))
            raise RuntimeError(f"{method}: {err}")
        return doc["result"]

    def keccak(self, text: str) -> str:
        result: str = self("web3_sha3", "0x" + text.encode().hex())
        return result

    def selector(self, signature: str) -> str:
        return self.keccak(signature)[:10]


@dataclass
class Chain:
    rpc: Rpc
    accounts: list[str]
    solc: dict[str, Any]  # contract name -> {"abi", "bytecode", "methods"}
    solc_version: str
    hardfork: str

    def tx(self, to: str | None, data: bytes, *, sender: int = 0,
           gas: int | None = None) -> dict[str, Any]:
        """Send a transaction from dev account ``sender``; return its receipt."""
        t: dict[str, Any] = {"from": self.accounts[sender], "data": "0x" + data.hex()}
        if to is not None:
            t["to"] = to
        if gas is not None:
            t["gas"] = hex(gas)
        h = self.rpc("eth_sendTransaction", t)
        for _ in range(200):
            receipt: dict[str, Any] | None = self.rpc("eth_getTransactionReceipt", h)
            if receipt is not None:
                return receipt
            time.sleep(0.05)
        raise AssertionError(f"no receipt for {h}")

    def call(self, to: str, data: bytes, *, sender: int = 0, gas: int | None = None) -> str:
        t: dict[str, Any] = {"from": self.accounts[sender], "to": to, "data": "0x" + data.hex()}
        if gas is not None:
            t["gas"] = hex(gas)
        out: str = self.rpc("eth_call", t, "latest")
        return out

    def estimate(self, to: str, data: bytes, *, sender: int = 0) -> int:
        return int(self.rpc("eth_estimateGas", {"from": self.accounts[sender], "to": to,
                                                "data": "0x" + data.hex()}), 16)

    def calldata(self, contract: str, signature: str, *args: Any) -> bytes:
        sel = self.solc[contract]["methods"][signature]
        return bytes.fromhex(sel) + abi_encode(*args)

    def deploy(self, contract: str, *args: Any) -> str:
        code = bytes.fromhex(self.solc[contract]["bytecode"]) + abi_encode(*args)
        receipt = self.tx(None, code)
        assert int(receipt["status"], 16) == 1, receipt
        address: str = receipt["contractAddress"]
        return address


def expect_revert(fn: Any, *args: Any, **kw: Any) -> str:
    """Call ``fn``; it must revert. Return the revert data."""
    with pytest.raises(RevertError) as info:
        fn(*args, **kw)
    return info.value.data



CONTRACT_FILES = ("Groth16Verifier.sol", "SolvencyRegistry.sol")


def compile_sources(sol: Path, names: Sequence[str] = CONTRACT_FILES) -> dict[str, Any]:
    """Compile the Solidity files ``names`` of ``sol`` with the pinned solc-js; warnings fail."""
    return compile_texts({name: (sol / name).read_text() for name in names})


def compile_texts(sources: dict[str, str]) -> dict[str, Any]:
    """Compile Solidity sources (name -> text) as the product does; warnings fail."""
    out = solc_compile(sources, ("abi", "evm.bytecode.object", "evm.methodIdentifiers",
                                 "evm.deployedBytecode.object"))
    problems = [e["formattedMessage"] for e in out.get("errors", [])]
    assert not problems, "\n".join(problems)  # warnings included: the sources compile clean
    return out


@contextmanager
def anvil(log_dir: Path) -> Iterator[Rpc]:
    """A fresh anvil on a free loopback port; killed on exit."""
    if not ANVIL.exists():
        pytest.fail("node_modules/.bin/anvil is missing: run `make setup` (npm ci)")
    log_path = log_dir / "anvil.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([str(ANVIL), "--host", "127.0.0.1", "--port", "0"],
                                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"anvil exited ({proc.returncode}): {log_path.read_text()[-2000:]}")
            m = re.search(r"Listening on 127\.0\.0\.1:(\d+)", log_path.read_text())
            port = int(m.group(1)) if m else None
            time.sleep(0.05)
        assert port is not None, f"anvil did not start: {log_path.read_text()[-2000:]}"
        yield Rpc(f"http://127.0.0.1:{port}")
    finally:
        proc.kill()
        proc.wait(timeout=30)



def contracts_of(out: dict[str, Any]) -> dict[str, Any]:
    """Contract name -> {"abi", "bytecode", "deployed", "methods"} of a solc output."""
    solc = {}
    for contracts in out["contracts"].values():
        for name, c in contracts.items():
            solc[name] = {"abi": c["abi"], "bytecode": c["evm"]["bytecode"]["object"],
                          "deployed": c["evm"]["deployedBytecode"]["object"],
                          "methods": c["evm"]["methodIdentifiers"]}
    return solc


def connect(rpc: Rpc, sol: Path) -> Chain:
    """A :class:`Chain` on ``rpc`` with the contracts of ``sol`` compiled."""
    out = compile_sources(sol)
    node = rpc("anvil_nodeInfo")
    return Chain(rpc, rpc("eth_accounts"), contracts_of(out), out["solcVersion"],
                 node["hardFork"])
