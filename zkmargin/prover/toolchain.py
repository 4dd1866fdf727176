"""The pinned circom/snarkjs toolchain from ./node_modules, run as subprocesses.

Circuits are compiled per shape ``(A, P, L, DEPTH)`` into a cache directory keyed by a
content hash of the template sources, the shape and the compiler version, so a second
use of the same shape compiles nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from zkmargin.circuit_inputs import CircuitShape
from zkmargin.errors import ZkMarginError

ROOT = Path(__file__).resolve().parents[2]
CIRCUITS = ROOT / "circuits" / "lib"
NODE_MODULES = ROOT / "node_modules"
CACHE = Path(os.environ.get("ZKMARGIN_CACHE", ROOT / ".cache"))
COMPILE_TIMEOUT = 1800
WITNESS_TIMEOUT = 600


class ToolchainError(ZkMarginError):
    """A toolchain subprocess failed; carries its command and stderr."""

    def __init__(self, what: str, cmd: list[str], stderr: str) -> None:
        self.cmd = cmd
        self.stderr = stderr
        super().__init__(f"{what} failed: {' '.join(cmd)}\n{stderr.strip()[-3000:]}")


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise ZkMarginError("node is not on PATH; Node 20 is required (run `make setup`)")
    return node


def _tool(package: str, script: str) -> Path:
    path = NODE_MODULES / package / script
    if not path.exists():
        raise ZkMarginError(f"{path} is missing: run `make setup` (npm ci) first")
    return path


def run(what: str, cmd: list[str], *, cwd: Path | None = None, timeout: float) -> str:
    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              check=True)
    except subprocess.CalledProcessError as exc:
        raise ToolchainError(what, cmd, exc.stderr + exc.stdout) from None
    except subprocess.TimeoutExpired:
        raise ToolchainError(what, cmd, f"timed out after {timeout} s") from None
    return proc.stdout


@cache
def circom_version() -> str:
    out = run("circom --version", [_node(), str(_tool("circom2", "cli.js")), "--version"],
              timeout=120)
    return " ".join(out.split())


@dataclass(frozen=True)
class CompiledCircuit:
    shape: CircuitShape
    directory: Path

    @property
    def r1cs(self) -> Path:
        return self.directory / "main.r1cs"

    @property
    def wasm(self) -> Path:
        return self.directory / "main_js" / "main.wasm"

    @property
    def sym(self) -> Path:
        return self.directory / "main.sym"

    @property
    def info(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.directory / "info.json").read_text())
        return data


def circuit_id(shape: CircuitShape, version: str) -> str:
    h = hashlib.sha256()
    for src in sorted(CIRCUITS.glob("*.circom")):
        h.update(src.name.encode() + b"\0" + src.read_bytes() + b"\0")
    h.update(json.dumps([shape.assets, shape.perps, shape.brackets, shape.depth]).encode())
    h.update(version.encode())
    return h.hexdigest()[:16]


def main_source(shape: CircuitShape) -> str:
    return (
        "pragma circom 2.1.6;\n"
        'include "batch.circom";\n'
        f"component main = Batch({shape.assets}, {shape.perps}, {shape.brackets}, "
        f"{shape.depth});\n"
    )


def compile_circuit(shape: CircuitShape) -> CompiledCircuit:
    """Compile (or reuse) the batch circuit of ``shape``; returns its cache directory."""
    version = circom_version()
    cid = circuit_id(shape, version)
    name = f"batch-{shape.assets}-{shape.perps}-{shape.brackets}-{shape.depth}-{cid}"
    target = CACHE / "circuits" / name
    if (target / "info.json").exists():
        return CompiledCircuit(shape, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    try:
        # circom2 (WASI) cannot follow symlinks or -l paths outside its working directory
        shutil.copytree(_tool("circomlib", "circuits"), work / "circomlib" / "circuits")
        for src in CIRCUITS.glob("*.circom"):
            shutil.copy(src, work / src.name)
        (work / "main.circom").write_text(main_source(shape))
        out = run("circom compile",
                  [_node(), str(_tool("circom2", "cli.js")), "main.circom", "--r1cs", "--wasm",
                   "--sym", "--O2", "-o", "."], cwd=work, timeout=COMPILE_TIMEOUT)
        stats = {}
        for line in out.splitlines():
            clean = line.replace("\x1b[32m", "").replace("\x1b[0m", "")
            if ":" in clean:
                key, _, val = clean.partition(":")
                if val.strip().isdigit():
                    stats[key.strip()] = int(val.strip())
        info = {"shape": [shape.assets, shape.perps, shape.brackets, shape.depth],
                "circuit_id": cid, "compiler": version, "stats": stats}
        (work / "info.json").write_text(json.dumps(info, indent=2))
        shutil.rmtree(work / "circomlib")
        try:
            work.rename(target)
        except OSError:  # a concurrent build won: use it
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return CompiledCircuit(shape, target)


def calculate_witness(circuit: CompiledCircuit, inputs: dict[str, Any], out: Path) -> Path:
    """Run the circuit's WASM witness calculator (snarkjs ``wtns calculate``)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=out.parent, delete=False) as fh:
        json.dump(inputs, fh)
        input_path = Path(fh.name)
    try:
        run("witness calculation",
            [_node(), str(_tool("snarkjs", "build/cli.cjs")), "wtns", "calculate",
             str(circuit.wasm), str(input_path), str(out)], timeout=WITNESS_TIMEOUT)
    finally:
        input_path.unlink(missing_ok=True)
    return out
