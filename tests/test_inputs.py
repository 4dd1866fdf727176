"""Malformed snapshot and params files through the real CLI (`zkmargin check`).

Every negative case starts from one small valid base (2 assets + 1 perp with 3
brackets, 4 accounts), changes ONE thing and names the failure it expects: exit code 1,
an error on stderr naming the file, the row (CSV: header = row 1; JSON Lines: line
number) or the JSON field path, the column and the offending value; nothing on stdout;
no report file left behind.

The valid base is checked against totals computed by hand from docs/margin.md.
"""

from __future__ import annotations

import copy
import csv
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from zkmargin.cli import main

# --------------------------------------------------------------------------------------
# the valid base
# --------------------------------------------------------------------------------------

BASE_PARAMS: dict[str, Any] = {
    "assets": [
        {"symbol": "USDT", "price": "1", "weight_bps": 10000},
        {"symbol": "BTC", "price": "50000", "weight_bps": 9000},
    ],
    "perps": [
        {
            "symbol": "BTC-PERP",
            "mark": "50000",
            "brackets": [
                {"max_notional": "10000", "mmr_ppm": 5000},
                {"max_notional": "100000", "mmr_ppm": 10000},
                {"max_notional": None, "mmr_ppm": 25000},
            ],
        }
    ],
}

HEADER = ["account_id", "USDT", "BTC", "BTC-PERP.qty", "BTC-PERP.cost"]
ROWS = [
    ["alice", "1000", "0.5", "0.1", "4900"],  # CSV row 2: long 0.1 BTC-PERP opened at 49,000
    ["bob", "-2000", "0.2", "-3", "-147000"],  # row 3: borrows USDT, short 3 opened at 49,000
    ["carol", "100", "", "1", "52000"],  # row 4: long 1 opened at 52,000 -> deficient
    ["dave", "30000", "-0.3", "", ""],  # row 5: borrows BTC, no perp
]

U = 10**8  # integer unit of amounts, prices, notionals: x 1e8
F = 10**22  # fine unit of equity / requirement / shortfall: USD x 1e22


