"""The strict reader of credex's deterministic CBOR subset, in one pass over the bytes.

What it accepts (RFC 8949 §4.2.1 core deterministic encoding, credex's data model):
unsigned and negative integers, byte and text strings, arrays, maps, tags 18 (COSE_Sign1)
and 98 (COSE_Sign), false, true and null; definite lengths only; every head in its
shortest form; map keys in the bytewise order of their encodings (checked while reading:
the raw bytes of a key ARE its deterministic encoding once its own heads are shortest),
no duplicates; at most ``MAX_CBOR_DEPTH`` levels and ``max_items`` data items. Values are
those cbor2 would decode (``list``, ``dict``, ``cbor2.CBORTag``; an array used as a map
key is a ``tuple``), so callers see no difference.

It replaces the former pre-scan + cbor2 decode + re-encode (three passes, the re-encoding
the dearest) and refuses exactly what that did, with the same error types; a differential
test (tests/unit/ledger/test_cbor_reader_differential.py) keeps the two in step. Which
error a bad input gets follows the old order, so the reason does not depend on where in
the bytes the faults sit:

1. malformed structure, a tag, float or simple value credex never uses, indefinite
   lengths, too deep, too many items (``CborError``; indefinite lengths
   ``NonDeterministicCborError``): the first one met, in reading order;
2. text that is not UTF-8 (``CborError``);
3. trailing bytes after the item (``CborError``);
4. items credex cannot re-encode: a map as a map key, a simple value in a two-byte head
   (``CborError``);
5. not the deterministic encoding: a head longer than needed, map keys out of order or
   repeated (``NonDeterministicCborError``).

Faults of classes 2, 4 and 5 are remembered and reading goes on, so a class 1 fault later
in the bytes still wins. Pure; no I/O.
"""

from __future__ import annotations

from typing import Any, Final

from cbor2 import CBORTag

from credex.ledger.errors import CborError, NonDeterministicCborError

__all__ = ["ALLOWED_TAGS", "MAX_CBOR_DEPTH", "read"]

MAX_CBOR_DEPTH: Final = 16
#: the only tags credex formats use: COSE_Sign1 (18) and COSE_Sign (98)
ALLOWED_TAGS: Final = frozenset({18, 98})
#: major type 7 values credex uses: false, true, null
_SIMPLE: Final = {20: False, 21: True, 22: None}
#: the smallest argument each head size may carry (anything less has a shorter head)
_SHORTEST: Final = {24: 24, 25: 0x100, 26: 0x10000, 27: 0x100000000}


