"""Lifecycle core: publication windows by regime, lifecycle validation and status folding
(DOMAIN.md §3), with fixed keys and fixed dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from credex.ledger.errors import DateFormatError, PolicyError
from credex.ledger.keys import SigningKey
from credex.ledger.lifecycle import (
    LifecycleError,
    LifecycleStateError,
    LifecycleTargetError,
    NoOpenObjectionError,
    Regime,
    RepairTooEarlyError,
    Status,
    UnauthorisedLifecycleError,
    UnauthorisedRepairError,
    infer_severity,
    publication_window,
    regime_for,
    status_at,
    validate_lifecycle,
)
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement, sign_statement

ISSUER = SigningKey(b"\x03" * 32)
OTHER = SigningKey(b"\x04" * 32)
ISS = "cn-zj-ningbo/platform"
OTHER_ISS = "cn-zj-hangzhou/platform"
SUBJECT = Subject("org", "91330100MA0YX0016X")
CST = timezone(timedelta(hours=8))
DAY = 86_400


def unix(d: str) -> int:
    x = date.fromisoformat(d)
    return int(datetime(x.year, x.month, x.day, tzinfo=CST).timestamp())


def penalty(
    decision: str = "2026-05-10",
    *,
    types: tuple[str, ...] = ("罚款",),
    valid_until: int | None = None,
    **extra: str,
) -> Record:
    body: dict[str, object] = {
        "decision_no": "甬市监罚〔2026〕1号",
        "decision_date": decision,
        "penalty_types": list(types),
        "content": "罚款",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": "11330200MB1234567X",
        **extra,
    }
    return Record(
        "penalty.admin", "cn-zj-ningbo", SUBJECT, body, unix(decision), valid_until=valid_until
    )


def sign(record: Record, iat: int, *, key: SigningKey = ISSUER, iss: str = ISS) -> Statement:
    return sign_statement(record, iss, key, iat)


def target(decision: str = "2026-05-10", **kw: object) -> Statement:
    return sign(penalty(decision, **kw), unix(decision) + 3600)  # type: ignore[arg-type]


def life(
    kind: str, tgt: Statement, body: dict[str, object], iat: int, *, other: bool = False
) -> Statement:
    refs = (tgt.leaf_hash, *body.pop("_refs", ()))  # type: ignore[misc]
    rec = Record(kind, "cn-zj-ningbo", tgt.record.subject, body, iat, refs=refs)
    return sign(rec, iat, key=OTHER if other else ISSUER, iss=OTHER_ISS if other else ISS)


def repair(tgt: Statement, decided: str, *, iat: int | None = None, other: bool = False):
    body: dict[str, object] = {"route": "终止公示行政处罚信息", "decided_on": decided}
    return life("lifecycle.repair", tgt, body, iat or unix(decided) + 3600, other=other)


def objection(tgt: Statement, raised: str, *, other: bool = False, **kw: object) -> Statement:
    # ``other``: signed by another region's issuer, which no longer counts (finding 7)
    return life(
        "lifecycle.objection", tgt, {"raised_on": raised, **kw}, unix(raised) + 60, other=other
    )


def resolved(tgt: Statement, outcome: str, closed: str, *refs: bytes) -> Statement:
    body: dict[str, object] = {"outcome": outcome, "closed_on": closed, "_refs": refs}
    return life("lifecycle.objection-resolved", tgt, body, unix(closed) + 60)


def withdrawal(tgt: Statement, on: str, *, other: bool = False) -> Statement:
    body: dict[str, object] = {"reason": "录入错误", "withdrawn_on": on}
    return life("lifecycle.withdrawal", tgt, body, unix(on) + 60, other=other)


# --- regimes and windows ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "regime"),
    [
        ("2019-07-16", Regime.RULES_2019),
        ("2023-04-30", Regime.RULES_2019),
        ("2023-05-01", Regime.ORDER58_2023),
        ("2026-03-31", Regime.ORDER58_2023),
        ("2026-04-01", Regime.CRM_2026),
        ("2030-01-01", Regime.CRM_2026),
    ],
    ids=lambda v: str(v),
)
def test_regime_for_switches_on_the_in_force_dates(decision: str, regime: Regime) -> None:
    assert regime_for(date.fromisoformat(decision)) is regime


WINDOWS = [
    # id, decision, extra body, (regime, severity, min date, max date)
    (
        "o58-general",
        "2026-03-31",
        {"severity": "general"},
        ("order58-2023", "general", "2026-06-30", "2029-03-31"),
    ),
    (
        "o58-serious-still-3m",
        "2025-01-15",
        {"severity": "serious"},
        ("order58-2023", "serious", "2025-04-15", "2028-01-15"),
    ),
    (
        "o58-food-1y",
        "2025-01-15",
        {"basis": "《中华人民共和国食品安全法》第一百二十四条"},
        ("order58-2023", "general", "2026-01-15", "2028-01-15"),
    ),
    (
        "o58-sector-tag",
        "2025-01-15",
        {"note": "sector:fire-safety"},
        ("order58-2023", "general", "2026-01-15", "2028-01-15"),
    ),
    (
        "crm-general",
        "2026-04-01",
        {"severity": "一般"},
        ("crm-2026", "general", "2026-07-01", "2027-04-01"),
    ),
    (
        "crm-serious",
        "2026-05-15",
        {"severity": "严重失信"},
        ("crm-2026", "serious", "2027-05-15", "2029-05-15"),
    ),
    (
        "crm-minor",
        "2026-04-01",
        {"severity": "minor"},
        ("crm-2026", "minor", "2026-04-01", "2026-07-01"),
    ),
    (
        "crm-food-no-1y",
        "2026-04-01",
        {"basis": "食品安全法"},
        ("crm-2026", "general", "2026-07-01", "2027-04-01"),
    ),
    (
        "2019-serious",
        "2023-04-30",
        {"severity": "serious"},
        ("rules-2019", "serious", "2023-10-30", "2026-04-30"),
    ),
    ("2019-general", "2022-08-31", {}, ("rules-2019", "general", "2022-11-30", "2023-08-31")),
]


@pytest.mark.parametrize(
    ("decision", "extra", "want"), [w[1:] for w in WINDOWS], ids=[w[0] for w in WINDOWS]
)
def test_publication_window_by_regime(
    decision: str, extra: dict[str, str], want: tuple[str, ...]
) -> None:
    w = publication_window(penalty(decision, **extra))
    assert (w.regime, w.severity, w.min_until, w.max_until) == (
        want[0],
        want[1],
        unix(want[2]),
        unix(want[3]),
    )
    assert want[2] in w.reason and want[3] in w.reason


@pytest.mark.parametrize(
    ("types", "fine", "want"),
    [
        (("警告",), None, "minor"),
        (("警告", "通报批评"), None, "minor"),
        (("警告", "罚款"), "0.2", "minor"),
        (("罚款",), "0.5", "general"),
        (("罚款",), None, "general"),
        (("吊销许可证件",), None, "serious"),
        (("罚款", "限制从业"), "1", "serious"),
        (("罚款",), "150", "serious"),
        ((), None, "general"),
    ],
    ids=str,
)
def test_severity_inference(types: tuple[str, ...], fine: str | None, want: str) -> None:
    body: dict[str, object] = {"penalty_types": list(types)}
    if fine is not None:
        body["fine_wan"] = fine
    assert infer_severity(body)[0] == want


def test_unknown_severity_is_refused() -> None:
    with pytest.raises(LifecycleError, match="severity: expected minor"):
        publication_window(penalty(severity="grave"))


def test_record_valid_until_shortens_but_not_below_minimum() -> None:
    w = publication_window(
        penalty("2026-05-10", severity="general", valid_until=unix("2026-12-01"))
    )
    assert w.max_until == unix("2026-12-01")
    w = publication_window(
        penalty("2026-05-10", severity="general", valid_until=unix("2026-06-01"))
    )
    assert w.max_until == w.min_until == unix("2026-08-10")


def test_court_list_window_and_extension() -> None:
    body: dict[str, object] = {
        "court": "宁波中院",
        "case_no": "(2025)浙02执1号",
        "filed_on": "2025-01-01",
        "listed_on": "2025-03-01",
    }
    rec = Record("court.dishonest-debtor", "cn-zj-ningbo", SUBJECT, body, unix("2025-03-01"))
    assert publication_window(rec).max_until == unix("2027-03-01")
    rec = Record("court.dishonest-debtor", "cn-zj-ningbo", SUBJECT, {**body, "period_years": 4}, 0)
    assert publication_window(rec).max_until == unix("2029-03-01")
    rec = Record("court.dishonest-debtor", "cn-zj-ningbo", SUBJECT, {**body, "period_years": 9}, 0)
    with pytest.raises(LifecycleError, match="expected 2 to 5, got 9"):
        publication_window(rec)


def test_black_list_and_other_kinds() -> None:
    body: dict[str, object] = {
        "list_name": "严重失信主体名单",
        "authority": "x",
        "listed_on": "2025-02-01",
        "reason": "r",
        "list_until": "2028-02-01",
    }
    w = publication_window(Record("list.black", "cn-zj-ningbo", SUBJECT, body, 0))
    assert (w.min_until, w.max_until) == (unix("2025-02-01"), unix("2028-02-01"))
    score = {"scheme": "S", "score": 700, "band": "b", "as_of": "2026-01-01"}
    w = publication_window(Record("score.city", "cn-zj-ningbo", SUBJECT, score, 100, 200))
    assert (w.min_until, w.max_until, w.regime) == (100, 200, None)


def test_bad_decision_date_is_a_date_format_error() -> None:
    with pytest.raises(DateFormatError, match="'decision_date' is not an ISO date"):
        bad = {**penalty().body, "decision_date": "2026/5/10"}
        publication_window(Record("penalty.admin", "cn-zj-ningbo", SUBJECT, bad, 0))


# --- window boundaries, both regimes ----------------------------------------------------

# (id, decision, severity, min date, max date): decision dates either side of 2026-04-01
BOUNDARIES = [
    ("o58", "2026-03-31", "general", "2026-06-30", "2029-03-31"),
    ("crm-general", "2026-04-01", "general", "2026-07-01", "2027-04-01"),
    ("crm-serious", "2026-04-01", "serious", "2027-04-01", "2029-04-01"),
]


@pytest.mark.parametrize(
    ("decision", "sev", "lo", "hi"), [b[1:] for b in BOUNDARIES], ids=[b[0] for b in BOUNDARIES]
)
def test_status_on_window_boundaries(decision: str, sev: str, lo: str, hi: str) -> None:
    t = target(decision, severity=sev)
    day_before = (date.fromisoformat(lo) - timedelta(days=1)).isoformat()
    # min - 1 day: active; a repair decided that day is too early and ignored
    early = repair(t, day_before)
    with pytest.raises(RepairTooEarlyError, match=f"expected on or after {lo}"):
        validate_lifecycle(t, early)
    s = status_at(t, [early], unix(lo) - 1)
    assert s.state == "active" and s.usable_for == {"punitive": True, "eligibility": True}
    assert s.evidence == () and any(
        "ignored lifecycle.repair" in r and "before the minimum" in r for r in s.reasons
    )
    # min: a repair decided on the minimum date takes effect
    ok = repair(t, lo)
    validate_lifecycle(t, ok)
    s = status_at(t, [early, ok], unix(lo) + 3600)
    assert s.state == "repaired" and s.evidence == (ok.leaf_hash.hex(),)
    assert not any(s.usable_for.values())
    # max: without lifecycle, active up to the last second, expired at the maximum
    assert status_at(t, [], unix(hi) - 1).state == "active"
    s = status_at(t, [], unix(hi))
    assert s.state == "expired" and not any(s.usable_for.values())
    assert f"publication ended on {hi}" in s.reasons[0]


def test_crm_minor_may_be_repaired_at_once() -> None:
    t = target("2026-04-01", types=("警告",))
    validate_lifecycle(t, repair(t, "2026-04-01"))


# --- validation errors --------------------------------------------------------------------


def test_repair_by_another_issuer_is_unauthorised_unless_authorised() -> None:
    t = target("2026-04-01", severity="general")
    rogue = repair(t, "2026-08-01", other=True)
    with pytest.raises(UnauthorisedRepairError, match="only the issuer that made the finding"):
        validate_lifecycle(t, rogue)
    validate_lifecycle(t, rogue, authorised=True)
    assert status_at(t, [rogue], unix("2026-09-01")).state == "active"
    s = status_at(
        t,
        [rogue],
        unix("2026-09-01"),
        authorised_repairers=lambda tg, st: st.claims.iss == OTHER_ISS,
    )
    assert s.state == "repaired"


def test_errors_are_policy_errors_with_codes() -> None:
    assert issubclass(RepairTooEarlyError, LifecycleError)
    assert issubclass(LifecycleError, PolicyError)
    assert UnauthorisedRepairError.code == "repair_unauthorised"


def test_withdrawal_only_by_the_issuer() -> None:
    t = target()
    with pytest.raises(UnauthorisedLifecycleError, match="withdrawal by issuer"):
        validate_lifecycle(t, withdrawal(t, "2026-05-11", other=True))
    s = status_at(t, [withdrawal(t, "2026-05-11")], unix("2026-05-12"))
    assert s.state == "withdrawn" and s.reasons[0].startswith("withdrawn: withdrawn on 2026-05-11")


def test_wrong_refs_are_a_target_error() -> None:
    t, u = target(), target("2026-06-01")
    stray = repair(u, "2026-12-01")
    with pytest.raises(LifecycleTargetError, match="does not name the target"):
        validate_lifecycle(t, stray)
    with pytest.raises(LifecycleTargetError, match="does not name the target"):
        status_at(t, [stray], unix("2027-01-01"))


def test_non_lifecycle_statement_is_a_target_error() -> None:
    t = target()
    with pytest.raises(LifecycleTargetError, match="not a lifecycle statement"):
        validate_lifecycle(t, target("2026-06-01"))


def test_resolution_needs_an_open_objection() -> None:
    t = target()
    r = resolved(t, "REJECTED", "2026-06-01")
    with pytest.raises(NoOpenObjectionError, match="no open objection"):
        validate_lifecycle(t, r)
    o = objection(t, "2026-05-20")
    validate_lifecycle(t, r, prior=[o])
    with pytest.raises(NoOpenObjectionError, match="already resolved"):
        validate_lifecycle(t, resolved(t, "UPHELD", "2026-06-02", o.leaf_hash), prior=[o, r])
    with pytest.raises(LifecycleError, match="objection outcome: expected one of"):
        validate_lifecycle(t, resolved(t, "MAYBE", "2026-06-01"), prior=[o])


def test_commitment_outcome() -> None:
    body: dict[str, object] = {
        "commitment_type": "信用修复型",
        "matter": "m",
        "made_on": "2026-05-01",
    }
    c = sign(
        Record("commitment", "cn-zj-ningbo", SUBJECT, body, unix("2026-05-01")), unix("2026-05-01")
    )
    kept = life(
        "commitment.outcome",
        c,
        {"outcome": "KEPT", "verified_on": "2026-08-01"},
        unix("2026-08-01"),
    )
    broke = life(
        "commitment.outcome",
        c,
        {"outcome": "BREACHED", "verified_on": "2026-09-01"},
        unix("2026-09-01"),
    )
    s = status_at(c, [broke, kept], unix("2026-10-01"))
    assert s.state == "active" and s.outcome == "KEPT" and s.evidence == (kept.leaf_hash.hex(),)
    with pytest.raises(LifecycleStateError, match="already has an outcome"):
        validate_lifecycle(c, broke, prior=[kept])
    with pytest.raises(LifecycleTargetError, match=r"targets a penalty\.admin"):
        t = target()
        validate_lifecycle(
            t, life("commitment.outcome", t, {"outcome": "KEPT", "verified_on": "2026-08-01"}, 1)
        )


# --- objections -----------------------------------------------------------------------------


def test_open_objection_suspends_punitive_use() -> None:
    t = target()
    o = objection(t, "2026-05-20", due_by="2026-06-09")
    s = status_at(t, [o], unix("2026-05-21"))
    assert s.state == "under-objection"
    assert s.usable_for == {"punitive": False, "eligibility": False}
    assert s.refusal("punitive") is not None and "under-objection" in (s.refusal("punitive") or "")
    s = status_at(t, [o], unix("2026-06-10"), objection_suspends_eligibility=False)
    assert (
        s.usable_for == {"punitive": False, "eligibility": True}
        and s.refusal("eligibility") is None
    )
    assert any("overdue since 2026-06-09" in r for r in s.reasons)


@pytest.mark.parametrize(
    ("outcome", "state"),
    [
        ("UPHELD", "active"),
        ("REJECTED", "active"),
        ("UNDETERMINED", "active"),
        ("CORRECTED", "corrected"),
    ],
)
def test_objection_outcomes(outcome: str, state: str) -> None:
    t = target()
    o = objection(t, "2026-05-20")
    r = resolved(t, outcome, "2026-06-01", o.leaf_hash)
    assert status_at(t, [r, o], unix("2026-06-02")).state == state
    # before the resolution was signed, still under objection
    assert status_at(t, [r, o], unix("2026-05-30")).state == "under-objection"


def test_correction_with_a_replacement_supersedes() -> None:
    t, new = target(), target("2026-05-11")
    o = objection(t, "2026-05-20")
    r = resolved(t, "CORRECTED", "2026-06-01", o.leaf_hash, new.leaf_hash)
    s = status_at(t, [o, r], unix("2026-06-02"))
    assert s.state == "superseded" and s.evidence == (o.leaf_hash.hex(), r.leaf_hash.hex())


def test_refusal_rejects_unknown_purpose() -> None:
    with pytest.raises(LifecycleError, match="unknown purpose"):
        status_at(target(), [], unix("2026-05-11")).refusal("marketing")


# --- ordering and as_of --------------------------------------------------------------------


def test_statements_after_as_of_are_ignored() -> None:
    t = target("2026-04-01", severity="general")
    r = repair(t, "2026-08-01")
    assert status_at(t, [r], r.claims.iat - 1).state == "active"
    assert status_at(t, [r], r.claims.iat).state == "repaired"


def test_repair_signed_early_but_dated_late_still_counts_by_its_decision_date() -> None:
    t = target("2026-04-01", severity="general")
    r = repair(t, "2026-07-01", iat=unix("2026-07-01") + 10)
    assert status_at(t, [r, r], unix("2026-07-02")).evidence == (r.leaf_hash.hex(),)


# --- properties --------------------------------------------------------------------------------

_T = target("2026-04-01", severity="general")  # min 2026-07-01, max 2027-04-01
_O1 = objection(_T, "2026-05-01")
_R1 = resolved(_T, "REJECTED", "2026-05-20", _O1.leaf_hash)
_O2 = objection(_T, "2026-06-01", other=False)
_C2 = resolved(_T, "CORRECTED", "2026-06-15")
_EARLY = repair(_T, "2026-06-30")
_REPAIR = repair(_T, "2026-07-01")
_ROGUE = repair(_T, "2026-08-01", other=True)
_WD = withdrawal(_T, "2026-09-01")
POOL = [_O1, _R1, _O2, _C2, _EARLY, _REPAIR, _ROGUE, _WD]
_RANK = {"active": 0, "under-objection": 1}
_START, _END = unix("2026-04-01"), unix("2027-06-01")


def _permissive(s: Status) -> int:
    return sum(s.usable_for.values())


@settings(max_examples=150, deadline=None)
@given(
    sub=hst.lists(hst.sampled_from(POOL), unique_by=lambda s: s.leaf_hash),
    times=hst.lists(hst.integers(_START, _END), min_size=2, max_size=6),
)
def test_terminal_states_are_monotone_in_as_of(sub: list[Statement], times: list[int]) -> None:
    prev: Status | None = None
    for t in sorted(times):
        s = status_at(_T, sub, t)
        if prev is not None and prev.state not in _RANK:
            assert s.state not in _RANK, (prev.state, s.state)
            assert _permissive(s) <= _permissive(prev)
        prev = s


@settings(max_examples=150, deadline=None)
@given(data=hst.data(), as_of=hst.integers(_START, _END))
def test_status_is_independent_of_input_order(data: hst.DataObject, as_of: int) -> None:
    sub = data.draw(hst.lists(hst.sampled_from(POOL), unique_by=lambda s: s.leaf_hash))
    shuffled = data.draw(hst.permutations(sub))
    assert status_at(_T, sub, as_of) == status_at(_T, shuffled, as_of)
