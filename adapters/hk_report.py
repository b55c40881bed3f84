"""A Hong Kong company credit report exported as JSON -> ``report.hk`` records.

Adapter name ``hk-report-json`` (issue #4 point 3, DOMAIN §4). The file is UTF-8 JSON
(a BOM is allowed): one array, one report object per element. Line numbers in
``RowError`` are the element's position in the array, counting from 1, so a person can
find it with ``jq '.[N-1]'``. A bad element is refused on its own; the others are read.

One report object (``*`` = required)::

    {
      "agency": "Example Credit Agency (HK) Ltd",            * text
      "report_id": "R-2026-0001",                            * text
      "report_date": "2026-05-31",                           * date
      "cr_no": "91234567",                  exactly one of cr_no (CR No.) or brn (BRN)
      "brn": "91234567-000",
      "company_name": {"en": "...", "zh": "..."},            * at least one of en / zh
      "status": "Live",                                      * see STATUSES
      "incorporation_date": "2010-03-15",                      date, not after report_date
      "company_type": "Private company limited by shares",     see COMPANY_TYPES
      "directors": ["陳大文", "Chan Tai Man"],                 names; stored masked
      "court_judgments": {"count": 1, "latest_date": "2025-11-02",
                          "amount_hkd_cents": 12345600},
      "payment_records": {"count": 12, "days_beyond_terms": 15},
      "ccra": {"facilities": 3, "total_limit_hkd_cents": 500000000, "default": false},
      "rating": "3A2"                                          D&B-style, see below
    }

- Dates are any ``dates.parse_date`` shape and become ISO ``YYYY-MM-DD`` text.
- Counts, days and amounts are non-negative JSON integers; amounts are HKD **cents**.
  A JSON number with a fraction or exponent (a float) is refused, never rounded.
- ``court_judgments.count`` 0 allows neither a latest date nor a non-zero amount.
- ``rating`` is a D&B financial-strength code (``5A`` ... ``H``, DOMAIN §4.2) followed by
  a composite appraisal ``1``-``4`` (``3A2``), or one of the stand-alone codes ``N``,
  ``O``, ``NB``, ``NQ``, ``DS``.
- An unknown top-level field is ignored with a row warning naming it.

The record: ``Subject("org", "HK-CR:<no>")`` or ``Subject("org", "HK-BR:<8>-<3>")``
(``identifiers``); body ``agency``, ``report_id``, ``report_date``, ``company_name`` (the
Chinese name when given, else the English one), ``rating`` when given, and ``items``,
a flat map (so that a ``field_map`` policy can address every item as ``items.<name>``):
``registration_no`` (the canonical id), ``cr_no`` or ``brn``, ``company_name_en``,
``company_name_zh``, ``status``, ``incorporated_on``, ``company_type``, ``directors``
(masked, ``subject.mask_name``), ``judgment_count``, ``judgment_latest_date``,
``judgment_amount_hkd_cents``, ``payment_record_count``, ``days_beyond_terms``,
``ccra_facilities``, ``ccra_total_limit_hkd_cents``, ``ccra_default`` (``"yes"`` or
``"no"``), ``rating_strength``, ``rating_composite`` and ``rating_net_worth``; each only
when the report gives it. ``valid_from`` is midnight CST of the report date and
``valid_until`` 12 months later [A].

The companion field-map policy ``adapters/policies/hk_to_mainland.json`` maps these to
the mainland enterprise report layout in the spirit of Qianhai's 2021 correspondence
table: common items (共性数据项) by name, HK-specific items (个性数据项: directors, the
D&B rating parts, ...) kept apart under ``items.specific``. Its HKD -> CNY factor
(23/25, i.e. 0.92) is illustrative only, not a market or official rate.

This module does not read files, sign or log records, or look anything up in a registry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Final

from credex.adapters.base import (
    AdapterContext,
    AdapterResult,
    HeaderWarning,
    ParsedRow,
    RowError,
    RowUnit,
    Source,
)
from credex.adapters.json_stream import array_items
from credex.ledger.dates import add_months, date_to_unix, parse_date
from credex.ledger.errors import CredexError, FormatError, IdentifierError, RecordError
from credex.ledger.identifiers import validate_hk_brn, validate_hk_cr
from credex.ledger.record import Record, Subject
from credex.ledger.subject import mask_name

__all__ = [
    "COMPANY_TYPES",
    "FIELDS",
    "RATING_SPECIAL",
    "RATING_STRENGTHS",
    "STATUSES",
    "VALID_MONTHS",
    "HkReportJsonAdapter",
]

_WHAT: Final = "hk report"

#: Companies Registry / Business Registration statuses accepted.
STATUSES: Final = (
    "Live",
    "Dissolved",
    "Deregistered",
    "Struck Off",
    "In Liquidation",
    "Amalgamated",
)
#: Company types accepted (Companies Ordinance Cap. 622 and Business Registration).
COMPANY_TYPES: Final = (
    "Private company limited by shares",
    "Public company limited by shares",
    "Company limited by guarantee",
    "Registered non-Hong Kong company",
    "Sole proprietorship",
    "Partnership",
)
#: D&B financial-strength codes for HK -> net worth band in HK$ (DOMAIN §4.2).
RATING_STRENGTHS: Final[Mapping[str, str]] = {
    "5A": "HK$300m and over",
    "4A": "HK$70m-299.9m",
    "3A": "HK$10m-69.9m",
    "2A": "HK$7m-9.9m",
    "1A": "HK$6m-6.9m",
    "A": "HK$5m-5.9m",
    "B": "HK$4m-4.9m",
    "C": "HK$3m-3.9m",
    "D": "HK$2m-2.9m",
    "E": "HK$1m-1.9m",
    "F": "HK$0.5m-0.99m",
    "G": "HK$0.2m-0.49m",
    "H": "under HK$0.2m",
}
#: Stand-alone D&B codes (no composite appraisal).
RATING_SPECIAL: Final[Mapping[str, str]] = {
    "N": "negative net worth",
    "O": "net worth undisclosed",
    "NB": "new business (under 24 months)",
    "NQ": "ceased trading",
    "DS": "needs investigation",
}
#: Top-level fields of one report object.
FIELDS: Final = (
    "agency",
    "report_id",
    "report_date",
    "cr_no",
    "brn",
    "company_name",
    "status",
    "incorporation_date",
    "company_type",
    "directors",
    "court_judgments",
    "payment_records",
    "ccra",
    "rating",
)
VALID_MONTHS: Final = 12

_RATING_RE: Final = re.compile(r"^(5A|4A|3A|2A|1A|[A-H])([1-4])\Z")
_MAX_TEXT: Final = 300
_MAX_DIRECTORS: Final = 64
_MAX_INT: Final = 10**15


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _bad(field: str, msg: str) -> RecordError:
    return RecordError(f"{_WHAT}: {field}: {msg}")


def _text(obj: Mapping[str, Any], key: str, *, where: str = "") -> str | None:
    name = where + key
    if key not in obj or obj[key] is None:
        return None
    value = obj[key]
    if not isinstance(value, str):
        raise _bad(name, f"expected text, got {type(value).__name__}")
    value = value.strip()
    if not value:
        return None
    if len(value) > _MAX_TEXT:
        raise _bad(name, f"too long: at most {_MAX_TEXT} characters")
    return value


def _need_text(obj: Mapping[str, Any], key: str) -> str:
    value = _text(obj, key)
    if value is None:
        raise RecordError(f"{_WHAT}: missing required field: {key}")
    return value


def _date(obj: Mapping[str, Any], key: str, *, where: str = "") -> date | None:
    raw = _text(obj, key, where=where)
    if raw is None:
        return None
    try:
        return parse_date(raw)
    except CredexError as e:
        raise _bad(where + key, str(e)) from None


def _count(obj: Mapping[str, Any], key: str, *, where: str) -> int | None:
    name = where + key
    if key not in obj or obj[key] is None:
        return None
    value = obj[key]
    if isinstance(value, Decimal):
        raise _bad(name, f"expected a whole number, got the fraction {value}")
    if type(value) is not int:
        raise _bad(name, f"expected a non-negative integer, got {_shown(value)}")
    if not 0 <= value <= _MAX_INT:
        raise _bad(name, f"expected a non-negative integer up to {_MAX_INT}, got {value}")
    return value


def _cents(obj: Mapping[str, Any], key: str, *, where: str) -> int | None:
    name = where + key
    if isinstance(obj.get(key), Decimal):
        raise _bad(name, f"expected integer hkd cents, got the fraction {obj[key]}")
    try:
        return _count(obj, key, where=where)
    except RecordError:
        raise _bad(name, f"expected integer hkd cents (>= 0), got {_shown(obj[key])}") from None


def _section(obj: Mapping[str, Any], key: str, known: tuple[str, ...]) -> dict[str, Any]:
    if key not in obj or obj[key] is None:
        return {}
    value = obj[key]
    if not isinstance(value, dict):
        raise _bad(key, f"expected an object, got {type(value).__name__}")
    unknown = sorted(k for k in value if k not in known)
    if unknown:
        raise _bad(key, f"unknown fields: {', '.join(unknown)}")
    return value


def _choice(obj: Mapping[str, Any], key: str, allowed: tuple[str, ...]) -> str | None:
    value = _text(obj, key)
    if value is None:
        return None
    if value not in allowed:
        raise _bad(key, f"expected one of {', '.join(allowed)}, got {_shown(value)}")
    return value


def _subject(obj: Mapping[str, Any]) -> tuple[Subject, str, str]:
    cr, br = _text(obj, "cr_no"), _text(obj, "brn")
    if (cr is None) == (br is None):
        raise RecordError(f"{_WHAT}: expected exactly one of cr_no or brn")
    try:
        if cr is not None:
            org = validate_hk_cr(cr)
            return Subject("org", org.id), "cr_no", org.id.removeprefix("HK-CR:")
        assert br is not None
        org = validate_hk_brn(br)
        return Subject("org", org.id), "brn", org.id.removeprefix("HK-BR:")
    except IdentifierError as e:
        raise _bad("cr_no" if cr is not None else "brn", str(e)) from None


def _names(obj: Mapping[str, Any]) -> tuple[str | None, str | None]:
    value = obj.get("company_name")
    if isinstance(value, str):
        value = {"en": value}
    if not isinstance(value, dict):
        raise RecordError(f"{_WHAT}: missing required field: company_name")
    unknown = sorted(k for k in value if k not in ("en", "zh"))
    if unknown:
        raise _bad("company_name", f"unknown fields: {', '.join(unknown)}")
    en = _text(value, "en", where="company_name.")
    zh = _text(value, "zh", where="company_name.")
    if en is None and zh is None:
        raise _bad("company_name", "expected at least one of en or zh")
    return en, zh


def _directors(obj: Mapping[str, Any]) -> list[str] | None:
    value = obj.get("directors")
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > _MAX_DIRECTORS:
        raise _bad("directors", f"expected a list of at most {_MAX_DIRECTORS} names")
    out = []
    for i, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            # the value may be a person's name: never echo it
            raise _bad(f"directors[{i}]", "expected a non-empty name")
        out.append(mask_name(name))
    return out


def _rating(obj: Mapping[str, Any], items: dict[str, Any]) -> str | None:
    raw = _text(obj, "rating")
    if raw is None:
        return None
    rating = raw.upper()
    if rating in RATING_SPECIAL:
        items["rating_strength"] = rating
        items["rating_net_worth"] = RATING_SPECIAL[rating]
        return rating
    m = _RATING_RE.match(rating)
    if not m:
        raise _bad(
            "rating",
            "expected a d&b strength 5A-H plus composite 1-4 (e.g. 3A2) or one of "
            f"{', '.join(RATING_SPECIAL)}, got {_shown(raw)}",
        )
    items["rating_strength"] = m.group(1)
    items["rating_composite"] = m.group(2)
    items["rating_net_worth"] = RATING_STRENGTHS[m.group(1)]
    return rating


def _put(items: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        items[key] = value


def _report(obj: Any, ctx: AdapterContext) -> tuple[Record, tuple[str, ...]]:
    if isinstance(obj, Decimal) or not isinstance(obj, dict):
        raise RecordError(f"{_WHAT}: expected a json object, got {type(obj).__name__}")
    unknown = sorted(str(k) for k in obj if k not in FIELDS)
    warnings = tuple(f"{_WHAT}: unknown field ignored: {k[:40]!r}" for k in unknown)
    agency = _need_text(obj, "agency")
    report_id = _need_text(obj, "report_id")
    reported = _date(obj, "report_date")
    if reported is None:
        raise RecordError(f"{_WHAT}: missing required field: report_date")
    subject, id_field, code = _subject(obj)
    en, zh = _names(obj)
    status = _choice(obj, "status", STATUSES)
    if status is None:
        raise RecordError(f"{_WHAT}: missing required field: status")

    items: dict[str, Any] = {"registration_no": subject.id, id_field: code}
    _put(items, "company_name_en", en)
    _put(items, "company_name_zh", zh)
    items["status"] = status
    incorporated = _date(obj, "incorporation_date")
    if incorporated is not None:
        if incorporated > reported:
            raise _bad(
                "incorporation_date",
                f"{incorporated.isoformat()} is after the report date {reported.isoformat()}",
            )
        items["incorporated_on"] = incorporated.isoformat()
    _put(items, "company_type", _choice(obj, "company_type", COMPANY_TYPES))
    _put(items, "directors", _directors(obj))

    where = "court_judgments."
    judgments = _section(obj, "court_judgments", ("count", "latest_date", "amount_hkd_cents"))
    count = _count(judgments, "count", where=where)
    latest = _date(judgments, "latest_date", where=where)
    amount = _cents(judgments, "amount_hkd_cents", where=where)
    if latest is not None and latest > reported:
        raise _bad(
            where + "latest_date",
            f"{latest.isoformat()} is after the report date {reported.isoformat()}",
        )
    if count == 0 and (latest is not None or amount):
        raise _bad(where + "count", "is 0 but a latest date or a non-zero amount is given")
    _put(items, "judgment_count", count)
    _put(items, "judgment_latest_date", None if latest is None else latest.isoformat())
    _put(items, "judgment_amount_hkd_cents", amount)

    where = "payment_records."
    payments = _section(obj, "payment_records", ("count", "days_beyond_terms"))
    _put(items, "payment_record_count", _count(payments, "count", where=where))
    _put(items, "days_beyond_terms", _count(payments, "days_beyond_terms", where=where))

    where = "ccra."
    ccra = _section(obj, "ccra", ("facilities", "total_limit_hkd_cents", "default"))
    _put(items, "ccra_facilities", _count(ccra, "facilities", where=where))
    _put(items, "ccra_total_limit_hkd_cents", _cents(ccra, "total_limit_hkd_cents", where=where))
    if ccra.get("default") is not None:
        if not isinstance(ccra["default"], bool):
            raise _bad(where + "default", f"expected true or false, got {_shown(ccra['default'])}")
        items["ccra_default"] = "yes" if ccra["default"] else "no"

    body: dict[str, Any] = {
        "agency": agency,
        "report_id": report_id,
        "report_date": reported.isoformat(),
        "company_name": zh if zh is not None else en,
    }
    _put(body, "rating", _rating(obj, items))
    body["items"] = items
    record = Record(
        kind="report.hk",
        region=ctx.region,
        subject=subject,
        body=body,
        valid_from=date_to_unix(reported),
        valid_until=date_to_unix(add_months(reported, VALID_MONTHS)),
    )
    return record, warnings


def _no_constant(name: str) -> Any:
    raise FormatError(f"{_WHAT}: not valid json: {name} is not a json number")


def _element(text: str) -> Any:
    """One array element, strictly: floats as ``Decimal`` (refused later), no NaN."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise FormatError(f"{_WHAT}: not valid json: {e.msg.lower()}") from None
    except RecursionError:
        raise FormatError(f"{_WHAT}: not valid json: nested too deeply") from None
    except ValueError:  # an integer longer than Python's digit limit (4300)
        raise FormatError(f"{_WHAT}: not valid json: a number with too many digits") from None


