"""The strict CBOR decoder credex used until issue 13 (pre-scan, cbor2, re-encode), kept
only as the reference the differential test compares ``encoding.decode`` with."""

from __future__ import annotations

import io
from typing import Any, Final

import cbor2

from credex.ledger.encoding import ALLOWED_TAGS, MAX_CBOR_DEPTH, MAX_CBOR_ITEMS, encode
from credex.ledger.errors import CborError, NonDeterministicCborError, OversizeError

__all__ = ["reference_decode"]

_SIMPLE_OK: Final = frozenset({20, 21, 22})


def _prescan(data: bytes, what: str, max_items: int) -> None:
    """Walk the raw item's heads (string contents are skipped, nothing is built) and
    refuse what credex never uses; O(items), bounded by ``max_items``.

    Raises:
        CborError: truncated, indefinite length, reserved head, a tag not in
            ``ALLOWED_TAGS``, a float or simple value, too deep, too many items.
    """
    n = len(data)
    pos = 0
    items = 0
    remaining = 1  # items still to read in the innermost open container
    stack: list[int] = []  # the enclosing containers' remaining counts
    while True:
        if remaining == 0:
            if not stack:
                return  # trailing bytes are reported by the decoder
            remaining = stack.pop()
            continue
        if pos >= n:
            raise CborError(f"{what}: malformed or truncated cbor: ends inside an item")
        ib = data[pos]
        pos += 1
        remaining -= 1
        items += 1
        if items > max_items:
            raise CborError(f"{what}: too many cbor items: expected <= {max_items}")
        major, ai = ib >> 5, ib & 0x1F
        if ai < 24:
            arg = ai
        elif ai <= 27:
            size = 1 << (ai - 24)
            if pos + size > n:
                raise CborError(f"{what}: malformed or truncated cbor: ends inside a head")
            arg = int.from_bytes(data[pos : pos + size], "big")
            pos += size
        elif ai == 31 and major == 7:
            raise CborError(f"{what}: malformed cbor: stray break marker (0xff)")
        elif ai == 31 and major in (2, 3, 4, 5):
            raise NonDeterministicCborError(
                f"{what}: not deterministic cbor (RFC 8949 §4.2.1): indefinite length"
            )
        else:
            raise CborError(f"{what}: malformed cbor: reserved head 0x{ib:02x}")
        if major <= 1:
            continue
        if major <= 3:  # byte / text string: skip the contents
            if arg > n - pos:
                raise CborError(f"{what}: malformed or truncated cbor: string past the end")
            pos += arg
            continue
        if major == 7:
            if ai >= 25:
                raise CborError(f"{what}: unsupported cbor item: floats are not allowed")
            if arg not in _SIMPLE_OK:
                raise CborError(f"{what}: unsupported cbor item: simple value {arg}")
            continue
        if major == 6:
            if arg in (2, 3):
                raise CborError(
                    f"{what}: unsupported cbor item: tag {arg} (bignum): integer outside the "
                    "64-bit range of CBOR major types 0/1"
                )
            if arg not in ALLOWED_TAGS:
                raise CborError(
                    f"{what}: unsupported cbor item: tag {arg}: expected one of "
                    f"{sorted(ALLOWED_TAGS)} (no value sharing, no string references)"
                )
            count = 1
        else:  # array or map
            count = arg if major == 4 else 2 * arg
            if count == 0:
                continue
            if count > n - pos:  # every item takes at least one byte
                raise CborError(f"{what}: malformed or truncated cbor: container past the end")
        if len(stack) >= MAX_CBOR_DEPTH:
            raise CborError(f"{what}: nesting too deep: expected <= {MAX_CBOR_DEPTH} levels")
        stack.append(remaining)
        remaining = count


def reference_decode(
    data: bytes,
    *,
    what: str = "cbor",
    max_size: int | None = None,
    max_items: int = MAX_CBOR_ITEMS,
) -> Any:
    """Decode one deterministic CBOR item that fills ``data`` exactly.

    Raises:
        OversizeError: ``data`` is longer than ``max_size``.
        CborError: not well-formed CBOR, truncated, or followed by trailing bytes; a tag,
            float or simple value credex does not use; deeper than ``MAX_CBOR_DEPTH`` or
            more than ``max_items`` items (all refused before anything is decoded).
        NonDeterministicCborError: well-formed but not the deterministic encoding.
    """
    if max_size is not None and len(data) > max_size:
        raise OversizeError(f"{what}: too large: expected <= {max_size} bytes, got {len(data)}")
    if not data:
        raise CborError(f"{what}: empty input")
    if type(data) is not bytes:
        data = bytes(data)
    _prescan(data, what, max_items)
    try:
        value = cbor2.loads(data)
        if encode(value) == data:  # the common case: one deterministic item, nothing after
            return value
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError, OverflowError, CborError):
        pass
    # slow path: say precisely what is wrong
    fp = io.BytesIO(data)
    try:
        value = cbor2.CBORDecoder(fp).decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, RecursionError, OverflowError) as e:
        raise CborError(f"{what}: malformed or truncated cbor: {type(e).__name__}") from e
    if fp.tell() != len(data):
        raise CborError(f"{what}: trailing bytes after cbor item: {len(data) - fp.tell()} bytes")
    try:
        again = encode(value)
    except CborError as e:  # a value cbor2 decodes but credex never encodes: a stray
        # break marker, undefined, simple values, floats
        raise CborError(f"{what}: unsupported cbor item: {str(e).removeprefix('cbor: ')}") from e
    if again != data:
        raise NonDeterministicCborError(
            f"{what}: not deterministic cbor (RFC 8949 §4.2.1): re-encoding differs"
        )
    return value
