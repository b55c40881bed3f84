"""Checkpoints as C2SP signed notes (tlog-checkpoint, signed-note, tlog-cosignature).

::

    <origin>\\n<tree size>\\n<base64 root>\\n[extension lines]
    \\n
    — <key name> <base64(4-byte key id || signature)>\\n ...

A log signature is Ed25519 over the body (key id type 0x01). A witness cosignature
(tlog-cosignature/v1, key id type 0x04) signs ``cosignature/v1\\ntime <t>\\n`` + body and
carries ``u64 big-endian t || signature``. Key id = SHA-256(name || 0x0A || type || pubkey)[:4].

Parsing is strict: the tree size is ASCII decimal digits (``str.isdigit`` would take
"²" and "١٢"), base64 must be canonical, so one checkpoint has one text. ``merge_verified``
keeps only signature lines that verify (a note collected from others cannot grow).

This module parses, signs and verifies notes; it does not decide which keys to trust
(``credex.ledger.trust``) or keep state about earlier checkpoints (the log and witnesses).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from credex.ledger.errors import CheckpointError, NoteError, OversizeError, SignatureError
from credex.ledger.keys import SigningKey, verify_ed25519

__all__ = [
    "COSIGNATURE_TYPE",
    "ED25519_TYPE",
    "MAX_NOTE_BYTES",
    "Checkpoint",
    "NoteSignature",
    "SignedNote",
    "cosign_checkpoint",
    "merge_verified",
    "note_key_id",
    "note_verifier_key",
    "sign_checkpoint",
    "verify_cosignature",
    "verify_note_signature",
]

ED25519_TYPE: Final = 0x01
COSIGNATURE_TYPE: Final = 0x04
MAX_NOTE_BYTES: Final = 64 * 1024
_DASH: Final = "\u2014 "
_NAME_RE: Final = re.compile(r"[^\s+]+")
_CONTROL_RE: Final = re.compile(r"[\x00-\x09\x0b-\x1f]")
#: a tree size: ASCII digits, no sign, no leading zero, at most 20 digits (uint64)
_SIZE_RE: Final = re.compile(r"0|[1-9][0-9]{0,19}", re.ASCII)


def note_key_id(name: str, public_key: bytes, key_type: int = ED25519_TYPE) -> bytes:
    """The 4-byte signed-note key id."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:4]


def note_verifier_key(name: str, public_key: bytes, key_type: int = ED25519_TYPE) -> str:
    """The signed-note verifier key string ``<name>+<hex id>+<base64(type || key)>``."""
    kid = note_key_id(name, public_key, key_type).hex()
    return f"{name}+{kid}+{base64.b64encode(bytes([key_type]) + public_key).decode()}"


def _b64decode(text: str, what: str) -> bytes:
    """Standard, padded, canonical base64 only: one text per value (unused bits zero)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as e:
        raise NoteError(f"checkpoint: {what} is not valid base64") from e
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"checkpoint: {what} is not canonical base64")
    return raw


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The body of a tlog checkpoint."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise NoteError("checkpoint: origin must be one non-empty line")
        if self.size < 0 or self.size >= 2**64:
            raise NoteError("checkpoint: tree size out of uint64 range")
        if len(self.root) != 32:
            raise NoteError(f"checkpoint: root has wrong length: expected 32, got {len(self.root)}")

    def to_text(self) -> str:
        lines = [
            self.origin,
            str(self.size),
            base64.b64encode(self.root).decode(),
            *self.extensions,
        ]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, body: str) -> Checkpoint:
        if not body.endswith("\n"):
            raise NoteError("checkpoint: body must end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError(f"checkpoint: expected at least 3 lines, got {len(lines)}")
        origin, size_text, root_text, *ext = lines
        # ASCII only: str.isdigit() takes "²" and "١٢", and int() then fails or reads 12
        if not _SIZE_RE.fullmatch(size_text):
            raise NoteError(
                "checkpoint: tree size must be ASCII decimal digits without leading zeros"
            )
        if any(not e for e in ext):
            raise NoteError("checkpoint: empty extension line")
        return cls(origin, int(size_text), _b64decode(root_text, "root"), tuple(ext))


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, 4-byte key id, signature bytes (after the id)."""

    name: str
    key_id: bytes
    signature: bytes

    def to_line(self) -> str:
        blob = base64.b64encode(self.key_id + self.signature).decode()
        return f"{_DASH}{self.name} {blob}\n"


