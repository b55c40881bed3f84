"""Records as each view holds them: their status in that view, and the freshest view
of each origin. Pure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from credex.ledger.conflicts.model import (
    ENDED,
    INTEREST_KINDS,
    Observed,
    View,
)
from credex.ledger.errors import CredexError
from credex.ledger.lifecycle import STATUS_KINDS, Status, status_at
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement

__all__ = [
    "ENDING_KINDS",
    "Header",
    "Rec",
    "RecordLike",
    "Views",
    "build_views",
    "ended_at",
    "freshest",
    "interesting",
    "record_of",
]


@dataclass(frozen=True, slots=True)
class Rec:
    view: View
    index: int
    statement: Statement
    record: RecordLike
    status: Status
    #: when the record ended (the earliest accepted repair / withdrawal / resolution)
    ended_at: int | None = None

    @property
    def hex(self) -> str:
        return self.statement.leaf_hash.hex()

    @property
    def in_force(self) -> bool:
        return self.status.state == "active" and self.record.valid_from <= self.status.as_of


@dataclass(frozen=True, slots=True)
class Header:
    """What the log itself says of a person's record whose body is not held here (an RFC
    9995 envelope in a mirror, or an erased body): kind, issuing region (the issuer id's
    ``<region>/`` part), subject and time. It takes part in the rules that need no body
    (lists, court lists, a source's repair or withdrawal); body fields read as absent."""

    kind: str
    region: str
    subject: Subject
    valid_from: int
    valid_until: int | None = None
    refs: tuple[bytes, ...] = ()
    body: Mapping[str, Any] = field(default_factory=dict)


RecordLike = Record | Header


def record_of(st: Statement) -> RecordLike | None:
    try:
        return st.record
    except CredexError:  # an enveloped body not held here: what its header says
        if not st.is_envelope or "/" not in st.claims.iss:
            return None
        return Header(
            st.kind, st.claims.iss.split("/", 1)[0], Subject("person", st.claims.sub), st.claims.iat
        )


def interesting(kind: str) -> bool:
    return kind in INTEREST_KINDS or kind.startswith("derived.")


@dataclass(slots=True)
class Views:
    records: dict[View, list[Rec]] = field(default_factory=dict)
    compared: int = 0
    not_comparable: int = 0


def build_views(observed: Iterable[Observed], as_of: int) -> Views:
    targets: dict[View, list[tuple[int, Statement, RecordLike]]] = defaultdict(list)
    lifecycle: dict[View, dict[bytes, list[Statement]]] = defaultdict(lambda: defaultdict(list))
    out = Views()
    seen: set[View] = set()
    for o in observed:
        seen.add(o.view)
        if o.leaf_index >= o.view.size or o.statement.claims.iat > as_of:
            continue  # beyond the view, or not yet logged at as_of
        rec = record_of(o.statement)
        if rec is None:
            out.not_comparable += 1
            continue
        if rec.kind in STATUS_KINDS:
            if rec.refs:
                lifecycle[o.view][rec.refs[0]].append(o.statement)
        elif interesting(rec.kind):
            targets[o.view].append((o.leaf_index, o.statement, rec))
    for view in seen:
        rows: list[Rec] = []
        for index, st, rec in targets.get(view, []):
            lc = lifecycle[view].get(st.leaf_hash, [])
            try:
                status = status_at(st, lc, as_of)
            except CredexError:  # an unreadable lifecycle statement or window
                out.not_comparable += 1
                continue
            rows.append(Rec(view, index, st, rec, status, ended_at(status, lc)))
        out.records[view] = rows
        out.compared += len(rows)
    return out


ENDING_KINDS: Final = ("lifecycle.repair", "lifecycle.withdrawal", "lifecycle.objection-resolved")


def ended_at(status: Status, lifecycle: Sequence[Statement]) -> int | None:
    if status.state not in ENDED:
        return None
    accepted = set(status.evidence)
    times = [
        s.claims.iat
        for s in lifecycle
        if s.leaf_hash.hex() in accepted and s.record.kind in ENDING_KINDS
    ]
    return min(times, default=None)


def freshest(views: Iterable[View]) -> dict[str, View]:
    best: dict[str, View] = {}
    for v in sorted(views, key=lambda v: (v.origin, v.size, v.own, v.holder)):
        best[v.origin] = v  # the last one wins: largest, own on a tie
    return best
