"""Readers for circom/snarkjs binary files: ``.wtns`` witnesses, ``.r1cs`` constraint
systems and ``.sym`` signal maps; and an exact R1CS evaluator that first checks the
witness is an assignment of the wires at all (length, range, wire 0 = 1).

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


class WitnessError(ZkMarginError, ValueError):
    """A witness that is not an assignment of the R1CS's wires at all: the wrong length, a
    value outside ``[0, p)``, or wire 0 (the constant ``1`` of every R1CS) not 1."""


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


Term = tuple[int, int]  # (wire, coefficient)


@dataclass(frozen=True)
class R1CS:
    prime: int
    n_wires: int
    n_outputs: int
    n_pub_inputs: int
    n_prv_inputs: int
    constraints: list[tuple[list[Term], list[Term], list[Term]]]

    def check_witness(self, witness: Sequence[int]) -> None:
        """Raise :class:`WitnessError` unless ``witness`` is an assignment of the wires:
        exactly ``n_wires`` values, each in ``[0, p)``, and ``witness[0] == 1``.

        Wire 0 is the constant 1 that every linear combination uses for its constant term;
        without this check the all-zero witness satisfies every constraint. A value ``>= p``
        would satisfy the same constraints as its residue, so it is refused too.
        """
        if len(witness) != self.n_wires:
            raise WitnessError(
                f"witness has {len(witness)} values; the R1CS has {self.n_wires} wires"
            )
        first = witness[0] if witness else None
        if first != 1:
            raise WitnessError(f"witness wire 0 is {first}; it must be the constant 1")
        p = self.prime
        for i, v in enumerate(witness):
            if not 0 <= v < p:
                raise WitnessError(
                    f"witness wire {i} is {v}; a field element must be in [0, {p})"
                )

    def first_violation(self, witness: Sequence[int]) -> int | None:
        """Index of the first constraint ``<A,w> * <B,w> != <C,w>`` (mod p), or None when
        ``witness`` satisfies them all.

        Plain integers mod p, not ``galois.GF(r)``: that measured 3x slower over the circuit
        tests (see the note on the dependencies in pyproject.toml).

        Raises:
            WitnessError: ``witness`` is no assignment of the wires (see
                :meth:`check_witness`), so None never means "satisfied" for it.
        """
        self.check_witness(witness)
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
