"""Signed statements: one credit record as a tagged COSE_Sign1 (RFC 9052, FORMATS.md).

::

    18([protected: bstr, unprotected: map, payload: bstr, signature: bstr])
    protected = {1: -8, 3: "application/vnd.credex.record+cbor", 4: kid,
                 15: {1: iss, 2: sub, 6: iat}}
    signature = Ed25519(["Signature1", protected, h'', payload])

As logged, the unprotected map is empty; a holder may carry receipts under label 394.
The leaf is always the statement re-encoded with the empty unprotected map, so adding a
receipt never changes the leaf hash.

A record about a person (``envelope.should_envelope``) is signed as an RFC 9995 hash
envelope instead: protected ``{1, 4, 15, 258: -16, 259: "...;kind=<kind>"}`` (no label 3),
payload = SHA-256(record). ``Statement.kind`` works for both; ``Statement.record`` of an
envelope needs its body (``with_preimage``) and otherwise raises ``BodyNotHeldError``.

``Statement.from_bytes`` is the strict parser (tag, structure, algorithm, header set,
deterministic CBOR, size limit, record validity, ``sub`` == record subject); it does not
check the signature or trust (``verify_statement_signature``, ``credex.ledger.verify``).
For an envelope it checks the headers and the 32-byte payload; the body is checked by
``with_preimage``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import cbor2

from credex.ledger import encoding, envelope, fixed_layout
from credex.ledger.errors import (
    BodyNotHeldError,
    CborError,
    CoseError,
    FormatError,
    NonDeterministicCborError,
    OversizeError,
)
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
    "leaf_subject",
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
_ENVELOPE_LABELS: Final = frozenset(
    {1, 4, 15, envelope.LABEL_PAYLOAD_HASH_ALG, envelope.LABEL_PREIMAGE_CONTENT_TYPE}
)


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
    """A parsed statement. Construct with ``sign_statement`` or ``from_bytes``.

    ``_record`` is None only for a hash envelope whose body is not held; ``kind`` is
    the record's kind (for an envelope, from its preimage content type).
    """

    protected: bytes
    payload: bytes
    signature: bytes
    alg: int
    kid: bytes
    claims: Claims
    _record: Record | None
    receipts: tuple[bytes, ...] = ()
    _leaf: bytes = field(default=b"", repr=False, compare=False)
    kind: str = ""
    is_envelope: bool = False
    #: SHA-256 leaf hash of ``_leaf``, worked out on first use (verification asks often)
    _leaf_hash: bytes = field(default=b"", repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self._leaf:
            leaf = _leaf_bytes(self.protected, self.payload, self.signature)
            object.__setattr__(self, "_leaf", leaf)
        if not self.kind:
            if self._record is None:
                raise CoseError("statement: an envelope needs its kind")
            object.__setattr__(self, "kind", self._record.kind)

    @property
    def record(self) -> Record:
        """The record; for a hash envelope only when its body is held.

        Raises:
            BodyNotHeldError: an envelope parsed without its body (``with_preimage``).
        """
        if self._record is None:
            raise BodyNotHeldError(
                f"statement: the record body of {self.kind} {self.leaf_hash.hex()[:16]}… "
                f"is not held here: it is kept off-log by {self.claims.iss}; ask the "
                "issuing node"
            )
        return self._record

    @property
    def has_body(self) -> bool:
        """True unless this is an envelope whose body is not held."""
        return self._record is not None

    @property
    def preimage(self) -> bytes | None:
        """An envelope's held body (the record bytes); None otherwise."""
        if not self.is_envelope or self._record is None:
            return None
        return self._record.to_bytes()

    def with_preimage(self, preimage: bytes) -> Statement:
        """This envelope with its body attached, after checking it.

        Raises:
            FormatError: not an envelope.
            PreimageMismatchError: SHA-256(preimage) is not the signed payload.
            RecordError / UnknownKindError / CoseError: the body is not a valid record
                of this envelope's kind and subject, or not one that is enveloped.
        """
        if not self.is_envelope:
            raise FormatError("statement: a record body is given only for a hash envelope")
        envelope.check_preimage(self.payload, preimage)
        record = Record.from_bytes(preimage)
        if record.kind != self.kind:
            raise CoseError(
                f"envelope: body kind differs from the content type: expected {self.kind}, "
                f"got {record.kind}"
            )
        if record.subject.id != self.claims.sub:
            raise CoseError("envelope: cwt sub claim does not match the record subject")
        if not envelope.should_envelope(record):
            raise CoseError(f"envelope: a {record.kind} record of this subject is not enveloped")
        return Statement(
            self.protected,
            self.payload,
            self.signature,
            self.alg,
            self.kid,
            self.claims,
            record,
            self.receipts,
            self._leaf,
            self.kind,
            True,
        )

    @property
    def leaf(self) -> bytes:
        """The logged bytes: this statement with an empty unprotected map."""
        return self._leaf

    @property
    def leaf_hash(self) -> bytes:
        h = self._leaf_hash
        if not h:
            h = leaf_hash(self._leaf)
            object.__setattr__(self, "_leaf_hash", h)
        return h

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
            self._record,
            tuple(receipts),
            self._leaf,
            self.kind,
            self.is_envelope,
        )

    @classmethod
    def from_bytes(cls, data: bytes, preimage: bytes | None = None) -> Statement:
        """Strictly parse a statement; ``preimage``, if given, is a hash envelope's body
        (a bundle's ``preimage``), attached by ``with_preimage``.

        Raises:
            OversizeError: larger than MAX_STATEMENT_BYTES.
            CborError / NonDeterministicCborError: not deterministic CBOR.
            CoseError: wrong tag, structure, algorithm, content type or headers.
            NotEnvelopedError: a person's record in an ordinary COSE_Sign1 (it must be a
                hash envelope: ``envelope.should_envelope``).
            RecordError / UnknownKindError / IdentifierError: an invalid record payload.
            PreimageMismatchError: ``preimage`` does not hash to the envelope's payload.
        """
        if len(data) > MAX_STATEMENT_BYTES:
            raise OversizeError(
                f"statement: too large: expected <= {MAX_STATEMENT_BYTES} bytes, got {len(data)}"
            )
        # the layout credex writes is read by slicing; anything else, the general path
        fast = fixed_layout.statement(data)
        if fast is not None:
            protected, receipts, payload, signature, leaf = fast
        else:
            protected, receipts, payload, signature = _parse_cose(data)
            leaf = b""  # built from the parts
        alg, kid, claims, kind = _parse_protected(protected)
        if kind is not None:  # a hash envelope: the body is off-log
            if len(payload) != 32:
                raise CoseError(
                    f"envelope: payload must be a 32-byte SHA-256, got {len(payload)} bytes"
                )
            st = cls(
                protected, payload, signature, alg, kid, claims, None, receipts, leaf, kind, True
            )
            return st if preimage is None else st.with_preimage(preimage)
        if preimage is not None:
            raise FormatError("statement: a record body is given only for a hash envelope")
        record = Record.from_bytes(payload)
        if claims.sub != record.subject.id:
            raise CoseError("statement: cwt sub claim does not match the record subject")
        envelope.require_envelope(record, False)  # a person's record is never in the clear
        return cls(protected, payload, signature, alg, kid, claims, record, receipts, leaf)


