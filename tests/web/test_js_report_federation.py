"""The in-browser report verifier on a federation report (three real nodes over gRPC,
``credex report --federation`` at Hangzhou on a Ningbo company), trusting the federation
manifest chain pinned at version 1, as the explorer's pages do: one part per member log,
each complete; a part cut leaves its log "not covered"; a mirrored record dropped from
Ningbo's part fails step 4 in that part. The Python verifier agrees on each file."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from credex.ledger.dates import cst_day
from credex.ledger.errors import ReportIncompleteError
from credex.ledger.manifest import encode_chain
from credex.ledger.report_verify import verify_report
from credex.ledger.subject_report import sign_report
from credex.node.federation.holdings import Holdings
from credex.node.services.lifecycle import add_lifecycle
from credex.node.services.reports import compile_report
from tests.integration.test_federation import Federation, _federation, _round
from tests.integration.test_report_federation import CST, USCC, _penalty, _unix

from . import jsrunner


@pytest.fixture
def fed3(tmp_path: Path) -> Iterator[Federation]:
    f = _federation(tmp_path, None)
    try:
        yield f
    finally:
        for n in f.nodes:
            n.close()


def test_federation_report_in_the_browser_verifier(fed3: Federation, tmp_path: Path) -> None:
    a, b, c = fed3.nodes  # Ningbo, Hangzhou, Xiamen
    assert a.node is not None and b.node is not None and c.node is not None
    now = int(datetime.now(tz=CST).timestamp())
    [old] = a.node.issue([_penalty(a.home.region, 7, "2025-03-10")], iat=_unix("2025-03-11"))
    [kept] = a.node.issue([_penalty(a.home.region, 8, cst_day(now - 86_400))], iat=now - 86_000)
    c.node.issue([_penalty(c.home.region, 9, cst_day(now - 86_400))], iat=now - 86_000)
    body = {"route": "终止公示行政处罚信息", "decided_on": cst_day(now - 3600)}
    add_lifecycle(a.node, old.leaf_hash, "lifecycle.repair", body, now=now - 3600)
    _round(fed3)
    _round(fed3)
    rep = compile_report(b.node, USCC, now, now, holdings=Holdings.of(b.node))
    cut = sign_report(
        b.home.log_key(), rep.subject, rep.as_of, [p for p in rep.parts if p.origin != c.origin]
    )
    [ningbo] = [p for p in rep.parts if p.origin == a.origin]
    dropped = dataclasses.replace(
        ningbo, entries=tuple(e for e in ningbo.entries if e.index != kept.index), bundles=()
    )
    bad = sign_report(
        b.home.log_key(),
        rep.subject,
        rep.as_of,
        [dropped if p.origin == a.origin else p for p in rep.parts],
    )
    chain = tmp_path / "federation.manifest"
    chain.write_bytes(encode_chain(fed3.manifest.versions))
    pin = fed3.manifest.versions[0].hash.hex()
    cases = []
    for name, r in (("full", rep), ("cut", cut), ("dropped", bad)):
        f = tmp_path / f"{name}.credex-report"
        f.write_bytes(r.to_bytes())
        cases.append({"trust": str(chain), "report": str(f), "pin": pin, "subject": USCC})
    full, part_cut, record_dropped = jsrunner.run("report", {"cases": cases})

    assert full["verdict"] == "valid", full["error"]
    parts = {p["origin"]: p for p in full["parts"]}
    assert set(parts) == {a.origin, b.origin, c.origin} and full["notCovered"] == []
    assert [r["index"] for r in parts[a.origin]["records"]] == [str(kept.index)]
    assert [(w["index"], w["reason"]) for w in parts[a.origin]["withheld"]] == [
        (str(old.index), "repaired")
    ]
    checked = verify_report(rep.to_bytes(), fed3.manifest)
    assert {p.origin: len(p.records) for p in checked.parts} == {
        o: len(p["records"]) for o, p in parts.items()
    }

    assert part_cut["verdict"] == "valid" and part_cut["notCovered"] == [c.origin]
    assert verify_report(cut.to_bytes(), fed3.manifest).not_covered == (c.origin,)

    assert (record_dropped["failedStep"], record_dropped["part"]) == (4, a.origin)
    assert record_dropped["error"]["type"] == "ReportIncompleteError"
    with pytest.raises(ReportIncompleteError):
        verify_report(bad.to_bytes(), fed3.manifest)
