"""``credex bench``: performance as ratios to raw figures measured in the same run.

Goals (issue 2): P1 issue rate / raw sign >= 0.60; P4 bundle verify / raw verify >= 0.65;
P6 inclusion proof time at 10^6 vs 10^4 entries <= 2x; P7 our Merkle append vs pymerkle
>= 10x with byte-equal roots; P1 on PostgreSQL >= 0.5 of SQLite. Issue 3 (gRPC, measured
in ``credex.node.bench.rpc``): P2 durable submit over mTLS / raw sign >= 0.30; P3 proof
RPC / echo RPC >= 0.80 and proofs in flight / in-process proofs >= 0.50; P5 verified peer
sync / raw verify >= 0.50. Issue 10 (the verifiable index): P10 issue rate with the index
/ without >= 0.75; P11 status-proof time at 10^6 entries / at 10^4 <= 2x (and its bytes).

Every figure is the median of ``reps`` repetitions of a fixed workload. Nothing here
asserts: tests never time anything; this module only measures and reports.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.bindings as sodium

from credex.ledger.log import AppendOnlyLog, NewLeaf
from credex.ledger.merkle import CompactRange, MerkleTree, leaf_hash
from credex.ledger.node_cache import NodeCache
from credex.ledger.record import Record, Subject
from credex.ledger.storage.sql import SqlStore
from credex.ledger.verify import Verifier
from credex.node.home import NodeHome
from credex.node.local import LocalNode

__all__ = ["run_bench"]

_MSG = os.urandom(300)  # about the size of a statement's Sig_structure


def _rate(n: int, fn: Callable[[], None], reps: int) -> dict[str, float]:
    rates = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        rates.append(n / (time.perf_counter() - t0))
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}


def _raw(n: int, reps: int) -> tuple[dict[str, float], dict[str, float]]:
    pk, sk = sodium.crypto_sign_seed_keypair(b"\x07" * 32)
    signed = sodium.crypto_sign(_MSG, sk)

    def sign() -> None:
        for _ in range(n):
            sodium.crypto_sign(_MSG, sk)

    def verify() -> None:
        for _ in range(n):
            sodium.crypto_sign_open(signed, pk)

    return _rate(n, sign, reps), _rate(n, verify, reps)


def _records(n: int, region: str = "cn-zj-hangzhou") -> list[Record]:
    org = "91330100MA0YX0016X"
    return [
        Record(
            "score.city",
            region,
            Subject("org", org),
            {
                "scheme": "HANGZHOU_QIANJIANG",
                "score": 500 + i % 400,
                "band": "良好",
                "as_of": "2026-11-01",
                "level": "L3",
            },
            1_790_000_000 + i,
        )
        for i in range(n)
    ]


def _new_home(base: Path, name: str, db: str | None) -> NodeHome:
    return NodeHome.init(
        base / name,
        region="cn-zj-hangzhou",
        origin=f"bench.example/{name}",
        db=db,
        now=1_790_000_000,
        log_seed=os.urandom(32),
        subject_secret=os.urandom(32),
        platform_seed=os.urandom(32),
    )


def _p1(
    base: Path,
    n: int,
    reps: int,
    db: Callable[[str], str | None],
    *,
    keep_index: bool = True,
    records: list[Record] | None = None,
    batch: int = 1024,
) -> dict[str, float]:
    """Issue: Record -> signed statement -> durable log entry, group commits of ``batch``
    (1024; signing of batch k+1 overlaps the commit of batch k; see LocalNode.issue), with
    the log's verifiable index kept in each commit (``keep_index=False``: without it)."""
    rates = []
    recs = records if records is not None else _records(n)
    for r in range(reps):
        name = f"p1-{uuid.uuid4().hex[:8]}"
        home = _new_home(base, name, db(name))
        with LocalNode(home, keep_index=keep_index) as node:
            t0 = time.perf_counter()
            node.issue(recs, iat=1_790_000_000 + r, batch=batch)
            rates.append(n / (time.perf_counter() - t0))
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}


