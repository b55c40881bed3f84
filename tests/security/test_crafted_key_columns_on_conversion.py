"""A62: a SQLite log file with crafted key columns, converted to the two-level key tables
when opened (issue #13, ``ledger/storage/keyruns.py``). The file may come from elsewhere
(a backup restored, a copy handed over), and SQLite stores any type in any column: the
``record_key`` and ``subject_key`` of its rows may be text, bytes, integers beyond 32
bits, or another row's key. The conversion copies them into the key tables as they are.
What must hold: opening converts without an error or a crash, and no lookup ever returns
an entry for a record or subject it is not about (every candidate is confirmed on the
statement). A wrong key can at most hide an entry from its lookup, as it could with the
earlier indexes; the log's proofs and checkpoints never rest on these columns.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from credex.ledger.merkle import CompactRange
from credex.ledger.storage.sql import SqlStore, record_key, subject_key
from tests.contract.test_key_runs import EARLIER, ORGS, _append, _earlier_layout, _entries


def test_crafted_key_columns_are_converted_and_never_misattribute(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    store = SqlStore(f"sqlite:///{path}")
    logged = _entries(0, 9)
    _append(store, CompactRange(), logged)
    store.close()
    _earlier_layout(path)
    victim = logged[1]  # its record and subject keys are given to other rows
    assert victim.record_hash is not None and victim.subject is not None
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET record_key = 'text', subject_key = x'00ff' WHERE idx = 0")
        db.execute("UPDATE entries SET record_key = ?, subject_key = ? WHERE idx = 2",
                   (1 << 40, -(1 << 60)))  # fmt: skip
        db.execute(
            "UPDATE entries SET record_key = ?, subject_key = ? WHERE idx IN (3, 4)",
            (record_key(victim.record_hash), subject_key(victim.subject)),
        )
    store = SqlStore(f"sqlite:///{path}")  # converts: no error
    try:
        with sqlite3.connect(path) as db:
            names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        assert not names & {d.split()[2] for d in EARLIER}
        found = store.find_records({victim.record_hash: victim.subject})
        # candidates by key, the caller confirms each on the statement (A53): the rows
        # carrying the victim's key are candidates, never confirmed as its record
        assert {e.index for e in found.get(victim.record_hash, [])} <= {1, 3, 4}
        for org in ORGS:
            for e in store.find_by_subject(org):
                assert logged[e.index].subject == org  # never another subject's entry
        # the leaf keys come from the stored leaf hashes: every leaf is still found
        hashes = [e.leaf_hash for e in logged]
        assert store.find_indices(hashes) == {h: i for i, h in enumerate(hashes)}
    finally:
        store.close()
