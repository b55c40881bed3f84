"""Deterministic CBOR (RFC 8949 §4.2.1 core deterministic encoding).

Everything credex signs or hashes is encoded here: definite lengths, shortest integer
heads (cbor2 does both) and map keys sorted by the bytewise order of their own
deterministic encodings (done here: cbor2's ``canonical=True`` is the older RFC 7049
length-first order, which differs for mixed key types). Floats are refused: credex
values are integers, text and bytes only, so there is no float canonicalisation to get
wrong.

``decode`` is the strict reader (``credex.ledger.cbor_reader``, one hand-written pass):
it refuses what no credex format uses: every tag but 18 (COSE_Sign1) and 98 (COSE_Sign),
so never value sharing (tags 28/29) or string references (25/256), which a general
decoder would resolve into a graph whose re-encoding grows exponentially; indefinite
lengths; floats, undefined and simple values; more than ``MAX_CBOR_DEPTH`` levels; more
than ``MAX_CBOR_ITEMS`` data items. It refuses bytes that are not exactly the
deterministic encoding of what they decode to (unsorted or duplicate keys, non-shortest
heads, checked while reading), trailing bytes, and input above a size limit. Until
issue 13 this was a pre-scan, cbor2's decoder and a re-encoding compared with the input;
the reader refuses the same inputs with the same error types (a differential test).

This module does not know what the values mean; see ``record`` and ``statement``.
"""

from __future__ import annotations

import io
import re
import threading
from typing import Any, Final

import cbor2

from credex.ledger import cbor_reader
from credex.ledger.cbor_reader import ALLOWED_TAGS, MAX_CBOR_DEPTH
from credex.ledger.errors import CborError, FormatError, OversizeError

__all__ = ["ALLOWED_TAGS", "MAX_CBOR_DEPTH", "MAX_CBOR_ITEMS", "decode", "encode", "hex32"]

#: data items (every scalar, container, tag and map key) one ``decode`` accepts
MAX_CBOR_ITEMS: Final = 65536
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


def decode(
    data: bytes,
    *,
    what: str = "cbor",
    max_size: int | None = None,
    max_items: int = MAX_CBOR_ITEMS,
) -> Any:
    """Decode one deterministic CBOR item that fills ``data`` exactly
    (``credex.ledger.cbor_reader``: one strict pass, nothing re-encoded).

    Raises:
        OversizeError: ``data`` is longer than ``max_size``.
        CborError: not well-formed CBOR, truncated, or followed by trailing bytes; a tag,
            float or simple value credex does not use; deeper than ``MAX_CBOR_DEPTH`` or
            more than ``max_items`` items.
        NonDeterministicCborError: well-formed but not the deterministic encoding.
    """
    if max_size is not None and len(data) > max_size:
        raise OversizeError(f"{what}: too large: expected <= {max_size} bytes, got {len(data)}")
    if not data:
        raise CborError(f"{what}: empty input")
    if type(data) is not bytes:
        data = bytes(data)
    return cbor_reader.read(data, what, max_items)


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
