from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import pytest

from credex.adapters.base import (
    AdapterContext,
    AdapterResult,
    CsvHeaderError,
    HeaderWarning,
    ParsedRow,
    RowError,
)
from credex.adapters.public_credit import PenaltyCsvAdapter
from credex.adapters.registry import ADAPTERS
from credex.adapters.sample import make_uscc, penalty_csv
from credex.ledger.dates import date_to_unix
from credex.ledger.errors import FormatError
from credex.ledger.subject import SubjectKey, person_subject_id

KEY = SubjectKey.from_secret(bytes(range(32)))
CTX = AdapterContext("cn-zj-ningbo", KEY)
RID = "11010519491231002X"
AUTHORITY_USCC = make_uscc("11", "330200", 801)

HEADER = [
    "行政相对人名称",
    "行政相对人类别",
    "行政相对人代码_1（统一社会信用代码）",
    "证件类型",
    "证件号码",
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "罚款金额（万元）",
    "处罚决定日期",
    "公示截止期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "备注",
]


def org_row(**over: str) -> dict[str, str]:
    row = {
        "行政相对人名称": "宁波示例科技有限公司",
        "行政相对人类别": "法人及非法人组织",
        "行政相对人代码_1（统一社会信用代码）": "91330200MA0YX00163",
        "行政处罚决定书文号": "甬市监罚〔2025〕1号",
        "违法行为类型": "虚假宣传",
        "违法事实": "当事人虚假宣传（合成数据）",
        "处罚依据": "《中华人民共和国反不正当竞争法》第二十条",
        "处罚类别": "警告;罚款",
        "处罚内容": "罚款0.5万元",
        "罚款金额（万元）": "0.50",
        "处罚决定日期": "2025/3/14",
        "处罚机关": "宁波市市场监督管理局",
        "处罚机关统一社会信用代码": AUTHORITY_USCC,
        "数据来源单位": "宁波市公共信用信息中心",
    }
    row.update(over)
    return row


def person_row(**over: str) -> dict[str, str]:
    row = org_row(
        **{
            "行政相对人名称": "张示例",
            "行政相对人类别": "自然人",
            "行政相对人代码_1（统一社会信用代码）": "",
            "证件类型": "身份证",
            "证件号码": RID,
            "违法事实": f"当事人张示例（身份证号{RID}）无证经营",
        }
    )
    row.update(over)
    return row


def _quote(cell: str) -> str:
    return f'"{cell}"' if any(c in cell for c in ',"\r\n') else cell


def make_csv(
    rows: Sequence[dict[str, str]],
    header: Sequence[str] = HEADER,
    *,
    bom: bool = True,
    newline: str = "\r\n",
) -> bytes:
    lines = [",".join(_quote(h) for h in header)]
    lines += [",".join(_quote(r.get(h, "")) for h in header) for r in rows]
    return (("\ufeff" if bom else "") + newline.join(lines) + newline).encode()


def parse(data: bytes) -> list[AdapterResult]:
    return list(PenaltyCsvAdapter().parse(data, CTX))


def only_rows(results: list[AdapterResult]) -> list[ParsedRow]:
    out = [r for r in results if isinstance(r, ParsedRow)]
    assert len(out) == len([r for r in results if not isinstance(r, HeaderWarning)])
    return out


def test_registered() -> None:
    assert isinstance(ADAPTERS["penalty-csv"], PenaltyCsvAdapter)
    assert ADAPTERS["penalty-csv"].name == "penalty-csv"


@pytest.mark.parametrize("bom", [True, False], ids=["bom", "no-bom"])
@pytest.mark.parametrize("newline", ["\r\n", "\n"], ids=["crlf", "lf"])
def test_org_row_mapped(bom: bool, newline: str) -> None:
    data = make_csv([org_row()], bom=bom, newline=newline)
    (row,) = only_rows(parse(data))
    assert row.line == 2
    assert row.warnings == ()
    rec = row.record
    assert rec.kind == "penalty.admin"
    assert rec.region == "cn-zj-ningbo"
    assert (rec.subject.type, rec.subject.id) == ("org", "91330200MA0YX00163")
    assert dict(rec.body) == {
        "subject_name": "宁波示例科技有限公司",
        "subject_category": "法人及非法人组织",
        "decision_no": "甬市监罚〔2025〕1号",
        "violation_type": "虚假宣传",
        "facts": "当事人虚假宣传（合成数据）",
        "basis": "《中华人民共和国反不正当竞争法》第二十条",
        "penalty_types": ["警告", "罚款"],
        "content": "罚款0.5万元",
        "fine_wan": "0.5",
        "decision_date": "2025-03-14",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": AUTHORITY_USCC,
        "source_unit": "宁波市公共信用信息中心",
    }
    assert rec.valid_from == date_to_unix(date(2025, 3, 14))
    assert rec.valid_until == date_to_unix(date(2028, 3, 14))  # + 3 years, DOMAIN §3.1


