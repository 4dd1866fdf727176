"""Atomic file output: write to a temporary file in the same directory, then rename.

A file appears complete or not at all, with the mode a plain ``open`` would give it
(``0o666`` minus the umask: public artifacts stay readable), or ``mode`` when given
(``0o600`` for the exchange's private files). One helper for directories too
(:func:`atomic_directory`) and one exclusive file lock (:func:`file_lock`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

PRIVATE = 0o600


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def _temporary(target: Path, mode: int | None) -> Iterator[tuple[int, str]]:
    """A temporary file beside ``target`` (fd, path), renamed onto it on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, _default_mode() if mode is None else mode)
        yield fd, tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_text(path: str | Path, *, mode: int | None = None) -> Iterator[TextIO]:
    """Open ``path`` for writing; it appears only if the block finishes without error."""
    with _temporary(Path(path), mode) as (fd, _tmp), \
            os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


def write_text_atomic(path: str | Path, text: str, *, mode: int | None = None) -> None:
    with atomic_text(path, mode=mode) as fh:
        fh.write(text)


def copy_atomic(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` unless ``dst`` exists; ``dst`` appears only complete."""
    if dst.exists():
        return
    with _temporary(dst, None) as (fd, tmp):
        os.close(fd)
        shutil.copyfile(src, tmp)


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """A temporary directory beside ``target``, renamed onto it when the block succeeds
    (removed otherwise). If another process created ``target`` meanwhile, its result is
    kept and ours discarded: both were built from the same inputs."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    try:
        work.rename(target)
    except OSError:  # a concurrent build won: use it
        shutil.rmtree(work, ignore_errors=True)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
