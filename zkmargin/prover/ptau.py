"""Powers-of-tau files: an INSECURE development setup, and checking a user's ptau file.

``dev_ptau(power)`` writes (once, cached) a prepared powers-of-tau file whose secrets tau,
alpha and beta are derived from a public seed (``prover/js/dev_ptau.cjs`` documents the derivation
and the math). It is INSECURE: anyone who knows the seed, which is printed in this
repository, can compute the toxic waste and forge Groth16 proofs for every circuit whose
keys were set up from it. It exists because ``snarkjs powersoftau prepare phase2`` takes
minutes to hours at the sizes our circuits need; production keys must come from a real
ceremony file (``--ptau FILE``), checked with ``check_ptau``.

The ptau format (snarkjs, @iden3/binfileutils): magic ``ptau``, version u32, section count
u32, then sections ``(id u32, size u64, payload)``; section 1 is the header ``n8 u32,
q (n8 bytes LE), power u32, ceremony power u32``; sections 12-15 exist in prepared files.
"""

from __future__ import annotations

import struct
from pathlib import Path

from zkmargin.atomic import file_lock
from zkmargin.devsetup import DEV_SEED
from zkmargin.errors import ZkMarginError
from zkmargin.field import BASE_FIELD
from zkmargin.paths import CACHE, PROVER_JS
from zkmargin.prover.toolchain import _node, run

MIN_POWER = 1
MAX_POWER = 28
SCRIPT = PROVER_JS / "dev_ptau.cjs"
PREPARED_SECTIONS = (12, 13, 14, 15)


def _check_power(power: int) -> None:
    if isinstance(power, bool) or not isinstance(power, int) \
            or not MIN_POWER <= power <= MAX_POWER:
        raise ZkMarginError(
            f"powers-of-tau power must be an integer in {MIN_POWER}..{MAX_POWER} "
            f"(2^power constraints), got {power!r}"
        )


def dev_ptau_path(power: int) -> Path:
    _check_power(power)
    return CACHE / "setup" / f"INSECURE-dev-pot{power:02d}.ptau"


def _generate_timeout(power: int) -> float:
    # linear in 2^power: 16-41 s at 2^16 on a busy 2-core machine (prover/README.md)
    return 600.0 + 0.01 * (1 << power)


def dev_ptau(power: int) -> Path:
    """The cached INSECURE development ptau file for 2^power constraints (generated once).

    Concurrent callers wait on a lock file; the generator writes a temporary file and
    renames it, so a reader never sees a partial file.
    """
    target = dev_ptau_path(power)
    if target.exists():
        return target
    with file_lock(target.parent / f".{target.name}.lock"):
        if not target.exists():
            run(f"INSECURE dev ptau generation (2^{power})",
                [_node(), str(SCRIPT), str(power), str(target), "--seed", DEV_SEED],
                timeout=_generate_timeout(power))
    return target


def _read_sections(path: Path) -> dict[int, tuple[int, int]]:
    """Section id -> (payload offset, size) of a ptau file, reading only the headers."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise ZkMarginError(f"{path}: cannot read powers-of-tau file: {exc.strerror}") from None
    with fh:
        total = path.stat().st_size
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"ptau":
            raise ZkMarginError(
                f"{path}: not a powers-of-tau file (expected magic b'ptau', got {head[:4]!r})"
            )
        version, count = struct.unpack("<II", head[4:])
        if version != 1:
            raise ZkMarginError(f"{path}: unsupported ptau version {version} (expected 1)")
        sections: dict[int, tuple[int, int]] = {}
        pos = 12
        for _ in range(count):
            fh.seek(pos)
            raw = fh.read(12)
            if len(raw) < 12:
                raise ZkMarginError(f"{path}: truncated powers-of-tau file (section table)")
            kind, size = struct.unpack("<IQ", raw)
            if pos + 12 + size > total:
                raise ZkMarginError(
                    f"{path}: truncated powers-of-tau file (section {kind} needs "
                    f"{size} bytes at offset {pos + 12}, file has {total})"
                )
            if kind in sections:
                raise ZkMarginError(f"{path}: section {kind} appears twice")
            sections[kind] = (pos + 12, size)
            pos += 12 + size
    return sections


def _inspect(path: Path) -> tuple[int, set[int]]:
    """(power, section ids) of a BN254 ptau file."""
    sections = _read_sections(path)
    if 1 not in sections:
        raise ZkMarginError(f"{path}: powers-of-tau file has no header section")
    offset, size = sections[1]
    with path.open("rb") as fh:
        fh.seek(offset)
        header = fh.read(size)
    n8 = int.from_bytes(header[:4], "little")
    if n8 == 0 or size != 12 + n8:
        raise ZkMarginError(f"{path}: malformed powers-of-tau header ({size} bytes)")
    q = int.from_bytes(header[4 : 4 + n8], "little")
    if q != BASE_FIELD:
        raise ZkMarginError(f"{path}: powers-of-tau file is not for BN254 (field modulus {q})")
    (power,) = struct.unpack_from("<I", header, 4 + n8)
    return int(power), set(sections)


def ptau_power(path: Path) -> int:
    """The power of a BN254 ptau file (it supports circuits up to 2^power constraints)."""
    return _inspect(path)[0]


def check_ptau(path: Path, need: int) -> int:
    """Check that ``path`` is a prepared BN254 ptau file of power >= ``need``; its power."""
    power, sections = _inspect(path)
    if power < need:
        raise ZkMarginError(
            f"{path}: powers-of-tau file has power {power} (up to 2^{power} constraints), "
            f"but the circuit needs power {need} (2^{need}); use a ptau file of power >= {need} "
            "or a smaller batch size"
        )
    missing = [s for s in PREPARED_SECTIONS if s not in sections]
    if missing:
        raise ZkMarginError(
            f"{path}: powers-of-tau file is not prepared for phase 2 (no sections "
            f"{', '.join(map(str, missing))}); run `snarkjs powersoftau prepare phase2` on it"
        )
    return power
