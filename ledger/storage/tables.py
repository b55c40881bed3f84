"""The log's tables, described once with SQLModel.

This is the only module that imports SQLModel. It declares every table of a node's
database and exports their SQLAlchemy ``Table`` objects: the log's three (``sql.py`` runs
SQLAlchemy Core statements against them and converts rows to the dataclasses of
``base.py``), the witness store's three (``witness.py``), the body store's one
(``bodies.py``) and the derivation store's one (``derivations.py``). Table classes are
never used as domain objects and never leave the storage package.

- ``entries``: one row per log entry; each thing is stored once (issue #16, what each
  byte is for: ``docs/storage.md``). ``idx`` is the 0-based leaf index, ``leaf`` the
  statement bytes exactly as appended, ``leaf_hash`` its RFC 9162 leaf hash (the tree's
  level 0) on SQLite, NULL on PostgreSQL (hashed from ``leaf`` when read: 0 bytes a
  row), ``tag`` the (kind, issuer) pair in ``entry_tags``, ``iat``; ``record_key`` the
  first 4 bytes of the record hash (issuer + record identity, independent of ``iat``) as
  a signed integer, so that a file imported again finds what is already logged (a match
  is confirmed against the statement by the caller); ``subject_key`` the first 4 bytes
  of SHA-256 of the statement's CWT ``sub`` (a USCC, a HK CR number or a person
  pseudonym, never a raw id), confirmed against the statement's ``sub`` when looked up;
  ``target`` (``refs[0]`` of a lifecycle statement: the record it is about). Lookups by
  leaf hash, record key, subject and target are index reads: on PostgreSQL B-trees on
  ``entries`` (``sql.py`` creates them: partial where the column may be NULL; one B-tree
  serves the subject and record lookups); on SQLite the target's index and, for the
  three random keys, the key tables below (``keyruns.py``), which ``entries``' columns
  can always rebuild. No constraint makes ``leaf_hash`` unique: the log
  appends a leaf only after finding it absent, under its write lock. On PostgreSQL
  there is no primary key either (``ENTRIES_PG``): ``idx`` is reached through a B-tree
  on ``idx / 32``, and each append takes a lock before its size check.
- ``entry_tags``: one row per (kind, issuer) pair, numbered (a few dozen per node).
- ``leaf_keys``, ``record_keys``, ``subject_keys`` and their ``*_new`` twins, and
  ``key_runs`` (SQLite only): ``(key, idx)`` rows of the three random lookup keys in two
  levels, merged in key order (``keyruns.py``, issue #13: random-key indexes made
  appends decay as the log grew).
- ``nodes``: perfect-subtree hashes ``(level, idx)`` for ``level >= 5`` (``>= 6`` on
  PostgreSQL; see ``merkle.py``). Level 0 is the leaf hash; the levels below are hashed
  from at most 16 (32) leaf hashes when read (``sql.py``), not stored.
- ``checkpoints``: signed tree heads: size, root and the signed-note text.
- ``decision_numbers``: ``(decision_no, idx)`` for each entry that is a 双公示 penalty
  in the clear (its 决定书文号, see ``ledger/indexing.py``), so ``credex records
  --decision-no`` is a primary-key read. Only penalties have a row: the table costs
  nothing for other entries. A person's penalty (a hash envelope, body off-log and
  erasable) is never indexed here.

Hashes are stored as raw bytes (BLOB / bytea), never hex. Indices, sizes and times are
``BigInteger`` (signed 64-bit): every value must be below ``2**63``, which bounds a log at
``2**63 - 1`` entries. On SQLite, ``entries.idx`` is an ``INTEGER PRIMARY KEY`` (the rowid,
also 64-bit) and ``nodes`` is a ``WITHOUT ROWID`` table; both are plain BIGINT keys elsewhere.

This module does not open connections or create tables (``sql.py`` does).
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

__all__ = [
    "BODIES",
    "CHECKPOINTS",
    "DECISION_NUMBERS",
    "DERIVATIONS",
    "ENTRIES",
    "ENTRIES_PG",
    "ENTRY_TAGS",
    "EVIDENCE",
    "KEY_RUNS",
    "KEY_TABLES",
    "LOG_TABLES",
    "NODES",
    "PEER_LOG_STATE",
    "WITNESS_STATE",
    "WITNESS_TABLES",
    "BodyRow",
    "CheckpointRow",
    "DecisionNoRow",
    "DerivationRow",
    "EntryRow",
    "EntryTagRow",
    "EvidenceRow",
    "KeyRunRow",
    "NodeRow",
    "PeerLogStateRow",
    "WitnessStateRow",
    "entries_table",
]

#: 64-bit signed on every backend; the rowid alias on SQLite (also 64-bit signed)
_Index = BigInteger().with_variant(Integer(), "sqlite")


class EntryRow(SQLModel, table=True):
    """One log entry (``entries``)."""

    __tablename__ = "entries"

    # fixed-width columns first, 8-byte before 4-byte ones: no alignment padding between
    # them on PostgreSQL, and ``leaf`` (4-byte aligned) follows without any
    idx: int = Field(sa_column=Column(_Index, primary_key=True, autoincrement=False))
    iat: int = Field(sa_column=Column(BigInteger, nullable=False))
    record_key: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    tag: int = Field(sa_column=Column(Integer, nullable=False))
    subject_key: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    #: SQLite: always set; PostgreSQL: NULL (0 bytes), the hash is computed from ``leaf``
    leaf_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32), nullable=True))
    leaf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    target: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32), nullable=True))


class EntryTagRow(SQLModel, table=True):
    """One (kind, issuer) pair of entries (``entry_tags``)."""

    __tablename__ = "entry_tags"
    __table_args__ = (UniqueConstraint("kind", "issuer"),)

    #: assigned by ``sql.py`` (the next free number), not by a sequence: a restored
    #: database has no sequence to bring up to date
    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    kind: str = Field(sa_column=Column(Text, nullable=False))
    issuer: str = Field(sa_column=Column(Text, nullable=False))


class NodeRow(SQLModel, table=True):
    """One perfect-subtree hash, ``level >= 5`` (``nodes``)."""

    __tablename__ = "nodes"
    __table_args__ = {"sqlite_with_rowid": False}

    level: int = Field(sa_column=Column(SmallInteger, primary_key=True, autoincrement=False))
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))


class CheckpointRow(SQLModel, table=True):
    """One recorded checkpoint (``checkpoints``)."""

    __tablename__ = "checkpoints"

    tree_size: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))


class DecisionNoRow(SQLModel, table=True):
    """One penalty's decision number and its entry (``decision_numbers``)."""

    __tablename__ = "decision_numbers"
    __table_args__ = {"sqlite_with_rowid": False}

    decision_no: str = Field(sa_column=Column(Text, primary_key=True))
    idx: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))


