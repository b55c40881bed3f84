"""纳税信用 A-level lists (A级纳税人名单) -> ``rating.enterprise`` records, scheme ``TAX_NSXY``.

Adapter name ``tax-a-list-csv`` (issue #12 point 4; DOMAIN.md §6: grades A/B/M/C/D,
results published every April). Tax offices publish only the A list; every row is an
A-level taxpayer for one evaluation year.

- 纳税人识别号 (统一社会信用代码, 纳税人识别号/统一社会信用代码) must be a USCC (an old
  15-digit 税务登记号 is refused: it names no subject credex can match); 纳税人名称
  (企业名称, 名称); 评价年度 (年度, 评定年度): a year, 2014 or later.
- 信用级别 (纳税信用级别, 评价结果), when present, must be ``A`` (``A级`` accepted).
- 发布单位 (税务机关, 主管税务机关, 评价机关) is the rater (default ``税务机关``).
- 发布日期 (评定日期): ``rated_on``; without it, April 1 of the year after the
  evaluation year is assumed [A: results are published in April] with a row warning.
- ``valid_until``: one year after ``rated_on`` [A] (the next April list replaces it).

Row by row over an iterator of lines; this module reads no file.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from credex.adapters.base import AdapterContext, ParsedRow
from credex.adapters.table import Column, CsvAdapter, Table, iso_date, need, org_code
from credex.ledger.dates import add_years, date_to_unix
from credex.ledger.errors import RecordError
from credex.ledger.record import Record, Subject

__all__ = ["TAX_A_TABLE", "TaxALevelCsvAdapter"]

_FIRST_YEAR: Final = 2014

TAX_A_TABLE: Final = Table(
    "tax a-list csv",
    (
        Column("uscc", "纳税人识别号", ("统一社会信用代码", "纳税人识别号/统一社会信用代码")),
        Column("name", "纳税人名称", ("企业名称", "名称")),
        Column("year", "评价年度", ("年度", "评定年度")),
        Column("grade", "信用级别", ("纳税信用级别", "评价结果")),
        Column("rater", "发布单位", ("税务机关", "主管税务机关", "评价机关")),
        Column("rated_on", "发布日期", ("评定日期",)),
    ),
    ("uscc", "name", "year"),
    dropped=("序号",),
)


class TaxALevelCsvAdapter(CsvAdapter):
    """Reads an A级纳税人 list (module docstring)."""

    name = "tax-a-list-csv"
    table = TAX_A_TABLE

    def row(self, line: int, cells: dict[str, str], ctx: AdapterContext) -> ParsedRow:
        t = self.table
        uscc, _ = org_code(t, cells, "uscc")
        need(t, cells, "name")
        raw_year = need(t, cells, "year").removesuffix("年")
        if not raw_year.isascii() or not raw_year.isdigit() or len(raw_year) != 4:
            raise RecordError(
                f"{t.what}: 评价年度: expected a year such as 2025, got {raw_year[:8]!r}"
            )
        year = int(raw_year)
        if not _FIRST_YEAR <= year <= 2100:
            raise RecordError(f"{t.what}: 评价年度: expected {_FIRST_YEAR}-2100, got {year}")
        grade = cells.get("grade", "A").removesuffix("级").strip() or "A"
        if grade != "A":
            raise RecordError(
                f"{t.what}: 信用级别: an A-level list holds only A, got {grade[:8]!r}"
            )
        warnings: list[str] = []
        if cells.get("rated_on"):
            rated = iso_date(t, cells, "rated_on")
        else:
            rated = date(year + 1, 4, 1)
            warnings.append(f"发布日期 not given: {rated.isoformat()} assumed (April lists)")
        body: dict[str, Any] = {
            "scheme": "TAX_NSXY",
            "grade": "A",
            "rated_on": rated.isoformat(),
            "rater": cells.get("rater") or "税务机关",
            "period": str(year),
        }
        record = Record(
            kind="rating.enterprise",
            region=ctx.region,
            subject=Subject("org", uscc),
            body=body,
            valid_from=date_to_unix(rated),
            valid_until=date_to_unix(add_years(rated, 1)),
        )
        return ParsedRow(line, record, tuple(warnings))
