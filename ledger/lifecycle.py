"""The legal status of a credit record at a time: publication windows and lifecycle.

Pure functions over already-parsed statements (DOMAIN.md §3):

- ``regime_for`` picks the publication regime from a record's decision date:
  ``RULES_2019`` (发改办财金〔2019〕527号) before 2023-05-01, ``ORDER58_2023`` (NDRC Order 58)
  from 2023-05-01 to 2026-03-31, ``CRM_2026`` (《信用修复管理办法》) from 2026-04-01.
- ``publication_window`` gives a record's minimum and maximum publication ends.
- ``validate_lifecycle`` is the check a node runs before accepting one lifecycle
  statement about a target record (kind, refs, subject, issuer, minimum window, open
  objection).
- ``status_at`` folds the lifecycle statements signed up to ``as_of`` into a ``Status``:
  state, whether the record may be used for punitive or eligibility purposes, reasons
  and the leaf hashes of the statements that decided it.

Every time is passed in (Unix seconds); dates in record bodies are ISO ``YYYY-MM-DD``
text meaning 00:00 China Standard Time (UTC+8), as ``adapters.dates`` writes them (that
module is not imported: ``ledger`` never depends on ``adapters``). This module does
not verify signatures, inclusion or trust (``credex.ledger.verify`` does, first), read
the clock, store anything or print.

Assumptions (tagged [A]; DOMAIN.md §3 leaves them open):

- [A1] Decision dates before 2023-05-01 use the 2019 rule (serious 6 months-3 years,
  otherwise 3 months-1 year) whatever the date; a minor penalty counts as general there.
- [A2] Severity comes from the body's ``severity`` (minor/general/serious or
  轻微/一般/严重). Otherwise it is inferred from ``penalty_types`` and ``fine_wan``:
  serious for 吊销 / 限制从业 / 禁止从业 / 责令关闭 or a fine of at least 100 万元; minor
  when every type is 警告 / 通报批评 (or 罚款 with a fine of at most 0.3 万元, the
  简易程序 ceiling for organisations); general otherwise.
- [A3] Order 58's one-year minimum for food, drugs, special equipment, work safety and
  fire safety has no body field (``KIND_SPECS`` has no ``sector``); it applies when
  ``basis``, ``violation_type`` or ``note`` names the field (食品, 药品, 特种设备, 安全生产,
  消防) or ``note`` carries ``sector:food|drugs|special-equipment|work-safety|fire-safety``.
- [A4] A penalty's ``valid_until`` (the issuer's 公示截止期) can shorten, never lengthen,
  the legal maximum, and never below the minimum.
- [A5] 失信被执行人: listed from ``listed_on`` for ``period_years`` (default 2, 2-5 allowed
  by the 2017 rule's 1-3 year extension); no minimum (early deletion on performance).
  ``list.black``: ``list_until`` or ``valid_until``, no minimum. Other kinds: from
  ``valid_from`` to ``valid_until``.
- [A6] Objection outcomes: ``CORRECTED`` (the record was wrong) makes it ``corrected``,
  or ``superseded`` when the resolution's refs also name a replacement record;
  ``UPHELD`` (the record is upheld), ``REJECTED`` and ``UNDETERMINED`` restore it. A
  resolution names its objection in ``refs[1:]`` or closes the oldest open one, and is
  signed by the target's issuer, the objection's issuer or an authorised one.
- [A7] While under objection a record is never usable for punitive purposes; for
  eligibility it is not usable unless ``objection_suspends_eligibility=False``.
- [A8] A repair is too early when its ``decided_on`` date is before the minimum
  publication end; under ``CRM_2026`` a minor penalty may be repaired at once. The
  other repair conditions (correction, commitment) are the issuer's to check.
- [A9] Withdrawal only by the issuer of the record; commitment outcomes by the
  commitment's issuer or an authorised one; the first outcome counts.
- [A10] Lifecycle statements are ordered by (iat, log position): two signed in the same
  second count in the order they were logged (a statement without a known position
  sorts after the positioned ones of its second, then by leaf hash). One with
  iat > as_of is ignored. A record that is withdrawn, repaired, superseded or corrected
  stays so.

Errors::

    PolicyError
    └── LifecycleError
        ├── LifecycleTargetError       refs/subject/kind do not fit the target
        ├── RegimeError                no publication rule applies
        ├── RepairTooEarlyError        repair before the minimum window
        ├── UnauthorisedLifecycleError
        │   └── UnauthorisedRepairError
        ├── NoOpenObjectionError
        └── LifecycleStateError        e.g. a second commitment outcome
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Final, Literal

from credex.ledger.errors import (
    DateFormatError,
    LifecycleError,
    LifecycleStateError,
    LifecycleTargetError,
    NoOpenObjectionError,
    RegimeError,
    RepairTooEarlyError,
    UnauthorisedLifecycleError,
    UnauthorisedRepairError,
)
from credex.ledger.record import LIFECYCLE_KINDS, Record
from credex.ledger.statement import Statement

__all__ = [
    "ORDER58_START",
    "PURPOSES",
    "REGIME_C_START",
    "STATES",
    "STATUS_KINDS",
    "LifecycleError",
    "LifecycleStateError",
    "LifecycleTargetError",
    "NoOpenObjectionError",
    "Purpose",
    "Regime",
    "RegimeError",
    "RepairTooEarlyError",
    "Severity",
    "State",
    "Status",
    "UnauthorisedLifecycleError",
    "UnauthorisedRepairError",
    "Window",
    "infer_severity",
    "publication_window",
    "regime_for",
    "status_at",
    "validate_lifecycle",
]

ORDER58_START: Final = date(2023, 5, 1)
REGIME_C_START: Final = date(2026, 4, 1)
_CST: Final = timezone(timedelta(hours=8), "CST")
_ISO_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Severity = Literal["minor", "general", "serious"]
State = Literal[
    "active", "under-objection", "corrected", "repaired", "withdrawn", "expired", "superseded"
]
Purpose = Literal["punitive", "eligibility"]
PURPOSES: Final[tuple[Purpose, ...]] = ("punitive", "eligibility")
STATES: Final[tuple[State, ...]] = (
    "active",
    "under-objection",
    "corrected",
    "repaired",
    "withdrawn",
    "expired",
    "superseded",
)
#: kinds that change a target record's status (all need ``refs[0]`` = the target)
STATUS_KINDS: Final = (*LIFECYCLE_KINDS, "commitment.outcome")


class Regime(StrEnum):
    """The publication rule a penalty falls under, by its decision date."""

    RULES_2019 = "rules-2019"
    ORDER58_2023 = "order58-2023"
    CRM_2026 = "crm-2026"


@dataclass(frozen=True, slots=True)
class Window:
    """Publication window of one record, in Unix seconds (00:00 CST of the dates).

    ``min_until``: repair / early termination possible from then; ``max_until``:
    publication stops then (``None``: no legal end known).
    """

    min_until: int
    max_until: int | None
    regime: Regime | None
    severity: Severity | None
    reason: str

    def __post_init__(self) -> None:
        if self.max_until is not None and self.max_until < self.min_until:
            raise LifecycleError("lifecycle: window maximum is before its minimum")


@dataclass(frozen=True, slots=True)
class Status:
    """A record's status at ``as_of``. ``evidence`` holds the leaf hashes (hex) of the
    lifecycle statements that took effect, in order; ``reasons`` explains the state and
    every statement that was ignored."""

    state: State
    usable_for: Mapping[str, bool]
    reasons: tuple[str, ...]
    evidence: tuple[str, ...]
    as_of: int
    window: Window | None = None
    #: a commitment's outcome (``KEPT`` / ``BREACHED``), if one took effect
    outcome: str | None = None
    ignored: tuple[str, ...] = field(default=())

    def refusal(self, purpose: str) -> str | None:
        """Why the record may not be used for ``purpose``; ``None`` if it may."""
        if purpose not in PURPOSES:
            raise LifecycleError(
                f"lifecycle: unknown purpose: expected one of {', '.join(PURPOSES)}, "
                f"got {purpose!r}"
            )
        if self.usable_for[purpose]:
            return None
        why = f": {self.reasons[0]}" if self.reasons else ""
        return f"the record is {self.state} as of {self.as_of}, not usable for {purpose}{why}"


# --- dates -------------------------------------------------------------------------


def _date(body: Mapping[str, Any], name: str, kind: str) -> date:
    value = body.get(name)
    if not isinstance(value, str) or not _ISO_RE.match(value):
        raise DateFormatError(f"lifecycle: {kind} field {name!r} is not an ISO date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DateFormatError(f"lifecycle: {kind} field {name!r} is not a calendar date") from None


def _unix(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=_CST).timestamp())


def _day(t: int) -> str:
    return datetime.fromtimestamp(t, _CST).date().isoformat()


def _add_months(d: date, months: int) -> date:
    """``d`` moved by whole months, clamped to the month's last day (as adapters.dates)."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


