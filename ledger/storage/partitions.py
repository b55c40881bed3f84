"""The ``entries`` table partitioned by index range on PostgreSQL (temporal shards).

A log of 10^9-10^10 entries does not live in one heap: ``create_partitioned_entries``
makes ``entries`` a ``PARTITION BY RANGE (idx)`` table with one partition per index range
(as Certificate Transparency logs shard by time), before ``SqlStore`` first opens the
database (``SqlStore`` then finds the table and creates only the others). Partitions are
ordinary tables: a full, old range can be moved to another tablespace (cheaper disks)
with ``move_partition`` (``ALTER TABLE ... SET TABLESPACE``: it rewrites the partition and
locks it while it does), and new ranges are added ahead of the log with
``add_partition``. The log code is unchanged: it reads and writes ``entries``.

The DDL is derived from the SQLAlchemy metadata of ``tables.ENTRIES`` (columns, types,
nullability and indexes) as PostgreSQL creates it (``tables.ENTRIES_PG``: no key on
``idx``), so a column added there appears here. One rule differs: PostgreSQL allows a
unique index on a partitioned table only if it contains the partition key, so a unique
column other than ``idx`` would get a plain index on the parent and a unique index on
every partition (unique within its range); the layout has none today. The log's
sequencer keeps a leaf from being logged twice (it looks every leaf hash up before
appending, under its lock) and the store's append lock keeps two writers from appending
one index twice, on one table or across partitions alike.

PostgreSQL only; ``bounds`` are the first index of each partition, strictly increasing,
starting at 0; the last partition is open-ended (``MAXVALUE``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Final

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import CreateIndex, CreateTable

from credex.ledger.errors import ConfigError, StorageError
from credex.ledger.storage.engine import storage_error
from credex.ledger.storage.sql import STORE_INDEXES
from credex.ledger.storage.tables import ENTRIES, ENTRIES_PG

__all__ = [
    "add_partition",
    "create_partitioned_entries",
    "move_partition",
    "partition_name",
    "partitioned_entries_ddl",
    "partitions",
]

_PG: Final = postgresql.dialect()  # type: ignore[no-untyped-call]
_KEY: Final = "idx"
_NAME_RE: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_INT64_MAX: Final = (1 << 63) - 1


def partition_name(start: int) -> str:
    """``entries_p<start>``: the partition whose range begins at index ``start``."""
    return f"{ENTRIES.name}_p{start}"


def _ident(name: str, what: str) -> str:
    if not _NAME_RE.fullmatch(name):
        raise ConfigError(f"partitions: {what} must be a lowercase SQL identifier, got {name!r}")
    return name


def _check_bounds(bounds: Sequence[int]) -> None:
    if not bounds or bounds[0] != 0:
        raise ConfigError("partitions: bounds must start at 0")
    for a, b in itertools.pairwise(bounds):
        if not a < b <= _INT64_MAX:
            raise ConfigError(
                f"partitions: bounds must increase within signed 64 bits, got {a} then {b}"
            )


def _parent() -> tuple[Table, list[str]]:
    """A copy of ``ENTRIES`` without unique constraints that lack the partition key,
    and the names of the columns that lost one."""
    t = ENTRIES_PG.to_metadata(MetaData())
    dropped: list[str] = []
    for c in t.columns:
        if c.unique and c.name != _KEY:
            c.unique = False
            dropped.append(c.name)
    for con in list(t.constraints):
        cols = [c.name for c in getattr(con, "columns", [])]
        if con.__class__.__name__ == "UniqueConstraint" and _KEY not in cols:
            t.constraints.discard(con)
            dropped.extend(n for n in cols if n not in dropped)
    t.dialect_options["postgresql"]["partition_by"] = f"RANGE ({_KEY})"
    return t, dropped


def _partition_ddl(start: int, end: int | None, tablespace: str | None) -> list[str]:
    name = partition_name(start)
    upper = "MAXVALUE" if end is None else str(end)
    space = "" if tablespace is None else f" TABLESPACE {_ident(tablespace, 'tablespace')}"
    out = [
        f"CREATE TABLE {name} PARTITION OF {ENTRIES.name} "
        f"FOR VALUES FROM ({start}) TO ({upper}){space}"
    ]
    _, unique = _parent()
    out += [f"CREATE UNIQUE INDEX uq_{name}_{col} ON {name} ({col})" for col in unique]
    return out


def partitioned_entries_ddl(
    bounds: Sequence[int], tablespaces: Mapping[int, str] | None = None
) -> list[str]:
    """The statements creating ``entries`` partitioned at ``bounds`` (PostgreSQL);
    ``tablespaces`` maps a partition's start index to the tablespace it is created in."""
    _check_bounds(bounds)
    spaces = dict(tablespaces or {})
    unknown = sorted(set(spaces) - set(bounds))
    if unknown:
        raise ConfigError(f"partitions: no partition starts at {unknown[0]}")
    parent, _ = _parent()
    out = [str(CreateTable(parent).compile(dialect=_PG)).strip()]
    out += [str(CreateIndex(ix).compile(dialect=_PG)) for ix in sorted(parent.indexes, key=str)]
    _, unique = _parent()
    out += [f"CREATE INDEX ix_{ENTRIES.name}_{col} ON {ENTRIES.name} ({col})" for col in unique]
    # the store's own indexes (a hash index on the leaf hash, partial ones): on the parent,
    # PostgreSQL creates them on every partition, present and future
    out += list(STORE_INDEXES["postgresql"])
    ends: list[int | None] = [*bounds[1:], None]
    for start, end in zip(bounds, ends, strict=True):
        out += _partition_ddl(start, end, spaces.get(start))
    return out


