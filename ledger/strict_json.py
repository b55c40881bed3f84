"""Strict JSON for documents credex reads from others: trust files, policy files, another
node's ``node info``, record bodies given on the command line.

``loads`` accepts RFC 8259 JSON and refuses what the standard library lets through:
duplicate object keys (``json`` silently keeps the last, so two readers of one file could
disagree), ``NaN`` / ``Infinity``, floats unless asked for (credex values are integers),
more than ``max_bytes`` bytes and more than ``MAX_JSON_DEPTH`` levels. JSON numbers are
ASCII by the grammar (the C scanner reads ``0-9`` only) and integers longer than
Python's digit limit are refused, so ``int`` never sees other digits.

Pure: the caller reads the file. Errors are ``FormatError`` with one line that names the
document (``what``) and never repeats a value (a key is shown shortened).
"""

from __future__ import annotations

import json
import threading
from typing import Any, Final

from credex.ledger.errors import FormatError, OversizeError

__all__ = ["MAX_JSON_DEPTH", "loads"]

#: arrays and objects nested in one document
MAX_JSON_DEPTH: Final = 32
_MAX_KEY_SHOWN: Final = 40


class _Refused(ValueError):
    """Raised inside the ``json`` hooks; turned into a ``FormatError`` by ``loads``."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            shown = key if len(key) <= _MAX_KEY_SHOWN else key[:_MAX_KEY_SHOWN] + "…"
            raise _Refused(f"duplicate key {shown!r}")
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a json number")


def _no_float(text: str) -> Any:
    raise _Refused("a number with a fraction or exponent: expected an integer")


def _depth(value: Any) -> int:
    """The nesting depth of a decoded value (iterative: no recursion limit to hit)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            children: Any = v.values()
        elif isinstance(v, list):
            children = v
        else:
            continue
        deepest = max(deepest, d + 1)
        stack.extend((c, d + 1) for c in children)
    return deepest


#: one decoder of each kind per thread: ``json.loads`` with hooks builds a new decoder a
#: call, a tenth of the time of a record-sized document (the import parses millions)
_LOCAL: Final = threading.local()


def _decoder(allow_floats: bool) -> json.JSONDecoder:
    found: json.JSONDecoder | None = getattr(_LOCAL, "floats" if allow_floats else "ints", None)
    if found is None:
        found = json.JSONDecoder(
            object_pairs_hook=_pairs,
            parse_constant=_constant,
            parse_float=None if allow_floats else _no_float,
        )
        setattr(_LOCAL, "floats" if allow_floats else "ints", found)
    return found


def loads(data: str | bytes, what: str, *, max_bytes: int, allow_floats: bool = False) -> Any:
    """Parse one strict JSON document.

    Args:
        data: the document (bytes must be UTF-8, an optional BOM is refused).
        what: names the document in messages, e.g. ``trust``.
        max_bytes: the size limit in bytes.
        allow_floats: keep fractions and exponents (as ``float``); otherwise refused.

    Raises:
        OversizeError: more than ``max_bytes``.
        FormatError: not UTF-8, not JSON, a duplicate key, NaN / Infinity, a float
            (unless allowed), deeper than ``MAX_JSON_DEPTH``.
    """
    size = len(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    if size > max_bytes:
        raise OversizeError(f"{what}: too large: expected <= {max_bytes} bytes, got {size}")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FormatError(f"{what}: not utf-8 json: invalid byte at offset {e.start}") from None
    try:
        if data.startswith("\ufeff"):  # what json.loads refuses before decoding
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", data, 0)
        value = _decoder(allow_floats).decode(data)
    except _Refused as e:
        raise FormatError(f"{what}: not accepted json: {e}") from None
    except json.JSONDecodeError as e:
        raise FormatError(
            f"{what}: not valid json: {e.msg.lower()} at line {e.lineno} column {e.colno}"
        ) from None
    except RecursionError:
        raise FormatError(
            f"{what}: not accepted json: nested too deeply: expected <= {MAX_JSON_DEPTH} levels"
        ) from None
    except ValueError as e:  # an integer beyond Python's digit limit
        raise FormatError(f"{what}: not accepted json: {type(e).__name__}") from None
    # a document has at most as many arrays and objects as opening brackets: most have
    # too few to reach the limit, and are not walked
    if data.count("{") + data.count("[") > MAX_JSON_DEPTH and _depth(value) > MAX_JSON_DEPTH:
        raise FormatError(
            f"{what}: not accepted json: nested too deeply: expected <= {MAX_JSON_DEPTH} levels"
        )
    return value
