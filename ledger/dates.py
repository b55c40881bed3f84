"""Dates as regional exports write them, and the Unix time credex records use.

``parse_date`` accepts exactly four shapes, after NFKC normalisation (so full-width
digits and separators such as ``２０２５／３／１４`` work) and stripping:

- ``2025-03-14`` (also ``2025-3-14``)
- ``2025/3/14`` (also ``2025/03/14``)
- ``20250314``
- ``2025年3月14日``

Anything else, including a time part or an impossible calendar date, raises
``DateFormatError``. ``date_to_unix`` gives midnight China Standard Time (a fixed UTC+8,
no DST), the moment credex uses for a date-valued ``valid_from`` / ``valid_until``;
``cst_day`` is the one way a Unix time is shown as a day (in China Standard Time, never
UTC), ``day_start`` the midnight before it.

This module does not read the clock and does not guess day/month order.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, datetime, timedelta, timezone
from typing import Final

from credex.ledger.errors import DateFormatError

__all__ = [
    "CST",
    "add_months",
    "add_years",
    "cst_date",
    "cst_day",
    "cst_second",
    "cst_time",
    "date_to_unix",
    "day_start",
    "parse_date",
    "parse_time",
]

#: China Standard Time, fixed UTC+8.
CST: Final = timezone(timedelta(hours=8), "CST")

#: ASCII digits only (after NFKC, which folds full-width digits): ``\d`` alone would
#: also take Arabic-Indic and other Unicode digits
_PATTERNS: Final = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})", re.ASCII),
    re.compile(r"(\d{4})(\d{2})(\d{2})", re.ASCII),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日", re.ASCII),
)
_EXPECTED: Final = "expected YYYY-MM-DD, YYYY/M/D, YYYYMMDD or YYYY年M月D日"
_MAX_SHOWN: Final = 40
_UNIX_RE: Final = re.compile(r"[0-9]{1,12}")


def _shown(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "…"


def parse_date(text: str) -> date:
    """Parse one date in a supported shape.

    Raises:
        DateFormatError: not one of the shapes, or not a calendar date.
    """
    s = unicodedata.normalize("NFKC", text).strip()
    for pattern in _PATTERNS:
        m = pattern.fullmatch(s)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                raise DateFormatError(
                    f"date: cannot parse {_shown(text)!r}: not a calendar date"
                ) from None
    raise DateFormatError(f"date: cannot parse {_shown(text)!r}: {_EXPECTED}")


def date_to_unix(d: date) -> int:
    """Unix seconds at 00:00 China Standard Time (UTC+8) on ``d``."""
    return int(datetime(d.year, d.month, d.day, tzinfo=CST).timestamp())


def cst_date(t: int) -> date:
    """The calendar date in China Standard Time of Unix time ``t``."""
    return datetime.fromtimestamp(t, CST).date()


def cst_day(t: int) -> str:
    """``cst_date(t)`` as ISO text (``2026-06-02``): how credex prints a day everywhere."""
    return cst_date(t).isoformat()


def cst_time(t: int) -> str:
    """Unix time ``t`` as people read it: ``2026-06-02 14:05 CST``."""
    return datetime.fromtimestamp(t, CST).strftime("%Y-%m-%d %H:%M CST")


def cst_second(t: int) -> str:
    """``cst_time`` to the second (``2026-06-02 14:05:09 CST``): for key windows and
    signing times, where a minute hides the difference."""
    return datetime.fromtimestamp(t, CST).strftime("%Y-%m-%d %H:%M:%S CST")


def day_start(t: int) -> int:
    """Unix time of 00:00 China Standard Time on the day containing ``t``."""
    return date_to_unix(cst_date(t))


def add_years(d: date, years: int) -> date:
    """``d`` moved by whole years; 29 February becomes 28 February in a common year."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def add_months(d: date, months: int) -> date:
    """``d`` moved by whole months, clamped to the last day of the target month."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(d.day, last))


def parse_time(text: str) -> int:
    """A moment as people give it: a day in any ``parse_date`` shape (its midnight, China
    Standard Time; eight digits are a ``YYYYMMDD`` day) or Unix seconds (other ASCII
    digits).

    Raises:
        DateFormatError: neither.
    """
    s = text.strip()
    if _UNIX_RE.fullmatch(s) and len(s) != 8:
        return int(s)
    return date_to_unix(parse_date(s))