def leaf_subject(leaf: bytes) -> str | None:
    """The CWT ``sub`` of a logged statement (``leaf``, as the log holds it), read from
    its protected header only; None if ``leaf`` is not a statement. What a lookup by
    subject key confirms each candidate with (``storage/sql.py``): the key is 4 bytes of
    a hash, the subject is this."""
    if len(leaf) > MAX_STATEMENT_BYTES:
        return None
    try:
        fast = fixed_layout.statement(leaf)
        protected = fast[0] if fast is not None else _parse_cose(leaf)[0]
        return _parse_protected(protected)[2].sub
    except FormatError:
        return None


def _parse_cose(data: bytes) -> tuple[bytes, tuple[bytes, ...], bytes, bytes]:
    """(protected, receipts, payload, signature) of a statement, by the general path."""
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
    return protected, _parse_unprotected(unprotected), payload, signature


def _parse_unprotected(unprotected: dict[Any, Any]) -> tuple[bytes, ...]:
    extra = [k for k in unprotected if k != LABEL_RECEIPTS]
    if extra:
        raise CoseError(f"statement: unexpected unprotected header labels: {extra!r}")
    receipts = unprotected.get(LABEL_RECEIPTS, [])
    if not isinstance(receipts, list) or not all(isinstance(r, bytes) for r in receipts):
        raise CoseError("statement: receipts (label 394) must be an array of bstr")
    return tuple(receipts)


