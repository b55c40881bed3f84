"""Subject lookups: a bank asks one node for everything the federation holds on a subject.

A node holds its own log and a verified mirror of every peer's log, so it can answer for
the whole federation from local indexes (``entries.subject_key``, each candidate
confirmed on its statement): each record found is returned as a bundle with its
lifecycle statements, verifiable offline against the federation manifest, or listed as
*withheld* with the reason once it is repaired, withdrawn, corrected, superseded or
expired (``credex.node.services.sharing``).

Every answered lookup is logged at the answering node as an ``audit.lookup`` statement
about the subject: who asked (the registered client's name and certificate fingerprint),
when (the statement's ``iat``), for which purpose, under which authorisation reference,
and how many records were served and withheld. Peers mirror it like any statement, so
the subject's own region can list every lookup made anywhere
(``credex.node.services.audit.lookups_of``).

Authorisation (``authorise``): the caller is a registered mTLS client whose role allows
the purpose (``bank``: eligibility; ``issuer``: eligibility or punitive; ``peer``: both),
and it names an authorisation reference. A raw resident ID number given by the caller
is turned into the federation pseudonym at once; it is never stored, logged or echoed.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Final

from credex.ledger.bundle import Bundle
from credex.ledger.errors import (
    BodyErasedError,
    CredexError,
    IdentifierError,
    LookupNotAuthorisedError,
    RecordWithheldError,
)
from credex.ledger.identifiers import validate_org_id
from credex.ledger.lifecycle import STATUS_KINDS
from credex.ledger.record import PERSON_ID_RE, Subject
from credex.ledger.statement import Statement
from credex.ledger.subject import person_subject_id
from credex.node.federation.holdings import Holdings, Views
from credex.node.local import IssueResult, LocalNode
from credex.node.services.audit import AUDIT_KIND, audit_record

__all__ = [
    "PURPOSES_BY_ROLE",
    "Caller",
    "Forwarder",
    "FoundRecord",
    "LookupResult",
    "SubjectLookup",
    "authorise",
    "resolve_subject",
]

#: purposes each client role may look a subject up for
PURPOSES_BY_ROLE: Final[Mapping[str, frozenset[str]]] = {
    "bank": frozenset({"eligibility"}),
    "issuer": frozenset({"eligibility", "punitive"}),
    "peer": frozenset({"eligibility", "punitive"}),
}
_AUTH_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}\Z")
#: kinds that are not records about the subject in their own right (an ``audit.check``
#: says who asked about it: the asker's business, not the subject's record)
_NOT_RECORDS: Final = frozenset({*STATUS_KINDS, AUDIT_KIND, "audit.check"})
#: ``(origin, subject, purpose, authorisation) -> records that origin serves itself``
Forwarder = Callable[[str, str, str, str], list["FoundRecord"]]

logger = logging.getLogger("credex.lookup")


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: a registered client (``clients.json``)."""

    name: str
    role: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class FoundRecord:
    """One record on the subject: its bundle, or why it is withheld."""

    origin: str
    index: int
    kind: str
    bundle: bytes | None
    withheld: str | None = None
    #: a record served from a mirror without all it verifies with: a person's record as
    #: its envelope only (the body), or a derived record (its sources and policy); the
    #: record's origin is asked for it
    needs_body: bool = False


def _leaf_of(bundle: bytes | None) -> bytes | None:
    """The leaf hash of a bundle's statement (None if there is none or it does not parse)."""
    if bundle is None:
        return None
    try:
        return Statement.from_bytes(Bundle.from_bytes(bundle).statement).leaf_hash
    except CredexError:
        return None


def _same_leaf(got: FoundRecord, leaf: bytes | None) -> bool:
    """A forwarded answer is kept only if its bundle is the mirrored statement and its
    body hashes to the envelope (``Statement.from_bytes`` checks the preimage)."""
    if got.bundle is None or leaf is None:
        return got.bundle is None  # a withheld answer (no bundle) is passed on as such
    try:
        b = Bundle.from_bytes(got.bundle)
        return Statement.from_bytes(b.statement, b.preimage).leaf_hash == leaf
    except CredexError:
        return False


