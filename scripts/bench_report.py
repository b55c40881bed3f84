"""Measure: CPU time to verify a subject report of one company with 100 records in force.

    python scripts/bench_report.py [--records 100] [--runs 5]

Builds a throwaway node home (SQLite) in a temporary directory, issues the records, compiles
the report (``credex.node.services.reports``) and verifies it offline
(``credex.ledger.report_verify.verify_report``) ``--runs`` times with a fresh verifier each
time; prints the median CPU ms (``time.process_time``), the report's size and a status
proof's size. Issue #10 asks for under 50 ms of CPU. Not a test: no timed assertions.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from credex.ledger.dates import cst_day
from credex.ledger.record import Record, Subject
from credex.ledger.report_verify import verify_report
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.reports import compile_report

COMPANY = Subject("org", "91330100MA0YX0016X")


def _penalty(n: int, decided: str, at: int) -> Record:
    body: dict[str, object] = {
        "decision_no": f"甬市监罚〔2026〕{n}号",
        "decision_date": decided,
        "penalty_types": ["罚款"],
        "content": "罚款",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": "11330200MB1234567X",
    }
    return Record("penalty.admin", "cn-zj-ningbo", COMPANY, body, at)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    now = int(datetime.now(UTC).timestamp())
    with tempfile.TemporaryDirectory(prefix="credex-bench-report-") as tmp:
        home = NodeHome.init(
            Path(tmp) / "ningbo",
            region="cn-zj-ningbo",
            origin="credex.ningbo.example/log",
            db=None,
            now=now - 86_400,
            log_seed=bytes([1]) * 32,
            subject_secret=bytes([2]) * 32,
            platform_seed=bytes([17]) * 32,
        )
        with LocalNode(home) as node:
            day = cst_day(now - 86_400)
            node.issue(
                [_penalty(i, day, now - 86_400) for i in range(args.records)], iat=now - 80_000
            )
            report = compile_report(node, COMPANY.id, now, now)
        data = report.to_bytes()
        trust = home.trust()
        times = []
        for _ in range(args.runs):
            t = time.process_time()
            checked = verify_report(data, trust)
            times.append((time.process_time() - t) * 1000)
        assert len(checked.parts[0].records) == args.records
    print(
        f"report of {args.records} records: {len(data)} bytes; verify CPU median "
        f"{statistics.median(times):.1f} ms (min {min(times):.1f}, {args.runs} runs); "
        f"{statistics.median(times) / args.records:.2f} ms per record"
    )


if __name__ == "__main__":
    main()
