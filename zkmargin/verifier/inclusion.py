"""Account holders: export one account's inclusion proof, and verify it.

The exported file holds what the holder needs and nothing about anyone else: their id
and salt, their balances, perp positions and option positions (decimal strings, exact), the
risk parameters the published params hash covers (so the labels can be checked), their
leaf, the Merkle path from the leaf to the root (siblings, leaf level first), the leaf's
index, the batch index, count and size, the tree depth, the root and the params hash.

``verify`` believes nothing in the file; in order (the first failure names its check):

1. ``file`` -- the file parses, every field has its type and every value is an exact
   decimal (the error names the file, the field and the value);
2. ``params`` -- the params hash is the published one (``expected_params_hash``, when
   given), and the params in the file are valid and hash to it;
3. ``labels`` -- the file's balances, positions and options carry exactly the hashed
   params' symbols, in their order (values are shown only under those labels; a file
   whose params have options must have ``options``);
4. ``leaf`` -- the id, salt and values give the file's leaf (domain-separated: a leaf is
   never an inner node);
5. ``batch`` -- the leaf index lies in the batch, and the batch below the batch count;
6. ``path`` -- the path has exactly the tree's depth (batch depth plus the top over the
   batches) and leads from the leaf to the file's root;
7. ``root`` -- the file's root is the one the holder expects (``root``);
8. with the artifacts: ``artifacts`` (root, params hash, counts, depth as published, and
   params.json hashes to the same params hash), ``proof`` (the batch's record, commitment
   and Groth16 proof, as the audit checks them), ``batch`` (the path's batch root is the
   proven one); the development setup is recognised from the verification key itself.

Without an expected root (``--root`` or the artifacts) the verdict says what was computed
and asks for the published root: a root the exchange wrote into the file proves nothing.

The verdict also carries the account's margin under the hashed params, computed by
:func:`zkmargin.margin.reference.account_margin` (the exact formulas of docs/margin.md):
equity, requirement (maintenance of each bracket perp, portfolio margin of each group),
excess, status and shortfall. The holders' page (``verifier/web/``) runs
these same checks, in this order and under these names, in the browser; tests/test_web.py
compares its verdict with this module's on every test file.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkmargin import artifacts
from zkmargin.atomic import write_text_atomic
from zkmargin.commitments import account_id_digest, account_leaf, id_hash
from zkmargin.devsetup import is_dev_key
from zkmargin.errors import InputError, ValueRangeError, ZkMarginError
from zkmargin.fixed import I63, format_fixed, parse_fixed
from zkmargin.merkle import depth_for, root_from_path
from zkmargin.params import RiskParams, load_params, loads_params
from zkmargin.report import group_digits, usd
from zkmargin.statement import (
    CircuitShape,
    Manifest,
    hash_of_params,
    read_json,
    read_levels,
)

FORMAT = "zkmargin-inclusion/2"


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
        columns = {r[1] for r in db.execute("PRAGMA table_info(accounts)")}
        if "options" not in columns and params.options:
            raise ZkMarginError(f"{db_path}: the inclusion index has no option sizes, but "
                                f"{directory}/params.json has {len(params.options)} options")
        opt_column = "options" if "options" in columns else "'[]'"
        row = db.execute(f"SELECT batch, position, salt, leaf, balances, qty, cost, path, "
                         f"{opt_column} FROM accounts WHERE id = ?", (account_id,)).fetchone()
    if row is None:
        raise ZkMarginError(f"{db_path}: no account with id {account_id!r}")
    batch, position, salt, leaf, bal, qty, cost, path, opt = row
    values = {}
    for column, text, labels in (("balances", bal, params.asset_symbols),
                                 ("qty", qty, params.perp_symbols),
                                 ("cost", cost, params.perp_symbols),
                                 ("options", opt, params.option_symbols)):
        listed = json.loads(text)
        if not isinstance(listed, list) or len(listed) != len(labels) \
                or not all(isinstance(v, int) for v in listed):
            raise ZkMarginError(f"{db_path}: account {account_id!r}, column {column}: "
                                f"{text[:80]!r} is not a list of {len(labels)} integers, as "
                                f"{directory}/params.json needs")
        values[column] = dict(zip(labels, listed, strict=True))
    levels = directory / artifacts.TREE_LEVELS
    top = read_levels(read_json(levels), file=str(levels))
    k = manifest.shape.batch_size
    perps = {p: {"qty": format_fixed(values["qty"][p]), "cost": format_fixed(values["cost"][p])}
             for p in params.perp_symbols}
    doc: dict[str, Any] = {
        "format": FORMAT,
        "account_id": account_id,
        "salt": salt,
        "balances": {s: format_fixed(v) for s, v in values["balances"].items()},
        "positions": perps,
    }
    if params.options:  # a book without options keeps the file of before options existed
        doc["options"] = {s: format_fixed(v) for s, v in values["options"].items()}
    doc |= {
        "leaf": leaf,
        "leaf_index": batch * k + position,
        "path": [*json.loads(path), *(str(v) for v in top.path(batch))],
        "batch_index": batch,
        "batch_count": manifest.batches,
        "batch_size": k,
        "tree_depth": manifest.tree_depth,
        "root": str(manifest.root),
        "params_hash": str(manifest.params_hash),
        "params": params.to_json(),
    }
    write_text_atomic(out, json.dumps(doc, indent=1) + "\n")
    return doc


@dataclass(frozen=True)
class Verdict:
    account_id: str
    balances: dict[str, str]  # under the hashed params' labels, in their order
    positions: dict[str, dict[str, str]]
    root: int
    params_hash: int
    batch_index: int
    batch_count: int
    root_confirmed: bool  # compared with a root the holder expects or the artifacts'
    params_confirmed: bool  # params hash compared with the published one
    proof_checked: bool
    insecure_setup: bool  # recognised from the verification key (proof_checked only)
    # the account's margin under the hashed params, exact (docs/margin.md), F = USD x 1e22
    equity: int = 0
    requirement: int = 0
    options: dict[str, str] = field(default_factory=dict)  # option sizes, params order
    maintenance: dict[str, int] = field(default_factory=dict)  # MM_i of each bracket perp
    portfolio: dict[str, int] = field(default_factory=dict)  # PM_g of each group

    @property
    def sufficient(self) -> bool:
        return self.equity >= self.requirement

    @property
    def excess(self) -> int:
        """``E - R`` (F): negative when deficient."""
        return self.equity - self.requirement

    @property
    def shortfall(self) -> int:
        return max(0, self.requirement - self.equity)

    @property
    def status(self) -> str:
        return "sufficient" if self.sufficient else "deficient"

    def holdings(self) -> list[str]:
        """The account as committed in its leaf, one line per non-zero value: balances,
        perp positions (size and cost) and option positions (contracts; a short is
        negative), under the hashed params' labels."""
        rows = [(f"balance   {s}", _show(v), "")
                for s, v in self.balances.items() if parse_fixed(v) != 0]
        rows += [(f"perp      {p}", _show(v["qty"]), f"cost {_show(v['cost'])} USD")
                 for p, v in self.positions.items() if parse_fixed(v["qty"]) != 0
                 or parse_fixed(v["cost"]) != 0]
        rows += [(f"option    {o}", _show(v), "short" if parse_fixed(v) < 0 else "long")
                 for o, v in self.options.items() if parse_fixed(v) != 0]
        if not rows:
            return ["  holdings     none (every balance, position and option is 0)"]
        name_w = max(len(r[0]) for r in rows)
        value_w = max(len(r[1]) for r in rows)
        return ["  holdings", *(f"    {name:<{name_w}}  {value:>{value_w}}  {note}".rstrip()
                                for name, value, note in rows)]

    def facts(self) -> list[str]:
        """The figures the holders' page shows too, one per line."""
        margin = ("margin-sufficient (equity covers the requirement)" if self.sufficient
                  else f"margin-DEFICIENT: shortfall {usd(self.shortfall)} USD")
        lines = [f"  equity       {usd(self.equity)} USD",
                 f"  requirement  {usd(self.requirement)} USD"]
        parts = [(f"{p} maintenance", v) for p, v in self.maintenance.items()]
        parts += [(f"{g} portfolio margin", v) for g, v in self.portfolio.items()]
        if parts:
            width = max(len(name) for name, _ in parts)
            lines += [f"    {name:<{width}}  {usd(v)} USD" for name, v in parts]
        return [*lines,
                f"  excess       {usd(self.excess)} USD",
                f"  status       {margin}",
                f"  root         0x{self.root:064x}",
                f"  params hash  0x{self.params_hash:064x}"]

    def to_json(self) -> dict[str, Any]:
        """``zkmargin inclusion verify --json``; the page's result has the same keys."""
        return {
            "verified": True, "included": self.root_confirmed, "account_id": self.account_id,
            "balances": dict(self.balances),
            "positions": {p: {"qty": v["qty"], "cost": v["cost"]}
                          for p, v in self.positions.items()},
            "options": dict(self.options),
            "root": f"0x{self.root:064x}", "params_hash": f"0x{self.params_hash:064x}",
            "batch_index": self.batch_index, "batch_count": self.batch_count,
            "root_confirmed": self.root_confirmed, "params_confirmed": self.params_confirmed,
            "proof_checked": self.proof_checked, "insecure_setup": self.insecure_setup,
            "equity": str(self.equity), "requirement": str(self.requirement),
            "maintenance": {p: str(v) for p, v in self.maintenance.items()},
            "portfolio": {g: str(v) for g, v in self.portfolio.items()},
            "excess": str(self.excess),
            "shortfall": str(self.shortfall), "status": self.status,
            "equity_usd": usd(self.equity), "requirement_usd": usd(self.requirement),
            "maintenance_usd": {p: usd(v) for p, v in self.maintenance.items()},
            "portfolio_usd": {g: usd(v) for g, v in self.portfolio.items()},
            "excess_usd": usd(self.excess),
            "shortfall_usd": usd(self.shortfall), "sentence": self.sentence(),
        }

    def held(self) -> str:
        parts = [f"{s} {_show(v)}" for s, v in self.balances.items() if parse_fixed(v) != 0]
        parts += [f"{p} position {_show(v['qty'])} (cost {_show(v['cost'])} USD)"
                  for p, v in self.positions.items() if parse_fixed(v["qty"]) != 0]
        parts += [f"{o} option {_show(v)}" for o, v in self.options.items()
                  if parse_fixed(v) != 0]
        return ", ".join(parts) or "no balances"

    def sentence(self) -> str:
        root = f"0x{self.root:064x}"
        if not self.root_confirmed:
            return (f"Account {self.account_id} with {self.held()} leads, through the "
                    f"file's path, to root {root} (batch {self.batch_index} of "
                    f"{self.batch_count}; params hash 0x{self.params_hash:064x}). That root "
                    "is the exchange's own claim: compare it with the root the exchange "
                    "published (pass --root ROOT, or --artifacts DIR to also verify the "
                    "batch proof). Until then this is not evidence that the account is "
                    "included.")
        text = (f"Account {self.account_id} with {self.held()} is included in root {root}, "
                f"batch {self.batch_index} of {self.batch_count}")
        if self.proof_checked:
            text += "; the batch proof is valid"
            if self.insecure_setup:
                text += (" (but made with an INSECURE development setup: its tau is public, "
                         "anyone could have forged it)")
        text += "."
        if not self.params_confirmed:
            text += (f" Its labels come from params hashing to 0x{self.params_hash:064x}: "
                     "compare that with the published params hash (--params-hash).")
        return text


