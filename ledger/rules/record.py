"""Rule records and evaluation records: build them, and replay one (verification step 8).

- ``rule_subject_id``: a ``policy.rule`` is about a document, not a subject: the
  reserved key id ``00000000`` with SHA-256 of the rule's *name*, so every version of
  one rule is found by one subject-index read (``credex check --purpose NAME``).
- ``build_rule_record``: the ``policy.rule`` record of a validated rule.
- ``rule_of``: the ``Rule`` in a ``policy.rule`` record.
- ``build_evaluation_record``: the ``derived.grade`` / ``derived.decision`` record of an
  evaluation. ``refs`` = the evidence leaf hashes in the order given, then the rule's
  leaf hash; ``valid_from`` = ``as_of``; ``valid_until`` = ``as_of`` + the rule's
  ``valid_days``.
- ``replay_evaluation``: check that a derived record is exactly what rule + evidence +
  its ``as_of`` give (first differing field named, never its value).

Pure: no clock (``as_of`` and the statement times are arguments), no signing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Final

from credex.ledger.errors import DerivationMismatchError, EvaluationError
from credex.ledger.record import SUBJECTLESS_PREFIX, Record, Subject
from credex.ledger.rules.engine import Evidence, evaluate, evaluation_body, in_force
from credex.ledger.rules.model import DAY, Rule
from credex.ledger.rules.validate import validate_rule

__all__ = [
    "EVALUATION_KINDS",
    "RULE_KIND",
    "build_evaluation_record",
    "build_rule_record",
    "replay_evaluation",
    "rule_of",
    "rule_subject_id",
]

RULE_KIND: Final = "policy.rule"
EVALUATION_KINDS: Final = ("derived.decision", "derived.grade")
_DOMAIN: Final = b"credex-rule-v1\x00"


def rule_subject_id(name: str) -> str:
    """``hmac:00000000:<sha256 hex of "credex-rule-v1" 0x00 name>``."""
    return SUBJECTLESS_PREFIX + hashlib.sha256(_DOMAIN + name.encode()).hexdigest()


def build_rule_record(
    name: str, version: int, rules: Mapping[str, Any], region: str, now: int
) -> Record:
    """The ``policy.rule`` record for a rule (validated first).

    Raises:
        RuleDefinitionError: the rule is not valid (``validate_rule``).
        RecordError: a bad region.
    """
    validate_rule(name, version, dict(rules))
    return Record(
        kind=RULE_KIND,
        region=region,
        subject=Subject("person", rule_subject_id(name)),
        body={"name": name, "version": version, "rules": dict(rules)},
        valid_from=now,
    )


def rule_of(record: Record) -> Rule:
    """The validated ``Rule`` of a ``policy.rule`` record.

    Raises:
        EvaluationError: not a ``policy.rule`` record, or its subject is not the rule
            name's.
        RuleDefinitionError: its rules are not valid.
    """
    if record.kind != RULE_KIND:
        raise EvaluationError(f"evaluate: expected a {RULE_KIND} record, got {record.kind!r}")
    body = record.body
    rule = validate_rule(body.get("name"), body.get("version"), body.get("rules"))
    if record.subject.id != rule_subject_id(rule.name):
        raise EvaluationError(f"evaluate: rule {rule.name} is logged under another subject id")
    return rule


def build_evaluation_record(
    rule: Rule,
    rule_leaf_hash: bytes,
    subject: Subject,
    evidence: Sequence[Evidence],
    as_of: int,
    region: str,
) -> Record:
    """The derived record of evaluating ``rule`` on ``evidence`` at ``as_of``.

    Raises:
        EvaluationError: see ``evaluate``; also evidence not in force at ``as_of``.
        RecordError: a bad region or leaf hash.
    """
    for i, e in enumerate(evidence):
        if not in_force(e, as_of):
            raise EvaluationError(
                f"evaluate: evidence {i} is not in force at the evaluation time ({e.state})"
            )
    ev = evaluate(rule, subject, evidence, as_of)
    return Record(
        kind=rule.output_kind,
        region=region,
        subject=subject,
        body=evaluation_body(rule, ev),
        valid_from=as_of,
        valid_until=as_of + rule.valid_days * DAY,
        refs=(*(e.leaf_hash for e in evidence), rule_leaf_hash),
    )


def _mismatch(name: str) -> DerivationMismatchError:
    # values stay out of the message: they may be a person's credit data
    return DerivationMismatchError(
        f"derivation: field {name!r} does not replay from the evidence and the rule"
    )


def replay_evaluation(
    rule: Rule, derived: Record, evidence: Sequence[Evidence], derived_iat: int
) -> None:
    """Check that ``derived`` is exactly what ``rule`` gives for ``evidence`` at the
    ``as_of`` it names (the evidence states are as of that time).

    Raises:
        DerivationMismatchError: the wrong kind; ``as_of`` missing or after the
            statement's ``iat``; evidence not in force then, about another subject or of
            a kind the rule does not read; a field (``valid_from``, ``valid_until`` or a
            body field) that does not replay, named.
    """
    if derived.kind != rule.output_kind:
        raise _mismatch("kind")
    as_of = derived.body.get("as_of")
    if type(as_of) is not int or as_of < 0:
        raise DerivationMismatchError(
            "derivation: an evaluation must name its as_of (Unix seconds)"
        )
    if as_of > derived_iat:
        raise DerivationMismatchError(
            f"derivation: evaluated as of {as_of}, after it was signed ({derived_iat})"
        )
    for i, e in enumerate(evidence):
        if not in_force(e, as_of):
            raise DerivationMismatchError(
                f"derivation: evidence {i} ({e.record.kind} {e.leaf_hash.hex()[:16]}…) was not "
                f"in force at the evaluation time: {e.state}"
            )
    try:
        ev = evaluate(rule, derived.subject, evidence, as_of)
    except EvaluationError as e:
        raise DerivationMismatchError(f"derivation: evidence does not fit the rule: {e}") from e
    if derived.valid_from != as_of:
        raise _mismatch("valid_from")
    if derived.valid_until != as_of + rule.valid_days * DAY:
        raise _mismatch("valid_until")
    expected = evaluation_body(rule, ev)
    got = dict(derived.body)
    for name in [*expected, *sorted(k for k in got if k not in expected)]:
        if name not in expected or name not in got:
            raise _mismatch(name)
        e_val, g_val = expected[name], got[name]
        if isinstance(e_val, dict) and isinstance(g_val, dict):
            for k in [*e_val, *sorted(k for k in g_val if k not in e_val)]:
                if k not in e_val or k not in g_val or e_val[k] != g_val[k]:
                    raise _mismatch(f"{name}.{k}")
        elif e_val != g_val or type(e_val) is not type(g_val):
            raise _mismatch(name)
