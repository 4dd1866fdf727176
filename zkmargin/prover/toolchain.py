"""The pinned circom/snarkjs toolchain from ./node_modules, run as subprocesses.

A circuit is one ``component main`` instantiating a template of ``circuits/lib/``: the
batch circuit ``Batch(A, P, L, DEPTH)`` of any shape (:func:`compile_circuit`), or any
template with compile-time parameters (:func:`compile_template`, :func:`compile_main`).
``circuits/circuits.json`` names the instantiations that the tests, the demo and the
benchmarks compile (:func:`registry`, :func:`registered_shape`, :func:`compile_named`).
Each compiles into a cache directory under ``CACHE/circuits`` keyed by a content hash of
the template sources, the template and its parameters, the compiler version and the
cache layout, so a second use of the same main compiles nothing.

Witnesses come from one of two calculators that circom generates from the same code:
the WASM one (run by snarkjs) and the C++ one, whose binary is built on first use with
``make`` (it needs g++, make, nasm, libgmp-dev and nlohmann-json3-dev: ``make setup``
installs them when run as root) and cached beside the circuit. Both give byte-identical
``.wtns`` files; the C++ one is the faster, so ``engine="auto"`` uses it whenever it
builds and the WASM one otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal, cast

from zkmargin.atomic import atomic_directory, file_lock
from zkmargin.errors import ZkMarginError
from zkmargin.paths import CACHE, CIRCUITS_JSON, CIRCUITS_LIB, NODE_MODULES
from zkmargin.statement import CircuitShape

COMPILE_TIMEOUT = 1800
WITNESS_TIMEOUT = 600
CPP_BUILD_TIMEOUT = 3600
#: Compiler flags of the generated ``circuit.cpp``: circom's Makefile's (-O3).
CIRCUIT_CFLAGS = "-std=c++11 -O3 -I."
#: Environment variable replacing :data:`CIRCUIT_CFLAGS` (the test suite sets -O1: 2.4x
#: faster builds for 1.35x slower witnesses, benchmarks/bench_witness.py).
CFLAGS_ENV = "ZKMARGIN_CPP_CFLAGS"


def circuit_cflags() -> str:
    """The compiler flags for ``circuit.cpp``: ``$ZKMARGIN_CPP_CFLAGS`` or -O3."""
    return os.environ.get(CFLAGS_ENV) or CIRCUIT_CFLAGS
#: Version of what a circuit's cache directory holds; hashed into its id, so directories
#: of an older layout are never reused. 2: files named ``circuit.*`` (circom reserves
#: ``main`` with ``--c``) and the C++ witness generator sources in ``circuit_cpp/``.
LAYOUT = "2"
#: Base name of the compiled files (``circuit.r1cs``, ``circuit_js/``, ``circuit_cpp/``).
STEM = "circuit"
#: Debian packages the C++ witness generator builds with.
CPP_PACKAGES = "g++ make nasm libgmp-dev nlohmann-json3-dev"
#: Marker left in ``circuit_cpp/`` when the C++ build failed; delete it to retry.
CPP_FAILED = "BUILD_FAILED"
#: The witness calculators of :func:`calculate_witness`.
Engine = Literal["auto", "cpp", "wasm"]
#: Chooses the engine when :func:`calculate_witness` is given none (default ``"auto"``).
ENGINE_ENV = "ZKMARGIN_WITNESS_ENGINE"


class ToolchainError(ZkMarginError):
    """A toolchain subprocess failed; carries its command and stderr."""

    def __init__(self, what: str, cmd: list[str], stderr: str) -> None:
        self.cmd = cmd
        self.stderr = stderr
        super().__init__(f"{what} failed: {' '.join(cmd)}\n{stderr.strip()[-3000:]}")


class CppUnavailableError(ToolchainError):
    """The circuit's C++ witness generator did not build (now or in an earlier attempt)."""


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise ZkMarginError("node is not on PATH; Node 20 is required (run `make setup`)")
    return node


def _tool(package: str, script: str) -> Path:
    path = NODE_MODULES / package / script
    if not path.exists():
        raise ZkMarginError(f"{path} is missing: run `make setup` (npm ci) first")
    return path


