"""Parquet snapshots (issue 11, item 7): the same accounts as CSV and JSON Lines give the
same `check --json`; value columns as decimal strings, decimal128(p, s <= 8) or integers;
located errors (row = 1-based data row, column, value) through the real CLI; floats
refused; the reader streams record batches and memory does not grow with the file.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from click.testing import CliRunner, Result

from tests.test_inputs import (
    BASE_PARAMS,
    DECIMALS,
    HEADER,
    NOT_DECIMAL,
    OUT_OF_RANGE,
    ROWS,
    assert_rejected,
    base_jsonl_lines,
    expected_base_report,
    run_check,
    write_csv,
    write_lines,
    write_params,
)
from zkmargin.cli import main
from zkmargin.params import load_params
from zkmargin.snapshot import PARQUET_ROWS, SnapshotReader

ROW_NOTE = f"({PARQUET_ROWS})"


def invoke(*args: str, data: bytes | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=data)


def check_json(snapshot: Path, params: Path, *extra: str) -> dict[str, Any]:
    result = invoke("check", str(snapshot), "--params", str(params), "--json", *extra)
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def text_table(rows: list[list[str]] = ROWS) -> dict[str, Any]:
    """The base rows as decimal-string columns (an empty cell is null)."""
    return {
        name: pa.array([r[j] or None for r in rows], pa.string())
        for j, name in enumerate(HEADER)
    }


def write_parquet(path: Path, columns: dict[str, Any], row_group_size: int | None = None) -> Path:
    pq.write_table(pa.table(columns), path, row_group_size=row_group_size)
    return path


@pytest.fixture
def params_file(tmp_path: Path) -> Path:
    return write_params(tmp_path / "params.json", BASE_PARAMS)


@pytest.fixture
def report(tmp_path: Path) -> Path:
    return tmp_path / "out" / "report.json"


# --------------------------------------------------------------------------------------
# the same snapshot in three formats
# --------------------------------------------------------------------------------------


def test_generated_csv_jsonl_parquet_check_identically(tmp_path: Path) -> None:
    docs = {}
    for fmt in ("csv", "jsonl", "parquet"):
        out = tmp_path / fmt
        result = invoke("generate", "--accounts", "1500", "--seed", "9", "--perps", "3",
                        "--format", fmt, "--out", str(out))
        assert result.exit_code == 0, result.output
        docs[fmt] = check_json(out / f"snapshot.{fmt}", out / "params.json")
    assert docs["csv"] == docs["jsonl"] == docs["parquet"]
    assert docs["csv"]["accounts"] == 1500 and docs["csv"]["deficient"] == 15
    meta = pq.ParquetFile(tmp_path / "parquet" / "snapshot.parquet").metadata
    assert meta.num_rows == 1500
    schema = pq.read_schema(tmp_path / "parquet" / "snapshot.parquet")
    assert schema.field("account_id").type == pa.string()
    assert {str(schema.field(i).type) for i in range(1, len(schema))} == {"decimal128(19, 8)"}


def test_base_snapshot_in_every_format_and_column_type(
    tmp_path: Path, params_file: Path
) -> None:
    """Decimal strings, decimal128 of several scales and integer columns: one report."""
    expected = expected_base_report()
    csv_doc = check_json(write_csv(tmp_path / "s.csv", HEADER, ROWS), params_file)
    jsonl_doc = check_json(write_lines(tmp_path / "s.jsonl", base_jsonl_lines()), params_file)
    as_text = check_json(write_parquet(tmp_path / "text.parquet", text_table()), params_file)

    def dec(values: list[str], p: int, s: int) -> Any:
        return pa.array([Decimal(v) if v else None for v in values], pa.decimal128(p, s))

    cols = list(zip(*ROWS, strict=True))
    typed = {
        "account_id": pa.array(cols[0], pa.string()),
        "USDT": pa.array([int(v) for v in cols[1]], pa.int32()),  # whole units
        "BTC": dec(list(cols[2]), 5, 1),
        "BTC-PERP.qty": dec(list(cols[3]), 38, 8),
        "BTC-PERP.cost": pa.array([int(v) if v else None for v in cols[4]], pa.int64()),
    }
    as_typed = check_json(write_parquet(tmp_path / "typed.parquet", typed), params_file)
    dictionary = {k: (v.dictionary_encode() if k in ("account_id", "BTC") else v)
                  for k, v in typed.items()}
    as_dict = check_json(write_parquet(tmp_path / "dict.parquet", dictionary), params_file)
    unsigned = dict(typed, USDT=pa.array([1000, 0, 100, 30000], pa.uint64()))
    as_unsigned = check_json(write_parquet(tmp_path / "u.parquet", unsigned), params_file)
    assert csv_doc == jsonl_doc == as_text == as_typed == as_dict == expected
    # bob's USDT 0 instead of -2000: only his debt and equity differ
    assert as_unsigned["assets"]["USDT"]["debts"] == 0
    assert as_unsigned["accounts"] == 4


def test_parquet_by_format_option_and_from_stdin(tmp_path: Path, params_file: Path) -> None:
    snap = write_parquet(tmp_path / "snap.parquet", text_table())
    renamed = tmp_path / "snap.bin"
    renamed.write_bytes(snap.read_bytes())
    assert check_json(renamed, params_file, "--format", "parquet") == expected_base_report()
    result = invoke("check", "-", "--params", str(params_file), "--json", "--format",
                    "parquet", data=snap.read_bytes())
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected_base_report()


def test_prove_reads_parquet_batches_like_csv(tmp_path: Path) -> None:
    """`prove` takes its accounts from the same reader: same batches from both formats."""
    from zkmargin.prover.pipeline import batch_members

    for fmt in ("csv", "parquet"):
        result = invoke("generate", "--accounts", "37", "--seed", "4", "--assets", "3",
                        "--perps", "2", "--format", fmt, "--out", str(tmp_path / fmt))
        assert result.exit_code == 0, result.output
    params = load_params(tmp_path / "csv" / "params.json")
    secret = b"\x01" * 32
    got = [list(batch_members(tmp_path / fmt / f"snapshot.{fmt}", params, 8, secret, None))
           for fmt in ("csv", "parquet")]
    assert got[0] == got[1]
    assert sum(len(b) for b in got[0]) == 37


# --------------------------------------------------------------------------------------
# located errors
# --------------------------------------------------------------------------------------

PARQUET_CELL_CASES = [
    # (data row, column, new cell, reason)
    pytest.param(3, "BTC", "abc", NOT_DECIMAL, id="abc"),
    pytest.param(1, "USDT", "1.123456789", DECIMALS, id="too-many-decimals"),
    pytest.param(4, "BTC-PERP.cost", "1e-9", DECIMALS, id="inexact-exponent"),
    pytest.param(2, "BTC-PERP.qty", "92233720368.54775808", OUT_OF_RANGE, id="2^63"),
    pytest.param(3, "account_id", " carol", "leading or trailing whitespace",
                 id="id-whitespace"),
    pytest.param(4, "account_id", "bob", "duplicate account_id (first seen in row 2)",
                 id="duplicate-id"),
]


@pytest.mark.parametrize(("row", "column", "cell", "reason"), PARQUET_CELL_CASES)
def test_parquet_bad_cell_names_row_and_column(
    tmp_path: Path, params_file: Path, report: Path, row: int, column: str, cell: str,
    reason: str,
) -> None:
    rows = [list(r) for r in ROWS]
    rows[row - 1][HEADER.index(column)] = cell
    snap = write_parquet(tmp_path / "snap.parquet", text_table(rows))
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, row=row, column=column, value=cell,
                    reason=reason)
    assert ROW_NOTE in result.stderr


@pytest.mark.parametrize(
    ("column", "array", "row", "value", "reason"),
    [
        pytest.param("USDT", pa.array([1, 2, 92233720369, 4], pa.int64()), 3, 92233720369,
                     "an integer column holds whole units", id="int-out-of-range"),
        pytest.param("USDT", pa.array([1, 2**64 - 1, 3, 4], pa.uint64()), 2, 2**64 - 1,
                     "an integer column holds whole units", id="uint64-max"),
        pytest.param("BTC", pa.array([0, 0, 0, 10**11], pa.decimal128(38, 0)), 4,
                     "100000000000", OUT_OF_RANGE, id="decimal-out-of-range"),
        pytest.param("BTC", pa.array([0, 0, 0, 10**25], pa.decimal128(38, 8)), 4,
                     "10000000000000000000000000.00000000", OUT_OF_RANGE,
                     id="decimal-beyond-64-bits"),
        pytest.param("BTC", pa.array([0, 0, Decimal("-92233720368.54775808"), 0],
                                     pa.decimal128(19, 8)), 3,
                     "-92233720368.54775808", OUT_OF_RANGE, id="decimal-minus-2^63-units"),
        pytest.param("BTC-PERP.cost", pa.array(["4900", "-147000", None, ""]), 3, None,
                     "the cost is empty but BTC-PERP.qty is 1", id="null-cost-open-position"),
        pytest.param("account_id", pa.array(["alice", None, "carol", "dave"]), 2, None,
                     "account_id is empty (null)", id="null-id"),
    ],
)
def test_parquet_bad_typed_value_names_row_and_column(
    tmp_path: Path, params_file: Path, report: Path, column: str, array: Any, row: int,
    value: object, reason: str,
) -> None:
    table = dict(text_table(), **{column: array})
    snap = write_parquet(tmp_path / "snap.parquet", table)
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, row=row, column=column, value=value,
                    reason=reason)
    assert ROW_NOTE in result.stderr


def test_parquet_first_bad_row_wins_across_columns(
    tmp_path: Path, params_file: Path, report: Path
) -> None:
    """A columnar file is checked column by column; the error reported is still the
    first row's."""
    table = dict(text_table(), USDT=pa.array(["1", "2", "3", "x"]),
                 BTC=pa.array(["0", "y", None, None]))
    snap = write_parquet(tmp_path / "snap.parquet", table)
    assert_rejected(run_check(snap, params_file, report), report, file=snap, row=2,
                    column="BTC", value="y", reason=NOT_DECIMAL)


