"""``credex bench --scale N`` (key ``P9``, issue 13 point 2): one log of N entries.

For each engine (SQLite file; PostgreSQL when a URL is given) a fresh node home issues
N distinct records through ``LocalNode.issue`` (the same path as P1: signed statements,
group commits of 1024, durable), in windows of 10^6 entries (N/10 below 10^7), and
reports:

- ``windows_per_s``: issue rate per window and whether any window fell below 80 % of
  the first (``decay``: the goal is none); ``load_1m``: the machine's 1-minute load
  average at the end of each window (other work on the machine shows there);
- ``bytes_per_entry``: bytes on disk of the log's tables against the statement bytes +
  32 (one leaf hash) per entry (goal <= 1.3x). SQLite: the database file after a WAL
  checkpoint (every table of the node's file). PostgreSQL: ``pg_total_relation_size``
  (heap, TOAST, indexes) of the log's tables in the node's schema;
- ``proofs``: median latency of inclusion and consistency proofs read from storage at
  tree sizes 10^5, 10^6 and 10^7 (those reached; else N);
- ``sync``: the log served by a ``credex serve`` child process, a follower child process
  mirrors the whole of it into a fresh SQLite file over TLS gRPC (``PeerSync``: every
  statement decoded and its signature checked, batches durable); the rate, the roots
  compared, and both processes' peak RSS and RSS at each quarter of the sync (issue 13
  point 4: flat, independent of the log's size).

A ``budget_s`` bounds the build: once it is spent the log stops at the end of the
current window (``truncated`` says so, ``entries`` what was built). Nothing here
asserts; tests never time anything.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa

from credex.ledger.log import AppendOnlyLog
from credex.ledger.record import Record
from credex.ledger.storage.tables import LOG_TABLES
from credex.node.home import NodeHome
from credex.node.local import LocalNode

__all__ = ["DECAY_FLOOR", "ENGINES", "PROOF_SIZES", "run_scale", "window_size"]

T0: Final = 1_790_000_000
REGION: Final = "cn-zj-hangzhou"
#: a window below this fraction of the first window's rate is decay
DECAY_FLOOR: Final = 0.80
PROOF_SIZES: Final = (10**5, 10**6, 10**7)
ENGINES: Final = ("sqlite", "postgresql")
#: records built and signed per call of ``LocalNode.issue`` (bounds memory)
_CHUNK: Final = 65_536
_SAMPLES: Final = 200


def window_size(n: int) -> int:
    """10^6 entries per window from 10^7 up; N/10 below (at least 1)."""
    return 10**6 if n >= 10**7 else max(1, n // 10)


def _records(start: int, end: int) -> list[Record]:
    """Distinct records (``as_of`` seconds differ), ~the size of a city credit score: the
    same records as P2-P5's (``rpc.bench_records``)."""
    from credex.node.bench.rpc import bench_records

    return bench_records(end - start, start)


def _build(
    node: LocalNode, n: int, budget_s: float | None, progress: Callable[[str], None]
) -> dict[str, Any]:
    window = window_size(n)
    rates: list[float] = []
    loads: list[float] = []
    t_start = time.perf_counter()
    truncated = False
    done = 0
    while done < n:
        end = min(n, done + window)
        t0 = time.perf_counter()
        for i in range(done, end, _CHUNK):
            node.issue(_records(i, min(end, i + _CHUNK)), iat=T0, batch=1024)
        rates.append((end - done) / (time.perf_counter() - t0))
        loads.append(os.getloadavg()[0])
        done = end
        progress(f"P9 {done}/{n} entries, last window {rates[-1]:.0f}/s")
        if budget_s is not None and done < n and time.perf_counter() - t_start > budget_s:
            truncated = True
            break
    first = rates[0]
    return {
        "entries": done,
        "truncated": truncated,
        "build_seconds": time.perf_counter() - t_start,
        "window": window,
        "windows_per_s": rates,
        "load_1m": loads,
        "worst_window_ratio": min(rates) / first,
        "decay": any(r < DECAY_FLOOR * first for r in rates),
    }