def tool_env() -> dict[str, str]:
    """The environment of the toolchain's subprocesses: Node finds the pinned packages
    (NODE_PATH) even when the scripts are not beside node_modules (an installed wheel)."""
    env = dict(os.environ)
    env["NODE_PATH"] = os.pathsep.join(p for p in (str(NODE_MODULES),
                                                   env.get("NODE_PATH", "")) if p)
    return env


def run(what: str, cmd: list[str], *, cwd: Path | None = None, timeout: float) -> str:
    """Run a toolchain command (check=True, a timeout, stderr carried in a ToolchainError);
    the process dies with this one (Linux), so no tool outlives a killed run."""
    from zkmargin.prover.executors import die_with_parent

    try:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              check=True, env=tool_env(), preexec_fn=die_with_parent)
    except subprocess.CalledProcessError as exc:
        raise ToolchainError(what, cmd, exc.stderr + exc.stdout) from None
    except subprocess.TimeoutExpired:
        raise ToolchainError(what, cmd, f"timed out after {timeout} s") from None
    return proc.stdout


@cache
def circom_version() -> str:
    out = run("circom --version", [_node(), str(_tool("circom2", "cli.js")), "--version"],
              timeout=120)
    return " ".join(out.split())


def snarkjs_command(*args: str) -> list[str]:
    """The pinned snarkjs CLI with ``args`` (the one place that builds its command)."""
    return [_node(), str(_tool("snarkjs", "build/cli.cjs")), *args]


@cache
def snarkjs_version() -> str:
    """The version of the pinned snarkjs package (what proves and sets up keys)."""
    doc = json.loads((_tool("snarkjs", "package.json")).read_text())
    return str(doc["version"])


#: The template of the batch circuit and its file in ``circuits/lib/`` (without ``.circom``).
BATCH_FILE = "batch"
BATCH_TEMPLATE = "Batch"
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_FILE = re.compile(r"[a-z0-9_]+")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REGISTRY_KEYS = {"file", "template", "params", "pubs"}


@dataclass(frozen=True)
class MainSpec:
    """One ``component main``: ``template(*params)`` from ``circuits/lib/<file>.circom``.

    The fields of an entry of ``circuits/circuits.json`` (the circomkit format that
    semaphore's ``packages/circuits/circuits.json`` uses): ``pubs`` names the inputs made
    public (none by default; the main's outputs are public anyway).
    """

    file: str
    template: str
    params: tuple[int, ...] = ()
    pubs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _FILE.fullmatch(self.file):
            raise ZkMarginError(f"circuit file {self.file!r}: expected a name like 'batch' "
                                "(a file of circuits/lib without .circom)")
        for what, name in (("template", self.template), *(("public input", p)
                                                           for p in self.pubs)):
            if not _IDENT.fullmatch(name):
                raise ZkMarginError(f"{what} {name!r} is not a circom identifier")
        for v in self.params:
            if type(v) is not int:
                raise ZkMarginError(f"{self.template} parameter {v!r} is not an integer")

    @property
    def is_batch(self) -> bool:
        return (self.file, self.template, len(self.params)) == (BATCH_FILE, BATCH_TEMPLATE, 8)

    @property
    def shape(self) -> CircuitShape:
        """The batch shape of a ``Batch(A, P, L, T, O, G, S, DEPTH)`` main."""
        if not self.is_batch:
            raise ZkMarginError(f"{self.describe()} is not the batch circuit "
                                f"{BATCH_TEMPLATE}(A, P, L, T, O, G, S, DEPTH) of "
                                f"{BATCH_FILE}.circom")
        try:
            return CircuitShape.from_template_params(self.params)
        except ValueError as exc:
            raise ZkMarginError(f"{self.describe()}: {exc}") from None

    def describe(self) -> str:
        return f"{self.template}({', '.join(map(str, self.params))}) of {self.file}.circom"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "template": self.template,
                               "params": list(self.params)}
        if self.pubs:
            out["pubs"] = list(self.pubs)
        return out

    def main_source(self) -> str:
        public = f" {{public [{', '.join(self.pubs)}]}}" if self.pubs else ""
        return (
            "pragma circom 2.1.6;\n"
            f'include "{self.file}.circom";\n'
            f"component main{public} = {self.template}({', '.join(map(str, self.params))});\n"
        )


def batch_spec(shape: CircuitShape) -> MainSpec:
    """The main of the batch circuit of ``shape``."""
    return MainSpec(BATCH_FILE, BATCH_TEMPLATE, shape.template_params())


