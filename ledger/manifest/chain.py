"""The manifest chain: versions 1..n, each naming the one before, checked as TUF's root.

``verify_manifest_chain`` accepts version n+1 only with ``admin_threshold`` signatures of
version n's admins *and* of its own, and returns the chain as a ``Manifest`` (trust
material). ``encode_chain`` / ``decode_chain`` are the export file. Pure: the caller
passes the pin or the root admins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import cbor2

from credex.ledger import encoding
from credex.ledger.errors import (
    PolicyError,
    VerificationError,
)
from credex.ledger.manifest._fields import (
    array,
    exact_map,
    fail,
)
from credex.ledger.manifest.signing import SignedManifest
from credex.ledger.manifest.trust import Manifest

__all__ = [
    "CHAIN_FORMAT",
    "MAX_CHAIN_BYTES",
    "decode_chain",
    "encode_chain",
    "verify_manifest_chain",
]

CHAIN_FORMAT: Final = "credex-manifest-chain/1"
MAX_CHAIN_BYTES: Final = 64 * 1024 * 1024


def encode_chain(versions: Sequence[SignedManifest]) -> bytes:
    """The export file: ``{"format": "credex-manifest-chain/1", "versions": [+ bstr]}``."""
    return encoding.encode({"format": CHAIN_FORMAT, "versions": [v.to_bytes() for v in versions]})


def decode_chain(data: bytes) -> list[SignedManifest]:
    """Parse an export file, or a single manifest version (a chain of one).

    Raises:
        FormatError: not a chain file or a manifest version.
    """
    v = encoding.decode(data, what="manifest chain", max_size=MAX_CHAIN_BYTES)
    if isinstance(v, cbor2.CBORTag):
        return [SignedManifest.from_bytes(data)]
    m = exact_map(v, ("format", "versions"), "chain file")
    if m["format"] != CHAIN_FORMAT:
        raise fail(f"chain file format: expected {CHAIN_FORMAT!r}, got {m['format']!r}")
    items = array(m["versions"], "chain versions")
    if not items or not all(isinstance(x, bytes) for x in items):
        raise fail("chain versions must be one or more bstr")
    return [SignedManifest.from_bytes(x) for x in items]


def _require(signed: SignedManifest, admins: Sequence[bytes], threshold: int, whose: str) -> None:
    n = len(signed.valid_signers(admins))
    if n < threshold:
        raise PolicyError(
            f"manifest: not enough admin signatures: expected {threshold} of {whose}, got {n}"
        )


def verify_manifest_chain(
    versions: Sequence[SignedManifest],
    *,
    pinned_hash: bytes | None = None,
    root_admins: Sequence[bytes] | None = None,
    root_threshold: int = 1,
) -> Manifest:
    """Check a chain of versions 1..n and return it as trust material.

    Version 1 is the trust root: its hash must equal ``pinned_hash`` if given, and it
    must carry ``root_threshold`` signatures of ``root_admins`` if given. With neither,
    the caller trusts the file it was handed (as with a ``credex-trust/1`` file). Every
    version must carry ``admin_threshold`` valid signatures of its own admins; version
    n+1 must also name version n's hash, keep its federation name and carry
    ``admin_threshold`` valid signatures of version n's admins. Signatures by admins
    are checked before the body they sign is parsed.

    Raises:
        FormatError / CoseError: a malformed version.
        SignatureError: an admin signature that does not verify (tampered bytes).
        PolicyError: too few admin signatures.
        VerificationError: empty chain, wrong first hash, version numbers or prev hashes
            that do not chain, a changed federation name or a clock going backwards.
    """
    if not versions:
        raise VerificationError("manifest: the chain is empty")
    first = versions[0]
    if pinned_hash is not None and first.hash != pinned_hash:
        raise VerificationError(
            f"manifest: version 1 is not the pinned one: expected {pinned_hash.hex()}, "
            f"got {first.hash.hex()}"
        )
    if root_admins is not None:
        _require(first, root_admins, root_threshold, "the root admins")
    prev = first.body
    if prev.version != 1:
        raise VerificationError(f"manifest: the chain must start at version 1, got {prev.version}")
    _require(first, prev.admins, prev.admin_threshold, "version 1's admins")
    bodies = [prev]
    for signed in versions[1:]:
        n = prev.version + 1
        try:
            _require(signed, prev.admins, prev.admin_threshold, f"version {prev.version}'s admins")
        except PolicyError as e:
            raise PolicyError(f"{e} (version {n})") from e
        body = signed.body
        if body.version != n:
            raise VerificationError(
                f"manifest: versions do not follow: expected {n}, got {body.version}"
            )
        if body.prev != prev.hash:
            got = body.prev.hex() if body.prev else "null"
            raise VerificationError(
                f"manifest: version {n} does not chain: prev expected {prev.hash.hex()}, got {got}"
            )
        if body.federation != prev.federation:
            raise VerificationError(
                f"manifest: version {n} renames the federation: expected "
                f"{prev.federation!r}, got {body.federation!r}"
            )
        if body.issued_at < prev.issued_at:
            raise VerificationError(f"manifest: version {n} is issued before version {n - 1}")
        _require(signed, body.admins, body.admin_threshold, f"version {n}'s own admins")
        bodies.append(body)
        prev = body
    return Manifest(tuple(versions), tuple(bodies))
