"""The account holders' page (verifier/web/, `zkmargin inclusion page`) in a real browser.

Debian's headless Chromium, driven by playwright, opens the page from file:// with every
request that is not file:// refused and recorded (tests/support/web.py). On the shared
proved exchange, every honest inclusion file is "included" with the holder's true values,
and every changed file (balance, salt, path entry, label order, root, params, a proof
byte, a commitment, ...) fails naming its check. `zkmargin inclusion verify --json` runs
on the same inputs each time: the page and the CLI give the same verdict, check and facts.
A screenshot of each outcome is saved in the test's tmp dir.
"""

from __future__ import annotations

import copy
import csv
import functools
import http.server
import json
import random
import re
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest

from tests.conftest import load_vector
from tests.support.cli import ROOT, zk
from tests.support.exchange import Exchange, copy_artifacts
from tests.support.web import (
    DIST,
    PageRun,
    assert_same_verdict,
    build_page_lib,
    check_in_page,
    chromium,
    cli_verdict,
    default_shape,
    options_book,
    page_lib,
)
from tests.test_options import PARAMS_CASES
from zkmargin.artifacts import public_files, sha256_file
from zkmargin.commitments import account_id_digest, account_leaf, id_hash, padding_leaf
from zkmargin.devsetup import dev_points
from zkmargin.errors import InputError
from zkmargin.field import SNARK_FIELD
from zkmargin.fixed import parse_fixed
from zkmargin.margin.reference import account_margin
from zkmargin.merkle import MerkleTree
from zkmargin.params import OPTION_SCALE, load_params, loads_params
from zkmargin.report import usd
from zkmargin.riskarrays import sample_market
from zkmargin.statement import CircuitShape, circuit_params, hash_of_params
from zkmargin.verifier import inclusion
from zkmargin.verifier.page import build_bundle

pytestmark = [pytest.mark.circuit, pytest.mark.node, pytest.mark.slow]

