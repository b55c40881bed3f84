"""Finding 6: recognition bypassed by a self-declared region.

``record.region`` (FORMATS.md: "issuing region id") was never bound to the region of the
issuer that signed it. A Hangzhou issuer could sign a derived record that declares the
*source's* region (Ningbo): step 8 then saw no cross-region recognition and skipped the
agreement check. Now a record's region must be its signing issuer's region in the trust
material (the manifest member listing the issuer, or the trust file entry): verify step
2, Submit, ``LocalNode.issue``, peer sync (so lookups and recognition, which read only
verified views) and conflict detection all refuse or ignore a record that lies about it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from integration.test_federation import (
    Federation,
    _drop_mirror_schemas,
    _federation,
    _round,
)

from credex.adapters.sample import score_records
from credex.ledger.bundle import Bundle
from credex.ledger.derive import build_derived_record
from credex.ledger.errors import RecognitionRefusedError, RegionMismatchError
from credex.ledger.log import NewLeaf
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement, sign_statement
from credex.ledger.verify import run_verification
from credex.node import federation as federate
from credex.node.demo.recognition import TIANYI_POLICY
from credex.node.federation.peers import PeerRegistry
from credex.node.local import LocalNode, find_statement
from credex.node.services.conflicts import node_conflicts
from credex.node.services.recognition import add_policy, recognize

from .support import T0, db_of, make_home, serve

COMPANY = Subject("org", "91330100MA0YX0016X")


def _now() -> int:
    return int(time.time())


@pytest.fixture
def fed(tmp_path: Path, store_url: str) -> Iterator[Federation]:
    f = _federation(tmp_path, db_of(store_url))
    try:
        yield f
    finally:
        for n in f.nodes:
            n.close()
        if db_of(store_url) is not None:
            _drop_mirror_schemas(store_url)


def test_a_derived_record_claiming_the_source_region_is_refused(fed: Federation) -> None:
    ningbo, hangzhou, xiamen = fed.nodes
    assert ningbo.node is not None and hangzhou.node is not None
    now = _now()
    scores = score_records(ningbo.home.region, ningbo.home.subject_key(), 3, as_of=date.today())
    ningbo.node.issue(scores, iat=now)
    _round(fed)
    score = ningbo.node.log.size - 1  # a person's 天一分 score (entry 0 is the manifest)
    source_b = ningbo.node.bundle(score, now, with_body=True)
    source = Statement.from_bytes(source_b.statement, source_b.preimage)
    policy = add_policy(hangzhou.node, TIANYI_POLICY, now=now)
    # the honest path: Hangzhou has no agreement to recognise Ningbo's scores
    with pytest.raises(RecognitionRefusedError):
        recognize(hangzhou.node, source_b.to_bytes(), policy.leaf_hash, fed.manifest, now=now)
    # the attack: Hangzhou's platform key signs a derived score that says it is Ningbo's
    _, policy_st = find_statement(hangzhou.node, policy.leaf_hash)
    derived = build_derived_record(
        policy_st.record, policy.leaf_hash, [(source.record, source.leaf_hash)], "cn-zj-ningbo", now
    )
    home = hangzhou.home
    key = home.issuer_signing_key(home.platform_issuer, derived.kind, now)
    forged = sign_statement(derived, home.platform_issuer, key, now)
    with pytest.raises(RegionMismatchError):  # its own node does not sign that
        hangzhou.node.issue([derived], iat=now)
    hangzhou.node.append([forged])  # an attacker's node logs it anyway; witnesses cosign
    assert hangzhou.collect(fed.manifest) == {}
    index = hangzhou.node.log.index_of(forged.leaf_hash)
    own = hangzhou.node.bundle(index, now, with_body=True)
    policy_b = hangzhou.node.bundle(hangzhou.node.log.index_of(policy.leaf_hash), now)
    bundle = Bundle(
        own.statement, own.checkpoint, sources=(source_b,), policy=policy_b, preimage=own.preimage
    )
    report = run_verification(bundle.to_bytes(), fed.manifest)
    assert report.failed_step == 2, report.to_json_value()
    assert isinstance(report.error, RegionMismatchError)
    assert "cn-zj-hangzhou" in str(report.error) and "cn-zj-ningbo" in str(report.error)
    # a mirror holds a person's record as its envelope only: the region is in the body, so
    # the bank's step 2 above is where it is caught. A record in the clear that lies about
    # its region is caught by every mirror: nothing from it on is mirrored
    key = home.issuer_signing_key(home.platform_issuer, "list.black", now)
    lie = sign_statement(_listing("list.black", "cn-zj-ningbo"), home.platform_issuer, key, now)
    hangzhou.node.append([lie])
    assert hangzhou.collect(fed.manifest) == {}
    for follower in (ningbo, xiamen):
        r = federate.sync_peer(follower.home, hangzhou.origin, _now(), manifest=fed.manifest)
        assert r.error is not None and "region" in r.error, r
        status = PeerRegistry(follower.home).get(hangzhou.origin).status
        assert status["mirrored_size"] == hangzhou.node.log.index_of(lie.leaf_hash)


def test_submit_and_issue_refuse_a_record_of_another_region(tmp_path: Path, store_url: str) -> None:
    home = make_home(tmp_path / "ningbo", db=db_of(store_url))
    home.add_issuer("cn-zj-hangzhou/court", ["list.black"], valid_from=0, valid_until=None)
    record = Record(
        "list.black",
        "cn-zj-ningbo",  # a Hangzhou court's finding, declared as Ningbo's
        COMPANY,
        {"list_name": "示例名单", "authority": "示例局", "listed_on": "2026-01-05", "reason": "x"},
        T0,
    )
    key = home.issuer_signing_key("cn-zj-hangzhou/court", "list.black", T0)
    data = sign_statement(record, "cn-zj-hangzhou/court", key, T0).to_bytes()
    with serve(home) as s:
        with s.registered("court-tool", "issuer") as c, pytest.raises(RegionMismatchError) as e:
            c.submit([data])
        assert "\n" not in str(e.value)
        with pytest.raises(RegionMismatchError):
            s.node.issue([record], issuer_id="cn-zj-hangzhou/court", iat=T0)
        assert s.node.log.size == 0


def _listing(kind: str, region: str) -> Record:
    body = {"list_name": "示例名单", "authority": "示例局", "listed_on": "2026-01-05"}
    if kind == "list.black":
        body["reason"] = "严重失信"
    return Record(kind, region, COMPANY, body, T0 - 150 * 86_400)


def test_conflicts_do_not_believe_a_declared_region(tmp_path: Path) -> None:
    """A log that already holds a mislabelled record (logged before this check, or by a
    node that skips it): conflict detection does not attribute it to the claimed region."""
    home = make_home(tmp_path / "ningbo")
    with LocalNode(home) as node:
        node.issue([_listing("list.red", "cn-zj-ningbo")], iat=T0)
        key = home.issuer_signing_key(home.platform_issuer, "list.black", T0)
        lie = sign_statement(
            _listing("list.black", "cn-zj-hangzhou"), home.platform_issuer, key, T0
        )
        node.log.append_many(
            [NewLeaf(lie.leaf, lie.kind, lie.claims.iss, T0, None, lie.claims.sub)]
        )
    report = node_conflicts(home, T0 + 86_400)
    assert report.conflicts == ()
    assert report.not_comparable >= 1


def test_bad_input_one_named_error_and_nothing_stored(tmp_path: Path) -> None:
    home = make_home(tmp_path / "ningbo")
    with LocalNode(home) as node:
        with pytest.raises(RegionMismatchError) as e:
            node.issue([_listing("list.red", "cn-zj-hangzhou")], iat=T0)
        assert e.value.code == "region_mismatch" and "\n" not in str(e.value)
        assert node.log.size == 0