def expected_base_report() -> dict[str, Any]:
    """The margin model (docs/margin.md) worked by hand for the 4 base accounts (no zkmargin
    code)."""
    # parameters in integer units
    p_usdt, h_usdt = 1 * U, 10_000
    p_btc, h_btc = 50_000 * U, 9_000
    mark = 50_000 * U
    b1, b2 = 10_000 * U, 100_000 * U  # bracket bounds, USD x 1e8
    r1, r2, r3 = 5_000, 10_000, 25_000  # ppm
    # D_1 = 0, D_k = sum_{j<k} (B_j * 1e8) * (r_{j+1} - r_j); in USD: 50 and 1,550
    d1 = 0
    d2 = d1 + (b1 * U) * (r2 - r1)
    d3 = d2 + (b2 * U) * (r3 - r2)
    assert (d2, d3) == (50 * F, 1_550 * F)

    def w(x: int, h: int) -> int:
        return h if x > 0 else 10_000

    def equity(x_usdt: int, x_btc: int, q: int, c: int) -> int:
        collateral = x_usdt * p_usdt * w(x_usdt, h_usdt) + x_btc * p_btc * w(x_btc, h_btc)
        return 100 * (collateral + 10_000 * (q * mark - c * U))

    def maintenance(q: int) -> int:
        n = abs(q) * mark
        return max(n * r1 - d1, n * r2 - d2, n * r3 - d3)

    # alice: 1,000 + 0.5 x 50,000 x 0.90 = 23,500 collateral; pnl 0.1 x 50,000 - 4,900 = 100
    e_alice = equity(1_000 * U, 50_000_000, 10_000_000, 4_900 * U)
    assert e_alice == 23_600 * F
    # notional 5,000 <= 10,000: bracket 1, 5,000 x 0.005 = 25
    mm_alice = maintenance(10_000_000)
    assert mm_alice == 25 * F

    # bob: -2,000 (debt at weight 1) + 0.2 x 50,000 x 0.9 = 9,000; pnl -150,000 + 147,000
    e_bob = equity(-2_000 * U, 20_000_000, -3 * U, -147_000 * U)
    assert e_bob == 4_000 * F
    # notional 150,000 > 100,000: bracket 3, 150,000 x 0.025 - 1,550 = 2,200
    mm_bob = maintenance(-3 * U)
    assert mm_bob == 2_200 * F

    # carol: 100; pnl 50,000 - 52,000 = -2,000
    e_carol = equity(100 * U, 0, 1 * U, 52_000 * U)
    assert e_carol == -1_900 * F
    # notional 50,000: bracket 2, 50,000 x 0.01 - 50 = 450; shortfall 450 + 1,900 = 2,350
    mm_carol = maintenance(1 * U)
    assert mm_carol == 450 * F

    # dave: 30,000 - 0.3 x 50,000 (debt at weight 1) = 15,000; no perp, no requirement
    e_dave = equity(30_000 * U, -30_000_000, 0, 0)
    assert e_dave == 15_000 * F
    mm_dave = maintenance(0)
    assert mm_dave == 0

    return {
        "accounts": 4,
        "deficient": 1,
        "equity_total": (23_600 + 4_000 - 1_900 + 15_000) * F,
        "requirement_total": (25 + 2_200 + 450 + 0) * F,
        "shortfall_total": 2_350 * F,
        "assets": {
            "USDT": {"liabilities": (1_000 + 100 + 30_000) * U, "debts": 2_000 * U},
            "BTC": {"liabilities": 70_000_000, "debts": 30_000_000},  # 0.5 + 0.2, 0.3
        },
        "deficient_ids": ["carol"],
    }


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def base_jsonl_lines() -> list[str]:
    lines = []
    for row in ROWS:
        obj = {name: cell for name, cell in zip(HEADER, row, strict=True) if cell}
        lines.append(json.dumps(obj))
    return lines


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def write_params(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def run_check(snapshot: Path, params: Path, report: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        main, ["check", str(snapshot), "--params", str(params), "--out", str(report), *extra]
    )


def assert_rejected(
    result: Result,
    report: Path,
    *,
    file: Path,
    reason: str,
    row: int | None = None,
    column: str | None = None,
    path: str | None = None,
    value: object = None,
) -> None:
    err = result.stderr
    # a clean user error (click exit), not a crash that CliRunner also reports as 1
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, (result.exit_code, result.output)
    assert err.startswith("error: "), err
    assert "Traceback" not in err
    assert str(file) in err, err
    if row is not None:
        assert re.search(rf"\brow {row}\b", err), err
    if column is not None:
        assert f"column {column!r}" in err, err
    if path is not None:
        assert f"field {path}:" in err, err
    if value is not None:
        assert f"value {value!r}" in err, err
    assert reason in err, err
    assert result.stdout == ""
    assert not report.exists()
    assert not list(report.parent.glob(f".{report.name}.*")), "temporary report left behind"


@pytest.fixture
def params_file(tmp_path: Path) -> Path:
    return write_params(tmp_path / "params.json", BASE_PARAMS)


@pytest.fixture
def report(tmp_path: Path) -> Path:
    return tmp_path / "out" / "report.json"


# --------------------------------------------------------------------------------------
# valid base
# --------------------------------------------------------------------------------------


def test_base_csv_report_matches_hand_computation(
    tmp_path: Path, params_file: Path, report: Path
) -> None:
    snap = write_csv(tmp_path / "snap.csv", HEADER, ROWS)
    result = run_check(snap, params_file, report, "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    expected = expected_base_report()
    assert json.loads(result.stdout) == expected
    assert json.loads(report.read_text()) == expected


@pytest.mark.parametrize("core", ["reference", "vectorized"])
def test_base_jsonl_report_matches_hand_computation(
    tmp_path: Path, params_file: Path, report: Path, core: str
) -> None:
    snap = write_lines(tmp_path / "snap.jsonl", base_jsonl_lines())
    result = run_check(snap, params_file, report, "--json", "--core", core)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected_base_report()
    assert json.loads(report.read_text()) == expected_base_report()


def test_base_human_report(tmp_path: Path, params_file: Path, report: Path) -> None:
    snap = write_csv(tmp_path / "snap.csv", HEADER, ROWS)
    result = run_check(snap, params_file, report)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"accounts\s+4\n", out)
    assert re.search(r"deficient accounts\s+1\n", out)
    assert re.search(r"total shortfall \(USD\)\s+2,350\.00\n", out)
    assert re.search(r"total equity \(USD\)\s+40,700\.00\n", out)
    assert re.search(r"total requirement \(USD\)\s+2,675\.00\n", out)
    assert re.search(r"USDT\s+31,100\s+2,000\n", out)
    assert re.search(r"BTC\s+0\.7\s+0\.3\n", out)
    assert "first deficient accounts: carol\n" in out
    assert json.loads(report.read_text()) == expected_base_report()


# --------------------------------------------------------------------------------------
# CSV: one bad cell
# --------------------------------------------------------------------------------------

TOO_BIG = "92233720368.54775808"  # 2^63 units of 1e-8
JUST_IN = "92233720368.54775807"  # 2^63 - 1 units
assert int(TOO_BIG.replace(".", "")) == 2**63
assert int(JUST_IN.replace(".", "")) == 2**63 - 1

DECIMALS = "has 9 fractional digits; at most 8 are allowed"
NOT_DECIMAL = "is not a decimal number"
OUT_OF_RANGE = "is out of range"

CSV_CELL_CASES = [
    # (data row index, column, new cell, reason)
    pytest.param(0, "USDT", "1.123456789", DECIMALS, id="too-many-decimals"),
    pytest.param(1, "BTC", "abc", NOT_DECIMAL, id="abc"),
    pytest.param(2, "BTC", "1e5", NOT_DECIMAL, id="exponent"),
    pytest.param(3, "USDT", "nan", NOT_DECIMAL, id="nan"),
    pytest.param(1, "USDT", "1,000", NOT_DECIMAL, id="thousands-separator"),
    pytest.param(2, "BTC-PERP.qty", "inf", NOT_DECIMAL, id="inf"),
    pytest.param(0, "BTC-PERP.cost", "1.", NOT_DECIMAL, id="trailing-dot"),
    pytest.param(0, "BTC", "--1", NOT_DECIMAL, id="double-sign"),
    pytest.param(3, "USDT", TOO_BIG, OUT_OF_RANGE, id="balance-2^63"),
    pytest.param(3, "USDT", "-" + TOO_BIG, OUT_OF_RANGE, id="balance-minus-2^63"),
    pytest.param(0, "BTC-PERP.qty", TOO_BIG, OUT_OF_RANGE, id="qty-2^63"),
    pytest.param(2, "BTC-PERP.cost", "-" + TOO_BIG, OUT_OF_RANGE, id="cost-minus-2^63"),
    pytest.param(2, "account_id", "", "account_id is empty", id="empty-account-id"),
]


@pytest.mark.parametrize(("index", "column", "cell", "reason"), CSV_CELL_CASES)
def test_csv_bad_cell(
    tmp_path: Path,
    params_file: Path,
    report: Path,
    index: int,
    column: str,
    cell: str,
    reason: str,
) -> None:
    rows = copy.deepcopy(ROWS)
    rows[index][HEADER.index(column)] = cell
    snap = write_csv(tmp_path / "snap.csv", HEADER, rows)
    result = run_check(snap, params_file, report)
    assert_rejected(
        result, report, file=snap, row=index + 2, column=column, value=cell, reason=reason
    )


def test_csv_duplicate_account_id_names_both_rows(
    tmp_path: Path, params_file: Path, report: Path
) -> None:
    rows = copy.deepcopy(ROWS)
    rows[3][0] = "bob"  # row 5 repeats the id of row 3
    snap = write_csv(tmp_path / "snap.csv", HEADER, rows)
    result = run_check(snap, params_file, report)
    assert_rejected(
        result,
        report,
        file=snap,
        row=5,
        column="account_id",
        value="bob",
        reason="duplicate account_id (first seen in row 3)",
    )


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("USDT", JUST_IN),
        ("USDT", "-" + JUST_IN),
        ("BTC-PERP.qty", JUST_IN),
        ("BTC-PERP.qty", "-" + JUST_IN),
        ("BTC-PERP.cost", JUST_IN),
        ("BTC-PERP.cost", "-" + JUST_IN),
    ],
)
def test_csv_just_in_bounds_is_accepted(
    tmp_path: Path, params_file: Path, report: Path, column: str, cell: str
) -> None:
    rows = copy.deepcopy(ROWS)
    rows[3][HEADER.index(column)] = cell  # dave
    if column == "BTC-PERP.qty":  # an open position needs a cost (an empty one is an error)
        rows[3][HEADER.index("BTC-PERP.cost")] = "0"
    snap = write_csv(tmp_path / "snap.csv", HEADER, rows)
    outputs = []
    for core in ("reference", "vectorized"):
        result = run_check(snap, params_file, report, "--json", "--core", core)
        assert result.exit_code == 0, result.output
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1]
    assert outputs[0]["accounts"] == 4