@functools.lru_cache(maxsize=4096)
def _parse_protected(protected: bytes) -> tuple[int, bytes, Claims, str | None]:
    """(alg, kid, claims, kind): kind is None for an ordinary statement, else the
    enveloped record's kind. A pure function of the bytes, remembered for the last 4,096
    headers (one issuer's batch shares one: same kid, iss, often sub and iat); refusals
    are not remembered."""
    try:
        hdr = encoding.decode(protected, what="statement protected header")
    except NonDeterministicCborError:
        raise
    except CborError as e:
        raise CoseError(f"statement: protected header is not cbor: {e}") from e
    if not isinstance(hdr, dict):
        raise CoseError("statement: protected header must be a map")
    labels = set(hdr)
    kind: str | None = None
    if labels == _ENVELOPE_LABELS:
        if hdr[envelope.LABEL_PAYLOAD_HASH_ALG] != envelope.HASH_ALG_SHA256:
            raise CoseError(
                "envelope: unsupported payload hash algorithm (258): expected -16 (SHA-256), "
                f"got {hdr[envelope.LABEL_PAYLOAD_HASH_ALG]!r}"
            )
        kind = envelope.kind_from_content_type(hdr[envelope.LABEL_PREIMAGE_CONTENT_TYPE])
    elif labels != _PROTECTED_LABELS:
        raise CoseError(
            "statement: protected header labels: expected [1, 3, 4, 15] "
            f"(or [1, 4, 15, 258, 259] for a hash envelope), got {sorted(hdr, key=str)}"
        )
    elif hdr[3] != CONTENT_TYPE:
        raise CoseError(f"statement: wrong content type: expected {CONTENT_TYPE}, got {hdr[3]!r}")
    alg = hdr[1]
    if alg not in (ALG_EDDSA, ALG_ED25519):
        raise CoseError(f"statement: unsupported algorithm: expected -8 (EdDSA), got {alg!r}")
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
    return alg, kid, Claims(iss, sub, iat), kind


def _header_and_payload(
    record: Record, issuer_id: str, kid: bytes, iat: int
) -> tuple[bytes, bytes, bool]:
    """(protected, payload, is_envelope): a person's record becomes a hash envelope."""
    if envelope.should_envelope(record):
        protected = envelope.envelope_protected_header(
            kid, issuer_id, record.subject.id, iat, record.kind
        )
        return protected, envelope.payload_hash(record.to_bytes()), True
    return _protected_header(kid, issuer_id, record.subject.id, iat), record.to_bytes(), False


def sign_leaf(record: Record, issuer_id: str, key: SigningKey, iat: int) -> bytes:
    """The logged bytes of ``sign_statement(...)`` without building the parsed object
    (the bulk issue path). For an enveloped record the body is ``record.to_bytes()``,
    which the caller keeps off-log."""
    protected, payload, _ = _header_and_payload(record, issuer_id, key.kid, iat)
    return _leaf_bytes(protected, payload, key.sign(sig_structure(protected, payload)))


def sign_statement(record: Record, issuer_id: str, key: SigningKey, iat: int) -> Statement:
    """Sign ``record`` as issuer ``issuer_id`` at time ``iat`` (Unix seconds); a record
    ``envelope.should_envelope`` selects is signed as a hash envelope (body held)."""
    if len(record.to_bytes()) > MAX_STATEMENT_BYTES - 1024:
        raise OversizeError(
            f"statement: record too large: expected <= {MAX_STATEMENT_BYTES - 1024} bytes, "
            f"got {len(record.to_bytes())}"
        )
    protected, payload, is_envelope = _header_and_payload(record, issuer_id, key.kid, iat)
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
        record.kind,
        is_envelope,
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
