from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credex.ledger.dates import add_months, add_years, date_to_unix, parse_date
from credex.ledger.errors import DateFormatError


@pytest.mark.parametrize(
    "text",
    [
        "2025-03-14",
        "2025-3-14",
        "2025/3/14",
        "2025/03/14",
        "20250314",
        "2025年3月14日",
        "2025年03月14日",
        " 2025-03-14\t",
        "２０２５／３／１４",
        "２０２５年３月１４日",
    ],
)
def test_parse_supported_shapes(text: str) -> None:
    assert parse_date(text) == date(2025, 3, 14)


@pytest.mark.parametrize(
    "text",
    ["", "14/03/2025", "2025.03.14", "2025-03-14 00:00:00", "March 14 2025", "250314", "2025-3"],
)
def test_parse_rejects_other_shapes(text: str) -> None:
    expected = "expected YYYY-MM-DD, YYYY/M/D, YYYYMMDD or YYYY年M月D日"
    with pytest.raises(DateFormatError, match=f"^date: cannot parse {text!r}: {expected}$"):
        parse_date(text)


@pytest.mark.parametrize("text", ["2025-02-30", "20251301", "2025年2月29日"])
def test_parse_rejects_impossible_dates(text: str) -> None:
    with pytest.raises(DateFormatError, match="not a calendar date"):
        parse_date(text)


def test_long_input_is_truncated_in_message() -> None:
    with pytest.raises(DateFormatError) as e:
        parse_date("x" * 500)
    assert len(str(e.value)) < 200


def test_date_to_unix_is_midnight_cst() -> None:
    assert date_to_unix(date(1970, 1, 2)) == 16 * 3600
    assert date_to_unix(date(2025, 3, 14)) == int(datetime(2025, 3, 13, 16, tzinfo=UTC).timestamp())


@given(st.dates(min_value=date(1971, 1, 1), max_value=date(2100, 1, 1)))
def test_date_to_unix_roundtrip(d: date) -> None:
    t = date_to_unix(d)
    assert (t + 8 * 3600) % 86400 == 0
    assert datetime.fromtimestamp(t + 8 * 3600, UTC).date() == d
    assert parse_date(d.isoformat()) == d
    assert parse_date(f"{d.year}年{d.month}月{d.day}日") == d


def test_add_years_and_months() -> None:
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)
    assert add_months(date(2025, 3, 14), -3) == date(2024, 12, 14)
    assert add_months(date(2025, 3, 14), 36) == date(2028, 3, 14)
