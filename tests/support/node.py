"""Node helpers of tests/js, fed JSON on stdin."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from tests.support.cli import ROOT

SNARKJS = ["node", str(ROOT / "node_modules" / "snarkjs" / "build" / "cli.cjs")]


def run_node(script: str, payload: Any, timeout: float = 300) -> Any:
    """Run a Node helper from tests/js with JSON on stdin; return its JSON stdout."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "circomlibjs").is_dir():
        pytest.fail("node and the pinned npm packages are required: run `make setup`")
    proc = subprocess.run(
        [node, str(ROOT / "tests" / "js" / script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"node {script} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)
