"""``WitnessStore`` on every backend (SQLite file, PostgreSQL schema): the witness's state
survives a reopen, and concurrent AddCheckpoint calls cannot both advance from one size."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from credex.ledger.checkpoint import Checkpoint, sign_checkpoint
from credex.ledger.errors import (
    ConsistencyProofError,
    InconsistentLogError,
    NotFoundError,
    StorageError,
)
from credex.ledger.evidence import Evidence, verify_evidence
from credex.ledger.keys import SigningKey
from credex.ledger.merkle import MerkleTree
from credex.ledger.storage.witness import WitnessStore
from credex.ledger.trust import TrustedLog
from credex.ledger.witness import (
    PeerLogState,
    TrustedCheckpoint,
    Witness,
    WitnessConflictError,
    WitnessStateStore,
)

LOG = SigningKey(b"\x11" * 32)
WITNESS_KEY = SigningKey(b"\x22" * 32)
ORIGIN = "credex.ningbo.example/log"
NAME = ORIGIN
LOGS = {ORIGIN: TrustedLog(ORIGIN, NAME, LOG.public_key)}
T0 = 1_700_000_000


def _tree(n: int, tag: str = "honest", prefix: int = 0) -> MerkleTree:
    return MerkleTree(
        [f"entry {i}".encode() if i < prefix else f"{tag} {i}".encode() for i in range(n)]
    )


def _note(tree: MerkleTree, size: int) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, tree.root(size)), NAME, LOG).to_text()


@pytest.fixture
def wstore(store_url: str) -> Iterator[WitnessStore]:
    s = WitnessStore(store_url)
    try:
        yield s
    finally:
        s.close()


def _witness(store: WitnessStateStore) -> Witness:
    return Witness("credex.hangzhou.example/witness", WITNESS_KEY, LOGS, store)


def test_is_a_witness_state_store(wstore: WitnessStore) -> None:
    s: WitnessStateStore = wstore
    assert s.latest_cosigned(ORIGIN) is None
    assert wstore.list_evidence() == [] and wstore.peer_states() == []


def test_witness_state_and_evidence_survive_reopen(store_url: str) -> None:
    honest, forked = _tree(10, prefix=5), _tree(10, "forked", prefix=5)
    with WitnessStore(store_url) as s:
        w = _witness(s)
        w.add_checkpoint(0, [], _note(honest, 6), T0)
        w.add_checkpoint(6, honest.consistency_proof(6, 10), _note(honest, 10), T0 + 1)
        with pytest.raises(InconsistentLogError):
            w.add_checkpoint(10, [], _note(forked, 10), T0 + 2)
        with pytest.raises(InconsistentLogError):  # the same evidence is stored once
            w.add_checkpoint(10, [], _note(forked, 10), T0 + 3)
    with WitnessStore(store_url) as s:
        held = s.latest_cosigned(ORIGIN)
        assert held is not None
        assert (held.size, held.root, held.note) == (10, honest.root(), _note(honest, 10))
        assert isinstance(held.root, bytes)
        infos = s.list_evidence()
        assert [(i.origin, i.kind, i.created_at) for i in infos] == [
            (ORIGIN, "same-size-different-root", T0 + 2)
        ]
        got = s.get_evidence(infos[0].id)
        assert got == infos[0] and got.digest == got.evidence.digest
        verify_evidence(got.evidence, trusted_log=LOGS[ORIGIN], conclusive_only=True)
        assert Evidence.from_bytes(got.evidence.to_bytes()) == got.evidence
        with pytest.raises(NotFoundError, match="no evidence with id 999"):
            s.get_evidence(999)
        # a reopened witness continues from the persisted size
        w = _witness(s)
        with pytest.raises(WitnessConflictError) as e:
            w.add_checkpoint(0, [], _note(honest, 10), T0 + 4)
        assert e.value.witness_size == 10


def test_bad_proof_records_evidence_and_keeps_state(wstore: WitnessStore) -> None:
    honest, forked = _tree(12, prefix=6), _tree(12, "forked", prefix=6)
    w = _witness(wstore)
    w.add_checkpoint(0, [], _note(honest, 7), T0)
    with pytest.raises(ConsistencyProofError):
        w.add_checkpoint(7, forked.consistency_proof(7, 12), _note(forked, 12), T0 + 1)
    held = wstore.latest_cosigned(ORIGIN)
    assert held is not None and held.size == 7
    (info,) = wstore.list_evidence()
    assert info.kind == "inconsistent-proof" and info.evidence.proof
    verify_evidence(info.evidence)


def test_add_evidence_is_idempotent(wstore: WitnessStore) -> None:
    honest, forked = _tree(4), _tree(4, "forked")
    ev = Evidence(
        ORIGIN,
        LOG.public_key,
        NAME,
        _note(honest, 4),
        _note(forked, 4),
        kind="same-size-different-root",
    )
    first = wstore.add_evidence(ev, T0)
    assert wstore.add_evidence(ev, T0 + 5) == first
    assert [i.created_at for i in wstore.list_evidence()] == [T0]


def test_peer_state_persists_and_never_rolls_back(store_url: str) -> None:
    tree = _tree(20)
    with WitnessStore(store_url) as s:
        state = PeerLogState(s.peer_states())
        state.accept(_note(tree, 8), [], log_name=NAME, log_key=LOG.public_key)
        latest = state.latest(ORIGIN)
        assert latest is not None
        s.save_peer_state(latest, T0)
    with WitnessStore(store_url) as s:
        state = PeerLogState(s.peer_states())
        held = state.latest(ORIGIN)
        assert held == TrustedCheckpoint(ORIGIN, 8, tree.root(8), _note(tree, 8))
        state.accept(
            _note(tree, 20), tree.consistency_proof(8, 20), log_name=NAME, log_key=LOG.public_key
        )
        latest = state.latest(ORIGIN)
        assert latest is not None
        s.save_peer_state(latest, T0 + 1)
        with pytest.raises(StorageError, match="would roll back: expected size >= 20, got 8"):
            s.save_peer_state(held, T0 + 2)
        assert [p.size for p in s.peer_states()] == [20]


def test_concurrent_add_checkpoint_from_the_same_old_size(store_url: str) -> None:
    """Two witnesses (own engines, as two server threads or processes would be) race."""
    tree = _tree(30)
    with WitnessStore(store_url) as s:
        _witness(s).add_checkpoint(0, [], _note(tree, 10), T0)
    stores = [WitnessStore(store_url), WitnessStore(store_url)]
    try:
        for attempt in range(5):
            held = stores[0].latest_cosigned(ORIGIN)
            assert held is not None
            old = held.size
            targets = [old + 1 + attempt % 3, old + 2 + attempt % 3]
            barrier = threading.Barrier(2)
            results: list[object] = [None, None]

            def run(
                i: int,
                old: int = old,
                targets: list[int] = targets,
                barrier: threading.Barrier = barrier,
                results: list[object] = results,
            ) -> None:
                w = _witness(stores[i])
                new = targets[i]
                proof = tree.consistency_proof(old, new)
                barrier.wait()
                try:
                    results[i] = w.add_checkpoint(old, proof, _note(tree, new), T0 + 10)
                except WitnessConflictError as e:
                    results[i] = e

            threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            conflicts = [r for r in results if isinstance(r, WitnessConflictError)]
            assert len(conflicts) == 1, results
            winner = targets[results.index(next(r for r in results if r not in conflicts))]
            assert conflicts[0].witness_size == winner
            after = stores[1].latest_cosigned(ORIGIN)
            assert after is not None and after.size == winner
    finally:
        for s in stores:
            s.close()


def test_refuses_in_memory_sqlite_and_bad_urls() -> None:
    with pytest.raises(StorageError, match="in-memory sqlite is not supported"):
        WitnessStore("sqlite://")
    with pytest.raises(StorageError, match="unsupported backend"):
        WitnessStore("mysql://x/y")
    with pytest.raises(StorageError, match="could not be parsed"):
        WitnessStore("not a url")


def test_closed_store_refuses(store_url: str) -> None:
    s = WitnessStore(store_url)
    s.close()
    with pytest.raises(StorageError, match="store is closed"):
        s.latest_cosigned(ORIGIN)
