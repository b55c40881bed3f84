"""Ed25519 keys (libsodium through PyNaCl) and key ids.

``kid`` = SHA-256 of the raw 32-byte public key (FORMATS.md "Keys"). A ``SigningKey``
never shows its seed in ``repr``; reading and writing key files is the node's job
(``credex.node.home``), not this module's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import nacl.bindings as sodium
import nacl.exceptions

from credex.ledger.errors import SignatureError

__all__ = ["SigningKey", "compute_kid", "verify_ed25519"]

_PUBLIC_SIZE = 32
_SIG_SIZE = 64


def compute_kid(public_key: bytes) -> bytes:
    """The 32-byte key id of an Ed25519 public key."""
    return hashlib.sha256(public_key).digest()


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An Ed25519 private key held as its 32-byte seed."""

    seed: bytes = field(repr=False)
    public_key: bytes = field(init=False)
    kid: bytes = field(init=False, repr=False)
    _secret: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.seed) != 32:
            raise ValueError("keys: ed25519 seed must be 32 bytes")
        pk, sk = sodium.crypto_sign_seed_keypair(self.seed)
        object.__setattr__(self, "public_key", pk)
        object.__setattr__(self, "kid", compute_kid(pk))
        object.__setattr__(self, "_secret", sk)

    def sign(self, message: bytes) -> bytes:
        """A 64-byte detached Ed25519 signature."""
        return bytes(sodium.crypto_sign(message, self._secret)[:_SIG_SIZE])


def verify_ed25519(public_key: bytes, message: bytes, signature: bytes, *, what: str) -> None:
    """Check an Ed25519 signature.

    Raises:
        SignatureError: wrong key length, wrong signature length, or a bad signature.
    """
    if len(public_key) != _PUBLIC_SIZE:
        raise SignatureError(
            f"{what}: public key has wrong length: expected 32, got {len(public_key)}"
        )
    if len(signature) != _SIG_SIZE:
        raise SignatureError(
            f"{what}: signature has wrong length: expected 64, got {len(signature)}"
        )
    try:
        sodium.crypto_sign_open(signature + message, public_key)
    except nacl.exceptions.BadSignatureError as e:
        raise SignatureError(f"{what}: signature does not verify") from e
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as e:
        raise SignatureError(f"{what}: signature does not verify") from e
