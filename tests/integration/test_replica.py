"""``credex serve --replica``: the Log service from a PostgreSQL hot standby.

A real PostgreSQL primary and hot standby (``pg_cluster``), a real node home on the
primary, and ``credex serve --replica`` as a real subprocess (TLS gRPC on 127.0.0.1,
port 0) against the standby, with a home copied from the primary's without its keys.
While a thread appends and signs checkpoints on the primary, a client fetches
checkpoints, proofs, entries and bundles from the replica and verifies every one of them
against the primary's log key; the replica's checkpoint never exceeds the entries the
standby holds (checked from the client's side with proofs, and against the standby's
own count). Submit and Witness are refused with one line. Skipped only when the
PostgreSQL binaries are missing (and fails instead in CI).
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import SignedNote, verify_note_signature
from credex.ledger.errors import CredexError, NotFoundError
from credex.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from credex.ledger.record import Record, Subject
from credex.ledger.verify import Verifier
from credex.node.home import NodeHome
from credex.node.local import LocalNode, create_home
from credex.node.rpc.client import PeerClient
from credex.node.rpc.tls import NodeTls

from .pg_cluster import PgCluster, require_cluster_tools
from .serve_process import DEADLINE_S, ServeProcess, wait_until

T0 = 1_790_000_000
REGION = "cn-zj-hangzhou"
ROUNDS = 8
PER_ROUND = 150


def _records(start: int, end: int) -> list[Record]:
    return [
        Record(
            "score.city",
            REGION,
            Subject("org", "91330100MA0YX0016X"),
            {"scheme": "HZ", "score": 500 + i % 400, "band": "良好", "as_of": "2026-11-01"},
            T0 + i,
        )
        for i in range(start, end)
    ]


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    require_cluster_tools()
    with PgCluster() as c:
        yield c


class Replica(ServeProcess):
    """``credex serve --replica``: one public port, no mTLS port."""

    def __init__(self, home: Path, db: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from credex.cli.main import main; main()", "serve",
             "--replica", "--home", str(home), "--listen", "127.0.0.1:0", "--db", db],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        import queue

        self.lines = queue.Queue()
        self.seen = []
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()
        self.public = self.mtls = ""

    def started(self) -> Replica:
        line = self.wait_for("listening on")
        self.public = line.split("listening on ", 1)[1].split(" ")[0]
        return self


def _replica_home(primary: NodeHome, path: Path) -> Path:
    """The primary's home without keys (the replica holds none) or TLS material."""
    shutil.copytree(
        primary.path, path, ignore=shutil.ignore_patterns("keys", "tls", "*.sqlite*", "*.lock")
    )
    return path


