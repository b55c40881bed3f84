"""Offline bundle verification, step by step (docs/spec.md §3, FORMATS.md order).

Steps, numbered as in docs/spec.md and in every message:

    1-6            decode, issuer (key, kind, region, time the log attests), signature,
                   inclusion, receipt, checkpoint: ``credex.ledger.verify_steps``, for
                   this bundle and every nested one
    7 status       lifecycle statements (each a verified bundle referencing this record),
                   complete as the log's attestation says (required for a purpose:
                   ``StatusNotProvenError``); a hash envelope whose body the bundle lacks
                   stops here (BodyNotHeldError)
    8 derivation   sources and policy of a derived record (verified recursively; each
                   source's status by the step 7 rule)

``run_verification`` returns a report (never raises a ``CredexError``: the first failing
step is recorded with its error); ``verify_bundle`` raises that error. Pure: the trust
material comes in, no clock, no files.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Final

from credex.ledger.bundle import Bundle
from credex.ledger.dates import cst_time
from credex.ledger.errors import (
    BodyNotHeldError,
    CredexError,
    DerivationMismatchError,
    PolicyError,
    StatusNotProvenError,
    VerificationError,
)
from credex.ledger.lifecycle import LifecycleTargetError, Status, status_at
from credex.ledger.manifest.checks import authorised_repairers, check_recognition
from credex.ledger.record_json import record_json
from credex.ledger.statement import Statement
from credex.ledger.status_proof import check_status_proof
from credex.ledger.trust import TrustPolicy
from credex.ledger.verify_report import STEPS, Run, StepResult, VerificationReport, described
from credex.ledger.verify_steps import Cache, Checked, verify_one

__all__ = [
    "STEPS",
    "StepResult",
    "VerificationReport",
    "Verifier",
    "run_verification",
    "verify_bundle",
]  # the report types are ``credex.ledger.verify_report``'s, re-exported here


#: states refused when no purpose is given; a purpose applies its own rules (lifecycle)
_REFUSED_WITHOUT_PURPOSE: Final = frozenset({"repaired", "withdrawn", "corrected", "superseded"})
#: kinds made by a rule policy (``credex.ledger.rules.record.EVALUATION_KINDS``; a test
#: keeps them in step): loaded only when one is verified
_EVALUATION_KINDS: Final = ("derived.decision", "derived.grade")


def _described(checked: Checked) -> dict[str, object]:
    """A verified nested bundle's statement, where it is logged."""
    return described(checked.statement, checked.checkpoint.origin, checked.receipt.leaf_index)


def _proven(
    checked: Checked,
    subs: list[Checked],
    purpose: str | None,
    what: str,
    status_proof: bytes | None,
) -> str:
    """(7) Whether the bundle carries every lifecycle statement about the record in its
    log as of its checkpoint (docs/spec.md step 7 and §5.3); returns how it is known, for
    the narrative.

    The ``status_proof`` (the verifiable index's lookup proof of the record's status key,
    against the root the checkpoint commits to) proves it: the carried statements of the
    record's log below the checkpoint's size must be exactly those the index lists. An
    attestation, when carried, must agree with the statements too (the log's signed word,
    also about when it logged the entry). Statements of other logs (a delegate's) or
    logged later are counted when carried; their absence is not proven.

    Raises:
        StatusNotProvenError: no status proof when a purpose is asked, or an attestation
            the bundle contradicts (with or without a purpose).
        IndexProofError: a status proof that does not prove the statements carried.
    """
    att = checked.attestation
    if att is not None:
        carried = {c.statement.leaf_hash for c in subs}
        missing = sum(1 for h in att.status if h not in carried)
        unlisted = sum(
            1
            for c in subs
            if c.checkpoint.origin == att.origin
            and c.receipt.leaf_index < att.size
            and c.statement.leaf_hash not in att.status
        )
        if missing or unlisted:
            raise StatusNotProvenError(
                f"{what}: not proven: the log's attestation lists {len(att.status)} lifecycle "
                f"statements as of size {att.size}; the bundle lacks {missing} of them and "
                f"carries {unlisted} it does not list"
            )
    if status_proof is not None:
        return check_status_proof(
            checked.statement.leaf_hash,
            checked.checkpoint,
            [(c.checkpoint.origin, c.receipt.leaf_index, c.statement.leaf_hash) for c in subs],
            status_proof,
            what,
        )
    if purpose is not None:
        raise StatusNotProvenError(
            f"{what}: not proven for {purpose}: the bundle carries no status_proof (the "
            "index lookup proof of its status key as of its checkpoint), so it cannot show "
            "that no repair, withdrawal, objection or correction exists (ask a node for the "
            "record's bundle: GetBundle, Lookup, credex bundle)"
        )
    if att is None:
        return "status not proven (no status_proof): the statements carried"
    return (
        f"status not proven (no status_proof); attested complete in {att.origin} as of "
        f"size {att.size} by {checked.attested_by}"
    )


