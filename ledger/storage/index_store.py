"""``SqlNodeStore``: the verifiable index's ``NodeStore`` on SQLite or PostgreSQL.

The index lives in the log's own database, in three tables of its own (described here,
not in ``tables.py``):

- ``index_nodes(id BIGINT PRIMARY KEY, data BLOB)``: one immutable node per row, ids
  ``version << 24 | seq`` (docs/index.md §2). ``data`` is a leaf ``key || value`` (64
  bytes) or an inner node ``u16be(bit) || label (32) || i64be(left) || i64be(right) ||
  left hash || right hash`` (114 bytes);
- ``index_roots(version BIGINT PRIMARY KEY, node BIGINT NULL, hash BLOB, size BIGINT)``:
  one row per committed version; the version is the log size it indexes;
- ``index_stale(version, node)``: the node ids each version replaced (for ``prune``).

Transaction discipline: the log writes a batch's index versions in the batch's own
transaction (``writer``, run by ``SqlStore.append``), so the index at size N exists
exactly when the log holds N entries; the writer refuses (``LogMovedError``, nothing
written) when the stored latest version is not the one the batch was prepared on.
``commit`` does the same in a transaction of its own (catching up). Nodes are cached in
memory (immutable: a cache is never stale); the latest root is cached and re-read on
``refresh``.

**Pinned top levels.** Besides that cache (which a proof at 10^6 entries outgrows), the
inner nodes of the tree's top levels are pinned: an inner node whose split bit is below
``pin_bits`` (the latest version's key count's log2 minus ``_PIN_BELOW``, at most
``_PIN_BITS_MAX``) is kept once read or written, at most ``_PIN_MAX`` nodes (the oldest
go first), and ``drop_cache`` keeps them. So a proof reads about ``_PIN_BELOW`` + a few
nodes from storage at any size, not one per level: the cost of a status proof at 10^6
entries stays near its cost at 10^4 whatever the database's page cache holds
(``credex bench --only P11`` reports the pinned count). Keys are hashes, so the tree is
balanced and the split bit is the depth, give or take a level.

**Bounds.** The defaults serve proofs: 2^20 cached nodes (about 450 MiB when full),
2^16 pinned, and for each reading thread 64 MiB of SQLite page cache and 1 GiB memory
mapped. A bulk import, which reads back only the paths of random keys and makes no
proofs, lowers them (``limit_memory``; ``LocalNode.limit_memory_for_bulk``).
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
import struct
import threading
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Final

import psycopg
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    delete,
    func,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from credex.ledger.errors import (
    IndexConflictError,
    IndexVersionError,
    LogMovedError,
    OutOfRangeError,
    StorageError,
)
from credex.ledger.storage.component import SqlComponent
from credex.ledger.vindex.hashing import EMPTY_ROOT
from credex.ledger.vindex.store import SEQ_BITS, IndexCommit, IndexRoot, Node

__all__ = ["INDEX_TABLES", "SqlNodeStore", "decode_node", "encode_node"]

_META: Final = MetaData()
_Id = BigInteger().with_variant(Integer(), "sqlite")
INDEX_NODES: Final = Table(
    "index_nodes",
    _META,
    Column("id", _Id, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)
INDEX_ROOTS: Final = Table(
    "index_roots",
    _META,
    Column("version", BigInteger, primary_key=True, autoincrement=False),
    Column("node", BigInteger, nullable=True),
    Column("hash", LargeBinary(32), nullable=False),
    Column("size", BigInteger, nullable=False),
)
INDEX_STALE: Final = Table(
    "index_stale",
    _META,
    Column("version", BigInteger, primary_key=True, autoincrement=False),
    Column("node", BigInteger, primary_key=True, autoincrement=False),
    sqlite_with_rowid=False,
)
INDEX_TABLES: Final = (INDEX_NODES, INDEX_ROOTS, INDEX_STALE)

_INNER: Final = struct.Struct(">H32sqq32s32s")
#: SQLite node reader: memory-mapped bytes and page cache (KiB)
_SQLITE_MMAP: Final = 1 << 30
_SQLITE_CACHE_KIB: Final = 65_536
#: nodes kept in memory (immutable, so never stale); the oldest go first
_CACHE_MAX: Final = 1 << 20
#: pinned top-level inner nodes: at most this many (about 400 bytes each in memory)
_PIN_MAX: Final = 1 << 16
#: levels left to storage below the pinned ones, and the deepest split bit pinned
_PIN_BELOW: Final = 3
_PIN_BITS_MAX: Final = 15
_R = INDEX_ROOTS.c
_LATEST: Final = select(_R.version, _R.node, _R.hash, _R.size).order_by(_R.version.desc()).limit(1)
_MAX_VERSION: Final = select(func.coalesce(func.max(_R.version), 0))


def encode_node(node: Node) -> bytes:
    if len(node) == 2:
        return node[0] + node[1]
    bit, label, left, right, lh, rh = node
    return _INNER.pack(bit, label.to_bytes(32), left, right, lh, rh)


def decode_node(data: bytes) -> Node:
    if len(data) == 64:
        return (data[:32], data[32:])
    if len(data) != _INNER.size:
        raise StorageError(f"index store: node of {len(data)} bytes: expected 64 or 114")
    bit, label, left, right, lh, rh = _INNER.unpack(data)
    return (bit, int.from_bytes(label), left, right, lh, rh)


def _empty() -> IndexRoot:
    return IndexRoot(0, None, EMPTY_ROOT, 0)


def _root_row(row: Any) -> IndexRoot:
    return IndexRoot(
        int(row[0]), None if row[1] is None else int(row[1]), bytes(row[2]), int(row[3])
    )


class SqlNodeStore(SqlComponent):
    """The index's ``NodeStore`` in the node's database (see the module docstring)."""

    component: ClassVar[str] = "index store"
    __slots__ = (
        "_cache",
        "_cache_max",
        "_insert",
        "_latest",
        "_local",
        "_lock",
        "_node_sql",
        "_pin_bits",
        "_pin_max",
        "_pinned",
        "_reader_conf",
        "_readers",
    )

    def _configure(self, engine: Engine) -> None:
        from credex.ledger.storage.sql import _copy_rows, _executemany_rows

        self._insert: Callable[[Connection, Table, list[tuple[Any, ...]]], None] = (
            _copy_rows if self._backend == "postgresql" else _executemany_rows
        )
        self._cache: dict[int, Node] = {}
        self._cache_max = _CACHE_MAX
        #: SQLite reader pragmas (memory-mapped bytes, page cache KiB); each thread's
        #: reader applies them again when they change (``limit_memory``)
        self._reader_conf = (_SQLITE_MMAP, _SQLITE_CACHE_KIB)
        self._pinned: dict[int, Node] = {}
        self._pin_max = _PIN_MAX
        self._pin_bits = 0
        self._latest = _empty()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._readers: list[Any] | None = []  # None once closed
        mark = "%s" if self._backend == "postgresql" else "?"
        self._node_sql = f"SELECT data FROM {INDEX_NODES.name} WHERE id = {mark}"

    def _create(self, conn: Connection) -> None:
        for table in INDEX_TABLES:
            table.create(conn, checkfirst=True)
        row = conn.execute(_LATEST).first()
        self._set_latest(_empty() if row is None else _root_row(row))

    # -- NodeStore ----------------------------------------------------------------------

    def latest(self) -> IndexRoot:
        return self._latest

    def refresh(self) -> IndexRoot:
        try:
            with self._read() as conn:
                row = conn.execute(_LATEST).first()
        except SQLAlchemyError as e:
            raise self._error("latest", e) from e
        self._set_latest(_empty() if row is None else _root_row(row))
        return self._latest

    def root(self, version: int) -> IndexRoot:
        if version == self._latest.version:
            return self._latest
        if version == 0:
            return _empty()
        try:
            with self._read() as conn:
                row = conn.execute(
                    select(_R.version, _R.node, _R.hash, _R.size).where(_R.version == version)
                ).first()
        except SQLAlchemyError as e:
            raise self._error("root", e) from e
        if row is not None:
            return _root_row(row)
        if version > self._latest.version:
            raise OutOfRangeError(
                f"index: version is newer than the latest: expected <= "
                f"{self._latest.version}, got {version}"
            )
        raise IndexVersionError(f"index: no version {version}: never committed or pruned")

    def node(self, node_id: int) -> Node:
        found = self._cache.get(node_id) or self._pinned.get(node_id)
        if found is not None:
            return found
        try:
            data = self._read_node(node_id)
        except (SQLAlchemyError, sqlite3.Error, psycopg.Error) as e:
            self._drop_reader()
            if isinstance(e, SQLAlchemyError):
                raise self._error("node", e) from e
            raise StorageError(f"index store: node failed: {type(e).__name__}") from e
        if data is None:
            raise StorageError(f"index: node {node_id:#x} is not in the store")
        node = decode_node(bytes(data))
        self._remember(node_id, node)
        return node

    def _read_node(self, node_id: int) -> bytes | None:
        """One node by primary key on this thread's own pooled DBAPI connection, outside
        any transaction (nodes are immutable: any committed snapshot agrees): a proof or
        an update reads nodes one after the other, and SQLAlchemy's checkout, BEGIN and
        statement handling cost ten times the lookup itself."""
        if self._closed:
            raise StorageError("index store: read refused: store is closed")
        reader = getattr(self._local, "reader", None)
        if reader is None:
            # a connection of its own, outside the engine's pool (a reader per thread
            # must not exhaust the pool the writes need); closed with the store
            dialect = self._engine.dialect
            cargs, cparams = dialect.create_connect_args(self._engine.url)
            raw = dialect.connect(*cargs, **cparams)
            if self._backend == "postgresql":
                raw.autocommit = True
            else:
                raw.isolation_level = None  # each read its own snapshot, no open BEGIN
            with self._lock:
                if self._readers is None:  # closed while this thread connected
                    with contextlib.suppress(Exception):
                        raw.close()
                    raise StorageError("index store: read refused: store is closed")
                self._readers.append(raw)
            reader = self._local.reader = raw
            self._local.conf = None
        conf = self._reader_conf
        if self._local.conf is not conf:
            if self._backend == "sqlite":
                mmap, kib = conf
                reader.execute(f"PRAGMA mmap_size={mmap}")  # pages without syscalls
                reader.execute(f"PRAGMA cache_size=-{kib}")
            self._local.conf = conf
        cur = reader.cursor()
        try:
            cur.execute(self._node_sql, (node_id,))
            row = cur.fetchone()
        finally:
            cur.close()
        return None if row is None else bytes(row[0])

    def _drop_reader(self) -> None:
        reader = getattr(self._local, "reader", None)
        self._local.reader = None
        if reader is not None:
            with self._lock:
                if self._readers is not None and reader in self._readers:
                    self._readers.remove(reader)
            with contextlib.suppress(Exception):
                reader.close()

    def close(self) -> None:
        if not self._closed:
            with self._lock:
                readers, self._readers = self._readers or [], None
            for r in readers:
                with contextlib.suppress(Exception):
                    r.close()
        super().close()

    def limit_memory(
        self, nodes: int, *, pinned: int, page_cache_kib: int, mmap_bytes: int
    ) -> None:
        """Bounds for a bulk import: at most ``nodes`` cached and ``pinned`` pinned
        nodes (the oldest go now), and for each thread's SQLite reader a page cache of
        ``page_cache_kib`` KiB and ``mmap_bytes`` memory-mapped (mapped pages once read
        count in the process's resident memory). A serving node keeps the defaults
        (``_CACHE_MAX`` nodes, about 450 MiB when full; ``_PIN_MAX``, about 26 MiB;
        64 MiB and 1 GiB per reader thread)."""
        with self._lock:
            self._cache_max, self._pin_max = max(0, nodes), max(0, pinned)
            for kept, most in ((self._cache, self._cache_max), (self._pinned, self._pin_max)):
                for old in list(itertools.islice(kept, max(0, len(kept) - most))):
                    del kept[old]
            self._reader_conf = (mmap_bytes, page_cache_kib)

    def drop_cache(self) -> None:
        """Forget the cached nodes (the bench measures proofs read from storage); the
        pinned top levels stay (see the module docstring)."""
        self._cache.clear()

    @property
    def pinned(self) -> int:
        """How many top-level inner nodes are pinned in memory now."""
        return len(self._pinned)

    def _pin(self, node_id: int, node: Node) -> None:
        if len(node) == 2 or node[0] >= self._pin_bits:
            return
        pinned, most = self._pinned, self._pin_max
        if len(pinned) >= most:  # drop the oldest eighth (old versions' nodes first)
            if most == 0:
                return
            for old in list(itertools.islice(pinned, max(1, most // 8))):
                del pinned[old]
        pinned[node_id] = node

    def _set_latest(self, root: IndexRoot) -> None:
        self._latest = root
        self._pin_bits = max(0, min(_PIN_BITS_MAX, root.size.bit_length() - 1 - _PIN_BELOW))

    def _remember(self, node_id: int, node: Node) -> None:
        self._pin(node_id, node)
        cache, most = self._cache, self._cache_max
        if len(cache) >= most:  # drop the oldest eighth (insertion order)
            if most == 0:
                return
            for old in list(itertools.islice(cache, max(1, most // 8))):
                del cache[old]
        cache[node_id] = node

    def _write_changes(self, conn: Connection, changes: Sequence[IndexCommit]) -> None:
        if not changes:
            return
        stored = int(conn.execute(_MAX_VERSION).scalar_one())
        if stored != changes[0].base:
            raise LogMovedError(
                f"index store: commit refused: prepared on version {changes[0].base}, "
                f"stored latest is {stored}"
            )
        nodes = [(nid, encode_node(n)) for c in changes for nid, n in c.nodes.items()]
        roots = [(c.root.version, c.root.node, c.root.hash, c.root.size) for c in changes]
        stale = [(c.root.version, nid) for c in changes for nid in c.stale]
        if nodes:
            self._insert(conn, INDEX_NODES, nodes)
        self._insert(conn, INDEX_ROOTS, roots)
        if stale:
            self._insert(conn, INDEX_STALE, stale)

    def writer(self, changes: Sequence[IndexCommit]) -> Callable[[Any], None]:
        def write(conn: Any) -> None:
            self._write_changes(conn, changes)

        return write

    def adopt(self, changes: Sequence[IndexCommit]) -> None:
        if changes:  # first: how many levels to pin depends on the new key count
            self._set_latest(changes[-1].root)
        for c in changes:
            for nid, n in c.nodes.items():
                self._remember(nid, n)

    def commit(self, change: IndexCommit) -> None:
        try:
            with self._write() as conn:
                self._write_changes(conn, [change])
        except LogMovedError as e:
            raise IndexConflictError(str(e)) from e
        except (SQLAlchemyError, psycopg.Error) as e:
            raise self._error("commit", e) from e
        self.adopt([change])

    def prune_between(self, previous: int, current: int) -> int:
        """Drop what only the versions strictly between two kept versions reach (a node
        created after ``previous`` and replaced by ``current`` at the latest) and those
        versions' roots; returns how many nodes were dropped. The node calls it when it
        signs a checkpoint at ``current`` after one at ``previous``: proofs are made only
        as of checkpoint sizes, so the versions of the appends in between are garbage.

        Raises:
            OutOfRangeError: ``current`` is newer than the latest version.
        """
        if current > self._latest.version:
            raise OutOfRangeError(
                f"index: prune up to {current}: expected <= {self._latest.version}"
            )
        if current <= previous + 1:
            return 0
        s = INDEX_STALE.c
        low = (previous + 1) << SEQ_BITS  # the first node id of version previous + 1
        doomed = (s.version <= current) & (s.node >= low)
        try:
            with self._write() as conn:
                ids = [int(r[0]) for r in conn.execute(select(s.node).where(doomed))]
                for i in range(0, len(ids), 4096):
                    chunk = ids[i : i + 4096]
                    conn.execute(delete(INDEX_NODES).where(INDEX_NODES.c.id.in_(chunk)))
                conn.execute(delete(INDEX_STALE).where(doomed))
                conn.execute(
                    delete(INDEX_ROOTS).where((_R.version > previous) & (_R.version < current))
                )
        except SQLAlchemyError as e:
            raise self._error("prune", e) from e
        for nid in ids:
            self._cache.pop(nid, None)
            self._pinned.pop(nid, None)
        return len(ids)

    def prune(self, keep_from: int) -> int:
        if keep_from > self._latest.version:
            raise OutOfRangeError(
                f"index: cannot prune the latest version: expected keep_from <= "
                f"{self._latest.version}, got {keep_from}"
            )
        s = INDEX_STALE.c
        try:
            with self._write() as conn:
                ids = [
                    int(r[0]) for r in conn.execute(select(s.node).where(s.version <= keep_from))
                ]
                for i in range(0, len(ids), 4096):
                    conn.execute(delete(INDEX_NODES).where(INDEX_NODES.c.id.in_(ids[i : i + 4096])))
                conn.execute(delete(INDEX_STALE).where(s.version <= keep_from))
                conn.execute(delete(INDEX_ROOTS).where(_R.version < keep_from))
        except SQLAlchemyError as e:
            raise self._error("prune", e) from e
        for nid in ids:
            self._cache.pop(nid, None)
            self._pinned.pop(nid, None)
        return len(ids)
