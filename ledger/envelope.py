"""Personal records off the log: the COSE Hash Envelope (RFC 9995) of a credit record.

A record about a person is logged as a hash envelope: the signed payload is the SHA-256
of the record's deterministic CBOR (its *preimage*, the body), not the record itself.
The node keeps the body off-log and can erase it (repair, end of the publication window)
without touching the tree; whoever is given the body can check it against the payload.

::

    18([protected: bstr, unprotected: map, payload: bstr .size 32, signature: bstr])
    protected = {1: -8, 4: kid, 15: {1: iss, 2: sub, 6: iat},
                 258: -16,                   ; payload_hash_alg: SHA-256
                 259: "application/vnd.credex.record+cbor;kind=<kind>"}
                                             ; preimage_content_type
    payload   = SHA-256(record, deterministic CBOR)

RFC 9995 §4: label 258 MUST be in the protected header, label 3 (content_type) MUST NOT
be present (it would describe the digest); 259 names what was hashed. The record kind is
a media-type parameter of 259 so a peer can check "issuer authorised for kind" without
the body; the kind, the issuer, the keyed-hash subject and iat carry no personal data.

Which records are enveloped is decided once, by ``should_envelope``; ``require_envelope``
refuses one of them signed in the clear, wherever a statement enters. This module is pure:
it builds and checks headers and digests; ``credex.ledger.statement`` signs and parses.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from typing import Final

from credex.ledger import encoding
from credex.ledger.errors import CoseError, NotEnvelopedError, PreimageMismatchError
from credex.ledger.record import (
    KINDS,
    LIFECYCLE_KINDS,
    SALT_BYTES,
    SUBJECTLESS_KINDS,
    Record,
)

__all__ = [
    "HASH_ALG_SHA256",
    "LABEL_PAYLOAD_HASH_ALG",
    "LABEL_PREIMAGE_CONTENT_TYPE",
    "ON_LOG_KINDS",
    "PREIMAGE_CONTENT_TYPE",
    "check_preimage",
    "envelope_protected_header",
    "kind_from_content_type",
    "payload_hash",
    "preimage_content_type",
    "require_envelope",
    "salted",
    "should_envelope",
]

#: RFC 9995 payload_hash_alg (must be protected)
LABEL_PAYLOAD_HASH_ALG: Final = 258
#: RFC 9995 preimage_content_type
LABEL_PREIMAGE_CONTENT_TYPE: Final = 259
#: COSE algorithm id of SHA-256 (RFC 9054)
HASH_ALG_SHA256: Final = -16
PREIMAGE_CONTENT_TYPE: Final = "application/vnd.credex.record+cbor"
_KIND_PARAM: Final = ";kind="
#: person-subject kinds that stay on the log in the clear: status (lifecycle.*,
#: commitment.outcome: refs, dates and codes, and status must be public) and the
#: subjectless kinds (manifest, policy: they use the reserved person key id 00000000
#: and are public documents), and ``audit.lookup`` (who looked a subject up: no personal
#: data, and the subject's region must read it from its mirrors). Equal to
#: ``lifecycle.STATUS_KINDS`` + SUBJECTLESS_KINDS + audit.lookup (a test checks;
#: ``lifecycle`` imports ``statement``, so it is not imported here).
ON_LOG_KINDS: Final = frozenset(
    (*LIFECYCLE_KINDS, "commitment.outcome", *SUBJECTLESS_KINDS, "audit.lookup")
)
SALT_DOMAIN: Final = b"credex-envelope-salt-v1\x00"


def should_envelope(record: Record) -> bool:
    """True when ``record`` is logged as a hash envelope with its body kept off-log:
    every person-subject record except the ``ON_LOG_KINDS``."""
    return record.subject.type == "person" and record.kind not in ON_LOG_KINDS


def require_envelope(record: Record, is_envelope: bool) -> None:
    """Refuse ``record`` signed in the clear when ``should_envelope`` says it must be a
    hash envelope (every entry point calls this: the statement parser, so Submit, sync
    and verify step 1, and ``LocalNode.append``).

    Raises:
        NotEnvelopedError: a person's record (not an ``ON_LOG_KINDS`` kind) in an
            ordinary COSE_Sign1. The message names the kind only.
    """
    if not is_envelope and should_envelope(record):
        raise NotEnvelopedError(
            f"statement: a {record.kind} record about a person must be an rfc 9995 hash "
            "envelope (its body is kept off the log), got an ordinary cose_sign1 carrying it"
        )


def salted(record: Record, secret: bytes) -> Record:
    """``record`` with its envelope salt: the first 16 bytes of HMAC-SHA256(secret,
    domain || record). Deterministic per node secret (so importing a file twice still
    logs each record once) and unguessable without it (so the logged hash of a score
    cannot be found by hashing every possible score). A record that is not enveloped, or
    already salted, is returned as it is."""
    if not should_envelope(record) or record.salt is not None:
        return record
    mac = hmac.new(secret, SALT_DOMAIN + record.to_bytes(), hashlib.sha256).digest()
    return replace(record, salt=mac[:SALT_BYTES], _bytes=b"")


def preimage_content_type(kind: str) -> str:
    """The label-259 value for a record of ``kind``."""
    return PREIMAGE_CONTENT_TYPE + _KIND_PARAM + kind


def kind_from_content_type(value: object) -> str:
    """The record kind named by a label-259 value.

    Raises:
        CoseError: not a credex record content type, or a kind that is never enveloped.
    """
    if not isinstance(value, str) or not value.startswith(PREIMAGE_CONTENT_TYPE + _KIND_PARAM):
        raise CoseError(
            f"envelope: wrong preimage content type (259): expected "
            f"{PREIMAGE_CONTENT_TYPE}{_KIND_PARAM}<kind>, got {value!r}"
        )
    kind = value[len(PREIMAGE_CONTENT_TYPE) + len(_KIND_PARAM) :]
    if kind not in KINDS:
        raise CoseError(f"envelope: unknown record kind in content type: {kind!r}")
    if kind in ON_LOG_KINDS:
        raise CoseError(f"envelope: {kind} records are never enveloped (they stay on-log)")
    return kind


def payload_hash(preimage: bytes) -> bytes:
    """The envelope payload: SHA-256 of the record bytes."""
    return hashlib.sha256(preimage).digest()


def check_preimage(payload: bytes, preimage: bytes) -> None:
    """Check that ``preimage`` is the body of an envelope whose payload is ``payload``.

    Raises:
        PreimageMismatchError: SHA-256(preimage) != payload.
    """
    got = payload_hash(preimage)
    if got != payload:
        raise PreimageMismatchError(
            f"envelope: record body does not match the signed hash: expected sha-256 "
            f"{payload.hex()}, got {got.hex()}"
        )


def envelope_protected_header(kid: bytes, issuer_id: str, sub: str, iat: int, kind: str) -> bytes:
    """The deterministic protected header of an envelope (labels 1, 4, 15, 258, 259)."""
    if type(iat) is not int or not 0 <= iat < 2**64:
        raise CoseError("statement: iat must be a uint (Unix seconds)")
    return encoding.encode(
        {
            1: -8,
            4: kid,
            15: {1: issuer_id, 2: sub, 6: iat},
            LABEL_PAYLOAD_HASH_ALG: HASH_ALG_SHA256,
            LABEL_PREIMAGE_CONTENT_TYPE: preimage_content_type(kind),
        }
    )