def _engine(url: str) -> Engine:
    engine = create_engine(url, hide_parameters=True)
    if engine.dialect.name != "postgresql":
        engine.dispose()
        raise ConfigError("partitions: the entries table is partitioned on PostgreSQL only")
    return engine


def _run(url: str, what: str, statements: Sequence[str]) -> None:
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            for s in statements:
                conn.execute(text(s))
    except SQLAlchemyError as e:
        raise storage_error("partitions", what, e) from e
    finally:
        engine.dispose()


def _has_entries(conn: Connection) -> bool:
    return bool(conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": ENTRIES.name})
                .scalar_one())  # fmt: skip


def create_partitioned_entries(
    url: str, bounds: Sequence[int], tablespaces: Mapping[int, str] | None = None
) -> None:
    """Create ``entries`` partitioned at ``bounds`` in the (empty) database at ``url``.

    Raises:
        ConfigError: not PostgreSQL, or bad bounds / tablespace names.
        StorageError: ``entries`` exists already, or the database refused the DDL.
    """
    ddl = partitioned_entries_ddl(bounds, tablespaces)
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            exists = _has_entries(conn)
    finally:
        engine.dispose()
    if exists:
        raise StorageError("partitions: create refused: an entries table exists already")
    _run(url, "create", ddl)


def add_partition(url: str, start: int, end: int | None, tablespace: str | None = None) -> None:
    """Add the range ``[start, end)`` (``end`` None: open-ended). The open-ended last
    partition must be split first: detach it, or create bounded ranges ahead of time."""
    if start < 0 or (end is not None and not start < end <= _INT64_MAX):
        raise ConfigError(f"partitions: range invalid: [{start}, {end})")
    _run(url, "add partition", _partition_ddl(start, end, tablespace))


def move_partition(url: str, start: int, tablespace: str) -> None:
    """Move the partition starting at ``start`` (and its indexes) to ``tablespace``."""
    name = partition_name(start)
    space = _ident(tablespace, "tablespace")
    stmts = [f"ALTER TABLE {name} SET TABLESPACE {space}"]
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            indexes = conn.execute(
                text("SELECT indexname FROM pg_indexes WHERE tablename = :t"), {"t": name}
            ).scalars()
            stmts += [f"ALTER INDEX {_ident(ix, 'index')} SET TABLESPACE {space}" for ix in indexes]
    finally:
        engine.dispose()
    _run(url, "move partition", stmts)


def partitions(url: str) -> list[tuple[str, str, str | None, int]]:
    """(partition name, range bound expression, tablespace or None, rows) per partition."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), t.spcname "
                    "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "LEFT JOIN pg_tablespace t ON t.oid = c.reltablespace "
                    "WHERE i.inhparent = to_regclass(:t) ORDER BY c.relname"
                ),
                {"t": ENTRIES.name},
            ).all()
            out = []
            for name, bound, space in rows:
                n = conn.execute(text(f"SELECT count(*) FROM {_ident(name, 'partition')}"))
                out.append((str(name), str(bound), space, int(n.scalar_one())))
            return out
    except SQLAlchemyError as e:
        raise storage_error("partitions", "list", e) from e
    finally:
        engine.dispose()
