"""Compile a subject report (``credex report``): one part per log this node holds.

For this node's log: every entry about the subject below the checkpoint, each in force
(with its bundle, status proof and all), withheld with its reason (repaired, expired,
erased, ...: never content), or a statement about it (lifecycle, audit); and the index
lookup proof of the subject key as of that checkpoint; for each withheld entry whose
reason the log proves, that evidence (``report_reasons``). The report is signed with this
node's log key (``credex.ledger.subject_report``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import BodyErasedError, RecordWithheldError
from credex.ledger.index_map import parse_index_extension
from credex.ledger.indexing import lifecycle_in
from credex.ledger.lifecycle.model import STATUS_KINDS
from credex.ledger.lifecycle.status import status_at
from credex.ledger.log_index import LogIndex
from credex.ledger.statement import Statement
from credex.ledger.subject_report import (
    IN_FORCE,
    NOT_HELD,
    STATEMENT,
    WITHHELD_REASONS,
    ReasonEvidence,
    ReportEntry,
    ReportPart,
    SubjectReport,
    sign_report,
)
from credex.node.federation.holdings import Holdings, Views
from credex.node.federation.mirrors import MirrorView
from credex.node.local import LocalNode
from credex.node.services.report_reasons import Elsewhere, Located, elsewhere_of, evidence

__all__ = ["compile_report", "completeness_proof", "mirror_part", "own_part"]

_IN_FORCE_STATES: Final = frozenset({"active", "under-objection"})
Authorised = Callable[[Statement, Statement], bool] | None
#: every lifecycle statement about a record this node holds (its log and its mirrors)
LifecycleOf = Callable[[bytes], Sequence[Statement]]
_AUDIT_KINDS: Final = frozenset({"audit.lookup", "audit.check"})


def own_part(
    node: LocalNode,
    subject: str,
    as_of: int,
    now: int,
    *,
    fresh: bool,
    authorised: Authorised = None,
    cosigned: Callable[[], SignedNote | None] | None = None,
    with_bundles: bool = True,
    lifecycle_of: LifecycleOf | None = None,
    elsewhere: Elsewhere | None = None,
) -> ReportPart:
    """This node's log's part of a report on ``subject``, as of the newest checkpoint
    meeting the witness quorum (``cosigned``; None or none yet: the latest, or with
    ``fresh`` one of the current tree signed first); ``elsewhere``: the statements about
    a record held from other logs, for the evidence of withheld reasons."""
    chosen = None if cosigned is None else cosigned()
    if chosen is not None:
        note = chosen
    elif fresh:
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
        state = _state(node, e.index, e.leaf_hash, cp.size, as_of, authorised, lifecycle_of)
        if state == IN_FORCE and with_bundles:
            try:
                bundles.append(_bundle(node, e.index, note, now).to_bytes())
            except (BodyErasedError, RecordWithheldError):
                state = "erased"
        entries.append(ReportEntry(e.index, e.leaf_hash, e.kind, state))
    reasons: list[ReasonEvidence] = []
    for entry in entries:
        if entry.state in WITHHELD_REASONS:
            same = [
                (i, st, node.bundle(i, now, checkpoint=note).to_bytes())
                for i, st in lifecycle_in(node.log, entry.leaf, cp.size)
            ]
            more = () if elsewhere is None else elsewhere(entry.leaf)
            proven = evidence(entry, as_of, cp.size, node.index, same, more)
            if proven is not None:
                reasons.append(proven)
    proof = node.index.prove_subject(subject, cp.size).to_bytes()
    return ReportPart(
        cp.origin, note.to_text(), proof, tuple(entries), tuple(bundles), tuple(reasons)
    )


def _state(
    node: LocalNode,
    index: int,
    leaf: bytes,
    size: int,
    as_of: int,
    authorised: Authorised = None,
    lifecycle_of: LifecycleOf | None = None,
) -> str:
    st = node.statement_at(index)
    if st.is_envelope and not st.has_body:
        return "erased"
    lifecycle: Sequence[Statement] | Sequence[tuple[int, Statement]] = (
        lifecycle_in(node.log, leaf, size) if lifecycle_of is None else lifecycle_of(leaf)
    )
    status = status_at(st, lifecycle, as_of, authorised_repairers=authorised)
    return IN_FORCE if status.state in _IN_FORCE_STATES else status.state


def mirror_part(
    view: MirrorView,
    subject: str,
    as_of: int,
    now: int,
    authorised: Authorised = None,
    *,
    with_bundles: bool = True,
    lifecycle_of: LifecycleOf | None = None,
    elsewhere: Elsewhere | None = None,
) -> ReportPart | None:
    """The part of the log ``view`` mirrors, as of the mirrored checkpoint it rests on
    (``MirrorView.anchored``: the newest meeting the quorum; None: that checkpoint commits
    to no index, or this mirror keeps none: no proof to give)."""
    index = view.log.index
    size = view.size
    note = view.log.checkpoint(size).note
    if (
        not isinstance(index, LogIndex)
        or parse_index_extension(SignedNote.from_text(note).checkpoint.extensions) is None
    ):
        return None
    entries: list[ReportEntry] = []
    bundles: list[bytes] = []
    for e in view.log.by_subject(subject, end=size):
        if e.kind in STATUS_KINDS or e.kind in _AUDIT_KINDS:
            entries.append(ReportEntry(e.index, e.leaf_hash, e.kind, STATEMENT))
            continue
        st = Statement.from_bytes(e.leaf)
        if st.is_envelope:  # a person's body stays with its origin: ask it (lookup)
            entries.append(ReportEntry(e.index, e.leaf_hash, e.kind, NOT_HELD))
            continue
        lifecycle: Sequence[Statement] | Sequence[tuple[int, Statement]] = (
            lifecycle_in(view.log, e.leaf_hash, size)
            if lifecycle_of is None
            else lifecycle_of(e.leaf_hash)
        )
        found = status_at(st, lifecycle, as_of, authorised_repairers=authorised).state
        state = IN_FORCE if found in _IN_FORCE_STATES else str(found)
        if state == IN_FORCE and with_bundles:
            try:
                bundles.append(view.bundle(e.index, now).to_bytes())
            except RecordWithheldError:
                state = "withdrawn"
        entries.append(ReportEntry(e.index, e.leaf_hash, e.kind, state))
    reasons: list[ReasonEvidence] = []
    for entry in entries:
        if entry.state in WITHHELD_REASONS:
            same: list[Located] = [
                (i, st, view.plain(i, note).to_bytes())
                for i, st in lifecycle_in(view.log, entry.leaf, size)
            ]
            more = () if elsewhere is None else elsewhere(entry.leaf)
            proven = evidence(entry, as_of, size, index, same, more)
            if proven is not None:
                reasons.append(proven)
    proof = index.prove_subject(subject, size).to_bytes()
    return ReportPart(view.origin, note, proof, tuple(entries), tuple(bundles), tuple(reasons))


def _bundle(node: LocalNode, index: int, note: SignedNote, now: int) -> Bundle:
    """``bundle_with_status`` on ``note``: the record, its lifecycle statements below the
    checkpoint, this log's attestation and the status proof, all as of ``note``."""
    size = note.checkpoint.size
    own = node.bundle(index, now, checkpoint=note, with_body=True)
    target = node.log.entry(index).leaf_hash
    found = [i for i, _ in lifecycle_in(node.log, target, size)]
    return Bundle(
        own.statement,
        own.checkpoint,
        status=tuple(node.bundle(i, now, checkpoint=note) for i in found),
        preimage=own.preimage,
        attestation=node.attest(index, note, now),
        status_proof=node.status_proof(target, note),
    )


