"""SQLite's two-level lookup keys (``ledger/storage/keyruns.py``, issue #13): every lookup
by leaf hash, record key and subject finds the same entries whichever level its key is in,
before, across and after merges; a reader racing the merges never misses a key; and a
database of the earlier layout (keys as indexes on ``entries``), or one an earlier credex
has appended to since, is converted when opened, without losing a key."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from credex.ledger.errors import StorageError
from credex.ledger.indexing import leaf_for
from credex.ledger.keys import SigningKey
from credex.ledger.merkle import CompactRange, NodeId, leaf_hash
from credex.ledger.record import Record, Subject
from credex.ledger.statement import sign_statement
from credex.ledger.storage import keyruns
from credex.ledger.storage.base import NewEntry
from credex.ledger.storage.sql import SqlStore, record_key, subject_key

T0 = 1_790_000_000
KEY = SigningKey(bytes(range(32)))
ISSUER = "cn-zj-hangzhou/platform"
ORGS = ("913301000007338459", "91330100001053235R", "91330100MA27XF6N0G")
EARLIER = (
    "CREATE INDEX ix_entries_leaf_key ON entries (substr(leaf_hash, 1, 4))",
    "CREATE INDEX ix_entries_record_key ON entries (record_key) WHERE record_key IS NOT NULL",
    "CREATE INDEX ix_entries_subject_key ON entries (subject_key) WHERE subject_key IS NOT NULL",
)


def _entries(start: int, n: int) -> list[NewEntry]:
    out = []
    for i in range(start, start + n):
        org = ORGS[i % len(ORGS)]
        body = {"scheme": "HANGZHOU_QIANJIANG", "score": 600 + i % 300, "band": "良好",
                "as_of": "2026-11-01", "level": "L3"}  # fmt: skip
        rec = Record("score.city", "cn-zj-hangzhou", Subject("org", org), body, T0 + i)
        leaf = leaf_for(sign_statement(rec, ISSUER, KEY, T0 + i)).leaf
        rh = i.to_bytes(4, "big") * 8  # a distinct record hash per entry
        out.append(NewEntry(leaf_hash(leaf), leaf, "score.city", ISSUER, T0 + i, rh, org))
    return out


def _append(store: SqlStore, cr: CompactRange, batch: list[NewEntry]) -> None:
    nodes: list[tuple[NodeId, bytes]] = []
    start = cr.size
    for e in batch:
        nodes.extend(cr.append(e.leaf_hash)[1:])
    store.append(start, batch, nodes)


def _check_all(store: SqlStore, logged: list[NewEntry]) -> None:
    found = store.find_indices([e.leaf_hash for e in logged] + [b"\x00" * 32])
    assert found == {e.leaf_hash: i for i, e in enumerate(logged)}
    assert all(e.record_hash is not None for e in logged)
    records = store.find_records({e.record_hash: ORGS[0] for e in logged if e.record_hash})
    for i, e in enumerate(logged):
        assert e.record_hash is not None
        assert [x.index for x in records[e.record_hash]] == [i]
    for org in ORGS:
        want = [i for i, e in enumerate(logged) if e.subject == org]
        assert [x.index for x in store.find_by_subject(org)] == want
        assert [x.index for x in store.find_by_subject(org, end=len(logged) // 2)] == [
            i for i in want if i < len(logged) // 2
        ]


def _levels(path: Path) -> tuple[int, int, int]:
    with sqlite3.connect(path) as db:
        main = db.execute("SELECT count(*) FROM leaf_keys").fetchone()[0]
        new = db.execute("SELECT count(*) FROM leaf_keys_new").fetchone()[0]
        merged = db.execute("SELECT merged FROM key_runs").fetchone()[0]
    return int(main), int(new), int(merged)


def test_lookups_find_every_key_in_either_level_across_merges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyruns, "MERGE_MIN", 8)
    monkeypatch.setattr(keyruns, "MERGE_FACTOR", 0)
    path = tmp_path / "log.db"
    store = SqlStore(f"sqlite:///{path}")
    cr = CompactRange()
    logged: list[NewEntry] = []
    seen_levels = set()
    try:
        for batch in (3, 3, 3, 5, 1, 7, 2, 9):
            new = _entries(len(logged), batch)
            _append(store, cr, new)
            logged += new
            _check_all(store, logged)
            main, recent, merged = _levels(path)
            assert main == merged and main + recent == len(logged)
            seen_levels.add((main > 0, recent > 0))
    finally:
        store.close()
    # keys only in the new table, in both, and all merged (sizes 9, 22 and 33)
    assert seen_levels == {(False, True), (True, True), (True, False)}


def test_a_reader_racing_the_merges_never_misses_a_logged_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keyruns, "MERGE_MIN", 16)
    monkeypatch.setattr(keyruns, "MERGE_FACTOR", 0)
    url = f"sqlite:///{tmp_path / 'log.db'}"
    writer, reader = SqlStore(url), SqlStore(url)
    batches = [_entries(i * 4, 4) for i in range(40)]
    logged = threading.Event()
    done = threading.Event()
    misses: list[int] = []
    committed: list[int] = [0]

    def read() -> None:
        while not done.is_set():
            upto = committed[0]  # every entry below this was committed before the read
            want = [e.leaf_hash for b in batches for e in b][:upto]
            found = reader.find_indices(want)
            misses.extend(i for i, h in enumerate(want) if found.get(h) != i)
            logged.set()

    t = threading.Thread(target=read)
    t.start()
    try:
        cr = CompactRange()
        for b in batches:
            _append(writer, cr, b)
            committed[0] += len(b)
        logged.wait(10)
    finally:
        done.set()
        t.join()
        writer.close()
        reader.close()
    assert misses == []


def _earlier_layout(path: Path) -> None:
    """Make the database look as the earlier credex left it: its three indexes on
    ``entries``, no key tables."""
    with sqlite3.connect(path) as db:
        for ddl in EARLIER:
            db.execute(ddl)
        for kind in keyruns.KINDS:
            db.execute(f"DROP TABLE {kind}_keys")
            db.execute(f"DROP TABLE {kind}_keys_new")
        db.execute("DROP TABLE key_runs")


def _earlier_append(path: Path, entries: list[NewEntry], start: int) -> None:
    """Append rows as the earlier credex did: ``entries`` only (its indexes follow)."""
    with sqlite3.connect(path) as db:
        db.executemany(
            "INSERT INTO entries (idx, iat, record_key, tag, subject_key, leaf_hash, leaf) "
            "VALUES (?, ?, ?, 1, ?, ?, ?)",
            [
                (
                    start + n,
                    e.iat,
                    record_key(e.record_hash or b""),
                    subject_key(e.subject or ""),
                    e.leaf_hash,
                    e.leaf,
                )
                for n, e in enumerate(entries)
            ],
        )


@pytest.mark.parametrize("tables_kept", [False, True])
def test_an_earlier_layout_is_converted_without_losing_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tables_kept: bool
) -> None:
    """``tables_kept``: the key tables exist (this version wrote the database, then an
    earlier credex recreated its indexes and appended); otherwise the database predates
    them."""
    monkeypatch.setattr(keyruns, "MERGE_MIN", 8)
    monkeypatch.setattr(keyruns, "MERGE_FACTOR", 0)
    path = tmp_path / "log.db"
    store = SqlStore(f"sqlite:///{path}")
    first = _entries(0, 11)
    _append(store, CompactRange(), first)
    store.close()
    if tables_kept:
        with sqlite3.connect(path) as db:
            for ddl in EARLIER:
                db.execute(ddl)
    else:
        _earlier_layout(path)
    more = _entries(11, 6)
    _earlier_append(path, more, 11)
    store = SqlStore(f"sqlite:///{path}")
    try:
        _check_all(store, first + more)
    finally:
        store.close()
    with sqlite3.connect(path) as db:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert not names & {d.split()[2] for d in EARLIER}
    assert _levels(path) == (17, 0, 17)


def test_a_failed_conversion_changes_nothing(tmp_path: Path) -> None:
    """The conversion runs in one transaction: when its last step fails (here a view
    where a key table should be), the database keeps its earlier indexes and gains no
    table; the error is one line."""
    path = tmp_path / "log.db"
    store = SqlStore(f"sqlite:///{path}")
    _append(store, CompactRange(), _entries(0, 5))
    store.close()
    _earlier_layout(path)
    with sqlite3.connect(path) as db:
        db.execute("CREATE VIEW subject_keys_new AS SELECT 1 AS key, 2 AS idx")
        before = db.execute("SELECT type, name FROM sqlite_master ORDER BY name").fetchall()
    with pytest.raises(StorageError) as e:
        SqlStore(f"sqlite:///{path}")
    assert "\n" not in str(e.value)
    with sqlite3.connect(path) as db:
        after = db.execute("SELECT type, name FROM sqlite_master ORDER BY name").fetchall()
    assert after == before


def test_merges_grow_as_the_square_root_of_the_log_within_bounds() -> None:
    after = keyruns.merge_after
    assert after(0) == keyruns.MERGE_MIN == 1 << 16
    assert after(10**6) == 1 << 16  # sqrt(4096 * 10^6) = 64,000
    assert after(10**7) == 202_385
    assert after(10**9) == keyruns.MERGE_MAX == 1 << 19
    sizes = [0, 10**5, 10**6, 4 * 10**6, 10**7, 10**8]
    assert [after(n) for n in sizes] == sorted(after(n) for n in sizes)
