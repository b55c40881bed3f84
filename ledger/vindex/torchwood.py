"""torchwood ``mpt`` binary proofs: export credex proofs, verify torchwood's.

torchwood (FiloSottile/torchwood ``mpt``) hashes its Merkle Patricia tree exactly as credex's
index does, and encodes a proof as bare bytes::

    step    = uvarint(bit) || sibling (32 bytes)         ; from the leaf up to the root
    present = *step                                       ; the key's own leaf is implied
    absent  = uvarint(len(k)) || k || uvarint(len(v)) || v || *step   ; the leaf reached
    prefix  = *step (subtree found) / absent-form (no key has the prefix)
    empty tree: the empty string

``to_torchwood`` turns a credex proof into these bytes, so a verifier built on torchwood can
check credex's index without credex code. ``verify_torchwood_lookup`` and
``verify_torchwood_prefix`` check torchwood's bytes with credex's algorithm, for any key and
value length up to 1024 bytes (torchwood's general keys; its test vectors use them). The
parser is strict where Go's ``binary.Uvarint`` is lenient: varints must be minimal.

This module does not produce proofs from a tree (``tree``) or use CBOR (``proof``).
"""

from __future__ import annotations

from typing import Final

from credex.ledger.errors import IndexFormatError, IndexProofError
from credex.ledger.vindex.hashing import (
    EMPTY_ROOT,
    HASH_SIZE,
    MAX_KEY_SIZE,
    MAX_VALUE_SIZE,
    climb,
    has_prefix,
    leaf_hash,
    uvarint,
)
from credex.ledger.vindex.proof import LookupProof, PrefixProof, Step

__all__ = [
    "MAX_TORCHWOOD_PROOF",
    "lookup_proof_from_torchwood",
    "prefix_proof_from_torchwood",
    "to_torchwood",
    "verify_torchwood_lookup",
    "verify_torchwood_prefix",
]

#: torchwood's largest key is 1024 bytes, so at most 8193 steps of at most 35 bytes
MAX_TORCHWOOD_PROOF: Final = 2 * 1024 + 16 + 8193 * 35
#: torchwood's ``maxKeyBits``: a split bit is always below it
_MAX_BITS: Final = 8 * MAX_KEY_SIZE + 1


def to_torchwood(proof: LookupProof | PrefixProof) -> bytes:
    """The torchwood ``mpt`` bytes of ``proof`` (``ProveLookup`` / ``ProvePrefix`` form)."""
    out = bytearray()
    if proof.leaf is not None:
        key, value = proof.leaf
        out += uvarint(len(key)) + key + uvarint(len(value)) + value
    for bit, sibling in proof.path:
        out += uvarint(bit) + sibling
    return bytes(out)


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def more(self) -> bool:
        return self.pos < len(self.data)

    def uvarint(self, what: str) -> int:
        n = shift = 0
        start = self.pos
        while True:
            if self.pos >= len(self.data):
                raise IndexFormatError(f"index: torchwood proof: {what}: truncated varint")
            b = self.data[self.pos]
            self.pos += 1
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                break
            shift += 7
            if shift >= 64:
                raise IndexFormatError(f"index: torchwood proof: {what}: varint over 64 bits")
        if self.pos - start > 1 and b == 0:
            raise IndexFormatError(f"index: torchwood proof: {what}: varint not minimal")
        return n

    def take(self, n: int, what: str) -> bytes:
        if len(self.data) - self.pos < n:
            raise IndexFormatError(
                f"index: torchwood proof: {what}: expected {n} bytes,"
                f" got {len(self.data) - self.pos}"
            )
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def leaf(self) -> tuple[bytes, bytes]:
        klen = self.uvarint("leaf key length")
        if klen > MAX_KEY_SIZE:
            raise IndexFormatError(
                f"index: torchwood proof: leaf key: expected <= {MAX_KEY_SIZE} bytes, got {klen}"
            )
        key = self.take(klen, "leaf key")
        vlen = self.uvarint("leaf value length")
        if vlen > MAX_VALUE_SIZE:
            raise IndexFormatError(
                f"index: torchwood proof: leaf value: expected <= {MAX_VALUE_SIZE} bytes,"
                f" got {vlen}"
            )
        return key, self.take(vlen, "leaf value")

    def steps(self) -> tuple[Step, ...]:
        out: list[Step] = []
        while self.more():
            bit = self.uvarint("path bit")
            if bit >= _MAX_BITS:
                raise IndexFormatError(
                    f"index: torchwood proof: path bit: expected < {_MAX_BITS}, got {bit}"
                )
            out.append((bit, self.take(HASH_SIZE, "path sibling")))
        return tuple(out)


