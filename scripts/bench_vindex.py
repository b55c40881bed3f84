"""Measure the verifiable index core (not a test): batch updates, proofs, tree hash.

    python scripts/bench_vindex.py [--sizes 10000,100000,1000000] [--batch 1024] [--rounds 20]

For each tree size: the tree is filled with pseudo-random keys (SHA-256 of a counter), then
``rounds`` batches of ``batch`` updates are prepared and committed, half inserting new keys
and half replacing values of existing keys, and the time per key is reported; then proofs
of present and absent keys (time, CBOR and torchwood bytes) and their verification. Keys are
deterministic, so runs are comparable. Uses the in-memory store: it measures the tree's own
cost, not a database's. After filling, the store's millions of long-lived node tuples are
moved out of the cyclic garbage collector's view (``gc.freeze``), as a long-running node
holding them would do; times are medians over batches and over single proofs.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import statistics
import time

from credex.ledger.vindex import (
    IndexTree,
    MemoryNodeStore,
    compute_root,
    to_torchwood,
    verify_lookup,
)
from credex.ledger.vindex.tree import MAX_BATCH


def _key(i: int) -> bytes:
    return hashlib.sha256(b"bench-key:%d" % i).digest()


def _value(i: int, round_: int = 0) -> bytes:
    return hashlib.sha256(b"bench-val:%d:%d" % (i, round_)).digest()


def _fill(tree: IndexTree, n: int) -> None:
    for start in range(0, n, MAX_BATCH):
        tree.apply((_key(i), _value(i)) for i in range(start, min(n, start + MAX_BATCH)))


def _per_key(samples: list[float], batch: int) -> str:
    med = statistics.median(samples) / batch * 1e6
    return f"{med:6.1f} us/key ({batch / statistics.median(samples):8.0f} keys/s)"


def bench(n: int, batch: int, rounds: int, proofs: int) -> None:
    store = MemoryNodeStore()
    tree = IndexTree(store)
    t0 = time.perf_counter()
    _fill(tree, n)
    fill = time.perf_counter() - t0
    gc.collect()
    gc.freeze()
    print(f"\n== {n:,} keys (filled in {fill:.1f} s, {len(store):,} nodes)")

    inserts: list[float] = []
    updates: list[float] = []
    next_new = n
    for r in range(rounds):
        if r % 2 == 0:
            pairs = [(_key(i), _value(i)) for i in range(next_new, next_new + batch)]
            next_new += batch
            samples = inserts
        else:
            step = max(1, n // batch)
            pairs = [(_key(i), _value(i, r)) for i in range(r % step, n, step)][:batch]
            samples = updates
        t0 = time.perf_counter()
        tree.apply(pairs)
        samples.append(time.perf_counter() - t0)
    print(f"   batch of {batch} new keys     : {_per_key(inserts, batch)}")
    print(f"   batch of {batch} value updates: {_per_key(updates, batch)}")
    store.prune(tree.root().version)

    root = tree.root()
    kinds = {
        "present": [_key(i * 7919 % n) for i in range(proofs)],
        "absent": [_key(10**9 + i) for i in range(proofs)],
    }
    for kind, keys in kinds.items():
        made, prove, check = [], [], []
        for k in keys:
            t0 = time.perf_counter()
            p = tree.prove(k)
            t1 = time.perf_counter()
            verify_lookup(root.hash, k, p.value, p)
            check.append(time.perf_counter() - t1)
            prove.append(t1 - t0)
            made.append(p)
        cbor = statistics.mean(len(p.to_bytes()) for p in made)
        tw = statistics.mean(len(to_torchwood(p)) for p in made)
        steps = statistics.mean(len(p.path) for p in made)
        print(
            f"   proof {kind:7}: prove {statistics.median(prove) * 1e6:5.1f} us,"
            f" verify {statistics.median(check) * 1e6:5.1f} us,"
            f" {steps:4.1f} steps, {cbor:5.0f} B CBOR, {tw:5.0f} B torchwood"
        )

    t0 = time.perf_counter()
    again = compute_root(tree.items())
    whole = time.perf_counter() - t0
    assert again == root.hash
    print(
        f"   whole-tree hash of {root.size:,} pairs: {whole:.2f} s"
        f" ({whole / root.size * 1e6:.1f} us/key)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--proofs", type=int, default=2000)
    args = ap.parse_args()
    for n in (int(s) for s in args.sizes.split(",")):
        bench(n, args.batch, args.rounds, args.proofs)


if __name__ == "__main__":
    main()
