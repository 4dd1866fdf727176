"""Streaming snapshot readers (CSV, JSON Lines, Parquet) with precise, located errors.

A snapshot has one row per account: ``account_id``, one column per asset symbol (signed
balance, negative = borrowed), per perp ``<PERP>.qty`` and ``<PERP>.cost`` (signed size
and signed USD paid to open) and per option ``<OPTION>.qty`` (signed size in contracts,
negative = short; no cost: premiums settle in cash). Values are decimals with at most 8
fractional digits and ``|value x 1e8| < 2^63``; an empty CSV cell (JSON ``null`` or an
absent key, Parquet null) is 0, except the cost of a position whose qty is not 0, which
is an error. Exponent
notation with a signed exponent (``1e-05``, ``1E+3``) is accepted when the value is exact.

Sources (:func:`detect_format`): ``.csv``, ``.jsonl``/``.ndjson`` and ``.parquet`` files;
CSV and JSON Lines may be gzip-compressed (``.csv.gz``; recognised by their first bytes);
``-`` is standard input, spooled to a temporary file first (deleted afterwards) because
the duplicate check reads the snapshot twice. Text is UTF-8, a leading byte order mark is
ignored, and so are blank lines at the end (a blank line before a data row is an error).
Account ids are non-empty, unique, at most 256 bytes of UTF-8, without control characters
and without leading or trailing whitespace.

Parquet (:meth:`SnapshotReader._blocks_parquet`) is read record batch by record batch,
never as a whole table; its rows are numbered from 1 at the first data row, and errors
say so. Value columns may be decimal strings (utf8, read like CSV cells), decimals of
scale 0..8 (``decimal128(p, s)``) or integers (whole units); a float column is refused.

Rows are read in blocks of ``block_size`` accounts and handed out as
:class:`~zkmargin.margin.AccountBlock`; memory holds one block (Parquet: plus the row
group being decoded) and 8 bytes per account for the duplicate-id check (a sorted array
of 64-bit id digests; a digest collision is confirmed on the exact ids before it is
reported).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import unicodedata
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO, cast

import numpy as np
import numpy.typing as npt

from zkmargin.errors import InputError, ValueRangeError
from zkmargin.fixed import I63, SCALE, SCALE_DECIMALS, format_fixed, parse_fixed
from zkmargin.margin.model import AccountBlock
from zkmargin.params import JsonObject, RiskParams, json_object

ID_COLUMN = "account_id"
DEFAULT_BLOCK = 65536
FORMATS = ("csv", "jsonl", "parquet")
#: The snapshot argument that reads standard input.
STDIN = "-"
#: How errors name standard input.
STDIN_NAME = "<stdin>"
#: Longest account id, in bytes of UTF-8.
MAX_ID_BYTES = 256
#: Appended to every Parquet error that names a row.
PARQUET_ROWS = "Parquet rows are numbered from 1 at the first data row"

# An empty cost cell while a block is built: never a value (values satisfy |v| < 2^63).
_EMPTY = -I63
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)
_DELIMITERS = {";": "semicolon", "\t": "tab"}
_OUT_OF_RANGE = (
    "is out of range: |value x 10^8| must be below 2^63 (about 92,233,720,368.54775807 units)"
)
# ids of at most this many characters are at most MAX_ID_BYTES bytes of UTF-8
_SHORT_ID = MAX_ID_BYTES // 4


def detect_format(path: str | Path) -> str:
    """``csv``, ``jsonl`` or ``parquet`` from the file name (``-``: csv); raises
    InputError otherwise."""
    name = str(path)
    if name == STDIN:
        return "csv"
    low = name.lower()
    plain = low.removesuffix(".gz")
    if plain.endswith(".csv"):
        return "csv"
    if plain.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if low.endswith(".parquet"):
        return "parquet"
    if plain.endswith(".parquet"):
        raise InputError(
            name, "a Parquet file is not read gzip-compressed (Parquet compresses its own "
            "pages): decompress it"
        )
    raise InputError(
        name,
        "unknown snapshot format: the file name must end in .csv, .jsonl, .ndjson or "
        ".parquet (.csv.gz, .jsonl.gz, .ndjson.gz when gzip-compressed); otherwise give "
        "--format csv, jsonl or parquet",
    )


@contextlib.contextmanager
def local_snapshot(path: str | Path) -> Iterator[Path]:
    """The snapshot as a local file: ``-`` is standard input, copied to a temporary file
    (mode 0600) that is deleted when the block ends; any other path is yielded as is."""
    if str(path) != STDIN:
        yield Path(path)
        return
    stdin = sys.stdin
    if stdin is None:
        raise InputError(STDIN_NAME, "cannot be read: there is no standard input")
    if stdin.isatty():
        raise InputError(
            STDIN_NAME, "is a terminal: pipe a snapshot into it (zkmargin check - < FILE)"
        )
    fd, name = tempfile.mkstemp(prefix="zkmargin-stdin-", suffix=".snapshot")
    try:
        with os.fdopen(fd, "wb") as spool:
            source = getattr(stdin, "buffer", None)
            if source is not None:
                shutil.copyfileobj(source, spool, 1 << 20)
            else:  # a text-only stream
                for chunk in iter(lambda: stdin.read(1 << 20), ""):
                    spool.write(chunk.encode("utf-8"))
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


class _JsonNumber(str):
    """A JSON number kept as its source text (a value, never an account id)."""


def _digest(account_id: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(account_id.encode("utf-8"), digest_size=8).digest(), "little", signed=True
    )


def _check_id(file: str, row: int, account_id: str) -> None:
    """The slow path of the account-id rules (the readers test the common case inline)."""
    if account_id != account_id.strip():
        reason = "account_id has leading or trailing whitespace"
    elif any(unicodedata.category(c) == "Cc" for c in account_id):
        bad = next(c for c in account_id if unicodedata.category(c) == "Cc")
        reason = f"account_id contains the control character U+{ord(bad):04X}"
    elif any(unicodedata.category(c) == "Cs" for c in account_id):
        reason = "account_id contains a lone surrogate (not valid Unicode)"
    elif len(account_id) > _SHORT_ID and len(account_id.encode("utf-8")) > MAX_ID_BYTES:
        size = len(account_id.encode("utf-8"))
        reason = f"account_id is {size} bytes of UTF-8; at most {MAX_ID_BYTES} are allowed"
    else:
        return
    raise InputError(file, reason, row=row, column=ID_COLUMN, value=account_id)


def _blank_line(file: str, row: int, expected: str) -> InputError:
    return InputError(
        file,
        f"empty line: expected {expected} (blank lines are allowed only at the end)",
        row=row,
    )


def _check_costs(
    file: str, arr: npt.NDArray[np.int64], n_a: int, perps: Sequence[str], first_row: int
) -> None:
    """Refuse an empty cost (``_EMPTY``) where the qty is not 0; make the others 0."""
    if not perps:
        return
    end = n_a + 2 * len(perps)
    cost = arr[:, n_a + 1 : end : 2]  # a view: the zeros below are written into ``arr``
    empty = cost == _EMPTY
    if not empty.any():
        return
    bad = empty & (arr[:, n_a:end:2] != 0)
    if bad.any():
        k, i = (int(x) for x in np.argwhere(bad)[0])
        raise InputError(
            file,
            f"the cost is empty but {perps[i]}.qty is {format_fixed(int(arr[k, n_a + 2 * i]))}:"
            " an open position needs its cost (the signed USD paid to open it)",
            row=first_row + k,
            column=f"{perps[i]}.cost",
        )
    cost[empty] = 0


class _Builder:
    """Collects parsed rows into fixed-size int64 blocks."""

    def __init__(self, file: str, params: RiskParams, block_size: int, first_row: int) -> None:
        self.file = file
        self.n_a = len(params.assets)
        self.perps = params.perp_symbols
        self.n_p = len(self.perps)
        self.n_o = len(params.options)
        self.block_size = block_size
        self.width = self.n_a + 2 * self.n_p + self.n_o
        self._reset(first_row)

    def _reset(self, first_row: int) -> None:
        self.ids: list[str] = []
        self.rows: list[list[int]] = []
        self.first_row = first_row

    def add(self, account_id: str, values: list[int]) -> None:
        self.ids.append(account_id)
        self.rows.append(values)

    def full(self) -> bool:
        return len(self.ids) >= self.block_size

    def _array(self) -> npt.NDArray[np.int64]:
        arr = np.array(self.rows, dtype=np.int64).reshape(len(self.ids), self.width)
        _check_costs(self.file, arr, self.n_a, self.perps, self.first_row)
        return arr

    def check_pending(self) -> None:
        """Raise the error of an earlier row of this block, if any (an empty cost is only
        seen once the block is an array): called before another row's error is raised."""
        if self.rows:
            self._array()

    def take(self, next_row: int) -> AccountBlock:
        arr = self._array()
        block = _split(self.ids, arr, self.n_a, self.n_p, self.first_row)
        self._reset(next_row)
        return block


