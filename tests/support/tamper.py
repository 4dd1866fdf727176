"""Forging artifacts as a cheating exchange would, and asserting the audit's refusal.

Every audit failure is asserted twice: under plain ``python`` and under ``python -O``
(which strips ``assert`` statements), so no check of the audit can be an ``assert``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.cli import zk
from zkmargin.artifacts import public_files, sha256_file


def rehash(art: Path) -> None:
    """Rewrite the manifest's sha256 list to match the (tampered) files."""
    manifest = json.loads((art / "manifest.json").read_text())
    manifest["files"] = {p.relative_to(art).as_posix(): sha256_file(p) for p in public_files(art)}
    (art / "manifest.json").write_text(json.dumps(manifest, indent=1))


def edit_json(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=1))


def audit_fails(art: Path, check: str, file: str, *args: str) -> str:
    """``zkmargin audit ART --json ARGS`` exits 1 naming ``check`` and ``file``, with and
    without ``-O``; returns the error text."""
    errors = set()
    for flags in ((), ("-O",)):
        proc = zk("audit", str(art), "--json", *args, python_flags=flags)
        assert proc.returncode == 1, (flags, proc.stdout, proc.stderr[-2000:])
        doc = json.loads(proc.stdout)
        assert doc["valid"] is False
        assert (doc["check"], doc["file"]) == (check, file), (flags, doc)
        assert f"{file}: check '{check}' failed" in proc.stderr
        assert "Traceback" not in proc.stderr
        errors.add(str(doc["error"]))
    assert len(errors) == 1, errors
    return errors.pop()


def audit_json(art: Path, *args: str) -> dict[str, Any]:
    """``zkmargin audit ART --json ARGS`` must pass (exit 0); its report."""
    proc = zk("audit", str(art), "--json", *args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc
