"""Account holders: export one account's inclusion proof, and verify it.

The exported file holds what the holder needs and nothing about anyone else: their id
and salt, their balances and positions (decimal strings, exact), their leaf, the Merkle
path from the leaf to the published root (siblings, leaf level first), the leaf's index,
the batch index and count, the batch size, the root and the params hash.

``verify`` recomputes the id hash from the id and salt, the leaf from the values written
in the file, the root from the path, and checks the batch index against the batch count;
given the artifacts, it also checks the root and params hash against the manifest, the
batch root against ``batch.json``, and verifies that batch's Groth16 proof.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkmargin import artifacts
from zkmargin.atomic import write_text_atomic
from zkmargin.commitments import account_id_digest, account_leaf, id_hash
from zkmargin.errors import ValueRangeError, ZkMarginError
from zkmargin.fixed import format_fixed, parse_fixed
from zkmargin.merkle import root_from_path
from zkmargin.params import load_params
from zkmargin.report import group_digits
from zkmargin.statement import Manifest, read_json, read_levels

FORMAT = "zkmargin-inclusion/1"


class InclusionError(ZkMarginError):
    """A failed inclusion check; ``check`` names it."""

    def __init__(self, check: str, reason: str) -> None:
        self.check = check
        super().__init__(f"check '{check}' failed: {reason}")


def export(directory: Path, account_id: str, out: Path) -> dict[str, Any]:
    """Write ``out`` for ``account_id`` from the artifacts' private inclusion index."""
    db_path = directory / artifacts.INDEX_DB
    if not db_path.is_file():
        raise ZkMarginError(f"{db_path}: no inclusion index (is {directory} the output of "
                            "`zkmargin prove`, with its private/ directory?)")
    manifest = Manifest.read(directory / artifacts.MANIFEST)
    params = load_params(directory / artifacts.PARAMS)
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        row = db.execute("SELECT batch, position, salt, leaf, balances, qty, cost, path "
                         "FROM accounts WHERE id = ?", (account_id,)).fetchone()
    if row is None:
        raise ZkMarginError(f"{db_path}: no account with id {account_id!r}")
    batch, position, salt, leaf, bal, qty, cost, path = row
    levels = directory / artifacts.TREE_LEVELS
    top = read_levels(read_json(levels), file=str(levels))
    k = manifest.shape.batch_size
    perps = {p: {"qty": format_fixed(q), "cost": format_fixed(c)}
             for p, q, c in zip(params.perp_symbols, json.loads(qty), json.loads(cost),
                                strict=True)}
    doc = {
        "format": FORMAT,
        "account_id": account_id,
        "salt": salt,
        "balances": {s: format_fixed(v)
                     for s, v in zip(params.asset_symbols, json.loads(bal), strict=True)},
        "positions": perps,
        "leaf": leaf,
        "leaf_index": batch * k + position,
        "path": [*json.loads(path), *(str(v) for v in top.path(batch))],
        "batch_index": batch,
        "batch_count": manifest.batches,
        "batch_size": k,
        "root": str(manifest.root),
        "params_hash": str(manifest.params_hash),
        "insecure_setup": manifest.insecure_setup,
    }
    write_text_atomic(out, json.dumps(doc, indent=1) + "\n")
    return doc


@dataclass(frozen=True)
class Verdict:
    account_id: str
    balances: dict[str, str]
    positions: dict[str, dict[str, str]]
    root: int
    batch_index: int
    batch_count: int
    proof_checked: bool
    insecure_setup: bool

    def sentence(self) -> str:
        held = [f"{s} {_show(v)}" for s, v in self.balances.items() if parse_fixed(v) != 0]
        held += [f"{p} position {_show(v['qty'])} (cost {_show(v['cost'])} USD)"
                 for p, v in self.positions.items() if parse_fixed(v["qty"]) != 0]
        text = (f"Account {self.account_id} with {', '.join(held) or 'no balances'} is included "
                f"in root 0x{self.root:064x}, batch {self.batch_index} of "
                f"{self.batch_count}")
        if self.proof_checked:
            text += "; the batch proof is valid"
            if self.insecure_setup:
                text += " (but made with an INSECURE development setup)"
        return text + "."


def _show(decimal: str) -> str:
    sign = "-" if decimal.startswith("-") else ""
    whole, _, frac = decimal.lstrip("-").partition(".")
    return sign + group_digits(whole) + (f".{frac}" if frac else "")


