"""A27: a read-only replica made to vouch for more than it holds, or to take writes.

- A checkpoint row beyond the entries the replica's database holds (as if it arrived
  before its entries) must not be served: the replica serves the newest checkpoint it
  can prove, and its bundles rest on that one.
- A forged checkpoint row at a size it holds, whose root is not the stored tree's, is
  refused by name rather than served.
- Submit and Witness sent to a replica (real TLS gRPC) are refused with one line; the
  log is unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import CredexError, InconsistentLogError
from credex.ledger.record import Record, Subject
from credex.ledger.storage.base import StoredCheckpoint
from credex.ledger.storage.sql import SqlStore
from credex.node.local import LocalNode, create_home
from credex.node.replica import ReplicaLog, create_replica_server
from credex.node.rpc.client import PeerClient
from credex.node.rpc.tls import NodeTls

T0 = 1_790_000_000


def _records(n: int) -> list[Record]:
    return [
        Record(
            "score.city", "cn-zj-hangzhou", Subject("org", "91330100MA0YX0016X"),
            {"scheme": "HZ", "score": i, "band": "良好", "as_of": "2026-11-01"}, T0 + i,
        )
        for i in range(n)
    ]  # fmt: skip


def test_replica_checkpoint_ahead_of_entries(store_url: str, tmp_path: Path) -> None:
    home = create_home(
        tmp_path / "h", region="cn-zj-hangzhou", origin="hz.example/log", db=store_url, now=T0
    )
    with LocalNode(home) as node:
        node.issue(_records(5), iat=T0)
        note = node.publish_checkpoint(T0)
    with ReplicaLog(home) as replica, SqlStore(store_url) as store:
        store.add_checkpoint(StoredCheckpoint(9, b"\x03" * 32, note.to_text(), T0 + 1))
        assert replica.checkpoint() == note
        served = SignedNote.from_text(replica.bundle(4, T0, None).checkpoint)
        assert served.checkpoint.size == 5
        with store._write() as conn:  # now a forged root at a size the replica holds
            conn.execute(text("DELETE FROM checkpoints WHERE tree_size = 9"))
            conn.execute(
                text("UPDATE checkpoints SET root = :r WHERE tree_size = 5"), {"r": b"\x04" * 32}
            )
        with pytest.raises(InconsistentLogError, match="does not match the stored tree"):
            replica.served()
        with pytest.raises(InconsistentLogError, match="does not match the stored tree"):
            replica.bundle(0, T0, None)


def test_writes_sent_to_a_replica_refused(tmp_path: Path) -> None:
    home = create_home(tmp_path / "h", region="cn-zj-hangzhou", origin="hz.example/log",
                       db=None, now=T0)  # fmt: skip
    with LocalNode(home) as node:
        node.issue(_records(3), iat=T0)
        note = node.publish_checkpoint(T0)
        statement = node.log.entry(0).leaf
    with ReplicaLog(home) as replica:
        server, port = create_replica_server(replica, clock=lambda: T0)
        try:
            assert port.mtls == 0
            ca = NodeTls(home.path, name=home.region).ca_pem()
            with PeerClient(f"127.0.0.1:{port}", ca_pem=ca) as client:
                with pytest.raises(
                    CredexError, match=r"permission_denied: replica: read-only node: Submit"
                ):
                    client.submit([statement])
                with pytest.raises(
                    CredexError, match=r"permission_denied: replica: read-only node: AddCheckpoint"
                ):
                    client.add_checkpoint(1, [], note.to_text())
                with pytest.raises(
                    CredexError, match=r"permission_denied: replica: read-only node: Lookup"
                ):
                    client.lookup(purpose="credit", authorisation="x", subject="91330100MA0YX0016X")
                assert SignedNote.from_text(client.get_checkpoint()) == note
        finally:
            server.stop(None).wait()
        assert replica.refresh() == 3
