"""Evaluating a rule: evidence records (each with its status at the evaluation time) in,
the result with its facts and reason out (docs/rules.md "Evaluation").

- ``Evidence``: one record, its leaf hash, its lifecycle state and (a commitment) its
  outcome at ``as_of``, as ``credex.ledger.lifecycle.status_at`` gives them.
- ``reads``: some fact of the rule looks at the record (a node gives only those).
- ``in_force``: the record counts at ``as_of``: state ``active`` and ``valid_from`` not
  after ``as_of`` (a court list entry deferred under 暂缓 starts later).
- ``evaluate``: every fact, then the first clause whose condition holds; deterministic
  and total (every fact has a value for every evidence, the last clause always applies).
- ``evaluation_body``: the ``derived.grade`` / ``derived.decision`` body of a result.

Evidence that is not in force is ignored here; the node gives only records in force and
verification refuses any other (``replay``). Pure: the time is an argument.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from credex.ledger.dates import date_to_unix
from credex.ledger.errors import EvaluationError
from credex.ledger.record import Record, Subject
from credex.ledger.rules.model import (
    DAY,
    EVENT_DATE_FIELDS,
    MAX_EVIDENCE,
    All,
    Any_,
    Compare,
    Condition,
    Count,
    DaysSinceFirst,
    Fact,
    Not,
    Points,
    Rank,
    Rule,
    Selector,
)

__all__ = [
    "Evaluation",
    "Evidence",
    "evaluate",
    "evaluation_body",
    "event_time",
    "in_force",
    "reads",
]

_ISO_LEN: Final = 10


@dataclass(frozen=True, slots=True)
class Evidence:
    """One evidence record with its status at the evaluation time."""

    record: Record
    leaf_hash: bytes
    state: str
    #: a commitment's outcome (``KEPT`` / ``BREACHED``) or ``None``
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What a rule gives for one subject at one time."""

    result: str
    because: str
    facts: Mapping[str, int]
    as_of: int


def event_time(record: Record) -> int:
    """Midnight CST of the record's event date (``EVENT_DATE_FIELDS``), else its
    ``valid_from`` (also when the date does not parse: evaluation is total)."""
    name = EVENT_DATE_FIELDS.get(record.kind)
    text = record.body.get(name) if name else None
    if isinstance(text, str) and len(text) == _ISO_LEN:
        try:
            return date_to_unix(date.fromisoformat(text))
        except ValueError:
            pass
    return record.valid_from


def in_force(e: Evidence, as_of: int) -> bool:
    return e.state == "active" and e.record.valid_from <= as_of


def _matches(sel: Selector, e: Evidence) -> bool:
    r = e.record
    if r.kind not in sel.kinds:
        return False
    for field, accepted in sel.where.items():
        value = r.body.get(field)
        if isinstance(value, str):
            if value not in accepted:
                return False
        elif isinstance(value, list):
            if not any(isinstance(v, str) and v in accepted for v in value):
                return False
        else:
            return False
    if sel.outcome is not None:
        return (e.outcome or "NONE") == sel.outcome
    return True


def _selectors(rule: Rule) -> list[Selector]:
    out: list[Selector] = []
    for f in rule.facts.values():
        if isinstance(f, Points):
            out.extend(item.selector for item in f.add)
        else:
            out.append(f.selector)
    return out


def reads(rule: Rule, e: Evidence) -> bool:
    """Whether some fact of ``rule`` looks at ``e`` (a node gives only such evidence)."""
    return any(_matches(sel, e) for sel in _selectors(rule))


def _latest(found: Sequence[Evidence]) -> Evidence:
    return max(found, key=lambda e: (event_time(e.record), e.record.valid_from, e.leaf_hash))


def _fact(fact: Fact, counted: Sequence[Evidence], as_of: int) -> int:
    if isinstance(fact, Count):
        return sum(1 for e in counted if _matches(fact.selector, e))
    if isinstance(fact, DaysSinceFirst):
        times = [event_time(e.record) for e in counted if _matches(fact.selector, e)]
        return max(0, (as_of - min(times)) // DAY) if times else 0
    if isinstance(fact, Rank):
        found = [e for e in counted if _matches(fact.selector, e)]
        if not found:
            return 0
        value = _latest(found).record.body.get(fact.field)
        return fact.order.index(value) + 1 if value in fact.order else 0
    assert isinstance(fact, Points)
    total = fact.base
    for item in fact.add:
        n = sum(1 for e in counted if _matches(item.selector, e))
        total += item.each * (n if item.cap is None else min(n, item.cap))
    return min(fact.hi, max(fact.lo, total))


def _holds(cond: Condition, facts: Mapping[str, int]) -> bool:
    if isinstance(cond, All):
        return all(_holds(c, facts) for c in cond.parts)
    if isinstance(cond, Any_):
        return any(_holds(c, facts) for c in cond.parts)
    if isinstance(cond, Not):
        return not _holds(cond.part, facts)
    assert isinstance(cond, Compare)
    a, b = facts[cond.fact], cond.value
    return {
        "<": a < b,
        "<=": a <= b,
        "=": a == b,
        "!=": a != b,
        ">=": a >= b,
        ">": a > b,
    }[cond.op]


def evaluate(rule: Rule, subject: Subject, evidence: Sequence[Evidence], as_of: int) -> Evaluation:
    """The rule's result for ``subject`` at ``as_of`` (Unix seconds) from ``evidence``.

    Raises:
        EvaluationError: a subject type the rule is not for; evidence about another
            subject or of a kind the rule does not read; the same record twice; more
            than ``MAX_EVIDENCE`` records.
    """
    if rule.subject != "any" and subject.type != rule.subject:
        raise EvaluationError(
            f"evaluate: rule {rule.name} is for {rule.subject} subjects, got a {subject.type}"
        )
    if len(evidence) > MAX_EVIDENCE:
        raise EvaluationError(
            f"evaluate: too many evidence records: expected <= {MAX_EVIDENCE}, got {len(evidence)}"
        )
    kinds = rule.kinds
    seen: set[bytes] = set()
    for i, e in enumerate(evidence):
        if e.record.subject != subject:
            raise EvaluationError(f"evaluate: evidence {i} is about another subject")
        if e.record.kind not in kinds:
            raise EvaluationError(
                f"evaluate: evidence {i} is a {e.record.kind}, which rule {rule.name} does not read"
            )
        if e.leaf_hash in seen:
            raise EvaluationError(f"evaluate: evidence {i} is given twice")
        seen.add(e.leaf_hash)
    counted = [e for e in evidence if in_force(e, as_of)]
    facts = {name: _fact(f, counted, as_of) for name, f in rule.facts.items()}
    for clause in rule.decide:
        if clause.when is None or _holds(clause.when, facts):
            return Evaluation(clause.then, clause.because, facts, as_of)
    raise AssertionError("validate_rule guarantees a final otherwise clause")  # pragma: no cover


def evaluation_body(rule: Rule, ev: Evaluation) -> dict[str, Any]:
    """The body of the derived record: rule name and version, the result (``grade``
    under ``scheme``, or ``result`` for ``purpose``), ``as_of``, the rule's provenance
    grade, every fact's value and the reason."""
    body: dict[str, Any] = {"rule": rule.name, "version": rule.version}
    if rule.type == "grade":
        assert rule.scheme is not None
        body |= {"scheme": rule.scheme, "grade": ev.result}
    else:
        body |= {"purpose": rule.name, "result": ev.result}
    body |= {
        "as_of": ev.as_of,
        "provenance": rule.provenance.grade,
        "facts": dict(ev.facts),
        "because": ev.because,
    }
    return body
