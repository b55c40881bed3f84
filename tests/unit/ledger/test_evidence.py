"""Split-view evidence: the CBOR form round-trips and only real contradictions verify."""

from __future__ import annotations

import pytest

from credex.ledger.checkpoint import Checkpoint, sign_checkpoint
from credex.ledger.encoding import decode, encode
from credex.ledger.errors import (
    CborError,
    FormatError,
    InconsistentLogError,
    SignatureError,
    UntrustedKeyError,
    VerificationError,
)
from credex.ledger.evidence import (
    Evidence,
    build_evidence,
    evidence_from_error,
    verify_evidence,
)
from credex.ledger.keys import SigningKey
from credex.ledger.merkle import MerkleTree
from credex.ledger.trust import TrustedLog

LOG = SigningKey(b"\x11" * 32)
OTHER = SigningKey(b"\x33" * 32)
ORIGIN = "credex.ningbo.example/log"
NAME = ORIGIN


def _trees(prefix: int = 5, extra: int = 4) -> tuple[MerkleTree, MerkleTree]:
    """Two trees of one origin sharing ``prefix`` entries, then different."""
    common = [f"entry {i}".encode() for i in range(prefix)]
    honest = MerkleTree([*common, *(f"honest {i}".encode() for i in range(extra))])
    forked = MerkleTree([*common, *(f"forked {i}".encode() for i in range(extra))])
    return honest, forked


def _note(tree: MerkleTree, size: int, key: SigningKey = LOG, origin: str = ORIGIN) -> str:
    return sign_checkpoint(Checkpoint(origin, size, tree.root(size)), NAME, key).to_text()


def _split_view() -> Evidence:
    honest, forked = _trees()
    return build_evidence(
        _note(honest, 8), _note(forked, 8), log_note_name=NAME, log_key=LOG.public_key
    )


def test_round_trip_bytes() -> None:
    ev = _split_view()
    data = ev.to_bytes()
    assert Evidence.from_bytes(data) == ev
    value = decode(data)
    assert value["v"] == 1 and value["kind"] == "same-size-different-root"
    assert value["log_key"] == LOG.public_key and "proof" not in value
    assert encode(value) == data  # deterministic


def test_round_trip_with_proof() -> None:
    honest, forked = _trees()
    proof = honest.consistency_proof(6, 9)
    ev = build_evidence(
        _note(honest, 6), _note(forked, 9), proof, log_note_name=NAME, log_key=LOG.public_key
    )
    assert ev.kind == "inconsistent-proof" and ev.proof == tuple(proof)
    assert Evidence.from_bytes(ev.to_bytes()) == ev


def test_verify_accepts_a_real_split_view() -> None:
    ev = _split_view()
    verify_evidence(ev)
    verify_evidence(ev, conclusive_only=True)
    verify_evidence(ev, trusted_log=TrustedLog(ORIGIN, NAME, LOG.public_key))
    assert ev.conclusive


def test_verify_accepts_an_inconsistent_proof_but_not_as_conclusive() -> None:
    honest, forked = _trees()
    # the log signed honest@6 and forked@9 and presented forked's own proof: it cannot connect
    proof = forked.consistency_proof(6, 9)
    ev = build_evidence(
        _note(honest, 6), _note(forked, 9), proof, log_note_name=NAME, log_key=LOG.public_key
    )
    verify_evidence(ev)
    assert not ev.conclusive
    with pytest.raises(VerificationError, match="not conclusive on its own"):
        verify_evidence(ev, conclusive_only=True)


def test_verify_rejects_notes_by_another_key() -> None:
    honest, forked = _trees()
    ev = build_evidence(
        _note(honest, 8), _note(forked, 8, key=OTHER), log_note_name=NAME, log_key=LOG.public_key
    )
    with pytest.raises(SignatureError, match=r"evidence: note b: .*no log signature"):
        verify_evidence(ev)


def test_verify_rejects_evidence_under_an_untrusted_key() -> None:
    honest, forked = _trees()
    ev = build_evidence(
        _note(honest, 8, key=OTHER),
        _note(forked, 8, key=OTHER),
        log_note_name=NAME,
        log_key=OTHER.public_key,
    )
    verify_evidence(ev)  # self-consistent: whoever holds OTHER equivocated
    with pytest.raises(UntrustedKeyError, match="is not the trusted key"):
        verify_evidence(ev, trusted_log=TrustedLog(ORIGIN, NAME, LOG.public_key))


