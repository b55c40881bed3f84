"""Records that disagree across regions: conflict detection over views of logs (issue #4.8).

A **view** is one copy of one origin's log as some node holds it: the node's own log, or
its mirror of a peer (``View.holder`` holds a copy of ``View.origin``'s log, ``size``
entries). The input is what was observed in those views: the records of interest (red /
black lists, court lists, penalties, scores, derived records) and the lifecycle
statements, each tagged with its view and leaf index. A record's status at ``as_of`` is
computed from the lifecycle statements found **in the same view** (``status_at``).

Rules (``ConflictType``); "in force" means iat <= as_of, valid_from <= as_of and state
``active`` at as_of (not under objection, repaired, withdrawn, superseded, corrected or
expired). Cross-region rules use, for each origin, its **freshest** view (the largest
size; the origin's own log on a tie); older copies are judged by ``stale-mirror`` alone.

- ``listed-red-and-black``: a subject has an in-force ``list.red`` issued in region A
  and an in-force ``list.black`` issued in region B != A. Severity high.
- ``red-list-vs-dishonest-debtor``: an in-force ``list.red`` in region A and an in-force
  ``court.dishonest-debtor`` in region B != A (a 失信被执行人 is excluded from 守信激励).
  Severity high.
- ``red-list-vs-serious-penalty``: an in-force ``list.red`` in region A and an in-force
  ``penalty.admin`` of severity serious (``infer_severity``) in region B != A. Medium.
- ``repaired-but-used``: a record R is repaired, withdrawn, superseded or corrected at
  as_of in the freshest view of its origin, while an in-force ``derived.*`` record of
  another region names R among its sources (``refs[:-1]``). Severity high.
- ``stale-mirror``: two views of one origin, the smaller one still has a record in force
  that the larger one holds as repaired, withdrawn, superseded or corrected (the record
  is "still served elsewhere"). Severity medium.
- ``score-divergence``: a subject's common levels (``L1``-``L5``) from in-force
  ``score.city`` / ``derived.score`` records differ by at least ``score_threshold``
  levels between two regions (per region the latest in-force score by iat). Severity
  low, medium from 3 levels.

Persons are keyed pseudonyms (``hmac:<keyid>:<hex>``): records match on the subject id
string only, so persons match across regions only when the regions share the subject
key. A statement whose record cannot be read (an enveloped body not held here:
``Statement.record`` raises a ``CredexError``) or whose status cannot be computed is
counted in ``ConflictReport.not_comparable`` and skipped.

Reasons never carry record bodies or subject ids: kinds, regions, states and days only.
This module does not read logs, the clock or files, and does not print.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Final, Literal

from credex.ledger.dates import cst_day
from credex.ledger.errors import CredexError, FormatError
from credex.ledger.lifecycle import STATUS_KINDS, State, Status, infer_severity, status_at
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement

__all__ = [
    "CONFLICT_TYPES",
    "INTEREST_KINDS",
    "Conflict",
    "ConflictReport",
    "ConflictType",
    "Observed",
    "Severity",
    "View",
    "find_conflicts",
]

ConflictType = Literal[
    "listed-red-and-black",
    "red-list-vs-dishonest-debtor",
    "red-list-vs-serious-penalty",
    "repaired-but-used",
    "stale-mirror",
    "score-divergence",
]
CONFLICT_TYPES: Final[tuple[ConflictType, ...]] = (
    "listed-red-and-black",
    "red-list-vs-dishonest-debtor",
    "red-list-vs-serious-penalty",
    "repaired-but-used",
    "stale-mirror",
    "score-divergence",
)
Severity = Literal["high", "medium", "low"]
#: record kinds the rules look at (besides lifecycle statements and ``derived.*``)
INTEREST_KINDS: Final = (
    "court.dishonest-debtor",
    "list.black",
    "list.red",
    "penalty.admin",
    "score.city",
)
_ENDED: Final[frozenset[State]] = frozenset({"repaired", "withdrawn", "superseded", "corrected"})
_LEVEL_RE: Final = re.compile(r"^L[1-5]$")
_RED_VS: Final[Mapping[str, tuple[ConflictType, Severity]]] = {
    "list.black": ("listed-red-and-black", "high"),
    "court.dishonest-debtor": ("red-list-vs-dishonest-debtor", "high"),
    "penalty.admin": ("red-list-vs-serious-penalty", "medium"),
}
_RED_VS_TYPES: Final = tuple(t for t, _ in _RED_VS.values())
_NAMES: Final[Mapping[str, str]] = {
    "list.red": "red list entry",
    "list.black": "black list entry",
    "court.dishonest-debtor": "dishonest judgment debtor entry",
    "penalty.admin": "serious administrative penalty",
}


@dataclass(frozen=True, slots=True)
class View:
    """``holder``'s copy of ``origin``'s log, ``size`` entries (own log: holder == origin)."""

    holder: str
    origin: str
    size: int

    def __post_init__(self) -> None:
        if type(self.size) is not int or self.size < 0:
            raise FormatError(f"conflicts: view size must be a uint, got {self.size!r}")

    @property
    def own(self) -> bool:
        return self.holder == self.origin

    @property
    def label(self) -> str:
        """``origin@holder``: where a record was seen."""
        return self.origin if self.own else f"{self.origin}@{self.holder}"


@dataclass(frozen=True, slots=True)
class Observed:
    """One statement found in ``view`` at ``leaf_index``."""

    view: View
    leaf_index: int
    statement: Statement


@dataclass(frozen=True, slots=True)
class Conflict:
    """Records of one subject that disagree. ``leaf_hashes`` (hex) and ``regions`` are in
    the rule's order (e.g. the red entry first); ``views`` say where each was seen."""

    type: ConflictType
    subject_id: str
    leaf_hashes: tuple[str, ...]
    regions: tuple[str, ...]
    views: tuple[str, ...]
    reason: str
    severity: Severity

    def to_json_value(self) -> dict[str, object]:
        return {
            "type": self.type,
            "subject_id": self.subject_id,
            "leaf_hashes": list(self.leaf_hashes),
            "regions": list(self.regions),
            "views": list(self.views),
            "reason": self.reason,
            "severity": self.severity,
        }