def parse_root(text: str) -> int:
    """A root or hash as a holder pastes it (the page reads it the same way): ``0x`` and
    hex digits; without the prefix, 64 characters or any letter a-f mean hex (zkmargin
    prints roots as 64 hex digits), other digit strings are decimal."""
    t = text.strip()
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", t):
        return int(t[2:], 16)
    if re.fullmatch(r"[0-9]+", t) and len(t) != 64:
        return int(t)
    if re.fullmatch(r"[0-9a-fA-F]+", t):
        return int(t, 16)
    raise ValueError(f"a root is hex (with or without 0x) or decimal, got {text!r}")


def _show(decimal: str) -> str:
    sign = "-" if decimal.startswith("-") else ""
    whole, _, frac = decimal.lstrip("-").partition(".")
    return sign + group_digits(whole) + (f".{frac}" if frac else "")


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Reader:
    """Reads the inclusion file's fields; every refusal is the check ``file`` naming the
    file, the field and the value."""

    def __init__(self, file: Path, doc: dict[str, Any]) -> None:
        self.file = file
        self.doc = doc

    def fail(self, path: str, value: Any, reason: str) -> InclusionError:
        return InclusionError("file", f"{self.file}: field {path}: value {_brief(value)}: "
                                      f"{reason}")

    def get(self, key: str) -> Any:
        if key not in self.doc:
            raise InclusionError("file", f"{self.file}: the file has no {key!r}")
        return self.doc[key]

    def text(self, key: str) -> str:
        value = self.get(key)
        if not isinstance(value, str) or not value:
            raise self.fail(key, value, "must be a non-empty string")
        return value

    def decimal(self, path: str, value: Any) -> int:
        """An exact decimal string (amount, size or cost x 1e8), ``|v| < 2^63``."""
        if not isinstance(value, str):
            raise self.fail(path, value, "must be a decimal string, e.g. \"-12.5\"")
        try:
            v = parse_fixed(value)
        except ValueRangeError as exc:
            raise self.fail(path, value, str(exc)) from None
        if not -I63 < v < I63:
            raise self.fail(path, value, "is out of range: |value x 10^8| must be below 2^63")
        return v

    def integer(self, path: str, value: Any) -> int:
        """A non-negative integer: a JSON integer, or a decimal string of digits (field
        elements are written as strings)."""
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str) and value.isascii() and value.isdigit():
            return int(value)
        raise self.fail(path, value, "must be a non-negative integer")

    def number(self, key: str) -> int:
        return self.integer(key, self.get(key))

    def values(self, key: str, *, required: bool = True) -> dict[str, Any]:
        """An object of labels (absent and not ``required``: empty)."""
        if key not in self.doc and not required:
            return {}
        value = self.get(key)
        if not isinstance(value, dict):
            raise self.fail(key, value, "must be a JSON object of labels")
        return value


