"""``WitnessStore``: witness state, peer views and split-view evidence in SQL.

Three tables beside the log's, in the same database (same URL: a SQLite file or a
PostgreSQL database/schema), created if missing:

- ``witness_state(origin PK, tree_size, root, note, updated_at)``: per origin, the latest
  checkpoint this node cosigned as a witness (``credex.ledger.witness.Witness``).
- ``peer_log_state(origin PK, tree_size, root, note, updated_at)``: per origin, the latest
  peer checkpoint this node verified (``credex.ledger.witness.PeerLogState``).
- ``evidence(id PK, digest UNIQUE, origin, kind, data, created_at)``: portable evidence
  (``credex.ledger.evidence``), stored as its CBOR bytes; recorded once per digest.

Hashes and evidence are BLOBs, sizes and times ``BIGINT`` (sizes above 2**63 - 1 are
refused rather than wrapped). ``transact`` implements the ``WitnessStateStore`` contract:
one write transaction that first takes a per-origin lock (PostgreSQL: a transaction-scoped
advisory lock on a hash of the origin, which also covers an origin with no row yet;
SQLite: ``BEGIN IMMEDIATE``, the database write lock), then reads the held state, lets
the witness decide, and writes the new state and any evidence before committing. Two
concurrent ``AddCheckpoint`` calls therefore cannot both advance from one old size.

Every database error becomes ``StorageError``; engines run with ``hide_parameters``. This
module does not verify signatures or proofs (the ledger does) and never sees a private key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from sqlalchemy import (
    Connection,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from credex.ledger.errors import FormatError, NotFoundError, StorageError
from credex.ledger.evidence import Evidence
from credex.ledger.storage.component import SqlComponent
from credex.ledger.storage.engine import WRITE_OPTION
from credex.ledger.storage.tables import EVIDENCE, PEER_LOG_STATE, WITNESS_STATE, WITNESS_TABLES
from credex.ledger.witness import TrustedCheckpoint, WitnessDecision

__all__ = ["EvidenceInfo", "WitnessStore"]

_WRITE: Final = WRITE_OPTION
_MAX_BIGINT: Final = 2**63 - 1


_W = WITNESS_STATE.c
_P = PEER_LOG_STATE.c
_EV = EVIDENCE.c


@dataclass(frozen=True, slots=True)
class EvidenceInfo:
    """One stored piece of evidence, with its row id and time."""

    id: int
    origin: str
    kind: str
    digest: bytes
    created_at: int
    evidence: Evidence


def _lock_key(origin: str) -> int:
    """A signed 64-bit advisory lock key for ``origin``."""
    digest = hashlib.sha256(b"credex-witness\x00" + origin.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _check_size(size: int) -> None:
    if not 0 <= size <= _MAX_BIGINT:
        raise StorageError(f"witness store: tree size out of range: expected <= {_MAX_BIGINT}")


def _checkpoint(row: Any) -> TrustedCheckpoint:
    return TrustedCheckpoint(row.origin, int(row.tree_size), bytes(row.root), row.note)


class WitnessStore(SqlComponent):
    """Witness state, peer state and evidence in one SQLite file or PostgreSQL database.

    Thread-safe: every call checks a connection out of the engine's pool. Opening it
    (``WitnessStore(url)``) creates the tables if needed and raises ``StorageError`` for
    a malformed URL, an unsupported backend, in-memory SQLite, or a database that cannot
    be reached.
    """

    component: ClassVar[str] = "witness store"
    __slots__ = ()

    def _create(self, conn: Connection) -> None:
        if self._backend == "postgresql":  # concurrent openers on one schema
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key("")})
        for table in WITNESS_TABLES:
            table.create(conn, checkfirst=True)

    # -- WitnessStateStore ---------------------------------------------------------------------

    def latest_cosigned(self, origin: str) -> TrustedCheckpoint | None:
        stmt = select(_W.origin, _W.tree_size, _W.root, _W.note).where(_W.origin == origin)
        try:
            with self._read() as conn:
                row = conn.execute(stmt).first()
        except SQLAlchemyError as e:
            raise self._error("latest cosigned", e) from e
        return None if row is None else _checkpoint(row)

    def transact(
        self,
        origin: str,
        now: int,
        decide: Callable[[TrustedCheckpoint | None], WitnessDecision],
    ) -> WitnessDecision:
        stmt = select(_W.origin, _W.tree_size, _W.root, _W.note).where(_W.origin == origin)
        try:
            with self._write() as conn:
                if self._backend == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(origin)})
                row = conn.execute(stmt).first()
                held = None if row is None else _checkpoint(row)
                decision = decide(held)
                new = decision.state
                if new is not None:
                    if new.origin != origin:
                        raise StorageError(
                            f"witness store: decision for another origin: expected {origin}, "
                            f"got {new.origin}"
                        )
                    _check_size(new.size)
                    values = {
                        "tree_size": new.size,
                        "root": new.root,
                        "note": new.note,
                        "updated_at": now,
                    }
                    if held is None:
                        conn.execute(insert(WITNESS_STATE).values(origin=origin, **values))
                    else:
                        conn.execute(update(WITNESS_STATE).where(_W.origin == origin), values)
                if decision.evidence is not None:
                    self._insert_evidence(conn, decision.evidence, now)
        except SQLAlchemyError as e:
            raise self._error("witness transaction", e) from e
        return decision

    # -- peer view -----------------------------------------------------------------------------

    def peer_states(self) -> list[TrustedCheckpoint]:
        """Every stored peer checkpoint (seed for ``PeerLogState(trusted=...)``)."""
        stmt = select(_P.origin, _P.tree_size, _P.root, _P.note).order_by(_P.origin)
        try:
            with self._read() as conn:
                return [_checkpoint(r) for r in conn.execute(stmt)]
        except SQLAlchemyError as e:
            raise self._error("peer states", e) from e

    def save_peer_state(self, state: TrustedCheckpoint, updated_at: int) -> None:
        """Store the latest verified checkpoint of a peer; never moves backwards.

        Raises:
            StorageError: the stored size is larger (a rollback), or the database failed.
        """
        _check_size(state.size)
        values = {
            "tree_size": state.size,
            "root": state.root,
            "note": state.note,
            "updated_at": updated_at,
        }
        try:
            with self._write() as conn:
                if self._backend == "postgresql":
                    key = _lock_key("peer\x00" + state.origin)
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
                held = conn.execute(select(_P.tree_size).where(_P.origin == state.origin)).first()
                if held is None:
                    conn.execute(insert(PEER_LOG_STATE).values(origin=state.origin, **values))
                elif int(held.tree_size) > state.size:
                    raise StorageError(
                        f"witness store: peer state of {state.origin} would roll back: "
                        f"expected size >= {held.tree_size}, got {state.size}"
                    )
                else:
                    conn.execute(update(PEER_LOG_STATE).where(_P.origin == state.origin), values)
        except SQLAlchemyError as e:
            raise self._error("save peer state", e) from e

    # -- evidence ------------------------------------------------------------------------------

    def _insert_evidence(self, conn: Connection, evidence: Evidence, now: int) -> int:
        data = evidence.to_bytes()
        digest = hashlib.sha256(data).digest()
        found = conn.execute(select(_EV.id).where(_EV.digest == digest)).first()
        if found is not None:
            return int(found.id)
        row = {
            "digest": digest,
            "origin": evidence.origin,
            "kind": evidence.kind,
            "data": data,
            "created_at": now,
        }
        return int(conn.execute(insert(EVIDENCE).values(**row).returning(_EV.id)).scalar_one())

    def add_evidence(self, evidence: Evidence, created_at: int) -> int:
        """Record ``evidence``; returns its id (the existing id if already recorded)."""
        for attempt in range(2):
            try:
                with self._write() as conn:
                    return self._insert_evidence(conn, evidence, created_at)
            except IntegrityError as e:  # a concurrent writer stored the same digest
                if attempt:
                    raise self._error("add evidence", e) from e
            except SQLAlchemyError as e:
                raise self._error("add evidence", e) from e
        raise StorageError("witness store: add evidence failed")  # pragma: no cover

    def list_evidence(self) -> list[EvidenceInfo]:
        """All evidence, oldest first."""
        stmt = select(_EV.id, _EV.origin, _EV.kind, _EV.digest, _EV.created_at, _EV.data)
        try:
            with self._read() as conn:
                rows = list(conn.execute(stmt.order_by(_EV.id)))
        except SQLAlchemyError as e:
            raise self._error("list evidence", e) from e
        return [self._info(r) for r in rows]

    def get_evidence(self, evidence_id: int) -> EvidenceInfo:
        """One piece of evidence by id.

        Raises:
            NotFoundError: no evidence with that id.
        """
        stmt = select(_EV.id, _EV.origin, _EV.kind, _EV.digest, _EV.created_at, _EV.data).where(
            _EV.id == evidence_id
        )
        try:
            with self._read() as conn:
                row = conn.execute(stmt).first()
        except SQLAlchemyError as e:
            raise self._error("get evidence", e) from e
        if row is None:
            raise NotFoundError(f"witness store: no evidence with id {evidence_id}")
        return self._info(row)

    @staticmethod
    def _info(row: Any) -> EvidenceInfo:
        try:
            ev = Evidence.from_bytes(bytes(row.data))
        except FormatError as e:
            raise StorageError(f"witness store: evidence {row.id} is corrupt: {e}") from e
        return EvidenceInfo(
            int(row.id), row.origin, row.kind, bytes(row.digest), int(row.created_at), ev
        )
