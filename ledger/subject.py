"""Keyed pseudonyms for natural persons.

A resident identity number has a small keyspace (about 1.2e11 candidates, DOMAIN §1.2),
so a bare hash of it can be reversed offline. credex therefore identifies a person only
by ``hmac:<key_id>:<hex of HMAC-SHA256(secret, normalised 18-character id)>``, keyed
with a federation secret held in the node's key store. ``key_id`` names the secret so it
can be rotated; it is derived from the secret and reveals nothing about it.

This module does not store, load or rotate secrets, and never returns or logs a raw id.
``mask_name`` produces the only form of a person's name credex stores (``张*``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Final

from credex.ledger.errors import FormatError
from credex.ledger.identifiers import normalise_resident_id

__all__ = ["KEY_ID_DOMAIN", "SubjectKey", "mask_name", "person_subject_id"]

KEY_ID_DOMAIN: Final = b"credex-subject-key-v1"
_KEY_ID_RE: Final = re.compile(r"^[0-9a-f]{8}\Z")


@dataclass(frozen=True, slots=True)
class SubjectKey:
    """A federation secret for person pseudonyms, named by an 8-hex-digit key id."""

    key_id: str
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.key_id, str) or not _KEY_ID_RE.match(self.key_id):
            raise FormatError("subject key: key id must be 8 lowercase hex digits")
        if not isinstance(self.secret, bytes) or len(self.secret) != 32:
            got = len(self.secret) if isinstance(self.secret, bytes) else type(self.secret).__name__
            raise FormatError(f"subject key: secret must be 32 bytes: expected 32, got {got}")

    @classmethod
    def from_secret(cls, secret: bytes) -> SubjectKey:
        """A key whose id is the first 8 hex digits of SHA-256(domain || secret).

        Raises:
            FormatError: the secret is not 32 bytes.
        """
        if not isinstance(secret, bytes):
            raise FormatError("subject key: secret must be bytes")
        return cls(hashlib.sha256(KEY_ID_DOMAIN + secret).hexdigest()[:8], secret)


def person_subject_id(key: SubjectKey, raw_id: str) -> str:
    """The keyed pseudonym of a resident identity number (15 or 18 characters).

    Raises:
        IdentifierError: the number is invalid (the message never contains it).
    """
    rid = normalise_resident_id(raw_id)
    mac = hmac.new(key.secret, rid.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"hmac:{key.key_id}:{mac}"


def mask_name(name: str) -> str:
    """A person's name reduced to its first character plus ``*`` per remaining one.

    ``张三`` -> ``张*``, ``欧阳小明`` -> ``欧***``; a one-character name becomes ``*``.
    """
    n = "".join(name.split())
    if len(n) <= 1:
        return "*"
    return n[0] + "*" * (len(n) - 1)
