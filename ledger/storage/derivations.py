"""``DerivationStore``: what each derived record logged here rests on, to hand out again.

A derived record (``derived.*``, ``credex recognize``) verifies only with its sources
and its policy (bundle ``sources`` / ``policy``, verify step 8). The policy is a statement
in this node's log; the sources are other regions' bundles, handed to ``recognize`` and
already verified there (issuer, inclusion, witness quorum). They are kept verbatim in one
table beside the log's, in the same database, so every later bundle of the derived record
(``credex bundle``, ``GetBundle``, a bank's lookup) carries them::

    derivations(leaf_hash PK BLOB, policy BLOB(32), sources BLOB, stored_at BIGINT)

``sources`` is a deterministic CBOR array of the source bundles' bytes. A row is written
once (the first one stays) and deleted with the derived record's body (a source bundle of
a person's record carries that person's body). Every database error is a
``StorageError``; no message carries a bundle. This module does not verify bundles.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Final

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from credex.ledger import encoding
from credex.ledger.errors import FormatError
from credex.ledger.storage.component import SqlComponent
from credex.ledger.storage.tables import DERIVATIONS

__all__ = ["MAX_SOURCES", "Derivation", "DerivationStore"]

_D = DERIVATIONS.c
#: sources one derived record may rest on (``credex.ledger.derive`` takes one today)
MAX_SOURCES: Final = 16
_MAX_BYTES: Final = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Derivation:
    """The policy leaf hash and the source bundles (bytes) of one derived record."""

    policy: bytes
    sources: tuple[bytes, ...]


class DerivationStore(SqlComponent):
    """Derivations in one SQLite file or PostgreSQL database. Thread-safe."""

    component: ClassVar[str] = "derivation store"
    __slots__ = ()

    def _create(self, conn: Connection) -> None:
        DERIVATIONS.create(conn, checkfirst=True)

    def put(self, leaf_hash: bytes, policy: bytes, sources: Sequence[bytes], now: int) -> None:
        """Keep what the derived record ``leaf_hash`` rests on (a row already there stays).

        Raises:
            FormatError: no source, too many, or more than 16 MiB of them.
            StorageError: the write failed.
        """
        if not 1 <= len(sources) <= MAX_SOURCES:
            raise FormatError(f"derivation: sources: expected 1..{MAX_SOURCES}, got {len(sources)}")
        data = encoding.encode([bytes(s) for s in sources])
        if len(data) > _MAX_BYTES:
            raise FormatError(
                f"derivation: sources too large: expected <= {_MAX_BYTES} bytes, got {len(data)}"
            )
        dialect = postgresql if self._backend == "postgresql" else sqlite
        row = {"leaf_hash": leaf_hash, "policy": policy, "sources": data, "stored_at": now}
        stmt = dialect.insert(DERIVATIONS).on_conflict_do_nothing(index_elements=["leaf_hash"])
        try:
            with self._write() as conn:
                conn.execute(stmt, [row])
        except SQLAlchemyError as e:
            raise self._error("put derivation", e) from e

    def get(self, leaf_hash: bytes) -> Derivation | None:
        """What ``leaf_hash`` rests on; None if this node keeps nothing for it.

        Raises:
            FormatError: the stored row does not decode (a damaged database).
        """
        stmt = select(_D.policy, _D.sources).where(_D.leaf_hash == leaf_hash)
        try:
            with self._read() as conn:
                row = conn.execute(stmt).first()
        except SQLAlchemyError as e:
            raise self._error("get derivation", e) from e
        if row is None:
            return None
        value = encoding.decode(bytes(row.sources), what="derivation sources", max_size=_MAX_BYTES)
        if not isinstance(value, list) or not all(isinstance(v, bytes) for v in value):
            raise FormatError("derivation: stored sources are not an array of bstr")
        return Derivation(bytes(row.policy), tuple(value))

    def delete(self, leaf_hash: bytes) -> bool:
        """Forget what ``leaf_hash`` rests on; True if a row was there."""
        try:
            with self._write() as conn:
                result = conn.execute(delete(DERIVATIONS).where(_D.leaf_hash == leaf_hash))
        except SQLAlchemyError as e:
            raise self._error("delete derivation", e) from e
        return bool(result.rowcount)
