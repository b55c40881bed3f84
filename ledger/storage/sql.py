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
  between the threads of the log. The leaf, record and subject keys are looked up in
  two-level key tables (``keyruns.py``), not in indexes on ``entries``, so that appends
  do not slow down as the log grows.
- PostgreSQL, by ``postgresql+psycopg://...`` URL, with the server's default
  ``synchronous_commit``. A schema can be chosen in the URL:
  ``?options=-csearch_path%3Dmyschema``. The layout is the smaller one of
  ``docs/storage.md``: no primary key on ``idx`` (a B-tree on ``idx / BLOCK``; an
  append takes a transaction-scoped advisory lock before its size check, so two writers
  never both append index N), no ``leaf_hash`` column (``sha256(0x00 || leaf)`` in the
  queries and in the leaf hash's index expression), and subtree hashes stored from level
  6.

Tables are created if missing. Every database error becomes ``StorageError`` (``raise ...
from e``) whose message names the operation and the driver's first message line; engines run
with ``hide_parameters`` so no bound value (leaf bytes) reaches an error message or traceback.

This module does not sequence entries or check roots: ``log.py`` does (it hashes subtrees
below the stored levels, and PostgreSQL hashes the leaves it reads).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
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
    and_,
    bindparam,
    func,
    insert,
    inspect,
    literal_column,
    select,
    union_all,
)
from sqlalchemy import update as sa_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from credex.ledger.errors import LogMovedError, StorageError
from credex.ledger.merkle import NodeId, node_hash
from credex.ledger.statement import leaf_subject
from credex.ledger.storage import keyruns
from credex.ledger.storage.base import Entry, NewEntry, StoredCheckpoint
from credex.ledger.storage.component import SqlComponent
from credex.ledger.storage.tables import (
    CHECKPOINTS,
    DECISION_NUMBERS,
    ENTRIES,
    ENTRY_TAGS,
    KEY_TABLES,
    LOG_TABLES,
    NODES,
    entries_table,
)

__all__ = ["BLOCK", "STORE_INDEXES", "SqlStore", "record_key", "subject_key"]

#: bound parameters per IN list: below SQLite's 32766 and PostgreSQL's 65535 limits
_CHUNK: Final = 4096

_T = TypeVar("_T")

#: subtree hashes are stored from this level up; below it they are hashed from at most
#: ``2**(MIN_NODE_LEVEL - 1)`` leaf hashes when read (SQLite)
MIN_NODE_LEVEL: Final = 5
#: the same on PostgreSQL: a level-5 node is the hash of one ``idx / BLOCK`` block, whose
#: leaves one index probe reads; storing levels from 6 up halves ``nodes`` (3.6 bytes an
#: entry)
MIN_NODE_LEVEL_PG: Final = 6

#: bytes of a hash that its lookup key holds (``record_key``, ``subject_key``, the leaf
#: hash's index)
KEY_BYTES: Final = 4

#: entries a block of the PostgreSQL index on ``idx / BLOCK`` covers (one index tuple
#: with a posting list of ``BLOCK`` row pointers): a point read fetches the rows of one
#: block and keeps the one asked for; an inclusion proof's leaves (levels 0 to 4) are
#: within one block, a level-5 node is one whole block. Written as a literal in every
#: query (``_BLOCK_OF``), so that the planner matches it to the index expression.
BLOCK: Final = 32

