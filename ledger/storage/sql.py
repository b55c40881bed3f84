"""``SqlStore``: the ``LogStore`` on SQLite (the embedded default) or PostgreSQL.

One class for both backends through SQLAlchemy dialects, on the shared ``SqlComponent``
(engine and transactions: ``engine.py``). The ORM is never used. The hot paths avoid
SQLAlchemy's per-row work, which costs more than the database itself here:

- ``append`` hands plain tuples, in the column order of the SQLModel-described ``Table``, to
  the driver in bulk, inside a SQLAlchemy transaction: one ``executemany`` per table on
  SQLite, one binary ``COPY ... FROM STDIN`` per table on PostgreSQL (about 3x faster
  than psycopg's per-row ``executemany``; same constraints, same transaction).
- ``find_indices`` and ``get_nodes`` are cached Core statements with expanding ``IN``
  parameters, in chunks of bounded size; ``get_nodes`` is one round trip per chunk, a
  primary-key lookup per level.

Backends:

- SQLite, by file URL (``sqlite:///path/to/log.db``), WAL and ``synchronous=FULL`` (a
  commit is on disk before ``append`` returns); a write holds the write lock from its size
  check to its commit (``engine.py``). In-memory SQLite is refused: it cannot be shared
  between the threads of the log.
- PostgreSQL, by ``postgresql+psycopg://...`` URL, with the server's default
  ``synchronous_commit``. A schema can be chosen in the URL:
  ``?options=-csearch_path%3Dmyschema``.

Tables are created if missing. Every database error becomes ``StorageError`` (``raise ...
from e``) whose message names the operation and the driver's first message line; engines run
with ``hide_parameters`` so no bound value (leaf bytes) reaches an error message or traceback.

This module does not sequence entries, hash, or check roots: ``log.py`` does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Final, TypeVar

import psycopg
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    Connection,
    Engine,
    LargeBinary,
    Select,
    SmallInteger,
    Table,
    Text,
    and_,
    bindparam,
    func,
    insert,
    inspect,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy import update as sa_update
from sqlalchemy.exc import SQLAlchemyError

from credex.ledger.errors import LogMovedError, StorageError
from credex.ledger.merkle import NodeId
from credex.ledger.storage.base import Entry, NewEntry, StoredCheckpoint
from credex.ledger.storage.component import SqlComponent
from credex.ledger.storage.tables import (
    CHECKPOINTS,
    DECISION_NUMBERS,
    ENTRIES,
    LOG_TABLES,
    NODES,
)

__all__ = ["SqlStore"]

#: bound parameters per IN list: below SQLite's 32766 and PostgreSQL's 65535 limits
_CHUNK: Final = 4096

_T = TypeVar("_T")

_E = ENTRIES.c
_N = NODES.c
_D = DECISION_NUMBERS.c
_C = CHECKPOINTS.c
_SIZE: Final = select(func.coalesce(func.max(_E.idx) + 1, 0))
#: PostgreSQL type of each column type used by the tables, for binary COPY
_PG_COPY_TYPES: Final[dict[type[Any], str]] = {
    BigInteger: "int8",
    SmallInteger: "int2",
    LargeBinary: "bytea",
    Text: "text",
}
_FIND: Final = select(_E.leaf_hash, _E.idx).where(
    _E.leaf_hash.in_(bindparam("hashes", expanding=True))
)
_FIND_RECORD: Final = select(_E.record_hash, _E.idx, _E.leaf_hash).where(
    _E.record_hash.in_(bindparam("hashes", expanding=True))
)
_CP_SELECT: Final = select(_C.tree_size, _C.root, _C.note, _C.created_at)
_ENTRY_SELECT: Final = select(_E.idx, _E.leaf_hash, _E.leaf, _E.kind, _E.issuer, _E.iat)


def _below(end: int) -> ColumnElement[bool]:
    """``idx < end`` for the index lookups (by subject, target, decision number), written
    so that no planner answers it from the primary key: ``idx + 0`` is not an indexed
    column, so the lookup stays on the selective index with this as a filter (PostgreSQL
    with stale statistics otherwise ANDs a bitmap of the whole primary-key range: 0.3 s
    at 10^6 entries)."""
    return (_E.idx + 0) < end


#: index columns added after the first release: (name, SQLite type, PostgreSQL type)
_INDEX_COLUMNS: Final = (("subject", "TEXT", "text"), ("target", "BLOB", "bytea"))


def _add_index_columns(conn: Connection) -> None:
    """Bring a database made before ``subject`` / ``target`` existed up to date: add the
    columns and their indexes. Entries appended before stay unindexed (NULL): a node
    that predates them re-imports or re-syncs into a fresh database to index them."""
    have = {c["name"] for c in inspect(conn).get_columns(ENTRIES.name)}
    pg = conn.dialect.name == "postgresql"
    for name, sqlite_type, pg_type in _INDEX_COLUMNS:
        if name in have:
            continue
        col_type = pg_type if pg else sqlite_type
        conn.execute(text(f"ALTER TABLE {ENTRIES.name} ADD COLUMN {name} {col_type}"))
        conn.execute(text(f"CREATE INDEX ix_{ENTRIES.name}_{name} ON {ENTRIES.name} ({name})"))


def _chunks(items: Sequence[_T], size: int = _CHUNK) -> Iterator[Sequence[_T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


@functools.cache
def _nodes_stmt(levels: int) -> CompoundSelect[int, int, bytes]:
    """Leaf hashes ``:leaves`` from ``entries`` plus, from ``nodes``, level ``:l<k>`` at
    indices ``:i<k>`` for ``k < levels``: one round trip, each part a primary-key lookup.

    One cached statement per number of levels (at most 64), so SQLAlchemy compiles each
    shape once. No ``tuple_(level, idx).in_(...)``: SQLite scans the whole table for that.
    """
    leaves = select(literal(0, SmallInteger), _E.idx, _E.leaf_hash).where(
        _E.idx.in_(bindparam("leaves", expanding=True))
    )
    if not levels:
        return union_all(leaves)
    by_level = [
        and_(_N.level == bindparam(f"l{k}"), _N.idx.in_(bindparam(f"i{k}", expanding=True)))
        for k in range(levels)
    ]
    return union_all(leaves, select(_N.level, _N.idx, _N.hash).where(or_(*by_level)))


def _columns(conn: Connection, table: Table) -> tuple[str, str]:
    """The quoted table name and its quoted column list, in declared order."""
    quote = conn.dialect.identifier_preparer.quote
    return quote(table.name), ", ".join(quote(c.name) for c in table.columns)


def _executemany_rows(conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """SQLite: one ``executemany`` of a positional ``INSERT`` (sqlite3's ``?`` marks)."""
    name, cols = _columns(conn, table)
    marks = ", ".join("?" for _ in table.columns)
    conn.exec_driver_sql(f"INSERT INTO {name} ({cols}) VALUES ({marks})", rows)


def _copy_rows(conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """PostgreSQL: binary ``COPY ... FROM STDIN`` on the transaction's own connection.

    About 3x faster than psycopg's pipelined ``executemany`` (one Bind/Execute per
    row); constraints and the transaction behave exactly as for ``INSERT``.
    """
    name, cols = _columns(conn, table)
    types = [_PG_COPY_TYPES[type(c.type)] for c in table.columns]
    raw = conn.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


class SqlStore(SqlComponent):
    """A ``LogStore`` in one SQLite file or one PostgreSQL database (schema).

    Thread-safe: every call checks a connection out of the engine's pool. ``close`` disposes
    of the pool. Opening it (``SqlStore(url)``) creates the log tables if needed and raises
    ``StorageError`` for a malformed URL, an unsupported backend, in-memory SQLite, or a
    database that cannot be reached or initialised.
    """

    component: ClassVar[str] = "sql store"
    __slots__ = ("_insert", "_read_options")

    def _configure(self, engine: Engine) -> None:
        self._insert = _copy_rows if self._backend == "postgresql" else _executemany_rows
        # PostgreSQL reads run without BEGIN/ROLLBACK round trips (each read is one statement
        # per chunk over immutable rows); SQLite reads keep the BEGIN of the engine's hook
        # (one WAL snapshot, and SQLAlchemy's AUTOCOMMIT would leave that BEGIN open)
        self._read_options: dict[str, Any] = (
            {"isolation_level": "AUTOCOMMIT"} if self._backend == "postgresql" else {}
        )

    def _create(self, conn: Connection) -> None:
        for table in LOG_TABLES:
            table.create(conn, checkfirst=True)
        _add_index_columns(conn)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        if self._closed:
            raise StorageError("sql store: read refused: store is closed")
        with self._engine.connect() as conn:
            if self._read_options:
                conn.execution_options(**self._read_options)
            yield conn

    # -- LogStore ----------------------------------------------------------------------------

    def size(self) -> int:
        try:
            with self._read() as conn:
                return int(conn.execute(_SIZE).scalar_one())
        except SQLAlchemyError as e:
            raise self._error("size", e) from e

    def append(
        self,
        start_index: int,
        entries: Sequence[NewEntry],
        nodes: Sequence[tuple[NodeId, bytes]],
        extra: Callable[[Connection], None] | None = None,
    ) -> None:
        # positional tuples in table column order, handed to the driver in bulk: SQLAlchemy's
        # per-row parameter processing would cost more than the database itself
        entry_rows = [
            (i, e.leaf_hash, e.leaf, e.kind, e.issuer, e.iat, e.record_hash, e.subject, e.target)
            for i, e in enumerate(entries, start_index)
        ]
        node_rows = [(nid[0], nid[1], h) for nid, h in nodes]
        decision_rows = [
            (e.decision_no, i)
            for i, e in enumerate(entries, start_index)
            if e.decision_no is not None
        ]
        try:
            with self._write() as conn:
                size = int(conn.execute(_SIZE).scalar_one())
                if size != start_index:
                    raise LogMovedError(
                        f"sql store: append refused: expected start index {size}, got {start_index}"
                    )
                if entry_rows:
                    self._insert(conn, ENTRIES, entry_rows)
                if node_rows:
                    self._insert(conn, NODES, node_rows)
                if decision_rows:
                    self._insert(conn, DECISION_NUMBERS, decision_rows)
                if extra is not None:  # the index versions of this batch (log_index.py)
                    extra(conn)
        except (SQLAlchemyError, psycopg.Error) as e:
            raise self._error("append", e) from e

    def _lookup(self, stmt: Select[Any], hashes: Collection[bytes], what: str) -> dict[bytes, int]:
        """Run a ``(hash, index)`` query over ``hashes`` in chunks of bound parameters."""
        wanted = list(hashes)
        out: dict[bytes, int] = {}
        if not wanted:
            return out
        try:
            with self._read() as conn:
                for chunk in _chunks(wanted):
                    out.update((h, int(i)) for h, i in conn.execute(stmt, {"hashes": chunk}))
        except SQLAlchemyError as e:
            raise self._error(what, e) from e
        return out

    def find_indices(self, leaf_hashes: Collection[bytes]) -> dict[bytes, int]:
        return self._lookup(_FIND, leaf_hashes, "find indices")

    def find_records(self, record_hashes: Collection[bytes]) -> dict[bytes, tuple[int, bytes]]:
        wanted = list(record_hashes)
        out: dict[bytes, tuple[int, bytes]] = {}
        try:
            with self._read() as conn:
                for chunk in _chunks(wanted):
                    for h, i, lh in conn.execute(_FIND_RECORD, {"hashes": chunk}):
                        if h not in out or int(i) < out[h][0]:
                            out[h] = (int(i), lh)
        except SQLAlchemyError as e:
            raise self._error("find records", e) from e
        return out

    def _find(self, stmt: Select[Any], what: str) -> list[Entry]:
        try:
            with self._read() as conn:
                return [Entry(*row) for row in conn.execute(stmt.order_by(_E.idx))]
        except SQLAlchemyError as e:
            raise self._error(what, e) from e

    def find_by_subject(
        self, subject: str, kinds: Collection[str] | None = None, end: int | None = None
    ) -> list[Entry]:
        stmt = _ENTRY_SELECT.where(_E.subject == subject)
        if kinds is not None:
            stmt = stmt.where(_E.kind.in_(list(kinds)))
        if end is not None:
            stmt = stmt.where(_below(end))
        return self._find(stmt, "find by subject")

    def find_by_target(self, target: bytes, end: int | None = None) -> list[Entry]:
        stmt = _ENTRY_SELECT.where(_E.target == target)
        if end is not None:
            stmt = stmt.where(_below(end))
        return self._find(stmt, "find by target")

    def find_by_kind(self, kinds: Collection[str], end: int | None = None) -> list[Entry]:
        stmt = _ENTRY_SELECT.where(_E.kind.in_(list(kinds)))
        if end is not None:
            stmt = stmt.where(_below(end))
        return self._find(stmt, "find by kind")

    def find_by_decision_no(self, decision_no: str, end: int | None = None) -> list[Entry]:
        stmt = _ENTRY_SELECT.join(DECISION_NUMBERS, _D.idx == _E.idx).where(
            _D.decision_no == decision_no
        )
        if end is not None:
            stmt = stmt.where(_below(end))
        return self._find(stmt, "find by decision number")

    def get_entries(self, start: int, end: int) -> list[Entry]:
        if end <= start:
            return []
        stmt = _ENTRY_SELECT.where(_E.idx >= start, _E.idx < end).order_by(_E.idx)
        try:
            with self._read() as conn:
                return [Entry(*row) for row in conn.execute(stmt)]
        except SQLAlchemyError as e:
            raise self._error("get entries", e) from e

    def get_nodes(self, ids: Collection[NodeId]) -> dict[NodeId, bytes]:
        out: dict[NodeId, bytes] = {}
        try:
            with self._read() as conn:
                for chunk in _chunks(list(ids)):
                    by_level: dict[int, list[int]] = {}
                    for level, i in chunk:
                        by_level.setdefault(level, []).append(i)
                    params: dict[str, Any] = {"leaves": by_level.pop(0, [])}
                    for k, (level, idxs) in enumerate(by_level.items()):
                        params[f"l{k}"] = level
                        params[f"i{k}"] = idxs
                    stmt = _nodes_stmt(len(by_level))
                    out.update(((lv, i), h) for lv, i, h in conn.execute(stmt, params))
        except SQLAlchemyError as e:
            raise self._error("get nodes", e) from e
        return out

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        cp = checkpoint
        try:
            with self._write() as conn:
                found = conn.execute(
                    select(_C.tree_size).where(_C.tree_size == cp.tree_size)
                ).first()
                if found is None:
                    conn.execute(
                        insert(CHECKPOINTS).values(
                            tree_size=cp.tree_size,
                            root=cp.root,
                            note=cp.note,
                            created_at=cp.created_at,
                        )
                    )
                else:
                    conn.execute(  # created_at stays: when this size was first recorded
                        sa_update(CHECKPOINTS)
                        .where(_C.tree_size == cp.tree_size)
                        .values(note=cp.note)
                    )
        except SQLAlchemyError as e:
            raise self._error("add checkpoint", e) from e

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        stmt = _CP_SELECT.order_by(_C.tree_size.desc()).limit(1)
        return self._checkpoint(stmt, "latest")

    def get_checkpoint(self, tree_size: int) -> StoredCheckpoint | None:
        return self._checkpoint(_CP_SELECT.where(_C.tree_size == tree_size), "get")

    def list_checkpoints(self, limit: int, below: int | None = None) -> list[StoredCheckpoint]:
        """Up to ``limit`` recorded checkpoints, largest size first (sizes below ``below``
        when given): the checkpoint history a log explorer pages through."""
        stmt = _CP_SELECT.order_by(_C.tree_size.desc()).limit(max(0, limit))
        if below is not None:
            stmt = stmt.where(_C.tree_size < below)
        try:
            with self._read() as conn:
                return [StoredCheckpoint(*row) for row in conn.execute(stmt)]
        except SQLAlchemyError as e:
            raise self._error("list checkpoints", e) from e

    def checkpoints_around(
        self, index: int
    ) -> tuple[StoredCheckpoint | None, StoredCheckpoint | None]:
        before = _CP_SELECT.where(_C.tree_size <= index).order_by(_C.tree_size.desc()).limit(1)
        after = _CP_SELECT.where(_C.tree_size > index).order_by(_C.tree_size.asc()).limit(1)
        return self._checkpoint(before, "before"), self._checkpoint(after, "after")

    def _checkpoint(self, stmt: Select[Any], what: str) -> StoredCheckpoint | None:
        try:
            with self._read() as conn:
                row = conn.execute(stmt).first()
        except SQLAlchemyError as e:
            raise self._error(f"{what} checkpoint", e) from e
        return None if row is None else StoredCheckpoint(*row)
