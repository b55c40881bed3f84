"""Rule policies: codes, grades and purpose rules as signed data (issue #12; docs/rules.md).

A rule is data, never code: the ``rules`` map of a ``policy.rule`` record. It names
facts counted over a subject's evidence records (``count``, ``days_since_first``,
``rank``, ``points``), then decides with an ordered list of clauses over those facts
whose last is ``otherwise`` (so every evidence gives a result: the rule is total).
``validate_rule`` parses it once (no floats, only kinds a rule may read, only fields
those kinds have); ``evaluate`` applies it; ``build_evaluation_record`` makes the
``derived.grade`` / ``derived.decision`` record and ``verify_evaluation`` replays one at
verification step 8.

Grade rules give a grade of a scheme (惠信码 green/blue/red, 九鼎分 AAA-C, Huangpu A-D,
Ningbo port A/B/C); purpose rules (信用+) give deny / allow / priority for a benefit
or a measure. Every rule carries its provenance (``credex.ledger.provenance``) and every
evaluation carries the rule's grade.

This package does not sign, log, store or read the clock. Modules: ``model`` (the
parsed language), ``validate``, ``engine`` (``evaluate``), ``record`` (rule and
evaluation records, replay), ``verify`` (step 8 on statements).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.ledger.errors import (
        EvaluationError,
        RuleDefinitionError,
    )
    from credex.ledger.rules.engine import (
        Evaluation,
        Evidence,
        evaluate,
        evaluation_body,
        event_time,
        in_force,
    )
    from credex.ledger.rules.model import (
        EVIDENCE_KINDS,
        MAX_EVIDENCE,
        Rule,
        Selector,
    )
    from credex.ledger.rules.record import (
        EVALUATION_KINDS,
        RULE_KIND,
        build_evaluation_record,
        build_rule_record,
        replay_evaluation,
        rule_of,
        rule_subject_id,
    )
    from credex.ledger.rules.validate import (
        validate_rule,
    )
    from credex.ledger.rules.verify import (
        verify_evaluation,
    )

__all__ = [
    "EVALUATION_KINDS",
    "EVIDENCE_KINDS",
    "MAX_EVIDENCE",
    "RULE_KIND",
    "Evaluation",
    "EvaluationError",
    "Evidence",
    "Rule",
    "RuleDefinitionError",
    "Selector",
    "build_evaluation_record",
    "build_rule_record",
    "evaluate",
    "evaluation_body",
    "event_time",
    "in_force",
    "replay_evaluation",
    "rule_of",
    "rule_subject_id",
    "validate_rule",
    "verify_evaluation",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "EVALUATION_KINDS": "credex.ledger.rules.record",
        "EVIDENCE_KINDS": "credex.ledger.rules.model",
        "Evaluation": "credex.ledger.rules.engine",
        "EvaluationError": "credex.ledger.errors",
        "Evidence": "credex.ledger.rules.engine",
        "MAX_EVIDENCE": "credex.ledger.rules.model",
        "RULE_KIND": "credex.ledger.rules.record",
        "Rule": "credex.ledger.rules.model",
        "RuleDefinitionError": "credex.ledger.errors",
        "Selector": "credex.ledger.rules.model",
        "build_evaluation_record": "credex.ledger.rules.record",
        "build_rule_record": "credex.ledger.rules.record",
        "evaluate": "credex.ledger.rules.engine",
        "evaluation_body": "credex.ledger.rules.engine",
        "event_time": "credex.ledger.rules.engine",
        "in_force": "credex.ledger.rules.engine",
        "replay_evaluation": "credex.ledger.rules.record",
        "rule_of": "credex.ledger.rules.record",
        "rule_subject_id": "credex.ledger.rules.record",
        "validate_rule": "credex.ledger.rules.validate",
        "verify_evaluation": "credex.ledger.rules.verify",
    },
)
