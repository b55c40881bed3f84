"""Issue #12 point 7 in ``ledger/lifecycle``: working days with holidays as data,
objection deadlines, the SAMR rule set, the 200 元 natural-person ceiling, list removal
and deferral, supersession of a corrected decision; and the provenance grades of the
regimes (point 6)."""

from __future__ import annotations

from datetime import date

import pytest

from credex.ledger.errors import LifecycleError, RegimeError
from credex.ledger.lifecycle import (
    HOLIDAY_CALENDARS,
    REGIME_PROVENANCE,
    LifecycleTargetError,
    Regime,
    UnauthorisedLifecycleError,
    add_working_days,
    infer_severity,
    is_working_day,
    objection_due,
    publication_window,
    status_at,
    validate_lifecycle,
)
from credex.ledger.provenance import label, weakest
from credex.ledger.record import Record, Subject

from .test_lifecycle import DAY, life, penalty, sign, target, unix

PERSON = Subject("person", "hmac:0a1b2c3d:" + "ab" * 32)


# --- working days -----------------------------------------------------------------------


def test_holidays_and_weekend_working_days_are_data() -> None:
    assert not is_working_day(date(2026, 10, 1))  # 国庆
    assert is_working_day(date(2026, 10, 10))  # a Saturday worked (调休)
    assert is_working_day(date(2026, 2, 14)) and not is_working_day(date(2026, 2, 16))
    assert not is_working_day(date(2025, 1, 28)) and is_working_day(date(2025, 1, 26))
    assert not is_working_day(date(2026, 11, 7))  # an ordinary Saturday
    for cal in HOLIDAY_CALENDARS.values():
        assert cal.provenance.grade in ("published", "reported")
        assert cal.workdays.isdisjoint(cal.holidays)


def test_guangzhou_objection_deadline_crosses_national_day() -> None:
    # 14 working days from Monday 2026-09-28: Oct 1-7 off, Saturday Oct 10 worked
    due = objection_due(date(2026, 9, 28), "gz-public-credit")
    assert due.day == date(2026, 10, 22)
    assert "[published]" in due.notes[0]


def test_calendar_days_rule_and_unknown_years_are_said() -> None:
    assert objection_due(date(2026, 2, 12), "credit-reporting-art25").day == date(2026, 3, 4)
    later = add_working_days(date(2027, 12, 30), 3)
    assert later.day == date(2028, 1, 4)
    assert any("no holiday calendar for 2028" in n for n in later.notes)
    with pytest.raises(LifecycleError, match="unknown objection rule"):
        objection_due(date(2026, 1, 5), "nowhere")
    with pytest.raises(LifecycleError, match="0-366"):
        add_working_days(date(2026, 1, 5), -1)


# --- severity: the natural-person ceiling -----------------------------------------------


def test_summary_procedure_ceiling_is_200_yuan_for_a_person() -> None:
    body = {"penalty_types": ["罚款"], "fine_wan": "0.1"}  # 1,000 元
    assert infer_severity(body)[0] == "minor"  # under 3,000 元 for an organisation
    assert infer_severity(body, person=True)[0] == "general"  # over 200 元 for a person
    assert (
        infer_severity({"penalty_types": ["罚款"], "fine_wan": "0.02"}, person=True)[0] == "minor"
    )
    rec = Record(
        "penalty.admin",
        "cn-zj-ningbo",
        PERSON,
        {**penalty().body, "fine_wan": "0.1"},
        unix("2026-05-10"),
    )
    assert publication_window(rec).severity == "general"


def test_the_illustrative_serious_fine_threshold_says_so() -> None:
    sev, why = infer_severity({"penalty_types": ["罚款"], "fine_wan": "150"})
    assert sev == "serious" and "ILLUSTRATIVE" in why


# --- the SAMR rule set ------------------------------------------------------------------


def test_samr_low_fine_is_published_three_months_without_minimum() -> None:
    w = publication_window(penalty("2026-05-10", fine_wan="0.2", regime="samr-2021"))
    assert w.regime is Regime.SAMR_2021 and w.severity == "minor"
    assert (w.min_until, w.max_until) == (unix("2026-05-10"), unix("2026-08-10"))
    assert "[reported]" in w.reason


def test_samr_other_penalties_three_years_repair_after_one_and_longer_bans() -> None:
    w = publication_window(penalty("2026-05-10", fine_wan="5", regime="samr-2021"))
    assert (w.min_until, w.max_until) == (unix("2027-05-10"), unix("2029-05-10"))
    ban = penalty(
        "2026-05-10",
        types=("限制从业",),
        regime="samr-2021",
        penalty_valid_until="2031-05-10",
    )
    assert publication_window(ban).max_until == unix("2031-05-10")


