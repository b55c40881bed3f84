"""Credit commitments, the whole loop (核查—承诺—履约; issue #12 point 3).

- ``COMMITMENT_TYPES``: the kinds of commitment the seeds name, whether each needs a
  deadline, and the negative record a breach produces, each with its provenance.
- ``make_commitment``: check first (核查): every gate rule (purpose rules such as
  ``COMMITMENT_GATE`` or ``HUIZHOU_COMMITMENT_GATE``: a red 惠信码 or an in-force black
  list refuses) is evaluated without logging; one ``deny`` refuses the commitment with
  the rule's reason (``CommitmentRefusedError``) and nothing is logged. Otherwise each
  gate's decision is logged, then the ``commitment`` with ``refs`` naming them.
- ``due``: commitments with a deadline within a window (and overdue ones) that have no
  outcome yet: the reminders of 事中智能提醒 (seed 002 case 12).
- ``keep`` / ``breach``: the outcome (履约). A breach logs the ``commitment.outcome``
  ``BREACHED`` and then the ``commitment.breach`` negative record the type prescribes,
  linked to the commitment and its outcome (``refs``), published for one year [A].

Time is passed in (``now``); this module does not print or read files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from credex.ledger.dates import add_years, cst_date, date_to_unix
from credex.ledger.errors import CommitmentRefusedError, FormatError
from credex.ledger.indexing import lifecycle_in
from credex.ledger.lifecycle import status_at
from credex.ledger.provenance import Provenance
from credex.ledger.record import Record, Subject
from credex.node.local import IssueResult, LocalNode
from credex.node.services.lifecycle import LifecycleResult, find_target, record_outcome
from credex.node.services.rules import (
    EvaluationResult,
    find_rule,
    log_evaluation,
    prepare_evaluation,
)

__all__ = [
    "COMMITMENT_TYPES",
    "DEFAULT_GATES",
    "Breach",
    "CommitmentType",
    "Due",
    "Made",
    "breach",
    "due",
    "keep",
    "make_commitment",
]

#: the gate every commitment passes unless others are named
DEFAULT_GATES: Final = ("COMMITMENT_GATE",)


@dataclass(frozen=True, slots=True)
class CommitmentType:
    """A kind of commitment: whether it has a deadline, what a breach records."""

    name: str
    needs_deadline: bool
    consequence: str
    provenance: Provenance


_HUANGPU: Final = (
    "seed 002 case 12 (广州市黄埔区 承诺制信任审批): 信用承诺及履行承诺情况全面纳入申请人信用记录; "
    "区分不同失信情形实施惩戒"
)
COMMITMENT_TYPES: Final[Mapping[str, CommitmentType]] = {
    t.name: t
    for t in (
        CommitmentType(
            "容缺受理",
            True,
            "容缺受理 commitment not kept: the missing documents were not supplied by the "
            "deadline; breach of a credit commitment entered in the credit record",
            Provenance("published", f"seed 000 (宁波): 仅需承诺领证时补齐容缺证书; {_HUANGPU}"),
        ),
        CommitmentType(
            "告知承诺",
            True,
            "告知承诺 not kept: the applicant did not meet the conditions it committed to; "
            "breach entered in the credit record",
            Provenance("published", _HUANGPU),
        ),
        CommitmentType(
            "信用修复型",
            False,
            "the commitment made for a credit repair was not kept; breach entered in the "
            "credit record",
            Provenance(
                "reported",
                "repair needs a public 信用承诺 (《信用修复管理办法》 2026, DOMAIN.md §3.1 C, "
                "mirrors); whether it was kept goes into the credit record (DOMAIN.md §3.5)",
            ),
        ),
        CommitmentType(
            "审批替代型",
            True,
            "审批替代型 commitment not kept; breach entered in the credit record",
            Provenance("reported", "DOMAIN.md §3.5 (国办发〔2019〕35号 as summarised)"),
        ),
        CommitmentType(
            "主动公示型",
            False,
            "主动公示型 commitment not kept; breach entered in the credit record",
            Provenance("reported", "DOMAIN.md §3.5 (国办发〔2019〕35号 as summarised)"),
        ),
        CommitmentType(
            "行业自律型",
            False,
            "行业自律型 commitment not kept; breach entered in the credit record",
            Provenance("reported", "DOMAIN.md §3.5 (国办发〔2019〕35号 as summarised)"),
        ),
    )
}
#: how long a breach record is published [A]: one year, the 一般 class maximum of 2026
_BREACH_YEARS: Final = 1


def _type(name: str) -> CommitmentType:
    found = COMMITMENT_TYPES.get(name)
    if found is None:
        raise FormatError(
            f"commitment: type: expected one of {', '.join(COMMITMENT_TYPES)}, got {name[:32]!r}"
        )
    return found


@dataclass(frozen=True, slots=True)
class Made:
    """A commitment accepted: its entry and the gate decisions logged before it."""

    result: IssueResult
    decisions: tuple[EvaluationResult, ...]


def make_commitment(
    node: LocalNode,
    subject: Subject,
    *,
    commitment_type: str,
    matter: str,
    now: int,
    deadline: date | None = None,
    gates: Sequence[str] = DEFAULT_GATES,
    text_hash: bytes | None = None,
    issuer_id: str | None = None,
) -> Made:
    """Check, then log a credit commitment by ``subject``.

    Raises:
        FormatError: an unknown type, a missing or past deadline, no gate.
        CommitmentRefusedError: a gate rule denies (its name, grade and reason); nothing
            is logged.
        NotFoundError: a gate rule that is not logged here.
    """
    kind = _type(commitment_type)
    made_on = cst_date(now)
    if kind.needs_deadline and deadline is None:
        raise FormatError(f"commitment: a {kind.name} commitment needs a deadline")
    if deadline is not None and deadline < made_on:
        raise FormatError(
            f"commitment: deadline before the commitment: expected >= {made_on}, got {deadline}"
        )
    if not gates or not matter.strip():
        raise FormatError("commitment: at least one gate rule and a matter are required")
    prepared = []
    for name in gates:
        _, rule = find_rule(node, name)
        p = prepare_evaluation(node, subject, rule.leaf_hash, as_of=now, now=now)
        if p.rule.type != "purpose":
            raise FormatError(f"commitment: gate {name} is a grade rule, not a purpose rule")
        if p.result == "deny":
            raise CommitmentRefusedError(
                f"commitment: refused by {name} v{p.rule.version} "
                f"[{p.rule.provenance.grade}]: {p.because}"
            )
        prepared.append(p)
    decisions = tuple(log_evaluation(node, p, issuer_id=issuer_id, now=now) for p in prepared)
    body: dict[str, Any] = {
        "commitment_type": kind.name,
        "matter": matter.strip(),
        "made_on": made_on.isoformat(),
    }
    if deadline is not None:
        body["deadline"] = deadline.isoformat()
    if text_hash is not None:
        body["text_hash"] = text_hash
    record = Record(
        kind="commitment",
        region=node.home.region,
        subject=subject,
        body=body,
        valid_from=now,
        refs=tuple(d.result.leaf_hash for d in decisions),
    )
    return Made(node.issue([record], issuer_id=issuer_id, iat=now)[0], decisions)


@dataclass(frozen=True, slots=True)
class Due:
    """A commitment with a deadline and no outcome yet."""

    index: int
    leaf_hash: bytes
    subject: str
    commitment_type: str
    matter: str
    deadline: str
    days_left: int

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "leaf_hash": self.leaf_hash.hex(),
            "subject": self.subject,
            "commitment_type": self.commitment_type,
            "matter": self.matter,
            "deadline": self.deadline,
            "days_left": self.days_left,
            "overdue": self.days_left < 0,
        }


def due(node: LocalNode, *, as_of: int, within_days: int) -> list[Due]:
    """Commitments in this node's log with a deadline at most ``within_days`` after the
    day of ``as_of`` (overdue ones included), still active and without an outcome,
    earliest deadline first.

    Raises:
        FormatError: ``within_days`` outside 0-3660.
    """
    if not 0 <= within_days <= 3660:
        raise FormatError(f"commitments: window: expected 0-3660 days, got {within_days}")
    today = cst_date(as_of)
    out: list[Due] = []
    for e in node.store.find_by_kind(["commitment"], node.log.size):
        st = node.statement_at(e.index)
        if not st.has_body:
            continue
        deadline = st.record.body.get("deadline")
        if not isinstance(deadline, str):
            continue
        try:
            left = (date.fromisoformat(deadline) - today).days
        except ValueError:
            continue
        if left > within_days:
            continue
        status = status_at(st, lifecycle_in(node.log, st.leaf_hash), as_of)
        if status.outcome is not None or status.state != "active":
            continue
        body = st.record.body
        out.append(
            Due(
                e.index,
                st.leaf_hash,
                st.claims.sub,
                str(body["commitment_type"]),
                str(body["matter"]),
                deadline,
                left,
            )
        )
    return sorted(out, key=lambda d: (d.deadline, d.index))


def keep(
    node: LocalNode, commitment: bytes, *, now: int, verified_by: str | None = None
) -> LifecycleResult:
    """Log that the commitment was kept (履约)."""
    return record_outcome(node, commitment, outcome="KEPT", now=now, verified_by=verified_by)


@dataclass(frozen=True, slots=True)
class Breach:
    """A breach: the ``BREACHED`` outcome and the negative record it produced."""

    outcome: LifecycleResult
    record: IssueResult


def breach(
    node: LocalNode,
    commitment: bytes,
    *,
    now: int,
    breached_on: date | None = None,
    verified_by: str | None = None,
    issuer_id: str | None = None,
) -> Breach:
    """Log the commitment's ``BREACHED`` outcome, then the ``commitment.breach`` record
    its type prescribes (refs: the commitment, the outcome), valid for one year [A].

    Raises:
        NotFoundError: no such commitment here or in a mirror.
        LifecycleError and subclasses: see ``record_outcome`` (an issuer that may not,
            an outcome already recorded, a date in the future).
        FormatError: the target is not a commitment of a known type.
    """
    target = find_target(node, commitment)
    if target.record.kind != "commitment":
        raise FormatError(f"commitment: target is a {target.record.kind}, not a commitment")
    kind = _type(str(target.record.body.get("commitment_type")))
    on = breached_on or cst_date(now)
    outcome = record_outcome(
        node,
        commitment,
        outcome="BREACHED",
        now=now,
        verified_on=on,
        verified_by=verified_by,
        issuer_id=issuer_id,
    )
    body: dict[str, Any] = {
        "commitment_type": kind.name,
        "matter": target.record.body["matter"],
        "breached_on": on.isoformat(),
        "consequence": kind.consequence,
        "provenance": kind.provenance.grade,
    }
    if "deadline" in target.record.body:
        body["deadline"] = target.record.body["deadline"]
    record = Record(
        kind="commitment.breach",
        region=node.home.region,
        subject=target.record.subject,
        body=body,
        valid_from=date_to_unix(on),
        valid_until=date_to_unix(add_years(on, _BREACH_YEARS)),
        refs=(target.leaf_hash, outcome.result.leaf_hash),
    )
    return Breach(outcome, node.issue([record], issuer_id=issuer_id, iat=now)[0])
