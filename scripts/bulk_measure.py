"""Measure a bulk import as an operator runs it (issue #16): wall time, rate, peak memory,
bytes per entry, and the time a re-run takes to skip every already-logged line.

    python scripts/bulk_measure.py 1000000 [--postgres URL] [--dir DIR]

Generates ``N`` JSON-lines score records (``credex.node.bench.bulk``), creates a fresh
home (SQLite, or a scratch schema in PostgreSQL), runs ``credex issue --records`` as a
real process, samples the peak memory (``VmHWM``) of it and of its parsing workers, and
prints one JSON object. Also measures ``credex bench``'s P1 (issue rate) in the same run.
Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
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
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return db.stat().st_size


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--postgres", default=None)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--p1", action="store_true", help="also measure credex bench's P1")
    ap.add_argument("--no-rerun", action="store_true", help="skip the re-run over logged lines")
    a = ap.parse_args()
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
            first = _run(run, env)
            first["rows_per_s"] = round(a.n / first["wall_s"], 1)
            report["import"] = first
            if not a.no_rerun:
                again = _run(run, env)
                again["rows_per_s"] = round(a.n / again["wall_s"], 1)
                report["rerun_all_logged"] = again
            stmt = 0
            from credex.node.local import LocalNode

            with LocalNode.open(home) as node:
                sample = node.log.entries(0, min(1000, a.n))
                stmt = sum(len(e.leaf) for e in sample) / len(sample)
                size = node.log.size
            report["entries"] = size
            report["statement_bytes_avg"] = round(stmt, 1)
            if url:
                total, parts = _pg_bytes(url)
                report["parts_bytes_per_entry"] = {
                    k: round(v / size, 1) for k, v in sorted(parts.items(), key=lambda x: -x[1])
                }
            else:
                total = _sqlite_bytes(home / "log.sqlite")
            report["bytes_per_entry"] = round(total / size, 1)
            report["ratio_to_statement_plus_32"] = round(total / size / (stmt + 32), 3)
        if a.p1:
            from credex.node.bench.runner import _p1, _raw

            raw = _raw(3000, 3)[0]["median"]
            p1 = _p1(base, 10_000, 3, lambda _: None)
            report["bench_P1_issue_per_s"] = round(p1["median"], 1)
            report["raw_sign_per_s"] = round(raw, 1)
            report["import_vs_P1"] = round(report["import"]["rows_per_s"] / p1["median"], 3)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
