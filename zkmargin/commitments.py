"""Account commitments: id hash, packed values and the Merkle leaf (docs/commitments.md).

::

    account_id_digest = int(sha256(utf8(account_id))[:31], big-endian)      # < 2^248
    salt              = int(HMAC-SHA256(secret, utf8(account_id))[:31])     # < 2^248
    id_hash           = Poseidon(account_id_digest, salt)
    slot(v)           = v + 2^63                   # |v| < 2^63, so 1 <= slot < 2^64
    slots             = [x_1..x_A, q_1, c_1, ..., q_P, c_P, o_1..o_O]
    field_j           = slot[3j] + slot[3j+1]*2^64 + slot[3j+2]*2^128   # < 2^192 < r
    values            = [LEAF_TAG, id_hash, field_1..field_m] + zero fields up to
                        leaf_width(m) (so that no hash below has fewer than 3 inputs)
    leaf              = fold_hash(values): h = Poseidon(values[:12]), then
                        h = Poseidon(h, next up to 11 values) until all are absorbed

Every slot is range-checked before packing, so fields never overlap and never wrap; a
missing slot in the last field is 0. Padding positions hold the leaf of the all-zero
account with ``id_hash = 0`` (:func:`padding_leaf`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from functools import lru_cache

from zkmargin.field import SNARK_FIELD
from zkmargin.fixed import I63
from zkmargin.poseidon import Poseidon, get_poseidon

DIGEST_BYTES = 31  # 248 bits: below r, so no two ids alias modulo r
SLOT_BITS = 64
SLOT_OFFSET = 1 << 63
SLOTS_PER_FIELD = 3
FIELDS_PER_HASH = 11  # Poseidon(h, 11 fields) = 12 inputs, the fast path's widest
#: Domain tag of account leaves: the ASCII bytes of "zkmargin/leaf", big-endian.
LEAF_TAG = int.from_bytes(b"zkmargin/leaf", "big")
if not SNARK_FIELD.bit_length() - 1 > max(SLOTS_PER_FIELD * SLOT_BITS, 8 * DIGEST_BYTES):
    raise AssertionError("packed fields and digests must stay below r")


def account_id_digest(account_id: str) -> int:
    """248-bit digest of the id's UTF-8 bytes (SHA-256 truncated to 31 bytes)."""
    return int.from_bytes(hashlib.sha256(account_id.encode("utf-8")).digest()[:DIGEST_BYTES], "big")


