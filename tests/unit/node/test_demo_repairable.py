"""The demo's lifecycle step picks a Ningbo penalty it can repair from the sample data of
the day. A person's penalty is logged as a hash envelope (its body off-log), so the pick
must skip it rather than read its record: on 2026-12-06 (CST) the first penalty past its
minimum publication window was a person's, and the whole demo failed with
``BodyNotHeldError``. The sample data is generated relative to the day the demo runs, so
the pick is checked over two years of days."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import cast

from credex.adapters import ADAPTERS
from credex.adapters.sample import penalty_csv
from credex.ledger.dates import cst_day
from credex.ledger.errors import CredexError
from credex.node.demo.federation import FederationMember
from credex.node.demo.recognition import _repairable
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
            csv = penalty_csv(REGION, rows=12, seed=3, reference_date=today)
            import_bytes(node, ADAPTERS["penalty-csv"], csv, iat=now)
            try:
                _, st = _repairable(cast(FederationMember, _Member(node)), now)
            except CredexError as e:
                # a few days in two years have no organisation's penalty inside its
                # window in the sample data: the demo says so in one line
                assert k > 0 and "no repairable penalty" in str(e), (today, e)
                continue
            assert not st.is_envelope and st.record.kind == "penalty.admin", today