def test_parquet_rows_count_across_row_groups(
    tmp_path: Path, params_file: Path, report: Path
) -> None:
    n = 50
    table = {
        "account_id": pa.array([f"a{k}" for k in range(n)]),
        "USDT": pa.array(["1"] * 37 + ["1.000000001"] + ["1"] * (n - 38)),
        "BTC": pa.nulls(n, pa.string()),
        "BTC-PERP.qty": pa.nulls(n, pa.decimal128(10, 2)),
        "BTC-PERP.cost": pa.nulls(n),
    }
    snap = write_parquet(tmp_path / "snap.parquet", table, row_group_size=7)
    assert pq.ParquetFile(snap).metadata.num_row_groups == 8
    assert_rejected(run_check(snap, params_file, report), report, file=snap, row=38,
                    column="USDT", value="1.000000001", reason=DECIMALS)


@pytest.mark.parametrize("arrow_type", [pa.float64(), pa.float32()])
def test_parquet_float_column_is_refused(
    tmp_path: Path, params_file: Path, report: Path, arrow_type: Any
) -> None:
    table = dict(text_table(), BTC=pa.array([0.5, 0.2, None, -0.3], arrow_type))
    snap = write_parquet(tmp_path / "snap.parquet", table)
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, column="BTC",
                    reason=f"has type {arrow_type}: binary floats are inexact")
    assert not re.search(r"\brow \d", result.stderr)