@dataclass(frozen=True, slots=True)
class LookupResult:
    subject: str
    records: tuple[FoundRecord, ...]
    audit: IssueResult
    #: the signed completeness proof (a report without bundles; empty: none)
    completeness: bytes = b""


def authorise(caller: Caller, purpose: str, authorisation: str) -> None:
    """Raises ``LookupNotAuthorisedError`` unless ``caller`` may look up for ``purpose``
    under the authorisation reference ``authorisation``."""
    allowed = PURPOSES_BY_ROLE.get(caller.role)
    if allowed is None:
        raise LookupNotAuthorisedError(f"lookup: role {caller.role} may not look up subjects")
    if purpose not in ("eligibility", "punitive"):
        raise LookupNotAuthorisedError(
            f"lookup: purpose must be eligibility or punitive, got {purpose[:32]!r}"
        )
    if purpose not in allowed:
        raise LookupNotAuthorisedError(
            f"lookup: role {caller.role} may not look up subjects for {purpose} use"
        )
    if not authorisation:
        raise LookupNotAuthorisedError(
            "lookup: an authorisation reference (consent, case or application number) is required"
        )
    if not _AUTH_RE.match(authorisation):
        raise LookupNotAuthorisedError(
            "lookup: authorisation reference must be 1-128 characters of [A-Za-z0-9._:/-]"
        )


def resolve_subject(node: LocalNode, subject: str = "", person_id: str = "") -> Subject:
    """The logged subject for a request: an organisation number (validated, canonical),
    a person pseudonym, or a resident ID number turned into this federation's pseudonym.

    Raises:
        IdentifierError: neither or both given, or an invalid number (the message never
            contains a resident ID number).
    """
    if bool(subject) == bool(person_id):
        raise IdentifierError("lookup: give exactly one of subject and person_id")
    if person_id:
        return Subject("person", person_subject_id(node.home.subject_key(), person_id))
    if subject.startswith("hmac:"):
        if not PERSON_ID_RE.match(subject):
            raise IdentifierError("lookup: person subject must be hmac:<8 hex>:<64 hex>")
        return Subject("person", subject)
    return Subject("org", validate_org_id(subject).id)


