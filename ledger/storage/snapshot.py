"""Consistent copies of a node's database as one SQLite file, and back (backup, restore).

- ``snapshot(url, path)``: every credex table of the database at ``url`` (the log, the
  witness store, the bodies) into a new SQLite file. From SQLite with the online backup
  API (one consistent copy while the node runs); from PostgreSQL with plain SELECTs in
  one ``REPEATABLE READ`` read-only transaction (one snapshot of every table, no
  ``pg_dump`` needed), rows written into the same tables on SQLite.
- ``restore(path, url)``: a snapshot into an empty database: SQLite by the backup API,
  PostgreSQL by creating the tables and inserting the rows in one transaction.

Only the tables ``tables.py`` declares are copied; a snapshot is a SQLite file of those
tables, whatever the source. This module checks nothing about the tree: the caller
verifies a restored log against its last checkpoint.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, insert, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from credex.ledger.errors import StorageError
from credex.ledger.merkle import leaf_hash
from credex.ledger.storage.engine import open_engine, storage_error
from credex.ledger.storage.index_store import INDEX_NODES, INDEX_ROOTS, INDEX_STALE
from credex.ledger.storage.receipts import RECEIPT_SIGNATURES
from credex.ledger.storage.tables import (
    BODIES,
    DERIVATIONS,
    ENTRIES,
    LOG_TABLES,
    WITNESS_TABLES,
    entries_table,
)

__all__ = ["SNAPSHOT_TABLES", "restore", "snapshot"]

#: every table a node's own database may hold, in creation order: the log (with the
#: receipt signature kept per checkpoint and the verifiable index), the witness store,
#: the bodies and the sources of derived records
SNAPSHOT_TABLES: Final = (
    *LOG_TABLES,
    RECEIPT_SIGNATURES,
    INDEX_NODES,
    INDEX_ROOTS,
    INDEX_STALE,
    *WITNESS_TABLES,
    BODIES,
    DERIVATIONS,
)
_BATCH: Final = 2000


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    return Path(parsed.database or "") if parsed.get_backend_name() == "sqlite" else None


def _backup_file(src: Path, dst: Path) -> None:
    """SQLite's online backup API: a consistent copy of ``src`` while writers run."""
    source = sqlite3.connect(src)
    try:
        target = sqlite3.connect(dst)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _copy(src: Engine, dst: Engine, tables: Sequence[str], *, snapshot_read: bool) -> int:
    """Rows of ``tables`` from ``src`` into ``dst`` (tables created there), one read
    transaction and one write transaction. Returns the number of rows."""
    rows = 0
    read = src.connect()
    if snapshot_read:
        read = read.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    try:
        with read.begin(), dst.begin() as write:
            for table in SNAPSHOT_TABLES:
                if table.name not in tables:
                    continue
                made = entries_table(dst.dialect.name) if table is ENTRIES else table
                made.create(write, checkfirst=True)
                result = read.execute(select(table)).yield_per(_BATCH)
                for chunk in result.partitions():
                    batch = [dict(r._mapping) for r in chunk]
                    if table is ENTRIES:
                        _entry_hashes(batch, dst.dialect.name == "postgresql")
                    write.execute(insert(table), batch)
                    rows += len(chunk)
    finally:
        read.close()
    return rows


def _entry_hashes(rows: list[dict[str, Any]], on_postgresql: bool) -> None:
    """``leaf_hash`` as each backend keeps it: SQLite stores it, PostgreSQL hashes the
    leaf when read (``sql.py``) and keeps NULL (no bytes)."""
    for row in rows:
        row["leaf_hash"] = None if on_postgresql else leaf_hash(row["leaf"])


def snapshot(url: str, path: Path) -> None:
    """A consistent copy of the credex tables at ``url`` as a new SQLite file ``path``.

    Raises:
        StorageError: ``path`` exists, or the database cannot be read.
    """
    if path.exists():
        raise StorageError(f"snapshot: target exists: {path}")
    src_file = _sqlite_file(url)
    try:
        if src_file is not None:
            _backup_file(src_file, path)
            return
        src, _ = open_engine(url, "snapshot")
        dst = create_engine(f"sqlite:///{path}")
        try:
            present = set(inspect(src).get_table_names())
            names = [t.name for t in SNAPSHOT_TABLES if t.name in present]
            _copy(src, dst, names, snapshot_read=True)
        finally:
            src.dispose()
            dst.dispose()
    except (SQLAlchemyError, sqlite3.Error) as e:
        path.unlink(missing_ok=True)
        if isinstance(e, SQLAlchemyError):
            raise storage_error("snapshot", "copy", e) from e
        raise StorageError(f"snapshot: copy failed: {type(e).__name__}: {e}") from e


def restore(path: Path, url: str) -> int:
    """The snapshot ``path`` into the empty database at ``url``; returns rows copied
    (0 for a SQLite file restored whole by the backup API).

    Raises:
        StorageError: the target already holds a log, or a copy failed.
    """
    dst_file = _sqlite_file(url)
    try:
        if dst_file is not None:
            if dst_file.exists():
                raise StorageError(f"restore: target database exists: {dst_file}")
            _backup_file(path, dst_file)
            return 0
        dst, _ = open_engine(url, "restore")
        src = create_engine(f"sqlite:///{path}")
        try:
            if "entries" in set(inspect(dst).get_table_names()):
                raise StorageError("restore: target database already holds a log (entries)")
            present = set(inspect(src).get_table_names())
            names = [t.name for t in SNAPSHOT_TABLES if t.name in present]
            return _copy(src, dst, names, snapshot_read=False)
        finally:
            src.dispose()
            dst.dispose()
    except SQLAlchemyError as e:
        raise storage_error("restore", "copy", e) from e
    except sqlite3.Error as e:
        raise StorageError(f"restore: copy failed: {type(e).__name__}: {e}") from e
