"""Measure a bulk import as an operator runs it (issue #16): wall time, rate, peak memory,
bytes per entry, and the time a re-run takes to skip every already-logged line.

    python scripts/bulk_measure.py 1000000 [--postgres URL] [--dir DIR]

Generates ``N`` JSON-lines score records (``credex.node.bench.bulk``), creates a fresh
home (SQLite, or a scratch schema in PostgreSQL), runs ``credex issue --records`` as a
real process, samples the peak memory (``VmHWM``) of it and of its parsing workers, and
prints one JSON object. With ``--p1`` also measures ``credex bench``'s P1 (issue rate, on
the same engine) in the same run, before and after the import (the machine's load moves).
Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        out += [int(k) for k in kids]
        todo += [int(k) for k in kids]
    return out


def _hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _run(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peaks: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in [proc.pid, *_descendants(proc.pid)]:
                peaks[pid] = max(peaks.get(pid, 0), _hwm(pid))
            time.sleep(0.2)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, err = proc.communicate()
    done.set()
    t.join()
    wall = time.perf_counter() - t0
    main = peaks.get(proc.pid, 0)
    workers = [v for k, v in peaks.items() if k != proc.pid]
    return {
        "code": proc.returncode,
        "wall_s": round(wall, 2),
        "peak_rss_main_mib": round(main / 2**20, 1),
        "peak_rss_workers_mib": [round(v / 2**20, 1) for v in workers],
        "stdout_tail": out.strip().splitlines()[-1:] if out else [],
        "stderr_tail": err.strip().splitlines()[-3:] if err else [],
    }


def _sqlite_bytes(db: Path) -> int:
    """Bytes of the pages in use (free pages, left by pruned index versions, excluded)."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    return int((pages - free) * size)


def _sqlite_parts(db: Path) -> dict[str, int]:
    """Bytes of each table and index (SQLite's ``dbstat``: whole pages, slack included)."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:  # a build without the dbstat table
        return {}
    finally:
        conn.close()
    return {str(name): int(size) for name, size in rows}


def _bytes(home: Path, url: str | None) -> tuple[int, dict[str, int]]:
    if url:
        return _pg_bytes(url)
    db = home / "log.sqlite"
    total = _sqlite_bytes(db)
    return total, _sqlite_parts(db)


def _pg_bytes(url: str) -> tuple[int, dict[str, int]]:
    import sqlalchemy as sa

    eng = sa.create_engine(url)
    try:
        with eng.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c JOIN "
                    "pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = "
                    "current_schema() AND c.relkind IN ('r', 'i', 't')"
                )
            ).all()
    finally:
        eng.dispose()
    parts = {str(name): int(size) for name, size in rows}
    return sum(parts.values()), parts


_LOG_PREFIXES = (
    "entries",
    "ix_entries",
    "nodes",
    "entry_tags",
    "checkpoints",
    "decision_numbers",
    "uq_entries",
    "leaf_keys",
    "record_keys",
    "subject_keys",
    "key_runs",
)


def _own_rate(tail: list[str]) -> float | None:
    """The rate the import printed in its summary line (``(N rows/s)``): from the
    first row read to the last commit, without the interpreter's start."""
    m = re.search(r"\(([0-9,]+) rows/s\)", tail[-1]) if tail else None
    return float(m.group(1).replace(",", "")) if m else None


def _p1_once(a: argparse.Namespace, base: Path) -> list[float]:
    """``credex bench``'s P1 (10^4 records, batches of 1024, one fresh log a repetition,
    3 repetitions) on the engine of this run: the rate of each repetition."""
    from credex.node.bench.runner import _p1

    if a.postgres:
        from credex.node.bench.pgschema import scratch_schema

        with scratch_schema(a.postgres) as url_for:
            return [_p1(base, 10_000, 1, url_for)["median"] for _ in range(3)]
    return [_p1(base, 10_000, 1, lambda _: None)["median"] for _ in range(3)]


