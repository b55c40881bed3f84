"""``Manifest``: a verified manifest chain as a ``TrustPolicy``.

Issuer keys with their windows over every version (a key a later version drops stays
valid for iat before that version), current and retired log keys (a retired or dropped
one closed when it left, so it is not trusted forever), for each origin the
*other* members' witness keys with the quorum k, and the recognition agreements and
repair delegations with their effective windows. Build it with ``verify_manifest_chain``.
Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from credex.ledger.keys import compute_kid
from credex.ledger.manifest.agreements import Delegation, Recognition
from credex.ledger.manifest.body import ManifestBody
from credex.ledger.manifest.signing import SignedManifest
from credex.ledger.statement import Statement
from credex.ledger.trust import TrustedIssuer, TrustedLog, TrustedWitness

__all__ = [
    "Manifest",
]


class Manifest:
    """A verified manifest chain, as a ``TrustPolicy``. Build with ``verify_manifest_chain``.

    - issuers: every key of the latest version with its window; a key that a later
      version no longer lists keeps its last window, closed at that version's
      ``issued_at`` (old bundles stay verifiable, new ones are refused).
    - logs: every member's current and retired log keys, in every version. A retired
      key is valid until its ``retired_at``; a key a later version no longer lists (a
      member removed or replaced) until that version's ``issued_at``. A key past its
      window vouches only for checkpoints cosigned before it closed (verify step 6).
    - witnesses for an origin: the latest version's *other* members' witness keys (a
      log's own witness never counts toward its quorum); quorum: k.
    """

    def __init__(self, versions: tuple[SignedManifest, ...], bodies: tuple[ManifestBody, ...]):
        self.versions = versions
        self.bodies = bodies
        latest = bodies[-1]
        current: dict[tuple[str, bytes], TrustedIssuer] = {}
        issuers: dict[tuple[str, bytes], TrustedIssuer] = {}
        logs: dict[bytes, TrustedLog] = {}
        for body in bodies:
            listed: dict[tuple[str, bytes], TrustedIssuer] = {}
            listed_logs: dict[bytes, TrustedLog] = {}
            for m in body.members:
                for i in m.issuers:
                    listed[(i.issuer_id, i.key)] = TrustedIssuer(
                        i.issuer_id,
                        m.region,
                        i.key,
                        i.valid_from,
                        i.valid_until,
                        frozenset(i.kinds),
                    )
                listed_logs[compute_kid(m.log_key)] = TrustedLog(
                    m.origin, m.log_note_name, m.log_key
                )
                for r in m.retired_log_keys:
                    listed_logs[compute_kid(r.key)] = TrustedLog(
                        m.origin, r.note_name, r.key, r.retired_at
                    )
            for kid, log in list(logs.items()):  # dropped by this version: closed at issued_at
                if kid not in listed_logs and (
                    log.valid_until is None or log.valid_until > body.issued_at
                ):
                    logs[kid] = dataclasses.replace(log, valid_until=body.issued_at)
            logs.update(listed_logs)
            for k, old in list(issuers.items()):  # dropped by this version: closed at issued_at
                if k not in listed and k in current:
                    until = body.issued_at
                    if old.valid_until is not None:
                        until = min(until, old.valid_until)
                    issuers[k] = dataclasses.replace(old, valid_until=max(until, old.valid_from))
            issuers.update(listed)
            current = listed
        self._issuers: dict[bytes, list[TrustedIssuer]] = {}
        for t in issuers.values():
            self._issuers.setdefault(t.kid, []).append(t)
        self._logs = logs
        self._origins = {
            m.origin: TrustedLog(m.origin, m.log_note_name, m.log_key) for m in latest.members
        }
        self._witnesses = [
            (m.origin, TrustedWitness(m.witness_name, m.witness_key)) for m in latest.members
        ]
        self._recognitions = _effective_recognitions(bodies)
        self._delegations = _effective_delegations(bodies)

    @property
    def latest(self) -> ManifestBody:
        return self.bodies[-1]

    @property
    def federation(self) -> str:
        return self.latest.federation

    @property
    def hash(self) -> bytes:
        """The latest version's hash."""
        return self.versions[-1].hash

    def issuers_for_kid(self, kid: bytes) -> Sequence[TrustedIssuer]:
        return self._issuers.get(kid, [])

    def log_for_kid(self, kid: bytes) -> TrustedLog | None:
        return self._logs.get(kid)

    def log_for_origin(self, origin: str) -> TrustedLog | None:
        return self._origins.get(origin)

    def witnesses_for(self, origin: str) -> Sequence[TrustedWitness]:
        return [w for o, w in self._witnesses if o != origin]

    def quorum_for(self, origin: str) -> int:
        return self.latest.quorum

    @property
    def recognitions(self) -> tuple[Recognition, ...]:
        """Every agreement with its effective window: the latest version's as listed,
        and those a later version dropped, closed at that version's ``issued_at``."""
        return self._recognitions

    def recognition_for(
        self,
        region: str,
        source_region: str,
        kind: str,
        issuer: str,
        policy_leaf_hash: bytes,
        at: int,
    ) -> Recognition | None:
        """The agreement under which ``region`` may recognise a ``kind`` record of
        ``source_region`` signed by ``issuer``, converted under the policy with leaf hash
        ``policy_leaf_hash``, at time ``at``; ``None`` if there is none."""
        return next(
            (
                r
                for r in self._recognitions
                if r.matches(region, source_region, kind, issuer, policy_leaf_hash, at)
            ),
            None,
        )

    @property
    def delegations(self) -> tuple[Delegation, ...]:
        """Every repair delegation with its effective window, as ``recognitions``."""
        return self._delegations

    def delegation_for(self, region: str, issuer: str, kind: str, at: int) -> Delegation | None:
        """The delegation letting ``issuer`` act on ``region``'s ``kind`` records at ``at``;
        ``None`` if there is none."""
        return next((d for d in self._delegations if d.matches(region, issuer, kind, at)), None)

    def repair_authorised(self, target: Statement, stmt: Statement) -> bool:
        """``status_at``'s ``authorised_repairers``, for every status-changing statement
        (objection, resolution, repair, withdrawal, outcome: the one authority rule,
        ``lifecycle.rules.check_authority``): True when a delegation of ``target``'s
        region covers ``stmt``'s issuer for ``target``'s kind at ``stmt``'s iat (the
        finding's own issuer needs none: 谁认定、谁修复). The region is the one the manifest
        gives the target's issuer (a record's region is bound to it, verify step 2), so a
        hash envelope without its body is judged too."""
        regions = {
            i.region for i in self.issuers_for_kid(target.kid) if i.issuer_id == target.claims.iss
        }
        if target.has_body:
            regions &= {target.record.region}
        return any(
            self.delegation_for(region, stmt.claims.iss, target.kind, stmt.claims.iat) is not None
            for region in regions
        )


def _effective_delegations(bodies: Sequence[ManifestBody]) -> tuple[Delegation, ...]:
    """The delegations of a chain as trust: the latest version's as listed; one a later
    version drops keeps its window, closed at that version's ``issued_at``."""
    closed: list[Delegation] = []
    current: tuple[Delegation, ...] = ()
    for body in bodies:
        for d in current:
            if d in body.delegations:
                continue
            until = body.issued_at if d.valid_until is None else min(d.valid_until, body.issued_at)
            if until > d.valid_from:
                closed.append(dataclasses.replace(d, valid_until=until))
        current = body.delegations
    return (*current, *sorted(closed, key=Delegation.sort_key))


def _effective_recognitions(bodies: Sequence[ManifestBody]) -> tuple[Recognition, ...]:
    """The agreements of a chain as trust (see ``Manifest.recognitions``)."""
    closed: list[Recognition] = []
    current: tuple[Recognition, ...] = ()
    for body in bodies:
        for r in current:
            if r in body.recognitions:
                continue
            until = body.issued_at if r.valid_until is None else min(r.valid_until, body.issued_at)
            if until > r.valid_from:  # a window that never opened is dropped
                closed.append(dataclasses.replace(r, valid_until=until))
        current = body.recognitions
    return (*current, *sorted(closed, key=Recognition.sort_key))
