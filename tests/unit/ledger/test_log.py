"""``AppendOnlyLog`` over a real ``SqlStore`` (SQLite file and PostgreSQL schema).

Failures are injected for real: ``FaultyStore`` is a ``SqlStore`` that, on demand, makes the
database reject a batch mid-transaction, or commits and then reports a failure.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future, wait

import pytest

from credex.ledger import merkle
from credex.ledger.errors import (
    FormatError,
    InconsistentLogError,
    LogMovedError,
    NotFoundError,
    OutOfRangeError,
    OversizeError,
    StorageError,
)
from credex.ledger.log import MAX_LEAF_BYTES, AppendOnlyLog, AppendResult, NewLeaf
from credex.ledger.merkle import EMPTY_ROOT, MerkleTree, NodeId
from credex.ledger.storage.base import NewEntry, StoredCheckpoint
from credex.ledger.storage.sql import SqlStore


def leaf(data: bytes, iat: int = 1_700_000_000) -> NewLeaf:
    return NewLeaf(data, "score", "issuer-1", iat)


def leaves(prefix: str, n: int) -> list[NewLeaf]:
    return [leaf(f"{prefix}-{i}".encode()) for i in range(n)]


class FaultyStore(SqlStore):
    """A real store whose appends fail on demand.

    ``mode``: "ok"; "reject" (the batch gets an entry without an ``iat`` appended, so the
    database itself refuses the transaction after inserting the first rows); "lost-ack" (the batch
    commits, then a failure is reported, as when a connection drops during COMMIT).
    """

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.mode = "ok"
        self.batches: list[int] = []

    def append(
        self,
        start_index: int,
        entries: Sequence[NewEntry],
        nodes: Sequence[tuple[NodeId, bytes]],
    ) -> None:
        self.batches.append(len(entries))
        if self.mode == "reject":
            broken = entries[0]._replace(iat=None)  # NOT NULL in the database
            super().append(start_index, [*entries, broken], nodes)
        super().append(start_index, entries, nodes)
        if self.mode == "lost-ack":
            raise StorageError("faulty store: connection lost during commit")


@pytest.fixture
def faulty(store_url: str):
    s = FaultyStore(store_url)
    try:
        yield s
    finally:
        s.close()


def assert_matches(log: AppendOnlyLog, data: list[bytes]) -> None:
    tree = MerkleTree(data)
    assert log.size == tree.size
    assert log.root() == tree.root()
    assert [e.leaf for e in log.entries(0, log.size)] == data


def test_append_many_assigns_indices_and_reads_back(log: AppendOnlyLog) -> None:
    items = [leaf(b"\x00binary\xff"), leaf(b""), leaf(b"x" * MAX_LEAF_BYTES, iat=(1 << 63) - 1)]
    results = log.append_many(items)
    assert [r.index for r in results] == [0, 1, 2]
    assert all(r.is_new for r in results)
    assert [r.leaf_hash for r in results] == [merkle.leaf_hash(i.leaf) for i in items]
    for r, item in zip(results, items, strict=True):
        e = log.entry(r.index)
        assert (e.index, e.leaf_hash, e.leaf, e.kind, e.issuer, e.iat) == (
            r.index,
            r.leaf_hash,
            item.leaf,
            item.kind,
            item.issuer,
            item.iat,
        )
        assert log.index_of(r.leaf_hash) == r.index
    assert log.append_many([]) == []
    assert_matches(log, [i.leaf for i in items])


def test_a_leaf_longer_than_a_tiles_entry_is_refused(log: AppendOnlyLog) -> None:
    """C2SP tlog-tiles entry bundles prefix each entry with a uint16 length."""
    with pytest.raises(OversizeError, match="leaf too large: expected <= 65535 bytes, got 65536"):
        leaf(b"x" * (MAX_LEAF_BYTES + 1))
    assert log.size == 0


def test_resubmit_is_idempotent(log: AppendOnlyLog) -> None:
    first = log.append_many([leaf(b"a"), leaf(b"b"), leaf(b"a")])
    assert [(r.index, r.is_new) for r in first] == [(0, True), (1, True), (0, False)]
    second = log.append_many([leaf(b"c"), leaf(b"b"), leaf(b"c"), leaf(b"a")])
    assert [(r.index, r.is_new) for r in second] == [(2, True), (1, False), (2, False), (0, False)]
    again = log.submit(leaf(b"b")).result(timeout=30)
    assert again == AppendResult(1, merkle.leaf_hash(b"b"), False)
    assert log.size == 3
    assert_matches(log, [b"a", b"b", b"c"])


def test_roots_and_proofs_for_every_past_size(log: AppendOnlyLog) -> None:
    n = 70
    data = [f"leaf-{i}".encode() for i in range(n)]
    tree = MerkleTree(data)
    pos, step = 0, 1
    while pos < n:  # uneven batches: 1, 2, 3, 4, ... exercise every edge shape
        log.append_many([leaf(d) for d in data[pos : pos + step]])
        pos = min(n, pos + step)
        assert log.size == pos
        assert log.root() == tree.root(pos)
        step += 1
    assert log.root(0) == EMPTY_ROOT
    for size in range(1, n + 1):
        root = log.root(size)
        assert root == tree.root(size)
        for index in range(size):
            proof = log.inclusion_proof(index, size)
            assert proof == tree.inclusion_proof(index, size)
            merkle.verify_inclusion(merkle.leaf_hash(data[index]), index, size, proof, root)
    for new in range(1, n + 1):
        for old in range(1, new + 1):
            proof = log.consistency_proof(old, new)
            assert proof == tree.consistency_proof(old, new)
            merkle.verify_consistency(old, new, tree.root(old), tree.root(new), proof)
    assert log.consistency_proof(0, n) == []
    assert log.inclusion_proof(5) == tree.inclusion_proof(5)
    assert log.consistency_proof(9) == tree.consistency_proof(9)


def test_out_of_range(log: AppendOnlyLog) -> None:
    log.append_many(leaves("r", 5))
    with pytest.raises(
        OutOfRangeError, match="leaf index out of range: expected 0 <= index < 5, got 5"
    ):
        log.inclusion_proof(5)
    with pytest.raises(OutOfRangeError, match="expected 0 <= index < 3, got 3"):
        log.inclusion_proof(3, 3)
    with pytest.raises(
        OutOfRangeError, match="tree size out of range: expected 0 <= size <= 5, got 6"
    ):
        log.inclusion_proof(0, 6)
    with pytest.raises(OutOfRangeError, match=r"consistency range invalid: .* got old 4, new 3"):
        log.consistency_proof(4, 3)
    with pytest.raises(OutOfRangeError, match=r"tree size out of range: .* got 9"):
        log.consistency_proof(1, 9)
    with pytest.raises(OutOfRangeError, match=r"tree size out of range: .* got 6"):
        log.root(6)
    with pytest.raises(OutOfRangeError, match=r"entry range invalid: .* got start 2, end 6"):
        log.entries(2, 6)
    with pytest.raises(NotFoundError, match="entry not found: expected 0 <= index < 5, got 5"):
        log.entry(5)
    with pytest.raises(NotFoundError, match="leaf hash not found: " + "00" * 32):
        log.index_of(b"\x00" * 32)


def test_reopen_restores_and_continues(store_url: str) -> None:
    data = [f"persist-{i}".encode() for i in range(37)]
    store = SqlStore(store_url)
    with AppendOnlyLog(store) as lg:
        lg.append_many([leaf(d) for d in data[:20]])
        lg.append_many([leaf(d) for d in data[20:]])
        root = lg.root()
    store.close()
    store = SqlStore(store_url)
    try:
        with AppendOnlyLog(store) as lg:
            assert lg.size == 37
            assert lg.root() == root
            more = [f"more-{i}".encode() for i in range(29)]
            lg.append_many([leaf(d) for d in more[:1]])
            lg.append_many([leaf(d) for d in more[1:]])
            assert_matches(lg, data + more)
            assert lg.inclusion_proof(3, 40) == MerkleTree(data + more).inclusion_proof(3, 40)
    finally:
        store.close()


def test_acknowledged_submissions_survive_reopen(store_url: str) -> None:
    store = SqlStore(store_url)
    lg = AppendOnlyLog(store, max_batch=16, max_delay_s=0.001)
    items = leaves("durable", 300)
    futures = [lg.submit(i) for i in items]
    results = [f.result(timeout=60) for f in futures]
    lg.close()
    store.close()
    store = SqlStore(store_url)
    try:
        with AppendOnlyLog(store) as reopened:
            assert reopened.size == 300
            for r, item in zip(results, items, strict=True):
                assert reopened.entry(r.index).leaf == item.leaf
            assert sorted(r.index for r in results) == list(range(300))
    finally:
        store.close()


def test_close_flushes_pending_submissions(store: SqlStore) -> None:
    lg = AppendOnlyLog(store, max_batch=1000, max_delay_s=5.0)
    futures = [lg.submit(i) for i in leaves("flush", 50)]
    lg.close()  # does not wait out the 5 s batching delay
    assert all(f.done() for f in futures)
    assert {f.result().index for f in futures} == set(range(50))
    assert store.size() == 50


def test_concurrent_submit(log: AppendOnlyLog) -> None:
    threads, per_thread = 8, 200
    out: dict[int, list[tuple[bytes, AppendResult]]] = {}
    barrier = threading.Barrier(threads)

    def worker(t: int) -> None:
        barrier.wait()
        mine = [leaf(f"t{t}-{i}".encode()) for i in range(per_thread)]
        mine.append(leaf(b"shared by every thread"))
        futs = [log.submit(i) for i in mine]
        out[t] = [(i.leaf, f.result(timeout=120)) for i, f in zip(mine, futs, strict=True)]

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    own = [(data, r) for t in range(threads) for data, r in out[t][:-1]]
    assert len({r.index for _, r in own}) == threads * per_thread
    assert all(r.is_new for _, r in own)
    shared = [out[t][-1][1] for t in range(threads)]
    assert len({r.index for r in shared}) == 1
    assert sum(r.is_new for r in shared) == 1
    assert log.size == threads * per_thread + 1
    stored = [e.leaf for e in log.entries(0, log.size)]
    for data, r in own:
        assert stored[r.index] == data
    assert log.root() == MerkleTree(stored).root()


def test_sequencer_respects_max_batch(faulty: FaultyStore) -> None:
    with AppendOnlyLog(faulty, max_batch=4, max_delay_s=0.01) as lg:
        futures = [lg.submit(i) for i in leaves("batch", 50)]
        wait(futures, timeout=60)
    assert sum(faulty.batches) == 50
    assert max(faulty.batches) <= 4


def test_rejected_batch_changes_nothing(faulty: FaultyStore) -> None:
    lg = AppendOnlyLog(faulty, max_delay_s=0.01)
    try:
        lg.append_many(leaves("base", 5))
        size, root = lg.size, lg.root()
        faulty.mode = "reject"
        with pytest.raises(StorageError, match="sql store: append failed"):
            lg.append_many(leaves("doomed", 3))
        assert (lg.size, lg.root(), faulty.size()) == (size, root, 5)
        futures: list[Future[AppendResult]] = [lg.submit(i) for i in leaves("queued", 6)]
        wait(futures, timeout=60)
        for f in futures:
            with pytest.raises(StorageError, match="sql store: append failed"):
                f.result()
        assert (lg.size, lg.root(), faulty.size()) == (size, root, 5)
        with pytest.raises(NotFoundError):
            lg.index_of(merkle.leaf_hash(b"doomed-0"))
        faulty.mode = "ok"
        lg.append_many(leaves("after", 4))
        assert_matches(lg, [i.leaf for i in leaves("base", 5) + leaves("after", 4)])
    finally:
        lg.close()


def test_commit_that_reports_failure_is_adopted(faulty: FaultyStore) -> None:
    lg = AppendOnlyLog(faulty)
    try:
        lg.append_many(leaves("base", 3))
        faulty.mode = "lost-ack"
        with pytest.raises(StorageError, match="connection lost during commit"):
            lg.append_many(leaves("landed", 4))
        faulty.mode = "ok"
        assert lg.size == 7  # the committed batch was adopted, not left behind the store
        again = lg.append_many(leaves("landed", 4))
        assert [(r.index, r.is_new) for r in again] == [(i, False) for i in range(3, 7)]
        lg.append_many(leaves("next", 2))
        expected = leaves("base", 3) + leaves("landed", 4) + leaves("next", 2)
        assert_matches(lg, [i.leaf for i in expected])
    finally:
        lg.close()


def test_store_written_behind_the_logs_back(log: AppendOnlyLog, store: SqlStore) -> None:
    log.append_many(leaves("mine", 3))
    cr = merkle.CompactRange()
    for i in leaves("mine", 3):
        cr.append(merkle.leaf_hash(i.leaf))
    h = merkle.leaf_hash(b"foreign")
    store.append(3, [NewEntry(h, b"foreign", "k", "i", 0)], cr.append(h)[1:])
    with pytest.raises(LogMovedError, match="append refused: expected start index 4, got 3"):
        store.append(3, [NewEntry(h, b"foreign", "k", "i", 0)], cr.append(h)[1:])
    # the foreign entry extends the tree the log had: the log adopts it and appends on top
    (r,) = log.append_many(leaves("late", 1))
    assert (r.index, log.size) == (4, 5)
    assert_matches(log, [b"mine-0", b"mine-1", b"mine-2", b"foreign", b"late-0"])


def test_checkpoints(log: AppendOnlyLog) -> None:
    log.append_many(leaves("cp", 10))
    assert log.latest_checkpoint() is None
    cp = log.record_checkpoint(6, log.root(6), "origin\n6\n", 100)
    assert log.latest_checkpoint() == cp
    assert log.checkpoint(6) == cp
    with pytest.raises(NotFoundError, match="checkpoint not found: tree size 7"):
        log.checkpoint(7)
    with pytest.raises(InconsistentLogError, match="expected size >= 6, got 5") as info:
        log.record_checkpoint(5, log.root(5), "origin\n5\n", 101)
    assert info.value.old_checkpoint == "origin\n6\n"
    assert info.value.new_checkpoint == "origin\n5\n"
    with pytest.raises(InconsistentLogError, match="root mismatch at size 8"):
        log.record_checkpoint(8, log.root(7), "origin\n8\n", 102)
    with pytest.raises(OutOfRangeError, match="got 11"):
        log.record_checkpoint(11, log.root(), "origin\n11\n", 103)
    cosigned = log.record_checkpoint(6, log.root(6), "origin\n6\n\n— witness\n", 104)
    assert log.latest_checkpoint() == cosigned and cosigned.created_at == 100  # first time
    assert log.logged_window(5) == (0, 100)
    assert log.record_checkpoint(10, log.root(), "origin\n10\n", 105).tree_size == 10
    assert log.logged_window(7) == (100, 105) and log.logged_window(10) == (105, None)


def test_open_checks_the_recorded_checkpoint(store_url: str) -> None:
    store = SqlStore(store_url)
    try:
        with AppendOnlyLog(store) as lg:
            lg.append_many(leaves("open", 9))
            lg.record_checkpoint(5, lg.root(5), "origin\n5\n", 1)
        with AppendOnlyLog(store) as lg:  # a matching checkpoint opens fine
            assert lg.size == 9
        # written behind the log's back, as a corrupted or rolled-back database would hold
        store.add_checkpoint(StoredCheckpoint(7, b"\x42" * 32, "origin\n7\nforged\n", 2))
        with pytest.raises(InconsistentLogError, match="does not match the stored tree at size 7"):
            AppendOnlyLog(store)
        store.add_checkpoint(StoredCheckpoint(12, b"\x42" * 32, "origin\n12\n", 3))
        with pytest.raises(
            InconsistentLogError, match="beyond the stored tree: expected size <= 9, got 12"
        ) as info:
            AppendOnlyLog(store)
        assert info.value.old_checkpoint == "origin\n12\n"
    finally:
        store.close()


def test_closed_log_refuses_writes(store: SqlStore) -> None:
    lg = AppendOnlyLog(store)
    lg.submit(leaf(b"one")).result(timeout=30)
    lg.close()
    lg.close()
    with pytest.raises(StorageError, match="submit refused: log is closed"):
        lg.submit(leaf(b"two"))
    with pytest.raises(StorageError, match="append refused: log is closed"):
        lg.append_many([leaf(b"two")])
    assert lg.size == 1
    assert lg.entry(0).leaf == b"one"  # reads still work while the store is open


def test_constructor_and_leaf_validation(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="max_batch invalid: expected >= 1, got 0"):
        AppendOnlyLog(store, max_batch=0)
    with pytest.raises(ValueError, match="max_delay_s invalid"):
        AppendOnlyLog(store, max_delay_s=-1)
    with pytest.raises(FormatError, match="iat out of range"):
        NewLeaf(b"x", "k", "i", 1 << 63)


def test_leaf_and_inclusion_proof_in_one_read(log) -> None:
    from credex.ledger.merkle import MerkleTree, verify_inclusion

    tree = MerkleTree()
    for i in range(37):
        log.append_many([NewLeaf(b"entry %d" % i, "score.city", "x/y", i)])
        tree.append(b"entry %d" % i)
    for index, size in [(0, 1), (5, 37), (36, 37), (12, 20)]:
        leaf, proof = log.leaf_and_inclusion_proof(index, size)
        assert leaf == log.entry(index).leaf_hash
        assert proof == log.inclusion_proof(index, size) == tree.inclusion_proof(index, size)
        verify_inclusion(leaf, index, size, proof, tree.root(size))
    with pytest.raises(OutOfRangeError, match="leaf index out of range"):
        log.leaf_and_inclusion_proof(37, 37)


def test_second_handle_appends_are_adopted_not_refused(store_url: str) -> None:
    """A CLI command appending next to a running server: the server's handle adopts the
    stored tree and sequences its own batch on top, instead of failing once."""
    a_store, b_store = SqlStore(store_url), SqlStore(store_url)
    try:
        _two_handles(a_store, b_store)
    finally:
        a_store.close()
        b_store.close()


def _two_handles(a_store: SqlStore, b_store: SqlStore) -> None:
    with AppendOnlyLog(a_store) as a, AppendOnlyLog(b_store) as b:
        a.append_many([NewLeaf(b"a0", "k", "i", 0)])
        b.append_many([NewLeaf(b"b0", "k", "i", 0), NewLeaf(b"b1", "k", "i", 0)])
        (r,) = a.append_many([NewLeaf(b"a1", "k", "i", 0)])
        assert (r.index, r.is_new) == (3, True)
        assert a.size == 4 and [e.leaf for e in a.entries(0, 4)] == [b"a0", b"b0", b"b1", b"a1"]
        reference = MerkleTree()
        for leaf in (b"a0", b"b0", b"b1", b"a1"):
            reference.append(leaf)
        assert a.root() == reference.root()


class CountingStore(SqlStore):
    """A real store that counts leaf-hash lookups (``find_indices``)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.lookups = 0

    def find_indices(self, leaf_hashes):  # type: ignore[no-untyped-def]
        self.lookups += 1
        return super().find_indices(leaf_hashes)