def _registry_entry(name: str, entry: Any) -> MainSpec:
    where = f"{CIRCUITS_JSON}, entry {name!r}"
    if not _NAME.fullmatch(name):
        raise ZkMarginError(f"{where}: names are lower-case words joined by '-'")
    if not isinstance(entry, dict):
        raise ZkMarginError(f"{where}: expected an object, got {entry!r}")
    unknown = sorted(set(entry) - _REGISTRY_KEYS)
    if unknown or "file" not in entry or "template" not in entry:
        raise ZkMarginError(f"{where}: expected the keys file, template and optionally "
                            f"params, pubs; got {sorted(entry)}")
    file, template = entry["file"], entry["template"]
    params, pubs = entry.get("params", []), entry.get("pubs", [])
    if not (isinstance(file, str) and isinstance(template, str) and isinstance(params, list)
            and isinstance(pubs, list) and all(isinstance(p, str) for p in pubs)):
        raise ZkMarginError(f"{where}: file and template are strings, params a list of "
                            "integers, pubs a list of strings")
    try:
        spec = MainSpec(file, template, tuple(params), tuple(pubs))
    except ZkMarginError as exc:
        raise ZkMarginError(f"{where}: {exc}") from None
    if not (CIRCUITS_LIB / f"{file}.circom").is_file():
        raise ZkMarginError(f"{where}: {CIRCUITS_LIB / file}.circom does not exist")
    return spec


@cache
def _registry() -> dict[str, MainSpec]:
    try:
        doc = json.loads(CIRCUITS_JSON.read_text())
    except (OSError, ValueError) as exc:
        raise ZkMarginError(f"{CIRCUITS_JSON}: cannot read the circuit registry: {exc}") from None
    if not isinstance(doc, dict):
        raise ZkMarginError(f"{CIRCUITS_JSON}: expected an object of name -> circuit")
    return {name: _registry_entry(name, entry) for name, entry in doc.items()}


def registry() -> dict[str, MainSpec]:
    """The named mains of ``circuits/circuits.json``, validated, in file order."""
    return dict(_registry())


def registered(name: str) -> MainSpec:
    """The registry entry ``name``; an error lists the registered names."""
    specs = _registry()
    if name not in specs:
        raise ZkMarginError(f"no circuit {name!r} in {CIRCUITS_JSON}; registered: "
                            f"{', '.join(specs)}")
    return specs[name]


def registered_shape(name: str) -> CircuitShape:
    """The batch shape of the registered ``Batch`` main ``name`` (e.g. ``batch-test``)."""
    return registered(name).shape


class CompiledMain:
    """The files of a compiled main in its cache directory (set by the subclasses)."""

    directory: Path

    @property
    def spec(self) -> MainSpec:
        raise NotImplementedError

    @property
    def r1cs(self) -> Path:
        return self.directory / f"{STEM}.r1cs"

    @property
    def wasm(self) -> Path:
        return self.directory / f"{STEM}_js" / f"{STEM}.wasm"

    @property
    def sym(self) -> Path:
        return self.directory / f"{STEM}.sym"

    @property
    def cpp_dir(self) -> Path:
        """circom's C++ witness generator sources (``make`` builds the binary here)."""
        return self.directory / f"{STEM}_cpp"

    @property
    def cpp_binary(self) -> Path:
        """The built C++ witness generator; it reads ``<binary>.dat`` beside itself."""
        return self.cpp_dir / STEM

    @property
    def cpp_failure(self) -> Path:
        return self.cpp_dir / CPP_FAILED

    @property
    def info(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.directory / "info.json").read_text())
        return data

    @property
    def constraints(self) -> int:
        """Constraints after ``--O2`` (non-linear + linear), as circom reported them."""
        stats = self.info["stats"]
        return int(stats["non-linear constraints"]) + int(stats.get("linear constraints", 0))

    @property
    def ptau_power(self) -> int:
        """Smallest ``n`` with ``2^n >= constraints + public signals + 1`` (the Groth16
        domain snarkjs needs)."""
        stats = self.info["stats"]
        public = int(stats.get("public inputs", 0)) + int(stats.get("public outputs", 0))
        return max(self.constraints + public, 1).bit_length()


@dataclass(frozen=True)
class CompiledCircuit(CompiledMain):
    """A compiled batch circuit ``Batch(A, P, L, DEPTH)``."""

    shape: CircuitShape
    directory: Path

    @property
    def spec(self) -> MainSpec:
        return batch_spec(self.shape)


