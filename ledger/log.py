"""``AppendOnlyLog``: sequencing, group commit and integration of the RFC 9162 log.

The log assigns each new leaf the next index, deduplicates by leaf hash (a leaf already in
the log, or twice in one batch, gets its existing index back; leaves the caller has shown
absent below some size are checked against this handle's own appends since then, in
memory, not the store), hashes the new subtree nodes
on a *copy* of its ``CompactRange``, and hands entries and nodes to a ``LogStore`` in one
transaction. Only after the store commits does the in-memory range move forward, so a
result is never acknowledged before it is durable, and a failed commit changes nothing.

Two ways in, one integration path, serialised by one lock:

- ``append_many(items)``: synchronous; the whole sequence is one transaction.
- ``submit(item)``: group commit (``credex.ledger.group_commit``): batches of up to
  ``max_batch`` items, waiting at most ``max_delay_s``, each integrated as above; every
  future resolves only after its batch's commit. ``close`` flushes the queue.

Reads never take the lock and never rebuild the tree: a root or proof for any past size is
a fold over the O(log n) stored subtree hashes named by ``merkle.inclusion_plan`` /
``consistency_plan`` / ``range_nodes``. Opening a log reads O(log n) nodes to restore its
compact range and checks that the latest recorded checkpoint matches the stored tree.
It does not sign checkpoints, parse signed notes or statements, or know the database
(``record_checkpoint`` takes signed notes; the ``LogStore`` is the caller's to close).
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Final, Protocol

from credex.ledger.errors import (
    CredexError,
    FormatError,
    InconsistentLogError,
    LogMovedError,
    NotFoundError,
    OutOfRangeError,
    OversizeError,
    StorageError,
)
from credex.ledger.group_commit import GroupCommit
from credex.ledger.merkle import (
    CompactRange,
    NodeId,
    Plan,
    consistency_plan,
    fold,
    inclusion_plan,
    leaf_hash,
    plan_nodes,
    proof_from_plan,
    range_nodes,
)
from credex.ledger.node_cache import BLOCK, BLOCK_LEVEL, NodeCache, pack_block
from credex.ledger.storage.base import Entry, LogStore, NewEntry, StoredCheckpoint

__all__ = ["MAX_LEAF_BYTES", "AppendOnlyLog", "AppendResult", "LogIndexer", "NewLeaf"]

#: leaf hashes of its own latest appends a log keeps, to check new leaves against
_RECENT_MAX: Final = 1 << 14
_INT64_MIN: Final = -(1 << 63)
_INT64_MAX: Final = (1 << 63) - 1
#: the largest leaf (statement as logged, without receipts) the log accepts: C2SP
#: tlog-tiles entry bundles prefix each entry with a big-endian uint16 length
MAX_LEAF_BYTES: Final = 65535


@dataclass(frozen=True, slots=True)
class NewLeaf:
    """A leaf to append: the statement bytes and what the store indexes them by
    (``iat``: the statement's issued-at, Unix seconds, signed 64-bit)."""

    leaf: bytes
    kind: str
    issuer: str
    iat: int
    record_hash: bytes | None = None
    #: the statement's CWT ``sub`` (indexed for subject lookups)
    subject: str | None = None
    #: ``refs[0]`` of a lifecycle statement: the record it is about (indexed)
    target: bytes | None = None
    #: a clear 双公示 penalty's decision number (indexed; ``ledger/indexing.py``)
    decision_no: str | None = None

    def __post_init__(self) -> None:
        if not _INT64_MIN <= self.iat <= _INT64_MAX:
            raise FormatError(f"log: iat out of range: expected signed 64-bit, got {self.iat}")
        if len(self.leaf) > MAX_LEAF_BYTES:
            raise OversizeError(
                f"log: leaf too large: expected <= {MAX_LEAF_BYTES} bytes, got {len(self.leaf)}"
            )


class LogIndexer(Protocol):
    """What the log needs from its verifiable index (``credex.ledger.log_index.LogIndex``)."""

    def stage(self, start: int, entries: Sequence[NewEntry]) -> Callable[[Any], None]: ...
    def committed(self) -> None: ...
    def discard(self) -> None: ...
    def catch_up(
        self, log_size: int | Callable[[], int], read: Callable[[int, int], Iterable[bytes]]
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where a submitted leaf is: ``is_new`` is false if the log already held it."""

    index: int
    leaf_hash: bytes
    is_new: bool


class AppendOnlyLog:
    """The node's append-only Merkle log over a ``LogStore``. Thread-safe."""

    def __init__(
        self,
        store: LogStore,
        *,
        max_batch: int = 1024,
        max_delay_s: float = 0.002,
        index: LogIndexer | None = None,
        node_cache: NodeCache | None = None,
    ) -> None:
        """Open the log stored in ``store``; with ``index`` (``credex.ledger.log_index``),
        keep the log's verifiable index in step: each batch writes its index versions in
        its own transaction, and an index behind the log is caught up here.
        ``node_cache``: where immutable subtree hashes are kept (default: a ``NodeCache``
        of the standard bounds).

        Raises:
            ValueError: ``max_batch < 1`` or ``max_delay_s < 0``.
            StorageError: the store fails or holds an incomplete tree.
            InconsistentLogError: the latest recorded checkpoint does not match the stored
                tree (its size is beyond the log, or its root differs).
        """
        self._store = store
        #: serialises integration (append_many, the group commit, record_checkpoint)
        self._lock = threading.RLock()
        self._group: GroupCommit[tuple[NewLeaf, bytes], AppendResult] = GroupCommit(
            self._commit_group,
            max_batch=max_batch,
            max_delay_s=max_delay_s,
            name="credex-log-sequencer",
        )
        self._closed = False
        self._cache = NodeCache() if node_cache is None else node_cache
        self._range = CompactRange()  # (no complete block is cached before the load)
        #: the leaf hashes of the last batches this handle appended: (start, hashes) per
        #: batch, contiguous up to the size, and leaf hash -> index over all of them
        self._recent_batches: deque[tuple[int, list[bytes]]] = deque()
        self._recent: dict[bytes, int] = {}
        self._range = self._load_range()
        #: leaf hashes of the incomplete block at the right edge, if all were appended here
        self._tail: list[bytes] | None = [] if self._range.size % BLOCK == 0 else None
        self._check_latest_checkpoint()
        self._index = index
        if index is not None:  # the stored size, read after the index's own (log_index.py)
            index.catch_up(self._store.size, self._leaves)

    def _leaves(self, start: int, end: int) -> list[bytes]:
        return [e.leaf for e in self._store.get_entries(start, end)]

    @property
    def index(self) -> LogIndexer | None:
        """The verifiable index kept with this log, if any."""
        return self._index

    # -- opening -----------------------------------------------------------------------------

    def _load_range(self) -> CompactRange:
        size = self._store.size()
        ids = range_nodes(0, size)
        found = self._nodes(ids)
        return CompactRange(size, [found[nid] for nid in ids])

    def _check_latest_checkpoint(self) -> None:
        cp = self._store.latest_checkpoint()
        if cp is None:
            return
        size = self._range.size
        if cp.tree_size > size:
            raise InconsistentLogError(
                f"log: recorded checkpoint is beyond the stored tree: expected size <= {size}, "
                f"got {cp.tree_size}",
                old_checkpoint=cp.note,
            )
        root = self._root_at(cp.tree_size)
        if root != cp.root:
            raise InconsistentLogError(
                f"log: recorded checkpoint does not match the stored tree at size "
                f"{cp.tree_size}: expected root {cp.root.hex()}, got {root.hex()}",
                old_checkpoint=cp.note,
            )

    # -- appending ---------------------------------------------------------------------------

    def append_many(
        self, items: Sequence[NewLeaf], *, absent_below: int | None = None
    ) -> list[AppendResult]:
        """Append ``items`` in one transaction; results are in the order of ``items``.

        Durable when it returns. A leaf already in the log (or earlier in ``items``) is not
        stored again: its result carries the existing index and ``is_new=False``.

        ``absent_below``: the caller has shown that no entry below this size holds any
        of ``items`` (``LocalNode`` does, by record hash, for the leaves it has just
        signed). Then only the entries from there on are searched, in memory when this
        handle appended them itself (the last ``_RECENT_MAX`` leaves), instead of one
        index probe per leaf.

        Raises:
            StorageError: the store failed or the log is closed; nothing was appended.
        """
        hashes = [leaf_hash(item.leaf) for item in items]
        with self._lock:
            if self._closed:
                raise StorageError("log: append refused: log is closed")
            return self._integrate(items, hashes, absent_below)

    def submit(self, item: NewLeaf) -> Future[AppendResult]:
        """Queue ``item`` for the next group commit; the future resolves once it is durable.

        On a store failure the future's exception is the ``StorageError`` of its batch.

        Raises:
            StorageError: the log is closed.
        """
        return self._group.submit((item, leaf_hash(item.leaf)))

    def submit_many(self, items: Sequence[NewLeaf]) -> Future[list[AppendResult]]:
        """Queue ``items`` together for the next group commit (one future for all, in one
        batch); the future resolves with their results, in order, once they are durable.

        Raises:
            StorageError: the log is closed.
        """
        return self._group.submit_many([(item, leaf_hash(item.leaf)) for item in items])

    def _commit_group(self, batch: Sequence[tuple[NewLeaf, bytes]]) -> list[AppendResult]:
        with self._lock:
            return self._integrate([p[0] for p in batch], [p[1] for p in batch])

    def _integrate(
        self, items: Sequence[NewLeaf], hashes: Sequence[bytes], absent_below: int | None = None
    ) -> list[AppendResult]:
        """Sequence, hash, commit, then advance. Caller holds ``self._lock``.

        If another handle on the same database appended since this one last looked (a
        CLI command next to a running server), the store refuses the batch with
        ``LogMovedError``; the log then adopts the store's tree (only if it extends its
        own) and sequences the batch once more on top of it.
        """
        if not items:
            return []
        before = self._range.size
        try:
            return self._integrate_once(items, hashes, absent_below)
        except LogMovedError:
            self.refresh()  # (already done on the way out; idempotent)
            if self._range.size == before:
                raise
            return self._integrate_once(items, hashes, absent_below)

    def _known(self, hashes: Sequence[bytes], absent_below: int | None) -> dict[bytes, int]:
        """The indices of the entries already holding any of ``hashes``: from the leaves
        this handle appended since ``absent_below`` when it kept them all (nothing below
        holds one: the caller's word), else from the store."""
        if absent_below is not None and (
            absent_below >= self._range.size
            or (self._recent_batches and self._recent_batches[0][0] <= absent_below)
        ):
            recent = self._recent
            known: dict[bytes, int] = {}
            for h in hashes:
                i = recent.get(h)
                if i is not None and i >= absent_below:
                    known[h] = i
            return known
        return self._store.find_indices(set(hashes))

    def _remember(self, start: int, entries: Sequence[NewEntry]) -> None:
        """Keep the leaf hashes just appended (contiguous with those kept before)."""
        batches = self._recent_batches
        if batches and batches[-1][0] + len(batches[-1][1]) != start:
            self._forget_recent()
        hashes = [e.leaf_hash for e in entries]
        batches.append((start, hashes))
        self._recent.update(zip(hashes, range(start, start + len(hashes)), strict=True))
        while len(self._recent) > _RECENT_MAX and len(batches) > 1:
            for h in batches.popleft()[1]:
                self._recent.pop(h, None)

    def _forget_recent(self) -> None:
        self._recent.clear()
        self._recent_batches.clear()

    def _integrate_once(
        self, items: Sequence[NewLeaf], hashes: Sequence[bytes], absent_below: int | None = None
    ) -> list[AppendResult]:
        known = self._known(hashes, absent_below)
        cr = self._range.copy()
        start = cr.size
        results: list[AppendResult] = []
        entries: list[NewEntry] = []
        nodes: list[tuple[NodeId, bytes]] = []
        for item, h in zip(items, hashes, strict=True):
            index = known.get(h)
            if index is not None:
                results.append(AppendResult(index, h, False))
                continue
            index = cr.size
            known[h] = index
            fields = (item.leaf, item.kind, item.issuer, item.iat, item.record_hash)
            keys = (item.subject, item.target, item.decision_no)
            entries.append(NewEntry(h, *fields, *keys))
            nodes.extend(cr.append(h)[1:])  # level 0 is the entry's own leaf_hash
            results.append(AppendResult(index, h, True))
        if entries:
            indexer = self._index
            try:
                if indexer is None:
                    self._store.append(start, entries, nodes)
                else:
                    self._store.append(start, entries, nodes, indexer.stage(start, entries))
            except BaseException:
                if indexer is not None:
                    indexer.discard()
                self.refresh()
                raise
            if indexer is not None:
                indexer.committed()
            self._range = cr
            self._keep_new(start, [e.leaf_hash for e in entries], nodes)
            self._remember(start, entries)
        return results

    def _keep_new(
        self, start: int, leaves: Sequence[bytes], nodes: Sequence[tuple[NodeId, bytes]]
    ) -> None:
        """Put what a committed batch added into the node cache (the in-memory edge):
        the blocks it completed, its nodes of 32 leaves or more, and the leaves and
        nodes of the block left incomplete at the right edge, which the receipts of the
        batch (proofs at the new size) read. Caller holds ``self._lock``."""
        cache, tail = self._cache, self._tail
        end = start + len(leaves)
        edge = end >> BLOCK_LEVEL << BLOCK_LEVEL  # the first leaf of the incomplete block
        for i, h in enumerate(leaves, start):
            if tail is not None:
                tail.append(h)
                if len(tail) == BLOCK:
                    cache.add_block(i >> BLOCK_LEVEL, pack_block(tail))
                    tail = []
            elif i % BLOCK == BLOCK - 1:
                tail = []  # the next block starts here: its leaves are all seen
        self._tail = tail
        keep = [(nid, h) for nid, h in nodes if nid[0] >= BLOCK_LEVEL or nid[1] << nid[0] >= edge]
        keep.extend(((0, i), h) for i, h in enumerate(leaves, start) if i >= edge)
        cache.add_upper(keep)

    def limit_node_cache(self, max_blocks: int, max_upper: int) -> None:
        """Keep fewer immutable subtree hashes in memory (``NodeCache.limit``): a bulk
        import appends and makes no proofs, so it needs little more than the right edge."""
        self._cache.limit(max_blocks, max_upper)

    def refresh(self) -> int:
        """Adopt the store's tree if it grew and extends ours; returns the size. It grows
        when another handle on the same store appended (a command next to a running
        server), or when a connection lost during COMMIT reported failure for a written
        transaction (the submitters saw an error and may resubmit; dedupe answers). A
        failure here is left unreported: the caller's own error, if any, is what counts.
        """
        with self._lock:
            old = self._range
            try:
                if self._store.size() > old.size:
                    fresh = self._load_range()
                    if self._root_at(old.size) == old.root():
                        self._range = fresh
                        self._tail = [] if fresh.size % BLOCK == 0 else None
                        self._forget_recent()  # entries appended elsewhere: not kept
            except CredexError:
                pass
            return self._range.size

    def close(self) -> None:
        """Commit everything already submitted, then stop the sequencer. Idempotent.

        The store stays open: its owner closes it.
        """
        self._closed = True
        self._group.close()

    def __enter__(self) -> AppendOnlyLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """The number of acknowledged (durable) entries."""
        return self._range.size

    def compact_range(self) -> CompactRange:
        """A copy of the tree's right edge (to compute prospective roots without storing)."""
        with self._lock:
            return self._range.copy()

    def _nodes(self, ids: Collection[NodeId], *, blocks: bool = True) -> dict[NodeId, bytes]:
        """Node hashes by id, in at most one store read. Perfect-subtree hashes never
        change once stored, so a bounded in-memory cache (``NodeCache``) keeps the upper
        levels, whole blocks of 32 leaves (levels 0 to 5), read in one piece when one
        of their nodes is wanted and the block is complete, and single nodes of the
        incomplete block at the right edge (``blocks`` false: a tile's rows are read and
        kept node by node only at the upper levels)."""
        cache = self._cache
        # blocks below this one are complete
        complete = self._range.size >> BLOCK_LEVEL if blocks else 0
        found: dict[NodeId, bytes] = {}
        in_blocks: dict[int, list[NodeId]] = {}
        wanted: list[NodeId] = []
        for nid in ids:
            level, i = nid
            if level < BLOCK_LEVEL and (b := (i << level) >> BLOCK_LEVEL) < complete:
                in_blocks.setdefault(b, []).append(nid)
                continue
            h = cache.upper(nid)
            if h is None:
                wanted.append(nid)
            else:
                found[nid] = h
        missing = []
        for b, nids in in_blocks.items():
            packed = cache.block(b)
            if packed is None:
                missing.append(b)
                continue
            for nid in nids:
                found[nid] = cache.node_in(packed, b, nid)
        leaves = [(0, j) for b in missing for j in range(b << BLOCK_LEVEL, (b + 1) << BLOCK_LEVEL)]
        if not wanted and not leaves:
            return found
        fetched = self._store.get_nodes([*wanted, *leaves])
        if any(nid not in fetched for nid in wanted) or any(n not in fetched for n in leaves):
            gone = [nid for nid in (*wanted, *leaves) if nid not in fetched]
            raise StorageError(f"log: stored tree is incomplete: missing node {min(gone)}")
        for nid in wanted:
            found[nid] = fetched[nid]
        cache.add_upper((nid, fetched[nid]) for nid in wanted if blocks or nid[0] >= BLOCK_LEVEL)
        for b in missing:
            first = b << BLOCK_LEVEL
            packed = pack_block([fetched[(0, j)] for j in range(first, first + BLOCK)])
            cache.add_block(b, packed)
            for nid in in_blocks[b]:
                found[nid] = cache.node_in(packed, b, nid)
        return found

    def _root_at(self, size: int) -> bytes:
        ids = range_nodes(0, size)
        found = self._nodes(ids)
        return fold([found[nid] for nid in ids])

    def _check_size(self, size: int, current: int) -> None:
        if not 0 <= size <= current:
            raise OutOfRangeError(
                f"log: tree size out of range: expected 0 <= size <= {current}, got {size}"
            )

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of ``size`` entries (default: the current size).

        Raises:
            OutOfRangeError: ``size`` is negative or beyond the current size.
        """
        cr = self._range
        if size is None or size == cr.size:
            return cr.root()
        self._check_size(size, cr.size)
        return self._root_at(size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The RFC 9162 inclusion proof of entry ``index`` in the tree of ``size`` entries.

        Raises:
            OutOfRangeError: ``size`` beyond the current size, or ``index >= size``.
        """
        current = self._range.size
        size = current if size is None else size
        self._check_size(size, current)
        if not 0 <= index < size:
            raise OutOfRangeError(
                f"log: leaf index out of range: expected 0 <= index < {size}, got {index}"
            )
        plan = inclusion_plan(index, size)
        return proof_from_plan(plan, self._nodes(plan_nodes(plan)))

    def leaf_and_inclusion_proof(self, index: int, size: int) -> tuple[bytes, list[bytes]]:
        """The leaf hash of entry ``index`` and its inclusion proof, in one node read.

        Raises:
            OutOfRangeError: ``size`` beyond the current size, or ``index >= size``.
        """
        self._check_size(size, self._range.size)
        if not 0 <= index < size:
            raise OutOfRangeError(
                f"log: leaf index out of range: expected 0 <= index < {size}, got {index}"
            )
        plan = inclusion_plan(index, size)
        nodes = self._nodes(plan_nodes(plan) | {(0, index)})
        return nodes[(0, index)], proof_from_plan(plan, nodes)

    def inclusion_proofs(self, indices: Sequence[int], size: int) -> list[list[bytes]]:
        """Inclusion proofs of many entries in the tree of ``size``, with one node read
        (a batch of receipts shares most of its upper nodes).

        Raises:
            OutOfRangeError: ``size`` beyond the current size, or an index >= size.
        """
        return [proof for _, proof in self._proofs(indices, size, leaves=False)]

    def leaves_and_inclusion_proofs(
        self, indices: Sequence[int], size: int
    ) -> list[tuple[bytes, list[bytes]]]:
        """The leaf hash and inclusion proof of each entry of ``indices`` (in that order)
        in the tree of ``size``, with at most one node read.

        Raises:
            OutOfRangeError: ``size`` beyond the current size, or an index >= size.
        """
        return self._proofs(indices, size, leaves=True)

    def _proofs(
        self, indices: Sequence[int], size: int, *, leaves: bool
    ) -> list[tuple[bytes, list[bytes]]]:
        """Each index's leaf hash (``leaves``, else ``b""``) and inclusion proof at
        ``size``, from one node read. An index's proof (``inclusion_plan``) is its
        siblings inside the perfect subtree of the tree of ``size`` that holds it, one
        per level, then the right-edge part every index of that subtree shares: the edge
        is planned once per subtree and the siblings are gathered level by level, so a
        batch of neighbours (a batch of receipts) reads each node once."""
        self._check_size(size, self._range.size)
        for index in indices:
            if not 0 <= index < size:
                raise OutOfRangeError(
                    f"log: leaf index out of range: expected 0 <= index < {size}, got {index}"
                )
        subtrees = range_nodes(0, size)  # left to right; the first ends past every index
        ends = [(pos + 1) << level for level, pos in subtrees]
        groups: dict[int, list[int]] = {}
        for index in indices:
            groups.setdefault(bisect_right(ends, index), []).append(index)
        ids: set[NodeId] = set()
        edges: dict[int, Plan] = {}
        siblings: list[set[int]] = []  # by level: the sibling positions wanted
        for t, members in groups.items():
            level, pos = subtrees[t]
            edges[t] = edge = inclusion_plan(pos << level, size)[level:]
            ids.update(plan_nodes(edge))
            while len(siblings) < level:
                siblings.append(set())
            for lv in range(level):
                siblings[lv].update((i >> lv) ^ 1 for i in members)
        for lv, positions in enumerate(siblings):
            ids.update((lv, j) for j in positions)
        if leaves:
            ids.update((0, index) for index in indices)
        nodes = self._nodes(ids)
        by_level = [{j: nodes[(lv, j)] for j in positions} for lv, positions in enumerate(siblings)]
        tails = {t: proof_from_plan(edge, nodes) for t, edge in edges.items()}
        out: list[tuple[bytes, list[bytes]]] = []
        for index in indices:
            t = bisect_right(ends, index)
            level = subtrees[t][0]
            proof = [by_level[lv][(index >> lv) ^ 1] for lv in range(level)]
            proof.extend(tails[t])
            out.append((nodes[(0, index)] if leaves else b"", proof))
        return out

    def subtree_hashes(self, level: int, start: int, end: int, size: int) -> list[bytes]:
        """The hashes of the perfect subtrees ``(level, i)`` for ``start <= i < end``, each
        of ``2**level`` leaves and all inside the tree of ``size`` entries (level 0: leaf
        hashes): the rows of a C2SP tlog-tiles tile (tree level ``8 * tile level``).

        Raises:
            OutOfRangeError: ``size`` beyond the current size, a bad level or range, or a
                subtree that does not fit in ``size`` entries.
        """
        self._check_size(size, self._range.size)
        if not 0 <= level < 63 or not 0 <= start <= end or end > (size >> level):
            raise OutOfRangeError(
                f"log: subtree range invalid: expected level < 63 and "
                f"0 <= start <= end <= {size} >> level, got level {level}, {start}..{end}"
            )
        ids = [(level, i) for i in range(start, end)]
        found = self._nodes(ids, blocks=False)
        return [found[nid] for nid in ids]

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The RFC 9162 consistency proof from ``old_size`` to ``new_size`` (default: current).

        Raises:
            OutOfRangeError: ``new_size`` beyond the current size, or ``old_size > new_size``.
        """
        current = self._range.size
        new_size = current if new_size is None else new_size
        self._check_size(new_size, current)
        if not 0 <= old_size <= new_size:
            raise OutOfRangeError(
                f"log: consistency range invalid: expected 0 <= old <= new, "
                f"got old {old_size}, new {new_size}"
            )
        plan = consistency_plan(old_size, new_size)
        return proof_from_plan(plan, self._nodes(plan_nodes(plan)))

    def entry(self, index: int) -> Entry:
        """The entry at ``index``.

        Raises:
            NotFoundError: no entry at ``index`` (negative or ``>= size``).
        """
        size = self._range.size
        if not 0 <= index < size:
            raise NotFoundError(f"log: entry not found: expected 0 <= index < {size}, got {index}")
        found = self._store.get_entries(index, index + 1)
        if not found:
            raise StorageError(f"log: stored entry missing: index {index}")
        return found[0]

    def entries(self, start: int, end: int) -> list[Entry]:
        """Entries ``start <= index < end``, in order.

        Raises:
            OutOfRangeError: not ``0 <= start <= end <= size``.
        """
        size = self._range.size
        if not 0 <= start <= end <= size:
            raise OutOfRangeError(
                f"log: entry range invalid: expected 0 <= start <= end <= {size}, "
                f"got start {start}, end {end}"
            )
        found = self._store.get_entries(start, end)
        if len(found) != end - start:
            raise StorageError(
                f"log: stored entries missing: expected {end - start}, got {len(found)}"
            )
        return found

    def by_subject(
        self, subject: str, kinds: Collection[str] | None = None, end: int | None = None
    ) -> list[Entry]:
        """Acknowledged entries about ``subject`` (of ``kinds`` if given; below ``end``,
        default the size), in index order: one index read."""
        return self._store.find_by_subject(subject, kinds, self._below(end))

    def by_target(self, target: bytes, end: int | None = None) -> list[Entry]:
        """Acknowledged lifecycle entries whose ``refs[0]`` is ``target`` (below ``end``,
        default the size), in index order: one index read."""
        return self._store.find_by_target(target, self._below(end))

    def by_decision_no(self, decision_no: str, end: int | None = None) -> list[Entry]:
        """Acknowledged entries logged with ``decision_no`` (below ``end``, default the
        size), in index order: one index read."""
        return self._store.find_by_decision_no(decision_no, self._below(end))

    def _below(self, end: int | None) -> int:
        return self._range.size if end is None else min(end, self._range.size)

    def index_of(self, leaf_hash: bytes) -> int:
        """The index of the entry with ``leaf_hash``.

        Raises:
            NotFoundError: no acknowledged entry has that leaf hash.
        """
        index = self._store.find_indices([leaf_hash]).get(leaf_hash)
        if index is None or index >= self._range.size:
            raise NotFoundError(f"log: leaf hash not found: {leaf_hash.hex()}")
        return index

    # -- checkpoints -------------------------------------------------------------------------
    def record_checkpoint(
        self, size: int, root: bytes, note: str, created_at: int
    ) -> StoredCheckpoint:
        """Store a signed checkpoint of this log; ``note`` is its signed-note text.

        The caller signs; this checks that the log never goes back on itself. Recording
        the same size again (more cosignatures) replaces the note, not ``created_at``.

        Raises:
            OutOfRangeError: ``size`` beyond the current size.
            InconsistentLogError: ``size`` below the latest recorded size, or ``root`` is
                not this log's root at ``size``.
        """
        with self._lock:
            latest = self._store.latest_checkpoint()
            previous = "" if latest is None else latest.note
            if latest is not None and size < latest.tree_size:
                raise InconsistentLogError(
                    f"log: checkpoint refused: expected size >= {latest.tree_size}, got {size}",
                    old_checkpoint=previous,
                    new_checkpoint=note,
                )
            actual = self.root(size)
            if root != actual:
                raise InconsistentLogError(
                    f"log: checkpoint refused: root mismatch at size {size}: "
                    f"expected {actual.hex()}, got {root.hex()}",
                    old_checkpoint=previous,
                    new_checkpoint=note,
                )
            if latest is not None and latest.tree_size == size:
                created_at = latest.created_at  # when this size was first recorded
            checkpoint = StoredCheckpoint(size, root, note, created_at)
            self._store.add_checkpoint(checkpoint)
            return checkpoint

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        """The recorded checkpoint with the largest size, if any."""
        return self._store.latest_checkpoint()

    def logged_window(self, index: int) -> tuple[int, int | None]:
        """When entry ``index`` was logged: after, and by (``ledger.logtime``)."""
        a, b = self._store.checkpoints_around(index)
        return (0 if a is None else a.created_at), b.created_at if b else None

    def checkpoint(self, tree_size: int) -> StoredCheckpoint:
        """The recorded checkpoint of ``tree_size``.

        Raises:
            NotFoundError: none was recorded for that size.
        """
        found = self._store.get_checkpoint(tree_size)
        if found is None:
            raise NotFoundError(f"log: checkpoint not found: tree size {tree_size}")
        return found
