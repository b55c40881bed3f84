"""The ``hk-report-json`` adapter and the HK -> mainland field-map policy it feeds."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import credex.adapters
from credex.adapters.base import AdapterContext, AdapterResult, ParsedRow, RowError
from credex.adapters.hk_report import HkReportJsonAdapter
from credex.adapters.registry import ADAPTERS
from credex.ledger.dates import date_to_unix
from credex.ledger.errors import FormatError
from credex.ledger.policy import apply_policy, validate_policy
from credex.ledger.record import Record, Subject
from credex.ledger.subject import SubjectKey

CTX = AdapterContext("hk", SubjectKey.from_secret(bytes(range(32))))
POLICY = Path(credex.adapters.__file__).parent / "policies" / "hk_to_mainland.json"


def report(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "agency": "Example Credit Agency (HK) Ltd",
        "report_id": "SYN-HK-0001",
        "report_date": "2026-05-31",
        "cr_no": "91234567",
        "company_name": {"en": "Example Trading (HK) Ltd", "zh": "示例貿易（香港）有限公司"},
        "status": "Live",
        "incorporation_date": "2010/3/15",
        "company_type": "Private company limited by shares",
        "directors": ["陳大文", "Chan Tai Man"],
        "court_judgments": {"count": 2, "latest_date": "2025-11-02", "amount_hkd_cents": 12345600},
        "payment_records": {"count": 12, "days_beyond_terms": 15},
        "ccra": {"facilities": 3, "total_limit_hkd_cents": 500000000, "default": False},
        "rating": "3A2",
    }
    for k, v in over.items():
        if v is None:
            base.pop(k, None)
        else:
            base[k] = v
    return base


def parse(*reports: Any, raw: bytes | None = None) -> list[AdapterResult]:
    data = raw if raw is not None else json.dumps(list(reports), ensure_ascii=False).encode()
    return list(HkReportJsonAdapter().parse(data, CTX))


def one(**over: Any) -> ParsedRow:
    (row,) = parse(report(**over))
    assert isinstance(row, ParsedRow), row
    return row


def error(**over: Any) -> str:
    rows = parse(report(), report(**over))
    assert isinstance(rows[0], ParsedRow)
    assert isinstance(rows[1], RowError), rows[1]
    assert rows[1].line == 2
    return rows[1].reason


def test_registered_by_name() -> None:
    assert isinstance(ADAPTERS["hk-report-json"], HkReportJsonAdapter)


def test_good_report_becomes_a_report_hk_record() -> None:
    row = one()
    rec = row.record
    assert (row.line, row.warnings) == (1, ())
    assert (rec.kind, rec.region) == ("report.hk", "hk")
    assert rec.subject == Subject("org", "HK-CR:91234567")
    assert rec.valid_from == date_to_unix(date(2026, 5, 31))
    assert rec.valid_until == date_to_unix(date(2027, 5, 31))
    body = dict(rec.body)
    assert body["agency"] == "Example Credit Agency (HK) Ltd"
    assert (body["report_id"], body["report_date"]) == ("SYN-HK-0001", "2026-05-31")
    assert body["company_name"] == "示例貿易（香港）有限公司"
    assert body["rating"] == "3A2"
    assert body["items"] == {
        "registration_no": "HK-CR:91234567",
        "cr_no": "91234567",
        "company_name_en": "Example Trading (HK) Ltd",
        "company_name_zh": "示例貿易（香港）有限公司",
        "status": "Live",
        "incorporated_on": "2010-03-15",
        "company_type": "Private company limited by shares",
        "directors": ["陳**", "C*********"],
        "judgment_count": 2,
        "judgment_latest_date": "2025-11-02",
        "judgment_amount_hkd_cents": 12345600,
        "payment_record_count": 12,
        "days_beyond_terms": 15,
        "ccra_facilities": 3,
        "ccra_total_limit_hkd_cents": 500000000,
        "ccra_default": "no",
        "rating_strength": "3A",
        "rating_composite": "2",
        "rating_net_worth": "HK$10m-69.9m",
    }
    # the record round-trips through its canonical bytes (no floats, valid kind spec)
    assert Record.from_bytes(rec.to_bytes()) == rec


def test_directors_are_masked_and_never_stored_in_full() -> None:
    rec = one(directors=["歐陽小明", "Wong Siu Ming"]).record
    assert rec.body["items"]["directors"] == ["歐***", "W**********"]
    raw = rec.to_bytes()
    for name in ("歐陽小明", "Wong Siu Ming", "陽小明"):
        assert name.encode() not in raw


def test_money_and_counts_are_integers() -> None:
    items = one().record.body["items"]
    for key in (
        "judgment_amount_hkd_cents",
        "ccra_total_limit_hkd_cents",
        "judgment_count",
        "days_beyond_terms",
        "ccra_facilities",
    ):
        assert type(items[key]) is int, key


def test_brn_subject_and_minimal_report() -> None:
    rec = one(
        cr_no=None,
        brn="91409990-001-07-27-3",
        company_name="Example Store",
        company_type="Sole proprietorship",
        incorporation_date=None,
        directors=None,
        court_judgments=None,
        payment_records=None,
        ccra=None,
        rating=None,
    ).record
    assert rec.subject == Subject("org", "HK-BR:91409990-001")
    assert "rating" not in rec.body
    assert rec.body["company_name"] == "Example Store"
    assert rec.body["items"] == {
        "registration_no": "HK-BR:91409990-001",
        "brn": "91409990-001",
        "company_name_en": "Example Store",
        "status": "Live",
        "company_type": "Sole proprietorship",
    }


@pytest.mark.parametrize(
    ("rating", "strength", "composite"),
    [("5A1", "5A", "1"), ("h4", "H", "4"), ("NB", "NB", None), ("DS", "DS", None)],
)
def test_ratings(rating: str, strength: str, composite: str | None) -> None:
    items = one(rating=rating).record.body["items"]
    assert items["rating_strength"] == strength
    assert items.get("rating_composite") == composite


def test_ccra_default_flag() -> None:
    rec = one(ccra={"facilities": 1, "default": True}).record
    assert rec.body["items"]["ccra_default"] == "yes"
    assert "ccra_total_limit_hkd_cents" not in rec.body["items"]


def test_unknown_field_is_a_row_warning() -> None:
    row = one(dnb_duns="123456789")
    assert row.warnings == ("hk report: unknown field ignored: 'dnb_duns'",)
    assert "dnb_duns" not in row.record.body["items"]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"agency": None}, "hk report: missing required field: agency"),
        ({"report_id": "  "}, "hk report: missing required field: report_id"),
        ({"report_date": None}, "hk report: missing required field: report_date"),
        ({"report_date": "2026-02-30"}, "hk report: report_date: date: cannot parse '2026-02-30'"),
        ({"status": None}, "hk report: missing required field: status"),
        ({"status": "Active"}, "hk report: status: expected one of Live, Dissolved"),
        ({"company_type": "LLC"}, "hk report: company_type: expected one of Private company"),
        ({"company_name": None}, "hk report: missing required field: company_name"),
        ({"company_name": {"fr": "x"}}, "hk report: company_name: unknown fields: fr"),
        ({"company_name": {"en": " "}}, "hk report: company_name: expected at least one of"),
        ({"cr_no": None}, "hk report: expected exactly one of cr_no or brn"),
        ({"brn": "91409990"}, "hk report: expected exactly one of cr_no or brn"),
        ({"cr_no": "1234567"}, "hk report: cr_no: hk cr no.: invalid format"),
        ({"cr_no": 91234567}, "hk report: cr_no: expected text, got int"),
        (
            {"cr_no": None, "brn": "91409990-000-13-27-3"},
            "hk report: brn: hk brn: invalid certificate expiry month",
        ),
        ({"incorporation_date": "yesterday"}, "hk report: incorporation_date: date: cannot parse"),
        (
            {"incorporation_date": "2026-06-01"},
            "hk report: incorporation_date: 2026-06-01 is after the report date 2026-05-31",
        ),
        (
            {"court_judgments": {"count": 1, "latest_date": "2026-07-01"}},
            "hk report: court_judgments.latest_date: 2026-07-01 is after the report date",
        ),
        (
            {"court_judgments": {"count": 0, "amount_hkd_cents": 100}},
            "hk report: court_judgments.count: is 0 but a latest date or a non-zero amount",
        ),
        (
            {"court_judgments": {"count": -1}},
            "hk report: court_judgments.count: expected a non-negative integer up to",
        ),
        (
            {"court_judgments": {"count": True}},
            "hk report: court_judgments.count: expected a non-negative integer, got True",
        ),
        (
            {"court_judgments": {"count": 1, "amount_hkd_cents": "100"}},
            "hk report: court_judgments.amount_hkd_cents: expected integer hkd cents (>= 0), "
            "got '100'",
        ),
        (
            {"court_judgments": {"count": 1, "when": "x"}},
            "hk report: court_judgments: unknown fields: when",
        ),
        ({"court_judgments": [1]}, "hk report: court_judgments: expected an object, got list"),
        (
            {"payment_records": {"days_beyond_terms": "15"}},
            "hk report: payment_records.days_beyond_terms: expected a non-negative integer",
        ),
        (
            {"ccra": {"default": "N"}},
            "hk report: ccra.default: expected true or false, got 'N'",
        ),
        ({"directors": "陳大文"}, "hk report: directors: expected a list of at most 64 names"),
        ({"directors": ["陳大文", ""]}, "hk report: directors[1]: expected a non-empty name"),
        ({"rating": "6A2"}, "hk report: rating: expected a d&b strength 5A-H plus composite"),
        ({"rating": "3A5"}, "hk report: rating: expected a d&b strength"),
        ({"rating": 3}, "hk report: rating: expected text, got int"),
    ],
)
def test_bad_field_is_a_row_error_at_its_index(over: dict[str, Any], message: str) -> None:
    assert error(**over).startswith(message)


def test_director_names_never_appear_in_errors() -> None:
    reason = error(directors=["陳大文", 7])
    assert reason == "hk report: directors[1]: expected a non-empty name"
    assert "陳大文" not in reason


def test_fractional_amounts_are_refused_not_rounded() -> None:
    raw = json.dumps([report()])[:-1] + ', {"x": 1}]'
    raw = raw.replace('"total_limit_hkd_cents": 500000000', '"total_limit_hkd_cents": 5000.5')
    rows = parse(raw=raw.encode())
    assert isinstance(rows[0], RowError) and rows[0].line == 1
    assert rows[0].reason == (
        "hk report: ccra.total_limit_hkd_cents: expected integer hkd cents, got the fraction 5000.5"
    )
    assert isinstance(rows[1], RowError) and rows[1].line == 2
    assert rows[1].reason == "hk report: missing required field: agency"
    raw2 = json.dumps([report(payment_records={"count": 1})]).replace(
        '"count": 1}', '"count": 1e2}'
    )
    (row,) = parse(raw=raw2.encode())
    assert isinstance(row, RowError)
    assert "payment_records.count: expected a whole number, got the fraction 1E+2" in row.reason


def test_each_element_is_judged_alone() -> None:
    rows = parse(report(), "nope", report(status="Gone"), report(report_id="SYN-HK-0002"))
    assert [type(r).__name__ for r in rows] == ["ParsedRow", "RowError", "RowError", "ParsedRow"]
    assert [r.line for r in rows if isinstance(r, ParsedRow | RowError)] == [1, 2, 3, 4]
    assert isinstance(rows[1], RowError)
    assert rows[1].reason == "hk report: expected a json object, got str"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff[]", "hk report: not utf-8: invalid byte at offset 0"),
        (b"[{", "hk report: not valid json: "),
        (b'{"agency": "x"}', "hk report: expected a json array of reports, got dict"),
        (b"[{} {}]", "hk report: not valid json: expecting ',' delimiter"),
        (b"[1,]", "hk report: not valid json: expecting value"),
        (b"[1] 2", "hk report: not valid json: extra data after the array"),
        (b'["a', "hk report: not valid json: unterminated array"),
    ],
)
def test_unusable_file_raises_format_error(raw: bytes, message: str) -> None:
    with pytest.raises(FormatError) as e:
        parse(raw=raw)
    assert str(e.value).startswith(message)
    with pytest.raises(FormatError):
        HkReportJsonAdapter().count_rows(raw)


def test_an_element_that_is_not_json_is_refused_alone() -> None:
    """The array is read element by element: a bad element is a row error, the others
    are read."""
    rows = parse(raw=b"[NaN, " + json.dumps(report()).encode() + b', {"a": }]')
    assert [type(r).__name__ for r in rows] == ["RowError", "ParsedRow", "RowError"]
    assert rows[0].reason == "hk report: not valid json: NaN is not a json number"
    assert rows[2].reason.startswith("hk report: not valid json: ")


def test_elements_stream_across_chunks() -> None:
    """Fed one byte at a time (strings with escapes, nested arrays, a BOM), the elements
    are the same as from the whole file."""
    data = (
        b"\xef\xbb\xbf"
        + json.dumps(
            [report(), {**report(), "agency": 'a "quoted" \\ [agency] {x}, y'}], ensure_ascii=False
        ).encode()
    )
    whole = [r.record for r in HkReportJsonAdapter().parse(data, CTX)]  # type: ignore[union-attr]
    drip = [
        r.record  # type: ignore[union-attr]
        for r in HkReportJsonAdapter().parse((data[i : i + 1] for i in range(len(data))), CTX)
    ]
    assert whole == drip and len(whole) == 2


def test_count_rows_and_bom() -> None:
    data = b"\xef\xbb\xbf" + json.dumps([report(), report(), {}]).encode()
    assert HkReportJsonAdapter().count_rows(data) == 3
    assert len(list(HkReportJsonAdapter().parse(data, CTX))) == 3
    assert parse(raw=b"[]") == []


# --- the policy -------------------------------------------------------------------------


def _policy() -> dict[str, Any]:
    value: dict[str, Any] = json.loads(POLICY.read_text(encoding="utf-8"))
    return value


def test_policy_file_is_valid_and_maps_common_and_specific_items() -> None:
    value = _policy()
    assert set(value) == {"name", "version", "rules"}
    assert (value["name"], value["version"]) == ("hk-to-mainland-enterprise-report", 1)
    policy = validate_policy(value["rules"])
    out = apply_policy(policy, one().record.body)
    assert out["format"] == "cn-enterprise-report/qianhai-2021"
    items = out["items"]
    assert items["企业名称"] == "示例貿易（香港）有限公司"
    assert items["统一代码/登记号"] == "HK-CR:91234567"
    assert (items["经营状态"], items["成立日期"]) == ("存续", "2010-03-15")
    assert items["企业类型"] == "私人股份有限公司（香港）"
    assert (items["涉诉数量"], items["最近涉诉日期"]) == (2, "2025-11-02")
    # illustrative factor 23/25, floor, integer minor units
    assert items["涉诉金额"] == {"amount": 12345600 * 23 // 25, "currency": "CNY"}
    assert items["授信总额"] == {"amount": 460000000, "currency": "CNY"}
    assert (items["逾期天数"], items["授信笔数"], items["违约标记"]) == (15, 3, "否")
    assert items["评级"] == "3A2"
    assert items["specific"]["items.directors"] == ["陳**", "C*********"]
    assert items["specific"]["items.rating_strength"] == "3A"
    assert "items.directors" not in {k for k in items if k != "specific"}


def test_policy_enums_cover_every_adapter_value() -> None:
    from credex.adapters.hk_report import COMPANY_TYPES, STATUSES

    fields = {f["to"]: f for f in _policy()["rules"]["fields"]}
    assert set(fields["经营状态"]["enum"]) == set(STATUSES)
    assert set(fields["企业类型"]["enum"]) == set(COMPANY_TYPES)
    assert set(fields["违约标记"]["enum"]) == {"yes", "no"}
    policy = validate_policy(_policy()["rules"])
    for status in STATUSES:
        assert apply_policy(policy, one(status=status).record.body)["items"]["经营状态"]
