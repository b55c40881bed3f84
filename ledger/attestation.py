"""The log's attestation about one entry: the status it checked, and when it logged it.

A bundle made for a purpose carries it under the optional key ``"attestation"`` (a
version-1 extension, like ``"preimage"``: docs/spec.md §4). It is a COSE_Sign1 signed by
a log key the verifier trusts — the entry's own log, or a member's log that mirrors it
(a mirror attests what its verified mirror holds)::

    18([protected = {1: -8, 3: "application/vnd.credex.attestation+cbor", 4: log kid},
        unprotected = {},
        payload = {"v": 1,
                   "origin": tstr,               ; the log holding the entry
                   "size": uint,                 ; the bundle checkpoint's tree size ...
                   "root": bstr .size 32,        ; ... and root
                   "leaf": bstr .size 32,        ; the entry's leaf hash
                   "index": uint,                ; its leaf index
                   "status": [* bstr .size 32],  ; every lifecycle statement about it in
                                                 ; the first `size` entries, in log order
                   "logged_after": uint,         ; the attesting log recorded a checkpoint
                                                 ; without the entry then (0: none)
                   "logged_by": uint},           ; and the first one with it then
        signature = Ed25519(["Signature1", protected, h'', payload])])

The protected header (labels exactly 1, 3, 4) cannot be mistaken for a statement's
(which needs 15) or a receipt's (395). ``status`` is what makes a purpose decidable:
without it a bundle cannot show that no repair, withdrawal or correction exists (the
verifiable index of issue #10 will replace the log's word with a proof). The times are
the attesting log's clock (``credex.ledger.logtime``).

This module builds, parses and signature-checks attestations; whether the key is
trusted and what they must match is ``credex.ledger.verify``'s call. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import cbor2

from credex.ledger import encoding
from credex.ledger.errors import FormatError
from credex.ledger.keys import SigningKey, verify_ed25519
from credex.ledger.log_signed import parse_log_signed
from credex.ledger.statement import ALG_EDDSA, COSE_SIGN1_TAG, sig_structure

__all__ = [
    "ATTESTATION_CONTENT_TYPE",
    "MAX_ATTESTATION_BYTES",
    "MAX_ATTESTED_STATUS",
    "Attestation",
    "sign_attestation",
]

ATTESTATION_CONTENT_TYPE: Final = "application/vnd.credex.attestation+cbor"
#: lifecycle statements one attestation may list (a record has a handful)
MAX_ATTESTED_STATUS: Final = 1024
MAX_ATTESTATION_BYTES: Final = 64 * 1024
_FIELDS: Final = frozenset(
    {"v", "origin", "size", "root", "leaf", "index", "status", "logged_after", "logged_by"}
)
_UINT64: Final = 2**64


@dataclass(frozen=True, slots=True)
class Attestation:
    """A parsed (or freshly signed) attestation; ``kid`` names the attesting log key."""

    origin: str
    size: int
    root: bytes
    leaf: bytes
    index: int
    status: tuple[bytes, ...]
    logged_after: int
    logged_by: int
    kid: bytes = b""
    protected: bytes = b""
    payload: bytes = b""
    signature: bytes = b""

    def to_value(self) -> dict[str, Any]:
        return {
            "v": 1,
            "origin": self.origin,
            "size": self.size,
            "root": self.root,
            "leaf": self.leaf,
            "index": self.index,
            "status": list(self.status),
            "logged_after": self.logged_after,
            "logged_by": self.logged_by,
        }

    def verify_signature(self, public_key: bytes) -> None:
        """Raises SignatureError unless ``public_key`` signed this attestation."""
        verify_ed25519(
            public_key,
            sig_structure(self.protected, self.payload),
            self.signature,
            what="attestation",
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Attestation:
        """Strictly parse an attestation (signature not checked).

        Raises:
            OversizeError: larger than ``MAX_ATTESTATION_BYTES``.
            CborError / NonDeterministicCborError: not deterministic CBOR.
            CoseError: not a COSE_Sign1 with exactly the headers above.
            FormatError: a payload that is not the map above.
        """
        signed = parse_log_signed(
            data,
            what="attestation",
            max_size=MAX_ATTESTATION_BYTES,
            content_type=ATTESTATION_CONTENT_TYPE,
        )
        kid, protected, payload, signature = (
            signed.kid,
            signed.protected,
            signed.payload,
            signed.signature,
        )
        body = _body(encoding.decode(payload, what="attestation payload"))
        return cls(*body, kid=kid, protected=protected, payload=payload, signature=signature)


def _uint(v: Any, name: str) -> int:
    if type(v) is not int or not 0 <= v < _UINT64:
        raise FormatError(f"attestation: {name} must be a uint")
    return v


def _hash(v: Any, name: str) -> bytes:
    if not isinstance(v, bytes) or len(v) != 32:
        raise FormatError(f"attestation: {name} must be a 32-byte bstr")
    return v


def _body(v: Any) -> tuple[str, int, bytes, bytes, int, tuple[bytes, ...], int, int]:
    if not isinstance(v, dict) or set(v) != _FIELDS:
        raise FormatError(f"attestation: payload must be a map with keys {sorted(_FIELDS)}")
    if type(v["v"]) is not int or v["v"] != 1:  # not True
        raise FormatError(f"attestation: unsupported version: expected 1, got {v['v']!r}")
    origin, status = v["origin"], v["status"]
    if not isinstance(origin, str) or not origin:
        raise FormatError("attestation: origin must be non-empty text")
    if not isinstance(status, list) or len(status) > MAX_ATTESTED_STATUS:
        raise FormatError(
            f"attestation: status must be an array of at most {MAX_ATTESTED_STATUS} leaf hashes"
        )
    size, index = _uint(v["size"], "size"), _uint(v["index"], "index")
    if index >= size:
        raise FormatError(f"attestation: index out of range: expected < {size}, got {index}")
    return (
        origin,
        size,
        _hash(v["root"], "root"),
        _hash(v["leaf"], "leaf"),
        index,
        tuple(_hash(h, "status entry") for h in status),
        _uint(v["logged_after"], "logged_after"),
        _uint(v["logged_by"], "logged_by"),
    )


def sign_attestation(
    key: SigningKey,
    *,
    origin: str,
    size: int,
    root: bytes,
    leaf: bytes,
    index: int,
    status: Sequence[bytes],
    logged_after: int,
    logged_by: int,
) -> bytes:
    """The attestation bytes, signed by the log key ``key`` (see the module docstring)."""
    body = Attestation(
        origin, size, root, leaf, index, tuple(status), logged_after, logged_by, key.kid
    )
    protected = encoding.encode({1: ALG_EDDSA, 3: ATTESTATION_CONTENT_TYPE, 4: key.kid})
    payload = encoding.encode(body.to_value())
    signature = key.sign(sig_structure(protected, payload))
    return encoding.encode(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))
