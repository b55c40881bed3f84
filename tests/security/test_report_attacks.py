"""Attacks on a subject report (docs/spec.md §5.4): each a named error, naming what is
missing or foreign. The attacker holds the compiling node's log key (a node that
withholds), so every tampered report is re-signed: only the index proof catches it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from credex.ledger import encoding
from credex.ledger.dates import cst_day
from credex.ledger.errors import (
    IndexProofError,
    ReportIncompleteError,
    ReportSubjectError,
    SignatureError,
)
from credex.ledger.record import Record, Subject
from credex.ledger.report_verify import verify_report
from credex.ledger.subject_report import ReportPart, SubjectReport, sign_report
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.lifecycle import add_lifecycle
from credex.node.services.reports import compile_report, own_part

from .support import T0, db_of, make_home

DAY = 86_400
COMPANY = Subject("org", "91330100MA0YX0016X")
OTHER = Subject("org", "91330200MA2H2F1A1Q")
REPAIRED_AT = T0 + 400 * DAY


def _penalty(
    region: str, number: int, subject: Subject = COMPANY, decided: str = "2026-05-10"
) -> Record:
    body: dict[str, object] = {
        "decision_no": f"甬市监罚〔2026〕{number}号",
        "decision_date": decided,
        "penalty_types": ["罚款"],
        "content": "罚款",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": "11330200MB1234567X",
    }
    return Record("penalty.admin", region, subject, body, T0 - 20 * DAY)


def scene(home: NodeHome) -> NodeHome:
    """Four penalties (one about another company; the first repaired) in ``home``."""
    with LocalNode(home) as node:
        [p] = node.issue([_penalty(home.region, 7)], iat=T0 - 20 * DAY)
        late = "2027-06-20"  # still published when the report is made
        node.issue([_penalty(home.region, 8, decided=late)], iat=REPAIRED_AT - DAY)
        node.issue([_penalty(home.region, 9, OTHER, late)], iat=REPAIRED_AT - DAY)
        node.issue([_penalty(home.region, 10, decided=late)], iat=REPAIRED_AT - DAY)
        body = {"route": "终止公示行政处罚信息", "decided_on": cst_day(REPAIRED_AT)}
        add_lifecycle(node, p.leaf_hash, "lifecycle.repair", body, now=REPAIRED_AT)
    return home


@pytest.fixture
def home(tmp_path: Path, store_url: str) -> NodeHome:
    return scene(make_home(tmp_path / "ningbo", db=db_of(store_url)))


def _report(home: NodeHome, subject: Subject = COMPANY) -> SubjectReport:
    with LocalNode(home) as node:
        return compile_report(node, subject.id, REPAIRED_AT + 1, REPAIRED_AT + 1)


def _resigned(home: NodeHome, report: SubjectReport, **change: object) -> bytes:
    part = dataclasses.replace(report.parts[0], **change)  # type: ignore[arg-type]
    return sign_report(home.log_key(), report.subject, report.as_of, [part]).to_bytes()


def _fails(home: NodeHome, data: bytes, error: type[Exception], text: str) -> None:
    with pytest.raises(error) as e:
        verify_report(data, home.trust())
    assert text in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_the_honest_report_is_complete_and_withholds_the_repaired_penalty(
    home: NodeHome,
) -> None:
    report = _report(home)
    checked = verify_report(report.to_bytes(), home.trust())
    [part] = checked.parts
    assert [r.index for r in part.records] == [1, 3]
    assert [(w.index, w.state) for w in part.withheld] == [(0, "repaired")]
    assert part.statements == 1  # the repair itself, about the same subject
    assert part.size == report.parts[0].entries[-1].index + 1


def test_report_with_a_bundle_removed_names_the_missing_index(home: NodeHome) -> None:
    report = _report(home)
    part = report.parts[0]
    _fails(
        home,
        _resigned(home, report, bundles=part.bundles[1:]),
        ReportIncompleteError,
        "record at index 1 is listed in force but its bundle is missing",
    )


def test_report_with_a_bundle_removed_by_its_holder_fails_the_signature(home: NodeHome) -> None:
    report = _report(home)
    part = dataclasses.replace(report.parts[0], bundles=report.parts[0].bundles[1:])
    tampered = dataclasses.replace(report, parts=(part,))
    forged = dataclasses.replace(tampered, payload=encoding.encode(tampered.to_value()))
    _fails(home, forged.to_bytes(), SignatureError, "report")


def test_report_with_a_record_removed(home: NodeHome) -> None:
    report = _report(home)
    part = report.parts[0]
    entries = tuple(e for e in part.entries if e.index != 1)
    _fails(
        home,
        _resigned(home, report, entries=entries, bundles=part.bundles[1:]),
        ReportIncompleteError,
        "entries listed are not the ones the index lists",
    )


def test_report_with_a_record_added(home: NodeHome) -> None:
    other = _report(home, OTHER)
    report = _report(home)
    part = report.parts[0]
    entries = tuple(sorted([*part.entries, *other.parts[0].entries], key=lambda e: e.index))
    _fails(
        home,
        _resigned(home, report, entries=entries),
        ReportIncompleteError,
        "entries listed are not the ones the index lists",
    )


def test_report_with_a_record_duplicated(home: NodeHome) -> None:
    report = _report(home)
    part = report.parts[0]
    entries = (*part.entries[:2], part.entries[1], *part.entries[2:])
    _fails(
        home, _resigned(home, report, entries=entries), ReportIncompleteError, "entry 1 is repeated"
    )
    _fails(
        home,
        _resigned(home, report, bundles=(*part.bundles, part.bundles[0])),
        ReportIncompleteError,
        "bundle of index 1 repeated",
    )


def test_report_with_a_record_from_another_subject(home: NodeHome) -> None:
    other = _report(home, OTHER)
    report = _report(home)
    part = report.parts[0]
    _fails(
        home,
        _resigned(home, report, bundles=(*part.bundles, *other.parts[0].bundles)),
        ReportSubjectError,
        "is about another subject",
    )


def test_report_with_a_proof_for_another_key(home: NodeHome) -> None:
    other = _report(home, OTHER)
    report = _report(home)
    _fails(
        home,
        _resigned(home, report, proof=other.parts[0].proof),
        IndexProofError,
        "proof for another key",
    )


def test_report_with_a_proof_for_another_size(home: NodeHome) -> None:
    with LocalNode(home) as node:
        early = own_part(node, COMPANY.id, REPAIRED_AT, REPAIRED_AT, fresh=False)
        node.issue([_penalty(home.region, 11)], iat=REPAIRED_AT + 5)
        late = own_part(node, COMPANY.id, REPAIRED_AT + 6, REPAIRED_AT + 6, fresh=True)
    report = sign_report(home.log_key(), COMPANY.id, REPAIRED_AT + 6, [late])
    part: ReportPart = dataclasses.replace(late, proof=early.proof)
    data = sign_report(home.log_key(), COMPANY.id, REPAIRED_AT + 6, [part]).to_bytes()
    verify_report(report.to_bytes(), home.trust())
    _fails(home, data, IndexProofError, "does not verify against the index root")