def test_csv_largest_balance_totals_by_hand(
    tmp_path: Path, params_file: Path, report: Path
) -> None:
    rows = copy.deepcopy(ROWS)
    rows[3][1] = JUST_IN  # dave's USDT: 2^63 - 1 units instead of 30,000
    snap = write_csv(tmp_path / "snap.csv", HEADER, rows)
    result = run_check(snap, params_file, report, "--json")
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    base = expected_base_report()
    # dave's equity: 100 * ((2^63 - 1) * 1e8 * 10000 - 0.3e8 * 50,000e8 * 10000)
    e_dave = 100 * ((2**63 - 1) * U * 10_000 - 30_000_000 * 50_000 * U * 10_000)
    assert e_dave == (2**63 - 1) * 10**14 - 15_000 * F
    assert got["equity_total"] == base["equity_total"] - 15_000 * F + e_dave
    assert got["assets"]["USDT"]["liabilities"] == (1_000 + 100) * U + 2**63 - 1
    assert got["requirement_total"] == base["requirement_total"]
    assert got["deficient_ids"] == ["carol"]


# --------------------------------------------------------------------------------------
# CSV: header and shape
# --------------------------------------------------------------------------------------


def test_csv_missing_column(tmp_path: Path, params_file: Path, report: Path) -> None:
    snap = write_csv(tmp_path / "snap.csv", HEADER[:-1], [r[:-1] for r in ROWS])
    result = run_check(snap, params_file, report)
    assert_rejected(
        result, report, file=snap, row=1, column="BTC-PERP.cost", reason="missing column"
    )


def test_csv_unknown_column(tmp_path: Path, params_file: Path, report: Path) -> None:
    snap = write_csv(tmp_path / "snap.csv", [*HEADER, "FOO"], [[*r, "1"] for r in ROWS])
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, row=1, column="FOO", reason="unknown column")
    assert "expected: USDT, BTC, BTC-PERP.qty, BTC-PERP.cost" in result.stderr


def test_csv_duplicate_column(tmp_path: Path, params_file: Path, report: Path) -> None:
    snap = write_csv(tmp_path / "snap.csv", [*HEADER, "BTC"], [[*r, "0.1"] for r in ROWS])
    result = run_check(snap, params_file, report)
    assert_rejected(
        result, report, file=snap, row=1, column="BTC", reason="duplicate column in header"
    )


@pytest.mark.parametrize(
    ("index", "change", "cells"),
    [
        pytest.param(1, lambda r: [*r, "7"], 6, id="extra-cell"),
        pytest.param(2, lambda r: r[:-1], 4, id="missing-cell"),
    ],
)
def test_csv_wrong_number_of_cells(
    tmp_path: Path,
    params_file: Path,
    report: Path,
    index: int,
    change: Callable[[list[str]], list[str]],
    cells: int,
) -> None:
    rows = copy.deepcopy(ROWS)
    rows[index] = change(rows[index])
    snap = write_csv(tmp_path / "snap.csv", HEADER, rows)
    result = run_check(snap, params_file, report)
    # the offending value is the cell count
    assert_rejected(
        result,
        report,
        file=snap,
        row=index + 2,
        reason=f"has {cells} cells but the header has 5",
    )


def test_csv_empty_file(tmp_path: Path, params_file: Path, report: Path) -> None:
    snap = tmp_path / "snap.csv"
    snap.write_bytes(b"")
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, row=1, reason="is empty: expected a header row")


def test_csv_header_only(tmp_path: Path, params_file: Path, report: Path) -> None:
    snap = write_csv(tmp_path / "snap.csv", HEADER, [])
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, reason="has no accounts (no data rows)")


def test_error_after_many_good_rows_leaves_no_report(
    tmp_path: Path, params_file: Path, report: Path
) -> None:
    """The duplicate-id check runs after the last block: still nothing may be written."""
    rows = [[f"id{k}", "1", "", "", ""] for k in range(3000)]
    rows.append(["id17", "1", "", "", ""])
    snap = write_csv(tmp_path / "snap.csv", HEADER, rows)
    result = run_check(snap, params_file, report)
    assert_rejected(
        result,
        report,
        file=snap,
        row=3002,
        column="account_id",
        value="id17",
        reason="first seen in row 19",
    )


# --------------------------------------------------------------------------------------
# JSON Lines
# --------------------------------------------------------------------------------------

