"""The parsed rule language (docs/rules.md): selectors, facts, conditions, clauses and the
``Rule`` itself. Values only; ``validate_rule`` builds them from a rule's ``rules`` map.
Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from credex.ledger.provenance import Provenance

__all__ = [
    "DAY",
    "EVENT_DATE_FIELDS",
    "EVIDENCE_KINDS",
    "MAX_EVIDENCE",
    "OPS",
    "OUTCOME_KINDS",
    "PURPOSE_RESULTS",
    "All",
    "Any_",
    "Clause",
    "Compare",
    "Condition",
    "Count",
    "DaysSinceFirst",
    "Fact",
    "Not",
    "PointItem",
    "Points",
    "Rank",
    "Rule",
    "RuleType",
    "Selector",
]

DAY: Final = 86_400
#: at most this many evidence records in one evaluation (refs fit a record's 48 KiB)
MAX_EVIDENCE: Final = 256
OPS: Final = ("<", "<=", "=", "!=", ">=", ">")
#: kinds a rule may read: facts about a subject. Derived, audit, policy, lifecycle and
#: federation records are not evidence (their meaning is someone else's evaluation)
EVIDENCE_KINDS: Final = (
    "commitment",
    "commitment.breach",
    "court.dishonest-debtor",
    "license.admin",
    "list.black",
    "list.red",
    "penalty.admin",
    "rating.enterprise",
    "report.hk",
    "score.city",
)
#: kinds whose status carries an outcome (``selector.outcome``)
OUTCOME_KINDS: Final = ("commitment",)
#: the body date a record's event happened on (``days_since_first`` and "latest");
#: other kinds, and a date that does not parse, use the record's ``valid_from``
EVENT_DATE_FIELDS: Final[Mapping[str, str]] = {
    "commitment": "made_on",
    "commitment.breach": "breached_on",
    "court.dishonest-debtor": "listed_on",
    "license.admin": "decision_date",
    "list.black": "listed_on",
    "list.red": "listed_on",
    "penalty.admin": "decision_date",
    "rating.enterprise": "rated_on",
    "report.hk": "report_date",
    "score.city": "as_of",
}
#: the results of a purpose rule, worst first (``priority`` is an allow that goes first)
PURPOSE_RESULTS: Final = (("deny", "allow"), ("deny", "allow", "priority"))

RuleType = Literal["grade", "purpose"]


@dataclass(frozen=True, slots=True)
class Selector:
    """Which evidence records a fact looks at: kind, body field values, outcome."""

    kinds: tuple[str, ...]
    #: body field -> accepted values (a list field matches when any element is accepted)
    where: Mapping[str, tuple[str, ...]]
    #: ``KEPT`` / ``BREACHED`` / ``NONE`` (no outcome yet); only for commitments
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class Count:
    selector: Selector


@dataclass(frozen=True, slots=True)
class DaysSinceFirst:
    selector: Selector


@dataclass(frozen=True, slots=True)
class Rank:
    selector: Selector
    field: str
    order: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PointItem:
    selector: Selector
    each: int
    cap: int | None


@dataclass(frozen=True, slots=True)
class Points:
    base: int
    add: tuple[PointItem, ...]
    lo: int
    hi: int


Fact = Count | DaysSinceFirst | Rank | Points


@dataclass(frozen=True, slots=True)
class Compare:
    fact: str
    op: str
    value: int


@dataclass(frozen=True, slots=True)
class All:
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Any_:
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Condition


Condition = Compare | All | Any_ | Not


@dataclass(frozen=True, slots=True)
class Clause:
    """``when`` holds -> ``then`` because ``because``; ``when`` None: the final
    ``otherwise`` clause."""

    when: Condition | None
    then: str
    because: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A validated rule (the ``rules`` map of a ``policy.rule`` record) with its name."""

    name: str
    version: int
    type: RuleType
    subject: Literal["org", "person", "any"]
    results: tuple[str, ...]
    scheme: str | None
    provenance: Provenance
    valid_days: int
    facts: Mapping[str, Fact]
    decide: tuple[Clause, ...]
    value: Mapping[str, Any]

    @property
    def output_kind(self) -> str:
        return "derived.grade" if self.type == "grade" else "derived.decision"

    @property
    def kinds(self) -> frozenset[str]:
        """Every kind a selector of this rule reads."""
        out: set[str] = set()
        for f in self.facts.values():
            if isinstance(f, Points):
                for item in f.add:
                    out |= set(item.selector.kinds)
            else:
                out |= set(f.selector.kinds)
        return frozenset(out)