def test_counts_rows() -> None:
    data = make_csv([org_row(), person_row(), org_row()])
    assert PenaltyCsvAdapter().count_rows(data) == 3
    assert PenaltyCsvAdapter().count_rows(make_csv([])) == 0


def test_publicity_until_and_dates_normalised() -> None:
    data = make_csv([org_row(**{"处罚决定日期": "2025年3月14日", "公示截止期": "20260314"})])
    (row,) = only_rows(parse(data))
    assert row.record.body["decision_date"] == "2025-03-14"
    assert row.record.body["publicity_until"] == "2026-03-14"
    assert row.record.valid_until == date_to_unix(date(2026, 3, 14))


@pytest.mark.parametrize(
    ("raw", "types"),
    [
        ("警告;罚款", ["警告", "罚款"]),
        ("警告；罚款", ["警告", "罚款"]),
        ("警告、罚款、没收违法所得", ["警告", "罚款", "没收违法所得"]),
        ("警告, 罚款", ["警告", "罚款"]),
        ("罚款", ["罚款"]),
    ],
)
def test_penalty_types_split(raw: str, types: list[str]) -> None:
    (row,) = only_rows(parse(make_csv([org_row(**{"处罚类别": raw})])))
    assert row.record.body["penalty_types"] == types


@pytest.mark.parametrize(
    ("raw", "text"),
    [("0.50", "0.5"), ("1", "1"), ("100", "100"), ("0.00", "0"), ("１.２５", "1.25")],
)
def test_fine_amount_normalised(raw: str, text: str) -> None:
    (row,) = only_rows(parse(make_csv([org_row(**{"罚款金额（万元）": raw})])))
    assert row.record.body["fine_wan"] == text


@pytest.mark.parametrize(
    "variant",
    [
        {"行政相对人代码_1（统一社会信用代码）": "行政相对人代码_1(统一社会信用代码)"},
        {"行政相对人代码_1（统一社会信用代码）": "统一社会信用代码"},
        {"行政相对人代码_1（统一社会信用代码）": " 行政相对人代码_1 （统一社会信用代码） "},
        {"罚款金额（万元）": "罚款金额(万元)"},
    ],
    ids=["ascii-parens", "plain", "spaces", "fine-ascii-parens"],
)
def test_header_variants(variant: dict[str, str]) -> None:
    header = [variant.get(h, h) for h in HEADER]
    rows = [{variant.get(k, k): v for k, v in org_row().items()}]
    (row,) = only_rows(parse(make_csv(rows, header)))
    assert row.record.subject.id == "91330200MA0YX00163"
    assert row.record.body["fine_wan"] == "0.5"


def test_columns_in_any_order() -> None:
    header = list(reversed(HEADER))
    (row,) = only_rows(parse(make_csv([org_row()], header)))
    assert row.record.body["decision_no"] == "甬市监罚〔2025〕1号"


def test_extra_columns_warned_once_each_and_dropped_columns_silent() -> None:
    header = [*HEADER, "联系电话", "行政相对人代码_2(工商注册号)", "法定代表人", "内部编号"]
    results = parse(make_csv([org_row(**{"联系电话": "x"}), org_row()], header))
    warnings = [r for r in results if isinstance(r, HeaderWarning)]
    assert [w.message for w in warnings] == [
        "penalty csv: unknown column ignored: '联系电话'",
        "penalty csv: unknown column ignored: '内部编号'",
    ]
    assert results.index(warnings[0]) == 0  # warnings come first
    assert len(only_rows(results)) == 2


def test_missing_required_columns_is_a_file_error() -> None:
    header = [h for h in HEADER if h not in ("处罚机关", "处罚决定日期")]
    with pytest.raises(
        CsvHeaderError, match=r"^penalty csv: missing required columns: 处罚决定日期, 处罚机关$"
    ):
        parse(make_csv([org_row()], header))


def test_duplicate_column_is_a_file_error() -> None:
    header = [*HEADER, "统一社会信用代码"]
    with pytest.raises(CsvHeaderError, match="duplicate column 统一社会信用代码: columns 3 and 20"):
        parse(make_csv([org_row()], header))


def test_empty_and_non_utf8_files() -> None:
    with pytest.raises(CsvHeaderError, match="empty file"):
        parse(b"\xef\xbb\xbf\r\n\r\n")
    with pytest.raises(FormatError, match="not utf-8: invalid byte at offset 0"):
        parse("行政相对人名称".encode("gb18030"))


def test_person_row_is_pseudonymised() -> None:
    data = make_csv([person_row()])
    (row,) = only_rows(parse(data))
    rec = row.record
    assert rec.subject.type == "person"
    assert rec.subject.id == person_subject_id(KEY, RID)
    assert rec.body["subject_name"] == "张**"
    assert rec.body["subject_category"] == "自然人"
    encoded = rec.to_bytes()
    for secret in (RID, RID.lower(), RID[:17], "张示例"):
        assert secret.encode() not in encoded
        assert secret not in repr(rec)
    assert "[证件号码已隐去]" in rec.body["facts"]