def _person_records(n: int) -> list[Record]:
    """``n`` scores, each of another person (distinct pseudonyms): every record adds a
    subject key to the index, the index's worst case per record."""
    return [
        Record(
            "score.city",
            "cn-zj-hangzhou",
            Subject("person", f"hmac:0badc0de:{hashlib.sha256(b'%d' % i).hexdigest()}"),
            {
                "scheme": "HANGZHOU_QIANJIANG",
                "score": 500 + i % 400,
                "band": "良好",
                "as_of": "2026-11-01",
                "level": "L3",
            },
            1_790_000_000 + i,
        )
        for i in range(n)
    ]


def _p10(base: Path, n: int, reps: int) -> dict[str, Any]:
    """P1 with the index kept over P1 without it, runs interleaved (with, without, ...)
    so drift of a shared machine hits both; for P1's records (one company) and for
    records of distinct persons (one new index key each)."""
    out: dict[str, Any] = {}
    for name, recs in (("one_subject", _records(n)), ("distinct_subjects", _person_records(n))):
        with_idx: list[float] = []
        without: list[float] = []
        for _ in range(reps):
            with_idx.append(_p1(base, n, 1, lambda _: None, records=recs)["median"])
            without.append(
                _p1(base, n, 1, lambda _: None, keep_index=False, records=recs)["median"]
            )
        a, b = statistics.median(with_idx), statistics.median(without)
        out[name] = {"with_index_per_s": a, "without_index_per_s": b, "ratio": a / b}
    return out


def _sqlite_bytes(path: Path) -> int:
    """Bytes of a SQLite database's pages in use (free pages left by pruning excluded)."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)
    finally:
        conn.close()


def _p11(base: Path, sizes: tuple[int, int], samples: int) -> dict[str, Any]:
    """Status-proof time and size from the SQL index store at two log sizes: synthetic
    entries (a subject per 4 entries, one lifecycle statement per 5 about an earlier
    record) indexed in versions of 8192 entries, the versions between checkpoints (every
    131072 entries and at each measured size) pruned as the node does; the median of 3
    runs of ``samples`` proofs of random records (present and absent keys), after the same
    warm-up, with the store's node cache and with every node read from storage."""
    from credex.ledger.index_map import MapInput
    from credex.ledger.log_index import LogIndex
    from credex.ledger.storage.index_store import SqlNodeStore

    rng = random.Random(11)
    leaf = [hashlib.sha256(b"leaf %d" % i).digest() for i in range(max(sizes))]
    nodes_path = base / "p11.sqlite"
    nodes = SqlNodeStore(f"sqlite:///{nodes_path}")
    index = LogIndex(nodes)
    last_checkpoint = 0
    out: dict[str, Any] = {
        "proof_seconds": {},
        "storage_proof_seconds": {},
        "proof_bytes": {},
        "keys": {},
        "index_bytes_per_entry": {},
        "pinned_nodes": {},
        "storage_proof_cpu_seconds": {},
    }
    try:
        t_build = 0.0
        for size in sorted(sizes):
            t0 = time.perf_counter()
            while index.size < size:
                start = index.size
                end = min(size, start + 8192)
                inputs = [
                    MapInput(
                        i,
                        leaf[i],
                        "lifecycle.repair" if i % 5 == 4 else "penalty.admin",
                        f"{91330100000000000 + i // 4}",
                        leaf[rng.randrange(i)] if i % 5 == 4 else None,
                    )
                    for i in range(start, end)
                ]
                index.extend(start, inputs)
                if end % 131_072 == 0 or end == size:  # a checkpoint: as the node prunes
                    index.checkpointed(last_checkpoint, end)
                    last_checkpoint = end
            t_build += time.perf_counter() - t0
            out["index_bytes_per_entry"][str(size)] = _sqlite_bytes(nodes_path) / size
            for i in [rng.randrange(size) for _ in range(50)]:  # warm up equally
                index.prove_status(leaf[i], size)
            times, cold, cold_cpu, lengths = [], [], [], []
            for _ in range(3):
                picks = [rng.randrange(size) for _ in range(samples)]
                t0 = time.perf_counter()
                for i in picks:
                    index.prove_status(leaf[i], size)
                times.append((time.perf_counter() - t0) / samples)
                # emptied once untimed: clearing a cache of 10^6 nodes takes milliseconds,
                # which would be charged to the first proof at 10^6 but not at 10^4
                nodes.drop_cache()
                t0, c0 = time.perf_counter(), time.thread_time()
                for i in picks:  # every node from storage, as P6 reads inclusion proofs
                    nodes.drop_cache()
                    index.prove_status(leaf[i], size)
                cold.append((time.perf_counter() - t0) / samples)
                cold_cpu.append((time.thread_time() - c0) / samples)
            for i in picks:
                lengths.append(len(index.prove_status(leaf[i], size).to_bytes()))
            out["storage_proof_seconds"][str(size)] = statistics.median(cold)
            out["storage_proof_cpu_seconds"][str(size)] = statistics.median(cold_cpu)
            out["proof_seconds"][str(size)] = statistics.median(times)
            out["proof_bytes"][str(size)] = statistics.mean(lengths)
            out["keys"][str(size)] = index.root_at(size).size
            out["pinned_nodes"][str(size)] = nodes.pinned
        out["build_seconds"] = t_build
    finally:
        nodes.close()
    return out


