"""The whole-tree hash: an index root from its sorted ``(key, value)`` pairs, streaming.

An auditor who recomputes the map from the log can check a committed index root without
building a tree: ``compute_root`` reads the pairs once, in key order, keeping only a stack
of at most one pending subtree per level (torchwood ``mpt`` ``TreeHash``; the algorithm is
in its DESIGN.md, "Whole Tree Hash"). Each pending subtree is ``(key, bits, hash)``: a key
inside it, the number of leading key bits all its keys share, and its hash. Each new leaf
is pushed, then while the top three ``x, y, z`` satisfy ``overlap(x, y) > overlap(y, z)``
the two deeper ones ``x, y`` are merged into their parent; at the end the stack is merged
from the top down.

Keys are 32 bytes by default; ``key_size=None`` accepts torchwood's variable-length keys
(ordered by the padding rule in ``hashing``), which its test vectors use. This module does
not store anything; memory is O(tree height).
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import sha256

from credex.ledger.errors import IndexFormatError
from credex.ledger.vindex.hashing import (
    EMPTY_ROOT,
    INNER_PREFIX,
    KEY_BITS,
    KEY_SIZE,
    LEAF_PREFIX,
    MAX_KEY_SIZE,
    MAX_VALUE_SIZE,
    VALUE_LEN,
    VALUE_SIZE,
    inner_hash,
    key_compare,
    key_overlap,
    leaf_hash,
)

__all__ = ["compute_root"]

#: ``bits`` of a leaf: more than any two distinct keys can share
_LEAF_BITS = 1 << 30


def _bad(i: int, what: str, expected: str, x: object) -> IndexFormatError:
    got = f"{len(x)} bytes" if isinstance(x, bytes | bytearray) else type(x).__name__
    return IndexFormatError(
        f"index: tree hash input pair {i}: {what}: expected {expected}, got {got}"
    )


def compute_root(
    pairs: Iterable[tuple[bytes, bytes]],
    *,
    key_size: int | None = KEY_SIZE,
    value_size: int | None = VALUE_SIZE,
) -> bytes:
    """The root hash of the index holding exactly ``pairs``.

    Args:
        pairs: ``(key, value)`` in strictly increasing key order.
        key_size: the size of every key; ``None``: any size up to 1024 (torchwood).
        value_size: the size of every value; ``None``: any size up to 1024.

    Raises:
        IndexFormatError: a key or value of the wrong size, or keys not strictly increasing.
    """
    if key_size == KEY_SIZE and value_size == VALUE_SIZE:
        return _fixed(pairs)
    return _general(pairs, key_size, value_size)


def _fixed(pairs: Iterable[tuple[bytes, bytes]]) -> bytes:
    """32-byte keys and values: keys as integers, shared bits by XOR."""
    # stack entries: (key as int, shared bits, hash)
    stack: list[tuple[int, int, bytes]] = []
    push = stack.append
    last = -1
    for i, (key, value) in enumerate(pairs):
        if type(key) is not bytes or len(key) != KEY_SIZE:
            raise _bad(i, "key", f"{KEY_SIZE} bytes", key)
        if type(value) is not bytes or len(value) != VALUE_SIZE:
            raise _bad(i, "value", f"{VALUE_SIZE} bytes", value)
        k = int.from_bytes(key)
        if k <= last:
            raise IndexFormatError(
                f"index: tree hash input pair {i}: keys must strictly increase:"
                f" key {key.hex()} after {last.to_bytes(KEY_SIZE).hex()}"
            )
        last = k
        push((k, _LEAF_BITS, sha256(LEAF_PREFIX + key + VALUE_LEN + value).digest()))
        while len(stack) >= 3:
            xk, xb, xh = stack[-3]
            yk, yb, yh = stack[-2]
            zk, zb, _ = stack[-1]
            xy = min(xb, yb, KEY_BITS - (xk ^ yk).bit_length())
            if xy <= min(yb, zb, KEY_BITS - (yk ^ zk).bit_length()):
                break
            stack[-3:-1] = [(xk, xy, sha256(INNER_PREFIX[xy] + xh + yh).digest())]
    while len(stack) >= 2:
        yk, yb, yh = stack.pop()
        xk, xb, xh = stack.pop()
        xy = min(xb, yb, KEY_BITS - (xk ^ yk).bit_length())
        push((xk, xy, sha256(INNER_PREFIX[xy] + xh + yh).digest()))
    return stack[0][2] if stack else EMPTY_ROOT


def _general(
    pairs: Iterable[tuple[bytes, bytes]], key_size: int | None, value_size: int | None
) -> bytes:
    """Any key and value sizes (torchwood's general keys), by the padding rule."""
    max_key = MAX_KEY_SIZE if key_size is None else key_size
    max_value = MAX_VALUE_SIZE if value_size is None else value_size
    stack: list[tuple[bytes, int, bytes]] = []
    last: bytes | None = None

    def overlap(x: tuple[bytes, int, bytes], y: tuple[bytes, int, bytes]) -> int:
        shared = _LEAF_BITS if x[0] == y[0] else key_overlap(x[0], y[0])
        return min(x[1], y[1], shared)

    for i, (key, value) in enumerate(pairs):
        if type(key) is not bytes or not (
            len(key) <= max_key if key_size is None else len(key) == key_size
        ):
            raise _bad(i, "key", f"{'<= ' if key_size is None else ''}{max_key} bytes", key)
        if type(value) is not bytes or not (
            len(value) <= max_value if value_size is None else len(value) == value_size
        ):
            raise _bad(i, "value", f"{'<= ' if value_size is None else ''}{max_value} bytes", value)
        if last is not None and key_compare(last, key) >= 0:
            raise IndexFormatError(
                f"index: tree hash input pair {i}: keys must strictly increase:"
                f" key {key.hex()} after {last.hex()}"
            )
        last = key
        stack.append((key, _LEAF_BITS, leaf_hash(key, value)))
        while len(stack) >= 3 and overlap(stack[-3], stack[-2]) > overlap(stack[-2], stack[-1]):
            x, y = stack[-3], stack[-2]
            b = overlap(x, y)
            stack[-3:-1] = [(x[0], b, inner_hash(b, x[2], y[2]))]
    while len(stack) >= 2:
        y = stack.pop()
        x = stack.pop()
        b = overlap(x, y)
        stack.append((x[0], b, inner_hash(b, x[2], y[2])))
    return stack[0][2] if stack else EMPTY_ROOT