def _field(doc: dict[str, Any], key: str) -> Any:
    if key not in doc:
        raise InclusionError("file", f"the file has no {key!r}")
    return doc[key]


def verify(file: Path, *, root: int | None = None, directory: Path | None = None,
           impl: str = "fast") -> Verdict:
    """Every check of the module docstring; raises InclusionError naming the failed one."""
    try:
        doc = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InclusionError("file", f"{file}: not a readable inclusion file: {exc}") from None
    if doc.get("format") != FORMAT:
        raise InclusionError("file", f"{file}: format {doc.get('format')!r}, expected {FORMAT!r}")
    try:
        acct = str(_field(doc, "account_id"))
        salt = int(_field(doc, "salt"))
        balances: dict[str, str] = dict(_field(doc, "balances"))
        positions: dict[str, dict[str, str]] = dict(_field(doc, "positions"))
        bal = [parse_fixed(v) for v in balances.values()]
        qty = [parse_fixed(v["qty"]) for v in positions.values()]
        cost = [parse_fixed(v["cost"]) for v in positions.values()]
        leaf = int(_field(doc, "leaf"))
        index = int(_field(doc, "leaf_index"))
        path = [int(v) for v in _field(doc, "path")]
        batch, count = int(_field(doc, "batch_index")), int(_field(doc, "batch_count"))
        k = int(_field(doc, "batch_size"))
        claimed_root = int(_field(doc, "root"))
    except (TypeError, ValueError, KeyError, ValueRangeError) as exc:
        raise InclusionError("file", f"{file}: invalid field: {exc}") from None

    try:
        computed = account_leaf(id_hash(account_id_digest(acct), salt), bal, qty, cost)
    except ValueError as exc:
        raise InclusionError("leaf", str(exc)) from None
    if computed != leaf:
        raise InclusionError("leaf", f"the id, salt and values in the file give leaf {computed}, "
                                     f"not the file's {leaf}: a balance, position or the salt "
                                     "was changed")
    top = root_from_path(leaf, index, path)
    if top != claimed_root:
        raise InclusionError("path", f"the path from the leaf gives root {top}, not the "
                                     f"file's {claimed_root}")
    if root is not None and root != claimed_root:
        raise InclusionError("root", f"the file's root 0x{claimed_root:064x} is not the "
                                     f"expected 0x{root:064x}")
    if k < 1 or k & (k - 1) or index // k != batch:
        raise InclusionError("batch", f"leaf {index} is not in batch {batch} of size {k}")
    if not 0 <= batch < count:
        raise InclusionError("batch", f"batch {batch} is not below the proven batch count "
                                      f"{count}")
    checked, insecure = False, bool(doc.get("insecure_setup"))
    if directory is not None:
        insecure = _check_artifacts(directory, doc, leaf, index, path, k, impl)
        checked = True
    return Verdict(acct, balances, positions, claimed_root, batch, count, checked, insecure)


def _check_artifacts(directory: Path, doc: dict[str, Any], leaf: int, index: int,
                     path: list[int], k: int, impl: str) -> bool:
    from zkmargin.verifier.audit import AuditError, check_batch, check_verification_key

    manifest = Manifest.read(directory / artifacts.MANIFEST)
    for key, want in (("root", manifest.root), ("params_hash", manifest.params_hash),
                      ("batches", manifest.batches)):
        have = doc["batch_count"] if key == "batches" else doc[key]
        if str(want) != str(have):
            raise InclusionError("artifacts", f"the file's {key} {have} differs from "
                                              f"{directory}/manifest.json's {want}")
    if manifest.shape.batch_size != k:
        raise InclusionError("artifacts", "the batch size differs from the manifest's")
    params = load_params(directory / artifacts.PARAMS)
    try:
        vk = check_verification_key(directory, manifest)
        record = check_batch(directory, int(doc["batch_index"]), vk, manifest.params_hash,
                             params.asset_symbols, impl=impl)
    except AuditError as exc:
        raise InclusionError("proof", f"{directory}: {exc}") from None
    batch_root = root_from_path(leaf, index % k, path[: k.bit_length() - 1])
    if record.root != batch_root:
        raise InclusionError("batch", f"the path gives batch root {batch_root}, "
                                      f"{directory}/batch {record.index} says {record.root}")
    return manifest.insecure_setup