def _p4(base: Path, n: int, reps: int) -> dict[str, Any]:
    """Verify n bundles from one checkpoint: warm (shared Verifier cache, one at a time),
    cold (a new Verifier per bundle), batch (``Verifier.run_many``: one verifier, two
    threads, so Ed25519 runs beside decoding when a second core is free) and processes
    (``VerifierPool``: two worker processes started once, their start-up timed apart)."""
    from credex.node.verify_pool import VerifierPool

    home = _new_home(base, "p4", None)
    with LocalNode(home) as node:
        node.issue(_records(n), iat=1_790_000_000)
        node.publish_checkpoint(1_790_000_100)
        bundles = [node.bundle(i, 1_790_000_100).to_bytes() for i in range(n)]
    trust = home.trust()

    def warm() -> None:
        v = Verifier(trust)
        for b in bundles:
            v.verify(b)

    def cold() -> None:
        for b in bundles:
            Verifier(trust).verify(b)

    def batch() -> None:
        if not all(r.ok for r in Verifier(trust).run_many(bundles, threads=2)):
            raise RuntimeError("P4: a bundle did not verify")

    t0 = time.perf_counter()
    with VerifierPool(trust, processes=2) as pool:
        start = time.perf_counter() - t0

        def processes() -> None:
            if not all(r.ok for r in pool.run_many(bundles)):
                raise RuntimeError("P4: a bundle did not verify")

        processes()  # the workers' first batch (their caches) is not timed
        # warm, batch and processes take turns in each repetition, so that a machine
        # whose load changes weighs on all three alike; CPU time too (all processes)
        rates: dict[str, list[float]] = {"warm": [], "batch": [], "processes": []}
        cpu: dict[str, list[float]] = {k: [] for k in (*rates, "workers")}
        fns = {"warm": warm, "batch": batch, "processes": processes}
        for _ in range(reps):
            for name, fn in fns.items():
                c0, w0 = time.process_time(), pool.cpu_seconds()
                t0 = time.perf_counter()
                fn()
                rates[name].append(n / (time.perf_counter() - t0))
                cpu[name].append((time.process_time() - c0) / n * 1e6)
                w1 = pool.cpu_seconds()
                if name == "processes" and w0 is not None and w1 is not None:
                    cpu["workers"].append((w1 - w0) / n * 1e6)
    out: dict[str, Any] = {name: _stats_of(r) for name, r in rates.items()}
    out["cold"] = _rate(n, cold, reps)
    out["pool_start_seconds"] = start
    out["cpu_us_per_bundle"] = {
        "one_thread": statistics.median(cpu["warm"]),
        "two_threads": statistics.median(cpu["batch"]),
        "processes_main": statistics.median(cpu["processes"]),
        "processes_workers": statistics.median(cpu["workers"]) if cpu["workers"] else None,
    }
    return out


def _stats_of(rates: list[float]) -> dict[str, float]:
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates)}


