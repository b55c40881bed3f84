"""Publication windows by regime (DOMAIN.md §3; assumptions [A1]-[A5] in the package doc).

``regime_for`` picks the regime from a decision date, ``infer_severity`` the class of a
penalty, ``publication_window`` a record's minimum and maximum publication ends;
``body_date`` reads an ISO date field of a record body strictly. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from credex.ledger.dates import add_months, cst_day, date_to_unix
from credex.ledger.errors import (
    DateFormatError,
    LifecycleError,
    LifecycleTargetError,
    RegimeError,
)
from credex.ledger.lifecycle.model import (
    ORDER58_START,
    REGIME_C_START,
    REGIME_PROVENANCE,
    SAMR_REGIME_START,
    STATUS_KINDS,
    Regime,
    Severity,
    Window,
)
from credex.ledger.record import Record

__all__ = [
    "MINOR_FINE_WAN",
    "MINOR_FINE_WAN_PERSON",
    "SUMMARY_CEILING_SOURCE",
    "body_date",
    "infer_severity",
    "publication_window",
    "regime_for",
]


_ISO_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def body_date(body: Mapping[str, Any], name: str, kind: str) -> date:
    """The ISO date (``YYYY-MM-DD``) in field ``name`` of a ``kind`` record body.

    Raises:
        DateFormatError: absent, not ISO text, or not a calendar date.
    """
    value = body.get(name)
    if not isinstance(value, str) or not _ISO_RE.fullmatch(value):
        raise DateFormatError(f"lifecycle: {kind} field {name!r} is not an ISO date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise DateFormatError(f"lifecycle: {kind} field {name!r} is not a calendar date") from None


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
#: the summary-procedure (简易程序) ceilings: 3,000 元 for organisations, 200 元 for
#: natural persons, in 万元 as 双公示 writes fines
MINOR_FINE_WAN: Final = Decimal("0.3")
MINOR_FINE_WAN_PERSON: Final = Decimal("0.02")
SUMMARY_CEILING_SOURCE: Final = (
    "《中华人民共和国行政处罚法》(2021) art. 51: 对公民处以二百元以下、对法人或者其他组织处以"
    "三千元以下罚款或者警告 (published law; DOMAIN.md §10)"
)
#: no source found for "a fine of at least 100 万元 is serious" (DOMAIN.md §10)
_SERIOUS_FINE_WAN: Final = Decimal("100")
_MARKET_REGULATORS: Final = ("市场监督管理", "市场监管", "工商行政管理")
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


def infer_severity(body: Mapping[str, Any], *, person: bool = False) -> tuple[Severity, str]:
    """The severity class of a ``penalty.admin`` body and how it was found ([A2]).
    ``person``: the penalty is on a natural person, whose summary-procedure ceiling is
    200 元 (``MINOR_FINE_WAN_PERSON``), not 3,000 元.

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
        return "serious", (
            "severity serious inferred from a fine of at least 100 万元 [ILLUSTRATIVE: no source]"
        )
    small = fine is None or fine <= (MINOR_FINE_WAN_PERSON if person else MINOR_FINE_WAN)
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


def _is_person(record: Record) -> bool:
    return record.subject.type == "person" or record.body.get("subject_category") == "自然人"


def _samr_window(record: Record, decided: date) -> Window:
    """《市场监督管理行政处罚信息公示规定》 art. 13 ([A11] in the package doc)."""
    body = record.body
    authority = body.get("authority")
    if not isinstance(authority, str) or not any(w in authority for w in _MARKET_REGULATORS):
        raise RegimeError(
            "lifecycle: regime samr-2021 is for penalties issued by market regulators: "
            "expected an authority named 市场监督管理 / 市场监管 / 工商行政管理"
        )
    if decided < SAMR_REGIME_START:
        raise RegimeError(
            f"lifecycle: regime samr-2021: expected a decision on or after "
            f"{SAMR_REGIME_START.isoformat()}, got {decided.isoformat()}"
        )
    person = _is_person(record)
    ceiling = MINOR_FINE_WAN_PERSON if person else MINOR_FINE_WAN
    types = [t for t in body.get("penalty_types", []) if isinstance(t, str)]
    fine = _fine(body)
    low = bool(types) and all(
        t == "通报批评" or (t == "罚款" and fine is not None and fine <= ceiling) for t in types
    )
    grade = f"[{REGIME_PROVENANCE[Regime.SAMR_2021].grade}]"
    severity: Severity
    if low:
        lo, hi, severity = 0, 3, "minor"
        why = f"通报批评 or a fine of at most {ceiling} 万元 only: publication stops at 3 months"
    else:
        lo, hi, severity = 12, 36, "general"
        why = "other penalty: 3 years; repair after 1 year"
    min_until = date_to_unix(add_months(decided, lo))
    max_until = date_to_unix(add_months(decided, hi))
    ban = body.get("penalty_valid_until")
    if not low and isinstance(ban, str) and _ISO_RE.match(ban):
        ends = date_to_unix(body_date(body, "penalty_valid_until", record.kind))
        if ends > max_until:  # a ban on business or practice longer than 3 years
            max_until = ends
            why += "; the ban's own period is longer: published until it ends"
    reason = (
        f"{Regime.SAMR_2021} {grade} {severity}: from {decided.isoformat()}, minimum "
        f"{cst_day(min_until)}, maximum {cst_day(max_until)} ({why})"
    )
    return Window(min_until, max_until, Regime.SAMR_2021, severity, reason)


