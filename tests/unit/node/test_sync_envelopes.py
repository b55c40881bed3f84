"""Peer sync of hash envelopes (personal records): a mirror copies the envelopes without
their bodies and still checks the issuer's authorisation for the kind named in the
envelope's preimage content type."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from credex.adapters.sample import score_records
from credex.ledger.errors import BodyNotHeldError, KindNotAuthorisedError
from credex.ledger.log import AppendOnlyLog
from credex.ledger.statement import Statement
from credex.ledger.storage.sql import SqlStore
from credex.ledger.trust import TrustStore
from credex.node.federation.sync import PeerSync, verify_peer_statement
from credex.node.home import NodeHome
from credex.node.local import LocalNode

T0 = 1_790_000_000
ORIGIN = "credex.ningbo.example/log"


class LocalPeer:
    def __init__(self, node: LocalNode) -> None:
        self.node = node

    def get_checkpoint(self) -> str:
        return self.node.publish_checkpoint(T0).to_text()

    def get_consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return self.node.log.consistency_proof(old_size, new_size)

    def get_entries(self, start: int, end: int) -> Iterator[list[bytes]]:
        yield [e.leaf for e in self.node.log.entries(start, end)]


@pytest.fixture
def peer_node(tmp_path: Path) -> Iterator[LocalNode]:
    home = NodeHome.init(
        tmp_path / "nb",
        region="cn-zj-ningbo",
        origin=ORIGIN,
        db=None,
        now=T0,
        log_seed=os.urandom(32),
        subject_secret=os.urandom(32),
        platform_seed=os.urandom(32),
    )
    with LocalNode(home) as node:
        node.issue(
            score_records("cn-zj-ningbo", home.subject_key(), 6, seed=1, as_of=date(2026, 5, 1)),
            iat=T0,
        )
        yield node


@pytest.fixture
def mirror(store_url: str) -> Iterator[AppendOnlyLog]:
    store = SqlStore(store_url)
    log = AppendOnlyLog(store)
    yield log
    log.close()
    store.close()


def _without_kind(trust: TrustStore, kind: str) -> TrustStore:
    issuers = tuple(dataclasses.replace(i, kinds=i.kinds - {kind}) for i in trust.issuers)
    return dataclasses.replace(trust, issuers=issuers)


def test_mirror_copies_envelopes_without_bodies(
    peer_node: LocalNode, mirror: AppendOnlyLog
) -> None:
    sync = PeerSync(ORIGIN, LocalPeer(peer_node), peer_node.home.trust(), mirror)
    r = sync.sync_once(T0)
    assert (r.mirrored_size, r.error) == (6, None)
    assert mirror.root() == peer_node.log.root()
    for e in mirror.entries(0, 6):
        assert e.kind == "score.city"
        st = Statement.from_bytes(e.leaf)
        assert st.is_envelope and not st.has_body
        with pytest.raises(BodyNotHeldError):
            _ = st.record
        body = peer_node.bodies.get(e.leaf_hash)
        assert body is not None and body not in e.leaf


def test_envelope_kind_authorisation_is_checked(
    peer_node: LocalNode, mirror: AppendOnlyLog
) -> None:
    trust = _without_kind(peer_node.home.trust(), "score.city")
    leaf = peer_node.log.entry(0).leaf
    with pytest.raises(KindNotAuthorisedError, match=r"not authorised for kind 'score\.city'"):
        verify_peer_statement(leaf, trust)
    r = PeerSync(ORIGIN, LocalPeer(peer_node), trust, mirror).sync_once(T0)
    assert r.error is not None and r.error.startswith("entry 0:")
    assert "not authorised for kind 'score.city'" in r.error
    assert mirror.size == 0
