"""Streaming snapshot readers (CSV and JSON Lines) with precise, located errors.

A snapshot has one row per account: ``account_id``, one column per asset symbol (signed
balance, negative = borrowed) and per perp ``<PERP>.qty`` and ``<PERP>.cost`` (signed size
and signed USD paid to open). Values are decimals with at most 8 fractional digits and
``|value x 1e8| < 2^63``; an empty CSV cell (JSON ``null`` or an absent key) is 0.

Rows are read in blocks of ``block_size`` accounts and handed out as
:class:`~zkmargin.margin.AccountBlock`; memory holds one block plus 8 bytes per account
for the duplicate-id check (a sorted array of 64-bit id digests; a digest collision is
confirmed on the exact ids before it is reported).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

import numpy as np
import numpy.typing as npt

from zkmargin.errors import InputError, ValueRangeError
from zkmargin.fixed import I63, parse_fixed
from zkmargin.margin.model import AccountBlock
from zkmargin.params import JsonObject, RiskParams, json_object

ID_COLUMN = "account_id"
DEFAULT_BLOCK = 65536
FORMATS = ("csv", "jsonl")


def detect_format(path: str | Path) -> str:
    """``csv`` or ``jsonl`` from the file name; raises InputError otherwise."""
    name = str(path).lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    raise InputError(
        str(path), "unknown snapshot format: the file name must end in .csv, .jsonl or .ndjson"
    )


class _JsonNumber(str):
    """A JSON number kept as its source text (a value, never an account id)."""


def _digest(account_id: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(account_id.encode("utf-8"), digest_size=8).digest(), "little", signed=True
    )


class _Builder:
    """Collects parsed rows into fixed-size int64 blocks."""

    def __init__(self, params: RiskParams, block_size: int) -> None:
        self.n_a = len(params.assets)
        self.n_p = len(params.perps)
        self.block_size = block_size
        self.width = self.n_a + 2 * self.n_p
        self._reset(2)

    def _reset(self, first_row: int) -> None:
        self.ids: list[str] = []
        self.rows: list[list[int]] = []
        self.first_row = first_row

    def add(self, account_id: str, values: list[int]) -> None:
        self.ids.append(account_id)
        self.rows.append(values)

    def full(self) -> bool:
        return len(self.ids) >= self.block_size

    def take(self, next_row: int) -> AccountBlock:
        arr = np.array(self.rows, dtype=np.int64).reshape(len(self.ids), self.width)
        n_a = self.n_a
        block = AccountBlock(
            ids=self.ids,
            balances=np.ascontiguousarray(arr[:, :n_a]),
            qty=np.ascontiguousarray(arr[:, n_a::2][:, : self.n_p]),
            cost=np.ascontiguousarray(arr[:, n_a + 1 :: 2][:, : self.n_p]),
            first_row=self.first_row,
        )
        self._reset(next_row)
        return block


def _parse_value(file: str, row: int, column: str, text: str) -> int:
    if not text:
        return 0
    try:
        value = parse_fixed(text)
    except ValueRangeError as exc:
        raise InputError(file, str(exc), row=row, column=column, value=text) from None
    if not -I63 < value < I63:
        raise InputError(
            file,
            "is out of range: |value x 10^8| must be below 2^63 "
            "(about 92,233,720,368.54775807 units)",
            row=row,
            column=column,
            value=text,
        )
    return value


class SnapshotReader:
    """Iterate a snapshot file as validated :class:`AccountBlock` objects.

    Iterating to the end also runs the duplicate-id check, so an error can surface after
    the last block: callers must not publish anything before iteration has finished.
    """

    def __init__(
        self,
        path: str | Path,
        params: RiskParams,
        *,
        fmt: str | None = None,
        block_size: int = DEFAULT_BLOCK,
    ) -> None:
        self.path = Path(path)
        self.file = str(path)
        self.params = params
        self.fmt = fmt or detect_format(path)
        if self.fmt not in FORMATS:
            raise InputError(self.file, f"unknown format {self.fmt!r}; use one of {FORMATS}")
        self.block_size = block_size
        self.columns = params.snapshot_columns()
        self.accounts = 0

    def __iter__(self) -> Iterator[AccountBlock]:
        digests = np.empty(1024, dtype=np.int64)
        count = 0
        rows = self._blocks_csv() if self.fmt == "csv" else self._blocks_jsonl()
        for block in rows:
            need = count + len(block)
            if need > digests.size:
                digests = np.resize(digests, max(need, 2 * digests.size))
            digests[count:need] = [_digest(i) for i in block.ids]
            count = need
            self.accounts = count
            yield block
        if count == 0:
            raise InputError(self.file, "has no accounts (no data rows)")
        self._check_duplicates(np.sort(digests[:count]))

    # -- duplicates ----------------------------------------------------------------------

    def _check_duplicates(self, sorted_digests: npt.NDArray[np.int64]) -> None:
        dup = sorted_digests[1:][sorted_digests[1:] == sorted_digests[:-1]]
        if dup.size == 0:
            return
        suspects = {int(d) for d in dup}
        seen: dict[str, int] = {}
        for row, account_id in self._ids_with_rows():
            if _digest(account_id) not in suspects:
                continue
            if account_id in seen:
                raise InputError(
                    self.file,
                    f"duplicate account_id (first seen in row {seen[account_id]}); "
                    "account ids must be unique",
                    row=row,
                    column=ID_COLUMN,
                    value=account_id,
                )
            seen[account_id] = row
        # only 64-bit digest collisions between distinct ids: nothing to report

    def _ids_with_rows(self) -> Iterator[tuple[int, str]]:
        for block in self._blocks_csv() if self.fmt == "csv" else self._blocks_jsonl():
            for k, account_id in enumerate(block.ids):
                yield block.first_row + k, account_id

    # -- CSV -----------------------------------------------------------------------------

    def _open(self) -> TextIO:
        try:
            return self.path.open(encoding="utf-8", newline="")
        except OSError as exc:
            raise InputError(self.file, f"cannot be read: {exc.strerror}") from None

    def _header(self, header: Sequence[str]) -> list[int]:
        """Map canonical column order to CSV positions; reject missing/unknown columns."""
        pos: dict[str, int] = {}
        for j, name in enumerate(header):
            if name in pos:
                raise InputError(self.file, "duplicate column in header", row=1, column=name)
            pos[name] = j
        if ID_COLUMN not in pos:
            raise InputError(
                self.file, f"missing column {ID_COLUMN!r} in header", row=1, column=ID_COLUMN
            )
        for name in self.columns:
            if name not in pos:
                raise InputError(
                    self.file,
                    "missing column: the params file defines it (every asset needs a column, "
                    "every perp '<PERP>.qty' and '<PERP>.cost')",
                    row=1,
                    column=name,
                )
        allowed = {ID_COLUMN, *self.columns}
        for name in header:
            if name not in allowed:
                raise InputError(
                    self.file,
                    "unknown column: it is neither account_id nor an asset/perp column of "
                    f"the params file (expected: {', '.join(self.columns)})",
                    row=1,
                    column=name,
                )
        return [pos[c] for c in self.columns]

    def _blocks_csv(self) -> Iterator[AccountBlock]:
        file = self.file
        with self._open() as fh:
            reader = csv.reader(fh)
            try:
                header = next(reader)
            except StopIteration:
                raise InputError(file, "is empty: expected a header row", row=1) from None
            except (csv.Error, UnicodeDecodeError) as exc:
                raise InputError(file, f"cannot be parsed as CSV: {exc}", row=1) from None
            header = [h.strip() for h in header]
            if header and header[0].startswith("\ufeff"):
                header[0] = header[0][1:]
            order = self._header(header)
            id_pos = header.index(ID_COLUMN)
            width = len(header)
            names = self.columns
            builder = _Builder(self.params, self.block_size)
            row = 1
            try:
                for cells in reader:
                    row += 1
                    if len(cells) != width:
                        raise InputError(
                            file,
                            f"has {len(cells)} cells but the header has {width}",
                            row=row,
                        )
                    account_id = cells[id_pos]
                    if not account_id:
                        raise InputError(
                            file, "account_id is empty", row=row, column=ID_COLUMN, value=""
                        )
                    values = []
                    for name, j in zip(names, order, strict=True):
                        values.append(_parse_value(file, row, name, cells[j]))
                    builder.add(account_id, values)
                    if builder.full():
                        yield builder.take(row + 1)
            except csv.Error as exc:
                raise InputError(file, f"cannot be parsed as CSV: {exc}", row=row + 1) from None
            except UnicodeDecodeError:
                raise InputError(file, "is not UTF-8 text", row=row + 1) from None
            if builder.ids:
                yield builder.take(row + 1)

    # -- JSON Lines ----------------------------------------------------------------------

    def _blocks_jsonl(self) -> Iterator[AccountBlock]:
        file = self.file
        names = self.columns
        allowed = {ID_COLUMN, *names}
        builder = _Builder(self.params, self.block_size)
        builder.first_row = 1
        row = 0
        with self._open() as fh:
            try:
                for line in fh:
                    row += 1
                    if not line.strip():
                        raise InputError(file, "empty line: expected a JSON object", row=row)
                    try:
                        obj = json.loads(
                            line,
                            parse_float=_JsonNumber,
                            parse_int=_JsonNumber,
                            object_pairs_hook=json_object,
                        )
                    except json.JSONDecodeError as exc:
                        raise InputError(file, f"is not valid JSON: {exc.msg}", row=row) from None
                    if not isinstance(obj, dict):
                        raise InputError(file, "must be a JSON object", row=row)
                    if isinstance(obj, JsonObject) and obj.duplicate is not None:
                        raise InputError(
                            file, "duplicate key in the JSON object", row=row, column=obj.duplicate
                        )
                    for key in obj:
                        if key not in allowed:
                            raise InputError(
                                file,
                                "unknown key: it is neither account_id nor an asset/perp "
                                f"column of the params file (expected: {', '.join(names)})",
                                row=row,
                                column=key,
                            )
                    account_id = obj.get(ID_COLUMN)
                    if isinstance(account_id, _JsonNumber):
                        raise InputError(
                            file,
                            "account_id must be a non-empty string, not a JSON number",
                            row=row,
                            column=ID_COLUMN,
                            value=str(account_id),
                        )
                    if not isinstance(account_id, str) or not account_id:
                        raise InputError(
                            file,
                            "account_id must be a non-empty string",
                            row=row,
                            column=ID_COLUMN,
                            value=account_id,
                        )
                    values = []
                    for name in names:
                        raw = obj.get(name)
                        if raw is None:
                            values.append(0)
                        elif isinstance(raw, str):
                            values.append(_parse_value(file, row, name, raw))
                        else:
                            raise InputError(
                                file,
                                "must be a decimal number or string",
                                row=row,
                                column=name,
                                value=raw,
                            )
                    builder.add(account_id, values)
                    if builder.full():
                        yield builder.take(row + 1)
            except UnicodeDecodeError:
                raise InputError(file, "is not UTF-8 text", row=row + 1) from None
        if builder.ids:
            yield builder.take(row + 1)