@pytest.mark.parametrize(
    ("old", "new", "kind", "match"),
    [
        (8, 8, "same-size-different-root", "notes agree"),
        (6, 9, "inconsistent-proof", "proof verifies"),
        (9, 6, "rollback", "proof verifies"),
    ],
    ids=["same-size", "bigger", "rollback"],
)
def test_verify_rejects_consistent_notes(old: int, new: int, kind: str, match: str) -> None:
    honest, _ = _trees()
    proof = honest.consistency_proof(min(old, new), max(old, new)) if old != new else []
    ev = build_evidence(
        _note(honest, old), _note(honest, new), proof, log_note_name=NAME, log_key=LOG.public_key
    )
    assert ev.kind == kind
    with pytest.raises(VerificationError, match=match):
        verify_evidence(ev)


def test_verify_rejects_rollback_without_proof() -> None:
    honest, forked = _trees()
    ev = build_evidence(
        _note(honest, 9), _note(forked, 6), log_note_name=NAME, log_key=LOG.public_key
    )
    assert ev.kind == "rollback"
    with pytest.raises(VerificationError, match="without a proof is not conclusive"):
        verify_evidence(ev)


def test_verify_rejects_a_tampered_note() -> None:
    honest, forked = _trees()
    a = _note(honest, 8)
    b_tree = MerkleTree([b"tampered"] * 8)
    # b's body is replaced (a new root) but keeps honest's signature line
    b = _note(forked, 8)
    body, sigs = b.split("\n\n")
    tampered_body = Checkpoint(ORIGIN, 8, b_tree.root()).to_text()
    tampered = tampered_body + "\n" + sigs
    assert body + "\n" != tampered_body
    ev = build_evidence(a, tampered, log_note_name=NAME, log_key=LOG.public_key)
    with pytest.raises(SignatureError, match="evidence: note b: checkpoint: signature does not"):
        verify_evidence(ev)


def test_evidence_from_error() -> None:
    honest, forked = _trees()
    err = InconsistentLogError(
        "x", old_checkpoint=_note(honest, 8), new_checkpoint=_note(forked, 8)
    )
    ev = evidence_from_error(err, log_note_name=NAME, log_key=LOG.public_key)
    verify_evidence(ev)
    with pytest.raises(FormatError, match="carries no checkpoints"):
        evidence_from_error(InconsistentLogError("x"), log_note_name=NAME, log_key=LOG.public_key)


def _raw(**change: object) -> bytes:
    value = decode(_split_view().to_bytes())
    for k, v in change.items():
        if v is None:
            del value[k]
        else:
            value[k] = v
    return encode(value)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (_raw(v=2), "unsupported version"),
        (_raw(extra=1), "unknown fields"),
        (_raw(origin=None), "field 'origin' missing"),
        (_raw(log_key=b"\x01" * 31), "log key has wrong length"),
        (_raw(kind="fork"), "unknown kind"),
        (_raw(kind="rollback"), "kind does not match the sizes"),
        (_raw(proof=[]), "proof must be a non-empty array"),
        (_raw(proof=[b"\x00" * 32]), "takes no proof"),
        (_raw(proof=[b"\x00" * 31]), "proof hashes must be 32 bytes"),
        (_raw(origin="credex.other.example/log"), "note a has another origin"),
        (_raw(a="not a note"), "checkpoint"),
        (encode([1, 2]), "expected a cbor map"),
    ],
    ids=[
        "version",
        "unknown-field",
        "missing-origin",
        "short-key",
        "unknown-kind",
        "kind-vs-sizes",
        "empty-proof",
        "proof-on-same-size",
        "short-proof-hash",
        "origin-mismatch",
        "bad-note",
        "not-a-map",
    ],
)
def test_from_bytes_rejects_malformed(data: bytes, match: str) -> None:
    with pytest.raises(FormatError, match=match):
        Evidence.from_bytes(data)


def test_from_bytes_rejects_non_deterministic_cbor() -> None:
    data = _split_view().to_bytes()
    with pytest.raises(CborError):
        Evidence.from_bytes(data + b"\x00")