def _reader(data: bytes) -> _Reader:
    if type(data) is not bytes or len(data) > MAX_TORCHWOOD_PROOF:
        raise IndexFormatError(f"index: torchwood proof: expected <= {MAX_TORCHWOOD_PROOF} bytes")
    return _Reader(data)


def lookup_proof_from_torchwood(key: bytes, value: bytes | None, data: bytes) -> LookupProof:
    """A credex ``LookupProof`` from torchwood bytes claiming ``key`` has ``value`` (or is
    absent); keys and values must be credex's 32 bytes. Not verified: see ``verify``.

    Raises:
        IndexFormatError: malformed bytes, or sizes other than credex's.
    """
    reader = _reader(data)
    leaf = reader.leaf() if value is None and reader.more() else None
    return LookupProof(key, value, leaf, reader.steps())


def prefix_proof_from_torchwood(prefix: bytes, subtree: bytes, data: bytes) -> PrefixProof:
    """A credex ``PrefixProof`` from torchwood bytes for ``prefix`` and the claimed
    ``subtree`` hash; keys and values must be credex's 32 bytes. Not verified.

    Raises:
        IndexFormatError: malformed bytes, or sizes other than credex's.
    """
    reader = _reader(data)
    leaf = reader.leaf() if subtree == EMPTY_ROOT and reader.more() else None
    return PrefixProof(prefix, subtree, leaf, reader.steps())


def _check_root(root: bytes, reached: bytes) -> None:
    if reached != root:
        raise IndexProofError(
            f"index: torchwood proof does not lead to the root: expected {root.hex()},"
            f" got {reached.hex()}"
        )


def verify_torchwood_lookup(root: bytes, key: bytes, value: bytes | None, data: bytes) -> None:
    """Check torchwood proof bytes that ``key`` has ``value`` (``None``: is absent) in the
    tree with root hash ``root``; keys and values of any length up to 1024 bytes.

    Raises:
        IndexFormatError: malformed bytes, or arguments of the wrong size.
        IndexProofError: the proof does not prove the claim.
    """
    if len(root) != HASH_SIZE or len(key) > MAX_KEY_SIZE:
        raise IndexFormatError("index: torchwood lookup: root must be 32 bytes, key <= 1024")
    reader = _reader(data)
    if value is not None:
        if len(value) > MAX_VALUE_SIZE:
            raise IndexFormatError(
                f"index: torchwood lookup: value: expected <= {MAX_VALUE_SIZE} bytes"
            )
        path = reader.steps()
        _check_root(root, climb(leaf_hash(key, value), key, key, path, below=_MAX_BITS))
        return
    if not reader.more():
        if root != EMPTY_ROOT:
            raise IndexProofError(
                f"index: torchwood absence proof is empty: expected the empty root,"
                f" got {root.hex()}"
            )
        return
    other, other_value = reader.leaf()
    if other == key:
        raise IndexProofError(
            f"index: torchwood absence proof of key {key.hex()}: expected a leaf of another"
            " key, got the key's own leaf"
        )
    path = reader.steps()
    _check_root(root, climb(leaf_hash(other, other_value), key, other, path, below=_MAX_BITS))


def verify_torchwood_prefix(root: bytes, prefix: bytes, subtree: bytes, data: bytes) -> None:
    """Check torchwood proof bytes that every key starting with ``prefix`` lies in the
    subtree with hash ``subtree`` (``EMPTY_ROOT``: none does).

    Raises:
        IndexFormatError: malformed bytes, or arguments of the wrong size.
        IndexProofError: the proof does not prove the claim.
    """
    if len(root) != HASH_SIZE or len(subtree) != HASH_SIZE or len(prefix) > MAX_KEY_SIZE:
        raise IndexFormatError("index: torchwood prefix: root and subtree must be 32 bytes")
    reader = _reader(data)
    if subtree != EMPTY_ROOT:
        path = reader.steps()
        _check_root(root, climb(subtree, prefix, prefix, path, below=8 * len(prefix)))
        return
    if not reader.more():
        if root != EMPTY_ROOT:
            raise IndexProofError(
                f"index: torchwood prefix absence proof is empty: expected the empty root,"
                f" got {root.hex()}"
            )
        return
    other, other_value = reader.leaf()
    if has_prefix(other, prefix):
        raise IndexProofError(
            f"index: torchwood prefix absence proof ends at key {other.hex()},"
            f" which has prefix {prefix.hex()}"
        )
    path = reader.steps()
    _check_root(root, climb(leaf_hash(other, other_value), prefix, other, path, below=_MAX_BITS))
