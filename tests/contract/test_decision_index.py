"""The ``decision_numbers`` index of ``SqlStore`` on every backend: filled in the append's
own transaction, read by number below a size, created in a database made before it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from credex.ledger.errors import StorageError
from credex.ledger.log import AppendOnlyLog, NewLeaf
from credex.ledger.storage.base import NewEntry
from credex.ledger.storage.sql import SqlStore

NO = "甬市监罚〔2025〕12号"
ISSUER = "cn-zj-ningbo/platform"


def _leaf(n: int, decision_no: str | None = None) -> NewLeaf:
    return NewLeaf(b"entry %d" % n, "penalty.admin", ISSUER, n, decision_no=decision_no)


def test_entries_are_found_by_decision_number(log: AppendOnlyLog) -> None:
    log.append_many([_leaf(0, NO), _leaf(1), _leaf(2, "other"), _leaf(3, NO)])
    assert [e.index for e in log.by_decision_no(NO)] == [0, 3]
    assert [e.index for e in log.by_decision_no(NO, end=3)] == [0]
    assert [(e.index, e.leaf) for e in log.by_decision_no("other")] == [(2, b"entry 2")]
    assert log.by_decision_no("甬市监罚〔2025〕13号") == []
    assert log.by_decision_no("") == []


def test_a_refused_append_indexes_nothing(store: SqlStore) -> None:
    with AppendOnlyLog(store) as log:
        log.append_many([_leaf(0, NO)])
    lost = NewEntry(b"\x01" * 32, b"x", "penalty.admin", ISSUER, 0, decision_no="lost")
    with pytest.raises(StorageError):
        store.append(5, [lost], [])  # the wrong start index: nothing of it is stored
    assert store.find_by_decision_no("lost") == []
    assert [e.index for e in store.find_by_decision_no(NO)] == [0]


def test_a_database_made_before_the_index_gets_it(store_url: str) -> None:
    store = SqlStore(store_url)
    with AppendOnlyLog(store) as log:
        log.append_many([_leaf(0, NO)])
    store.close()
    engine = create_engine(store_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE decision_numbers"))
    finally:
        engine.dispose()
    store = SqlStore(store_url)  # opening creates the table; old entries stay unindexed
    try:
        with AppendOnlyLog(store) as log:
            assert log.by_decision_no(NO) == []
            log.append_many([_leaf(1, NO)])
            assert [e.index for e in log.by_decision_no(NO)] == [1]
    finally:
        store.close()
