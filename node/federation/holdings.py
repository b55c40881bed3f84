"""What a node holds of the federation's logs, and a record's lifecycle across them.

A lifecycle statement about a record counts wherever it is logged: the record's issuer
logs a repair in its own log, a delegate (an issuer of another member the manifest
authorises) in *its* own log, and every member mirrors every other. So a node that judges
a record, for its status, for sharing it, or for the status bundles a bank verifies,
reads the statements naming it from its own log *and* from every mirror it holds (each up
to the mirror's signed root; ``credex.ledger.indexing.lifecycle_in``, an index read), and
folds them with ``credex.ledger.lifecycle.status_at`` under the repair delegations of the
manifest in force (``Manifest.repair_authorised``): a statement its issuer was not
authorised to make is ignored, with its reason, wherever it was logged. Statements in the
record's own log are ordered by their position there; the others by time (then hash).

``Holdings`` also builds the bundles a node hands out:

- ``own_bundle``: a record of this node's log with the status bundles of every statement
  about it (its own log's receipts, the mirrors' root signatures), on the newest
  checkpoint that meets the witness quorum when there is one, and for a derived record
  its sources and policy (``LocalNode.derivations``);
- ``mirror_bundle`` / ``bundle``: a mirrored peer record likewise (``GetBundle`` with
  ``origin``), refused once it is no longer shared;
- ``handout``: what an operator's ``credex bundle`` hands a bank, waiting if asked for
  the witness quorum.

This module decides where statements are found and how they are combined; what a
statement may do is ``credex.ledger.lifecycle``'s. It does not print.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import FormatError, NotFoundError, OutOfRangeError
from credex.ledger.indexing import lifecycle_in
from credex.ledger.lifecycle import Status, status_at
from credex.ledger.manifest import Manifest
from credex.ledger.statement import Statement
from credex.node.federation.manifests import load_chain, load_manifest
from credex.node.federation.mirrors import MirrorBundles, MirrorView
from credex.node.federation.quorum import cosigned_checkpoint, cosigners, wait_cosigned
from credex.node.local import LocalNode, find_statement
from credex.node.services.sharing import require_shared

__all__ = ["Handout", "Held", "Holdings", "Views", "handout"]

#: the open mirror views, by origin
Views = Mapping[str, MirrorView]


@dataclass(frozen=True, slots=True)
class Held:
    """One logged statement as this node holds it: in ``origin``'s log at ``index``."""

    origin: str
    index: int
    statement: Statement


def _manifest_of(node: LocalNode) -> Manifest | None:
    return load_manifest(node.home) if load_chain(node.home) else None