# --- publication windows -----------------------------------------------------------


def regime_for(decision: date) -> Regime:
    """The regime of a penalty decided on ``decision`` ([A1] before 2023-05-01)."""
    if decision >= REGIME_C_START:
        return Regime.CRM_2026
    if decision >= ORDER58_START:
        return Regime.ORDER58_2023
    return Regime.RULES_2019


_SEVERITY_WORDS: Final[Mapping[str, Severity]] = {
    "minor": "minor",
    "general": "general",
    "serious": "serious",
    "轻微": "minor",
    "一般": "general",
    "严重": "serious",
}
_SERIOUS_TYPES: Final = ("吊销", "限制从业", "禁止从业", "责令关闭")
_MINOR_TYPES: Final = ("警告", "通报批评")
_MINOR_FINE_WAN: Final = Decimal("0.3")
_SERIOUS_FINE_WAN: Final = Decimal("100")
_SECTOR_WORDS: Final = ("食品", "药品", "特种设备", "安全生产", "消防")
_SECTOR_TAG_RE: Final = re.compile(
    r"sector:(food|drugs|special-equipment|work-safety|fire-safety)\b"
)


def _fine(body: Mapping[str, Any]) -> Decimal | None:
    value = body.get("fine_wan")
    if not isinstance(value, str):
        return None
    try:
        fine = Decimal(value)
    except InvalidOperation:
        return None
    return fine if fine.is_finite() and fine >= 0 else None


