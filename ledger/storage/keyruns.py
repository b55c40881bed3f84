"""SQLite: the log's lookup keys in two levels, so that appending keeps its rate however
large the log grows (issue #13, P9; ``docs/scale.md``, ``docs/storage.md``).

A log is looked up by three keys of 4 bytes each: its leaf hash's first bytes (is this
statement logged, and where), its record key (is this record logged: an import run
again) and its subject key (the entries about one company or person). All three are
random. Kept as B-tree indexes on ``entries``, every appended row lands on a random leaf
page of each; once the indexes outgrow the page cache (about 10^6 entries) each row
dirties pages of its own, and SQLite's write-ahead log writes every dirtied page whole
(16 KiB) at each commit and again at the checkpoint: issuing fell from 11,688 to 6,006
entries/s over a 10^7-entry build.

Here each kind of key has two tables of ``(key, idx)`` rows (``tables.KEY_TABLES``):
appends add to the small ``*_keys_new`` table (2^16 to 2^19 entries' keys, growing with
the log: ``merge_after``; it stays in the page cache), and once it holds that many the
append that crossed the line moves them into the main ``*_keys`` table in key order, in
the same transaction: one pass over the main table's pages per merge instead of a random
page per key. ``key_runs.merged`` is the log size up to which keys are in the
main tables. Lookups read both tables in one statement (one snapshot: a reader sees each
key in exactly one of them).

``entries`` keeps its ``record_key`` and ``subject_key`` columns (and ``leaf_hash``), so
the key tables can always be rebuilt from it: a database written with the earlier layout
(the three keys as indexes on ``entries``), or written to by an earlier credex since, is
converted when opened: the main tables are refilled from ``entries`` in key order and
the three indexes dropped, in one transaction (nothing changes if it fails).
PostgreSQL keeps its indexes: its write-ahead log records tuples, not pages, and does
not decay this way (``docs/scale.md``).
"""

from __future__ import annotations

import math
from typing import Final

from sqlalchemy import Connection, Table

from credex.ledger.storage.tables import KEY_RUNS, KEY_TABLES

__all__ = [
    "EARLIER_INDEXES",
    "KINDS",
    "MERGE_FACTOR",
    "MERGE_MAX",
    "MERGE_MIN",
    "add_keys",
    "create",
    "merge_after",
    "merged",
    "union",
]

#: the new-key tables are merged into the main ones once they hold the keys of
#: ``merge_after(merged)`` entries: ``sqrt(MERGE_FACTOR * merged)`` between ``MERGE_MIN``
#: and ``MERGE_MAX``. Each commit rewrites the pages of the new tables it touches (a cost
#: a row that grows with their size) and each merge rewrites the main tables once (a
#: cost a row that grows with ``merged / size of the merge``); the square root balances
#: the two, so the cost a row grows as the square root of the log, not with it. The
#: factor is fitted to ``scripts/sqlite_decay.py --lsm`` at 5 x 10^6 rows (docs/scale.md);
#: at the maximum the three new tables hold about 24 MiB, inside the 32 MiB page cache
MERGE_MIN: Final = 1 << 16
MERGE_MAX: Final = 1 << 19
MERGE_FACTOR: Final = 4096
#: the kinds of key (``tables.KEY_TABLES``)
KINDS: Final = ("leaf", "record", "subject")
#: the indexes on ``entries`` that held these keys before (dropped when converting)
EARLIER_INDEXES: Final = ("ix_entries_leaf_key", "ix_entries_record_key", "ix_entries_subject_key")
#: how each kind of key is read from ``entries`` (as the earlier indexes did)
_KEY_SQL: Final = {
    "leaf": "substr(leaf_hash, 1, 4)",
    "record": "record_key",
    "subject": "subject_key",
}


def _tables() -> list[Table]:
    return [t for pair in KEY_TABLES.values() for t in pair]


def create(conn: Connection, indexes: set[str]) -> None:
    """Create the key tables if missing (SQLite, inside the caller's write transaction),
    and fill them from ``entries`` when they are new or when ``indexes`` (the entries
    table's) holds the earlier layout's: a database from before them, or one an earlier
    credex has written to since (it appends to ``entries`` and its indexes only). The
    earlier indexes are then dropped."""
    for table in (KEY_RUNS, *_tables()):
        table.create(conn, checkfirst=True)
    earlier = [name for name in EARLIER_INDEXES if name in indexes]
    fresh = conn.exec_driver_sql("SELECT count(*) FROM key_runs").scalar_one() == 0
    if not (earlier or fresh):
        return
    conn.exec_driver_sql("DELETE FROM key_runs")
    for kind, (main, new) in KEY_TABLES.items():
        col = _KEY_SQL[kind]
        conn.exec_driver_sql(f"DELETE FROM {main.name}")
        conn.exec_driver_sql(f"DELETE FROM {new.name}")
        conn.exec_driver_sql(
            f"INSERT INTO {main.name} (key, idx) SELECT {col}, idx FROM entries "
            f"WHERE {col} IS NOT NULL ORDER BY 1, 2"
        )
    size = conn.exec_driver_sql("SELECT coalesce(max(idx) + 1, 0) FROM entries").scalar_one()
    conn.exec_driver_sql("INSERT INTO key_runs (id, merged) VALUES (1, ?)", (int(size),))
    for name in earlier:
        conn.exec_driver_sql(f"DROP INDEX {name}")


def merged(conn: Connection) -> int:
    """The log size up to which the keys are in the main tables."""
    return int(conn.exec_driver_sql("SELECT merged FROM key_runs WHERE id = 1").scalar_one())


def merge_after(merged: int) -> int:
    """How many entries' keys the new-key tables gather before they are merged into main
    tables that hold ``merged`` entries' keys."""
    return min(MERGE_MAX, max(MERGE_MIN, math.isqrt(MERGE_FACTOR * merged)))


def add_keys(conn: Connection, start: int, size: int) -> bool:
    """Add the keys of the entries ``start`` to ``size - 1``, just inserted by the
    caller's write transaction, to the new-key tables (read back from ``entries`` by SQL:
    no row crosses into Python); merge them into the main tables once they hold
    ``merge_after`` entries' keys. True when it merged."""
    for kind, (_main, new) in KEY_TABLES.items():
        col = _KEY_SQL[kind]
        conn.exec_driver_sql(
            f"INSERT INTO {new.name} (key, idx) SELECT {col}, idx FROM entries "
            f"WHERE idx >= ? AND {col} IS NOT NULL",
            (start,),
        )
    done = merged(conn)
    if size - done < merge_after(done):
        return False
    for main, new in KEY_TABLES.values():
        conn.exec_driver_sql(
            f"INSERT INTO {main.name} (key, idx) SELECT key, idx FROM {new.name} ORDER BY key, idx"
        )
        conn.exec_driver_sql(f"DELETE FROM {new.name}")
    conn.exec_driver_sql("UPDATE key_runs SET merged = ? WHERE id = 1", (size,))
    return True


def union(kind: str, n: int) -> str:
    """SQL of the ``(key, idx)`` rows of ``kind`` whose key is one of ``n`` bound
    parameters, from both tables (bind the keys twice)."""
    marks = ", ".join("?" for _ in range(n))
    main, new = KEY_TABLES[kind]
    return (
        f"SELECT key, idx FROM {main.name} WHERE key IN ({marks}) "
        f"UNION ALL SELECT key, idx FROM {new.name} WHERE key IN ({marks})"
    )
