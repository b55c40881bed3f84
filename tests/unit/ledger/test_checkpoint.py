"""C2SP signed-note checkpoints and cosignatures, checked with an independent Ed25519."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from credex.ledger.checkpoint import (
    Checkpoint,
    SignedNote,
    cosign_checkpoint,
    note_key_id,
    note_verifier_key,
    sign_checkpoint,
    verify_cosignature,
    verify_note_signature,
)
from credex.ledger.errors import NoteError, OversizeError, SignatureError
from credex.ledger.keys import SigningKey

LOG = SigningKey(b"\x11" * 32)
WITNESS = SigningKey(b"\x22" * 32)
ORIGIN = "credex.ningbo.example/log"
ROOT = hashlib.sha256(b"root").digest()


def _note() -> SignedNote:
    return sign_checkpoint(Checkpoint(ORIGIN, 42, ROOT), ORIGIN, LOG)


def test_text_layout_is_tlog_checkpoint() -> None:
    text = _note().to_text()
    body, sigs = text.split("\n\n")
    assert body == f"{ORIGIN}\n42\n{base64.b64encode(ROOT).decode()}"
    assert sigs.startswith(f"\u2014 {ORIGIN} ") and sigs.endswith("\n")
    blob = base64.b64decode(sigs.split(" ")[2])
    expected_id = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + LOG.public_key).digest()[:4]
    assert blob[:4] == expected_id == note_key_id(ORIGIN, LOG.public_key)
    # an independent Ed25519 implementation accepts the signature over the body
    Ed25519PublicKey.from_public_bytes(LOG.public_key).verify(blob[4:], (body + "\n").encode())


def test_verifier_key_string() -> None:
    vkey = note_verifier_key(ORIGIN, LOG.public_key)
    name, kid, key = vkey.split("+")
    assert name == ORIGIN and bytes.fromhex(kid) == note_key_id(ORIGIN, LOG.public_key)
    assert base64.b64decode(key) == b"\x01" + LOG.public_key


def test_round_trip_and_verify() -> None:
    note = _note()
    parsed = SignedNote.from_text(note.to_text())
    assert parsed == note and parsed.checkpoint == Checkpoint(ORIGIN, 42, ROOT)
    verify_note_signature(parsed, ORIGIN, LOG.public_key)
    with pytest.raises(SignatureError, match="no log signature by key"):
        verify_note_signature(parsed, ORIGIN, WITNESS.public_key)


def test_cosignature_v1() -> None:
    note = _note()
    cosig = cosign_checkpoint(note, "witness.hangzhou.example", WITNESS, 1_790_000_000)
    assert (
        cosig.key_id
        == hashlib.sha256(b"witness.hangzhou.example\n\x04" + WITNESS.public_key).digest()[:4]
    )
    ts, sig = struct.unpack(">Q", cosig.signature[:8])[0], cosig.signature[8:]
    msg = f"cosignature/v1\ntime {ts}\n{note.body}".encode()
    Ed25519PublicKey.from_public_bytes(WITNESS.public_key).verify(sig, msg)
    both = SignedNote.from_text(note.with_signature(cosig).to_text())
    assert verify_cosignature(both, "witness.hangzhou.example", WITNESS.public_key) == ts
    verify_note_signature(both, ORIGIN, LOG.public_key)


def test_flipped_body_fails() -> None:
    text = _note().to_text().replace("\n42\n", "\n43\n")
    with pytest.raises(SignatureError, match="checkpoint: signature does not verify"):
        verify_note_signature(SignedNote.from_text(text), ORIGIN, LOG.public_key)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("origin\n1\n", "missing blank line"),
        (
            f"{ORIGIN}\n01\n{base64.b64encode(ROOT).decode()}\n\n\u2014 a AAAAAAA=\n",
            "leading zeros",
        ),
        (f"{ORIGIN}\n1\nnot-base64!\n\n\u2014 a AAAAAAA=\n", "not valid base64"),
        (
            f"{ORIGIN}\n1\n{base64.b64encode(b'short').decode()}\n\n\u2014 a AAAAAAA=\n",
            "wrong length",
        ),
        (f"{ORIGIN}\n1\n{base64.b64encode(ROOT).decode()}\n\n- a AAAAAAA=\n", "em dash"),
        (f"{ORIGIN}\n1\n{base64.b64encode(ROOT).decode()}\n\n", "must end with a newline"),
        (f"{ORIGIN}\r\n1\n", "carriage returns"),
    ],
    ids=[
        "no-signatures",
        "leading-zero",
        "bad-base64",
        "short-root",
        "ascii-dash",
        "empty-signature-block",
        "crlf",
    ],
)
def test_malformed_notes(text: str, match: str) -> None:
    with pytest.raises(NoteError, match=match):
        SignedNote.from_text(text)


def test_oversize_note() -> None:
    with pytest.raises(OversizeError, match="note too large"):
        SignedNote.from_text("x" * (64 * 1024 + 1))