_E = ENTRIES.c
_TG = ENTRY_TAGS.c
_N = NODES.c
_D = DECISION_NUMBERS.c
_C = CHECKPOINTS.c
#: ``idx / BLOCK`` of entries, and of the index a decision number names
_BLOCK_OF: Final = literal_column(f"entries.idx / {BLOCK}", BigInteger)
_D_BLOCK_OF: Final = literal_column(f"decision_numbers.idx / {BLOCK}", BigInteger)
#: SQL of an entry's leaf hash per dialect: SQLite stores it (``leaf_hash``), PostgreSQL
#: hashes the statement (RFC 9162 leaf hash: SHA-256 of 0x00 and the leaf) when read
_LEAF_HASH_PG: Final = "sha256('\\x00'::bytea || leaf)"
_LH: Final[dict[str, ColumnElement[Any]]] = {
    "sqlite": _E.leaf_hash,
    "postgresql": literal_column(_LEAF_HASH_PG.replace("leaf)", "entries.leaf)"), LargeBinary),
}
#: the log size: SQLite from the rowid's B-tree; PostgreSQL from the last block of the
#: ``idx / BLOCK`` index (no B-tree on ``idx`` itself)
_SIZE: Final = {
    "sqlite": "SELECT coalesce(max(idx) + 1, 0) FROM entries",
    "postgresql": f"SELECT coalesce(max(idx) + 1, 0) FROM entries WHERE idx / {BLOCK} = "
    f"(SELECT max(idx / {BLOCK}) FROM entries)",
}
#: PostgreSQL: the transaction-scoped lock each append takes before its size check
#: (classid "CRDX", objid the schema's hash): two writers never both append index N
#: (no unique index on ``idx`` would refuse the second). The transaction is READ
#: COMMITTED whatever the server's default, so that the size read after the lock sees
#: the previous holder's commit (a snapshot taken before the wait would not)
_APPEND_LOCK: Final = (
    "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
    "SELECT pg_advisory_xact_lock(1129465176, hashtext(current_schema()))",
)
#: PostgreSQL type of each column type used by the tables, for binary COPY
_PG_COPY_TYPES: Final[dict[type[Any], str]] = {
    BigInteger: "int8",
    Integer: "int4",
    SmallInteger: "int2",
    LargeBinary: "bytea",
    Text: "text",
}
#: PostgreSQL: entries by the first 4 bytes of their leaf hash (the index expression)
_FIND_PG: Final = (
    f"SELECT {_LEAF_HASH_PG}, idx FROM entries WHERE substr({_LEAF_HASH_PG}, 1, 4) = ANY(%s)"
)
_CP_SELECT: Final = select(_C.tree_size, _C.root, _C.note, _C.created_at)
_ENTRY_SELECT: Final = {
    d: select(_E.idx, lh, _E.leaf, _TG.kind, _TG.issuer, _E.iat).join(ENTRY_TAGS, _TG.id == _E.tag)
    for d, lh in _LH.items()
}
#: leaf hashes by index; on PostgreSQL through the blocks they are in (SQLite: the rowid)
_LEAF_HASHES: Final = {
    "sqlite": select(_E.idx, _LH["sqlite"]).where(_E.idx.in_(bindparam("leaves", expanding=True))),
    "postgresql": select(_E.idx, _LH["postgresql"]).where(
        _BLOCK_OF.in_(bindparam("blocks", expanding=True)),
        _E.idx.in_(bindparam("leaves", expanding=True)),
    ),
}
_NODE_HASHES: Final = select(_N.level, _N.idx, _N.hash)
#: entries by record key: SQLite, through the record key tables (``keyruns.union``, in
#: place of ``{keys}``); PostgreSQL, by (subject key, record key) pairs, two arrays of the
#: same length (``find_records``)
_FIND_RECORDS: Final = {
    "sqlite": "SELECT e.idx, e.leaf_hash, e.leaf, t.kind, t.issuer, e.iat, k.key "
    "FROM ({keys}) AS k JOIN entries e ON e.idx = k.idx JOIN entry_tags t ON t.id = e.tag",
    "postgresql": "SELECT e.idx, "
    + _LEAF_HASH_PG.replace("leaf)", "e.leaf)")
    + ", e.leaf, t.kind, t.issuer, e.iat, e.record_key "
    "FROM unnest(%s::int4[], %s::int4[]) AS k (s, r) "
    "JOIN entries e ON e.subject_key = k.s AND e.record_key = k.r "
    "JOIN entry_tags t ON t.id = e.tag",
}