def test_replica_serves_verified_proofs_while_primary_appends(
    cluster: PgCluster, tmp_path: Path
) -> None:
    home = create_home(
        tmp_path / "primary", region=REGION, origin="hangzhou.example/log",
        db=cluster.primary_url, now=T0,
    )  # fmt: skip
    trust = home.trust()
    log_key = home.log_key().public_key
    with LocalNode(home) as node:
        node.issue(_records(0, PER_ROUND), iat=T0)
        node.publish_checkpoint(T0)
    rhome = _replica_home(home, tmp_path / "replica")
    assert not (rhome / "keys").exists()

    standby = sa.create_engine(cluster.standby_url, poolclass=sa.pool.NullPool)
    done = threading.Event()
    failures: list[BaseException] = []

    def append_on_primary() -> None:
        try:
            with LocalNode(home) as node:
                for r in range(1, ROUNDS):
                    node.issue(_records(r * PER_ROUND, (r + 1) * PER_ROUND), iat=T0 + r)
                    node.publish_checkpoint(T0 + r)
        except BaseException as e:  # reported by the main thread
            failures.append(e)
        finally:
            done.set()

    with Replica(rhome, cluster.standby_url) as replica:
        replica.started()
        assert "read-only" in replica.log()
        ca = NodeTls(rhome, name=home.region).ca_pem()
        client = PeerClient(replica.public, ca_pem=ca, timeout_s=DEADLINE_S)
        try:
            writer = threading.Thread(target=append_on_primary, name="primary-writer")
            writer.start()
            rng = random.Random(13)
            seen: list[int] = []
            last: SignedNote | None = None
            give_up = time.monotonic() + 10 * DEADLINE_S
            while True:
                assert time.monotonic() < give_up, "the replica never served the last checkpoint"
                finished = done.is_set()
                try:
                    note = SignedNote.from_text(client.get_checkpoint())
                except NotFoundError:
                    time.sleep(0.05)  # the standby has not received the first checkpoint yet
                    continue
                verify_note_signature(note, home.origin, log_key)
                cp = note.checkpoint
                with standby.connect() as conn:
                    held = conn.exec_driver_sql("SELECT count(*) FROM entries").scalar_one()
                assert cp.size <= held, "replica checkpoint ahead of the standby's entries"
                # everything under the checkpoint is provable from the replica
                i = rng.randrange(cp.size)
                index, size, leaf, proof = client.get_inclusion_proof(i, cp.size)
                assert (index, size) == (i, cp.size)
                # size 0: the replica's checkpoint then, never smaller than the one above
                served = client.get_inclusion_proof(i)[1]
                with standby.connect() as conn:
                    held = conn.exec_driver_sql("SELECT count(*) FROM entries").scalar_one()
                assert cp.size <= served <= held
                verify_inclusion(leaf, i, cp.size, proof, cp.root)
                batch = client.get_inclusion_proofs([i, cp.size - 1, 0], cp.size)[1]
                assert batch[0] == (i, leaf, proof)
                for index, h, p in batch:
                    verify_inclusion(h, index, cp.size, p, cp.root)
                last_leaf = [e for batch in client.get_entries(cp.size - 1, cp.size) for e in batch]
                verify_inclusion(
                    leaf_hash(last_leaf[0]), cp.size - 1, cp.size,
                    client.get_inclusion_proof(cp.size - 1, cp.size)[3], cp.root,
                )  # fmt: skip
                if last is not None and last.checkpoint.size < cp.size:
                    old = last.checkpoint
                    verify_consistency(
                        old.size, cp.size, old.root, cp.root,
                        client.get_consistency_proof(old.size, cp.size),
                    )  # fmt: skip
                assert last is None or last.checkpoint.size <= cp.size
                bundle = client.get_bundle(i)
                report = Verifier(trust).verify(bundle)
                assert report.error is None
                # the bundle rests on the checkpoint served then: never an older one, never
                # one beyond the entries the standby holds
                under = SignedNote.from_text(Bundle.from_bytes(bundle).checkpoint).checkpoint
                with standby.connect() as conn:
                    held = conn.exec_driver_sql("SELECT count(*) FROM entries").scalar_one()
                assert cp.size <= under.size <= held
                last = note
                seen.append(cp.size)
                if finished and cp.size == ROUNDS * PER_ROUND:
                    break
                if finished:
                    wait_until(
                        lambda: (
                            SignedNote.from_text(client.get_checkpoint()).checkpoint.size
                            == ROUNDS * PER_ROUND
                        ),
                        "the standby caught up with the primary",
                    )
            writer.join()
            assert not failures, failures
            assert seen == sorted(seen) and seen[-1] == ROUNDS * PER_ROUND
            with LocalNode(home) as node:
                assert node.latest_checkpoint() == last
            # a receipt for an older checkpoint held on the standby verifies too
            receipt = client.get_receipt(3, PER_ROUND)
            assert receipt
            # the replica is read-only: one line, naming the refused method
            with pytest.raises(CredexError, match="replica: read-only node: SubmitStatements"):
                client.submit([b"\x00"])
            with pytest.raises(CredexError, match="replica: read-only node: AddCheckpoint"):
                client.add_checkpoint(1, [], last.to_text())
            with pytest.raises(NotFoundError, match="only its own log"):
                client.get_bundle(0, origin="ningbo.example/log")
        finally:
            client.close()
        assert replica.stop() == 0
    standby.dispose()
    assert "Traceback" not in replica.log()
