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

Field elements are decimal strings (as snarkjs writes them); totals are exact integers in
the units of ``zkmargin check --json``. Every file is written atomically (temp + rename),
and ``batch.json`` is the last file of a batch, so its presence marks a finished batch.
The manifest is written last of all: a directory without one is an unfinished run.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkmargin.atomic import write_text_atomic
from zkmargin.circuit_inputs import BatchTotals, to_field
from zkmargin.commitments import fold_hash

FORMAT = "zkmargin-artifacts/1"
MANIFEST = "manifest.json"
PARAMS = "params.json"
CIRCUIT_DIR = "circuit"
BATCHES_DIR = "batches"
TREE_LEVELS = "tree/levels.json"
PRIVATE_DIR = "private"
INDEX_DB = "private/inclusion.sqlite"
SALT_SECRET = "private/salt_secret"
RUN_STATE = "private/run.json"


def batch_dir(root: Path, index: int) -> Path:
    return root / BATCHES_DIR / f"{index:06d}"


def write_json(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def totals_json(totals: BatchTotals, symbols: Sequence[str]) -> dict[str, Any]:
    """Totals in the key layout and units of ``zkmargin check --json``."""
    return {
        "accounts": totals.accounts,
        "deficient": totals.deficient,
        "equity_total": totals.equity,
        "requirement_total": totals.requirement,
        "shortfall_total": totals.shortfall,
        "assets": {s: {"liabilities": totals.liabilities[a], "debts": totals.debts[a]}
                   for a, s in enumerate(symbols)},
    }


def totals_from_json(data: dict[str, Any], symbols: Sequence[str]) -> BatchTotals:
    return BatchTotals(
        accounts=int(data["accounts"]),
        deficient=int(data["deficient"]),
        equity=int(data["equity_total"]),
        requirement=int(data["requirement_total"]),
        shortfall=int(data["shortfall_total"]),
        liabilities=tuple(int(data["assets"][s]["liabilities"]) for s in symbols),
        debts=tuple(int(data["assets"][s]["debts"]) for s in symbols),
    )


def sum_totals(parts: Iterable[BatchTotals], n_assets: int) -> BatchTotals:
    acc = [0] * 5
    liab, debt = [0] * n_assets, [0] * n_assets
    for t in parts:
        for k, v in enumerate((t.accounts, t.deficient, t.equity, t.requirement, t.shortfall)):
            acc[k] += v
        for a in range(n_assets):
            liab[a] += t.liabilities[a]
            debt[a] += t.debts[a]
    return BatchTotals(acc[0], acc[1], acc[2], acc[3], acc[4], tuple(liab), tuple(debt))


def batch_commitment(index: int, root: int, params_hash: int, totals: BatchTotals) -> int:
    """The batch's one public signal, as the circuit computes it."""
    return fold_hash([index, root, params_hash, *totals.fields()])


@dataclass(frozen=True)
class BatchRecord:
    """The content of ``batch.json``."""

    index: int
    root: int
    params_hash: int
    totals: BatchTotals
    commitment: int

    def to_json(self, symbols: Sequence[str]) -> dict[str, Any]:
        return {
            "index": self.index,
            "root": str(self.root),
            "params_hash": str(self.params_hash),
            "totals": totals_json(self.totals, symbols),
            "commitment": str(self.commitment),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], symbols: Sequence[str]) -> BatchRecord:
        return cls(
            index=int(data["index"]),
            root=int(data["root"]),
            params_hash=int(data["params_hash"]),
            totals=totals_from_json(data["totals"], symbols),
            commitment=int(data["commitment"]),
        )


def signed_field(v: int) -> str:
    return str(to_field(v))


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
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path)
        self.db.executescript(self.SCHEMA)

    def batch_rows(self, batch: int) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM accounts WHERE batch = ?", (batch,)).fetchone()
        return int(row[0])

    def put_batch(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert one batch's rows in one transaction (all or nothing)."""
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