@dataclass(frozen=True, slots=True)
class ConflictReport:
    """The conflicts found (sorted), what was compared, and what could not be."""

    conflicts: tuple[Conflict, ...]
    as_of: int
    views: tuple[View, ...]
    compared: int
    not_comparable: int
    notes: tuple[str, ...] = field(default=())


# --- records in a view --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Rec:
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
class _Header:
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


RecordLike = Record | _Header


def _record(st: Statement) -> RecordLike | None:
    try:
        return st.record
    except CredexError:  # an enveloped body not held here: what its header says
        if not st.is_envelope or "/" not in st.claims.iss:
            return None
        return _Header(
            st.kind, st.claims.iss.split("/", 1)[0], Subject("person", st.claims.sub), st.claims.iat
        )


def _interesting(kind: str) -> bool:
    return kind in INTEREST_KINDS or kind.startswith("derived.")


@dataclass(slots=True)
class _Views:
    records: dict[View, list[_Rec]] = field(default_factory=dict)
    compared: int = 0
    not_comparable: int = 0


def _build(observed: Iterable[Observed], as_of: int) -> _Views:
    targets: dict[View, list[tuple[int, Statement, RecordLike]]] = defaultdict(list)
    lifecycle: dict[View, dict[bytes, list[Statement]]] = defaultdict(lambda: defaultdict(list))
    out = _Views()
    seen: set[View] = set()
    for o in observed:
        seen.add(o.view)
        if o.leaf_index >= o.view.size or o.statement.claims.iat > as_of:
            continue  # beyond the view, or not yet logged at as_of
        rec = _record(o.statement)
        if rec is None:
            out.not_comparable += 1
            continue
        if rec.kind in STATUS_KINDS:
            if rec.refs:
                lifecycle[o.view][rec.refs[0]].append(o.statement)
        elif _interesting(rec.kind):
            targets[o.view].append((o.leaf_index, o.statement, rec))
    for view in seen:
        rows: list[_Rec] = []
        for index, st, rec in targets.get(view, []):
            lc = lifecycle[view].get(st.leaf_hash, [])
            try:
                status = status_at(st, lc, as_of)
            except CredexError:  # an unreadable lifecycle statement or window
                out.not_comparable += 1
                continue
            rows.append(_Rec(view, index, st, rec, status, _ended_at(status, lc)))
        out.records[view] = rows
        out.compared += len(rows)
    return out


_ENDING_KINDS: Final = ("lifecycle.repair", "lifecycle.withdrawal", "lifecycle.objection-resolved")


