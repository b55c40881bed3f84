"""A bulk import's memory bounds (issue #16, ``LocalNode.limit_memory_for_bulk``): each
cache it shrinks stays within its new bound, and what the log and its index compute
through the small caches equals what they compute through the default ones (real SQLite
files; PostgreSQL where the store is shared)."""

from __future__ import annotations

from pathlib import Path

from credex.ledger.log import AppendOnlyLog, NewLeaf
from credex.ledger.log_index import LogIndex
from credex.ledger.node_cache import NodeCache
from credex.ledger.storage.index_store import SqlNodeStore
from credex.ledger.storage.sql import SqlStore


def _leaves(n: int, start: int = 0) -> list[NewLeaf]:
    return [
        NewLeaf(b"entry %d" % i, "score.city", "x/y", i, b"%032d" % i, f"s{i % 7}")
        for i in range(start, start + n)
    ]


def test_node_cache_limit_drops_the_oldest_and_bounds_what_follows() -> None:
    cache = NodeCache()
    for b in range(10):
        cache.add_block(b, bytes([b]))
    cache.add_upper([((5, i), bytes([i])) for i in range(10)])
    cache.limit(3, 2)
    assert [b for b in range(10) if cache.block(b) is not None] == [7, 8, 9]
    assert [i for i in range(10) if cache.upper((5, i)) is not None] == [8, 9]
    cache.add_block(10, b"\x0a")
    cache.add_upper([((5, 10), b"\x0a")])
    assert len(cache) == 5 and cache.block(7) is None and cache.upper((5, 8)) is None


def test_page_cache_limit_applies_to_every_new_connection(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite:///{tmp_path / 'log.db'}")
    try:
        with store._read() as conn:  # the engine's default: 32 MiB
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -32_768
        store.limit_page_cache(1024)
        with store._read() as conn, store._read() as other:
            for c in (conn, other):
                assert c.exec_driver_sql("PRAGMA cache_size").scalar() == -1024
    finally:
        store.close()


def test_bounded_index_caches_compute_the_same_roots(tmp_path: Path) -> None:
    """A log of 600 entries with its index, once with a bulk import's bounds shrunk to
    a few nodes, once with the defaults: the same roots and proofs, and the small
    caches stay within their bounds."""
    roots = {}
    for name in ("bounded", "default"):
        url = f"sqlite:///{tmp_path / f'{name}.db'}"
        store, nodes = SqlStore(url), SqlNodeStore(url)
        try:
            if name == "bounded":
                nodes.limit_memory(16, pinned=4, page_cache_kib=256, mmap_bytes=0)
                store.limit_page_cache(256)
                nodes.limit_page_cache(256)
            index = LogIndex(nodes)
            log = AppendOnlyLog(store, index=index)
            if name == "bounded":
                log.limit_node_cache(2, 8)
            for start in range(0, 600, 50):
                log.append_many(_leaves(50, start))
                if name == "bounded":
                    assert len(nodes._cache) <= 16 and nodes.pinned <= 4
                    assert len(log._cache) <= 10
            proofs = [log.inclusion_proof(i, 600) for i in (0, 299, 599)]
            status = index.prove_status(log.entry(123).leaf_hash, 600)
            if name == "bounded":
                with nodes._read() as conn:
                    assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -256
                root = nodes.latest().node
                assert root is not None and nodes._read_node(root) is not None
                reader = nodes._local.reader  # this thread's, opened by that read
                assert reader.execute("PRAGMA mmap_size").fetchone()[0] == 0
                assert reader.execute("PRAGMA cache_size").fetchone()[0] == -256
                # new bounds reach a reader already open, at its next read
                nodes.limit_memory(16, pinned=4, page_cache_kib=512, mmap_bytes=0)
                assert nodes._read_node(root) is not None
                assert reader.execute("PRAGMA cache_size").fetchone()[0] == -512
            roots[name] = (log.root(600), index.root_at(600).hash, proofs, status)
            log.close()
        finally:
            store.close()
            nodes.close()
    assert roots["bounded"] == roots["default"]