JSONL_CASES = [
    # (line number, replacement line, column, value, reason)
    pytest.param(
        1,
        '{"account_id": "alice", "USDT": "1.123456789"}',
        "USDT",
        "1.123456789",
        DECIMALS,
        id="too-many-decimals-string",
    ),
    pytest.param(
        2,
        '{"account_id": "bob", "BTC": 1.123456789}',
        "BTC",
        "1.123456789",
        DECIMALS,
        id="too-many-decimals-number",
    ),
    pytest.param(3, '{"account_id": "carol", "USDT": "abc"}', "USDT", "abc", NOT_DECIMAL, id="abc"),
    pytest.param(
        3, '{"account_id": "carol", "BTC": 1e5}', "BTC", "1e5", NOT_DECIMAL, id="exponent"
    ),
    pytest.param(
        2,
        '{"account_id": "bob", "BTC": true}',
        "BTC",
        True,
        "must be a decimal number or string",
        id="boolean",
    ),
    pytest.param(
        4,
        '{"account_id": "dave", "BTC-PERP.qty": ["1"]}',
        "BTC-PERP.qty",
        ["1"],
        "must be a decimal number or string",
        id="list",
    ),
    pytest.param(
        4,
        f'{{"account_id": "dave", "BTC-PERP.cost": "{TOO_BIG}"}}',
        "BTC-PERP.cost",
        TOO_BIG,
        OUT_OF_RANGE,
        id="out-of-range",
    ),
    pytest.param(
        4,
        '{"account_id": "dave", "USDT": "1", "FOO": "1"}',
        "FOO",
        None,
        "unknown key",
        id="unknown-key",
    ),
    pytest.param(
        4,
        '{"account_id": "bob", "USDT": "1"}',
        "account_id",
        "bob",
        "duplicate account_id (first seen in row 2)",
        id="duplicate-id",
    ),
    pytest.param(
        3,
        '{"account_id": "", "USDT": "1"}',
        "account_id",
        "",
        "account_id must be a non-empty string",
        id="empty-id",
    ),
    pytest.param(
        2,
        '{"account_id": 12, "USDT": "1"}',
        "account_id",
        "12",
        "account_id must be a non-empty string, not a JSON number",
        id="numeric-id",
    ),
]


@pytest.mark.parametrize(("line_no", "line", "column", "value", "reason"), JSONL_CASES)
def test_jsonl_bad_line(
    tmp_path: Path,
    params_file: Path,
    report: Path,
    line_no: int,
    line: str,
    column: str,
    value: object,
    reason: str,
) -> None:
    lines = base_jsonl_lines()
    lines[line_no - 1] = line
    snap = write_lines(tmp_path / "snap.jsonl", lines)
    result = run_check(snap, params_file, report)
    assert_rejected(
        result, report, file=snap, row=line_no, column=column, value=value, reason=reason
    )


def test_jsonl_invalid_json(tmp_path: Path, params_file: Path, report: Path) -> None:
    lines = base_jsonl_lines()
    lines[2] = '{"account_id": "carol", "USDT": "100",'
    snap = write_lines(tmp_path / "snap.jsonl", lines)
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, row=3, reason="is not valid JSON")


def test_jsonl_duplicate_key(tmp_path: Path, params_file: Path, report: Path) -> None:
    """json keeps the last of two equal keys silently; the reader must refuse the row."""
    lines = base_jsonl_lines()
    lines[1] = '{"account_id": "bob", "USDT": "-2000", "BTC": "0.2", "USDT": "5"}'
    snap = write_lines(tmp_path / "snap.jsonl", lines)
    result = run_check(snap, params_file, report)
    assert_rejected(
        result, report, file=snap, row=2, column="USDT", reason="duplicate key in the JSON object"
    )


def test_missing_snapshot_file(tmp_path: Path, params_file: Path, report: Path) -> None:
    snap = tmp_path / "nope.csv"
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, reason="cannot be read: No such file")


def test_jsonl_empty_file(tmp_path: Path, params_file: Path, report: Path) -> None:
    snap = tmp_path / "snap.jsonl"
    snap.write_bytes(b"")
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, reason="has no accounts (no data rows)")


# --------------------------------------------------------------------------------------
# params file
# --------------------------------------------------------------------------------------


def _set(path: list[str | int], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        node: Any = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def _delete(path: list[str | int]) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        node: Any = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]

    return change


BR: list[str | int] = ["perps", 0, "brackets"]

