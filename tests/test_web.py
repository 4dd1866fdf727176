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

import csv
import functools
import http.server
import json
import re
import shutil
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import ROOT, zk
from tests.support.exchange import Exchange, copy_artifacts
from tests.support.web import (
    DIST,
    PageRun,
    assert_same_verdict,
    check_in_page,
    chromium,
    cli_verdict,
    default_shape,
)
from zkmargin.artifacts import public_files, sha256_file
from zkmargin.devsetup import dev_points
from zkmargin.fixed import parse_fixed
from zkmargin.margin.reference import account_margin
from zkmargin.params import load_params
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


def export(exchange: Exchange, account: str, out: Path) -> Path:
    proc = zk("inclusion", "export", str(exchange.art), "--account", account, "--out", str(out))
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
    margin = account_margin(params, [value[s] for s in params.asset_symbols],
                            [value[f"{p}.qty"] for p in params.perp_symbols],
                            [value[f"{p}.cost"] for p in params.perp_symbols])
    assert (int(verdict["equity"]), int(verdict["requirement"])) == \
        (margin.equity, margin.requirement)
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
                                           default_exchange: Any, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Leaf, path and batch proof in the page: the small exchange (A=2, P=2, L=3, K=4) and
    the default shape (A=8, P=4, L=4, K=16)."""
    small = export(exchange, HOLDER, tmp_path / "small.json")
    big = publish(default_exchange.art, tmp_path / "default-site")
    lines = []
    for label, page, me in (("small A=2 P=2 L=3 K=4", site, small),
                            ("default A=8 P=4 L=4 K=16", big, default_exchange.inclusion)):
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
