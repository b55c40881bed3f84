from __future__ import annotations

import csv
import io
import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credex.adapters.base import AdapterContext, ParsedRow
from credex.adapters.public_credit import PenaltyCsvAdapter
from credex.adapters.sample import (
    BOUNDARY_CASES,
    PENALTY_HEADER,
    REGIONS,
    SCORE_SCHEMES,
    band_for,
    level_for,
    make_uscc,
    penalty_csv,
    penalty_rows,
    sample_usccs,
    score_records,
    synthetic_resident_ids,
)
from credex.adapters.sample_hk import hk_report_records
from credex.ledger.dates import add_months, date_to_unix, parse_date
from credex.ledger.errors import NotFoundError, OutOfRangeError
from credex.ledger.identifiers import (
    inner_org_code_ok,
    normalise_resident_id,
    validate_org_id,
    validate_uscc,
)
from credex.ledger.record import Record
from credex.ledger.subject import SubjectKey, person_subject_id

KEY = SubjectKey.from_secret(b"\x07" * 32)
REF = date(2026, 6, 15)
MAINLAND = ["cn-zj-ningbo", "cn-zj-hangzhou", "cn-fj-xiamen", "cn-gd-qianhai"]

DOMAIN_CODES = {
    "cn-zj-ningbo": ["91330200MA0YX00163", "91330200MA0YX0024X"],
    "cn-zj-hangzhou": ["91330100MA0YX0016X", "91330100MA0YX0024Q"],
    "cn-fj-xiamen": ["91350200MA0YX0016B", "91350200MA0YX00246"],
    "cn-gd-qianhai": ["91440300MA0YX00163", "91440300MA0YX0024X"],
}


@pytest.mark.parametrize("region", MAINLAND)
def test_usccs_include_domain_codes_and_all_validate(region: str) -> None:
    codes = sample_usccs(region, 30, seed=5)
    assert codes[:2] == DOMAIN_CODES[region]
    assert len(set(codes)) == 30
    for code in codes:
        assert validate_uscc(code).legacy_checksum is False
        assert inner_org_code_ok(code)
        assert code[2:8] == REGIONS[region].admin_code


def test_domain_other_entity_types() -> None:
    assert make_uscc("92", "330200", 9) == "92330200MA0YX0091Q"
    assert make_uscc("52", "350200", 9) == "52350200MA0YX00915"
    assert make_uscc("12", "330100", 9) == "12330100MA0YX0091U"


@given(st.sampled_from(MAINLAND), st.integers(0, 2**32))
def test_resident_ids_valid(region: str, seed: int) -> None:
    for rid in synthetic_resident_ids(region, 5, seed):
        assert normalise_resident_id(rid) == rid
        assert rid[:6] in REGIONS[region].districts


def test_deterministic() -> None:
    a = penalty_csv("cn-fj-xiamen", 20, seed=1, reference_date=REF)
    assert a == penalty_csv("cn-fj-xiamen", 20, seed=1, reference_date=REF)
    assert a != penalty_csv("cn-fj-xiamen", 20, seed=2, reference_date=REF)
    assert score_records("cn-fj-xiamen", KEY, 5, 1, as_of=REF) == score_records(
        "cn-fj-xiamen", KEY, 5, 1, as_of=REF
    )


def test_penalty_csv_shape() -> None:
    data = penalty_csv("cn-zj-hangzhou", 20, reference_date=REF)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.count("\r\n") == 21 and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == PENALTY_HEADER
    categories = [r[1] for r in rows[1:]]
    assert categories.count("自然人") == 4
    assert categories.count("个体工商户") == 4
    assert all("合成数据" in r[-1] for r in rows[1:])


@pytest.mark.parametrize("ref", [REF, date(2026, 5, 31), date(2024, 2, 29), date(2025, 11, 30)])
def test_boundary_cases(ref: date) -> None:
    rows = penalty_rows("cn-zj-ningbo", 8, reference_date=ref)
    for row, (severity, boundary, lo, hi) in zip(rows, BOUNDARY_CASES, strict=True):
        assert row["备注"].endswith(f"case={severity}:{boundary}")
        decided = parse_date(row["处罚决定日期"])
        assert parse_date(row["公示截止期"]) == add_months(decided, hi)
        if boundary == "min-1d":
            assert add_months(decided, lo) > ref
            assert add_months(decided - timedelta(days=1), lo) <= ref
        elif boundary == "min":
            assert add_months(decided, lo) <= ref < add_months(decided + timedelta(days=1), lo)
        elif boundary == "max":
            assert add_months(decided, hi) <= ref < add_months(decided + timedelta(days=1), hi)
        else:
            assert add_months(decided + timedelta(days=1), hi) <= ref


def test_boundary_cases_exact_for_mid_month_reference() -> None:
    rows = penalty_rows("cn-zj-ningbo", 8, reference_date=REF)
    decided = [parse_date(r["处罚决定日期"]) for r in rows]
    assert decided == [
        date(2026, 3, 16),  # general: min reached tomorrow
        date(2026, 3, 15),  # general: min (3 months) today
        date(2025, 6, 15),  # general: max (1 year) today
        date(2025, 6, 14),  # general: past max
        date(2025, 6, 16),  # serious: min (1 year) tomorrow
        date(2025, 6, 15),
        date(2023, 6, 15),  # serious: max (3 years) today
        date(2023, 6, 14),
    ]


