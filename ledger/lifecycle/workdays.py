"""Working days and objection deadlines (issue #12 point 7; DOMAIN.md §3.4).

- ``HOLIDAY_CALENDARS``: per year, the national public holidays and the weekend days
  worked instead (调休上班), as the State Council's notice for that year gives them,
  with its provenance. Data, not a formula: a new year is a new entry.
- ``is_working_day`` / ``add_working_days``: Monday to Friday except holidays, plus the
  weekend days worked. A year without a calendar here counts Monday to Friday only,
  and says so (``WorkdayResult.notes``): the deadline is then approximate, never silent.
- ``OBJECTION_RULES`` and ``objection_due``: how long an objection (异议) may take, per
  rule: Guangzhou's published practice (2 + 2 + 10 working days), the 征信业管理条例
  art. 25 20 days, Nantong's older 20 working days; each with its provenance.

Pure: dates in, dates out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from credex.ledger.errors import LifecycleError
from credex.ledger.provenance import Provenance

__all__ = [
    "HOLIDAY_CALENDARS",
    "OBJECTION_RULES",
    "HolidayCalendar",
    "ObjectionRule",
    "WorkdayResult",
    "add_working_days",
    "is_working_day",
    "objection_due",
]


@dataclass(frozen=True, slots=True)
class HolidayCalendar:
    """One year's public holidays (放假) and weekend working days (调休上班)."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    provenance: Provenance


def _span(first: date, last: date) -> set[date]:
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


def _calendar(
    year: int, spans: list[tuple[str, str]], worked: list[str], prov: Provenance
) -> HolidayCalendar:
    days: set[date] = set()
    for a, b in spans:
        days |= _span(date.fromisoformat(a), date.fromisoformat(b))
    return HolidayCalendar(
        year, frozenset(days), frozenset(date.fromisoformat(d) for d in worked), prov
    )


HOLIDAY_CALENDARS: Final[Mapping[int, HolidayCalendar]] = {
    c.year: c
    for c in (
        _calendar(
            2025,
            [
                ("2025-01-01", "2025-01-01"),
                ("2025-01-28", "2025-02-04"),
                ("2025-04-04", "2025-04-06"),
                ("2025-05-01", "2025-05-05"),
                ("2025-05-31", "2025-06-02"),
                ("2025-10-01", "2025-10-08"),
            ],
            ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
            Provenance(
                "reported",
                "国务院办公厅关于2025年部分节假日安排的通知 (国办发明电〔2024〕12号, 2024-11-12), "
                "text as republished from 新华社: https://wxredian.com/art?id="
                "63e914e2d2b1c4a258e09fe1282edb17 (the gov.cn page was not retrieved)",
            ),
        ),
        _calendar(
            2026,
            [
                ("2026-01-01", "2026-01-03"),
                ("2026-02-15", "2026-02-23"),
                ("2026-04-04", "2026-04-06"),
                ("2026-05-01", "2026-05-05"),
                ("2026-06-19", "2026-06-21"),
                ("2026-09-25", "2026-09-27"),
                ("2026-10-01", "2026-10-07"),
            ],
            ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
            Provenance(
                "reported",
                "国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04), text as published by "
                "新华社 via 光明网: https://politics.gmw.cn/2025-11/04/content_38391083.htm "
                "(the gov.cn page was not retrieved)",
            ),
        ),
    )
}


@dataclass(frozen=True, slots=True)
class WorkdayResult:
    """A computed day and what it rests on (the calendars used, or their absence)."""

    day: date
    notes: tuple[str, ...]


def is_working_day(d: date) -> bool:
    """Monday-Friday except public holidays, plus the weekend days worked instead; a
    year without a calendar here: Monday-Friday."""
    cal = HOLIDAY_CALENDARS.get(d.year)
    if cal is not None:
        if d in cal.workdays:
            return True
        if d in cal.holidays:
            return False
    return d.weekday() < 5


def add_working_days(start: date, n: int) -> WorkdayResult:
    """The ``n``-th working day after ``start`` (``start`` itself not counted; 0 gives
    ``start``). ``notes`` name each calendar year used without holiday data.

    Raises:
        LifecycleError: ``n`` negative or above 366.
    """
    if not 0 <= n <= 366:
        raise LifecycleError(f"lifecycle: working days: expected 0-366, got {n}")
    d, left = start, n
    missing: set[int] = set()
    while left:
        d += timedelta(days=1)
        if d.year not in HOLIDAY_CALENDARS:
            missing.add(d.year)
        if is_working_day(d):
            left -= 1
    notes = tuple(
        f"no holiday calendar for {y}: counted Monday to Friday only" for y in sorted(missing)
    )
    return WorkdayResult(d, notes)


@dataclass(frozen=True, slots=True)
class ObjectionRule:
    """How long an objection may take: ``days`` working days (or calendar days)."""

    id: str
    days: int
    working_days: bool
    what: str
    provenance: Provenance


OBJECTION_RULES: Final[Mapping[str, ObjectionRule]] = {
    r.id: r
    for r in (
        ObjectionRule(
            "gz-public-credit",
            14,
            True,
            "accept within 2 working days, check within 2, the data provider answers within 10",
            Provenance(
                "published", "信用广州 异议申诉流程: https://credit1.gz.gov.cn/guide/yysqlc"
            ),
        ),
        ObjectionRule(
            "credit-reporting-art25",
            20,
            False,
            "征信业管理条例 art. 25: check and answer in writing within 20 days",
            Provenance("reported", "https://m.shoulawyer.com/zhishi/286830.htm (a law-firm page)"),
        ),
        ObjectionRule(
            "nantong-public-credit",
            20,
            True,
            "Nantong's older rule: 20 working days for the agency's own data",
            Provenance(
                "reported", "http://www.fymate.net/html/text/lar/170087/17008722_5.html (mirror)"
            ),
        ),
    )
}


def objection_due(raised_on: date, rule_id: str) -> WorkdayResult:
    """The day an objection raised on ``raised_on`` must be answered by, under rule
    ``rule_id`` (``OBJECTION_RULES``); ``notes`` say which rule and calendar decided.

    Raises:
        LifecycleError: an unknown rule (the message lists the known ones).
    """
    rule = OBJECTION_RULES.get(rule_id)
    if rule is None:
        raise LifecycleError(
            f"lifecycle: unknown objection rule: expected one of "
            f"{', '.join(sorted(OBJECTION_RULES))}, got {rule_id[:40]!r}"
        )
    grade = f"[{rule.provenance.grade}]"
    if not rule.working_days:
        due = raised_on + timedelta(days=rule.days)
        return WorkdayResult(due, (f"{rule.id} {grade}: {rule.what}",))
    found = add_working_days(raised_on, rule.days)
    return WorkdayResult(found.day, (f"{rule.id} {grade}: {rule.what}", *found.notes))
