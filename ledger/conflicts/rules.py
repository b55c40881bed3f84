"""The conflict rules and ``find_conflicts`` (see the package docstring). Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import combinations

from credex.ledger.conflicts.model import (
    CONFLICT_TYPES,
    ENDED,
    LEVEL_RE,
    NAMES,
    RED_VS,
    RED_VS_TYPES,
    Conflict,
    ConflictReport,
    ConflictType,
    Observed,
    View,
)
from credex.ledger.conflicts.views import (
    Rec,
    RecordLike,
    build_views,
    freshest,
)
from credex.ledger.dates import cst_day
from credex.ledger.errors import CredexError, FormatError
from credex.ledger.lifecycle import infer_severity
from credex.ledger.record import Record

__all__ = [
    "find_conflicts",
]


def _serious(rec: RecordLike) -> bool:
    try:
        return infer_severity(rec.body)[0] == "serious"
    except CredexError:
        return False


def _red_vs(recs: Sequence[Rec], day: str) -> list[Conflict]:
    by_subject: dict[str, list[Rec]] = defaultdict(list)
    for r in recs:
        if r.in_force and (r.record.kind == "list.red" or r.record.kind in RED_VS):
            by_subject[r.record.subject.id].append(r)
    out: list[Conflict] = []
    for subject, rows in by_subject.items():
        reds = [r for r in rows if r.record.kind == "list.red"]
        for red in reds:
            for other in rows:
                kind = other.record.kind
                if kind not in RED_VS or other.record.region == red.record.region:
                    continue
                if kind == "penalty.admin" and not _serious(other.record):
                    continue
                ctype, severity = RED_VS[kind]
                out.append(
                    Conflict(
                        ctype,
                        subject,
                        (red.hex, other.hex),
                        (red.record.region, other.record.region),
                        (red.view.label, other.view.label),
                        f"{NAMES['list.red']} issued in {red.record.region} and "
                        f"{NAMES[kind]} issued in {other.record.region} are both in force "
                        f"on {day}",
                        severity,
                    )
                )
    return out


def _repaired_but_used(recs: Sequence[Rec], day: str) -> list[Conflict]:
    ended = {r.statement.leaf_hash: r for r in recs if r.status.state in ENDED}
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


def _stale(views: Mapping[View, Sequence[Rec]], day: str) -> list[Conflict]:
    by_origin: dict[str, list[View]] = defaultdict(list)
    for v in views:
        by_origin[v.origin].append(v)
    out: list[Conflict] = []
    for vs in by_origin.values():
        for a, b in combinations(sorted(vs, key=lambda v: (v.size, v.holder)), 2):
            if a.size >= b.size:
                continue
            fresh = {r.statement.leaf_hash: r for r in views[b] if r.status.state in ENDED}
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
    if isinstance(given, str) and LEVEL_RE.match(given):
        return given
    if level_of is not None and isinstance(rec, Record) and rec.kind == "score.city":
        found = level_of(rec)
        return found if found is not None and LEVEL_RE.match(found) else None
    return None


def _divergence(
    recs: Sequence[Rec],
    day: str,
    threshold: int,
    level_of: Callable[[Record], str | None] | None,
) -> tuple[list[Conflict], int]:
    latest: dict[tuple[str, str], tuple[Rec, int]] = {}
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
    by_subject: dict[str, list[tuple[Rec, int]]] = defaultdict(list)
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
    built = build_views(observed, as_of)
    fresh = freshest(built.records)
    current = [r for v in fresh.values() for r in built.records[v]]
    day = cst_day(as_of)
    found: list[Conflict] = []
    notes: list[str] = []
    if set(RED_VS_TYPES) & set(types):
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
