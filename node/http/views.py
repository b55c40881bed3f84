"""What the public HTTP side shows of a node: its log, a record, its federation.

Read-only views built from a ``LocalNode`` (and its mirrors), as the models of
``models.py``; the JSON API returns them and the explorer pages render them.

Privacy: a person's record is shown as its hash envelope only (kind, issuer, dates of
signing, the subject's keyed pseudonym); its body never is, and its status is computed
from the lifecycle statements alone, never from the body (a body's dates are body
content too). This module does not render HTML or JSON.
"""

from __future__ import annotations

from typing import Any

from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import CredexError, NotFoundError, RecordWithheldError
from credex.ledger.indexing import lifecycle_in
from credex.ledger.lifecycle import STATUS_KINDS, Status, status_at
from credex.ledger.manifest import Manifest
from credex.ledger.statement import Statement
from credex.ledger.storage.base import StoredCheckpoint
from credex.node.federation.mirrors import MirrorBundles
from credex.node.local import LocalNode
from credex.node.services.lifecycle import status_of
from credex.node.services.sharing import require_shared

from .models import (
    ChainLink,
    CheckpointInfo,
    CheckpointList,
    FederationInfo,
    IssuerInfo,
    LifecycleEvidence,
    LogInfo,
    ManifestVersionInfo,
    MemberInfo,
    RecordInfo,
    StatusInfo,
)

__all__ = [
    "checkpoint_history",
    "checkpoint_info",
    "federation_info",
    "jsonable",
    "log_info",
    "record_info",
]

#: checkpoints per page of history
MAX_CHECKPOINTS = 100


def jsonable(value: Any) -> Any:
    """A record body value as JSON: bytes as hex, maps and lists recursively."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def checkpoint_info(cp: StoredCheckpoint, origin: str) -> CheckpointInfo:
    note = SignedNote.from_text(cp.note)
    cosigners = sorted({s.name for s in note.signatures if s.name != origin})
    return CheckpointInfo(
        tree_size=cp.tree_size,
        root=cp.root.hex(),
        created_at=cp.created_at,
        note=cp.note,
        cosigners=cosigners,
    )


def log_info(node: LocalNode) -> LogInfo:
    latest = node.store.latest_checkpoint()
    return LogInfo(
        origin=node.home.origin,
        region=node.home.region,
        tree_size=node.log.size,
        checkpoint=None if latest is None else checkpoint_info(latest, node.home.origin),
    )


def checkpoint_history(node: LocalNode, limit: int, below: int | None) -> CheckpointList:
    limit = max(1, min(limit, MAX_CHECKPOINTS))
    found = node.store.list_checkpoints(limit + 1, below)
    more = len(found) > limit
    shown = found[:limit]
    return CheckpointList(
        checkpoints=[checkpoint_info(cp, node.home.origin) for cp in shown],
        next_below=shown[-1].tree_size if more and shown else None,
    )


def _evidence(lifecycle: list[tuple[int, Statement]], status: Status) -> list[LifecycleEvidence]:
    wanted = set(status.evidence)
    return [
        LifecycleEvidence(
            leaf_hash=st.leaf_hash.hex(),
            index=i,
            kind=st.kind,
            issuer=st.claims.iss,
            iat=st.claims.iat,
        )
        for i, st in lifecycle
        if st.leaf_hash.hex() in wanted
    ]


def _status(node: LocalNode, index: int, st: Statement, now: int) -> StatusInfo | None:
    if st.kind in STATUS_KINDS or st.kind in ("policy.conversion", "federation.manifest"):
        return None
    lifecycle = lifecycle_in(node.log, st.leaf_hash)
    if st.is_envelope:  # from the lifecycle statements alone: never the body's dates
        status = status_at(st, lifecycle, now)
    else:
        status = status_of(node, st.leaf_hash, now)[1]
    withheld: str | None = None
    try:
        require_shared(node.statement_at(index), lifecycle, now)
    except RecordWithheldError as e:
        withheld = "no longer shared" if st.is_envelope else str(e)
    return StatusInfo(
        state=status.state,
        as_of=status.as_of,
        usable_for=dict(status.usable_for),
        reasons=[] if st.is_envelope else list(status.reasons),
        outcome=status.outcome,
        evidence=_evidence(lifecycle, status),
        shared=withheld is None,
        withheld=withheld,
    )


def _where(node: LocalNode, mirrors: MirrorBundles | None, leaf: bytes) -> tuple[str, str] | None:
    """(origin, kind) of ``leaf`` in this node's log or a mirror."""
    try:
        entry = node.log.entry(node.log.index_of(leaf))
        return node.home.origin, entry.kind
    except NotFoundError:
        pass
    for origin in [] if mirrors is None else mirrors.origins():
        try:
            with mirrors.view(origin) as view:  # type: ignore[union-attr]
                i = view.log.index_of(leaf)
                return origin, view.log.entry(i).kind
        except CredexError:
            continue
    return None


