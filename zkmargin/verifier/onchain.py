"""``zkmargin audit DIR --rpc URL --registry ADDR --epoch N``: compare the chain with the
audited artifacts.

``SolvencyRegistry.epochFullyVerified`` shows only that every batch index of the epoch has
a distinct commitment in the epoch's batchesRoot whose proof the epoch's pinned verifier
accepted; the verifier, root, params hash and batchesRoot are the exchange's own choice
(see the contract's notes). After the artifact audit passed, :func:`check_onchain` reads
the registry over JSON-RPC (``eth_blockNumber``, then ``eth_getCode`` and ``eth_call
getEpoch`` at that one block) and fails the check ``onchain`` (:class:`AuditError`) unless,
in this order:

1. the registry's runtime code is SolvencyRegistry.sol of this zkmargin, compiled by the
   pinned solc with :func:`~zkmargin.verifier.contracts.solc_settings` (so its rules, not
   some look-alike's, produced the numbers below);
2. the epoch is published (its batch count is not 0);
3. the pinned verifier's runtime code is Groth16Verifier.sol rendered from the AUDITED
   verification key, compiled the same way, and its keccak256 is the code hash the
   registry pinned at publication (the registry re-checks it at every submission, so every
   recorded proof ran under this code);
4. the epoch's batch count, root and params hash are the manifest's;
5. its batchesRoot is the SHA-256 tree over the audited (index, commitment) pairs.

Runtime code is compared without solc's trailing CBOR metadata (its last two bytes give
its length), on both sides, so the comments and file names in the sources cannot matter;
the code on chain must also have the compiled code's length. The verified batch count is
then reported: fully verified or not is a finding, not a failure.

The JSON-RPC endpoint is trusted to report the chain's state; the URL is never printed
(it may hold an API key).
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkmargin import artifacts
from zkmargin.errors import InputError
from zkmargin.statement import BatchRecord, Manifest, read_json
from zkmargin.verifier.audit import AuditError, AuditReport
from zkmargin.verifier.contracts import (
    REGISTRY_CONTRACT,
    VERIFIER_CONTRACT,
    batches_levels,
    compile_runtimes,
    registry_source,
    strip_metadata,
    verifier_source,
)
from zkmargin.verifier.encoding import ProofFormatError, VerificationKey

CHECK = "onchain"
UINT256_MAX = (1 << 256) - 1
ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
GET_EPOCH = "getEpoch(uint256)"
#: getEpoch's return: verifier, verifierCodehash, root, paramsHash, batchesRoot, batchCount,
#: verifiedCount.
GET_EPOCH_WORDS = 7
MAX_RESPONSE = 16 << 20  # bytes of one JSON-RPC response


# --------------------------------------------------------------------------------------
# keccak256 (the EVM's hash: Keccak-f[1600], rate 136 bytes, padding 0x01 .. 0x80), for
# function selectors and code hashes; hashlib's sha3_256 pads differently.


def _keccak_constants() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The 24 round constants (from the LFSR x^8 + x^6 + x^5 + x^4 + 1) and the rotation
    offset of each lane (index x + 5y), as the Keccak reference derives them."""
    def rc_bit(t: int) -> int:
        r = 1
        for _ in range(t % 255):
            r <<= 1
            if r & 0x100:
                r ^= 0x171
        return r & 1

    rc = tuple(sum(rc_bit(j + 7 * i) << ((1 << j) - 1) for j in range(7)) for i in range(24))
    rot = [0] * 25
    x, y = 1, 0
    for t in range(24):
        rot[x + 5 * y] = ((t + 1) * (t + 2) // 2) % 64
        x, y = y, (2 * x + 3 * y) % 5
    return rc, tuple(rot)


_RC, _ROT = _keccak_constants()
_MASK = (1 << 64) - 1


def _rol(v: int, n: int) -> int:
    return ((v << n) | (v >> (64 - n))) & _MASK if n else v


def _keccak_f(a: list[int]) -> list[int]:
    for rc in _RC:
        c = [a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] for x in range(5)]
        d = [c[(x - 1) % 5] ^ _rol(c[(x + 1) % 5], 1) for x in range(5)]
        a = [a[i] ^ d[i % 5] for i in range(25)]
        b = [0] * 25
        for x in range(5):
            for y in range(5):
                b[y + 5 * ((2 * x + 3 * y) % 5)] = _rol(a[x + 5 * y], _ROT[x + 5 * y])
        a = [b[i] ^ (~b[(i + 1) % 5 + i - i % 5] & b[(i + 2) % 5 + i - i % 5] & _MASK)
             for i in range(25)]
        a[0] ^= rc
    return a


