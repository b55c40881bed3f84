"""A45: make parallel verification of a peer's entries mirror something after a bad one.

Since issue 13 a mirror verifies each fetched chunk of a peer's entries on two threads
(``PeerSync(threads=2)``), so entries after a bad one are checked too, out of order. A
hostile peer logs a forged statement (a key outside the trust) in the middle of a chunk,
a second one later in the same chunk, and a third whose bytes are not even CBOR. The
mirror must stop exactly where one-by-one verification stops: nothing at or after the
first bad entry is mirrored, the round's error names that entry (never a later one,
whichever thread reached it first), and a second round resumes and stops at the same
place. Real SQLite stores on both sides.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from credex.ledger.keys import SigningKey
from credex.ledger.log import AppendOnlyLog
from credex.ledger.record import Record, Subject
from credex.ledger.statement import sign_statement
from credex.ledger.storage.sql import SqlStore
from credex.node.federation.sync import PeerSync
from credex.node.local import LocalNode
from tests.security.support import T0, make_home

GOOD = 100


def _records(n: int, offset: int, region: str) -> list[Record]:
    return [
        Record(
            "score.city",
            region,
            Subject("org", "91330100MA0YX0016X"),
            {
                "scheme": "NINGBO",
                "score": 500 + i % 400,
                "band": "good",
                "as_of": "2026-11-01",
                "level": "L3",
            },
            T0 + i,
        )
        for i in range(offset, offset + n)
    ]


class _Peer:
    """The peer's own node read in process, its entries in chunks of 256 (one chunk)."""

    def __init__(self, node: LocalNode, garbage_at: int | None = None) -> None:
        self.node, self.garbage_at = node, garbage_at

    def get_checkpoint(self) -> str:
        return self.node.publish_checkpoint(T0).to_text()

    def get_consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return self.node.log.consistency_proof(old_size, new_size)

    def get_entries(self, start: int, end: int) -> Iterator[list[bytes]]:
        for i in range(start, end, 256):
            chunk = [e.leaf for e in self.node.log.entries(i, min(end, i + 256))]
            if self.garbage_at is not None and i <= self.garbage_at < i + len(chunk):
                chunk[self.garbage_at - i] = b"\xff\x00"
            yield chunk


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[LocalNode]:
    home = make_home(tmp_path / "peer")
    with LocalNode(home) as node:
        region = home.region
        node.issue(_records(GOOD, 0, region), iat=T0)
        rogue_key = SigningKey(b"\x66" * 32)
        forged = [
            sign_statement(r, home.platform_issuer, rogue_key, T0)
            for r in _records(2, 1000, region)
        ]
        node.append([forged[0]])  # entry 100: the log takes it; no verifier will
        node.issue(_records(30, 200, region), iat=T0)
        node.append([forged[1]])  # entry 131: a second bad one, same chunk
        node.issue(_records(30, 300, region), iat=T0)
        yield node


def _mirror(tmp_path: Path, name: str) -> tuple[SqlStore, AppendOnlyLog]:
    store = SqlStore(f"sqlite:///{tmp_path / name}.sqlite")
    return store, AppendOnlyLog(store)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_nothing_after_the_first_forged_entry(
    peer: LocalNode, tmp_path: Path, threads: int
) -> None:
    home = peer.home
    store, mirror = _mirror(tmp_path, f"m{threads}")
    try:
        sync = PeerSync(home.origin, _Peer(peer), home.trust(), mirror, threads=threads)
        for _ in range(2):  # a second round resumes and stops at the same entry
            r = sync.sync_once(T0)
            assert r.error is not None and r.error.startswith(f"entry {GOOD}:"), r.error
            assert r.mirrored_size == GOOD == mirror.size
            assert mirror.root() == peer.log.root(GOOD)
    finally:
        mirror.close()
        store.close()


def test_bytes_that_are_not_cbor_before_the_forged_entry(peer: LocalNode, tmp_path: Path) -> None:
    home = peer.home
    store, mirror = _mirror(tmp_path, "garbage")
    try:
        r = PeerSync(home.origin, _Peer(peer, garbage_at=60), home.trust(), mirror).sync_once(T0)
        assert r.error is not None and r.error.startswith("entry 60:"), r.error
        assert "cbor" in r.error
        assert mirror.size == 60
    finally:
        mirror.close()
        store.close()
