"""Node layout of the verifiable index and the storage seam it is read and written through.

Nodes are immutable and versioned. Every commit (one batch of updates) gets a version; the
nodes it creates get ids ``version << SEQ_BITS | seq`` (``seq`` counts from 0 within the
batch), and a node is never rewritten: an update writes a new node for every node on the
changed paths and leaves the old ones in place. A root of any kept version therefore still
reaches exactly the nodes of that version, which is how a proof is produced as of an older
checkpoint, and each commit lists the node ids it replaced (``stale``) so ``prune`` can drop
what only pruned versions reach (the Jellyfish Merkle tree / Diem approach; docs/index.md).

A node is a plain tuple, for speed (the update loop creates a dozen per key):

- leaf ``(key, value)``: two 32-byte ``bytes``;
- inner ``(bit, prefix, left, right, left_hash, right_hash)``: the bit it splits at, the
  first ``bit`` key bits shared by its subtree as a 256-bit integer (lower bits zero: its
  *label*), its children's ids and their hashes. A node's own hash lives in its parent (the
  root's in its ``IndexRoot``), so updating or proving a path never reads a sibling node.

This module does not hash, and holds no tree logic; ``MemoryNodeStore`` keeps everything in
dicts (tests, small indexes); the node implements ``NodeStore`` on SQL with a bounded cache.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

from credex.ledger.errors import (
    IndexConflictError,
    IndexVersionError,
    OutOfRangeError,
    StorageError,
)
from credex.ledger.vindex.hashing import EMPTY_ROOT, HASH_SIZE

__all__ = [
    "MAX_VERSION",
    "SEQ_BITS",
    "IndexCommit",
    "IndexRoot",
    "Inner",
    "Leaf",
    "MemoryNodeStore",
    "Node",
    "NodeStore",
    "is_leaf",
    "node_version",
]

#: node ids are ``version << SEQ_BITS | seq``: at most 2**24 new nodes per commit
SEQ_BITS: Final = 24
#: the largest version, so that every node id fits a signed 64-bit SQL integer
MAX_VERSION: Final = (1 << (63 - SEQ_BITS)) - 1

Leaf = tuple[bytes, bytes]
Inner = tuple[int, int, int, int, bytes, bytes]
Node = Leaf | Inner


def is_leaf(node: Node) -> bool:
    """Whether ``node`` is a leaf ``(key, value)``."""
    return len(node) == 2


def node_version(node_id: int) -> int:
    """The version (commit) that created node ``node_id``."""
    return node_id >> SEQ_BITS


@dataclass(frozen=True, slots=True)
class IndexRoot:
    """One committed version of the index: its root node id (``None`` when empty), the
    root hash (what checkpoints commit to) and the number of keys."""

    version: int
    node: int | None
    hash: bytes
    size: int

    def __post_init__(self) -> None:
        if not 0 <= self.version <= MAX_VERSION:
            raise OutOfRangeError(
                f"index: version out of range: expected 0..{MAX_VERSION}, got {self.version}"
            )
        if len(self.hash) != HASH_SIZE:
            raise StorageError(
                f"index: root hash: expected {HASH_SIZE} bytes, got {len(self.hash)}"
            )
        if (self.node is None) != (self.size == 0) or self.size < 0:
            raise StorageError(
                f"index: root of version {self.version}: node and size disagree (size {self.size})"
            )
        if self.node is None and self.hash != EMPTY_ROOT:
            raise StorageError(
                f"index: empty root of version {self.version}: expected hash"
                f" {EMPTY_ROOT.hex()}, got {self.hash.hex()}"
            )


@dataclass(frozen=True, slots=True)
class IndexCommit:
    """What one batch changes, to be written in one transaction: the new root, the nodes
    it created (by id) and the ids of the nodes it replaced. ``base`` is the version the
    batch was prepared on; a store refuses the commit if that is no longer its latest."""

    base: int
    root: IndexRoot
    nodes: Mapping[int, Node] = field(repr=False)
    stale: tuple[int, ...] = field(repr=False)


class NodeStore(Protocol):
    """Where the index keeps its nodes and roots (in memory here; SQL in the node).

    Reads are by exact node id and exact version, so a store can serve them from a
    bounded cache over a table keyed by id; a lookup or an update touches O(log n) nodes.
    """

    def latest(self) -> IndexRoot:
        """The newest committed version (version 0, the empty index, before any commit)."""
        ...

    def root(self, version: int) -> IndexRoot:
        """The root of ``version``.

        Raises:
            OutOfRangeError: ``version`` is newer than the latest.
            IndexVersionError: ``version`` was pruned or never committed.
        """
        ...

    def node(self, node_id: int) -> Node:
        """The node ``node_id``.

        Raises:
            StorageError: no such node (a pruned version's node, or a damaged store).
        """
        ...

    def commit(self, change: IndexCommit) -> None:
        """Write ``change`` atomically: its nodes, its root and its stale list.

        Raises:
            IndexConflictError: ``change.base`` is not the latest version any more.
        """
        ...

    def prune(self, keep_from: int) -> int:
        """Drop every version older than ``keep_from`` and the nodes only they reach;
        return how many nodes were dropped.

        Raises:
            OutOfRangeError: ``keep_from`` is newer than the latest version.
        """
        ...


class MemoryNodeStore:
    """``NodeStore`` in dicts: every node of every kept version stays in memory."""

    def __init__(self) -> None:
        empty = IndexRoot(0, None, EMPTY_ROOT, 0)
        self._nodes: dict[int, Node] = {}
        self._roots: dict[int, IndexRoot] = {0: empty}
        self._stale: dict[int, tuple[int, ...]] = {}
        self._latest = empty
        self._oldest = 0

    def __len__(self) -> int:
        """Number of stored nodes, over all kept versions."""
        return len(self._nodes)

    def latest(self) -> IndexRoot:
        return self._latest

    def root(self, version: int) -> IndexRoot:
        found = self._roots.get(version)
        if found is not None:
            return found
        if version > self._latest.version:
            raise OutOfRangeError(
                f"index: version is newer than the latest: expected <= "
                f"{self._latest.version}, got {version}"
            )
        if version < self._oldest:
            raise IndexVersionError(
                f"index: version {version} is pruned: expected >= {self._oldest}"
            )
        raise IndexVersionError(f"index: no version {version}: it was never committed")

    def node(self, node_id: int) -> Node:
        try:
            return self._nodes[node_id]
        except KeyError:
            raise StorageError(f"index: node {node_id:#x} is not in the store") from None

    def commit(self, change: IndexCommit) -> None:
        latest = self._latest.version
        if change.base != latest or change.root.version <= latest:
            raise IndexConflictError(
                f"index: commit of version {change.root.version} builds on version"
                f" {change.base}: expected a commit on {latest}"
            )
        self._nodes.update(change.nodes)
        self._stale[change.root.version] = change.stale
        self._roots[change.root.version] = change.root
        self._latest = change.root

    def prune(self, keep_from: int) -> int:
        if keep_from > self._latest.version:
            raise OutOfRangeError(
                f"index: cannot prune the latest version: expected keep_from <= "
                f"{self._latest.version}, got {keep_from}"
            )
        dropped = 0
        # a node replaced by version v is reached only by versions older than v
        for version in [v for v in self._stale if v <= keep_from]:
            for node_id in self._stale.pop(version):
                if self._nodes.pop(node_id, None) is not None:
                    dropped += 1
        for version in [v for v in self._roots if v < keep_from]:
            del self._roots[version]
        self._oldest = max(self._oldest, keep_from)
        return dropped
