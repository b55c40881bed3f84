"""Peer sync against in-process peers: an honest one, and peers that lie in each way the
federation issue lists. Nothing a lying peer serves is mirrored; acknowledged state is
never lost; sync resumes where it stopped."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from credex.ledger.checkpoint import Checkpoint, sign_checkpoint
from credex.ledger.errors import (
    InconsistentLogError,
    PeerUnavailableError,
    SignatureError,
    WrongLogError,
)
from credex.ledger.keys import SigningKey
from credex.ledger.log import AppendOnlyLog
from credex.ledger.record import Record, Subject
from credex.ledger.statement import sign_statement
from credex.ledger.storage.sql import SqlStore
from credex.node.federation.sync import PeerSync
from credex.node.home import NodeHome
from credex.node.local import LocalNode

T0 = 1_790_000_000
ORIGIN = "credex.hangzhou.example/log"


class LocalPeer:
    """An honest peer: a LocalNode served in-process (what the gRPC client returns)."""

    def __init__(self, node: LocalNode, chunk: int = 7) -> None:
        self.node = node
        self.chunk = chunk

    def get_checkpoint(self) -> str:
        return self.node.publish_checkpoint(T0).to_text()

    def get_consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return self.node.log.consistency_proof(old_size, new_size)

    def get_entries(self, start: int, end: int) -> Iterator[list[bytes]]:
        for i in range(start, end, self.chunk):
            yield [e.leaf for e in self.node.log.entries(i, min(end, i + self.chunk))]


def _records(n: int, offset: int = 0) -> list[Record]:
    return [
        Record(
            "score.city",
            "cn-zj-hangzhou",
            Subject("org", "91330100MA0YX0016X"),
            {
                "scheme": "HANGZHOU_QIANJIANG",
                "score": 500 + i,
                "band": "良好",
                "as_of": "2026-11-01",
            },
            T0 + i,
        )
        for i in range(offset, offset + n)
    ]


@pytest.fixture
def peer_node(tmp_path: Path) -> Iterator[LocalNode]:
    home = NodeHome.init(
        tmp_path / "hz",
        region="cn-zj-hangzhou",
        origin=ORIGIN,
        db=None,
        now=T0,
        log_seed=os.urandom(32),
        subject_secret=os.urandom(32),
        platform_seed=os.urandom(32),
    )
    with LocalNode(home) as node:
        node.issue(_records(25), iat=T0)
        yield node


@pytest.fixture
def mirror(store_url: str) -> Iterator[AppendOnlyLog]:
    store = SqlStore(store_url)
    log = AppendOnlyLog(store)
    yield log
    log.close()
    store.close()


def _sync(peer: object, node: LocalNode, mirror: AppendOnlyLog, batch: int = 10) -> PeerSync:
    return PeerSync(ORIGIN, peer, node.home.trust(), mirror, batch=batch)  # type: ignore[arg-type]


def test_mirrors_everything_and_resumes(peer_node: LocalNode, mirror: AppendOnlyLog) -> None:
    sync = _sync(LocalPeer(peer_node), peer_node, mirror)
    r = sync.sync_once(T0)
    assert (r.checkpoint_size, r.mirrored_size, r.new_entries, r.error) == (25, 25, 25, None)
    assert mirror.root() == peer_node.log.root()
    assert [e.leaf for e in mirror.entries(0, 25)] == [e.leaf for e in peer_node.log.entries(0, 25)]
    assert sync.sync_once(T0).new_entries == 0
    peer_node.issue(_records(9, offset=100), iat=T0)
    r = sync.sync_once(T0)
    assert (r.mirrored_size, r.new_entries) == (34, 9)
    assert mirror.latest_checkpoint() is not None
    assert mirror.latest_checkpoint().tree_size == 34  # type: ignore[union-attr]


class DropsMidway(LocalPeer):
    def __init__(self, node: LocalNode, after: int) -> None:
        super().__init__(node, chunk=5)
        self.after = after

    def get_entries(self, start: int, end: int) -> Iterator[list[bytes]]:
        for chunk in super().get_entries(start, end):
            if self.after <= 0:
                raise PeerUnavailableError("peer: connection dropped")
            self.after -= len(chunk)
            yield chunk


def test_peer_down_mid_sync_then_back(peer_node: LocalNode, mirror: AppendOnlyLog) -> None:
    with pytest.raises(PeerUnavailableError):
        _sync(DropsMidway(peer_node, after=12), peer_node, mirror).sync_once(T0)
    assert mirror.size == 10  # the first whole batch was committed, nothing partial
    assert mirror.root() == peer_node.log.root(10)
    r = _sync(LocalPeer(peer_node), peer_node, mirror).sync_once(T0)
    assert (r.mirrored_size, r.error) == (25, None)
    assert mirror.root() == peer_node.log.root()


class ForgesEntry(LocalPeer):
    """Serves, at one index, a validly signed statement that is not the logged one."""

    def __init__(self, node: LocalNode, index: int, key: SigningKey | None = None) -> None:
        super().__init__(node)
        self.index = index
        self.key = key

    def get_entries(self, start: int, end: int) -> Iterator[list[bytes]]:
        i = start
        for chunk in super().get_entries(start, end):
            out = []
            for leaf in chunk:
                if i == self.index:
                    key = self.key or self.node.home.issuer_signing_key(
                        self.node.home.platform_issuer, "score.city", T0
                    )
                    leaf = sign_statement(
                        _records(1, offset=999)[0], self.node.home.platform_issuer, key, T0
                    ).leaf
                out.append(leaf)
                i += 1
            yield out


def test_forged_but_validly_signed_entry_is_not_mirrored(
    peer_node: LocalNode, mirror: AppendOnlyLog
) -> None:
    with pytest.raises(InconsistentLogError, match="not in its checkpointed tree"):
        _sync(ForgesEntry(peer_node, 13), peer_node, mirror).sync_once(T0)
    assert mirror.size == 10 and mirror.root() == peer_node.log.root(10)


def test_entry_signed_by_unknown_key_is_refused_with_reason(
    peer_node: LocalNode, mirror: AppendOnlyLog
) -> None:
    rogue = SigningKey(b"\x66" * 32)
    r = _sync(ForgesEntry(peer_node, 13, rogue), peer_node, mirror).sync_once(T0)
    assert r.error is not None and r.error.startswith("entry 13:")
    assert "not a trusted key" in r.error
    assert mirror.size == 13 and mirror.root() == peer_node.log.root(13)
    assert mirror.latest_checkpoint() is None  # the checkpoint was not reached


class WrongProof(LocalPeer):
    def get_consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        proof = super().get_consistency_proof(old_size, new_size)
        return [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]


def test_wrong_consistency_proof(peer_node: LocalNode, mirror: AppendOnlyLog) -> None:
    _sync(LocalPeer(peer_node), peer_node, mirror).sync_once(T0)
    peer_node.issue(_records(3, offset=50), iat=T0)
    with pytest.raises(InconsistentLogError, match="not consistent with verified 25") as e:
        _sync(WrongProof(peer_node), peer_node, mirror).sync_once(T0)
    assert e.value.old_checkpoint and e.value.new_checkpoint and e.value.proof
    assert mirror.size == 25


class ServesNote(LocalPeer):
    def __init__(self, node: LocalNode, note: str) -> None:
        super().__init__(node)
        self.note = note

    def get_checkpoint(self) -> str:
        return self.note


def test_rolled_back_checkpoint(peer_node: LocalNode, mirror: AppendOnlyLog) -> None:
    old = peer_node.publish_checkpoint(T0).to_text()
    peer_node.issue(_records(5, offset=60), iat=T0)
    _sync(LocalPeer(peer_node), peer_node, mirror).sync_once(T0)
    with pytest.raises(InconsistentLogError, match="rolled back"):
        _sync(ServesNote(peer_node, old), peer_node, mirror).sync_once(T0)


def test_same_size_other_root_is_split_view(peer_node: LocalNode, mirror: AppendOnlyLog) -> None:
    _sync(LocalPeer(peer_node), peer_node, mirror).sync_once(T0)
    log_key = peer_node.home.log_key()
    forged = sign_checkpoint(Checkpoint(ORIGIN, 25, b"\x42" * 32), ORIGIN, log_key).to_text()
    with pytest.raises(InconsistentLogError, match="two roots for size 25") as e:
        _sync(ServesNote(peer_node, forged), peer_node, mirror).sync_once(T0)
    assert e.value.new_checkpoint == forged


def test_checkpoint_by_unknown_key_or_origin(peer_node: LocalNode, mirror: AppendOnlyLog) -> None:
    other = SigningKey(b"\x77" * 32)
    note = sign_checkpoint(Checkpoint(ORIGIN, 25, peer_node.log.root()), ORIGIN, other)
    with pytest.raises(SignatureError, match="no log signature"):
        _sync(ServesNote(peer_node, note.to_text()), peer_node, mirror).sync_once(T0)
    elsewhere = sign_checkpoint(
        Checkpoint("x.example/log", 25, peer_node.log.root()), "x.example/log", other
    )
    with pytest.raises(WrongLogError, match=r"expected 'credex\.hangzhou\.example/log'"):
        _sync(ServesNote(peer_node, elsewhere.to_text()), peer_node, mirror).sync_once(T0)
    assert mirror.size == 0


def test_unparseable_checkpoint(peer_node: LocalNode, mirror: AppendOnlyLog) -> None:
    from credex.ledger.errors import NoteError

    with pytest.raises(NoteError):
        _sync(ServesNote(peer_node, "garbage"), peer_node, mirror).sync_once(T0)
    assert mirror.size == 0
