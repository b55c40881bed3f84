"""Rules at a node: log a rule, evaluate a subject under it, answer a purpose check.

The node-side glue between the pure rule engine (``credex.ledger.rules``) and a
``LocalNode`` (issue #12 points 1 and 2):

- ``add_rule``: validate a rule file value ``{"name", "version", "rules"}`` and sign +
  log its ``policy.rule`` record (nothing is logged when it is refused).
- ``find_rule``: the latest logged version of a rule by name (one subject-index read:
  a rule's subject id is derived from its name).
- ``prepare_evaluation``: gather the subject's evidence in force at ``as_of`` (this
  node's log, then its peer mirrors; a person's record whose body is not held here
  cannot be read and is left out), each with its status, and build the derived record,
  without logging anything (``credex commitments make`` refuses on it).
- ``log_evaluation``: sign + log the derived record and return the bundle that carries
  the evidence (each with its lifecycle statements) and the rule: verify step 8 replays
  it offline.
- ``check_purpose``: evaluate a purpose rule and log the decision and an ``audit.check``
  statement (who asked, the rule, the result; no personal data).

Time is passed in (``now``); this module does not print or read files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from credex.ledger.bundle import Bundle
from credex.ledger.errors import (
    EvaluationError,
    NotFoundError,
    RecordWithheldError,
    RuleDefinitionError,
)
from credex.ledger.indexing import lifecycle_in
from credex.ledger.lifecycle import status_at
from credex.ledger.record import Record, Subject
from credex.ledger.rules import (
    MAX_EVIDENCE,
    RULE_KIND,
    Evidence,
    Rule,
    build_evaluation_record,
    build_rule_record,
    event_time,
    in_force,
    rule_of,
    rule_subject_id,
)
from credex.ledger.rules.engine import reads
from credex.ledger.statement import Statement
from credex.node.federation.manifests import load_chain, load_manifest
from credex.node.federation.mirrors import MirrorBundles
from credex.node.local import IssueResult, LocalNode, find_statement

__all__ = [
    "ASKER_RE",
    "CheckResult",
    "EvaluationResult",
    "Prepared",
    "add_rule",
    "check_purpose",
    "find_rule",
    "log_evaluation",
    "prepare_evaluation",
    "rule_file_value",
]

#: who asks for a check: a service or client name, never a person's name or number
ASKER_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}\Z")
_FILE_FIELDS: Final = ("name", "rules", "version")


def rule_file_value(data: bytes) -> Any:
    """The JSON value of a rule file's bytes (UTF-8).

    Raises:
        RuleDefinitionError: not UTF-8 or not JSON.
    """
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise RuleDefinitionError("rule: file is not utf-8") from e
    except ValueError as e:
        raise RuleDefinitionError("rule: file is not valid json") from e


def add_rule(node: LocalNode, value: Any, *, issuer_id: str | None = None, now: int) -> IssueResult:
    """Validate a rule file value and sign + log its ``policy.rule`` record.

    Raises:
        RuleDefinitionError: not a map of exactly name, version, rules; a rule that is
            not valid (``validate_rule``: not total, unknown kinds or fields, floats).
        NotFoundError / KindNotAuthorisedError: the issuer cannot sign rules.
    """
    if not isinstance(value, dict):
        raise RuleDefinitionError("rule: file must hold a json object")
    extra = sorted(str(k) for k in value if k not in _FILE_FIELDS)
    missing = [k for k in _FILE_FIELDS if k not in value]
    if extra or missing:
        raise RuleDefinitionError(
            f"rule: file must have exactly name, version, rules: unknown {extra or 'none'}, "
            f"missing {missing or 'none'}"
        )
    record = build_rule_record(
        value["name"], value["version"], value["rules"], node.home.region, now
    )
    return node.issue([record], issuer_id=issuer_id, iat=now)[0]


def find_rule(node: LocalNode, name: str) -> tuple[int, Statement]:
    """(index, statement) of the latest version of rule ``name`` in this node's log
    (highest version; the later entry of two equal versions).

    Raises:
        NotFoundError: no such rule is logged here.
    """
    entries = node.log.by_subject(rule_subject_id(name), [RULE_KIND])
    best: tuple[int, int, Statement] | None = None
    for e in entries:
        st = Statement.from_bytes(e.leaf)
        version = st.record.body.get("version")
        if isinstance(version, int) and (best is None or (version, e.index) >= best[:2]):
            best = (version, e.index, st)
    if best is None:
        raise NotFoundError(
            f"rule: no rule {name[:64]!r} is logged here (add it with credex rule add FILE)"
        )
    return best[1], best[2]


def _repairers(node: LocalNode) -> Callable[[Statement, Statement], bool] | None:
    if not load_chain(node.home):
        return None
    return load_manifest(node.home).repair_authorised


@dataclass(frozen=True, slots=True)
class _Found:
    """One evidence record and where its bundle comes from (``origin`` None: here)."""

    evidence: Evidence
    index: int
    origin: str | None


@dataclass(frozen=True, slots=True)
class Prepared:
    """An evaluation built but not logged: the rule, the derived record and the
    evidence it rests on (with where each one lives)."""

    rule: Rule
    rule_index: int
    rule_leaf: bytes
    record: Record
    found: tuple[_Found, ...]

    @property
    def result(self) -> str:
        body = self.record.body
        return str(body.get("grade", body.get("result")))

    @property
    def because(self) -> str:
        return str(self.record.body["because"])


def _own(node: LocalNode, subject: Subject, rule: Rule, as_of: int) -> list[_Found]:
    out: list[_Found] = []
    repairers = _repairers(node)
    for e in node.log.by_subject(subject.id, sorted(rule.kinds)):
        st = node.statement_at(e.index)
        if not st.has_body:  # an erased body or a submitted envelope: nothing to read
            continue
        status = status_at(
            st, lifecycle_in(node.log, st.leaf_hash), as_of, authorised_repairers=repairers
        )
        ev = Evidence(st.record, st.leaf_hash, status.state, status.outcome)
        if in_force(ev, as_of) and reads(rule, ev):
            out.append(_Found(ev, e.index, None))
    return out


def _mirrored(node: LocalNode, subject: Subject, rule: Rule, as_of: int) -> list[_Found]:
    out: list[_Found] = []
    mirrors = MirrorBundles(node.home)
    repairers = _repairers(node)
    for origin in mirrors.origins():
        with mirrors.view(origin) as view:
            for e in view.log.by_subject(subject.id, sorted(rule.kinds), end=view.size):
                st = Statement.from_bytes(e.leaf)
                if not st.has_body:  # a person's record: only its origin holds the body
                    continue
                lifecycle = lifecycle_in(view.log, st.leaf_hash, view.size)
                status = status_at(st, lifecycle, as_of, authorised_repairers=repairers)
                ev = Evidence(st.record, st.leaf_hash, status.state, status.outcome)
                if in_force(ev, as_of) and reads(rule, ev):
                    out.append(_Found(ev, e.index, origin))
    return out


def prepare_evaluation(
    node: LocalNode, subject: Subject, rule_leaf: bytes, *, as_of: int, now: int
) -> Prepared:
    """Evaluate the rule with leaf hash ``rule_leaf`` for ``subject`` at ``as_of``; log
    nothing.

    Raises:
        NotFoundError: no entry with ``rule_leaf`` here.
        EvaluationError: not a rule; ``as_of`` after ``now``; a subject type the rule is
            not for; more evidence than ``MAX_EVIDENCE``.
        RuleDefinitionError: the logged rule is invalid.
    """
    if as_of > now:
        raise EvaluationError(f"evaluate: as_of is in the future: expected <= {now}, got {as_of}")
    rule_index, rule_st = find_statement(node, rule_leaf)
    rule = rule_of(rule_st.record)
    found = [*_own(node, subject, rule, as_of), *_mirrored(node, subject, rule, as_of)]
    unique = {f.evidence.leaf_hash: f for f in found}  # own copy first
    ordered = sorted(
        unique.values(), key=lambda f: (event_time(f.evidence.record), f.evidence.leaf_hash)
    )
    if len(ordered) > MAX_EVIDENCE:
        raise EvaluationError(
            f"evaluate: too many evidence records: expected <= {MAX_EVIDENCE}, got {len(ordered)}"
        )
    record = build_evaluation_record(
        rule, rule_st.leaf_hash, subject, [f.evidence for f in ordered], as_of, node.home.region
    )
    return Prepared(rule, rule_index, rule_st.leaf_hash, record, tuple(ordered))


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """A logged evaluation and the bundle carrying its evidence and rule."""

    result: IssueResult
    bundle: Bundle
    prepared: Prepared


def _evidence_bundle(node: LocalNode, f: _Found, now: int) -> Bundle:
    if f.origin is None:
        return node.bundle_with_status(f.index, now, fresh=False)
    with MirrorBundles(node.home, clock=lambda: now).view(f.origin) as view:
        try:
            return view.bundle(f.index, now)
        except RecordWithheldError as e:  # repaired between gathering and bundling
            raise EvaluationError(f"evaluate: mirrored evidence no longer shared: {e}") from e


def log_evaluation(
    node: LocalNode, prepared: Prepared, *, issuer_id: str | None = None, now: int
) -> EvaluationResult:
    """Sign + log ``prepared``'s record and bundle it with its evidence and rule (all
    against the checkpoint published now)."""
    result = node.issue([prepared.record], issuer_id=issuer_id, iat=now)[0]
    node.publish_checkpoint(now)
    # with the log's attestation (a decision is verified for a purpose) and, for the
    # operator's own file, a person's body
    own = node.bundle_with_status(result.index, now, fresh=False, with_body=True)
    bundle = Bundle(
        own.statement,
        own.checkpoint,
        status=own.status,
        sources=tuple(_evidence_bundle(node, f, now) for f in prepared.found),
        policy=node.bundle(prepared.rule_index, now),
        preimage=own.preimage,
        attestation=own.attestation,
        status_proof=own.status_proof,
    )
    return EvaluationResult(result, bundle, prepared)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """A purpose check: the logged decision with its bundle, and the audit statement."""

    decision: EvaluationResult
    audit: IssueResult


def check_purpose(
    node: LocalNode,
    subject: Subject,
    purpose: str,
    *,
    asker: str,
    now: int,
    as_of: int | None = None,
    authorisation: str | None = None,
    issuer_id: str | None = None,
) -> CheckResult:
    """Answer whether ``subject`` qualifies for ``purpose`` (the latest purpose rule of
    that name), log the decision and an ``audit.check`` about the subject.

    Raises:
        EvaluationError: a bad ``asker`` or ``authorisation`` (1-128 characters of
            ``[A-Za-z0-9._:/-]``); the rule is a grade rule, not a purpose rule; see
            ``prepare_evaluation``. Nothing is logged.
        NotFoundError: no purpose rule of that name is logged here.
    """
    for what, value in (("asker", asker), ("authorisation", authorisation)):
        if value is not None and not ASKER_RE.match(value):
            raise EvaluationError(
                f"check: {what} must be 1-128 characters of [A-Za-z0-9._:/-] (a service or "
                "reference, never personal data)"
            )
    _, rule_st = find_rule(node, purpose)
    if rule_st.record.body["rules"].get("type") != "purpose":
        raise EvaluationError(f"check: rule {purpose} is a grade rule, not a purpose rule")
    prepared = prepare_evaluation(
        node, subject, rule_st.leaf_hash, as_of=now if as_of is None else as_of, now=now
    )
    decision = log_evaluation(node, prepared, issuer_id=issuer_id, now=now)
    body: dict[str, Any] = {
        "asker": asker,
        "purpose": purpose,
        "rule_version": prepared.rule.version,
        "result": prepared.result,
    }
    if authorisation is not None:
        body["authorisation"] = authorisation
    audit = Record(
        kind="audit.check",
        region=node.home.region,
        subject=subject,
        body=body,
        valid_from=now,
        refs=(decision.result.leaf_hash, prepared.rule_leaf),
    )
    return CheckResult(decision, node.issue([audit], issuer_id=issuer_id, iat=now)[0])
