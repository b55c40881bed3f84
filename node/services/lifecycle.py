"""Lifecycle statements at a node: build, check and log them; a record's status.

The node-side glue between the pure lifecycle rules (``credex.ledger.lifecycle``) and a
``LocalNode``:

- ``repair``, ``raise_objection``, ``resolve_objection``, ``withdraw``,
  ``record_outcome``: build the body of one lifecycle statement from typed arguments
  (dates default to the day of ``now`` in China Standard Time) and log it with
  ``add_lifecycle``; a repair or withdrawal may erase a person's off-log body at once.
- ``add_lifecycle``: a lifecycle record about a record in this node's log or in its
  mirror of a peer's log (refs[0] = its leaf hash, same subject; the region is the signing
  issuer's), checked with
  ``validate_lifecycle`` against the statements already logged about it anywhere this
  node holds (its log and every mirror: ``credex.node.federation.holdings``) and the
  repair delegations of this node's manifest, and only then signed and logged.
- ``status_of``: the status of a logged (or mirrored) record as of a time, from every
  statement about it this node holds, wherever it was logged.
- ``find_target``: a record in this node's log or in one of its peers' mirrors.
- ``lifecycle_entries``: the lifecycle statements about one record in this node's own
  log (one read of the log's ``target`` index).

Time is passed in (``now``); this module does not print or read files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from credex.ledger.dates import cst_day
from credex.ledger.errors import FormatError, LifecycleError, LifecycleStateError, NotFoundError
from credex.ledger.indexing import lifecycle_in
from credex.ledger.lifecycle import Status, objection_due, validate_lifecycle
from credex.ledger.log import AppendOnlyLog
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement
from credex.ledger.storage.sql import SqlStore
from credex.node.federation.holdings import Holdings, Views
from credex.node.federation.peers import PeerRegistry, mirror_url
from credex.node.local import IssueResult, LocalNode, find_statement
from credex.node.services.erasure import erase_if_ended

__all__ = [
    "COMMITMENT_OUTCOME_WORDS",
    "LifecycleResult",
    "add_lifecycle",
    "find_target",
    "lifecycle_entries",
    "raise_objection",
    "record_outcome",
    "repair",
    "resolve_objection",
    "status_of",
    "withdraw",
]

#: a commitment's outcome as an operator types it -> as logged (``COMMITMENT_OUTCOMES``)
COMMITMENT_OUTCOME_WORDS: Final = {"FULFILLED": "KEPT", "KEPT": "KEPT", "BREACHED": "BREACHED"}


@dataclass(frozen=True, slots=True)
class LifecycleResult:
    """A logged lifecycle statement, and whether the target's body was erased with it
    (``None``: erasure was not asked for)."""

    result: IssueResult
    target: bytes
    body_erased: bool | None = None


def lifecycle_entries(
    node: LocalNode, target_leaf_hash: bytes, size: int | None = None
) -> list[tuple[int, Statement]]:
    """The lifecycle statements about ``target_leaf_hash`` in the first ``size`` entries
    of this node's log, in log order (``credex.ledger.indexing.lifecycle_in``)."""
    return lifecycle_in(node.log, target_leaf_hash, size)


def _mirrored(node: LocalNode, origin: str, leaf_hash: bytes) -> Statement | None:
    """The statement with ``leaf_hash`` in this node's mirror of ``origin`` (opened
    read-only, as ``MirrorBundles.bundle``), or ``None``."""
    store = SqlStore(mirror_url(node.home, origin))
    try:
        with AppendOnlyLog(store) as mirror:
            try:
                index = mirror.index_of(leaf_hash)
            except NotFoundError:
                return None
            return Statement.from_bytes(mirror.entry(index).leaf)
    finally:
        store.close()


def find_target(node: LocalNode, leaf_hash: bytes, origin: str | None = None) -> Statement:
    """The record with ``leaf_hash``: in this node's log, else in the mirror of each peer
    it follows (``credex peers``). With ``origin``, only that log is searched (this
    node's own origin, or a followed peer's).

    Raises:
        NotFoundError: not found there (the message names the leaf, short), or ``origin``
            is neither this node's nor a followed peer's.
    """
    short = leaf_hash.hex()[:16] + "…"
    own = node.home.origin
    if origin is None or origin == own:
        try:
            return find_statement(node, leaf_hash)[1]
        except NotFoundError:
            if origin is not None:
                raise NotFoundError(
                    f"lifecycle: target leaf hash not found: {short} (not in this node's log)"
                ) from None
    followed = [p.origin for p in PeerRegistry(node.home).list()]
    if origin is not None and origin not in followed:
        raise NotFoundError(
            f"lifecycle: {origin!r} is not this node's origin nor a peer it follows "
            f"(credex peers list), so record {short} cannot be found there"
        )
    for peer in [origin] if origin is not None else followed:
        st = _mirrored(node, peer, leaf_hash)
        if st is not None:
            return st
    where = f"the mirror of {origin}" if origin is not None else "this node's log or mirrors"
    raise NotFoundError(f"lifecycle: target leaf hash not found: {short} (not in {where})")


