"""Subject reports for the web tests: a node with a company's penalties (one repaired, one
about another company), its honest report, and the reports a withholding node would
re-sign with its own log key (``TAMPERS``: each named by what it does, with the step the
spec's report verifier must fail at and the error it must name)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Final

from credex.ledger import encoding
from credex.ledger.dates import cst_day
from credex.ledger.record import Record, Subject
from credex.ledger.subject_report import SubjectReport, sign_report
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.lifecycle import add_lifecycle
from credex.node.services.reports import compile_report

__all__ = [
    "AS_OF",
    "COMPANY",
    "OTHER",
    "T0",
    "TAMPERS",
    "Tamper",
    "honest",
    "make_report_home",
    "penalty",
    "report_scene",
]

DAY: Final = 86_400
T0: Final = 1_780_272_000  # 2026-06-01T00:00:00Z
COMPANY: Final = Subject("org", "91330100MA0YX0016X")
OTHER: Final = Subject("org", "91330200MA2H2F1A1Q")
REPAIRED_AT: Final = T0 + 400 * DAY
#: when the reports are compiled and judged (the served app's clock too)
AS_OF: Final = REPAIRED_AT + 1
LATE: Final = "2027-06-20"  # decided late: still published at AS_OF


def penalty(number: int, subject: Subject = COMPANY, decided: str = "2026-05-10") -> Record:
    body: dict[str, object] = {
        "decision_no": f"甬市监罚〔2026〕{number}号",
        "decision_date": decided,
        "penalty_types": ["罚款"],
        "content": "罚款",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": "11330200MB1234567X",
    }
    return Record("penalty.admin", "cn-zj-ningbo", subject, body, T0 - 20 * DAY)


def make_report_home(path: Path, log_seed: bytes = bytes([1]) * 32) -> NodeHome:
    return NodeHome.init(
        path,
        region="cn-zj-ningbo",
        origin="credex.ningbo.example/log",
        db=None,
        now=T0,
        log_seed=log_seed,
        subject_secret=b"\x02" * 32,
        platform_seed=bytes([17]) * 32,
    )


def report_scene(home: NodeHome, extra: int = 0) -> NodeHome:
    """Penalties about COMPANY at 0 (repaired), 1, 3 (and ``extra`` more, in force), one
    about OTHER at 2, the repair at 4 (or after the extras); a checkpoint over all."""
    with LocalNode(home) as node:
        [p] = node.issue([penalty(7)], iat=T0 - 20 * DAY)
        node.issue([penalty(8, decided=LATE)], iat=REPAIRED_AT - DAY)
        node.issue([penalty(9, OTHER, LATE)], iat=REPAIRED_AT - DAY)
        node.issue([penalty(10, decided=LATE)], iat=REPAIRED_AT - DAY)
        if extra:
            node.issue(
                [penalty(100 + i, decided=LATE) for i in range(extra)], iat=REPAIRED_AT - DAY
            )
        body = {"route": "终止公示行政处罚信息", "decided_on": cst_day(REPAIRED_AT)}
        add_lifecycle(node, p.leaf_hash, "lifecycle.repair", body, now=REPAIRED_AT)
        node.publish_checkpoint(REPAIRED_AT)
    return home


def honest(home: NodeHome, subject: Subject = COMPANY) -> SubjectReport:
    with LocalNode(home) as node:
        return compile_report(node, subject.id, AS_OF, AS_OF, fresh=False)


def _resign(home: NodeHome, report: SubjectReport, **change: object) -> bytes:
    part = dataclasses.replace(report.parts[0], **change)  # type: ignore[arg-type]
    return sign_report(home.log_key(), report.subject, report.as_of, [part]).to_bytes()


def _dropped(home: NodeHome, r: SubjectReport) -> bytes:
    p = r.parts[0]
    return _resign(
        home, r, entries=tuple(e for e in p.entries if e.index != 1), bundles=p.bundles[1:]
    )


def _cut_bundle(home: NodeHome, r: SubjectReport) -> bytes:
    return _resign(home, r, bundles=r.parts[0].bundles[1:])


def _other_bundle(home: NodeHome, r: SubjectReport) -> bytes:
    other = honest(home, OTHER).parts[0]
    return _resign(home, r, bundles=(*r.parts[0].bundles, *other.bundles))


def _other_entry(home: NodeHome, r: SubjectReport) -> bytes:
    other = honest(home, OTHER).parts[0]
    entries = sorted([*r.parts[0].entries, *other.entries], key=lambda e: e.index)
    return _resign(home, r, entries=tuple(entries))


def _other_proof(home: NodeHome, r: SubjectReport) -> bytes:
    return _resign(home, r, proof=honest(home, OTHER).parts[0].proof)


def _flipped_proof(home: NodeHome, r: SubjectReport) -> bytes:
    proof = r.parts[0].proof
    return _resign(home, r, proof=proof[:-1] + bytes([proof[-1] ^ 1]))


def _unsigned_edit(home: NodeHome, r: SubjectReport) -> bytes:
    part = dataclasses.replace(r.parts[0], bundles=r.parts[0].bundles[1:])
    edited = dataclasses.replace(r, parts=(part,))
    return dataclasses.replace(edited, payload=encoding.encode(edited.to_value())).to_bytes()


def _bundle_signature(home: NodeHome, r: SubjectReport) -> bytes:
    import cbor2

    b = cbor2.loads(r.parts[0].bundles[0])
    st = cbor2.loads(b["statement"])
    arr = list(st.value)
    arr[3] = bytes([arr[3][0] ^ 1]) + arr[3][1:]
    b["statement"] = encoding.encode(cbor2.CBORTag(18, arr))
    b.pop("attestation", None)  # it names the leaf: with it, the bundle's step 2 fails
    return _resign(home, r, bundles=(encoding.encode(b), *r.parts[0].bundles[1:]))


def _reason_contradicted(home: NodeHome, r: SubjectReport) -> bytes:
    p = r.parts[0]
    entries = tuple(
        dataclasses.replace(e, state="withdrawn") if e.state == "repaired" else e for e in p.entries
    )
    return _resign(home, r, entries=entries)


def _reason_stripped(home: NodeHome, r: SubjectReport) -> bytes:
    reasons = tuple(dataclasses.replace(x, statements=()) for x in r.parts[0].reasons)
    return _resign(home, r, reasons=reasons)


Tamper = Callable[[NodeHome, SubjectReport], bytes]

#: name -> (tamper, report step failed, error class name, text the message holds)
TAMPERS: Final[dict[str, tuple[Tamper, int, str, str]]] = {
    "record-dropped": (_dropped, 4, "ReportIncompleteError", "entries listed are not the ones"),
    "bundle-cut": (_cut_bundle, 5, "ReportIncompleteError", "record at index 1 is listed in force"),
    "bundle-of-another-subject": (_other_bundle, 5, "ReportSubjectError", "about another subject"),
    "entry-of-another-subject": (_other_entry, 4, "ReportIncompleteError", "entries listed"),
    "proof-of-another-subject": (_other_proof, 3, "IndexProofError", "proof for another key"),
    "proof-tampered": (_flipped_proof, 3, "IndexProofError", "does not verify"),
    "edited-without-the-key": (_unsigned_edit, 1, "SignatureError", "report"),
    "bundle-signature": (_bundle_signature, 5, "SignatureError", "signature"),
    "reason-contradicted": (_reason_contradicted, 9, "ReportReasonError", "withheld as withdrawn"),
    "reason-evidence-stripped": (_reason_stripped, 8, "ReportReasonError", "is not proven"),
}
