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
from credex.ledger.provenance import Provenance
from credex.ledger.record import LIFECYCLE_KINDS

__all__ = [
    "COMMITMENT_OUTCOMES",
    "OBJECTION_OUTCOMES",
    "ORDER58_START",
    "PURPOSES",
    "REGIME_C_START",
    "REGIME_PROVENANCE",
    "SAMR_REGIME_START",
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
#: 《市场监督管理行政处罚信息公示规定》 as revised in 2021, in force 2021-09-01
SAMR_REGIME_START: Final = date(2021, 9, 1)

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
    #: market regulators' own rule, for penalties published on 国家企业信用信息公示系统;
    #: chosen by the record (``regime: samr-2021``), never by date alone
    SAMR_2021 = "samr-2021"


#: where each regime's periods come from (DOMAIN.md §3.1, §10)
REGIME_PROVENANCE: Final[Mapping[Regime, Provenance]] = {
    Regime.RULES_2019: Provenance(
        "reported",
        "发改办财金〔2019〕527号 via https://www.0797cx.cn/page37?article_id=15265 and "
        "http://tjj.qdn.gov.cn/tjfw/sxqygs/202204/t20220429_73686150.html",
    ),
    Regime.ORDER58_2023: Provenance(
        "reported",
        "NDRC Order 58 (2023) via mirrors: http://m.sacsnlax.com/zwgk/content/post_1956177.html, "
        "http://bjlywyzs.com/art/2024/9/6/art_1228991789_59110918.html",
    ),
    Regime.CRM_2026: Provenance(
        "reported",
        "《信用修复管理办法》 (in force 2026-04-01) and 国办发〔2025〕22号 via mirrors "
        "(https://toubiaole.com/news/xingyexinwen/887.html); not checked against the official text",
    ),
    Regime.SAMR_2021: Provenance(
        "reported",
        "《市场监督管理行政处罚信息公示规定》 art. 13 via http://www.it214.net/c6195694.aspx; the "
        "one-year repair minimum of 《市场监督管理信用修复管理办法》 (国市监信规〔2021〕3号) "
        "and the '较低数额罚款' threshold (here the summary-procedure ceilings) are assumptions",
    ),
}


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
