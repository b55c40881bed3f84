"""The evidence of a withheld entry's reason in a subject report (docs/spec.md §5.4).

A record withheld as repaired, withdrawn, corrected or superseded is so because of
lifecycle statements, which are public status statements on the logs. For such an entry
(and for an expired one: no such statement overrides its expiry) a report part carries
the index lookup proof of the record's status key at the part's checkpoint and the
bundles of the lifecycle statements about it: those of the part's own log below the
checkpoint (all of them: the proof lists exactly those) and those this node holds from
other logs, each on a checkpoint meeting the witness quorum. A verifier checks the
reason against them (``ReportReasonError``). Evidence is given only when it proves the
reason the node states; otherwise (an erasure, a statement from another log not yet on a
cosigned checkpoint) the entry stays a claim, and the verifier says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from credex.ledger.log_index import LogIndex
from credex.ledger.statement import Statement
from credex.ledger.subject_report import (
    MAX_STATEMENTS,
    PROVABLE_REASONS,
    ReasonEvidence,
    ReportEntry,
    reason_state,
)
from credex.node.federation.holdings import Holdings, Views

__all__ = ["Elsewhere", "Located", "elsewhere_of", "evidence"]

#: a lifecycle statement with the bundle that proves it: (log index, statement, bundle)
Located = tuple[int, Statement, bytes]
#: the lifecycle statements about a record (by leaf hash) held from the other logs
Elsewhere = Callable[[bytes], Sequence[Located]]
_CHECKED: Final = frozenset({*PROVABLE_REASONS, "expired"})


def evidence(
    entry: ReportEntry,
    as_of: int,
    size: int,
    index: LogIndex,
    same: Sequence[Located],
    elsewhere: Sequence[Located] = (),
) -> ReasonEvidence | None:
    """The evidence for ``entry`` (withheld) in a part at log size ``size`` whose log's
    index is ``index``: ``same`` are the statements about it in that log below ``size``;
    None when they do not prove the reason stated (it stays a claim)."""
    if entry.state not in _CHECKED or len(same) + len(elsewhere) > MAX_STATEMENTS:
        return None
    found = reason_state([(i, st) for i, st, _ in (*same, *elsewhere)], as_of)
    proves = found == entry.state if entry.state in PROVABLE_REASONS else found is None
    if not proves:
        return None
    proof = index.prove_status(entry.leaf, size).to_bytes()
    return ReasonEvidence(entry.index, proof, tuple(b for _, _, b in (*same, *elsewhere)))


def elsewhere_of(holdings: Holdings, views: Views, origin: str, now: int) -> Elsewhere:
    """For a part of ``origin``'s log: the lifecycle statements about a record this node
    holds in the other logs (its own and its mirrors), each with its bundle on a
    checkpoint meeting the witness quorum (one not yet on such a checkpoint is left out)."""
    manifest = holdings.manifest()

    def of(leaf: bytes) -> list[Located]:
        out: list[Located] = []
        for h in holdings.lifecycle(leaf, views):
            if h.origin == origin:
                continue
            if h.origin == holdings.origin:
                note = holdings.checkpoint_for(h.index)
                if note is None and manifest is not None:
                    continue
                bundle = holdings.node.bundle(h.index, now, checkpoint=note)
            else:
                view = views.get(h.origin)
                anchored = None if view is None else view.anchored(manifest)
                if anchored is None or h.index >= anchored.size:
                    continue
                bundle = anchored.plain(h.index)
            out.append((h.index, h.statement, bundle.to_bytes()))
        return out

    return of
