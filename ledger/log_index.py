"""``LogIndex``: a log's verifiable index, kept in step with the log as it appends.

The index of a log of ``n`` entries is the map function (``credex.ledger.index_map``)
over entries ``0 .. n-1``; it is stored in a ``vindex.NodeStore`` as versions numbered by
the log size they index (version 0: the empty index), so "the index root at checkpoint
size N" is the root of version N, and a proof as of a checkpoint is a lookup at that
version.

How the log uses it (``AppendOnlyLog(store, index=...)``): for each batch of new entries
``stage(start, entries)`` prepares the index commits on top of version ``start`` (without
writing) and returns a writer the log's store runs inside the batch's own transaction
(``ledger/storage/index_store.py``: same database, same commit), then ``committed()``
makes them the latest, or ``discard()`` forgets them if the transaction failed. A log
that existed before its index (or an index that fell behind) is brought up to date by
``catch_up``, which maps the stored entries' bytes, as an auditor would.

Pure: no I/O beyond the ``NodeStore`` given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final, Protocol

from credex.ledger.errors import InconsistentLogError, IndexConflictError, LogMovedError
from credex.ledger.index_map import (
    MapEntry,
    MapInput,
    map_input_of,
    map_updates,
    status_key,
    subject_key,
)
from credex.ledger.storage.base import NewEntry
from credex.ledger.vindex.proof import LookupProof
from credex.ledger.vindex.store import IndexCommit, IndexRoot, Node, NodeStore
from credex.ledger.vindex.tree import IndexTree

__all__ = ["CATCH_UP_BATCH", "MAX_STAGE_ENTRIES", "IndexWriter", "LogIndex", "SqlIndexStore"]

#: entries per index version when catching up from stored entries
CATCH_UP_BATCH: Final = 8192
#: entries per index commit within one staged batch (each entry makes at most 2 keys;
#: ``vindex.MAX_BATCH`` is 131072 distinct keys)
MAX_STAGE_ENTRIES: Final = 32768


class SqlIndexStore(NodeStore, Protocol):
    """A ``NodeStore`` whose commits can also be written inside another transaction."""

    def writer(self, changes: Sequence[IndexCommit]) -> Callable[[Any], None]:
        """A callable that writes ``changes`` on the given connection (the log's
        transaction); it raises ``LogMovedError`` if the stored latest version is not the
        first change's base."""
        ...

    def adopt(self, changes: Sequence[IndexCommit]) -> None:
        """Take ``changes`` (written by a committed writer) as the latest."""
        ...

    def refresh(self) -> IndexRoot:
        """Re-read the latest version from storage (another process may have appended)."""
        ...

    def prune_between(self, previous: int, current: int) -> int:
        """Drop the versions strictly between two kept ones (checkpoint sizes)."""
        ...


IndexWriter = Callable[[Any], None]


class _Overlay:
    """``NodeStore`` reads through ``base`` plus commits staged in memory (several index
    versions in one log transaction)."""

    def __init__(self, base: NodeStore) -> None:
        self._base = base
        self._latest = base.latest()
        self._nodes: dict[int, Node] = {}

    def latest(self) -> IndexRoot:
        return self._latest

    def root(self, version: int) -> IndexRoot:
        return self._latest if version == self._latest.version else self._base.root(version)

    def node(self, node_id: int) -> Node:
        found = self._nodes.get(node_id)
        return found if found is not None else self._base.node(node_id)

    def commit(self, change: IndexCommit) -> None:
        self._nodes.update(change.nodes)
        self._latest = change.root

    def prune(self, keep_from: int) -> int:  # pragma: no cover - never called
        raise NotImplementedError


