"""Reproduce, without any credex code, why issuing into a SQLite log slows down as the log
grows (issue #13, P9): the log's lookup indexes are B-trees on random keys (4 bytes of the
leaf hash, 4 of the record hash), and once they outgrow the page cache every row a commit
inserts dirties a page of its own, which SQLite's write-ahead log then writes in full.

    python scripts/sqlite_decay.py N [--page-size 16384] [--batch 1024] [--cache-kib 32768]

Builds a scratch database with the ``entries`` layout of ``ledger/storage/tables.py`` and
its SQLite indexes (``STORE_INDEXES``), inserts N rows of a 378-byte statement with random
keys in transactions of ``--batch`` rows (WAL, ``synchronous=FULL``, as a node does), and
prints the insert rate of each tenth of N, the worst tenth over the first, and the bytes a
row takes. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("--page-size", type=int, default=16384)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--cache-kib", type=int, default=32768)
    ap.add_argument("--dir", default=None)
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
        c.execute("CREATE INDEX ix_leaf ON entries (substr(leaf_hash, 1, 4))")
        c.execute("CREATE INDEX ix_record ON entries (record_key) WHERE record_key IS NOT NULL")
        c.execute("CREATE INDEX ix_subject ON entries (subject_key) WHERE subject_key IS NOT NULL")
        rnd = random.Random(1)
        leaf = os.urandom(378)
        window = max(1, a.n // 10)
        rates: list[float] = []
        t0 = time.perf_counter()
        for b in range(0, a.n, a.batch):
            rows = [
                (i, 1_790_000_000, rnd.getrandbits(31), 1, 7, rnd.randbytes(32), leaf)
                for i in range(b, min(a.n, b + a.batch))
            ]
            c.execute("BEGIN")
            c.executemany(
                "INSERT INTO entries (idx, iat, record_key, tag, subject_key, leaf_hash, leaf) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
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
                    "rows_per_s_per_tenth": rates,
                    "worst_over_first": round(min(rates) / rates[0], 3),
                    "bytes_per_row": round(path.stat().st_size / a.n, 1),
                }
            )
        )


if __name__ == "__main__":
    main()
