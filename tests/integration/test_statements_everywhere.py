"""Lifecycle statements count wherever they are logged; derived records carry what they
rest on wherever they are handed out; manifest versions travel.

Three real nodes in this process (``small_federation``): Ningbo (A) issues, Hangzhou (B)
repairs A's penalty as a delegate in *its own* log, Xiamen (C) only mirrors both. Each
member's status, sharing (GetBundle, lookups) and the bundles a bank verifies change
everywhere once the repair is mirrored; the delegation itself reaches B and C as a new
manifest version fetched over the Log port. A derived record recognised at B is served
with its source and policy by B's server and, through C, by a forwarded lookup.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from credex.ledger.bundle import Bundle
from credex.ledger.errors import BodyNotHeldError, RecordWithheldError
from credex.ledger.manifest import Delegation, Recognition, add_delegation, add_recognition
from credex.ledger.record import Record, Subject
from credex.ledger.verify import run_verification
from credex.node.federation import manifests as fed
from credex.node.federation.holdings import Holdings, handout
from credex.node.federation.members import PeerForwarder
from credex.node.federation.mirrors import MirrorBundles
from credex.node.services.lifecycle import repair, status_of
from credex.node.services.lookup import Caller, SubjectLookup
from credex.node.services.recognition import add_policy, builtin_policy, recognize

from .small_federation import ORG, Small, now, small_federation

PENALTY = {
    "decision_no": "甬市监罚〔2026〕15号",
    "decision_date": "2026-01-15",
    "penalty_types": ["罚款"],
    "fine_wan": "2",
    "content": "未按规定公示年度报告",
    "authority": "宁波市市场监督管理局",
    "authority_uscc": "11330200MB0000000X",
}
BANK = Caller("bank", "bank", "00" * 32)


@pytest.fixture
def small(tmp_path: Path) -> Iterator[Small]:
    s = small_federation(tmp_path)
    try:
        yield s
    finally:
        s.close()


def _penalty(small: Small) -> tuple[int, bytes]:
    assert small.a.node is not None
    t = now()
    record = Record("penalty.admin", "cn-zj-ningbo", Subject("org", ORG), PENALTY, t)
    r = small.a.node.issue([record], iat=t)[0]
    return r.index, r.leaf_hash


def _new_version(small: Small, body_of) -> int:  # type: ignore[no-untyped-def]
    """A new version proposed at A (its admin), installed there only: the others fetch it."""
    home = small.a.home
    t = now()
    p = fed.propose(home, body_of(fed.load_manifest(home).latest, t), t)
    assert p.installed
    return p.body.version


def _delegate(small: Small, kinds: tuple[str, ...]) -> None:
    version = _new_version(
        small,
        lambda body, t: add_delegation(
            body, Delegation("cn-zj-ningbo", "cn-zj-hangzhou/platform", kinds, 0), t
        ),
    )
    small.rounds(1)  # B and C fetch it from A's server, verify and install it
    for m in small.members:
        assert fed.load_manifest(m.home).latest.version == version


def test_a_delegates_repair_counts_everywhere(small: Small) -> None:
    index, leaf = _penalty(small)
    _delegate(small, ("penalty.admin",))
    small.rounds(1)
    assert small.b.node is not None and small.a.node is not None and small.c.node is not None
    done = repair(small.b.node, leaf, route="fine paid", target_origin=small.a.origin, now=now())
    assert done.result.is_new
    small.rounds(2)
    # the origin's status, from its mirror of B
    _, st = status_of(small.a.node, leaf, now())
    assert st.state == "repaired" and "by cn-zj-hangzhou/platform" in st.reasons[0]
    # and a member that only mirrors both
    _, st = status_of(small.c.node, leaf, now(), target_origin=small.a.origin)
    assert st.state == "repaired"
    # no longer shared: A's own server, C's mirror, C's lookups
    with small.a.client() as anyone, pytest.raises(RecordWithheldError, match="repaired"):
        anyone.get_bundle(index)
    with small.c.client() as anyone, pytest.raises(RecordWithheldError, match="repaired"):
        anyone.get_bundle(index, origin=small.a.origin)
    holdings = Holdings(small.c.node, mirrors=MirrorBundles(small.c.home))
    found = SubjectLookup(small.c.node, holdings=holdings, clock=now).lookup(
        BANK, subject=ORG, purpose="eligibility", authorisation="loan:1"
    )
    (rec,) = [f for f in found.records if f.kind == "penalty.admin"]
    assert rec.bundle is None and rec.withheld is not None and "repaired" in rec.withheld
    # the bundle A's operator hands a bank carries B's repair: refused for punitive use
    h = handout(small.a.node, index, now(), status=True, fresh=True, wait_s=0)
    assert len(h.bundle.status) == 1
    small.rounds(1)  # cosigned
    h = handout(small.a.node, index, now(), status=True)
    report = run_verification(h.bundle.to_bytes(), small.manifest(small.a), purpose="punitive")
    assert report.failed_step == 7 and "repaired" in str(report.error)


def test_a_derived_record_is_handed_out_with_its_source_and_policy(small: Small) -> None:
    a, b, c = small.a, small.b, small.c
    assert a.node is not None and b.node is not None and c.node is not None
    t = now()
    score = {"scheme": "NINGBO_TIANYI_PLACEHOLDER", "score": 700, "band": "placeholder-4",
             "as_of": "2026-11-01"}  # fmt: skip
    person = Subject("person", f"hmac:{a.home.subject_key().key_id}:{'ab' * 32}")
    src = a.node.issue([Record("score.city", "cn-zj-ningbo", person, score, t)], iat=t)[0]
    policy = add_policy(b.node, json.loads(builtin_policy("tianyi_to_qianjiang")), now=t)
    _new_version(
        small,
        lambda body, t: add_recognition(
            body,
            Recognition(
                "cn-zj-hangzhou", "cn-zj-ningbo", ("score.city",), (), (policy.leaf_hash,), 0
            ),
            t,
        ),
    )
    small.rounds(1)
    # a person's record leaves its node with its body only by an authorised lookup (or
    # its operator's hand): the public port serves the envelope, which cannot be converted
    with a.client() as c_a:
        envelope_only = c_a.get_bundle(src.index)
    assert Bundle.from_bytes(envelope_only).preimage is None
    source = a.node.bundle(src.index, now(), with_body=True).to_bytes()
    derived = recognize(b.node, source, policy.leaf_hash, small.manifest(b), now=now())
    small.rounds(2)
    manifest = small.manifest(b)
    # B's public port hands it out with source and policy but, a person's record, without
    # its body: the replay (step 8) needs it, so it is refused by name, not as forged
    with b.client() as anyone:
        served = anyone.get_bundle(derived.result.index)
    bundle = Bundle.from_bytes(served)
    assert len(bundle.sources) == 1 and bundle.policy is not None
    assert bundle.preimage is None
    public = run_verification(served, manifest)
    assert isinstance(public.error, BodyNotHeldError), public.error
    # what `credex bundle` writes for the operator carries the bodies, and verifies
    mine = handout(b.node, derived.result.index, now(), with_body=True).bundle.to_bytes()
    assert run_verification(mine, manifest).ok, run_verification(mine, manifest).error
    # C holds it as a mirror (no sources): its lookup asks B, and the bank gets one that verifies
    holdings = Holdings(c.node, mirrors=MirrorBundles(c.home))
    answer = SubjectLookup(
        c.node, holdings=holdings, clock=now, forward=PeerForwarder(c.home)
    ).lookup(BANK, subject=person.id, purpose="eligibility", authorisation="consent:1")
    (rec,) = [f for f in answer.records if f.kind == "derived.score"]
    assert rec.bundle is not None
    report = run_verification(rec.bundle, manifest)
    assert report.ok, report.error
