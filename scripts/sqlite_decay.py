"""Reproduce, without any credex code, why issuing into a SQLite log slows down as the log
grows (issue #13, P9): the log's lookup indexes are B-trees on random keys (4 bytes of the
leaf hash, 4 of the record hash), and once they outgrow the page cache every row a commit
inserts dirties a page of its own, which SQLite's write-ahead log then writes in full.

    python scripts/sqlite_decay.py N [--page-size 16384] [--batch 1024] [--cache-kib 32768]
        [--lsm R | --lsm -1]

Builds a scratch database with the ``entries`` layout of ``ledger/storage/tables.py`` and
the three random-key indexes credex kept on it before issue #13's fix (or, with
``--lsm``, the fix's two-level key tables of ``ledger/storage/keyruns.py``), inserts N
rows of a 378-byte statement with random keys in transactions of ``--batch`` rows (WAL,
``synchronous=FULL``, as a node does), and prints the insert rate of each tenth of N,
the worst tenth over the first, and the bytes a row takes. Not a test: nothing is
asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sqlite3
import tempfile
import time
from pathlib import Path

T0 = 1_790_000_000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--page-size", type=int, default=16384)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--cache-kib", type=int, default=32768)
    ap.add_argument("--dir", default=None)
    ap.add_argument(
        "--lsm",
        type=int,
        default=0,
        help="R > 0: no indexes on entries; keys go to small 'new' tables merged into the "
        "main lookup tables in key order every R rows (ledger/storage/keyruns.py); -1: "
        "every sqrt(4096 * merged) rows between 2^16 and 2^19, as keyruns.merge_after",
    )
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=a.dir) as tmp:
        path = Path(tmp) / "decay.db"
        c = sqlite3.connect(path, isolation_level=None)
        for pragma in (
            f"page_size={a.page_size}",
            "journal_mode=WAL",
            "synchronous=FULL",
            f"cache_size=-{a.cache_kib}",
        ):
            c.execute(f"PRAGMA {pragma}")
        c.execute(
            "CREATE TABLE entries (idx INTEGER PRIMARY KEY, iat BIGINT NOT NULL, "
            "record_key INTEGER, tag INTEGER NOT NULL, subject_key INTEGER, leaf_hash BLOB, "
            "leaf BLOB NOT NULL, target BLOB)"
        )
        names = ("leaf", "record", "subject")
        if a.lsm:
            for name in names:
                for t in (f"{name}_keys", f"{name}_keys_recent"):
                    c.execute(
                        f"CREATE TABLE {t} (key INTEGER NOT NULL, idx INTEGER NOT NULL, "
                        "PRIMARY KEY (key, idx)) WITHOUT ROWID"
                    )
        else:
            c.execute("CREATE INDEX ix_leaf ON entries (substr(leaf_hash, 1, 4))")
            c.execute("CREATE INDEX ix_record ON entries (record_key) WHERE record_key IS NOT NULL")
            c.execute(
                "CREATE INDEX ix_subject ON entries (subject_key) WHERE subject_key IS NOT NULL"
            )
        merged = 0
        rnd = random.Random(1)
        leaf = os.urandom(378)
        window = max(1, a.n // 10)
        rates: list[float] = []
        t0 = time.perf_counter()
        for b in range(0, a.n, a.batch):
            end = min(a.n, b + a.batch)
            rows = [
                (i, T0, rnd.getrandbits(31), 1, rnd.getrandbits(31), rnd.randbytes(32), leaf)
                for i in range(b, end)
            ]
            c.execute("BEGIN")
            c.executemany(
                "INSERT INTO entries (idx, iat, record_key, tag, subject_key, leaf_hash, leaf) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            if a.lsm:
                keyed = (
                    [(int.from_bytes(r[5][:4], "big", signed=True), r[0]) for r in rows],
                    [(r[2], r[0]) for r in rows],
                    [(r[4], r[0]) for r in rows],
                )
                for name, ks in zip(names, keyed, strict=True):
                    c.executemany(f"INSERT INTO {name}_keys_recent VALUES (?, ?)", ks)
                every = a.lsm
                if every < 0:
                    every = min(1 << 19, max(1 << 16, math.isqrt(4096 * merged)))
                if end - merged >= every:
                    for name in names:
                        c.execute(
                            f"INSERT INTO {name}_keys SELECT key, idx FROM {name}_keys_recent "
                            "ORDER BY key, idx"
                        )
                        c.execute(f"DELETE FROM {name}_keys_recent")
                    merged = end
            c.execute("COMMIT")
            if (b + a.batch) // window != b // window:
                t = time.perf_counter()
                rates.append(round(window / (t - t0)))
                t0 = t
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        c.close()
        print(
            json.dumps(
                {
                    "page_size": a.page_size,
                    "batch": a.batch,
                    "cache_kib": a.cache_kib,
                    "lsm": a.lsm,
                    "rows_per_s_per_tenth": rates,
                    "worst_over_first": round(min(rates) / rates[0], 3),
                    "bytes_per_row": round(path.stat().st_size / a.n, 1),
                }
            )
        )


if __name__ == "__main__":
    main()