def _p6(base: Path, sizes: tuple[int, int], samples: int, url: str | None) -> dict[str, Any]:
    """Inclusion-proof latency from storage at two log sizes (synthetic leaves): the
    median of 3 runs of ``samples`` random proofs each, after the same warm-up."""
    out: dict[str, Any] = {}
    rng = random.Random(6)
    path = base / "p6.sqlite"
    store = SqlStore(url or f"sqlite:///{path}")
    # proofs from storage: the log's node cache keeps no blocks of leaves (it would hold
    # all of 10^4 but a fraction of 10^6); single upper nodes are kept as before
    log = AppendOnlyLog(store, node_cache=NodeCache(max_blocks=0))
    try:
        t_build = 0.0
        for size in sorted(sizes):
            t0 = time.perf_counter()
            chunk = 20_000
            while log.size < size:
                k = min(chunk, size - log.size)
                start = log.size
                log.append_many(
                    [NewLeaf(b"%d" % (start + j) * 12, "bench", "bench", 0) for j in range(k)]
                )
            t_build += time.perf_counter() - t0
            for i in [rng.randrange(size) for _ in range(50)]:  # warm up equally
                log.inclusion_proof(i, size)
            times = []
            for _ in range(3):
                idx = [rng.randrange(size) for _ in range(samples)]
                t0 = time.perf_counter()
                for i in idx:
                    log.inclusion_proof(i, size)
                times.append((time.perf_counter() - t0) / samples)
            out[str(size)] = statistics.median(times)
        out["build_seconds"] = t_build
    finally:
        log.close()
        store.close()
    return out


def _p7(n: int, reps: int = 3) -> dict[str, Any]:
    """Append n entries, leaf hashing included on both sides, every node kept.

    Ours: ``MerkleTree.extend`` in batches of 1000 (how the log integrates) and one by
    one; pymerkle 7 ``InmemoryTree.append_entry`` one by one (it has no batch append).
    """
    leaves = [b"leaf-%d" % i for i in range(n)]
    holder: dict[str, Any] = {}

    def batch() -> None:
        t = MerkleTree()
        for i in range(0, n, 1000):
            t.extend(leaves[i : i + 1000])
        holder["batch"] = t

    def single() -> None:
        t = MerkleTree()
        for x in leaves:
            t.append(x)
        holder["single"] = t

    def compact() -> None:
        c = CompactRange()
        for x in leaves:
            c.append(leaf_hash(x))
        holder["compact"] = c

    out: dict[str, Any] = {
        "entries": n,
        "batch": 1000,
        "ours_per_s": _rate(n, batch, reps)["median"],
        "ours_one_by_one_per_s": _rate(n, single, reps)["median"],
        "ours_compact_per_s": _rate(n, compact, reps)["median"],
    }
    try:
        from pymerkle import InmemoryTree
    except ImportError:
        out.update(pymerkle_per_s=None, ratio=None, note="pymerkle not installed")
        return out

    def theirs() -> None:
        t = InmemoryTree(algorithm="sha256")
        for x in leaves:
            t.append_entry(x)
        holder["pymerkle"] = t

    their_rate = _rate(n, theirs, reps)["median"]
    roots = {
        holder["batch"].root(),
        holder["single"].root(),
        holder["compact"].root(),
        holder["pymerkle"].get_state(),
    }
    out.update(
        pymerkle_per_s=their_rate,
        ratio=out["ours_per_s"] / their_rate,
        ratio_one_by_one=out["ours_one_by_one_per_s"] / their_rate,
        roots_equal=len(roots) == 1,
    )
    return out