def _disk_bytes(node: LocalNode, home: NodeHome) -> tuple[int, int]:
    """(bytes on disk of the log, statement bytes logged)."""
    engine = sa.create_engine(home.db_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                leaf_bytes = conn.exec_driver_sql("SELECT sum(length(leaf)) FROM entries")
                stmt_bytes = int(leaf_bytes.scalar_one() or 0)
                path = Path(str(engine.url.database))
                disk = sum(
                    p.stat().st_size
                    for p in (path, path.with_name(path.name + "-wal"))
                    if p.exists()
                )
                return disk, stmt_bytes
            stmt_bytes = int(
                conn.exec_driver_sql("SELECT sum(octet_length(leaf)) FROM entries").scalar_one()
                or 0
            )
            disk = 0
            for table in LOG_TABLES:
                got = conn.execute(
                    sa.text("SELECT pg_total_relation_size(to_regclass(:t))"), {"t": table.name}
                ).scalar_one()
                disk += int(got or 0)
            return disk, stmt_bytes
    finally:
        engine.dispose()


def _proofs(log: AppendOnlyLog, sizes: list[int]) -> dict[str, Any]:
    rng = random.Random(9)
    out: dict[str, Any] = {}
    for size in sizes:
        for i in [rng.randrange(size) for _ in range(50)]:  # warm up equally
            log.inclusion_proof(i, size)
        inc, con = [], []
        for _ in range(3):
            idx = [rng.randrange(size) for _ in range(_SAMPLES)]
            t0 = time.perf_counter()
            for i in idx:
                log.inclusion_proof(i, size)
            inc.append((time.perf_counter() - t0) / _SAMPLES)
            olds = [rng.randrange(1, size) for _ in range(_SAMPLES)]
            t0 = time.perf_counter()
            for old in olds:
                log.consistency_proof(old, size)
            con.append((time.perf_counter() - t0) / _SAMPLES)
        out[str(size)] = {
            "inclusion_s": statistics.median(inc),
            "consistency_s": statistics.median(con),
        }
    return out


def _sync(base: Path, tag: str, home: NodeHome, n: int) -> dict[str, Any]:
    """A fresh SQLite mirror in a follower process follows the whole log over TLS gRPC
    from the home served by a ``credex serve`` child; with both processes' RSS."""
    from credex.node.bench.rpc import follow_in_child

    return follow_in_child(home, base / f"p9-mirror-{tag}.sqlite", n)


def _engine_run(
    base: Path,
    tag: str,
    db: str | None,
    n: int,
    budget_s: float | None,
    sync: bool,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    home = NodeHome.init(
        base / f"p9-{tag}",
        region=REGION,
        origin=f"bench.example/p9-{tag}",
        db=db,
        now=T0,
        log_seed=os.urandom(32),
        subject_secret=os.urandom(32),
        platform_seed=os.urandom(32),
    )
    with LocalNode(home) as node:
        out = _build(node, n, budget_s, progress)
        built = out["entries"]
        disk, stmt_bytes = _disk_bytes(node, home)
        out["bytes_per_entry"] = {
            "goal": 1.3,
            "disk_bytes": disk,
            "statement_bytes": stmt_bytes,
            "disk_per_entry": disk / built,
            "statement_plus_32_per_entry": (stmt_bytes + 32 * built) / built,
            "ratio": disk / (stmt_bytes + 32 * built),
        }
        sizes = [s for s in PROOF_SIZES if s <= built] or [built]
        progress(f"P9 proofs at {sizes}")
        out["proofs"] = _proofs(node.log, sizes)
        if sync:
            node.publish_checkpoint(T0)
    if sync:  # the node is closed: the log is served by a credex serve child
        progress(f"P9 peer sync of {built} entries into an empty mirror (two processes)")
        out["sync"] = _sync(base, tag, home, built)
    return out


def run_scale(
    n: int,
    *,
    base: Path,
    postgres_url: str | None,
    budget_s: float | None = None,
    sync: bool = True,
    engines: Sequence[str] = ENGINES,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """The ``P9`` report: one log of ``n`` entries per engine (see the module doc)."""
    if n < 1:
        raise ValueError(f"bench: --scale must be at least 1, got {n}")
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown:
        raise ValueError(
            f"bench: unknown engine: expected one of {', '.join(ENGINES)}, got {unknown[0]}"
        )
    report: dict[str, Any] = {
        "goal": {"worst_window_ratio": DECAY_FLOOR, "bytes_ratio": 1.3},
        "entries": n,
        "budget_s": budget_s,
    }
    if "sqlite" in engines:
        progress(f"P9 sqlite: {n} entries")
        report["sqlite"] = _engine_run(base, "sqlite", None, n, budget_s, sync, progress)
    if "postgresql" not in engines:
        pass
    elif postgres_url:
        from credex.node.bench.pgschema import scratch_schema

        progress(f"P9 postgresql: {n} entries")
        with scratch_schema(postgres_url) as url_for:
            report["postgresql"] = _engine_run(
                base, "postgresql", url_for("p9"), n, budget_s, sync, progress
            )
    else:
        report["postgresql"] = {"note": "no --postgres URL / CREDEX_TEST_POSTGRES_URL"}
    return report
