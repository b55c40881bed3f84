"""CPU time per item of the pure parts of a durable submit (issue #13, P2): statement
parsing with record validation (``Statement.from_bytes``), and receipts for a batch
(``build_receipts`` + ``Receipt.to_bytes``). A measurement, not a test: run it by hand.

    python scripts/bench_submit_cpu.py [--n 4096] [--batch 128] [--reps 7] [--profile]

CPU time (``time.process_time``) is reported, the best of ``reps`` rounds, so other
load on the machine counts as little as possible; compare two versions interleaved.
``--profile`` prints the top of a cProfile of one round of each.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import time
from collections.abc import Callable

from credex.ledger.keys import SigningKey
from credex.ledger.receipt import build_receipts
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement, sign_statement

T0 = 1_780_000_000
ORG = "91330100MA0YX0016X"


def _records(n: int) -> list[Record]:
    """P2's records (score.city), every fourth an administrative penalty."""
    out = []
    for i in range(n):
        if i % 4 == 3:
            body: dict[str, object] = {
                "decision_no": f"杭市监罚〔2026〕{i}号",
                "decision_date": "2026-10-01",
                "penalty_types": ["罚款"],
                "content": "罚款人民币5000元",
                "authority": "杭州市市场监督管理局",
                "authority_uscc": "11330100002482970J",
                "subject_name": "杭州示例科技有限公司",
                "fine_wan": "0.5",
                "basis": "《中华人民共和国产品质量法》第四十九条",
            }
            out.append(Record("penalty.admin", "cn-zj-hangzhou", Subject("org", ORG), body, T0))
        else:
            body = {
                "scheme": "HANGZHOU_QIANJIANG",
                "score": 500 + i % 400,
                "band": "良好",
                "as_of": "2026-11-01",
                "level": "L3",
            }
            out.append(Record("score.city", "cn-zj-hangzhou", Subject("org", ORG), body, T0 + i))
    return out


def _best(fn: Callable[[], None], reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t = time.process_time()
        fn()
        best = min(best, time.process_time() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    key = SigningKey(os.urandom(32))
    signed = [sign_statement(r, "iss", key, T0).to_bytes() for r in _records(args.n)]
    payloads = [Statement.from_bytes(d).payload for d in signed]
    size = 1 << 20
    path = [os.urandom(32) for _ in range(20)]
    root = os.urandom(32)
    batches = [
        [(i, path) for i in range(start, start + args.batch)]
        for start in range(0, args.n, args.batch)
    ]

    def statements() -> None:
        for d in signed:
            Statement.from_bytes(d)

    def records() -> None:
        for p in payloads:
            Record.from_bytes(p)

    def receipts() -> None:
        for b in batches:
            for r in build_receipts(key, size, root, b):
                r.to_bytes()

    work = {"statement": statements, "record": records, "receipt": receipts}
    if args.profile:
        for name, fn in work.items():
            print(f"--- {name}")
            prof = cProfile.Profile()
            prof.runcall(fn)
            pstats.Stats(prof).sort_stats("tottime").print_stats(12)
    out = {name: _best(fn, args.reps) / args.n * 1e6 for name, fn in work.items()}
    print(json.dumps({f"{k}_us_cpu_per_item": round(v, 2) for k, v in out.items()}))


if __name__ == "__main__":
    main()
