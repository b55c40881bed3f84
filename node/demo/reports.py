"""Demo part 3, step 15: a Hangzhou bank's complete federation report on a Ningbo company.

On the five running nodes after the repair (step 14): Hangzhou compiles a report on the
repaired penalty's company from its own log and its mirrors; the bank verifies every part
offline against the manifest (complete as of each log's checkpoint; the repaired penalty
withheld as "repaired" under Ningbo's index proof); a record dropped from the report is
caught by name; an auditor follows Ningbo over gRPC, rebuilds its index and agrees.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from credex.ledger.errors import CredexError
from credex.ledger.manifest import Manifest
from credex.ledger.report_verify import verify_report
from credex.ledger.subject_report import sign_report
from credex.node.audit import audit_log
from credex.node.federation.follow import sync_peer
from credex.node.federation.holdings import Holdings
from credex.node.services.reports import compile_report

if TYPE_CHECKING:
    from credex.node.demo.federation import FederationMember

__all__ = ["federation_report"]


def federation_report(
    ningbo: FederationMember,
    hangzhou: FederationMember,
    manifest: Manifest,
    subject: str,
    repaired_index: int,
    clock: Callable[[], int],
) -> dict[str, Any]:
    """Step 15 (see the module docstring); ``ok`` says all of it held."""
    assert ningbo.node is not None and hangzhou.node is not None
    now = clock()
    sync_peer(hangzhou.home, ningbo.home.origin, now, manifest=manifest)
    report = compile_report(
        hangzhou.node, subject, now, now, holdings=Holdings.of(hangzhou.node), fresh=False
    )
    data = report.to_bytes()
    checked = verify_report(data, manifest)
    parts = {p.origin: p for p in checked.parts}
    nb = parts.get(ningbo.home.origin)
    withheld = [] if nb is None else [(w.index, w.state) for w in nb.withheld]
    proven = [] if nb is None else sorted(nb.proven)
    # Hangzhou drops a Ningbo entry (the repaired penalty's) and re-signs: caught
    [raw] = [p for p in report.parts if p.origin == ningbo.home.origin]
    cut = dataclasses.replace(
        raw, entries=tuple(e for e in raw.entries if e.index != repaired_index)
    )
    forged = sign_report(
        hangzhou.home.log_key(),
        report.subject,
        report.as_of,
        [cut if p.origin == ningbo.home.origin else p for p in report.parts],
    )
    try:
        verify_report(forged.to_bytes(), manifest)
        dropped: dict[str, Any] = {"caught": False, "error": None}
    except CredexError as e:
        dropped = {"caught": True, "error": f"{type(e).__name__}: {e}"}
    auditor = Path(hangzhou.home.path).parent / "auditor"
    with ningbo.client() as source:
        audit = audit_log(ningbo.home.origin, manifest, source, auditor, clock())
    return {
        "subject": subject,
        "compiled_by": hangzhou.home.origin,
        "bytes": len(data),
        "covered": [p.origin for p in checked.parts],
        "not_covered": list(checked.not_covered),
        "sizes": {p.origin: p.size for p in checked.parts},
        "in_force": sum(len(p.records) for p in checked.parts),
        "ningbo_withheld": withheld,
        "ningbo_proven": proven,
        "dropped": dropped,
        "audit": audit.to_json(),
        "ok": bool(
            nb is not None
            and (repaired_index, "repaired") in withheld
            and repaired_index in proven
            and not checked.not_covered
            and dropped["caught"]
            and audit.ok
        ),
    }