class SubjectLookup:
    """Answers lookups from what a node holds (``Holdings``: its own log and its mirrors;
    default its own log only), each record judged with every statement about it."""

    def __init__(
        self,
        node: LocalNode,
        *,
        holdings: Holdings | None = None,
        clock: Callable[[], int],
        publish_lock: threading.Lock | None = None,
        forward: Forwarder | None = None,
    ) -> None:
        self._node = node
        self._holdings = holdings or Holdings(node, clock=clock)
        self._clock = clock
        self._publish_lock = publish_lock
        self._forward = forward

    def _forwarded(
        self, found: list[FoundRecord], subject: str, purpose: str, authorisation: str
    ) -> list[FoundRecord]:
        """Person records whose bodies only their origin holds, asked of that origin
        (once per origin, as a peer, with the pseudonym only); each found record the
        origin serves replaces the mirror's body-less entry. An origin that cannot be
        reached leaves the envelope-only bundle in place."""
        if self._forward is None:
            return found
        wanted: dict[str, set[int]] = {}
        for f in found:
            if f.needs_body:
                wanted.setdefault(f.origin, set()).add(f.index)
        answers: dict[tuple[str, int], FoundRecord] = {}
        leaves = {(f.origin, f.index): _leaf_of(f.bundle) for f in found if f.needs_body}
        for origin, indices in wanted.items():
            try:
                got = self._forward(origin, subject, purpose, authorisation)
            except Exception as e:  # one origin never fails the lookup: envelopes stay
                logger.warning(
                    "lookup: bodies held by %s not fetched (%d records): %s",
                    origin,
                    len(indices),
                    str(e).splitlines()[0][:300]
                    if isinstance(e, CredexError) and str(e)
                    else type(e).__name__,
                )
                continue
            for g in got:
                key = (g.origin, g.index)
                # only the same statement as mirrored, with a body that matches it
                if g.origin == origin and g.index in indices and _same_leaf(g, leaves[key]):
                    answers[key] = g
        return [
            replace(answers[(f.origin, f.index)], kind=f.kind)
            if (f.origin, f.index) in answers
            else f
            for f in found
        ]

    def _own(self, subject: str, now: int, views: Views) -> Iterator[FoundRecord]:
        node = self._node
        origin = node.home.origin
        node.log.refresh()
        for e in node.log.by_subject(subject):
            if e.kind in _NOT_RECORDS:
                continue
            try:
                lock = self._publish_lock or nullcontext()
                with lock:
                    # the one path a body leaves this node by: authorised and audited
                    bundle = self._holdings.own_bundle(
                        e.index, now, views, shared_only=True, with_body=True
                    )
                yield FoundRecord(origin, e.index, e.kind, bundle.to_bytes())
            except (RecordWithheldError, BodyErasedError) as w:  # erased: nothing to send
                yield FoundRecord(origin, e.index, e.kind, None, str(w))

    def _mirrored(self, subject: str, now: int, views: Views) -> Iterator[FoundRecord]:
        for origin, view in sorted(views.items()):
            for e in view.log.by_subject(subject, end=view.size):
                if e.kind in _NOT_RECORDS:
                    continue
                try:
                    _, bundle = self._holdings.mirror_bundle(origin, e.index, now, views)
                    st = Statement.from_bytes(bundle.statement)
                    needs = st.is_envelope or st.kind.startswith("derived.")
                    yield FoundRecord(origin, e.index, e.kind, bundle.to_bytes(), None, needs)
                except RecordWithheldError as w:
                    yield FoundRecord(origin, e.index, e.kind, None, str(w))

    def _completeness(self, subject: str, now: int, views: Views) -> bytes:
        """The completeness proof of this answer (``reports.completeness_proof``); empty
        when it cannot be made (a log without an index), logged."""
        from credex.node.services.reports import completeness_proof

        try:
            with self._publish_lock or nullcontext():
                return completeness_proof(self._node, self._holdings, views, subject, now)
        except CredexError as e:
            logger.warning("lookup: no completeness proof: %s", str(e).splitlines()[0][:300])
            return b""

    def lookup(
        self,
        caller: Caller,
        *,
        subject: str = "",
        person_id: str = "",
        purpose: str,
        authorisation: str,
    ) -> LookupResult:
        """Authorise, gather, log the audit statement (durably), then return.

        Raises:
            LookupNotAuthorisedError: see ``authorise``; nothing is logged.
            IdentifierError: see ``resolve_subject``; nothing is logged.
        """
        authorise(caller, purpose, authorisation)
        subj = resolve_subject(self._node, subject, person_id)
        now = self._clock()
        with self._holdings.views() as views:
            found = [*self._own(subj.id, now, views), *self._mirrored(subj.id, now, views)]
            completeness = self._completeness(subj.id, now, views)
        if caller.role != "peer":  # a forwarded lookup is never forwarded again
            found = self._forwarded(found, subj.id, purpose, authorisation)
        served = sum(1 for f in found if f.bundle is not None)
        audit = audit_record(
            self._node.home.region,
            subj,
            caller.name,
            caller.fingerprint,
            purpose,
            authorisation,
            served=served,
            withheld=len(found) - served,
            now=now,
        )
        result = self._node.issue([audit], iat=now)[0]
        return LookupResult(subj.id, tuple(found), result, completeness)