class _Reader:
    """One ``read``: the bytes, the first deferred fault of each class, the item budget."""

    __slots__ = (
        "bad_text",
        "count",
        "counting",
        "data",
        "max_items",
        "n",
        "nondet",
        "unsup",
        "what",
    )

    def __init__(self, data: bytes, what: str, max_items: int) -> None:
        self.data = data
        self.n = len(data)
        self.what = what
        self.max_items = max_items
        # every item takes at least one byte: short input cannot exceed the budget
        self.counting = self.n > max_items
        self.count = 0
        self.bad_text: str | None = None
        self.unsup: str | None = None
        self.nondet: str | None = None

    def fail(self, msg: str) -> CborError:
        return CborError(f"{self.what}: {msg}")

    def item(self, pos: int, depth: int, key: bool) -> tuple[Any, int]:
        """The item at ``pos`` (``key``: it is a map key, so arrays become tuples) and
        the position after it."""
        data = self.data
        n = self.n
        if pos >= n:
            raise self.fail("malformed or truncated cbor: ends inside an item")
        if self.counting:
            self.count += 1
            if self.count > self.max_items:
                raise self.fail(f"too many cbor items: expected <= {self.max_items}")
        ib = data[pos]
        pos += 1
        major = ib >> 5
        ai = ib & 0x1F
        if ai < 24:
            arg = ai
        elif ai <= 27:
            size = 1 << (ai - 24)
            if pos + size > n:
                raise self.fail("malformed or truncated cbor: ends inside a head")
            arg = int.from_bytes(data[pos : pos + size], "big")
            pos += size
            if major != 7 and arg < _SHORTEST[ai] and self.nondet is None:
                self.nondet = "a head longer than needed"
        elif ai == 31 and major == 7:
            raise self.fail("malformed cbor: stray break marker (0xff)")
        elif ai == 31 and 2 <= major <= 5:
            raise NonDeterministicCborError(
                f"{self.what}: not deterministic cbor (RFC 8949 §4.2.1): indefinite length"
            )
        else:
            raise self.fail(f"malformed cbor: reserved head 0x{ib:02x}")
        if major == 0:
            return arg, pos
        if major == 1:
            return -1 - arg, pos
        if major == 2 or major == 3:
            if arg > n - pos:
                raise self.fail("malformed or truncated cbor: string past the end")
            end = pos + arg
            raw = data[pos:end]
            if major == 2:
                return raw, end
            try:
                return raw.decode("utf-8"), end
            except UnicodeDecodeError:
                if self.bad_text is None:
                    self.bad_text = "malformed cbor: text string is not valid UTF-8"
                return object(), end  # never returned: the fault is raised at the end
        if major == 7:
            if ai >= 25:
                raise self.fail("unsupported cbor item: floats are not allowed")
            if arg not in _SIMPLE:
                raise self.fail(f"unsupported cbor item: simple value {arg}")
            if ai == 24 and self.unsup is None:  # 0xf8 0x14: ill-formed for values < 32
                self.unsup = f"unsupported cbor item: simple value {arg} in a two-byte head"
            return _SIMPLE[arg], pos
        if major == 6:
            if arg == 2 or arg == 3:
                raise self.fail(
                    f"unsupported cbor item: tag {arg} (bignum): integer outside the "
                    "64-bit range of CBOR major types 0/1"
                )
            if arg not in ALLOWED_TAGS:
                raise self.fail(
                    f"unsupported cbor item: tag {arg}: expected one of "
                    f"{sorted(ALLOWED_TAGS)} (no value sharing, no string references)"
                )
            if depth >= MAX_CBOR_DEPTH:
                raise self.fail(f"nesting too deep: expected <= {MAX_CBOR_DEPTH} levels")
            value, pos = self.item(pos, depth + 1, key)
            return CBORTag(arg, value), pos
        if major == 4:
            if arg == 0:
                return (() if key else []), pos
            if arg > n - pos:
                raise self.fail("malformed or truncated cbor: container past the end")
            if depth >= MAX_CBOR_DEPTH:
                raise self.fail(f"nesting too deep: expected <= {MAX_CBOR_DEPTH} levels")
            out: list[Any] = []
            item = self.item
            depth += 1
            fast = not self.counting
            for _ in range(arg):
                # inline: a small uint or a short string (the common leaves); anything
                # else, or any doubt, goes through ``item``
                if fast and pos < n:
                    ib = data[pos]
                    if ib < 0x18:
                        out.append(ib)
                        pos += 1
                        continue
                    if 0x40 <= ib < 0x58 and pos + ib - 0x3F <= n:
                        out.append(data[pos + 1 : pos + ib - 0x3F])
                        pos += ib - 0x3F
                        continue
                v, pos = item(pos, depth, key)
                out.append(v)
            return (tuple(out) if key else out), pos
        # major 5: a map
        if arg == 0:
            if key and self.unsup is None:
                self.unsup = "unsupported cbor item: a map as a map key"
            return ({} if not key else object()), pos
        if 2 * arg > n - pos:
            raise self.fail("malformed or truncated cbor: container past the end")
        if depth >= MAX_CBOR_DEPTH:
            raise self.fail(f"nesting too deep: expected <= {MAX_CBOR_DEPTH} levels")
        if key and self.unsup is None:
            self.unsup = "unsupported cbor item: a map as a map key"
        result: dict[Any, Any] = {}
        item = self.item
        depth += 1
        prev = b""
        fast = not self.counting
        for i in range(arg):
            start = pos
            k: Any = None
            if fast and pos < n:  # inline: a short text key or a small uint key
                ib = data[pos]
                if 0x60 <= ib < 0x78 and pos + ib - 0x5F <= n:
                    try:
                        k = data[pos + 1 : pos + ib - 0x5F].decode("utf-8")
                        pos += ib - 0x5F
                    except UnicodeDecodeError:
                        k = None
                elif ib < 0x18:
                    k = ib
                    pos += 1
            if k is None:
                k, pos = item(pos, depth, True)
            kb = data[start:pos]
            if kb <= prev and self.nondet is None:
                self.nondet = "map keys not in bytewise order" if kb < prev else "duplicate map key"
            prev = kb
            if fast and pos < n:  # inline: a uint or a short text value
                ib = data[pos]
                if ib < 0x18:
                    result[k] = ib
                    pos += 1
                    if len(result) != i + 1 and self.nondet is None:
                        self.nondet = "duplicate map key"
                    continue
                if ib <= 0x1B:
                    end = pos + 1 + (1 << (ib - 0x18))
                    if end <= n:
                        v = int.from_bytes(data[pos + 1 : end], "big")
                        if v < _SHORTEST[ib] and self.nondet is None:
                            self.nondet = "a head longer than needed"
                        result[k] = v
                        pos = end
                        if len(result) != i + 1 and self.nondet is None:
                            self.nondet = "duplicate map key"
                        continue
                if 0x60 <= ib < 0x78 and pos + ib - 0x5F <= n:
                    try:
                        result[k] = data[pos + 1 : pos + ib - 0x5F].decode("utf-8")
                        pos += ib - 0x5F
                        if len(result) != i + 1 and self.nondet is None:
                            self.nondet = "duplicate map key"
                        continue
                    except UnicodeDecodeError:
                        pass
            v, pos = item(pos, depth, False)
            result[k] = v
            if len(result) != i + 1 and self.nondet is None:  # 1 and true, 0 and false
                self.nondet = "duplicate map key"
        return (object() if key else result), pos


def read(data: bytes, what: str, max_items: int) -> Any:
    """The one deterministic CBOR item that fills ``data`` exactly (``data`` non-empty).

    Raises:
        CborError: see the module docstring, classes 1-4.
        NonDeterministicCborError: an indefinite length (class 1) or class 5.
    """
    r = _Reader(data, what, max_items)
    value, pos = r.item(0, 0, False)
    if r.bad_text is not None:
        raise r.fail(r.bad_text)
    if pos != r.n:
        raise r.fail(f"trailing bytes after cbor item: {r.n - pos} bytes")
    if r.unsup is not None:
        raise r.fail(r.unsup)
    if r.nondet is not None:
        raise NonDeterministicCborError(
            f"{what}: not deterministic cbor (RFC 8949 §4.2.1): re-encoding differs ({r.nondet})"
        )
    return value
