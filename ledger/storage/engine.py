"""Engines for the node's databases: one way to open SQLite and PostgreSQL, one error shape.

``open_engine(url, component)`` checks the URL without echoing it (it may hold a
password), refuses in-memory SQLite and unsupported backends, and returns the engine and
its backend name. SQLite file engines run each connection in WAL mode with
``synchronous=FULL`` (a commit is on disk before a call returns), a busy timeout and
foreign keys on; the driver's own transaction handling is turned off and ``BEGIN`` is
emitted here (``BEGIN IMMEDIATE`` for a connection carrying ``WRITE_OPTION``), so a read
sees one snapshot and a write holds the write lock from its first read to its commit.
PostgreSQL engines use the server's default ``synchronous_commit`` and pre-ping.

``storage_error`` turns a driver error into a ``StorageError`` naming the operation and the
driver's first message line; engines run with ``hide_parameters`` so no bound value
reaches a message. This module creates no tables.
"""

from __future__ import annotations

from typing import Any, Final

import psycopg
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from credex.ledger.errors import StorageError

__all__ = ["WRITE_OPTION", "open_engine", "sqlite_engine", "storage_error"]

#: SQLite: how long a writer waits for the lock before failing, in milliseconds
_BUSY_TIMEOUT_MS: Final = 30_000
#: SQLite page cache per connection, in KiB (negative pragma value); the default is 2 MiB
_CACHE_KIB: Final = 32_768
#: SQLite page size of a new database file, in bytes
_PAGE_SIZE: Final = 16_384
#: execution option that makes the SQLite ``begin`` hook take the write lock at once
WRITE_OPTION: Final = "credex_write"
_WRITE: Final = WRITE_OPTION


def storage_error(component: str, what: str, e: SQLAlchemyError | psycopg.Error) -> StorageError:
    """A ``StorageError`` naming the failed operation and the driver's first message line
    (bound parameters are hidden by the engines, so no stored bytes reach the message)."""
    cause: BaseException = e.orig if isinstance(e, DBAPIError) and e.orig is not None else e
    lines = str(cause).strip().splitlines()
    first = lines[0][:200] if lines else ""
    return StorageError(f"{component}: {what} failed: {type(cause).__name__}: {first}")


def sqlite_engine(url: str, component: str = "sql store") -> Engine:
    """A SQLite file engine: WAL, ``synchronous=FULL``, a busy timeout, explicit
    transactions (``BEGIN IMMEDIATE`` for connections with the ``WRITE_OPTION``)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
        raise StorageError(
            f"{component}: in-memory sqlite is not supported: expected a file url like "
            "sqlite:///path/to/log.db"
        )
    # file databases get a QueuePool and check_same_thread=False from the dialect
    engine = create_engine(url, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # no implicit BEGIN; _on_begin emits it
        cur = dbapi_conn.cursor()
        try:
            # a new file gets 16 KiB pages (fewer bytes lost at page ends: docs/storage.md);
            # an existing one keeps its own (the pragma cannot change it in WAL mode)
            cur.execute(f"PRAGMA page_size={_PAGE_SIZE}")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def open_engine(url: str, component: str) -> tuple[Engine, str]:
    """An engine for ``url`` and its backend name (``sqlite`` or ``postgresql``).

    Raises:
        StorageError: malformed URL (not echoed), unsupported backend, in-memory SQLite,
            or a driver that cannot be loaded.
    """
    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError as e:  # the URL may hold a password: do not echo it
        raise StorageError(f"{component}: database url could not be parsed") from e
    try:
        if backend == "sqlite":
            return sqlite_engine(url, component), backend
        if backend == "postgresql":
            return create_engine(url, hide_parameters=True, pool_pre_ping=True), backend
    except (ArgumentError, ImportError) as e:
        raise StorageError(f"{component}: cannot create engine for {backend}") from e
    raise StorageError(
        f"{component}: unsupported backend: expected sqlite or postgresql, got {backend}"
    )
