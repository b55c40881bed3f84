"""``credex report --federation`` across three real nodes (gRPC sync, witness cosignatures,
SQLite and PostgreSQL): Hangzhou's report on a Ningbo company has one part per member log,
each complete under its own index proof; the repaired penalty is withheld with its reason;
a part cut from the report leaves that region "not covered"."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from credex.ledger.dates import cst_day
from credex.ledger.errors import ReportIncompleteError
from credex.ledger.record import Record, Subject
from credex.ledger.report_verify import verify_report
from credex.ledger.subject_report import sign_report
from credex.node.federation.holdings import Holdings
from credex.node.services.lifecycle import add_lifecycle
from credex.node.services.reports import compile_report

from .test_federation import Federation, _federation, _round

USCC = "91330100MA0YX0016X"
CST = timezone(timedelta(hours=8))


def _unix(d: str) -> int:
    return int(datetime.fromisoformat(d).replace(tzinfo=CST).timestamp())


def _penalty(region: str, number: int, decision: str) -> Record:
    body: dict[str, object] = {
        "decision_no": f"甬市监罚〔2026〕{number}号",
        "decision_date": decision,
        "penalty_types": ["罚款"],
        "content": "罚款",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": "11330200MB1234567X",
    }
    return Record("penalty.admin", region, Subject("org", USCC), body, _unix(decision))


@pytest.fixture
def fed3(tmp_path: Path, store_url: str) -> Iterator[Federation]:
    f = _federation(tmp_path, None if store_url.startswith("sqlite") else store_url)
    try:
        yield f
    finally:
        for n in f.nodes:
            n.close()


def test_a_federation_report_covers_every_member_log(fed3: Federation) -> None:
    a, b, c = fed3.nodes  # Ningbo, Hangzhou, Xiamen
    assert a.node is not None and b.node is not None and c.node is not None
    now = int(datetime.now(tz=CST).timestamp())
    [old] = a.node.issue([_penalty(a.home.region, 7, "2025-03-10")], iat=_unix("2025-03-11"))
    a.node.issue([_penalty(a.home.region, 8, cst_day(now - 86_400))], iat=now - 86_000)
    c.node.issue([_penalty(c.home.region, 9, cst_day(now - 86_400))], iat=now - 86_000)
    body = {"route": "终止公示行政处罚信息", "decided_on": cst_day(now - 3600)}
    add_lifecycle(a.node, old.leaf_hash, "lifecycle.repair", body, now=now - 3600)
    _round(fed3)
    _round(fed3)
    rep = compile_report(b.node, USCC, now, now, holdings=Holdings.of(b.node))
    checked = verify_report(rep.to_bytes(), fed3.manifest)
    parts = {p.origin: p for p in checked.parts}
    assert set(parts) == {a.origin, b.origin, c.origin}
    assert checked.not_covered == ()
    ningbo = parts[a.origin]
    [in_force] = ningbo.records
    assert [(w.index, w.state) for w in ningbo.withheld] == [(old.index, "repaired")]
    assert len(parts[c.origin].records) == 1 and not parts[b.origin].records
    # a part dropped: the rest still verifies, and the region shows as not covered
    keep = [p for p in rep.parts if p.origin != c.origin]
    cut = sign_report(b.home.log_key(), rep.subject, rep.as_of, keep)
    assert verify_report(cut.to_bytes(), fed3.manifest).not_covered == (c.origin,)
    # a mirrored record dropped from Ningbo's part: caught by Ningbo's own index proof
    [ningbo_part] = [p for p in rep.parts if p.origin == a.origin]
    entries = tuple(e for e in ningbo_part.entries if e.index != in_force.index)
    dropped = dataclasses.replace(ningbo_part, entries=entries, bundles=())
    parts_cut = [dropped if p.origin == a.origin else p for p in rep.parts]
    bad = sign_report(b.home.log_key(), rep.subject, rep.as_of, parts_cut)
    with pytest.raises(ReportIncompleteError, match="not the ones the index lists"):
        verify_report(bad.to_bytes(), fed3.manifest)