@dataclass(frozen=True, slots=True)
class SignedNote:
    """A checkpoint body plus its signature lines, as text."""

    body: str
    signatures: tuple[NoteSignature, ...]

    @property
    def checkpoint(self) -> Checkpoint:
        return Checkpoint.from_text(self.body)

    def to_text(self) -> str:
        return self.body + "\n" + "".join(s.to_line() for s in self.signatures)

    def with_signature(self, sig: NoteSignature) -> SignedNote:
        kept = tuple(s for s in self.signatures if (s.name, s.key_id) != (sig.name, sig.key_id))
        return SignedNote(self.body, (*kept, sig))

    @classmethod
    def from_text(cls, text: str) -> SignedNote:
        """Parse a signed note.

        Raises:
            OversizeError: longer than MAX_NOTE_BYTES.
            NoteError: malformed body or signature lines.
        """
        try:
            size = len(text.encode())
        except UnicodeEncodeError as e:  # a lone surrogate: not text any peer could send
            raise NoteError("checkpoint: note is not valid unicode text") from e
        if size > MAX_NOTE_BYTES:
            raise OversizeError(f"checkpoint: note too large: expected <= {MAX_NOTE_BYTES} bytes")
        if _CONTROL_RE.search(text):  # C2SP signed-note: no control characters but newline
            raise NoteError(
                "checkpoint: note must not contain control characters (carriage returns, "
                "tabs, ...) other than newline"
            )
        sep = text.find("\n\n")
        if sep < 0:
            raise NoteError("checkpoint: missing blank line before signatures")
        body, sig_text = text[: sep + 1], text[sep + 2 :]
        Checkpoint.from_text(body)
        if not sig_text.endswith("\n"):
            raise NoteError("checkpoint: signature block must end with a newline")
        sigs: list[NoteSignature] = []
        for line in sig_text[:-1].split("\n"):
            if not line.startswith(_DASH):
                raise NoteError("checkpoint: signature line must start with an em dash")
            parts = line[len(_DASH) :].split(" ")
            if len(parts) != 2 or not _NAME_RE.fullmatch(parts[0]):
                raise NoteError("checkpoint: malformed signature line")
            blob = _b64decode(parts[1], "signature")
            if len(blob) < 5:
                raise NoteError("checkpoint: signature too short")
            sigs.append(NoteSignature(parts[0], blob[:4], blob[4:]))
        if not sigs:
            raise NoteError("checkpoint: note has no signatures")
        return cls(body, tuple(sigs))


def sign_checkpoint(checkpoint: Checkpoint, name: str, key: SigningKey) -> SignedNote:
    """The log's signed note for ``checkpoint``."""
    body = checkpoint.to_text()
    sig = NoteSignature(name, note_key_id(name, key.public_key), key.sign(body.encode()))
    return SignedNote(body, (sig,))


#: the latest cosignature time accepted (2^63 - 1, SQL BIGINT): C2SP tlog-cosignature
#: writes a uint64, and a hostile witness could sign any of them
MAX_COSIGNATURE_TIME: Final = 2**63 - 1


def _cosigned_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosign_checkpoint(
    note: SignedNote, name: str, key: SigningKey, timestamp: int
) -> NoteSignature:
    """A witness's tlog-cosignature/v1 line over ``note``'s body."""
    sig = key.sign(_cosigned_message(note.body, timestamp))
    kid = note_key_id(name, key.public_key, COSIGNATURE_TYPE)
    return NoteSignature(name, kid, struct.pack(">Q", timestamp) + sig)


