"""``IndexTree`` over ``MemoryNodeStore``: updates, versions, pruning, reads and refusals."""

from __future__ import annotations

import hashlib

import pytest

from credex.ledger.errors import (
    IndexConflictError,
    IndexFormatError,
    IndexVersionError,
    OutOfRangeError,
    StorageError,
)
from credex.ledger.vindex import (
    EMPTY_ROOT,
    IndexRoot,
    IndexTree,
    MemoryNodeStore,
    compute_root,
    leaf_hash,
    verify_lookup,
)
from credex.ledger.vindex.store import SEQ_BITS, Node, node_version
from credex.ledger.vindex.tree import MAX_BATCH


def key(i: int) -> bytes:
    return hashlib.sha256(b"test-key:%d" % i).digest()


def value(i: int, round_: int = 0) -> bytes:
    return hashlib.sha256(b"test-value:%d:%d" % (i, round_)).digest()


def new_tree() -> IndexTree:
    return IndexTree(MemoryNodeStore())


def test_empty_tree() -> None:
    tree = new_tree()
    root = tree.root()
    assert root == IndexRoot(0, None, EMPTY_ROOT, 0)
    assert tree.get(key(1)) is None
    assert list(tree.items()) == []
    proof = tree.prove(key(1))
    assert (proof.value, proof.leaf, proof.path) == (None, None, ())
    verify_lookup(EMPTY_ROOT, key(1), None, proof)


def test_one_leaf_root_is_its_leaf_hash() -> None:
    tree = new_tree()
    root = tree.set(key(1), value(1))
    assert root.hash == leaf_hash(key(1), value(1))
    assert (root.version, root.size) == (1, 1)
    assert tree.get(key(1)) == value(1)


def test_insert_update_and_read_back() -> None:
    tree = new_tree()
    tree.apply((key(i), value(i)) for i in range(100))
    tree.apply((key(i), value(i, 1)) for i in range(0, 100, 3))
    root = tree.root()
    assert (root.version, root.size) == (2, 100)
    for i in range(100):
        assert tree.get(key(i)) == value(i, 1 if i % 3 == 0 else 0)
    expected = sorted((key(i), value(i, 1 if i % 3 == 0 else 0)) for i in range(100))
    assert list(tree.items()) == expected
    assert compute_root(expected) == root.hash


def test_repeated_key_in_a_batch_takes_its_last_value() -> None:
    tree = new_tree()
    tree.apply([(key(1), value(1)), (key(2), value(2)), (key(1), value(3))])
    assert tree.get(key(1)) == value(3)
    assert tree.root().size == 2


def test_same_value_changes_nothing() -> None:
    tree = new_tree()
    first = tree.apply((key(i), value(i)) for i in range(50))
    change = tree.prepare([(key(7), value(7)), (key(9), value(9))])
    assert change.nodes == {} and change.stale == ()
    assert (change.root.node, change.root.hash, change.root.size) == (
        first.node,
        first.hash,
        first.size,
    )


def test_empty_batch_is_a_new_version_with_the_same_root() -> None:
    tree = new_tree()
    before = tree.set(key(1), value(1))
    after = tree.apply([])
    assert after.version == before.version + 1
    assert (after.node, after.hash, after.size) == (before.node, before.hash, before.size)


def test_commit_lists_new_and_replaced_nodes() -> None:
    tree = new_tree()
    tree.apply((key(i), value(i)) for i in range(64))
    change = tree.prepare([(key(5), value(5, 1))])
    assert change.base == 1 and change.root.version == 2
    # one new leaf and a new node for every inner node on its path; the old ones are stale
    proof = tree.prove(key(5))
    assert len(change.nodes) == len(proof.path) + 1
    assert len(change.stale) == len(proof.path) + 1
    assert all(node_version(n) == 2 for n in change.nodes)
    assert all(node_version(n) == 1 for n in change.stale)
    assert change.root.node is not None and change.root.node >> SEQ_BITS == 2