def _ended_at(status: Status, lifecycle: Sequence[Statement]) -> int | None:
    if status.state not in _ENDED:
        return None
    accepted = set(status.evidence)
    times = [
        s.claims.iat
        for s in lifecycle
        if s.leaf_hash.hex() in accepted and s.record.kind in _ENDING_KINDS
    ]
    return min(times, default=None)


def _freshest(views: Iterable[View]) -> dict[str, View]:
    best: dict[str, View] = {}
    for v in sorted(views, key=lambda v: (v.origin, v.size, v.own, v.holder)):
        best[v.origin] = v  # the last one wins: largest, own on a tie
    return best


# --- the rules ----------------------------------------------------------------------------


def _serious(rec: RecordLike) -> bool:
    try:
        return infer_severity(rec.body)[0] == "serious"
    except CredexError:
        return False


def _red_vs(recs: Sequence[_Rec], day: str) -> list[Conflict]:
    by_subject: dict[str, list[_Rec]] = defaultdict(list)
    for r in recs:
        if r.in_force and (r.record.kind == "list.red" or r.record.kind in _RED_VS):
            by_subject[r.record.subject.id].append(r)
    out: list[Conflict] = []
    for subject, rows in by_subject.items():
        reds = [r for r in rows if r.record.kind == "list.red"]
        for red in reds:
            for other in rows:
                kind = other.record.kind
                if kind not in _RED_VS or other.record.region == red.record.region:
                    continue
                if kind == "penalty.admin" and not _serious(other.record):
                    continue
                ctype, severity = _RED_VS[kind]
                out.append(
                    Conflict(
                        ctype,
                        subject,
                        (red.hex, other.hex),
                        (red.record.region, other.record.region),
                        (red.view.label, other.view.label),
                        f"{_NAMES['list.red']} issued in {red.record.region} and "
                        f"{_NAMES[kind]} issued in {other.record.region} are both in force "
                        f"on {day}",
                        severity,
                    )
                )
    return out


def _repaired_but_used(recs: Sequence[_Rec], day: str) -> list[Conflict]:
    ended = {r.statement.leaf_hash: r for r in recs if r.status.state in _ENDED}
    out: list[Conflict] = []
    for d in recs:
        if not d.record.kind.startswith("derived.") or not d.in_force:
            continue
        for ref in d.record.refs[:-1]:
            src = ended.get(ref)
            if src is None or src.record.region == d.record.region:
                continue
            when = (
                "recognised after it"
                if src.ended_at is not None and d.statement.claims.iat >= src.ended_at
                else "recognised before it and never withdrawn"
            )
            out.append(
                Conflict(
                    "repaired-but-used",
                    d.record.subject.id,
                    (src.hex, d.hex),
                    (src.record.region, d.record.region),
                    (src.view.label, d.view.label),
                    f"{src.record.kind} issued in {src.record.region} is {src.status.state} "
                    f"there, but a {d.record.kind} in {d.record.region} ({when}) still "
                    f"uses it on {day}",
                    "high",
                )
            )
    return out


def _stale(views: Mapping[View, Sequence[_Rec]], day: str) -> list[Conflict]:
    by_origin: dict[str, list[View]] = defaultdict(list)
    for v in views:
        by_origin[v.origin].append(v)
    out: list[Conflict] = []
    for vs in by_origin.values():
        for a, b in combinations(sorted(vs, key=lambda v: (v.size, v.holder)), 2):
            if a.size >= b.size:
                continue
            fresh = {r.statement.leaf_hash: r for r in views[b] if r.status.state in _ENDED}
            for r in views[a]:
                f = fresh.get(r.statement.leaf_hash)
                if f is None or not r.in_force:
                    continue
                out.append(
                    Conflict(
                        "stale-mirror",
                        r.record.subject.id,
                        (r.hex,),
                        (r.record.region,),
                        (a.label, b.label),
                        f"{r.record.kind} issued in {r.record.region} is {f.status.state} in "
                        f"{b.label} (size {b.size}) but still in force in {a.label} (size "
                        f"{a.size}) on {day}: the copy at {a.holder} is behind",
                        "medium",
                    )
                )
    return out


def _level(rec: RecordLike, level_of: Callable[[Record], str | None] | None) -> str | None:
    given = rec.body.get("level")
    if isinstance(given, str) and _LEVEL_RE.match(given):
        return given
    if level_of is not None and isinstance(rec, Record) and rec.kind == "score.city":
        found = level_of(rec)
        return found if found is not None and _LEVEL_RE.match(found) else None
    return None


