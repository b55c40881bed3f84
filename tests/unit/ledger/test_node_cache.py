"""``NodeCache`` and the log reading through it (SQLite file and PostgreSQL schema)."""

from __future__ import annotations

from collections.abc import Collection

import pytest

from credex.ledger.errors import StorageError
from credex.ledger.log import AppendOnlyLog, NewLeaf
from credex.ledger.merkle import MerkleTree, NodeId, leaf_hash
from credex.ledger.node_cache import BLOCK, NodeCache, pack_block
from credex.ledger.storage.sql import SqlStore


class CountingStore(SqlStore):
    """A real store that counts node reads and can lose nodes on demand."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.reads = 0
        self.lose: set[NodeId] = set()

    def get_nodes(self, ids: Collection[NodeId]) -> dict[NodeId, bytes]:
        self.reads += 1
        found = super().get_nodes(ids)
        return {nid: h for nid, h in found.items() if nid not in self.lose}


def _leaves(n: int, start: int = 0) -> list[NewLeaf]:
    return [NewLeaf(b"entry %d" % i, "score.city", "x/y", i) for i in range(start, start + n)]


def test_pack_block_holds_every_level() -> None:
    data = [b"%d" % i for i in range(BLOCK)]
    tree = MerkleTree(data)
    packed = pack_block([leaf_hash(d) for d in data])
    assert len(packed) == (2 * BLOCK - 1) * 32
    assert NodeCache.node_in(packed, 0, (5, 0)) == tree.root()
    assert NodeCache.node_in(packed, 0, (0, 7)) == leaf_hash(data[7])
    with pytest.raises(ValueError, match="a block has 32 leaves"):
        pack_block([b"\x00" * 32])


def test_cache_is_bounded_oldest_first() -> None:
    cache = NodeCache(max_blocks=2, max_upper=2)
    for b in range(3):
        cache.add_block(b, bytes([b]))
    cache.add_upper([((5, i), bytes([i])) for i in range(3)])
    assert cache.block(0) is None and cache.block(2) == b"\x02"
    assert cache.upper((5, 0)) is None and cache.upper((5, 2)) == b"\x02"
    assert len(cache) == 4
    none = NodeCache(max_blocks=0, max_upper=0)
    none.add_block(0, b"\x00")
    none.add_upper([((5, 0), b"\x00")])
    assert len(none) == 0


def test_proofs_through_a_tiny_cache_match_the_tree(store_url: str) -> None:
    """Every proof of every size equals the in-memory tree's while blocks and upper nodes
    are evicted all the time, and the block at the right edge (incomplete) is never kept."""
    store = CountingStore(store_url)
    log = AppendOnlyLog(store, node_cache=NodeCache(max_blocks=2, max_upper=3))
    try:
        log.append_many(_leaves(100))
        tree = MerkleTree([b"entry %d" % i for i in range(100)])
        for size in (1, 31, 32, 33, 64, 95, 100):
            for index in range(size):
                assert log.inclusion_proof(index, size) == tree.inclusion_proof(index, size)
        for old in (1, 32, 33, 70):
            assert log.consistency_proof(old, 100) == tree.consistency_proof(old, 100)
        assert len(log._cache) <= 5
        log.append_many(_leaves(30, 100))  # block 3 (96..127) still incomplete at 130
        tree = MerkleTree([b"entry %d" % i for i in range(130)])
        for index in range(90, 130):
            leaf, proof = log.leaf_and_inclusion_proof(index, 130)
            assert (leaf, proof) == (tree.node((0, index)), tree.inclusion_proof(index, 130))
    finally:
        log.close()
        store.close()


def test_a_cached_proof_reads_nothing(store_url: str) -> None:
    store = CountingStore(store_url)
    log = AppendOnlyLog(store)
    try:
        log.append_many(_leaves(200))
        first = log.inclusion_proof(77, 200)
        reads = store.reads
        assert log.inclusion_proof(77, 200) == first
        assert log.inclusion_proof(78, 200) is not None  # the same right edge: cached
        assert log.inclusion_proof(79, 192) is not None  # whole blocks only
        assert store.reads == reads
    finally:
        log.close()
        store.close()


def test_a_lost_node_is_still_named(store_url: str) -> None:
    store = CountingStore(store_url)
    with AppendOnlyLog(store) as first:
        first.append_many(_leaves(64))
    log = AppendOnlyLog(store)  # a cold cache
    try:
        store.lose = {(0, 40)}
        with pytest.raises(StorageError, match=r"incomplete: missing node \(0, 40\)"):
            log.inclusion_proof(41, 64)
    finally:
        log.close()
        store.close()


def test_what_a_batch_appends_is_kept_so_its_receipts_read_nothing(store_url: str) -> None:
    """Receipts of a batch are proofs at the new size: the blocks it completed, its upper
    nodes and its incomplete block at the right edge come from memory, across batches
    that split blocks; after a reopen (tail unknown) the next block boundary resumes it."""
    store = CountingStore(store_url)
    log = AppendOnlyLog(store)
    try:
        tree = MerkleTree()
        for n in (5, 40, 1, 77, 13, 64):
            first = log.size
            log.append_many(_leaves(n, first))
            for i in range(first, first + n):
                tree.append(b"entry %d" % i)
            reads = store.reads
            proofs = log.inclusion_proofs(range(first, log.size), log.size)
            assert proofs == [tree.inclusion_proof(i, log.size) for i in range(first, log.size)]
            assert store.reads == reads, n
    finally:
        log.close()
    reopened = AppendOnlyLog(store)  # 200 entries: the edge block's first leaves unknown
    try:
        reopened.append_many(_leaves(40, 200))
        for i in range(200, 240):
            tree.append(b"entry %d" % i)
        assert reopened.inclusion_proofs(range(240), 240) == [
            tree.inclusion_proof(i, 240) for i in range(240)
        ]
    finally:
        reopened.close()
        store.close()
