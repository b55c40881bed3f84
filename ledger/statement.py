"""Signed statements: one credit record as a tagged COSE_Sign1 (RFC 9052, FORMATS.md).

::

    18([protected: bstr, unprotected: map, payload: bstr, signature: bstr])
    protected = {1: -8, 3: "application/vnd.credex.record+cbor", 4: kid,
                 15: {1: iss, 2: sub, 6: iat}}
    signature = Ed25519(["Signature1", protected, h'', payload])

As logged, the unprotected map is empty; a holder may carry receipts under label 394.
The leaf is always the statement re-encoded with the empty unprotected map, so adding a
receipt never changes the leaf hash.

``Statement.from_bytes`` is the strict parser (tag, structure, algorithm, header set,
deterministic CBOR, size limit, record validity, ``sub`` == record subject); it does not
check the signature or trust (``verify_statement_signature``, ``credex.ledger.verify``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import cbor2

from credex.ledger import encoding
from credex.ledger.errors import CborError, CoseError, NonDeterministicCborError, OversizeError
from credex.ledger.keys import SigningKey, verify_ed25519
from credex.ledger.merkle import leaf_hash
from credex.ledger.record import Record

__all__ = [
    "ALG_ED25519",
    "ALG_EDDSA",
    "CONTENT_TYPE",
    "COSE_SIGN1_TAG",
    "LABEL_RECEIPTS",
    "MAX_STATEMENT_BYTES",
    "Claims",
    "Statement",
    "sig_structure",
    "sign_leaf",
    "sign_statement",
    "verify_statement_signature",
]

COSE_SIGN1_TAG: Final = 18
ALG_EDDSA: Final = -8
ALG_ED25519: Final = -19
CONTENT_TYPE: Final = "application/vnd.credex.record+cbor"
LABEL_RECEIPTS: Final = 394
#: a statement larger than this is refused before decoding (record limit 48 KiB + headers
#: + room for receipts)
MAX_STATEMENT_BYTES: Final = 64 * 1024
_PROTECTED_LABELS: Final = frozenset({1, 3, 4, 15})


def _head(major: int, n: int) -> bytes:
    """The shortest CBOR head for major type ``major`` and argument ``n`` (RFC 8949 §4.2.1)."""
    mt = major << 5
    if n < 24:
        return bytes((mt | n,))
    if n < 0x100:
        return bytes((mt | 24, n))
    if n < 0x10000:
        return bytes((mt | 25,)) + n.to_bytes(2, "big")
    if n < 0x100000000:
        return bytes((mt | 26,)) + n.to_bytes(4, "big")
    return bytes((mt | 27,)) + n.to_bytes(8, "big")


def _bstr(data: bytes) -> bytes:
    return _head(2, len(data)) + data


def _tstr(text: str) -> bytes:
    raw = text.encode()
    return _head(3, len(raw)) + raw


_SIG1_PREFIX: Final = b"\x84\x6aSignature1"  # ["Signature1", ...
_LEAF_PREFIX: Final = b"\xd2\x84"  # 18([ ...


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """RFC 9052 §4.4 Sig_structure for COSE_Sign1, no external AAD.

    Assembled directly (it is hashed for every signature); equal to
    ``encoding.encode(["Signature1", protected, b"", payload])`` (a test checks).
    """
    return _SIG1_PREFIX + _bstr(protected) + b"\x40" + _bstr(payload)


def _leaf_bytes(protected: bytes, payload: bytes, signature: bytes) -> bytes:
    """``18([protected, {}, payload, signature])`` in deterministic CBOR."""
    return _LEAF_PREFIX + _bstr(protected) + b"\xa0" + _bstr(payload) + _bstr(signature)


@dataclass(frozen=True, slots=True)
class Claims:
    """CWT claims carried in protected header 15."""

    iss: str
    sub: str
    iat: int


@dataclass(frozen=True, slots=True)
class Statement:
    """A parsed statement. Construct with ``sign_statement`` or ``from_bytes``."""

    protected: bytes
    payload: bytes
    signature: bytes
    alg: int
    kid: bytes
    claims: Claims
    record: Record
    receipts: tuple[bytes, ...] = ()
    _leaf: bytes = field(default=b"", repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self._leaf:
            leaf = _leaf_bytes(self.protected, self.payload, self.signature)
            object.__setattr__(self, "_leaf", leaf)

    @property
    def leaf(self) -> bytes:
        """The logged bytes: this statement with an empty unprotected map."""
        return self._leaf

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self._leaf)

    def to_bytes(self) -> bytes:
        """The statement as a holder carries it, receipts included."""
        if not self.receipts:
            return self._leaf
        unprotected = {LABEL_RECEIPTS: list(self.receipts)}
        return encoding.encode(
            cbor2.CBORTag(
                COSE_SIGN1_TAG, [self.protected, unprotected, self.payload, self.signature]
            )
        )

    def with_receipts(self, receipts: Sequence[bytes]) -> Statement:
        return Statement(
            self.protected,
            self.payload,
            self.signature,
            self.alg,
            self.kid,
            self.claims,
            self.record,
            tuple(receipts),
            self._leaf,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Statement:
        """Strictly parse a statement.

        Raises:
            OversizeError: larger than MAX_STATEMENT_BYTES.
            CborError / NonDeterministicCborError: not deterministic CBOR.
            CoseError: wrong tag, structure, algorithm, content type or headers.
            RecordError / UnknownKindError / IdentifierError: an invalid record payload.
        """
        if len(data) > MAX_STATEMENT_BYTES:
            raise OversizeError(
                f"statement: too large: expected <= {MAX_STATEMENT_BYTES} bytes, got {len(data)}"
            )
        value = encoding.decode(data, what="statement")
        if not isinstance(value, cbor2.CBORTag) or value.tag != COSE_SIGN1_TAG:
            got = value.tag if isinstance(value, cbor2.CBORTag) else type(value).__name__
            raise CoseError(f"statement: wrong cose tag: expected 18 (COSE_Sign1), got {got}")
        arr = value.value
        if not isinstance(arr, list) or len(arr) != 4:
            raise CoseError("statement: cose_sign1 must be an array of 4 items")
        protected, unprotected, payload, signature = arr
        if not isinstance(protected, bytes) or not isinstance(unprotected, dict):
            raise CoseError("statement: protected must be bstr and unprotected a map")
        if not isinstance(payload, bytes):
            raise CoseError("statement: payload must be an attached bstr")
        if not isinstance(signature, bytes) or len(signature) != 64:
            raise CoseError("statement: signature must be a 64-byte bstr")
        receipts = _parse_unprotected(unprotected)
        alg, kid, claims = _parse_protected(protected)
        record = Record.from_bytes(payload)
        if claims.sub != record.subject.id:
            raise CoseError("statement: cwt sub claim does not match the record subject")
        return cls(protected, payload, signature, alg, kid, claims, record, receipts)


def _parse_unprotected(unprotected: dict[Any, Any]) -> tuple[bytes, ...]:
    extra = [k for k in unprotected if k != LABEL_RECEIPTS]
    if extra:
        raise CoseError(f"statement: unexpected unprotected header labels: {extra!r}")
    receipts = unprotected.get(LABEL_RECEIPTS, [])
    if not isinstance(receipts, list) or not all(isinstance(r, bytes) for r in receipts):
        raise CoseError("statement: receipts (label 394) must be an array of bstr")
    return tuple(receipts)


def _parse_protected(protected: bytes) -> tuple[int, bytes, Claims]:
    try:
        hdr = encoding.decode(protected, what="statement protected header")
    except NonDeterministicCborError:
        raise
    except CborError as e:
        raise CoseError(f"statement: protected header is not cbor: {e}") from e
    if not isinstance(hdr, dict):
        raise CoseError("statement: protected header must be a map")
    if set(hdr) != _PROTECTED_LABELS:
        raise CoseError(
            "statement: protected header labels: expected [1, 3, 4, 15], "
            f"got {sorted(hdr, key=str)}"
        )
    alg = hdr[1]
    if alg not in (ALG_EDDSA, ALG_ED25519):
        raise CoseError(f"statement: unsupported algorithm: expected -8 (EdDSA), got {alg!r}")
    if hdr[3] != CONTENT_TYPE:
        raise CoseError(f"statement: wrong content type: expected {CONTENT_TYPE}, got {hdr[3]!r}")
    kid = hdr[4]
    if not isinstance(kid, bytes) or len(kid) != 32:
        raise CoseError("statement: kid must be a 32-byte bstr (SHA-256 of the public key)")
    cwt = hdr[15]
    if not isinstance(cwt, dict) or set(cwt) != {1, 2, 6}:
        raise CoseError("statement: cwt claims (15) must hold exactly iss (1), sub (2), iat (6)")
    iss, sub, iat = cwt[1], cwt[2], cwt[6]
    if not isinstance(iss, str) or not isinstance(sub, str):
        raise CoseError("statement: cwt iss and sub must be text")
    if type(iat) is not int or iat < 0:
        raise CoseError("statement: cwt iat must be a uint (Unix seconds)")
    return alg, kid, Claims(iss, sub, iat)


def sign_leaf(record: Record, issuer_id: str, key: SigningKey, iat: int) -> bytes:
    """The logged bytes of ``sign_statement(...)`` without building the parsed object
    (the bulk issue path)."""
    payload = record.to_bytes()
    protected = _protected_header(key.kid, issuer_id, record.subject.id, iat)
    return _leaf_bytes(protected, payload, key.sign(sig_structure(protected, payload)))


def sign_statement(record: Record, issuer_id: str, key: SigningKey, iat: int) -> Statement:
    """Sign ``record`` as issuer ``issuer_id`` at time ``iat`` (Unix seconds)."""
    payload = record.to_bytes()
    if len(payload) > MAX_STATEMENT_BYTES - 1024:
        raise OversizeError(
            f"statement: record too large: expected <= {MAX_STATEMENT_BYTES - 1024} bytes, "
            f"got {len(payload)}"
        )
    protected = _protected_header(key.kid, issuer_id, record.subject.id, iat)
    signature = key.sign(sig_structure(protected, payload))
    return Statement(
        protected,
        payload,
        signature,
        ALG_EDDSA,
        key.kid,
        Claims(issuer_id, record.subject.id, iat),
        record,
        (),
        _leaf_bytes(protected, payload, signature),
    )


@functools.lru_cache(maxsize=256)
def _protected_prefix(kid: bytes, issuer_id: str) -> bytes:
    # {1: -8, 3: ct, 4: kid, 15: {1: iss, ... : every key below 24, so this is the
    # deterministic order; only sub and iat vary per statement
    return (
        b"\xa4\x01\x27\x03"
        + _tstr(CONTENT_TYPE)
        + b"\x04"
        + _bstr(kid)
        + b"\x0f\xa3\x01"
        + _tstr(issuer_id)
    )


def _protected_header(kid: bytes, issuer_id: str, sub: str, iat: int) -> bytes:
    """The protected header map; equal to ``encoding.encode`` of it (a test checks)."""
    if type(iat) is not int or not 0 <= iat < 2**64:
        raise CoseError("statement: iat must be a uint (Unix seconds)")
    return _protected_prefix(kid, issuer_id) + b"\x02" + _tstr(sub) + b"\x06" + _head(0, iat)


def verify_statement_signature(statement: Statement, public_key: bytes) -> None:
    """Check the issuer's signature over the statement.

    Raises:
        SignatureError: the signature does not verify under ``public_key``.
    """
    verify_ed25519(
        public_key,
        sig_structure(statement.protected, statement.payload),
        statement.signature,
        what="statement",
    )
