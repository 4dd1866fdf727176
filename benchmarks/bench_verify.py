"""Per-proof Groth16 verification time: zkmargin's verifiers vs ``snarkjs groth16 verify``.

Run: .venv/bin/python benchmarks/bench_verify.py [--art DIR] [--fast-runs 200]
Last line: ``fast_ms=<float> reference_ms=<float> snarkjs_ms=<float> speedup_vs_snarkjs=<float>
audit_batches_per_s=<float>``.

One real proof (by default: a 5-account snapshot, A=2, P=2, L=3, proved with
``zkmargin prove --batch-size 4``; or batch 0 of an existing artifact directory ``--art``)
is verified from its three files, the way a user verifies it:

* ``fast`` / ``reference``: :func:`zkmargin.verifier.verify_files` -- read and check the
  key, the proof and the public input (canonical coordinates, curves, G2 subgroups), then
  the pairing check (groth16py native / py_ecc with one final exponentiation);
* ``snarkjs``: the baseline, ``node snarkjs groth16 verify vk public proof`` as a
  subprocess, the command the README gives to verifiers (Node start-up included).

``audit_batches_per_s``: a whole ``zkmargin audit`` (every check of zkmargin/verifier/audit.py, fast
verifier, in process) of a generated artifact set of ``--audit-batches`` batches.

Also printed, not on the last line: where the fast time goes, the reference's batch check,
and snarkjs' ``groth16.verify`` in one warm Node process (start-up and curve set-up
excluded), to separate the start-up from the verification.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from zkmargin.paths import NODE_MODULES
from zkmargin.verifier import (
    Proof,
    VerificationKey,
    get_verifier,
    parse_public,
    verify_files,
)

ROOT = Path(__file__).resolve().parent.parent
SNARKJS = ["node", str(NODE_MODULES / "snarkjs" / "build" / "cli.cjs")]

WARM_NODE = """
const snarkjs = require(process.argv[1]);
const fs = require("fs");
const [vk, pub, proof] = process.argv.slice(2, 5).map(p => JSON.parse(fs.readFileSync(p)));
const runs = Number(process.argv[5]);
(async () => {
  if (!await snarkjs.groth16.verify(vk, pub, proof)) throw new Error("not verified");
  const t = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await snarkjs.groth16.verify(vk, pub, proof);
  console.log(Number(process.hrtime.bigint() - t) / 1e6 / runs);
  process.exit(0);
})();
"""


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def make_proofs(work: Path, accounts: int = 5, name: str = "art") -> Path:
    zk = [sys.executable, "-m", "zkmargin.cli"]
    snap = work / f"snap-{name}"
    for args in (["generate", "--accounts", str(accounts), "--assets", "2", "--perps", "2",
                  "--brackets", "3", "--seed", "1", "--out", str(snap)],
                 ["prove", str(snap / "snapshot.csv"), "--params", str(snap / "params.json"),
                  "--out", str(work / name), "--batch-size", "4", "--json"]):
        subprocess.run([*zk, *args], check=True, capture_output=True, cwd=ROOT, timeout=3600)
    return work / name


def audit_rate(art: Path, impl: str) -> float:
    """Batches per second of a whole ``zkmargin audit`` (in process) of ``art``."""
    from zkmargin.verifier.audit import audit

    t = time.perf_counter()
    report = audit(art, impl=impl)
    return report.batches / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--art", type=Path, help="artifact directory of `zkmargin prove`")
    ap.add_argument("--fast-runs", type=int, default=200)
    ap.add_argument("--reference-runs", type=int, default=3)
    ap.add_argument("--snarkjs-runs", type=int, default=5)
    ap.add_argument("--audit-batches", type=int, default=64,
                    help="batches of 4 accounts in the artifact set audited for throughput")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        art = args.art if args.art is not None else make_proofs(Path(tmp))
        manifest = json.loads((art / "manifest.json").read_text())
        vk_path = art / manifest["verification_key"]
        batch = art / "batches" / "000000"
        proof_path, public_path = batch / "proof.json", batch / "public.json"
        files = (vk_path, proof_path, public_path)
        print(f"proof: {proof_path} ({manifest['circuit']['constraints']} constraints, "
              f"{manifest['circuit']['batch_size']} accounts a batch)")

        assert verify_files(*files, impl="fast") and verify_files(*files, impl="reference")
        fast_ms = median_ms(lambda: verify_files(*files, impl="fast"), args.fast_runs)
        reference_ms = median_ms(lambda: verify_files(*files, impl="reference"),
                                 args.reference_runs)

        def snarkjs_verify() -> None:
            proc = subprocess.run([*SNARKJS, "groth16", "verify", str(vk_path), str(public_path),
                                   str(proof_path)], capture_output=True, text=True, timeout=300,
                                  check=False)
            assert proc.returncode == 0 and "OK!" in proc.stdout, proc.stdout + proc.stderr

        snarkjs_ms = median_ms(snarkjs_verify, args.snarkjs_runs)

        # Where the fast time goes; the reference batch check; snarkjs without start-up.
        vk_doc, proof_doc, public_doc = (json.loads(p.read_text()) for p in files)
        vk = VerificationKey.from_json(vk_doc)
        proof = Proof.from_json(proof_doc)
        public = parse_public(public_doc, vk.n_public)
        fast = get_verifier("fast")
        vk_parse = median_ms(lambda: VerificationKey.from_json(vk_doc), 20)
        proof_parse = median_ms(lambda: Proof.from_json(proof_doc), args.fast_runs)
        pairing = median_ms(lambda: fast.verify(vk, proof, public), args.fast_runs)
        reference = get_verifier("reference")
        pair_ref = median_ms(lambda: reference.verify(vk, proof, public), args.reference_runs)
        batch4 = median_ms(lambda: reference.verify_batch(vk, [(proof, public)] * 4), 1) / 4
        warm = subprocess.run(["node", "-e", WARM_NODE, str(NODE_MODULES / "snarkjs"),
                               *map(str, (vk_path, public_path, proof_path)), "20"],
                              capture_output=True, text=True, timeout=600, check=True)
        snarkjs_warm = float(warm.stdout.strip())

        audit_art = make_proofs(Path(tmp), 4 * args.audit_batches, "audit-art")
        audit_fast = audit_rate(audit_art, "fast")

    print(f"audit     {audit_fast:8.1f} batches/s: `zkmargin audit` of {args.audit_batches} "
          "batches (sha256 of every file, commitments, proofs, tree, totals), fast verifier")
    print(f"fast      {fast_ms:8.2f} ms/proof from files (key parse+checks {vk_parse:.2f} ms, "
          f"proof parse+checks {proof_parse:.2f} ms, native pairing check {pairing:.2f} ms)")
    print(f"reference {reference_ms:8.1f} ms/proof from files (pairing check {pair_ref:.1f} ms; "
          f"batch of 4: {batch4:.1f} ms/proof)")
    print(f"snarkjs   {snarkjs_ms:8.1f} ms/proof `snarkjs groth16 verify` subprocess "
          f"(groth16.verify in a warm Node process: {snarkjs_warm:.1f} ms)")
    print(f"fast_ms={fast_ms:.3f} reference_ms={reference_ms:.1f} snarkjs_ms={snarkjs_ms:.1f} "
          f"speedup_vs_snarkjs={snarkjs_ms / fast_ms:.1f} audit_batches_per_s={audit_fast:.1f}")


if __name__ == "__main__":
    main()
