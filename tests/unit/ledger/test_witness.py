"""The witness (C2SP tlog-witness add-checkpoint) and the peer view, over the memory store."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credex.ledger.checkpoint import (
    Checkpoint,
    SignedNote,
    sign_checkpoint,
    verify_cosignature,
)
from credex.ledger.errors import (
    CheckpointError,
    ConsistencyProofError,
    CredexError,
    FormatError,
    InconsistentLogError,
    NotFoundError,
    OutOfRangeError,
    OversizeError,
    SignatureError,
)
from credex.ledger.evidence import verify_evidence
from credex.ledger.keys import SigningKey
from credex.ledger.merkle import EMPTY_ROOT, MerkleTree
from credex.ledger.trust import TrustedLog
from credex.ledger.witness import (
    MemoryWitnessStore,
    PeerLogState,
    TrustedCheckpoint,
    Witness,
    WitnessConflictError,
)

LOG = SigningKey(b"\x11" * 32)
OTHER = SigningKey(b"\x33" * 32)
WITNESS_KEY = SigningKey(b"\x22" * 32)
ORIGIN = "credex.ningbo.example/log"
NAME = ORIGIN
WITNESS_NAME = "credex.hangzhou.example/witness"
LOGS = {ORIGIN: TrustedLog(ORIGIN, NAME, LOG.public_key)}
T0 = 1_700_000_000


def _tree(n: int, tag: str = "honest", prefix: int = 0) -> MerkleTree:
    return MerkleTree(
        [f"entry {i}".encode() if i < prefix else f"{tag} {i}".encode() for i in range(n)]
    )


def _note(tree: MerkleTree, size: int, key: SigningKey = LOG, origin: str = ORIGIN) -> str:
    return sign_checkpoint(Checkpoint(origin, size, tree.root(size)), NAME, key).to_text()


def _witness() -> tuple[Witness, MemoryWitnessStore]:
    store = MemoryWitnessStore()
    return Witness(WITNESS_NAME, WITNESS_KEY, LOGS, store), store


def _cosigned(note: str, witness: Witness, old: int, proof: list[bytes], now: int) -> int:
    sig = witness.add_checkpoint(old, proof, note, now)
    return verify_cosignature(
        SignedNote.from_text(note).with_signature(sig), WITNESS_NAME, WITNESS_KEY.public_key
    )


# --- Witness --------------------------------------------------------------------------------


def test_growing_log_is_cosigned_each_time() -> None:
    w, store = _witness()
    tree = _tree(40)
    old = 0
    for i, size in enumerate([1, 2, 3, 7, 8, 16, 17, 40]):
        proof = tree.consistency_proof(old, size) if old else []
        assert _cosigned(_note(tree, size), w, old, proof, T0 + i) == T0 + i
        held = store.latest_cosigned(ORIGIN)
        assert held is not None and (held.size, held.root) == (size, tree.root(size))
        old = size
    # the same checkpoint again (old == size, empty proof) is cosigned again, state unchanged
    assert _cosigned(_note(tree, 40), w, 40, [], T0 + 99) == T0 + 99
    assert store.evidence == []


def test_first_checkpoint_may_be_the_empty_tree() -> None:
    w, _ = _witness()
    note = sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), NAME, LOG).to_text()
    _cosigned(note, w, 0, [], T0)
    tree = _tree(3)
    _cosigned(_note(tree, 3), w, 0, [], T0 + 1)  # every tree extends the empty one
    with pytest.raises(CheckpointError, match="empty root"):
        w.add_checkpoint(
            0, [], sign_checkpoint(Checkpoint(ORIGIN, 0, tree.root()), NAME, LOG).to_text(), T0
        )


def test_rollback_is_refused() -> None:
    w, store = _witness()
    tree = _tree(10)
    _cosigned(_note(tree, 10), w, 0, [], T0)
    # honest old size 10, smaller checkpoint: 400 (old > new)
    with pytest.raises(FormatError, match="old size out of range: expected 0 <= old <= 5"):
        w.add_checkpoint(10, [], _note(tree, 5), T0 + 1)
    # claiming the old size is smaller: 409 with the witness's size
    with pytest.raises(WitnessConflictError, match="expected 10, got 3") as info:
        w.add_checkpoint(3, tree.consistency_proof(3, 5), _note(tree, 5), T0 + 1)
    assert info.value.witness_size == 10
    held = store.latest_cosigned(ORIGIN)
    assert held is not None and held.size == 10


def test_same_size_different_root_is_evidence_and_never_cosigned() -> None:
    w, store = _witness()
    honest, forked = _tree(8, prefix=4), _tree(8, "forked", prefix=4)
    _cosigned(_note(honest, 8), w, 0, [], T0)
    # caught whatever old size the client claims
    for old in (8, 0, 5):
        with pytest.raises(InconsistentLogError, match=r"split view .* two roots for size 8") as e:
            w.add_checkpoint(old, [], _note(forked, 8), T0 + 1)
        assert e.value.old_checkpoint == _note(honest, 8)
        assert e.value.new_checkpoint == _note(forked, 8)
        assert e.value.proof == ()
    assert len(store.evidence) == 1  # deduplicated
    ev = store.evidence[0]
    assert ev.kind == "same-size-different-root" and ev.conclusive
    verify_evidence(ev, trusted_log=LOGS[ORIGIN], conclusive_only=True)
    held = store.latest_cosigned(ORIGIN)
    assert held is not None and held.root == honest.root(8)


def test_wrong_old_size_is_a_conflict_carrying_the_witness_size() -> None:
    w, _ = _witness()
    tree = _tree(20)
    with pytest.raises(WitnessConflictError, match="expected 0, got 4") as e:
        w.add_checkpoint(4, tree.consistency_proof(4, 10), _note(tree, 10), T0)
    assert e.value.witness_size == 0 and isinstance(e.value, OutOfRangeError)
    _cosigned(_note(tree, 10), w, 0, [], T0)
    with pytest.raises(WitnessConflictError) as e:
        w.add_checkpoint(7, tree.consistency_proof(7, 20), _note(tree, 20), T0)
    assert e.value.witness_size == 10
    _cosigned(_note(tree, 20), w, 10, tree.consistency_proof(10, 20), T0)


def test_bad_proof_is_refused_and_recorded() -> None:
    w, store = _witness()
    honest, forked = _tree(12, prefix=6), _tree(12, "forked", prefix=6)
    _cosigned(_note(honest, 7), w, 0, [], T0)
    # a forked checkpoint with the fork's own (valid for the fork) proof
    with pytest.raises(ConsistencyProofError, match="old root mismatch"):
        w.add_checkpoint(7, forked.consistency_proof(7, 12), _note(forked, 12), T0 + 1)
    # an honest checkpoint with a garbage proof
    bad = [b"\x00" * 32 for _ in honest.consistency_proof(7, 12)]
    with pytest.raises(ConsistencyProofError):
        w.add_checkpoint(7, bad, _note(honest, 12), T0 + 1)
    assert [e.kind for e in store.evidence] == ["inconsistent-proof", "inconsistent-proof"]
    for ev in store.evidence:
        verify_evidence(ev)
        assert not ev.conclusive
    held = store.latest_cosigned(ORIGIN)
    assert held is not None and held.size == 7
    # and the honest one with the right proof still goes through
    _cosigned(_note(honest, 12), w, 7, honest.consistency_proof(7, 12), T0 + 2)


@pytest.mark.parametrize(
    ("old", "proof", "match"),
    [
        (0, [b"\x00" * 32], "proof must be empty for old size 0"),
        (5, [b"\x00" * 32], "proof must be empty for equal sizes"),
    ],
    ids=["old-zero", "equal-sizes"],
)
def test_proof_must_be_empty_when_nothing_to_prove(
    old: int, proof: list[bytes], match: str
) -> None:
    w, _ = _witness()
    tree = _tree(5)
    if old:
        _cosigned(_note(tree, 5), w, 0, [], T0)
    with pytest.raises(ConsistencyProofError, match=match):
        w.add_checkpoint(old, proof, _note(tree, 5), T0)


def test_unknown_origin() -> None:
    w, _ = _witness()
    note = _note(_tree(3), 3, origin="credex.unknown.example/log")
    with pytest.raises(NotFoundError, match=r"unknown origin: credex\.unknown\.example/log"):
        w.add_checkpoint(0, [], note, T0)


def test_bad_signature() -> None:
    w, store = _witness()
    tree = _tree(3)
    with pytest.raises(SignatureError, match="no log signature by key"):
        w.add_checkpoint(0, [], _note(tree, 3, key=OTHER), T0)
    _, sig = _note(tree, 3).split("\n\n")
    forged = Checkpoint(ORIGIN, 3, _tree(3, "x").root()).to_text() + "\n" + sig
    with pytest.raises(SignatureError, match="signature does not verify"):
        w.add_checkpoint(0, [], forged, T0)
    assert store.latest_cosigned(ORIGIN) is None and store.evidence == []


def test_request_shape() -> None:
    w, _ = _witness()
    tree = _tree(3)
    with pytest.raises(FormatError, match="old size out of range"):
        w.add_checkpoint(-1, [], _note(tree, 3), T0)
    with pytest.raises(OversizeError, match="proof too long"):
        w.add_checkpoint(0, [b"\x00" * 32] * 64, _note(tree, 3), T0)


def test_store_failure_means_no_cosignature() -> None:
    class Failing(MemoryWitnessStore):
        def transact(self, origin, now, decide):  # type: ignore[no-untyped-def]
            decide(None)
            raise CredexError("boom")

    w = Witness(WITNESS_NAME, WITNESS_KEY, LOGS, Failing())
    with pytest.raises(CredexError, match="boom"):
        w.add_checkpoint(0, [], _note(_tree(3), 3), T0)


# --- never cosigns two inconsistent checkpoints (property) -----------------------------------

PREFIX_MAX = 12
TREE_MAX = 24


@st.composite
def _scenario(draw: st.DrawFn) -> tuple[int, list[tuple[int, int, int, int]]]:
    prefix = draw(st.integers(0, PREFIX_MAX))
    steps = draw(
        st.lists(
            st.tuples(
                st.integers(0, 1),  # branch: honest or forked
                st.integers(0, TREE_MAX),  # checkpoint size
                st.integers(0, 3),  # old size: witness's, 0, random, size
                st.integers(0, 3),  # proof: honest, forked, garbage, empty
            ),
            min_size=1,
            max_size=25,
        )
    )
    return prefix, steps


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scenario())
def test_never_cosigns_two_inconsistent_checkpoints(
    scenario: tuple[int, list[tuple[int, int, int, int]]],
) -> None:
    prefix, steps = scenario
    branches = [_tree(TREE_MAX, "honest", prefix), _tree(TREE_MAX, "forked", prefix)]
    w, store = _witness()
    cosigned: list[tuple[int, int, int]] = []  # (size, branch or -1 if shared, time)
    for t, (branch, size, old_mode, proof_mode) in enumerate(steps):
        tree = branches[branch]
        held = store.latest_cosigned(ORIGIN)
        witness_size = held.size if held else 0
        old = [witness_size, 0, (size * 7 + t) % (size + 1), size][old_mode]
        proof_tree = branches[proof_mode] if proof_mode < 2 else tree
        if proof_mode == 3 or old in (0, size) or old > size:
            proof: list[bytes] = []
        else:
            proof = proof_tree.consistency_proof(old, size)
            if proof_mode == 2:
                proof = [bytes(32 - len(p)) + p[::-1] for p in proof]
        try:
            sig = w.add_checkpoint(old, proof, _note(tree, size), T0 + t)
        except (ConsistencyProofError, InconsistentLogError, OutOfRangeError, FormatError):
            continue
        note = SignedNote.from_text(_note(tree, size)).with_signature(sig)
        verify_cosignature(note, WITNESS_NAME, WITNESS_KEY.public_key)
        cosigned.append((size, branch if size > prefix else -1, t))
    # cosigned sizes never go down, and no two cosigned checkpoints lie on different branches
    sizes = [s for s, _, _ in cosigned]
    assert sizes == sorted(sizes)
    assert len({b for _, b, _ in cosigned if b != -1}) <= 1
    # every piece of evidence recorded verifies
    for ev in store.evidence:
        verify_evidence(ev)


# --- PeerLogState ---------------------------------------------------------------------------


def _accept(state: PeerLogState, note: str, proof: list[bytes]) -> Checkpoint:
    return state.accept(note, proof, log_name=NAME, log_key=LOG.public_key)


def test_peer_state_moves_forward_over_proofs() -> None:
    state = PeerLogState()
    tree = _tree(30)
    assert _accept(state, _note(tree, 5), []).size == 5  # first: on its signature
    _accept(state, _note(tree, 9), tree.consistency_proof(5, 9))
    _accept(state, _note(tree, 9), [])  # same again: no-op
    _accept(state, _note(tree, 30), tree.consistency_proof(9, 30))
    held = state.latest(ORIGIN)
    assert held is not None and (held.size, held.root) == (30, tree.root())
    assert state.origins() == [ORIGIN]
    reopened = PeerLogState([held])
    _accept(reopened, _note(tree, 30), [])


@pytest.mark.parametrize(
    ("new_size", "tag", "proof_from", "match", "kind"),
    [
        (4, "honest", None, "rollback of .*: expected size >= 8, got 4", "rollback"),
        (8, "forked", None, "split view .* two roots for size 8", "same-size-different-root"),
        (12, "forked", "forked", "not shown consistent with size 8", "inconsistent-proof"),
        (12, "honest", "garbage", "not shown consistent with size 8", "inconsistent-proof"),
    ],
    ids=["rollback", "same-size", "fork-with-its-proof", "garbage-proof"],
)
def test_peer_state_refuses_with_evidence(
    new_size: int, tag: str, proof_from: str | None, match: str, kind: str
) -> None:
    from credex.ledger.evidence import evidence_from_error

    honest, forked = _tree(12, prefix=6), _tree(12, "forked", prefix=6)
    state = PeerLogState()
    _accept(state, _note(honest, 8), [])
    tree = honest if tag == "honest" else forked
    proof: list[bytes] = []
    if proof_from == "forked":
        proof = forked.consistency_proof(8, new_size)
    elif proof_from == "garbage":
        proof = [b"\x01" * 32] * len(honest.consistency_proof(8, new_size))
    with pytest.raises(InconsistentLogError, match=match) as e:
        _accept(state, _note(tree, new_size), proof)
    assert e.value.old_checkpoint == _note(honest, 8)
    assert e.value.new_checkpoint == _note(tree, new_size)
    assert e.value.proof == tuple(proof)
    ev = evidence_from_error(e.value, log_note_name=NAME, log_key=LOG.public_key)
    assert ev.kind == kind
    if kind != "rollback":
        verify_evidence(ev)
    held = state.latest(ORIGIN)
    assert held is not None and held.size == 8 and held.root == honest.root(8)


def test_peer_state_refuses_bad_signature() -> None:
    state = PeerLogState()
    with pytest.raises(SignatureError):
        _accept(state, _note(_tree(3), 3, key=OTHER), [])
    assert state.latest(ORIGIN) is None


def test_trusted_checkpoint_from_note() -> None:
    tree = _tree(3)
    tc = TrustedCheckpoint.from_note(_note(tree, 3))
    assert (tc.origin, tc.size, tc.root) == (ORIGIN, 3, tree.root())
