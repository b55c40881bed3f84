"""Recognition and lifecycle on one node: policies, derived records, status (issue #4).

The node-side glue between the pure ``credex.ledger`` rules and a ``LocalNode``:

- ``add_policy``: parse a policy file value ``{"name", "version", "rules"}``, embed the
  registry's scale definitions (so the policy replays from the signed statement alone),
  validate it and sign + log a ``policy.conversion`` record. Nothing is logged when the
  policy is refused.
- ``recognize``: verify a source bundle (another region's, against the trust given),
  look the policy up in this node's log, build the ``derived.*`` record, check that
  this node's federation manifest (if it has one) holds an agreement covering it
  (``RecognitionRefusedError`` otherwise), sign + log it and return the bundle that
  carries the source and the policy (verify step 8).
- ``add_lifecycle``: build a lifecycle record about a record in this node's log or in
  its mirror of a peer's log (refs[0] = its leaf hash, same subject and region), run
  ``validate_lifecycle`` against the lifecycle statements this node has already logged
  for it, with the repair delegations of this node's manifest (if it has one), and only
  then sign + log it.
- ``status_of``: the status of a logged (or mirrored) record as of a time, from the
  lifecycle statements in this node's log, ordered by (iat, log index).
- ``lifecycle_entries``: the logged lifecycle statements about one record.
- ``find_target``: a record in this node's log or in one of its peers' mirrors.

Finding the lifecycle statements of a record is one read of the log's ``target`` index
(``refs[0]``, a column of ``entries``), not a scan.

Time is passed in (``now``); this module does not print or read files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from credex.adapters.schemes import embed_schemes, registry_scales
from credex.ledger.bundle import Bundle
from credex.ledger.dates import cst_day
from credex.ledger.derive import build_derived_record
from credex.ledger.errors import NotFoundError
from credex.ledger.lifecycle import (
    LifecycleError,
    LifecycleStateError,
    Status,
    status_at,
    validate_lifecycle,
)
from credex.ledger.log import AppendOnlyLog
from credex.ledger.manifest import require_recognition
from credex.ledger.policy import PolicyDefinitionError, build_policy_record, validate_policy
from credex.ledger.record import Record
from credex.ledger.statement import Statement
from credex.ledger.storage.sql import SqlStore
from credex.ledger.trust import TrustPolicy
from credex.ledger.verify import Verifier
from credex.node.federation.manifests import load_chain, load_manifest
from credex.node.federation.peers import PeerRegistry, mirror_url
from credex.node.services.sharing import lifecycle_in

if TYPE_CHECKING:
    from credex.node.local import IssueResult, LocalNode

__all__ = [
    "POLICY_FILE_FIELDS",
    "Recognition",
    "add_lifecycle",
    "add_policy",
    "find_statement",
    "find_target",
    "lifecycle_entries",
    "recognize",
    "status_of",
]

#: the fields of a policy file (``credex policy add``)
POLICY_FILE_FIELDS: Final = ("name", "rules", "version")


def add_policy(
    node: LocalNode, value: Any, *, issuer_id: str | None = None, now: int
) -> IssueResult:
    """Validate a policy file value and sign + log its ``policy.conversion`` record.

    Schemes named by ``source_scheme`` / ``target_scheme`` that the registry knows are
    embedded under ``rules.schemes`` first (``embed_schemes``).

    Raises:
        PolicyDefinitionError: not a map of exactly name, version, rules; a bad name or
            version; rules that are not valid (not total, not monotonic, unknown fields
            or schemes, floats: see ``validate_policy``).
        RecordError: a bad region.
        NotFoundError / KindNotAuthorisedError: the issuer cannot sign policies.
    """
    if not isinstance(value, dict):
        raise PolicyDefinitionError("policy: file must hold a json object")
    extra = sorted(str(k) for k in value if k not in POLICY_FILE_FIELDS)
    if extra:
        raise PolicyDefinitionError(f"policy: file has unknown fields: {', '.join(extra)}")
    missing = [k for k in POLICY_FILE_FIELDS if k not in value]
    if missing:
        raise PolicyDefinitionError(f"policy: file is missing fields: {', '.join(missing)}")
    name, version, rules = value["name"], value["version"], value["rules"]
    if not isinstance(name, str) or not name:
        raise PolicyDefinitionError("policy: name must be non-empty text")
    if type(version) is not int or version < 1:
        raise PolicyDefinitionError(f"policy: version must be an integer >= 1, got {version!r}")
    # validated against the registry first, so an unknown scheme is a named policy error
    validate_policy(rules, registry_scales())
    embedded = embed_schemes(rules)
    record = build_policy_record(name, version, embedded, node.home.region, now)
    return node.issue([record], issuer_id=issuer_id, iat=now)[0]


def find_statement(node: LocalNode, leaf_hash: bytes) -> tuple[int, Statement]:
    """The index and statement of the entry with ``leaf_hash`` in this node's log.

    Raises:
        NotFoundError: no such entry.
    """
    index = node.log.index_of(leaf_hash)
    return index, node.statement_at(index)  # with the held body of an enveloped record


@dataclass(frozen=True, slots=True)
class Recognition:
    """A logged derived record and the bundle carrying its source and policy."""

    result: IssueResult
    bundle: Bundle
    source: Statement
    policy: Statement


def recognize(
    node: LocalNode,
    source_bundle: bytes,
    policy_leaf_hash: bytes,
    trust: TrustPolicy,
    *,
    issuer_id: str | None = None,
    now: int,
) -> Recognition:
    """Convert a verified source record under a logged policy; sign + log the result.

    Raises:
        CredexError: the source bundle fails verification as of ``now`` (the failing
            step's error, its message prefixed).
        NotFoundError: no entry with ``policy_leaf_hash`` in this node's log.
        ConversionError: the entry is not a policy, or the source does not fit it or
            has expired.
        RecognitionRefusedError: this node has a federation manifest and no agreement
            in it lets this region recognise the source's kind from its region, issuer,
            under this policy, now. Nothing is logged.
    """
    report = Verifier(trust, as_of=now).run(source_bundle)
    if report.error is not None:
        err = report.error
        raise type(err)(f"recognize: source bundle fails step {report.failed_step}: {err}") from err
    source_b = Bundle.from_bytes(source_bundle)
    source = Statement.from_bytes(source_b.statement, source_b.preimage)
    policy_index, policy = find_statement(node, policy_leaf_hash)
    derived = build_derived_record(
        policy.record,
        policy.leaf_hash,
        [(source.record, source.leaf_hash)],
        node.home.region,
        now,
    )
    _require_agreement(node, source, policy.leaf_hash, now)
    result = node.issue([derived], issuer_id=issuer_id, iat=now)[0]
    node.publish_checkpoint(now)  # one checkpoint covers the derived record and the policy
    own = node.bundle(result.index, now)
    out = Bundle(
        own.statement,
        own.checkpoint,
        sources=(source_b,),
        policy=node.bundle(policy_index, now),
        preimage=own.preimage,  # a person's derived record: its hash-envelope body
    )
    return Recognition(result, out, source, policy)


def _require_agreement(node: LocalNode, source: Statement, policy_leaf: bytes, now: int) -> None:
    """Refuse a recognition no agreement of this node's manifest covers (no manifest: no
    agreements to keep; a federation member recognises only under its manifest)."""
    if not load_chain(node.home):
        return
    require_recognition(
        load_manifest(node.home),
        node.home.region,
        source.record.region,
        source.record.kind,
        source.claims.iss,
        policy_leaf,
        now,
    )


def lifecycle_entries(
    node: LocalNode, target_leaf_hash: bytes, size: int | None = None
) -> list[tuple[int, Statement]]:
    """The lifecycle statements (``STATUS_KINDS``) in the first ``size`` entries of the
    log whose ``refs[0]`` is ``target_leaf_hash``, in log order: one read of the log's
    ``target`` index (``credex.node.services.sharing.lifecycle_in``)."""
    return lifecycle_in(node.log, target_leaf_hash, size)


def _mirrored(node: LocalNode, origin: str, leaf_hash: bytes) -> Statement | None:
    """The statement with ``leaf_hash`` in this node's mirror of ``origin`` (opened
    read-only, as ``MirrorBundles.bundle``), or ``None``."""
    store = SqlStore(mirror_url(node.home, origin))
    try:
        with AppendOnlyLog(store) as mirror:
            try:
                index = mirror.index_of(leaf_hash)
            except NotFoundError:
                return None
            return Statement.from_bytes(mirror.entry(index).leaf)
    finally:
        store.close()


def find_target(node: LocalNode, leaf_hash: bytes, origin: str | None = None) -> Statement:
    """The record with ``leaf_hash``: in this node's log, else in the mirror of each peer
    it follows (``credex peers``). With ``origin``, only that log is searched (this
    node's own origin, or a followed peer's).

    Raises:
        NotFoundError: not found there (the message names the leaf, short), or ``origin``
            is neither this node's nor a followed peer's.
    """
    short = leaf_hash.hex()[:16] + "…"
    own = node.home.origin
    if origin is None or origin == own:
        try:
            return find_statement(node, leaf_hash)[1]
        except NotFoundError:
            if origin is not None:
                raise NotFoundError(
                    f"lifecycle: target leaf hash not found: {short} (not in this node's log)"
                ) from None
    followed = [p.origin for p in PeerRegistry(node.home).list()]
    if origin is not None and origin not in followed:
        raise NotFoundError(
            f"lifecycle: {origin!r} is not this node's origin nor a peer it follows "
            f"(credex peers list), so record {short} cannot be found there"
        )
    for peer in [origin] if origin is not None else followed:
        st = _mirrored(node, peer, leaf_hash)
        if st is not None:
            return st
    where = f"the mirror of {origin}" if origin is not None else "this node's log or mirrors"
    raise NotFoundError(f"lifecycle: target leaf hash not found: {short} (not in {where})")


def _authorised(node: LocalNode) -> Callable[[Statement, Statement], bool] | None:
    """The repair delegations of this node's manifest (``None`` without a manifest)."""
    if not load_chain(node.home):
        return None
    return load_manifest(node.home).repair_authorised


