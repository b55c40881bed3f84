"""Finding records in what a node holds: ``credex records`` (search) and the shared
reading of views and status that ``credex show`` (``credex.node.services.showing``) uses.

A node holds *views*: its own log (with the held bodies of its personal records) and its
mirror of every peer it follows (``peers.json``; a mirror not synced yet is skipped, one
that cannot be read is named in the notes). A search reads each view through its
indexes, never by a scan:

- ``subject`` (an organisation code or a person's pseudonym): the ``entries.subject_key``
  index (each candidate confirmed on its statement's ``sub``). Lifecycle statements name
  the subject of the record they are about, so the same read also brings every statement
  that decides a found record's status.
- ``decision_no``: the ``decision_numbers`` index (clear penalties only; with a subject
  too, the subject's records are matched by their body, so a person's penalty whose
  body is held here is found as well).
- ``kind`` and ``since`` narrow either. Alone (or with no filter at all) they need a
  scan: allowed when the views hold at most ``LARGE_LOG`` entries in all, otherwise
  refused unless ``all_`` is set (then each view is read in chunks of ``CHUNK``).

A record's status is folded (``status_at``, as of ``now``, with this node's manifest
delegations) from the lifecycle statements about it in every view held; a record whose
body is not held counts only those of its own log (the statements cannot be checked
against its dates, and its issuer's node checked them when it logged them).

This module does not print, read files other than the node's own, or contact peers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Final

from credex.ledger.dates import cst_time
from credex.ledger.errors import ConfigError, CredexError
from credex.ledger.identifiers import validate_org_id
from credex.ledger.indexing import decision_no_of, normalise_decision_no
from credex.ledger.lifecycle import STATUS_KINDS, Status, status_at
from credex.ledger.log import AppendOnlyLog
from credex.ledger.record import PERSON_ID_RE
from credex.ledger.statement import Statement
from credex.ledger.storage.base import Entry
from credex.ledger.storage.bodies import BodyStore
from credex.ledger.storage.sql import SqlStore
from credex.ledger.subject import person_subject_id
from credex.node.federation.manifests import load_chain, load_manifest
from credex.node.federation.peers import PeerRegistry, mirror_slug, mirror_url
from credex.node.home import NodeHome
from credex.node.local import LocalNode

__all__ = [
    "CHUNK",
    "LARGE_LOG",
    "Found",
    "FoundRecord",
    "RecordList",
    "RecordQuery",
    "View",
    "check_origin",
    "find_records",
    "lifecycle_about",
    "record_status",
    "repair_delegations",
    "subject_of",
    "views",
]

#: views holding more entries than this in all need ``--all`` for a search by kind or day
LARGE_LOG: Final = 10_000
#: entries read at a time when a search scans (``--all``)
CHUNK: Final = 4096

#: a lifecycle statement as found: (origin of its log, its index there, the statement)
Found = tuple[str, int, Statement]


@dataclass(frozen=True, slots=True)
class View:
    """One log this node holds: its own (``bodies`` set) or a peer's mirror."""

    origin: str
    log: AppendOnlyLog
    bodies: BodyStore | None = None

    @property
    def own(self) -> bool:
        return self.bodies is not None

    def statements(self, entries: Sequence[Entry]) -> list[Statement]:
        """The statements of ``entries``, with the held body of each personal record
        (the body store is read only when there is one)."""
        sts = [Statement.from_bytes(e.leaf) for e in entries]
        wrapped = [e.leaf_hash for e, st in zip(entries, sts, strict=True) if st.is_envelope]
        if self.bodies is None or not wrapped:
            return sts
        held = self.bodies.get_many(wrapped)
        return [
            st.with_preimage(held[e.leaf_hash]) if e.leaf_hash in held else st
            for e, st in zip(entries, sts, strict=True)
        ]


def _mirror_held(home: NodeHome, origin: str) -> str | None:
    """The URL of ``origin``'s mirror, or None when there is none yet (SQLite: no file;
    nothing is created for a search)."""
    if home.db_url.startswith("sqlite"):
        path = home.path / "mirrors" / (mirror_slug(origin) + ".sqlite")
        return f"sqlite:///{path}" if path.exists() else None
    return mirror_url(home, origin)


@contextmanager
def views(node: LocalNode, notes: list[str]) -> Iterator[list[View]]:
    """This node's own view, then one per mirror held, open until exit. A mirror that
    cannot be opened is left out with a note."""
    home = node.home
    with ExitStack() as stack:
        out = [View(home.origin, node.log, node.bodies)]
        for peer in PeerRegistry(home).list():
            url = _mirror_held(home, peer.origin)
            if url is None:
                continue
            try:
                store = SqlStore(url)
                stack.callback(store.close)
                log = AppendOnlyLog(store)
                stack.callback(log.close)
            except CredexError as e:
                notes.append(f"the mirror of {peer.origin} could not be read: {e}")
                continue
            out.append(View(peer.origin, log))
        yield out


def check_origin(node: LocalNode, origin: str) -> None:
    """Refuse an ``origin`` that is neither this node's nor a followed peer's.

    Raises:
        ConfigError: naming what was expected.
    """
    home = node.home
    if origin != home.origin and origin not in {p.origin for p in PeerRegistry(home).list()}:
        raise ConfigError(
            f"show: unknown origin: expected this node's ({home.origin}) or a followed "
            f"peer's (credex peers status), got {origin!r}"
        )


def subject_of(node: LocalNode, subject: str | None, person_id: str | None) -> str | None:
    """The subject id to search: an organisation code (canonical form), a pseudonym as
    printed (``hmac:...``), or a resident ID number turned into this node's pseudonym.

    Raises:
        IdentifierError: an invalid code or ID number (never echoed).
        ConfigError: both given.
    """
    if subject is not None and person_id is not None:
        raise ConfigError("records: give at most one of --subject and --person-id")
    if person_id is not None:
        return person_subject_id(node.home.subject_key(), person_id)
    if subject is None:
        return None
    text = subject.strip()
    return text if PERSON_ID_RE.match(text) else validate_org_id(text).id


def repair_delegations(home: NodeHome) -> Callable[[Statement, Statement], bool] | None:
    """The repair delegations of this node's manifest (None without a manifest)."""
    return load_manifest(home).repair_authorised if load_chain(home) else None


def lifecycle_about(target: Statement, own_origin: str, found: Iterable[Found]) -> list[Found]:
    """The lifecycle statements of ``found`` that count for ``target`` (in log
    ``own_origin``): those naming it in ``refs[0]``, from any log when its body is held,
    else from its own log only (see the module docstring)."""
    out = []
    for origin, index, st in found:
        if st.kind not in STATUS_KINDS or not st.has_body:
            continue
        if origin != own_origin and not target.has_body:
            continue
        refs = st.record.refs
        if refs and refs[0] == target.leaf_hash:
            out.append((origin, index, st))
    return out


def record_status(
    target: Statement,
    origin: str,
    lifecycle: Sequence[Found],
    now: int,
    authorised: Callable[[Statement, Statement], bool] | None,
) -> Status | str:
    """The status of ``target`` (in log ``origin``) as of ``now``, or why it cannot be
    told (a lifecycle statement that does not fit it, a body without its dates)."""
    positions = {st.leaf_hash: i for o, i, st in lifecycle if o == origin}
    try:
        return status_at(
            target,
            [st for _, _, st in lifecycle],
            now,
            authorised_repairers=authorised,
            positions=positions,
        )
    except CredexError as e:
        return f"unknown: {e}"


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """What ``credex records`` was asked for. ``subject`` is an organisation code or a
    pseudonym as printed; ``person_id`` a resident ID number (never shown in a repr),
    turned into this node's pseudonym by ``find_records``."""

    subject: str | None = None
    person_id: str | None = field(default=None, repr=False)
    kind: str | None = None
    decision_no: str | None = None
    since: int | None = None
    all_: bool = False

    @property
    def indexed(self) -> bool:
        """True when an index answers it (a subject or a decision number)."""
        return self.subject is not None or self.decision_no is not None

    def matches(self, e: Entry) -> bool:
        return (self.kind is None or e.kind == self.kind) and (
            self.since is None or e.iat >= self.since
        )


@dataclass(frozen=True, slots=True)
class FoundRecord:
    """One record found: where it is, what it is, and its status (``state``; for a
    lifecycle statement ``-`` and the record it is ``about``)."""

    origin: str
    index: int
    leaf_hash: bytes
    kind: str
    issuer: str
    iat: int
    subject: str
    state: str
    about: bytes | None = None
    decision_no: str | None = None
    body_held: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "index": self.index,
            "leaf_hash": self.leaf_hash.hex(),
            "kind": self.kind,
            "issuer": self.issuer,
            "iat": self.iat,
            "logged_at": cst_time(self.iat),
            "subject": self.subject,
            "status": self.state,
            "about": None if self.about is None else self.about.hex(),
            "decision_no": self.decision_no,
            "body_held": self.body_held,
        }


