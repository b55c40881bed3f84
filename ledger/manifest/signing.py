"""One signed manifest version: a tagged COSE_Sign (RFC 9052 §4.1), one signature per admin.

    98([protected = bstr .cbor {3: "application/vnd.credex.manifest+cbor"},
        unprotected = {},
        payload = bstr .cbor body,
        signatures = [+ [bstr .cbor {1: -8, 4: admin kid}, {}, bstr(64)]]])   ; sorted by kid
    signature = Ed25519(["Signature", protected, signer protected, h'', payload])

A version's hash is SHA-256 of its payload, so one more signature never changes it. Pure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import cbor2

from credex.ledger import encoding
from credex.ledger.errors import (
    CoseError,
)
from credex.ledger.keys import SigningKey, compute_kid, verify_ed25519
from credex.ledger.manifest._fields import (
    unique,
)
from credex.ledger.manifest.body import MAX_MANIFEST_BYTES, ManifestBody
from credex.ledger.statement import ALG_EDDSA

__all__ = [
    "COSE_SIGN_TAG",
    "MANIFEST_CONTENT_TYPE",
    "AdminSignature",
    "SignedManifest",
]

COSE_SIGN_TAG: Final = 98
MANIFEST_CONTENT_TYPE: Final = "application/vnd.credex.manifest+cbor"
_BODY_PROTECTED: Final = encoding.encode({3: MANIFEST_CONTENT_TYPE})


@dataclass(frozen=True, slots=True)
class AdminSignature:
    """One COSE_Signature: ``[bstr .cbor {1: -8, 4: kid}, {}, signature]``."""

    kid: bytes
    signature: bytes

    @property
    def protected(self) -> bytes:
        return encoding.encode({1: ALG_EDDSA, 4: self.kid})

    def to_value(self) -> list[Any]:
        return [self.protected, {}, self.signature]


def _sig_structure(payload: bytes, signer_protected: bytes) -> bytes:
    """RFC 9052 §4.4 Sig_structure for COSE_Sign, no external AAD."""
    return encoding.encode(["Signature", _BODY_PROTECTED, signer_protected, b"", payload])


@dataclass(frozen=True, slots=True)
class SignedManifest:
    """One manifest version: the body bytes and the admin signatures collected so far.
    Its ``hash`` does not depend on the signatures."""

    payload: bytes
    signatures: tuple[AdminSignature, ...] = ()

    def __post_init__(self) -> None:
        sigs = tuple(sorted(self.signatures, key=lambda s: s.kid))
        unique((s.kid for s in sigs), "admin signature")
        object.__setattr__(self, "signatures", sigs)

    @property
    def hash(self) -> bytes:
        return hashlib.sha256(self.payload).digest()

    @property
    def body(self) -> ManifestBody:
        """The parsed body (not yet authenticated: see ``verify_manifest_chain``)."""
        return ManifestBody.from_bytes(self.payload)

    @classmethod
    def create(cls, body: ManifestBody, keys: Sequence[SigningKey] = ()) -> SignedManifest:
        out = cls(body.to_bytes())
        for k in keys:
            out = out.sign(k)
        return out

    def sign(self, key: SigningKey) -> SignedManifest:
        """This version with ``key``'s signature added (replacing an earlier one by it)."""
        sig = AdminSignature(key.kid, b"")
        sig = AdminSignature(key.kid, key.sign(_sig_structure(self.payload, sig.protected)))
        kept = tuple(s for s in self.signatures if s.kid != key.kid)
        return SignedManifest(self.payload, (*kept, sig))

    def valid_signers(self, admins: Iterable[bytes]) -> set[bytes]:
        """The keys among ``admins`` with a signature here.

        Raises:
            SignatureError: a signature by one of ``admins`` does not verify.
        """
        by_kid = {s.kid: s for s in self.signatures}
        out: set[bytes] = set()
        for a in admins:
            s = by_kid.get(compute_kid(a))
            if s is None:
                continue
            verify_ed25519(
                a,
                _sig_structure(self.payload, s.protected),
                s.signature,
                what=f"manifest: signature by admin {s.kid.hex()[:16]}…",
            )
            out.add(a)
        return out

    def to_bytes(self) -> bytes:
        return encoding.encode(
            cbor2.CBORTag(
                COSE_SIGN_TAG,
                [_BODY_PROTECTED, {}, self.payload, [s.to_value() for s in self.signatures]],
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SignedManifest:
        """Strictly parse the COSE_Sign envelope (the body is parsed by ``body``).

        Raises:
            CborError / OversizeError: not deterministic CBOR or too large.
            CoseError: wrong tag, headers, algorithm, or signature shape.
        """
        v = encoding.decode(data, what="manifest", max_size=MAX_MANIFEST_BYTES)
        if not isinstance(v, cbor2.CBORTag) or v.tag != COSE_SIGN_TAG:
            got = v.tag if isinstance(v, cbor2.CBORTag) else type(v).__name__
            raise CoseError(f"manifest: wrong cose tag: expected 98 (COSE_Sign), got {got}")
        arr = v.value
        if not isinstance(arr, list) or len(arr) != 4:
            raise CoseError("manifest: cose_sign must be an array of 4 items")
        protected, unprotected, payload, sigs = arr
        if protected != _BODY_PROTECTED or unprotected != {}:
            raise CoseError(f"manifest: headers must be {{3: {MANIFEST_CONTENT_TYPE!r}}} and {{}}")
        if not isinstance(payload, bytes) or not isinstance(sigs, list):
            raise CoseError("manifest: payload must be a bstr and signatures an array")
        out: list[AdminSignature] = []
        for s in sigs:
            if not isinstance(s, list) or len(s) != 3 or s[1] != {}:
                raise CoseError("manifest: each signature must be [protected, {}, signature]")
            if not isinstance(s[0], bytes) or not isinstance(s[2], bytes) or len(s[2]) != 64:
                raise CoseError("manifest: signature must be a 64-byte bstr")
            hdr = encoding.decode(s[0], what="manifest signature header")
            if not isinstance(hdr, dict) or set(hdr) != {1, 4} or hdr[1] != ALG_EDDSA:
                raise CoseError("manifest: signature header must be {1: -8 (EdDSA), 4: kid}")
            if not isinstance(hdr[4], bytes) or len(hdr[4]) != 32:
                raise CoseError("manifest: signature kid must be a 32-byte bstr")
            out.append(AdminSignature(hdr[4], s[2]))
        signed = cls(payload, tuple(out))
        if signed.to_bytes() != data:
            raise CoseError("manifest: signatures are not sorted by kid")
        return signed