def add_lifecycle(
    node: LocalNode,
    target_leaf_hash: bytes,
    kind: str,
    body: Mapping[str, Any],
    *,
    extra_refs: tuple[bytes, ...] = (),
    issuer_id: str | None = None,
    target_origin: str | None = None,
    now: int,
) -> IssueResult:
    """Validate, then sign + log, a lifecycle statement about a logged or mirrored record.

    The target is looked up with ``find_target`` (``target_origin``: only there). A
    repair, resolution or outcome by an issuer other than the target's is accepted when
    this node's manifest delegates it (``Manifest.repair_authorised``). ``body``'s date
    fields are ISO text; a date after the day of ``now`` is refused. Statements about
    one record are ordered by (iat, log index), so several may be signed in one second;
    one signed before the latest already logged is refused.

    Raises:
        NotFoundError: no record with ``target_leaf_hash`` (named, short) or no entry for
            an ``extra_refs`` hash in this node's log.
        LifecycleError and subclasses: what ``validate_lifecycle`` refuses (too early,
            unauthorised issuer, no open objection, ...), a date in the future, or
            (``LifecycleStateError``) a statement about the target already signed after
            ``now`` (times must not go backwards).
        RecordError: a body that does not fit the kind.
    """
    target = find_target(node, target_leaf_hash, target_origin)
    for ref in extra_refs:
        find_statement(node, ref)
    today = cst_day(now)
    for name in ("decided_on", "raised_on", "closed_on", "withdrawn_on", "verified_on"):
        value = body.get(name)
        if isinstance(value, str) and value > today:
            raise LifecycleError(
                f"lifecycle: {kind} field {name!r} is in the future: expected on or "
                f"before {today}, got {value}"
            )
    record = Record(
        kind=kind,
        region=target.record.region,
        subject=target.record.subject,
        body=dict(body),
        valid_from=now,
        refs=(target.leaf_hash, *extra_refs),
    )
    issuer = issuer_id or node.home.platform_issuer
    stmt = node.sign([record], issuer, now)[0]
    prior = [st for _, st in lifecycle_entries(node, target.leaf_hash)]
    if any(p.leaf_hash == stmt.leaf_hash for p in prior):
        return node.issue([record], issuer_id=issuer, iat=now)[0]  # already logged
    latest = max((p.claims.iat for p in prior), default=None)
    if latest is not None and latest > now:
        # status_at orders by (iat, log index): a later log position needs a time >= all
        raise LifecycleStateError(
            f"lifecycle: an earlier statement about this record was signed at {latest}, "
            f"after now ({now}); statements about one record cannot go back in time"
        )
    authorised = _authorised(node)
    ok = authorised is not None and authorised(target, stmt)
    validate_lifecycle(target, stmt, authorised=ok, prior=prior)
    return node.issue([record], issuer_id=issuer, iat=now)[0]


def status_of(
    node: LocalNode, target_leaf_hash: bytes, as_of: int, *, target_origin: str | None = None
) -> tuple[Statement, Status]:
    """The target statement and its status at ``as_of`` from this node's log (the
    target itself may be mirrored: see ``find_target``), with the delegations of this
    node's manifest.

    Raises:
        NotFoundError: no record with ``target_leaf_hash``.
        LifecycleError / DateFormatError: the target's window cannot be computed.
    """
    target = find_target(node, target_leaf_hash, target_origin)
    lifecycle = lifecycle_entries(node, target.leaf_hash)
    return target, status_at(target, lifecycle, as_of, authorised_repairers=_authorised(node))
