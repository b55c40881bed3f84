"""The ``LogStore`` contract, run against every backend (SQLite file, PostgreSQL schema)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.engine import make_url

from credex.ledger.errors import StorageError
from credex.ledger.merkle import CompactRange, NodeId, leaf_hash
from credex.ledger.storage.base import LogStore, NewEntry, StoredCheckpoint
from credex.ledger.storage.sql import MIN_NODE_LEVEL, SqlStore

SECRET = b"SECRET-RECORD-BODY"


def make_batch(
    leaves: list[bytes], cr: CompactRange
) -> tuple[list[NewEntry], list[tuple[NodeId, bytes]]]:
    entries: list[NewEntry] = []
    nodes: list[tuple[NodeId, bytes]] = []
    for n, leaf in enumerate(leaves):
        h = leaf_hash(leaf)
        entries.append(NewEntry(h, leaf, f"kind-{n % 3}", "issuer-é", 1_700_000_000 + n))
        nodes.extend(cr.append(h)[1:])
    return entries, nodes


def test_sql_store_is_a_log_store(store: SqlStore) -> None:
    s: LogStore = store
    assert s.size() == 0


def test_empty_store(store: SqlStore) -> None:
    assert store.size() == 0
    assert store.get_entries(0, 10) == []
    assert store.find_indices([b"\x00" * 32]) == {}
    assert store.find_indices([]) == {}
    assert store.get_nodes([(0, 0), (1, 0)]) == {}
    assert store.latest_checkpoint() is None
    assert store.get_checkpoint(0) is None


def test_append_reads_back_exact_bytes(store: SqlStore) -> None:
    leaves = [b"", b"\x00", b"\x00\xff" * 50, bytes(range(256)) * 256, b"plain"]
    cr = CompactRange()
    entries, nodes = make_batch(leaves, cr)
    store.append(0, entries, nodes)
    assert store.size() == len(leaves)
    got = store.get_entries(0, len(leaves))
    assert [e.index for e in got] == list(range(len(leaves)))
    for e, want in zip(got, entries, strict=True):
        assert isinstance(e.leaf, bytes)
        assert isinstance(e.leaf_hash, bytes)
        assert (e.leaf_hash, e.leaf, e.kind, e.issuer, e.iat) == (
            want.leaf_hash,
            want.leaf,
            want.kind,
            want.issuer,
            want.iat,
        )
    assert [e.index for e in store.get_entries(1, 3)] == [1, 2]
    assert store.get_entries(3, 3) == []
    assert store.get_entries(4, 100)[0].leaf == b"plain"


def test_find_indices_and_nodes(store: SqlStore) -> None:
    leaves = [b"leaf-%d" % i for i in range(7)]
    cr = CompactRange()
    entries, nodes = make_batch(leaves, cr)
    store.append(0, entries, nodes)
    hashes = [e.leaf_hash for e in entries]
    assert store.find_indices([hashes[3], b"\x01" * 32, hashes[6]]) == {hashes[3]: 3, hashes[6]: 6}
    want = dict(nodes) | {(0, i): h for i, h in enumerate(hashes)}
    ids = [*want, (1, 3), (3, 0), (0, 7)]  # the last three do not exist yet
    assert store.get_nodes(ids) == want


def test_lookups_over_chunk_boundaries(store: SqlStore) -> None:
    n = 9000  # more than two chunks of bound parameters
    cr = CompactRange()
    entries, nodes = make_batch([i.to_bytes(4, "big") for i in range(n)], cr)
    store.append(0, entries, nodes)
    hashes = [e.leaf_hash for e in entries]
    assert store.find_indices(hashes) == {h: i for i, h in enumerate(hashes)}
    got = store.get_nodes([nid for nid, _ in nodes] + [(0, i) for i in range(n)])
    assert len(got) == len(nodes) + n
    assert got[(0, n - 1)] == hashes[-1]


def test_appends_continue(store: SqlStore) -> None:
    cr = CompactRange()
    for batch, count in enumerate((3, 1, 5, 4)):
        entries, nodes = make_batch([b"%d-%d" % (batch, i) for i in range(count)], cr)
        store.append(store.size(), entries, nodes)
    assert store.size() == 13
    assert [e.index for e in store.get_entries(0, 13)] == list(range(13))
    assert store.get_nodes([(3, 0)]) == {(3, 0): cr.edge()[0]}


@pytest.mark.parametrize("start", [1, 5], ids=["gap", "far"])
def test_append_refuses_wrong_start_index(store: SqlStore, start: int) -> None:
    entries, nodes = make_batch([b"a", b"b"], CompactRange())
    with pytest.raises(StorageError, match=f"expected start index 0, got {start}"):
        store.append(start, entries, nodes)
    assert store.size() == 0
    store.append(0, entries, nodes)
    with pytest.raises(StorageError, match="expected start index 2, got 0"):
        store.append(0, entries, nodes)
    assert store.size() == 2


def test_append_is_atomic(store: SqlStore) -> None:
    cr = CompactRange()
    entries, nodes = make_batch([b"x", b"y", b"z"], cr)
    # the third entry has no iat: the database refuses the batch after its first rows
    bad = [*entries[:2], NewEntry(entries[0].leaf_hash, SECRET, "k", "i", None)]  # type: ignore[arg-type]
    with pytest.raises(StorageError, match="sql store: append failed") as info:
        store.append(0, bad, nodes)
    assert store.size() == 0
    assert store.get_nodes([nid for nid, _ in nodes]) == {}
    assert store.find_indices([entries[0].leaf_hash]) == {}
    # no leaf bytes in the message or anywhere in the chained cause
    chain: BaseException | None = info.value
    while chain is not None:
        assert "SECRET" not in str(chain)
        assert "SECRET" not in repr(chain)
        chain = chain.__cause__ or chain.__context__


def test_duplicate_node_fails_whole_batch(store: SqlStore) -> None:
    entries, nodes = make_batch([b"%d" % i for i in range(64)], CompactRange())
    top = next(n for n in nodes if n[0][0] >= store.min_node_level)
    with pytest.raises(StorageError, match="sql store: append failed"):
        store.append(0, entries, [*nodes, top])
    assert store.size() == 0


def test_lower_levels_are_hashed_from_leaves_not_stored(store: SqlStore) -> None:
    """Levels 1 to 4 (5 on PostgreSQL) are hashed from their leaf hashes when read (absent
    until their subtree is complete); only levels >= ``min_node_level`` are rows of
    ``nodes``."""
    assert store.min_node_level == (6 if store._backend == "postgresql" else MIN_NODE_LEVEL)
    cr = CompactRange()
    entries, nodes = make_batch([b"n-%d" % i for i in range(70)], cr)
    store.append(0, entries, nodes)
    want = dict(nodes)
    assert store.get_nodes(list(want)) == want
    incomplete = [(1, 35), (2, 17), (3, 8), (4, 4), (5, 2), (6, 1)]
    assert store.get_nodes(incomplete) == {}
    with store._read() as conn:
        levels = {lv for (lv,) in conn.exec_driver_sql("SELECT level FROM nodes")}
    assert levels == set(range(store.min_node_level, 7))


def test_the_same_leaf_hash_twice_is_found_once(store: SqlStore) -> None:
    """No constraint makes ``leaf_hash`` unique (the log looks before it appends):
    ``find_indices`` answers the lowest index."""
    entries, nodes = make_batch([b"a", b"b"], CompactRange())
    store.append(0, entries, nodes)
    again, _ = make_batch([b"a"], CompactRange())
    store.append(2, again, [])
    assert store.find_indices([entries[0].leaf_hash]) == {entries[0].leaf_hash: 0}


def test_checkpoints(store: SqlStore) -> None:
    assert store.latest_checkpoint() is None
    cps = [StoredCheckpoint(s, bytes([s]) * 32, f"origin\n{s}\n", 1000 + s) for s in (3, 1, 7)]
    for cp in cps:
        store.add_checkpoint(cp)
    assert store.latest_checkpoint() == cps[2]
    assert store.get_checkpoint(1) == cps[1]
    assert store.get_checkpoint(2) is None
    cosigned = StoredCheckpoint(7, cps[2].root, cps[2].note + "\n— witness sig\n", 2000)
    store.add_checkpoint(cosigned)
    # the note is replaced; the time stays when the size was first recorded (logtime)
    assert store.latest_checkpoint() == StoredCheckpoint(7, cosigned.root, cosigned.note, 1007)


def test_checkpoints_around_an_index(store: SqlStore) -> None:
    assert store.checkpoints_around(0) == (None, None)
    cps = [StoredCheckpoint(s, bytes([s]) * 32, f"origin\n{s}\n", 1000 + s) for s in (3, 7)]
    for cp in cps:
        store.add_checkpoint(cp)
    assert store.checkpoints_around(0) == (None, cps[0])
    assert store.checkpoints_around(2) == (None, cps[0])
    assert store.checkpoints_around(3) == (cps[0], cps[1])
    assert store.checkpoints_around(6) == (cps[0], cps[1])
    assert store.checkpoints_around(7) == (cps[1], None)


def test_sixty_four_bit_values(store: SqlStore) -> None:
    big = (1 << 62) + 12345
    cp = StoredCheckpoint(big, b"\xab" * 32, "origin\nbig\n", (1 << 63) - 1)
    store.add_checkpoint(cp)
    assert store.latest_checkpoint() == cp
    assert store.get_checkpoint(big) == cp
    entries, nodes = make_batch([b"t"], CompactRange())
    e = entries[0]
    store.append(0, [NewEntry(e.leaf_hash, e.leaf, e.kind, e.issuer, (1 << 63) - 1)], nodes)
    assert store.get_entries(0, 1)[0].iat == (1 << 63) - 1


def test_reopen_sees_committed_data(store_url: str) -> None:
    cr = CompactRange()
    entries, nodes = make_batch([b"p", b"q", b"r"], cr)
    first = SqlStore(store_url)
    try:
        first.append(0, entries, nodes)
        first.add_checkpoint(StoredCheckpoint(3, cr.root(), "n", 1))
    finally:
        first.close()
    second = SqlStore(store_url)
    try:
        assert second.size() == 3
        assert [e.leaf for e in second.get_entries(0, 3)] == [b"p", b"q", b"r"]
        assert second.get_nodes([(1, 0)]) == {(1, 0): nodes[0][1]}
        cp = second.latest_checkpoint()
        assert cp is not None and cp.root == cr.root()
    finally:
        second.close()


def test_two_handles_racing_never_append_one_index_twice(store_url: str) -> None:
    """Two stores on one database append at the size each has just read: one wins each
    round, the other is refused (``LogMovedError``); every index is held once. On
    PostgreSQL no unique index on ``idx`` would refuse the loser: the append lock does,
    also on a server whose default isolation is REPEATABLE READ."""
    urls = [store_url]
    if store_url.startswith("postgresql"):
        url = make_url(store_url)
        rr = f"{url.query['options']} -cdefault_transaction_isolation=repeatable\\ read"
        urls.append(url.update_query_dict({"options": rr}).render_as_string(False))
    for url in urls:
        _race(url)


def _race(url: str) -> None:
    stores = [SqlStore(url), SqlStore(url)]
    barrier = threading.Barrier(2)
    refused = [0, 0]
    first = stores[0].size()

    def run(k: int) -> None:
        for r in range(30):
            barrier.wait()
            start = stores[k].size()
            leaves = [b"%d-%d-%d-%d" % (first, k, r, j) for j in range(5)]
            entries = [NewEntry(leaf_hash(x), x, "k", "i", 1) for x in leaves]
            try:
                stores[k].append(start, entries, [])
            except StorageError:
                refused[k] += 1

    try:
        threads = [threading.Thread(target=run, args=(k,)) for k in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        size = stores[0].size()
        assert size == first + 5 * (60 - sum(refused))
        held = stores[1].get_entries(0, size)
        assert [e.index for e in held] == list(range(size))
        assert stores[0].get_entries(size, size + 10) == []
    finally:
        for s in stores:
            s.close()


def test_closed_store_refuses(store_url: str) -> None:
    s = SqlStore(store_url)
    s.close()
    s.close()  # idempotent
    with pytest.raises(StorageError, match="store is closed"):
        s.size()
    with pytest.raises(StorageError, match="store is closed"):
        s.append(0, [], [])


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://", "in-memory sqlite is not supported"),
        ("sqlite:///:memory:", "in-memory sqlite is not supported"),
        ("mysql://u@h/db", "unsupported backend: expected sqlite or postgresql, got mysql"),
        ("not a url", "database url could not be parsed"),
    ],
    ids=["sqlite-memory", "sqlite-memory-explicit", "mysql", "garbage"],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        SqlStore(url)


def test_unreachable_database_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="sql store: create tables failed"):
        SqlStore("postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2")
