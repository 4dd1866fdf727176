"""The C++ and WASM witness calculators agree byte for byte and reject the same cheats."""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.circuit_helpers import BATCH, compiled, vector_accounts
from tests.test_circuit import account
from zkmargin.errors import ZkMarginError
from zkmargin.field import SNARK_FIELD
from zkmargin.fixed import I63
from zkmargin.prover.binfmt import read_wtns
from zkmargin.prover.toolchain import (
    CIRCUIT_CFLAGS,
    CPP_FAILED,
    CompiledCircuit,
    CppUnavailableError,
    Engine,
    ToolchainError,
    build_witness_binary,
    calculate_witness,
    circuit_cflags,
)
from zkmargin.prover.witness import BatchAccount, plan_batch

pytestmark = [pytest.mark.node, pytest.mark.circuit]


def both(inputs: dict[str, Any], tmp: Path) -> tuple[bytes, bytes]:
    """The ``.wtns`` bytes from the C++ and from the WASM calculator."""
    c = compiled().circuit
    cpp = calculate_witness(c, inputs, tmp / "cpp.wtns", engine="cpp").read_bytes()
    wasm = calculate_witness(c, inputs, tmp / "wasm.wtns", engine="wasm").read_bytes()
    return cpp, wasm


def plan(index: int, accounts: list[BatchAccount]) -> dict[str, Any]:
    c = compiled()
    return plan_batch(c.params, c.shape, index, accounts).inputs


