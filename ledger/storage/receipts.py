"""``ReceiptSignatures``: the log's receipt signature for each checkpoint it signed.

An RFC 9942 receipt's signature covers only the protected header and the tree root, not
the leaf (``credex.ledger.receipt``), so one signature per signed tree head serves the
receipt of every entry under it. The node that holds the log key stores that signature
here when it signs a checkpoint, *before* the checkpoint row (its own transaction, in
the same database): a read-only replica of the database (``credex serve --replica`` on a
PostgreSQL hot standby) then builds receipts and bundles for any checkpoint it holds
without ever holding or using the key. Streaming replication replays commits in order,
so a replica that sees a checkpoint also sees its signature and its entries.

- ``receipt_signatures``: ``tree_size`` (primary key), ``root`` (32 bytes), ``protected``
  (the receipt's protected header, exact bytes) and ``signature`` (64 bytes).

A plain SQLAlchemy ``Table`` on its own ``MetaData``: nothing in ``tables.py`` changes, and a
database made before this table existed gets it on the next ``ReceiptSignatures`` open.
A reader (``ReceiptSignatures.reader``) never creates anything (a hot standby refuses
DDL): before the primary has created the table it simply finds no signature.
"""

from __future__ import annotations

from typing import ClassVar, Final

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    insert,
    inspect,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from credex.ledger.storage.component import SqlComponent

__all__ = ["RECEIPT_SIGNATURES", "ReceiptSignature", "ReceiptSignatures"]

RECEIPT_SIGNATURES: Final = Table(
    "receipt_signatures",
    MetaData(),
    Column(
        "tree_size",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("root", LargeBinary(32), nullable=False),
    Column("protected", LargeBinary, nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
)
_R = RECEIPT_SIGNATURES.c

#: (root, protected header, signature) of one signed tree head
ReceiptSignature = tuple[bytes, bytes, bytes]


class ReceiptSignatures(SqlComponent):
    """Receipt signatures by tree size, in the node's database. Thread-safe."""

    component: ClassVar[str] = "receipt signatures"
    __slots__ = ("_exists",)

    def _create(self, conn: Connection) -> None:
        RECEIPT_SIGNATURES.create(conn, checkfirst=True)
        self._exists = True

    @classmethod
    def reader(cls, url: str) -> ReceiptSignatures:
        """Open for reading only: creates nothing (a hot standby refuses DDL)."""
        return _Reader(url)

    def put(self, tree_size: int, root: bytes, protected: bytes, signature: bytes) -> None:
        """Store the signature of ``tree_size`` (idempotent: a size already held stays)."""
        try:
            with self._write() as conn:
                found = conn.execute(select(_R.tree_size).where(_R.tree_size == tree_size)).first()
                if found is None:
                    conn.execute(
                        insert(RECEIPT_SIGNATURES).values(
                            tree_size=tree_size, root=root, protected=protected, signature=signature
                        )
                    )
        except SQLAlchemyError as e:
            raise self._error("put", e) from e

    def get(self, tree_size: int) -> ReceiptSignature | None:
        """The signature stored for ``tree_size``, if any."""
        try:
            with self._read() as conn:
                if not self._exists:
                    self._exists = inspect(conn).has_table(RECEIPT_SIGNATURES.name)
                    if not self._exists:
                        return None
                row = conn.execute(
                    select(_R.root, _R.protected, _R.signature).where(_R.tree_size == tree_size)
                ).first()
        except SQLAlchemyError as e:
            raise self._error("get", e) from e
        return None if row is None else (bytes(row[0]), bytes(row[1]), bytes(row[2]))


class _Reader(ReceiptSignatures):
    __slots__ = ()

    def _create(self, conn: Connection) -> None:
        self._exists = False  # looked up on first read
