"""Watching other logs: the peer view (``PeerLogState``) and the witness (``Witness``).

``PeerLogState`` plays the part of TUF's ``TrustedMetadataSet`` and tessera's
``LogStateTracker``: per origin it holds the latest checkpoint it verified, and accepts a
newer one only after the log signature and the consistency proof from the held one check
out. Two views that cannot both be true raise ``InconsistentLogError`` carrying both
signed notes and the proof (``credex.ledger.evidence`` turns that into portable evidence).

``Witness`` is the C2SP tlog-witness ``add-checkpoint`` logic as a pure state machine over
a ``WitnessStateStore``. In the spec's order:

1. the origin must be one it witnesses (``logs``)      else ``NotFoundError``     (404)
2. a signature by that log's key must verify           else ``SignatureError``    (403)
3. 0 <= old size <= checkpoint size, <= 63 hashes     else ``FormatError`` /
                                                            ``OversizeError``     (400)
4. old size == the size it last cosigned (0 if none)   else ``WitnessConflictError``
   (an ``OutOfRangeError`` carrying ``witness_size``)                             (409)
5. same size: same root                                else ``InconsistentLogError``
                                                            + evidence            (409)
6. bigger: the consistency proof verifies              else ``ConsistencyProofError``
                                                            + evidence            (422)
7. persist the new checkpoint, then return a tlog-cosignature/v1 line.

Steps 4 to 7 run inside ``WitnessStateStore.transact``: the check of the held size, the new
state and any evidence are one transaction under a per-origin lock, so two concurrent calls
cannot both advance from the same old size (the race the spec describes). Step 5 runs even
when the old size is wrong: a same-size fork is caught whatever the client claims. The
witness never cosigns a checkpoint inconsistent with one it cosigned before: it moves only
forward, and only over a verified proof.

This module does no I/O and reads no clock (``now`` is an argument). ``MemoryWitnessStore``
is the in-process store for tests; ``credex.ledger.storage.witness`` is the SQL one. Which logs
to witness comes from the caller (later the federation manifest).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from credex.ledger.checkpoint import (
    Checkpoint,
    NoteSignature,
    SignedNote,
    cosign_checkpoint,
    verify_note_signature,
)
from credex.ledger.errors import (
    CheckpointError,
    ConsistencyProofError,
    CredexError,
    FormatError,
    InconsistentLogError,
    NotFoundError,
    OversizeError,
    WitnessConflictError,
)
from credex.ledger.evidence import MAX_PROOF_HASHES, Evidence, build_evidence
from credex.ledger.keys import SigningKey
from credex.ledger.merkle import EMPTY_ROOT, verify_consistency
from credex.ledger.trust import TrustedLog

__all__ = [
    "MemoryWitnessStore",
    "PeerLogState",
    "TrustedCheckpoint",
    "Witness",
    "WitnessConflictError",
    "WitnessDecision",
    "WitnessStateStore",
]

_NO_PROOF: Final[tuple[bytes, ...]] = ()


@dataclass(frozen=True, slots=True)
class TrustedCheckpoint:
    """A checkpoint whose log signature was verified, with its signed-note text."""

    origin: str
    size: int
    root: bytes
    note: str

    @classmethod
    def from_note(cls, note_text: str) -> TrustedCheckpoint:
        """Parse (not verify) a signed note. Raises ``NoteError`` / ``OversizeError``."""
        cp = SignedNote.from_text(note_text).checkpoint
        return cls(cp.origin, cp.size, cp.root, note_text)


def _check_empty_root(cp: Checkpoint, what: str) -> None:
    if cp.size == 0 and cp.root != EMPTY_ROOT:
        raise CheckpointError(
            f"{what}: size-0 checkpoint must have the empty root: expected {EMPTY_ROOT.hex()}, "
            f"got {cp.root.hex()}"
        )


def _verified_note(note_text: str, name: str, public_key: bytes) -> tuple[SignedNote, Checkpoint]:
    note = SignedNote.from_text(note_text)
    cp = note.checkpoint
    verify_note_signature(note, name, public_key)
    return note, cp


# --- the peer view --------------------------------------------------------------------------


class PeerLogState:
    """The latest verified checkpoint of each followed origin; moves only forward.

    The first checkpoint of an origin is trusted on its signature alone (the caller may
    seed verified state from storage with ``trusted``). Not thread-safe: one per follower.
    """

    __slots__ = ("_latest",)

    def __init__(self, trusted: Iterable[TrustedCheckpoint] = ()) -> None:
        self._latest: dict[str, TrustedCheckpoint] = {t.origin: t for t in trusted}

    def latest(self, origin: str) -> TrustedCheckpoint | None:
        return self._latest.get(origin)

    def origins(self) -> list[str]:
        return sorted(self._latest)

    def accept(
        self, note_text: str, proof: Sequence[bytes], *, log_name: str, log_key: bytes
    ) -> Checkpoint:
        """Verify ``note_text`` against the held checkpoint of its origin; hold it if newer.

        Args:
            note_text: the peer's signed note.
            proof: consistency proof from the held size to the note's size (ignored when
                nothing is held, the held size is 0, or the sizes are equal).
            log_name: the log's note key name.
            log_key: the log's Ed25519 public key.

        Returns:
            The accepted checkpoint (the held one is unchanged if the sizes are equal).

        Raises:
            NoteError / OversizeError: malformed note.
            SignatureError: no valid signature by ``log_key``.
            CheckpointError: a size-0 checkpoint with a non-empty root.
            InconsistentLogError: a smaller size than held (rollback), the same size with
                another root, or a proof that does not verify; carries both notes and the
                proof.
        """
        _, cp = _verified_note(note_text, log_name, log_key)
        _check_empty_root(cp, "peer log")
        held = self._latest.get(cp.origin)
        new = TrustedCheckpoint(cp.origin, cp.size, cp.root, note_text)
        if held is None:
            self._latest[cp.origin] = new
            return cp
        if cp.size < held.size:
            raise InconsistentLogError(
                f"peer log: rollback of {cp.origin}: expected size >= {held.size}, got {cp.size}",
                old_checkpoint=held.note,
                new_checkpoint=note_text,
            )
        if cp.size == held.size:
            if cp.root != held.root:
                raise InconsistentLogError(
                    f"peer log: split view of {cp.origin}: two roots for size {cp.size}: "
                    f"{held.root.hex()} != {cp.root.hex()}",
                    old_checkpoint=held.note,
                    new_checkpoint=note_text,
                )
            return cp
        if held.size > 0:
            try:
                verify_consistency(held.size, cp.size, held.root, cp.root, proof)
            except ConsistencyProofError as e:
                raise InconsistentLogError(
                    f"peer log: {cp.origin} size {cp.size} is not shown consistent with "
                    f"size {held.size}: {e}",
                    old_checkpoint=held.note,
                    new_checkpoint=note_text,
                    proof=tuple(proof),
                ) from e
        self._latest[cp.origin] = new
        return cp


# --- the witness ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WitnessDecision:
    """What one ``add-checkpoint`` decided, for the store to persist atomically.

    ``state``: the new latest cosigned checkpoint (None: unchanged). ``evidence``: to
    record (even though the call fails). Exactly one of ``cosignature`` / ``error``.
    """

    state: TrustedCheckpoint | None = None
    evidence: Evidence | None = None
    cosignature: NoteSignature | None = None
    error: CredexError | None = None


class WitnessStateStore(Protocol):
    """Where a witness keeps, per origin, the latest checkpoint it cosigned, and evidence."""

    def latest_cosigned(self, origin: str) -> TrustedCheckpoint | None:
        """The latest checkpoint cosigned for ``origin``, or None."""
        ...

    def transact(
        self,
        origin: str,
        now: int,
        decide: Callable[[TrustedCheckpoint | None], WitnessDecision],
    ) -> WitnessDecision:
        """Under one per-origin lock and transaction: read the held state, call ``decide``,
        write ``state`` and ``evidence`` (recorded at ``now``) and commit; return the
        decision only once it is durable. If ``decide`` raises, nothing is written.
        """
        ...


class MemoryWitnessStore:
    """A ``WitnessStateStore`` in memory (tests, tools); one lock for every origin."""

    __slots__ = ("_evidence", "_lock", "_state")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, TrustedCheckpoint] = {}
        self._evidence: list[tuple[int, Evidence]] = []

    def latest_cosigned(self, origin: str) -> TrustedCheckpoint | None:
        with self._lock:
            return self._state.get(origin)

    def transact(
        self,
        origin: str,
        now: int,
        decide: Callable[[TrustedCheckpoint | None], WitnessDecision],
    ) -> WitnessDecision:
        with self._lock:
            decision = decide(self._state.get(origin))
            if decision.state is not None:
                self._state[origin] = decision.state
            if decision.evidence is not None and all(
                e.digest != decision.evidence.digest for _, e in self._evidence
            ):
                self._evidence.append((now, decision.evidence))
            return decision

    @property
    def evidence(self) -> list[Evidence]:
        with self._lock:
            return [e for _, e in self._evidence]


class Witness:
    """A tlog-witness: cosigns checkpoints of the logs it follows, forward only.

    Args:
        name: the witness's note key name (on its cosignature lines).
        key: its Ed25519 key (never shown in ``repr`` or messages).
        logs: origin -> the trusted log (note key name and public key). A live mapping
            may be passed (for example one rebuilt from a new federation manifest).
        store: where cosigned state and evidence live.
    """

    __slots__ = ("_key", "_logs", "_store", "name")

    def __init__(
        self,
        name: str,
        key: SigningKey,
        logs: Mapping[str, TrustedLog],
        store: WitnessStateStore,
    ) -> None:
        self.name = name
        self._key = key
        self._logs = logs
        self._store = store

    @property
    def public_key(self) -> bytes:
        return self._key.public_key

    def add_checkpoint(
        self, old_size: int, proof: Sequence[bytes], note_text: str, now: int
    ) -> NoteSignature:
        """tlog-witness ``add-checkpoint``: check, persist, cosign (steps in the docstring).

        Args:
            old_size: the size the client believes the witness last cosigned (0 if none).
            proof: consistency proof from ``old_size`` to the checkpoint's size.
            note_text: the log's signed checkpoint.
            now: the cosignature timestamp (UNIX seconds) and the evidence time.

        Returns:
            The witness's tlog-cosignature/v1 line for the checkpoint.

        Raises:
            NoteError / OversizeError: malformed note, or more than 63 proof hashes.
            NotFoundError: the origin is not one this witness follows.
            SignatureError: no valid signature by the log's key.
            FormatError: ``old_size`` negative or above the checkpoint size (tlog-witness
                400; not an ``OutOfRangeError``, which is the 409 conflict).
            CheckpointError: a size-0 checkpoint with a non-empty root.
            WitnessConflictError: ``old_size`` is not the size last cosigned.
            InconsistentLogError: same size as cosigned, another root (evidence recorded).
            ConsistencyProofError: the proof does not verify (evidence recorded).
            StorageError: the store failed; nothing was cosigned.
        """
        note = SignedNote.from_text(note_text)
        cp = note.checkpoint
        # (1) a log this witness follows
        log = self._logs.get(cp.origin)
        if log is None or log.origin != cp.origin:
            raise NotFoundError(f"witness: unknown origin: {cp.origin}")
        # (2) signed by that log
        verify_note_signature(note, log.note_key_name, log.public_key)
        _check_empty_root(cp, "witness")
        # (3) request shape
        if old_size < 0 or old_size > cp.size:
            raise FormatError(
                f"witness: old size out of range: expected 0 <= old <= {cp.size}, got {old_size}"
            )
        if len(proof) > MAX_PROOF_HASHES:
            raise OversizeError(
                f"witness: proof too long: expected <= {MAX_PROOF_HASHES} hashes, got {len(proof)}"
            )
        proof = tuple(proof)

        def decide(held: TrustedCheckpoint | None) -> WitnessDecision:
            return self._decide(held, old_size, proof, note_text, note, log, now)

        decision = self._store.transact(cp.origin, now, decide)
        if decision.error is not None:
            raise decision.error
        if decision.cosignature is None:  # pragma: no cover - _decide always sets one
            raise CheckpointError("witness: no cosignature decided")
        return decision.cosignature

    def _decide(
        self,
        held: TrustedCheckpoint | None,
        old_size: int,
        proof: tuple[bytes, ...],
        note_text: str,
        note: SignedNote,
        log: TrustedLog,
        now: int,
    ) -> WitnessDecision:
        cp = note.checkpoint
        witness_size = held.size if held is not None else 0

        def evidence(proof_: tuple[bytes, ...]) -> Evidence:
            assert held is not None
            return build_evidence(
                held.note,
                note_text,
                proof_,
                log_note_name=log.note_key_name,
                log_key=log.public_key,
            )

        # (5) first, whatever the old size: a second root for a cosigned size is a fork
        if held is not None and cp.size == held.size and cp.root != held.root:
            return WitnessDecision(
                evidence=evidence(_NO_PROOF),
                error=InconsistentLogError(
                    f"witness: split view of {cp.origin}: two roots for size {cp.size}: "
                    f"{held.root.hex()} != {cp.root.hex()}",
                    old_checkpoint=held.note,
                    new_checkpoint=note_text,
                ),
            )
        # (4) the client must start from what this witness cosigned last
        if old_size != witness_size:
            return WitnessDecision(
                error=WitnessConflictError(
                    f"witness: old size does not match the latest cosigned size: "
                    f"expected {witness_size}, got {old_size}",
                    witness_size=witness_size,
                )
            )
        # (6) the new checkpoint extends the cosigned one
        if old_size == 0:
            if proof:
                return WitnessDecision(
                    error=ConsistencyProofError(
                        f"witness: proof must be empty for old size 0, got {len(proof)} hashes"
                    )
                )
        elif held is not None and cp.size > held.size:
            try:
                verify_consistency(held.size, cp.size, held.root, cp.root, proof)
            except ConsistencyProofError as e:
                return WitnessDecision(evidence=evidence(proof), error=e)
        elif proof:  # same size, same root
            return WitnessDecision(
                error=ConsistencyProofError(
                    f"witness: proof must be empty for equal sizes, got {len(proof)} hashes"
                )
            )
        # (7) persist (the store commits before we answer), then cosign
        keep_held = held is not None and held.size == cp.size
        state = None if keep_held else TrustedCheckpoint(cp.origin, cp.size, cp.root, note_text)
        sig = cosign_checkpoint(note, self.name, self._key, now)
        return WitnessDecision(state=state, cosignature=sig)