PARAMS_CASES = [
    # (change, JSON field path, shown value, reason)
    pytest.param(
        _set(["assets", 1, "price"], "50000.123456789"),
        "assets[1].price",
        "50000.123456789",
        DECIMALS,
        id="price-decimals-string",
    ),
    pytest.param(
        _set(["assets", 1, "price"], 0.123456789),
        "assets[1].price",
        "0.123456789",
        DECIMALS,
        id="price-decimals-number",
    ),
    pytest.param(
        _set(["assets", 0, "price"], "0"),
        "assets[0].price",
        "0",
        "must be positive",
        id="price-zero",
    ),
    pytest.param(
        _set(["assets", 0, "price"], "1e3"),
        "assets[0].price",
        "1e3",
        NOT_DECIMAL,
        id="price-exponent",
    ),
    pytest.param(
        _set(["assets", 0, "price"], TOO_BIG),
        "assets[0].price",
        TOO_BIG,
        OUT_OF_RANGE,
        id="price-2^63",
    ),
    pytest.param(
        _set(["perps", 0, "mark"], "-50000"),
        "perps[0].mark",
        "-50000",
        "must be positive",
        id="negative-mark",
    ),
    pytest.param(
        _set(["assets", 1, "weight_bps"], 10001),
        "assets[1].weight_bps",
        "10001",
        "must be an integer in 0..10000",
        id="weight-10001",
    ),
    pytest.param(
        _set(["assets", 1, "weight_bps"], -1),
        "assets[1].weight_bps",
        "-1",
        "must be an integer in 0..10000",
        id="weight-minus-1",
    ),
    pytest.param(
        _set(["assets", 1, "weight_bps"], 9000.5),
        "assets[1].weight_bps",
        "9000.5",
        "must be an integer in 0..10000",
        id="weight-fraction",
    ),
    pytest.param(
        _set(["assets", 1, "weight_bps"], "9000"),
        "assets[1].weight_bps",
        "9000",
        "must be a JSON integer in 0..10000, not a string",
        id="weight-string",
    ),
    pytest.param(
        _set([*BR, 1, "mmr_ppm"], 4000),
        "perps[0].brackets[1].mmr_ppm",
        "4000",
        "maintenance rates must never decrease (previous bracket has 5000)",
        id="decreasing-mmr",
    ),
    pytest.param(
        _set([*BR, 1, "max_notional"], "10000"),
        "perps[0].brackets[1].max_notional",
        "10000",
        "bracket bounds must strictly increase",
        id="equal-max-notional",
    ),
    pytest.param(
        _set([*BR, 1, "max_notional"], "9999"),
        "perps[0].brackets[1].max_notional",
        "9999",
        "bracket bounds must strictly increase",
        id="decreasing-max-notional",
    ),
    pytest.param(
        _set([*BR, 2, "max_notional"], "1000000"),
        "perps[0].brackets[2].max_notional",
        "1000000",
        "the last bracket must be unbounded",
        id="last-bracket-bounded",
    ),
    pytest.param(
        _set([*BR, 1, "max_notional"], None),
        "perps[0].brackets[1].max_notional",
        "null",
        "only the last bracket may be unbounded",
        id="non-last-null",
    ),
    pytest.param(
        _set([*BR, 2, "mmr_ppm"], 1000001),
        "perps[0].brackets[2].mmr_ppm",
        "1000001",
        "must be an integer in 0..1000000",
        id="mmr-1000001",
    ),
    pytest.param(
        _set(["assets", 1, "symbol"], "btc"),
        "assets[1].symbol",
        "btc",
        "must be a symbol matching [A-Z0-9_-]+",
        id="lowercase-symbol",
    ),
    pytest.param(
        _set(["assets", 1, "symbol"], "USDT"),
        "assets[1].symbol",
        "USDT",
        "duplicate asset symbol",
        id="duplicate-asset",
    ),
    pytest.param(
        _set(["perps", 0, "symbol"], "BTC"),
        "perps[0].symbol",
        "BTC",
        "perp symbol equals an asset symbol",
        id="perp-named-like-asset",
    ),
    pytest.param(
        _set(["assets", 0, "haircut"], 1),
        "assets[0]",
        None,
        "unknown key 'haircut'; allowed keys: symbol, price, weight_bps",
        id="unknown-key",
    ),
    pytest.param(
        _delete(["perps", 0, "mark"]), "perps[0]", None, "missing key 'mark'", id="missing-key"
    ),
    pytest.param(
        _set(["perps", 0, "brackets"], []),
        "perps[0].brackets",
        None,
        "must have 1..16 entries, has 0",
        id="no-brackets",
    ),
]


@pytest.mark.parametrize(("change", "path", "value", "reason"), PARAMS_CASES)
def test_params_bad_field(
    tmp_path: Path,
    report: Path,
    change: Callable[[dict[str, Any]], None],
    path: str,
    value: object,
    reason: str,
) -> None:
    doc = copy.deepcopy(BASE_PARAMS)
    change(doc)
    params = write_params(tmp_path / "risk.json", doc)
    snap = write_csv(tmp_path / "snap.csv", HEADER, ROWS)
    result = run_check(snap, params, report)
    assert_rejected(result, report, file=params, path=path, value=value, reason=reason)


def test_params_duplicate_key(tmp_path: Path, report: Path) -> None:
    text = json.dumps(BASE_PARAMS).replace('"price": "50000"', '"price": "50000", "price": "1"', 1)
    assert text.count('"price"') == 3
    params = tmp_path / "risk.json"
    params.write_text(text, encoding="utf-8")
    snap = write_csv(tmp_path / "snap.csv", HEADER, ROWS)
    result = run_check(snap, params, report)
    assert_rejected(result, report, file=params, path="assets[1]", reason="duplicate key 'price'")


def test_params_invalid_json(tmp_path: Path, report: Path) -> None:
    params = tmp_path / "risk.json"
    params.write_text('{"assets": [\n  {"symbol": "USDT",}\n]}\n', encoding="utf-8")
    snap = write_csv(tmp_path / "snap.csv", HEADER, ROWS)
    result = run_check(snap, params, report)
    assert_rejected(result, report, file=params, row=2, reason="is not valid JSON")


def test_params_missing_file(tmp_path: Path, report: Path) -> None:
    params = tmp_path / "nope.json"
    snap = write_csv(tmp_path / "snap.csv", HEADER, ROWS)
    result = run_check(snap, params, report)
    assert_rejected(result, report, file=params, reason="cannot be read")


def test_reader_memory_does_not_grow_with_rows(tmp_path: Path) -> None:
    """Peak memory is one block plus 8 bytes per account (duplicate check), not the file."""
    import tracemalloc

    from zkmargin.generate import GenerateOptions, generate
    from zkmargin.params import load_params
    from zkmargin.snapshot import SnapshotReader

    peaks = []
    for n in (10_000, 30_000):
        out = tmp_path / str(n)
        generate(out, GenerateOptions(accounts=n, seed=1))
        params = load_params(out / "params.json")
        tracemalloc.start()
        count = sum(len(b) for b in SnapshotReader(out / "snapshot.csv", params, block_size=2048))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert count == n
    # 20,000 more rows may add the digest array (8 B/row, doubling: < 1 MB), nothing else
    assert peaks[1] - peaks[0] < 1_000_000, peaks


