"""The audit trail of subject lookups: ``audit.lookup`` records, and listing them.

Every answered lookup is logged at the answering node as an ``audit.lookup`` statement
about the subject (``audit_record``): who asked (the registered client's name and
certificate fingerprint), when (the statement's ``iat``), for which purpose, under which
authorisation reference, and how many records were served and withheld; never a record
body or an ID number. Peers mirror it like any statement, so the subject's own region
lists every lookup made anywhere (``lookups_of``, from its log and its mirrors).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Final

from credex.ledger.errors import CredexError
from credex.ledger.log import AppendOnlyLog
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement
from credex.node.federation.mirrors import MirrorBundles
from credex.node.local import LocalNode

__all__ = ["AUDIT_KIND", "LookupAudit", "audit_record", "lookups_of"]

AUDIT_KIND: Final = "audit.lookup"


def audit_record(
    region: str,
    subject: Subject,
    client: str,
    client_sha256: str,
    purpose: str,
    authorisation: str,
    *,
    served: int,
    withheld: int,
    now: int,
) -> Record:
    """The ``audit.lookup`` record of one answered lookup (a fresh ``lookup_id`` each)."""
    return Record(
        kind=AUDIT_KIND,
        region=region,
        subject=subject,
        body={
            "client": client,
            "client_sha256": client_sha256,
            "purpose": purpose,
            "authorisation": authorisation,
            "records": served,
            "withheld": withheld,
            "lookup_id": uuid.uuid4().hex,
        },
        valid_from=now,
    )


@dataclass(frozen=True, slots=True)
class LookupAudit:
    """One logged lookup, as the subject's region lists it."""

    origin: str
    index: int
    leaf_hash: bytes
    at: int
    region: str
    client: str
    client_sha256: str
    purpose: str
    authorisation: str
    records: int
    withheld: int

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "leaf_index": self.index,
            "leaf_hash": self.leaf_hash.hex(),
            "at": self.at,
            "region": self.region,
            "client": self.client,
            "client_sha256": self.client_sha256,
            "purpose": self.purpose,
            "authorisation": self.authorisation,
            "records": self.records,
            "withheld": self.withheld,
        }


def _audits(origin: str, log: AppendOnlyLog, subject: str, end: int | None) -> list[LookupAudit]:
    out = []
    for e in log.by_subject(subject, (AUDIT_KIND,), end):
        st = Statement.from_bytes(e.leaf)
        b = st.record.body
        out.append(
            LookupAudit(
                origin,
                e.index,
                st.leaf_hash,
                st.claims.iat,
                st.record.region,
                str(b["client"]),
                str(b["client_sha256"]),
                str(b["purpose"]),
                str(b["authorisation"]),
                int(b.get("records", 0)),
                int(b.get("withheld", 0)),
            )
        )
    return out


def lookups_of(
    node: LocalNode, subject: Subject, mirrors: MirrorBundles | None = None
) -> list[LookupAudit]:
    """Every ``audit.lookup`` about ``subject`` in this node's log and its mirrors, oldest
    first. Mirrors that cannot be read are skipped (``credex peers status`` shows why).
    """
    out = _audits(node.home.origin, node.log, subject.id, None)
    if mirrors is not None:
        for origin in mirrors.origins():
            try:
                with mirrors.view(origin) as view:
                    out.extend(_audits(origin, view.log, subject.id, view.size))
            except CredexError:
                continue
    return sorted(out, key=lambda a: (a.at, a.origin, a.index))
