"""The holders' page (verifier/web/) in a real browser: Debian's Chromium, headless, driven
by playwright (never a downloaded browser). Every request the page makes is recorded and
every one that is not ``file://`` is refused (playwright routing, and an offline context).

Also the one exchange of the generated shape (A=8, P=4, L=4) at K=16 that the speed test
measures (the default K until 2026-12-02, now 32: K=16 keeps its 2^16 key cheap to set up
on a fresh clone; a page's check does not depend on K), built once and shared like
:mod:`tests.support.exchange`.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import ROOT, zk, zk_json

CHROMIUM = Path("/usr/bin/chromium")
#: The flags that keep Chromium from reaching for the network on its own.
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync")
DIST = ROOT / "verifier" / "web" / "dist"
TIMEOUT_MS = 120_000


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's chromium package "
                    "(`make setup` as root installs it: apt-get install -y chromium)")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium of Debian's package, driven by playwright."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageRun:
    """One check in the page: its result (``window.zkmarginResult``) and what it did."""

    result: dict[str, Any]
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    banner: bool = False  # the INSECURE banner is visible
    headline: str = ""
    text: str = ""  # the verdict's text as shown (the sentence, or why a check failed)
    details: str = ""  # the account and margin cards as shown ("" when hidden)
    screenshot: Path | None = None

    @property
    def verified(self) -> bool:
        return bool(self.result["verified"])

    @property
    def check(self) -> str | None:
        check: str | None = self.result["check"]
        return check


def check_in_page(browser: Any, page: Path, inclusion: Path, *,
                  published: Sequence[Path] = (), published_dir: Path | None = None,
                  root: str | None = None, params_hash: str | None = None,
                  screenshot: Path | None = None) -> PageRun:
    """Open ``page`` (an index.html) from file:// with the network refused, give it the
    holder's inputs the way a holder does (file pickers, text fields) and read the verdict."""
    context = browser.new_context(offline=True, viewport={"width": 1100, "height": 900})
    run = PageRun(result={})

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith("file:"):
            r.continue_()
        else:
            run.refused.append(url)
            r.abort()

    try:
        context.route("**/*", route)
        context.on("request", lambda r: run.requests.append(r.url))
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(page.resolve().as_uri())
        tab.wait_for_selector("body[data-ready=true]", timeout=TIMEOUT_MS)
        if root is not None:
            tab.fill("#root", root)
        if params_hash is not None:
            tab.fill("#params-hash", params_hash)
        if published:
            tab.set_input_files("#published-files", [str(p) for p in published])
        if published_dir is not None:
            tab.set_input_files("#published-dir", str(published_dir))
        tab.set_input_files("#inclusion-file", str(inclusion))
        tab.wait_for_selector("body[data-busy=false]:not([data-state=idle])", timeout=TIMEOUT_MS)
        run.result = tab.evaluate("() => window.zkmarginResult")
        run.banner = tab.is_visible("#insecure")
        run.headline = tab.inner_text("#verdict-head")
        run.text = tab.inner_text("#verdict-text")
        run.details = tab.inner_text("#details") if tab.is_visible("#details") else ""
        if screenshot is not None:
            tab.screenshot(path=str(screenshot), full_page=True)
            run.screenshot = screenshot
        assert not errors, errors
    finally:
        context.close()
    return run


def cli_verdict(inclusion: Path, *args: str) -> dict[str, Any]:
    """``zkmargin inclusion verify FILE ARGS --json``: the verdict, or the failed check."""
    proc = zk("inclusion", "verify", str(inclusion), *args, "--json")
    doc: dict[str, Any] = json.loads(proc.stdout)
    assert proc.returncode == (0 if doc["verified"] else 1), proc.stderr
    if not doc["verified"]:
        assert f"NOT verified: check '{doc['check']}' failed" in proc.stderr, proc.stderr
    return doc


#: Verdict fields the CLI and the page must agree on (the sentence too when the root and
#: the params hash are confirmed: it then names no command-line option).
SHARED_FACTS = ("verified", "included", "account_id", "balances", "positions", "options",
                "root", "params_hash", "batch_index", "batch_count", "root_confirmed",
                "params_confirmed", "proof_checked", "insecure_setup", "equity", "requirement",
                "maintenance", "portfolio", "excess", "shortfall", "status", "equity_usd",
                "requirement_usd", "maintenance_usd", "portfolio_usd", "excess_usd",
                "shortfall_usd")