@pytest.mark.parametrize("region", MAINLAND)
def test_penalty_csv_round_trips_through_adapter(region: str) -> None:
    data = penalty_csv(region, 30, seed=9, reference_date=REF)
    rows = penalty_rows(region, 30, seed=9, reference_date=REF)
    results = list(PenaltyCsvAdapter().parse(data, AdapterContext(region, KEY)))
    assert all(isinstance(r, ParsedRow) and r.warnings == () for r in results)
    assert len(results) == 30
    for res, row in zip(results, rows, strict=True):
        assert isinstance(res, ParsedRow)
        rec = res.record
        if row["行政相对人类别"] == "自然人":
            assert rec.subject.id == person_subject_id(KEY, row["证件号码"])
            assert row["证件号码"].encode() not in rec.to_bytes()
            assert row["行政相对人名称"].encode() not in rec.to_bytes()
        else:
            assert rec.subject.id == row["行政相对人代码_1（统一社会信用代码）"]
        assert rec.valid_from == date_to_unix(parse_date(row["处罚决定日期"]))


def test_first_person_uses_15_digit_form() -> None:
    persons = [r for r in penalty_rows("cn-zj-ningbo", 20, reference_date=REF) if r["证件类型"]]
    assert [len(r["证件号码"]) for r in persons] == [15, 18, 18, 18]


def test_penalty_csv_unknown_region() -> None:
    with pytest.raises(NotFoundError, match=r"^sample: unknown region 'hk': expected one of"):
        penalty_csv("hk", reference_date=REF)


@pytest.mark.parametrize(
    ("scheme", "score", "band"),
    [
        ("HANGZHOU_QIANJIANG", 0, "信用待提高"),
        ("HANGZHOU_QIANJIANG", 549, "信用待提高"),
        ("HANGZHOU_QIANJIANG", 550, "一般"),
        ("HANGZHOU_QIANJIANG", 599, "一般"),
        ("HANGZHOU_QIANJIANG", 600, "良好"),
        ("HANGZHOU_QIANJIANG", 699, "良好"),
        ("HANGZHOU_QIANJIANG", 700, "优秀"),
        ("HANGZHOU_QIANJIANG", 749, "优秀"),
        ("HANGZHOU_QIANJIANG", 750, "极好"),
        ("HANGZHOU_QIANJIANG", 1000, "极好"),
        ("XIAMEN_BAILU_PLACEHOLDER", 499, "不良"),
        ("NINGBO_TIANYI_PLACEHOLDER", 800, "placeholder-5"),
    ],
)
def test_band_for(scheme: str, score: int, band: str) -> None:
    assert band_for(scheme, score) == band


def test_band_errors() -> None:
    with pytest.raises(NotFoundError, match=r"^score: unknown scheme 'X'$"):
        band_for("X", 1)
    with pytest.raises(OutOfRangeError, match=r"expected 0-1000, got 1001$"):
        band_for("HANGZHOU_QIANJIANG", 1001)


@pytest.mark.parametrize("scheme", sorted(SCORE_SCHEMES))
def test_schemes_are_contiguous_five_bands(scheme: str) -> None:
    bands = SCORE_SCHEMES[scheme]
    assert len(bands) == 5
    assert bands[0][0] == 0 and bands[-1][1] == 1000
    for (_, hi, _), (lo, _, _) in itertools.pairwise(bands):
        assert lo == hi + 1
    assert [level_for(scheme, b[0]) for b in bands] == ["L1", "L2", "L3", "L4", "L5"]


def test_hangzhou_scores_on_boundaries() -> None:
    recs = score_records("cn-zj-hangzhou", KEY, 12, seed=0, as_of=REF)
    assert [r.body["score"] for r in recs[:8]] == [549, 550, 599, 600, 699, 700, 749, 750]
    ids = synthetic_resident_ids("cn-zj-hangzhou", 12, 0)
    for rec, rid in zip(recs, ids, strict=True):
        assert rec.kind == "score.city"
        assert rec.subject.id == person_subject_id(KEY, rid)
        assert rec.body["band"] == band_for("HANGZHOU_QIANJIANG", rec.body["score"])
        assert rec.body["as_of"] == "2026-06-15"
        assert rec.valid_from == date_to_unix(REF)
        assert Record.from_bytes(rec.to_bytes()) == rec


@pytest.mark.parametrize(
    ("region", "scheme"),
    [("cn-zj-ningbo", "NINGBO_TIANYI_PLACEHOLDER"), ("cn-fj-xiamen", "XIAMEN_BAILU_PLACEHOLDER")],
)
def test_placeholder_schemes(region: str, scheme: str) -> None:
    recs = score_records(region, KEY, 8, as_of=REF)
    assert {r.body["scheme"] for r in recs} == {scheme}
    assert "PLACEHOLDER" in scheme


def test_score_records_unscored_region() -> None:
    with pytest.raises(NotFoundError, match="has no city score scheme"):
        score_records("cn-gd-qianhai", KEY, 3, as_of=REF)


def test_hk_reports() -> None:
    recs = hk_report_records(10, seed=0, as_of=REF)
    assert len(recs) == 10
    schemes = set()
    for rec in recs:
        assert rec.kind == "report.hk" and rec.region == "hk"
        org = validate_org_id(rec.subject.id)
        assert org.id == rec.subject.id
        schemes.add(org.scheme)
        assert rec.body["items"]["synthetic"] is True
        assert Record.from_bytes(rec.to_bytes()) == rec
    assert schemes == {"hk-cr", "hk-br"}
    prefixes = {r.subject.id.split(":")[1][0] for r in recs}
    assert prefixes == {"9", "F", "C"}
