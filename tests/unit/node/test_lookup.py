"""``SubjectLookup`` at one node (no server): what it serves, withholds and logs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from credex.adapters.sample import score_records, synthetic_resident_ids
from credex.ledger.bundle import Bundle
from credex.ledger.errors import IdentifierError, LookupNotAuthorisedError
from credex.ledger.statement import Statement
from credex.ledger.subject import person_subject_id
from credex.ledger.verify import verify_bundle
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.audit import lookups_of
from credex.node.services.lookup import Caller, SubjectLookup

REGION, ORIGIN = "cn-zj-ningbo", "credex.ningbo.example/log"
T0 = 1_780_272_000  # 2026-06-01T00:00:00Z
BANK = Caller("bank-x", "bank", "ab" * 32)


@pytest.fixture
def node(tmp_path: Path, store_url: str) -> Iterator[LocalNode]:
    home = NodeHome.init(
        tmp_path / "home",
        region=REGION,
        origin=ORIGIN,
        db=store_url,
        now=T0,
        log_seed=b"\x01" * 32,
        subject_secret=b"\x02" * 32,
        platform_seed=b"\x03" * 32,
    )
    with LocalNode(home) as n:
        yield n


def test_person_lookup_by_id_number_serves_bodies_and_withholds_erased(node: LocalNode) -> None:
    (rid,) = synthetic_resident_ids(REGION, 1, seed=3)
    key = node.home.subject_key()
    (first,) = score_records(REGION, key, 1, seed=2, as_of=date(2026, 5, 31))
    subject = first.subject.id
    later = [replace(first, valid_from=first.valid_from + i, _bytes=b"") for i in (1, 2)]
    same = [first, *later]
    results = node.issue(same, iat=T0)
    node.bodies.erase(results[0].leaf_hash, "request", T0 + 10)
    lookup = SubjectLookup(node, clock=lambda: T0 + 20)
    answer = lookup.lookup(BANK, subject=subject, purpose="eligibility", authorisation="c:1")
    assert answer.subject == subject
    (erased, *served) = answer.records
    assert len(served) == 2 and erased.bundle is None and "erased" in (erased.withheld or "")
    for f in served:
        assert f.bundle is not None and Bundle.from_bytes(f.bundle).preimage is not None
        assert verify_bundle(f.bundle, node.home.trust()).ok
    # the raw ID number resolves to the same pseudonym, and never reaches the log
    other = lookup.lookup(BANK, person_id=rid, purpose="eligibility", authorisation="c:2")
    assert other.subject == person_subject_id(key, rid) and other.records == ()
    for i in range(node.log.size):
        assert rid.encode() not in node.log.entry(i).leaf
    audits = lookups_of(node, same[0].subject)
    assert [(a.client, a.authorisation, a.records, a.withheld) for a in audits] == [
        ("bank-x", "c:1", len(served), 1)
    ]
    audit = Statement.from_bytes(node.log.entry(answer.audit.index).leaf)
    assert not audit.is_envelope  # about a person, yet on the log: the region must list it


def test_refusals_log_nothing(node: LocalNode) -> None:
    lookup = SubjectLookup(node, clock=lambda: T0)
    with pytest.raises(LookupNotAuthorisedError, match="role peer2 may not"):
        lookup.lookup(
            Caller("x", "peer2", "00"), subject="91330100MA0YX0016X", purpose="eligibility",
            authorisation="a",
        )  # fmt: skip
    with pytest.raises(LookupNotAuthorisedError, match="purpose must be eligibility or punitive"):
        lookup.lookup(BANK, subject="91330100MA0YX0016X", purpose="curiosity", authorisation="a")
    with pytest.raises(IdentifierError, match="exactly one of subject and person_id"):
        lookup.lookup(BANK, purpose="eligibility", authorisation="a")
    with pytest.raises(IdentifierError, match="hmac:<8 hex>:<64 hex>"):
        lookup.lookup(BANK, subject="hmac:zz", purpose="eligibility", authorisation="a")
    assert node.log.size == 0
