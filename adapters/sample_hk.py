"""Synthetic Hong Kong company reports for the demo and tests (``report.hk`` records).

Every name and number is made up; subjects are valid CR / BR numbers of no real company.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Final

from credex.adapters.sample import SYNTHETIC_TAGS
from credex.ledger.dates import add_months, date_to_unix
from credex.ledger.record import Record, Subject
from credex.ledger.subject import mask_name

__all__ = ["hk_report_records"]


_HK_AGENCY: Final = "示例征信（香港）有限公司 Example Credit Reference (HK) Ltd [synthetic]"
_HK_RATINGS: Final = ("5A1", "3A2", "1A3", "C2", "H4", "NB", "O", "DS")
_HK_TYPES: Final = (
    ("", "Private company limited by shares"),
    ("F", "Registered non-Hong Kong company"),
    ("C", "Company limited by guarantee"),
    ("", "Private company limited by shares"),
    ("BR", "Sole proprietorship"),
)


def hk_report_records(count: int = 8, seed: int = 0, *, as_of: date) -> list[Record]:
    """``count`` ``report.hk`` records (region ``hk``) about synthetic HK companies.

    Subjects cycle through CR No. (8 digits), ``F`` + 7, ``C`` + 7 and BRN-branch forms;
    directors are masked; ``items`` carries the registry-style facts. ``valid_until`` is
    ``as_of`` + 12 months [A].
    """
    rng = random.Random(f"hk:{seed}")
    out: list[Record] = []
    for i in range(count):
        prefix, company_type = _HK_TYPES[i % len(_HK_TYPES)]
        tag = SYNTHETIC_TAGS[i % len(SYNTHETIC_TAGS)]
        items: dict[str, object] = {"company_type": company_type, "synthetic": True}
        if prefix == "BR":
            number = f"9{rng.randrange(10**7):07d}"
            subject_id = f"HK-BR:{number}-000"
            items["brn"] = f"{number}-000"
            items["br_certificate"] = (
                f"{number}-000-{rng.randint(1, 12):02d}-27-{rng.randrange(10)}"
            )
        else:
            digits = 7 if prefix else 8
            number = f"{prefix}9{rng.randrange(10 ** (digits - 1)):0{digits - 1}d}"
            subject_id = f"HK-CR:{number}"
            items["cr_no"] = number
            items["incorporated_on"] = (
                as_of - timedelta(days=rng.randrange(400, 9000))
            ).isoformat()
        # the same items ``hk_report`` writes, so the HK -> mainland policy maps every one
        items["registration_no"] = subject_id
        items["status"] = "Live"
        people = [mask_name(f"{rng.choice('陳黃李張王')}示例") for _ in range(2)]
        if prefix == "BR":
            items["proprietor"] = people[0]
        else:
            items["directors"] = people
        items["judgment_count"] = rng.randrange(3)
        items["ccra_facilities"] = rng.randrange(6)
        out.append(
            Record(
                kind="report.hk",
                region="hk",
                subject=Subject("org", subject_id),
                body={
                    "agency": _HK_AGENCY,
                    "report_id": f"SYN-HK-{as_of:%Y%m%d}-{i + 1:04d}",
                    "report_date": as_of.isoformat(),
                    "company_name": f"示例貿易{tag}（香港）有限公司 Example Trading {tag} (HK) Ltd",
                    "rating": rng.choice(_HK_RATINGS),
                    "items": items,
                },
                valid_from=date_to_unix(as_of),
                valid_until=date_to_unix(add_months(as_of, 12)),
            )
        )
    return out