def _params_of(doc: dict[str, Any], claimed: int) -> RiskParams:
    """2. The file's params, valid, and hashing to the file's params hash."""
    if "params" not in doc:
        raise InclusionError("file", "the file has no 'params'")
    try:
        params = loads_params(json.dumps(doc["params"]), file="the file's params")
    except InputError as exc:
        raise InclusionError("params", str(exc)) from None
    try:
        computed = hash_of_params(params, CircuitShape.for_params(params, 1))
    except ValueError as exc:
        raise InclusionError("params", str(exc)) from None
    if computed != claimed:
        raise InclusionError("params", f"the params in the file hash to {computed}, not to "
                                       f"the file's params hash {claimed}: the labels or "
                                       "numbers shown would not be the committed ones")
    return params


def _check_labels(params: RiskParams, balances: dict[str, Any], positions: dict[str, Any],
                  options: dict[str, Any] | None) -> None:
    """3. Exactly the hashed params' symbols, in their order (``options`` None: the file
    has no ``options``, which only a book without options may omit)."""
    if list(balances) != list(params.asset_symbols):
        raise InclusionError("labels", f"the file labels its balances {list(balances)}, the "
                                       f"hashed params list {list(params.asset_symbols)}")
    if list(positions) != list(params.perp_symbols):
        raise InclusionError("labels", f"the file labels its positions {list(positions)}, "
                                       f"the hashed params list {list(params.perp_symbols)}")
    if options is None:
        if params.options:
            raise InclusionError("labels", f"the file has no 'options', the hashed params "
                                           f"list options {list(params.option_symbols)}")
    elif list(options) != list(params.option_symbols):
        raise InclusionError("labels", f"the file labels its options {list(options)}, the "
                                       f"hashed params list {list(params.option_symbols)}")


