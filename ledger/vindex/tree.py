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

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from hashlib import sha256
from itertools import count
from typing import Final

from credex.ledger.errors import IndexFormatError, StorageError
from credex.ledger.vindex.hashing import (
    EMPTY_ROOT,
    INNER_PREFIX,
    KEY_BITS,
    KEY_SIZE,
    LEAF_PREFIX,
    VALUE_LEN,
    VALUE_SIZE,
    climb,
    leaf_hash,
)
from credex.ledger.vindex.proof import LookupProof, PrefixProof
from credex.ledger.vindex.store import (
    MAX_VERSION,
    SEQ_BITS,
    IndexCommit,
    IndexRoot,
    Inner,
    Node,
    NodeStore,
)

__all__ = ["MAX_BATCH", "IndexTree"]

#: the most distinct keys one batch may carry
MAX_BATCH: Final = 1 << 17

_Result = tuple[int, bytes]  # (node id, node hash)
#: one inner node passed on the way down: (bit, sibling hash, hash of the child taken)
_Step = tuple[int, bytes, bytes]


def _size(x: object) -> str:
    return str(len(x)) if isinstance(x, bytes | bytearray) else type(x).__name__


def _check_key(key: object) -> None:
    if type(key) is not bytes or len(key) != KEY_SIZE:
        raise IndexFormatError(f"index: key: expected {KEY_SIZE} bytes, got {_size(key)}")


def _check_value(key: bytes, value: object) -> None:
    if type(value) is not bytes or len(value) != VALUE_SIZE:
        raise IndexFormatError(
            f"index: value for key {key.hex()}: expected {VALUE_SIZE} bytes, got {_size(value)}"
        )


