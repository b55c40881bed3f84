"""A61: leaf-key collisions across the two levels of SQLite's key tables (issue #13,
``ledger/storage/keyruns.py``). A leaf is found by the first 4 bytes of its hash, in
the main key table or in the new-key table, and confirmed on its whole hash. Anyone
who can submit statements can grind leaves whose hashes share those 4 bytes (a
birthday search over ~10^5 leaves finds a pair; a chosen prefix takes ~2^32 hashes).
With one of a colliding pair merged into the main table and the other still in the
new one, each must be found at its own index, a third leaf with the same 4 bytes that
was never logged must not be found, and a leaf logged twice under one key is still
reported at its first index: the log's duplicate check before appending rests on it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from credex.ledger.merkle import CompactRange, NodeId, leaf_hash
from credex.ledger.storage import keyruns
from credex.ledger.storage.base import NewEntry
from credex.ledger.storage.sql import SqlStore


def _colliding() -> tuple[bytes, bytes]:
    """Two leaves whose hashes share their first 4 bytes (a seeded birthday search)."""
    rnd = random.Random(61)
    seen: dict[bytes, bytes] = {}
    while True:
        leaf = rnd.randbytes(40)
        p = leaf_hash(leaf)[:4]
        if p in seen:
            return seen[p], leaf
        seen[p] = leaf


def _append(store: SqlStore, cr: CompactRange, leaves: list[bytes]) -> None:
    start = cr.size
    entries = [NewEntry(leaf_hash(x), x, "k", "i", 1_790_000_000) for x in leaves]
    nodes: list[tuple[NodeId, bytes]] = []
    for e in entries:
        nodes.extend(cr.append(e.leaf_hash)[1:])
    store.append(start, entries, nodes)


@contextmanager
def _store(path: Path, monkeypatch: pytest.MonkeyPatch, merge_every: int) -> Iterator[SqlStore]:
    """A SQLite log store whose key tables merge every ``merge_every`` entries."""
    monkeypatch.setattr(keyruns, "MERGE_MIN", merge_every)
    monkeypatch.setattr(keyruns, "MERGE_FACTOR", 0)
    store = SqlStore(f"sqlite:///{path / 'log.db'}")
    try:
        yield store
    finally:
        store.close()


def test_colliding_leaf_keys_in_both_levels_are_told_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = _colliding()
    assert a != b and leaf_hash(a)[:4] == leaf_hash(b)[:4]
    rnd = random.Random(7)
    filler = [rnd.randbytes(40) for _ in range(6)]
    with _store(tmp_path, monkeypatch, 4) as store:
        cr = CompactRange()
        _append(store, cr, [filler[0], a, filler[1], filler[2]])  # merged at size 4
        _append(store, cr, [filler[3], b])  # in the new-key table
        found = store.find_indices([leaf_hash(a), leaf_hash(b)])
        assert found == {leaf_hash(a): 1, leaf_hash(b): 5}
        # the same leaf logged again (the store does not refuse it; the log checks first)
        # is reported at its first index, whichever level holds each copy
        _append(store, cr, [a])
        assert store.find_indices([leaf_hash(a)]) == {leaf_hash(a): 1}


def test_a_never_logged_leaf_with_a_logged_key_is_not_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = _colliding()
    with _store(tmp_path, monkeypatch, 2) as store:
        cr = CompactRange()
        _append(store, cr, [a, random.Random(3).randbytes(40)])  # merged
        assert store.find_indices([leaf_hash(b)]) == {}
        assert store.find_indices([leaf_hash(a), leaf_hash(b)]) == {leaf_hash(a): 0}
