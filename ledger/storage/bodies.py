"""``BodyStore``: the off-log bodies of enveloped (personal) records, erasable.

A record about a person is logged as an RFC 9995 hash envelope (``credex.ledger.envelope``):
the tree holds only SHA-256 of the record. Its body (the record bytes, the envelope's
*preimage*) is kept here, in one table beside the log's, in the same database (same URL:
a SQLite file or a PostgreSQL database/schema), created if missing::

    bodies(leaf_hash PK BLOB, preimage BLOB NULL, stored_at BIGINT,
           erased_at BIGINT NULL, erase_reason TEXT NULL)

- ``put_many`` is called *before* the leaves are appended (durable first); a row whose
  leaf never made it into the log is harmless: bodies are served only for logged leaves.
  An existing row is never overwritten, so an erased body is not brought back by a
  re-import.
- ``erase`` sets ``preimage`` to NULL and keeps a tombstone (when, why); the tree is not
  touched. On SQLite the table's connections run with ``PRAGMA secure_delete=ON`` (freed
  content is zeroed) and an erase ends with a ``wal_checkpoint(TRUNCATE)``, so the body
  bytes leave the database file and its WAL.

Every database error becomes ``StorageError``; engines run with ``hide_parameters``, and
no message or log line carries a body. This module does not sign, parse or verify, and
does not decide *when* a body may be erased (``credex.node.services.erasure`` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from sqlalchemy import (
    Connection,
    Engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from credex.ledger.dates import cst_day
from credex.ledger.errors import BodyErasedError, FormatError, NotFoundError
from credex.ledger.storage.component import SqlComponent
from credex.ledger.storage.tables import BODIES

_B = BODIES.c

__all__ = [
    "ERASE_REASONS",
    "BodyCounts",
    "BodyInfo",
    "BodyStore",
    "erased_message",
]

#: why a body may be erased (the tombstone keeps it)
ERASE_REASONS: Final = ("repaired", "window-ended", "withdrawn", "request")
_CHUNK: Final = 500


@dataclass(frozen=True, slots=True)
class BodyInfo:
    """What is known about one body, never the body itself."""

    leaf_hash: bytes
    held: bool
    stored_at: int
    erased_at: int | None = None
    erase_reason: str | None = None


@dataclass(frozen=True, slots=True)
class BodyCounts:
    held: int
    erased: int


def _info(row: Any) -> BodyInfo:
    return BodyInfo(
        bytes(row.leaf_hash),
        bool(row.held),
        int(row.stored_at),
        None if row.erased_at is None else int(row.erased_at),
        row.erase_reason,
    )


_INFO_COLS: Final = (
    _B.leaf_hash,
    _B.preimage.is_not(None).label("held"),
    _B.stored_at,
    _B.erased_at,
    _B.erase_reason,
)


def erased_message(info: BodyInfo) -> str:
    """The ``BodyErasedError`` message: when and why, never the body."""
    when = cst_day(info.erased_at or 0)
    return (
        f"body: record body erased on {when} ({info.erase_reason}); the leaf "
        f"{info.leaf_hash.hex()[:16]}… stays in the log"
    )


class BodyStore(SqlComponent):
    """Bodies of enveloped records in one SQLite file or PostgreSQL database.

    Thread-safe: every call checks a connection out of the engine's pool. Opening it
    (``BodyStore(url)``) creates the ``bodies`` table if needed and raises
    ``StorageError`` for a malformed URL, an unsupported backend, in-memory SQLite, or a
    database that cannot be reached.
    """

    component: ClassVar[str] = "body store"
    __slots__ = ()

    def _configure(self, engine: Engine) -> None:
        if self._backend == "sqlite":
            event.listen(engine, "connect", _secure_delete)

    def _create(self, conn: Connection) -> None:
        BODIES.create(conn, checkfirst=True)

    def put_many(self, items: Sequence[tuple[bytes, bytes]], now: int) -> None:
        """Store ``(leaf_hash, body)`` pairs durably in one transaction; a leaf that
        already has a row (held or erased) keeps it.

        Raises:
            StorageError: the write failed; nothing of this call is stored.
        """
        if not items:
            return
        rows = {lh: {"leaf_hash": lh, "preimage": body, "stored_at": now} for lh, body in items}
        dialect = postgresql if self._backend == "postgresql" else sqlite
        try:
            with self._write() as conn:
                values = list(rows.values())
                for i in range(0, len(values), _CHUNK):
                    stmt = dialect.insert(BODIES).on_conflict_do_nothing(
                        index_elements=["leaf_hash"]
                    )
                    conn.execute(stmt, values[i : i + _CHUNK])
        except SQLAlchemyError as e:
            raise self._error("put bodies", e) from e

    def info(self, leaf_hash: bytes) -> BodyInfo | None:
        """The row of ``leaf_hash`` without its body; None if none was ever stored."""
        try:
            with self._read() as conn:
                row = conn.execute(select(*_INFO_COLS).where(_B.leaf_hash == leaf_hash)).first()
        except SQLAlchemyError as e:
            raise self._error("body info", e) from e
        return None if row is None else _info(row)

    def get(self, leaf_hash: bytes) -> bytes | None:
        """The body of ``leaf_hash``; None if this node never held it.

        Raises:
            BodyErasedError: it was held and has been erased (when and why in the message).
        """
        stmt = select(_B.preimage, *_INFO_COLS).where(_B.leaf_hash == leaf_hash)
        try:
            with self._read() as conn:
                row = conn.execute(stmt).first()
        except SQLAlchemyError as e:
            raise self._error("get body", e) from e
        if row is None:
            return None
        if row.preimage is None:
            raise BodyErasedError(erased_message(_info(row)))
        return bytes(row.preimage)

    def get_many(self, leaf_hashes: Sequence[bytes]) -> dict[bytes, bytes]:
        """The held bodies among ``leaf_hashes`` (erased and unknown ones are left out)."""
        out: dict[bytes, bytes] = {}
        try:
            with self._read() as conn:
                for i in range(0, len(leaf_hashes), _CHUNK):
                    chunk = list(leaf_hashes[i : i + _CHUNK])
                    stmt = select(_B.leaf_hash, _B.preimage).where(
                        _B.leaf_hash.in_(chunk), _B.preimage.is_not(None)
                    )
                    for row in conn.execute(stmt):
                        out[bytes(row.leaf_hash)] = bytes(row.preimage)
        except SQLAlchemyError as e:
            raise self._error("get bodies", e) from e
        return out

    def erase(self, leaf_hash: bytes, reason: str, now: int, *, flush: bool = True) -> BodyInfo:
        """Erase the body of ``leaf_hash``, keeping a tombstone (when, why). Idempotent:
        erasing an erased body returns its first tombstone. ``flush=False`` leaves the
        WAL truncation to a later ``flush()`` (many erasures in a row).

        Raises:
            FormatError: ``reason`` is not one of ``ERASE_REASONS``.
            NotFoundError: this node holds no body for ``leaf_hash``.
        """
        if reason not in ERASE_REASONS:
            raise FormatError(
                f"body: erase reason: expected one of {', '.join(ERASE_REASONS)}, got {reason!r}"
            )
        try:
            with self._write() as conn:
                row = conn.execute(select(*_INFO_COLS).where(_B.leaf_hash == leaf_hash)).first()
                if row is None:
                    raise NotFoundError(
                        f"body: no record body held for leaf {leaf_hash.hex()}: not an "
                        "enveloped record of this node"
                    )
                if row.held:
                    conn.execute(
                        update(BODIES)
                        .where(_B.leaf_hash == leaf_hash)
                        .values(preimage=None, erased_at=now, erase_reason=reason)
                    )
                    row = conn.execute(select(*_INFO_COLS).where(_B.leaf_hash == leaf_hash)).first()
        except SQLAlchemyError as e:
            raise self._error("erase body", e) from e
        if flush:
            self.flush()
        return _info(row)

    def flush(self) -> None:
        """SQLite: checkpoint and truncate the WAL, so erased bodies (zeroed in the
        database by ``secure_delete``) leave no copy in the WAL either. PostgreSQL: no-op
        (erased tuples are reclaimed by VACUUM; see docs/spec.md)."""
        if self._backend != "sqlite":
            return
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except SQLAlchemyError as e:
            raise self._error("flush", e) from e

    def counts(self) -> BodyCounts:
        """How many bodies are held and how many erased."""
        held = func.count(_B.preimage)
        try:
            with self._read() as conn:
                row = conn.execute(select(held, func.count())).one()
        except SQLAlchemyError as e:
            raise self._error("count bodies", e) from e
        return BodyCounts(int(row[0]), int(row[1]) - int(row[0]))

    def list_bodies(self, *, held: bool | None = None, limit: int = 1000) -> list[BodyInfo]:
        """Rows (never bodies) in leaf-hash order; ``held`` filters held / erased."""
        stmt = select(*_INFO_COLS).order_by(_B.leaf_hash).limit(limit)
        if held is True:
            stmt = stmt.where(_B.preimage.is_not(None))
        elif held is False:
            stmt = stmt.where(_B.preimage.is_(None))
        try:
            with self._read() as conn:
                return [_info(r) for r in conn.execute(stmt)]
        except SQLAlchemyError as e:
            raise self._error("list bodies", e) from e


def _secure_delete(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA secure_delete=ON")
    finally:
        cur.close()