def _grpc(
    base: Path,
    quick: bool,
    reps: int,
    raw_sign: dict[str, float],
    raw_verify: dict[str, float],
    progress: Callable[[str], None],
    sizes: tuple[int, int, int] | None = None,
    keys: frozenset[str] = frozenset({"P2", "P3", "P5"}),
) -> dict[str, Any]:
    """P2, P3, P5 (those in ``keys``) over real TLS servers on 127.0.0.1 (see
    ``credex.node.bench.rpc``).

    ``sizes`` (statements submitted, source log entries, proof RPCs) overrides the
    defaults (tests use tiny ones).
    """
    from credex.node.bench.rpc import (
        p2_server_memory,
        p2_submit,
        p3_proofs,
        p5_sync,
        source_node,
    )

    n_submit, n_source, n_rpcs = sizes or ((1200, 3000, 400) if quick else (3000, 10_000, 1000))
    out: dict[str, Any] = {}
    if "P2" in keys:
        progress("P2 durable submit over gRPC (mTLS, 4 clients)")
        p2 = p2_submit(base, n_submit, reps=reps)
        progress("P2 credex serve memory under the same load (child process)")
        out["P2"] = {
            "goal": 0.30,
            "ratio": p2["submit_per_s"]["median"] / raw_sign["median"],
            "raw_sign_per_s": raw_sign["median"],
            **p2,
            "server_memory": p2_server_memory(base, n_submit),
            "memory_goal_mib": 300,
        }
    if not keys & {"P3", "P5"}:
        return out
    progress(f"P3/P5 source node with {n_source} entries")
    p3: dict[str, Any] | None = None
    p5: dict[str, Any] | None = None
    with source_node(base, n_source) as src:
        if "P3" in keys:
            progress("P3 inclusion-proof RPCs vs echo RPC and vs in-process proofs")
            p3 = p3_proofs(src, n_rpcs, reps=reps)
        if "P5" in keys:
            progress("P5 peer sync with full verification")
            p5 = p5_sync(base, src, reps=reps)
    if p3 is not None:
        out["P3"] = _p3_report(p3)
    if p5 is not None:
        out["P5"] = {
            "goal": 0.50,
            "ratio": p5["sync_per_s"]["median"] / raw_verify["median"],
            "raw_verify_per_s": raw_verify["median"],
            "in_process_ratio": p5["in_process_sync_per_s"]["median"] / raw_verify["median"],
            "processes_ratio": p5["processes_sync_per_s"]["median"] / raw_verify["median"],
            **p5,
        }
    return out


def _p3_report(p3: dict[str, Any]) -> dict[str, Any]:
    single, batched = p3["single"], p3["batched"]
    return {
        "goal": 0.80,
        "ratio": single["proof_rpc_per_s"]["median"] / single["echo_rpc_per_s"]["median"],
        "batched_goal": 0.50,
        "batched_ratio": batched["proof_rpc_per_s"]["median"]
        / batched["in_process_proof_per_s"]["median"],
        **p3,
        "note": "batched = GetInclusionProofs calls of `batch` entries, one in flight per "
        "client, vs the same batched read in-process; echo = bytes-in/bytes-out RPC on a "
        "separate server with the node's TLS certificate",
    }