def infer_severity(body: Mapping[str, Any]) -> tuple[Severity, str]:
    """The severity class of a ``penalty.admin`` body and how it was found ([A2]).

    Raises:
        LifecycleError: a ``severity`` field with an unknown value.
    """
    given = body.get("severity")
    if isinstance(given, str):
        word = given.strip().lower()
        for key, sev in _SEVERITY_WORDS.items():
            if word == key or (not key.isascii() and key in word):
                return sev, f"severity {sev} from the record"
        raise LifecycleError(
            "lifecycle: penalty severity: expected minor, general or serious "
            "(轻微, 一般, 严重), got an unknown value"
        )
    types = [t for t in body.get("penalty_types", []) if isinstance(t, str)]
    fine = _fine(body)
    if any(w in t for t in types for w in _SERIOUS_TYPES):
        return "serious", "severity serious inferred from the penalty types"
    if fine is not None and fine >= _SERIOUS_FINE_WAN:
        return "serious", "severity serious inferred from a fine of at least 100 万元"
    small = fine is None or fine <= _MINOR_FINE_WAN
    only_minor = all(t in _MINOR_TYPES or (t == "罚款" and fine is not None) for t in types)
    if types and only_minor and small:
        return "minor", "severity minor inferred from warning / criticism / small fine only"
    return "general", "severity general inferred (no serious or minor indicator)"


def _special_sector(body: Mapping[str, Any]) -> bool:
    texts = [body.get(k) for k in ("basis", "violation_type", "note")]
    if any(isinstance(t, str) and any(w in t for w in _SECTOR_WORDS) for t in texts):
        return True
    note = body.get("note")
    return isinstance(note, str) and _SECTOR_TAG_RE.search(note) is not None


