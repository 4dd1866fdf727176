"""The iden3 binary container of circom and snarkjs files (``.r1cs``, ``.wtns``, ``.zkey``,
``.ptau``): magic (4 bytes), version (u32), section count (u32), then sections of
``(id u32, size u64, payload)``. One reader for all of them: it reads the section table
only, and a section's payload when asked, so a large ptau or zkey is never loaded whole.
"""

from __future__ import annotations

import struct
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from zkmargin.errors import ZkMarginError


class BinFileError(ZkMarginError):
    """A file that is not a well-formed container of the expected kind."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class BinFile:
    """An open container: ``sections[id]`` lists ``(offset, size)`` of each payload."""

    def __init__(self, path: Path, fh: BinaryIO, version: int,
                 sections: dict[int, list[tuple[int, int]]]) -> None:
        self.path = path
        self.version = version
        self.sections = sections
        self._fh = fh

    @classmethod
    def open(cls, path: Path, magic: bytes) -> BinFile:
        """Open ``path`` and read its section table; the magic must be ``magic``."""
        try:
            fh = path.open("rb")
        except OSError as exc:
            raise BinFileError(f"{path}: cannot be read: {exc.strerror or exc}") from None
        try:
            total = path.stat().st_size
            head = fh.read(12)
            if len(head) < 12 or head[:4] != magic:
                raise BinFileError(f"{path}: not a {magic.decode()} file (magic "
                                   f"{head[:4]!r})")
            version, count = struct.unpack("<II", head[4:])
            sections: dict[int, list[tuple[int, int]]] = {}
            pos = 12
            for _ in range(count):
                fh.seek(pos)
                raw = fh.read(12)
                if len(raw) < 12:
                    raise BinFileError(f"{path}: truncated {magic.decode()} file (section "
                                       "table)")
                kind, size = struct.unpack("<IQ", raw)
                if pos + 12 + size > total:
                    raise BinFileError(
                        f"{path}: truncated {magic.decode()} file (section {kind} needs "
                        f"{size} bytes at offset {pos + 12}, file has {total})")
                sections.setdefault(kind, []).append((pos + 12, size))
                pos += 12 + size
        except BaseException:
            fh.close()
            raise
        return cls(path, fh, version, sections)

    def section(self, kind: int, name: str | None = None) -> bytes:
        """The payload of the one section ``kind`` (an error if absent or repeated)."""
        where = self.sections.get(kind, [])
        if len(where) != 1:
            what = "missing" if not where else "repeated"
            raise BinFileError(f"{name or self.path}: section {kind} is {what}")
        offset, size = where[0]
        self._fh.seek(offset)
        return self._fh.read(size)

    def read_at(self, offset: int, size: int) -> bytes:
        """``size`` bytes at ``offset`` of the file (a part of a large section)."""
        self._fh.seek(offset)
        return self._fh.read(size)

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> BinFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
