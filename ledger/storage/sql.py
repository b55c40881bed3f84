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

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Final, TypeVar

import psycopg
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Engine,
    Integer,
    LargeBinary,
    Select,
    SmallInteger,
    Table,
    Text,
    bindparam,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy import update as sa_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from credex.ledger.errors import LogMovedError, StorageError
from credex.ledger.merkle import NodeId, node_hash
from credex.ledger.storage.base import Entry, NewEntry, StoredCheckpoint
from credex.ledger.storage.component import SqlComponent
from credex.ledger.storage.tables import (
    CHECKPOINTS,
    DECISION_NUMBERS,
    ENTRIES,
    ENTRY_TAGS,
    LOG_TABLES,
    NODES,
)

__all__ = ["STORE_INDEXES", "SqlStore"]

#: bound parameters per IN list: below SQLite's 32766 and PostgreSQL's 65535 limits
_CHUNK: Final = 4096

_T = TypeVar("_T")

#: subtree hashes are stored from this level up; below it they are hashed from at most
#: ``2**(MIN_NODE_LEVEL - 1)`` leaf hashes when read
MIN_NODE_LEVEL: Final = 5

#: bytes of a hash that its lookup key holds (``record_key``; the SQLite leaf-hash index)
KEY_BYTES: Final = 4

_E = ENTRIES.c
_TG = ENTRY_TAGS.c
_N = NODES.c
_D = DECISION_NUMBERS.c
_C = CHECKPOINTS.c
_SIZE: Final = select(func.coalesce(func.max(_E.idx) + 1, 0))
#: PostgreSQL type of each column type used by the tables, for binary COPY
_PG_COPY_TYPES: Final[dict[type[Any], str]] = {
    BigInteger: "int8",
    Integer: "int4",
    SmallInteger: "int2",
    LargeBinary: "bytea",
    Text: "text",
}
_FIND_PG: Final = select(_E.leaf_hash, _E.idx).where(
    _E.leaf_hash.in_(bindparam("hashes", expanding=True))
)
_CP_SELECT: Final = select(_C.tree_size, _C.root, _C.note, _C.created_at)
_ENTRY_SELECT: Final = select(_E.idx, _E.leaf_hash, _E.leaf, _TG.kind, _TG.issuer, _E.iat).join(
    ENTRY_TAGS, _TG.id == _E.tag
)
_LEAF_HASHES: Final = select(_E.idx, _E.leaf_hash).where(
    _E.idx.in_(bindparam("leaves", expanding=True))
)
_NODE_HASHES: Final = select(_N.level, _N.idx, _N.hash)
#: entries by record key, the key list appended per dialect (``find_records``)
_FIND_RECORDS: Final = (
    "SELECT e.idx, e.leaf_hash, e.leaf, t.kind, t.issuer, e.iat, e.record_key "
    "FROM entries e JOIN entry_tags t ON t.id = e.tag WHERE e.record_key "
)

#: the lookup indexes, created with the tables (a new database; see ``docs/storage.md``):
#: B-trees, partial where the column may be NULL, except for the leaf hash: on SQLite by
#: its first 4 bytes, on PostgreSQL a hash index (a 4-byte hash code per entry, packed)
#: the indexes a log store creates (``IF NOT EXISTS``) beside its tables, per dialect
STORE_INDEXES: Final[dict[str, tuple[str, ...]]] = {
    "sqlite": (
        "CREATE INDEX IF NOT EXISTS ix_entries_leaf_key ON entries (substr(leaf_hash, 1, 4))",
        "CREATE INDEX IF NOT EXISTS ix_entries_record_key ON entries (record_key) "
        "WHERE record_key IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS ix_entries_subject ON entries (subject) "
        "WHERE subject IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS ix_entries_target ON entries (target) WHERE target IS NOT NULL",
    ),
    "postgresql": (
        "CREATE INDEX IF NOT EXISTS ix_entries_leaf_hash ON entries USING hash (leaf_hash) "
        "WITH (fillfactor = 100)",
        "CREATE INDEX IF NOT EXISTS ix_entries_record_key ON entries (record_key) "
        "WHERE record_key IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS ix_entries_subject ON entries (subject) "
        "WHERE subject IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS ix_entries_target ON entries (target) WHERE target IS NOT NULL",
    ),
}


def record_key(record_hash: bytes) -> int:
    """The ``record_key`` of a record hash: its first 4 bytes as a signed integer (a
    4-byte integer on SQLite; candidates are confirmed against the statement)."""
    return int.from_bytes(record_hash[:KEY_BYTES], "big", signed=True)


def _below(end: int) -> ColumnElement[bool]:
    """``idx < end`` for the index lookups (by subject, target, decision number), written
    so that no planner answers it from the primary key: ``idx + 0`` is not an indexed
    column, so the lookup stays on the selective index with this as a filter (PostgreSQL
    with stale statistics otherwise ANDs a bitmap of the whole primary-key range: 0.3 s
    at 10^6 entries)."""
    return (_E.idx + 0) < end


