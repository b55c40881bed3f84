"""Field checks shared by the manifest's parts: every value of a body is checked here.

Private to ``credex.ledger.manifest``: each helper raises ``FormatError("manifest: ...")``
naming the field. Pure; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any, Final

from credex.ledger.errors import (
    FormatError,
)
from credex.ledger.identifiers import REGION_RE

__all__ = [
    "ENDPOINT_RE",
    "NAME_RE",
    "REGION_RE",
    "UINT64_MAX",
    "array",
    "endpoint",
    "exact_map",
    "fail",
    "key32",
    "kinds_of",
    "split_optional",
    "text",
    "uint",
    "unique",
    "window",
    "with_window",
]

NAME_RE: Final = re.compile(r"^[^\s+]+\Z")
ENDPOINT_RE: Final = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})\Z")
UINT64_MAX: Final = 2**64 - 1


def fail(msg: str) -> FormatError:
    return FormatError(f"manifest: {msg}")


def uint(v: Any, what: str) -> int:
    if type(v) is not int or not 0 <= v <= UINT64_MAX:
        raise fail(f"{what} must be a uint")
    return v


def key32(v: Any, what: str) -> bytes:
    if not isinstance(v, bytes) or len(v) != 32:
        got = len(v) if isinstance(v, bytes) else type(v).__name__
        raise fail(f"{what} must be a 32-byte bstr: got {got}")
    return v


def text(v: Any, what: str, pattern: re.Pattern[str] | None = None) -> str:
    if not isinstance(v, str) or not v:
        raise fail(f"{what} must be non-empty text")
    if pattern is not None and not pattern.match(v):
        raise fail(f"{what} is malformed: {v!r}")
    return v


def exact_map(v: Any, keys: Collection[str], what: str) -> dict[str, Any]:
    if not isinstance(v, dict) or set(v) != set(keys):
        got = sorted(map(str, v)) if isinstance(v, dict) else type(v).__name__
        raise fail(f"{what} must be a map with keys {sorted(keys)}: got {got}")
    return v


def array(v: Any, what: str) -> list[Any]:
    if not isinstance(v, list):
        raise fail(f"{what} must be an array")
    return v


def kinds_of(v: Any, what: str) -> tuple[str, ...]:
    kinds = tuple(text(k, f"{what} kind") for k in array(v, f"{what} kinds"))
    if not kinds:
        raise fail(f"{what} kinds must not be empty")
    return kinds


def endpoint(v: Any, what: str) -> None:
    text(v, what, ENDPOINT_RE)
    port = int(v.rsplit(":", 1)[1])
    if not 0 < port < 65536:
        raise fail(f"{what} port out of range: {port}")


def split_optional(
    v: Any, keys: Collection[str], optional_keys: Collection[str], what: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the required keys of map ``v``, checked exactly; the optional keys present)."""
    optional = {k: v[k] for k in optional_keys if isinstance(v, dict) and k in v}
    if optional:
        v = {k: x for k, x in v.items() if k not in optional_keys}
    return exact_map(v, keys, what), optional


def window(optional: dict[str, Any], what: str) -> tuple[int, int | None]:
    """(valid_from, valid_until) of an agreement or delegation; absent: (0, None)."""
    until = optional.get("valid_until")
    return (
        uint(optional.get("valid_from", 0), f"{what} valid_from"),
        None if until is None else uint(until, f"{what} valid_until"),
    )


def with_window(out: dict[str, Any], valid_from: int, valid_until: int | None) -> dict[str, Any]:
    """``out`` with the window keys, each left out at its default (so bytes stay stable)."""
    if valid_from:
        out["valid_from"] = valid_from
    if valid_until is not None:
        out["valid_until"] = valid_until
    return out


def unique(values: Iterable[Any], what: str) -> None:
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            shown = v.hex()[:16] + "…" if isinstance(v, bytes) else repr(v)
            raise fail(f"duplicate {what}: {shown}")
        seen.add(v)