def verify(file: Path, *, root: int | None = None, expected_params_hash: int | None = None,
           directory: Path | None = None, impl: str = "fast") -> Verdict:
    """Every check of the module docstring; raises InclusionError naming the failed one."""
    try:
        doc = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InclusionError("file", f"{file}: not a readable inclusion file: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else None
        raise InclusionError("file", f"{file}: format {found!r}, expected {FORMAT!r}")
    r = _Reader(file, doc)
    acct = r.text("account_id")
    salt = r.number("salt")
    balances: dict[str, str] = r.values("balances")
    positions: dict[str, dict[str, str]] = r.values("positions")
    options: dict[str, str] = r.values("options", required=False)
    bal = [r.decimal(f"balances.{s}", v) for s, v in balances.items()]
    qty, cost = [], []
    for p, v in positions.items():
        if not isinstance(v, dict) or set(v) != {"qty", "cost"}:
            raise r.fail(f"positions.{p}", v, "must be an object with exactly 'qty' and "
                                              "'cost'")
        qty.append(r.decimal(f"positions.{p}.qty", v["qty"]))
        cost.append(r.decimal(f"positions.{p}.cost", v["cost"]))
    opt = [r.decimal(f"options.{o}", v) for o, v in options.items()]
    leaf = r.number("leaf")
    index = r.number("leaf_index")
    path_doc = r.get("path")
    if not isinstance(path_doc, list):
        raise r.fail("path", path_doc, "must be a JSON list of field elements")
    path = [r.integer(f"path[{n}]", v) for n, v in enumerate(path_doc)]
    batch, count = r.number("batch_index"), r.number("batch_count")
    k = r.number("batch_size")
    depth = r.number("tree_depth")
    claimed_root = r.number("root")
    claimed_ph = r.number("params_hash")

    if expected_params_hash is not None and claimed_ph != expected_params_hash:
        raise InclusionError("params", f"the file's params hash 0x{claimed_ph:064x} is not "
                                       f"the published 0x{expected_params_hash:064x}: its "
                                       "labels are not the committed ones")
    params = _params_of(doc, claimed_ph)
    _check_labels(params, balances, positions, options if "options" in doc else None)
    try:
        computed = account_leaf(id_hash(account_id_digest(acct), salt), bal, qty, cost,
                                options=opt)
    except ValueError as exc:
        raise InclusionError("leaf", str(exc)) from None
    if computed != leaf:
        raise InclusionError("leaf", f"the id, salt and values in the file give leaf {computed}, "
                                     f"not the file's {leaf}: a balance, position, option or "
                                     "the salt was changed")
    if k < 1 or k & (k - 1) or index // k != batch:
        raise InclusionError("batch", f"leaf {index} is not in batch {batch} of size {k}")
    if not batch < count:
        raise InclusionError("batch", f"batch {batch} is not below the proven batch count "
                                      f"{count}")
    expected_depth = k.bit_length() - 1 + depth_for(count)
    if depth != expected_depth or len(path) != depth:
        raise InclusionError("path", f"the path has {len(path)} levels and the file says "
                                     f"depth {depth}; {count} batches of {k} make a tree of "
                                     f"depth {expected_depth}")
    try:
        top = root_from_path(leaf, index, path)
    except ValueError as exc:  # a sibling that is no field element
        raise InclusionError("path", str(exc)) from None
    if top != claimed_root:
        raise InclusionError("path", f"the path from the leaf gives root {top}, not the "
                                     f"file's {claimed_root}")
    if root is not None and root != claimed_root:
        raise InclusionError("root", f"the file's root 0x{claimed_root:064x} is not the "
                                     f"expected 0x{root:064x}")
    checked, insecure = False, False
    if directory is not None:
        claimed = {"root": claimed_root, "params_hash": claimed_ph, "batch_index": batch,
                   "batch_count": count, "batch_size": k, "tree_depth": depth}
        insecure = _check_artifacts(directory, claimed, leaf, index, path, impl)
        checked = True
    from zkmargin.margin.reference import account_margin

    margin = account_margin(params, bal, qty, cost, opt)
    return Verdict(acct, balances, positions, claimed_root, claimed_ph, batch, count,
                   root is not None or checked, expected_params_hash is not None or checked,
                   checked, insecure, equity=margin.equity, requirement=margin.requirement,
                   options=dict(options),
                   maintenance={p.symbol: mm for p, mm in zip(params.perps, margin.maintenance,
                                                              strict=True) if not p.grouped},
                   portfolio=dict(zip(params.groups, margin.portfolio, strict=True)))


def _check_artifacts(directory: Path, claimed: dict[str, int], leaf: int, index: int,
                     path: list[int], impl: str) -> bool:
    """8. The file against the published artifacts (``claimed``: the file's root,
    params_hash, batch_index, batch_count, batch_size and tree_depth); True when their key
    is the INSECURE development setup's (recognised from the key, not from any flag)."""
    from zkmargin.verifier.audit import AuditError, check_batch, parse_verification_key

    try:
        manifest = Manifest.read(directory / artifacts.MANIFEST)
        published = load_params(directory / artifacts.PARAMS)
    except InputError as exc:
        raise InclusionError("artifacts", str(exc)) from None
    for key, want in (("root", manifest.root), ("params_hash", manifest.params_hash),
                      ("batch_count", manifest.batches),
                      ("batch_size", manifest.shape.batch_size),
                      ("tree_depth", manifest.tree_depth)):
        if claimed[key] != want:
            raise InclusionError("artifacts", f"the file's {key} {claimed[key]} differs from "
                                              f"{directory}/manifest.json's {want}")
    try:
        published_hash = hash_of_params(published, manifest.shape)
    except ValueError as exc:
        raise InclusionError("artifacts", f"{directory}/params.json: {exc}") from None
    if published_hash != manifest.params_hash:
        raise InclusionError("artifacts", f"{directory}/params.json does not hash to the "
                                          "published params hash")
    try:
        vk = parse_verification_key(directory, manifest)
        record = check_batch(directory, claimed["batch_index"], vk, manifest.params_hash,
                             published.asset_symbols, impl=impl)
    except AuditError as exc:
        raise InclusionError("proof", f"{directory}: {exc}") from None
    k = claimed["batch_size"]
    batch_root = root_from_path(leaf, index % k, path[: k.bit_length() - 1])
    if record.root != batch_root:
        raise InclusionError("batch", f"the path gives batch root {batch_root}, "
                                      f"{directory}/batch {record.index} says {record.root}")
    return is_dev_key(vk.alpha1, vk.beta2)
