"""``SqlComponent``: the engine and transaction plumbing shared by the node's side stores.

The witness store and the body store each keep their own tables in the node's database
(SQLite file or PostgreSQL schema). They open an engine the same way as ``SqlStore``
(URL checked without echoing it, SQLite through ``sqlite_engine`` with its write lock,
PostgreSQL with pre-ping), and use the same read and write transactions. Subclasses set
``component`` (the name in error messages) and create their tables in ``_create``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import ClassVar, Self

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from credex.ledger.errors import StorageError
from credex.ledger.storage.sql import WRITE_OPTION, sqlite_engine, storage_error

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
        name = self.component
        try:
            backend = make_url(url).get_backend_name()
        except ArgumentError as e:  # the URL may hold a password: do not echo it
            raise StorageError(f"{name}: database url could not be parsed") from e
        try:
            if backend == "sqlite":
                engine = sqlite_engine(url, name)
            elif backend == "postgresql":
                engine = create_engine(url, hide_parameters=True, pool_pre_ping=True)
            else:
                raise StorageError(
                    f"{name}: unsupported backend: expected sqlite or postgresql, got {backend}"
                )
        except (ArgumentError, ImportError) as e:
            raise StorageError(f"{name}: cannot create engine for {backend}") from e
        self._engine: Engine = engine
        self._backend: str = backend
        self._closed = False
        self._configure(engine)
        try:
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

    def _error(self, what: str, e: SQLAlchemyError) -> StorageError:
        return storage_error(self.component, what, e)

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