ENTRIES: Final[Table] = EntryRow.__table__  # type: ignore[attr-defined]
ENTRY_TAGS: Final[Table] = EntryTagRow.__table__  # type: ignore[attr-defined]


def _without_primary_key(table: Table) -> Table:
    """``table``'s columns (the key columns NOT NULL) in a metadata of its own, no key."""
    cols = [Column(c.name, c.type, nullable=bool(c.nullable) and not c.primary_key)
            for c in table.columns]  # fmt: skip
    return Table(table.name, MetaData(), *cols)


#: ``entries`` as created on PostgreSQL: no primary-key B-tree on ``idx`` (20 bytes an
#: entry); point and range reads go through a B-tree on ``idx / 32`` (one deduplicated
#: index tuple per 32 entries, ``sql.py``) and writers are kept from appending the same
#: index twice by a lock taken before the size check (``SqlStore.append``)
ENTRIES_PG: Final[Table] = _without_primary_key(ENTRIES)


def entries_table(dialect: str) -> Table:
    """The ``entries`` table as created on ``dialect`` (same columns on every dialect)."""
    return ENTRIES_PG if dialect == "postgresql" else ENTRIES


NODES: Final[Table] = NodeRow.__table__  # type: ignore[attr-defined]
CHECKPOINTS: Final[Table] = CheckpointRow.__table__  # type: ignore[attr-defined]
DECISION_NUMBERS: Final[Table] = DecisionNoRow.__table__  # type: ignore[attr-defined]


class KeyRunRow(SQLModel, table=True):
    """SQLite: the log size up to which the lookup keys are in the main key tables
    (``key_runs``, one row, ``id`` 1); the keys of the entries from there on are in the
    ``*_keys_new`` tables (``keyruns.py``)."""

    __tablename__ = "key_runs"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    merged: int = Field(sa_column=Column(BigInteger, nullable=False))