def test_samr_is_for_market_regulators_only() -> None:
    with pytest.raises(RegimeError, match="market regulators"):
        publication_window(penalty(authority="宁波市生态环境局", regime="samr-2021"))
    with pytest.raises(RegimeError, match="2021-09-01"):
        publication_window(penalty("2021-01-05", regime="samr-2021"))
    with pytest.raises(RegimeError, match="samr-2021 or none"):
        publication_window(penalty(regime="crm-2026"))


def test_every_regime_has_a_graded_source_shown_in_the_reason() -> None:
    assert set(REGIME_PROVENANCE) == set(Regime)
    assert all(p.grade == "reported" for p in REGIME_PROVENANCE.values())  # DOMAIN.md §10
    assert "crm-2026 [reported]" in publication_window(penalty("2026-05-10")).reason


# --- lists: removal and deferral --------------------------------------------------------


def _court(**extra: object) -> Record:
    body = {
        "court": "宁波市海曙区人民法院",
        "case_no": "执1号",
        "filed_on": "2026-01-01",
        "listed_on": "2026-02-01",
        **extra,
    }
    return Record(
        "court.dishonest-debtor",
        "cn-zj-ningbo",
        Subject("org", "91330100MA0YX0016X"),
        body,
        unix("2026-02-01"),
    )


def test_a_removal_ends_the_court_list_window() -> None:
    assert publication_window(_court()).max_until == unix("2028-02-01")
    removed = publication_window(_court(removed_on="2026-04-20", state="已移出"))
    assert removed.max_until == unix("2026-04-20") and "removed from the list" in removed.reason
    deferred = publication_window(_court(deferred_until="2026-06-01", state="暂缓"))
    assert "deferred (暂缓) until 2026-06-01" in deferred.reason


def test_a_removal_ends_black_and_red_list_windows() -> None:
    subj = Subject("org", "91330100MA0YX0016X")
    black = Record(
        "list.black",
        "cn-zj-ningbo",
        subj,
        {
            "list_name": "严重失信",
            "authority": "A",
            "listed_on": "2026-01-01",
            "reason": "r",
            "removed_on": "2026-03-01",
        },
        unix("2026-01-01"),
    )
    assert publication_window(black).max_until == unix("2026-03-01")
    red = Record(
        "list.red",
        "cn-zj-ningbo",
        subj,
        {
            "list_name": "诚信",
            "authority": "A",
            "listed_on": "2026-01-01",
            "list_until": "2027-01-01",
        },
        unix("2026-01-01"),
    )
    assert publication_window(red).max_until == unix("2027-01-01")


# --- supersession (一数一源) ------------------------------------------------------------


def test_a_corrected_decision_supersedes_the_old_record() -> None:
    old = target()
    new = sign(penalty(content="罚款（更正）"), unix("2026-05-12"))
    sup = life(
        "lifecycle.supersession",
        old,
        {"superseded_on": "2026-05-12", "_refs": (new.leaf_hash,)},
        unix("2026-05-12") + 60,
    )
    validate_lifecycle(old, sup)
    s = status_at(old, [sup], unix("2026-05-13"))
    assert s.state == "superseded" and not s.usable_for["eligibility"]
    assert "superseded on 2026-05-12" in s.reasons[0]


def test_supersession_needs_the_replacement_and_the_issuer() -> None:
    old = target()
    bare = life("lifecycle.supersession", old, {"superseded_on": "2026-05-12"}, unix("2026-05-12"))
    with pytest.raises(LifecycleTargetError, match="replacement"):
        validate_lifecycle(old, bare)
    new = sign(penalty(content="罚款（更正）"), unix("2026-05-12"))
    other = life(
        "lifecycle.supersession",
        old,
        {"superseded_on": "2026-05-12", "_refs": (new.leaf_hash,)},
        unix("2026-05-12"),
        other=True,
    )
    with pytest.raises(UnauthorisedLifecycleError, match="supersession by issuer"):
        validate_lifecycle(old, other)
    validate_lifecycle(old, other, authorised=True)
    assert status_at(old, [other], unix("2026-05-13")).state == "active"  # ignored
    assert DAY == 86_400


# --- provenance helpers -----------------------------------------------------------------


def test_weakest_grade_and_labels() -> None:
    assert weakest(["published", "illustrative", "reported"]) == "illustrative"
    assert weakest(["published", None]) == "published" and weakest([None]) is None
    assert label("illustrative") == "[ILLUSTRATIVE]" and label("reported") == "[reported]"
    assert label(None) == "[provenance unknown]"
