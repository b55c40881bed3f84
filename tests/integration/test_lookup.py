"""Bank lookups across a federation of three real nodes, and sharing stopping after repair.

Ningbo (A) logs a penalty on one company; Hangzhou (B) and Xiamen (C) mirror it. A bank
registered at Hangzhou asks Hangzhou (mTLS, role ``bank``) for everything on that USCC:
it gets Ningbo's penalty from Hangzhou's mirror as a bundle that verifies offline against
the manifest, and Hangzhou logs an ``audit.lookup``. Ningbo, mirroring Hangzhou, lists the
lookup. Lookups without authorisation are refused with a named error and log nothing.
After Ningbo repairs the penalty and Hangzhou syncs again, Hangzhou withholds it (lookup
and GetBundle), its leaf still in the log, and Ningbo's own GetBundle refuses it as well.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from credex.adapters.sample import score_records
from credex.ledger.bundle import Bundle
from credex.ledger.errors import (
    IdentifierError,
    LookupNotAuthorisedError,
    PolicyError,
    RecordWithheldError,
)
from credex.ledger.manifest import encode_chain
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement
from credex.ledger.verify import run_verification, verify_bundle
from credex.node import federation as federate
from credex.node.rpc.client import PeerClient
from credex.node.rpc.tls import NodeTls
from credex.node.services.audit import lookups_of
from credex.node.services.lifecycle import add_lifecycle

from .clirunner import make_cli
from .test_federation import Federation, Node, _drop_mirror_schemas, _federation, _round

USCC = "91330100MA0YX0016X"
CST = timezone(timedelta(hours=8))


def _unix(d: str) -> int:
    x = date.fromisoformat(d)
    return int(datetime(x.year, x.month, x.day, tzinfo=CST).timestamp())


def _penalty(decision: str) -> Record:
    body: dict[str, object] = {
        "decision_no": "甬市监罚〔2026〕7号",
        "decision_date": decision,
        "penalty_types": ["罚款"],
        "content": "罚款",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": "11330200MB1234567X",
    }
    return Record("penalty.admin", "cn-zj-ningbo", Subject("org", USCC), body, _unix(decision))


def _bank(n: Node, name: str = "bank-of-ningbo", role: str = "bank") -> PeerClient:
    tls = NodeTls(n.home.path, name=n.home.region)
    key, cert, _ = tls.issue_client(name, role, now=int(time.time()))
    return PeerClient(
        n.public, ca_pem=tls.ca_pem(), client_cert=cert, client_key=key, mtls_endpoint=n.mtls
    )


@pytest.fixture
def fed3(tmp_path: Path, store_url: str) -> Iterator[Federation]:
    f = _federation(tmp_path, None if store_url.startswith("sqlite") else store_url)
    try:
        yield f
    finally:
        for n in f.nodes:
            n.close()
        if not store_url.startswith("sqlite"):
            _drop_mirror_schemas(store_url)


def test_bank_lookup_across_the_federation_is_audited(fed3: Federation) -> None:
    a, b, _ = fed3.nodes
    assert a.node is not None and b.node is not None
    (penalty,) = a.node.issue([_penalty("2026-05-10")], iat=_unix("2026-05-11"))
    _round(fed3)
    with _bank(b) as bank:
        answer = bank.lookup(subject=USCC, purpose="eligibility", authorisation="loan:HZ-2026-0042")
    assert answer.subject == USCC
    (found,) = answer.records
    assert (found.origin, found.leaf_index, found.kind) == (
        a.origin,
        penalty.index,
        "penalty.admin",
    )
    assert found.withheld is None and found.bundle is not None
    report = verify_bundle(found.bundle, fed3.manifest)
    assert report.ok and report.status == "active", report.to_json_value()
    # the lookup itself is logged at Hangzhou, about the subject, naming the bank
    entry = b.node.log.entry(answer.audit_index)
    assert entry.leaf_hash == answer.audit_leaf_hash and entry.kind == "audit.lookup"
    audit = Statement.from_bytes(entry.leaf)
    assert audit.claims.sub == USCC
    assert audit.record.body["client"] == "bank-of-ningbo"
    assert audit.record.body["authorisation"] == "loan:HZ-2026-0042"
    assert audit.record.body["purpose"] == "eligibility"
    assert audit.record.body["records"] == 1 and audit.record.body["withheld"] == 0
    # Ningbo, the subject's region, mirrors Hangzhou and lists the lookup
    _round(fed3)
    listed = lookups_of(a.node, Subject("org", USCC), federate.MirrorBundles(a.home))
    assert [(x.origin, x.client, x.purpose, x.authorisation) for x in listed] == [
        (b.origin, "bank-of-ningbo", "eligibility", "loan:HZ-2026-0042")
    ]
    assert listed[0].client_sha256 == audit.record.body["client_sha256"]


def test_unauthorised_lookups_are_refused_and_log_nothing(fed3: Federation) -> None:
    a, b, _ = fed3.nodes
    assert a.node is not None and b.node is not None
    a.node.issue([_penalty("2026-05-10")], iat=_unix("2026-05-11"))
    _round(fed3)
    size = b.node.log.size
    with _bank(b) as bank:
        with pytest.raises(LookupNotAuthorisedError, match=r"authorisation reference .* required"):
            bank.lookup(subject=USCC, purpose="eligibility", authorisation="")
        with pytest.raises(LookupNotAuthorisedError, match=r"role bank may not .* punitive use"):
            bank.lookup(subject=USCC, purpose="punitive", authorisation="case:1")
        with pytest.raises(LookupNotAuthorisedError, match=r"must be 1-128 characters"):
            bank.lookup(subject=USCC, purpose="eligibility", authorisation="a b")
        with pytest.raises(IdentifierError):
            bank.lookup(subject="91330100MA0YX0016Y", purpose="eligibility", authorisation="x1")
    # a client whose certificate is not registered at Hangzhou (issued by Ningbo's CA)
    tls_a = NodeTls(a.home.path, name=a.home.region)
    key, cert, _ = tls_a.issue_client("stranger", "bank", now=int(time.time()))
    b_ca = NodeTls(b.home.path, name=b.home.region).ca_pem()
    with PeerClient(
        b.public, ca_pem=b_ca, client_cert=cert, client_key=key, mtls_endpoint=b.mtls
    ) as stranger:
        with pytest.raises(Exception) as e:  # refused at the handshake or by fingerprint
            stranger.lookup(subject=USCC, purpose="eligibility", authorisation="x1")
        assert not isinstance(e.value, AssertionError)
    # the public port offers no lookups
    with b.client() as anon:
        with pytest.raises(Exception, match=r"client certificate required|unauthenticated"):
            PeerClient(b.public, ca_pem=b_ca, mtls_endpoint=b.public).lookup(
                subject=USCC, purpose="eligibility", authorisation="x1"
            )
        del anon
    assert b.node.log.size == size


def test_repaired_record_is_withheld_by_the_issuer_and_by_mirrors(fed3: Federation) -> None:
    a, b, _ = fed3.nodes
    assert a.node is not None and b.node is not None
    (penalty,) = a.node.issue([_penalty("2026-05-10")], iat=_unix("2026-05-11"))
    _round(fed3)
    with b.client() as anyone:
        before = anyone.get_bundle(penalty.index, origin=a.origin)
    assert verify_bundle(before, fed3.manifest).ok
    now = int(time.time())
    today = datetime.fromtimestamp(now, CST).date().isoformat()
    add_lifecycle(
        a.node,
        penalty.leaf_hash,
        "lifecycle.repair",
        {"route": "终止公示行政处罚信息", "decided_on": today},
        now=now,
    )
    _round(fed3)
    # Hangzhou mirrored the repair: its lookup lists the record as withheld, with the reason
    with _bank(b) as bank:
        answer = bank.lookup(subject=USCC, purpose="eligibility", authorisation="loan:1")
    (found,) = answer.records
    assert found.bundle is None and found.withheld is not None
    assert "no longer shared (repaired: repaired on" in found.withheld
    # GetBundle refuses it at the mirror and at the issuer; the leaf stays in both logs
    with b.client() as anyone, pytest.raises(RecordWithheldError, match="no longer shared"):
        anyone.get_bundle(penalty.index, origin=a.origin)
    with a.client() as anyone:
        with pytest.raises(RecordWithheldError, match="its leaf stays in the log"):
            anyone.get_bundle(penalty.index)
        leaves = [
            x for batch in anyone.get_entries(penalty.index, penalty.index + 1) for x in batch
        ]
    assert Statement.from_bytes(leaves[0]).leaf_hash == penalty.leaf_hash
    # the bundle the bank held from before fails for punitive use once it has the status
    with_status = a.node.bundle_with_status(penalty.index, int(time.time()))
    report = run_verification(with_status.to_bytes(), fed3.manifest)
    assert report.failed_step == 7 and "repaired" in str(report.error)
    with pytest.raises(PolicyError, match=r"not usable for punitive.*repaired"):
        verify_bundle(with_status.to_bytes(), fed3.manifest, purpose="punitive")


def test_lookup_and_lookups_commands(
    fed3: Federation,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli = make_cli(capsys, monkeypatch)
    a, b, _ = fed3.nodes
    assert a.node is not None and b.node is not None
    (penalty,) = a.node.issue([_penalty("2026-05-10")], iat=_unix("2026-05-11"))
    _round(fed3)
    creds = tmp_path / "bank"
    r = cli("client", "add", "bank-x", "--role", "bank", "-o", creds, "--home", b.home.path)
    assert r.code == 0, r.err
    manifest = tmp_path / "manifest.cbor"
    manifest.write_bytes(encode_chain(fed3.manifest.versions))
    common = ["--endpoint", b.mtls, "--ca", creds / "ca.pem", "--cert", creds / "bank-x.pem"]
    common += ["--key", creds / "bank-x.key", "--subject", USCC]
    out = tmp_path / "got"
    r = cli("lookup", *common, "--authorisation", "loan:7", "-o", out, "--trust", manifest)
    assert r.code == 0, r.err
    assert f"{USCC}: 1 served, 0 withheld" in r.out
    assert f"{a.origin} #{penalty.index} penalty.admin: valid" in r.out
    (written,) = out.iterdir()
    assert verify_bundle(written.read_bytes(), fed3.manifest).ok
    # refused: no authorisation reference; nothing is logged
    size = b.node.log.size
    r = cli("lookup", *common, "--authorisation", "", "--json")
    assert r.code == 1 and "authorisation reference" in r.err
    assert b.node.log.size == size
    # Ningbo lists the lookup once it has mirrored Hangzhou
    _round(fed3)
    r = cli("lookups", "--subject", USCC, "--home", a.home.path, "--json")
    assert r.code == 0, r.err
    (listed,) = r.json["lookups"]
    assert (listed["client"], listed["authorisation"], listed["records"]) == ("bank-x", "loan:7", 1)
    assert listed["origin"] == b.origin


def test_person_lookup_is_forwarded_to_the_node_that_holds_the_body(fed3: Federation) -> None:
    """Hangzhou mirrors only the hash envelope of a Ningbo resident's score; asked by a
    bank, it asks Ningbo (mTLS, as a peer, with the pseudonym only) for the body."""
    a, b, _ = fed3.nodes
    assert a.node is not None and b.node is not None
    (rec,) = score_records(a.home.region, a.home.subject_key(), 1, seed=5, as_of=date.today())
    (score,) = a.node.issue([rec], iat=int(time.time()))
    _round(fed3)
    mirrored = b.node.log.size
    with _bank(b) as bank:
        answer = bank.lookup(
            subject=rec.subject.id, purpose="eligibility", authorisation="consent:HZ-9"
        )
    (found,) = answer.records
    assert (found.origin, found.leaf_index, found.kind) == (a.origin, score.index, "score.city")
    assert found.withheld is None and found.bundle is not None
    assert Bundle.from_bytes(found.bundle).preimage is not None
    report = verify_bundle(found.bundle, fed3.manifest, purpose="eligibility")
    assert report.ok and report.kind == "score.city", report.to_json_value()
    # both nodes logged the lookup: Hangzhou (the bank) and Ningbo (Hangzhou, as a peer)
    assert b.node.log.size == mirrored + 1
    mine = Statement.from_bytes(b.node.log.entry(answer.audit_index).leaf)
    assert mine.record.body["client"] == "bank-of-ningbo"
    audits = a.node.log.by_subject(rec.subject.id, ("audit.lookup",))
    (theirs,) = [Statement.from_bytes(e.leaf) for e in audits]
    assert theirs.record.body["client"] == f"peer-{b.home.region}"
    assert theirs.record.body["authorisation"] == "consent:HZ-9"
