"""`zkmargin circuit info`: the constraint split adds up and matches the compiled r1cs."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from zkmargin.cli import main
from zkmargin.prover.binfmt import read_r1cs
from zkmargin.prover.toolchain import compile_circuit
from zkmargin.statement import CircuitShape

pytestmark = [pytest.mark.node, pytest.mark.circuit]


def test_info_json_matches_the_r1cs_files() -> None:
    res = CliRunner().invoke(main, ["circuit", "info", "--assets", "2", "--perps", "2",
                                    "--brackets", "3", "--batch-size", "4", "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    four = read_r1cs(compile_circuit(CircuitShape(2, 2, 3, 2)).r1cs)
    one = read_r1cs(compile_circuit(CircuitShape(2, 2, 3, 0)).r1cs)
    assert info["constraints"] == len(four.constraints)
    assert info["wires"] == four.n_wires
    assert info["per_account"] == round((len(four.constraints) - len(one.constraints)) / 3)
    assert info["batch_overhead"] == info["constraints"] - 4 * info["per_account"]
    power = info["ptau_power"]
    assert 2 ** power >= info["constraints"] + 2 > 2 ** (power - 1)
    assert four.n_outputs == 1 and four.n_pub_inputs == 0  # one public signal


def test_info_rejects_a_batch_size_that_is_not_a_power_of_two() -> None:
    res = CliRunner().invoke(main, ["circuit", "info", "--assets", "2", "--perps", "1",
                                    "--brackets", "2", "--batch-size", "3"])
    assert res.exit_code == 2
    assert "must be a power of two (1, 2, 4, ...), got 3" in res.output