#: (min months, max months) by regime and severity; CRM_2026 minor has no minimum
_PERIODS: Final[Mapping[Regime, Mapping[Severity, tuple[int, int]]]] = {
    Regime.RULES_2019: {"minor": (3, 12), "general": (3, 12), "serious": (6, 36)},
    Regime.ORDER58_2023: {"minor": (3, 36), "general": (3, 36), "serious": (3, 36)},
    Regime.CRM_2026: {"minor": (0, 3), "general": (3, 12), "serious": (12, 36)},
}


def _penalty_window(record: Record) -> Window:
    decided = _date(record.body, "decision_date", record.kind)
    regime = regime_for(decided)
    severity, why = infer_severity(record.body)
    lo, hi = _PERIODS[regime][severity]
    notes = [why]
    if regime is Regime.ORDER58_2023 and _special_sector(record.body):
        lo = 12
        notes.append("order 58 one-year minimum for a special field")
    min_until = _unix(_add_months(decided, lo))
    max_until = _unix(_add_months(decided, hi))
    if record.valid_until is not None and record.valid_until < max_until:
        max_until = max(min_until, record.valid_until)
        notes.append("maximum shortened to the record's valid_until")
    reason = (
        f"{regime} {severity}: from {decided.isoformat()}, minimum {_day(min_until)}, "
        f"maximum {_day(max_until)} ({'; '.join(notes)})"
    )
    return Window(min_until, max_until, regime, severity, reason)


def publication_window(record: Record) -> Window:
    """The publication window of ``record`` (DOMAIN.md §3; [A1]-[A5]).

    Raises:
        DateFormatError: a date field that is not ISO text.
        LifecycleError: an unknown severity or an out-of-range ``period_years``.
        LifecycleTargetError: a lifecycle statement has no window of its own.
    """
    body, kind = record.body, record.kind
    if kind in STATUS_KINDS:
        raise LifecycleTargetError(f"lifecycle: {kind} has no publication window")
    if kind == "penalty.admin":
        return _penalty_window(record)
    if kind == "court.dishonest-debtor":
        listed = _date(body, "listed_on", kind)
        years = body.get("period_years", 2)
        if not isinstance(years, int) or not 2 <= years <= 5:
            raise LifecycleError(
                f"lifecycle: dishonest-debtor period_years: expected 2 to 5, got {years!r}"
            )
        until = _unix(_add_months(listed, 12 * years))
        reason = f"court list: {years} years from {listed.isoformat()}, until {_day(until)}"
        return Window(_unix(listed), until, None, None, reason)
    if kind == "list.black":
        listed = _date(body, "listed_on", kind)
        if "list_until" in body:
            end: int | None = max(_unix(listed), _unix(_date(body, "list_until", kind)))
        else:
            end = record.valid_until
        shown = _day(end) if end is not None else "no end"
        reason = f"black list: from {listed.isoformat()}, until {shown}"
        return Window(_unix(listed), end, None, None, reason)
    shown = _day(record.valid_until) if record.valid_until is not None else "no end"
    return Window(record.valid_from, record.valid_until, None, None, f"{kind}: until {shown}")


# --- validation ----------------------------------------------------------------------


def _short(st: Statement) -> str:
    return st.leaf_hash.hex()[:16] + "…"


def _check_target(target: Statement, stmt: Statement) -> None:
    kind = stmt.record.kind
    if kind not in STATUS_KINDS:
        raise LifecycleTargetError(
            f"lifecycle: statement {_short(stmt)} is a {kind}, not a lifecycle statement"
        )
    if target.kind in STATUS_KINDS:
        raise LifecycleTargetError(f"lifecycle: target {_short(target)} is itself a {target.kind}")
    if not stmt.record.refs or stmt.record.refs[0] != target.leaf_hash:
        got = stmt.record.refs[0].hex() if stmt.record.refs else "none"
        raise LifecycleTargetError(
            f"lifecycle: statement {_short(stmt)} does not name the target: expected refs[0] "
            f"{target.leaf_hash.hex()}, got {got}"
        )
    if stmt.record.subject.id != target.claims.sub:
        raise LifecycleTargetError(
            f"lifecycle: statement {_short(stmt)} is about another subject than its target"
        )
    if kind == "commitment.outcome" and target.kind != "commitment":
        raise LifecycleTargetError(
            f"lifecycle: commitment.outcome {_short(stmt)} targets a {target.record.kind}"
        )