def _p1_around(
    a: argparse.Namespace, base: Path, before: list[float], run: dict[str, Any]
) -> dict[str, Any]:
    """P1 measured before and after the import (the machine is shared: its load moves),
    the median of both, and the import's rates over it."""
    from credex.node.bench.runner import _raw

    rates = before + _p1_once(a, base)
    p1 = statistics.median(rates)
    raw = _raw(3000, 3)[0]["median"]
    out: dict[str, Any] = {
        "bench_P1_issue_per_s": round(p1, 1),
        "bench_P1_each": [round(r, 1) for r in rates],
        "raw_sign_per_s": round(raw, 1),
        "import_vs_P1": round(run["rows_per_s"] / p1, 3),
    }
    if run["rows_per_s_after_start"] is not None:
        out["import_after_start_vs_P1"] = round(run["rows_per_s_after_start"] / p1, 3)
    return out


def _queries(node: Any, samples: int = 300) -> dict[str, float]:
    """Median latency, in ms, of the queries the stored entries serve, at random indices
    of the log just built (the first reads after the import: cold pages included); the
    subject lookup reads every entry about the subject (1/700 of the log here)."""
    import random

    from credex.node.local import record_hash

    rng = random.Random(7)
    size = node.log.size
    picks = [rng.randrange(size) for _ in range(samples)]
    entries = {i: node.log.entry(i) for i in picks[:50]}
    out: dict[str, list[float]] = {
        k: []
        for k in (
            "point_read",
            "inclusion_proof",
            "leaf_hash_lookup",
            "subject_lookup",
            "record_lookup",
        )
    }

    def timed(key: str, fn: Any) -> None:
        t0 = time.perf_counter()
        fn()
        out[key].append((time.perf_counter() - t0) * 1000)

    for i in picks:
        timed("point_read", lambda i=i: node.log.entry(i))
        timed("inclusion_proof", lambda i=i: node.log.inclusion_proof(i, size))
    from credex.ledger.statement import Statement

    for e in entries.values():
        st = Statement.from_bytes(e.leaf)
        timed("leaf_hash_lookup", lambda e=e: node.log.index_of(e.leaf_hash))
        timed("subject_lookup", lambda st=st: node.log.by_subject(st.claims.sub))
        h = record_hash(st.claims.iss, st.payload)
        pair = {h: st.claims.sub}
        timed("record_lookup", lambda pair=pair: node.store.find_records(pair))
    return {k: round(statistics.median(v), 3) for k, v in out.items() if v}