def _repairers(trust: TrustPolicy, cache: Cache) -> Callable[[Statement, Statement], bool] | None:
    """``authorised_repairers(trust)``, worked out once per verifier."""
    memo = cache.repairers
    if memo is None or memo[0] is not trust:
        memo = (trust, authorised_repairers(trust))
        cache.repairers = memo
    return memo[1]


def _status_of(
    bundle: Bundle,
    checked: Checked,
    trust: TrustPolicy,
    run: Run,
    depth: int,
    cache: Cache,
    as_of: int | None,
    purpose: str | None,
    what: str,
) -> tuple[Status, str]:
    """The record's ``Status`` from the verified lifecycle statements its bundle carries,
    and how they are known to be complete (``_proven``).

    Statements are ordered by (iat, log index): the index is each status bundle's
    receipt's ``leaf_index`` (docs/spec.md step 7). Every status-changing statement by an
    issuer other than the record's counts only when the trust is a manifest whose
    delegations authorise it (``authorised_repairers``)."""
    st = checked.statement
    checked_subs = [verify_one(sub, trust, run, depth + 1, cache) for sub in bundle.status]
    subs = [c.statement for c in checked_subs]
    positions: dict[bytes, int] = {}
    for c in checked_subs:
        if not c.statement.record.refs or c.statement.record.refs[0] != st.leaf_hash:
            raise VerificationError(
                f"status: lifecycle statement {c.statement.leaf_hash.hex()[:16]}… "
                "does not reference this record (refs[0])"
            )
        positions[c.statement.leaf_hash] = c.receipt.leaf_index
    proof = _proven(checked, checked_subs, purpose, what, bundle.status_proof)
    # no clock here: without as_of, "now" is the latest signed time the bundle carries
    when = as_of if as_of is not None else max([st.claims.iat, *(s.claims.iat for s in subs)])
    try:
        status = status_at(
            st,
            subs,
            when,
            authorised_repairers=_repairers(trust, cache),
            positions=positions,
        )
    except LifecycleTargetError as e:
        raise VerificationError(f"status: {e}") from e
    return status, proof


def _status(
    bundle: Bundle,
    checked: Checked,
    trust: TrustPolicy,
    run: Run,
    cache: Cache,
    purpose: str | None = None,
    as_of: int | None = None,
) -> tuple[str, str]:
    """(7) The record's legal status, refused if not usable for ``purpose`` (or, without
    a purpose, repaired, withdrawn, corrected or superseded), or if not proven for it."""
    status, proof = _status_of(bundle, checked, trust, run, 0, cache, as_of, purpose, "status")
    if purpose is not None:
        why = status.refusal(purpose)
        if why is not None:
            raise PolicyError(f"status: not usable for {purpose}: {why}")
    elif status.state in _REFUSED_WITHOUT_PURPOSE:
        raise VerificationError(
            f"status: the record is {status.state} as of the checkpoint: {status.reasons[0]}"
        )
    return status.state, proof