def _chunks(items: Sequence[_T], size: int = _CHUNK) -> Iterator[Sequence[_T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


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
    __slots__ = ("_analyze_at", "_insert", "_read_options", "_tag_ids")

    def _configure(self, engine: Engine) -> None:
        self._tag_ids: dict[tuple[str, str], int] = {}
        # PostgreSQL: the log size at which this store next refreshes the planner's
        # statistics (``_keep_statistics``); 0: at its first append
        self._analyze_at = 0
        self._insert = _copy_rows if self._backend == "postgresql" else _executemany_rows
        # PostgreSQL reads run without BEGIN/ROLLBACK round trips (each read is one statement
        # per chunk over immutable rows); SQLite reads keep the BEGIN of the engine's hook
        # (one WAL snapshot, and SQLAlchemy's AUTOCOMMIT would leave that BEGIN open)
        self._read_options: dict[str, Any] = (
            {"isolation_level": "AUTOCOMMIT"} if self._backend == "postgresql" else {}
        )

    def _create(self, conn: Connection) -> None:
        _refuse_earlier_layout(conn)
        for table in LOG_TABLES:
            table.create(conn, checkfirst=True)
        # only the missing ones: a hot standby (``serve --replica``) refuses any DDL, even
        # IF NOT EXISTS, in its read-only transactions
        present = _index_names(conn)
        for ddl in STORE_INDEXES[conn.dialect.name]:
            if _index_name(ddl) not in present:
                conn.exec_driver_sql(ddl)

    def _tags(self, conn: Connection, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The ``entry_tags`` id of each (kind, issuer) pair, created if new (inside the
        caller's write transaction; cached only once it commits)."""
        known = self._tag_ids
        out = {p: known[p] for p in pairs if p in known}
        dialect: Any = postgresql if self._backend == "postgresql" else sqlite
        for kind, issuer in sorted(pairs - out.keys()):
            found = None
            while found is None:  # another writer may take the number first: the next one
                free = conn.execute(select(func.coalesce(func.max(_TG.id) + 1, 1))).scalar_one()
                conn.execute(
                    dialect.insert(ENTRY_TAGS)
                    .values(id=free, kind=kind, issuer=issuer)
                    .on_conflict_do_nothing()
                )
                found = conn.execute(
                    select(_TG.id).where(_TG.kind == kind, _TG.issuer == issuer)
                ).scalar_one_or_none()
            out[(kind, issuer)] = int(found)
        return out

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
        node_rows = [(nid[0], nid[1], h) for nid, h in nodes if nid[0] >= MIN_NODE_LEVEL]
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
                tags = self._tags(conn, {(e.kind, e.issuer) for e in entries})
                entry_rows = [
                    (
                        i,
                        e.iat,
                        None if e.record_hash is None else record_key(e.record_hash),
                        tags[(e.kind, e.issuer)],
                        e.leaf_hash,
                        e.leaf,
                        e.subject,
                        e.target,
                    )
                    for i, e in enumerate(entries, start_index)
                ]
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
        self._tag_ids.update(tags)
        if self._backend == "postgresql" and start_index + len(entries) >= self._analyze_at:
            self._keep_statistics(start_index + len(entries))

    def _keep_statistics(self, size: int) -> None:
        """Refresh PostgreSQL's statistics of the log tables (``ANALYZE``, a fixed-size
        sample: about 0.4 s at 7 × 10^6 entries) at the first append and then each time the
        log has grown by a quarter. The record and leaf lookups before every append are
        ``= ANY(keys)`` over random keys: without statistics (a server with autovacuum off,
        or one whose autovacuum lags a bulk load) the planner takes a parallel sequential
        scan of the whole table for each batch, and issuing fell from 20,000 to 2,500
        entries/s at 7 × 10^6 entries (docs/scale.md). A failure here loses nothing (the
        append is committed) and is retried at the next threshold."""
        self._analyze_at = max(size + size // 4, size + 10_000)
        try:
            with self._engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                for table in (ENTRIES, NODES):
                    conn.exec_driver_sql(f"ANALYZE {table.name}")
        except (SQLAlchemyError, psycopg.Error):
            return

    def find_indices(self, leaf_hashes: Collection[bytes]) -> dict[bytes, int]:
        wanted = set(leaf_hashes)
        out: dict[bytes, int] = {}
        if not wanted:
            return out
        try:
            with self._read() as conn:
                for chunk in _chunks(list(wanted)):
                    if self._backend == "postgresql":
                        rows = conn.execute(_FIND_PG, {"hashes": list(chunk)}).all()
                    else:  # by the first 4 bytes (the index), then the whole hash
                        marks = ", ".join("?" for _ in chunk)
                        rows = conn.exec_driver_sql(
                            "SELECT leaf_hash, idx FROM entries "
                            f"WHERE substr(leaf_hash, 1, 4) IN ({marks})",
                            tuple(h[:KEY_BYTES] for h in chunk),
                        ).all()
                    for h, i in rows:
                        if h in wanted and (h not in out or int(i) < out[h]):
                            out[h] = int(i)
        except SQLAlchemyError as e:
            raise self._error("find indices", e) from e
        return out

    def find_records(self, record_hashes: Collection[bytes]) -> dict[bytes, list[Entry]]:
        by_key: dict[int, list[bytes]] = {}
        for h in set(record_hashes):
            by_key.setdefault(record_key(h), []).append(h)
        out: dict[bytes, list[Entry]] = {}
        if not by_key:
            return out
        # driver SQL: SQLAlchemy's rendering of an expanding IN of 4096 keys cost more
        # than the index probes (an import looks every row's record up)
        pg = self._backend == "postgresql"
        try:
            with self._read() as conn:
                for chunk in _chunks(list(by_key)):
                    where = "= ANY(%s)" if pg else f"IN ({', '.join('?' for _ in chunk)})"
                    params: tuple[Any, ...] = (list(chunk),) if pg else tuple(chunk)
                    rows = conn.exec_driver_sql(_FIND_RECORDS + where, params)
                    for i, lh, leaf, kind, issuer, iat, key in rows:
                        entry = Entry(int(i), bytes(lh), bytes(leaf), kind, issuer, int(iat))
                        for h in by_key[int(key)]:
                            out.setdefault(h, []).append(entry)
        except SQLAlchemyError as e:
            raise self._error("find records", e) from e
        for found in out.values():
            found.sort(key=lambda e: e.index)
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
            stmt = stmt.where(_TG.kind.in_(list(kinds)))
        if end is not None:
            stmt = stmt.where(_below(end))
        return self._find(stmt, "find by subject")

    def find_by_target(self, target: bytes, end: int | None = None) -> list[Entry]:
        stmt = _ENTRY_SELECT.where(_E.target == target)
        if end is not None:
            stmt = stmt.where(_below(end))
        return self._find(stmt, "find by target")

    def find_by_kind(self, kinds: Collection[str], end: int | None = None) -> list[Entry]:
        stmt = _ENTRY_SELECT.where(_TG.kind.in_(list(kinds)))
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
        """Level 0 from ``entries.leaf_hash``, levels 1 to ``MIN_NODE_LEVEL - 1`` hashed
        from their leaf hashes (a subtree not complete yet is absent), the others from
        ``nodes``."""
        wanted = set(ids)
        stored = [nid for nid in wanted if nid[0] >= MIN_NODE_LEVEL]
        derived = [nid for nid in wanted if 0 < nid[0] < MIN_NODE_LEVEL]
        leaves = {i for level, i in wanted if level == 0}
        for level, i in derived:
            leaves.update(range(i << level, (i + 1) << level))
        out: dict[NodeId, bytes] = {}
        found: dict[int, bytes] = {}
        try:
            with self._read() as conn:
                for chunk in _chunks(sorted(leaves)):
                    found.update(
                        (int(i), h) for i, h in conn.execute(_LEAF_HASHES, {"leaves": list(chunk)})
                    )
                by_level: dict[int, list[int]] = {}
                for level, i in stored:
                    by_level.setdefault(level, []).append(i)
                for level, idxs in by_level.items():
                    for chunk in _chunks(idxs):
                        stmt = _NODE_HASHES.where(_N.level == level, _N.idx.in_(list(chunk)))
                        out.update(((int(lv), int(i)), h) for lv, i, h in conn.execute(stmt))
        except SQLAlchemyError as e:
            raise self._error("get nodes", e) from e
        for level, i in wanted:
            if level == 0 and i in found:
                out[(0, i)] = found[i]
        for level, i in derived:
            row = [found.get(j) for j in range(i << level, (i + 1) << level)]
            if any(h is None for h in row):
                continue
            hashes: list[bytes] = [h for h in row if h is not None]
            while len(hashes) > 1:
                hashes = [node_hash(hashes[k], hashes[k + 1]) for k in range(0, len(hashes), 2)]
            out[(level, i)] = hashes[0]
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


def _index_names(conn: Connection) -> set[str]:
    """The indexes on the entries table (from the catalogue: reflection skips SQLite's
    expression indexes with a warning)."""
    if conn.dialect.name == "postgresql":
        sql = "SELECT indexname FROM pg_indexes WHERE tablename = 'entries' "
        sql += "AND schemaname = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries'"
    return {str(r[0]) for r in conn.exec_driver_sql(sql)}


def _index_name(ddl: str) -> str:
    """The index a ``CREATE INDEX IF NOT EXISTS <name> ON ...`` statement creates."""
    return ddl.split(" IF NOT EXISTS ", 1)[1].split(" ", 1)[0]


def _refuse_earlier_layout(conn: Connection) -> None:
    """An entries table without ``record_key`` was written by a credex before entries were
    stored once (issue #16): say so in one line, before any statement fails on it. Nothing
    is changed; the data stays as it is."""
    seen = inspect(conn)
    if not seen.has_table(ENTRIES.name):
        return
    if "record_key" not in {c["name"] for c in seen.get_columns(ENTRIES.name)}:
        raise StorageError(
            "sql store: this database has the entry layout of an earlier credex (no "
            "record_key column) and is left untouched: open it with that version, or "
            "rebuild the log into a new home (see docs/storage.md)"
        )
