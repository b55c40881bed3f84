"""Erasing personal bodies when their record has ended: the rule, over the ``BodyStore``.

A person's record is logged as a hash envelope and its body kept off-log
(``credex.ledger.storage.bodies.BodyStore``). A body may be erased once its record is
repaired, withdrawn or past its publication window (the tombstone keeps which):

- ``erase_if_ended``: the hook ``credex lifecycle repair|withdraw --erase-body`` calls for
  one record;
- ``purge_ended``: ``credex body purge``, every held body judged as of one time.

Status comes from the lifecycle statements about the record wherever this node holds them
(its log and every mirror: ``credex.node.federation.holdings``), judged with the
manifest's delegations (``credex.ledger.lifecycle``); the tree is never touched. Erasing
a derived record's body also drops the source bundles kept for it (they may carry the
same person's source record). This module does not print and never reads a body's content
beyond decoding the record to compute its window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from credex.ledger.errors import DateFormatError, LifecycleError
from credex.ledger.indexing import lifecycle_in
from credex.ledger.lifecycle import STATUS_KINDS, status_at
from credex.ledger.statement import Statement
from credex.ledger.storage.bodies import BodyInfo
from credex.node.federation.holdings import Holdings
from credex.node.local import LocalNode

__all__ = [
    "ENDED_STATES",
    "Erasure",
    "PurgeResult",
    "erase_body",
    "erase_if_ended",
    "purge",
    "purge_ended",
    "tree_head",
]

#: lifecycle states whose end allows erasing the body, with the reason recorded
ENDED_STATES: Final = {"repaired": "repaired", "withdrawn": "withdrawn", "expired": "window-ended"}


def erase_if_ended(node: LocalNode, leaf_hash: bytes, now: int) -> BodyInfo | None:
    """Erase the body of the logged record ``leaf_hash`` if its status at ``now`` is
    repaired, withdrawn or expired (the hook the lifecycle repair command calls).

    Returns the tombstone when erased (or already erased), None when the record is not
    enveloped, its body is not held here, or it is still active / under objection.

    Raises:
        NotFoundError: no entry with ``leaf_hash`` in the log.
        LifecycleError / DateFormatError: the record's window cannot be computed.
    """
    index = node.log.index_of(leaf_hash)
    info = node.bodies.info(leaf_hash)
    if info is None:
        return None
    if not info.held:
        return info
    target = node.statement_at(index)
    if not target.has_body:
        return None
    holdings = Holdings.of(node)
    with holdings.views() as views:
        held = holdings.lifecycle(leaf_hash, views)
    state = holdings.status(target, held, node.home.origin, now).state
    reason = ENDED_STATES.get(state)
    if reason is None:
        return None
    _forget_derivation(node, target)
    return node.bodies.erase(leaf_hash, reason, now)


def _forget_derivation(node: LocalNode, target: Statement) -> None:
    """A derived record's body goes: so do the source bundles kept for it."""
    if target.kind.startswith("derived."):
        node.derivations.delete(target.leaf_hash)


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What ``purge_ended`` did: bodies checked, erased per reason, kept, and those whose
    status could not be judged (their window does not compute) or whose leaf is not in
    the log (an orphan of a failed append: never served)."""

    checked: int
    erased: dict[str, int]
    kept: int
    undetermined: int
    orphans: int


def purge_ended(node: LocalNode, as_of: int, *, batch: int = 1000) -> PurgeResult:
    """Erase the body of every held enveloped record whose status at ``as_of`` is
    repaired, withdrawn or expired. One scan of the log collects the lifecycle statements
    (status kinds stay on-log), then each held body is judged as ``status_at`` does.

    Raises:
        StorageError: the log or the body store failed (bodies erased so far stay erased).
    """
    size = node.log.size
    lifecycle: dict[bytes, list[Statement]] = {}
    for start in range(0, size, batch):
        for e in node.log.entries(start, min(size, start + batch)):
            if e.kind in STATUS_KINDS:
                st = Statement.from_bytes(e.leaf)
                if st.record.refs:
                    lifecycle.setdefault(st.record.refs[0], []).append(st)
    erased: dict[str, int] = {}
    checked = kept = undetermined = orphans = 0
    held = [i.leaf_hash for i in node.bodies.list_bodies(held=True, limit=2**62)]
    holdings = Holdings.of(node)
    authorised = holdings.authorised()
    with holdings.views() as views:  # statements about these records logged elsewhere
        for lh in held:
            for view in views.values():
                lifecycle.setdefault(lh, []).extend(
                    st for _, st in lifecycle_in(view.log, lh, view.size)
                )
    for i in range(0, len(held), batch):
        chunk = held[i : i + batch]
        indices = node.store.find_indices(chunk)
        bodies = node.bodies.get_many(chunk)
        for lh in chunk:
            index, body = indices.get(lh), bodies.get(lh)
            if index is None or index >= size or body is None:
                orphans += index is None
                continue
            checked += 1
            target = Statement.from_bytes(node.log.entry(index).leaf, body)
            try:
                found = lifecycle.get(lh, [])
                state = status_at(target, found, as_of, authorised_repairers=authorised).state
            except (LifecycleError, DateFormatError):
                undetermined += 1
                continue
            reason = ENDED_STATES.get(state)
            if reason is None:
                kept += 1
                continue
            _forget_derivation(node, target)
            node.bodies.erase(lh, reason, as_of, flush=False)
            erased[reason] = erased.get(reason, 0) + 1
    if erased:
        node.bodies.flush()
    return PurgeResult(checked, erased, kept, undetermined, orphans)


def tree_head(node: LocalNode) -> dict[str, object]:
    """The log's size and root (hex): shown before and after an erasure, to show the
    tree is untouched."""
    size = node.log.size
    return {"size": size, "root": node.log.root(size).hex()}


@dataclass(frozen=True, slots=True)
class Erasure:
    """One erased body (``credex body erase``), with the tree head before and after."""

    info: BodyInfo
    tree_before: dict[str, object]
    tree_after: dict[str, object]

    def to_json(self) -> dict[str, object]:
        return {
            "leaf_hash": self.info.leaf_hash.hex(),
            "erased_at": self.info.erased_at,
            "reason": self.info.erase_reason,
            "tree_before": self.tree_before,
            "tree_after": self.tree_after,
        }


def erase_body(node: LocalNode, leaf_hash: bytes, reason: str, now: int) -> Erasure:
    """Erase the body of the logged record ``leaf_hash`` on request (any of
    ``ERASE_REASONS``); the leaf and the tree stay as they are.

    Raises:
        NotFoundError: no such leaf in this log, or no body held for it.
        FormatError: an unknown reason.
    """
    before = tree_head(node)
    index = node.log.index_of(leaf_hash)  # NotFoundError for a leaf not in this log
    info = node.bodies.erase(leaf_hash, reason, now)
    _forget_derivation(node, Statement.from_bytes(node.log.entry(index).leaf))
    return Erasure(info, before, tree_head(node))


def purge(node: LocalNode, as_of: int) -> tuple[PurgeResult, dict[str, object], dict[str, object]]:
    """``purge_ended`` with the tree head before and after."""
    before = tree_head(node)
    result = purge_ended(node, as_of)
    return result, before, tree_head(node)
