"""A32: a peer asked again for an older checkpoint by its size (``keep_cosigned``, so a
mirror can rest on the newest cosigned one) answers with cosignature lines that do not
verify (another key under a witness's name, junk), or with another body for that size.
Nothing it adds is kept: the mirror's stored note gains only lines that verify, the kept
cosigned checkpoint does not move, and a genuine cosignature moves it. The "mirror" here
is a real log (the node's own: the same ``AppendOnlyLog``, store and index)."""

from __future__ import annotations

from pathlib import Path

import pytest

from credex.ledger.checkpoint import SignedNote, cosign_checkpoint
from credex.ledger.keys import SigningKey
from credex.ledger.record import Record, Subject
from credex.ledger.trust import TrustedWitness, TrustStore
from credex.node.federation.cosigned import keep_cosigned
from credex.node.federation.mirrors import cosigned_path, read_root
from credex.node.home import NodeHome
from credex.node.local import LocalNode

from .support import T0, db_of, make_home

WITNESS = "witness.example"
GOOD = SigningKey(bytes([7]) * 32)
FORGER = SigningKey(bytes([8]) * 32)


class Peer:
    """Serves the node's checkpoints by size, with whatever ``extra`` lines it adds."""

    def __init__(self, node: LocalNode) -> None:
        self.node = node
        self.extra: dict[int, str] = {}

    def get_checkpoint(self, tree_size: int = 0) -> str:
        if tree_size in self.extra:
            return self.extra[tree_size]
        found = self.node.store.get_checkpoint(tree_size)
        assert found is not None
        return found.note

    def get_receipt(self, leaf_index: int, tree_size: int) -> bytes:
        return self.node.receipt(leaf_index, tree_size)


def _score(region: str, n: int) -> Record:
    body = {"scheme": "NINGBO_TIANYI_PLACEHOLDER", "score": 600 + n, "band": "placeholder-3",
            "as_of": "2026-05-01"}  # fmt: skip
    return Record("score.city", region, Subject("org", "91330100MA0YX0016X"), body, T0)


@pytest.fixture
def home(tmp_path: Path, store_url: str) -> NodeHome:
    return make_home(tmp_path / "ningbo", db=db_of(store_url))


def test_forged_cosignatures_for_an_older_size_are_not_kept(home: NodeHome) -> None:
    with LocalNode(home) as node:
        base = home.trust()
        trust = TrustStore(base.logs, base.issuers, (TrustedWitness(WITNESS, GOOD.public_key),), 1)
        node.issue([_score(home.region, 1)], iat=T0)
        old = node.publish_checkpoint(T0 + 1)
        node.issue([_score(home.region, 2)], iat=T0 + 2)
        node.publish_checkpoint(T0 + 3)  # the newest: no witness has cosigned it
        size = old.checkpoint.size
        peer = Peer(node)

        def keep() -> int:
            return keep_cosigned(home, home.origin, peer, node.store, node.log, trust)

        stored = node.store.get_checkpoint(size)
        assert stored is not None
        # a cosignature by another key under the witness's name, and a junk line
        forged = old.with_signature(cosign_checkpoint(old, WITNESS, FORGER, T0 + 5))
        peer.extra[size] = forged.to_text() + "— junk AAAAAAAAAAAA\n"
        assert keep() == 0
        assert node.store.get_checkpoint(size) == stored
        assert read_root(cosigned_path(home, home.origin), home.origin) is None
        # another body for the size (another root): ignored, nothing stored changes
        other = node.publish_checkpoint(T0 + 6)
        peer.extra[size] = other.to_text()
        assert keep() == 0 and node.store.get_checkpoint(size) == stored
        # a genuine cosignature: kept, and the mirror now rests on that checkpoint
        genuine = old.with_signature(cosign_checkpoint(old, WITNESS, GOOD, T0 + 7))
        peer.extra[size] = genuine.to_text()
        assert keep() == size
        kept = node.store.get_checkpoint(size)
        assert kept is not None and len(SignedNote.from_text(kept.note).signatures) == 2
        held = read_root(cosigned_path(home, home.origin), home.origin)
        assert held is not None and held.tree_size == size