class HkReportJsonAdapter:
    """Reads a JSON array of Hong Kong company credit reports (see module docstring),
    element by element (``json_stream.array_items``): memory does not grow with the file."""

    name: str = "hk-report-json"

    def count_rows(self, data: bytes) -> int:
        """The number of reports (array elements).

        Raises:
            FormatError: not UTF-8, not a JSON array.
        """
        return sum(1 for _ in array_items(data, _WHAT))

    def split(self, data: Source) -> Iterator[HeaderWarning | RowUnit]:
        """``(position from 1, element text)`` per array element.

        Raises:
            FormatError: not UTF-8, not a JSON array.
            OversizeError: an element over ``MAX_ROW_BYTES``.
        """
        return array_items(data, _WHAT)

    def convert(self, unit: RowUnit, ctx: AdapterContext) -> ParsedRow | RowError:
        """One element: its record, or the reason it is refused (an element that is
        not valid JSON is refused on its own)."""
        line, text = unit
        try:
            record, warnings = _report(_element(text), ctx)
        except CredexError as e:
            return RowError(line, str(e))
        return ParsedRow(line, record, warnings)

    def parse(self, data: Source, ctx: AdapterContext) -> Iterator[AdapterResult]:
        """One ``ParsedRow`` or ``RowError`` per array element; line = index + 1.

        Raises:
            FormatError: not UTF-8, not a JSON array.
            OversizeError: an element over ``MAX_ROW_BYTES``.
        """
        for unit in self.split(data):
            yield unit if isinstance(unit, HeaderWarning) else self.convert(unit, ctx)
