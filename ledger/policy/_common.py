"""Shared by the policy modules: the common levels, limits and the definition error.

Private to ``credex.ledger.policy``. Pure.
"""

from __future__ import annotations

import re
from typing import Any, Final, TypeGuard

from credex.ledger.errors import (
    PolicyDefinitionError,
)

__all__ = [
    "COMMON_LEVEL_SCHEME",
    "FIELD_TYPES",
    "ID_RE",
    "LEVELS",
    "MAX_LIST",
    "SCORE_SOURCE_KINDS",
    "check_keys",
    "err",
    "is_int",
]

#: the ``scheme`` of a derived score that carries only the common ordinal level
COMMON_LEVEL_SCHEME: Final = "COMMON_LEVEL"
LEVELS: Final = ("L1", "L2", "L3", "L4", "L5")
ID_RE: Final = re.compile(r"^[A-Z0-9][A-Z0-9_]{0,63}\Z")
FIELD_TYPES: Final = ("text", "int", "enum", "money")
SCORE_SOURCE_KINDS: Final = ("score.city", "rating.enterprise")
MAX_LIST: Final = 256


def err(msg: str) -> PolicyDefinitionError:
    return PolicyDefinitionError(f"policy: {msg}")


def is_int(v: Any) -> TypeGuard[int]:
    return type(v) is int


def check_keys(
    value: Any, where: str, *, required: set[str], optional: frozenset[str] | set[str] = frozenset()
) -> None:
    if not isinstance(value, dict):
        raise err(f"{where} must be a map")
    bad = sorted(str(k) for k in value if k not in required and k not in optional)
    if bad:
        raise err(f"{where} has unknown fields: {', '.join(bad)}")
    missing = sorted(required - set(value))
    if missing:
        raise err(f"{where} is missing required fields: {', '.join(missing)}")