def _split(
    ids: list[str], arr: npt.NDArray[np.int64], n_a: int, n_p: int, first_row: int
) -> AccountBlock:
    """A block from rows in canonical column order: assets, (qty, cost) per perp, options."""
    end = n_a + 2 * n_p
    return AccountBlock(
        ids=ids,
        balances=np.ascontiguousarray(arr[:, :n_a]),
        qty=np.ascontiguousarray(arr[:, n_a:end:2]),
        cost=np.ascontiguousarray(arr[:, n_a + 1 : end : 2]),
        first_row=first_row,
        options=np.ascontiguousarray(arr[:, end:]),
    )


def _parse_value(file: str, row: int, column: str, text: str) -> int:
    if not text:
        return 0
    try:
        value = parse_fixed(text, exponent=True)
    except ValueRangeError as exc:
        raise InputError(file, str(exc), row=row, column=column, value=text) from None
    if not -I63 < value < I63:
        raise InputError(file, _OUT_OF_RANGE, row=row, column=column, value=text)
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
        name: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.stdin = str(path) == STDIN
        #: how errors name the file (``name``: e.g. <stdin> for a spooled copy of it)
        self.file = name or (STDIN_NAME if self.stdin else str(path))
        self.params = params
        self.fmt = fmt or detect_format(path)
        if self.fmt not in FORMATS:
            raise InputError(self.file, f"unknown format {self.fmt!r}; use one of {FORMATS}")
        self.block_size = block_size
        self.columns = params.snapshot_columns()
        # per value column: (name, value of an empty cell); an empty cost is _EMPTY until
        # its block is checked (_check_costs)
        n_a, n_p = len(params.assets), len(params.perps)
        self._empty = [
            (name, _EMPTY if n_a <= k < n_a + 2 * n_p and (k - n_a) % 2 else 0)
            for k, name in enumerate(self.columns)
        ]
        self.accounts = 0

    def __iter__(self) -> Iterator[AccountBlock]:
        with local_snapshot(self.path) as source:
            try:
                yield from self._read(source)
            except InputError as exc:
                if self.fmt != "parquet" or exc.row is None:
                    raise
                raise InputError(
                    exc.file,
                    f"{exc.reason} ({PARQUET_ROWS})",
                    row=exc.row,
                    column=exc.column,
                    path=exc.path,
                    value=exc.value,
                ) from None

    def _read(self, source: Path) -> Iterator[AccountBlock]:
        # one exact-size digest array per block, gathered into one array at the end while
        # the blocks' arrays are released one by one, then sorted in place: the peak is
        # 8 bytes per account plus one block (no doubling growth, no sorted copy)
        chunks: list[npt.NDArray[np.int64]] = []
        count = 0
        for block in self._blocks(source):
            chunks.append(np.fromiter((_digest(i) for i in block.ids), dtype=np.int64,
                                      count=len(block)))
            count += len(block)
            self.accounts = count
            yield block
        if count == 0:
            raise InputError(self.file, "has no accounts (no data rows)")
        digests = np.empty(count, dtype=np.int64)
        at = 0
        chunks.reverse()
        while chunks:
            chunk = chunks.pop()
            digests[at:at + chunk.size] = chunk
            at += chunk.size
            del chunk
        digests.sort()
        self._check_duplicates(source, digests)

    def _blocks(self, source: Path) -> Iterator[AccountBlock]:
        if self.fmt == "csv":
            return self._blocks_csv(source)
        if self.fmt == "jsonl":
            return self._blocks_jsonl(source)
        return self._blocks_parquet(source)

    # -- duplicates ----------------------------------------------------------------------

    def _check_duplicates(self, source: Path, sorted_digests: npt.NDArray[np.int64]) -> None:
        dup = sorted_digests[1:][sorted_digests[1:] == sorted_digests[:-1]]
        if dup.size == 0:
            return
        suspects = {int(d) for d in dup}
        seen: dict[str, int] = {}
        for row, account_id in self._ids_with_rows(source):
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

    def _ids_with_rows(self, source: Path) -> Iterator[tuple[int, str]]:
        for block in self._blocks(source):
            for k, account_id in enumerate(block.ids):
                yield block.first_row + k, account_id

    # -- text files ----------------------------------------------------------------------

    def _open(self, source: Path) -> TextIO:
        """UTF-8 text (a leading BOM dropped), gunzipped when it starts as gzip does."""
        try:
            with source.open("rb") as probe:
                magic = probe.read(2)
            # returned open: the caller's ``with`` on the text wrapper closes it
            binary = (
                gzip.open(source, "rb")  # noqa: SIM115
                if magic == _GZIP_MAGIC
                else source.open("rb")
            )
        except OSError as exc:
            raise InputError(self.file, f"cannot be read: {exc.strerror or exc}") from None
        return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")

    def _header(self, header: Sequence[str], row: int | None) -> list[int]:
        """Map canonical column order to file positions; reject missing/unknown columns."""
        pos: dict[str, int] = {}
        for j, name in enumerate(header):
            if name in pos:
                raise InputError(self.file, "duplicate column in header", row=row, column=name)
            pos[name] = j
        if ID_COLUMN not in pos:
            for delimiter, label in _DELIMITERS.items():
                if len(header) == 1 and delimiter in header[0]:
                    raise InputError(
                        self.file,
                        f"the header is one column containing '{delimiter}': the file looks "
                        f"{label}-separated; a CSV snapshot is comma-separated (export it "
                        "with ',' as the delimiter)",
                        row=row,
                        value=header[0],
                    )
            raise InputError(
                self.file, f"missing column {ID_COLUMN!r} in header", row=row, column=ID_COLUMN
            )
        for name in self.columns:
            if name not in pos:
                raise InputError(
                    self.file,
                    "missing column: the params file defines it (every asset needs a column, "
                    "every perp '<PERP>.qty' and '<PERP>.cost', every option "
                    "'<OPTION>.qty')",
                    row=row,
                    column=name,
                )
        allowed = {ID_COLUMN, *self.columns}
        for name in header:
            if name not in allowed:
                raise InputError(
                    self.file,
                    "unknown column: it is neither account_id nor an asset/perp/option "
                    f"column of the params file (expected: {', '.join(self.columns)})",
                    row=row,
                    column=name,
                )
        return [pos[c] for c in self.columns]

    # -- CSV -----------------------------------------------------------------------------

    def _blocks_csv(self, source: Path) -> Iterator[AccountBlock]:
        file = self.file
        with self._open(source) as fh:
            reader = csv.reader(fh)
            try:
                header = next(reader)
            except StopIteration:
                raise InputError(file, "is empty: expected a header row", row=1) from None
            except (csv.Error, UnicodeDecodeError) as exc:
                raise InputError(file, f"cannot be parsed as CSV: {exc}", row=1) from None
            except _GZIP_ERRORS as exc:
                raise InputError(file, f"is not valid gzip data: {exc}", row=1) from None
            header = [h.strip() for h in header]
            order = self._header(header, row=1)
            id_pos = header.index(ID_COLUMN)
            width = len(header)
            cols = [(name, j, empty) for (name, empty), j in zip(self._empty, order, strict=True)]
            builder = _Builder(file, self.params, self.block_size, first_row=2)
            row = 1
            blank = 0  # the first of the blank lines seen since the last data row
            try:
                for cells in reader:
                    row += 1
                    if len(cells) != width and (
                        not cells or (len(cells) == 1 and not cells[0].strip())
                    ):
                        blank = blank or row
                        continue
                    if blank:
                        raise _blank_line(file, blank, "a data row")
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
                    if not (
                        account_id.isprintable()
                        and len(account_id) <= _SHORT_ID
                        and account_id[0] != " "
                        and account_id[-1] != " "
                    ):
                        _check_id(file, row, account_id)
                    values = []
                    for name, j, empty in cols:
                        text = cells[j]
                        values.append(_parse_value(file, row, name, text) if text else empty)
                    builder.add(account_id, values)
                    if builder.full():
                        yield builder.take(row + 1)
            except InputError:
                builder.check_pending()
                raise
            except csv.Error as exc:
                builder.check_pending()
                raise InputError(file, f"cannot be parsed as CSV: {exc}", row=row + 1) from None
            except UnicodeDecodeError:
                builder.check_pending()
                raise InputError(file, "is not UTF-8 text", row=row + 1) from None
            except _GZIP_ERRORS as exc:
                builder.check_pending()
                raise InputError(file, f"is not valid gzip data: {exc}", row=row + 1) from None
            if builder.ids:
                yield builder.take(row + 1)

    # -- JSON Lines ----------------------------------------------------------------------

    def _blocks_jsonl(self, source: Path) -> Iterator[AccountBlock]:
        file = self.file
        names = self.columns
        allowed = {ID_COLUMN, *names}
        cols = self._empty
        builder = _Builder(file, self.params, self.block_size, first_row=1)
        row = 0
        blank = 0
        with self._open(source) as fh:
            try:
                for line in fh:
                    row += 1
                    if not line.strip():
                        blank = blank or row
                        continue
                    if blank:
                        raise _blank_line(file, blank, "a JSON object")
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
                                "unknown key: it is neither account_id nor an asset/perp/option "
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
                    if not (
                        account_id.isprintable()
                        and len(account_id) <= _SHORT_ID
                        and account_id[0] != " "
                        and account_id[-1] != " "
                    ):
                        _check_id(file, row, account_id)
                    values = []
                    for name, empty in cols:
                        raw = obj.get(name)
                        if raw is None:
                            values.append(empty)
                        elif isinstance(raw, str):
                            values.append(_parse_value(file, row, name, raw) if raw else empty)
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
            except InputError:
                builder.check_pending()
                raise
            except UnicodeDecodeError:
                builder.check_pending()
                raise InputError(file, "is not UTF-8 text", row=row + 1) from None
            except _GZIP_ERRORS as exc:
                builder.check_pending()
                raise InputError(file, f"is not valid gzip data: {exc}", row=row + 1) from None
        if builder.ids:
            yield builder.take(row + 1)

    # -- Parquet -------------------------------------------------------------------------

    def _blocks_parquet(self, source: Path) -> Iterator[AccountBlock]:
        """Record batches of at most ``block_size`` rows, each a block.

        Column types (the Arrow types pyarrow reads): ``account_id`` a string; a value
        column a decimal string (utf8; large_string and string_view too), read exactly
        like a CSV cell; a decimal of scale 0..8 and precision <= 38 (``decimal128(p, s)``,
        decimal32/64 too), its exact value; an integer type (signed or unsigned), whole
        units (|value| <= 92,233,720,368); or all-null. Null is 0 like an empty CSV cell.
        Floats are refused (binary floats are inexact), and every other type.
        Dictionary-encoded columns are read by their value type.
        """
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        file = self.file
        try:
            with source.open("rb"):
                pass
        except OSError as exc:
            raise InputError(file, f"cannot be read: {exc.strerror or exc}") from None
        try:
            # pre_buffer (pyarrow's default) would fetch ahead across row groups, so memory
            # would grow with the file; without it, one row group is decoded at a time
            pf = pq.ParquetFile(source, pre_buffer=False)
            schema = pf.schema_arrow
        except (pa.ArrowException, OSError) as exc:
            raise InputError(file, f"cannot be read as Parquet: {exc}") from None
        names = [str(n) for n in schema.names]
        order = self._header(names, row=None)
        id_index = names.index(ID_COLUMN)
        _parquet_kind(file, ID_COLUMN, schema.field(id_index).type, id_column=True)
        kinds = [_parquet_kind(file, name, schema.field(j).type)
                 for name, j in zip(self.columns, order, strict=True)]
        n_a, perps = len(self.params.assets), self.params.perp_symbols
        batches = pf.iter_batches(batch_size=self.block_size)
        done = 0
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except (pa.ArrowException, OSError) as exc:
                raise InputError(
                    file, f"cannot be read as Parquet: {exc}", row=done + 1
                ) from None
            n = int(batch.num_rows)
            if n == 0:
                continue
            first = done + 1
            errors: list[InputError] = []
            ids: list[str] = []
            try:
                ids = self._parquet_ids(batch.column(id_index), first)
            except InputError as exc:
                errors.append(exc)
            arr = np.zeros((n, len(self.columns)), dtype=np.int64)
            for k, ((name, empty), j, kind) in enumerate(
                zip(self._empty, order, kinds, strict=True)
            ):
                try:
                    arr[:, k] = _parquet_values(
                        file, batch.column(j), kind, name, first, empty, pa
                    )
                except InputError as exc:
                    errors.append(exc)
            try:
                _check_costs(file, arr, n_a, perps, first)
            except InputError as exc:
                errors.append(exc)
            if errors:  # the first row in the file; on one row, the first column
                raise min(errors, key=lambda e: e.row or 0)
            yield _split(ids, arr, n_a, len(perps), first)
            done += n

    def _parquet_ids(self, column: Any, first: int) -> list[str]:
        import pyarrow as pa

        file = self.file
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        ids: list[str | None] = column.to_pylist()
        for k, account_id in enumerate(ids):
            if not account_id:
                reason = "account_id is empty" + (" (null)" if account_id is None else "")
                raise InputError(file, reason, row=first + k, column=ID_COLUMN,
                                 value=account_id)
            if not (
                account_id.isprintable()
                and len(account_id) <= _SHORT_ID
                and account_id[0] != " "
                and account_id[-1] != " "
            ):
                _check_id(file, first + k, account_id)
        return cast(list[str], ids)


