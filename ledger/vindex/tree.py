"""The verifiable index tree: batch updates, lookups, and lookup / prefix proofs.

``IndexTree`` maps 32-byte keys to 32-byte values. Keys are added or their values replaced;
nothing is ever removed (the index only grows with the log). All reads and writes go through
a ``NodeStore``; the tree itself holds no nodes, so its memory does not grow with the index.

- ``prepare(updates)`` computes one batch in a single pass over the changed paths and
  returns an ``IndexCommit`` (new root, new nodes, replaced node ids) without writing;
  ``apply(updates)`` also commits it. A batch is a set: a key given twice takes its last
  value, and the result does not depend on the order of distinct keys.
- ``get``, ``prove`` and ``prove_prefix`` work on any kept version, not only the latest.

Hashing follows ``hashing`` (torchwood ``mpt``); proofs are ``proof.LookupProof`` and
``proof.PrefixProof``, checked with ``verify``. This module does not encode or verify
proofs and does no I/O beyond the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from credex.ledger.errors import IndexFormatError, StorageError
from credex.ledger.vindex.batch import check_key, check_value, plan_batch
from credex.ledger.vindex.hashing import EMPTY_ROOT, KEY_BITS, KEY_SIZE, climb, leaf_hash
from credex.ledger.vindex.proof import LookupProof, PrefixProof
from credex.ledger.vindex.store import MAX_VERSION, IndexCommit, IndexRoot, NodeStore

__all__ = ["MAX_BATCH", "IndexTree"]

#: the most distinct keys one batch may carry
MAX_BATCH: Final = 1 << 17

#: one inner node passed on the way down: (bit, sibling hash, hash of the child taken)
_Step = tuple[int, bytes, bytes]


class IndexTree:
    """The index over a ``NodeStore``. One writer at a time: the store's ``commit``
    refuses a batch prepared on a version that is no longer the latest."""

    def __init__(self, store: NodeStore) -> None:
        self._store = store

    @property
    def store(self) -> NodeStore:
        return self._store

    def root(self, version: int | None = None) -> IndexRoot:
        """The latest root, or the root of ``version``."""
        return self._store.latest() if version is None else self._store.root(version)

    # -- updates ----------------------------------------------------------------------

    def prepare(
        self, updates: Iterable[tuple[bytes, bytes]], *, version: int | None = None
    ) -> IndexCommit:
        """Compute the batch ``updates`` on the latest version, without writing.

        Args:
            updates: ``(key, value)`` pairs, 32 bytes each; a repeated key takes its last
                value. At most ``MAX_BATCH`` distinct keys.
            version: the new version number; default latest + 1. Must exceed the latest
                (so a node may number versions by the log size each one indexes).

        Raises:
            IndexFormatError: a key or value of the wrong size or type, a batch too large,
                or a version that does not exceed the latest.
        """
        base = self._store.latest()
        new_version = base.version + 1 if version is None else version
        if type(new_version) is not int or not base.version < new_version <= MAX_VERSION:
            raise IndexFormatError(
                f"index: new version: expected {base.version + 1}..{MAX_VERSION}, got {new_version}"
            )
        staged: dict[bytes, bytes] = {}
        for key, value in updates:
            check_key(key)
            check_value(key, value)
            staged[key] = value
        if len(staged) > MAX_BATCH:
            raise IndexFormatError(
                f"index: batch too large: expected <= {MAX_BATCH} keys, got {len(staged)}"
            )
        if not staged:
            return IndexCommit(
                base.version, IndexRoot(new_version, base.node, base.hash, base.size), {}, ()
            )
        keys = sorted(staged)
        (nid, h), added, nodes, stale = plan_batch(
            self._store.node, base, new_version, keys, [staged[k] for k in keys]
        )
        root = IndexRoot(new_version, nid, h, base.size + added)
        return IndexCommit(base.version, root, nodes, tuple(stale))

    def apply(
        self, updates: Iterable[tuple[bytes, bytes]], *, version: int | None = None
    ) -> IndexRoot:
        """``prepare`` then commit to the store; the new root."""
        change = self.prepare(updates, version=version)
        self._store.commit(change)
        return change.root

    def set(self, key: bytes, value: bytes) -> IndexRoot:
        """Add ``key`` or replace its value, as a batch of one."""
        return self.apply([(key, value)])

    # -- reads ------------------------------------------------------------------------

    def _descend(self, root: IndexRoot, target: int) -> tuple[bytes, bytes, list[_Step]]:
        """The leaf ``(key, value)`` a lookup for the 256-bit ``target`` reaches, and the
        inner nodes passed on the way down."""
        get = self._store.node
        assert root.node is not None
        node = get(root.node)
        down: list[_Step] = []
        while len(node) != 2:
            bit, _, left, right, lh, rh = node
            if (target >> (KEY_BITS - 1 - bit)) & 1:
                down.append((bit, lh, rh))
                node = get(right)
            else:
                down.append((bit, rh, lh))
                node = get(left)
        return node[0], node[1], down

    def get(self, key: bytes, version: int | None = None) -> bytes | None:
        """The value of ``key`` (latest version, or ``version``); ``None`` if absent."""
        check_key(key)
        root = self.root(version)
        if root.node is None:
            return None
        lkey, lvalue, _ = self._descend(root, int.from_bytes(key))
        return lvalue if lkey == key else None

    def prove(self, key: bytes, version: int | None = None) -> LookupProof:
        """A proof of the value of ``key``, or of its absence, as of the latest version or
        ``version``. It is checked against the root before it is returned.

        Raises:
            IndexFormatError: ``key`` is not 32 bytes.
            StorageError: the stored nodes do not hash to the root (a damaged store).
        """
        check_key(key)
        root = self.root(version)
        if root.node is None:
            return LookupProof(key, None, None, ())
        lkey, lvalue, down = self._descend(root, int.from_bytes(key))
        path = tuple((bit, sibling) for bit, sibling, _ in reversed(down))
        _self_check(root, climb(leaf_hash(lkey, lvalue), key, lkey, path, below=KEY_BITS))
        if lkey == key:
            return LookupProof(key, lvalue, None, path)
        return LookupProof(key, None, (lkey, lvalue), path)

    def prove_prefix(self, prefix: bytes, version: int | None = None) -> PrefixProof:
        """A proof of the subtree holding every key that starts with ``prefix`` (0 to 32
        bytes) as of the latest version or ``version``; its hash is ``EMPTY_ROOT`` when no
        key does (torchwood ``ProvePrefix``).

        Raises:
            IndexFormatError: ``prefix`` is not bytes of at most 32.
            StorageError: the stored nodes do not hash to the root.
        """
        if type(prefix) is not bytes:
            raise IndexFormatError(f"index: prefix: expected bytes, got {type(prefix).__name__}")
        if len(prefix) > KEY_SIZE:
            raise IndexFormatError(
                f"index: prefix: expected 0..{KEY_SIZE} bytes, got {len(prefix)}"
            )
        root = self.root(version)
        if root.node is None:
            return PrefixProof(prefix, EMPTY_ROOT, None, ())
        # look the prefix up as a key, padded the torchwood way (0x00, then 0xFF)
        target = int.from_bytes((prefix + b"\x00" + b"\xff" * KEY_SIZE)[:KEY_SIZE])
        lkey, lvalue, down = self._descend(root, target)
        if not lkey.startswith(prefix):
            path = tuple((bit, sibling) for bit, sibling, _ in reversed(down))
            _self_check(root, climb(leaf_hash(lkey, lvalue), prefix, lkey, path, below=KEY_BITS))
            return PrefixProof(prefix, EMPTY_ROOT, (lkey, lvalue), path)
        # the subtree is the first node on the way down that splits at or past the prefix
        # (or the leaf); the nodes above it split inside the prefix and form the proof
        width = 8 * len(prefix)
        above = 0
        while above < len(down) and down[above][0] < width:
            above += 1
        subtree = root.hash if above == 0 else down[above - 1][2]
        path = tuple((bit, sibling) for bit, sibling, _ in reversed(down[:above]))
        _self_check(root, climb(subtree, prefix, prefix, path, below=width))
        return PrefixProof(prefix, subtree, None, path)

    def items(self, version: int | None = None) -> Iterator[tuple[bytes, bytes]]:
        """Every ``(key, value)`` of the latest version or ``version``, in key order."""
        root = self.root(version)
        if root.node is None:
            return
        get = self._store.node
        stack = [root.node]
        while stack:
            node = get(stack.pop())
            if len(node) == 2:
                yield node
            else:
                stack.append(node[3])
                stack.append(node[2])


def _self_check(root: IndexRoot, reached: bytes) -> None:
    if reached != root.hash:
        raise StorageError(
            f"index: stored nodes of version {root.version} do not hash to its root:"
            f" expected {root.hash.hex()}, got {reached.hex()}"
        )
