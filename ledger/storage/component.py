"""``SqlComponent``: the engine and transaction plumbing every SQL store shares.

The log store (``SqlStore``), the witness store and the body store each keep their own
tables in the node's database (SQLite file or PostgreSQL schema). They open their engine
through ``open_engine`` and use the same read and write transactions. Subclasses set
``component`` (the name in error messages), adjust the engine in ``_configure`` and
create their tables in ``_create``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, ClassVar, Self

import psycopg
from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import SQLAlchemyError

from credex.ledger.errors import StorageError
from credex.ledger.storage.engine import WRITE_OPTION, open_engine, storage_error

__all__ = ["SqlComponent"]


class SqlComponent:
    """An engine on one database URL with read / write transactions. Thread-safe: every
    call checks a connection out of the engine's pool."""

    component: ClassVar[str] = "sql component"
    __slots__ = ("_backend", "_closed", "_engine")

    def __init__(self, url: str) -> None:
        """Open the engine and create the component's tables (``_create``).

        Raises:
            StorageError: malformed URL, unsupported backend, in-memory SQLite, or the
                database cannot be reached or initialised.
        """
        engine, backend = open_engine(url, self.component)
        self._engine: Engine = engine
        self._backend: str = backend
        self._closed = False
        try:
            self._configure(engine)
            with self._write() as conn:
                self._create(conn)
        except SQLAlchemyError as e:
            engine.dispose()
            raise self._error("create tables", e) from e
        except StorageError:
            engine.dispose()
            raise

    def _configure(self, engine: Engine) -> None:
        """Hook: adjust the engine before the tables are created (e.g. pragmas)."""

    def _create(self, conn: Connection) -> None:
        """Hook: create the component's tables (``checkfirst``) in one transaction."""

    def _error(self, what: str, e: SQLAlchemyError | psycopg.Error) -> StorageError:
        return storage_error(self.component, what, e)

    def limit_page_cache(self, kib: int) -> None:
        """SQLite: from now on each pooled connection holds at most ``kib`` KiB of pages
        (the engine's default is ``engine._CACHE_KIB``); the idle pooled connections are
        closed, so the next ones open with it. A bulk import calls it before it starts
        (``LocalNode.limit_memory_for_bulk``). PostgreSQL: nothing (the server caches)."""
        if self._backend != "sqlite":
            return
        pragma = f"PRAGMA cache_size=-{int(kib)}"

        def cap(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            try:
                cur.execute(pragma)
            finally:
                cur.close()

        event.listen(self._engine, "connect", cap)  # after the engine's own: it wins
        self._engine.dispose()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        if self._closed:
            raise StorageError(f"{self.component}: read refused: store is closed")
        with self._engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction, committed on normal exit, rolled back on any exception."""
        if self._closed:
            raise StorageError(f"{self.component}: write refused: store is closed")
        with self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn
