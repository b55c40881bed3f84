"""Conflicts across regions as one node sees them (issue #4 point 8).

Gathers the views a node holds, its own log and every peer mirror listed in
``peers.json`` (optionally also the views held by other node homes on this machine,
``compare``: an auditor's or a test's second opinion), and runs the pure
``credex.ledger.conflicts.find_conflicts`` over them.

Each view is read in chunks of ``chunk`` entries; only the entries whose stored kind is
of interest (``INTEREST_KINDS``, ``derived.*`` and the lifecycle kinds) are parsed and
kept, so memory grows with the records the rules look at, not with the log. The stored
kind column is read first; other leaves are never decoded.

A record whose region is not the region of the issuer that signed it (in the home's trust
for its own log, in its federation manifest for mirrors) is not compared: its region
cannot be believed (docs/spec.md step 2).

A ``score.city`` body without a ``level`` gets its common level from the scheme
registry (``credex.adapters.schemes``). A peer whose last sync saw a checkpoint larger
than its mirror is named in the report's notes (the mirror is behind: repairs beyond it
are unknown here).

This module does not contact peers, print or write anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from credex.adapters.schemes import scheme
from credex.ledger.conflicts import (
    CONFLICT_TYPES,
    INTEREST_KINDS,
    ConflictReport,
    ConflictType,
    Observed,
    View,
    find_conflicts,
)
from credex.ledger.errors import CredexError
from credex.ledger.lifecycle import STATUS_KINDS
from credex.ledger.log import AppendOnlyLog
from credex.ledger.record import Record
from credex.ledger.statement import Statement
from credex.ledger.storage.bodies import BodyStore
from credex.ledger.storage.sql import SqlStore
from credex.ledger.trust import TrustPolicy, issuer_regions
from credex.node.federation.manifests import load_chain, load_manifest
from credex.node.federation.peers import PeerRegistry, mirror_slug, mirror_url
from credex.node.home import NodeHome

__all__ = ["DEFAULT_CHUNK", "gather_views", "node_conflicts", "registry_level"]

DEFAULT_CHUNK: Final = 4096


def registry_level(record: Record) -> str | None:
    """The common level of a ``score.city`` record from the scheme registry, if known."""
    name, score = record.body.get("scheme"), record.body.get("score")
    if not isinstance(name, str) or type(score) is not int:
        return None
    try:
        return scheme(name).level_for(score)
    except CredexError:
        return None


def _wanted(kind: str) -> bool:
    return kind in INTEREST_KINDS or kind in STATUS_KINDS or kind.startswith("derived.")


@dataclasses.dataclass(slots=True)
class _Counter:
    unreadable: int = 0


def _bound(st: Statement, trust: TrustPolicy | None) -> bool:
    """False when ``trust`` knows the statement's key and none of its issuers is of the
    region the record claims (a record logged before regions were bound, or by a node
    that skips the check): its region cannot be believed, so it is not compared."""
    if trust is None or not st.has_body:
        return True
    regions = issuer_regions(trust, st.kid, st.claims.iss)
    return not regions or st.record.region in regions


def _read(
    url: str,
    holder: str,
    origin: str,
    chunk: int,
    count: _Counter,
    *,
    own: bool = False,
    trust: TrustPolicy | None = None,
) -> tuple[View, list[Observed]]:
    """One log's statements of interest; for the home's own log, with the bodies of its
    hash envelopes attached (a mirror holds none). A record whose region is not its
    issuer's in ``trust`` is counted as unreadable, never compared."""
    store = SqlStore(url)
    bodies = BodyStore(url) if own else None
    try:
        with AppendOnlyLog(store) as log:
            view = View(holder, origin, log.size)
            out: list[Observed] = []
            for start in range(0, view.size, chunk):
                entries = [
                    e for e in log.entries(start, min(view.size, start + chunk)) if _wanted(e.kind)
                ]
                held = bodies.get_many([e.leaf_hash for e in entries]) if bodies else {}
                for e in entries:
                    try:
                        st = Statement.from_bytes(e.leaf, held.get(e.leaf_hash))
                    except CredexError:  # a leaf this version cannot read
                        count.unreadable += 1
                        continue
                    if not _bound(st, trust):
                        count.unreadable += 1
                        continue
                    out.append(Observed(view, e.index, st))
            return view, out
    finally:
        if bodies is not None:
            bodies.close()
        store.close()