def add_lifecycle(
    node: LocalNode,
    target_leaf_hash: bytes,
    kind: str,
    body: Mapping[str, Any],
    *,
    extra_refs: tuple[bytes, ...] = (),
    issuer_id: str | None = None,
    target_origin: str | None = None,
    now: int,
) -> IssueResult:
    """Validate, then sign + log, a lifecycle statement about a logged or mirrored record.

    The target is looked up with ``find_target`` (``target_origin``: only there). A
    repair, resolution or outcome by an issuer other than the target's is accepted when
    this node's manifest delegates it (``Manifest.repair_authorised``). ``body``'s date
    fields are ISO text; a date after the day of ``now`` is refused. Statements about
    one record are ordered by (iat, log index), so several may be signed in one second;
    one signed before the latest already logged is refused.

    Raises:
        NotFoundError: no record with ``target_leaf_hash`` (named, short) or no entry for
            an ``extra_refs`` hash in this node's log.
        LifecycleError and subclasses: what ``validate_lifecycle`` refuses (too early,
            unauthorised issuer, no open objection, ...), a date in the future, or
            (``LifecycleStateError``) a statement about the target already signed after
            ``now`` (times must not go backwards).
        RecordError: a body that does not fit the kind.
    """
    target = find_target(node, target_leaf_hash, target_origin)
    for ref in extra_refs:
        find_statement(node, ref)
    today = cst_day(now)
    for name in ("decided_on", "raised_on", "closed_on", "withdrawn_on", "verified_on"):
        value = body.get(name)
        if isinstance(value, str) and value > today:
            raise LifecycleError(
                f"lifecycle: {kind} field {name!r} is in the future: expected on or "
                f"before {today}, got {value}"
            )
    issuer = issuer_id or node.home.platform_issuer
    # the statement is the signing issuer's, in its region (a delegate's about another
    # region's record too); the subject is the target's (a body-less envelope: its sub)
    subject = target.record.subject if target.has_body else Subject("person", target.claims.sub)
    record = Record(
        kind=kind,
        region=node.home.issuer_region(issuer),
        subject=subject,
        body=dict(body),
        valid_from=now,
        refs=(target.leaf_hash, *extra_refs),
    )
    stmt = node.sign([record], issuer, now)[0]
    holdings = Holdings.of(node)
    with holdings.views() as views:
        prior = [h.statement for h in holdings.lifecycle(target.leaf_hash, views)]
    if any(p.leaf_hash == stmt.leaf_hash for p in prior):
        return node.issue([record], issuer_id=issuer, iat=now)[0]  # already logged
    latest = max((p.claims.iat for p in prior), default=None)
    if latest is not None and latest > now:
        # status_at orders by (iat, log index): a later log position needs a time >= all
        raise LifecycleStateError(
            f"lifecycle: an earlier statement about this record was signed at {latest}, "
            f"after now ({now}); statements about one record cannot go back in time"
        )
    authorised = holdings.authorised()
    ok = authorised is not None and authorised(target, stmt)
    validate_lifecycle(target, stmt, authorised=ok, prior=prior)
    return node.issue([record], issuer_id=issuer, iat=now)[0]


def status_of(
    node: LocalNode, target_leaf_hash: bytes, as_of: int, *, target_origin: str | None = None
) -> tuple[Statement, Status]:
    """The target statement and its status at ``as_of`` from every statement about it
    this node holds: its own log and every mirror (the target itself may be mirrored:
    see ``find_target``), judged with the delegations of this node's manifest.

    Raises:
        NotFoundError: no record with ``target_leaf_hash``.
        LifecycleError / DateFormatError: the target's window cannot be computed.
    """
    target = find_target(node, target_leaf_hash, target_origin)
    holdings = Holdings.of(node)
    with holdings.views() as views:
        held = holdings.lifecycle(target.leaf_hash, views)
        origin = _origin_of(node, views, target.leaf_hash)
    return target, holdings.status(target, held, origin, as_of)


def _origin_of(node: LocalNode, views: Views, leaf_hash: bytes) -> str:
    """The log holding the record ``leaf_hash``: this node's, else the mirror's."""
    try:
        node.log.index_of(leaf_hash)
        return node.home.origin
    except NotFoundError:
        pass
    for origin, view in views.items():
        try:
            view.log.index_of(leaf_hash)
            return origin
        except NotFoundError:
            continue
    return node.home.origin


def _day(d: date | None, now: int) -> str:
    return cst_day(now) if d is None else d.isoformat()


def _log(
    node: LocalNode,
    target: bytes,
    kind: str,
    body: dict[str, Any],
    *,
    now: int,
    issuer_id: str | None,
    target_origin: str | None,
    extra_refs: tuple[bytes, ...] = (),
    erase_body: bool = False,
) -> LifecycleResult:
    r = add_lifecycle(
        node,
        target,
        kind,
        body,
        extra_refs=extra_refs,
        issuer_id=issuer_id,
        target_origin=target_origin,
        now=now,
    )
    erased = None
    if erase_body:
        info = erase_if_ended(node, target, now)
        erased = info is not None and not info.held
    return LifecycleResult(r, target, erased)