# --------------------------------------------------------------------------------------
# inputs an operator meets (issue 11, item 9)
# --------------------------------------------------------------------------------------


def csv_text(rows: list[list[str]] | None = None) -> str:
    lines = [",".join(HEADER)] + [",".join(r) for r in (ROWS if rows is None else rows)]
    return "".join(line + "\n" for line in lines)


def jsonl_text() -> str:
    return "".join(line + "\n" for line in base_jsonl_lines())


def run_check_stdin(data: bytes, params: Path, report: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        main, ["check", "-", "--params", str(params), "--out", str(report), *extra], input=data
    )


def assert_base_report(result: Result, report: Path) -> None:
    assert isinstance(result.exception, SystemExit) or result.exception is None, result.exception
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected_base_report()
    assert json.loads(report.read_text()) == expected_base_report()


@pytest.mark.parametrize("ending", ["\n", "\n\n", "\r\n", "\n  \n"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_trailing_blank_lines_are_ignored(
    tmp_path: Path, params_file: Path, report: Path, fmt: str, ending: str
) -> None:
    text = csv_text() if fmt == "csv" else jsonl_text()
    snap = tmp_path / f"snap.{fmt}"
    snap.write_text(text + ending, encoding="utf-8", newline="")
    assert_base_report(run_check(snap, params_file, report, "--json"), report)


@pytest.mark.parametrize(
    ("fmt", "expected"), [("csv", "a data row"), ("jsonl", "a JSON object")]
)
def test_blank_line_before_a_row_is_an_error(
    tmp_path: Path, params_file: Path, report: Path, fmt: str, expected: str
) -> None:
    if fmt == "csv":
        lines = csv_text().splitlines()  # header, then data rows 2..5
        lines.insert(3, "")  # row 4 is blank, carol moves to row 5
        blank_row = 4
    else:
        lines = base_jsonl_lines()
        lines.insert(2, "")  # line 3 is blank
        blank_row = 3
    snap = write_lines(tmp_path / f"snap.{fmt}", lines)
    result = run_check(snap, params_file, report)
    assert_rejected(
        result, report, file=snap, row=blank_row,
        reason=f"empty line: expected {expected} (blank lines are allowed only at the end)",
    )


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_utf8_bom_is_accepted_in_snapshots(
    tmp_path: Path, params_file: Path, report: Path, fmt: str
) -> None:
    text = csv_text() if fmt == "csv" else jsonl_text()
    snap = tmp_path / f"snap.{fmt}"
    snap.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert_base_report(run_check(snap, params_file, report, "--json"), report)


def test_utf8_bom_is_accepted_in_params(tmp_path: Path, report: Path) -> None:
    params = tmp_path / "params.json"
    params.write_bytes(b"\xef\xbb\xbf" + json.dumps(BASE_PARAMS).encode("utf-8"))
    snap = write_csv(tmp_path / "snap.csv", HEADER, ROWS)
    assert_base_report(run_check(snap, params, report, "--json"), report)


def test_utf8_bom_does_not_hide_params_errors(tmp_path: Path, report: Path) -> None:
    doc = copy.deepcopy(BASE_PARAMS)
    doc["assets"][0]["weight_bps"] = 10001
    params = tmp_path / "params.json"
    params.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc).encode("utf-8"))
    snap = write_csv(tmp_path / "snap.csv", HEADER, ROWS)
    assert_rejected(
        run_check(snap, params, report), report, file=params, path="assets[0].weight_bps",
        value="10001", reason="must be an integer in 0..10000",
    )


EXACT_EXPONENTS = [
    # (row index, column, exponent form, plain form)
    (0, "USDT", "1E+3", "1000"),
    (0, "BTC", "5e-01", "0.5"),
    (1, "BTC-PERP.cost", "-1.47e+05", "-147000"),
    (3, "BTC", "-3.0E-1", "-0.3"),
    (2, "USDT", "1.00000001e+02", "100.000001"),
]


def test_exact_exponent_decimals_are_accepted_in_csv(
    tmp_path: Path, params_file: Path, report: Path
) -> None:
    rows = copy.deepcopy(ROWS)
    for index, column, exponent_form, plain in EXACT_EXPONENTS:
        assert rows[index][HEADER.index(column)] in (plain, "100")
        rows[index][HEADER.index(column)] = exponent_form
    snap = write_csv(tmp_path / "snap.csv", HEADER, rows)
    result = run_check(snap, params_file, report, "--json")
    assert result.exit_code == 0, result.output
    expected = expected_base_report()
    # carol's USDT is 100.000001 instead of 100: one more 1e-6 USDT of liabilities
    expected["assets"]["USDT"]["liabilities"] += 100
    expected["equity_total"] += 100 * 100 * 1 * U * 10_000
    expected["shortfall_total"] -= 100 * 100 * 1 * U * 10_000
    assert json.loads(result.stdout) == expected


