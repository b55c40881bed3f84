"""Derived records: build one under a conversion policy, verify one (issue #4 point 2).

``refs`` order (fixed, checked exactly): the source records' leaf hashes in the order
given, then the policy's leaf hash last: ``[source_0, ..., source_n-1, policy]``. Version
1 policies take exactly one source.

- ``build_derived_record``: a ``derived.score`` / ``derived.report`` about the source's
  subject, body = ``apply_policy(...)``, ``valid_from`` = ``now``, ``valid_until`` = the
  earliest ``valid_until`` of the sources (a conversion never outlives its source).
- ``verify_derivation``: verification step 8 on already verified statements (steps 1-7
  are the caller's): refs match the given statements, the policy statement is a
  ``policy.conversion`` whose rules are valid, and the derived record replays.

This module does not sign, log, store or read the clock (``now`` is an argument).
"""

from __future__ import annotations

from collections.abc import Sequence

from credex.ledger.policy import (
    ConversionError,
    DerivationMismatchError,
    apply_policy,
    check_source,
    replay,
    validate_policy,
)
from credex.ledger.record import Record
from credex.ledger.statement import Statement

__all__ = ["build_derived_record", "verify_derivation"]


def build_derived_record(
    policy_record: Record,
    policy_leaf_hash: bytes,
    source_records: Sequence[tuple[Record, bytes]],
    region: str,
    now: int,
) -> Record:
    """The derived record for ``source_records`` (record, leaf hash) under the policy.

    Raises:
        ConversionError: the policy record is not a ``policy.conversion``; not exactly
            one source; the source does not fit the policy; the source has expired at
            ``now``.
        PolicyDefinitionError: the policy's rules are invalid.
        RecordError: a bad region, or leaf hashes that are not 32 bytes.
    """
    if policy_record.kind != "policy.conversion":
        raise ConversionError(
            f"derive: policy record kind: expected 'policy.conversion', got {policy_record.kind!r}"
        )
    policy = validate_policy(policy_record.body["rules"])
    if len(source_records) != 1:
        raise ConversionError(
            f"derive: expected exactly 1 source record, got {len(source_records)}"
        )
    source, _ = source_records[0]
    check_source(policy, source)
    body = apply_policy(policy, source.body)
    untils = [r.valid_until for r, _ in source_records if r.valid_until is not None]
    valid_until = min(untils) if untils else None
    if valid_until is not None and valid_until < now:
        raise ConversionError(
            f"derive: source record expired: valid until {valid_until}, now {now}"
        )
    return Record(
        kind=policy.output_kind,
        region=region,
        subject=source.subject,
        body=body,
        valid_from=now,
        valid_until=valid_until,
        refs=(*(h for _, h in source_records), policy_leaf_hash),
    )


def verify_derivation(derived: Record, sources: Sequence[Statement], policy: Statement) -> None:
    """Check that ``derived`` follows from ``sources`` and ``policy`` (step 8).

    The statements must already be verified (steps 1-6); this checks only the link.

    Raises:
        DerivationMismatchError: not a derived kind; the policy statement is not a
            ``policy.conversion``; refs differ from the statements' leaf hashes (order
            included); a field that does not replay (named).
        PolicyDefinitionError: the signed policy's rules are invalid.
    """
    if not derived.kind.startswith("derived."):
        raise DerivationMismatchError(f"derivation: not a derived record: kind {derived.kind!r}")
    if policy.record.kind != "policy.conversion":
        raise DerivationMismatchError(
            "derivation: policy statement kind: expected 'policy.conversion', "
            f"got {policy.record.kind!r}"
        )
    expected = (*(s.leaf_hash for s in sources), policy.leaf_hash)
    if len(derived.refs) != len(expected):
        raise DerivationMismatchError(
            f"derivation: refs count: expected {len(expected)} (sources then policy), "
            f"got {len(derived.refs)}"
        )
    for i, (want, got) in enumerate(zip(expected, derived.refs, strict=True)):
        if want != got:
            what = "policy" if i == len(expected) - 1 else f"source {i}"
            raise DerivationMismatchError(
                f"derivation: ref {i} ({what}) does not match the bundle: expected "
                f"{want.hex()[:16]}…, got {got.hex()[:16]}…"
            )
    rules = validate_policy(policy.record.body["rules"])
    replay(rules, [s.record for s in sources], derived)