_PARQUET_TYPES = (
    "decimal strings (utf8, like CSV cells), decimal128(p, s) with scale s <= "
    f"{SCALE_DECIMALS}, or integers (whole units)"
)
#: Largest integer (whole units) whose value x 10^8 is below 2^63.
_INT_LIMIT = (I63 - 1) // SCALE


def _parquet_kind(file: str, name: str, arrow_type: Any, *, id_column: bool = False) -> str:
    """``text``, ``int``, ``decimal`` or ``null`` for a column's Arrow type; raises
    InputError naming the column for any other type."""
    import pyarrow as pa

    t = arrow_type.value_type if pa.types.is_dictionary(arrow_type) else arrow_type
    text = pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
    if id_column:
        if not text:
            raise InputError(
                file, f"has type {arrow_type}: account_id must be a string (utf8) column",
                column=name,
            )
        return "text"
    if text:
        return "text"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_floating(t):
        raise InputError(
            file,
            f"has type {arrow_type}: binary floats are inexact (0.1 has no exact binary "
            f"value), so a float column is refused; store {_PARQUET_TYPES}",
            column=name,
        )
    if pa.types.is_decimal(t):
        if pa.types.is_decimal256(t) or not 0 <= t.scale <= SCALE_DECIMALS:
            raise InputError(
                file,
                f"has type {arrow_type}: a decimal column needs scale 0..{SCALE_DECIMALS} "
                "and precision <= 38 (decimal128)",
                column=name,
            )
        return "decimal"
    raise InputError(
        file, f"has type {arrow_type}, which is not read; store {_PARQUET_TYPES}", column=name
    )