def derive_salt(secret: bytes, account_id: str) -> int:
    """The per-account salt: HMAC-SHA256 under the exchange's secret, truncated to 248 bits.

    Deterministic (a resumed run recomputes the same leaves) yet unguessable without the
    secret, so nobody can test guesses of which account a leaf belongs to.
    """
    if len(secret) < 16:
        raise ValueError(f"salt secret must have at least 16 bytes, got {len(secret)}")
    mac = hmac.new(secret, account_id.encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(mac[:DIGEST_BYTES], "big")


def id_hash(digest: int, salt: int, hasher: Poseidon | None = None) -> int:
    """``Poseidon(account_id_digest, salt)``."""
    return id_hashes([digest], [salt], hasher)[0]


def id_hashes(digests: Sequence[int], salts: Sequence[int],
              hasher: Poseidon | None = None) -> list[int]:
    """:func:`id_hash` of many accounts at once (one call into the hash)."""
    flat: list[int] = []
    for digest, salt in zip(digests, salts, strict=True):
        for name, v in (("account_id_digest", digest), ("salt", salt)):
            if not 0 <= v < 1 << (8 * DIGEST_BYTES):
                raise ValueError(f"{name} = {v} must be in 0..2^248-1")
        flat += (digest, salt)
    return (hasher or get_poseidon()).hash_many(2, flat)


def account_slots(
    balances: Sequence[int],
    qty: Sequence[int],
    cost: Sequence[int],
    options: Sequence[int] = (),
) -> list[int]:
    """Values in leaf order, ``[x_1..x_A, q_1, c_1, ..., q_P, c_P, o_1..o_O]`` (params
    order; no options: the order of before options existed), each range-checked."""
    if len(qty) != len(cost):
        raise ValueError(f"{len(qty)} perp sizes but {len(cost)} costs")
    values = list(balances)
    for q, c in zip(qty, cost, strict=True):
        values += [q, c]
    values += options
    for k, v in enumerate(values):
        if not -I63 < v < I63:
            raise ValueError(f"value {k} = {v} is outside the signed 64-bit slot (|v| < 2^63)")
    return values


def pack_values(values: Sequence[int]) -> list[int]:
    """Pack signed values into field elements, 3 offset 64-bit slots per element."""
    for k, v in enumerate(values):
        if not -I63 < v < I63:
            raise ValueError(f"value {k} = {v} is outside the slot range |v| < 2^63")
    return _pack(values)


def _pack(values: Sequence[int]) -> list[int]:
    """:func:`pack_values` of values already range-checked (a missing slot is 0)."""
    if SLOTS_PER_FIELD != 3:
        raise AssertionError("_pack writes 3 slots per field")
    s = [v + SLOT_OFFSET for v in values] + [0, 0]
    return [s[j] | s[j + 1] << SLOT_BITS | s[j + 2] << (2 * SLOT_BITS)
            for j in range(0, len(values), SLOTS_PER_FIELD)]


def unpack_values(fields: Sequence[int], count: int) -> list[int]:
    """Inverse of :func:`pack_values` for ``count`` values."""
    out = []
    for k in range(count):
        f = fields[k // SLOTS_PER_FIELD]
        slot = (f >> (SLOT_BITS * (k % SLOTS_PER_FIELD))) & ((1 << SLOT_BITS) - 1)
        out.append(slot - SLOT_OFFSET)
    return out


def fold_hash(values: Sequence[int], hasher: Poseidon | None = None) -> int:
    """``h = Poseidon(values[:12])``, then ``h = Poseidon(h, next 11 values)`` until done.

    The circuit's ``FoldHash(N, 12)`` (circuits/lib/fold.circom). Every hash has at most 12
    inputs, the widest the fast implementation takes.
    """
    return fold_hash_many([values], hasher)[0]


def fold_hash_many(rows: Sequence[Sequence[int]], hasher: Poseidon | None = None) -> list[int]:
    """:func:`fold_hash` of rows of equal length, each step for all rows in one call."""
    if not rows:
        return []
    n = len(rows[0])
    if n == 0:
        raise ValueError("fold_hash needs at least one value")
    if any(len(r) != n for r in rows):
        raise ValueError("fold_hash_many needs rows of equal length")
    h = hasher or get_poseidon()
    first = min(n, FIELDS_PER_HASH + 1)
    nodes = h.hash_many(first, [v for r in rows for v in r[:first]])
    for j in range(FIELDS_PER_HASH + 1, n, FIELDS_PER_HASH):
        width = 1 + len(rows[0][j : j + FIELDS_PER_HASH])
        nodes = h.hash_many(width, [v for node, r in zip(nodes, rows, strict=True)
                                    for v in (node, *r[j : j + FIELDS_PER_HASH])])
    return nodes


def leaf_width(fields: int) -> int:
    """How many values a leaf of ``fields`` packed fields hashes: the tag, the id hash, the
    fields, and one zero field when the last Poseidon of the fold would otherwise take only
    2 inputs (as an inner node of the tree does). The circuit's ``leafWidth``."""
    n = fields + 2
    if n > FIELDS_PER_HASH + 1 and (n - FIELDS_PER_HASH - 1) % FIELDS_PER_HASH == 1:
        n += 1
    return n


def _leaf_values(idh: int, fields: Sequence[int]) -> list[int]:
    values = [LEAF_TAG, idh, *fields]
    values += [0] * (leaf_width(len(fields)) - len(values))
    return values


def leaf_from_fields(idh: int, fields: Sequence[int], hasher: Poseidon | None = None) -> int:
    """The leaf: ``fold_hash([LEAF_TAG, id_hash, *fields, 0...])`` to :func:`leaf_width`
    values, so no Poseidon of a leaf has 2 inputs: a leaf never equals an inner node."""
    return fold_hash(_leaf_values(idh, fields), hasher)


def account_leaf(
    idh: int,
    balances: Sequence[int],
    qty: Sequence[int],
    cost: Sequence[int],
    hasher: Poseidon | None = None,
    options: Sequence[int] = (),
) -> int:
    """The Merkle leaf of one account (``options``: its option sizes, params order)."""
    return account_leaves([(idh, balances, qty, cost, options)], hasher)[0]


#: One account for :func:`account_leaves`: (id hash, balances, qty, cost, options).
LeafInput = tuple[int, Sequence[int], Sequence[int], Sequence[int], Sequence[int]]


def account_leaves(accounts: Sequence[LeafInput], hasher: Poseidon | None = None) -> list[int]:
    """:func:`account_leaf` of many accounts of one shape at once."""
    return fold_hash_many([
        _leaf_values(idh, _pack(account_slots(balances, qty, cost, options)))
        for idh, balances, qty, cost, options in accounts
    ], hasher)


@lru_cache(maxsize=64)
def padding_leaf(n_assets: int, n_perps: int, n_options: int = 0) -> int:
    """The leaf of the all-zero padding account (``id_hash = 0``, every value 0)."""
    return account_leaf(0, [0] * n_assets, [0] * n_perps, [0] * n_perps,
                        options=[0] * n_options)