@pytest.mark.parametrize(
    ("column", "array", "reason"),
    [
        pytest.param("BTC", pa.array([True, False, None, None]), "has type bool, which is not",
                     id="bool"),
        pytest.param("BTC", pa.array([1, 2, 3, 4], pa.decimal128(20, 9)),
                     "a decimal column needs scale 0..8", id="scale-9"),
        pytest.param("BTC", pa.array([1, 2, 3, 4], pa.decimal256(50, 2)),
                     "a decimal column needs scale 0..8 and precision <= 38", id="decimal256"),
        pytest.param("account_id", pa.array([1, 2, 3, 4]),
                     "account_id must be a string (utf8) column", id="numeric-id"),
    ],
)
def test_parquet_unsupported_column_type_is_refused(
    tmp_path: Path, params_file: Path, report: Path, column: str, array: Any, reason: str
) -> None:
    snap = write_parquet(tmp_path / "snap.parquet", dict(text_table(), **{column: array}))
    assert_rejected(run_check(snap, params_file, report), report, file=snap, column=column,
                    reason=reason)


def test_parquet_missing_and_unknown_columns(
    tmp_path: Path, params_file: Path, report: Path
) -> None:
    table = text_table()
    del table["BTC-PERP.cost"]
    snap = write_parquet(tmp_path / "missing.parquet", table)
    assert_rejected(run_check(snap, params_file, report), report, file=snap,
                    column="BTC-PERP.cost", reason="missing column")
    snap = write_parquet(tmp_path / "unknown.parquet", dict(text_table(), FOO=pa.nulls(4)))
    assert_rejected(run_check(snap, params_file, report), report, file=snap, column="FOO",
                    reason="unknown column")