@dataclass(slots=True)
class _Fold:
    objections: dict[bytes, Statement] = field(default_factory=dict)
    open: dict[bytes, Statement] = field(default_factory=dict)
    outcome: Statement | None = None


def _fold(prior: Sequence[Statement]) -> _Fold:
    f = _Fold()
    for s in prior:
        kind = s.record.kind
        if kind == "lifecycle.objection":
            f.objections[s.leaf_hash] = s
            f.open[s.leaf_hash] = s
        elif kind == "lifecycle.objection-resolved":
            closed = _closes(s, f)
            if closed is not None:
                f.open.pop(closed, None)
        elif kind == "commitment.outcome" and f.outcome is None:
            f.outcome = s
    return f


def _closes(stmt: Statement, f: _Fold) -> bytes | None:
    named = [r for r in stmt.record.refs[1:] if r in f.objections]
    if named:
        return named[0]
    return next(iter(f.open), None)


#: states a record never leaves, most decisive first
_TERMINAL: Final[tuple[State, ...]] = ("withdrawn", "repaired", "superseded", "corrected")
_OUTCOMES: Final = ("CORRECTED", "UPHELD", "REJECTED", "UNDETERMINED")
_COMMITMENT_OUTCOMES: Final = ("KEPT", "BREACHED")


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
        authorised: the federation authorises ``stmt``'s issuer to repair or resolve for
            ``target``'s issuer (谁认定、谁修复 otherwise).
        prior: lifecycle statements about ``target`` already accepted, in order.

    Raises:
        LifecycleTargetError: not a lifecycle kind, refs[0] is not the target's leaf
            hash, another subject, or an outcome for a record that is no commitment.
        UnauthorisedRepairError: a repair by another issuer, not authorised.
        UnauthorisedLifecycleError: a withdrawal, resolution or outcome by the wrong issuer.
        RepairTooEarlyError: a repair decided before the minimum publication end.
        NoOpenObjectionError: a resolution with no open objection to close.
        LifecycleStateError: a second commitment outcome.
        LifecycleError: an unknown outcome value or an invalid target window.
        DateFormatError: a date field that is not ISO text.
    """
    _check_target(target, stmt)
    kind, body = stmt.record.kind, stmt.record.body
    same = stmt.claims.iss == target.claims.iss
    by = f"issuer {stmt.claims.iss!r}"
    if kind == "lifecycle.objection":
        _date(body, "raised_on", kind)
        if "due_by" in body:
            _date(body, "due_by", kind)
    elif kind == "lifecycle.objection-resolved":
        _date(body, "closed_on", kind)
        if body["outcome"] not in _OUTCOMES:
            raise LifecycleError(
                f"lifecycle: objection outcome: expected one of {', '.join(_OUTCOMES)}, "
                f"got {body['outcome']!r}"
            )
        f = _fold(prior)
        named = [r for r in stmt.record.refs[1:] if r in f.objections]
        if named and named[0] not in f.open:
            raise NoOpenObjectionError(
                f"lifecycle: objection {named[0].hex()[:16]}… is already resolved"
            )
        closes = _closes(stmt, f)
        if closes is None:
            raise NoOpenObjectionError(
                f"lifecycle: resolution {_short(stmt)} has no open objection to close"
            )
        if not (same or authorised or stmt.claims.iss == f.objections[closes].claims.iss):
            raise UnauthorisedLifecycleError(
                f"lifecycle: objection resolution by {by}: expected the record's issuer "
                f"{target.claims.iss!r} or the objection's"
            )
    elif kind == "lifecycle.repair":
        decided = _date(body, "decided_on", kind)
        if not (same or authorised):
            raise UnauthorisedRepairError(
                f"lifecycle: repair by {by}: only the issuer that made the finding "
                f"({target.claims.iss!r}) or one it authorises may repair it"
            )
        window = publication_window(target.record)
        if _unix(decided) < window.min_until:
            raise RepairTooEarlyError(
                f"lifecycle: repair decided on {decided.isoformat()} is before the minimum "
                f"publication end: expected on or after {_day(window.min_until)} "
                f"({window.regime or target.record.kind}, {window.severity or 'no class'})"
            )
    elif kind == "lifecycle.withdrawal":
        _date(body, "withdrawn_on", kind)
        if not same:
            raise UnauthorisedLifecycleError(
                f"lifecycle: withdrawal by {by}: expected the record's issuer {target.claims.iss!r}"
            )
    elif kind == "commitment.outcome":
        _date(body, "verified_on", kind)
        if body["outcome"] not in _COMMITMENT_OUTCOMES:
            raise LifecycleError(
                f"lifecycle: commitment outcome: expected KEPT or BREACHED, got {body['outcome']!r}"
            )
        if not (same or authorised):
            raise UnauthorisedLifecycleError(
                f"lifecycle: commitment outcome by {by}: expected the commitment's issuer "
                f"{target.claims.iss!r}"
            )
        if _fold(prior).outcome is not None:
            raise LifecycleStateError(
                f"lifecycle: commitment {_short(target)} already has an outcome"
            )


# --- status ----------------------------------------------------------------------------


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
        authorised_repairers: ``(target, stmt) -> bool``, True when the federation lets
            ``stmt``'s issuer repair, resolve or verify for ``target``'s issuer.
        objection_suspends_eligibility: node policy for records under objection [A7].

    Raises:
        LifecycleTargetError: a statement that is not a lifecycle kind or does not name
            ``target`` (refs[0]) or its subject.
        DateFormatError / LifecycleError: the target's own window cannot be computed.
    """
    # a person's record whose body is not held (erased after a repair, or a mirror's copy):
    # its window is unknown and statements cannot be re-validated against its dates; they
    # were validated by the node that logged them and are taken in order
    window = publication_window(target.record) if target.has_body else None
    unique: dict[bytes, Statement] = {}
    where: dict[bytes, int] = dict(positions or {})
    for item in lifecycle:
        if isinstance(item, tuple):
            index, s = item
            where[s.leaf_hash] = index
        else:
            s = item
        _check_target(target, s)
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
        if window is None:
            accepted.append(s)
            continue
        ok = authorised_repairers is not None and authorised_repairers(target, s)
        try:
            validate_lifecycle(target, s, authorised=ok, prior=accepted)
        except (LifecycleError, DateFormatError) as e:
            ignored.append(f"ignored {s.record.kind} {_short(s)}: {e}")
            continue
        accepted.append(s)

    found: dict[State, Statement] = {}
    f = _Fold()
    for s in accepted:
        kind = s.record.kind
        if kind == "lifecycle.objection":
            f.objections[s.leaf_hash] = s
            f.open[s.leaf_hash] = s
        elif kind == "lifecycle.objection-resolved":
            closed = _closes(s, f)
            if closed is not None:
                f.open.pop(closed, None)
            corrected = "corrected" in found or "superseded" in found
            if s.record.body["outcome"] == "CORRECTED" and not corrected:
                extra = [r for r in s.record.refs[1:] if r not in f.objections]
                found["superseded" if extra else "corrected"] = s
        elif kind == "lifecycle.repair":
            found.setdefault("repaired", s)
        elif kind == "lifecycle.withdrawal":
            found.setdefault("withdrawn", s)
        elif kind == "commitment.outcome" and f.outcome is None:
            f.outcome = s

    state: State = "active"
    reasons: list[str] = []
    for terminal in _TERMINAL:
        if terminal in found:
            state = terminal
            reasons.append(f"{terminal}: {_describe(found[terminal])}")
            break
    else:
        if window is not None and window.max_until is not None and as_of >= window.max_until:
            state = "expired"
            reasons.append(f"expired: publication ended on {_day(window.max_until)}")
        elif f.open:
            state = "under-objection"
            for o in f.open.values():
                reasons.append(f"under objection: {_describe(o)}")
                due = o.record.body.get("due_by")
                if isinstance(due, str) and as_of >= _unix(date.fromisoformat(due)):
                    reasons.append(f"objection {_short(o)} is overdue since {due}")
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
