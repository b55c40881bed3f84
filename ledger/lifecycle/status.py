"""A record's status at a time: ``status_at`` folds its lifecycle statements ([A6]-[A10]).

Statements are taken in (iat, log position) order; those signed after ``as_of`` and those
``validate_lifecycle`` refuses are left out with a reason. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from credex.ledger.dates import cst_day, date_to_unix
from credex.ledger.errors import (
    DateFormatError,
    LifecycleError,
)
from credex.ledger.lifecycle.model import TERMINAL_STATES, State, Status
from credex.ledger.lifecycle.rules import (
    check_authority,
    check_target,
    fold,
    short,
    validate_lifecycle,
)
from credex.ledger.lifecycle.windows import body_date, publication_window
from credex.ledger.statement import Statement

__all__ = [
    "status_at",
]


def _due_by(body: Mapping[str, Any], kind: str) -> date | None:
    """An objection's ``due_by`` day, or None when absent or not an ISO date (a signed
    body is not trusted to be well formed: the status still reads, without the note)."""
    if "due_by" not in body:
        return None
    try:
        return body_date(body, "due_by", kind)
    except DateFormatError:
        return None


def _describe(st: Statement) -> str:
    kind, body = st.record.kind, st.record.body
    who = f"by {st.claims.iss}"
    if kind == "lifecycle.objection":
        due = f", due by {body['due_by']}" if "due_by" in body else ""
        return f"objection raised on {body['raised_on']} {who}{due}"
    if kind == "lifecycle.objection-resolved":
        return f"objection closed on {body['closed_on']} {who}: {body['outcome']}"
    if kind == "lifecycle.repair":
        return f"repaired on {body['decided_on']} {who} (route {body['route']})"
    if kind == "lifecycle.withdrawal":
        return f"withdrawn on {body['withdrawn_on']} {who}"
    if kind == "lifecycle.supersession":
        replacement = st.record.refs[1].hex()[:16] if len(st.record.refs) > 1 else "?"
        return f"superseded on {body['superseded_on']} {who} by {replacement}…"
    return f"commitment {body['outcome'].lower()}, verified on {body['verified_on']} {who}"


def status_at(
    target: Statement,
    lifecycle: Sequence[Statement] | Sequence[tuple[int, Statement]],
    as_of: int,
    *,
    authorised_repairers: Callable[[Statement, Statement], bool] | None = None,
    objection_suspends_eligibility: bool = True,
    positions: Mapping[bytes, int] | None = None,
) -> Status:
    """The status of ``target`` at ``as_of`` (Unix seconds) given its lifecycle statements.

    Statements are taken in (iat, log position) order whatever order they are given in
    ([A10]); those signed after ``as_of`` are ignored, and so is each one
    ``validate_lifecycle`` refuses (a too-early or unauthorised repair, ...), with a reason.

    Args:
        lifecycle: the statements, or ``(log index, statement)`` pairs (as
            ``lifecycle_entries`` returns them at a node).
        positions: log index by leaf hash (e.g. from each status bundle's receipt);
            merged with the indices of ``(index, statement)`` pairs. A statement with
            no position sorts after the positioned ones of its second, by leaf hash.
        authorised_repairers: ``(target, stmt) -> bool``, True when a manifest delegation
            lets ``stmt``'s issuer change the status of ``target`` (the one authority
            rule, ``check_authority``: otherwise only ``target``'s own issuer may).
        objection_suspends_eligibility: node policy for records under objection [A7].

    Raises:
        LifecycleTargetError: a statement that is not a lifecycle kind or does not name
            ``target`` (refs[0]) or its subject.
        DateFormatError / LifecycleError: the target's own window cannot be computed.
    """
    # a person's record whose body is not held (erased after a repair, or a mirror's copy):
    # its window is unknown and statements cannot be re-validated against its dates (they
    # were by the node that logged them); the authority rule needs no body and still holds
    window = publication_window(target.record) if target.has_body else None
    unique: dict[bytes, Statement] = {}
    where: dict[bytes, int] = dict(positions or {})
    for item in lifecycle:
        if isinstance(item, tuple):
            index, s = item
            where[s.leaf_hash] = index
        else:
            s = item
        check_target(target, s)
        unique[s.leaf_hash] = s
    unknown = 2**64  # after every real log index

    def order(s: Statement) -> tuple[int, int, bytes]:
        return (s.claims.iat, where.get(s.leaf_hash, unknown), s.leaf_hash)

    ordered = sorted(unique.values(), key=order)
    accepted: list[Statement] = []
    ignored: list[str] = []
    for s in ordered:
        if s.claims.iat > as_of:
            continue
        ok = authorised_repairers is not None and authorised_repairers(target, s)
        try:
            if window is None:  # no body: the dates cannot be checked, the authority can
                check_authority(target, s, authorised=ok)
            else:
                validate_lifecycle(target, s, authorised=ok, prior=accepted)
        except (LifecycleError, DateFormatError) as e:
            ignored.append(f"ignored {s.record.kind} {short(s)}: {e}")
            continue
        accepted.append(s)

    f = fold(accepted)
    found = f.found

    state: State = "active"
    reasons: list[str] = []
    for terminal in TERMINAL_STATES:
        if terminal in found:
            state = terminal
            reasons.append(f"{terminal}: {_describe(found[terminal])}")
            break
    else:
        if window is not None and window.max_until is not None and as_of >= window.max_until:
            state = "expired"
            reasons.append(f"expired: publication ended on {cst_day(window.max_until)}")
        elif f.open:
            state = "under-objection"
            for o in f.open.values():
                reasons.append(f"under objection: {_describe(o)}")
                due = _due_by(o.record.body, o.record.kind)
                if due is not None and as_of >= date_to_unix(due):
                    reasons.append(f"objection {short(o)} is overdue since {due.isoformat()}")
    if f.outcome is not None:
        reasons.append(_describe(f.outcome))
    reasons.append(
        f"window: {window.reason}"
        if window is not None
        else "window: unknown here (the record's body is not held: erased or kept by its issuer)"
    )
    if state == "active":
        usable = {"punitive": True, "eligibility": True}
    elif state == "under-objection":
        usable = {"punitive": False, "eligibility": not objection_suspends_eligibility}
    else:
        usable = {"punitive": False, "eligibility": False}
    return Status(
        state=state,
        usable_for=usable,
        reasons=(*reasons, *ignored),
        evidence=tuple(s.leaf_hash.hex() for s in accepted),
        as_of=as_of,
        window=window,
        outcome=f.outcome.record.body["outcome"] if f.outcome is not None else None,
        ignored=tuple(ignored),
    )