class LogIndex:
    """The verifiable index of one log (see the module docstring)."""

    def __init__(self, store: SqlIndexStore) -> None:
        self._store = store
        self._tree = IndexTree(store)
        self._staged: list[IndexCommit] = []
        self._read: Callable[[int, int], Iterable[bytes]] | None = None

    @property
    def store(self) -> SqlIndexStore:
        return self._store

    @property
    def size(self) -> int:
        """The log size the latest version indexes."""
        return self._store.latest().version

    # -- maintenance ------------------------------------------------------------------

    def _prepare(self, start: int, entries: Sequence[MapEntry]) -> list[IndexCommit]:
        if self._store.latest().version != start:
            self._store.refresh()
        base = self._store.latest().version
        if base < start and self._read is not None:
            # entries appended by a handle without an index (an older command): map them
            self.catch_up(start, self._read)
            base = self._store.latest().version
        if base != start:
            raise LogMovedError(
                f"index: staging entries from {start}: the index is at log size {base}"
            )
        overlay = _Overlay(self._store)
        tree = IndexTree(overlay)
        changes: list[IndexCommit] = []
        for i in range(0, len(entries), MAX_STAGE_ENTRIES):
            part = entries[i : i + MAX_STAGE_ENTRIES]
            updates = map_updates(part, tree.get, start + i)
            change = tree.prepare(updates.items(), version=start + i + len(part))
            overlay.commit(change)
            changes.append(change)
        return changes

    def stage(self, start: int, entries: Sequence[NewEntry]) -> IndexWriter:
        """Prepare the index versions for ``entries`` (indices ``start, start + 1, ...``;
        their ``leaf_hash``, ``kind``, ``subject`` and ``target`` are the map's inputs, as
        ``indexing.leaf_for`` derives them from the statement) and return the writer to
        run in the log's transaction.

        Raises:
            LogMovedError: the stored index is not at ``start`` (another handle appended:
                the log refreshes and stages again).
        """
        self._staged = self._prepare(start, entries)
        return self._store.writer(self._staged)

    def committed(self) -> None:
        """The log's transaction committed: the staged versions are the latest."""
        staged, self._staged = self._staged, []
        self._store.adopt(staged)

    def discard(self) -> None:
        """The log's transaction failed: forget the staged versions."""
        self._staged = []
        self._store.refresh()

    def catch_up(
        self, log_size: int | Callable[[], int], read: Callable[[int, int], Iterable[bytes]]
    ) -> int:
        """Index the stored entries from the index's size up to ``log_size``, reading
        their bytes with ``read(start, end)``; returns how many were indexed.

        ``log_size`` may be a callable reading the stored log's size: it is called after
        the index's own size is read, so an append by another handle in between (entries
        and index versions in one transaction) never looks like an index ahead of its log.

        Raises:
            InconsistentLogError: the index is ahead of the log (a damaged database).
        """
        self._read = read
        start = self._store.refresh().version
        log_size = log_size() if callable(log_size) else log_size
        if start > log_size:
            raise InconsistentLogError(
                f"index: the index covers {start} entries, the log only {log_size}"
            )
        done = 0
        while start < log_size:
            end = min(log_size, start + CATCH_UP_BATCH)
            inputs = [map_input_of(i, leaf) for i, leaf in enumerate(read(start, end), start)]
            try:
                self.extend(start, inputs)
            except (IndexConflictError, LogMovedError):
                start = self._store.refresh().version  # another handle indexed them
                continue
            done += end - start
            start = end
        return done

    def extend(self, start: int, inputs: Sequence[MapInput]) -> IndexRoot:
        """Index ``inputs`` (entries ``start, start + 1, ...``) in transactions of the
        index store's own, outside any log append (catching up, an auditor's rebuild, the
        bench); returns the new latest root.

        Raises:
            LogMovedError / IndexConflictError: the index is not at ``start``.
        """
        for change in self._prepare(start, inputs):
            self._store.commit(change)
        return self._store.latest()

    def checkpointed(self, previous: int, current: int) -> None:
        """A checkpoint of size ``current`` was recorded after one of ``previous``: the
        index versions in between serve no proof and are dropped."""
        if previous < current <= self._store.latest().version:
            self._store.prune_between(previous, current)

    # -- reads ------------------------------------------------------------------------

    def root_at(self, size: int) -> IndexRoot:
        """The index root at log size ``size``.

        Raises:
            OutOfRangeError / IndexVersionError: no version for that size.
        """
        if size > self._store.latest().version:
            self._store.refresh()
        return self._store.root(size)

    def prove_status(self, record_leaf_hash: bytes, size: int) -> LookupProof:
        """The lookup proof of a record's status key as of log size ``size``."""
        self.root_at(size)
        return self._tree.prove(status_key(record_leaf_hash), size)

    def prove_subject(self, subject: str, size: int) -> LookupProof:
        """The lookup proof of a subject's key as of log size ``size``."""
        self.root_at(size)
        return self._tree.prove(subject_key(subject), size)

    def get(self, key: bytes, size: int | None = None) -> bytes | None:
        return self._tree.get(key, size)
