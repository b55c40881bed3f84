"""Compile a subject report (``credex report``): one part per log this node holds.

For this node's log: every entry about the subject below the checkpoint, each in force
(with its bundle, status proof and all), withheld with its reason (repaired, expired,
erased, ...: never content), or a statement about it (lifecycle, audit); and the index
lookup proof of the subject key as of that checkpoint. The report is signed with this
node's log key (``credex.ledger.subject_report``).
"""

from __future__ import annotations

from typing import Final

from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import BodyErasedError, RecordWithheldError
from credex.ledger.indexing import lifecycle_in
from credex.ledger.lifecycle.model import STATUS_KINDS
from credex.ledger.lifecycle.status import status_at
from credex.ledger.subject_report import (
    IN_FORCE,
    STATEMENT,
    ReportEntry,
    ReportPart,
    SubjectReport,
    sign_report,
)
from credex.node.local import LocalNode

__all__ = ["compile_report", "own_part"]

_IN_FORCE_STATES: Final = frozenset({"active", "under-objection"})
_AUDIT_KINDS: Final = frozenset({"audit.lookup", "audit.check"})


def own_part(node: LocalNode, subject: str, as_of: int, now: int, *, fresh: bool) -> ReportPart:
    """This node's log's part of a report on ``subject``, as of its latest checkpoint
    (``fresh``: sign one of the current tree first)."""
    if fresh:
        note = node.publish_checkpoint(now)
    else:
        latest = node.latest_checkpoint()
        note = latest if latest is not None else node.publish_checkpoint(now)
    cp = note.checkpoint
    if cp.size > node.log.size:
        node.log.refresh()
    entries: list[ReportEntry] = []
    bundles: list[bytes] = []
    for e in node.log.by_subject(subject, end=cp.size):
        if e.kind in STATUS_KINDS or e.kind in _AUDIT_KINDS:
            entries.append(ReportEntry(e.index, e.leaf_hash, e.kind, STATEMENT))
            continue
        state = _state(node, e.index, e.leaf_hash, cp.size, as_of)
        if state == IN_FORCE:
            try:
                bundles.append(_bundle(node, e.index, note, now).to_bytes())
            except (BodyErasedError, RecordWithheldError):
                state = "erased"
        entries.append(ReportEntry(e.index, e.leaf_hash, e.kind, state))
    proof = node.index.prove_subject(subject, cp.size).to_bytes()
    return ReportPart(cp.origin, note.to_text(), proof, tuple(entries), tuple(bundles))


def _state(node: LocalNode, index: int, leaf: bytes, size: int, as_of: int) -> str:
    st = node.statement_at(index)
    if st.is_envelope and not st.has_body:
        return "erased"
    status = status_at(st, lifecycle_in(node.log, leaf, size), as_of)
    return IN_FORCE if status.state in _IN_FORCE_STATES else status.state


def _bundle(node: LocalNode, index: int, note: SignedNote, now: int) -> Bundle:
    b = node.bundle_with_status(index, now, fresh=False, with_body=True)
    if SignedNote.from_text(b.checkpoint).checkpoint.size != note.checkpoint.size:
        raise AssertionError("report: bundle not on the report's checkpoint")  # one handle
    return b


def compile_report(
    node: LocalNode, subject: str, as_of: int, now: int, *, fresh: bool = True
) -> SubjectReport:
    """The signed report on ``subject`` (already resolved: USCC or pseudonym)."""
    part = own_part(node, subject, as_of, now, fresh=fresh)
    return sign_report(node._log_key, subject, as_of, [part])
