"""The values of conflict detection: views, observations, conflicts, the report.

Pure data; see the package docstring for the rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from credex.ledger.errors import FormatError
from credex.ledger.lifecycle import State
from credex.ledger.statement import Statement

__all__ = [
    "CONFLICT_TYPES",
    "ENDED",
    "INTEREST_KINDS",
    "LEVEL_RE",
    "NAMES",
    "RED_VS",
    "RED_VS_TYPES",
    "Conflict",
    "ConflictReport",
    "ConflictType",
    "Observed",
    "Severity",
    "View",
]

ConflictType = Literal[
    "listed-red-and-black",
    "red-list-vs-dishonest-debtor",
    "red-list-vs-serious-penalty",
    "repaired-but-used",
    "stale-mirror",
    "score-divergence",
]
CONFLICT_TYPES: Final[tuple[ConflictType, ...]] = (
    "listed-red-and-black",
    "red-list-vs-dishonest-debtor",
    "red-list-vs-serious-penalty",
    "repaired-but-used",
    "stale-mirror",
    "score-divergence",
)
Severity = Literal["high", "medium", "low"]
#: record kinds the rules look at (besides lifecycle statements and ``derived.*``)
INTEREST_KINDS: Final = (
    "court.dishonest-debtor",
    "list.black",
    "list.red",
    "penalty.admin",
    "score.city",
)
ENDED: Final[frozenset[State]] = frozenset({"repaired", "withdrawn", "superseded", "corrected"})
LEVEL_RE: Final = re.compile(r"^L[1-5]\Z")
RED_VS: Final[Mapping[str, tuple[ConflictType, Severity]]] = {
    "list.black": ("listed-red-and-black", "high"),
    "court.dishonest-debtor": ("red-list-vs-dishonest-debtor", "high"),
    "penalty.admin": ("red-list-vs-serious-penalty", "medium"),
}
RED_VS_TYPES: Final = tuple(t for t, _ in RED_VS.values())
NAMES: Final[Mapping[str, str]] = {
    "list.red": "red list entry",
    "list.black": "black list entry",
    "court.dishonest-debtor": "dishonest judgment debtor entry",
    "penalty.admin": "serious administrative penalty",
}


@dataclass(frozen=True, slots=True)
class View:
    """``holder``'s copy of ``origin``'s log, ``size`` entries (own log: holder == origin)."""

    holder: str
    origin: str
    size: int

    def __post_init__(self) -> None:
        if type(self.size) is not int or self.size < 0:
            raise FormatError(f"conflicts: view size must be a uint, got {self.size!r}")

    @property
    def own(self) -> bool:
        return self.holder == self.origin

    @property
    def label(self) -> str:
        """``origin@holder``: where a record was seen."""
        return self.origin if self.own else f"{self.origin}@{self.holder}"


@dataclass(frozen=True, slots=True)
class Observed:
    """One statement found in ``view`` at ``leaf_index``."""

    view: View
    leaf_index: int
    statement: Statement


@dataclass(frozen=True, slots=True)
class Conflict:
    """Records of one subject that disagree. ``leaf_hashes`` (hex) and ``regions`` are in
    the rule's order (e.g. the red entry first); ``views`` say where each was seen."""

    type: ConflictType
    subject_id: str
    leaf_hashes: tuple[str, ...]
    regions: tuple[str, ...]
    views: tuple[str, ...]
    reason: str
    severity: Severity

    def to_json_value(self) -> dict[str, object]:
        return {
            "type": self.type,
            "subject_id": self.subject_id,
            "leaf_hashes": list(self.leaf_hashes),
            "regions": list(self.regions),
            "views": list(self.views),
            "reason": self.reason,
            "severity": self.severity,
        }


@dataclass(frozen=True, slots=True)
class ConflictReport:
    """The conflicts found (sorted), what was compared, and what could not be."""

    conflicts: tuple[Conflict, ...]
    as_of: int
    views: tuple[View, ...]
    compared: int
    not_comparable: int
    notes: tuple[str, ...] = field(default=())