def _penalty_window(record: Record) -> Window:
    decided = body_date(record.body, "decision_date", record.kind)
    named = record.body.get("regime")
    if named is not None:
        if named != Regime.SAMR_2021.value:
            raise RegimeError(
                f"lifecycle: penalty regime: expected {Regime.SAMR_2021.value} or none "
                f"(chosen by decision date), got {str(named)[:32]!r}"
            )
        return _samr_window(record, decided)
    regime = regime_for(decided)
    severity, why = infer_severity(record.body, person=_is_person(record))
    lo, hi = _PERIODS[regime][severity]
    notes = [why]
    if regime is Regime.ORDER58_2023 and _special_sector(record.body):
        lo = 12
        notes.append("order 58 one-year minimum for a special field")
    min_until = date_to_unix(add_months(decided, lo))
    max_until = date_to_unix(add_months(decided, hi))
    if record.valid_until is not None and record.valid_until < max_until:
        max_until = max(min_until, record.valid_until)
        notes.append("maximum shortened to the record's valid_until")
    reason = (
        f"{regime} [{REGIME_PROVENANCE[regime].grade}] {severity}: from {decided.isoformat()}, "
        f"minimum {cst_day(min_until)}, maximum {cst_day(max_until)} ({'; '.join(notes)})"
    )
    return Window(min_until, max_until, regime, severity, reason)


def _removed(body: Mapping[str, Any], kind: str, end: int | None) -> tuple[int | None, str]:
    """``end`` cut at ``removed_on`` (移出 / 删除 / 屏蔽), with a note."""
    if "removed_on" not in body:
        return end, ""
    removed = date_to_unix(body_date(body, "removed_on", kind))
    if end is None or removed < end:
        return removed, f"; removed from the list on {cst_day(removed)}"
    return end, ""


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
        listed = body_date(body, "listed_on", kind)
        years = body.get("period_years", 2)
        if not isinstance(years, int) or not 2 <= years <= 5:
            raise LifecycleError(
                f"lifecycle: dishonest-debtor period_years: expected 2 to 5, got {years!r}"
            )
        cut, note = _removed(body, kind, date_to_unix(add_months(listed, 12 * years)))
        until = max(date_to_unix(listed), cut if cut is not None else 0)
        deferred = ""
        if "deferred_until" in body:
            deferred = (
                f"; deferred (暂缓) until {body_date(body, 'deferred_until', kind).isoformat()}"
            )
        reason = (
            f"court list: {years} years from {listed.isoformat()}, until {cst_day(until)}"
            f"{note}{deferred}"
        )
        return Window(date_to_unix(listed), until, None, None, reason)
    if kind == "list.black":
        listed = body_date(body, "listed_on", kind)
        if "list_until" in body:
            end: int | None = max(
                date_to_unix(listed), date_to_unix(body_date(body, "list_until", kind))
            )
        else:
            end = record.valid_until
        end, note = _removed(body, kind, end)
        if end is not None:
            end = max(date_to_unix(listed), end)
        shown = cst_day(end) if end is not None else "no end"
        reason = f"black list: from {listed.isoformat()}, until {shown}{note}"
        return Window(date_to_unix(listed), end, None, None, reason)
    if kind == "list.red" and ("removed_on" in body or "list_until" in body):
        listed = body_date(body, "listed_on", kind)
        end = record.valid_until
        if "list_until" in body:
            until = date_to_unix(body_date(body, "list_until", kind))
            end = until if end is None else min(end, until)
        end, note = _removed(body, kind, end)
        if end is not None:
            end = max(date_to_unix(listed), end)
        shown = cst_day(end) if end is not None else "no end"
        reason = f"red list: from {listed.isoformat()}, until {shown}{note}"
        return Window(date_to_unix(listed), end, None, None, reason)
    shown = cst_day(record.valid_until) if record.valid_until is not None else "no end"
    return Window(record.valid_from, record.valid_until, None, None, f"{kind}: until {shown}")