#: the indexes a log store creates (``IF NOT EXISTS``) beside its tables, per dialect (a
#: new database; see ``docs/storage.md``): B-trees, partial where the column may be NULL.
#: On PostgreSQL the leaf hash is found by its first 4 bytes (the whole hash is compared
#: on the row) of the hash computed from the statement; on SQLite the leaf, record and
#: subject keys are in the two-level key tables of ``keyruns.py`` instead (random keys
#: in B-trees on ``entries`` made appends decay, issue #13). PostgreSQL has no key on
#: ``idx`` but a B-tree on ``idx / BLOCK`` (deduplicated: one index tuple per block,
#: packed as it is filled in order).
STORE_INDEXES: Final[dict[str, tuple[str, ...]]] = {
    "sqlite": (
        "CREATE INDEX IF NOT EXISTS ix_entries_target ON entries (target) WHERE target IS NOT NULL",
    ),
    "postgresql": (
        f"CREATE INDEX IF NOT EXISTS ix_entries_block ON entries ((idx / {BLOCK})) "
        "WITH (fillfactor = 100)",
        "CREATE INDEX IF NOT EXISTS ix_entries_leaf_key ON entries "
        f"(substr({_LEAF_HASH_PG}, 1, 4))",
        "CREATE INDEX IF NOT EXISTS ix_entries_subject_record ON entries "
        "(subject_key, record_key) WHERE subject_key IS NOT NULL",
        "CREATE INDEX IF NOT EXISTS ix_entries_target ON entries (target) WHERE target IS NOT NULL",
    ),
}


def record_key(record_hash: bytes) -> int:
    """The ``record_key`` of a record hash: its first 4 bytes as a signed integer (a
    4-byte integer on SQLite; candidates are confirmed against the statement)."""
    return int.from_bytes(record_hash[:KEY_BYTES], "big", signed=True)


def subject_key(subject: str) -> int:
    """The ``subject_key`` of a subject: the first 4 bytes of SHA-256 of its UTF-8 bytes as
    a signed integer (candidates are confirmed against the statement's ``sub``)."""
    digest = hashlib.sha256(subject.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:KEY_BYTES], "big", signed=True)