class Holdings:
    """A node's own log and its mirrors (``mirrors``; None: none), judged together.

    ``manifest``: the manifest in force (default: read from the home's files on each
    call; a server passes ``ManifestWatch.current``). ``clock``: Unix seconds.
    ``Holdings.of(node)``: with every mirror the home keeps.
    """

    def __init__(
        self,
        node: LocalNode,
        *,
        mirrors: MirrorBundles | None = None,
        manifest: Callable[[], Manifest | None] | None = None,
        clock: Callable[[], int] = lambda: int(time.time()),
    ) -> None:
        self.node = node
        self.mirrors = mirrors
        self._manifest = manifest or (lambda: _manifest_of(node))
        self._clock = clock

    @classmethod
    def of(cls, node: LocalNode) -> Holdings:
        """The holdings of ``node``'s home: its log and every mirror it keeps."""
        return cls(node, mirrors=MirrorBundles(node.home))

    @property
    def origin(self) -> str:
        return self.node.home.origin

    def manifest(self) -> Manifest | None:
        return self._manifest()

    def authorised(self) -> Callable[[Statement, Statement], bool] | None:
        """The manifest's repair delegations (``status_at``'s ``authorised_repairers``)."""
        m = self._manifest()
        return None if m is None else m.repair_authorised

    @contextmanager
    def views(self) -> Iterator[dict[str, MirrorView]]:
        """Every mirror this node holds a signed root of, open for reading."""
        with ExitStack() as stack:
            out: dict[str, MirrorView] = {}
            mirrors = self.mirrors
            if mirrors is not None:
                for origin in mirrors.origins():
                    try:
                        out[origin] = stack.enter_context(mirrors.view(origin))
                    except (NotFoundError, FormatError):
                        continue  # no usable signed root yet: nothing of it is served
            yield out

    # -- finding and judging ------------------------------------------------------------

    def lifecycle(self, target_leaf_hash: bytes, views: Views) -> list[Held]:
        """Every lifecycle statement about ``target_leaf_hash``: this node's log, then each
        mirror up to its signed root (a statement held twice counts once)."""
        node = self.node
        node.log.refresh()
        found = [Held(self.origin, i, st) for i, st in lifecycle_in(node.log, target_leaf_hash)]
        for origin, view in sorted(views.items()):
            found += [
                Held(origin, i, st) for i, st in lifecycle_in(view.log, target_leaf_hash, view.size)
            ]
        seen: set[bytes] = set()
        out = []
        for h in found:
            if h.statement.leaf_hash not in seen:
                seen.add(h.statement.leaf_hash)
                out.append(h)
        return out

    def status(self, target: Statement, held: Sequence[Held], origin: str, as_of: int) -> Status:
        """The status at ``as_of`` of ``target`` (a record of ``origin``'s log)."""
        statements, positions = _split(held, origin)
        return status_at(
            target,
            statements,
            as_of,
            authorised_repairers=self.authorised(),
            positions=positions,
        )

    def require_shared(
        self, target: Statement, held: Sequence[Held], origin: str, now: int
    ) -> None:
        """Raise ``RecordWithheldError`` unless ``target`` may still be handed out."""
        statements, positions = _split(held, origin)
        require_shared(
            target, statements, now, authorised_repairers=self.authorised(), positions=positions
        )

    # -- bundles ------------------------------------------------------------------------

    def checkpoint_for(self, index: int) -> SignedNote | None:
        """The newest checkpoint of this log covering ``index`` that meets the witness
        quorum (None: none yet, or no manifest: the latest is used)."""
        m = self._manifest()
        return None if m is None else cosigned_checkpoint(self.node, self.node.home, m, index)

    def _status_bundles(
        self, held: Sequence[Held], views: Views, note: SignedNote | None, now: int
    ) -> tuple[Bundle, ...]:
        out = []
        for h in held:
            if h.origin == self.origin:
                if note is not None and h.index >= note.checkpoint.size:
                    continue  # logged after the checkpoint the record rests on
                out.append(self.node.bundle(h.index, now, checkpoint=note))
            else:
                out.append(self._mirrored_plain(views, h))
        return tuple(out)

    def _mirrored_plain(self, views: Views, h: Held) -> Bundle:
        """The plain bundle of a statement ``h`` held in a mirror, on the newest mirrored
        checkpoint meeting the quorum that covers it (else the mirror's latest)."""
        return views[h.origin].covering(self._manifest(), h.index).plain(h.index)

    def own_bundle(
        self,
        index: int,
        now: int,
        views: Views,
        *,
        status: bool = True,
        shared_only: bool = False,
        fresh: bool = False,
        with_body: bool = False,
    ) -> Bundle:
        """The bundle of entry ``index`` of this node's log: with the status bundles of
        every statement about it and this log's attestation that those it holds are all
        (``status``), on the newest checkpoint meeting the quorum (else the latest;
        ``fresh``: publish one of the current tree first), and for a derived record its
        sources and policy. ``with_body``: as ``LocalNode.bundle`` (an authorised,
        audited path only).

        Raises:
            RecordWithheldError: ``shared_only`` and the record is no longer shared.
            BodyErasedError / OutOfRangeError: as ``LocalNode.bundle``.
        """
        node = self.node
        size = node.log.size if 0 <= index < node.log.size else node.log.refresh()
        if not 0 <= index < size:
            raise OutOfRangeError(
                f"bundle: leaf index out of range: expected < {size}, got {index}"
            )
        target = node.statement_at(index)
        held = self.lifecycle(target.leaf_hash, views) if status or shared_only else []
        if shared_only:
            self.require_shared(target, held, self.origin, now)
        if fresh:
            node.publish_checkpoint(now)
        note = self.checkpoint_for(self._cover(index, held))
        own = node.bundle(index, now, checkpoint=note, with_body=with_body)
        note = SignedNote.from_text(own.checkpoint)
        sources, policy = self._derivation(target, now, note)
        return Bundle(
            own.statement,
            own.checkpoint,
            status=self._status_bundles(held, views, note, now) if status else (),
            sources=sources,
            policy=policy,
            preimage=own.preimage,
            attestation=node.attest(index, note, now) if status else None,
            status_proof=node.status_proof(target.leaf_hash, note) if status else None,
        )

    def _cover(self, index: int, held: Sequence[Held]) -> int:
        """The last entry of this log a bundle of ``index`` with ``held`` must include."""
        return max([index, *(h.index for h in held if h.origin == self.origin)])

    def wait_cosigned(self, index: int, views: Views, timeout_s: float) -> tuple[bool, float]:
        """Wait up to ``timeout_s`` until a checkpoint covering entry ``index`` and the
        statements about it here meets the witness quorum (the server's follow loop
        collects cosignatures), and, for each statement about it held in a mirror, a
        mirrored checkpoint of that log covering it does; returns (met, seconds waited).
        No manifest: (True, 0)."""
        m = self._manifest()
        if m is None:
            return True, 0.0
        held = self.lifecycle(self.node.statement_at(index).leaf_hash, views)
        note, waited = wait_cosigned(
            self.node, self.node.home, m, self._cover(index, held), timeout_s
        )
        if note is None:
            return False, waited
        # the statements held in mirrors: each on a mirrored checkpoint meeting the quorum
        start = time.monotonic() - waited
        for origin in sorted({h.origin for h in held if h.origin != self.origin}):
            last = max(h.index for h in held if h.origin == origin)
            if not self._wait_mirrored(origin, last, m, start + timeout_s):
                return False, time.monotonic() - start
        return True, time.monotonic() - start

    def _wait_mirrored(self, origin: str, index: int, m: Manifest, deadline: float) -> bool:
        """Wait until ``deadline`` (monotonic) for this node's mirror of ``origin`` to keep
        a checkpoint meeting the quorum that covers entry ``index`` (the follow loop
        keeps it, ``cosigned.keep_cosigned``)."""
        mirrors = self.mirrors
        if mirrors is None:
            return False
        while mirrors.cosigned_size(origin, m) <= index:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(0.25, left))
        return True

    def _derivation(
        self, target: Statement, now: int, note: SignedNote
    ) -> tuple[tuple[Bundle, ...], Bundle | None]:
        if not target.kind.startswith("derived."):
            return (), None
        kept = self.node.derivations.get(target.leaf_hash)
        if kept is None:
            return (), None
        policy_index, _ = find_statement(self.node, kept.policy)
        policy = self.node.bundle(policy_index, now, checkpoint=note)
        return tuple(Bundle.from_bytes(s) for s in kept.sources), policy

    def mirror_bundle(
        self, origin: str, ref: int | bytes, now: int, views: Views
    ) -> tuple[int, Bundle]:
        """(index, bundle with status) of a record in this node's mirror of ``origin``.

        Raises:
            NotFoundError: ``origin`` not mirrored here (or no signed root yet), no leaf.
            OutOfRangeError: an index beyond the mirror's signed root.
            RecordWithheldError: the record is no longer shared.
        """
        view = views.get(origin)
        if view is None:
            raise NotFoundError(f"mirror: no signed root of {origin!r} held here")
        index = view.index_of(ref)
        target = Statement.from_bytes(view.log.entry(index).leaf)
        held = self.lifecycle(target.leaf_hash, views)
        self.require_shared(target, held, origin, now)
        # on the newest mirrored checkpoint meeting the quorum that covers the record and
        # the statements about it in the same log (else the latest, as before)
        cover = max([index, *(h.index for h in held if h.origin == origin)])
        view = view.covering(self._manifest(), cover)
        own = view.plain(index)
        attestation = view.attest(index, now)
        own_notes = {h.index: self.checkpoint_for(h.index) for h in held if h.origin == self.origin}
        status = []
        for h in held:
            if h.origin == self.origin:
                status.append(self.node.bundle(h.index, now, checkpoint=own_notes[h.index]))
            elif h.origin == origin:
                status.append(view.plain(h.index))
            else:
                status.append(self._mirrored_plain(views, h))
        return index, Bundle(
            own.statement,
            own.checkpoint,
            status=tuple(status),
            attestation=attestation,
            status_proof=view.status_proof(index),
        )

    def bundle(self, origin: str, ref: int | bytes) -> tuple[int, Bundle]:
        """``MirrorBackend`` for the Log service's ``GetBundle`` with ``origin``."""
        with self.views() as views:
            return self.mirror_bundle(origin, ref, self._clock(), views)


