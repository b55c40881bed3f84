"""Conflict detection core: every rule, and the near misses that must not be conflicts
(repaired, expired, same region, signed after as_of, stale copy superseded by a fresh
view), with fixed keys and dates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone

import pytest

from credex.ledger.conflicts import (
    CONFLICT_TYPES,
    ConflictReport,
    Observed,
    View,
    find_conflicts,
)
from credex.ledger.errors import FormatError, RecordError
from credex.ledger.keys import SigningKey
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement, sign_statement

CST = timezone(timedelta(hours=8))
NB, HZ, XM = "cn-zj-ningbo", "cn-zj-hangzhou", "cn-fj-xiamen"
ORIGIN = {NB: "nb.example/log", HZ: "hz.example/log", XM: "xm.example/log"}
KEYS = {NB: SigningKey(b"\x01" * 32), HZ: SigningKey(b"\x02" * 32), XM: SigningKey(b"\x03" * 32)}
ORG = Subject("org", "91330100MA0YX0016X")
PERSON = Subject("person", "hmac:0a0b0c0d:" + "ab" * 32)
OTHER_KEY_PERSON = Subject("person", "hmac:0e0e0e0e:" + "ab" * 32)
SECRET_TEXT = "秘密的名单名称"  # body content that must never reach a reason


def unix(d: str) -> int:
    x = date.fromisoformat(d)
    return int(datetime(x.year, x.month, x.day, tzinfo=CST).timestamp())


AS_OF = unix("2026-06-01")
T = unix("2026-01-02")


def sign(rec: Record, iat: int = T) -> Statement:
    return sign_statement(rec, f"{rec.region}/platform", KEYS[rec.region], iat)


def rec(
    kind: str,
    region: str,
    body: dict[str, object],
    *,
    subject: Subject = ORG,
    valid_until: int | None = None,
    refs: tuple[bytes, ...] = (),
) -> Record:
    return Record(kind, region, subject, body, unix("2026-01-01"), valid_until, refs)


def red(region: str, **kw: object) -> Statement:
    body = {"list_name": SECRET_TEXT, "authority": "某局", "listed_on": "2026-01-01"}
    return sign(rec("list.red", region, body, **kw))  # type: ignore[arg-type]


def black(region: str, until: str | None = None, iat: int = T) -> Statement:
    body = {
        "list_name": SECRET_TEXT,
        "authority": "某局",
        "listed_on": "2026-01-01",
        "reason": SECRET_TEXT,
    }
    if until is not None:
        body["list_until"] = until
    return sign(rec("list.black", region, body), iat)


def debtor(region: str, listed_on: str = "2026-01-01") -> Statement:
    body = {"court": "某法院", "case_no": "(2025)浙0203执1号", "filed_on": listed_on}
    return sign(rec("court.dishonest-debtor", region, {**body, "listed_on": listed_on}))


def penalty(region: str, severity: str) -> Statement:
    body = {
        "decision_no": "罚〔2026〕1号",
        "decision_date": "2026-01-01",
        "penalty_types": ["罚款"],
        "content": SECRET_TEXT,
        "authority": "某局",
        "authority_uscc": "11330200MB1234567X",
        "severity": severity,
    }
    return sign(rec("penalty.admin", region, body))


def score(region: str, level: str | None, *, subject: Subject = PERSON, **kw: object) -> Statement:
    body: dict[str, object] = {"scheme": "S", "score": 600, "band": "b", "as_of": "2026-01-01"}
    if level is not None:
        body["level"] = level
    until = kw.pop("valid_until", unix("2026-12-31"))
    return sign(rec("score.city", region, body, subject=subject, valid_until=until), **kw)  # type: ignore[arg-type]


def derived(region: str, source: Statement, level: str, iat: int = T + 10) -> Statement:
    policy = b"\x99" * 32
    body = {"scheme": "D", "level": level}
    r = rec(
        "derived.score",
        region,
        body,
        subject=source.record.subject,
        refs=(source.leaf_hash, policy),
    )
    return sign(r, iat)


def life(kind: str, target: Statement, body: dict[str, object], iat: int) -> Statement:
    r = Record(
        kind, target.record.region, target.record.subject, body, iat, refs=(target.leaf_hash,)
    )
    return sign(r, iat)


def withdraw(target: Statement, iat: int = unix("2026-03-01")) -> Statement:
    return life(
        "lifecycle.withdrawal", target, {"reason": "错误", "withdrawn_on": "2026-03-01"}, iat
    )


def repair(target: Statement, iat: int = unix("2026-03-01")) -> Statement:
    return life("lifecycle.repair", target, {"route": "移出名单", "decided_on": "2026-03-01"}, iat)


def view(region: str, holder: str | None = None, size: int = 100) -> View:
    return View(ORIGIN[holder or region], ORIGIN[region], size)


def obs(v: View, *stmts: Statement) -> list[Observed]:
    return [Observed(v, i, st) for i, st in enumerate(stmts)]


def run(*groups: Sequence[Observed], **kw: object) -> ConflictReport:
    flat = [o for g in groups for o in g]
    return find_conflicts(flat, kw.pop("as_of", AS_OF), **kw)  # type: ignore[arg-type]


def types(report: ConflictReport) -> list[str]:
    return [c.type for c in report.conflicts]


def assert_clean_reasons(report: ConflictReport) -> None:
    for c in report.conflicts:
        assert SECRET_TEXT not in c.reason
        assert ORG.id not in c.reason and "hmac:" not in c.reason


# --- listed red and black ------------------------------------------------------------------


def test_red_in_one_region_black_in_another_is_a_conflict() -> None:
    r, b = red(HZ), black(NB)
    report = run(obs(view(HZ), r), obs(view(NB), b))
    assert types(report) == ["listed-red-and-black"]
    c = report.conflicts[0]
    assert c.subject_id == ORG.id
    assert c.leaf_hashes == (r.leaf_hash.hex(), b.leaf_hash.hex())
    assert c.regions == (HZ, NB) and c.severity == "high"
    assert c.views == (ORIGIN[HZ], ORIGIN[NB])
    assert "red list entry issued in cn-zj-hangzhou" in c.reason and "2026-06-01" in c.reason
    assert_clean_reasons(report)
    assert report.compared == 2 and report.not_comparable == 0


@pytest.mark.parametrize(
    "make_black",
    [
        lambda: (b := black(NB), [b, repair(b)]),
        lambda: (b := black(NB), [b, withdraw(b)]),
        lambda: (b := black(NB, until="2026-05-01"), [b]),
        lambda: (b := black(NB, iat=AS_OF + 1), [b]),
    ],
    ids=["repaired", "withdrawn", "expired-window", "signed-after-as-of"],
)
def test_black_entry_not_in_force_is_no_conflict(make_black) -> None:
    _, stmts = make_black()
    report = run(obs(view(HZ), red(HZ)), obs(view(NB), *stmts))
    assert report.conflicts == ()


def test_repair_signed_after_as_of_does_not_count_yet() -> None:
    b = black(NB)
    late = repair(b, iat=AS_OF + 86400)
    report = run(obs(view(HZ), red(HZ)), obs(view(NB), b, late))
    assert types(report) == ["listed-red-and-black"]


def test_red_and_black_in_the_same_region_is_not_a_cross_region_conflict() -> None:
    report = run(obs(view(NB), red(NB), black(NB)))
    assert report.conflicts == ()


def test_red_list_expired_is_no_conflict() -> None:
    report = run(obs(view(HZ), red(HZ, valid_until=unix("2026-05-01"))), obs(view(NB), black(NB)))
    assert report.conflicts == ()


# --- red list vs court list / serious penalty ---------------------------------------------


def test_red_list_vs_dishonest_debtor() -> None:
    report = run(obs(view(HZ), red(HZ)), obs(view(XM), debtor(XM)))
    assert types(report) == ["red-list-vs-dishonest-debtor"]
    assert report.conflicts[0].regions == (HZ, XM)
    assert_clean_reasons(report)
    # the debtor's two-year listing has ended by as_of: no conflict
    report = run(obs(view(HZ), red(HZ)), obs(view(XM), debtor(XM, "2024-01-01")))
    assert report.conflicts == ()


def test_red_list_vs_serious_penalty_only() -> None:
    report = run(obs(view(HZ), red(HZ)), obs(view(NB), penalty(NB, "serious")))
    assert types(report) == ["red-list-vs-serious-penalty"]
    assert report.conflicts[0].severity == "medium"
    report = run(obs(view(HZ), red(HZ)), obs(view(NB), penalty(NB, "general")))
    assert report.conflicts == ()


# --- repaired but used ---------------------------------------------------------------------


def test_derived_record_using_a_withdrawn_source() -> None:
    s = score(NB, "L3")
    d = derived(HZ, s, "L3")
    w = withdraw(s)
    report = run(obs(view(NB), s, w), obs(view(HZ), d), types=["repaired-but-used"])
    assert types(report) == ["repaired-but-used"]
    c = report.conflicts[0]
    assert c.leaf_hashes == (s.leaf_hash.hex(), d.leaf_hash.hex())
    assert c.regions == (NB, HZ) and c.severity == "high"
    assert "is withdrawn there" in c.reason and "recognised before it" in c.reason
    # recognised after the withdrawal
    late = derived(HZ, s, "L3", iat=unix("2026-04-01"))
    report = run(obs(view(NB), s, w), obs(view(HZ), late), types=["repaired-but-used"])
    assert "recognised after it" in report.conflicts[0].reason


def test_derived_record_no_conflict_when_source_active_or_derived_withdrawn() -> None:
    s = score(NB, "L3")
    d = derived(HZ, s, "L3")
    assert run(obs(view(NB), s), obs(view(HZ), d)).conflicts == ()
    gone = life(
        "lifecycle.withdrawal",
        d,
        {"reason": "源已撤回", "withdrawn_on": "2026-03-02"},
        unix("2026-03-02"),
    )
    report = run(obs(view(NB), s, withdraw(s)), obs(view(HZ), d, gone))
    assert report.conflicts == ()


def test_withdrawal_seen_in_a_mirror_counts() -> None:
    """Hangzhou holds its own derived record and a mirror of Ningbo with the withdrawal."""
    s = score(NB, "L3")
    d = derived(HZ, s, "L3")
    report = run(obs(view(HZ), d), obs(view(NB, holder=HZ), s, withdraw(s)))
    assert types(report) == ["repaired-but-used"]
    assert report.conflicts[0].views == (f"{ORIGIN[NB]}@{ORIGIN[HZ]}", ORIGIN[HZ])


# --- stale mirror --------------------------------------------------------------------------


def test_stale_mirror_against_the_origin_log() -> None:
    b = black(NB)
    fresh = obs(view(NB, size=2), b, repair(b))
    stale = obs(view(NB, holder=HZ, size=1), b)
    own = obs(view(HZ), red(HZ))
    report = run(fresh, stale, own)
    # the fresh view decides the cross-region rules: the black entry is repaired
    assert types(report) == ["stale-mirror"]
    c = report.conflicts[0]
    assert c.leaf_hashes == (b.leaf_hash.hex(),) and c.severity == "medium"
    assert c.views == (f"{ORIGIN[NB]}@{ORIGIN[HZ]}", ORIGIN[NB])
    assert "is repaired in" in c.reason and "still in force" in c.reason
    # only the stale copy is known: it is all there is, and it conflicts
    report = run(stale, own)
    assert types(report) == ["listed-red-and-black"]


def test_equal_views_are_not_stale() -> None:
    b = black(NB)
    report = run(
        obs(view(NB, size=2), b, repair(b)), obs(view(NB, holder=HZ, size=2), b, repair(b))
    )
    assert report.conflicts == ()


def test_entries_beyond_a_view_size_are_ignored() -> None:
    b = black(NB)
    # the repair sits at index 1 but the view holds 1 entry: it is not in that view
    report = run(obs(view(NB, size=1), b, repair(b)), obs(view(HZ), red(HZ)))
    assert types(report) == ["listed-red-and-black"]


# --- score divergence ---------------------------------------------------------------------


def test_score_divergence_threshold_and_severity() -> None:
    report = run(obs(view(NB), score(NB, "L1")), obs(view(HZ), score(HZ, "L4")))
    assert types(report) == ["score-divergence"]
    c = report.conflicts[0]
    assert c.regions == (NB, HZ) and c.severity == "medium" and "differ by 3 levels" in c.reason
    near = [obs(view(NB), score(NB, "L2")), obs(view(HZ), score(HZ, "L3"))]
    assert run(*near).conflicts == ()
    report = run(*near, score_threshold=1)
    assert types(report) == ["score-divergence"] and report.conflicts[0].severity == "low"


def test_score_divergence_uses_latest_score_and_ignores_expired() -> None:
    old = score(NB, "L1", iat=T)
    new = score(NB, "L4", iat=T + 100)
    assert run(obs(view(NB), old, new), obs(view(HZ), score(HZ, "L4"))).conflicts == ()
    expired = score(NB, "L1", valid_until=unix("2026-05-01"))
    assert run(obs(view(NB), expired), obs(view(HZ), score(HZ, "L5"))).conflicts == ()


def test_derived_score_level_counts_and_level_of_fills_missing_levels() -> None:
    s = score(NB, "L1")
    report = run(obs(view(NB), s), obs(view(HZ), derived(HZ, score(XM, "L4"), "L4")))
    assert "score-divergence" in types(report)
    bare = score(NB, None)
    report = run(obs(view(NB), bare), obs(view(HZ), score(HZ, "L5")))
    assert report.conflicts == () and report.not_comparable == 1
    assert any("without a common level" in n for n in report.notes)
    report = run(obs(view(NB), bare), obs(view(HZ), score(HZ, "L5")), level_of=lambda r: "L2")
    assert types(report) == ["score-divergence"]


def test_person_pseudonyms_under_other_keys_do_not_match() -> None:
    report = run(
        obs(view(NB), score(NB, "L1")),
        obs(view(HZ), score(HZ, "L5", subject=OTHER_KEY_PERSON)),
    )
    assert report.conflicts == ()
    assert any("share the subject key" in n for n in report.notes)


# --- inputs --------------------------------------------------------------------------------


class _Enveloped:
    """A statement whose record body is not held here (RFC 9995 envelope)."""

    is_envelope = False  # and not an RFC 9995 envelope either: nothing to read

    def __init__(self, st: Statement) -> None:
        self.claims, self.leaf_hash = st.claims, st.leaf_hash

    @property
    def record(self) -> Record:
        raise RecordError("record: body not held here")


def test_unreadable_records_are_counted_not_compared() -> None:
    report = run(obs(view(HZ), red(HZ)), obs(view(NB), _Enveloped(black(NB))))  # type: ignore[arg-type]
    assert report.conflicts == () and report.not_comparable == 1 and report.compared == 1


def test_a_persons_envelope_without_body_takes_part_by_its_header() -> None:
    """A mirror holds a person's black list entry as its hash envelope only: kind, issuer
    region, subject and time are on the log, so the list conflict is still found."""
    body = {"list_name": SECRET_TEXT, "authority": "某局", "listed_on": "2026-01-01"}
    black_st = sign(rec("list.black", NB, {**body, "reason": SECRET_TEXT}, subject=PERSON))
    assert black_st.is_envelope
    bodiless = Statement.from_bytes(black_st.leaf)
    red_st = sign(rec("list.red", HZ, body, subject=PERSON))
    report = run(obs(view(HZ), red_st), obs(view(NB, HZ), bodiless))
    (c,) = report.conflicts
    assert c.type == "listed-red-and-black" and c.regions == (HZ, NB)
    assert report.not_comparable == 0


def test_type_filter_and_bad_arguments() -> None:
    groups = [obs(view(HZ), red(HZ)), obs(view(NB), black(NB))]
    assert run(*groups, types=["score-divergence"]).conflicts == ()
    with pytest.raises(FormatError, match="unknown type: expected one of"):
        run(*groups, types=["nope"])
    with pytest.raises(FormatError, match="score threshold must be >= 1"):
        run(*groups, score_threshold=0)
    with pytest.raises(FormatError, match="view size"):
        View("a", "a", -1)
    assert len(CONFLICT_TYPES) == 6


def test_json_value_has_no_body_content() -> None:
    report = run(obs(view(HZ), red(HZ)), obs(view(NB), black(NB)))
    value = report.conflicts[0].to_json_value()
    assert set(value) == {
        "type",
        "subject_id",
        "leaf_hashes",
        "regions",
        "views",
        "reason",
        "severity",
    }
    assert SECRET_TEXT not in repr(value)