def _blocks(indices: Collection[int]) -> list[int]:
    return sorted({i // BLOCK for i in indices})


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
    __slots__ = ("_analyze_at", "_insert", "_min_level", "_read_options", "_tag_ids")

    def _configure(self, engine: Engine) -> None:
        self._tag_ids: dict[tuple[str, str], int] = {}
        pg = self._backend == "postgresql"
        self._min_level = MIN_NODE_LEVEL_PG if pg else MIN_NODE_LEVEL
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
            made = entries_table(conn.dialect.name) if table is ENTRIES else table
            made.create(conn, checkfirst=True)
        # only the missing ones: a hot standby (``serve --replica``) refuses any DDL, even
        # IF NOT EXISTS, in its read-only transactions
        present = _index_names(conn)
        if conn.dialect.name == "sqlite":
            keyruns.create(conn, present)
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

    @property
    def min_node_level(self) -> int:
        """The lowest level of subtree hashes stored in ``nodes`` (below: hashed from
        the leaf hashes when read)."""
        return self._min_level

    # -- LogStore ----------------------------------------------------------------------------

    def size(self) -> int:
        try:
            with self._read() as conn:
                return int(conn.exec_driver_sql(_SIZE[self._backend]).scalar_one())
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
        node_rows = [(nid[0], nid[1], h) for nid, h in nodes if nid[0] >= self._min_level]
        decision_rows = [
            (e.decision_no, i)
            for i, e in enumerate(entries, start_index)
            if e.decision_no is not None
        ]
        pg = self._backend == "postgresql"
        try:
            with self._write() as conn:
                if pg:
                    for sql in _APPEND_LOCK:
                        conn.exec_driver_sql(sql)
                size = int(conn.exec_driver_sql(_SIZE[self._backend]).scalar_one())
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
                        None if e.subject is None else subject_key(e.subject),
                        None if pg else e.leaf_hash,  # PostgreSQL: hashed from the leaf
                        e.leaf,
                        e.target,
                    )
                    for i, e in enumerate(entries, start_index)
                ]
                if entry_rows:
                    self._insert(conn, ENTRIES, entry_rows)
                if not pg and entry_rows:  # the lookup keys, two-level (keyruns.py)
                    keyruns.add_keys(conn, start_index, start_index + len(entry_rows))
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
                    if self._backend == "postgresql":  # by the index, then the whole hash
                        keys = [h[:KEY_BYTES] for h in chunk]
                        rows = conn.exec_driver_sql(_FIND_PG, (keys,)).all()
                    else:  # by the first 4 bytes (the key tables), then the whole hash
                        keys = [h[:KEY_BYTES] for h in chunk]
                        rows = conn.exec_driver_sql(
                            f"SELECT e.leaf_hash, e.idx FROM ({keyruns.union('leaf', len(keys))})"
                            " AS k JOIN entries e ON e.idx = k.idx",
                            (*keys, *keys),
                        ).all()
                    for h, i in rows:
                        if h in wanted and (h not in out or int(i) < out[h]):
                            out[h] = int(i)
        except SQLAlchemyError as e:
            raise self._error("find indices", e) from e
        return out

    def find_records(self, records: Mapping[bytes, str]) -> dict[bytes, list[Entry]]:
        by_key: dict[int, list[bytes]] = {}
        for h in records:
            by_key.setdefault(record_key(h), []).append(h)
        out: dict[bytes, list[Entry]] = {}
        if not by_key:
            return out
        # driver SQL: SQLAlchemy's rendering of an expanding IN of 4096 keys cost more
        # than the index probes (an import looks every row's record up). PostgreSQL: by
        # (subject key, record key), the one index both lookups share
        pg = self._backend == "postgresql"
        keys: list[Any] = (
            sorted({(subject_key(s), record_key(h)) for h, s in records.items()})
            if pg
            else list(by_key)
        )
        try:
            with self._read() as conn:
                for chunk in _chunks(keys):
                    if pg:
                        sql = _FIND_RECORDS["postgresql"]
                        params: tuple[Any, ...] = ([k[0] for k in chunk], [k[1] for k in chunk])
                    else:
                        union = keyruns.union("record", len(chunk))
                        sql = _FIND_RECORDS["sqlite"].format(keys=union)
                        params = (*chunk, *chunk)
                    for i, lh, leaf, kind, issuer, iat, key in conn.exec_driver_sql(sql, params):
                        entry = Entry(int(i), bytes(lh), bytes(leaf), kind, issuer, int(iat))
                        for h in by_key.get(int(key), ()):
                            out.setdefault(h, []).append(entry)
        except SQLAlchemyError as e:
            raise self._error("find records", e) from e
        for found in out.values():
            found.sort(key=lambda e: e.index)
        return out

    def _find(self, stmt: Select[Any], what: str) -> list[Entry]:
        try:
            with self._read() as conn:
                return [_entry(row) for row in conn.execute(stmt.order_by(_E.idx))]
        except SQLAlchemyError as e:
            raise self._error(what, e) from e

    def find_by_subject(
        self, subject: str, kinds: Collection[str] | None = None, end: int | None = None
    ) -> list[Entry]:
        """By ``subject_key`` (4 bytes of a hash: subjects may share one), each candidate
        confirmed by its statement's ``sub``: another subject's entry is never returned."""
        key = subject_key(subject)
        if self._backend == "postgresql":
            stmt = _ENTRY_SELECT["postgresql"].where(_E.subject_key == key)
        else:  # through the subject key tables (keyruns.py)
            main, new = KEY_TABLES["subject"]
            ids = union_all(select(main.c.idx).where(main.c.key == key),
                            select(new.c.idx).where(new.c.key == key))  # fmt: skip
            stmt = _ENTRY_SELECT["sqlite"].where(_E.idx.in_(ids))
        if kinds is not None:
            stmt = stmt.where(_TG.kind.in_(list(kinds)))
        if end is not None:
            stmt = stmt.where(_below(end))
        found = self._find(stmt, "find by subject")
        return [e for e in found if leaf_subject(e.leaf) == subject]

    def find_by_target(self, target: bytes, end: int | None = None) -> list[Entry]:
        stmt = _ENTRY_SELECT[self._backend].where(_E.target == target)
        if end is not None:
            stmt = stmt.where(_below(end))
        return self._find(stmt, "find by target")

    def find_by_kind(self, kinds: Collection[str], end: int | None = None) -> list[Entry]:
        stmt = _ENTRY_SELECT[self._backend].where(_TG.kind.in_(list(kinds)))
        if end is not None:
            stmt = stmt.where(_below(end))
        return self._find(stmt, "find by kind")

    def find_by_decision_no(self, decision_no: str, end: int | None = None) -> list[Entry]:
        # the block condition lets PostgreSQL reach the entry by its block index
        on = _D.idx == _E.idx
        if self._backend == "postgresql":
            on = and_(on, _D_BLOCK_OF == _BLOCK_OF)
        stmt = (
            _ENTRY_SELECT[self._backend]
            .join(DECISION_NUMBERS, on)
            .where(_D.decision_no == decision_no)
        )
        if end is not None:
            stmt = stmt.where(_below(end))
        return self._find(stmt, "find by decision number")

    def get_entries(self, start: int, end: int) -> list[Entry]:
        if end <= start:
            return []
        stmt = _ENTRY_SELECT[self._backend].where(_E.idx >= start, _E.idx < end)
        if self._backend == "postgresql":  # through the blocks (SQLite: the rowid)
            stmt = stmt.where(_BLOCK_OF.between(start // BLOCK, (end - 1) // BLOCK))
        stmt = stmt.order_by(_E.idx)
        try:
            with self._read() as conn:
                return [_entry(row) for row in conn.execute(stmt)]
        except SQLAlchemyError as e:
            raise self._error("get entries", e) from e

    def get_nodes(self, ids: Collection[NodeId]) -> dict[NodeId, bytes]:
        """Level 0 from the leaf hashes, levels 1 to ``min_node_level - 1`` hashed from
        their leaf hashes (a subtree not complete yet is absent), the others from
        ``nodes``."""
        wanted = set(ids)
        stored = [nid for nid in wanted if nid[0] >= self._min_level]
        derived = [nid for nid in wanted if 0 < nid[0] < self._min_level]
        leaves = {i for level, i in wanted if level == 0}
        for level, i in derived:
            leaves.update(range(i << level, (i + 1) << level))
        out: dict[NodeId, bytes] = {}
        found: dict[int, bytes] = {}
        try:
            with self._read() as conn:
                query = _LEAF_HASHES[self._backend]
                for chunk in _chunks(sorted(leaves)):
                    params: dict[str, Any] = {"leaves": list(chunk)}
                    if self._backend == "postgresql":
                        params["blocks"] = _blocks(chunk)
                    found.update((int(i), bytes(h)) for i, h in conn.execute(query, params))
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


def _entry(row: Any) -> Entry:
    i, lh, leaf, kind, issuer, iat = row
    return Entry(int(i), bytes(lh), bytes(leaf), kind, issuer, int(iat))


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
    """An entries table without the columns of this layout (``record_key``: entries stored
    once, issue #16; ``subject_key``: 4-byte subject keys) was written by an earlier
    credex: say so in one line, before any statement fails on it or misreads it. Nothing
    is changed; the data stays as it is."""
    seen = inspect(conn)
    if not seen.has_table(ENTRIES.name):
        return
    have = {c["name"] for c in seen.get_columns(ENTRIES.name)}
    missing = sorted(c.name for c in ENTRIES.columns if c.name not in have)
    if missing:
        raise StorageError(
            "sql store: this database has the entry layout of an earlier credex (no "
            f"{missing[0]} column) and is left untouched: open it with that version, or "
            "rebuild the log into a new home (see docs/storage.md)"
        )
