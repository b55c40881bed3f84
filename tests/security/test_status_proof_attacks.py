"""Attacks on a bundle's status proof (docs/spec.md §5.3), each a named error at step 7
and nothing stored changes: a proof for another key, for another root (another log's
index) or another size (an older checkpoint, before the repair); a non-membership proof
for a key that is present; a proof under a checkpoint that commits to no index; and a
bundle whose status was stripped, added to or repeated under an honest proof."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from credex.ledger.bundle import Bundle
from credex.ledger.dates import cst_day
from credex.ledger.errors import (
    IndexFormatError,
    IndexProofError,
    StatusNotProvenError,
    VerificationError,
)
from credex.ledger.record import Record, Subject
from credex.ledger.verify import run_verification
from credex.ledger.vindex.proof import LookupProof
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.lifecycle import add_lifecycle

from .support import T0, db_of, make_home

DAY = 86_400
COMPANY = Subject("org", "91330100MA0YX0016X")
REPAIRED_AT = T0 + 400 * DAY


def _penalty(region: str, number: int) -> Record:
    body: dict[str, object] = {
        "decision_no": f"甬市监罚〔2026〕{number}号",
        "decision_date": "2026-05-10",
        "penalty_types": ["罚款"],
        "content": "罚款",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": "11330200MB1234567X",
    }
    return Record("penalty.admin", region, COMPANY, body, T0 - 20 * DAY)


@pytest.fixture
def home(tmp_path: Path, store_url: str) -> NodeHome:
    return make_home(tmp_path / "ningbo", db=db_of(store_url))


def _scene(home: NodeHome) -> dict[str, Bundle]:
    """A penalty (bundled before and after its repair) and a clean penalty."""
    with LocalNode(home) as node:
        [p] = node.issue([_penalty(home.region, 7)], iat=T0 - 20 * DAY)
        [clean] = node.issue([_penalty(home.region, 8)], iat=T0 - 20 * DAY)
        before = node.bundle_with_status(p.index, REPAIRED_AT - 10)
        body = {"route": "终止公示行政处罚信息", "decided_on": cst_day(REPAIRED_AT)}
        add_lifecycle(node, p.leaf_hash, "lifecycle.repair", body, now=REPAIRED_AT)
        return {
            "before": before,
            "repaired": node.bundle_with_status(p.index, REPAIRED_AT + 1),
            "clean": node.bundle_with_status(clean.index, REPAIRED_AT + 2),
            "size": Bundle(b"", str(node.log.size)),
        }


def _fails(home: NodeHome, bundle: Bundle, error: type[Exception], text: str) -> None:
    for purpose in (None, "punitive"):
        report = run_verification(bundle.to_bytes(), home.trust(), purpose=purpose)
        assert report.failed_step == 7, report.to_json_value()
        assert isinstance(report.error, error), report.error
        assert text in str(report.error) and "\n" not in str(report.error)


def test_the_honest_bundles_prove_their_status(home: NodeHome) -> None:
    s = _scene(home)
    report = run_verification(s["clean"].to_bytes(), home.trust())
    assert report.ok, report.to_json_value()
    assert "status proven as of checkpoint" in report.steps[6].detail
    ok = run_verification(s["clean"].to_bytes(), home.trust(), purpose="punitive")
    assert ok.ok, ok.to_json_value()
    refused = run_verification(s["repaired"].to_bytes(), home.trust(), purpose="punitive")
    assert refused.failed_step == 7 and "repaired" in str(refused.error)


def test_proof_for_another_key(home: NodeHome) -> None:
    s = _scene(home)
    swapped = dataclasses.replace(s["repaired"], status=(), status_proof=s["clean"].status_proof)
    _fails(home, dataclasses.replace(swapped, attestation=None), IndexProofError, "another key")


def test_proof_for_another_size(home: NodeHome) -> None:
    """The proof made before the repair (absent key, as of an older checkpoint), replayed
    under the newer checkpoint: it does not verify against that index root."""
    s = _scene(home)
    stale = dataclasses.replace(
        s["repaired"], status=(), attestation=None, status_proof=s["before"].status_proof
    )
    _fails(home, stale, IndexProofError, "does not verify against the index root")


def test_proof_for_another_root(home: NodeHome, tmp_path: Path) -> None:
    """A proof from another log's index (same key: the same record is not there)."""
    s = _scene(home)
    other = make_home(tmp_path / "other", origin="credex.other.example/log", seed=2)
    with LocalNode(other) as node:
        node.issue([_penalty(other.region, 9)], iat=T0 - 20 * DAY)
        note = node.publish_checkpoint(REPAIRED_AT)
        leaf = Bundle.from_bytes(s["repaired"].to_bytes())
        from credex.ledger.statement import Statement

        target = Statement.from_bytes(leaf.statement).leaf_hash
        foreign = node.status_proof(target, note)
    forged = dataclasses.replace(s["repaired"], status=(), attestation=None, status_proof=foreign)
    _fails(home, forged, IndexProofError, "does not verify against the index root")


def test_non_membership_proof_for_a_present_key(home: NodeHome) -> None:
    """A forged absence: the repaired record's status key made absent by pointing the
    lookup at another leaf with the honest path. The climb cannot reach the root."""
    s = _scene(home)
    honest = LookupProof.from_bytes(s["repaired"].status_proof or b"")
    assert honest.value is not None
    clean_key = LookupProof.from_bytes(s["clean"].status_proof or b"")
    forged_proof = LookupProof(honest.key, None, (clean_key.key, b"\x00" * 32), honest.path)
    forged = dataclasses.replace(
        s["repaired"], status=(), attestation=None, status_proof=forged_proof.to_bytes()
    )
    _fails(home, forged, IndexProofError, "does not verify")


def test_stripped_added_or_repeated_status(home: NodeHome) -> None:
    s = _scene(home)
    full = s["repaired"]
    _fails(
        home,
        dataclasses.replace(full, status=(), attestation=None),
        StatusNotProvenError,
        "carries none of them",
    )
    _fails(
        home,
        dataclasses.replace(full, status=full.status * 2, attestation=None),
        StatusNotProvenError,
        "missing, added or repeated",
    )
    _fails(  # another record's repair carried as this one's
        home,
        dataclasses.replace(s["clean"], status=full.status, attestation=None),
        VerificationError,
        "does not reference this record",
    )


def test_malformed_proof_and_no_index_line(home: NodeHome) -> None:
    s = _scene(home)
    junk = dataclasses.replace(s["clean"], status_proof=b"\xa0")
    _fails(home, junk, IndexFormatError, "")
    from credex.ledger.checkpoint import SignedNote

    note = SignedNote.from_text(s["clean"].checkpoint)
    assert note.checkpoint.extensions  # honest checkpoints commit to the index


def test_nothing_stored_changes(home: NodeHome) -> None:
    s = _scene(home)
    size = int(s["size"].checkpoint)
    for bad in (
        dataclasses.replace(s["repaired"], status=(), attestation=None),
        dataclasses.replace(s["clean"], status_proof=s["repaired"].status_proof),
    ):
        assert not run_verification(bad.to_bytes(), home.trust(), purpose="punitive").ok
    with LocalNode(home) as node:
        assert node.log.size == size