def _source_status(
    number: int,
    bundle: Bundle,
    checked: Checked,
    trust: TrustPolicy,
    run: Run,
    cache: Cache,
    purpose: str | None,
    as_of: int | None,
) -> None:
    """(8) Source ``number``'s status by the step 7 rule, with the same purpose and
    as_of; the error names the source (its position in refs, kind and leaf)."""
    st = checked.statement
    what = f"source {number} ({st.record.kind} {st.leaf_hash.hex()[:16]}…)"
    status, _ = _status_of(bundle, checked, trust, run, 1, cache, as_of, purpose, what)
    why = status.reasons[0] if status.reasons else status.state
    if purpose is not None:
        status.refusal(purpose)  # an unknown purpose is named as at step 7
        if not status.usable_for[purpose]:
            raise PolicyError(
                f"derivation: {what} is not usable for {purpose}: it is {status.state} "
                f"as of {cst_time(status.as_of)}: {why}"
            )
    elif status.state in _REFUSED_WITHOUT_PURPOSE:
        raise VerificationError(f"derivation: {what} is {status.state} as of its checkpoint: {why}")


def _evaluation(
    bundle: Bundle,
    st: Statement,
    checked_sources: list[Checked],
    rule: Statement,
    trust: TrustPolicy,
    run: Run,
    cache: Cache,
) -> str:
    """(8) for an evaluation: each evidence record's status as of the evaluation's own
    ``as_of`` (from the lifecycle statements its bundle carries), then the rule replayed
    (``credex.ledger.rules.verify``). Returns the step's detail, with the rule's grade."""
    from credex.ledger.rules.verify import verify_evaluation

    as_of = st.record.body.get("as_of")
    if type(as_of) is not int or as_of < 0:
        raise DerivationMismatchError(
            "derivation: an evaluation must name its as_of (Unix seconds)"
        )
    statuses = [
        _status_of(sub, src, trust, run, 1, cache, as_of, None, f"evidence {n}")[0]
        for n, (sub, src) in enumerate(zip(bundle.sources, checked_sources, strict=True))
    ]
    sources = [c.statement for c in checked_sources]
    verify_evaluation(st, sources, statuses, rule)
    body = st.record.body
    result = body.get("grade", body.get("result"))
    return (
        f"{len(sources)} evidence record(s) and rule {body.get('rule')} v{body.get('version')} "
        f"({rule.leaf_hash.hex()[:16]}…) verified; the evaluation replays: {result} "
        f"[{body.get('provenance')}]"
    )


