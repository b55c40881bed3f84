"""The ``policy.conversion`` record of a validated policy: its subject id and the record.
Pure.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from credex.ledger import encoding
from credex.ledger.policy.scale import Scale
from credex.ledger.policy.validate import validate_policy
from credex.ledger.record import SUBJECTLESS_PREFIX, Record, Subject

__all__ = [
    "build_policy_record",
    "policy_subject_id",
]


def policy_subject_id(name: str, version: int, rules: Mapping[str, Any]) -> str:
    """``hmac:00000000:<sha256 hex of the deterministic CBOR of the policy body>``."""
    body = {"name": name, "version": version, "rules": dict(rules)}
    return SUBJECTLESS_PREFIX + hashlib.sha256(encoding.encode(body)).hexdigest()


def build_policy_record(
    name: str,
    version: int,
    rules: Mapping[str, Any],
    region: str,
    now: int,
    registry: Mapping[str, Scale] | None = None,
) -> Record:
    """A ``policy.conversion`` record for ``rules`` (validated first).

    Raises:
        PolicyDefinitionError: ``rules`` is not a valid policy (see validate_policy).
        RecordError: a bad name, version or region.
    """
    validate_policy(dict(rules), registry)
    return Record(
        kind="policy.conversion",
        region=region,
        subject=Subject("person", policy_subject_id(name, version, rules)),
        body={"name": name, "version": version, "rules": dict(rules)},
        valid_from=now,
    )