def _mirror_held(home: NodeHome, origin: str) -> str | None:
    if home.db_url.startswith("sqlite"):
        path = home.path / "mirrors" / (mirror_slug(origin) + ".sqlite")
        return f"sqlite:///{path}" if path.exists() else None
    return mirror_url(home, origin)


def gather_views(
    home: NodeHome, *, chunk: int = DEFAULT_CHUNK
) -> tuple[list[Observed], list[View], int, list[str]]:
    """The observed statements of ``home``'s own log and its mirrors.

    Returns:
        (observations, the views read, leaves that could not be parsed, notes).

    Raises:
        StorageError / InconsistentLogError: a log or mirror cannot be opened.
    """
    count = _Counter()
    own_trust: TrustPolicy = home.trust()
    peers_trust: TrustPolicy | None = load_manifest(home) if load_chain(home) else None
    view, observed = _read(
        home.db_url, home.origin, home.origin, chunk, count, own=True, trust=own_trust
    )
    views = [view]
    notes: list[str] = []
    for peer in PeerRegistry(home).list():
        url = _mirror_held(home, peer.origin)
        view, more = (
            _read(url, home.origin, peer.origin, chunk, count, trust=peers_trust)
            if url is not None
            else (View(home.origin, peer.origin, 0), [])
        )
        if view.size == 0:
            notes.append(f"{home.origin} holds no mirrored entries of {peer.origin} yet")
        else:
            views.append(view)
            observed += more
        seen, mirrored = peer.status.get("checkpoint_size"), peer.status.get("mirrored_size")
        if isinstance(seen, int) and isinstance(mirrored, int) and mirrored < seen:
            notes.append(
                f"the mirror of {peer.origin} at {home.origin} is behind the peer's "
                f"checkpoint: {mirrored} of {seen} entries"
            )
    return observed, views, count.unreadable, notes


def _all(
    homes: Sequence[NodeHome], chunk: int
) -> Iterator[tuple[list[Observed], list[View], int, list[str]]]:
    for h in homes:
        yield gather_views(h, chunk=chunk)


def node_conflicts(
    home: Path | NodeHome,
    as_of: int,
    *,
    types: Sequence[ConflictType] = CONFLICT_TYPES,
    score_threshold: int = 2,
    compare: Sequence[Path | NodeHome] = (),
    chunk: int = DEFAULT_CHUNK,
) -> ConflictReport:
    """The conflicts among the views ``home`` (and each ``compare`` home) holds.

    Raises:
        ConfigError: a path that is no node home.
        FormatError: an unknown type or a bad threshold.
        StorageError / InconsistentLogError: a log or mirror cannot be opened.
    """
    homes = [h if isinstance(h, NodeHome) else NodeHome.open(h) for h in (home, *compare)]
    observed: list[Observed] = []
    views: set[View] = set()
    unreadable = 0
    notes: list[str] = []
    for obs, vs, bad, ns in _all(homes, chunk):
        observed += obs
        views.update(vs)
        unreadable += bad
        notes += ns
    report = find_conflicts(
        observed,
        as_of,
        types=types,
        score_threshold=score_threshold,
        level_of=registry_level,
    )
    return dataclasses.replace(
        report,
        views=tuple(sorted(views, key=lambda v: (v.origin, v.holder))),
        not_comparable=report.not_comparable + unreadable,
        notes=tuple(dict.fromkeys((*notes, *report.notes))),
    )