def test_exact_exponent_numbers_are_accepted_in_jsonl_as_python_writes_them(
    tmp_path: Path, params_file: Path, report: Path
) -> None:
    """json.dumps writes 0.00001 as 1e-05: such a line must read as the exact decimal."""
    assert json.dumps({"x": 0.00001}) == '{"x": 1e-05}'
    assert json.dumps({"x": 1e16}) == '{"x": 1e+16}'
    lines = base_jsonl_lines()
    lines.append(json.dumps({"account_id": "erin", "USDT": 0.00001, "BTC": 1e-05}))
    snap = write_lines(tmp_path / "snap.jsonl", lines)
    result = run_check(snap, params_file, report, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    expected = expected_base_report()
    assert doc["accounts"] == 5
    assert doc["assets"]["USDT"]["liabilities"] == expected["assets"]["USDT"]["liabilities"] + 1000
    assert doc["assets"]["BTC"]["liabilities"] == expected["assets"]["BTC"]["liabilities"] + 1000


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        pytest.param("1e-9", DECIMALS, id="1e-9"),
        pytest.param("1.5e-08", DECIMALS, id="1.5e-08"),
        pytest.param("1.234567891e+0", DECIMALS, id="nine-digits-e+0"),
        pytest.param("123456789.1e-8", DECIMALS, id="shifted-nine-digits"),
        pytest.param("1e+11", OUT_OF_RANGE, id="1e+11"),
        pytest.param("1e+99999", OUT_OF_RANGE, id="huge-exponent"),
        pytest.param("1e5", NOT_DECIMAL, id="unsigned-exponent"),
        pytest.param("1e+", NOT_DECIMAL, id="no-exponent-digits"),
    ],
)
def test_inexact_or_malformed_exponent_is_refused(
    tmp_path: Path, params_file: Path, report: Path, cell: str, reason: str
) -> None:
    rows = copy.deepcopy(ROWS)
    rows[1][HEADER.index("BTC")] = cell
    snap = write_csv(tmp_path / "snap.csv", HEADER, rows)
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, row=3, column="BTC", value=cell, reason=reason)


def test_inexact_exponent_number_in_jsonl_is_refused(
    tmp_path: Path, params_file: Path, report: Path
) -> None:
    lines = base_jsonl_lines()
    lines[1] = '{"account_id": "bob", "USDT": 1e-9}'
    snap = write_lines(tmp_path / "snap.jsonl", lines)
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, row=2, column="USDT", value="1e-9",
                    reason=DECIMALS)


EMPTY_COST = "the cost is empty but BTC-PERP.qty is"


def test_perp_qty_with_empty_cost_is_an_error_csv(
    tmp_path: Path, params_file: Path, report: Path
) -> None:
    rows = copy.deepcopy(ROWS)
    rows[2][HEADER.index("BTC-PERP.cost")] = ""  # carol: long 1, no cost
    snap = write_csv(tmp_path / "snap.csv", HEADER, rows)
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, row=4, column="BTC-PERP.cost",
                    reason=f"{EMPTY_COST} 1: an open position needs its cost")


def test_empty_cost_is_reported_before_a_later_rows_error(
    tmp_path: Path, params_file: Path, report: Path
) -> None:
    """The empty cost is seen per block; a later row's error must not be reported first."""
    rows = copy.deepcopy(ROWS)
    rows[0][HEADER.index("BTC-PERP.cost")] = ""  # row 2
    rows[3][HEADER.index("USDT")] = "abc"  # row 5
    snap = write_csv(tmp_path / "snap.csv", HEADER, rows)
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, row=2, column="BTC-PERP.cost",
                    reason=f"{EMPTY_COST} 0.1")


@pytest.mark.parametrize("cost", ['"BTC-PERP.cost": null, ', ""])
def test_perp_qty_with_empty_cost_is_an_error_jsonl(
    tmp_path: Path, params_file: Path, report: Path, cost: str
) -> None:
    lines = base_jsonl_lines()
    lines[1] = '{"account_id": "bob", ' + cost + '"BTC-PERP.qty": "-3"}'
    snap = write_lines(tmp_path / "snap.jsonl", lines)
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, row=2, column="BTC-PERP.cost",
                    reason=f"{EMPTY_COST} -3")


def test_zero_cost_and_empty_cost_of_a_flat_position_are_accepted(
    tmp_path: Path, params_file: Path, report: Path
) -> None:
    rows = copy.deepcopy(ROWS)
    rows[3][HEADER.index("BTC-PERP.qty")] = "0"  # dave: qty 0, cost empty
    rows.append(["erin", "1", "", "", "0"])  # qty empty, cost 0
    snap = write_csv(tmp_path / "snap.csv", HEADER, rows)
    result = run_check(snap, params_file, report, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accounts"] == 5


BAD_IDS = [
    pytest.param(" alice", "account_id has leading or trailing whitespace", id="leading-space"),
    pytest.param("alice ", "account_id has leading or trailing whitespace", id="trailing-space"),
    pytest.param("alice\u00a0", "account_id has leading or trailing whitespace", id="nbsp"),
    pytest.param("al\tice", "account_id contains the control character U+0009", id="tab"),
    pytest.param("al\x00ice", "account_id contains the control character U+0000", id="nul"),
    pytest.param("al\x7fice", "account_id contains the control character U+007F", id="del"),
    pytest.param("al\u0085ice", "account_id contains the control character U+0085", id="nel"),
    pytest.param("x" * 257, "account_id is 257 bytes of UTF-8; at most 256 are allowed",
                 id="257-ascii"),
    pytest.param("\u00e9" * 129, "account_id is 258 bytes of UTF-8; at most 256 are allowed",
                 id="129-two-byte-chars"),
]


@pytest.mark.parametrize(("account_id", "reason"), BAD_IDS)
def test_bad_account_id_is_refused_csv(
    tmp_path: Path, params_file: Path, report: Path, account_id: str, reason: str
) -> None:
    rows = copy.deepcopy(ROWS)
    rows[2][0] = account_id
    snap = write_csv(tmp_path / "snap.csv", HEADER, rows)
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, row=4, column="account_id", value=account_id,
                    reason=reason)


@pytest.mark.parametrize(("account_id", "reason"), BAD_IDS)
def test_bad_account_id_is_refused_jsonl(
    tmp_path: Path, params_file: Path, report: Path, account_id: str, reason: str
) -> None:
    lines = base_jsonl_lines()
    lines[2] = json.dumps({"account_id": account_id, "USDT": "100"})
    snap = write_lines(tmp_path / "snap.jsonl", lines)
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, row=3, column="account_id", value=account_id,
                    reason=reason)