def _chain(node: LocalNode, mirrors: MirrorBundles | None, st: Statement) -> list[ChainLink]:
    if not st.kind.startswith("derived.") or not st.has_body:
        return []
    refs = st.record.refs
    out = []
    for k, ref in enumerate(refs):
        found = _where(node, mirrors, ref)
        out.append(
            ChainLink(
                role="policy" if k == len(refs) - 1 else "source",
                leaf_hash=ref.hex(),
                kind=None if found is None else found[1],
                origin=None if found is None else found[0],
            )
        )
    return out


def record_info(
    node: LocalNode, leaf: bytes, now: int, mirrors: MirrorBundles | None = None
) -> RecordInfo:
    """The record with leaf hash ``leaf`` in this node's log.

    Raises:
        NotFoundError: no such leaf here.
    """
    index = node.log.index_of(leaf)
    entry = node.log.entry(index)
    st = Statement.from_bytes(entry.leaf)  # never with a body attached
    record = st.record if st.has_body else None
    covered = node.store.latest_checkpoint()
    return RecordInfo(
        leaf_hash=leaf.hex(),
        index=index,
        origin=node.home.origin,
        kind=st.kind,
        issuer=st.claims.iss,
        iat=st.claims.iat,
        subject=st.claims.sub,
        subject_type="person" if st.claims.sub.startswith("hmac:") else "org",
        envelope=st.is_envelope,
        body=None if record is None else jsonable(dict(record.body)),
        valid_from=None if record is None else record.valid_from,
        valid_until=None if record is None else record.valid_until,
        refs=[] if record is None else [r.hex() for r in record.refs],
        covered=covered is not None and index < covered.tree_size,
        status=_status(node, index, st, now),
        chain=_chain(node, mirrors, st),
    )


def federation_info(manifest: Manifest) -> FederationInfo:
    latest = manifest.bodies[-1]
    members = [
        MemberInfo(
            region=m.region,
            origin=m.origin,
            endpoint=m.endpoint,
            log_key=m.log_key.hex(),
            log_note_name=m.log_note_name,
            witness_name=m.witness_name,
            witness_key=m.witness_key.hex(),
            issuers=[
                IssuerInfo(
                    issuer_id=i.issuer_id,
                    public_key=i.key.hex(),
                    valid_from=i.valid_from,
                    valid_until=i.valid_until,
                    kinds=list(i.kinds),
                )
                for i in m.issuers
            ],
        )
        for m in latest.members
    ]
    return FederationInfo(
        federation=latest.federation,
        version=latest.version,
        pin=manifest.versions[0].hash.hex(),
        quorum=latest.quorum,
        members=members,
        recognitions=[
            {
                "region": r.region,
                "recognises": r.recognises,
                "kinds": list(r.kinds),
                "issuers": list(r.issuers),
                "policies": [p.hex() for p in r.policies],
                "valid_from": r.valid_from,
                "valid_until": r.valid_until,
            }
            for r in latest.recognitions
        ],
        delegations=[
            {
                "region": d.region,
                "issuer": d.issuer,
                "kinds": list(d.kinds),
                "valid_from": d.valid_from,
                "valid_until": d.valid_until,
            }
            for d in latest.delegations
        ],
        versions=[
            ManifestVersionInfo(
                version=b.version,
                hash=v.hash.hex(),
                issued_at=b.issued_at,
                members=len(b.members),
                quorum=b.quorum,
            )
            for v, b in zip(manifest.versions, manifest.bodies, strict=True)
        ],
    )
