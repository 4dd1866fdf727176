"""Readers for circom/snarkjs binary files: ``.wtns`` witnesses, ``.r1cs`` constraint
systems and ``.sym`` signal maps; and an exact R1CS evaluator.

Formats (iden3 binfileutils): magic (4 bytes), version (u32), section count (u32), then
sections of (type u32, size u64, payload). Field elements are little-endian ``n8`` bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from zkmargin.errors import ZkMarginError


class FormatError(ZkMarginError):
    pass


def _sections(path: Path, magic: bytes) -> dict[int, list[bytes]]:
    data = path.read_bytes()
    if data[:4] != magic:
        raise FormatError(f"{path}: not a {magic.decode()} file (magic {data[:4]!r})")
    (n_sections,) = struct.unpack_from("<I", data, 8)
    pos = 12
    out: dict[int, list[bytes]] = {}
    for _ in range(n_sections):
        kind, size = struct.unpack_from("<IQ", data, pos)
        pos += 12
        out.setdefault(kind, []).append(data[pos : pos + size])
        pos += size
    return out


def read_wtns(path: Path) -> list[int]:
    s = _sections(path, b"wtns")
    header = s[1][0]
    (n8,) = struct.unpack_from("<I", header, 0)
    (count,) = struct.unpack_from("<I", header, 4 + n8)
    body = s[2][0]
    return [int.from_bytes(body[i * n8 : (i + 1) * n8], "little") for i in range(count)]


def write_wtns(path: Path, witness: Sequence[int], prime: int) -> None:
    n8 = 32
    header = struct.pack("<I", n8) + prime.to_bytes(n8, "little") + struct.pack("<I", len(witness))
    body = b"".join(w.to_bytes(n8, "little") for w in witness)
    data = b"wtns" + struct.pack("<II", 2, 2)
    for kind, payload in ((1, header), (2, body)):
        data += struct.pack("<IQ", kind, len(payload)) + payload
    path.write_bytes(data)


Term = tuple[int, int]  # (wire, coefficient)


@dataclass(frozen=True)
class R1CS:
    prime: int
    n_wires: int
    n_outputs: int
    n_pub_inputs: int
    n_prv_inputs: int
    constraints: list[tuple[list[Term], list[Term], list[Term]]]

    def first_violation(self, witness: Sequence[int]) -> int | None:
        """Index of the first constraint ``<A,w> * <B,w> != <C,w>``, or None."""
        p = self.prime
        for idx, (a, b, c) in enumerate(self.constraints):
            va = sum(coef * witness[w] for w, coef in a) % p
            vb = sum(coef * witness[w] for w, coef in b) % p
            vc = sum(coef * witness[w] for w, coef in c) % p
            if va * vb % p != vc:
                return idx
        return None


def read_r1cs(path: Path) -> R1CS:
    s = _sections(path, b"r1cs")
    h = s[1][0]
    (n8,) = struct.unpack_from("<I", h, 0)
    prime = int.from_bytes(h[4 : 4 + n8], "little")
    n_wires, n_out, n_pub, n_prv, _labels, m = struct.unpack_from("<IIIIQI", h, 4 + n8)
    body = s[2][0]
    pos = 0
    constraints = []
    for _ in range(m):
        lcs = []
        for _ in range(3):
            (nt,) = struct.unpack_from("<I", body, pos)
            pos += 4
            terms = []
            for _ in range(nt):
                (wire,) = struct.unpack_from("<I", body, pos)
                coef = int.from_bytes(body[pos + 4 : pos + 4 + n8], "little")
                terms.append((wire, coef))
                pos += 4 + n8
            lcs.append(terms)
        constraints.append((lcs[0], lcs[1], lcs[2]))
    return R1CS(prime, n_wires, n_out, n_pub, n_prv, constraints)


def read_sym(path: Path) -> dict[str, int]:
    """Signal name (``main.x[0][1]``) -> witness index (signals removed by --O2 omitted)."""
    out = {}
    for line in path.read_text().splitlines():
        parts = line.split(",", 3)
        if len(parts) == 4 and int(parts[1]) >= 0:
            out[parts[3]] = int(parts[1])
    return out
