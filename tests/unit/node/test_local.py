"""LocalNode on SQLite and PostgreSQL: issue, checkpoints, bundles, submit."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from credex.adapters.sample import sample_usccs, score_records
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import SignedNote, verify_note_signature
from credex.ledger.errors import (
    KindNotAuthorisedError,
    OutOfRangeError,
    PolicyError,
    SignatureError,
    UntrustedKeyError,
)
from credex.ledger.keys import SigningKey
from credex.ledger.merkle import verify_consistency
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement, sign_statement
from credex.ledger.verify import verify_bundle
from credex.node.home import NodeHome
from credex.node.local import LocalNode

REGION = "cn-zj-ningbo"
ORIGIN = "credex.ningbo.example/log"
T0 = 1_780_272_000  # 2026-06-01T00:00:00Z
AS_OF = date(2026, 5, 31)


@pytest.fixture
def home(tmp_path: Path, store_url: str) -> NodeHome:
    return NodeHome.init(
        tmp_path / "home",
        region=REGION,
        origin=ORIGIN,
        db=store_url,
        now=T0,
        log_seed=b"\x01" * 32,
        subject_secret=b"\x02" * 32,
        platform_seed=b"\x03" * 32,
    )


@pytest.fixture
def node(home: NodeHome) -> Iterator[LocalNode]:
    with LocalNode(home) as n:
        yield n


def _scores(home: NodeHome, n: int, seed: int = 0) -> list[Record]:
    return score_records(REGION, home.subject_key(), n, seed=seed, as_of=AS_OF)


def _rating(code: str) -> Record:
    return Record(
        kind="rating.enterprise",
        region=REGION,
        subject=Subject("org", code),
        body={"scheme": "tax", "grade": "A", "rated_on": "2026-04-01", "rater": "税务局"},
        valid_from=T0 - 86400,
    )


def test_issue_bundle_verify(node: LocalNode, home: NodeHome) -> None:
    results = node.issue(_scores(home, 4), iat=T0)
    assert [r.index for r in results] == [0, 1, 2, 3]
    assert all(r.is_new and r.kind == "score.city" for r in results)
    trust = home.trust()
    for r in results:
        data = node.bundle(r.index, T0, with_body=True).to_bytes()
        report = verify_bundle(data, trust)
        assert report.leaf_index == r.index
        assert report.tree_size == 4
        assert report.leaf_hash == r.leaf_hash.hex()
        assert report.issuer == home.platform_issuer
        assert report.subject.startswith("hmac:")
        assert report.origin == ORIGIN


def test_issue_is_idempotent(node: LocalNode, home: NodeHome) -> None:
    recs = _scores(home, 3)
    first = node.issue(recs, iat=T0)
    again = node.issue(recs, iat=T0 + 3600)  # a later iat: still the same records
    assert [r.index for r in again] == [r.index for r in first]
    assert [r.leaf_hash for r in again] == [r.leaf_hash for r in first]
    assert not any(r.is_new for r in again)
    assert node.log.size == 3
    # a mixed batch: known ones keep their index, new ones are appended in order
    mixed = [recs[1], *_scores(home, 2, seed=9), recs[0]]
    out = node.issue(mixed, iat=T0)
    assert [r.index for r in out] == [1, 3, 4, 0]
    assert [r.is_new for r in out] == [False, True, True, False]
    assert node.log.size == 5


def test_issue_same_record_twice_in_one_batch(node: LocalNode, home: NodeHome) -> None:
    [rec] = _scores(home, 1)
    out = node.issue([rec, rec], iat=T0)
    assert out[0].index == out[1].index == 0
    assert node.log.size == 1


def test_issue_by_another_issuer_is_a_separate_record(node: LocalNode, home: NodeHome) -> None:
    home.add_issuer(
        f"{REGION}/tax", ["rating.enterprise"], valid_from=0, valid_until=None, seed=b"\x04" * 32
    )
    rec = _rating(sample_usccs(REGION, 1)[0])
    a = node.issue([rec], iat=T0)
    b = node.issue([rec], issuer_id=f"{REGION}/tax", iat=T0)
    assert (a[0].index, b[0].index) == (0, 1)
    report = verify_bundle(node.bundle(1, T0, with_body=True).to_bytes(), home.trust())
    assert report.issuer == f"{REGION}/tax"
    with pytest.raises(KindNotAuthorisedError):
        node.issue(_scores(home, 1), issuer_id=f"{REGION}/tax", iat=T0)
    assert node.log.size == 2


def test_publish_checkpoint(node: LocalNode, home: NodeHome) -> None:
    node.issue(_scores(home, 3), iat=T0)
    first = node.publish_checkpoint(T0)
    assert first.checkpoint.size == 3
    verify_note_signature(first, ORIGIN, home.log_key().public_key)
    same = node.publish_checkpoint(T0 + 60)
    assert same.to_text() == first.to_text()
    assert node.latest_checkpoint() is not None
    assert node.latest_checkpoint().to_text() == first.to_text()  # type: ignore[union-attr]
    node.issue(_scores(home, 4, seed=1), iat=T0 + 120)
    grown = node.publish_checkpoint(T0 + 120)
    assert grown.checkpoint.size == 7
    assert grown.to_text() != first.to_text()
    verify_note_signature(grown, ORIGIN, home.log_key().public_key)
    proof = node.log.consistency_proof(3, 7)
    verify_consistency(3, 7, first.checkpoint.root, grown.checkpoint.root, proof)
    assert node.checkpoint_at(3).to_text() == first.to_text()
    assert node.checkpoint_at(7).to_text() == grown.to_text()


def test_bundle_publishes_a_checkpoint_when_needed(node: LocalNode, home: NodeHome) -> None:
    node.issue(_scores(home, 2), iat=T0)
    assert node.latest_checkpoint() is None
    b = node.bundle(1, T0, with_body=True)
    assert SignedNote.from_text(b.checkpoint).checkpoint.size == 2
    assert node.latest_checkpoint() is not None
    # a later entry beyond the latest checkpoint gets a new one; earlier ones reuse it
    node.issue(_scores(home, 1, seed=3), iat=T0)
    b2 = node.bundle(2, T0, with_body=True)
    assert SignedNote.from_text(b2.checkpoint).checkpoint.size == 3
    b0 = node.bundle(0, T0, with_body=True)
    assert b0.checkpoint == b2.checkpoint
    for bb in (b, b2, b0):
        verify_bundle(bb.to_bytes(), home.trust())


@pytest.mark.parametrize("index", [-1, 3, 99], ids=["negative", "size", "far"])
def test_bundle_out_of_range(node: LocalNode, home: NodeHome, index: int) -> None:
    node.issue(_scores(home, 3), iat=T0)
    with pytest.raises(OutOfRangeError, match="out of range"):
        node.bundle(index, T0, with_body=True)


def test_bundle_on_empty_log(node: LocalNode) -> None:
    with pytest.raises(OutOfRangeError, match="expected < 0, got 0"):
        node.bundle(0, T0, with_body=True)


def test_submit_registered_issuer(node: LocalNode, home: NodeHome) -> None:
    court = f"{REGION}/court"
    home.add_issuer(
        court, ["court.dishonest-debtor"], valid_from=T0 - 10, valid_until=None, seed=b"\x05" * 32
    )
    rec = Record(
        kind="court.dishonest-debtor",
        region=REGION,
        subject=Subject("org", sample_usccs(REGION, 1)[0]),
        body={
            "court": "宁波市中级人民法院",
            "case_no": "（2026）浙02执1号",
            "filed_on": "2026-01-05",
            "listed_on": "2026-02-01",
        },
        valid_from=T0 - 86400,
    )
    st = sign_statement(rec, court, SigningKey(b"\x05" * 32), T0)
    res = node.submit(st.to_bytes(), now=T0)
    assert (res.index, res.is_new, res.kind) == (0, True, "court.dishonest-debtor")
    assert res.leaf_hash == st.leaf_hash
    assert node.submit(st.to_bytes(), now=T0).index == 0  # resubmitting is idempotent
    assert node.log.size == 1
    report = verify_bundle(node.bundle(0, T0, with_body=True).to_bytes(), home.trust())
    assert report.issuer == court
    # the same statement, resigned before the key's window: refused by policy
    early = sign_statement(rec, court, SigningKey(b"\x05" * 32), T0 - 100)
    with pytest.raises(PolicyError):
        node.submit(early.to_bytes(), now=T0)
    assert node.log.size == 1


def test_submit_unknown_key_is_untrusted(node: LocalNode, home: NodeHome) -> None:
    [rec] = _scores(home, 1)
    stranger = sign_statement(rec, home.platform_issuer, SigningKey(b"\x09" * 32), T0)
    with pytest.raises(UntrustedKeyError, match="not registered"):
        node.submit(stranger.to_bytes(), now=T0)
    assert node.log.size == 0


def test_submit_bad_signature(node: LocalNode, home: NodeHome) -> None:
    [rec] = _scores(home, 1)
    key = home.issuer_signing_key(home.platform_issuer, "score.city", T0)
    st = sign_statement(rec, home.platform_issuer, key, T0)
    sig = bytearray(st.signature)
    sig[0] ^= 1
    forged = Statement(st.protected, st.payload, bytes(sig), st.alg, st.kid, st.claims, st.record)
    with pytest.raises(SignatureError):
        node.submit(forged.to_bytes(), now=T0)
    assert node.log.size == 0


def test_reopen_bundle_still_verifies(home: NodeHome) -> None:
    with LocalNode(home) as node:
        results = node.issue(_scores(home, 5), iat=T0)
        note = node.publish_checkpoint(T0)
        before = node.bundle(2, T0, with_body=True).to_bytes()
    with LocalNode.open(home.path) as node:
        assert node.log.size == 5
        assert node.log.root() == note.checkpoint.root
        assert node.latest_checkpoint().to_text() == note.to_text()  # type: ignore[union-attr]
        after = node.bundle(2, T0, with_body=True).to_bytes()
        assert node.issue(_scores(home, 5), iat=T0) == [
            type(r)(r.index, r.leaf_hash, False, r.kind) for r in results
        ]
    assert after == before
    report = verify_bundle(after, home.trust())
    assert report.leaf_index == 2
    assert Bundle.from_bytes(after).checkpoint == note.to_text()


def test_person_records_are_salted_with_the_node_secret(node: LocalNode, home: NodeHome) -> None:
    (rec,) = _scores(home, 1)
    (r,) = node.issue([rec], iat=T0)
    st = node.statement_at(r.index)
    assert st.is_envelope and st.record.salt is not None
    assert st.record.body == rec.body and st.record.salt != rec.salt
    # the envelope hashes the salted body, so hashing the unsalted record finds nothing
    assert st.payload != hashlib.sha256(rec.to_bytes()).digest()
    key = home.path / "keys" / "envelope.key"
    assert key.stat().st_mode & 0o777 == 0o600
    # a second node salts differently: its secret is its own
    assert bytes.fromhex(key.read_text().strip()) == home.envelope_secret()
