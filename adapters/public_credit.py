"""The national 双公示 administrative-penalty CSV template -> ``penalty.admin`` records.

Input (DOMAIN §5.1): UTF-8 with or without a BOM, CRLF or LF line ends, Chinese column
headers in any order. Headers are matched after NFKC normalisation and with whitespace
removed, so ``罚款金额（万元）`` and ``罚款金额(万元)`` are the same column, and
``统一社会信用代码`` is the same as ``行政相对人代码_1(统一社会信用代码)``.

- Columns credex maps are listed in ``COLUMNS``; ``REQUIRED_COLUMNS`` must all be present
  or ``parse`` raises ``CsvHeaderError`` naming every missing one.
- Template columns credex deliberately drops (``行政相对人代码_2`` … ``_6``, 法定代表人 and
  the 法定代表人 ID columns) are ignored silently; any other column is ignored with one
  ``HeaderWarning`` naming it.
- 行政相对人类别 decides the subject. 法人及非法人组织 and 个体工商户 rows use the USCC
  column (``Subject("org", canonical USCC)``). 自然人 rows need 证件类型 身份证 or
  居民身份证 and a valid 证件号码, which is replaced by its keyed pseudonym
  (``subject.person_subject_id``); the person's name is stored masked (``张*``) and both
  the raw number and the full name are scrubbed from every text field.
- Legacy-checksum USCCs are accepted with ``subject_flags: ["uscc-legacy-checksum"]`` and
  a row warning; a USCC failing the inner GB 11714 check gets a row warning only.
- Dates in any ``dates.parse_date`` shape become ISO ``YYYY-MM-DD`` text; amounts become
  plain decimal text (``0.50`` -> ``0.5``); 处罚类别 is split on ``;；、,，``.
- ``valid_from`` is midnight CST of 处罚决定日期; ``valid_until`` is midnight CST of
  公示截止期 when given, else of 处罚决定日期 + 3 years (the maximum publication period,
  DOMAIN §3.1).

A bad row yields ``RowError(line, reason)`` with the physical line number (header =
line 1) and never a raw ID number in ``reason``. This module does not classify severity,
compute publication minimums, or read any file itself.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from credex.adapters.base import (
    AdapterContext,
    AdapterResult,
    CsvHeaderError,
    HeaderWarning,
    ParsedRow,
    RowError,
    RowUnit,
    Source,
)
from credex.adapters.table import csv_records, decode_lines
from credex.ledger.dates import add_years, date_to_unix, parse_date
from credex.ledger.errors import CredexError, IdentifierError, RecordError
from credex.ledger.identifiers import (
    inner_org_code_ok,
    normalise_resident_id,
    validate_uscc,
)
from credex.ledger.record import Record, Subject
from credex.ledger.subject import mask_name, person_subject_id

__all__ = [
    "COLUMNS",
    "MAX_PUBLICATION_YEARS",
    "ORG_CATEGORIES",
    "PERSON_CATEGORY",
    "PERSON_ID_TYPES",
    "REQUIRED_COLUMNS",
    "PenaltyCsvAdapter",
    "normalise_header",
]

_WHAT: Final = "penalty csv"

#: canonical column key -> the template's own column name (used in messages).
COLUMNS: Final[Mapping[str, str]] = {
    "subject_name": "行政相对人名称",
    "subject_category": "行政相对人类别",
    "uscc": "统一社会信用代码",
    "id_type": "证件类型",
    "id_no": "证件号码",
    "decision_no": "行政处罚决定书文号",
    "violation_type": "违法行为类型",
    "facts": "违法事实",
    "basis": "处罚依据",
    "penalty_types": "处罚类别",
    "content": "处罚内容",
    "fine_wan": "罚款金额（万元）",
    "confiscation_wan": "没收违法所得、没收非法财物的金额（万元）",
    "license_suspended": "暂扣或吊销证照名称及编号",
    "decision_date": "处罚决定日期",
    "penalty_valid_until": "处罚有效期",
    "publicity_until": "公示截止期",
    "authority": "处罚机关",
    "authority_uscc": "处罚机关统一社会信用代码",
    "source_unit": "数据来源单位",
    "source_unit_uscc": "数据来源单位统一社会信用代码",
    "note": "备注",
}
REQUIRED_COLUMNS: Final = (
    "subject_name",
    "subject_category",
    "uscc",
    "decision_no",
    "penalty_types",
    "content",
    "decision_date",
    "authority",
    "authority_uscc",
)
ORG_CATEGORIES: Final = ("法人及非法人组织", "个体工商户")
PERSON_CATEGORY: Final = "自然人"
PERSON_ID_TYPES: Final = ("身份证", "居民身份证")
MAX_PUBLICATION_YEARS: Final = 3

_SECONDARY_CODES: Final = (
    "工商注册号",
    "组织机构代码",
    "税务登记号",
    "事业单位证书号",
    "社会组织登记证号",
)
_DROPPED: Final = ("法定代表人", "法定代表人证件类型", "法定代表人证件号码", "法定代表人身份证号")
_TEXT_FIELDS: Final = (
    "decision_no",
    "content",
    "authority",
    "violation_type",
    "facts",
    "basis",
    "license_suspended",
    "source_unit",
    "note",
)
_SPLIT_RE: Final = re.compile(r"[;；、,，]")
_REDACTED: Final = "[证件号码已隐去]"


def normalise_header(name: str) -> str:
    """A header cell as matched: NFKC (full-width brackets -> ASCII), no whitespace/BOM."""
    s = unicodedata.normalize("NFKC", name.replace("\ufeff", ""))
    return "".join(s.split())


def _build_aliases() -> dict[str, str | None]:
    """normalised header -> column key, or None for template columns we drop."""
    out: dict[str, str | None] = {normalise_header(v): k for k, v in COLUMNS.items()}
    out[normalise_header("行政相对人代码_1(统一社会信用代码)")] = "uscc"
    out[normalise_header("行政相对人代码_1")] = "uscc"
    for n, name in enumerate(_SECONDARY_CODES, start=2):
        for alias in (f"行政相对人代码_{n}({name})", f"行政相对人代码_{n}", name):
            out[normalise_header(alias)] = None
    for name in _DROPPED:
        out[normalise_header(name)] = None
    return out


_ALIASES: Final = _build_aliases()


def _need(cells: Mapping[str, str], key: str) -> str:
    value = cells.get(key, "")
    if not value:
        raise RecordError(f"{_WHAT}: missing required value: {COLUMNS[key]}")
    return value


def _in_column(e: CredexError, key: str) -> CredexError:
    return type(e)(f"{e} (in {COLUMNS[key]})")


def _iso_date(cells: Mapping[str, str], key: str) -> date:
    try:
        return parse_date(cells[key])
    except CredexError as e:
        raise _in_column(e, key) from None


def _amount(cells: Mapping[str, str], key: str) -> str:
    raw = unicodedata.normalize("NFKC", cells[key]).strip()
    try:
        d = Decimal(raw)
    except InvalidOperation:
        d = Decimal("NaN")
    if not d.is_finite() or d < 0 or len(raw) > 32:
        shown = raw if len(raw) <= 32 else raw[:32] + "…"
        raise RecordError(
            f"{_WHAT}: {COLUMNS[key]}: expected a non-negative decimal amount, got {shown!r}"
        )
    text = format(d.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _org_uscc(cells: Mapping[str, str], key: str) -> tuple[str, bool]:
    try:
        org = validate_uscc(_need(cells, key))
    except IdentifierError as e:
        raise _in_column(e, key) from None
    return org.id, org.legacy_checksum


class PenaltyCsvAdapter:
    """Reads the 双公示 administrative-penalty CSV template (see module docstring)."""

    name: str = "penalty-csv"

    def count_rows(self, data: bytes) -> int:
        """Data rows (non-blank records after the header).

        Raises:
            FormatError: not UTF-8 or malformed CSV.
        """
        return max(0, sum(1 for _ in csv_records(decode_lines(data, _WHAT), _WHAT)) - 1)

    def split(self, data: Source) -> Iterator[HeaderWarning | RowUnit]:
        """Header warnings, then ``(line, cells by column key)`` per data row.

        Raises:
            FormatError: not UTF-8 or malformed CSV.
            CsvHeaderError: no header, required columns missing, duplicate columns.
            OversizeError: a row over ``MAX_ROW_BYTES``.
        """
        rows = csv_records(decode_lines(data, _WHAT), _WHAT)
        first = next(rows, None)
        if first is None:
            raise CsvHeaderError(f"{_WHAT}: empty file: expected a header row")
        index, warnings = self._header(first[1])
        yield from warnings
        for line, cells in rows:
            yield line, {k: cells[i].strip() for k, i in index.items() if i < len(cells)}

    def convert(self, unit: RowUnit, ctx: AdapterContext) -> ParsedRow | RowError:
        """One row of ``split``: its record, or the reason it is refused."""
        line, values = unit
        try:
            return self._row(line, values, ctx)
        except CredexError as e:
            return RowError(line, str(e))

    def parse(self, data: Source, ctx: AdapterContext) -> Iterator[AdapterResult]:
        """Header warnings first, then one ``ParsedRow`` or ``RowError`` per data row.

        Raises:
            FormatError: not UTF-8 or malformed CSV.
            CsvHeaderError: no header, required columns missing, duplicate columns.
            OversizeError: a row over ``MAX_ROW_BYTES``.
        """
        for item in self.split(data):
            yield item if isinstance(item, HeaderWarning) else self.convert(item, ctx)

    @staticmethod
    def _header(cells: list[str]) -> tuple[dict[str, int], list[HeaderWarning]]:
        index: dict[str, int] = {}
        warnings: list[HeaderWarning] = []
        for i, cell in enumerate(cells):
            norm = normalise_header(cell)
            if norm not in _ALIASES:
                shown = cell.strip() or f"(unnamed column {i + 1})"
                warnings.append(HeaderWarning(f"{_WHAT}: unknown column ignored: {shown!r}"))
                continue
            key = _ALIASES[norm]
            if key is None:
                continue
            if key in index:
                raise CsvHeaderError(
                    f"{_WHAT}: duplicate column {COLUMNS[key]}: columns {index[key] + 1} "
                    f"and {i + 1}"
                )
            index[key] = i
        missing = [COLUMNS[k] for k in REQUIRED_COLUMNS if k not in index]
        if missing:
            raise CsvHeaderError(f"{_WHAT}: missing required columns: {', '.join(missing)}")
        return index, warnings

    @staticmethod
    def _row(line: int, cells: dict[str, str], ctx: AdapterContext) -> ParsedRow:
        warnings: list[str] = []
        body: dict[str, Any] = {}
        category = _need(cells, "subject_category")
        name = _need(cells, "subject_name")
        secrets: list[tuple[str, str]] = []  # (text to scrub, replacement)
        if category == PERSON_CATEGORY:
            id_type = _need(cells, "id_type")
            if id_type not in PERSON_ID_TYPES:
                raise RecordError(
                    f"{_WHAT}: unsupported 证件类型 for 自然人: expected 身份证 or 居民身份证, "
                    f"got {id_type[:20]!r}"
                )
            raw_id = _need(cells, "id_no")
            try:
                rid = normalise_resident_id(raw_id)
                subject = Subject("person", person_subject_id(ctx.subject_key, rid))
            except IdentifierError as e:
                raise _in_column(e, "id_no") from None
            secrets += [(raw_id, _REDACTED), (rid, _REDACTED), (rid.lower(), _REDACTED)]
            masked = mask_name(name)
            if len(name) > 1:
                secrets.append((name, masked))
            body["subject_name"] = masked
        elif category in ORG_CATEGORIES:
            uscc, legacy = _org_uscc(cells, "uscc")
            subject = Subject("org", uscc)
            if legacy:
                body["subject_flags"] = ["uscc-legacy-checksum"]
                warnings.append(
                    "uscc: legacy check character accepted (known pilot code) at position 18"
                )
            if not inner_org_code_ok(uscc):
                warnings.append("uscc: inner organisation code check (gb 11714) failed")
            body["subject_name"] = name
        else:
            raise RecordError(
                f"{_WHAT}: unknown 行政相对人类别: expected 法人及非法人组织, 自然人 or "
                f"个体工商户, got {category[:20]!r}"
            )
        body["subject_category"] = category

        for key in ("decision_no", "content", "authority"):
            _need(cells, key)
        decided = _iso_date({"decision_date": _need(cells, "decision_date")}, "decision_date")
        body["decision_date"] = decided.isoformat()
        types = [t.strip() for t in _SPLIT_RE.split(_need(cells, "penalty_types")) if t.strip()]
        if not types:
            raise RecordError(f"{_WHAT}: missing required value: {COLUMNS['penalty_types']}")
        body["penalty_types"] = types
        body["authority_uscc"], authority_legacy = _org_uscc(cells, "authority_uscc")
        if authority_legacy:
            warnings.append("处罚机关统一社会信用代码: legacy check character accepted")
        if cells.get("source_unit_uscc"):
            body["source_unit_uscc"], _ = _org_uscc(cells, "source_unit_uscc")

        for key in _TEXT_FIELDS:
            value = cells.get(key, "")
            for secret, replacement in secrets:
                value = value.replace(secret, replacement)
            if value:
                body[key] = value
        for key in ("fine_wan", "confiscation_wan"):
            if cells.get(key):
                body[key] = _amount(cells, key)
        if cells.get("penalty_valid_until"):
            body["penalty_valid_until"] = _iso_date(cells, "penalty_valid_until").isoformat()
        until = add_years(decided, MAX_PUBLICATION_YEARS)
        if cells.get("publicity_until"):
            until = _iso_date(cells, "publicity_until")
            if until < decided:
                raise RecordError(
                    f"{_WHAT}: {COLUMNS['publicity_until']} is before {COLUMNS['decision_date']}: "
                    f"expected >= {decided.isoformat()}, got {until.isoformat()}"
                )
            body["publicity_until"] = until.isoformat()

        record = Record(
            kind="penalty.admin",
            region=ctx.region,
            subject=subject,
            body=body,
            valid_from=date_to_unix(decided),
            valid_until=date_to_unix(until),
        )
        return ParsedRow(line, record, tuple(warnings))
