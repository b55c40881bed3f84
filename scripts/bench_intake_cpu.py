"""CPU time per statement of ``Intake.submit`` (issue #13, P2): the server process's
share and, with check workers, the workers' share. A measurement, not a test: run it by
hand, and compare two versions interleaved (CPU time moves little with other load).

    python scripts/bench_intake_cpu.py [--workers 0|1|2] [--n 6144] [--batch 128] [--reps 5]

One thread submits ``n`` signed P2 statements (``credex.node.bench.rpc.bench_records``)
in requests of ``batch`` into a fresh SQLite node per round; the best of ``reps`` rounds
is printed. The workers' CPU is read from ``/proc/<pid>/stat`` before and after the load
(their start is not counted).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from credex.ledger.statement import sign_statement
from credex.node.bench import rpc
from credex.node.local import LocalNode
from credex.node.services.checks import CheckPool
from credex.node.services.intake import Intake


def _cpu_s(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--n", type=int, default=6144)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="credex-intake-cpu-"))
    try:
        seed = os.urandom(32)
        signer = rpc._home(base / "signer", seed)
        key = signer.issuer_signing_key(signer.platform_issuer, "score.city", rpc.T0)
        signed = [
            sign_statement(r, signer.platform_issuer, key, rpc.T0).to_bytes()
            for r in rpc.bench_records(a.n + 1)
        ]
        server, workers, wall = [], [], []
        for r in range(a.reps):
            node = LocalNode(rpc._home(base / f"node-{r}", seed))
            pool = CheckPool(a.workers) if a.workers > 0 else None
            try:
                if pool is not None:
                    pool.start(wait=True)
                intake = Intake(node, lambda: rpc.T0, pool)
                intake.submit(signed[:1])  # trust read, first transaction
                pids = [] if pool is None else pool.pids()
                k0, c0, w0 = _cpu_s(pids), time.process_time(), time.perf_counter()
                for i in range(1, a.n + 1, a.batch):
                    intake.submit(signed[i : i + a.batch])
                c1, w1, k1 = time.process_time(), time.perf_counter(), _cpu_s(pids)
            finally:
                if pool is not None:
                    pool.close()
                node.close()
            server.append((c1 - c0) / a.n * 1e6)
            workers.append((k1 - k0) / a.n * 1e6)
            wall.append((w1 - w0) / a.n * 1e6)
        print(
            f"workers={a.workers} batch={a.batch}: server process {min(server):.1f} µs CPU "
            f"per statement, check workers {min(workers):.1f} µs, wall {min(wall):.1f} µs"
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
