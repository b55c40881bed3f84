"""Subject report vectors: one valid ``.credex-report`` with its trust file, and tampered
variants, each with the error a verifier must name.

``report/`` holds:

- ``trust.json``: the trust file (``credex-trust/1``: the log key, the issuer key, one
  witness, quorum 1);
- ``valid.credex-report``: a report (docs/spec.md §5.4, version 2) on one company in one
  log: two penalties in force (with their bundles), one withheld as repaired with the
  evidence of it (the status proof and the repair's bundle), and the repair;
- ``reason-claimed-version-1.credex-report``: the same as version 1 (no evidence): it
  verifies, the reason a claim;
- ``*.credex-report``: tampered variants, each re-signed with the log key (the attacker
  is the compiling node: only the index proof catches it) unless its name says otherwise;
- ``manifest.json``: every file, whether it verifies, and if not the error class name
  (``credex.ledger.errors``) and a fragment of its message.

Run ``python tests/vectors/generate_report.py`` to rewrite them;
``tests/unit/ledger/test_report_vectors.py`` verifies every file against the manifest
and regenerates them in a temporary directory, asserting byte equality. The seeds are
test keys, public on purpose.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Any

from credex.ledger import encoding
from credex.ledger.checkpoint import SignedNote, cosign_checkpoint
from credex.ledger.dates import cst_day
from credex.ledger.keys import SigningKey
from credex.ledger.record import Record, Subject
from credex.ledger.storage.base import StoredCheckpoint
from credex.ledger.subject_report import ReportEntry, ReportPart, sign_report
from credex.ledger.trust import TrustedWitness, TrustStore
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.lifecycle import add_lifecycle
from credex.node.services.reports import own_part

HERE = Path(__file__).resolve().parent
OUT = HERE / "report"
LOG_SEED = bytes(range(64, 96))
PLATFORM_SEED = bytes(range(96, 128))
WITNESS_SEED = bytes(range(128, 160))
SUBJECT_SECRET = b"credex report vectors subject k."
ORIGIN = "report.credex.example/log"
REGION = "cn-zj-ningbo"
WITNESS = "witness.credex.example"
COMPANY = Subject("org", "91330100MA0YX0016X")
OTHER = Subject("org", "91330200MA2H2F1A1Q")
T0 = 1_780_000_000
DAY = 86_400
REPAIRED_AT = T0 + 90 * DAY
AS_OF = REPAIRED_AT + 60
_SHOWN = frozenset({"in-force", "statement"})


def _penalty(number: int, subject: Subject, decided: str) -> Record:
    body: dict[str, object] = {
        "decision_no": f"甬市监罚〔2026〕{number}号",
        "decision_date": decided,
        "penalty_types": ["罚款"],
        "content": "罚款",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": "11330200MB1234567X",
    }
    return Record("penalty.admin", REGION, subject, body, T0 - 20 * DAY)


def _cosigned(node: LocalNode, now: int) -> SignedNote:
    """A checkpoint of the current tree, cosigned by the witness, stored as the latest."""
    note = node.publish_checkpoint(now)
    sig = cosign_checkpoint(note, WITNESS, SigningKey(WITNESS_SEED), now)
    cosigned = note.with_signature(sig)
    cp = note.checkpoint
    node.store.add_checkpoint(StoredCheckpoint(cp.size, cp.root, cosigned.to_text(), now))
    return cosigned


def _trust(home: NodeHome) -> TrustStore:
    base = home.trust()
    witness = TrustedWitness(WITNESS, SigningKey(WITNESS_SEED).public_key)
    return TrustStore(base.logs, base.issuers, (witness,), 1)


def _part(home: NodeHome, subject: Subject, now: int) -> ReportPart:
    with LocalNode(home) as node:
        return own_part(node, subject.id, AS_OF, now, fresh=False)


def build() -> dict[str, bytes]:
    """Every file of ``report/`` by name (deterministic: fixed seeds and times)."""
    with tempfile.TemporaryDirectory() as tmp:
        home = NodeHome.init(
            Path(tmp) / "home",
            region=REGION,
            origin=ORIGIN,
            db=None,
            now=T0,
            log_seed=LOG_SEED,
            subject_secret=SUBJECT_SECRET,
            platform_seed=PLATFORM_SEED,
        )
        late = "2027-06-20"  # still published when the report is made
        with LocalNode(home) as node:
            [repaired] = node.issue([_penalty(7, COMPANY, "2026-05-10")], iat=T0)
            node.issue([_penalty(8, COMPANY, late)], iat=T0 + DAY)
            node.issue([_penalty(9, OTHER, late)], iat=T0 + DAY)
            node.issue([_penalty(10, COMPANY, late)], iat=T0 + 2 * DAY)
            _cosigned(node, T0 + 3 * DAY)
        early = _part(home, COMPANY, T0 + 3 * DAY)  # before the repair: another size
        with LocalNode(home) as node:
            body = {"route": "终止公示行政处罚信息", "decided_on": cst_day(REPAIRED_AT)}
            add_lifecycle(node, repaired.leaf_hash, "lifecycle.repair", body, now=REPAIRED_AT)
            _cosigned(node, REPAIRED_AT + 30)
        part = _part(home, COMPANY, AS_OF)
        other = _part(home, OTHER, AS_OF)
        key = home.log_key()
        trust = _trust(home)

    def signed(p: ReportPart, subject: str = COMPANY.id) -> bytes:
        return sign_report(key, subject, AS_OF, [p]).to_bytes()

    def changed(**change: Any) -> bytes:
        return signed(dataclasses.replace(part, **change))

    valid = sign_report(key, COMPANY.id, AS_OF, [part])
    [reason] = part.reasons  # the repaired penalty's: the repair and the status proof
    withheld = next(e for e in part.entries if e.index == reason.index)

    def restated(state: str) -> tuple[ReportEntry, ...]:
        return tuple(
            ReportEntry(e.index, e.leaf, e.kind, state) if e == withheld else e
            for e in part.entries
        )

    in_force = [e for e in part.entries if e.state == "in-force"]
    first = in_force[0]
    entries = part.entries
    # a holder (not the node) drops a bundle and re-encodes the payload: signature fails
    holder = dataclasses.replace(part, bundles=part.bundles[1:])
    unsigned = dataclasses.replace(valid, parts=(holder,))
    forged = dataclasses.replace(unsigned, payload=encoding.encode(unsigned.to_value()))
    files = {
        "valid.credex-report": valid.to_bytes(),
        "record-removed.credex-report": changed(
            entries=tuple(e for e in entries if e.index != first.index),
            bundles=part.bundles[1:],
        ),
        "bundle-removed.credex-report": changed(bundles=part.bundles[1:]),
        "record-added.credex-report": changed(
            entries=tuple(sorted([*entries, *other.entries], key=lambda e: e.index))
        ),
        "record-duplicated.credex-report": changed(
            entries=(*entries[:2], entries[1], *entries[2:])
        ),
        "bundle-duplicated.credex-report": changed(bundles=(*part.bundles, part.bundles[0])),
        "another-subject.credex-report": changed(bundles=(*part.bundles, *other.bundles)),
        "proof-another-key.credex-report": changed(proof=other.proof),
        "proof-another-size.credex-report": changed(proof=early.proof),
        "checkpoint-another-size.credex-report": changed(checkpoint=early.checkpoint),
        "signature-broken.credex-report": forged.to_bytes(),
        "reason-withdrawn.credex-report": changed(entries=restated("withdrawn")),
        "reason-expired.credex-report": changed(entries=restated("expired")),
        "reason-statement-removed.credex-report": changed(
            reasons=(dataclasses.replace(reason, statements=()),)
        ),
        "reason-for-a-record-in-force.credex-report": changed(
            reasons=(reason, dataclasses.replace(reason, index=first.index))
        ),
        "reason-claimed-version-1.credex-report": sign_report(
            key, COMPANY.id, AS_OF, [dataclasses.replace(part, reasons=())], version=1
        ).to_bytes(),
    }
    manifest = {
        "format": "credex-report-vectors/1",
        "trust": "trust.json",
        "subject": COMPANY.id,
        "as_of": AS_OF,
        "vectors": [
            _expect(
                "valid.credex-report",
                None,
                "",
                in_force=[e.index for e in in_force],
                withheld=[[e.index, e.state] for e in entries if e.state not in _SHOWN],
                proven=[r.index for r in part.reasons],
            ),
            _expect(
                "record-removed.credex-report",
                "ReportIncompleteError",
                "entries listed are not the ones the index lists",
            ),
            _expect(
                "bundle-removed.credex-report",
                "ReportIncompleteError",
                "is listed in force but its bundle is missing",
            ),
            _expect(
                "record-added.credex-report",
                "ReportIncompleteError",
                "entries listed are not the ones the index lists",
            ),
            _expect(
                "record-duplicated.credex-report",
                "ReportIncompleteError",
                "is repeated or out of index order",
            ),
            _expect("bundle-duplicated.credex-report", "ReportIncompleteError", "repeated"),
            _expect("another-subject.credex-report", "ReportSubjectError", "another subject"),
            _expect("proof-another-key.credex-report", "IndexProofError", "another key"),
            _expect(
                "proof-another-size.credex-report",
                "IndexProofError",
                "does not verify against the index root",
            ),
            _expect(
                "checkpoint-another-size.credex-report",
                "IndexProofError",
                "does not verify against the index root",
            ),
            _expect("signature-broken.credex-report", "SignatureError", "report"),
            _expect(
                "reason-withdrawn.credex-report",
                "ReportReasonError",
                "is withheld as withdrawn, but the lifecycle statements its status proof "
                "lists make it repaired",
            ),
            _expect(
                "reason-expired.credex-report",
                "ReportReasonError",
                "is withheld as expired, but its lifecycle statements make it repaired",
            ),
            _expect(
                "reason-statement-removed.credex-report",
                "ReportReasonError",
                "so its reason, repaired, is not proven",
            ),
            _expect(
                "reason-for-a-record-in-force.credex-report",
                "ReportReasonError",
                "which is not a withheld entry listed",
            ),
            _expect(
                "reason-claimed-version-1.credex-report",
                None,
                "",
                in_force=[e.index for e in in_force],
                withheld=[[e.index, e.state] for e in entries if e.state not in _SHOWN],
                proven=[],
            ),
        ],
    }
    out = {name: data for name, data in files.items()}
    out["trust.json"] = trust.to_json().encode("utf-8")
    out["manifest.json"] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
    return out


def _expect(file: str, error: str | None, contains: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"file": file, "valid": error is None}
    if error is not None:
        row["error"] = error
        row["message_contains"] = contains
    row.update(extra)
    return row


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, data in sorted(build().items()):
        (OUT / name).write_bytes(data)
    print(f"wrote {len(build())} files to {OUT.name}/")


if __name__ == "__main__":
    main()