def run_bench(
    *,
    quick: bool,
    postgres_url: str | None,
    progress: Callable[[str], None] = lambda _: None,
    scratch: Path | None = None,
    only: frozenset[str] | None = None,
) -> dict[str, Any]:
    """Run every benchmark once (or the keys in ``only``, with the raw figures they are
    measured against); returns the report object printed by ``credex bench``."""

    def want(key: str) -> bool:
        return only is None or key in only

    reps = 3
    n_raw = 3000 if quick else 10000
    n_issue = 2000 if quick else 10000
    n_verify = 1000 if quick else 4000
    p6_sizes = (10_000, 100_000) if quick else (10_000, 1_000_000)
    base = Path(tempfile.mkdtemp(prefix="credex-bench-", dir=scratch))
    try:
        progress("raw ed25519")
        raw_sign, raw_verify = _raw(n_raw, reps)
        report: dict[str, Any] = {
            "raw": {"ed25519_sign_per_s": raw_sign, "ed25519_verify_per_s": raw_verify},
        }
        if want("P1") or want("P1_postgres"):
            progress("P1 issue (sqlite)")
            p1 = _p1(base, n_issue, reps, lambda _: None)
            report["P1"] = {
                "goal": 0.60,
                "ratio": p1["median"] / raw_sign["median"],
                "issue_per_s": p1,
                "raw_sign_per_s": raw_sign["median"],
                "records": n_issue,
                "batch": 1024,
            }
        if not want("P1_postgres"):
            pass
        elif postgres_url:
            progress("P1 issue (postgresql)")
            from credex.node.bench.pgschema import scratch_schema

            with scratch_schema(postgres_url) as url_for:
                p1pg = _p1(base, n_issue, reps, url_for)
            report["P1_postgres"] = {
                "goal": 0.5,
                "ratio": p1pg["median"] / p1["median"],
                "issue_per_s": p1pg,
                "vs_raw_sign": p1pg["median"] / raw_sign["median"],
                "sqlite_issue_per_s": p1["median"],
            }
        else:
            report["P1_postgres"] = {
                "goal": 0.5,
                "ratio": None,
                "note": "no --postgres URL / CREDEX_TEST_POSTGRES_URL",
            }
        if want("P10"):
            progress("P10 issue with the verifiable index / without")
            p10 = _p10(base, n_issue, reps)
            report["P10"] = {
                "goal": 0.75,
                "ratio": p10["one_subject"]["ratio"],
                "records": n_issue,
                **p10,
                "note": "ratio: P1's workload (one company); distinct_subjects: each record "
                "of another person (one new index key per record, the worst case)",
            }
        if want("P11"):
            progress(f"P11 status proofs at {p6_sizes[0]} and {p6_sizes[1]} entries")
            p11 = _p11(base, p6_sizes, 300)
            small11, big11 = (p11["storage_proof_seconds"][str(k)] for k in p6_sizes)
            warm_small, warm_big = (p11["proof_seconds"][str(k)] for k in p6_sizes)
            report["P11"] = {
                "goal": 2.0,
                "ratio": big11 / small11,
                "cached_ratio": warm_big / warm_small,
                "cpu_ratio": p11["storage_proof_cpu_seconds"][str(p6_sizes[1])]
                / p11["storage_proof_cpu_seconds"][str(p6_sizes[0])],
                "note": "ratio: every node read from storage (as P6) but the pinned top "
                "levels of the tree (pinned_nodes, at most 2^16); cpu_ratio: the same in "
                "this thread's CPU time (steadier on a loaded machine); cached_ratio: with the "
                "store's bounded node cache (2^20 nodes), which holds all of 10^4 but not "
                "10^6",
                "sizes": list(p6_sizes),
                **p11,
            }
        if want("P4"):
            progress("P4 bundle verify")
            p4 = _p4(base, n_verify, reps)
            report["P4"] = {
                "goal": 0.65,
                "ratio": p4["warm"]["median"] / raw_verify["median"],
                "verify_per_s": p4["warm"],
                "cold_verify_per_s": p4["cold"],
                "cold_ratio": p4["cold"]["median"] / raw_verify["median"],
                "batch_verify_per_s": p4["batch"],
                "batch_ratio": p4["batch"]["median"] / raw_verify["median"],
                "processes_verify_per_s": p4["processes"],
                "processes_ratio": p4["processes"]["median"] / raw_verify["median"],
                "processes": 2,
                "pool_start_seconds": p4["pool_start_seconds"],
                # CPU time per bundle, all processes (the workers' too): what verifying
                # on processes costs beside one thread, whatever the load
                "cpu_us_per_bundle": p4["cpu_us_per_bundle"],
                "cpu_count": os.cpu_count(),
                "raw_verify_per_s": raw_verify["median"],
                "bundles": n_verify,
            }
        if want("P6"):
            progress(f"P6 inclusion proofs at {p6_sizes[0]} and {p6_sizes[1]} entries")
            p6 = _p6(base, p6_sizes, 300, None)
            small, big = p6[str(p6_sizes[0])], p6[str(p6_sizes[1])]
            report["P6"] = {
                "goal": 2.0,
                "ratio": big / small,
                "sizes": list(p6_sizes),
                "proof_seconds": {str(k): p6[str(k)] for k in p6_sizes},
                "build_seconds": p6["build_seconds"],
            }
        if want("P7"):
            progress("P7 merkle append vs pymerkle")
            p7 = _p7(20_000 if quick else 100_000)
            report["P7"] = {"goal": 10.0, **p7}
        grpc_keys = frozenset(k for k in ("P2", "P3", "P5") if want(k))
        if grpc_keys:
            report.update(_grpc(base, quick, reps, raw_sign, raw_verify, progress, keys=grpc_keys))
        return report
    finally:
        shutil.rmtree(base, ignore_errors=True)