def _find(sigs: Sequence[NoteSignature], name: str, kid: bytes, what: str) -> NoteSignature:
    for s in sigs:
        if s.name == name and s.key_id == kid:
            return s
    raise SignatureError(f"checkpoint: no {what} signature by key {name}+{kid.hex()}")


def verify_note_signature(note: SignedNote, name: str, public_key: bytes) -> None:
    """Check the log's Ed25519 signature on ``note``.

    Raises:
        SignatureError: no signature line by this key, or it does not verify.
    """
    s = _find(note.signatures, name, note_key_id(name, public_key), "log")
    verify_ed25519(public_key, note.body.encode(), s.signature, what="checkpoint")


def verify_cosignature(note: SignedNote, name: str, public_key: bytes) -> int:
    """Check a witness cosignature on ``note``; returns its timestamp.

    Raises:
        SignatureError: no cosignature by this key, or it does not verify.
    """
    s = _find(note.signatures, name, note_key_id(name, public_key, COSIGNATURE_TYPE), "witness")
    if len(s.signature) != 8 + 64:
        raise SignatureError("checkpoint: cosignature has wrong length: expected 72")
    (timestamp,) = struct.unpack(">Q", s.signature[:8])
    if timestamp > MAX_COSIGNATURE_TIME:
        # a witness's own signature over it is no reason to hold a time no clock reads
        # and no BIGINT column stores
        raise SignatureError(
            f"checkpoint: cosignature time out of range: expected at most {MAX_COSIGNATURE_TIME}"
        )
    verify_ed25519(
        public_key, _cosigned_message(note.body, timestamp), s.signature[8:], what="cosignature"
    )
    return int(timestamp)


def merge_verified(
    notes: Sequence[SignedNote],
    log: tuple[str, bytes],
    witnesses: Sequence[tuple[str, bytes]],
) -> SignedNote:
    """One note over the common body with only lines that verify: the log's signature
    and, per distinct witness key, one valid cosignature (the latest timestamp) found on
    any of ``notes``. Every other line is dropped, so a peer cannot grow a note by
    re-serving it with junk lines: the result has at most ``1 + len(witnesses)`` lines,
    each of bounded size.

    Args:
        notes: signed notes of one checkpoint body (the first sets the body).
        log: the log's note key name and Ed25519 public key.
        witnesses: (name, public key) of each witness whose cosignature may be kept.

    Raises:
        CheckpointError: the notes have different bodies.
        SignatureError: no note carries a valid signature by the log.
    """
    body = notes[0].body
    if any(n.body != body for n in notes):
        raise CheckpointError("checkpoint: cannot merge signatures of different checkpoints")
    name, key = log
    kid = note_key_id(name, key)
    log_sig = next(
        (s for n in notes for s in n.signatures if _valid_log_line(s, name, kid, key, body)),
        None,
    )
    if log_sig is None:
        raise SignatureError(f"checkpoint: no log signature by key {name}+{kid.hex()}")
    kept = [log_sig]
    seen: set[bytes] = set()
    for w_name, w_key in witnesses:
        if w_key in seen:
            continue
        seen.add(w_key)
        w_kid = note_key_id(w_name, w_key, COSIGNATURE_TYPE)
        best: tuple[int, NoteSignature] | None = None
        for s in (s for n in notes for s in n.signatures):
            if s.name != w_name or s.key_id != w_kid or len(s.signature) != 72:
                continue
            (t,) = struct.unpack(">Q", s.signature[:8])
            if t > MAX_COSIGNATURE_TIME:
                continue
            try:
                verify_ed25519(
                    w_key, _cosigned_message(body, t), s.signature[8:], what="cosignature"
                )
            except SignatureError:
                continue
            if best is None or t > best[0]:
                best = (int(t), s)
        if best is not None:
            kept.append(best[1])
    return SignedNote(body, tuple(kept))


def _valid_log_line(s: NoteSignature, name: str, kid: bytes, key: bytes, body: str) -> bool:
    if s.name != name or s.key_id != kid:
        return False
    try:
        verify_ed25519(key, body.encode(), s.signature, what="checkpoint")
    except SignatureError:
        return False
    return True
