"""Deterministic CBOR (RFC 8949 §4.2.1 core deterministic encoding).

Everything credex signs or hashes is encoded here: definite lengths, shortest integer
heads (cbor2 does both) and map keys sorted by the bytewise order of their own
deterministic encodings (done here: cbor2's ``canonical=True`` is the older RFC 7049
length-first order, which differs for mixed key types). Floats are refused: credex
values are integers, text and bytes only, so there is no float canonicalisation to get
wrong.

``decode`` is the strict reader. Before cbor2 sees a byte, a scan of the raw item
(``_prescan``) refuses what no credex format uses: every tag but 18 (COSE_Sign1) and 98
(COSE_Sign), so never value sharing (tags 28/29) or string references (25/256), which
cbor2 would resolve into a graph whose re-encoding grows exponentially; indefinite
lengths; floats, undefined and simple values; more than ``MAX_CBOR_DEPTH`` levels; more
than ``MAX_CBOR_ITEMS`` data items. cbor2 has no switch to turn its semantic tags off
(``tag_hook`` is called only for tags it does not know), hence the scan. Then decoding
refuses bytes that are not exactly the deterministic encoding of what they decode to
(unsorted or duplicate keys, non-shortest heads), trailing bytes, and input above a size
limit.

This module does not know what the values mean; see ``record`` and ``statement``.
"""

from __future__ import annotations

import io
import re
import threading
from typing import Any, Final

import cbor2

from credex.ledger.errors import CborError, FormatError, NonDeterministicCborError, OversizeError

__all__ = ["ALLOWED_TAGS", "MAX_CBOR_DEPTH", "MAX_CBOR_ITEMS", "decode", "encode", "hex32"]

MAX_CBOR_DEPTH: Final = 16
#: data items (every scalar, container, tag and map key) one ``decode`` accepts
MAX_CBOR_ITEMS: Final = 65536
#: the only tags credex formats use: COSE_Sign1 (18) and COSE_Sign (98)
ALLOWED_TAGS: Final = frozenset({18, 98})
#: major type 7 values credex uses: false, true, null
_SIMPLE_OK: Final = frozenset({20, 21, 22})
_HEX_RE: Final = re.compile(r"[0-9a-f]{64}", re.ASCII | re.IGNORECASE)
_INT_MIN: Final = -(2**64)
_INT_MAX: Final = 2**64 - 1
#: one reusable encoder per thread: creating a cbor2 encoder costs more than encoding
#: the small maps credex uses
_LOCAL: Final = threading.local()


def _scan(value: Any, depth: int) -> bool:
    """Refuse what credex never encodes; True if some map mixes key types.

    cbor2's C encoder (``canonical=True``) sorts map keys length-first (RFC 7049). That is
    the RFC 8949 bytewise order whenever a map's keys share one CBOR major type, which is
    every map credex defines; only maps mixing key types take the exact (slower) path.
    Scalars are checked inline (this runs on every encode and every strict decode).
    """
    if depth > MAX_CBOR_DEPTH:
        raise CborError(f"cbor: nesting too deep: expected <= {MAX_CBOR_DEPTH} levels")
    t = type(value)
    if t is dict:
        mixed = False
        if value:
            key_types = {type(k) for k in value}
            if key_types == {str} or key_types == {bytes}:
                pass
            elif key_types == {int}:
                mixed = min(value) < 0 <= max(value)
            else:
                mixed = True
                for k in value:
                    _scan(k, depth + 1)
        items: Any = value.values()
    elif t is list or t is tuple:
        mixed = False
        items = value
    elif t is cbor2.CBORTag:
        return _scan(value.value, depth + 1)
    elif t is int:
        if not _INT_MIN <= value <= _INT_MAX:
            raise CborError("cbor: integer outside the 64-bit range of CBOR major types 0/1")
        return False
    elif t is str or t is bytes or t is bool or value is None:
        return False
    elif t is float:
        raise CborError("cbor: floats are not allowed in credex values")
    else:
        raise CborError(f"cbor: cannot encode type {t.__name__}")
    if depth >= MAX_CBOR_DEPTH and len(items):
        raise CborError(f"cbor: nesting too deep: expected <= {MAX_CBOR_DEPTH} levels")
    for v in items:
        tv = type(v)
        if tv is int:
            if not _INT_MIN <= v <= _INT_MAX:
                raise CborError("cbor: integer outside the 64-bit range of CBOR major types 0/1")
            continue
        if tv is str or tv is bytes or tv is bool or v is None:
            continue
        if _scan(v, depth + 1):
            mixed = True
    return mixed


def _exact(value: Any) -> Any:
    """Maps rebuilt in RFC 8949 bytewise key order (insertion order is kept by cbor2)."""
    t = type(value)
    if t is list or t is tuple:
        return [_exact(v) for v in value]
    if t is dict:
        items = sorted((cbor2.dumps(_exact(k), canonical=True), k, v) for k, v in value.items())
        return {k: _exact(v) for _, k, v in items}
    if t is cbor2.CBORTag:
        return cbor2.CBORTag(value.tag, _exact(value.value))
    return value


def encode(value: Any) -> bytes:
    """The deterministic encoding of ``value`` (ints, text, bytes, lists, maps, tags).

    Raises:
        CborError: floats, unsupported types, invalid unicode, nesting over the limit.
    """
    exact = _scan(value, 0)
    local = _LOCAL.__dict__
    enc = local.get("enc")
    if enc is None:
        bio = io.BytesIO()
        local["bio"], local["enc"], local["plain"] = (
            bio,
            cbor2.CBOREncoder(bio, canonical=True),
            cbor2.CBOREncoder(bio),
        )
        enc = local["enc"]
    bio = local["bio"]
    bio.seek(0)
    bio.truncate()
    try:
        if exact:
            local["plain"].encode(_exact(value))
        else:
            enc.encode(value)
    except UnicodeEncodeError as e:
        raise CborError("cbor: text is not valid unicode (lone surrogate)") from e
    return bytes(bio.getvalue())


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


def decode(
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


def hex32(value: Any, what: str, component: str) -> bytes:
    """32 bytes from 64 hex characters (a leaf hash, a key, a root), as people and JSON
    files write them. The message never repeats the value (it may be anything).

    Raises:
        FormatError: not text of 64 hex characters.
    """
    if not isinstance(value, str) or len(value) != 64:
        got = f"{len(value)} characters" if isinstance(value, str) else type(value).__name__
        raise FormatError(f"{component}: {what} must be 64 hex characters, got {got}")
    if not _HEX_RE.fullmatch(value):  # bytes.fromhex would skip spaces: 31 bytes
        raise FormatError(f"{component}: {what} is not hex")
    return bytes.fromhex(value)