def keccak256(data: bytes) -> bytes:
    rate = 136
    padded = bytearray(data) + b"\x01" + bytes(-(len(data) + 1) % rate)
    padded[-1] |= 0x80
    state = [0] * 25
    for off in range(0, len(padded), rate):
        block = padded[off:off + rate]
        for i in range(rate // 8):
            state[i] ^= int.from_bytes(block[8 * i:8 * i + 8], "little")
        state = _keccak_f(state)
    return b"".join(lane.to_bytes(8, "little") for lane in state[:4])


def selector(signature: str) -> bytes:
    """The 4-byte function selector of ``signature``, e.g. ``getEpoch(uint256)``."""
    return keccak256(signature.encode("ascii"))[:4]


# --------------------------------------------------------------------------------------
# JSON-RPC


class RpcError(Exception):
    """The endpoint could not be reached or gave no valid answer."""


class JsonRpc:
    """A minimal JSON-RPC 2.0 client over HTTP(S) (urllib)."""

    def __init__(self, url: str, *, timeout: float = 60) -> None:
        if not url.lower().startswith(("http://", "https://")):
            raise RpcError("the JSON-RPC URL must start with http:// or https://")
        self.url = url
        self.timeout = timeout
        self._id = 0

    def __call__(self, method: str, *params: Any) -> Any:
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method,
                           "params": list(params)}).encode()
        req = urllib.request.Request(self.url, body, {"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read(MAX_RESPONSE + 1)
        except urllib.error.HTTPError as exc:
            raise RpcError(f"{method}: HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            raise RpcError(f"{method}: endpoint unreachable: {exc.reason}") from None
        except (OSError, ValueError) as exc:
            raise RpcError(f"{method}: {exc}") from None
        if len(raw) > MAX_RESPONSE:
            raise RpcError(f"{method}: response larger than {MAX_RESPONSE} bytes")
        try:
            doc = json.loads(raw)
        except ValueError:
            raise RpcError(f"{method}: the response is not JSON") from None
        if not isinstance(doc, dict):
            raise RpcError(f"{method}: the response is not a JSON-RPC object")
        if doc.get("error") is not None:
            raise RpcError(f"{method}: {str(doc['error'])[:500]}")
        if "result" not in doc:
            raise RpcError(f"{method}: the response has no result")
        return doc["result"]


def _hex_data(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) % 2:
        raise RpcError(f"{what}: expected 0x-prefixed hex data, got {str(value)[:80]!r}")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise RpcError(f"{what}: expected hex data, got {value[:80]!r}") from None


def _quantity(value: Any, what: str) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"0x[0-9a-fA-F]{1,64}", value):
        raise RpcError(f"{what}: expected a hex quantity, got {str(value)[:80]!r}")
    return int(value, 16)


# --------------------------------------------------------------------------------------
# The epoch on chain


@dataclass(frozen=True)
class ChainEpoch:
    """``getEpoch(epoch)`` at one block."""

    verifier: str  # 0x-prefixed, lowercase
    verifier_codehash: bytes
    root: int
    params_hash: int
    batches_root: bytes
    batch_count: int
    verified_count: int

    @classmethod
    def decode(cls, data: bytes) -> ChainEpoch:
        if len(data) != 32 * GET_EPOCH_WORDS:
            raise RpcError(f"getEpoch returned {len(data)} bytes, not {32 * GET_EPOCH_WORDS}")
        w = [data[32 * i:32 * i + 32] for i in range(GET_EPOCH_WORDS)]
        if any(w[0][:12]):
            raise RpcError("getEpoch returned a verifier word that is not an address")
        return cls(verifier="0x" + w[0][12:].hex(), verifier_codehash=w[1],
                   root=int.from_bytes(w[2], "big"), params_hash=int.from_bytes(w[3], "big"),
                   batches_root=w[4], batch_count=int.from_bytes(w[5], "big"),
                   verified_count=int.from_bytes(w[6], "big"))


#: What the check ``onchain`` leaves open, in the report and the JSON.
NOT_ESTABLISHED = [
    "anything the artifact audit did not establish (see its trust findings): the verifier on "
    "chain runs the audited key, no more",
    "the chain's state is as the JSON-RPC endpoint reported it at this block",
]


@dataclass(frozen=True)
class OnchainFindings:
    """What the check ``onchain`` established (it raised otherwise)."""

    registry: str
    epoch: int
    block: int
    verifier: str
    batch_count: int
    verified_batches: int
    solc: str
    verifier_runtime_sha256: str  # without metadata
    registry_runtime_sha256: str  # without metadata

    @property
    def fully_verified(self) -> bool:
        return self.verified_batches == self.batch_count

    def established(self) -> list[str]:
        """The findings, one sentence each, as the report and the JSON state them."""
        lines = [
            f"the contract at {self.registry} is SolvencyRegistry.sol of this zkmargin "
            f"(runtime code compiled by solc {self.solc}, metadata aside)",
            f"epoch {self.epoch} pins the verifier {self.verifier}, whose runtime code is "
            "Groth16Verifier.sol of the audited verification key (metadata aside), unchanged "
            "since the epoch was published",
            f"the epoch's root, params hash and batch count ({self.batch_count}) are the "
            "manifest's, and its batchesRoot is the tree over the audited batch commitments "
            "at their indices",
        ]
        if self.fully_verified:
            lines.append(f"all {self.batch_count} batch proofs verified on chain: "
                         "epochFullyVerified is true")
        else:
            lines.append(f"only {self.verified_batches} of {self.batch_count} batch proofs "
                         "verified on chain so far: the epoch is NOT fully verified")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "registry": self.registry,
            "epoch": self.epoch,
            "block": self.block,
            "verifier": self.verifier,
            "fully_verified": self.fully_verified,
            "verified_batches": self.verified_batches,
            "batch_count": self.batch_count,
            "solc": self.solc,
            "verifier_runtime_sha256_without_metadata": self.verifier_runtime_sha256,
            "registry_runtime_sha256_without_metadata": self.registry_runtime_sha256,
            "established": self.established(),
            "not_established": NOT_ESTABLISHED,
        }

    def render(self) -> list[str]:
        head = "FULLY VERIFIED" if self.fully_verified else "NOT fully verified"
        lines = [f"  on chain    {head}: {self.verified_batches} of {self.batch_count} batch "
                 f"proofs verified", f"              registry {self.registry}, epoch "
                 f"{self.epoch}, block {self.block}; established:"]
        for sentence in self.established():
            lines += textwrap.wrap(sentence, width=96, initial_indent="              - ",
                                   subsequent_indent="                ")
        lines.append("              not established:")
        for sentence in NOT_ESTABLISHED:
            lines += textwrap.wrap(sentence, width=96, initial_indent="              - ",
                                   subsequent_indent="                ")
        return lines


# --------------------------------------------------------------------------------------
# The check


@dataclass(frozen=True)
class _Audited:
    """What the on-chain check compares, re-read from the audited directory."""

    vk_file: str
    verifier_sol: str
    commitments: list[int]


def _fail(file: str, reason: str) -> AuditError:
    return AuditError(file, CHECK, reason)


def _read_audited(root: Path, report: AuditReport) -> _Audited:
    """The audited key and commitments, read again: every file must still have the sha256
    the manifest lists, and the manifest the audited root, params hash and batch count."""
    try:
        man = Manifest.read(root / artifacts.MANIFEST, file=artifacts.MANIFEST)
    except InputError as exc:
        raise _fail(artifacts.MANIFEST, f"changed since the audit: {exc.detail}") from None
    if (man.root, man.params_hash, man.batches) != (report.root, report.params_hash,
                                                    report.batches):
        raise _fail(artifacts.MANIFEST, "changed since the audit")

    def read(rel: str) -> Any:
        digest = man.files.get(rel)
        if digest is None or not (root / rel).is_file() \
                or artifacts.sha256_file(root / rel) != digest:
            raise _fail(rel, "changed since the audit (sha256 or listing)")
        try:
            return read_json(root / rel, file=rel)
        except InputError as exc:
            raise _fail(rel, exc.detail) from None

    vk_rel = man.verification_key
    try:
        vk = VerificationKey.from_json(read(vk_rel))
    except ProofFormatError as exc:
        raise _fail(vk_rel, str(exc)) from None
    commitments = []
    for i in range(man.batches):
        rel = f"{artifacts.batch_rel(i)}/batch.json"
        try:
            rec = BatchRecord.from_json(read(rel), man.symbols, file=rel)
        except InputError as exc:
            raise _fail(rel, exc.detail) from None
        if rec.index != i:
            raise _fail(rel, "changed since the audit (index)")
        commitments.append(rec.commitment)
    return _Audited(vk_rel, verifier_source(vk, vk_rel, man.files[vk_rel]), commitments)


def _what(code: bytes) -> str:
    return f"other code ({len(code)} bytes)" if code else "no code"


def _code_matches(on_chain: bytes, compiled: bytes) -> bool:
    """Same length, and the same code once each side's CBOR metadata is stripped."""
    if len(on_chain) != len(compiled):
        return False
    try:
        return strip_metadata(on_chain) == strip_metadata(compiled)
    except ValueError:
        return False


def check_onchain(root: Path, report: AuditReport, *, rpc_url: str, registry: str,
                  epoch: int) -> OnchainFindings:
    """The check ``onchain`` of the module docstring, after :func:`~zkmargin.verifier.audit.
    audit` returned ``report`` for ``root``; raises :class:`AuditError` at the first
    failure."""
    if not ADDRESS.fullmatch(registry):
        raise _fail("--registry", f"{registry!r} is not a 0x-prefixed 20-byte address")
    if not 0 <= epoch <= UINT256_MAX:
        raise _fail("--epoch", f"{epoch} is not a uint256")
    registry = registry.lower()
    where = f"registry {registry}"
    audited = _read_audited(root, report)
    solc, compiled = compile_runtimes(audited.verifier_sol, registry_source())

    try:
        rpc = JsonRpc(rpc_url)
        block = _quantity(rpc("eth_blockNumber"), "eth_blockNumber")
        at = hex(block)
        registry_code = _hex_data(rpc("eth_getCode", registry, at), "eth_getCode(registry)")
        if not _code_matches(registry_code, compiled[REGISTRY_CONTRACT]):
            raise _fail(where, f"at block {block} the address holds {_what(registry_code)}, "
                               "not SolvencyRegistry.sol of this zkmargin compiled by solc "
                               f"{solc} (optimizer, 200 runs): its records mean nothing")
        call = {"to": registry, "data": "0x" + (selector(GET_EPOCH)
                                                + epoch.to_bytes(32, "big")).hex()}
        chain = ChainEpoch.decode(_hex_data(rpc("eth_call", call, at), "getEpoch"))
        if chain.batch_count == 0:
            raise _fail(where, f"epoch {epoch} is not published (at block {block})")
        verifier_code = _hex_data(rpc("eth_getCode", chain.verifier, at),
                                  "eth_getCode(verifier)")
    except RpcError as exc:
        raise _fail(where, f"cannot read the chain over JSON-RPC: {exc}") from None

    vk_file = audited.vk_file
    if not _code_matches(verifier_code, compiled[VERIFIER_CONTRACT]):
        raise _fail(vk_file, f"epoch {epoch}'s verifier {chain.verifier} holds "
                             f"{_what(verifier_code)}, not Groth16Verifier.sol of this "
                             f"verification key compiled by solc {solc} (optimizer, 200 "
                             "runs): the verifier code differs, so its verdicts say nothing "
                             "about these proofs")
    if keccak256(verifier_code) != chain.verifier_codehash:
        raise _fail(vk_file, f"epoch {epoch}'s verifier {chain.verifier} has other code than "
                             f"when the epoch was published (code hash 0x"
                             f"{chain.verifier_codehash.hex()}): the proofs recorded may have "
                             "run under another verifier")
    mismatches = (
        ("batch count", chain.batch_count, report.batches, artifacts.MANIFEST),
        ("root", chain.root, report.root, artifacts.MANIFEST),
        ("params hash", chain.params_hash, report.params_hash, artifacts.MANIFEST),
    )
    for name, got, want, file in mismatches:
        if got != want:
            raise _fail(file, f"epoch {epoch} on chain has {name} {got}, the audited manifest "
                              f"has {want}")
    want_root = batches_levels(audited.commitments)[-1][0]
    if chain.batches_root != want_root:
        raise _fail(artifacts.BATCHES_DIR,
                    f"epoch {epoch} on chain has batchesRoot 0x{chain.batches_root.hex()}; the "
                    f"tree over the audited (index, commitment) pairs is 0x{want_root.hex()}: "
                    "the proofs recorded on chain are not these batches")
    if chain.verified_count > chain.batch_count:  # the genuine registry never does this
        raise _fail(where, f"{chain.verified_count} verified batches of {chain.batch_count}")
    return OnchainFindings(
        registry=registry, epoch=epoch, block=block, verifier=chain.verifier,
        batch_count=chain.batch_count, verified_batches=chain.verified_count, solc=solc,
        verifier_runtime_sha256=hashlib.sha256(
            strip_metadata(compiled[VERIFIER_CONTRACT])).hexdigest(),
        registry_runtime_sha256=hashlib.sha256(
            strip_metadata(compiled[REGISTRY_CONTRACT])).hexdigest(),
    )