def _plan(
    get: Callable[[int], Node],
    base: IndexRoot,
    version: int,
    keys: list[bytes],
    vals: list[bytes],
) -> tuple[_Result, int, dict[int, Node], list[int]]:
    """One pass of a batch over the tree: the new root, the number of keys added, the new
    nodes and the ids of the nodes they replace. ``keys`` are sorted and distinct.

    Written as closures over locals: this is the hot loop (about a dozen nodes per key at a
    million keys), and local and cell reads are the cheapest lookups CPython has.
    """
    ks = [int.from_bytes(k) for k in keys]
    nodes: dict[int, Node] = {}
    stale: list[int] = []
    next_id = count(version << SEQ_BITS).__next__
    limit = (version + 1) << SEQ_BITS
    inner_prefix, leaf_prefix, value_len = INNER_PREFIX, LEAF_PREFIX, VALUE_LEN
    top = KEY_BITS - 1
    replaced = 0
    created = 0

    def new_leaf(i: int) -> _Result:
        nonlocal created
        created += 1
        nid = next_id()
        key, value = keys[i], vals[i]
        nodes[nid] = (key, value)
        return nid, sha256(leaf_prefix + key + value_len + value).digest()

    def new_inner(bit: int, prefix: int, left: _Result, right: _Result) -> _Result:
        nid = next_id()
        if nid >= limit:
            raise IndexFormatError(
                f"index: batch creates too many nodes: expected < {1 << SEQ_BITS}"
            )
        lh, rh = left[1], right[1]
        nodes[nid] = (bit, prefix, left[0], right[0], lh, rh)
        return nid, sha256(inner_prefix[bit] + lh + rh).digest()

    def build(lo: int, hi: int) -> _Result:
        # a fresh subtree holding keys lo..hi-1
        if hi - lo == 1:
            return new_leaf(lo)
        first = ks[lo]
        bit = KEY_BITS - (first ^ ks[hi - 1]).bit_length()
        shift = top - bit
        prefix = first >> (shift + 1) << (shift + 1)
        mid = bisect_left(ks, prefix | (1 << shift), lo, hi)
        return new_inner(bit, prefix, build(lo, mid), build(mid, hi))

    def split(nid: int, nhash: bytes, label: int, common: int, lo: int, hi: int) -> _Result:
        # keys lo..hi-1 leave the prefix of subtree ``nid`` (label ``label``) at bit
        # ``common``: a new inner node there, with ``nid`` and those of the keys that share
        # its bit on one side and only new keys on the other
        shift = top - common
        prefix = label >> (shift + 1) << (shift + 1)
        mid = bisect_left(ks, prefix | (1 << shift), lo, hi)
        if (label >> shift) & 1:
            here = sub(nid, nhash, mid, hi)
            return new_inner(common, prefix, build(lo, mid), here)
        here = sub(nid, nhash, lo, mid)
        return new_inner(common, prefix, here, build(mid, hi))

    def sub(nid: int, nhash: bytes, lo: int, hi: int) -> _Result:
        n = hi - lo
        return (
            (nid, nhash)
            if n == 0
            else merge_one(nid, nhash, lo)
            if n == 1
            else merge(nid, nhash, lo, hi)
        )

    def merge_one(nid: int, nhash: bytes, i: int) -> _Result:
        # the subtree ``nid`` with key i added or updated: walk down, change the bottom,
        # rewrite the path back up (most nodes of a batch are on such single-key paths)
        nonlocal replaced, created
        k = ks[i]
        passed: list[tuple[int, Inner, int]] = []
        start = nid, nhash
        while True:
            node = get(nid)
            if len(node) == 2:
                if node[0] == keys[i]:
                    if vals[i] == node[1]:
                        return start  # same value: nothing changes
                    stale.append(nid)
                    replaced += 1
                    hid, h = new_leaf(i)
                    break
                label = int.from_bytes(node[0])
            else:
                label = node[1]
                bit = node[0]
                if not (k ^ label) >> (KEY_BITS - bit):
                    side = (k >> (top - bit)) & 1
                    passed.append((nid, node, side))
                    if side:
                        nid, nhash = node[3], node[5]
                    else:
                        nid, nhash = node[2], node[4]
                    continue
            # key i leaves this subtree's prefix: a new inner node above it, at the first
            # bit where they differ, with the new leaf on one side
            common = KEY_BITS - (k ^ label).bit_length()
            shift = top - common
            lid, lh = new_leaf(i)
            hid = next_id()
            prefix = label >> (shift + 1) << (shift + 1)
            if (k >> shift) & 1:
                nodes[hid] = (common, prefix, nid, lid, nhash, lh)
                h = sha256(inner_prefix[common] + nhash + lh).digest()
            else:
                nodes[hid] = (common, prefix, lid, nid, lh, nhash)
                h = sha256(inner_prefix[common] + lh + nhash).digest()
            break
        for pid, (bit, prefix, left, right, lh, rh), side in reversed(passed):
            stale.append(pid)
            nid = next_id()
            if side:
                nodes[nid] = (bit, prefix, left, hid, lh, h)
                h = sha256(inner_prefix[bit] + lh + h).digest()
            else:
                nodes[nid] = (bit, prefix, hid, right, h, rh)
                h = sha256(inner_prefix[bit] + h + rh).digest()
            hid = nid
        if hid >= limit:
            raise IndexFormatError(
                f"index: batch creates too many nodes: expected < {1 << SEQ_BITS}"
            )
        return hid, h

    def merge(nid: int, nhash: bytes, lo: int, hi: int) -> _Result:
        # the subtree ``nid`` with keys lo..hi-1 (two or more) added or updated: each of
        # these keys follows the path to ``nid``, but may leave its prefix at a bit the
        # path skipped
        node = get(nid)
        if len(node) == 2:
            label, depth = int.from_bytes(node[0]), KEY_BITS
        else:
            depth, label = node[0], node[1]
        # bits shared by all of lo..hi-1 and the label (keys are sorted: the ends suffice)
        common = KEY_BITS - ((ks[lo] ^ label) | (ks[hi - 1] ^ label)).bit_length()
        if common < depth:
            return split(nid, nhash, label, common, lo, hi)
        if len(node) == 2:
            raise AssertionError("distinct keys cannot all equal one leaf key")
        bit, prefix, left, right, lh, rh = node
        mid = bisect_left(ks, prefix | (1 << (top - bit)), lo, hi)
        n = mid - lo
        new_left = (
            (left, lh)
            if n == 0
            else merge_one(left, lh, lo)
            if n == 1
            else merge(left, lh, lo, mid)
        )
        n = hi - mid
        new_right = (
            (right, rh)
            if n == 0
            else merge_one(right, rh, mid)
            if n == 1
            else merge(right, rh, mid, hi)
        )
        if new_left[0] == left and new_right[0] == right:
            return nid, nhash
        stale.append(nid)
        lid, lh = new_left
        rid, rh = new_right
        new = next_id()
        nodes[new] = (bit, prefix, lid, rid, lh, rh)
        return new, sha256(inner_prefix[bit] + lh + rh).digest()

    n = len(keys)
    result = build(0, n) if base.node is None else sub(base.node, base.hash, 0, n)
    return result, created - replaced, nodes, stale


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
            _check_key(key)
            _check_value(key, value)
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
        (nid, h), added, nodes, stale = _plan(
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
        _check_key(key)
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
        _check_key(key)
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
        if type(prefix) is not bytes or len(prefix) > KEY_SIZE:
            raise IndexFormatError(
                f"index: prefix: expected 0..{KEY_SIZE} bytes, got {_size(prefix)}"
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