def test_prepare_writes_nothing() -> None:
    store = MemoryNodeStore()
    tree = IndexTree(store)
    tree.apply((key(i), value(i)) for i in range(10))
    nodes = len(store)
    tree.prepare([(key(100), value(100))])
    assert len(store) == nodes and tree.root().version == 1


def test_commit_on_a_stale_base_is_refused() -> None:
    tree = new_tree()
    tree.set(key(1), value(1))
    a = tree.prepare([(key(2), value(2))])
    b = tree.prepare([(key(3), value(3))])
    tree.store.commit(a)
    with pytest.raises(IndexConflictError, match="builds on version 1: expected a commit on 2"):
        tree.store.commit(b)
    assert tree.get(key(3)) is None and tree.get(key(2)) == value(2)


def test_versions_chosen_by_the_caller() -> None:
    tree = new_tree()
    tree.apply([(key(1), value(1))], version=100)
    tree.apply([(key(2), value(2))], version=250)
    assert tree.root().version == 250
    assert tree.get(key(2), version=100) is None
    assert tree.get(key(1), version=100) == value(1)
    with pytest.raises(IndexFormatError, match="new version: expected 251"):
        tree.apply([(key(3), value(3))], version=250)
    with pytest.raises(IndexVersionError, match="no version 101"):
        tree.root(101)
    with pytest.raises(OutOfRangeError, match="newer than the latest"):
        tree.root(251)


def test_older_versions_stay_readable_and_provable() -> None:
    tree = new_tree()
    v1 = tree.apply((key(i), value(i)) for i in range(20))
    v2 = tree.apply([(key(3), value(3, 2)), (key(30), value(30))])
    assert tree.get(key(3), version=1) == value(3)
    assert tree.get(key(3)) == value(3, 2)
    assert tree.get(key(30), version=1) is None
    old = tree.prove(key(30), version=1)
    verify_lookup(v1.hash, key(30), None, old)
    new = tree.prove(key(30))
    verify_lookup(v2.hash, key(30), value(30), new)


def test_prune_drops_only_what_old_versions_reach() -> None:
    store = MemoryNodeStore()
    tree = IndexTree(store)
    tree.apply((key(i), value(i)) for i in range(200))
    for r in range(1, 6):
        tree.apply((key(i), value(i, r)) for i in range(r, 200, 7))
    live = 2 * 200 - 1
    assert len(store) > live
    dropped = store.prune(6)
    assert dropped > 0 and len(store) == live
    for i in range(200):
        verify_lookup(tree.root().hash, key(i), tree.get(key(i)), tree.prove(key(i)))
    with pytest.raises(IndexVersionError, match="version 5 is pruned: expected >= 6"):
        tree.root(5)
    with pytest.raises(OutOfRangeError, match="cannot prune the latest"):
        store.prune(7)


def test_prune_keeps_the_versions_asked_for() -> None:
    store = MemoryNodeStore()
    tree = IndexTree(store)
    roots = [
        tree.apply((key(i), value(i, r)) for i in range(r * 10, r * 10 + 30)) for r in range(6)
    ]
    store.prune(3)
    for r in range(3, 6):
        for i in range(0, 90, 11):
            expected = tree.get(key(i), version=roots[r].version)
            verify_lookup(
                roots[r].hash, key(i), expected, tree.prove(key(i), version=roots[r].version)
            )


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ((b"\x00" * 31, b"\x00" * 32), "key: expected 32 bytes, got 31"),
        ((b"\x00" * 33, b"\x00" * 32), "key: expected 32 bytes, got 33"),
        ((bytearray(32), b"\x00" * 32), "key: expected 32 bytes, got 32"),
        (("k" * 32, b"\x00" * 32), "key: expected 32 bytes, got str"),
        ((b"\x00" * 32, b"\x00" * 31), "expected 32 bytes, got 31"),
        ((b"\x00" * 32, None), "expected 32 bytes, got NoneType"),
    ],
    ids=["short-key", "long-key", "bytearray-key", "text-key", "short-value", "no-value"],
)
def test_bad_pairs_are_refused(pair: tuple[object, object], message: str) -> None:
    tree = new_tree()
    with pytest.raises(IndexFormatError, match=message):
        tree.apply([pair])  # type: ignore[list-item]
    assert tree.root().version == 0


