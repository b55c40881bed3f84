"""Red and black list CSV files -> ``list.red`` / ``list.black`` records.

Adapter names ``red-list-csv`` (守信激励 / 诚信红名单) and ``black-list-csv`` (严重失信主体
名单) (issue #12 point 4; DOMAIN.md §7.2). One row per listed organisation (a person is
listed by resident ID number: keyed, never stored, name masked). Header variants:

- 主体名称 (企业名称, 名称, 当事人名称, 行政相对人名称), 统一社会信用代码 (纳税人识别号,
  行政相对人代码_1), 名单名称 (名单类型, 名单类别), 认定部门 (认定机关, 认定单位, 列入部门,
  列入机关, 发布单位), 列入日期 (认定日期, 列入时间, 认定时间, 发布日期);
- black lists: 列入原因 (失信行为, 失信事由, 认定事由, 主要失信事实) is required;
- optional: 认定文书号 (认定依据文号, 决定文书号, 文书号), 认定依据 (列入依据), 有效期至
  (列入截止日期, 公示截止日期), 移出日期 (退出日期, 删除日期), 状态 (``已移出`` needs
  移出日期), 惩戒措施 / 激励措施 (split on ``;；、,，``), 备注;
- 证件类型 / 证件号码 for a person.

A removal (移出日期) ends the entry's window that day (``credex.ledger.lifecycle`` [A13]).
Row by row over an iterator of lines; this module reads no file.
"""

from __future__ import annotations

import re
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

__all__ = ["BLACK_LIST_TABLE", "RED_LIST_TABLE", "BlackListCsvAdapter", "RedListCsvAdapter"]

_SPLIT_RE: Final = re.compile(r"[;；、,，]")
_REMOVED_STATES: Final = ("已移出", "移出", "已删除", "已退出")
_REDACTED: Final = "[证件号码已隐去]"


def _table(what: str, black: bool) -> Table:
    columns = [
        Column("subject_name", "主体名称", ("企业名称", "名称", "当事人名称", "行政相对人名称")),
        Column(
            "uscc",
            "统一社会信用代码",
            ("纳税人识别号", "行政相对人代码_1", "行政相对人代码_1(统一社会信用代码)"),
        ),
        Column("id_type", "证件类型"),
        Column("id_no", "证件号码", ("身份证号码",)),
        Column("list_name", "名单名称", ("名单类型", "名单类别")),
        Column(
            "authority", "认定部门", ("认定机关", "认定单位", "列入部门", "列入机关", "发布单位")
        ),
        Column("listed_on", "列入日期", ("认定日期", "列入时间", "认定时间", "发布日期")),
        Column("basis_doc_no", "认定文书号", ("认定依据文号", "决定文书号", "文书号")),
        Column("basis", "认定依据", ("列入依据",)),
        Column("list_until", "有效期至", ("列入截止日期", "公示截止日期")),
        Column("removed_on", "移出日期", ("退出日期", "删除日期")),
        Column("state", "状态", ("当前状态",)),
        Column("note", "备注"),
    ]
    if black:
        columns += [
            Column("reason", "列入原因", ("失信行为", "失信事由", "认定事由", "主要失信事实")),
            Column("measures", "惩戒措施", ("联合惩戒措施",)),
        ]
    else:
        columns += [Column("incentives", "激励措施", ("联合激励措施",))]
    required = ["subject_name", "list_name", "authority", "listed_on"]
    if black:
        required.append("reason")
    return Table(what, tuple(columns), tuple(required), dropped=("法定代表人", "序号"))


RED_LIST_TABLE: Final = _table("red list csv", black=False)
BLACK_LIST_TABLE: Final = _table("black list csv", black=True)


class _ListAdapter(CsvAdapter):
    kind: str = ""

    def row(self, line: int, cells: dict[str, str], ctx: AdapterContext) -> ParsedRow:
        t = self.table
        body: dict[str, Any] = {}
        name = need(t, cells, "subject_name")
        secrets: list[tuple[str, str]] = []
        subject: Subject
        if cells.get("uscc"):
            subject = Subject("org", org_code(t, cells, "uscc")[0])
            body["subject_name"] = name
        elif cells.get("id_no"):
            if cells.get("id_type", "身份证") not in ("身份证", "居民身份证"):
                raise RecordError(f"{t.what}: unsupported 证件类型: expected 身份证")
            subject = person_subject(t, cells, "id_no", ctx.subject_key)
            secrets += [(cells["id_no"], _REDACTED), (name, mask_name(name))]
            body["subject_name"] = mask_name(name)
        else:
            raise RecordError(f"{t.what}: missing required value: 统一社会信用代码 (or 证件号码)")
        body["list_name"] = scrub(need(t, cells, "list_name"), secrets)
        body["authority"] = need(t, cells, "authority")
        listed = iso_date(t, cells, "listed_on")
        body["listed_on"] = listed.isoformat()
        if self.kind == "list.black":
            need(t, cells, "reason")
        for key in ("basis_doc_no", "basis", "reason"):
            value = scrub(cells.get(key, ""), secrets)
            if value:
                body[key] = value
        for key in ("list_until", "removed_on"):
            if cells.get(key):
                day = iso_date(t, cells, key)
                if day < listed:
                    raise RecordError(
                        f"{t.what}: {t.name(key)} is before 列入日期: expected >= "
                        f"{listed.isoformat()}, got {day.isoformat()}"
                    )
                body[key] = day.isoformat()
        if cells.get("state") in _REMOVED_STATES and "removed_on" not in body:
            raise RecordError(f"{t.what}: 状态 {cells['state']} needs 移出日期")
        for key in ("measures", "incentives"):
            items = [m.strip() for m in _SPLIT_RE.split(cells.get(key, "")) if m.strip()]
            if items:
                body[key] = items
        record = Record(
            kind=self.kind,
            region=ctx.region,
            subject=subject,
            body=body,
            valid_from=date_to_unix(listed),
        )
        return ParsedRow(line, record)


class RedListCsvAdapter(_ListAdapter):
    """Reads a red list (守信激励) CSV (module docstring)."""

    name = "red-list-csv"
    table = RED_LIST_TABLE
    kind = "list.red"


class BlackListCsvAdapter(_ListAdapter):
    """Reads a black list (严重失信主体名单) CSV (module docstring)."""

    name = "black-list-csv"
    table = BLACK_LIST_TABLE
    kind = "list.black"
