"""Attacks on the index commitment (docs/spec.md §5.2): a log that signs a checkpoint
whose ``credex-index/v1`` root is not the index of its entries (hiding a repair from
every status proof), or a malformed index line. A mirror rebuilds the index as it syncs,
refuses the checkpoint (``IndexRootMismatchError``), keeps the entries it proved and the
evidence, and refuses it again next round; nothing else it holds changes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from credex.ledger.checkpoint import Checkpoint, SignedNote, sign_checkpoint
from credex.ledger.errors import IndexFormatError, IndexRootMismatchError
from credex.ledger.index_map import index_extension_line, map_input_of, map_pairs
from credex.ledger.log import AppendOnlyLog
from credex.ledger.log_index import LogIndex
from credex.ledger.record import Record, Subject
from credex.ledger.storage.index_store import SqlNodeStore
from credex.ledger.storage.sql import SqlStore
from credex.ledger.vindex import compute_root
from credex.node.federation.follow import keep_index_evidence
from credex.node.federation.sync import PeerSync
from credex.node.home import NodeHome
from credex.node.local import LocalNode

T0 = 1_790_000_000
ORIGIN = "credex.hangzhou.example/log"


class Peer:
    """Serves a node's log; ``index_line`` replaces the checkpoint's index line (re-signed
    with the log's own key: the log itself lies)."""

    def __init__(self, node: LocalNode, index_line: str | None = None) -> None:
        self.node = node
        self.index_line = index_line

    def get_checkpoint(self) -> str:
        note = self.node.publish_checkpoint(T0)
        if self.index_line is None:
            return note.to_text()
        cp = note.checkpoint
        forged = Checkpoint(cp.origin, cp.size, cp.root, (self.index_line,))
        return sign_checkpoint(forged, cp.origin, self.node.home.log_key()).to_text()

    def get_consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return self.node.log.consistency_proof(old_size, new_size)

    def get_entries(self, start: int, end: int) -> Iterator[list[bytes]]:
        yield [e.leaf for e in self.node.log.entries(start, end)]


def _records(n: int) -> list[Record]:
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
        for i in range(n)
    ]


@pytest.fixture
def node(tmp_path: Path) -> Iterator[LocalNode]:
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
    with LocalNode(home) as n:
        n.issue(_records(12), iat=T0)
        yield n


@pytest.fixture
def mirror(store_url: str) -> Iterator[AppendOnlyLog]:
    store, nodes = SqlStore(store_url), SqlNodeStore(store_url)
    log = AppendOnlyLog(store, index=LogIndex(nodes))
    yield log
    log.close()
    store.close()
    nodes.close()


def _sync(peer: Peer, node: LocalNode, mirror: AppendOnlyLog) -> PeerSync:
    return PeerSync(ORIGIN, peer, node.home.trust(), mirror, batch=5)  # type: ignore[arg-type]


def test_an_honest_checkpoint_commits_to_the_rebuilt_index(
    node: LocalNode, mirror: AppendOnlyLog
) -> None:
    r = _sync(Peer(node), node, mirror).sync_once(T0)
    assert r.error is None and mirror.latest_checkpoint().tree_size == 12  # type: ignore[union-attr]
    note = SignedNote.from_text(mirror.latest_checkpoint().note)  # type: ignore[union-attr]
    rebuilt = compute_root(
        map_pairs(map_input_of(e.index, e.leaf) for e in node.log.entries(0, 12))
    )
    assert note.checkpoint.extensions == (index_extension_line(rebuilt),)


def test_index_root_that_does_not_rebuild_is_refused_with_evidence(
    node: LocalNode, mirror: AppendOnlyLog, tmp_path: Path
) -> None:
    liar = Peer(node, index_extension_line(b"\x5a" * 32))
    with pytest.raises(IndexRootMismatchError, match="checkpoint refused") as caught:
        _sync(liar, node, mirror).sync_once(T0)
    assert mirror.size == 12  # the entries are the log's (proven by its root) ...
    assert mirror.latest_checkpoint() is None  # ... its false checkpoint is not kept
    with pytest.raises(IndexRootMismatchError):  # and it is refused again next round
        _sync(liar, node, mirror).sync_once(T0)
    assert mirror.latest_checkpoint() is None
    path = keep_index_evidence(node.home, ORIGIN, caught.value, T0)
    evidence = json.loads(path.read_text())
    assert evidence["kind"] == "index-root-mismatch" and evidence["size"] == 12
    assert SignedNote.from_text(evidence["checkpoint"]).checkpoint.extensions == (
        index_extension_line(b"\x5a" * 32),
    )
    assert evidence["rebuilt_root"] == node.index.root_at(12).hash.hex()
    # the honest checkpoint is accepted afterwards
    assert _sync(Peer(node), node, mirror).sync_once(T0).error is None
    assert mirror.latest_checkpoint().tree_size == 12  # type: ignore[union-attr]


def test_malformed_index_line_is_refused(node: LocalNode, mirror: AppendOnlyLog) -> None:
    with pytest.raises(IndexFormatError):
        _sync(Peer(node, "credex-index/v1 not-base64!"), node, mirror).sync_once(T0)
    assert mirror.latest_checkpoint() is None
