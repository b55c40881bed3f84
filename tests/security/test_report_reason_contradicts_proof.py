"""A31: a node that compiles a subject report misstates why a record is withheld, and
re-signs the report with its own log key: it calls a repaired penalty withdrawn or
expired, strips the repair from the evidence, gives the evidence of another record, a
status proof of another key, or evidence for a record it lists in force. Each is a named
error (``ReportReasonError``, ``IndexProofError``); a reason given without evidence
verifies only as a claim, and the verifier says so."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from credex.ledger.errors import IndexProofError, ReportReasonError
from credex.ledger.report_verify import verify_report
from credex.ledger.subject_report import ReportEntry, SubjectReport, reason_label, sign_report
from credex.node.home import NodeHome

from .support import db_of, make_home
from .test_report_attacks import COMPANY, OTHER, _report, scene


@pytest.fixture
def home(tmp_path: Path, store_url: str) -> NodeHome:
    return scene(make_home(tmp_path / "ningbo", db=db_of(store_url)))


def _resigned(home: NodeHome, report: SubjectReport, **change: object) -> bytes:
    part = dataclasses.replace(report.parts[0], **change)  # type: ignore[arg-type]
    return sign_report(home.log_key(), report.subject, report.as_of, [part]).to_bytes()


def _restated(report: SubjectReport, index: int, state: str) -> tuple[ReportEntry, ...]:
    return tuple(
        dataclasses.replace(e, state=state) if e.index == index else e
        for e in report.parts[0].entries
    )


def _fails(home: NodeHome, data: bytes, error: type[Exception], text: str) -> None:
    with pytest.raises(error) as e:
        verify_report(data, home.trust())
    assert text in str(e.value) and "\n" not in str(e.value), str(e.value)


def test_the_repair_is_proven_offline(home: NodeHome) -> None:
    report = _report(home)
    [reason] = report.parts[0].reasons
    [part] = verify_report(report.to_bytes(), home.trust()).parts
    assert part.proven == {reason.index} == {w.index for w in part.withheld}
    assert reason_label("repaired", True).startswith("repaired (proven by the log")


def test_a_repaired_record_called_withdrawn_or_expired(home: NodeHome) -> None:
    report = _report(home)
    [reason] = report.parts[0].reasons
    for state, text in (
        ("withdrawn", "withheld as withdrawn, but the lifecycle statements"),
        ("expired", "withheld as expired, but its lifecycle statements make it repaired"),
        ("superseded", "withheld as superseded"),
    ):
        entries = _restated(report, reason.index, state)
        _fails(home, _resigned(home, report, entries=entries), ReportReasonError, text)


def test_the_repair_stripped_from_the_evidence(home: NodeHome) -> None:
    report = _report(home)
    [reason] = report.parts[0].reasons
    stripped = dataclasses.replace(reason, statements=())
    _fails(
        home,
        _resigned(home, report, reasons=(stripped,)),
        ReportReasonError,
        "so its reason, repaired, is not proven",
    )


def test_evidence_of_another_record_or_key(home: NodeHome) -> None:
    report = _report(home)
    other = _report(home, OTHER)
    [reason] = report.parts[0].reasons
    in_force = next(e.index for e in report.parts[0].entries if e.state == "in-force")
    _fails(
        home,
        _resigned(home, report, reasons=(dataclasses.replace(reason, index=in_force),)),
        ReportReasonError,
        f"evidence for index {in_force}, which is not a withheld entry listed",
    )
    _fails(
        home,
        _resigned(home, report, reasons=(reason, reason)),
        ReportReasonError,
        "(or has evidence twice)",
    )
    # the status proof of another record (the subject proof of another company's key)
    wrong = dataclasses.replace(reason, status_proof=other.parts[0].proof)
    _fails(home, _resigned(home, report, reasons=(wrong,)), IndexProofError, "for another key")


def test_a_reason_without_evidence_is_a_claim(home: NodeHome) -> None:
    report = _report(home)
    [reason] = report.parts[0].reasons
    data = _resigned(home, report, reasons=(), entries=_restated(report, reason.index, "expired"))
    [part] = verify_report(data, home.trust()).parts
    assert part.proven == frozenset()
    assert [(w.index, w.state) for w in part.withheld] == [(reason.index, "expired")]
    assert reason_label("expired", False) == "expired (claimed by the node, not proven)"
    assert reason_label("erased", False) == "erased (claimed by the issuer, not provable)"
    assert COMPANY.id == report.subject
