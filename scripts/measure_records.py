"""How fast ``credex records`` answers on a large log (issue #14: a subject query on a
10^6-entry log in under 50 ms). A measurement, not a test: run it by hand.

    python scripts/measure_records.py [--entries 1000000] [--postgres URL] [--keep DIR]

It creates a node home (SQLite, or a scratch schema of ``--postgres``), fills the log
directly through the storage API with synthetic entries (realistic sizes; 100 000 other
subjects; every third a penalty with its own decision number, so both indexes are full
size), and logs a few real records of one subject among them: a penalty, a score and an
objection to the penalty. It then times, on the open node, ``find_records`` by subject
and by decision number (what the command runs after opening the node), and the whole
``credex records --subject ...`` command in a fresh process (interpreter start included).
On PostgreSQL the tables are analyzed after the build, as autovacuum does shortly after
a bulk load (the index lookups do not depend on it: ``ledger/storage/sql.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from credex.ledger.log import NewLeaf
from credex.ledger.record import Record, Subject
from credex.node.local import LocalNode, create_home
from credex.node.services.finding import RecordQuery, find_records
from credex.node.services.lifecycle import raise_objection

REGION, ORIGIN = "cn-zj-ningbo", "credex.ningbo.example/log"
TARGET = "91330200MA0YX20892"
DECISION = "甬市监罚〔2026〕88号"
T0 = 1_780_000_000
BATCH = 20_000


def _fill(node: LocalNode, upto: int, rng_seed: int) -> None:
    """Synthetic entries up to ``upto``: ~400-byte leaves over 100 000 other subjects."""
    blob = os.urandom(400 + rng_seed % 7)
    while node.log.size < upto:
        start = node.log.size
        leaves = []
        for i in range(start, min(upto, start + BATCH)):
            penalty = i % 3 == 0
            leaves.append(
                NewLeaf(
                    i.to_bytes(8, "big") + blob[: 300 + i % 100],
                    "penalty.admin" if penalty else "score.city",
                    f"{REGION}/platform",
                    T0 + i,
                    None,
                    f"SYNTH{i % 100_000:08d}",
                    None,
                    f"甬市监罚〔2025〕{i}号" if penalty else None,
                )
            )
        node.log.append_many(leaves)


def _real(node: LocalNode) -> None:
    body = {
        "decision_no": DECISION,
        "decision_date": "2026-05-01",
        "penalty_types": ["罚款"],
        "content": "罚款1万元",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": "11330200MA0YX8018B",
    }
    org = Subject("org", TARGET)
    node.issue([Record("penalty.admin", REGION, org, body, T0)], iat=T0)


def _score(node: LocalNode) -> None:
    body = {"scheme": "tianyi", "score": 700, "band": "A", "as_of": "2026-05-31"}
    node.issue([Record("score.city", REGION, Subject("org", TARGET), body, T0)], iat=T0)


def _timed(fn: object, runs: int) -> tuple[float, float, float]:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[0], statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--postgres", help="a PostgreSQL URL (a scratch schema is used)")
    ap.add_argument("--keep", type=Path, help="build the home here and keep it")
    args = ap.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="credex-records-"))
    home_dir = base / "home"
    db = None
    if args.postgres:
        from credex.node.bench.pgschema import scratch_schema

        ctx = scratch_schema(args.postgres)
        db = ctx.__enter__()("records")
    t = time.perf_counter()
    if not (home_dir / "node.json").exists():
        create_home(home_dir, region=REGION, origin=ORIGIN, db=db, now=T0)
        with LocalNode.open(home_dir) as node:
            n = args.entries
            _fill(node, n // 3, 1)
            _real(node)
            _fill(node, 2 * n // 3, 2)
            _score(node)
            penalty = node.log.by_subject(TARGET, ("penalty.admin",))[0]
            raise_objection(node, penalty.leaf_hash, now=T0 + 86400)
            _fill(node, n, 3)
    build = time.perf_counter() - t
    if db is not None:  # what autovacuum does within a minute or so of a bulk load
        import sqlalchemy as sa

        engine = sa.create_engine(db)
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE entries"))
            conn.execute(sa.text("ANALYZE decision_numbers"))
        engine.dispose()
    out: dict[str, object] = {"entries": None, "build_seconds": round(build, 1)}
    with LocalNode.open(home_dir) as node:
        out["entries"] = node.log.size
        now = T0 + 2 * 86400
        by_subject = RecordQuery(subject=TARGET)
        found = find_records(node, by_subject, now)
        out["found"] = [(r.index, r.kind, r.state) for r in found.records]
        cold = _timed(lambda: find_records(node, by_subject, now), 1)[0]
        best, median, p95 = _timed(lambda: find_records(node, by_subject, now), 50)
        out["subject_query_ms"] = {
            "first": round(cold, 2),
            "best": round(best, 2),
            "median": round(median, 2),
            "p95": round(p95, 2),
        }
        by_number = RecordQuery(decision_no=DECISION)
        best, median, p95 = _timed(lambda: find_records(node, by_number, now), 50)
        out["decision_no_query_ms"] = {
            "best": round(best, 2),
            "median": round(median, 2),
            "p95": round(p95, 2),
        }
    opened = _timed(lambda: LocalNode.open(home_dir).close(), 10)
    out["open_node_ms_median"] = round(opened[1], 2)
    cmd = [sys.executable, "-m", "credex", "records", "--subject", TARGET, "--home", str(home_dir)]
    wall = _timed(lambda: subprocess.run(cmd, check=True, capture_output=True), 5)
    help_wall = _timed(
        lambda: subprocess.run([sys.executable, "-m", "credex", "--help"], capture_output=True), 5
    )
    out["command_wall_ms_median"] = round(wall[1], 1)
    out["help_wall_ms_median"] = round(help_wall[1], 1)
    print(json.dumps(out, indent=2, ensure_ascii=False))
    if args.postgres:
        ctx.__exit__(None, None, None)


if __name__ == "__main__":
    main()
