"""The demo's lifecycle step picks a Ningbo penalty it can repair from the sample data of
the day. A person's penalty is logged as a hash envelope (its body off-log), so the pick
must skip it rather than read its record: on 2026-12-06 (CST) the first penalty past its
minimum publication window was a person's, and the whole demo failed with
``BodyNotHeldError``. The sample data is generated relative to the day the demo runs, so
the pick is checked over two years of days, and the sample file the demo imports
(``repairable_sample``: the first seed whose file has an organisation's penalty in its
window) over three."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import cast

from credex.adapters import ADAPTERS
from credex.ledger.dates import cst_day
from credex.node.demo.federation import FederationMember
from credex.node.demo.recognition import _repairable, repairable_sample
from credex.node.local import LocalNode, create_home
from credex.node.services.importer import import_bytes

REGION = "cn-zj-ningbo"


class _Member:
    def __init__(self, node: LocalNode) -> None:
        self.node = node


def _noon_cst(day: date) -> int:
    return int((day - date(1970, 1, 1)).total_seconds()) + 4 * 3600  # 12:00 CST


def test_the_demo_repairs_a_penalty_whose_body_is_on_the_log(tmp_path: Path) -> None:
    start = date(2026, 12, 6)  # the day the pick first met a person's penalty
    for k in range(0, 730, 7):
        today = start + timedelta(days=k)
        now = _noon_cst(today)
        assert cst_day(now) == today.isoformat()
        home = create_home(
            tmp_path / f"h{k}", region=REGION, origin="credex.ningbo.example/log", db=None,
            now=now,
        )  # fmt: skip
        with LocalNode(home) as node:
            csv = repairable_sample(REGION, today, now)
            import_bytes(node, ADAPTERS["penalty-csv"], csv, iat=now)
            _, st = _repairable(cast(FederationMember, _Member(node)), now)
            assert not st.is_envelope and st.record.kind == "penalty.admin", today


def test_every_day_has_a_repairable_sample() -> None:
    """With seed 3 alone, 10 days from 2026-12-06 to 2029-12-01 (2027-06-06 the first)
    had no organisation's penalty inside its window, and the demo stopped there."""
    start = date(2026, 12, 6)
    for k in range(3 * 365):
        today = start + timedelta(days=k)
        repairable_sample(REGION, today, _noon_cst(today))
