"""``ReplicaLog``: the checkpoint a replica serves is never ahead of the entries it holds.

Physical replication replays the primary's commits in order, so a hot standby never
shows a checkpoint before its entries; these tests build the states that would break a
naive replica anyway (a checkpoint row beyond the entries, a checkpoint whose root is
not the stored tree's, no receipt signature) on SQLite and PostgreSQL, and check what the
replica serves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import InconsistentLogError, NotFoundError, OutOfRangeError
from credex.ledger.record import Record, Subject
from credex.ledger.storage.base import StoredCheckpoint
from credex.ledger.storage.sql import SqlStore
from credex.ledger.verify import Verifier
from credex.node.home import NodeHome
from credex.node.local import LocalNode, create_home
from credex.node.replica import ReplicaLog

T0 = 1_790_000_000


def _records(start: int, end: int) -> list[Record]:
    return [
        Record(
            "score.city", "cn-zj-hangzhou", Subject("org", "91330100MA0YX0016X"),
            {"scheme": "HZ", "score": i, "band": "良好", "as_of": "2026-11-01"}, T0 + i,
        )
        for i in range(start, end)
    ]  # fmt: skip


def _home(tmp_path: Path, url: str) -> NodeHome:
    return create_home(
        tmp_path / "home", region="cn-zj-hangzhou", origin="hz.example/log", db=url, now=T0
    )


def test_served_checkpoint_never_beyond_held_entries(store_url: str, tmp_path: Path) -> None:
    home = _home(tmp_path, store_url)
    with LocalNode(home) as node:
        node.issue(_records(0, 10), iat=T0)
        first = node.publish_checkpoint(T0)
        node.issue(_records(10, 20), iat=T0)
        node.publish_checkpoint(T0 + 1)
    with ReplicaLog(home) as replica:
        assert replica.checkpoint().checkpoint.size == 20
        # a checkpoint row beyond the entries held (as if it arrived first)
        rogue = StoredCheckpoint(30, b"\x01" * 32, first.to_text(), T0 + 2)
        with SqlStore(store_url) as store:
            store.add_checkpoint(rogue)
        assert replica.served() == replica.store.get_checkpoint(20)
        assert replica.checkpoint().checkpoint.size == 20
        with pytest.raises(NotFoundError, match="none signed at size 30 held here"):
            replica.checkpoint_at(30)
        bundle = replica.bundle(19, T0, None)
        assert SignedNote.from_text(bundle.checkpoint).checkpoint.size == 20
        assert Verifier(home.trust()).verify(bundle.to_bytes()).error is None
        with pytest.raises(OutOfRangeError, match="not under a checkpoint held here"):
            replica.bundle(20, T0, None)


def test_checkpoint_not_matching_the_stored_tree_refused(store_url: str, tmp_path: Path) -> None:
    home = _home(tmp_path, store_url)
    with LocalNode(home) as node:
        node.issue(_records(0, 8), iat=T0)
        note = node.publish_checkpoint(T0)
        node.issue(_records(8, 12), iat=T0)
    with ReplicaLog(home) as replica:
        assert replica.checkpoint() == note
        with SqlStore(store_url) as store:  # a forged row at a size the replica holds
            store.add_checkpoint(StoredCheckpoint(12, b"\x02" * 32, note.to_text(), T0))
        with pytest.raises(InconsistentLogError, match="does not match the stored tree"):
            replica.served()


def test_no_receipt_signature_no_bundle(store_url: str, tmp_path: Path) -> None:
    home = _home(tmp_path, store_url)
    with LocalNode(home) as node:
        node.issue(_records(0, 4), iat=T0)
        note = node.publish_checkpoint(T0)
    with ReplicaLog(home) as replica:
        with SqlStore(store_url) as store, store._write() as conn:  # a checkpoint signed
            conn.exec_driver_sql("DELETE FROM receipt_signatures")  # before this table
        with pytest.raises(NotFoundError, match="no receipt signature held"):
            replica.bundle(0, T0, None)
        assert replica.checkpoint() == note  # the checkpoint itself is still served


def test_replica_bundle_matches_primary_bytes(store_url: str, tmp_path: Path) -> None:
    """Same statement, receipt and checkpoint bytes as the primary's own bundle: the
    replica's receipt is the primary's signature, reused."""
    home = _home(tmp_path, store_url)
    with LocalNode(home) as node:
        node.issue(_records(0, 6), iat=T0)
        note = node.publish_checkpoint(T0)
        own = node.bundle(3, T0, checkpoint=note)
    with ReplicaLog(home) as replica:
        got = replica.bundle(3, T0, None)
    assert (got.statement, got.checkpoint) == (own.statement, own.checkpoint)
    assert Bundle.from_bytes(got.to_bytes()).attestation is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--replica", "--http", "127.0.0.1:0"], "--replica serves gRPC only"),
        (["--replica", "--follow", "5"], "--replica serves gRPC only"),
        (["--db", "sqlite:///x.db"], "--db is for --replica"),
    ],
)
def test_serve_replica_option_mistakes_refused(
    tmp_path: Path, args: list[str], message: str
) -> None:
    import subprocess
    import sys

    home = _home(tmp_path, f"sqlite:///{tmp_path / 'log.db'}")
    r = subprocess.run(
        [sys.executable, "-c", "from credex.cli.main import main; main()", "serve",
         "--home", str(home.path), "--listen", "127.0.0.1:0", *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode != 0 and message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
