"""The ``zkmargin`` command line.

Plumbing shared by every command, once: :func:`reports_errors` maps a
:class:`~zkmargin.errors.ZkMarginError` to ``error: ...`` and exit 1; :func:`progress_if`
yields a progress callback on a terminal, or nothing; :class:`PowerOfTwo` parses batch
sizes. Commands import their machinery when they run, so ``--help`` stays fast and a
broken optional part leaves the other commands working.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from zkmargin import __version__
from zkmargin.errors import ZkMarginError


class Failure(click.ClickException):
    """Exit 1 with ``error: <message>`` on stderr."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """The one mapping of errors to exit codes: a :class:`ZkMarginError` (bad input, a
    failed check, a failed tool) exits 1 with its message; nothing else is caught."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ZkMarginError as exc:
            raise Failure(str(exc)) from None

    return cast(F, wrapper)


def stderr_console() -> Any:
    from rich.console import Console

    # soft_wrap: a message is never cut by line breaks (logs, pipes, narrow terminals)
    return Console(stderr=True, soft_wrap=True)


@contextmanager
def progress_if(enabled: bool, label: str,
                total: int | None = None) -> Iterator[Callable[[int], None] | None]:
    """A transient progress bar on stderr: yields its advance callback, or None when
    ``enabled`` is false or stderr is not a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True, console=stderr_console()) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


class PowerOfTwo(click.ParamType[int, Any]):
    """An integer 1, 2, 4, ... (a batch size K = 2^depth)."""

    name = "K"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        try:
            k = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not an integer", param, ctx)
        if k < 1 or k & (k - 1):
            self.fail(f"must be a power of two (1, 2, 4, ...), got {k}", param, ctx)
        return k


def write_or_fail(path: Path, text: str) -> None:
    """Write ``text`` atomically; an OS error is an exit 1 naming the file."""
    from zkmargin.atomic import write_text_atomic

    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise Failure(f"{path}: cannot be written: {exc.strerror or exc}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zkmargin")
def main() -> None:
    """zkmargin: zero-knowledge margin-solvency proofs for exchanges.

    \b
    Typical flow:
      zkmargin generate --accounts 10000 --out demo/   # synthetic snapshot + params
      zkmargin check demo/snapshot.csv --params demo/params.json
      zkmargin prove demo/snapshot.csv --params demo/params.json --out proofs/
      zkmargin audit proofs/                            # what an auditor runs
    """


# --------------------------------------------------------------------------------------
# check, generate


@main.command()
@click.argument("snapshot", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--params",
    "params_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Risk parameters JSON (assets, perps, brackets).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object of exact integers.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the JSON report to this file (atomically; nothing on error).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "parquet"]),
    help="Snapshot format (default: from the file extension .csv / .jsonl / .ndjson / "
    ".parquet; .csv.gz and .jsonl.gz are gunzipped). SNAPSHOT '-' reads standard input "
    "(default csv).",
)
@click.option(
    "--core",
    type=click.Choice(["vectorized", "reference"]),
    default="vectorized",
    show_default=True,
    help="Margin core implementation (both are exact; reference is ~100x slower).",
)
@reports_errors
def check(
    snapshot: Path, params_path: Path, as_json: bool, out: Path | None, fmt: str | None, core: str
) -> None:
    """Compute the exact margin totals of SNAPSHOT (the model of docs/margin.md).

    Reports accounts, margin-deficient accounts (equity E below the maintenance
    requirement R), total shortfall, total equity and requirement, and per-asset
    liabilities (sum of positive balances) and debts (sum of negative balances).

    \b
    JSON units (exact integers): equity_total, requirement_total, shortfall_total in
    USD x 1e22; assets.*.liabilities / debts in amount x 1e8.

    Exit code 0 whether or not accounts are deficient (the check reports facts; policy
    is the auditor's); 1 on bad input, with the file, row, column and value named.
    """
    from zkmargin.checking import check_snapshot
    from zkmargin.params import load_params

    params = load_params(params_path)
    with progress_if(True, "checking accounts") as advance:
        report = check_snapshot(snapshot, params, core=core, fmt=fmt, progress=advance)
    text = json.dumps(report.to_json())
    if out is not None:
        write_or_fail(out, text + "\n")
    click.echo(text if as_json else report.render(str(snapshot), str(params_path)))


#: The options of `generate` that shape the market it invents; --params replaces them all.
_MARKET_OPTIONS = ("assets", "perps", "brackets", "n_options", "groups", "scenarios", "tiers",
                   "group_perps")


@main.command()
@click.option("--accounts", type=click.IntRange(min=1), required=True, help="Number of accounts.")
@click.option("--params", "params_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None,
              help="Write a book for this existing params file (e.g. one of `zkmargin params "
                   "risk-arrays`) instead of inventing a market: only OUT/snapshot.<format> "
                   "is written, with a column for every asset, perp and option of the file. "
                   "The file needs a cash asset (weight 10000 bps in every tier), whose "
                   "balance sets each account's margin. Not with --assets, --perps, "
                   "--brackets, --options, --groups, --scenarios, --tiers, --group-perps.")
@click.option("--assets", type=click.IntRange(1, 64), default=8, show_default=True,
              help="Assets: USDT, BTC, ETH, USDC, SOL, BNB, XRP, DOGE, then long-tail TKNnn.")
@click.option("--perps", type=click.IntRange(0, 64), default=4, show_default=True,
              help="Perpetual futures on the non-stable assets.")
@click.option("--brackets", type=click.IntRange(1, 10), default=4, show_default=True,
              help="Maintenance brackets per perp.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same files.")
@click.option("--borrow-share", type=click.FloatRange(0, 1), default=0.15, show_default=True,
              help="Share of accounts that borrow one asset.")
@click.option("--deficient-share", type=click.FloatRange(0, 1), default=0.01, show_default=True,
              help="Share of accounts made margin-deficient (exact per block).")
@click.option("--options", "n_options", type=click.IntRange(0, 240), default=0,  # MAX_OPTIONS
              show_default=True,
              help="Options (Black-76 risk arrays), spread over --groups underlyings; each "
                   "group is margined on its worst scenario. 0: no options, no portfolio.")
@click.option("--groups", type=click.IntRange(min=1), default=2, show_default=True,
              help="Portfolio groups: one per underlying, the first non-stable assets "
                   "(BTC, ETH, SOL, ...). With --options or --group-perps.")
@click.option("--scenarios", type=click.IntRange(1, 32), default=16, show_default=True,
              help="Scenarios of the risk arrays: 16 is CME SPAN's set, any other count "
                   "spreads price moves over the scan range with vol up and down.")
@click.option("--tiers", is_flag=True,
              help="Give the non-stable assets 3 collateral tiers (weight, 90%, 70%).")
@click.option("--group-perps", is_flag=True,
              help="Perps on a group's underlying join the group (risk arrays instead of "
                   "brackets).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]), default="csv",
              show_default=True,
              help="Snapshot file format (parquet: decimal128(19, 8) value columns).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory for snapshot.<format> and params.json (with --params: "
                   "snapshot.<format> only).")
@click.option("--force", is_flag=True, help="Overwrite existing files in --out.")
@reports_errors
def generate(
    accounts: int, assets: int, perps: int, brackets: int, seed: int, borrow_share: float,
    deficient_share: float, fmt: str, out: Path, force: bool, n_options: int = 0,
    groups: int = 2, scenarios: int = 16, tiers: bool = False, group_perps: bool = False,
    params_path: Path | None = None,
) -> None:
    """Write a realistic synthetic exchange: OUT/snapshot.csv and OUT/params.json.

    Deterministic for a seed; streams rows, so --accounts 1000000 runs in bounded memory.
    With --options: option books (long, naked short, spreads, hedged with spot or a group
    perp) and their portfolio groups and scenarios in params.json.

    \b
    With --params FILE: a book for those params (the same kinds of accounts, option books
    in every group that has options), OUT/snapshot.<format> only; for example
      zkmargin params risk-arrays market.json --out params.json
      zkmargin generate --params params.json --accounts 1000 --out book/
    """
    from zkmargin.generate import GenerateOptions

    if params_path is not None:
        ctx = click.get_current_context()
        given = [name for name in _MARKET_OPTIONS
                 if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE]
        if given:
            shown = "--" + given[0].removeprefix("n_").replace("_", "-")
            raise click.UsageError(f"{shown} shapes an invented market; with --params the "
                                   "market is the params file's")
    elif perps > assets:
        raise click.BadParameter(f"at most --assets ({assets}) perps, got {perps}",
                                 param_hint="--perps")
    snap_target = out / f"snapshot.{fmt}"
    targets = [snap_target] if params_path is not None else [snap_target, out / "params.json"]
    existing = [str(t) for t in targets if t.exists()]
    if existing and not force:
        raise Failure(f"{', '.join(existing)} already exist; pass --force to overwrite")
    opts = GenerateOptions(accounts=accounts, assets=assets, perps=perps, brackets=brackets,
                           seed=seed, borrow_share=borrow_share, deficient_share=deficient_share,
                           options=n_options, groups=groups, scenarios=scenarios, tiers=tiers,
                           group_perps=group_perps)
    try:
        opts.validate_book() if params_path is not None else opts.validate()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if params_path is not None:
        _generate_for(params_path, out, opts, fmt)
        return
    from zkmargin.generate import generate as run

    try:
        with progress_if(True, "generating accounts", total=accounts) as advance:
            snap, par = run(out, opts, fmt=fmt, progress=advance)
    except OSError as exc:
        raise Failure(f"{out}: cannot write the output files: {exc.strerror or exc}") from None
    click.echo(f"wrote {snap} ({accounts} accounts) and {par}")


def _generate_for(params_path: Path, out: Path, opts: Any, fmt: str) -> None:
    """`generate --params`: the book of an existing params file."""
    from zkmargin.generate import check_book_params, generate_for
    from zkmargin.params import load_params

    params = load_params(params_path)
    check_book_params(params, str(params_path))  # before any file is written
    try:
        with progress_if(True, "generating accounts", total=opts.accounts) as advance:
            snap = generate_for(params, out, opts, file=str(params_path), fmt=fmt,
                                progress=advance)
    except OSError as exc:
        raise Failure(f"{out}: cannot write the output files: {exc.strerror or exc}") from None
    parts = [f"{len(params.assets)} assets", f"{len(params.perps)} perps"]
    if params.options:
        parts.append(f"{len(params.options)} options in {len(params.groups)} groups")
    click.echo(f"wrote {snap} ({opts.accounts} accounts; {', '.join(parts)} of "
               f"{params_path})")


@main.group()
def params() -> None:
    """Build risk parameters."""


@params.command("risk-arrays")
@click.argument("market", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The params file to write (atomically; nothing on error).")
@reports_errors
def params_risk_arrays(market: Path, out: Path) -> None:
    """Turn a public MARKET file into a params file with option risk arrays.

    \b
    MARKET (JSON; docs/margin.md, section 11): underlyings (price, price and vol scan
    ranges), a scenario grid ("span16", a grid or a list), options (call/put, strike,
    expiry in years or a date with "as_of", implied vol, optional published mark and
    short_min), and the assets and perps of the params, passed through.
    Each option's risk[s] is the loss of one long contract in scenario s under Black-76,
    in USD x 1e8 rounded UP (a loss is never understated); a computed mark is rounded
    half up. The output is validated like any params file.
    """
    from zkmargin.riskarrays import risk_arrays

    result = risk_arrays(market)
    write_or_fail(out, json.dumps(result.to_json(), indent=2) + "\n")
    click.echo(f"wrote {out}: {len(result.options)} options and "
               f"{sum(p.grouped for p in result.perps)} group perps in "
               f"{len(result.groups)} groups, {len(result.scenarios)} scenarios")


# --------------------------------------------------------------------------------------
# prove


def _default_backend() -> str:
    from zkmargin.prover.backends import DEFAULT_BACKEND

    return DEFAULT_BACKEND


#: Seconds between progress log lines when stderr is not a terminal (a service's log).
LOG_INTERVAL_ENV = "ZKMARGIN_LOG_INTERVAL"


class TerminalEvents:
    """How ``prove`` shows its run on stderr: messages (all but warnings silenced by
    --json); on a terminal a progress bar with accounts/s and ETA, otherwise a log line
    every ZKMARGIN_LOG_INTERVAL seconds (default 30) and at the end."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.console = stderr_console()
        self.bar: Any = None
        self.task: Any = None
        self.started = 0.0
        self.proved_accounts = 0
        self.total = self.done = 0
        self.logged = 0.0
        self.interval = float(os.environ.get(LOG_INTERVAL_ENV, "30"))

    def info(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message, highlight=False)

    def warn(self, message: str) -> None:
        self.console.print(f"[bold yellow]warning:[/] {message}", highlight=False)

    def batches(self, total: int, done: int, accounts_per_batch: int) -> None:
        self.total, self.done = total, done
        self.started = self.logged = time.monotonic()
        if self.quiet or not sys.stderr.isatty():
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("proving batches"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                            TextColumn("ETA"), TimeRemainingColumn(), console=self.console,
                            transient=True)
        self.bar.start()
        self.task = self.bar.add_task("", total=total, completed=done, rate="")
        self.started = time.monotonic()

    def batch_done(self, accounts: int, skipped: bool) -> None:
        if not skipped:
            self.proved_accounts += accounts
        self.done += 1
        now = time.monotonic()
        rate = self.proved_accounts / max(now - self.started, 1e-9)
        if self.bar is not None:
            self.bar.update(self.task, advance=1, rate=f"{rate:,.1f} accounts/s")
        elif not self.quiet and (now - self.logged >= self.interval or self.done == self.total):
            self.logged = now
            left = self.total - self.done
            per_batch = (now - self.started) / max(self.done, 1)
            eta = time.strftime("%H:%M:%S", time.gmtime(left * per_batch))
            self.console.print(f"proved {self.done}/{self.total} batches, {rate:,.1f} "
                               f"accounts/s, ETA {eta}", highlight=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


@main.command()
@click.argument("snapshot", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--params", "params_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Risk parameters JSON.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Artifact directory (new, or an unfinished run of the same inputs to resume).")
@click.option("--batch-size", type=PowerOfTwo(), default=None,
              help="K: accounts per proof, a power of two from 1 up. Default 32: the best "
                   "accounts/s of 16, 32 and 64 measured on this machine kind with the "
                   "native prover (64 within 2%, with a key twice the size; "
                   "benchmarks/README.md).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Prover processes in parallel. Default: the number of cores.")
@click.option("--backend", type=click.Choice(["builtin", "native", "snarkjs"]), default=None,
              help="Groth16 prover. builtin (default): zkmargin's own, in C, built with the "
                   "package, about 1.6x native here; native: groth16py's arkworks prover "
                   "(the optional GPL-3.0 extra); snarkjs: the reference. All write "
                   "snarkjs JSON proofs (benchmarks/README.md).")
@click.option("--witness", "engine", type=click.Choice(["auto", "cpp", "wasm"]), default="auto",
              show_default=True,
              help="Witness calculator. auto: the C++ generator if already built, or built "
                   "now (~2 min, once per circuit) when 240+ batches remain; else WASM.")
@click.option("--ptau", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Prepared powers of tau of a public phase-1 ceremony. With --zkey: the file "
                   "the ceremony's key was set up from; alone: a single-party phase 2 (the "
                   "exchange is the only contributor: no evidence for anyone else).")
@click.option("--zkey", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The final key of a `zkmargin ceremony` (needs --ptau; verified against "
                   "the circuit and the ptau before use).")
@click.option("--dev-setup", is_flag=True,
              help="Use the INSECURE local development setup (the default without --ptau).")
@click.option("--salt-secret", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File with the exchange's salt secret (hex, >= 16 bytes). Default: a new "
                   "random one, kept in OUT/private/salt_secret.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]),
              help="Snapshot format (default: from the file extension .csv / .jsonl / "
                   ".ndjson / .parquet; .csv.gz and .jsonl.gz are gunzipped).")
@click.option("--scheduler", default=None, metavar="tcp://HOST:8786",
              help="Prove on a Dask cluster through this scheduler instead of local worker "
                   "processes (--workers is then the cluster's). Workers must see --out and "
                   "zkmargin's cache at the same paths (one machine or a shared filesystem); "
                   "each writes its batches' files itself, so nothing finished is lost. "
                   "Start workers with one thread per core and "
                   "DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False (Dask's profiler "
                   "costs about 8% of a worker's CPU on these tasks).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON summary object.")
@reports_errors
def prove(snapshot: Path, params_path: Path, out: Path, batch_size: int | None,
          workers: int | None, backend: str | None, engine: str, ptau: Path | None,
          zkey: Path | None, dev_setup: bool, salt_secret: Path | None, fmt: str | None,
          scheduler: str | None, as_json: bool) -> None:
    """Prove every account of SNAPSHOT in Groth16 batch proofs; write artifacts to OUT.
    SNAPSHOT may be `-` (standard input, spooled once; CSV unless --format says otherwise).

    Checks the snapshot with the exact core first (bad rows stop the run before any file
    is written; deficient accounts are listed, then proved and counted), compiles the batch
    circuit (cached), sets up keys (cached), then proves batches of K accounts in parallel.

    \b
    Resumable: run the same command again after an interruption (even kill -9); finished
    batches are never re-proved and the final root is the same.
    \b
    OUT/manifest.json, params.json, circuit/verification_key*.json,
    batches/NNNNNN/{proof,public,batch}.json, tree/levels.json are for auditors;
    OUT/private/ (salt secret, inclusion index) must NOT be published.
    """
    from zkmargin.prover.pipeline import (
        DEFAULT_BATCH_SIZE,
        InterruptedRunError,
        ProveOptions,
        prove_snapshot,
    )
    from zkmargin.prover.toolchain import Engine

    if ptau is not None and dev_setup:
        raise click.BadParameter("choose one of --ptau FILE and --dev-setup",
                                 param_hint="--ptau")
    if zkey is not None and ptau is None:
        raise click.BadParameter("--zkey needs --ptau, the powers of tau the ceremony's key "
                                 "was set up from", param_hint="--zkey")
    opts = ProveOptions(batch_size=batch_size or DEFAULT_BATCH_SIZE,
                        workers=workers or ProveOptions().workers,
                        backend=backend or _default_backend(),
                        engine=cast(Engine, engine), ptau=ptau, zkey=zkey,
                        salt_secret=salt_secret, fmt=fmt, scheduler=scheduler)
    events = TerminalEvents(quiet=as_json)
    try:
        result = prove_snapshot(snapshot, params_path, out, opts, events)
    except InterruptedRunError as exc:
        events.close()
        click.echo(str(exc), err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        events.close()
        click.echo("interrupted before any batch was proved; rerun the same command to "
                   "start again", err=True)
        sys.exit(130)
    finally:
        events.close()
    if as_json:
        click.echo(json.dumps({
            "out": str(out), "root": str(result.root), "params_hash": str(result.params_hash),
            "accounts": result.accounts, "batches": result.batches, "proved": result.proved,
            "batch_size": opts.batch_size, "backend": opts.backend,
            "insecure_setup": result.insecure_setup, "seconds": round(result.seconds, 3),
            "manifest": str(out / "manifest.json"),
        }))
        return
    click.echo(f"root      0x{result.root:064x}")
    click.echo(f"accounts  {result.accounts:,} in {result.batches:,} batch proofs of "
               f"{opts.batch_size} ({result.proved:,} proved now, "
               f"{result.batches - result.proved:,} already done) with {opts.backend} in "
               f"{result.seconds:,.1f} s")
    click.echo(f"artifacts {out}/ (manifest.json; keep {out}/private/ secret)")
    if result.insecure_setup:
        click.echo("WARNING: INSECURE development setup: these proofs prove nothing to a "
                   "third party.")


@main.command()
@click.argument("snapshot", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--params", "params_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Risk parameters JSON.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The artifact directory `prove` will complete later.")
@click.option("--batch-size", type=PowerOfTwo(), default=None,
              help="K: accounts per proof, as `prove` will use it (default 32).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Hashing processes in parallel. Default: the number of cores.")
@click.option("--salt-secret", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File with the exchange's salt secret (hex, >= 16 bytes). Default: a new "
                   "random one, kept in OUT/private/salt_secret.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]),
              help="Snapshot format (default: from the file extension).")
@click.option("--json", "as_json", is_flag=True, help="Print the commitment as JSON.")
@reports_errors
def commit(snapshot: Path, params_path: Path, out: Path, batch_size: int | None,
           workers: int | None, salt_secret: Path | None, fmt: str | None,
           as_json: bool) -> None:
    """Commit to SNAPSHOT now, prove later: check it, hash every account into the tree,
    write OUT/commitment.json (the root to publish at snapshot time), OUT/tree/levels.json
    and the private inclusion index, without proving anything.

    \b
    Then, over the following hours: `zkmargin prove` with the same snapshot, params,
    batch size and salt secret into the same OUT reuses it, and refuses to finish unless
    its proofs give exactly the committed root; `zkmargin audit` checks it too.
    """
    from zkmargin.prover.pipeline import DEFAULT_BATCH_SIZE, ProveOptions, commit_snapshot

    opts = ProveOptions(batch_size=batch_size or DEFAULT_BATCH_SIZE,
                        workers=workers or ProveOptions().workers, salt_secret=salt_secret,
                        fmt=fmt)
    events = TerminalEvents(quiet=as_json)
    try:
        c = commit_snapshot(snapshot, params_path, out, opts, events)
    finally:
        events.close()
    if as_json:
        click.echo(json.dumps(c.to_json()))
        return
    click.echo(f"root      0x{c.root:064x}")
    click.echo(f"accounts  {c.accounts:,} in {c.batches:,} batches of {c.shape.batch_size}; "
               f"params hash 0x{c.params_hash:064x}")
    click.echo(f"publish   {out / 'commitment.json'} now; prove into {out} later")


# --------------------------------------------------------------------------------------
# audit, inclusion


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: valid, root, params_hash, batches and the keys and "
                   "units of `check --json`.")
@click.option("--policy", type=click.Choice(["report", "strict"]), default="report",
              show_default=True,
              help="report: exit 0 when the proofs are valid; strict: also exit 2 when any "
                   "account is margin-deficient.")
@click.option("--verifier", "impl", type=click.Choice(["fast", "reference"]), default="fast",
              show_default=True, help="Groth16 verifier: fast (native pairing) or reference "
                                      "(py_ecc, readable, slow).")
@click.option("--ptau", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None,
              help="The phase-1 powers of tau YOU trust (a public ceremony's file, by its "
                   "sha256; nothing is downloaded): verifies the published zkey against it "
                   "and the recompiled circuit, with every phase-2 contribution.")
@click.option("--expect-contribution", "expected", multiple=True, metavar="HASH",
              help="A phase-2 contribution hash you trust (a contributor gave it to you); "
                   "repeatable. Each must be in the verified chain (needs --ptau).")
@click.option("--rpc", "rpc_url", default=None, metavar="URL",
              help="After the artifacts pass, compare the chain with them: an Ethereum "
                   "JSON-RPC endpoint (http/https; never printed). Needs --registry, --epoch.")
@click.option("--registry", default=None, metavar="ADDR",
              help="The SolvencyRegistry's address (0x + 40 hex digits), with --rpc.")
@click.option("--epoch", "epoch", type=click.IntRange(0, (1 << 256) - 1), default=None,
              help="The registry's epoch of these artifacts, with --rpc.")
@reports_errors
def audit(directory: Path, as_json: bool, policy: str, impl: str, ptau: Path | None,
          expected: tuple[str, ...], rpc_url: str | None = None, registry: str | None = None,
          epoch: int | None = None) -> None:
    """Verify an artifact DIRECTORY of `zkmargin prove`, stopping at the first failure.

    \b
    Checks, in order: the manifest; the sha256 of every file (and no unlisted file); the
    circuit, recompiled here from these sources, has the r1cs the manifest names; the
    verification key is bound to it through the published zkey (same constraints, same
    key); the setup (the INSECURE development setup is recognised by recomputation; with
    --ptau the whole phase-1 and phase-2 chain, and each --expect-contribution); the params
    hash of params.json; batch indices 0..B-1 without gaps; per batch, the commitment
    recomputed from batch.json equals the public signal and the Groth16 proof verifies
    (EVM semantics); account counts; the tree over the batch roots gives the root; the
    batch totals sum to the published totals.

    \b
    The report states separately: proofs valid; key bound to this circuit; phase 1
    verified (or not checked); independent contributions found; INSECURE setup.
    Exit codes: 0 valid; 1 a check failed (the file and the check are named); 2 valid but
    --policy strict and some account is deficient.

    \b
    With --rpc URL --registry ADDR --epoch N, last, the check 'onchain': the registry's
    code is SolvencyRegistry.sol of this zkmargin and the epoch's pinned verifier's code is
    Groth16Verifier.sol of the AUDITED key (both compiled by the pinned solc, metadata
    aside; the verifier's code unchanged since publication); the epoch's root, params hash
    and batch count are the manifest's; its batchesRoot is the tree over the audited
    commitments. How many batches are verified on chain is reported (fully verified or
    not); a mismatch or an unreadable chain fails the audit.
    """
    from zkmargin.verifier.audit import AuditError, normalise_contribution_hash
    from zkmargin.verifier.audit import audit as run_audit

    onchain_args = {"--rpc": rpc_url, "--registry": registry, "--epoch": epoch}
    missing = [name for name, value in onchain_args.items() if value is None]
    if missing and len(missing) < len(onchain_args):
        raise click.UsageError(f"--rpc, --registry and --epoch go together; missing "
                               f"{', '.join(missing)}")
    if not missing:
        from zkmargin.verifier.onchain import ADDRESS

        if not ADDRESS.fullmatch(str(registry)):
            raise click.BadParameter(f"{registry!r} is not 0x + 40 hex digits",
                                     param_hint="--registry")
        if not str(rpc_url).lower().startswith(("http://", "https://")):
            raise click.BadParameter("must be an http:// or https:// URL", param_hint="--rpc")

    if expected and ptau is None:
        raise click.BadParameter("needs --ptau: only a chain verified against the ptau you "
                                 "trust shows who contributed", param_hint="--expect-contribution")
    for h in expected:
        try:
            normalise_contribution_hash(h)
        except ZkMarginError as exc:
            raise click.BadParameter(str(exc), param_hint="--expect-contribution") from None
    try:
        with progress_if(not as_json, "verifying batches") as advance:
            report = run_audit(directory, impl=impl, ptau=ptau, expected=expected,
                               progress=advance)
        onchain = None
        if rpc_url is not None and registry is not None and epoch is not None:
            from zkmargin.verifier.onchain import check_onchain

            onchain = check_onchain(directory, report, rpc_url=rpc_url, registry=registry,
                                    epoch=epoch)
    except AuditError as exc:
        if as_json:
            click.echo(json.dumps({"valid": False, "file": exc.file, "check": exc.check,
                                   "error": exc.reason}))
        raise Failure(f"audit of {directory} failed: {exc}") from None
    if as_json:
        doc = report.to_json()
        if onchain is not None:
            doc["onchain"] = onchain.to_json()
        click.echo(json.dumps(doc))
    else:
        click.echo(report.render(str(directory)))
        if onchain is not None:
            click.echo("\n".join(["", *onchain.render()]))
    if policy == "strict" and report.totals.deficient:
        click.echo(f"error: policy strict: {report.totals.deficient} account(s) are "
                   "margin-deficient", err=True)
        sys.exit(2)


@main.group()
def inclusion() -> None:
    """Account holders: export and verify one account's inclusion proof."""


@inclusion.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--account", "account_id", required=True, help="The account id.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The inclusion file to write (hand it to the account holder).")
@reports_errors
def inclusion_export(directory: Path, account_id: str, out: Path) -> None:
    """Write the inclusion proof of one account of the artifact DIRECTORY.

    It holds the account's id, salt, balances, perp positions and option positions, the
    published params, leaf, path to the root, batch index and count, root and params hash:
    nothing about any other account.
    """
    from zkmargin.verifier.inclusion import export

    try:
        doc = export(directory, account_id, out)
    except OSError as exc:
        raise Failure(f"{out}: cannot be written: {exc.strerror or exc}") from None
    click.echo(f"wrote {out}: account {account_id}, batch {doc['batch_index']} of "
               f"{doc['batch_count']}, root 0x{int(doc['root']):064x}")


def _hex_root(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    from zkmargin.verifier.inclusion import parse_root

    try:
        return parse_root(value)
    except ValueError:
        raise click.BadParameter(f"a root is hex (64 digits, with or without 0x) or decimal, "
                                 f"got {value!r}") from None


@inclusion.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--root", callback=_hex_root, default=None,
              help="The published root to expect (hex with or without 0x, or decimal).")
@click.option("--params-hash", "expected_params_hash", callback=_hex_root, default=None,
              help="The published params hash to expect (0x hex or decimal): the labels "
                   "shown are then the committed ones.")
@click.option("--artifacts", "directory", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Also check against these artifacts and verify the batch proof.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: the failed check, or the verdict with equity, "
                   "requirement and margin status (the holders' page computes the same).")
@reports_errors
def inclusion_verify(file: Path, root: int | None, expected_params_hash: int | None,
                     directory: Path | None, as_json: bool = False) -> None:
    """Check that the account in FILE, with the balances, perp positions and option
    positions written in it, is in the root; then show the account as committed.

    \b
    The file's own root and params hash prove nothing: pass the published ones (--root,
    --params-hash), or --artifacts DIR to compare with the published artifacts and verify
    the account's batch proof too.

    \b
    Nothing is shown before the leaf (id, salt and every value, option sizes included)
    leads to the root. Then the holder's view: the holdings, and the margin recomputed
    from them under the hashed params (docs/margin.md): equity, requirement with its
    parts (maintenance MM of each bracket perp, portfolio margin PM of each group: its
    worst scenario or its short-option minimum), excess and status (margin-sufficient or
    margin-deficient with the shortfall).
    """
    from zkmargin.verifier.inclusion import InclusionError, verify

    try:
        verdict = verify(file, root=root, expected_params_hash=expected_params_hash,
                         directory=directory)
    except InclusionError as exc:
        if as_json:
            click.echo(json.dumps({"verified": False, "check": exc.check, "error": str(exc)}))
        raise Failure(f"{file}: NOT verified: {exc}") from None
    if as_json:
        click.echo(json.dumps(verdict.to_json()))
        return
    click.echo(verdict.sentence())
    click.echo("\n".join([*verdict.holdings(), *verdict.facts()]))


@inclusion.command("page")
@click.option("--artifacts", "directory", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="The artifact directory of `zkmargin prove` (only public "
                                  "files the manifest lists are read; never private/).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="The site directory to write: new, empty, or a page written earlier "
                   "(replaced whole).")
@reports_errors
def inclusion_page(directory: Path, out: Path) -> None:
    """Write the account holders' static page into OUT, with the public files it needs.

    \b
    OUT/index.html and OUT/zkmargin-verify.js: the page, which runs the checks of
    `zkmargin inclusion verify` in the holder's browser (Poseidon by circomlibjs, Groth16
    by snarkjs) and makes no network request; OUT/published.js: the public files below,
    embedded for a page opened from disk; OUT/manifest.json, params.json, circuit/,
    batches/, tree/: those files as published (each checked against the manifest's
    sha256). Publish OUT/ on any static host as it is; each holder opens the page and
    loads their own inclusion file, which never leaves their machine.
    """
    from zkmargin.verifier.page import publish

    site = publish(directory, out)
    click.echo(f"wrote {out}/index.html: the holders' page with {len(site.files)} public files "
               f"of {directory} ({site.batches} batches, root 0x{site.root:064x}); nothing "
               "from private/")
    click.echo(f"publish {out}/ as it is on any static host; holders open index.html there or "
               "from disk and load their own inclusion file")
    if site.insecure_setup:
        click.echo("WARNING: INSECURE development setup: these proofs prove nothing to a "
                   "third party (the page says so too).")


# --------------------------------------------------------------------------------------
# circuit, contracts, demo


@main.group()
def circuit() -> None:
    """Inspect the batch circuit of a parameter shape."""


@circuit.command("info")
@click.option("--params", "params_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None,
              help="Take the shape from this params file, as `prove` does (not with the "
                   "shape flags below).")
@click.option("--assets", type=click.IntRange(1, 64), default=None,
              help="A: assets (collateral balances per account).")
@click.option("--perps", type=click.IntRange(0, 64), default=None,
              help="P: perps, bracket perps and group perps together.")
@click.option("--brackets", type=click.IntRange(2, 16), default=None,
              help="L: maintenance brackets per perp (shorter tables are padded; at least "
                   "2).")
@click.option("--tiers", type=click.IntRange(1, 16), default=None,  # MAX_TIERS
              help="T: collateral tiers per asset, the most any asset has (default 1: one "
                   "weight per asset).")
@click.option("--options", "n_options", type=click.IntRange(0, 240), default=None,
              help="O: options (default 0). Options need --groups and --scenarios.")
@click.option("--groups", type=click.IntRange(min=0), default=None,
              help="G: portfolio groups, each margined on its worst scenario (default 0).")
@click.option("--scenarios", type=click.IntRange(0, 32), default=None,  # MAX_SCENARIOS
              help="S: scenarios of the risk arrays (default 0; CME SPAN has 16).")
@click.option("--batch-size", type=PowerOfTwo(), default=4, show_default=True,
              help="K: accounts per batch proof, a power of two.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@reports_errors
def circuit_info_cmd(params_path: Path | None, assets: int | None, perps: int | None,
                     brackets: int | None, tiers: int | None, n_options: int | None,
                     groups: int | None, scenarios: int | None, batch_size: int,
                     as_json: bool) -> None:
    """Constraints (total, per account, per batch), wires and the ptau power needed, for
    the batch circuit Batch(A, P, L, T, O, G, S, K).

    \b
    The shape comes from a params file (--params, exactly the circuit `prove` uses) or
    from the flags: --assets, --perps and --brackets are required, the rest default to a
    book without tiers, options or portfolio groups. An account costs constraints for
    each asset (times its tiers), each perp (times its brackets), each option, and each
    group's scan over the scenarios (every perp and option in every group and scenario).
    \b
    Examples:
      zkmargin circuit info --assets 8 --perps 4 --brackets 4 --batch-size 16
      zkmargin circuit info --assets 3 --perps 2 --brackets 3 --tiers 3 --options 8 \\
          --groups 2 --scenarios 16 --batch-size 8
      zkmargin circuit info --params params.json --batch-size 8

    Compiles the circuit (cached under .cache/circuits, keyed by sources, shape and compiler
    version) and a one-account twin to split per-account from per-batch constraints.
    """
    from zkmargin.prover.info import circuit_info
    from zkmargin.statement import CircuitShape

    flags = {"--assets": assets, "--perps": perps, "--brackets": brackets, "--tiers": tiers,
             "--options": n_options, "--groups": groups, "--scenarios": scenarios}
    if params_path is not None:
        given = [name for name, v in flags.items() if v is not None]
        if given:
            raise click.UsageError(f"{given[0]}: the shape comes from --params; give "
                                   "either --params or the shape flags")
        from zkmargin.params import load_params

        shape = CircuitShape.for_params(load_params(params_path), batch_size)
    else:
        missing = [n for n in ("--assets", "--perps", "--brackets") if flags[n] is None]
        if missing:
            raise click.UsageError(f"missing {', '.join(missing)} (or --params FILE)")
        if assets is None or perps is None or brackets is None:  # for the type checker
            raise AssertionError("unreachable")
        try:
            shape = CircuitShape(assets, perps, brackets, batch_size.bit_length() - 1,
                                 tiers=tiers or 1, options=n_options or 0,
                                 groups=groups or 0, scenarios=scenarios or 0)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    info = circuit_info(shape)
    if as_json:
        click.echo(json.dumps(info.to_json()))
        return
    click.echo(f"batch circuit {shape.describe()} (id {info.circuit_id})")
    click.echo(f"  constraints        {info.constraints:>12,}")
    click.echo(f"  per account        {info.per_account:>12,}  (subtree hashing included)")
    click.echo(f"  per batch overhead {info.batch_overhead:>12,}  (parameters, commitment)")
    click.echo(f"  wires              {info.wires:>12,}")
    click.echo(f"  ptau power needed  {info.ptau_power:>12}  (2^{info.ptau_power} >= "
               "constraints + public + 1)")


def _options_holder(snapshot: Path, params_path: Path) -> str:
    """The first account of ``snapshot`` holding an option (a short one if any account
    has one): the demo's account holder."""
    from zkmargin.params import load_params
    from zkmargin.snapshot import SnapshotReader

    first_long: str | None = None
    for block in SnapshotReader(snapshot, load_params(params_path)):
        for n, acct in enumerate(block.ids):
            row = block.options[n]
            if (row < 0).any():
                return acct
            if first_long is None and (row != 0).any():
                first_long = acct
    if first_long is None:
        raise Failure(f"{snapshot}: no account holds an option")
    return first_long


@main.command()
@click.option("--accounts", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("demo-out"), show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--batch-size", type=PowerOfTwo(), default=8, show_default=True)
@reports_errors
def demo(accounts: int, out: Path, seed: int, batch_size: int) -> None:
    """Run the main job end to end on an options book: risk arrays of the embedded sample
    market, a generated book, check, prove, audit, and one account holder's inclusion
    proof (an account holding options).

    \b
    The sample market: USDT, BTC (3 collateral tiers), ETH; a BTC group perp and an
    ETH-PERP with 3 brackets; 6 BTC and 2 ETH options in two portfolio groups under CME
    SPAN's 16 scenarios: the circuit A=3 P=2 L=3 T=3 O=8 G=2 S=16.

    Uses the INSECURE development setup (generated locally and cached under .cache/), so
    the first run also compiles the circuit and sets up its keys; later runs reuse them.
    """
    import shutil

    from zkmargin.riskarrays import write_sample_market

    ctx = click.get_current_context()
    out.mkdir(parents=True, exist_ok=True)
    market, params_path, snapshot = out / "market.json", out / "params.json", \
        out / "snapshot.csv"
    click.echo(f"== 1/6 risk parameters: Black-76 risk arrays of the sample market "
               f"({market})")
    write_sample_market(market)
    ctx.invoke(params_risk_arrays, market=market, out=params_path)
    click.echo(f"\n== 2/6 generate {accounts} synthetic accounts with options into {out}/")
    ctx.invoke(generate, accounts=accounts, params_path=params_path, seed=seed,
               borrow_share=0.15, deficient_share=0.03, fmt="csv", out=out, force=True)
    click.echo("\n== 3/6 check margin (exact core)")
    ctx.invoke(check, snapshot=snapshot, params_path=params_path, as_json=False,
               out=out / "check.json", fmt=None, core="vectorized")
    artifacts = out / "artifacts"
    shutil.rmtree(artifacts, ignore_errors=True)  # a fresh run; the keys stay cached
    click.echo(f"\n== 4/6 prove every account in batches of {batch_size} "
               "(first run: compile + INSECURE dev setup, then cached)")
    ctx.invoke(prove, snapshot=snapshot, params_path=params_path, out=artifacts,
               batch_size=batch_size, workers=None, backend=None, engine="auto", ptau=None,
               zkey=None, dev_setup=True, salt_secret=None, fmt=None, scheduler=None,
               as_json=False)
    click.echo("\n== 5/6 audit the artifacts (what an auditor runs)")
    ctx.invoke(audit, directory=artifacts, as_json=False, policy="report", impl="fast",
               ptau=None, expected=())
    holder = _options_holder(snapshot, params_path)
    proof_file = out / f"inclusion-{holder}.json"
    click.echo(f"\n== 6/6 inclusion proof of {holder}, who holds options (what the account "
               "holder runs)")
    ctx.invoke(inclusion_export, directory=artifacts, account_id=holder, out=proof_file)
    ctx.invoke(inclusion_verify, file=proof_file, root=None, expected_params_hash=None,
               directory=artifacts)
    click.echo(f"\nexact JSON report: {out / 'check.json'}")
    click.echo(f"proof artifacts:   {artifacts}/ (manifest.json, batches/, tree/; "
               "private/ stays with the exchange)")
    click.echo(f"inclusion proof:   {proof_file}")


@main.group()
def ceremony() -> None:
    """The multi-party phase-2 setup of the batch circuit's key.

    \b
    Nobody may know the key's trapdoor, least of all the exchange: a proof under a key
    whose trapdoor someone knows can state anything. Phase 1 is a public powers-of-tau
    ceremony (its file, identified by sha256). Phase 2 is run here:
      exchange      zkmargin ceremony init --params P --batch-size K --ptau PTAU --out c0.zkey
      each party    zkmargin ceremony contribute c0.zkey c1.zkey --name "Auditor A"
                    (on its own machine, with only the zkey; it records the printed hash)
      anyone        zkmargin ceremony beacon c2.zkey final.zkey --beacon <future block hash>
      anyone        zkmargin ceremony verify final.zkey --params P --batch-size K --ptau PTAU
      exchange      zkmargin prove ... --zkey final.zkey --ptau PTAU
      auditor       zkmargin audit DIR --ptau PTAU --expect-contribution <hash> ...
    One honest contributor is enough. See docs/trust.md.
    """


def _shape_circuit(params_path: Path, batch_size: int) -> Any:
    from zkmargin.params import load_params
    from zkmargin.prover.toolchain import compile_circuit
    from zkmargin.statement import CircuitShape

    return compile_circuit(CircuitShape.for_params(load_params(params_path), batch_size))


def _show_contributions(contributions: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([c.to_json() for c in contributions]))
        return
    for c in contributions:
        click.echo(f"  {c.index}. {c.kind} '{c.name}'")
        click.echo(f"     hash {c.hash}")


_PARAMS_OPTION = click.option(
    "--params", "params_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="The risk parameters: their shape (A, P, L) and --batch-size pick the circuit.")
_BATCH_OPTION = click.option("--batch-size", type=PowerOfTwo(), required=True,
                             help="K: accounts per proof, as `prove` will use it.")
_PTAU_OPTION = click.option("--ptau", type=click.Path(dir_okay=False, exists=True,
                                                      path_type=Path), required=True,
                            help="The prepared phase-1 powers of tau (a public ceremony's).")


@ceremony.command("init")
@_PARAMS_OPTION
@_BATCH_OPTION
@_PTAU_OPTION
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The initial zkey to hand to the first contributor.")
@reports_errors
def ceremony_init(params_path: Path, batch_size: int, ptau: Path, out: Path) -> None:
    """Start phase 2: the initial key of the batch circuit over PTAU (no contribution yet;
    never prove with it). The development ptau is refused."""
    from zkmargin.artifacts import sha256_file
    from zkmargin.prover.setup import init

    circuit = _shape_circuit(params_path, batch_size)
    init(circuit, ptau, out)
    click.echo(f"wrote {out}: circuit r1cs sha256 {sha256_file(circuit.r1cs)}, ptau "
               f"{ptau.name} sha256 {sha256_file(ptau)}")
    click.echo("next: each independent party runs `zkmargin ceremony contribute` on it")


@ceremony.command("contribute")
@click.argument("zkey_in", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("zkey_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="Who contributes (recorded in the key, public).")
@click.option("--json", "as_json", is_flag=True, help="Print the contribution as JSON.")
@reports_errors
def ceremony_contribute(zkey_in: Path, zkey_out: Path, name: str, as_json: bool) -> None:
    """Contribute to phase 2: ZKEY_IN -> ZKEY_OUT with 32 bytes of fresh randomness that
    are never stored. Record the printed hash: the auditor expects it in the final key."""
    from zkmargin.prover.setup import contribute

    c = contribute(zkey_in, zkey_out, name)
    if as_json:
        click.echo(json.dumps(c.to_json()))
        return
    click.echo(f"wrote {zkey_out}: contribution {c.index} '{c.name}'")
    click.echo(f"contribution hash (record it, publish it): {c.hash}")


@ceremony.command("beacon")
@click.argument("zkey_in", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.argument("zkey_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--beacon", "beacon_hex", required=True,
              help="Public randomness nobody knew in advance, as hex (e.g. the hash of a "
                   "block announced before the ceremony).")
@click.option("--iterations", type=click.IntRange(1, 63), default=10, show_default=True,
              help="2^N hash iterations over the beacon.")
@click.option("--name", default="final beacon", show_default=True)
@reports_errors
def ceremony_beacon(zkey_in: Path, zkey_out: Path, beacon_hex: str, iterations: int,
                    name: str) -> None:
    """Close phase 2 with a public random beacon (deterministic: anyone can redo it)."""
    from zkmargin.prover.setup import beacon

    c = beacon(zkey_in, zkey_out, beacon_hex, iterations, name)
    click.echo(f"wrote {zkey_out}: beacon {c.index}, hash {c.hash}")


@ceremony.command("verify")
@click.argument("zkey", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_PARAMS_OPTION
@_BATCH_OPTION
@_PTAU_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the contributions as JSON.")
@reports_errors
def ceremony_verify(zkey: Path, params_path: Path, batch_size: int, ptau: Path,
                    as_json: bool) -> None:
    """Verify ZKEY against the recompiled batch circuit and PTAU, every contribution of
    its chain included, and list the contributions with their hashes."""
    from zkmargin.prover.setup import verify_zkey

    contributions = verify_zkey(_shape_circuit(params_path, batch_size).r1cs, ptau, zkey)
    if not as_json:
        click.echo(f"{zkey}: valid phase 2 of this circuit over {ptau.name}, "
                   f"{len(contributions)} step(s):")
    _show_contributions(contributions, as_json)


@main.group()
def contracts() -> None:
    """Solidity verifier and solvency registry for on-chain verification."""


@contracts.command("export")
@click.argument("artifacts", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Directory for Groth16Verifier.sol, SolvencyRegistry.sol, publish.json.")
@click.option("--epoch", type=click.IntRange(min=0), default=1, show_default=True,
              help="Epoch number (uint256) for publishEpoch in publish.json: the exchange's "
                   "own counter.")
@click.option("--json", "as_json", is_flag=True, help="Print publish.json's epoch as JSON.")
@reports_errors
def contracts_export(artifacts: Path, out: Path, epoch: int, as_json: bool) -> None:
    """Write the Solidity verifier of ARTIFACTS' verification key, the registry, and
    publish.json (publishEpoch and per-batch submitBatch arguments).

    \b
    ARTIFACTS is an artifact directory of `zkmargin prove`. Every input file is checked
    first (its sha256 against manifest.json too); on an error nothing is written and the
    file, field and value are named. Both contracts are compiled with the pinned solc-js
    0.8.37 (optimizer, 200 runs, default EVM version; needs node and node_modules), and
    publish.json records the sha256 of their runtime code, with and without the trailing
    CBOR metadata: deploy them compiled the same way (`zkmargin audit --rpc` compares the
    code on chain, metadata aside). publishEpoch's argument 1 is a placeholder for the
    deployed Groth16Verifier's address.
    """
    from zkmargin.verifier.contracts import (
        PUBLISH_JSON,
        REGISTRY_SOL,
        VERIFIER_SOL,
        export_contracts,
    )

    doc = export_contracts(artifacts, out, epoch=epoch)
    deploy = doc["deploy"]
    runtime = {name: r["sha256_without_metadata"] for name, r in deploy["runtime"].items()}
    if as_json:
        click.echo(json.dumps({"out": str(out), **doc["epoch"],
                               "insecure_setup": doc["insecure_setup"], "solc": deploy["solc"],
                               "runtime_sha256_without_metadata": runtime}))
        return
    e = doc["epoch"]
    click.echo(f"wrote {out / VERIFIER_SOL}, {out / REGISTRY_SOL}, {out / PUBLISH_JSON}")
    click.echo(f"epoch {e['epoch']}: {e['batch_count']} batches, batchesRoot {e['batches_root']}")
    click.echo(f"compiled by solc {deploy['solc']} (optimizer, 200 runs, default EVM version); "
               "runtime code sha256 without metadata:")
    for name, digest in runtime.items():
        click.echo(f"  {name:<17} {digest}")
    click.echo(f"deploy both, then call publishEpoch with publish.json's arguments, argument "
               f"{deploy['verifier_argument']} replaced by the Groth16Verifier's address")
    if doc["insecure_setup"]:
        click.echo("WARNING: INSECURE development setup: these proofs prove nothing to a "
                   "third party.")


if __name__ == "__main__":  # pragma: no cover
    main()
