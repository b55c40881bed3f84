"""The ``LogStore`` seam: what the append-only log needs from durable storage.

A store keeps three things: entries (leaf index -> statement bytes and leaf hash), the hashes
of perfect subtrees ``(level, index)`` with ``level >= 1`` (see ``merkle.py``; a level-0 node
is its entry's leaf hash), and recorded checkpoints. It assigns nothing and computes nothing:
``AppendOnlyLog`` sequences entries and hashes the tree, the store only makes each batch
durable in one transaction and reads it back.

Contract (checked by ``tests/contract/test_log_store.py`` for every implementation):

- ``append`` is all or nothing and durable when it returns; it refuses, with
  ``StorageError`` and no change, a batch whose ``start_index`` is not ``size()``.
- Reads return exactly the bytes appended. Missing ids are left out of ``find_indices`` and
  ``get_nodes`` results rather than raising; the caller decides what absence means.
- Every failure of the backend surfaces as ``StorageError``; messages never carry leaf bytes.
- Indices, sizes and times are below ``2**63``.
- Methods may be called from several threads at once.

This module does not talk to a database (``sql.py`` does) and holds no SQLModel classes
(``tables.py`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from credex.ledger.merkle import NodeId

__all__ = ["Entry", "LogStore", "NewEntry", "StoredCheckpoint"]


class NewEntry(NamedTuple):
    """An entry to append; its index is the position in the batch after ``start_index``.
    (A named tuple: the log builds one per appended leaf, at three times the speed of
    a frozen dataclass.)"""

    leaf_hash: bytes
    leaf: bytes
    kind: str
    issuer: str
    iat: int
    record_hash: bytes | None = None
    subject: str | None = None
    target: bytes | None = None
    #: a clear 双公示 penalty's decision number (``decision_numbers``); None otherwise
    decision_no: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """A stored entry: the statement bytes ``leaf`` at 0-based ``index``."""

    index: int
    leaf_hash: bytes
    leaf: bytes
    kind: str
    issuer: str
    iat: int


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A recorded checkpoint: the signed note for the tree of ``tree_size`` with ``root``.

    ``created_at`` is a Unix time in seconds, passed in by the caller.
    """

    tree_size: int
    root: bytes
    note: str
    created_at: int


class LogStore(Protocol):
    """Durable storage behind ``AppendOnlyLog`` (SQLite and PostgreSQL: ``SqlStore``)."""

    def size(self) -> int:
        """The number of stored entries (the next index to append)."""
        ...

    def append(
        self,
        start_index: int,
        entries: Sequence[NewEntry],
        nodes: Sequence[tuple[NodeId, bytes]],
        extra: Callable[[Any], None] | None = None,
    ) -> None:
        """Store ``entries`` at ``start_index, start_index + 1, ...`` and ``nodes``, atomically.

        ``nodes`` are the subtree hashes that the entries complete, ``level >= 1`` only.
        ``extra``, if given, runs on the same transaction's connection after the inserts
        (the log's verifiable index writes its versions so); what it raises aborts the
        whole batch.
        Durable when it returns.

        Raises:
            StorageError: ``start_index != size()``, a duplicate leaf hash or index, or any
                backend failure; nothing is stored.
        """
        ...

    def find_indices(self, leaf_hashes: Collection[bytes]) -> dict[bytes, int]:
        """The index of each given leaf hash that is stored; absent hashes are left out."""
        ...

    def find_records(self, records: Mapping[bytes, str]) -> dict[bytes, list[Entry]]:
        """The entries that may carry each record hash (``records`` maps it to the
        record's subject id), in index order (found by 4-byte keys of the hash and of the
        subject: the caller confirms against the statement); none: absent."""
        ...

    def find_by_subject(
        self, subject: str, kinds: Collection[str] | None = None, end: int | None = None
    ) -> list[Entry]:
        """Entries whose ``subject`` is ``subject`` (of ``kinds`` if given, below index
        ``end`` if given), in index order."""
        ...

    def find_by_target(self, target: bytes, end: int | None = None) -> list[Entry]:
        """Entries whose ``target`` (refs[0] of a lifecycle statement) is ``target``,
        below index ``end`` if given, in index order."""
        ...

    def find_by_kind(self, kinds: Collection[str], end: int | None = None) -> list[Entry]:
        """Entries of ``kinds`` (below index ``end`` if given), in index order. Not an
        index read: for operator commands over a few kinds (``credex commitments due``)."""
        ...

    def find_by_decision_no(self, decision_no: str, end: int | None = None) -> list[Entry]:
        """Entries appended with ``decision_no`` (below index ``end`` if given), in index
        order."""
        ...

    def get_entries(self, start: int, end: int) -> list[Entry]:
        """Stored entries with ``start <= index < end``, in index order."""
        ...

    def get_nodes(self, ids: Collection[NodeId]) -> dict[NodeId, bytes]:
        """Hashes of the given subtree ids (level 0: leaf hashes); absent ids are left out."""
        ...

    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Record a checkpoint; one for an already recorded size replaces its note (more
        cosignatures) and keeps its ``created_at``: when the log *first* recorded that
        size, which bounds when its entries were logged (``ledger.logtime``).

        The caller (the log) checks the root and the order; the store does not.
        """
        ...

    def checkpoints_around(
        self, index: int
    ) -> tuple[StoredCheckpoint | None, StoredCheckpoint | None]:
        """The recorded checkpoint with the largest size <= ``index`` (the entry was not in
        it) and the one with the smallest size > ``index`` (the first with the entry)."""
        ...

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The recorded checkpoint with the largest tree size, if any."""
        ...

    def get_checkpoint(self, tree_size: int) -> StoredCheckpoint | None:
        """The recorded checkpoint of exactly ``tree_size``, if any."""
        ...

    def close(self) -> None:
        """Release connections; idempotent. No other method may be called afterwards."""
        ...