@dataclass(frozen=True)
class CompiledTemplate(CompiledMain):
    """A compiled main of any other template (:func:`compile_template`)."""

    main: MainSpec
    directory: Path

    @property
    def spec(self) -> MainSpec:
        return self.main


def _content_id(key: bytes, version: str) -> str:
    h = hashlib.sha256()
    for src in sorted(CIRCUITS_LIB.glob("*.circom")):
        h.update(src.name.encode() + b"\0" + src.read_bytes() + b"\0")
    h.update(key)
    h.update(version.encode())
    h.update(b"\0layout " + LAYOUT.encode())
    return h.hexdigest()[:16]


def circuit_id(shape: CircuitShape, version: str) -> str:
    """The cache id of the batch circuit of ``shape``."""
    return _content_id(
        json.dumps(list(shape.template_params())).encode(), version)


def main_id(spec: MainSpec, version: str) -> str:
    """The cache id of any other main (its key is a JSON object, the batch's a list)."""
    return _content_id(json.dumps(spec.to_json(), sort_keys=True).encode(), version)


def main_source(shape: CircuitShape) -> str:
    return batch_spec(shape).main_source()


def compile_circuit(shape: CircuitShape) -> CompiledCircuit:
    """Compile (or reuse) the batch circuit of ``shape``; returns its cache directory."""
    version = circom_version()
    cid = circuit_id(shape, version)
    name = f"batch-{'-'.join(map(str, shape.template_params()))}-{cid}"
    info = {"shape": list(shape.template_params()),
            "circuit_id": cid, "compiler": version, "layout": LAYOUT}
    return CompiledCircuit(shape, _compile(main_source(shape), CACHE / "circuits" / name, info))


def compile_main(spec: MainSpec) -> CompiledMain:
    """Compile (or reuse) ``spec``. A ``Batch(A, P, L, DEPTH)`` main goes through
    :func:`compile_circuit` (the same cache directory as ``zkmargin prove``)."""
    if spec.is_batch and not spec.pubs:
        return compile_circuit(spec.shape)
    version = circom_version()
    cid = main_id(spec, version)
    params = "".join(f"-{p}" for p in spec.params)
    name = f"{spec.file}-{spec.template}{params}-{cid}"
    info = {"main": spec.to_json(), "circuit_id": cid, "compiler": version, "layout": LAYOUT}
    return CompiledTemplate(spec, _compile(spec.main_source(), CACHE / "circuits" / name, info))


def compile_template(file: str, template: str, params: Sequence[int] = ()) -> CompiledMain:
    """Compile (or reuse) ``component main = template(*params)`` of ``circuits/lib/file``
    (``file`` without ``.circom``); the main's outputs are its public signals."""
    return compile_main(MainSpec(file, template, tuple(params)))


def compile_named(name: str) -> CompiledMain:
    """Compile (or reuse) the main registered as ``name`` in ``circuits/circuits.json``."""
    return compile_main(registered(name))


def _compile(source: str, target: Path, info: dict[str, Any]) -> Path:
    """Compile the main ``source`` into ``target`` unless it is there already.

    The build runs in a temporary sibling directory renamed into place when done, so a
    cache directory is never half-written and concurrent builds of one main are harmless.
    """
    if (target / "info.json").exists():
        return target
    with atomic_directory(target) as work:
        # circom2 (WASI) cannot follow symlinks or -l paths outside its working directory
        shutil.copytree(_tool("circomlib", "circuits"), work / "circomlib" / "circuits")
        for src in CIRCUITS_LIB.glob("*.circom"):
            shutil.copy(src, work / src.name)
        (work / f"{STEM}.circom").write_text(source)
        out = run("circom compile",
                  [_node(), str(_tool("circom2", "cli.js")), f"{STEM}.circom", "--r1cs",
                   "--wasm", "--c", "--sym", "--O2", "-o", "."],
                  cwd=work, timeout=COMPILE_TIMEOUT)
        stats = {}
        for line in out.splitlines():
            clean = line.replace("\x1b[32m", "").replace("\x1b[0m", "")
            if ":" in clean:
                key, _, val = clean.partition(":")
                if val.strip().isdigit():
                    stats[key.strip()] = int(val.strip())
        (work / "info.json").write_text(json.dumps({**info, "stats": stats}, indent=2))
        shutil.rmtree(work / "circomlib")
    return target


