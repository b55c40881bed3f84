"""The JSON shapes of the public HTTP API (pydantic models; FastAPI documents them in
OpenAPI, committed as docs/openapi.json).

Hashes and keys are lowercase hex; times are Unix seconds; a person is only ever named by
the keyed pseudonym of the statement's ``sub`` (``hmac:<keyid>:<hex>``), and a person's
record body is never a field here (``body`` is null for a hash envelope). No model has
room for a ``preimage``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "ChainLink",
    "CheckpointInfo",
    "CheckpointList",
    "ConsistencyProof",
    "FederationInfo",
    "InclusionProof",
    "IndexItem",
    "IndexProofInfo",
    "IssuerInfo",
    "LifecycleEvidence",
    "LogInfo",
    "ManifestVersionInfo",
    "MemberInfo",
    "RecordInfo",
    "StatusInfo",
]


class CheckpointInfo(BaseModel):
    tree_size: int
    root: str
    created_at: int
    #: the signed-note text (C2SP tlog-checkpoint), with witness cosignatures
    note: str
    #: names of the note's signatures other than the log's own (witnesses)
    cosigners: list[str]


class LogInfo(BaseModel):
    origin: str
    region: str
    #: entries appended (durable); the latest checkpoint may cover fewer
    tree_size: int
    checkpoint: CheckpointInfo | None


class CheckpointList(BaseModel):
    checkpoints: list[CheckpointInfo]
    #: pass as ``below`` for the next page (null: no more)
    next_below: int | None


class LifecycleEvidence(BaseModel):
    leaf_hash: str
    index: int
    kind: str
    issuer: str
    iat: int


class StatusInfo(BaseModel):
    state: str
    as_of: int
    usable_for: dict[str, bool]
    reasons: list[str]
    outcome: str | None
    evidence: list[LifecycleEvidence]
    #: false once the record is no longer shared (repaired, withdrawn, ...)
    shared: bool
    withheld: str | None


class ChainLink(BaseModel):
    role: str = Field(description="source or policy")
    leaf_hash: str
    kind: str | None
    origin: str | None


class RecordInfo(BaseModel):
    leaf_hash: str
    index: int
    origin: str
    kind: str
    issuer: str
    iat: int
    subject: str
    subject_type: str
    #: a person's record: an RFC 9995 hash envelope whose body stays off the public side
    envelope: bool
    body: dict[str, Any] | None
    valid_from: int | None
    valid_until: int | None
    refs: list[str]
    #: whether the latest signed checkpoint covers the entry (bundles need one)
    covered: bool
    #: null for lifecycle statements and policies (they have no status of their own)
    status: StatusInfo | None
    chain: list[ChainLink]


class InclusionProof(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str
    root: str
    proof: list[str]


class ConsistencyProof(BaseModel):
    old_size: int
    new_size: int
    old_root: str
    new_root: str
    proof: list[str]


class IssuerInfo(BaseModel):
    issuer_id: str
    public_key: str
    valid_from: int
    valid_until: int | None
    kinds: list[str]


class MemberInfo(BaseModel):
    region: str
    origin: str
    endpoint: str
    log_key: str
    log_note_name: str
    witness_name: str
    witness_key: str
    issuers: list[IssuerInfo]


class ManifestVersionInfo(BaseModel):
    version: int
    hash: str
    issued_at: int
    members: int
    quorum: int


class FederationInfo(BaseModel):
    federation: str
    version: int
    #: hash of version 1: what a verifier pins
    pin: str
    quorum: int
    members: list[MemberInfo]
    recognitions: list[dict[str, Any]]
    delegations: list[dict[str, Any]]
    versions: list[ManifestVersionInfo]


class IndexItem(BaseModel):
    index: int
    leaf_hash: str
    #: the entry's record kind (subject index only)
    kind: str | None = None


class IndexProofInfo(BaseModel):
    """A verifiable-index lookup proof (docs/index.md §3) as of a signed checkpoint."""

    origin: str
    tree_size: int
    #: the signed note whose ``credex-index/v1`` line holds the root the proof reaches
    checkpoint: str
    #: the 32-byte index key (hex): a subject key or a record's status key (spec §5.1)
    key: str
    #: the proven value (hex), null when the key is absent (a non-membership proof)
    value: str | None
    #: the lookup proof, deterministic CBOR (hex)
    proof: str
    #: what the value chains, in log order: the subject's entries or the status statements
    items: list[IndexItem]
