"""A database written before entries were stored once (no ``record_key`` column) is
refused in one line when opened, and left exactly as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from credex.ledger.errors import StorageError
from credex.ledger.storage.sql import SqlStore


def test_an_earlier_entries_layout_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:  # the shape of the entries table before issue #16
        db.execute(
            "CREATE TABLE entries (idx INTEGER PRIMARY KEY, leaf_hash BLOB NOT NULL, "
            "leaf BLOB NOT NULL, kind TEXT NOT NULL, issuer TEXT NOT NULL, "
            "record_hash BLOB, iat INTEGER NOT NULL)"
        )
        db.execute("INSERT INTO entries VALUES (0, x'00', x'01', 'k', 'i', NULL, 1)")
    before = _contents(path)
    with pytest.raises(StorageError, match="entry layout of an earlier credex") as e:
        SqlStore(f"sqlite:///{path}")
    assert "\n" not in str(e.value)
    assert _contents(path) == before  # no table added, no row changed


def _contents(path: Path) -> tuple[list[tuple[str]], list[tuple[object, ...]]]:
    with sqlite3.connect(path) as db:
        tables = db.execute("SELECT name FROM sqlite_master ORDER BY name").fetchall()
        rows = db.execute("SELECT * FROM entries").fetchall()
    return tables, rows


def test_the_layout_before_subject_keys_is_refused_untouched(tmp_path: Path) -> None:
    """Entries stored once (issue #16) but with the subject as text and no subject key."""
    path = tmp_path / "before-keys.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE entries (idx INTEGER PRIMARY KEY, iat BIGINT NOT NULL, "
            "record_key BIGINT, tag INTEGER NOT NULL, leaf_hash BLOB NOT NULL, "
            "leaf BLOB NOT NULL, subject TEXT, target BLOB)"
        )
        db.execute("INSERT INTO entries VALUES (0, 1, 7, 1, x'00', x'01', 's', NULL)")
    before = _contents(path)
    with pytest.raises(StorageError, match="earlier credex \\(no subject_key column\\)") as e:
        SqlStore(f"sqlite:///{path}")
    assert "\n" not in str(e.value)
    assert _contents(path) == before
