"""The national 双公示 administrative-licence CSV template -> ``license.admin`` records.

Adapter name ``license-csv`` (issue #12 point 4; DOMAIN.md §5.1 licence fields). Input
as ``credex.adapters.table`` reads it: UTF-8 ± BOM, CRLF or LF, columns in any order,
header variants matched after NFKC (``行政相对人代码_1(统一社会信用代码)``, older 2016
names such as ``审批类别`` and ``许可截止期``, ``发证机关`` for 许可机关, ...).

- Required: 行政相对人名称, 行政相对人类别, 行政许可决定文书号, 许可决定日期, 许可机关,
  许可机关统一社会信用代码; and 统一社会信用代码 for organisations, 证件类型 + 证件号码
  for 自然人 (keyed, never stored; the name is masked and scrubbed from text fields).
- 行政相对人代码_2 … _6 and the 法定代表人 columns are dropped silently.
- Dates become ISO text; ``valid_from`` is midnight CST of 许可决定日期, ``valid_until``
  of 有效期至 when given (it may not precede the decision). 当前状态 is kept as text
  (有效, 注销, 撤销, 吊销, ...).

A bad row yields ``RowError(line, reason)``; the others are read. Row by row over an
iterator of lines (``parse_lines``); this module reads no file.
"""

from __future__ import annotations

from typing import Any, Final

from credex.adapters.base import AdapterContext, ParsedRow
from credex.adapters.table import (
    Column,
    CsvAdapter,
    Table,
    iso_date,
    need,
    org_code,
    person_subject,
    scrub,
)
from credex.ledger.dates import date_to_unix
from credex.ledger.errors import RecordError
from credex.ledger.record import Record, Subject
from credex.ledger.subject import mask_name

__all__ = ["LICENSE_TABLE", "LicenseCsvAdapter"]

_ORG: Final = ("法人及非法人组织", "个体工商户")
_PERSON: Final = "自然人"
_ID_TYPES: Final = ("身份证", "居民身份证")
_REDACTED: Final = "[证件号码已隐去]"

LICENSE_TABLE: Final = Table(
    "licence csv",
    (
        Column("subject_name", "行政相对人名称", ("相对人名称",)),
        Column("subject_category", "行政相对人类别", ("相对人类别",)),
        Column(
            "uscc",
            "统一社会信用代码",
            ("行政相对人代码_1(统一社会信用代码)", "行政相对人代码_1"),
        ),
        Column("id_type", "证件类型"),
        Column("id_no", "证件号码"),
        Column("doc_name", "行政许可决定文书名称", ("许可决定文书名称", "项目名称")),
        Column(
            "decision_no",
            "行政许可决定文书号",
            ("许可决定文书号", "行政许可决定书文号", "许可文书号"),
        ),
        Column("license_category", "许可类别", ("审批类别",)),
        Column("license_name", "许可证书名称"),
        Column("license_no", "许可编号", ("许可证号",)),
        Column("content", "许可内容"),
        Column("decision_date", "许可决定日期", ("许可日期", "决定日期")),
        Column("valid_from_date", "有效期自", ("有效期起",)),
        Column("valid_to_date", "有效期至", ("有效期止", "许可截止期")),
        Column("authority", "许可机关", ("发证机关", "审批机关")),
        Column("authority_uscc", "许可机关统一社会信用代码", ("许可机关代码",)),
        Column("state", "当前状态", ("状态",)),
        Column("source_unit", "数据来源单位"),
        Column("source_unit_uscc", "数据来源单位统一社会信用代码"),
        Column("note", "备注"),
    ),
    (
        "subject_name",
        "subject_category",
        "decision_no",
        "decision_date",
        "authority",
        "authority_uscc",
    ),
    dropped=(
        *(
            f"行政相对人代码_{n}({name})"
            for n, name in enumerate(
                ("工商注册号", "组织机构代码", "税务登记号", "事业单位证书号", "社会组织登记证号"),
                start=2,
            )
        ),
        *(f"行政相对人代码_{n}" for n in range(2, 7)),
        "工商注册号",
        "组织机构代码",
        "税务登记号",
        "事业单位证书号",
        "社会组织登记证号",
        "法定代表人",
        "法定代表人证件类型",
        "法定代表人证件号码",
        "法定代表人身份证号",
    ),
)
_TEXT: Final = (
    "doc_name",
    "license_category",
    "license_name",
    "license_no",
    "content",
    "state",
    "authority",
    "source_unit",
    "note",
)


class LicenseCsvAdapter(CsvAdapter):
    """Reads the 双公示 administrative-licence CSV template (module docstring)."""

    name = "license-csv"
    table = LICENSE_TABLE

    def row(self, line: int, cells: dict[str, str], ctx: AdapterContext) -> ParsedRow:
        t = self.table
        warnings: list[str] = []
        body: dict[str, Any] = {}
        category = need(t, cells, "subject_category")
        name = need(t, cells, "subject_name")
        secrets: list[tuple[str, str]] = []
        subject: Subject
        if category == _PERSON:
            if need(t, cells, "id_type") not in _ID_TYPES:
                raise RecordError(f"{t.what}: unsupported 证件类型 for 自然人: expected 身份证")
            subject = person_subject(t, cells, "id_no", ctx.subject_key)
            secrets += [(cells["id_no"], _REDACTED), (name, mask_name(name))]
            body["subject_name"] = mask_name(name)
        elif category in _ORG:
            uscc, legacy = org_code(t, cells, "uscc")
            subject = Subject("org", uscc)
            if legacy:
                body["subject_flags"] = ["uscc-legacy-checksum"]
                warnings.append("uscc: legacy check character accepted (known pilot code)")
            body["subject_name"] = name
        else:
            raise RecordError(
                f"{t.what}: unknown 行政相对人类别: expected 法人及非法人组织, 自然人 or "
                f"个体工商户, got {category[:20]!r}"
            )
        body["subject_category"] = category
        body["decision_no"] = need(t, cells, "decision_no")
        decided = iso_date(t, cells, "decision_date")
        body["decision_date"] = decided.isoformat()
        body["authority_uscc"], _ = org_code(t, cells, "authority_uscc")
        if cells.get("source_unit_uscc"):
            body["source_unit_uscc"], _ = org_code(t, cells, "source_unit_uscc")
        for key in _TEXT:
            value = scrub(cells.get(key, ""), secrets)
            if value:
                body[key] = value
        need(t, cells, "authority")
        until = None
        if cells.get("valid_from_date"):
            body["valid_from_date"] = iso_date(t, cells, "valid_from_date").isoformat()
        if cells.get("valid_to_date"):
            ends = iso_date(t, cells, "valid_to_date")
            if ends < decided:
                raise RecordError(
                    f"{t.what}: 有效期至 is before 许可决定日期: expected >= "
                    f"{decided.isoformat()}, got {ends.isoformat()}"
                )
            body["valid_to_date"] = ends.isoformat()
            until = date_to_unix(ends)
        record = Record(
            kind="license.admin",
            region=ctx.region,
            subject=subject,
            body=body,
            valid_from=date_to_unix(decided),
            valid_until=until,
        )
        return ParsedRow(line, record, tuple(warnings))
