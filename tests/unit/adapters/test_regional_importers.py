"""The other feeds (issue #12 point 4): 行政许可, red and black lists, the court list of
失信被执行人 (暂缓 and removal), A级纳税人 lists. Each: the shipped sample, header
variants, row-numbered errors, no raw personal identifier anywhere, and row-by-row
reading over an iterator of lines."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

import credex.adapters
from credex.adapters.base import AdapterContext, HeaderWarning, ParsedRow, RowError
from credex.adapters.registry import ADAPTERS
from credex.adapters.table import decode_lines
from credex.ledger.errors import CsvHeaderError, FormatError
from credex.ledger.subject import SubjectKey

SAMPLES = Path(credex.adapters.__file__).parent / "samples"
CTX = AdapterContext("cn-zj-ningbo", SubjectKey.from_secret(b"k" * 32))
RID = "330205186403059558"  # synthetic, valid check character
ORG = "91330200MA0YX00163"
AUTH = "11330200MA0YX8018B"


def _csv(*rows: list[str], bom: bool = True) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


def _parse(name: str, data: bytes) -> list[object]:
    return list(ADAPTERS[name].parse(data, CTX))


def _rows(items: list[object]) -> list[ParsedRow]:
    return [i for i in items if isinstance(i, ParsedRow)]


def _errors(items: list[object]) -> list[RowError]:
    return [i for i in items if isinstance(i, RowError)]


@pytest.mark.parametrize(
    ("name", "file", "kinds"),
    [
        ("license-csv", "license.csv", ["license.admin"] * 3),
        ("red-list-csv", "red_list.csv", ["list.red"]),
        ("black-list-csv", "black_list.csv", ["list.black"] * 2),
        ("court-list-csv", "court_list.csv", ["court.dishonest-debtor"] * 4),
        ("tax-a-list-csv", "tax_a_list.csv", ["rating.enterprise"]),
    ],
)
def test_each_sample_imports_cleanly(name: str, file: str, kinds: list[str]) -> None:
    data = (SAMPLES / file).read_bytes()
    items = _parse(name, data)
    assert _errors(items) == []
    assert [r.record.kind for r in _rows(items)] == kinds
    assert ADAPTERS[name].count_rows(data) == len(kinds)
    for r in _rows(items):  # persons: keyed and masked, never the raw number or name
        raw = r.record.to_bytes()
        assert b"330205" not in raw or r.record.subject.type == "org"
        assert "示例" not in str(r.record.body.get("subject_name", "")) or (
            r.record.subject.type == "org"
        )


def test_court_list_states_deferral_and_removal() -> None:
    rows = _rows(_parse("court-list-csv", (SAMPLES / "court_list.csv").read_bytes()))
    by_state = {r.record.body["state"]: r.record for r in rows}
    deferred = by_state["暂缓"]
    assert deferred.body["deferred_until"] == "2026-06-01"
    assert deferred.valid_from > next(r.record for r in rows if r.line == 2).valid_from
    assert by_state["已移出"].body["removed_on"] == "2026-04-20"
    person = next(r.record for r in rows if r.record.subject.type == "person")
    assert person.body["subject_name"] == "陈**"
    assert RID not in str(person.body) and "陈示例" not in str(person.body)


COURT_HEAD = [
    "被执行人名称",
    "统一社会信用代码",
    "类别",
    "执行法院",
    "执行案号",
    "立案日期",
    "公布时间",
    "状态",
    "暂缓期限",
    "删除日期",
]


def test_court_list_row_errors_name_the_line() -> None:
    data = _csv(
        COURT_HEAD,
        ["甲", ORG, "", "法院", "执1号", "2026-01-01", "2026-02-01", "暂缓", "", ""],
        ["乙", ORG, "", "法院", "执2号", "2026-01-01", "2026-02-01", "已删除", "", ""],
        [
            "丙",
            "3302**********9557",
            "自然人",
            "法院",
            "执3号",
            "2026-01-01",
            "2026-02-01",
            "",
            "",
            "",
        ],
        ["丁", ORG, "", "法院", "执4号", "2026-03-01", "2026-02-01", "", "", ""],
        ["戊", ORG, "", "法院", "执5号", "2026-01-01", "2026-02-01", "结案", "", ""],
        ["己", ORG, "", "法院", "执6号", "2026-01-01", "2026-02-01", "已屏蔽", "", "2026-05-01"],
    )
    items = _parse("court-list-csv", data)
    errs = {e.line: e.reason for e in _errors(items)}
    assert "暂缓 needs 暂缓至" in errs[2]
    assert "needs 移出日期" in errs[3]
    assert "masked" in errs[4] and "3302" not in errs[4]
    assert "发布时间 is before 立案时间" in errs[5]
    assert "状态: expected" in errs[6]
    assert [r.line for r in _rows(items)] == [7]


def test_licence_header_variants_and_errors() -> None:
    head = [
        "相对人名称",
        "行政相对人类别",
        "行政相对人代码_1(统一社会信用代码)",
        "行政相对人代码_2",
        "行政许可决定书文号",
        "审批类别",
        "许可日期",
        "许可截止期",
        "发证机关",
        "许可机关代码",
        "证件类型",
        "证件号码",
        "新列",
    ]
    data = _csv(
        head,
        [
            "示例甲",
            "法人及非法人组织",
            ORG,
            "x",
            "许1号",
            "普通",
            "2026/3/2",
            "2031-03-01",
            "局",
            AUTH,
            "",
            "",
            "",
        ],
        [
            "张三",
            "自然人",
            "",
            "",
            "许2号",
            "普通",
            "2026-03-02",
            "",
            "局",
            AUTH,
            "身份证",
            RID,
            "",
        ],
        [
            "示例乙",
            "法人及非法人组织",
            ORG[:-1] + "0",
            "",
            "许3号",
            "普通",
            "2026-03-02",
            "",
            "局",
            AUTH,
            "",
            "",
            "",
        ],
        [
            "示例丙",
            "法人及非法人组织",
            ORG,
            "",
            "许4号",
            "普通",
            "2026-03-02",
            "2025-01-01",
            "局",
            AUTH,
            "",
            "",
            "",
        ],
        ["示例丁", "其他", ORG, "", "许5号", "普通", "2026-03-02", "", "局", AUTH, "", "", ""],
    )
    items = _parse("license-csv", data)
    assert any(isinstance(i, HeaderWarning) and "新列" in i.message for i in items)
    rows = _rows(items)
    assert rows[0].record.body["license_category"] == "普通"
    assert rows[0].record.body["valid_to_date"] == "2031-03-01"
    assert rows[1].record.subject.type == "person" and rows[1].record.body["subject_name"] == "张*"
    errs = {e.line: e.reason for e in _errors(items)}
    assert set(errs) == {4, 5, 6}
    assert "check character" in errs[4] and "统一社会信用代码" in errs[4]
    assert "有效期至 is before" in errs[5]
    assert "行政相对人类别" in errs[6]
    with pytest.raises(CsvHeaderError, match="missing required columns: 许可机关统一社会信用代码"):
        _parse("license-csv", _csv(head[:9]))


def test_black_list_removal_needs_a_date_and_red_list_variants() -> None:
    head = [
        "名称",
        "纳税人识别号",
        "名单类别",
        "认定机关",
        "认定时间",
        "失信事由",
        "状态",
        "退出日期",
        "联合惩戒措施",
    ]
    data = _csv(
        head,
        ["甲", ORG, "严重失信", "局", "2026-01-01", "虚假材料", "已移出", "", ""],
        [
            "乙",
            ORG,
            "严重失信",
            "局",
            "2026-01-01",
            "虚假材料",
            "已移出",
            "2026-02-01",
            "限制招投标；限制融资",
        ],
        ["丙", ORG, "严重失信", "局", "2026-01-01", "", "", "", ""],
    )
    items = _parse("black-list-csv", data)
    errs = {e.line: e.reason for e in _errors(items)}
    assert "needs 移出日期" in errs[2] and "列入原因" in errs[4]
    (row,) = _rows(items)
    assert row.record.body["removed_on"] == "2026-02-01"
    assert row.record.body["measures"] == ["限制招投标", "限制融资"]
    with pytest.raises(CsvHeaderError, match="列入原因"):
        _parse("black-list-csv", _csv(head[:5]))
    red = _parse(
        "red-list-csv",
        _csv(
            ["当事人名称", "统一社会信用代码", "名单名称", "发布单位", "发布日期"],
            ["甲", ORG, "诚信", "局", "20260101"],
        ),
    )
    assert _rows(red)[0].record.body["listed_on"] == "2026-01-01"


def test_tax_a_list_only_a_and_real_years() -> None:
    head = ["统一社会信用代码", "企业名称", "年度", "纳税信用级别", "税务机关"]
    data = _csv(
        head,
        [ORG, "甲", "2025年", "A级", "税务局"],
        [ORG, "乙", "2025", "B", "税务局"],
        [ORG, "丙", "25", "A", "税务局"],
        ["330200123456789", "丁", "2025", "A", "税务局"],
    )
    items = _parse("tax-a-list-csv", data)
    (row,) = _rows(items)
    assert row.record.body == {
        "scheme": "TAX_NSXY",
        "grade": "A",
        "rated_on": "2026-04-01",
        "rater": "税务局",
        "period": "2025",
    }
    assert row.warnings and "assumed" in row.warnings[0]
    errs = {e.line: e.reason for e in _errors(items)}
    assert "only A" in errs[3] and "评价年度" in errs[4] and "纳税人识别号" in errs[5]


def test_files_that_cannot_be_read() -> None:
    with pytest.raises(FormatError, match="not utf-8"):
        _parse("red-list-csv", b"\xff\xfe\x00bad")
    with pytest.raises(CsvHeaderError, match="empty file"):
        _parse("court-list-csv", b"\r\n\r\n")
    with pytest.raises(CsvHeaderError, match="duplicate column"):
        _parse("tax-a-list-csv", _csv(["纳税人识别号", "统一社会信用代码", "名称", "年度"]))


def test_parsers_work_row_by_row_over_an_iterator_of_lines() -> None:
    """The parser yields the first row before the iterator has given the later lines:
    nothing reads the whole file first (ready for streaming imports)."""
    given: list[int] = []
    lines = decode_lines((SAMPLES / "court_list.csv").read_bytes(), "court list csv")

    def feed() -> Iterator[str]:
        for i, line in enumerate(lines):
            given.append(i)
            yield line

    parser = ADAPTERS["court-list-csv"]
    results = parser.parse_lines(feed(), CTX)  # type: ignore[attr-defined]
    first = next(r for r in results if isinstance(r, ParsedRow))
    assert first.line == 2 and len(given) == 2  # the header and one row
    assert len(list(results)) == 3 and len(given) == 5


def test_decode_lines_reassembles_chunks_split_inside_characters() -> None:
    data = "名称,年度\r\n甲,2025\r\n".encode()
    chunks = [data[i : i + 1] for i in range(len(data))]
    assert list(decode_lines(chunks, "t")) == ["名称,年度\r\n", "甲,2025\r\n"]