class Verifier:
    """Verifies bundles against one trust policy, remembering log signatures it has
    already checked on identical bytes (safe: only successful checks are cached)."""

    def __init__(
        self, trust: TrustPolicy, *, purpose: str | None = None, as_of: int | None = None
    ) -> None:
        self.trust = trust
        self.purpose = purpose
        self.as_of = as_of
        self._cache = Cache()

    def run(self, data: bytes) -> VerificationReport:
        """Verify a bundle's bytes; the report narrates each step and names the first
        failure. Never raises a ``CredexError``."""
        report = VerificationReport()
        run = Run(report)
        trust, cache = self.trust, self._cache
        try:
            try:
                bundle = Bundle.from_bytes(data)
            except CredexError as e:
                run.fail(1, e)
                raise
            checked = verify_one(bundle, trust, run, 0, cache)
            st = checked.statement
            # (7) status
            try:
                if not st.has_body:  # status needs the record: an envelope without its body
                    raise BodyNotHeldError(
                        "status: the record body is not in this bundle: it is kept off-log "
                        f"by {st.claims.iss} at the node of log {report.origin}; ask that "
                        "node with an authorised lookup (Query.Lookup over mTLS)"
                    )
                report.status, proof = _status(
                    bundle, checked, trust, run, cache, self.purpose, self.as_of
                )
            except CredexError as e:
                if report.failed_step is None:
                    run.fail(7, e)
                raise
            run.ok(
                7, f"{len(bundle.status)} lifecycle statements ({proof}); status {report.status}"
            )
            # (8) derivation: sources and policy verified recursively (steps 1-6 each),
            # each source's status by the step 7 rule (same purpose and as_of), then refs
            # (sources in order, policy last) and the conversion replayed
            detail = "not a derived record"
            try:
                is_derived = st.record.kind.startswith("derived.")
                if not is_derived and (bundle.sources or bundle.policy is not None):
                    raise VerificationError(
                        "derivation: sources or policy given for a record that is not derived"
                    )
                # an evaluation (a rule's code, grade or decision) may rest on no evidence
                evaluation = st.record.kind in _EVALUATION_KINDS
                if is_derived:
                    if bundle.policy is None or not (bundle.sources or evaluation):
                        raise VerificationError(
                            "derivation: a derived record's bundle must carry its sources "
                            "and its policy"
                        )
                    checked_sources = [
                        verify_one(sub, trust, run, 1, cache) for sub in bundle.sources
                    ]
                    for n, (sub, src) in enumerate(
                        zip(bundle.sources, checked_sources, strict=True)
                    ):
                        _source_status(n, sub, src, trust, run, cache, self.purpose, self.as_of)
                    sources = [c.statement for c in checked_sources]
                    checked_policy = verify_one(bundle.policy, trust, run, 1, cache)
                    policy_st = checked_policy.statement
                    if evaluation:
                        detail = _evaluation(
                            bundle, st, checked_sources, policy_st, trust, run, cache
                        )
                    else:
                        # the policy engine is loaded only when a derived record is verified
                        from credex.ledger.derive import verify_derivation

                        verify_derivation(st.record, sources, policy_st)
                        if getattr(trust, "recognition_for", None) is not None:
                            check_recognition(trust, st, sources, policy_st)  # agreements
                        detail = (
                            f"{len(sources)} source(s) and policy "
                            f"{policy_st.leaf_hash.hex()[:16]}… verified; conversion replays"
                        )
                    report.derivation = {
                        "sources": [_described(c) for c in checked_sources],
                        "policy": _described(checked_policy),
                    }
            except CredexError as e:
                if report.failed_step is None:
                    run.fail(8, e)
                raise
            run.ok(8, detail)
            report.record = record_json(st.record)
        except CredexError:
            pass
        return report

    def run_many(self, bundles: Sequence[bytes], *, threads: int = 2) -> list[VerificationReport]:
        """``run`` of each bundle, the reports in the same order; never raises a
        ``CredexError``.

        With ``threads`` > 1 the bundles are shared out among that many threads: PyNaCl
        releases the GIL while it checks a signature, so one thread's Ed25519 runs while
        another decodes (the pure-Python part still takes turns). Thread-safe: the cache
        only remembers successful checks, and a race at worst checks one twice."""
        if threads < 1:
            raise ValueError("verify: threads must be at least 1")
        reports: list[VerificationReport | None] = [None] * len(bundles)
        if threads == 1 or len(bundles) < 2 * threads:
            return [self.run(b) for b in bundles]

        def work(start: int) -> None:
            for i in range(start, len(bundles), threads):
                reports[i] = self.run(bundles[i])

        workers = [threading.Thread(target=work, args=(k,)) for k in range(1, threads)]
        for w in workers:
            w.start()
        try:
            work(0)
        finally:
            for w in workers:
                w.join()
        done = [r for r in reports if r is not None]
        if len(done) != len(bundles):  # a worker died of a non-credex error
            raise RuntimeError("verify: a verification thread failed")
        return done

    def verify(self, data: bytes) -> VerificationReport:
        """Like ``run`` but raises the first failing step's error (see verify_bundle)."""
        report = self.run(data)
        if report.error is not None:
            raise report.error
        return report


def run_verification(
    data: bytes, trust: TrustPolicy, *, purpose: str | None = None, as_of: int | None = None
) -> VerificationReport:
    """Verify one bundle with a fresh ``Verifier``; never raises a ``CredexError``.

    ``purpose`` ("punitive" / "eligibility") refuses a record not usable for it at
    ``as_of`` (default: the latest signed time in the bundle)."""
    return Verifier(trust, purpose=purpose, as_of=as_of).run(data)


def verify_bundle(
    data: bytes, trust: TrustPolicy, *, purpose: str | None = None, as_of: int | None = None
) -> VerificationReport:
    """Verify a bundle.

    Raises:
        CredexError: the first failing step's error (FormatError, PolicyError,
            SignatureError, InclusionProofError, CheckpointError, ...); its ``step``
            attribute holds the step number.
    """
    return Verifier(trust, purpose=purpose, as_of=as_of).verify(data)
