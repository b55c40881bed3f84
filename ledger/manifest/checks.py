"""Checks against the manifest's agreements: recognitions (verify step 8) and repair
delegations (step 7's ``authorised_repairers``). Pure; trust material without agreements
(a ``credex-trust/1`` file) checks nothing here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from credex.ledger.dates import cst_time
from credex.ledger.errors import (
    RecognitionRefusedError,
)
from credex.ledger.manifest.agreements import Recognition
from credex.ledger.statement import Statement

__all__ = [
    "DelegationTrust",
    "RecognitionTrust",
    "authorised_repairers",
    "check_recognition",
    "require_recognition",
]


@runtime_checkable
class RecognitionTrust(Protocol):
    """Trust material that carries recognition agreements (``Manifest``)."""

    def recognition_for(
        self,
        region: str,
        source_region: str,
        kind: str,
        issuer: str,
        policy_leaf_hash: bytes,
        at: int,
    ) -> Recognition | None: ...


def require_recognition(
    trust: RecognitionTrust,
    region: str,
    source_region: str,
    kind: str,
    issuer: str,
    policy_leaf_hash: bytes,
    at: int,
) -> Recognition | None:
    """The agreement covering one recognition; ``None`` when the source is ``region``'s
    own (converting a region's own records is not a recognition).

    Raises:
        RecognitionRefusedError: ``region`` recognises from another region with no
            agreement covering kind, issuer, policy and time.
    """
    if region == source_region:
        return None
    found = trust.recognition_for(region, source_region, kind, issuer, policy_leaf_hash, at)
    if found is None:
        raise RecognitionRefusedError(
            f"recognition: {region} has no agreement to recognise {kind} from "
            f"{source_region} under policy {policy_leaf_hash.hex()[:16]}… at {cst_time(at)} "
            f"(source issuer {issuer})"
        )
    return found


def check_recognition(
    trust: object,
    derived: Statement,
    sources: Sequence[Statement],
    policy: Statement,
) -> None:
    """Verification step 8's agreement check for verified statements: every source of
    ``derived`` from another region must be covered by an agreement of ``trust`` for the
    derived record's region, the source's kind and issuer, the policy and the derived
    statement's ``iat``. Trust without agreements (a ``credex-trust/1`` file) checks
    nothing.

    Raises:
        RecognitionRefusedError: a source no agreement covers.
    """
    if not isinstance(trust, RecognitionTrust):
        return
    for source in sources:
        require_recognition(
            trust,
            derived.record.region,
            source.record.region,
            source.record.kind,
            source.claims.iss,
            policy.leaf_hash,
            derived.claims.iat,
        )


@runtime_checkable
class DelegationTrust(Protocol):
    """Trust material that carries repair delegations (``Manifest``)."""

    def repair_authorised(self, target: Statement, stmt: Statement) -> bool: ...


def authorised_repairers(trust: object) -> Callable[[Statement, Statement], bool] | None:
    """The ``authorised_repairers`` callable for ``status_at`` from trust material: a
    manifest's delegations, or ``None`` for trust without them (a ``credex-trust/1``
    file: only the finding's own issuer may repair)."""
    if isinstance(trust, DelegationTrust):
        return trust.repair_authorised
    return None