KEY_RUNS: Final[Table] = KeyRunRow.__table__  # type: ignore[attr-defined]


def _key_table(name: str, key: Any) -> Table:
    return Table(
        name,
        SQLModel.metadata,
        Column("key", key, primary_key=True, autoincrement=False),
        Column("idx", BigInteger, primary_key=True, autoincrement=False),
        sqlite_with_rowid=False,
    )


#: SQLite: the lookup keys of the log's entries, each kind in two tables, ``(main,
#: new)`` (``keyruns.py``): ``leaf`` the first 4 bytes of the leaf hash (bytes),
#: ``record`` the record key and ``subject`` the subject key (4-byte signed integers, as
#: ``entries.record_key`` and ``entries.subject_key`` on PostgreSQL); ``(key, idx)`` is
#: the whole row and its key (``WITHOUT ROWID``: one B-tree a table, no second copy)
KEY_TABLES: Final[dict[str, tuple[Table, Table]]] = {
    kind: (_key_table(f"{kind}_keys", t), _key_table(f"{kind}_keys_new", t))
    for kind, t in (("leaf", LargeBinary(4)), ("record", Integer()), ("subject", Integer()))
}


#: what ``SqlStore`` creates (not the whole shared ``SQLModel.metadata``); a database made
#: before ``decision_numbers`` existed gets it when next opened (``checkfirst``)
LOG_TABLES: Final[tuple[Table, ...]] = (
    ENTRIES,
    ENTRY_TAGS,
    NODES,
    CHECKPOINTS,
    DECISION_NUMBERS,
)


# --- beside the log: witness state, peer views, evidence (``witness.py``) ---------------


class WitnessStateRow(SQLModel, table=True):
    """The latest checkpoint cosigned per origin (``witness_state``)."""

    __tablename__ = "witness_state"

    origin: str = Field(sa_column=Column(Text, primary_key=True))
    tree_size: int = Field(sa_column=Column(BigInteger, nullable=False))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: int = Field(sa_column=Column(BigInteger, nullable=False))


class PeerLogStateRow(SQLModel, table=True):
    """The latest verified peer checkpoint per origin (``peer_log_state``)."""

    __tablename__ = "peer_log_state"

    origin: str = Field(sa_column=Column(Text, primary_key=True))
    tree_size: int = Field(sa_column=Column(BigInteger, nullable=False))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: int = Field(sa_column=Column(BigInteger, nullable=False))


class EvidenceRow(SQLModel, table=True):
    """One piece of split-view evidence (``evidence``)."""

    __tablename__ = "evidence"

    #: BIGINT, but INTEGER on SQLite so that it is the auto-incrementing rowid
    id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    digest: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, unique=True))
    origin: str = Field(sa_column=Column(Text, nullable=False, index=True))
    kind: str = Field(sa_column=Column(Text, nullable=False))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))


WITNESS_STATE: Final[Table] = WitnessStateRow.__table__  # type: ignore[attr-defined]
PEER_LOG_STATE: Final[Table] = PeerLogStateRow.__table__  # type: ignore[attr-defined]
EVIDENCE: Final[Table] = EvidenceRow.__table__  # type: ignore[attr-defined]
WITNESS_TABLES: Final[tuple[Table, ...]] = (WITNESS_STATE, PEER_LOG_STATE, EVIDENCE)


# --- beside the log: off-log bodies of enveloped records (``bodies.py``) ----------------


class BodyRow(SQLModel, table=True):
    """One enveloped record's body, or its tombstone (``bodies``)."""

    __tablename__ = "bodies"

    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), primary_key=True))
    preimage: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    stored_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    erased_at: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    erase_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


BODIES: Final[Table] = BodyRow.__table__  # type: ignore[attr-defined]


# --- beside the log: what a derived record rests on (``derivations.py``) -----------------


class DerivationRow(SQLModel, table=True):
    """The source bundles and policy of one derived record logged here (``derivations``)."""

    __tablename__ = "derivations"

    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), primary_key=True))
    policy: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    sources: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    stored_at: int = Field(sa_column=Column(BigInteger, nullable=False))


DERIVATIONS: Final[Table] = DerivationRow.__table__  # type: ignore[attr-defined]