def repair(
    node: LocalNode,
    target: bytes,
    *,
    route: str,
    now: int,
    decided_on: date | None = None,
    channel: str | None = None,
    issuer_id: str | None = None,
    target_origin: str | None = None,
    erase_body: bool = False,
) -> LifecycleResult:
    """Log a credit repair (信用修复) of ``target``; refused before the minimum
    publication end or by an issuer other than the finding's (or a delegate)."""
    body: dict[str, Any] = {"route": route, "decided_on": _day(decided_on, now)}
    if channel is not None:
        body["channel"] = channel
    return _log(
        node,
        target,
        "lifecycle.repair",
        body,
        now=now,
        issuer_id=issuer_id,
        target_origin=target_origin,
        erase_body=erase_body,
    )


def raise_objection(
    node: LocalNode,
    target: bytes,
    *,
    now: int,
    raised_on: date | None = None,
    grounds: str | None = None,
    due_by: date | None = None,
    rule: str | None = None,
    filed_by: str | None = None,
    channel: str | None = None,
    issuer_id: str | None = None,
    target_origin: str | None = None,
) -> LifecycleResult:
    """Log an objection (异议) to ``target``: the record is suspended while checked.
    ``rule`` (``credex.ledger.lifecycle.OBJECTION_RULES``) computes ``due_by`` in
    working days from ``raised_on`` when it is not given; ``filed_by`` / ``channel``
    say who filed it where (a subject may file through any node).

    Raises:
        LifecycleError: an unknown rule, or both ``rule`` and ``due_by``.
    """
    body: dict[str, Any] = {"raised_on": _day(raised_on, now)}
    if grounds is not None:
        body["grounds"] = grounds
    if rule is not None:
        if due_by is not None:
            raise LifecycleError("lifecycle: give --due-by or --rule, not both")
        due_by = objection_due(date.fromisoformat(body["raised_on"]), rule).day
    if due_by is not None:
        body["due_by"] = due_by.isoformat()
    for name, value in (("filed_by", filed_by), ("channel", channel)):
        if value is not None:
            body[name] = value
    return _log(
        node,
        target,
        "lifecycle.objection",
        body,
        now=now,
        issuer_id=issuer_id,
        target_origin=target_origin,
    )


def resolve_objection(
    node: LocalNode,
    target: bytes,
    *,
    outcome: str,
    now: int,
    closed_on: date | None = None,
    objection: bytes | None = None,
    issuer_id: str | None = None,
    target_origin: str | None = None,
) -> LifecycleResult:
    """Log the resolution of an open objection to ``target`` (``objection``: the leaf
    hash of the one closed; default the oldest open). ``outcome`` is one of
    ``OBJECTION_OUTCOMES`` in any case."""
    body = {"outcome": outcome.strip().upper(), "closed_on": _day(closed_on, now)}
    return _log(
        node,
        target,
        "lifecycle.objection-resolved",
        body,
        now=now,
        issuer_id=issuer_id,
        target_origin=target_origin,
        extra_refs=() if objection is None else (objection,),
    )


def withdraw(
    node: LocalNode,
    target: bytes,
    *,
    reason: str,
    now: int,
    on: date | None = None,
    issuer_id: str | None = None,
    target_origin: str | None = None,
    erase_body: bool = False,
) -> LifecycleResult:
    """Log the withdrawal of ``target`` (only its issuer may)."""
    body = {"reason": reason, "withdrawn_on": _day(on, now)}
    return _log(
        node,
        target,
        "lifecycle.withdrawal",
        body,
        now=now,
        issuer_id=issuer_id,
        target_origin=target_origin,
        erase_body=erase_body,
    )


def record_outcome(
    node: LocalNode,
    target: bytes,
    *,
    outcome: str,
    now: int,
    verified_on: date | None = None,
    verified_by: str | None = None,
    issuer_id: str | None = None,
    target_origin: str | None = None,
) -> LifecycleResult:
    """Log whether the commitment ``target`` (信用承诺) was kept: FULFILLED (logged as
    KEPT) or BREACHED. Only its issuer or a delegate may; the first outcome counts.

    Raises:
        FormatError: another outcome word.
    """
    value = COMMITMENT_OUTCOME_WORDS.get(outcome.strip().upper())
    if value is None:
        raise FormatError(
            f"lifecycle: commitment outcome: expected FULFILLED or BREACHED, got {outcome!r}"
        )
    body: dict[str, Any] = {"outcome": value, "verified_on": _day(verified_on, now)}
    if verified_by is not None:
        body["verified_by"] = verified_by
    return _log(
        node,
        target,
        "commitment.outcome",
        body,
        now=now,
        issuer_id=issuer_id,
        target_origin=target_origin,
    )
