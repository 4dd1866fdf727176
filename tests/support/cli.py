"""The ``zkmargin`` command line, run as a user runs it: a subprocess of this Python."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ZKMARGIN = [sys.executable, "-m", "zkmargin.cli"]


def zk(*args: str, timeout: float = 1800, env: dict[str, str] | None = None,
       python_flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run ``zkmargin ARGS`` (``python_flags`` such as ``-O`` go to the interpreter)."""
    return subprocess.run([sys.executable, *python_flags, "-m", "zkmargin.cli", *args],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          check=False, env=env)


def zk_json(*args: str) -> dict[str, Any]:
    """Run ``zkmargin ARGS --json``; it must succeed; its one JSON object."""
    proc = zk(*args, "--json")
    if proc.returncode != 0:
        raise AssertionError(f"zkmargin {' '.join(args)} failed ({proc.returncode}): "
                             f"{proc.stderr[-3000:]}")
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc
