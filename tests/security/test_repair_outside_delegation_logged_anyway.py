"""Attack: a member repairs another region's record without a delegation for it.

Hangzhou (B) holds a delegation for Ningbo's (A) court lists only, and tries to repair a
Ningbo *penalty*. Its own node refuses (one named rule, nothing logged). A tampered node
(or another implementation) logs the repair anyway: every member that mirrors B's log finds
it and ignores it with the reason, so the penalty stays active, shared, served by lookups,
and a bank's ``verify --purpose punitive`` still accepts it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from integration.small_federation import ORG, Small, now, small_federation

from credex.ledger.errors import UnauthorisedRepairError
from credex.ledger.manifest import Delegation, add_delegation
from credex.ledger.record import Record, Subject
from credex.ledger.verify import run_verification
from credex.node.federation import manifests as fed
from credex.node.federation.holdings import Holdings, handout
from credex.node.federation.mirrors import MirrorBundles
from credex.node.services.lifecycle import repair, status_of
from credex.node.services.lookup import Caller, SubjectLookup

PENALTY = {
    "decision_no": "甬市监罚〔2026〕15号",
    "decision_date": "2026-01-15",
    "penalty_types": ["罚款"],
    "fine_wan": "2",
    "content": "未按规定公示年度报告",
    "authority": "宁波市市场监督管理局",
    "authority_uscc": "11330200MB0000000X",
}


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Small]:
    s = small_federation(tmp_path)
    try:
        yield s
    finally:
        s.close()


def test_repair_outside_delegation_is_refused_then_ignored_everywhere(small: Small) -> None:
    a, b, c = small.a, small.b, small.c
    assert a.node is not None and b.node is not None and c.node is not None
    t = now()
    penalty = a.node.issue(
        [Record("penalty.admin", "cn-zj-ningbo", Subject("org", ORG), PENALTY, t)], iat=t
    )[0]
    home = a.home
    delegation = Delegation(
        "cn-zj-ningbo", "cn-zj-hangzhou/platform", ("court.dishonest-debtor",), 0
    )
    p = fed.propose(home, add_delegation(fed.load_manifest(home).latest, delegation, t), t)
    assert p.installed
    small.rounds(2)
    # refused at the delegate: the rule is named and nothing is logged
    before = b.node.log.size
    with pytest.raises(UnauthorisedRepairError, match="only the issuer that made the finding"):
        repair(b.node, penalty.leaf_hash, route="paid", target_origin=a.origin, now=now())
    assert b.node.log.size == before
    # logged anyway, bypassing the node's check
    forged = Record(
        "lifecycle.repair",
        "cn-zj-hangzhou",  # a record's region is its issuer's (F6)
        Subject("org", ORG),
        {"route": "paid", "decided_on": "2026-11-01"},
        now(),
        refs=(penalty.leaf_hash,),
    )
    b.node.issue([forged], iat=now())
    small.rounds(2)
    for viewer, origin in ((a, None), (c, a.origin)):
        assert viewer.node is not None
        _, st = status_of(viewer.node, penalty.leaf_hash, now(), target_origin=origin)
        assert st.state == "active", st.reasons
        assert any(
            r.startswith("ignored lifecycle.repair")
            and "only the issuer that made the finding" in r
            for r in st.reasons
        ), st.reasons
    with a.client() as anyone:
        anyone.get_bundle(penalty.index)  # still shared by the origin
    with c.client() as anyone:
        anyone.get_bundle(penalty.index, origin=a.origin)  # and by a mirror
    holdings = Holdings(c.node, mirrors=MirrorBundles(c.home))
    answer = SubjectLookup(c.node, holdings=holdings, clock=now).lookup(
        Caller("bank", "bank", "00" * 32),
        subject=ORG,
        purpose="eligibility",
        authorisation="loan:1",
    )
    (rec,) = [f for f in answer.records if f.kind == "penalty.admin"]
    assert rec.bundle is not None and rec.withheld is None
    # the bank's bundle carries the forged repair; its verifier ignores it too
    h = handout(a.node, penalty.index, now(), status=True)
    assert len(h.bundle.status) == 1
    report = run_verification(h.bundle.to_bytes(), small.manifest(a), purpose="punitive")
    assert report.ok, report.error