def _split(held: Sequence[Held], origin: str) -> tuple[list[Statement], dict[bytes, int]]:
    """The statements, and the log positions of those in ``origin``'s log (positions in
    different logs do not compare)."""
    statements = [h.statement for h in held]
    positions = {h.statement.leaf_hash: h.index for h in held if h.origin == origin}
    return statements, positions


@dataclass(frozen=True, slots=True)
class Handout:
    """A bundle of this node's own record for a bank, and whether its checkpoint carries
    the witness quorum (``quorum``: k, None without a manifest; ``cosigners``: how many
    of the other members cosigned it; ``waited``: seconds spent waiting for them;
    ``mirrored``: False when a wait ended before the statements it carries from mirrors
    were on mirrored checkpoints meeting the quorum)."""

    bundle: Bundle
    quorum: int | None
    cosigners: int
    waited: float
    mirrored: bool = True

    @property
    def quorum_met(self) -> bool:
        return self.mirrored and (self.quorum is None or self.cosigners >= self.quorum)


def handout(
    node: LocalNode,
    index: int,
    now: int,
    *,
    status: bool = True,
    fresh: bool = False,
    wait_s: float = 0.0,
    with_body: bool = False,
) -> Handout:
    """The bundle of entry ``index`` a bank verifies (``Holdings.own_bundle``: with its
    sources and policy if derived, with every statement about it and this log's
    attestation if ``status``; ``with_body``: an enveloped record's body, for the
    operator's own files): on a checkpoint meeting the witness quorum, waiting up to
    ``wait_s`` seconds for the server's follow loop to collect one (``fresh``: publish
    first, so statements just logged are covered).

    Raises:
        OutOfRangeError / BodyErasedError: as ``LocalNode.bundle``.
    """
    holdings = Holdings.of(node)
    waited = 0.0
    met = True
    if fresh:
        node.publish_checkpoint(now)
    if wait_s > 0:
        with holdings.views() as views:
            met, waited = holdings.wait_cosigned(index, views, wait_s)
    with holdings.views() as views:  # opened afresh: the mirrors' kept checkpoints moved
        bundle = holdings.own_bundle(index, now, views, status=status, with_body=with_body)
    m = holdings.manifest()
    if m is None:
        return Handout(bundle, None, 0, waited)
    origin = node.home.origin
    got = cosigners(SignedNote.from_text(bundle.checkpoint), m, origin)
    k = m.quorum_for(origin)
    # a failed wait with this log's checkpoint cosigned: the mirrored statements were not
    return Handout(bundle, k, got, waited, mirrored=met or got < k)