def _divergence(
    recs: Sequence[_Rec],
    day: str,
    threshold: int,
    level_of: Callable[[Record], str | None] | None,
) -> tuple[list[Conflict], int]:
    latest: dict[tuple[str, str], tuple[_Rec, int]] = {}
    skipped = 0
    for r in recs:
        if r.record.kind not in ("score.city", "derived.score") or not r.in_force:
            continue
        lvl = _level(r.record, level_of)
        if lvl is None:
            skipped += 1
            continue
        key = (r.record.subject.id, r.record.region)
        held = latest.get(key)
        order = (r.statement.claims.iat, r.statement.leaf_hash)
        if held is None or order > (held[0].statement.claims.iat, held[0].statement.leaf_hash):
            latest[key] = (r, int(lvl[1]))
    by_subject: dict[str, list[tuple[_Rec, int]]] = defaultdict(list)
    for (subject, _), row in latest.items():
        by_subject[subject].append(row)
    out: list[Conflict] = []
    for subject, rows in by_subject.items():
        if len(rows) < 2:
            continue
        lo = min(rows, key=lambda x: (x[1], x[0].record.region))
        hi = max(rows, key=lambda x: (x[1], x[0].record.region))
        gap = hi[1] - lo[1]
        if gap < threshold:
            continue
        (rl, ll), (rh, lh) = lo, hi
        out.append(
            Conflict(
                "score-divergence",
                subject,
                (rl.hex, rh.hex),
                (rl.record.region, rh.record.region),
                (rl.view.label, rh.view.label),
                f"common level L{ll} in {rl.record.region} and L{lh} in {rh.record.region} "
                f"differ by {gap} levels on {day} (threshold {threshold})",
                "medium" if gap >= 3 else "low",
            )
        )
    return out, skipped


def find_conflicts(
    observed: Iterable[Observed],
    as_of: int,
    *,
    types: Sequence[ConflictType] = CONFLICT_TYPES,
    score_threshold: int = 2,
    level_of: Callable[[Record], str | None] | None = None,
) -> ConflictReport:
    """The conflicts among ``observed`` statements at ``as_of`` (Unix seconds).

    Args:
        observed: the records of interest and the lifecycle statements, each with its
            view and leaf index, in any order; statements signed after ``as_of`` or at
            an index beyond their view's size are ignored.
        types: the rules to run (module docstring).
        score_threshold: the level gap (>= 1) from which scores diverge.
        level_of: the common level of a ``score.city`` record without a ``level`` field
            (e.g. from the scheme registry), or ``None`` if unknown.

    Raises:
        FormatError: an unknown type or a threshold below 1.
    """
    unknown = [t for t in types if t not in CONFLICT_TYPES]
    if unknown:
        raise FormatError(
            f"conflicts: unknown type: expected one of {', '.join(CONFLICT_TYPES)}, "
            f"got {unknown[0]!r}"
        )
    if type(score_threshold) is not int or score_threshold < 1:
        raise FormatError(f"conflicts: score threshold must be >= 1, got {score_threshold!r}")
    built = _build(observed, as_of)
    fresh = _freshest(built.records)
    current = [r for v in fresh.values() for r in built.records[v]]
    day = cst_day(as_of)
    found: list[Conflict] = []
    notes: list[str] = []
    if set(_RED_VS_TYPES) & set(types):
        found += _red_vs(current, day)
    if "repaired-but-used" in types:
        found += _repaired_but_used(current, day)
    if "stale-mirror" in types:
        found += _stale(built.records, day)
    not_comparable = built.not_comparable
    if "score-divergence" in types:
        div, skipped = _divergence(current, day, score_threshold, level_of)
        found += div
        not_comparable += skipped
        if skipped:
            notes.append(f"{skipped} score record(s) without a common level were not compared")
    if any(r.record.subject.type == "person" for r in current):
        notes.append(
            "person subjects match across regions only when the regions share the subject key"
        )
    wanted = set(types)
    conflicts = sorted(
        (c for c in found if c.type in wanted),
        key=lambda c: (CONFLICT_TYPES.index(c.type), c.subject_id, c.leaf_hashes, c.views),
    )
    return ConflictReport(
        tuple(conflicts),
        as_of,
        tuple(sorted(built.records, key=lambda v: (v.origin, v.holder))),
        built.compared,
        not_comparable,
        tuple(notes),
    )
