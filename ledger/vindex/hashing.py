"""Node hashing and key bits of the verifiable index (torchwood ``mpt`` layout).

The index is a binary Merkle Patricia tree: a path-compressed binary trie over keys, where
an inner node stores only the bit position at which its two subtrees first differ. Hashes
are exactly those of FiloSottile/torchwood ``mpt`` (its ``tree.go`` doc comment), so that
torchwood's published test vectors check this code:

- empty tree: ``SHA-256("")``
- leaf: ``SHA-256(0x00 || uvarint(len(key)) || key || uvarint(len(value)) || value)``
- inner node splitting at bit ``b``: ``SHA-256(0x01 || uvarint(b) || left || right)``

Bits are numbered from the most significant bit of the first key byte (bit 0). A key is read
as if followed by one 0x00 byte and then 0xFF bytes forever, so that keys of different
lengths never share all their bits (torchwood's padding rule); credex keys are all 32 bytes,
where the padding never matters, but the rule is kept so variable-length vectors verify.

This module also walks a proof path up to a root (``climb``), the one loop every proof
verifier here shares. It does not store nodes, build trees, or decode proofs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Final

from credex.ledger.errors import IndexProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "INNER_PREFIX",
    "KEY_BITS",
    "KEY_SIZE",
    "LEAF_PREFIX",
    "MAX_KEY_SIZE",
    "MAX_VALUE_SIZE",
    "VALUE_LEN",
    "VALUE_SIZE",
    "bit_at",
    "climb",
    "has_prefix",
    "inner_hash",
    "key_compare",
    "key_overlap",
    "leaf_hash",
    "uvarint",
]

#: credex keys and values: SHA-256 outputs
KEY_SIZE: Final = 32
VALUE_SIZE: Final = 32
HASH_SIZE: Final = 32
KEY_BITS: Final = 8 * KEY_SIZE
#: torchwood's bounds for its general (variable-length) keys and values
MAX_KEY_SIZE: Final = 1024
MAX_VALUE_SIZE: Final = 1024
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def uvarint(n: int) -> bytes:
    """Unsigned LEB128 varint (protobuf / Go ``binary.PutUvarint``), shortest form."""
    if n < 0:
        raise ValueError("uvarint: negative")
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


#: ``0x01 || uvarint(b)`` for every bit a 32-byte-key tree can split at
INNER_PREFIX: Final = tuple(b"\x01" + uvarint(b) for b in range(KEY_BITS))
#: ``0x00 || uvarint(32)``: the head of a credex leaf hash input
LEAF_PREFIX: Final = b"\x00" + uvarint(KEY_SIZE)
#: ``uvarint(32)``: the length of a credex value
VALUE_LEN: Final = uvarint(VALUE_SIZE)


def leaf_hash(key: bytes, value: bytes) -> bytes:
    """SHA-256(0x00 || uvarint(len(key)) || key || uvarint(len(value)) || value)."""
    if len(key) == KEY_SIZE and len(value) == VALUE_SIZE:
        return _sha256(LEAF_PREFIX + key + VALUE_LEN + value).digest()
    return _sha256(b"\x00" + uvarint(len(key)) + key + uvarint(len(value)) + value).digest()


def inner_hash(bit: int, left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || uvarint(bit) || left || right)."""
    head = INNER_PREFIX[bit] if bit < KEY_BITS else b"\x01" + uvarint(bit)
    return _sha256(head + left + right).digest()


def bit_at(key: bytes, n: int) -> int:
    """Bit ``n`` of ``key`` read with the padding rule (0x00, then 0xFF forever)."""
    i = n >> 3
    if i < len(key):
        return (key[i] >> (7 - (n & 7))) & 1
    return 0 if i == len(key) else 1


def _padded(key: bytes, size: int) -> int:
    """``key`` padded (0x00 then 0xFF) to ``size`` bytes, as a big-endian integer."""
    return int.from_bytes(key + b"\x00" + b"\xff" * (size - len(key) - 1))


def key_overlap(a: bytes, b: bytes) -> int:
    """Number of leading (padded) bits ``a`` and ``b`` share; they must differ."""
    if len(a) == len(b):
        x = int.from_bytes(a) ^ int.from_bytes(b)
        if not x:
            raise ValueError("key_overlap: equal keys")
        return 8 * len(a) - x.bit_length()
    size = max(len(a), len(b)) + 1
    return 8 * size - (_padded(a, size) ^ _padded(b, size)).bit_length()


def key_compare(a: bytes, b: bytes) -> int:
    """-1, 0 or 1: the order of ``a`` and ``b`` in a tree (bytewise for equal lengths)."""
    if len(a) != len(b):
        size = max(len(a), len(b)) + 1
        pa, pb = _padded(a, size), _padded(b, size)
        return (pa > pb) - (pa < pb)
    return (a > b) - (a < b)


def has_prefix(key: bytes, prefix: bytes) -> bool:
    """Whether the padded ``key`` starts with ``prefix`` (torchwood ``Key.HasPrefix``)."""
    if key.startswith(prefix):
        return True
    n = len(key)
    return (
        len(prefix) > n
        and prefix.startswith(key)
        and prefix[n] == 0
        and prefix[n + 1 :] == b"\xff" * (len(prefix) - n - 1)
    )


def climb(
    start: bytes,
    key: bytes,
    leaf_key: bytes,
    path: Sequence[tuple[int, bytes]],
    *,
    below: int,
) -> bytes:
    """The root reached from the node hash ``start`` by the ``(bit, sibling)`` steps of
    ``path``, listed from the node up to the root.

    The bits of ``key`` (the key looked up) choose the side of each sibling, and must equal
    the bits of ``leaf_key`` (the key of the leaf the path really starts from) at every step:
    a lookup for ``key`` would have followed the same path. Bits must strictly decrease and
    stay below ``below``.

    Raises:
        IndexProofError: bits out of order or out of range, or ``key`` off the path.
    """
    h = start
    limit = below
    if len(key) == len(leaf_key) == KEY_SIZE and below <= KEY_BITS:
        # credex's 32-byte keys: bits as integer shifts, hashing inlined
        k, lk = int.from_bytes(key), int.from_bytes(leaf_key)
        for bit, sibling in path:
            if not 0 <= bit < limit:
                raise IndexProofError(
                    f"index: proof path bit out of order: expected < {limit}, got {bit}"
                )
            limit = bit
            side = (k >> (KEY_BITS - 1 - bit)) & 1
            if side != (lk >> (KEY_BITS - 1 - bit)) & 1:
                raise _off_path(key, leaf_key, bit, side)
            if side:
                h = _sha256(INNER_PREFIX[bit] + sibling + h).digest()
            else:
                h = _sha256(INNER_PREFIX[bit] + h + sibling).digest()
        return h
    for bit, sibling in path:
        if not 0 <= bit < limit:
            raise IndexProofError(
                f"index: proof path bit out of order: expected < {limit}, got {bit}"
            )
        limit = bit
        side = bit_at(key, bit)
        if side != bit_at(leaf_key, bit):
            raise _off_path(key, leaf_key, bit, side)
        h = inner_hash(bit, sibling, h) if side else inner_hash(bit, h, sibling)
    return h


def _off_path(key: bytes, leaf_key: bytes, bit: int, side: int) -> IndexProofError:
    return IndexProofError(
        f"index: leaf {leaf_key.hex()} is off the lookup path of key {key.hex()}"
        f" at bit {bit}: expected bit {side}, got {1 - side}"
    )