HOLDER = "acct-000000009"  # last batch (partial), holds a perp position
PAGE_FILES = {"index.html", "zkmargin-verify.js", "published.js"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def bundle() -> Path:
    build_bundle()
    return DIST / "index.html"


def publish(art: Path, out: Path) -> Path:
    proc = zk("inclusion", "page", "--artifacts", str(art), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "WARNING: INSECURE development setup" in proc.stdout
    return out / "index.html"


@pytest.fixture(scope="module")
def site(exchange: Exchange, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return publish(exchange.art, tmp_path_factory.mktemp("web") / "site")


def export(exchange: Exchange | Path, account: str, out: Path) -> Path:
    """``zkmargin inclusion export`` of ``account`` (the artifacts: an Exchange's, or a path)."""
    art = exchange.art if isinstance(exchange, Exchange) else exchange
    proc = zk("inclusion", "export", str(art), "--account", account, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def only_files(run: PageRun, *names: str) -> None:
    """The page asked for nothing but files beside it (and never the network)."""
    assert run.refused == []
    assert run.requests and all(u.startswith("file://") for u in run.requests), run.requests
    assert {u.rsplit("/", 1)[-1] for u in run.requests} == set(names), run.requests


def edit_json(path: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=1))


def rehash(art: Path) -> None:
    """Rewrite the manifest's sha256 list, as an exchange that changed files would."""
    manifest = json.loads((art / "manifest.json").read_text())
    manifest["files"] = {p.relative_to(art).as_posix(): sha256_file(p) for p in public_files(art)}
    (art / "manifest.json").write_text(json.dumps(manifest, indent=1))


# --------------------------------------------------------------------------------------
# the page's code against the Python it mirrors, under node (no browser): params rules and
# their messages, the params hash, leaves, margin figures
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_page_lib(tmp_path_factory.mktemp("web-lib") / "zkmargin-lib.mjs")


#: Params with everything the hash covers: tiers of different lengths (1, 2, 4 tiers), a
#: one-bracket perp, group perps, options with zero marks and minimums, negative and
#: extreme risk values, non-ASCII scenario names, groups listed out of order.
EDGE_PARAMS: dict[str, Any] = {
    "assets": [
        {"symbol": "USDT", "price": "1", "weight_bps": 10000},
        {"symbol": "BTC", "price": "97000.12345678", "tiers": [
            {"max_value": "250000", "weight_bps": 9500},
            {"max_value": "1000000", "weight_bps": 9000},
            {"max_value": "5000000.5", "weight_bps": 7000},
            {"max_value": None, "weight_bps": 0}]},
        {"symbol": "ETH", "price": "3500", "tiers": [
            {"max_value": "50000", "weight_bps": 9000},
            {"max_value": None, "weight_bps": 8000}]},
        {"symbol": "SOL", "price": "180.5", "weight_bps": 0}],
    "perps": [
        {"symbol": "BTC-PERP", "mark": "97010", "group": "BTC",
         "risk": ["14551.5", "-14551.5", "0", "92233720368.54775807", "-92233720368.54775807"]},
        {"symbol": "ETH-PERP", "mark": "3501", "brackets": [
            {"max_notional": None, "mmr_ppm": 5000}]},
        {"symbol": "SOL-PERP", "mark": "180", "brackets": [
            {"max_notional": "10000", "mmr_ppm": 10000},
            {"max_notional": "20000", "mmr_ppm": 10000},
            {"max_notional": "90000", "mmr_ppm": 25000},
            {"max_notional": None, "mmr_ppm": 1000000}]},
        {"symbol": "ETH-PERP-Q", "mark": "3510", "group": "ETH",
         "risk": ["-1", "2", "-3", "4", "-0.00000001"]}],
    "options": [
        {"symbol": "BTC-27MAR26-100000-C", "group": "BTC", "mark": "4310.25",
         "short_min": "97", "risk": ["-3000", "5000.5", "-0.00000001", "0", "12"]},
        {"symbol": "ETH-27MAR26-3000-P", "group": "ETH", "mark": "0", "short_min": "0",
         "risk": ["0", "0", "0", "0", "0"]},
        {"symbol": "SOL-C-200", "group": "SOL_G", "mark": "0.00000001", "short_min": "1",
         "risk": ["1", "-1", "1", "-1", "92233720368.54775807"]}],
    "portfolio": {"scenarios": [{"name": "down 15% \u2193"}, {"name": "up 15% \U0001f680"},
                                {"name": "vol +10"}, {"name": "x" * 256},
                                {"name": "Cr\u00e8me \"br\u00fbl\u00e9e\""}],
                  "groups": ["SOL_G", "ETH", "BTC"]},
}


def _params_texts(tmp_path: Path, exchange_params: Path | None = None) -> dict[str, str]:
    """Params files with tiers, options and group perps, made every way the project makes
    them: the hand-computed vector's, `zkmargin generate` (tiers, options, group perps,
    5 and 32 scenarios), `zkmargin params risk-arrays` of the sample market, the edge
    cases above; and plain ones without any of these."""
    texts = {
        "portfolio-vector": json.dumps(load_vector("portfolio_cases.json")["params"]),
        "margin-vector": json.dumps(load_vector("margin_cases.json")["params"]),
        "edge": json.dumps(EDGE_PARAMS, indent=1),
    }
    for name, args in (("generated-5", ("--assets", "4", "--perps", "3", "--options", "7",
                                        "--groups", "2", "--scenarios", "5", "--tiers",
                                        "--group-perps")),
                       ("generated-32", ("--assets", "6", "--perps", "4", "--brackets", "5",
                                         "--options", "24", "--groups", "3", "--scenarios",
                                         "32", "--tiers")),
                       ("generated-plain", ("--assets", "3", "--perps", "2"))):
        out = tmp_path / name
        proc = zk("generate", "--accounts", "3", *args, "--seed", "5", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        texts[name] = (out / "params.json").read_text()
    market = tmp_path / "market.json"
    market.write_text(json.dumps(sample_market()))
    proc = zk("params", "risk-arrays", str(market), "--out", str(tmp_path / "sample.json"))
    assert proc.returncode == 0, proc.stderr
    texts["sample-market"] = (tmp_path / "sample.json").read_text()
    if exchange_params is not None:
        texts["exchange"] = exchange_params.read_text()
    return texts


def test_params_hash_in_the_page_is_pythons(lib: Path, tmp_path: Path) -> None:
    """The page's params hash (and every value it folds, in order) equals
    statement.hash_of_params on params with tiers, options and group perps."""
    texts = _params_texts(tmp_path)
    answers = page_lib(lib, [{"op": "params", "text": t, "file": f"{n}.json"}
                             for n, t in texts.items()])
    kinds = set()
    for (name, text), got in zip(texts.items(), answers, strict=True):
        params = loads_params(text, f"{name}.json")
        shape = CircuitShape.for_params(params, 1)
        cp = circuit_params(params, shape)
        assert "error" not in got, (name, got)
        assert got["shape"] == {"assets": shape.assets, "perps": shape.perps,
                                "brackets": shape.brackets, "depth": 0, "tiers": shape.tiers,
                                "options": shape.options, "groups": shape.groups,
                                "scenarios": shape.scenarios}, name
        assert got["groups"] == list(params.groups), name
        assert [int(v) for v in got["values"]] == cp.hashed_values(shape), name
        assert int(got["hash"]) == hash_of_params(params, shape), name
        kinds |= {k for k, present in (("tiers", shape.tiers > 1), ("options", shape.options),
                                       ("group perps", any(p.grouped for p in params.perps)),
                                       ("negative risk", any(v < 0 for row in cp.risk
                                                             for v in row)),
                                       ("plain", not shape.scenarios)) if present}
    assert kinds == {"tiers", "options", "group perps", "negative risk", "plain"}


def test_params_hash_padded_to_a_larger_circuit_in_the_page(lib: Path) -> None:
    """A published params.json hashed for the manifest's circuit, which may have more
    brackets and tiers than the params need (padded tables): the page's hash is
    hash_of_params for that shape; a circuit too small is refused with Python's message."""
    texts = {"edge": json.dumps(EDGE_PARAMS),
             "portfolio": json.dumps(load_vector("portfolio_cases.json")["params"]),
             "margin": json.dumps(load_vector("margin_cases.json")["params"])}
    requests, expected = [], []
    for name, text in texts.items():
        params = loads_params(text)
        base = CircuitShape.for_params(params, 1)
        for extra in ({"brackets": base.brackets + 3}, {"tiers": base.tiers + 2},
                      {"brackets": 16, "tiers": 16}, {"brackets": base.brackets - 1},
                      {"tiers": base.tiers - 1}):
            requests.append({"op": "params", "text": text, "file": name, "shape": extra})
            try:
                shape = replace(base, **extra)
                want = {"hash": str(hash_of_params(params, shape))}
            except ValueError as exc:
                want = {"error": str(exc)}
            expected.append(want)
    answers = page_lib(lib, requests)
    got = [{"hash": a["hash"]} if "hash" in a else a for a in answers]
    assert got == expected
    assert sum("error" in e for e in expected) >= 4


def _bad_params_cases() -> list[tuple[str, dict[str, Any]]]:
    """Every params case of tests/test_options.py (one change to the portfolio vector's
    params), and more: each must be refused with Python's exact message."""
    base: dict[str, Any] = load_vector("portfolio_cases.json")["params"]
    cases = []
    for case in PARAMS_CASES:
        doc = copy.deepcopy(base)
        cast("Callable[[dict[str, Any]], Any]", case.values[0])(doc)
        cases.append((str(case.id), doc))

    def changed(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
        doc = copy.deepcopy(base)
        change(doc)
        return doc

    more: dict[str, Callable[[dict[str, Any]], Any]] = {
        "groups-null-is-absent": lambda d: d["portfolio"].update(groups=None),
        "groups-not-a-list": lambda d: d["portfolio"].update(groups="BTC"),
        "options-null": lambda d: d.update(options=None),
        "scenario-name-number": lambda d: d["portfolio"]["scenarios"][0].update(name=7),
        "scenario-name-257": lambda d: d["portfolio"]["scenarios"][0].update(name="\u00e9" * 257),
        "scenario-name-256-astral": lambda d: d["portfolio"]["scenarios"][0].update(
            name="\U0001f680" * 256),
        "scenario-extra-key": lambda d: d["portfolio"]["scenarios"][1].update(weight="1"),
        "scenario-not-object": lambda d: d["portfolio"]["scenarios"].__setitem__(1, "vol"),
        "top-unknown-key": lambda d: d.update(margin=1),
        "perp-group-without-risk": lambda d: d["perps"][0].pop("risk"),
        "perp-risk-without-group": lambda d: d["perps"][0].pop("group"),
        "perp-risk-not-list": lambda d: d["perps"][0].update(risk="7500"),
        "perp-risk-float": lambda d: d["perps"][0]["risk"].__setitem__(0, 1.5),
        "option-mark-bool": lambda d: d["options"][1].update(mark=True),
        "option-missing-short-min": lambda d: d["options"][2].pop("short_min"),
        "option-not-object": lambda d: d["options"].__setitem__(3, ["ETH-P-2000"]),
        "option-group-lowercase": lambda d: d["options"][3].update(group="eth"),
        "listed-group-not-symbol": lambda d: d["portfolio"].update(groups=["BTC", 3]),
        "tiers-not-list": lambda d: d["assets"][1].update(tiers={"max_value": None}),
        "tier-weight-string": lambda d: d["assets"][1]["tiers"][0].update(weight_bps="9500"),
        "tier-bound-decimals": lambda d: d["assets"][1]["tiers"][0].update(
            max_value="1.000000001"),
        "17-tiers": lambda d: d["assets"][1].update(tiers=[
            {"max_value": str(k + 1), "weight_bps": 9000} for k in range(16)]
            + [{"max_value": None, "weight_bps": 9000}]),
        "241-options": lambda d: d.update(options=[
            dict(d["options"][0], symbol=f"O{j}") for j in range(241)]),
        "option-symbol-32": lambda d: d["options"][0].update(symbol="C" * 32),
    }
    cases += [(name, changed(change)) for name, change in more.items()]
    return cases


def test_params_rules_and_messages_in_the_page_are_pythons(lib: Path) -> None:
    cases = _bad_params_cases()
    texts = [json.dumps(doc, indent=1) for _, doc in cases]
    answers = page_lib(lib, [{"op": "params", "text": t, "file": "risk.json"} for t in texts])
    accepted = []
    for (name, _), text, got in zip(cases, texts, answers, strict=True):
        try:
            params = loads_params(text, "risk.json")
        except InputError as exc:
            assert got == {"error": str(exc)}, name
        else:
            accepted.append((name, params, got))
    # valid: null is no list; 256 characters (each 2 UTF-16 units); a JSON number
    assert [name for name, _, _ in accepted] == ["groups-null-is-absent",
                                                 "scenario-name-256-astral", "perp-risk-float"]
    for _name, params, got in accepted:
        assert int(got["hash"]) == hash_of_params(params, CircuitShape.for_params(params, 1))


def test_margin_figures_in_the_page_are_the_references(lib: Path) -> None:
    """E, MM per perp, PM per group and R of every hand-computed portfolio account (tiers,
    options, a group perp, a bracket perp): the page's equal Python's reference and the
    hand-computed figures."""
    vector = load_vector("portfolio_cases.json")
    text = json.dumps(vector["params"])
    params = loads_params(text)
    requests, expected = [], []
    for a in vector["accounts"]:
        x, q, c, o = ([parse_fixed(v) for v in a[k]]
                      for k in ("balances", "qty", "cost", "options"))
        m = account_margin(params, x, q, c, o)
        assert (m.equity, m.requirement) == (usd_f(a["equity_usd"]), usd_f(a["requirement_usd"]))
        assert list(m.portfolio) == [usd_f(v) for v in a["pm_usd"]], a["id"]
        requests.append({"op": "margin", "text": text, **{k: [str(v) for v in vals] for k, vals
                                                          in zip("xqco", (x, q, c, o),
                                                                 strict=True)}})
        expected.append({"equity": str(m.equity), "requirement": str(m.requirement),
                         "maintenance": [str(v) for v in m.maintenance],
                         "portfolio": [str(v) for v in m.portfolio]})
    assert page_lib(lib, requests) == expected


def test_page_margin_on_the_shared_vectors(lib: Path) -> None:
    """tests/js/web_vectors.mjs: the page's margin code reads the shared hand-computed
    vectors itself (no Python between) and gives every account's E, MM, PM, R and
    deficiency and the totals."""
    vectors = [ROOT / "tests" / "vectors" / name
               for name in ("margin_cases.json", "portfolio_cases.json")]
    proc = subprocess.run(["node", str(ROOT / "tests" / "js" / "web_vectors.mjs"), str(lib),
                           *map(str, vectors)], capture_output=True, text=True, timeout=600,
                          check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report == {v.name: {"accounts": len(load_vector(v.name)["accounts"]),
                               "mismatches": []} for v in vectors}


def test_leaves_in_the_page_are_pythons(lib: Path) -> None:
    """Account leaves with option slots (3 to 40 slots, extremes included) and padding
    leaves of shapes with options."""
    rng = random.Random(7)
    lim = (1 << 63) - 1
    requests: list[dict[str, Any]] = []
    expected: list[dict[str, Any]] = []
    for a, p, o in ((1, 0, 1), (2, 1, 1), (3, 1, 4), (2, 2, 9), (8, 4, 28), (4, 0, 7)):
        values = [rng.choice([0, 1, -1, lim, -lim, rng.randrange(-lim, lim)])
                  for _ in range(a + 2 * p + o)]
        x, q, c, opt = values[:a], values[a:a + p], values[a + p:a + 2 * p], values[a + 2 * p:]
        idh = rng.randrange(1, SNARK_FIELD)
        requests.append({"op": "leaf", "id_hash": str(idh),
                         **{k: [str(v) for v in vals] for k, vals in
                            (("balances", x), ("qty", q), ("cost", c), ("options", opt))}})
        expected.append({"leaf": str(account_leaf(idh, x, q, c, options=opt))})
        requests.append({"op": "padding", "assets": a, "perps": p, "options": o})
        expected.append({"leaf": str(padding_leaf(a, p, o))})
    assert page_lib(lib, requests) == expected


def unproved_book(params_doc: dict[str, Any], accounts: list[dict[str, Any]],
                  batch_size: int = 32) -> list[dict[str, Any]]:
    """Inclusion files (format of `zkmargin inclusion export`) of ``accounts`` (the
    portfolio vector's layout: decimal strings), committed in one tree by the Python
    commitments, without proofs: for the checks before the batch proof."""
    params = loads_params(json.dumps(params_doc))
    rng = random.Random(11)
    rows = []
    for a in accounts:
        x, q, c, o = ([parse_fixed(v) for v in a[k]]
                      for k in ("balances", "qty", "cost", "options"))
        salt = rng.randrange(1 << 248)
        leaf = account_leaf(id_hash(account_id_digest(a["id"]), salt), x, q, c, options=o)
        rows.append((a, salt, leaf))
    shape = CircuitShape.for_params(params, batch_size)
    tree = MerkleTree.build([leaf for _, _, leaf in rows], depth=shape.depth,
                            pad_leaf=padding_leaf(shape.assets, shape.perps, shape.options))
    ph = hash_of_params(params, shape)
    files = []
    for i, (a, salt, leaf) in enumerate(rows):
        files.append({
            "format": "zkmargin-inclusion/2", "account_id": a["id"], "salt": str(salt),
            "balances": dict(zip(params.asset_symbols, a["balances"], strict=True)),
            "positions": {p: {"qty": qv, "cost": cv} for p, qv, cv in
                          zip(params.perp_symbols, a["qty"], a["cost"], strict=True)},
            "options": dict(zip(params.option_symbols, a["options"], strict=True)),
            "leaf": str(leaf), "leaf_index": i, "path": [str(v) for v in tree.path(i)],
            "batch_index": 0, "batch_count": 1, "batch_size": batch_size,
            "tree_depth": shape.depth, "root": str(tree.root), "params_hash": str(ph),
            "params": params.to_json()})
    return files


def usd_f(text: str) -> int:
    """A USD decimal of the vectors in F (USD x 1e22)."""
    return parse_fixed(text) * 10**14


def python_verdict(doc: dict[str, Any], file: Path, root: int | None,
                   params_hash: int | None) -> dict[str, Any]:
    """``inclusion.verify`` (the truth the page mirrors) of ``doc`` written to ``file``:
    ``{"verified": True, "verdict": ...}`` or the failed check and its exact message."""
    file.write_text(json.dumps(doc, indent=1))
    try:
        verdict = inclusion.verify(file, root=root, expected_params_hash=params_hash)
    except inclusion.InclusionError as exc:
        return {"verified": False, "check": exc.check, "reason": str(exc)}
    return {"verified": True, "verdict": verdict.to_json()}


def _verify_request(doc: dict[str, Any], file: Path, root: int | None,
                    params_hash: int | None) -> dict[str, Any]:
    return {"op": "verify", "text": json.dumps(doc, indent=1), "name": str(file),
            "root": None if root is None else str(root),
            "params_hash": None if params_hash is None else str(params_hash)}


def options_forgeries(me: dict[str, Any]) -> dict[str, tuple[dict[str, Any], str]]:
    """Changes to the inclusion file of an account holding at least two options, each with
    the check it must fail: option sizes, option labels, the options' params."""
    sym = next(o for o, q in me["options"].items() if q != "0")
    other = next(o for o in me["options"] if o != sym)

    def changed(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
        doc = copy.deepcopy(me)
        change(doc)
        return doc

    def option_param(key: str, value: Any) -> Callable[[dict[str, Any]], Any]:
        return lambda d: next(o for o in d["params"]["options"] if o["symbol"] == sym).update(
            {key: value})

    return {
        # option sizes: the leaf, or the file's own rules
        "option-size": (changed(lambda d: d["options"].update(
            {sym: str(parse_fixed(me["options"][sym]) // 10**8 - 1)})), "leaf"),
        "option-size-sign": (changed(lambda d: d["options"].update(
            {sym: me["options"][sym].lstrip("-") if me["options"][sym].startswith("-")
             else "-" + me["options"][sym]})), "leaf"),
        "option-size-other": (changed(lambda d: d["options"].update({other: "0.00000001"})),
                              "leaf"),
        "option-size-number": (changed(lambda d: d["options"].update({sym: -1})), "file"),
        "option-size-9-decimals": (changed(lambda d: d["options"].update(
            {sym: "-1.000000001"})), "file"),
        "option-size-2^63": (changed(lambda d: d["options"].update(
            {sym: "92233720368.54775808"})), "file"),
        "option-size-text": (changed(lambda d: d["options"].update({sym: "minus one"})),
                             "file"),
        "options-a-list": (changed(lambda d: d.update(options=list(me["options"].values()))),
                           "file"),
        # option labels: exactly the hashed params' options, in their order
        "option-label": (changed(lambda d: d.update(options={
            ("BTC-C-55000" if k == sym else k): v for k, v in me["options"].items()})),
            "labels"),
        "option-order": (changed(lambda d: d.update(
            options=dict(reversed(list(me["options"].items()))))), "labels"),
        "option-dropped": (changed(lambda d: d["options"].pop(other)), "labels"),
        "option-extra": (changed(lambda d: d["options"].update({"BTC-C-99999": "0"})),
                         "labels"),
        "options-missing": (changed(lambda d: d.pop("options")), "labels"),
        # the options' params: the params hash
        "option-mark": (changed(option_param("mark", "2001")), "params"),
        "option-short-min": (changed(option_param("short_min", "0")), "params"),
        "option-risk": (changed(option_param("risk", ["1500", "-200", "-4001"])), "params"),
        "option-group": (changed(option_param("group", "ETH")), "params"),
        "option-symbol": (changed(option_param("symbol", "BTC-C-55000")), "params"),
        "scenario-name": (changed(lambda d: d["params"]["portfolio"]["scenarios"][0].update(
            name="down-16%")), "params"),
        "tier-weight": (changed(lambda d: d["params"]["assets"][1]["tiers"][1].update(
            weight_bps=9400)), "params"),
        "group-perp-risk": (changed(lambda d: d["params"]["perps"][0]["risk"].__setitem__(
            2, "-7499")), "params"),
        "option-invalid": (changed(option_param("short_min", "-1")), "params"),
        "params-hash": (changed(lambda d: d.update(params_hash=str(int(me["params_hash"])
                                                                   + 1))), "params"),
    }


def test_options_accounts_in_the_page(lib: Path, tmp_path: Path) -> None:
    """Every hand-computed portfolio account (tiers, options, a group perp) committed in a
    tree: the page's checks include it with its options, the reference's figures (E, MM
    per bracket perp, PM per group, R, excess, status) and the whole verdict of
    ``inclusion.verify``; every forgery of an option size, label or parameter fails the
    same check with the same message as in Python."""
    vector = load_vector("portfolio_cases.json")
    files = unproved_book(vector["params"], vector["accounts"])
    params = loads_params(json.dumps(vector["params"]))
    root, ph = int(files[0]["root"]), int(files[0]["params_hash"])
    file = tmp_path / "me.json"
    answers = page_lib(lib, [_verify_request(f, file, root, ph) for f in files])
    for a, f, got in zip(vector["accounts"], files, answers, strict=True):
        assert got == python_verdict(f, file, root, ph), a["id"]
        v = got["verdict"]
        assert v["included"] and v["root_confirmed"] and not v["proof_checked"]
        assert v["options"] == f["options"] and list(v["options"]) == list(params.option_symbols)
        assert (int(v["equity"]), int(v["requirement"])) == \
            (usd_f(a["equity_usd"]), usd_f(a["requirement_usd"])), a["id"]
        assert [int(x) for x in v["portfolio"].values()] == [usd_f(x) for x in a["pm_usd"]]
        assert list(v["maintenance"]) == ["ETH-PERP"]  # the group perp has no MM
        assert v["status"] == ("deficient" if a["deficient"] else "sufficient")
        held = [f"{o} option {q}" for o, q in f["options"].items() if q != "0"]
        assert all(h in v["sentence"] for h in held), (held, v["sentence"])

    i = next(k for k, a in enumerate(vector["accounts"]) if a["id"] == "everything")
    forgeries = options_forgeries(files[i])
    requests = [_verify_request(doc, file, root, ph) for doc, _ in forgeries.values()]
    answers = page_lib(lib, requests)
    for (name, (doc, check)), got in zip(forgeries.items(), answers, strict=True):
        assert got == python_verdict(doc, file, root, ph), name
        assert got["check"] == check, (name, got)
    reasons = {name: got["reason"] for name, got in zip(forgeries, answers, strict=True)}
    assert reasons["option-size"].endswith("a balance, position, option or the salt was "
                                           "changed")
    assert reasons["option-size-9-decimals"].startswith(
        f"check 'file' failed: {file}: field options.BTC-C-50000: value '-1.000000001': ")
    assert reasons["option-label"] == (
        "check 'labels' failed: the file labels its options ['BTC-C-55000', 'BTC-P-45000', "
        "'ETH-C-2000', 'ETH-P-2000'], the hashed params list ['BTC-C-50000', 'BTC-P-45000', "
        "'ETH-C-2000', 'ETH-P-2000']")
    assert reasons["options-missing"].startswith("check 'labels' failed: the file has no "
                                                 "'options'")
    assert "the params in the file hash to" in reasons["option-mark"]
    assert "options[0].short_min" in reasons["option-invalid"]


# --------------------------------------------------------------------------------------
# the page's constants, the publishing command
# --------------------------------------------------------------------------------------


def test_dev_setup_points_in_the_page_are_the_python_ones() -> None:
    source = (ROOT / "verifier" / "web" / "src" / "groth16.js").read_text()

    def constant(name: str) -> list[int]:
        m = re.search(rf"export const {name} = (\[.*?\]);\n", source, re.S)
        assert m, name
        return [int(v) for v in re.findall(r"(\d+)n", m.group(1))]

    points = dev_points()
    alpha = points["alpha_g1"]
    beta = points["beta_g2"]
    assert isinstance(alpha, tuple) and isinstance(beta, tuple)
    assert constant("DEV_ALPHA_G1") == list(alpha)
    assert constant("DEV_BETA_G2") == [c for pair in beta for c in pair]


def test_publish_writes_the_page_and_public_files_only(site: Path, exchange: Exchange,
                                                       tmp_path: Path) -> None:
    out = site.parent
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    manifest = exchange.manifest
    public = {"manifest.json", "params.json", manifest["verification_key"], "tree/levels.json"}
    public |= {f"batches/{i:06d}/{n}" for i in range(3)
               for n in ("proof.json", "public.json", "batch.json")}
    assert written == PAGE_FILES | public
    for rel in public:  # byte for byte
        assert (out / rel).read_bytes() == (exchange.art / rel).read_bytes()
    embedded = (out / "published.js").read_text()
    doc = json.loads(embedded[embedded.index("=") + 1:].strip().rstrip(";"))
    assert doc["format"] == "zkmargin-page/1" and set(doc["files"]) == public
    assert "acct-" not in embedded and "salt" not in embedded  # nothing of any holder
    # a page is replaced whole; anything else is refused, as are changed artifacts
    assert zk("inclusion", "page", "--artifacts", str(exchange.art), "--out",
              str(out)).returncode == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    proc = zk("inclusion", "page", "--artifacts", str(exchange.art), "--out", str(other))
    assert proc.returncode == 1 and "is not a page written by" in proc.stderr
    assert (other / "notes.txt").read_text() == "mine"
    art = copy_artifacts(exchange, tmp_path / "art", private=False)
    edit_json(art / "batches/000001/batch.json", lambda d: d.update(commitment="1"))
    proc = zk("inclusion", "page", "--artifacts", str(art), "--out", str(tmp_path / "s"))
    assert proc.returncode == 1 and "differs from the sha256 in the manifest" in proc.stderr
    assert not (tmp_path / "s").exists()


# --------------------------------------------------------------------------------------
# honest files
# --------------------------------------------------------------------------------------


def snapshot_row(exchange: Exchange, account: str) -> dict[str, str]:
    with exchange.snapshot.open() as fh:
        for row in csv.DictReader(fh):
            if row["account_id"] == account:
                return row
    raise AssertionError(account)


@pytest.mark.parametrize("account", ["acct-000000000", "acct-000000005", HOLDER])
def test_honest_file_is_included_with_the_true_values(browser: Any, site: Path,
                                                      exchange: Exchange, tmp_path: Path,
                                                      account: str) -> None:
    me = export(exchange, account, tmp_path / "me.json")
    run = check_in_page(browser, site, me, screenshot=tmp_path / f"included-{account}.png")
    only_files(run, "index.html", "published.js", "zkmargin-verify.js")
    assert run.verified and run.headline.startswith("Included:")
    assert run.banner  # the INSECURE development key, recognised from its points
    verdict = run.result["verdict"]
    assert verdict["included"] and verdict["proof_checked"] and verdict["insecure_setup"]
    assert f"is included in root {verdict['root']}" in verdict["sentence"]
    assert verdict["root"] == f"0x{int(exchange.manifest['root']):064x}"
    # the holder's true values, from the snapshot, under the params' labels
    params = load_params(exchange.params)
    row = snapshot_row(exchange, account)
    value = {k: parse_fixed(v or "0") for k, v in row.items() if k != "account_id"}
    assert list(verdict["balances"]) == list(params.asset_symbols)
    assert {s: parse_fixed(v) for s, v in verdict["balances"].items()} == \
        {s: value[s] for s in params.asset_symbols}
    assert {p: (parse_fixed(v["qty"]), parse_fixed(v["cost"]))
            for p, v in verdict["positions"].items()} == \
        {p: (value[f"{p}.qty"], value[f"{p}.cost"]) for p in params.perp_symbols}
    assert list(verdict["options"]) == list(params.option_symbols)
    assert {o: parse_fixed(v) for o, v in verdict["options"].items()} == \
        {o: value[f"{o}.qty"] for o in params.option_symbols}
    margin = account_margin(params, [value[s] for s in params.asset_symbols],
                            [value[f"{p}.qty"] for p in params.perp_symbols],
                            [value[f"{p}.cost"] for p in params.perp_symbols],
                            [value[f"{o}.qty"] for o in params.option_symbols])
    assert (int(verdict["equity"]), int(verdict["requirement"])) == \
        (margin.equity, margin.requirement)
    assert [int(v) for v in verdict["portfolio"].values()] == list(margin.portfolio)
    assert verdict["status"] == ("sufficient" if margin.sufficient else "deficient")
    assert_same_verdict(cli_verdict(me, "--artifacts", str(exchange.art)), run)


def test_page_cannot_reach_the_network(browser: Any, site: Path, exchange: Exchange,
                                       tmp_path: Path) -> None:
    """The page's Content-Security-Policy refuses every connection before any request
    exists: a fetch from inside the page never even reaches the (refusing) router."""
    me = export(exchange, HOLDER, tmp_path / "me.json")
    context = browser.new_context(offline=True)
    seen: list[str] = []

    def route(r: Any) -> None:
        seen.append(r.request.url)
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            r.abort()

    context.route("**/*", route)
    try:
        tab = context.new_page()
        tab.goto(site.resolve().as_uri())
        tab.wait_for_selector("body[data-ready=true]")
        tab.set_input_files("#inclusion-file", str(me))
        tab.wait_for_selector("body[data-busy=false]:not([data-state=idle])")
        outcome = tab.evaluate("() => fetch('https://example.org/x').then(() => 'fetched', "
                               "(e) => 'refused: ' + e)")
        img = tab.evaluate("() => new Promise((ok) => { const i = new Image(); "
                           "i.onload = () => ok('loaded'); i.onerror = () => ok('refused'); "
                           "i.src = 'https://example.org/x.png'; })")
    finally:
        context.close()
    assert outcome.startswith("refused") and img == "refused"
    assert all(u.startswith("file://") for u in seen), seen


def test_page_works_from_a_static_http_host(browser: Any, site: Path, exchange: Exchange,
                                            tmp_path: Path) -> None:
    """Served by a plain static server (127.0.0.1, http: not a secure context), the page
    asks its host for its three files and nothing else, and verifies as from disk."""
    me = export(exchange, "acct-000000005", tmp_path / "me.json")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    seen: list[str] = []

    def route(r: Any) -> None:
        seen.append(r.request.url)
        if r.request.url.startswith(origin + "/"):
            r.continue_()
        else:
            r.abort()

    try:
        context.route("**/*", route)
        tab = context.new_page()
        tab.goto(f"{origin}/index.html")
        tab.wait_for_selector("body[data-ready=true]")
        tab.set_input_files("#inclusion-file", str(me))
        tab.wait_for_selector("body[data-busy=false]:not([data-state=idle])")
        result = tab.evaluate("() => window.zkmarginResult")
        tab.screenshot(path=str(tmp_path / "http-host.png"), full_page=True)
    finally:
        context.close()
        server.shutdown()
        server.server_close()
    assert sorted(seen) == sorted(f"{origin}/{n}" for n in PAGE_FILES), seen
    assert result["verified"] and result["verdict"]["proof_checked"]
    cli = cli_verdict(me, "--artifacts", str(exchange.art))
    assert {k: result["verdict"][k] for k in cli} == cli


# --------------------------------------------------------------------------------------
# a book with options, tiers and a group perp, in the browser (committed, not proved)
# --------------------------------------------------------------------------------------

#: Forgeries of options_forgeries shown in Chromium (each check once or more).
SHOWN_FORGERIES = ("option-size", "option-size-9-decimals", "option-label", "options-missing",
                   "option-mark", "option-invalid", "params-hash")


def test_options_account_and_its_forgeries_in_chromium(browser: Any, bundle: Path,
                                                       tmp_path: Path) -> None:
    """The hand-computed 'everything' account (a short call, long ETH calls, a short group
    perp, a bracket perp, tiered BTC) in the page, with the published root and params hash
    pasted: its options, equity, requirement (MM of the bracket perp, PM of each group with
    its worst scenario), excess and status as the reference computes them; every forgery
    shown with Python's precise reason."""
    vector = load_vector("portfolio_cases.json")
    files = unproved_book(vector["params"], vector["accounts"])
    params = loads_params(json.dumps(vector["params"]))
    i = next(k for k, a in enumerate(vector["accounts"]) if a["id"] == "everything")
    me, a = files[i], vector["accounts"][i]
    root, ph = int(me["root"]), int(me["params_hash"])
    file = tmp_path / "me.json"
    want = python_verdict(me, file, root, ph)
    run = check_in_page(browser, bundle, file, root=str(root), params_hash=f"0x{ph:064x}",
                        screenshot=tmp_path / "options-account.png")
    assert run.verified and run.headline == ("Included: your account is in the root you "
                                             "entered."), run.result
    assert run.result["verdict"] == want["verdict"]
    v = want["verdict"]
    assert v["status"] == "sufficient" and v["options"] == dict(
        zip(params.option_symbols, a["options"], strict=True))
    lines = run.details.splitlines()
    for opt, size in zip(params.options, a["options"], strict=True):
        value = usd(OPTION_SCALE * parse_fixed(size) * opt.mark)
        assert f"{opt.symbol}\t{opt.group}\t{size}\t{value}" in lines, (opt.symbol, lines)
    assert "BTC-PERP\t-0.5\t-26,000\tin group BTC" in lines, lines
    assert "ETH-PERP\t5\t9,500\tbrackets" in lines, lines
    for label in ("equity", "requirement", "excess"):
        assert f"{v[label + '_usd']} USD" in run.details, (label, run.details)
    assert "sufficient: your equity covers your maintenance requirement" in run.details
    m = account_margin(params, *([parse_fixed(x) for x in a[k]]
                                 for k in ("balances", "qty", "cost", "options")))
    assert f"ETH-PERP\tmaintenance margin (brackets of its notional)\t" \
           f"{usd(m.maintenance[1])}" in lines, lines
    for g, pm in zip(params.groups, m.portfolio, strict=True):
        row = next(x for x in lines if x.startswith(f"group {g}\t"))
        assert row.endswith(f"\t{usd(pm)}") and "worst scenario '" in row, row

    for name in SHOWN_FORGERIES:
        doc, check = options_forgeries(me)[name]
        forged = tmp_path / name / "me.json"
        forged.parent.mkdir()
        truth = python_verdict(doc, forged, root, ph)
        assert (truth["verified"], truth["check"]) == (False, check), name
        run = check_in_page(browser, bundle, forged, root=str(root), params_hash=str(ph),
                            screenshot=tmp_path / f"options-{name}.png")
        assert (run.verified, run.check) == (False, check), (name, run.result)
        assert run.headline == f"NOT verified: the check '{check}' failed.", name
        reason = truth["reason"].replace(str(forged), "me.json")
        assert run.result["reason"] == reason, name
        assert reason.removeprefix(f"check '{check}' failed: ") in run.text.splitlines(), \
            (name, run.text)
        assert run.details == "", name


@pytest.fixture(scope="session")
def proved_options_book(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Any:
    base = tmp_path_factory.getbasetemp()
    root = base.parent if worker_id != "master" else base
    return options_book(Path(root) / "options-book")


def test_proved_options_book_in_the_page(browser: Any, proved_options_book: Any,
                                         tmp_path: Path) -> None:
    """A proved book with options, tiered collateral and group perps, published: every
    holder's file verifies in the page with its batch proof, with the CLI's verdict (options,
    MM, PM per group, excess, status); a changed option size fails 'leaf', a changed option
    in the file's params 'params', and in the published params.json 'artifacts'."""
    book = proved_options_book
    site = publish(book.art, tmp_path / "site")
    params = load_params(book.art / "params.json")
    assert params.options and params.max_tiers > 1 and any(p.grouped for p in params.perps)
    seen = set()
    for account in book.accounts:
        me = export(book.art, account, tmp_path / f"{account}.json")
        run = check_in_page(browser, site, me, screenshot=tmp_path / f"{account}.png")
        only_files(run, "index.html", "published.js", "zkmargin-verify.js")
        assert run.verified and run.result["verdict"]["proof_checked"], run.result
        cli = cli_verdict(me, "--artifacts", str(book.art))
        assert_same_verdict(cli, run)
        v = run.result["verdict"]
        assert list(v["options"]) == list(params.option_symbols)
        assert list(v["portfolio"]) == list(params.groups)
        held = [o for o, q in v["options"].items() if parse_fixed(q) != 0]
        seen |= {v["status"]} | ({"options"} if held else set())
        for o in held:
            assert f"{o} option" in v["sentence"] and o in run.details
    assert seen == {"sufficient", "deficient", "options"}

    holder = next(a for a in book.accounts if any(
        parse_fixed(q) for q in json.loads((tmp_path / f"{a}.json").read_text())["options"]
        .values()))
    me = tmp_path / f"{holder}.json"
    doc = json.loads(me.read_text())
    sym = next(o for o, q in doc["options"].items() if parse_fixed(q))

    def forged_size(d: dict[str, Any]) -> None:
        d["options"][sym] = "0"

    def forged_mark(d: dict[str, Any]) -> None:
        next(o for o in d["params"]["options"] if o["symbol"] == sym).update(mark="1")

    for name, change, check in (("size", forged_size, "leaf"), ("mark", forged_mark, "params")):
        forged = tmp_path / f"forged-{name}.json"
        forged.write_text(me.read_text())
        edit_json(forged, change)
        run = check_in_page(browser, site, forged, screenshot=tmp_path / f"forged-{name}.png")
        assert (run.verified, run.check) == (False, check), run.result
        assert_same_verdict(cli_verdict(forged, "--artifacts", str(book.art)), run)

    art = tmp_path / "art"
    shutil.copytree(book.art, art, ignore=shutil.ignore_patterns("private"))
    edit_json(art / "params.json", lambda d: next(
        o for o in d["options"] if o["symbol"] == sym).update(mark="1"))
    rehash(art)
    run = check_in_page(browser, publish(art, tmp_path / "forged-site"), me,
                        screenshot=tmp_path / "forged-published-params.png")
    assert (run.verified, run.check) == (False, "artifacts"), run.result
    assert_same_verdict(cli_verdict(me, "--artifacts", str(art)), run)


# --------------------------------------------------------------------------------------
# changed inclusion files: each fails naming its check, in the page as in the CLI
# --------------------------------------------------------------------------------------


def _bump_balance(d: dict[str, Any]) -> None:
    sym = next(iter(d["balances"]))
    d["balances"][sym] = str(parse_fixed(d["balances"][sym]) // 10**8 + 1000)


def _bump_position(d: dict[str, Any]) -> None:
    perp = next(iter(d["positions"]))
    d["positions"][perp]["qty"] = "0.5" if d["positions"][perp]["qty"] != "0.5" else "0.25"


def _swap_labels(d: dict[str, Any]) -> None:
    d["balances"] = dict(reversed(list(d["balances"].items())))


def _bump_price(d: dict[str, Any]) -> None:
    d["params"]["assets"][1]["price"] = "1000000"


TAMPERED_FILES: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "balance": (_bump_balance, "leaf"),
    "position": (_bump_position, "leaf"),
    "salt": (lambda d: d.update(salt=str(int(d["salt"]) + 1)), "leaf"),
    "account-id": (lambda d: d.update(account_id="acct-000000001"), "leaf"),
    "path-entry": (lambda d: d["path"].__setitem__(2, str(int(d["path"][2]) + 1)), "path"),
    "path-not-a-field-element": (lambda d: d["path"].__setitem__(0, str(1 << 254)), "path"),
    "label-order": (_swap_labels, "labels"),
    "root": (lambda d: d.update(root=str(int(d["root"]) + 1)), "path"),
    "params": (_bump_price, "params"),
    "params-hash": (lambda d: d.update(params_hash=str(int(d["params_hash"]) + 1)), "params"),
    "batch-count": (lambda d: d.update(batch_count=1), "batch"),
    "format": (lambda d: d.update(format="zkmargin-inclusion/1"), "file"),
    "salt-not-a-number": (lambda d: d.update(salt="12ab"), "file"),
}


@pytest.mark.parametrize("name", sorted(TAMPERED_FILES))
def test_changed_inclusion_file_fails_naming_the_check(browser: Any, site: Path,
                                                       exchange: Exchange, tmp_path: Path,
                                                       name: str) -> None:
    change, check = TAMPERED_FILES[name]
    me = export(exchange, HOLDER, tmp_path / "me.json")
    edit_json(me, change)
    run = check_in_page(browser, site, me, screenshot=tmp_path / f"tampered-{name}.png")
    only_files(run, "index.html", "published.js", "zkmargin-verify.js")
    assert (run.verified, run.check) == (False, check), run.result
    assert run.headline == f"NOT verified: the check '{check}' failed."
    assert_same_verdict(cli_verdict(me, "--artifacts", str(exchange.art)), run)


# --------------------------------------------------------------------------------------
# changed published files (the manifest's sha256 rewritten, as a lying exchange would)
# --------------------------------------------------------------------------------------


def _proof_byte(art: Path) -> None:
    path = art / "batches/000002/proof.json"
    text = path.read_text()
    m = re.search(r'"(\d{40,})"', text)
    assert m
    digits = m.group(1)
    changed = digits[:-1] + ("1" if digits[-1] != "1" else "2")
    path.write_text(text.replace(digits, changed, 1))


def _non_dev_key(art: Path) -> None:
    """Another alpha and beta (valid points): no longer the development key, so no
    banner, though the manifest still says insecure_setup; the proof then fails."""
    vk = next((art / "circuit").glob("verification_key*.json"))
    edit_json(vk, lambda d: d.update(vk_alpha_1=d["IC"][0], vk_beta_2=d["vk_gamma_2"]))


def _in_batch(name: str, change: Callable[[Any], Any]) -> Callable[[Path], None]:
    return lambda art: edit_json(art / "batches/000002" / name, change)


def _plus_one(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: d.update({key: str(int(d[key]) + 1)})


TAMPERED_ARTIFACTS: dict[str, tuple[Callable[[Path], Any], str]] = {
    "proof-byte": (_proof_byte, "proof"),
    "commitment": (_in_batch("batch.json", _plus_one("commitment")), "proof"),
    "public-signal": (_in_batch("public.json", lambda d: d.__setitem__(0, str(int(d[0]) + 1))),
                      "proof"),
    "batch-totals": (_in_batch("batch.json", lambda d: d["totals"].update(
        equity_total=d["totals"]["equity_total"] + 1)), "proof"),
    "manifest-root": (lambda a: edit_json(a / "manifest.json", _plus_one("root")), "artifacts"),
    "params-json": (lambda a: edit_json(a / "params.json",
                                        lambda d: d["assets"][1].update(price="1000000")),
                    "artifacts"),
    "key": (_non_dev_key, "proof"),
}


@pytest.mark.parametrize("name", sorted(TAMPERED_ARTIFACTS))
def test_changed_published_files_fail_naming_the_check(browser: Any, exchange: Exchange,
                                                       tmp_path: Path, name: str) -> None:
    change, check = TAMPERED_ARTIFACTS[name]
    art = copy_artifacts(exchange, tmp_path / "art", private=False)
    change(art)
    rehash(art)
    me = export(exchange, HOLDER, tmp_path / "me.json")
    page = publish(art, tmp_path / "site") if name != "key" else None
    if page is None:  # `inclusion page` warns from the key itself: no warning here
        proc = zk("inclusion", "page", "--artifacts", str(art), "--out", str(tmp_path / "site"))
        assert proc.returncode == 0 and "INSECURE" not in proc.stdout, proc.stdout
        page = tmp_path / "site" / "index.html"
    run = check_in_page(browser, page, me, screenshot=tmp_path / f"artifacts-{name}.png")
    only_files(run, "index.html", "published.js", "zkmargin-verify.js")
    assert (run.verified, run.check) == (False, check), run.result
    assert run.banner == (name != "key")
    assert_same_verdict(cli_verdict(me, "--artifacts", str(art)), run)


def test_insecure_banner_from_the_key_not_from_the_manifest(browser: Any, exchange: Exchange,
                                                             tmp_path: Path) -> None:
    art = copy_artifacts(exchange, tmp_path / "art", private=False)
    edit_json(art / "manifest.json", lambda d: d.update(insecure_setup=False))
    rehash(art)
    me = export(exchange, "acct-000000005", tmp_path / "me.json")
    run = check_in_page(browser, publish(art, tmp_path / "site"), me,
                        screenshot=tmp_path / "insecure-banner.png")
    assert run.verified and run.banner and run.result["verdict"]["insecure_setup"]
    assert_same_verdict(cli_verdict(me, "--artifacts", str(art)), run)


# --------------------------------------------------------------------------------------
# the page without published.js: roots pasted, files, a folder or a zip opened
# --------------------------------------------------------------------------------------


def test_roots_in_hex_with_or_without_0x_and_decimal(browser: Any, bundle: Path,
                                                     exchange: Exchange, tmp_path: Path) -> None:
    me = export(exchange, "acct-000000005", tmp_path / "me.json")
    root = int(exchange.manifest["root"])
    ph = int(exchange.manifest["params_hash"])
    for i, (text, ph_text) in enumerate([(f"0x{root:064x}", f"0x{ph:064x}"),
                                         (f"{root:064x}", str(ph)),
                                         (f"0X{root:064X}", f"{ph:064x}"),
                                         (str(root), f"0x{ph:x}")]):
        run = check_in_page(browser, bundle, me, root=text, params_hash=ph_text,
                            screenshot=tmp_path / f"root-{i}.png" if i == 0 else None)
        only_files(run, "index.html", "published.js", "zkmargin-verify.js")
        verdict = run.result["verdict"]
        assert verdict["root_confirmed"] and verdict["params_confirmed"]
        assert not verdict["proof_checked"] and not run.banner
        assert_same_verdict(cli_verdict(me, "--root", text, "--params-hash", ph_text), run)
    wrong = str(root + 1)
    run = check_in_page(browser, bundle, me, root=wrong, screenshot=tmp_path / "root-wrong.png")
    assert (run.verified, run.check) == (False, "root")
    assert_same_verdict(cli_verdict(me, "--root", wrong), run)
    run = check_in_page(browser, bundle, me, params_hash=str(ph + 1))
    assert (run.verified, run.check) == (False, "params")
    assert_same_verdict(cli_verdict(me, "--params-hash", str(ph + 1)), run)


def test_without_a_published_root_the_page_asks_for_one(browser: Any, bundle: Path,
                                                        exchange: Exchange,
                                                        tmp_path: Path) -> None:
    me = export(exchange, "acct-000000000", tmp_path / "me.json")
    run = check_in_page(browser, bundle, me, screenshot=tmp_path / "unconfirmed.png")
    assert run.verified and run.headline.startswith("Not confirmed yet")
    verdict = run.result["verdict"]
    assert not verdict["included"] and "not evidence" in verdict["sentence"]
    assert_same_verdict(cli_verdict(me), run)


def test_published_files_opened_as_a_folder_a_zip_or_files(browser: Any, bundle: Path,
                                                           exchange: Exchange,
                                                           tmp_path: Path) -> None:
    me = export(exchange, HOLDER, tmp_path / "me.json")
    art = copy_artifacts(exchange, tmp_path / "art", private=False)
    cli = cli_verdict(me, "--artifacts", str(art))
    assert cli["proof_checked"]
    run = check_in_page(browser, bundle, me, published_dir=art,
                        screenshot=tmp_path / "opened-folder.png")
    assert run.verified and run.result["verdict"]["proof_checked"] and run.banner
    assert_same_verdict(cli, run)

    archive = tmp_path / "published.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(art.rglob("*")):
            if p.is_file():
                z.write(p, f"art/{p.relative_to(art).as_posix()}")
    run = check_in_page(browser, bundle, me, published=[archive])
    assert_same_verdict(cli, run)

    vk = next((art / "circuit").glob("verification_key*.json"))
    batch = art / "batches" / "000002"
    loose = [art / "manifest.json", art / "params.json", vk, batch / "proof.json",
             batch / "public.json", batch / "batch.json"]
    staged = tmp_path / "loose"  # as downloaded one by one: no folders
    staged.mkdir()
    files = []
    for p in loose:
        target = staged / (p.name if p.parent != batch else f"batch2-{p.name}")
        shutil.copyfile(p, target)
        files.append(target)
    run = check_in_page(browser, bundle, me, published=files)
    assert_same_verdict(cli, run)

    # without the batch's files: the proof check fails, in both
    partial = tmp_path / "partial"
    for rel in ("manifest.json", "params.json", vk.relative_to(art).as_posix()):
        (partial / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(art / rel, partial / rel)
    run = check_in_page(browser, bundle, me, published=[partial / "manifest.json",
                                                        partial / "params.json",
                                                        partial / vk.relative_to(art)],
                        screenshot=tmp_path / "opened-missing-batch.png")
    assert (run.verified, run.check) == (False, "proof")
    assert_same_verdict(cli_verdict(me, "--artifacts", str(partial)), run)


# --------------------------------------------------------------------------------------
# speed
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def default_exchange(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Any:
    base = tmp_path_factory.getbasetemp()
    root = base.parent if worker_id != "master" else base
    return default_shape(Path(root) / "default-shape-exchange")


def test_verification_takes_under_a_second(browser: Any, site: Path, exchange: Exchange,
                                           default_exchange: Any, proved_options_book: Any,
                                           tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Leaf, path and batch proof in the page: the shared exchange (an options book of the
    portfolio vectors' params, A=3, P=2, L=2, T=3, O=4, G=2, S=3, K=4), the generated shape
    (A=8, P=4, L=4, K=16) and the web tests' own options book (the same shape)."""
    small = export(exchange, HOLDER, tmp_path / "small.json")
    big = publish(default_exchange.art, tmp_path / "default-site")
    book = proved_options_book
    options = export(book.art, book.accounts[-1], tmp_path / "options.json")
    options_site = publish(book.art, tmp_path / "options-site")
    lines = []
    for label, page, me in (("shared A=3 P=2 L=2 T=3 O=4 G=2 S=3 K=4", site, small),
                            ("generated A=8 P=4 L=4 K=16", big, default_exchange.inclusion),
                            ("options A=3 P=2 L=2 T=3 O=4 G=2 S=3 K=4", options_site,
                             options)):
        best = None
        for i in range(3):
            run = check_in_page(browser, page, me,
                                screenshot=tmp_path / f"speed-{i}.png" if i == 0 else None)
            assert run.verified and run.result["verdict"]["proof_checked"]
            t = run.result["timings"]
            best = t if best is None or t["total"] < best["total"] else best
            lines.append(f"{label}: run {i + 1}: verification {t['total']:.1f} ms (leaf "
                         f"{t['leaf']:.1f}, path {t['path']:.1f}, proof {t['proof']:.1f}); "
                         f"page ready in {run.result['initMs']:.1f} ms")
        assert best is not None and best["total"] < 1000, lines
        assert_same_verdict(cli_verdict(me, "--artifacts", str(page.parent)), run)
    with capsys.disabled():
        print("\n" + "\n".join(lines))
