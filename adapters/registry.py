"""The built-in adapters by the name ``credex import --adapter NAME`` takes.

This module imports every adapter module; an adapter module never imports it.
"""

from __future__ import annotations

from typing import Final

from credex.adapters.base import Adapter
from credex.adapters.court_list import CourtListCsvAdapter
from credex.adapters.hk_report import HkReportJsonAdapter
from credex.adapters.licenses import LicenseCsvAdapter
from credex.adapters.lists import BlackListCsvAdapter, RedListCsvAdapter
from credex.adapters.public_credit import PenaltyCsvAdapter
from credex.adapters.tax_credit import TaxALevelCsvAdapter
from credex.ledger.errors import ConfigError

__all__ = ["ADAPTERS", "adapter_named"]

#: adapters by name
ADAPTERS: Final[dict[str, Adapter]] = {
    a.name: a
    for a in (
        PenaltyCsvAdapter(),
        HkReportJsonAdapter(),
        # issue #12: the other feeds (row by row over decoded lines: ``parse_lines``)
        LicenseCsvAdapter(),
        RedListCsvAdapter(),
        BlackListCsvAdapter(),
        CourtListCsvAdapter(),
        TaxALevelCsvAdapter(),
    )
}


def adapter_named(name: str) -> Adapter:
    """The adapter called ``name``.

    Raises:
        ConfigError: no such adapter (the message lists the names).
    """
    found = ADAPTERS.get(name)
    if found is None:
        raise ConfigError(
            f"import: unknown adapter {name!r}: expected one of {', '.join(sorted(ADAPTERS))}"
        )
    return found