def compile_report(
    node: LocalNode,
    subject: str,
    as_of: int,
    now: int,
    *,
    fresh: bool = True,
    holdings: Holdings | None = None,
) -> SubjectReport:
    """The signed report on ``subject`` (already resolved: USCC or pseudonym): this
    node's log, and with ``holdings`` (``--federation``) one part per mirrored log."""
    authorised = None if holdings is None else holdings.authorised()
    cosigned = None if holdings is None else (lambda: holdings.checkpoint_for(0))
    if holdings is None:
        parts = [own_part(node, subject, as_of, now, fresh=fresh)]
        return sign_report(node._log_key, subject, as_of, parts)
    manifest = holdings.manifest()
    with holdings.views() as views:
        origin = node.home.origin
        parts = [
            own_part(
                node,
                subject,
                as_of,
                now,
                fresh=fresh,
                authorised=authorised,
                cosigned=cosigned,
                elsewhere=elsewhere_of(holdings, views, origin, now),
            )
        ]
        for o, view in sorted(views.items()):
            anchored = view.anchored(manifest)
            if anchored is None:
                continue  # no mirrored checkpoint meets the quorum yet: not covered
            more = elsewhere_of(holdings, views, o, now)
            part = mirror_part(anchored, subject, as_of, now, authorised, elsewhere=more)
            if part is not None:
                parts.append(part)
    return sign_report(node._log_key, subject, as_of, parts)


def completeness_proof(
    node: LocalNode, holdings: Holdings, views: Views, subject: str, now: int
) -> bytes:
    """A lookup's completeness proof: a report on ``subject`` without bundles, one part
    for this node's log and one per mirror in ``views`` (the logs the lookup answered
    from), signed with this node's log key (``Query.Lookup``'s ``completeness``)."""
    authorised = holdings.authorised()

    def held(leaf: bytes) -> list[Statement]:
        return [h.statement for h in holdings.lifecycle(leaf, views)]

    parts = [
        own_part(
            node,
            subject,
            now,
            now,
            fresh=False,
            authorised=authorised,
            cosigned=lambda: holdings.checkpoint_for(0),
            with_bundles=False,
            lifecycle_of=held,
            elsewhere=elsewhere_of(holdings, views, holdings.origin, now),
        )
    ]
    manifest = holdings.manifest()
    for _, view in sorted(views.items()):
        anchored = view.anchored(manifest)
        if anchored is None:  # no mirrored checkpoint meets the quorum yet: not covered
            continue
        part = mirror_part(
            anchored,
            subject,
            now,
            now,
            authorised,
            with_bundles=False,
            lifecycle_of=held,
            elsewhere=elsewhere_of(holdings, views, view.origin, now),
        )
        if part is not None:
            parts.append(part)
    return sign_report(node._log_key, subject, now, parts).to_bytes()
