"""``LogStore.find_by_kind`` (``credex commitments due``) on every backend."""

from __future__ import annotations

from credex.ledger.merkle import CompactRange
from credex.ledger.storage.sql import SqlStore

from .test_log_store import make_batch


def test_find_by_kind_in_index_order_below_end(store: SqlStore) -> None:
    entries, nodes = make_batch([bytes([i]) * 8 for i in range(7)], CompactRange())
    store.append(0, entries, nodes)  # kinds cycle kind-0, kind-1, kind-2
    assert [e.index for e in store.find_by_kind(["kind-1"])] == [1, 4]
    assert [e.index for e in store.find_by_kind(["kind-0", "kind-2"], 5)] == [0, 2, 3]
    assert store.find_by_kind(["commitment"]) == []
    assert store.find_by_kind([]) == []
