"""A58: make a mirror append what no worker verified, by way of the worker processes.

Since issue 13 a mirror may verify a peer's entries on worker processes
(``PeerSync(processes=2)``) and append what comes back. The answers must be bound to the
entries they are about: an answer is accepted only for its own position and for the
SHA-256 of the exact bytes fetched at that position. Refused (``WorkerError``, nothing
appended): an answer about other bytes (a forged entry's answer moved onto a good one,
or a good answer onto a forged entry), answers swapped between two entries, one answer
too many, one too few with no refusal, a malformed answer. And through real workers: a
peer's forged entries in the middle of batches stop the mirror exactly where one-by-one
verification stops (the first bad entry, in log order, with batches verified while the
previous one is appended). Real SQLite stores on both sides.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from credex.ledger.log import AppendOnlyLog
from credex.ledger.storage.sql import SqlStore
from credex.node.federation.sync import (
    PeerSync,
    WorkerError,
    _pool_init,
    _pool_work,
    accept_answers,
)
from credex.node.local import LocalNode
from tests.security.support import T0
from tests.security.test_sync_parallel_first_bad_entry import GOOD, _Peer, peer

__all__ = ["peer"]  # the fixture: a peer log with forged entries at 100 and 131


def _answers(node: LocalNode, start: int, end: int) -> tuple[list[bytes], list[object]]:
    datas = [e.leaf for e in node.log.entries(start, end)]
    return datas, list(_pool_work(_pool_init(node.home.trust()), (T0, None, datas)))


def test_answers_bound_to_their_own_bytes(peer: LocalNode) -> None:
    datas, answers = _answers(peer, 90, 100)
    leaves, error = accept_answers(90, datas, answers)  # type: ignore[arg-type]
    assert error is None and [leaf.leaf for leaf in leaves] == datas
    swapped = [answers[1], answers[0], *answers[2:]]
    with pytest.raises(WorkerError, match="other bytes than entry 90"):
        accept_answers(90, datas, swapped)  # type: ignore[arg-type]
    with pytest.raises(WorkerError, match="for 11 of 10"):
        accept_answers(90, datas, [*answers, answers[0]])  # type: ignore[arg-type]
    with pytest.raises(WorkerError, match="9 of 10 entries and refused none"):
        accept_answers(90, datas, answers[:-1])  # type: ignore[arg-type]
    digest, _ = answers[3]  # type: ignore[misc]
    for bad in (
        (digest, ("ok", "k", "i")),
        (digest, ("ok", 1, "iss", 0, None, None, None, None)),
        (digest, ("fine",)),
        (digest, 7),
        (digest, ()),
        "not a tuple",
    ):
        with pytest.raises(WorkerError, match="entry 93"):
            accept_answers(90, datas, [*answers[:3], bad, *answers[4:]])  # type: ignore[list-item]


def test_a_good_answer_is_not_moved_onto_a_forged_entry(peer: LocalNode) -> None:
    datas, answers = _answers(peer, 99, 101)  # entry 100 is forged
    assert len(answers) == 2 and answers[1][1][0] == "refused"  # type: ignore[index]
    leaves, error = accept_answers(99, datas, answers)  # type: ignore[arg-type]
    assert len(leaves) == 1 and error is not None and error.startswith("entry 100:")
    with pytest.raises(WorkerError, match="entry 100"):
        accept_answers(99, datas, [answers[0], answers[0]])  # type: ignore[arg-type]


@pytest.mark.parametrize("batch", [7, 40, 1000])
def test_workers_stop_at_the_first_forged_entry(
    peer: LocalNode, tmp_path: Path, batch: int
) -> None:
    home = peer.home
    store = SqlStore(f"sqlite:///{tmp_path / f'm{batch}'}.sqlite")
    mirror = AppendOnlyLog(store)
    try:
        with PeerSync(
            home.origin, _Peer(peer), home.trust(), mirror, batch=batch, processes=2
        ) as sync:
            sync.start_workers()
            for _ in range(2):  # a second round resumes and stops at the same entry
                r = sync.sync_once(T0)
                assert r.error is not None and r.error.startswith(f"entry {GOOD}:"), r.error
                assert r.mirrored_size == GOOD == mirror.size
                assert mirror.root() == peer.log.root(GOOD)
    finally:
        mirror.close()
        store.close()


def test_workers_stop_at_bytes_that_are_not_cbor(peer: LocalNode, tmp_path: Path) -> None:
    home = peer.home
    store = SqlStore(f"sqlite:///{tmp_path / 'g'}.sqlite")
    mirror = AppendOnlyLog(store)
    try:
        with PeerSync(
            home.origin, _Peer(peer, garbage_at=60), home.trust(), mirror, batch=25, processes=2
        ) as sync:
            sync.start_workers()
            r = sync.sync_once(T0)
        assert r.error is not None and r.error.startswith("entry 60:") and "cbor" in r.error
        assert mirror.size == 60
    finally:
        mirror.close()
        store.close()


def test_processes_mirror_what_one_thread_mirrors(peer: LocalNode, tmp_path: Path) -> None:
    """A peer with only good entries: the same mirror, byte for byte, either way."""
    home = peer.home
    roots = []
    for mode, kw in (("one", {"threads": 1}), ("procs", {"processes": 2})):
        store = SqlStore(f"sqlite:///{tmp_path / mode}.sqlite")
        mirror = AppendOnlyLog(store)
        try:
            with PeerSync(home.origin, _Peer(peer), home.trust(), mirror, batch=33, **kw) as s:
                if mode == "procs":
                    s.start_workers()
                s.sync_once(T0)
            roots.append((mirror.size, mirror.root(), [e.leaf for e in mirror.entries(0, 100)]))
        finally:
            mirror.close()
            store.close()
    assert roots[0] == roots[1]
