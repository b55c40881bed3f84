"""The values of the lifecycle: states, purposes, regimes, windows and a record's ``Status``.

Pure data with their own checks; the rules that produce them are in ``windows``,
``rules`` and ``status``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Final, Literal

from credex.ledger.dates import cst_time
from credex.ledger.errors import (
    LifecycleError,
)
from credex.ledger.record import LIFECYCLE_KINDS

__all__ = [
    "COMMITMENT_OUTCOMES",
    "OBJECTION_OUTCOMES",
    "ORDER58_START",
    "PURPOSES",
    "REGIME_C_START",
    "STATES",
    "STATUS_KINDS",
    "TERMINAL_STATES",
    "Purpose",
    "Regime",
    "Severity",
    "State",
    "Status",
    "Window",
]

ORDER58_START: Final = date(2023, 5, 1)
REGIME_C_START: Final = date(2026, 4, 1)

Severity = Literal["minor", "general", "serious"]
State = Literal[
    "active", "under-objection", "corrected", "repaired", "withdrawn", "expired", "superseded"
]
Purpose = Literal["punitive", "eligibility"]
PURPOSES: Final[tuple[Purpose, ...]] = ("punitive", "eligibility")
STATES: Final[tuple[State, ...]] = (
    "active",
    "under-objection",
    "corrected",
    "repaired",
    "withdrawn",
    "expired",
    "superseded",
)
#: states a record never leaves, most decisive first
TERMINAL_STATES: Final[tuple[State, ...]] = ("withdrawn", "repaired", "superseded", "corrected")
#: how an objection is closed (``lifecycle.objection-resolved`` body ``outcome``) [A6]
OBJECTION_OUTCOMES: Final = ("CORRECTED", "UPHELD", "REJECTED", "UNDETERMINED")
#: how a commitment ends (``commitment.outcome`` body ``outcome``) [A9]
COMMITMENT_OUTCOMES: Final = ("KEPT", "BREACHED")
#: kinds that change a target record's status (all need ``refs[0]`` = the target)
STATUS_KINDS: Final = (*LIFECYCLE_KINDS, "commitment.outcome")


class Regime(StrEnum):
    """The publication rule a penalty falls under, by its decision date."""

    RULES_2019 = "rules-2019"
    ORDER58_2023 = "order58-2023"
    CRM_2026 = "crm-2026"


@dataclass(frozen=True, slots=True)
class Window:
    """Publication window of one record, in Unix seconds (00:00 CST of the dates).

    ``min_until``: repair / early termination possible from then; ``max_until``:
    publication stops then (``None``: no legal end known).
    """

    min_until: int
    max_until: int | None
    regime: Regime | None
    severity: Severity | None
    reason: str

    def __post_init__(self) -> None:
        if self.max_until is not None and self.max_until < self.min_until:
            raise LifecycleError("lifecycle: window maximum is before its minimum")


@dataclass(frozen=True, slots=True)
class Status:
    """A record's status at ``as_of``. ``evidence`` holds the leaf hashes (hex) of the
    lifecycle statements that took effect, in order; ``reasons`` explains the state and
    every statement that was ignored."""

    state: State
    usable_for: Mapping[str, bool]
    reasons: tuple[str, ...]
    evidence: tuple[str, ...]
    as_of: int
    window: Window | None = None
    #: a commitment's outcome (``KEPT`` / ``BREACHED``), if one took effect
    outcome: str | None = None
    ignored: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        """The status as ``credex status --json`` prints it (with the record's leaf hash
        and kind added by the caller)."""
        w = self.window
        return {
            "state": self.state,
            "as_of": self.as_of,
            "usable_for": dict(self.usable_for),
            "reasons": list(self.reasons),
            "evidence": list(self.evidence),
            "outcome": self.outcome,
            "window": None
            if w is None
            else {
                "min_until": w.min_until,
                "max_until": w.max_until,
                "regime": None if w.regime is None else str(w.regime),
                "severity": w.severity,
                "reason": w.reason,
            },
        }

    def refusal(self, purpose: str) -> str | None:
        """Why the record may not be used for ``purpose``; ``None`` if it may."""
        if purpose not in PURPOSES:
            raise LifecycleError(
                f"lifecycle: unknown purpose: expected one of {', '.join(PURPOSES)}, "
                f"got {purpose!r}"
            )
        if self.usable_for[purpose]:
            return None
        why = f": {self.reasons[0]}" if self.reasons else ""
        when = cst_time(self.as_of)
        return f"the record is {self.state} as of {when}, not usable for {purpose}{why}"