def test_person_15_digit_id_same_subject() -> None:
    (row,) = only_rows(parse(make_csv([person_row(**{"证件号码": "110105491231002"})])))
    assert row.record.subject.id == person_subject_id(KEY, RID)
    assert b"110105491231002" not in row.record.to_bytes()


def test_individual_business_uses_uscc() -> None:
    (row,) = only_rows(
        parse(
            make_csv(
                [
                    org_row(
                        **{
                            "行政相对人类别": "个体工商户",
                            "行政相对人代码_1（统一社会信用代码）": "92330200MA0YX0091Q",
                        }
                    )
                ]
            )
        )
    )
    assert (row.record.subject.type, row.record.subject.id) == ("org", "92330200MA0YX0091Q")


def test_legacy_uscc_flagged() -> None:
    data = make_csv([org_row(**{"行政相对人代码_1（统一社会信用代码）": "91350211m0000xuf46"})])
    (row,) = only_rows(parse(data))
    assert row.record.subject.id == "91350211M0000XUF46"
    assert row.record.body["subject_flags"] == ["uscc-legacy-checksum"]
    assert row.warnings == (
        "uscc: legacy check character accepted (known pilot code) at position 18",
    )


BAD_ROWS = [
    (
        org_row(**{"行政相对人代码_1（统一社会信用代码）": "91350100M000100Y4Z"}),
        r"^uscc: check character mismatch at position 18 \(in 统一社会信用代码\)$",
    ),
    (
        org_row(**{"行政相对人代码_1（统一社会信用代码）": "91350100MI00100Y43"}),
        r"^uscc: invalid character at position 10 \(in 统一社会信用代码\)$",
    ),
    (
        org_row(**{"处罚机关统一社会信用代码": "11330200MA0YX80180"}),
        r"^uscc: check character mismatch at position 18 \(in 处罚机关统一社会信用代码\)$",
    ),
    (
        person_row(**{"证件号码": "110105194912310021"}),
        r"^resident id: check character mismatch at position 18 \(in 证件号码\)$",
    ),
    (
        person_row(**{"证件类型": "护照"}),
        r"^penalty csv: unsupported 证件类型 for 自然人: expected 身份证 or 居民身份证, "
        r"got '护照'$",
    ),
    (person_row(**{"证件号码": ""}), r"^penalty csv: missing required value: 证件号码$"),
    (
        org_row(**{"处罚决定日期": "14/03/2025"}),
        r"^date: cannot parse '14/03/2025': expected .* \(in 处罚决定日期\)$",
    ),
    (
        org_row(**{"公示截止期": "2024-01-01"}),
        r"^penalty csv: 公示截止期 is before 处罚决定日期: expected >= 2025-03-14, "
        r"got 2024-01-01$",
    ),
    (org_row(**{"处罚机关": ""}), r"^penalty csv: missing required value: 处罚机关$"),
    (org_row(**{"处罚类别": " ; "}), r"^penalty csv: missing required value: 处罚类别$"),
    (
        org_row(**{"行政相对人类别": "外国人"}),
        r"^penalty csv: unknown 行政相对人类别: expected 法人及非法人组织, 自然人 or 个体工商户, "
        r"got '外国人'$",
    ),
    (
        org_row(**{"罚款金额（万元）": "五千"}),
        r"^penalty csv: 罚款金额（万元）: expected a non-negative decimal amount, got '五千'$",
    ),
    (
        org_row(**{"罚款金额（万元）": "-1"}),
        r"^penalty csv: 罚款金额（万元）: expected a non-negative decimal amount, got '-1'$",
    ),
]


@pytest.mark.parametrize(("bad", "reason"), BAD_ROWS)
def test_bad_row_reported_with_its_line(bad: dict[str, str], reason: str) -> None:
    # line 1 header, line 2 good, line 3 a blank line, line 4 bad, line 5 good
    head, good, _ = make_csv([org_row()]).decode("utf-8").split("\r\n")
    bad_line = make_csv([bad], bom=False).decode().split("\r\n")[1]
    data = "\r\n".join([head, good, "", bad_line, good, ""]).encode()
    results = parse(data)
    errors = [r for r in results if isinstance(r, RowError)]
    assert [r.line for r in results if isinstance(r, ParsedRow)] == [2, 5]
    assert len(errors) == 1
    assert errors[0].line == 4
    assert re.match(reason, errors[0].reason), errors[0].reason
    assert RID not in errors[0].reason
    assert RID[:17] not in errors[0].reason


def test_multiline_cell_keeps_physical_line_numbers() -> None:
    rows = [org_row(**{"违法事实": "第一行\r\n第二行"}), org_row()]
    results = only_rows(parse(make_csv(rows)))
    assert [r.line for r in results] == [2, 4]
    assert results[0].record.body["facts"] == "第一行\r\n第二行"


def test_sample_csv_parses_cleanly() -> None:
    data = penalty_csv("cn-zj-ningbo", 25, seed=3, reference_date=date(2026, 6, 15))
    results = parse(data)
    assert not [r for r in results if not isinstance(r, ParsedRow)]
    assert len(results) == 25 == PenaltyCsvAdapter().count_rows(data)
