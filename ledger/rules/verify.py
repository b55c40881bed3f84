"""Verification step 8 for evaluations: a ``derived.grade`` / ``derived.decision`` record
follows from its evidence statements, their status at the evaluation time and the
signed ``policy.rule`` (docs/rules.md "Verification").

``verify_evaluation`` runs on statements already verified (steps 1-6) and on each
evidence record's ``Status`` as of the evaluation's ``as_of`` (``credex.ledger.verify``
computes those from the lifecycle statements each evidence bundle carries). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from credex.ledger.errors import DerivationMismatchError
from credex.ledger.lifecycle import Status
from credex.ledger.rules.engine import Evidence
from credex.ledger.rules.record import EVALUATION_KINDS, RULE_KIND, replay_evaluation, rule_of
from credex.ledger.statement import Statement

__all__ = ["verify_evaluation"]


def verify_evaluation(
    derived: Statement,
    sources: Sequence[Statement],
    statuses: Sequence[Status],
    rule: Statement,
) -> None:
    """Check that ``derived`` follows from ``sources`` (with ``statuses``) and ``rule``.

    Raises:
        DerivationMismatchError: not an evaluation kind; the rule statement is not a
            ``policy.rule``; refs differ from the statements' leaf hashes (order
            included); an evidence record not in force at the evaluation time; a field
            that does not replay (named).
        RuleDefinitionError: the signed rule is invalid.
    """
    kind = derived.record.kind
    if kind not in EVALUATION_KINDS:
        raise DerivationMismatchError(f"derivation: not an evaluation record: kind {kind!r}")
    if rule.record.kind != RULE_KIND:
        raise DerivationMismatchError(
            f"derivation: rule statement kind: expected {RULE_KIND!r}, got {rule.record.kind!r}"
        )
    expected = (*(s.leaf_hash for s in sources), rule.leaf_hash)
    got = derived.record.refs
    if len(got) != len(expected):
        raise DerivationMismatchError(
            f"derivation: refs count: expected {len(expected)} (evidence then rule), got {len(got)}"
        )
    for i, (want, have) in enumerate(zip(expected, got, strict=True)):
        if want != have:
            what = "rule" if i == len(expected) - 1 else f"evidence {i}"
            raise DerivationMismatchError(
                f"derivation: ref {i} ({what}) does not match the bundle: expected "
                f"{want.hex()[:16]}…, got {have.hex()[:16]}…"
            )
    if len(statuses) != len(sources):
        raise DerivationMismatchError("derivation: one status per evidence record is needed")
    evidence = [
        Evidence(s.record, s.leaf_hash, st.state, st.outcome)
        for s, st in zip(sources, statuses, strict=True)
    ]
    replay_evaluation(rule_of(rule.record), derived.record, evidence, derived.claims.iat)