def test_not_a_parquet_file(tmp_path: Path, params_file: Path, report: Path) -> None:
    snap = write_csv(tmp_path / "snap.parquet", HEADER, ROWS)
    assert_rejected(run_check(snap, params_file, report), report, file=snap,
                    reason="cannot be read as Parquet")
    missing = tmp_path / "nope.parquet"
    assert_rejected(run_check(missing, params_file, report), report, file=missing,
                    reason="cannot be read: No such file")
    empty = write_parquet(tmp_path / "empty.parquet",
                          {k: v[:0] for k, v in text_table().items()})
    assert_rejected(run_check(empty, params_file, report), report, file=empty,
                    reason="has no accounts (no data rows)")


# --------------------------------------------------------------------------------------
# streaming
# --------------------------------------------------------------------------------------


def _many_rows(path: Path, n: int, group: int) -> Path:
    table = {
        "account_id": pa.array([f"acct-{k:09d}" for k in range(n)]),
        "USDT": pa.array([str(k % 977) for k in range(n)]),
        "BTC": pa.array([k % 13 for k in range(n)], pa.decimal128(19, 8)),
        "BTC-PERP.qty": pa.array([k % 3 for k in range(n)], pa.int64()),
        "BTC-PERP.cost": pa.array([str(k) for k in range(n)]),
    }
    return write_parquet(path, table, row_group_size=group)


def test_parquet_is_read_by_record_batch_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks of at most block_size rows arrive one by one from ParquetFile.iter_batches
    (never a whole-file read), and Arrow's live memory does not grow with the file."""
    params = load_params(write_params(tmp_path / "params.json", BASE_PARAMS))

    def whole_file(*args: object, **kwargs: object) -> None:
        raise AssertionError("the snapshot must not be read whole")

    monkeypatch.setattr(pq.ParquetFile, "read", whole_file)
    monkeypatch.setattr(pq, "read_table", whole_file)
    calls: list[dict[str, Any]] = []
    original = pq.ParquetFile.iter_batches

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    peaks = []
    for n in (20_000, 60_000):
        snap = _many_rows(tmp_path / f"{n}.parquet", n, group=2_000)
        base = pa.total_allocated_bytes()
        seen, firsts, peak = 0, [], 0
        for block in SnapshotReader(snap, params, block_size=500):
            assert 0 < len(block) <= 500
            firsts.append(block.first_row)
            seen += len(block)
            peak = max(peak, pa.total_allocated_bytes() - base)
        assert seen == n
        assert firsts == list(range(1, n + 1, 500))
        peaks.append(peak)
    assert calls and all(c.get("batch_size") == 500 for c in calls)
    # three times the rows at the same row group size: no more Arrow memory
    assert peaks[1] < peaks[0] * 1.2 + 100_000, peaks