def assert_same_verdict(cli: dict[str, Any], page: PageRun) -> None:
    """The page and the CLI agree: both verified with the same facts, or both failed the
    same check."""
    if not cli["verified"]:
        assert (page.verified, page.check) == (False, cli["check"]), (cli, page.result)
        return
    assert page.verified, (cli, page.result)
    verdict = page.result["verdict"]
    assert set(verdict) == set(cli), set(verdict) ^ set(cli)
    assert {k: verdict[k] for k in SHARED_FACTS} == {k: cli[k] for k in SHARED_FACTS}
    if cli["root_confirmed"] and cli["params_confirmed"]:
        assert verdict["sentence"] == cli["sentence"]


# --------------------------------------------------------------------------------------
# The page's checks under node, without a browser (tests/js/web_lib.mjs)


def build_page_lib(out: Path) -> Path:
    """``node verifier/web/build.mjs --lib OUT``: the page's checks (verifier/web/src) as
    one ES module for node, bundled the way the page is (same substitutions)."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "esbuild").is_dir():
        pytest.fail("node and the pinned npm packages are required: run `make setup`")
    env = {**os.environ, "ZKMARGIN_NODE_MODULES": str(ROOT / "node_modules")}
    proc = subprocess.run([node, str(ROOT / "verifier" / "web" / "build.mjs"), "--lib",
                           str(out)], capture_output=True, text=True, timeout=600,
                          check=False, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr
    return out


def page_lib(lib: Path, requests: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answers of the page's own code to ``requests`` (see tests/js/web_lib.mjs)."""
    proc = subprocess.run(["node", str(ROOT / "tests" / "js" / "web_lib.mjs"), str(lib)],
                          input=json.dumps(list(requests)), capture_output=True, text=True,
                          timeout=600, check=False, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    answers: list[dict[str, Any]] = json.loads(proc.stdout)
    assert len(answers) == len(requests)
    return answers


# --------------------------------------------------------------------------------------
# The generated shape at K=16, for the speed measurement

DEFAULT_ACCOUNTS = 20  # two batches of 16, the second partial


@dataclass(frozen=True)
class DefaultShape:
    art: Path
    inclusion: Path  # an account of the second batch


def default_shape(root: Path) -> DefaultShape:
    """A proved exchange of the generated shape (A=8, P=4, L=4, K=16), made by the first
    caller under a lock, reused by the others. The first run ever compiles the circuit and
    sets up its INSECURE development key (minutes; cached under .cache/)."""
    root.mkdir(parents=True, exist_ok=True)
    data, art, inclusion = root / "data", root / "art", root / "acct-000000017.json"
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not inclusion.exists():
            shutil.rmtree(data, ignore_errors=True)
            shutil.rmtree(art, ignore_errors=True)
            gen = zk("generate", "--accounts", str(DEFAULT_ACCOUNTS), "--seed", "12", "--out",
                     str(data))
            assert gen.returncode == 0, gen.stderr
            started = time.monotonic()
            zk_json("prove", str(data / "snapshot.csv"), "--params", str(data / "params.json"),
                    "--out", str(art), "--batch-size", "16")
            print(f"default-shape exchange proved in {time.monotonic() - started:.1f} s")
            out = zk("inclusion", "export", str(art), "--account", "acct-000000017", "--out",
                     str(inclusion))
            assert out.returncode == 0, out.stderr
    return DefaultShape(art, inclusion)


# --------------------------------------------------------------------------------------
# A proved book with options, tiers and group perps, for the page's proof check

#: Shape A=3 P=2 L=2 T=3 O=4 G=2 S=3 (circuits.json's batch-options-test), K=4.
OPTIONS_ARGS = ("--accounts", "6", "--assets", "3", "--perps", "2", "--brackets", "2",
                "--options", "4", "--groups", "2", "--scenarios", "3", "--tiers",
                "--group-perps", "--deficient-share", "0.3", "--seed", "3")


@dataclass(frozen=True)
class OptionsBook:
    art: Path
    accounts: tuple[str, ...]


def options_book(root: Path) -> OptionsBook:
    """A proved book with options (made by the first caller under a lock, reused by the
    others): 6 accounts in 2 batches of 4. The first run ever compiles its circuit and sets
    up its INSECURE development key (minutes; cached under .cache/)."""
    root.mkdir(parents=True, exist_ok=True)
    data, art, done = root / "data", root / "art", root / "proved"
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(data, ignore_errors=True)
            shutil.rmtree(art, ignore_errors=True)
            gen = zk("generate", *OPTIONS_ARGS, "--out", str(data))
            assert gen.returncode == 0, gen.stderr
            started = time.monotonic()
            zk_json("prove", str(data / "snapshot.csv"), "--params", str(data / "params.json"),
                    "--out", str(art), "--batch-size", "4")
            print(f"options book proved in {time.monotonic() - started:.1f} s")
            done.write_text("")
    with (data / "snapshot.csv").open() as fh:
        accounts = tuple(line.split(",", 1)[0] for line in fh.readlines()[1:])
    return OptionsBook(art, accounts)