def _cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _make_env() -> dict[str, str]:
    """The environment for ``make``, without a parent make's flags and jobserver: when
    zkmargin runs under ``make test`` they would leak into the build (and a ``-DNDEBUG``
    there would compile the circuit's asserts away)."""
    drop = {"MAKEFLAGS", "MFLAGS", "GNUMAKEFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _fix_hint(circuit: CompiledMain) -> str:
    return (
        f"To fix: install the Debian packages {CPP_PACKAGES} (`make setup` does it when run "
        f"as root), then delete {circuit.cpp_failure} to retry; or use engine='wasm'."
    )


def _unavailable(circuit: CompiledMain) -> CppUnavailableError:
    detail = circuit.cpp_failure.read_text(errors="replace")
    return CppUnavailableError(
        "C++ witness generator build (an earlier attempt, recorded)",
        ["make", "-C", str(circuit.cpp_dir)],
        f"{detail.strip()[-2500:]}\n{_fix_hint(circuit)}",
    )


def _first_objects(makefile: Path) -> list[str]:
    """The small objects of circom's Makefile (``DEPS_O``): built first, they fail within
    seconds when a header, nasm or the compiler is missing, before the long compile."""
    for line in makefile.read_text().splitlines():
        key, sep, val = line.partition("=")
        if sep and key.strip() == "DEPS_O":
            return val.split()
    return []


def _make(cmd: list[str], cwd: Path) -> None:
    """Run ``make``; on failure raise ToolchainError with its output in order (so the
    tail holds the compiler's error and make's own)."""
    try:
        proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=CPP_BUILD_TIMEOUT, env=_make_env(),
                              check=False)
    except FileNotFoundError as exc:
        raise ToolchainError("C++ witness generator build", cmd, str(exc)) from None
    except subprocess.TimeoutExpired:
        raise ToolchainError("C++ witness generator build", cmd,
                             f"timed out after {CPP_BUILD_TIMEOUT} s") from None
    if proc.returncode != 0:
        raise ToolchainError("C++ witness generator build", cmd,
                             f"exit status {proc.returncode}\n{proc.stdout}")


def build_witness_binary(circuit: CompiledMain) -> Path:
    """Build (once) and return the circuit's C++ witness generator.

    The binary is cached in ``circuit_cpp/``; concurrent callers wait on a lock file and
    the build runs in a temporary copy, renamed into place only when it links, so nothing
    half-built is ever used. A failed build is recorded in ``circuit_cpp/BUILD_FAILED``
    (the command and the compiler's stderr tail) and every later call raises
    :class:`CppUnavailableError` at once, with how to fix it, until that file is deleted.
    """
    binary = circuit.cpp_binary
    if binary.exists():
        return binary
    if circuit.cpp_failure.exists():
        raise _unavailable(circuit)
    if not (circuit.cpp_dir / "Makefile").exists():
        raise CppUnavailableError(
            "C++ witness generator build", ["make", "-C", str(circuit.cpp_dir)],
            f"{circuit.cpp_dir} has no Makefile: the circuit was not compiled with --c "
            "(delete its cache directory to recompile it)")
    try:
        return _build_locked(circuit)
    except OSError as exc:  # e.g. a read-only cache: nothing can be recorded either
        raise CppUnavailableError("C++ witness generator build",
                                  ["make", "-C", str(circuit.cpp_dir)], str(exc)) from None


def _build_locked(circuit: CompiledMain) -> Path:
    binary = circuit.cpp_binary
    with file_lock(circuit.directory / ".cpp-build.lock"):
        if binary.exists():
            return binary
        if circuit.cpp_failure.exists():
            raise _unavailable(circuit)
        work = Path(tempfile.mkdtemp(prefix=".cpp-build-", dir=circuit.directory))
        try:
            for src in circuit.cpp_dir.iterdir():
                if src.is_file() and src.name not in (STEM, CPP_FAILED):
                    shutil.copy2(src, work / src.name)
            jobs = f"-j{_cpu_count()}"
            first = _first_objects(work / "Makefile")
            # circom's runtime objects (DEPS_O: field arithmetic, the calculator) with the
            # Makefile's -O3; the generated circuit.cpp, one huge straight-line list of
            # functions, with circuit_cflags() (benchmarks/README.md, "C++ witness")
            steps = ([["make", jobs, *first]] if first else []) + [
                ["make", jobs, f"CFLAGS={circuit_cflags()}"]]
            try:
                for cmd in steps:
                    _make(cmd, work)
                if not (work / STEM).exists():
                    raise ToolchainError("C++ witness generator build", steps[-1],
                                         f"make succeeded but wrote no {STEM} binary")
            except ToolchainError as exc:
                record = (f"command: {' '.join(exc.cmd)} (in a copy of {circuit.cpp_dir})\n"
                          f"{exc.stderr.strip()[-4000:]}\n")
                tmp = circuit.cpp_failure.with_suffix(".tmp")
                tmp.write_text(record)
                tmp.replace(circuit.cpp_failure)
                raise CppUnavailableError("C++ witness generator build", exc.cmd,
                                          f"{exc.stderr}\n{_fix_hint(circuit)}") from None
            (work / STEM).replace(binary)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return binary


