"""The COSE_Sign1 a log signs about itself (an attestation, a subject report): tag 18,
protected ``{1: alg, 3: content type, 4: kid}`` and nothing else, an empty unprotected
map, a 64-byte Ed25519 signature. One strict parser for both; each caller parses its own
payload. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import cbor2

from credex.ledger import encoding
from credex.ledger.errors import CborError, CoseError
from credex.ledger.statement import ALG_ED25519, ALG_EDDSA, COSE_SIGN1_TAG

__all__ = ["LogSigned", "parse_log_signed"]


@dataclass(frozen=True, slots=True)
class LogSigned:
    """The parts of a log-signed COSE_Sign1 (its signature not checked)."""

    kid: bytes
    protected: bytes
    payload: bytes
    signature: bytes


def parse_log_signed(data: bytes, *, what: str, max_size: int, content_type: str) -> LogSigned:
    """Strictly parse ``data`` as a log-signed COSE_Sign1 of ``content_type``; errors are
    prefixed with ``what``.

    Raises:
        OversizeError: larger than ``max_size``.
        CborError / NonDeterministicCborError: not deterministic CBOR.
        CoseError: not a COSE_Sign1 with exactly the headers above.
    """
    value = encoding.decode(data, what=what, max_size=max_size)
    if not isinstance(value, cbor2.CBORTag) or value.tag != COSE_SIGN1_TAG:
        raise CoseError(f"{what}: wrong cose tag: expected 18 (COSE_Sign1)")
    arr = value.value
    if not isinstance(arr, list) or len(arr) != 4:
        raise CoseError(f"{what}: cose_sign1 must be an array of 4 items")
    protected, unprotected, payload, signature = arr
    if not isinstance(protected, bytes) or unprotected != {}:
        raise CoseError(f"{what}: protected must be bstr and unprotected empty")
    if not isinstance(payload, bytes) or not isinstance(signature, bytes):
        raise CoseError(f"{what}: payload and signature must be bstr")
    if len(signature) != 64:
        raise CoseError(f"{what}: signature must be 64 bytes")
    try:
        hdr = encoding.decode(protected, what=f"{what} protected header")
    except CborError as e:
        raise CoseError(f"{what}: protected header is not cbor: {e}") from e
    if not isinstance(hdr, dict) or set(hdr) != {1, 3, 4}:
        raise CoseError(f"{what}: protected header labels: expected [1, 3, 4]")
    if hdr[1] not in (ALG_EDDSA, ALG_ED25519) or hdr[3] != content_type:
        raise CoseError(f"{what}: expected alg -8 and content type {content_type}")
    kid = hdr[4]
    if not isinstance(kid, bytes) or len(kid) != 32:
        raise CoseError(f"{what}: kid must be a 32-byte bstr")
    return LogSigned(kid, protected, payload, signature)
