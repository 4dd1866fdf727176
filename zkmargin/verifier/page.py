"""The account holders' static page: ``zkmargin inclusion page`` (the publishing side).

The page itself is ``verifier/web/`` (``index.html`` and one script bundled from
``verifier/web/src`` by ``verifier/web/build.mjs`` with the pinned npm toolchain). It runs
the checks of ``zkmargin inclusion verify`` in the holder's browser and makes no network
request. :func:`publish` writes a site directory ready for any static host, or to be
opened from disk::

    SITE/index.html                 the page
    SITE/zkmargin-verify.js         its script
    SITE/published.js               the public files below, embedded as texts: a page
                                    opened from file:// may load a script beside it but
                                    may not read files, so the page reads them from here
    SITE/manifest.json              the public files the page needs, byte for byte, for
    SITE/params.json                anyone to download and audit
    SITE/circuit/verification_key*.json
    SITE/batches/NNNNNN/{proof,public,batch}.json
    SITE/tree/levels.json

Never ``private/``: only files that the manifest lists are copied, each after its sha256
is found equal to the manifest's, and never one under ``private/``. The proving key the
manifest also lists is not copied (holders do not need it; auditors take it from the
artifacts). Every holder loads every batch (one ``published.js``), so the host cannot
tell from the requests which batch, and so which accounts, a holder looked at.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from zkmargin import artifacts, paths
from zkmargin.artifacts import sha256_file
from zkmargin.atomic import file_lock
from zkmargin.errors import ZkMarginError
from zkmargin.statement import Manifest, read_json

#: What ``published.js`` declares, and the page checks before reading it.
PAGE_FORMAT = "zkmargin-page/1"
BUNDLE = "zkmargin-verify.js"
INDEX = "index.html"
PUBLISHED_JS = "published.js"
#: The files of the page in ``verifier/web/dist/`` (built) and their sources.
DIST = paths.WEB / "dist"
BUILD_SCRIPT = paths.WEB / "build.mjs"


class PageError(ZkMarginError):
    """The page cannot be built or published; the message says why and what to do."""


def _sources() -> list[Path]:
    return [paths.WEB / INDEX, BUILD_SCRIPT, *sorted((paths.WEB / "src").glob("*.js"))]


def bundle_is_current() -> bool:
    """The built page exists and is newer than every source file."""
    built = [DIST / INDEX, DIST / BUNDLE]
    if not all(p.is_file() for p in built):
        return False
    sources = [p for p in _sources() if p.is_file()]
    return min(p.stat().st_mtime for p in built) >= max(
        (p.stat().st_mtime for p in sources), default=0.0)


def build_bundle(*, force: bool = False) -> Path:
    """``verifier/web/dist/`` up to date: built by ``node verifier/web/build.mjs`` (the
    pinned esbuild, offline, from node_modules) when missing or older than its sources."""
    with file_lock(paths.CACHE / "web-build.lock"):
        if not force and bundle_is_current():
            return DIST
        node = shutil.which("node")
        if node is None or not BUILD_SCRIPT.is_file() \
                or not (paths.NODE_MODULES / "esbuild").is_dir():
            if bundle_is_current() or (DIST / BUNDLE).is_file():
                return DIST
            raise PageError("the page's script is not built and cannot be: it needs node and the "
                            f"pinned npm packages in {paths.NODE_MODULES} (run `make setup`)")
        env = {**os.environ, "ZKMARGIN_NODE_MODULES": str(paths.NODE_MODULES)}
        proc = subprocess.run([node, str(BUILD_SCRIPT), str(DIST)], capture_output=True,
                              text=True, timeout=600, check=False, env=env)
        if proc.returncode != 0:
            raise PageError(f"building the page failed (node {BUILD_SCRIPT}): "
                            f"{proc.stderr.strip()[-2000:]}")
    return DIST


@dataclass(frozen=True)
class Site:
    """What :func:`publish` wrote."""

    out: Path
    files: tuple[str, ...]  # the public files copied, relative to ``out``
    batches: int
    root: int
    published_js_bytes: int
    insecure_setup: bool  # the key is the development setup's, recognised by recomputation


def public_files_for_page(manifest: Manifest) -> list[str]:
    """The public files the page reads, as paths inside the artifacts."""
    rels = [artifacts.MANIFEST, artifacts.PARAMS, manifest.verification_key,
            artifacts.TREE_LEVELS]
    for i in range(manifest.batches):
        rels += [f"{artifacts.batch_rel(i)}/{name}"
                 for name in ("proof.json", "public.json", "batch.json")]
    return rels


def _checked_copy_list(directory: Path, manifest: Manifest) -> list[str]:
    rels = public_files_for_page(manifest)
    for rel in rels:
        if rel.split("/")[0] == artifacts.PRIVATE_DIR:  # never, whatever the manifest says
            raise PageError(f"{directory}/manifest.json names {rel} under private/; "
                            "nothing under private/ is ever published")
        if rel == artifacts.MANIFEST:
            continue
        if rel not in manifest.files:
            raise PageError(f"{directory}/manifest.json does not list {rel}")
        path = directory / rel
        if not path.is_file():
            raise PageError(f"{path} is missing")
        if sha256_file(path) != manifest.files[rel]:
            raise PageError(f"{path} differs from the sha256 in the manifest: these are not "
                            "the published artifacts (run `zkmargin audit`)")
    return rels


def _is_page(out: Path) -> bool:
    return (out / PUBLISHED_JS).is_file() and (out / INDEX).is_file()


def publish(directory: Path, out: Path) -> Site:
    """Write the page and the public files of the artifact ``directory`` into ``out``
    (new, empty, or a page written earlier, which is replaced whole)."""
    from zkmargin.devsetup import is_dev_key
    from zkmargin.verifier.encoding import ProofFormatError, VerificationKey

    manifest = Manifest.read(directory / artifacts.MANIFEST)
    rels = _checked_copy_list(directory, manifest)
    if out.exists() and not (out.is_dir() and (not any(out.iterdir()) or _is_page(out))):
        raise PageError(f"{out} exists and is not a page written by `zkmargin inclusion page`: "
                        "choose a new directory")
    if out.resolve() == directory.resolve() or directory.resolve() in out.resolve().parents:
        raise PageError(f"{out} is inside the artifacts {directory}: choose another directory")
    try:
        vk = VerificationKey.from_json(read_json(directory / manifest.verification_key))
        insecure = is_dev_key(vk.alpha1, vk.beta2)
    except ProofFormatError as exc:
        raise PageError(f"{directory}/{manifest.verification_key}: {exc}") from None
    dist = build_bundle()

    texts: dict[str, str] = {}
    for rel in rels:
        try:
            texts[rel] = (directory / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PageError(f"{directory / rel}: cannot be read: {exc}") from None
    published = ("// Written by `zkmargin inclusion page`: the exchange's public files, for the "
                 "page to read\n// when it is opened from disk. Nothing here is believed: the "
                 "page checks it all.\nwindow.ZKMARGIN_PUBLISHED = "
                 + json.dumps({"format": PAGE_FORMAT, "root": str(manifest.root),
                               "files": texts}) + ";\n")

    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        work.chmod(0o777 & ~umask)  # a public directory, as mkdir would make it
        for name in (INDEX, BUNDLE):
            shutil.copyfile(dist / name, work / name)
        (work / PUBLISHED_JS).write_text(published, encoding="utf-8")
        for rel in rels:
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(directory / rel, work / rel)
        old = None
        if out.exists():
            old = out.parent / f".{out.name}.old.{os.getpid()}"
            out.rename(old)
        work.rename(out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return Site(out=out, files=tuple(rels), batches=manifest.batches, root=manifest.root,
                published_js_bytes=len(published.encode()), insecure_setup=insecure)
