"""Portable evidence that a log showed two views of itself (split-view evidence).

One deterministic CBOR map (RFC 8949 §4.2.1, ``credex.ledger.encoding``)::

    {
      "v": 1,
      "origin": tstr,                  the log's origin line
      "log_key": bstr .size 32,        the log's Ed25519 public key
      "log_note_name": tstr,           the key name on the log's signature lines
      "a": tstr,                       signed note seen first (the one held)
      "b": tstr,                       signed note seen second (the one presented)
      ? "proof": [+ bstr .size 32],    consistency proof presented with "b" (absent if none)
      "kind": "same-size-different-root" / "inconsistent-proof" / "rollback",
    }

What each kind shows (``verify_evidence``), and how strongly:

- ``same-size-different-root``: a and b have the same tree size and different roots, and
  both carry a valid log signature. **Conclusive**: no append-only log can have two roots
  for one size, so whoever holds ``log_key`` signed two incompatible histories. Anyone can
  check it alone, with nothing but this file. ``proof`` must be absent.
- ``inconsistent-proof``: ``a.size < b.size``, both signed, and ``proof`` (the consistency
  proof presented with b) does not verify from a to b. **Not conclusive on its own**: the
  two signed notes prove the log signed both checkpoints, but the proof bytes are not
  signed, so the file shows only that the proof presented for them was invalid. Whether
  *no* valid proof exists is settled by asking the log for PROOF(a.size, b.size): an honest
  log can always produce one. (Conclusive evidence across sizes would need, for example,
  an inclusion proof of a leaf in b contradicting a; that is not part of version 1.)
- ``rollback``: ``a.size > b.size``, both signed: a log (or a peer serving it) presented an
  older checkpoint after a newer one. Stale is not split: both can be true. It verifies
  only when ``proof`` is present and fails to connect b to a, which then has the strength
  of ``inconsistent-proof``; without a proof ``verify_evidence`` refuses it as not
  conclusive. Nodes record it so an operator can see it.

``verify_evidence`` checks signatures with the key *carried in the file*. Whether that key
is the trusted key for ``origin`` is a policy question: pass ``trusted_log`` (for example
from the federation manifest), or compare ``Evidence.log_kid`` out of band.

This module parses, builds and verifies evidence; it does not store it (``credex.node
.witness_store``), decide which logs to trust, or fetch fresh proofs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

from credex.ledger.checkpoint import MAX_NOTE_BYTES, Checkpoint, SignedNote, verify_note_signature
from credex.ledger.encoding import decode, encode
from credex.ledger.errors import (
    ConsistencyProofError,
    FormatError,
    InconsistentLogError,
    SignatureError,
    UntrustedKeyError,
    VerificationError,
    WrongLogError,
)
from credex.ledger.keys import compute_kid
from credex.ledger.merkle import HASH_SIZE, verify_consistency
from credex.ledger.trust import TrustedLog

__all__ = [
    "CONCLUSIVE_KINDS",
    "EVIDENCE_KINDS",
    "EVIDENCE_VERSION",
    "INCONSISTENT_PROOF",
    "MAX_EVIDENCE_BYTES",
    "MAX_PROOF_HASHES",
    "ROLLBACK",
    "SAME_SIZE_DIFFERENT_ROOT",
    "Evidence",
    "EvidenceKind",
    "build_evidence",
    "evidence_from_error",
    "verify_evidence",
]

EvidenceKind = Literal["same-size-different-root", "inconsistent-proof", "rollback"]

EVIDENCE_VERSION: Final = 1
SAME_SIZE_DIFFERENT_ROOT: Final = "same-size-different-root"
INCONSISTENT_PROOF: Final = "inconsistent-proof"
ROLLBACK: Final = "rollback"
EVIDENCE_KINDS: Final[frozenset[str]] = frozenset(
    {SAME_SIZE_DIFFERENT_ROOT, INCONSISTENT_PROOF, ROLLBACK}
)
#: kinds that prove misbehaviour from the file alone
CONCLUSIVE_KINDS: Final[frozenset[str]] = frozenset({SAME_SIZE_DIFFERENT_ROOT})
#: a consistency proof for sizes below 2**64 has at most 63 hashes (as tlog-witness limits)
MAX_PROOF_HASHES: Final = 63
#: two maximal notes plus a maximal proof and the fixed fields
MAX_EVIDENCE_BYTES: Final = 2 * MAX_NOTE_BYTES + MAX_PROOF_HASHES * (HASH_SIZE + 2) + 1024
_KEYS: Final = frozenset({"v", "origin", "log_key", "log_note_name", "a", "b", "proof", "kind"})


@dataclass(frozen=True, slots=True)
class Evidence:
    """Two signed notes of one origin (and a proof) that a log presented.

    The constructor checks structure only (parse, then trust): both notes parse, share the
    origin, the kind matches their sizes, and the proof has the right shape. It raises
    ``FormatError``. Signatures and the contradiction are ``verify_evidence``'s job.
    """

    origin: str
    log_key: bytes
    log_note_name: str
    a: str
    b: str
    kind: EvidenceKind
    proof: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise FormatError("evidence: origin must be one non-empty line")
        if len(self.log_key) != 32:
            raise FormatError(
                f"evidence: log key has wrong length: expected 32, got {len(self.log_key)}"
            )
        if not self.log_note_name:
            raise FormatError("evidence: log note name must not be empty")
        if self.kind not in EVIDENCE_KINDS:
            raise FormatError(f"evidence: unknown kind: got {self.kind!r}")
        if len(self.proof) > MAX_PROOF_HASHES:
            raise FormatError(
                f"evidence: proof too long: expected <= {MAX_PROOF_HASHES} hashes, "
                f"got {len(self.proof)}"
            )
        if any(len(p) != HASH_SIZE for p in self.proof):
            raise FormatError(f"evidence: proof hashes must be {HASH_SIZE} bytes")
        ca, cb = self.checkpoint_a, self.checkpoint_b
        for name, cp in (("a", ca), ("b", cb)):
            if cp.origin != self.origin:
                raise FormatError(
                    f"evidence: note {name} has another origin: expected {self.origin}, "
                    f"got {cp.origin}"
                )
        expected = _kind_for_sizes(ca.size, cb.size)
        if self.kind != expected:
            raise FormatError(
                f"evidence: kind does not match the sizes {ca.size} and {cb.size}: "
                f"expected {expected}, got {self.kind}"
            )
        if self.kind == SAME_SIZE_DIFFERENT_ROOT and self.proof:
            raise FormatError("evidence: same-size-different-root takes no proof")

    @property
    def checkpoint_a(self) -> Checkpoint:
        return SignedNote.from_text(self.a).checkpoint

    @property
    def checkpoint_b(self) -> Checkpoint:
        return SignedNote.from_text(self.b).checkpoint

    @property
    def log_kid(self) -> bytes:
        """The 32-byte key id (SHA-256 of ``log_key``), for comparing out of band."""
        return compute_kid(self.log_key)

    @property
    def conclusive(self) -> bool:
        """True for kinds that prove misbehaviour from this file alone."""
        return self.kind in CONCLUSIVE_KINDS

    @property
    def digest(self) -> bytes:
        """SHA-256 of ``to_bytes()``: a stable id for deduplication."""
        return hashlib.sha256(self.to_bytes()).digest()

    def to_bytes(self) -> bytes:
        value: dict[str, Any] = {
            "v": EVIDENCE_VERSION,
            "origin": self.origin,
            "log_key": self.log_key,
            "log_note_name": self.log_note_name,
            "a": self.a,
            "b": self.b,
            "kind": self.kind,
        }
        if self.proof:
            value["proof"] = list(self.proof)
        return encode(value)

    @classmethod
    def from_bytes(cls, data: bytes) -> Evidence:
        """Parse the deterministic CBOR form.

        Raises:
            OversizeError: over ``MAX_EVIDENCE_BYTES``.
            CborError: not (deterministic) CBOR.
            FormatError: wrong version, missing, unknown or mistyped fields, or any
                structural check of the constructor.
        """
        value = decode(data, what="evidence", max_size=MAX_EVIDENCE_BYTES)
        if not isinstance(value, dict):
            raise FormatError("evidence: expected a cbor map")
        unknown = set(value) - _KEYS
        if unknown:
            raise FormatError(f"evidence: unknown fields: {sorted(map(str, unknown))}")
        if type(value.get("v")) is not int or value["v"] != EVIDENCE_VERSION:  # not True
            raise FormatError(
                f"evidence: unsupported version: expected {EVIDENCE_VERSION}, "
                f"got {value.get('v')!r}"
            )
        text = {k: _field(value, k, str) for k in ("origin", "log_note_name", "a", "b", "kind")}
        log_key = _field(value, "log_key", bytes)
        proof: tuple[bytes, ...] = ()
        if "proof" in value:
            raw = value["proof"]
            if not isinstance(raw, list) or not raw:
                raise FormatError("evidence: proof must be a non-empty array (or absent)")
            if not all(isinstance(p, bytes) for p in raw):
                raise FormatError("evidence: proof elements must be byte strings")
            proof = tuple(raw)
        kind = text["kind"]
        if kind not in EVIDENCE_KINDS:
            raise FormatError(f"evidence: unknown kind: got {kind!r}")
        return cls(
            origin=text["origin"],
            log_key=log_key,
            log_note_name=text["log_note_name"],
            a=text["a"],
            b=text["b"],
            kind=cast(EvidenceKind, kind),
            proof=proof,
        )


def _field(value: dict[Any, Any], key: str, typ: type[Any]) -> Any:
    v = value.get(key)
    if not isinstance(v, typ):
        raise FormatError(f"evidence: field {key!r} missing or not {typ.__name__}")
    return v


def _kind_for_sizes(size_a: int, size_b: int) -> EvidenceKind:
    if size_a == size_b:
        return "same-size-different-root"
    return "inconsistent-proof" if size_a < size_b else "rollback"


def build_evidence(
    held_note: str,
    new_note: str,
    proof: Sequence[bytes] = (),
    *,
    log_note_name: str,
    log_key: bytes,
) -> Evidence:
    """Evidence from the note held (a) and the note presented (b); the kind follows the sizes.

    Raises:
        FormatError: a note does not parse, the origins differ, or the proof is malformed.
    """
    a = SignedNote.from_text(held_note).checkpoint
    b = SignedNote.from_text(new_note).checkpoint
    kind = _kind_for_sizes(a.size, b.size)
    return Evidence(
        origin=a.origin,
        log_key=log_key,
        log_note_name=log_note_name,
        a=held_note,
        b=new_note,
        kind=kind,
        proof=() if kind == SAME_SIZE_DIFFERENT_ROOT else tuple(proof),
    )


def evidence_from_error(
    err: InconsistentLogError, *, log_note_name: str, log_key: bytes
) -> Evidence:
    """The evidence an ``InconsistentLogError`` carries, with the key that signed both notes.

    Raises:
        FormatError: the error carries no (or malformed) notes.
    """
    if not err.old_checkpoint or not err.new_checkpoint:
        raise FormatError("evidence: inconsistent log error carries no checkpoints")
    return build_evidence(
        err.old_checkpoint,
        err.new_checkpoint,
        err.proof,
        log_note_name=log_note_name,
        log_key=log_key,
    )


def verify_evidence(
    evidence: Evidence,
    *,
    trusted_log: TrustedLog | None = None,
    conclusive_only: bool = False,
) -> None:
    """Check that ``evidence`` shows two signed views of one log that cannot both be true.

    Args:
        evidence: the parsed evidence.
        trusted_log: if given, the key in the evidence must be this log's key for this
            origin (otherwise the file proves only that *whoever holds* ``log_key``
            equivocated).
        conclusive_only: refuse kinds that are not conclusive on their own.

    Raises:
        UntrustedKeyError / WrongLogError: ``trusted_log`` given and the key or origin
            differ (``PolicyError``).
        SignatureError: a note lacks a valid signature by ``log_key``.
        VerificationError: the notes are compatible (equal roots, a proof that verifies,
            a rollback without a proof) or the kind is not conclusive when required.
    """
    ev = evidence
    # (1) policy: the key in the file is the one trusted for this origin, if we know it
    if trusted_log is not None:
        if trusted_log.origin != ev.origin:
            raise WrongLogError(
                f"evidence: origin is not the trusted log's: expected {trusted_log.origin}, "
                f"got {ev.origin}"
            )
        if trusted_log.public_key != ev.log_key:
            raise UntrustedKeyError(
                f"evidence: log key {ev.log_kid.hex()} is not the trusted key "
                f"{trusted_log.kid.hex()} for {ev.origin}"
            )
    if conclusive_only and not ev.conclusive:
        raise VerificationError(
            f"evidence: {ev.kind} is not conclusive on its own: expected {SAME_SIZE_DIFFERENT_ROOT}"
        )
    # (2) the log signed both notes
    for name, text in (("a", ev.a), ("b", ev.b)):
        try:
            verify_note_signature(SignedNote.from_text(text), ev.log_note_name, ev.log_key)
        except SignatureError as e:
            raise SignatureError(f"evidence: note {name}: {e}") from e
    a, b = ev.checkpoint_a, ev.checkpoint_b
    # (3) the two views cannot both be true
    if ev.kind == SAME_SIZE_DIFFERENT_ROOT:
        if a.root == b.root:
            raise VerificationError(
                f"evidence: notes agree: same size {a.size} and same root {a.root.hex()}"
            )
        return
    small, large = (a, b) if ev.kind == INCONSISTENT_PROOF else (b, a)
    if ev.kind == ROLLBACK and not ev.proof:
        raise VerificationError(
            f"evidence: rollback from {a.size} to {b.size} without a proof is not conclusive: "
            "an older checkpoint can be consistent with a newer one"
        )
    if small.size == 0:
        raise VerificationError(
            "evidence: every tree extends the empty tree: a size-0 checkpoint contradicts nothing"
        )
    try:
        verify_consistency(small.size, large.size, small.root, large.root, ev.proof)
    except ConsistencyProofError:
        return
    raise VerificationError(
        f"evidence: proof verifies: the tree of size {large.size} extends the tree of size "
        f"{small.size}"
    )
