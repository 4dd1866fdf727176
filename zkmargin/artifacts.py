"""The artifact directory written by ``zkmargin prove`` (fixed layout, read by the auditor).

::

    DIR/manifest.json                      versions, shape, params hash, root, counts, totals,
                                           insecure_setup, sha256 of every public file
    DIR/params.json                        the risk parameters (canonical JSON)
    DIR/circuit/verification_key*.json     named by the manifest; INSECURE in the name for a
                                           development setup
    DIR/batches/NNNNNN/proof.json          Groth16 proof (snarkjs JSON)
    DIR/batches/NNNNNN/public.json         its one public signal, the batch commitment
    DIR/batches/NNNNNN/batch.json          index, subtree root, params hash, totals, commitment
    DIR/tree/levels.json                   batch roots and every level above them
    DIR/private/                           NOT to be published: the salt secret, the
                                           inclusion index (id, salt, values, leaf, path of
                                           every account) and the run state

The content of the public files (manifest, batch records, tree levels) is the public
statement, modelled in :mod:`zkmargin.statement`; this module knows where the files are.
Field elements are decimal strings (as snarkjs writes them); totals are exact integers in
the units of ``zkmargin check --json``. Every file is written atomically (temp + rename),
and ``batch.json`` is the last file of a batch, so its presence marks a finished batch.
The manifest is written last of all: a directory without one is an unfinished run.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from zkmargin.atomic import PRIVATE, write_text_atomic

MANIFEST = "manifest.json"
COMMITMENT = "commitment.json"  # `zkmargin commit`: the root, published before the proofs
PARAMS = "params.json"
CIRCUIT_DIR = "circuit"
BATCHES_DIR = "batches"
TREE_LEVELS = "tree/levels.json"
PRIVATE_DIR = "private"
INDEX_DB = "private/inclusion.sqlite"
SALT_SECRET = "private/salt_secret"
RUN_STATE = "private/run.json"
WORK_DIR = "private/work"  # temporary witness files of the running batches


def batch_rel(index: int) -> str:
    """``batches/NNNNNN``: the directory of batch ``index`` inside the artifacts."""
    return f"{BATCHES_DIR}/{index:06d}"


def batch_dir(root: Path, index: int) -> Path:
    return root / batch_rel(index)


def write_json(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class InclusionIndex:
    """``private/inclusion.sqlite``: what each account holder needs, one row per account."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS accounts (
        id TEXT PRIMARY KEY,
        batch INTEGER NOT NULL,
        position INTEGER NOT NULL,
        salt TEXT NOT NULL,
        id_hash TEXT NOT NULL,
        leaf TEXT NOT NULL,
        balances TEXT NOT NULL,   -- JSON list of exact integers (amount x 1e8)
        qty TEXT NOT NULL,        -- JSON list (contracts x 1e8)
        cost TEXT NOT NULL,       -- JSON list (USD x 1e8)
        path TEXT NOT NULL        -- JSON list of siblings inside the batch, leaf level first
    );
    CREATE INDEX IF NOT EXISTS accounts_batch ON accounts (batch);
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # every account's id, salt and balances: readable by the exchange only
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE))
        path.chmod(PRIVATE)
        self.db = sqlite3.connect(path)
        # WAL: a commit is one append, not a rewrite; NORMAL: durable across a killed
        # process (a lost machine may drop the last commits, which a resume recomputes)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(self.SCHEMA)

    def batch_rows(self, batch: int) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM accounts WHERE batch = ?", (batch,)).fetchone()
        return int(row[0])

    def put_batch(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows (one batch's, or several whole batches') in one transaction: all or
        nothing."""
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def close(self) -> None:
        self.db.close()


def public_files(root: Path) -> list[Path]:
    """Every file of the artifacts except the manifest itself, private/ and temp files."""
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if not p.is_file() or rel.parts[0] == PRIVATE_DIR or rel.as_posix() == MANIFEST:
            continue
        if p.name.startswith("."):
            continue
        out.append(p)
    return out