def _p1_same(a: argparse.Namespace, base: Path, path: Path, run: dict[str, Any]) -> dict[str, Any]:
    """P1's path (``LocalNode.issue``: records already built, batches of 1024) on the
    records of the file itself, into a new log of the file's size: what the import adds
    to signing and committing at that size (parsed here first, not timed). Again with the
    importer's batch size (``BATCH``), since at that size the pages a commit rewrites
    depend on it."""
    from credex.adapters.base import AdapterContext, ParsedRow
    from credex.ledger.subject import SubjectKey
    from credex.node.bench.runner import _p1
    from credex.node.services.importer import BATCH
    from credex.node.services.records import JsonLinesRecords

    ctx = AdapterContext("cn-zj-hangzhou", SubjectKey("0badc0de", b"\x05" * 32))
    adapter = JsonLinesRecords(default_from=0)
    with path.open("rb") as f:
        records = [r.record for r in adapter.parse(f, ctx) if isinstance(r, ParsedRow)]
    rates = {}
    for batch in (1024, BATCH):
        if a.postgres:
            from credex.node.bench.pgschema import scratch_schema

            with scratch_schema(a.postgres) as url_for:
                rates[batch] = _p1(base, len(records), 1, url_for, records=records, batch=batch)
        else:
            rates[batch] = _p1(base, len(records), 1, lambda _: None, records=records, batch=batch)
    own = run["rows_per_s_after_start"] or run["rows_per_s"]
    p1, same = rates[1024]["median"], rates[BATCH]["median"]
    return {
        "issue_per_s": round(p1, 1),
        "import_vs_this": round(own / p1, 3),
        f"issue_per_s_batch_{BATCH}": round(same, 1),
        f"import_vs_this_batch_{BATCH}": round(own / same, 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--postgres", default=None)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--p1", action="store_true", help="also measure credex bench's P1")
    ap.add_argument("--no-rerun", action="store_true", help="skip the re-run over logged lines")
    ap.add_argument(
        "--same-records",
        action="store_true",
        help="also time P1's path on the file's own records at the file's size",
    )
    a = ap.parse_args()
    from credex.node import gcpolicy

    gcpolicy.tune()  # P1 runs in this process: with the collector schedule of ``credex bench``
    from credex.node.bench.bulk import write_scores

    base = Path(tempfile.mkdtemp(prefix="credex-bulk-", dir=a.dir))
    exe = shutil.which("credex", path=str(Path(sys.executable).parent)) or "credex"
    env = {k: v for k, v in os.environ.items() if k != "CREDEX_HOME"}
    report: dict[str, Any] = {"lines": a.n, "backend": "postgresql" if a.postgres else "sqlite"}
    try:
        path = base / "scores.jsonl"
        report["file_bytes"] = write_scores(path, a.n)
        home = base / "home"
        cm: Any
        if a.postgres:
            from credex.node.bench.pgschema import scratch_schema

            cm = scratch_schema(a.postgres)
        else:
            import contextlib

            cm = contextlib.nullcontext(lambda _name: None)
        with cm as url_for:
            url = url_for("bulk")
            init = [
                exe,
                "init",
                str(home),
                "--region",
                "cn-zj-hangzhou",
                "--origin",
                "b.example/log",
            ]
            if url:
                init += ["--db", url]
            subprocess.run(init, env=env, check=True, capture_output=True)
            run = [exe, "issue", "--records", str(path), "--home", str(home)]
            first_p1 = _p1_once(a, base) if a.p1 else []
            first = _run(run, env)
            first["rows_per_s"] = round(a.n / first["wall_s"], 1)
            first["rows_per_s_after_start"] = _own_rate(first["stdout_tail"])
            report["import"] = first
            if not a.no_rerun:
                again = _run(run, env)
                again["rows_per_s"] = round(a.n / again["wall_s"], 1)
                again["rows_per_s_after_start"] = _own_rate(again["stdout_tail"])
                report["rerun_all_logged"] = again
            stmt = 0
            from credex.node.local import LocalNode

            with LocalNode.open(home) as node:
                sample = node.log.entries(0, min(1000, a.n))
                stmt = sum(len(e.leaf) for e in sample) / len(sample)
                size = node.log.size
                report["query_ms"] = _queries(node)
            report["entries"] = size
            report["statement_bytes_avg"] = round(stmt, 1)
            # as imported: the verifiable index keeps a version per batch until the next
            # checkpoint, which drops those between two checkpoints (``LogIndex``); a
            # serving node signs one every few seconds
            before, _ = _bytes(home, url)
            report["bytes_per_entry_before_checkpoint"] = round(before / size, 1)
            subprocess.run([exe, "checkpoint", "--home", str(home)], env=env, check=True,
                           capture_output=True)  # fmt: skip
            total, parts = _bytes(home, url)
            if parts:
                report["parts_bytes_per_entry"] = {
                    k: round(v / size, 1) for k, v in sorted(parts.items(), key=lambda x: -x[1])
                }
                # the log's own tables (what issue #16 bounds): the entries, their
                # indexes, the stored subtree hashes, the tags, checkpoints, decision numbers
                log = sum(v for k, v in parts.items() if k.startswith(_LOG_PREFIXES))
                report["log_tables_bytes_per_entry"] = round(log / size, 1)
                report["log_tables_ratio"] = round(log / size / (stmt + 32), 3)
            report["bytes_per_entry"] = round(total / size, 1)
            report["ratio_to_statement_plus_32"] = round(total / size / (stmt + 32), 3)
        if a.p1:
            report.update(_p1_around(a, base, first_p1, report["import"]))
        if a.same_records:
            report["P1_on_the_files_records"] = _p1_same(a, base, path, report["import"])
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