@pytest.mark.parametrize("start", range(0, 8, BATCH))
def test_vector_batches_identical(start: int, tmp_path: Path) -> None:
    cpp, wasm = both(plan(start // BATCH, vector_accounts()[start : start + BATCH]), tmp_path)
    assert cpp == wasm
    assert read_wtns(tmp_path / "cpp.wtns")[compiled().sym["main.commitment"]] != 0


@settings(max_examples=8, deadline=None)
@given(st.lists(account(), min_size=1, max_size=BATCH), st.integers(0, 2**32))
def test_random_batches_identical(accounts: list[BatchAccount], index: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cpp, wasm = both(plan(index, accounts), Path(tmp))
    assert cpp == wasm


def cheat(path: tuple[Any, ...], value: int) -> dict[str, Any]:
    inputs = copy.deepcopy(plan(0, vector_accounts()[:3]))
    node = inputs
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = str(value % SNARK_FIELD)
    return inputs


CHEATS: dict[str, tuple[Callable[[], dict[str, Any]], str, str]] = {
    # (inputs, the template whose assert fails, a template enclosing it)
    "balance-2^63": (lambda: cheat(("x", 0, 0), I63), "Num2Bits", "SignedInt64"),
    "perp-cost--2^63": (lambda: cheat(("c", 2, 0), -I63), "SignedInt64", "AccountMargin"),
    "selector-not-boolean": (lambda: cheat(("sel", 2, 0, 0), 2), "AccountMargin", "Batch"),
}


@pytest.mark.parametrize("engine", ["cpp", "wasm"])
@pytest.mark.parametrize("name", sorted(CHEATS))
def test_cheats_rejected_by_both(name: str, engine: Engine, tmp_path: Path) -> None:
    make, failing, enclosing = CHEATS[name]
    out = tmp_path / "w.wtns"
    with pytest.raises(ToolchainError) as info:
        calculate_witness(compiled().circuit, make(), out, engine=engine)
    msg = info.value.stderr
    # what circuit_helpers.rejected (the soundness suite) looks for, with either engine
    assert "Assert Failed" in msg
    assert f"Error in template {failing}_" in msg
    assert f"Error in template {enclosing}_" in msg
    if engine == "cpp":  # the C++ binary itself refused (its own message, before WASM's)
        assert msg.index(f"Failed assert in template/function {failing}") < msg.index(
            "Assert Failed")
        assert info.value.cmd[0] == str(compiled().circuit.cpp_binary)
    assert not out.exists()


def copy_circuit(tmp_path: Path) -> CompiledCircuit:
    """A private copy of the compiled test circuit without its C++ binary."""
    src = compiled().circuit
    dst = tmp_path / src.directory.name
    shutil.copytree(src.directory, dst, ignore=shutil.ignore_patterns(
        ".cpp-build*", CPP_FAILED, "*.o"))
    (dst / src.cpp_binary.relative_to(src.directory)).unlink(missing_ok=True)
    return CompiledCircuit(src.shape, dst)


def test_cpp_marked_failed_raises_clear_error(tmp_path: Path) -> None:
    c = copy_circuit(tmp_path)
    c.cpp_failure.write_text("fatal error: nlohmann/json.hpp: No such file or directory\n")
    inputs = plan(0, vector_accounts()[:2])
    with pytest.raises(CppUnavailableError) as info:
        calculate_witness(c, inputs, tmp_path / "w.wtns", engine="cpp")
    msg = str(info.value)
    assert "nlohmann/json.hpp" in msg
    assert "nlohmann-json3-dev" in msg and "make setup" in msg
    assert f"delete {c.cpp_failure}" in msg
    assert not c.cpp_binary.exists()  # recorded failure: no rebuild attempted
    # auto falls back to WASM, with a warning, and still gives the same witness
    with pytest.warns(RuntimeWarning, match="using WASM"):
        auto = calculate_witness(c, inputs, tmp_path / "auto.wtns", engine="auto")
    wasm = calculate_witness(c, inputs, tmp_path / "wasm.wtns", engine="wasm")
    assert auto.read_bytes() == wasm.read_bytes()


def test_failed_build_is_recorded_once(tmp_path: Path) -> None:
    c = copy_circuit(tmp_path)
    makefile = c.cpp_dir / "Makefile"
    makefile.write_text(makefile.read_text().replace("CC=g++", "CC=./no-such-compiler", 1))
    with pytest.raises(CppUnavailableError, match="no-such-compiler"):
        build_witness_binary(c)
    assert "no-such-compiler" in c.cpp_failure.read_text()
    assert not c.cpp_binary.exists()
    assert not list(c.directory.glob(".cpp-build-*"))  # the temporary build dir is gone
    started = time.monotonic()
    with pytest.raises(CppUnavailableError, match="earlier attempt"):
        build_witness_binary(c)
    assert time.monotonic() - started < 1.0


def test_engine_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    c = compiled().circuit
    inputs = plan(0, vector_accounts()[:1])
    with pytest.raises(ZkMarginError, match="engine must be one of"):
        calculate_witness(c, inputs, tmp_path / "w.wtns", engine="gpu")  # type: ignore[arg-type]
    monkeypatch.setenv("ZKMARGIN_WITNESS_ENGINE", "native")
    with pytest.raises(ZkMarginError, match="ZKMARGIN_WITNESS_ENGINE"):
        calculate_witness(c, inputs, tmp_path / "w.wtns")
    monkeypatch.setenv("ZKMARGIN_WITNESS_ENGINE", "wasm")
    assert calculate_witness(c, inputs, tmp_path / "w.wtns").exists()


def test_circuit_cflags_default_to_circom_and_follow_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Production builds circuit.cpp with circom's -O3; the suite (conftest) asks for -O1."""
    assert os.environ["ZKMARGIN_CPP_CFLAGS"] == "-std=c++11 -O1 -I."
    assert circuit_cflags() == "-std=c++11 -O1 -I."
    monkeypatch.delenv("ZKMARGIN_CPP_CFLAGS")
    assert circuit_cflags() == CIRCUIT_CFLAGS == "-std=c++11 -O3 -I."
    monkeypatch.setenv("ZKMARGIN_CPP_CFLAGS", "")
    assert circuit_cflags() == CIRCUIT_CFLAGS
