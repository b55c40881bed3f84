"""One record in full (``credex show``): where it is, its fields, its body (or why the
body is not here), its status and its lifecycle history.

The record is named by its index in this node's log (or in the mirror of ``origin``) or
by its leaf hash, looked up in this node's log and then in every mirror it holds. Its
status and history come from the lifecycle statements about it in every view held, read
through the ``target`` index (``credex.node.services.finding``). A person's record shows
its subject as the keyed pseudonym the log holds, never an ID number; its body only
when this node holds it, and otherwise says why not (kept off-log by its issuer, or
erased here: when and why).

This module does not print.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from credex.ledger.dates import cst_time
from credex.ledger.errors import NotFoundError
from credex.ledger.indexing import decision_no_of
from credex.ledger.lifecycle import STATUS_KINDS, Status
from credex.ledger.record_json import json_value, record_json
from credex.ledger.statement import Statement
from credex.ledger.storage.bodies import erased_message
from credex.node.local import LocalNode
from credex.node.services.finding import (
    Found,
    View,
    check_origin,
    lifecycle_about,
    record_status,
    repair_delegations,
    views,
)

__all__ = ["BodyState", "HistoryItem", "RecordDetail", "show_record"]

#: ``clear``: the body is on the log; ``held``: a personal record's body held here;
#: ``not-held``: kept off-log by its issuer; ``erased``: erased here (the leaf stays)
BodyState = Literal["clear", "held", "not-held", "erased"]


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One lifecycle statement about the record, and whether it took effect."""

    origin: str
    index: int
    statement: Statement
    took_effect: bool

    def to_json(self) -> dict[str, Any]:
        st = self.statement
        return {
            "origin": self.origin,
            "index": self.index,
            "leaf_hash": st.leaf_hash.hex(),
            "kind": st.kind,
            "issuer": st.claims.iss,
            "iat": st.claims.iat,
            "logged_at": cst_time(st.claims.iat),
            "body": json_value(st.record.body),
            "took_effect": self.took_effect,
        }


@dataclass(frozen=True, slots=True)
class RecordDetail:
    """A record as ``credex show`` prints it. ``status`` is None for a lifecycle
    statement (it changes another record's status: ``about``), or a sentence when the
    status cannot be told."""

    origin: str
    index: int
    statement: Statement
    body: BodyState
    body_note: str | None
    status: Status | str | None
    history: tuple[HistoryItem, ...]

    @property
    def about(self) -> bytes | None:
        st = self.statement
        return st.record.refs[0] if st.kind in STATUS_KINDS and st.has_body else None

    @property
    def decision_no(self) -> str | None:
        return decision_no_of(self.statement.record) if self.statement.has_body else None

    def to_json(self) -> dict[str, Any]:
        st = self.statement
        status = self.status
        return {
            "origin": self.origin,
            "index": self.index,
            "leaf_hash": st.leaf_hash.hex(),
            "kind": st.kind,
            "issuer": st.claims.iss,
            "iat": st.claims.iat,
            "logged_at": cst_time(st.claims.iat),
            "subject": st.claims.sub,
            "envelope": st.is_envelope,
            "body_state": self.body,
            "body_note": self.body_note,
            "record": record_json(st.record) if st.has_body else None,
            "decision_no": self.decision_no,
            "about": None if self.about is None else self.about.hex(),
            "status": status.to_json() if isinstance(status, Status) else status,
            "history": [h.to_json() for h in self.history],
        }


def _locate(vs: list[View], ref: int | bytes, origin: str | None) -> tuple[View, int]:
    """The view holding ``ref`` (among those of ``origin`` if given) and its index."""
    pool = [v for v in vs if origin is None or v.origin == origin]
    if isinstance(ref, int):
        if not pool:
            raise NotFoundError(f"show: no mirror of {origin} is held here yet")
        pool[0].log.entry(ref)  # NotFoundError naming the range
        return pool[0], ref
    for v in pool:
        try:
            return v, v.log.index_of(ref)
        except NotFoundError:
            continue
    mirrors = f"its {len(vs) - 1} mirrors" if len(vs) > 1 else "no mirrors held"
    where = f"the log of {origin}" if origin else f"this node's log; {mirrors}"
    raise NotFoundError(f"show: leaf hash not found: {ref.hex()} (not in {where})")


def _body(node: LocalNode, v: View, st: Statement) -> tuple[BodyState, str | None]:
    if not st.is_envelope:
        return "clear", None
    if st.has_body:
        return "held", None
    info = node.bodies.info(st.leaf_hash) if v.own else None
    if info is not None and not info.held:
        return "erased", erased_message(info)
    return "not-held", (
        f"the record body is not held here: it is kept off-log by {st.claims.iss}; "
        "ask the issuing node"
    )


def show_record(
    node: LocalNode, ref: int | bytes, now: int, *, origin: str | None = None
) -> RecordDetail:
    """The record at index ``ref`` of this node's log (or of ``origin``'s mirror), or
    with leaf hash ``ref``, with its status as of ``now`` and its lifecycle history.

    Raises:
        NotFoundError: no such index or leaf hash (one line, naming where it looked).
        ConfigError: ``origin`` is neither this node's nor a followed peer's.
    """
    if origin is not None:
        check_origin(node, origin)
    elif isinstance(ref, int):
        origin = node.home.origin  # an index without an origin is this node's
    notes: list[str] = []
    with views(node, notes) as vs:
        v, index = _locate(vs, ref, origin)
        st = v.statements([v.log.entry(index)])[0]
        body, note = _body(node, v, st)
        found: list[Found] = []
        for w in vs:
            for e in w.log.by_target(st.leaf_hash):
                if e.kind in STATUS_KINDS:
                    found.append((w.origin, e.index, Statement.from_bytes(e.leaf)))
        lifecycle = lifecycle_about(st, v.origin, found)
        status: Status | str | None = None
        if st.kind not in STATUS_KINDS:
            status = record_status(st, v.origin, lifecycle, now, repair_delegations(node.home))
        effect = set(status.evidence) if isinstance(status, Status) else set()
        history = tuple(HistoryItem(o, i, s, s.leaf_hash.hex() in effect) for o, i, s in lifecycle)
        return RecordDetail(v.origin, index, st, body, note, status, history)
