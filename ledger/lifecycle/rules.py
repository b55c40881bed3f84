"""Which lifecycle statement may be logged about a record: ``validate_lifecycle``.

Also the fold every check shares: ``Fold`` takes a record's accepted lifecycle statements
in order and keeps its open objections, its first commitment outcome and the decisive
terminal statements (repair, withdrawal, correction, supersession). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from credex.ledger.dates import cst_day, date_to_unix
from credex.ledger.errors import (
    LifecycleError,
    LifecycleStateError,
    LifecycleTargetError,
    NoOpenObjectionError,
    RepairTooEarlyError,
    UnauthorisedLifecycleError,
    UnauthorisedRepairError,
)
from credex.ledger.lifecycle.model import (
    COMMITMENT_OUTCOMES,
    OBJECTION_OUTCOMES,
    STATUS_KINDS,
    State,
)
from credex.ledger.lifecycle.windows import body_date, publication_window
from credex.ledger.statement import Statement

__all__ = [
    "Fold",
    "check_authority",
    "check_target",
    "fold",
    "short",
    "validate_lifecycle",
]


def short(st: Statement) -> str:
    """A leaf hash as messages show it: 16 hex digits and an ellipsis."""
    return st.leaf_hash.hex()[:16] + "…"


def check_target(target: Statement, stmt: Statement) -> None:
    """``stmt`` is a lifecycle statement about ``target``: its kind, ``refs[0]`` and subject.

    Raises:
        LifecycleTargetError: it is not.
    """
    kind = stmt.record.kind
    if kind not in STATUS_KINDS:
        raise LifecycleTargetError(
            f"lifecycle: statement {short(stmt)} is a {kind}, not a lifecycle statement"
        )
    if target.kind in STATUS_KINDS:
        raise LifecycleTargetError(f"lifecycle: target {short(target)} is itself a {target.kind}")
    if not stmt.record.refs or stmt.record.refs[0] != target.leaf_hash:
        got = stmt.record.refs[0].hex() if stmt.record.refs else "none"
        raise LifecycleTargetError(
            f"lifecycle: statement {short(stmt)} does not name the target: expected refs[0] "
            f"{target.leaf_hash.hex()}, got {got}"
        )
    if stmt.record.subject.id != target.claims.sub:
        raise LifecycleTargetError(
            f"lifecycle: statement {short(stmt)} is about another subject than its target"
        )
    if kind == "commitment.outcome" and target.kind != "commitment":
        raise LifecycleTargetError(
            f"lifecycle: commitment.outcome {short(stmt)} targets a {target.record.kind}"
        )


def check_authority(target: Statement, stmt: Statement, *, authorised: bool = False) -> None:
    """The one authority rule for every status-changing statement (objection, resolution,
    repair, withdrawal, commitment outcome): it is signed by the issuer of ``target``
    (谁认定、谁修复), or ``authorised`` says a delegation of the target's region in the
    federation manifest covers its issuer for the target's kind at its ``iat``. Needs no
    body: it compares issuers (a hash envelope's kind is in its header).

    Raises:
        UnauthorisedRepairError: a repair by anyone else.
        UnauthorisedLifecycleError: any other lifecycle statement by anyone else.
    """
    if stmt.claims.iss == target.claims.iss or authorised:
        return
    kind = stmt.kind.removeprefix("lifecycle.")
    cls = UnauthorisedRepairError if stmt.kind == "lifecycle.repair" else UnauthorisedLifecycleError
    raise cls(
        f"lifecycle: {kind} by issuer {stmt.claims.iss!r}: only the issuer that made the "
        f"finding ({target.claims.iss!r}) or one a manifest delegation of its region "
        f"authorises for {target.kind} may change its status"
    )


@dataclass(slots=True)
class Fold:
    """A record's lifecycle so far, from its accepted statements taken in order: the
    objections raised and those still open, the first commitment outcome, and the first
    statement that made the record repaired, withdrawn, corrected or superseded."""

    objections: dict[bytes, Statement] = field(default_factory=dict)
    open: dict[bytes, Statement] = field(default_factory=dict)
    outcome: Statement | None = None
    found: dict[State, Statement] = field(default_factory=dict)

    def closes(self, stmt: Statement) -> bytes | None:
        """The objection a resolution closes: the first it names in ``refs[1:]``, else
        the oldest open one ([A6])."""
        named = [r for r in stmt.record.refs[1:] if r in self.objections]
        if named:
            return named[0]
        return next(iter(self.open), None)

    def add(self, s: Statement) -> None:
        """Take one more accepted statement into account."""
        kind = s.record.kind
        if kind == "lifecycle.objection":
            self.objections[s.leaf_hash] = s
            self.open[s.leaf_hash] = s
        elif kind == "lifecycle.objection-resolved":
            closed = self.closes(s)
            if closed is not None:
                self.open.pop(closed, None)
            decided = "corrected" in self.found or "superseded" in self.found
            if s.record.body["outcome"] == "CORRECTED" and not decided:
                extra = [r for r in s.record.refs[1:] if r not in self.objections]
                self.found["superseded" if extra else "corrected"] = s
        elif kind == "lifecycle.repair":
            self.found.setdefault("repaired", s)
        elif kind == "lifecycle.withdrawal":
            self.found.setdefault("withdrawn", s)
        elif kind == "lifecycle.supersession":
            self.found.setdefault("superseded", s)
        elif kind == "commitment.outcome" and self.outcome is None:
            self.outcome = s


def fold(statements: Sequence[Statement]) -> Fold:
    """The ``Fold`` of ``statements``, taken in the order given."""
    f = Fold()
    for s in statements:
        f.add(s)
    return f


def validate_lifecycle(
    target: Statement,
    stmt: Statement,
    *,
    authorised: bool = False,
    prior: Sequence[Statement] = (),
) -> None:
    """The checks a node runs before accepting ``stmt`` about ``target``.

    Args:
        target: the record the statement is about (already verified).
        stmt: the lifecycle statement (already verified).
        authorised: a manifest delegation of the target's region authorises ``stmt``'s
            issuer to change the status of the target's kind (谁认定、谁修复 otherwise:
            ``check_authority``).
        prior: lifecycle statements about ``target`` already accepted, in order.

    Raises:
        LifecycleTargetError: not a lifecycle kind, refs[0] is not the target's leaf
            hash, another subject, or an outcome for a record that is no commitment.
        UnauthorisedRepairError: a repair by another issuer, not authorised.
        UnauthorisedLifecycleError: an objection, resolution, withdrawal or outcome by
            another issuer, not authorised (one rule for all: ``check_authority``).
        RepairTooEarlyError: a repair decided before the minimum publication end.
        NoOpenObjectionError: a resolution with no open objection to close.
        LifecycleStateError: a second commitment outcome.
        LifecycleError: an unknown outcome value or an invalid target window.
        DateFormatError: a date field that is not ISO text.
    """
    check_target(target, stmt)
    check_authority(target, stmt, authorised=authorised)
    kind, body = stmt.record.kind, stmt.record.body
    if kind == "lifecycle.objection":
        body_date(body, "raised_on", kind)
        if "due_by" in body:
            body_date(body, "due_by", kind)
    elif kind == "lifecycle.objection-resolved":
        body_date(body, "closed_on", kind)
        if body["outcome"] not in OBJECTION_OUTCOMES:
            raise LifecycleError(
                f"lifecycle: objection outcome: expected one of {', '.join(OBJECTION_OUTCOMES)}, "
                f"got {body['outcome']!r}"
            )
        f = fold(prior)
        named = [r for r in stmt.record.refs[1:] if r in f.objections]
        if named and named[0] not in f.open:
            raise NoOpenObjectionError(
                f"lifecycle: objection {named[0].hex()[:16]}… is already resolved"
            )
        if f.closes(stmt) is None:
            raise NoOpenObjectionError(
                f"lifecycle: resolution {short(stmt)} has no open objection to close"
            )
    elif kind == "lifecycle.repair":
        decided = body_date(body, "decided_on", kind)
        window = publication_window(target.record)
        if date_to_unix(decided) < window.min_until:
            raise RepairTooEarlyError(
                f"lifecycle: repair decided on {decided.isoformat()} is before the minimum "
                f"publication end: expected on or after {cst_day(window.min_until)} "
                f"({window.regime or target.record.kind}, {window.severity or 'no class'})"
            )
    elif kind == "lifecycle.supersession":
        body_date(body, "superseded_on", kind)
        refs = stmt.record.refs
        if len(refs) != 2 or refs[1] == target.leaf_hash:
            raise LifecycleTargetError(
                f"lifecycle: supersession {short(stmt)} must name the record and then its "
                "replacement (refs: 2 different leaf hashes)"
            )
    elif kind == "lifecycle.withdrawal":
        body_date(body, "withdrawn_on", kind)
    elif kind == "commitment.outcome":
        body_date(body, "verified_on", kind)
        if body["outcome"] not in COMMITMENT_OUTCOMES:
            raise LifecycleError(
                f"lifecycle: commitment outcome: expected KEPT or BREACHED, got {body['outcome']!r}"
            )
        if fold(prior).outcome is not None:
            raise LifecycleStateError(
                f"lifecycle: commitment {short(target)} already has an outcome"
            )
