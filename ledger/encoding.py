"""Deterministic CBOR (RFC 8949 §4.2.1 core deterministic encoding).

Everything credex signs or hashes is encoded here: definite lengths, shortest integer
heads (cbor2 does both) and map keys sorted by the bytewise order of their own
deterministic encodings (done here: cbor2's ``canonical=True`` is the older RFC 7049
length-first order, which differs for mixed key types). Floats are refused: credex
values are integers, text and bytes only, so there is no float canonicalisation to get
wrong.

``decode`` is the strict reader: it refuses bytes that are not exactly the deterministic
encoding of what they decode to (indefinite lengths, unsorted or duplicate keys,
non-shortest heads), trailing bytes, and input above a size limit.

This module does not know what the values mean; see ``record`` and ``statement``.
"""

from __future__ import annotations

import io
from typing import Any, Final

import cbor2

from credex.ledger.errors import CborError, NonDeterministicCborError, OversizeError

__all__ = ["MAX_CBOR_DEPTH", "decode", "encode"]

MAX_CBOR_DEPTH: Final = 16


def _canon(value: Any, depth: int = 0) -> Any:
    if depth > MAX_CBOR_DEPTH:
        raise CborError(f"cbor: nesting too deep: expected <= {MAX_CBOR_DEPTH} levels")
    if isinstance(value, bool) or value is None:
        return value
    if type(value) is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise CborError("cbor: text is not valid unicode (lone surrogate)") from e
        return value
    if type(value) is int or type(value) is bytes:
        return value
    if isinstance(value, float):
        raise CborError("cbor: floats are not allowed in credex values")
    if type(value) is list or type(value) is tuple:
        return [_canon(v, depth + 1) for v in value]
    if isinstance(value, dict):
        if all(type(k) is str for k in value):
            # text keys: (utf-8 length, bytes) order is the bytewise order of encodings
            try:
                keyed = sorted((len(b), b, k) for k in value for b in (k.encode(),))
            except UnicodeEncodeError as e:
                raise CborError("cbor: text is not valid unicode (lone surrogate)") from e
            return {k: _canon(value[k], depth + 1) for _, _, k in keyed}
        items = [(cbor2.dumps(_canon(k, depth + 1)), k, v) for k, v in value.items()]
        items.sort(key=lambda kv: kv[0])
        return {k: _canon(v, depth + 1) for _, k, v in items}
    if isinstance(value, cbor2.CBORTag):
        return cbor2.CBORTag(value.tag, _canon(value.value, depth + 1))
    raise CborError(f"cbor: cannot encode type {type(value).__name__}")


def encode(value: Any) -> bytes:
    """The deterministic encoding of ``value`` (ints, text, bytes, lists, maps, tags)."""
    return cbor2.dumps(_canon(value))


def decode(data: bytes, *, what: str = "cbor", max_size: int | None = None) -> Any:
    """Decode one deterministic CBOR item that fills ``data`` exactly.

    Raises:
        OversizeError: ``data`` is longer than ``max_size``.
        CborError: not well-formed CBOR, truncated, or followed by trailing bytes.
        NonDeterministicCborError: well-formed but not the deterministic encoding.
    """
    if max_size is not None and len(data) > max_size:
        raise OversizeError(f"{what}: too large: expected <= {max_size} bytes, got {len(data)}")
    if not data:
        raise CborError(f"{what}: empty input")
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
