"""The court list of dishonest judgment debtors (失信被执行人) -> ``court.dishonest-debtor``.

Adapter name ``court-list-csv`` (issue #12 point 4; DOMAIN.md §3.3, the fields of art. 6
of 最高人民法院《关于公布失信被执行人名单信息的若干规定》 as 中国执行信息公开网 lists them):

- 被执行人姓名/名称 (失信被执行人姓名/名称, 被执行人名称, 被执行人), 身份证号码/组织机构代码
  (统一社会信用代码, 证件号码, 组织机构代码, 身份证号码): a USCC makes an organisation
  subject; a resident ID number (类别 ``自然人``, or 性别 / 年龄 given) a keyed person
  subject, its name masked; a masked number (``3301**********1234``) cannot be keyed and
  is refused. 性别, 年龄 and 法定代表人 are dropped.
- 执行法院, 案号 (执行案号), 立案时间, 发布时间 (公布时间, 列入时间) are required;
  执行依据文号, 做出执行依据单位, 生效法律文书确定的义务, 被执行人的履行情况,
  失信被执行人行为具体情形, 失信期限(年) (2-5), 执行法院统一社会信用代码 are kept.
- 状态: ``在列`` (default); ``暂缓`` (publication deferred, 宽限期) needs 暂缓至 and makes
  the record's ``valid_from`` that day (rules count it only from then); ``已移出`` /
  ``已删除`` / ``已屏蔽`` needs 移出日期, which ends the listing window
  (``credex.ledger.lifecycle`` [A13]). Any other state is refused.

Row by row over an iterator of lines; this module reads no file.
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

__all__ = ["COURT_LIST_TABLE", "STATES", "CourtListCsvAdapter"]

#: 状态 value -> what credex stores
STATES: Final = {
    "": "在列",
    "在列": "在列",
    "暂缓": "暂缓",
    "暂缓发布": "暂缓",
    "已移出": "已移出",
    "移出": "已移出",
    "已删除": "已移出",
    "已屏蔽": "已移出",
}
_REDACTED: Final = "[证件号码已隐去]"

COURT_LIST_TABLE: Final = Table(
    "court list csv",
    (
        Column("name", "被执行人姓名/名称", ("失信被执行人姓名/名称", "被执行人名称", "被执行人")),
        Column(
            "code",
            "身份证号码/组织机构代码",
            ("统一社会信用代码", "证件号码", "组织机构代码", "身份证号码"),
        ),
        Column("category", "类别", ("被执行人类别", "主体类别")),
        Column("sex", "性别"),
        Column("age", "年龄"),
        Column("court", "执行法院"),
        Column("court_uscc", "执行法院统一社会信用代码"),
        Column("case_no", "案号", ("执行案号",)),
        Column("filed_on", "立案时间", ("立案日期",)),
        Column("listed_on", "发布时间", ("公布时间", "列入时间", "发布日期")),
        Column("basis_doc_no", "执行依据文号"),
        Column("basis_doc_issuer", "做出执行依据单位", ("作出执行依据单位",)),
        Column("obligation", "生效法律文书确定的义务", ("法律生效文书确定的义务",)),
        Column("performance", "被执行人的履行情况", ("履行情况",)),
        Column("circumstance", "失信被执行人行为具体情形", ("失信情形", "具体情形")),
        Column("period_years", "失信期限(年)", ("失信期限",)),
        Column("state", "状态", ("当前状态",)),
        Column("deferred_until", "暂缓至", ("暂缓期限", "宽限期至")),
        Column("removed_on", "移出日期", ("删除日期", "屏蔽日期")),
    ),
    ("name", "code", "court", "case_no", "filed_on", "listed_on"),
    dropped=("法定代表人或者负责人姓名", "法定代表人", "省份", "已履行部分", "未履行部分", "序号"),
)
_TEXT: Final = ("basis_doc_no", "basis_doc_issuer", "obligation", "performance", "circumstance")


class CourtListCsvAdapter(CsvAdapter):
    """Reads a court list of dishonest judgment debtors (module docstring)."""

    name = "court-list-csv"
    table = COURT_LIST_TABLE

    def _subject(
        self, cells: dict[str, str], ctx: AdapterContext, body: dict[str, Any]
    ) -> tuple[Subject, list[tuple[str, str]]]:
        t = self.table
        name = need(t, cells, "name")
        person = cells.get("category") == "自然人" or bool(cells.get("sex") or cells.get("age"))
        if not person:
            body["subject_name"] = name
            return Subject("org", org_code(t, cells, "code")[0]), []
        subject = person_subject(t, cells, "code", ctx.subject_key)
        body["subject_name"] = mask_name(name)
        return subject, [(cells["code"], _REDACTED), (name, mask_name(name))]

    def row(self, line: int, cells: dict[str, str], ctx: AdapterContext) -> ParsedRow:
        t = self.table
        body: dict[str, Any] = {}
        subject, secrets = self._subject(cells, ctx, body)
        body["court"] = need(t, cells, "court")
        body["case_no"] = need(t, cells, "case_no")
        filed = iso_date(t, cells, "filed_on")
        listed = iso_date(t, cells, "listed_on")
        if listed < filed:
            raise RecordError(
                f"{t.what}: 发布时间 is before 立案时间: expected >= {filed.isoformat()}, "
                f"got {listed.isoformat()}"
            )
        body["filed_on"], body["listed_on"] = filed.isoformat(), listed.isoformat()
        if cells.get("court_uscc"):
            body["court_uscc"] = org_code(t, cells, "court_uscc")[0]
        for key in _TEXT:
            value = scrub(cells.get(key, ""), secrets)
            if value:
                body[key] = value
        if cells.get("period_years"):
            raw = cells["period_years"]
            if not raw.isascii() or not raw.isdigit() or not 2 <= int(raw) <= 5:
                raise RecordError(f"{t.what}: 失信期限(年): expected 2 to 5, got {raw[:8]!r}")
            body["period_years"] = int(raw)
        state = STATES.get(cells.get("state", ""))
        if state is None:
            raise RecordError(
                f"{t.what}: 状态: expected 在列, 暂缓 or 已移出 (已删除, 已屏蔽), "
                f"got {cells['state'][:20]!r}"
            )
        body["state"] = state
        starts = listed
        if state == "暂缓":
            if not cells.get("deferred_until"):
                raise RecordError(f"{t.what}: 状态 暂缓 needs 暂缓至 (the end of the deferral)")
            starts = iso_date(t, cells, "deferred_until")
            if starts < listed:
                raise RecordError(f"{t.what}: 暂缓至 is before 发布时间")
            body["deferred_until"] = starts.isoformat()
        if state == "已移出":
            if not cells.get("removed_on"):
                raise RecordError(f"{t.what}: 状态 {cells['state']} needs 移出日期")
            removed = iso_date(t, cells, "removed_on")
            if removed < listed:
                raise RecordError(f"{t.what}: 移出日期 is before 发布时间")
            body["removed_on"] = removed.isoformat()
        record = Record(
            kind="court.dishonest-debtor",
            region=ctx.region,
            subject=subject,
            body=body,
            valid_from=date_to_unix(starts),
        )
        return ParsedRow(line, record)