@dataclass(frozen=True, slots=True)
class RecordList:
    """The answer to a search: the records (by origin, then index), the logs searched
    with their sizes, and notes (mirrors that could not be read)."""

    records: tuple[FoundRecord, ...]
    searched: tuple[tuple[str, int], ...]
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "records": [r.to_json() for r in self.records],
            "searched": [{"origin": o, "size": s} for o, s in self.searched],
            "notes": list(self.notes),
        }


def _decision(st: Statement) -> str | None:
    return decision_no_of(st.record) if st.has_body else None


def _batches(v: View, q: RecordQuery, wanted: str | None) -> Iterator[list[Entry]]:
    """The entries of ``v`` to look at: one index read, or (no subject, no number) the
    whole log in chunks, keeping those that match and every lifecycle statement."""
    if q.subject is not None:
        yield v.log.by_subject(q.subject)
    elif wanted is not None:
        yield v.log.by_decision_no(wanted)
    else:
        size = v.log.size
        for start in range(0, size, CHUNK):
            chunk = v.log.entries(start, min(size, start + CHUNK))
            yield [e for e in chunk if q.matches(e) or e.kind in STATUS_KINDS]


def _candidates(
    vs: Sequence[View], q: RecordQuery, lifecycle: list[Found]
) -> list[tuple[View, int, Statement]]:
    """The entries of every view that match ``q``; ``lifecycle`` collects the lifecycle
    statements read on the way (all of them for a subject search or a scan)."""
    out: list[tuple[View, int, Statement]] = []
    wanted = None if q.decision_no is None else normalise_decision_no(q.decision_no)
    for v in vs:
        for entries in _batches(v, q, wanted):
            for e, st in zip(entries, v.statements(entries), strict=True):
                if st.kind in STATUS_KINDS and st.has_body:
                    lifecycle.append((v.origin, e.index, st))
                if q.matches(e) and (wanted is None or _decision(st) == wanted):
                    out.append((v, e.index, st))
    if q.subject is None and wanted is not None:  # statements about each, by index
        for v in vs:
            for _, _, st in out:
                for e in v.log.by_target(st.leaf_hash):
                    if e.kind in STATUS_KINDS:
                        lifecycle.append((v.origin, e.index, Statement.from_bytes(e.leaf)))
    return out


def find_records(node: LocalNode, query: RecordQuery, now: int) -> RecordList:
    """The records matching ``query`` in this node's log and mirrors, with their status
    as of ``now``.

    Raises:
        IdentifierError: an invalid organisation code or ID number (never echoed).
        ConfigError: both a subject and a person; or no subject or decision number,
            views holding more than ``LARGE_LOG`` entries, and not ``query.all_``.
        StorageError: a log cannot be read.
    """
    subject = subject_of(node, query.subject, query.person_id)
    query = replace(query, subject=subject, person_id=None)
    notes: list[str] = []
    with views(node, notes) as vs:
        searched = tuple((v.origin, v.log.size) for v in vs)
        total = sum(size for _, size in searched)
        if not query.indexed and not query.all_ and total > LARGE_LOG:
            raise ConfigError(
                f"records: no --subject, --person-id or --decision-no: that reads all "
                f"{total} entries held here; narrow the search or add --all"
            )
        lifecycle: list[Found] = []
        found = _candidates(vs, query, lifecycle)
        authorised = repair_delegations(node.home)
        records = []
        for v, index, st in found:
            if st.kind in STATUS_KINDS and st.has_body:
                state, about = "-", st.record.refs[0]
            else:
                status = record_status(
                    st, v.origin, lifecycle_about(st, v.origin, lifecycle), now, authorised
                )
                state = status if isinstance(status, str) else status.state
                about = None
            records.append(
                FoundRecord(
                    v.origin,
                    index,
                    st.leaf_hash,
                    st.kind,
                    st.claims.iss,
                    st.claims.iat,
                    st.claims.sub,
                    state,
                    about,
                    _decision(st),
                    st.has_body,
                )
            )
    if not records and query.decision_no is not None and query.subject is None:
        notes.append(
            "a natural person's penalty is not indexed by its decision number (its body "
            "is kept off the log): search with --person-id - --decision-no NO"
        )
    return RecordList(tuple(records), searched, tuple(notes))