def test_absent_below_skips_the_lookup_and_still_finds_recent_duplicates(
    store_url: str,
) -> None:
    """Leaves the caller proved absent below a size (``LocalNode``: by record hash)
    are checked against this handle's own appends since that size, in memory: a
    duplicate from the batch before is still found, and nothing is stored twice."""
    store = CountingStore(store_url)
    try:
        with AppendOnlyLog(store) as log:
            log.append_many(leaves("a", 5))
            store.lookups = 0
            proved_at = log.size  # the caller's lookup saw the log at this size
            log.append_many(leaves("b", 3))  # appended meanwhile (the batch before)
            got = log.append_many([*leaves("b", 2), leaf(b"c-0")], absent_below=proved_at)
            assert [(r.index, r.is_new) for r in got] == [(5, False), (6, False), (8, True)]
            assert store.lookups == 1  # the "b" batch's own lookup only
            assert log.size == 9
            # appends by another handle are not kept: the store is asked again
            with AppendOnlyLog(SqlStore(store_url)) as other:
                other.append_many([leaf(b"d-0")])
                other._store.close()  # type: ignore[attr-defined]
            before = log.size
            log.refresh()
            (r,) = log.append_many([leaf(b"d-0")], absent_below=before)
            assert (r.index, r.is_new) == (9, False)
            assert store.lookups == 2
    finally:
        store.close()