def _parquet_values(
    file: str, column: Any, kind: str, name: str, first: int, empty: int, pa: Any
) -> npt.NDArray[np.int64]:
    """One Parquet value column of a batch as exact int64 (value x 10^8); a null is
    ``empty``."""
    n = len(column)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if kind == "null":
        return np.full(n, empty, dtype=np.int64)
    if kind == "text":
        cells: list[str | None] = column.to_pylist()
        return np.array(
            [_parse_value(file, first + k, name, t) if t else empty for k, t in enumerate(cells)],
            dtype=np.int64,
        )
    valid: npt.NDArray[np.bool_] | None = None
    if column.null_count:
        valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    if kind == "int":
        raw = np.asarray(column.fill_null(0).to_numpy())
        if np.issubdtype(raw.dtype, np.unsignedinteger):
            bad = raw > _INT_LIMIT
        else:
            bad = (raw > _INT_LIMIT) | (raw < -_INT_LIMIT)
        if bad.any():
            k = int(np.argmax(bad))
            raise InputError(
                file,
                f"is out of range: an integer column holds whole units, so |value| must be "
                f"at most {_INT_LIMIT} (|value x 10^8| below 2^63)",
                row=first + k,
                column=name,
                value=int(raw[k]),
            )
        out = raw.astype(np.int64) * SCALE
    else:  # decimal: the unscaled 128-bit integers, read from the Arrow buffer
        scale = int(column.type.scale)
        if not pa.types.is_decimal128(column.type):
            column = column.cast(pa.decimal128(38, scale))  # decimal32/64: lossless
        offset = int(column.offset)
        limbs = np.frombuffer(column.buffers()[1], dtype=np.int64, count=2 * (offset + n))
        limbs = limbs[2 * offset :].reshape(n, 2)
        low, high = limbs[:, 0], limbs[:, 1]
        factor = 10 ** (SCALE_DECIMALS - scale)
        limit = (I63 - 1) // factor
        bad = (high != (low >> 63)) | (low > limit) | (low < -limit)
        if valid is not None:
            bad &= valid
        if bad.any():
            k = int(np.argmax(bad))
            raise InputError(
                file, _OUT_OF_RANGE, row=first + k, column=name,
                value=format(column[k].as_py(), "f"),
            )
        out = low * factor
    if valid is not None:
        out = np.where(valid, out, empty)
    return np.asarray(out, dtype=np.int64)