def test_batch_size_is_bounded() -> None:
    tree = new_tree()
    with pytest.raises(IndexFormatError, match="batch too large"):
        tree.prepare((i.to_bytes(32, "big"), b"\x00" * 32) for i in range(MAX_BATCH + 1))


def test_bad_reads_are_refused() -> None:
    tree = new_tree()
    tree.set(key(1), value(1))
    with pytest.raises(IndexFormatError, match="key: expected 32 bytes, got 3"):
        tree.get(b"abc")
    with pytest.raises(IndexFormatError, match="key: expected 32 bytes"):
        tree.prove(b"")
    with pytest.raises(IndexFormatError, match=r"prefix: expected 0\.\.32 bytes, got 33"):
        tree.prove_prefix(b"\x00" * 33)


def test_a_damaged_store_is_caught_before_a_proof_leaves() -> None:
    store = MemoryNodeStore()
    tree = IndexTree(store)
    tree.apply((key(i), value(i)) for i in range(16))
    proof = tree.prove(key(4))
    # overwrite the leaf of key 4 in place, as a corrupted database row would
    leaf_ids = [n for n, node in store._nodes.items() if len(node) == 2 and node[0] == key(4)]
    store._nodes[leaf_ids[0]] = (key(4), value(99))
    with pytest.raises(StorageError, match="do not hash to its root"):
        tree.prove(key(4))
    assert proof.value == value(4)


def test_a_missing_node_is_a_storage_error() -> None:
    store = MemoryNodeStore()
    tree = IndexTree(store)
    tree.apply((key(i), value(i)) for i in range(4))
    root = tree.root()
    assert root.node is not None
    del store._nodes[root.node]
    with pytest.raises(StorageError, match="is not in the store"):
        tree.get(key(1))


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ((-1, None, EMPTY_ROOT, 0), OutOfRangeError, "version out of range"),
        ((1, None, b"\x00" * 31, 0), StorageError, "root hash: expected 32 bytes"),
        ((1, None, EMPTY_ROOT, 3), StorageError, "node and size disagree"),
        ((1, None, b"\x00" * 32, 0), StorageError, "empty root of version 1"),
    ],
    ids=["negative-version", "short-hash", "size-without-node", "empty-with-wrong-hash"],
)
def test_index_root_is_validated(
    args: tuple[int, int | None, bytes, int], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        IndexRoot(*args)


class CountingStore(MemoryNodeStore):
    """A memory store that counts node reads, as a bounded-cache SQL store would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def node(self, node_id: int) -> Node:
        self.reads += 1
        return super().node(node_id)


def test_reads_touch_one_path_per_key() -> None:
    store = CountingStore()
    tree = IndexTree(store)
    for start in range(0, 4096, 1024):
        tree.apply((key(i), value(i)) for i in range(start, start + 1024))
    for i in (1, 2000, 5000):
        store.reads = 0
        proof = tree.prove(key(i))
        # the inner nodes on the path, then the leaf: no sibling is ever read
        assert store.reads == len(proof.path) + 1
        store.reads = 0
        tree.get(key(i))
        assert store.reads == len(proof.path) + 1


def test_a_batch_reads_only_its_paths() -> None:
    store = CountingStore()
    tree = IndexTree(store)
    for start in range(0, 8192, 2048):
        tree.apply((key(i), value(i)) for i in range(start, start + 2048))
    batch = [(key(i), value(i, 1)) for i in range(0, 8192, 256)] + [
        (key(i), value(i)) for i in range(9000, 9032)
    ]
    paths = sum(len(tree.prove(k).path) + 1 for k, _ in batch)
    store.reads = 0
    change = tree.prepare(batch)
    # shared upper nodes are read once: at most one read per node on the batch's paths
    assert 0 < store.reads <= paths
    assert len(change.nodes) <= paths + len(batch)