def test_account_id_limits_are_accepted(tmp_path: Path, params_file: Path, report: Path) -> None:
    """256 bytes, inner spaces and non-ASCII letters are fine."""
    ids = ["x" * 256, "\u00e9" * 128, "carol smith", "\u6c34-7", "a"]
    rows = [[i, "1", "", "", ""] for i in ids]
    snap = write_csv(tmp_path / "snap.csv", HEADER, rows)
    result = run_check(snap, params_file, report, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accounts"] == 5


@pytest.fixture
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where standard input is spooled (checked empty afterwards)."""
    import tempfile

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    return spool


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_stdin_snapshot(
    params_file: Path, report: Path, spool_dir: Path, fmt: str
) -> None:
    text = csv_text() if fmt == "csv" else jsonl_text()
    extra = ["--format", fmt] if fmt == "jsonl" else []  # csv is the default for '-'
    result = run_check_stdin(text.encode("utf-8"), params_file, report, "--json", *extra)
    assert_base_report(result, report)
    assert list(spool_dir.iterdir()) == []


def test_stdin_is_read_twice_for_duplicates_and_named_in_errors(
    params_file: Path, report: Path, spool_dir: Path
) -> None:
    """The duplicate check reads the snapshot a second time: stdin is spooled for it."""
    rows = copy.deepcopy(ROWS)
    rows[3][0] = "bob"
    result = run_check_stdin(csv_text(rows).encode(), params_file, report)
    assert_rejected(result, report, file=Path("<stdin>"), row=5, column="account_id",
                    value="bob", reason="duplicate account_id (first seen in row 3)")
    assert list(spool_dir.iterdir()) == []


def test_stdin_jsonl_without_format_is_read_as_csv(
    params_file: Path, report: Path, spool_dir: Path
) -> None:
    result = run_check_stdin(jsonl_text().encode(), params_file, report)
    assert_rejected(result, report, file=Path("<stdin>"), row=1,
                    reason="missing column 'account_id' in header")
    assert list(spool_dir.iterdir()) == []


@pytest.mark.parametrize("name", ["snap.csv.gz", "snap.jsonl.gz", "snap.ndjson.gz"])
def test_gzip_snapshots_are_read_transparently(
    tmp_path: Path, params_file: Path, report: Path, name: str
) -> None:
    import gzip

    text = csv_text() if ".csv" in name else jsonl_text()
    snap = tmp_path / name
    snap.write_bytes(gzip.compress(b"\xef\xbb\xbf" + text.encode("utf-8") + b"\n"))
    assert_base_report(run_check(snap, params_file, report, "--json"), report)


def test_gzip_errors_are_located(tmp_path: Path, params_file: Path, report: Path) -> None:
    import gzip

    rows = copy.deepcopy(ROWS)
    rows[1][HEADER.index("USDT")] = "1e-9"
    snap = tmp_path / "snap.csv.gz"
    snap.write_bytes(gzip.compress(csv_text(rows).encode()))
    assert_rejected(run_check(snap, params_file, report), report, file=snap, row=3,
                    column="USDT", value="1e-9", reason=DECIMALS)
    truncated = tmp_path / "cut.csv.gz"
    truncated.write_bytes(gzip.compress(csv_text().encode())[:-12])
    assert_rejected(run_check(truncated, params_file, report), report, file=truncated,
                    reason="is not valid gzip data")


def test_unknown_extension_mentions_format_option(
    tmp_path: Path, params_file: Path, report: Path
) -> None:
    snap = write_csv(tmp_path / "snap.txt", HEADER, ROWS)
    result = run_check(snap, params_file, report)
    assert_rejected(result, report, file=snap, reason="unknown snapshot format")
    assert "--format csv, jsonl or parquet" in result.stderr
    assert_base_report(run_check(snap, params_file, report, "--json", "--format", "csv"),
                       report)


@pytest.mark.parametrize(("delimiter", "label"), [(";", "semicolon"), ("\t", "tab")])
def test_other_delimiter_gets_a_hint(
    tmp_path: Path, params_file: Path, report: Path, delimiter: str, label: str
) -> None:
    snap = tmp_path / "snap.csv"
    with snap.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=delimiter, lineterminator="\n").writerows([HEADER, *ROWS])
    result = run_check(snap, params_file, report)
    assert_rejected(
        result, report, file=snap, row=1, value=delimiter.join(HEADER),
        reason=f"the file looks {label}-separated; a CSV snapshot is comma-separated",
    )


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789+-.eE _\u0663\u00b2", max_size=14))
def test_the_fast_decimal_path_accepts_exactly_what_the_regex_does(text: str) -> None:
    """parse_fixed takes plain decimals without the regex (most of the time of reading a
    snapshot); on any text it must give the same value or the same refusal as the regex
    path alone (ASCII digits only, 1-8 fraction digits, a dot needs digits after it)."""
    from zkmargin.errors import ValueRangeError
    from zkmargin.fixed import _parse_fixed_slow, parse_fixed

    for exponent in (False, True):
        try:
            expected: int | str = _parse_fixed_slow(text, exponent)
        except ValueRangeError as exc:
            expected = str(exc)
        try:
            got: int | str = parse_fixed(text, exponent=exponent)
        except ValueRangeError as exc:
            got = str(exc)
        assert got == expected, (text, exponent)


def test_a_very_long_number_is_refused_as_out_of_range_not_a_crash() -> None:
    """Thousands of digits: the located out-of-range refusal, never Python's int() limit."""
    from zkmargin.errors import ValueRangeError
    from zkmargin.fixed import parse_fixed

    assert parse_fixed("9" * 900, exponent=True) > 1 << 63  # the caller refuses it, located
    for text in ("9" * 4295, "-" + "1" * 5000 + ".5", "1." + "0" * 5000 + "e+0"):
        with pytest.raises(ValueRangeError, match="characters long: far out of range"):
            parse_fixed(text, exponent=True)
