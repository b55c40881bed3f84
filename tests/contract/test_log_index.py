"""The log's verifiable index on every backend: written in each append's own transaction,
one version per log size, equal to the map function rebuilt from the entries' bytes; an
index behind its log catches up; a refused append writes no index version; two handles on
one database stay in step."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from credex.ledger.errors import StorageError
from credex.ledger.index_map import map_input_of, map_pairs, status_key, status_value
from credex.ledger.indexing import leaf_for
from credex.ledger.log import AppendOnlyLog
from credex.ledger.log_index import LogIndex
from credex.ledger.statement import Statement
from credex.ledger.storage.index_store import SqlNodeStore
from credex.ledger.storage.sql import SqlStore
from credex.ledger.vindex import EMPTY_ROOT, compute_root, verify_lookup
from credex.ledger.vindex.proof import LookupProof

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
_spec = importlib.util.spec_from_file_location("index_generate", VECTORS / "generate_index.py")
assert _spec and _spec.loader
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)
STATEMENTS: list[Statement] = gen.statements()


def _rebuilt(n: int) -> bytes:
    return compute_root(map_pairs(map_input_of(i, st.leaf) for i, st in enumerate(STATEMENTS[:n])))


def test_each_batch_writes_the_root_of_its_size(store_url: str) -> None:
    store, nodes = SqlStore(store_url), SqlNodeStore(store_url)
    try:
        index = LogIndex(nodes)
        with AppendOnlyLog(store, index=index) as log:
            assert index.root_at(0).hash == EMPTY_ROOT
            log.append_many([leaf_for(st) for st in STATEMENTS[:3]])
            log.append_many([leaf_for(st) for st in STATEMENTS[3:]])
            log.append_many([leaf_for(STATEMENTS[0])])  # a duplicate: no new version
            assert index.size == len(STATEMENTS)
            for n in (3, len(STATEMENTS)):
                assert index.root_at(n).hash == _rebuilt(n)
            proof = index.prove_status(STATEMENTS[0].leaf_hash, len(STATEMENTS))
            value = status_value([(i, STATEMENTS[i].leaf_hash) for i in (2, 3, 5)])
            verify_lookup(index.root_at(len(STATEMENTS)).hash, proof.key, value, proof)
            assert proof.key == status_key(STATEMENTS[0].leaf_hash)
            # as of size 3, only the objection was logged
            old = LookupProof.from_bytes(index.prove_status(STATEMENTS[0].leaf_hash, 3).to_bytes())
            verify_lookup(_rebuilt(3), old.key, status_value([(2, STATEMENTS[2].leaf_hash)]), old)
    finally:
        store.close()
        nodes.close()


def test_an_index_behind_its_log_catches_up(store_url: str) -> None:
    store = SqlStore(store_url)
    try:
        with AppendOnlyLog(store) as log:  # a log made before it had an index
            log.append_many([leaf_for(st) for st in STATEMENTS[:5]])
        nodes = SqlNodeStore(store_url)
        try:
            index = LogIndex(nodes)
            with AppendOnlyLog(store, index=index) as log:
                assert index.size == 5 and index.root_at(5).hash == _rebuilt(5)
                log.append_many([leaf_for(st) for st in STATEMENTS[5:]])
                assert index.root_at(len(STATEMENTS)).hash == _rebuilt(len(STATEMENTS))
        finally:
            nodes.close()
    finally:
        store.close()


def test_a_refused_append_writes_no_index_version(store_url: str) -> None:
    store, nodes = SqlStore(store_url), SqlNodeStore(store_url)
    try:
        index = LogIndex(nodes)
        with AppendOnlyLog(store, index=index) as log:
            log.append_many([leaf_for(st) for st in STATEMENTS[:2]])
        with pytest.raises(StorageError):  # the index version is prepared on another base
            store.append(2, [], [], nodes.writer([_bogus_commit(index)]))
        assert nodes.refresh().version == 2
        assert index.root_at(2).hash == _rebuilt(2)
    finally:
        store.close()
        nodes.close()


def _bogus_commit(index: LogIndex):  # type: ignore[no-untyped-def]
    from credex.ledger.vindex import IndexTree

    tree = IndexTree(index.store)
    change = tree.prepare([(b"\x01" * 32, b"\x02" * 32)], version=3)
    return type(change)(7, change.root, change.nodes, change.stale)


def test_two_handles_on_one_database_stay_in_step(store_url: str) -> None:
    a_store, a_nodes = SqlStore(store_url), SqlNodeStore(store_url)
    b_store, b_nodes = SqlStore(store_url), SqlNodeStore(store_url)
    try:
        a_index, b_index = LogIndex(a_nodes), LogIndex(b_nodes)
        with (
            AppendOnlyLog(a_store, index=a_index) as a,
            AppendOnlyLog(b_store, index=b_index) as b,
        ):
            a.append_many([leaf_for(st) for st in STATEMENTS[:3]])
            b.append_many([leaf_for(st) for st in STATEMENTS[3:6]])  # adopts a's entries
            a.append_many([leaf_for(st) for st in STATEMENTS[6:]])
            n = len(STATEMENTS)
            assert a.size == n and a_index.root_at(n).hash == _rebuilt(n)
            assert b_index.root_at(6).hash == _rebuilt(6)
            assert b_index.root_at(n).hash == _rebuilt(n)
    finally:
        for s in (a_store, a_nodes, b_store, b_nodes):
            s.close()


def test_versions_between_checkpoints_are_pruned_and_the_kept_ones_still_prove(
    store_url: str,
) -> None:
    from sqlalchemy import create_engine, text

    from credex.ledger.errors import IndexVersionError
    from credex.ledger.vindex import IndexTree

    store, nodes = SqlStore(store_url), SqlNodeStore(store_url)
    try:
        index = LogIndex(nodes)
        with AppendOnlyLog(store, index=index) as log:
            for lo, hi in ((0, 2), (2, 4), (4, 6), (6, len(STATEMENTS))):
                log.append_many([leaf_for(st) for st in STATEMENTS[lo:hi]])
        engine = create_engine(store_url)
        try:
            with engine.connect() as conn:
                before = conn.execute(text("SELECT count(*) FROM index_nodes")).scalar_one()
            assert nodes.prune_between(2, 6) > 0  # checkpoints at 2 and 6: 4 is garbage
            with engine.connect() as conn:
                after = conn.execute(text("SELECT count(*) FROM index_nodes")).scalar_one()
        finally:
            engine.dispose()
        assert after < before
        with pytest.raises(IndexVersionError):
            index.root_at(4)
        tree = IndexTree(nodes)
        for n in (2, 6, len(STATEMENTS)):  # every kept version is whole
            assert index.root_at(n).hash == _rebuilt(n)
            for key, _ in tree.items(n):
                tree.prove(key, n)
    finally:
        store.close()
        nodes.close()


def test_an_index_ahead_of_a_stale_view_is_not_damage(store_url: str) -> None:
    """A command opening the log next to a running server: the server appends (entries
    and index version in one transaction) between the command reading the log's size and
    the index's. The stored size is read after the index's, so that is no inconsistency;
    an index really ahead of its stored log is."""
    from credex.ledger.errors import InconsistentLogError

    store, nodes = SqlStore(store_url), SqlNodeStore(store_url)
    try:
        with AppendOnlyLog(store, index=LogIndex(nodes)) as log:
            log.append_many([leaf_for(st) for st in STATEMENTS[:3]])
        other = LogIndex(nodes)
        read = lambda a, b: [e.leaf for e in store.get_entries(a, b)]  # noqa: E731
        assert other.catch_up(store.size, read) == 0
        with pytest.raises(InconsistentLogError, match="covers 3 entries, the log only 2"):
            other.catch_up(2, read)
    finally:
        store.close()
        nodes.close()


def test_the_pinned_top_levels_survive_drop_cache_and_prove_the_same(store_url: str) -> None:
    import hashlib

    from credex.ledger.index_map import MapInput

    nodes = SqlNodeStore(store_url)
    try:
        index = LogIndex(nodes)
        leaf = [hashlib.sha256(b"pinned %d" % i).digest() for i in range(2048)]
        inputs = [
            MapInput(i, leaf[i], "penalty.admin", f"{91330100000000000 + i // 2}", None)
            for i in range(2048)
        ]
        index.extend(0, inputs)
        keys = index.root_at(2048).size
        bits = keys.bit_length() - 1 - 3  # _PIN_BELOW levels stay in storage
        before = [
            index.prove_subject(f"{91330100000000000 + i}", 2048).to_bytes() for i in (0, 7, 900)
        ]
        assert 0 < nodes.pinned < 2 ** (bits + 1)
        pinned = nodes.pinned
        nodes.drop_cache()
        assert nodes.pinned == pinned  # only the bounded node cache is dropped
        after = [
            index.prove_subject(f"{91330100000000000 + i}", 2048).to_bytes() for i in (0, 7, 900)
        ]
        assert after == before
        fresh = SqlNodeStore(store_url)  # nothing pinned yet: the same proofs from storage
        try:
            again = LogIndex(fresh)
            assert [
                again.prove_subject(f"{91330100000000000 + i}", 2048).to_bytes()
                for i in (0, 7, 900)
            ] == before
        finally:
            fresh.close()
    finally:
        nodes.close()


def test_a_reader_connecting_while_the_store_closes_is_closed_not_leaked(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proof thread that opens its reader connection while the store is being closed
    gets a clear error, and its connection is closed at once (it was once kept in a list
    nobody closed: psycopg warned when it was collected, in a later test)."""
    nodes = SqlNodeStore(store_url)
    dialect = nodes._engine.dialect
    opened: list[object] = []
    real = dialect.connect

    def connect_then_close_store(*args: object, **kwargs: object) -> object:
        raw = real(*args, **kwargs)
        opened.append(raw)
        nodes.close()  # the store closes while this reader was connecting
        return raw

    monkeypatch.setattr(dialect, "connect", connect_then_close_store)
    with pytest.raises(StorageError, match="store is closed"):
        nodes._read_node(1)
    assert len(opened) == 1
    with pytest.raises(Exception, match=r"(?i)closed"):  # sqlite3 and psycopg alike
        opened[0].cursor()  # type: ignore[attr-defined]
