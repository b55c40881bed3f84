"""What a bank does with a node: ask it for a subject, verify every bundle offline, keep
the files.

``lookup_subject`` calls a node's Query service over mTLS with the bank's registered
client certificate (``credex client add ... --role bank``), then verifies each bundle
served against the bank's own trust (a federation manifest or trust file), never the
node's word, and writes the bundles it was given. A resident ID number is sent over the
mTLS channel only, turned into the federation pseudonym by the node at once; it is never
written here. Nothing here prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credex.ledger.errors import ConfigError
from credex.ledger.trust import TrustPolicy
from credex.ledger.verify import Verifier
from credex.node.rpc.client import PeerClient

__all__ = ["LookupReport", "bundle_file_name", "lookup_subject"]


def bundle_file_name(origin: str, index: int) -> str:
    """``<origin as a slug>-<index>.credex``: where a looked-up bundle is written."""
    return f"{re.sub(r'[^A-Za-z0-9]+', '-', origin).strip('-')}-{index}.credex"


@dataclass(frozen=True, slots=True)
class LookupReport:
    """A node's answer as the bank checked it: one row per record (served with its
    verdict, or withheld with the reason) and the lookup's own audit leaf."""

    subject: str
    rows: tuple[dict[str, Any], ...]
    audit_index: int
    audit_leaf_hash: bytes
    #: with a trust: the completeness proof as checked (``ok``, ``covered``, ``error``)
    completeness: dict[str, Any] | None = None

    @property
    def served(self) -> int:
        return sum(1 for r in self.rows if not r["withheld"])

    @property
    def failed(self) -> int:
        bad = self.completeness is not None and not self.completeness["ok"]
        return sum(1 for r in self.rows if r.get("verdict") == "invalid") + int(bad)

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "records": list(self.rows),
            "audit": {"leaf_index": self.audit_index, "leaf_hash": self.audit_leaf_hash.hex()},
            "completeness": self.completeness,
        }


def lookup_subject(
    endpoint: str,
    *,
    ca_pem: bytes,
    cert_pem: bytes,
    key_pem: bytes,
    authorisation: str,
    purpose: str,
    subject: str | None = None,
    person_id: str | None = None,
    trust: TrustPolicy | None = None,
    out: Path | None = None,
    server_name: str | None = None,
) -> LookupReport:
    """Look ``subject`` (or ``person_id``) up at the node at ``endpoint``; with ``trust``,
    verify each bundle offline for ``purpose``; with ``out``, write each bundle there.

    Raises:
        ConfigError: not exactly one of ``subject`` and ``person_id``.
        PeerError / PolicyError / ...: what the node answered instead (the lookup is then
            not logged).
    """
    if (subject is None) == (person_id is None):
        raise ConfigError("lookup: give exactly one of --subject and --person-id")
    client = PeerClient(
        endpoint,
        ca_pem=ca_pem,
        client_cert=cert_pem,
        client_key=key_pem,
        server_name=server_name,
    )
    with client:
        answer = client.lookup(
            subject=subject or "",
            person_id=person_id or "",
            purpose=purpose,
            authorisation=authorisation,
        )
    verifier = Verifier(trust, purpose=purpose) if trust is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for r in answer.records:
        row: dict[str, Any] = {
            "origin": r.origin,
            "leaf_index": r.leaf_index,
            "kind": r.kind,
            "withheld": r.withheld,
        }
        if r.bundle is not None and out is not None:
            path = out / bundle_file_name(r.origin, r.leaf_index)
            path.write_bytes(r.bundle)
            row["file"] = str(path)
        if r.bundle is not None and verifier is not None:
            report = verifier.run(r.bundle)
            row["verdict"] = "valid" if report.ok else "invalid"
            row["status"] = report.status
            if not report.ok:
                row["failed_step"] = report.failed_step
                row["error"] = str(report.error)
        rows.append(row)
    complete = None
    if trust is not None:
        served: dict[str, list[bytes]] = {}
        for r, row in zip(answer.records, rows, strict=True):
            if r.bundle is not None and row.get("verdict") == "valid":
                served.setdefault(r.origin, []).append(r.bundle)
        complete = check_completeness(answer.completeness, answer.subject, trust, served)
    return LookupReport(
        answer.subject, tuple(rows), answer.audit_index, answer.audit_leaf_hash, complete
    )


def check_completeness(
    proof: bytes, subject: str, trust: TrustPolicy, served: dict[str, list[bytes]]
) -> dict[str, Any]:
    """Check a lookup's completeness proof against the bundles it served (by origin):
    every entry about the subject in each covered log is listed, and every one in force
    was served (``credex.ledger.report_verify``)."""
    from credex.ledger.errors import CredexError
    from credex.ledger.report_verify import verify_report

    if not proof:
        return {"ok": False, "error": "the node sent no completeness proof", "covered": []}
    try:
        checked = verify_report(proof, trust, served)
        if checked.subject != subject:
            raise CredexError(f"completeness: the proof is about {checked.subject}, not {subject}")
    except CredexError as e:
        return {"ok": False, "code": e.code, "error": str(e), "covered": []}
    return {
        "ok": True,
        "covered": [
            {"origin": p.origin, "size": p.size, "withheld": len(p.withheld)} for p in checked.parts
        ],
        "not_covered": list(checked.not_covered),
    }
