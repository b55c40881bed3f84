"""Fast readers for the byte layouts credex itself writes, by slicing.

A log writes every receipt, inclusion proof and bundle in one exact deterministic layout
(fixed bytes around strings and integers in their shortest heads). These readers accept
only that layout and return ``None`` for anything else, so the caller's general path
(``encoding.decode`` and its checks) reads, or refuses, every other input: a reader here
never refuses and never accepts what the general path would not (tests compare the two on
seeds and mutations). Pure; no I/O.
"""

from __future__ import annotations

from typing import Final

__all__ = ["bundle", "inclusion_proof", "receipt", "statement"]

#: the smallest value each head size may carry (shorter heads exist below it)
_MIN: Final = (24, 0x100, 0x10000, 0x100000000)
#: after a receipt's protected header: {396: {-1: [ (one inclusion proof bstr)
_RECEIPT_MID: Final = b"\xa1\x19\x01\x8c\xa1\x20\x81"
#: after the proof: payload nil, then a 64-byte signature's head
_RECEIPT_TAIL: Final = b"\xf6\x58\x40"
#: a statement's unprotected header with receipts: {394: [ (then the array's length)
_RECEIPTS_KEY: Final = b"\xa1\x19\x01\x8a"
#: {"v": 1, "statement": (bstr)
_BUNDLE_HEAD: Final = b"\xa3\x61v\x01\x69statement"
#: "checkpoint": (tstr)
_BUNDLE_CP: Final = b"\x6acheckpoint"


def _arg(data: bytes, pos: int, major: int) -> tuple[int, int] | None:
    """The argument of a shortest head of ``major`` at ``pos`` and the position after it."""
    if pos >= len(data):
        return None
    ib = data[pos]
    if ib >> 5 != major:
        return None
    ai = ib & 0x1F
    if ai < 24:
        return ai, pos + 1
    if ai > 27:
        return None
    size = 1 << (ai - 24)
    end = pos + 1 + size
    if end > len(data):
        return None
    value = int.from_bytes(data[pos + 1 : end], "big")
    if value < _MIN[ai - 24]:
        return None
    return value, end


def _string(data: bytes, pos: int, major: int) -> tuple[bytes, int] | None:
    """The string of ``major`` (2 bytes, 3 text) at ``pos``, undecoded, and the position
    after it."""
    n = len(data)
    if pos >= n:
        return None
    ib = data[pos]
    base = major << 5
    if base <= ib < base + 24:  # the common heads inline: length below 24, or one byte
        start = pos + 1
        end = start + ib - base
    elif ib == base + 24 and pos + 1 < n and data[pos + 1] >= 24:
        start = pos + 2
        end = start + data[pos + 1]
    else:
        head = _arg(data, pos, major)
        if head is None:
            return None
        length, start = head
        end = start + length
    if end > n:
        return None
    return data[start:end], end


def receipt(data: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(protected, inclusion proof bytes, signature) of
    ``18([protected, {396: {-1: [proof]}}, nil, signature(64)])``, or None."""
    if data[:2] != b"\xd2\x84":
        return None
    got = _string(data, 2, 2)
    if got is None:
        return None
    protected, pos = got
    if data[pos : pos + 7] != _RECEIPT_MID:
        return None
    got = _string(data, pos + 7, 2)
    if got is None:
        return None
    proof, pos = got
    if data[pos : pos + 3] != _RECEIPT_TAIL or len(data) != pos + 3 + 64:
        return None
    return protected, proof, data[pos + 3 :]


def inclusion_proof(data: bytes) -> tuple[int, int, tuple[bytes, ...]] | None:
    """(tree_size, leaf_index, path) of ``[uint, uint, [* bstr(32)]]``, or None."""
    if data[:1] != b"\x83":
        return None
    got = _arg(data, 1, 0)
    if got is None:
        return None
    size, pos = got
    got = _arg(data, pos, 0)
    if got is None:
        return None
    index, pos = got
    got = _arg(data, pos, 4)
    if got is None:
        return None
    count, pos = got
    if len(data) != pos + 34 * count:
        return None
    path = []
    for _ in range(count):
        if data[pos : pos + 2] != b"\x58\x20":
            return None
        path.append(data[pos + 2 : pos + 34])
        pos += 34
    return size, index, tuple(path)


def bundle(data: bytes) -> tuple[bytes, str] | None:
    """(statement, checkpoint) of ``{"v": 1, "statement": bstr, "checkpoint": tstr}``
    (a bundle without status, sources, policy or extensions), or None."""
    if not data.startswith(_BUNDLE_HEAD):
        return None
    got = _string(data, len(_BUNDLE_HEAD), 2)
    if got is None:
        return None
    statement, pos = got
    if data[pos : pos + 11] != _BUNDLE_CP:
        return None
    got = _string(data, pos + 11, 3)
    if got is None or got[1] != len(data):
        return None
    try:
        return statement, got[0].decode("utf-8")
    except UnicodeDecodeError:
        return None


def statement(data: bytes) -> tuple[bytes, tuple[bytes, ...], bytes, bytes, bytes] | None:
    """(protected, receipts, payload, signature, leaf) of
    ``18([protected, {} or {394: [* bstr]}, payload, signature(64)])``, or None; the leaf
    is the same bytes with the empty unprotected map."""
    if data[:2] != b"\xd2\x84":
        return None
    got = _string(data, 2, 2)
    if got is None:
        return None
    protected, pos = got
    after_protected = pos
    receipts: list[bytes] = []
    bare = data[pos : pos + 1] == b"\xa0"  # the empty unprotected map: data is the leaf
    if bare:
        pos += 1
    elif data[pos : pos + 4] == _RECEIPTS_KEY:
        head = _arg(data, pos + 4, 4)
        if head is None:
            return None
        count, pos = head
        for _ in range(count):
            got = _string(data, pos, 2)
            if got is None:
                return None
            receipts.append(got[0])
            pos = got[1]
    else:
        return None
    payload_at = pos
    got = _string(data, pos, 2)
    if got is None:
        return None
    payload, pos = got
    if data[pos : pos + 2] != b"\x58\x40" or len(data) != pos + 66:
        return None
    leaf = data if bare else data[:after_protected] + b"\xa0" + data[payload_at:]
    return protected, tuple(receipts), payload, data[pos + 2 :], leaf
