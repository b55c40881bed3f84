"""Conversion policies: validation (each bad input: type and message), apply, replay."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credex.ledger.errors import RecordError, VerificationError
from credex.ledger.policy import (
    COMMON_LEVEL_SCHEME,
    ConversionError,
    DerivationMismatchError,
    PolicyDefinitionError,
    apply_policy,
    build_policy_record,
    policy_subject_id,
    replay,
    validate_policy,
)
from credex.ledger.record import Record, Subject

PERSON = Subject("person", "hmac:0badc0de:" + "ab" * 32)


def _scale(*rows: tuple[int, int, str, str]) -> dict[str, Any]:
    return {"bands": [{"name": n, "level": lv, "lo": lo, "hi": hi} for lo, hi, n, lv in rows]}


TIANYI = _scale(
    (0, 399, "t1", "L1"),
    (400, 549, "t2", "L2"),
    (550, 649, "t3", "L3"),
    (650, 799, "t4", "L4"),
    (800, 1000, "t5", "L5"),
)
QIANJIANG = _scale(
    (0, 549, "信用待提高", "L1"),
    (550, 599, "一般", "L2"),
    (600, 699, "良好", "L3"),
    (700, 749, "优秀", "L4"),
    (750, 1000, "极好", "L5"),
)
MOLI = _scale(
    (0, 349, "信用极差", "L1"),
    (350, 549, "信用较差", "L1"),
    (550, 649, "信用一般", "L2"),
    (650, 749, "信用良好", "L3"),
    (750, 849, "信用优秀", "L4"),
    (850, 1000, "信用极好", "L5"),
)
TAX = {"bands": [{"name": g} for g in ("D", "C", "M", "B", "A")]}


def band_table() -> dict[str, Any]:
    return {
        "type": "band_table",
        "source_scheme": "NINGBO_TIANYI",
        "target_scheme": "HANGZHOU_QIANJIANG",
        "table": {"t1": "L1", "t2": "L2", "t3": "L3", "t4": "L4", "t5": "L5"},
        "schemes": {"NINGBO_TIANYI": TIANYI, "HANGZHOU_QIANJIANG": QIANJIANG},
    }


def piecewise() -> dict[str, Any]:
    return {
        "type": "piecewise_linear",
        "source_scheme": "NINGBO_TIANYI",
        "target_scheme": "HANGZHOU_QIANJIANG",
        "breakpoints": [[0, 0], [550, 550], [800, 750], [1000, 1000]],
        "schemes": {"NINGBO_TIANYI": TIANYI, "HANGZHOU_QIANJIANG": QIANJIANG},
    }


def field_map() -> dict[str, Any]:
    return {
        "type": "field_map",
        "source_kind": "report.hk",
        "format": "cn-enterprise-report/1",
        "fields": [
            {"from": "company_name", "to": "企业名称", "type": "text"},
            {"from": "items.cr_no", "to": "登记编号", "type": "text"},
            {
                "from": "items.status",
                "to": "经营状态",
                "type": "enum",
                "enum": {"Live": "存续", "Dissolved": "注销"},
            },
            {"from": "items.litigation_count", "to": "涉诉数量", "type": "int"},
            {
                "from": "items.paid_up_capital",
                "to": "实缴资本",
                "type": "money",
                "unit": {"from_unit": "HKD", "to_unit": "CNY", "num": 92, "den": 100},
            },
        ],
        "keep_specific": ["items.directors", "rating"],
    }


def score(scheme: str, value: int, band: str, **extra: Any) -> Record:
    body = {"scheme": scheme, "score": value, "band": band, "as_of": "2026-03-01", **extra}
    return Record("score.city", "cn-zj-ningbo", PERSON, body, 1_770_000_000, 1_790_000_000)


def derived(kind: str, body: dict[str, Any], valid_until: int | None = 1_790_000_000) -> Record:
    return Record(kind, "cn-zj-hangzhou", PERSON, body, 1_775_000_000, valid_until, (b"\1" * 32,))


HK_BODY: dict[str, Any] = {
    "agency": "Example Agency",
    "report_id": "SYN-1",
    "report_date": "2026-03-01",
    "company_name": "Example Trading (HK) Ltd",
    "rating": "3A2",
    "items": {
        "cr_no": "91234567",
        "status": "Live",
        "litigation_count": 2,
        "paid_up_capital": 1_000_001,
        "directors": ["陳**", "黃**"],
    },
}


# --- valid policies -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "band", "expected"),
    [
        (0, "t1", {"scheme": "HANGZHOU_QIANJIANG", "level": "L1", "band": "信用待提高"}),
        (650, "t4", {"scheme": "HANGZHOU_QIANJIANG", "level": "L4", "band": "优秀"}),
        (1000, "t5", {"scheme": "HANGZHOU_QIANJIANG", "level": "L5", "band": "极好"}),
    ],
    ids=["lowest", "t4", "highest"],
)
def test_band_table(value: int, band: str, expected: dict[str, Any]) -> None:
    policy = validate_policy(band_table())
    assert policy.output_kind == "derived.score"
    assert apply_policy(policy, score("NINGBO_TIANYI", value, band).body) == expected


def test_band_table_keyed_by_level_without_target() -> None:
    rules = {
        "type": "band_table",
        "source_scheme": "FUZHOU_MOLI",
        "table": {"L1": "L1", "L2": "L2", "L3": "L3", "L4": "L4", "L5": "L5"},
        "schemes": {"FUZHOU_MOLI": MOLI},
    }
    out = apply_policy(validate_policy(rules), score("FUZHOU_MOLI", 400, "信用较差").body)
    assert out == {"scheme": COMMON_LEVEL_SCHEME, "level": "L1"}


def test_band_table_target_band_left_out_when_ambiguous() -> None:
    rules = band_table() | {"target_scheme": "FUZHOU_MOLI"}
    rules["schemes"] = {"NINGBO_TIANYI": TIANYI, "FUZHOU_MOLI": MOLI}
    out = apply_policy(validate_policy(rules), score("NINGBO_TIANYI", 0, "t1").body)
    assert out == {"scheme": "FUZHOU_MOLI", "level": "L1"}  # 极差 and 较差 are both L1


def test_band_table_over_a_rating_scale() -> None:
    rules = {
        "type": "band_table",
        "source_scheme": "TAX_NSXY",
        "table": {"D": "L1", "C": "L2", "M": "L3", "B": "L4", "A": "L5"},
        "schemes": {"TAX_NSXY": TAX},
    }
    body = {"scheme": "TAX_NSXY", "grade": "M", "rated_on": "2026-04-01", "rater": "tax"}
    assert apply_policy(validate_policy(rules), body) == {"scheme": "COMMON_LEVEL", "level": "L3"}


@pytest.mark.parametrize(
    ("x", "y", "band", "level"),
    [
        (0, 0, "信用待提高", "L1"),
        (549, 549, "信用待提高", "L1"),
        (551, 550, "一般", "L2"),  # 550 + 1 * 200 // 250 = 550 (floor)
        (552, 551, "一般", "L2"),  # 550 + 2 * 200 // 250 = 551
        (800, 750, "极好", "L5"),
        (801, 751, "极好", "L5"),  # 750 + 1 * 250 // 200 = 751 (floor of 1.25)
        (1000, 1000, "极好", "L5"),
    ],
)
def test_piecewise_linear_floor(x: int, y: int, band: str, level: str) -> None:
    out = apply_policy(
        validate_policy(piecewise()),
        score(
            "NINGBO_TIANYI",
            x,
            "t1"
            if x < 400
            else "t2"
            if x < 550
            else "t3"
            if x < 650
            else "t4"
            if x < 800
            else "t5",
        ).body,
    )
    assert out == {"scheme": "HANGZHOU_QIANJIANG", "score": y, "band": band, "level": level}


def test_field_map_hk_report() -> None:
    policy = validate_policy(field_map())
    assert policy.output_kind == "derived.report"
    assert apply_policy(policy, HK_BODY) == {
        "format": "cn-enterprise-report/1",
        "items": {
            "企业名称": "Example Trading (HK) Ltd",
            "登记编号": "91234567",
            "经营状态": "存续",
            "涉诉数量": 2,
            "实缴资本": {"amount": 920_000, "currency": "CNY"},  # 1000001 * 92 // 100
            "specific": {"items.directors": ["陳**", "黃**"], "rating": "3A2"},
        },
    }


def test_field_map_absent_source_fields_are_left_out() -> None:
    body = {k: v for k, v in HK_BODY.items() if k not in ("items", "rating")}
    out = apply_policy(validate_policy(field_map()), body)
    assert out == {"format": "cn-enterprise-report/1", "items": {"企业名称": body["company_name"]}}


# --- bad policies -------------------------------------------------------------------


def _drop_band(rules: dict[str, Any]) -> dict[str, Any]:
    del rules["table"]["t3"]
    return rules


def _swap_levels(rules: dict[str, Any]) -> dict[str, Any]:
    rules["table"]["t3"], rules["table"]["t4"] = "L4", "L3"
    return rules


BAD: list[tuple[str, Any, str]] = [
    ("not-a-map", [], "policy: rules must be a map"),
    ("unknown-type", {"type": "lookup"}, "unknown rule type: expected one of band_table, "),
    (
        "float-deep",
        piecewise() | {"breakpoints": [[0, 0], [1000, 999.5]]},
        r"floats are not allowed: found one at rules\.breakpoints\[1\]\[1\]",
    ),
    ("float-in-table", band_table() | {"table": {"t1": 1.0}}, r"at rules\.table\.t1"),
    (
        "unknown-rule-fields",
        band_table() | {"tabel": {}, "extra": 1},
        "rules has unknown fields: extra, tabel",
    ),
    (
        "missing-field",
        {"type": "band_table", "source_scheme": "X"},
        "rules is missing required fields: table",
    ),
    (
        "unknown-scheme",
        band_table() | {"source_scheme": "SUZHOU_GUIHUA"},
        "rules.source_scheme names unknown scheme 'SUZHOU_GUIHUA'",
    ),
    (
        "not-total-band",
        _drop_band(band_table()),
        "band_table is not total over NINGBO_TIANYI: band 't3' has no entry",
    ),
    (
        "unknown-band",
        band_table() | {"table": {"t1": "L1", "t9": "L2"}},
        r"rules\.table has unknown fields: t9 \(not a band or level of NINGBO_TIANYI\)",
    ),
    (
        "not-monotonic-band",
        _swap_levels(band_table()),
        "band_table is not monotonic: 't3' -> L4 but the better 't4' -> L3",
    ),
    (
        "bad-level",
        band_table() | {"table": dict.fromkeys(("t1", "t2", "t3", "t4", "t5"), "L6")},
        r"rules\.table\['t1'\] must be a level L1\.\.L5, got 'L6'",
    ),
    (
        "not-total-low",
        piecewise() | {"breakpoints": [[100, 0], [1000, 1000]]},
        "piecewise_linear is not total over NINGBO_TIANYI: values 0-99 are not covered",
    ),
    (
        "not-total-high",
        piecewise() | {"breakpoints": [[0, 0], [900, 1000]]},
        "piecewise_linear is not total over NINGBO_TIANYI: values 901-1000 are not covered",
    ),
    (
        "not-monotonic-piecewise",
        piecewise() | {"breakpoints": [[0, 0], [550, 700], [1000, 600]]},
        r"piecewise_linear is not monotonic: \[550, 700\] then \[1000, 600\]",
    ),
    (
        "x-not-increasing",
        piecewise() | {"breakpoints": [[0, 0], [0, 10], [1000, 1000]]},
        "piecewise_linear x values must increase: 0 then 0",
    ),
    (
        "y-outside-target",
        piecewise() | {"breakpoints": [[0, 0], [1000, 1001]]},
        r"y value 1001 \(at x 1000\) is outside HANGZHOU_QIANJIANG 0-1000",
    ),
    (
        "bool-breakpoint",
        piecewise() | {"breakpoints": [[0, False], [1000, 1000]]},
        r"rules\.breakpoints\[0\] must be a pair of integers",
    ),
    (
        "piecewise-over-grades",
        piecewise()
        | {
            "source_scheme": "TAX_NSXY",
            "schemes": {"TAX_NSXY": TAX, "HANGZHOU_QIANJIANG": QIANJIANG},
        },
        "piecewise_linear needs numeric scales; TAX_NSXY has named grades only",
    ),
    (
        "unknown-source-field",
        field_map() | {"fields": [{"from": "compnay_name", "to": "a", "type": "text"}]},
        r"rules\.fields\[0\]\.from refers to unknown field 'compnay_name' of report\.hk",
    ),
    (
        "path-into-text",
        field_map() | {"fields": [{"from": "rating.x", "to": "a", "type": "text"}]},
        "refers to unknown field 'rating.x' of report.hk",
    ),
    (
        "unknown-keep-field",
        field_map() | {"keep_specific": ["directors"]},
        r"rules\.keep_specific\[0\] refers to unknown field 'directors' of report\.hk",
    ),
    (
        "unknown-field-spec-key",
        field_map() | {"fields": [{"from": "rating", "to": "a", "type": "text", "fromat": 1}]},
        r"rules\.fields\[0\] has unknown fields: fromat",
    ),
    (
        "unknown-kind",
        field_map() | {"source_kind": "report.us"},
        "rules.source_kind names unknown kind 'report.us'",
    ),
    (
        "enum-missing",
        field_map() | {"fields": [{"from": "rating", "to": "a", "type": "enum"}]},
        "enum is required for type enum and only for it",
    ),
    (
        "money-zero-den",
        field_map()
        | {
            "fields": [
                {
                    "from": "rating",
                    "to": "a",
                    "type": "money",
                    "unit": {"from_unit": "HKD", "to_unit": "CNY", "num": 92, "den": 0},
                }
            ]
        },
        "unit num and den must be positive integers",
    ),
    (
        "duplicate-target",
        field_map()
        | {
            "fields": [
                {"from": "rating", "to": "a", "type": "text"},
                {"from": "agency", "to": "a", "type": "text"},
            ]
        },
        "to 'a' is used twice or reserved",
    ),
    (
        "scale-gap",
        band_table()
        | {
            "schemes": {
                "NINGBO_TIANYI": _scale((0, 10, "a", "L1"), (12, 20, "b", "L2")),
                "HANGZHOU_QIANJIANG": QIANJIANG,
            }
        },
        "bands 'a' and 'b' are not contiguous: expected lo 11, got 12",
    ),
    (
        "scale-levels-decrease",
        band_table()
        | {
            "schemes": {
                "NINGBO_TIANYI": _scale((0, 10, "a", "L2"), (11, 20, "b", "L1")),
                "HANGZHOU_QIANJIANG": QIANJIANG,
            }
        },
        "levels not monotonic: 'a' -> L2 but the better 'b' -> L1",
    ),
]


@pytest.mark.parametrize(
    ("value", "message"), [(v, m) for _, v, m in BAD], ids=[i for i, _, _ in BAD]
)
def test_bad_policies(value: Any, message: str) -> None:
    with pytest.raises(PolicyDefinitionError, match=message) as info:
        validate_policy(value)
    assert isinstance(info.value, RecordError)
    assert str(info.value).startswith("policy: ")


# --- bad sources --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "body", "message"),
    [
        (
            band_table(),
            score("XIAMEN_BAILU", 10, "t1").body,
            "source scheme differs: expected 'NINGBO_TIANYI', got 'XIAMEN_BAILU'",
        ),
        (
            band_table(),
            score("NINGBO_TIANYI", 900, "t1").body,
            "source band does not match its score in NINGBO_TIANYI",
        ),
        (band_table(), score("NINGBO_TIANYI", 10, "t0").body, "NINGBO_TIANYI has no band 't0'"),
        (
            piecewise(),
            score("NINGBO_TIANYI", 1001, "t5").body,
            "NINGBO_TIANYI score out of range: expected 0-1000, got 1001",
        ),
        (
            field_map(),
            HK_BODY | {"items": {"status": "Struck off"}},
            "source field 'items.status' has a value outside the enum of '经营状态'",
        ),
        (
            field_map(),
            HK_BODY | {"items": {"paid_up_capital": "1,000"}},
            "source field 'items.paid_up_capital' is not an integer amount in HKD",
        ),
    ],
    ids=["scheme", "band-vs-score", "band", "range", "enum", "money"],
)
def test_bad_sources(rules: dict[str, Any], body: dict[str, Any], message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        apply_policy(validate_policy(rules), body)


# --- replay -------------------------------------------------------------------------


def test_replay_accepts_the_derived_body_and_names_a_tampered_field() -> None:
    policy = validate_policy(band_table())
    src = score("NINGBO_TIANYI", 700, "t4")
    body = apply_policy(policy, src.body)
    replay(policy, [src], derived("derived.score", body))
    with pytest.raises(
        DerivationMismatchError,
        match="derivation: field 'level' does not replay",
    ) as info:
        replay(policy, [src], derived("derived.score", body | {"level": "L5"}))
    assert isinstance(info.value, VerificationError)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: b | {"score": 1}, "field 'score' does not replay"),
        (
            lambda b: {k: v for k, v in b.items() if k != "band"},
            "field 'band' does not replay",
        ),
        (
            lambda b: b | {"scheme": "XIAMEN_BAILU"},
            "field 'scheme' does not replay",
        ),
    ],
    ids=["extra", "missing", "scheme"],
)
def test_replay_names_the_field(change: Any, message: str) -> None:
    policy = validate_policy(band_table())
    src = score("NINGBO_TIANYI", 700, "t4")
    with pytest.raises(DerivationMismatchError, match=message):
        replay(policy, [src], derived("derived.score", change(apply_policy(policy, src.body))))


def test_replay_nested_report_field() -> None:
    policy = validate_policy(field_map())
    src = Record("report.hk", "hk", Subject("org", "HK-CR:91234567"), HK_BODY, 1_770_000_000)
    body = apply_policy(policy, src.body)
    out = Record(
        "derived.report", "cn-gd-qianhai", src.subject, body, 1_775_000_000, refs=(b"\1" * 32,)
    )
    replay(policy, [src], out)
    tampered = copy.deepcopy(body)
    tampered["items"]["实缴资本"]["amount"] = 920_001
    bad = Record(
        "derived.report", "cn-gd-qianhai", src.subject, tampered, 1_775_000_000, refs=(b"\1" * 32,)
    )
    with pytest.raises(
        DerivationMismatchError,
        match=r"field 'items\.实缴资本\.amount' does not replay",
    ):
        replay(policy, [src], bad)


def test_replay_record_level_checks() -> None:
    policy = validate_policy(band_table())
    src = score("NINGBO_TIANYI", 700, "t4")
    body = apply_policy(policy, src.body)
    other = Subject("person", "hmac:0badc0de:" + "cd" * 32)
    cases = [
        ([], derived("derived.score", body), "expected exactly 1 source record, got 0"),
        (
            [src],
            derived("derived.report", {"format": "x", "items": {}}),
            "field 'kind' does not replay",
        ),
        (
            [src],
            Record("derived.score", "cn-zj-hangzhou", other, body, 1, 2, (b"\1" * 32,)),
            "field 'subject' does not replay",
        ),
        (
            [src],
            derived("derived.score", body, None),
            "field 'valid_until' does not replay",
        ),
        (
            [score("NINGBO_TIANYI", 900, "t4")],
            derived("derived.score", body),
            "derivation: source does not convert: policy: source band does not match its score",
        ),
    ]
    for sources, rec, message in cases:
        with pytest.raises(DerivationMismatchError, match=message):
            replay(policy, sources, rec)


# --- properties ---------------------------------------------------------------------

_BANDS = ((0, 399, "t1"), (400, 549, "t2"), (550, 649, "t3"), (650, 799, "t4"), (800, 1000, "t5"))


def _band(x: int) -> str:
    return next(n for lo, hi, n in _BANDS if lo <= x <= hi)


@given(st.integers(0, 1000))
def test_apply_is_deterministic_and_replays(x: int) -> None:
    for rules in (band_table(), piecewise()):
        policy = validate_policy(rules)
        src = score("NINGBO_TIANYI", x, _band(x))
        body = apply_policy(policy, src.body)
        assert body == apply_policy(validate_policy(copy.deepcopy(rules)), src.body)
        replay(policy, [src], derived("derived.score", body))


@given(st.integers(0, 1000), st.integers(0, 1000))
def test_piecewise_output_monotonic_and_in_range(a: int, b: int) -> None:
    a, b = min(a, b), max(a, b)
    policy = validate_policy(piecewise())
    ya = apply_policy(policy, score("NINGBO_TIANYI", a, _band(a)).body)
    yb = apply_policy(policy, score("NINGBO_TIANYI", b, _band(b)).body)
    assert 0 <= ya["score"] <= yb["score"] <= 1000
    assert ya["level"] <= yb["level"]


@given(st.integers(0, 1000), st.sampled_from(["score", "level", "band"]), st.text(max_size=4))
def test_any_tampered_score_field_fails_naming_it(x: int, name: str, junk: str) -> None:
    policy = validate_policy(piecewise())
    src = score("NINGBO_TIANYI", x, _band(x))
    body = apply_policy(policy, src.body)
    value: Any = body[name] + 1 if name == "score" else body[name] + "x" + junk
    with pytest.raises(DerivationMismatchError, match=f"field '{name}' does not replay"):
        replay(policy, [src], derived("derived.score", body | {name: value}))


# --- policy records -----------------------------------------------------------------


def test_build_policy_record_uses_the_reserved_subject() -> None:
    rules = band_table()
    rec = build_policy_record("ningbo-to-hangzhou", 1, rules, "cn-zj-hangzhou", 1_775_000_000)
    assert rec.kind == "policy.conversion"
    assert rec.subject.id == policy_subject_id("ningbo-to-hangzhou", 1, rules)
    assert rec.subject.id.startswith("hmac:00000000:") and len(rec.subject.id) == 14 + 64
    assert Record.from_bytes(rec.to_bytes()) == rec
    assert policy_subject_id("ningbo-to-hangzhou", 2, rules) != rec.subject.id
    with pytest.raises(PolicyDefinitionError, match="not total"):
        build_policy_record("x", 1, _drop_band(band_table()), "cn-zj-hangzhou", 1)