def _resolve_engine(engine: Engine | None) -> Engine:
    chosen = engine if engine is not None else os.environ.get(ENGINE_ENV, "auto")
    if chosen in ("auto", "cpp", "wasm"):
        return cast(Engine, chosen)
    where = f"the {ENGINE_ENV} environment variable" if engine is None else "engine"
    raise ZkMarginError(f"{where} must be one of auto, cpp, wasm; got {chosen!r}")


def calculate_witness(circuit: CompiledMain, inputs: dict[str, Any], out: Path,
                      engine: Engine | None = None) -> Path:
    """Compute the witness of ``inputs`` into ``out`` (a ``.wtns`` file).

    ``engine``: ``"wasm"`` (snarkjs ``wtns calculate``), ``"cpp"`` (the C++ generator,
    built on first use; :class:`CppUnavailableError` when it does not build) or
    ``"auto"`` (the C++ one when it builds, else WASM with a warning). ``None`` reads the
    ``ZKMARGIN_WITNESS_ENGINE`` environment variable, default ``"auto"``.

    A failing circuit assert raises :class:`ToolchainError` with either engine. The C++
    binary only names the failing template and its component path, so on its failure
    the WASM calculator is run once more on the same inputs and its trace (``Assert
    Failed``, ``Error in template T_n line: ...`` for each enclosing template) is added
    to the error, after the C++ output.
    """
    chosen = _resolve_engine(engine)
    binary: Path | None = None
    if chosen != "wasm":
        try:
            binary = build_witness_binary(circuit)
        except CppUnavailableError as exc:
            if chosen == "cpp":
                raise
            warnings.warn(f"C++ witness generator unavailable, using WASM: {exc}",
                          RuntimeWarning, stacklevel=2)
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=out.parent, delete=False) as fh:
        json.dump(inputs, fh)
        input_path = Path(fh.name)
    try:
        if binary is None:
            _wasm_witness(circuit, input_path, out)
        else:
            _cpp_witness(circuit, binary, input_path, out)
    except BaseException:
        out.unlink(missing_ok=True)  # snarkjs leaves a partial file behind
        raise
    finally:
        input_path.unlink(missing_ok=True)
    return out


def _wasm_witness(circuit: CompiledMain, input_path: Path, out: Path) -> None:
    run("witness calculation",
        snarkjs_command("wtns", "calculate", str(circuit.wasm), str(input_path), str(out)),
        timeout=WITNESS_TIMEOUT)


def _cpp_witness(circuit: CompiledMain, binary: Path, input_path: Path, out: Path) -> None:
    cmd = [str(binary), str(input_path), str(out)]
    try:
        run("witness calculation (C++)", cmd, timeout=WITNESS_TIMEOUT)
    except ToolchainError as cpp:
        probe = out.with_name(f".{out.name}.wasm-trace")
        try:
            _wasm_witness(circuit, input_path, probe)
        except ToolchainError as wasm:
            raise ToolchainError(
                "witness calculation (C++)", cmd,
                f"{cpp.stderr.strip()}\n-- the WASM calculator on the same inputs:\n"
                f"{wasm.stderr.strip()}") from None
        finally:
            probe.unlink(missing_ok=True)
        raise ToolchainError(
            "witness calculation (C++)", cmd,
            f"{cpp.stderr.strip()}\n-- the WASM calculator ACCEPTED the same inputs: the "
            "two engines disagree (a broken C++ build? delete the binary to rebuild it)"
        ) from None
