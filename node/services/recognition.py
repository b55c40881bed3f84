"""Recognition at a node: conversion policies and derived records (issue #4).

The node-side glue between the pure ``credex.ledger`` rules and a ``LocalNode``:

- ``add_policy``: parse a policy file value ``{"name", "version", "rules"}``, embed the
  registry's scale definitions (so the policy replays from the signed statement alone),
  validate it and sign + log a ``policy.conversion`` record. Nothing is logged when the
  policy is refused.
- ``recognize``: verify a source bundle (another region's, against the trust given),
  look the policy up in this node's log, build the ``derived.*`` record, check that
  this node's federation manifest (if it has one) holds an agreement covering it
  (``RecognitionRefusedError`` otherwise), sign + log it, keep the source bundle beside
  the log (``LocalNode.derivations``: every later bundle of the derived record carries
  it) and return the bundle that carries the source and the policy (verify step 8).

Lifecycle statements are ``credex.node.services.lifecycle``. Time is passed in (``now``);
this module does not print or read files.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from credex.adapters.schemes import embed_schemes, registry_scales
from credex.ledger import strict_json
from credex.ledger.bundle import Bundle
from credex.ledger.derive import build_derived_record
from credex.ledger.errors import ConfigError, FormatError, OversizeError
from credex.ledger.manifest import require_recognition
from credex.ledger.policy import PolicyDefinitionError, build_policy_record, validate_policy
from credex.ledger.statement import Statement
from credex.ledger.trust import TrustPolicy
from credex.ledger.verify import Verifier
from credex.node.federation.manifests import load_chain, load_manifest
from credex.node.local import IssueResult, LocalNode, find_statement

__all__ = [
    "POLICY_FILE_FIELDS",
    "Recognition",
    "add_policy",
    "builtin_policies",
    "builtin_policy",
    "policy_file_parts",
    "policy_file_value",
    "recognize",
]

#: the fields of a policy file (``credex policy add``)
POLICY_FILE_FIELDS: Final = ("name", "rules", "version")


#: a policy file's size limit (band tables and field maps fit in a few KiB)
MAX_POLICY_FILE_BYTES: Final = 256 * 1024


def builtin_policies() -> list[str]:
    """The names of the policy files shipped with credex (``adapters/policies``)."""
    root = resources.files("credex.adapters") / "policies"
    return sorted(p.name.removesuffix(".json") for p in root.iterdir() if p.name.endswith(".json"))


def builtin_policy(name: str) -> bytes:
    """The bytes of the shipped policy file ``name`` (``credex policy add --builtin``).

    Raises:
        ConfigError: no such policy (the shipped names are listed).
    """
    names = builtin_policies()
    if name not in names:
        raise ConfigError(
            f"policy: no built-in policy {name!r}: expected one of {', '.join(names)}"
        )
    return (resources.files("credex.adapters") / "policies" / f"{name}.json").read_bytes()


def policy_file_value(data: bytes) -> Any:
    """The JSON value of a policy file's bytes (strict UTF-8 JSON: no duplicate keys,
    no NaN, floats kept so ``validate_policy`` can name where one is).

    Raises:
        OversizeError: over ``MAX_POLICY_FILE_BYTES``.
        PolicyDefinitionError: not UTF-8, not JSON, a duplicate key, over the depth limit.
    """
    try:
        return strict_json.loads(data, "policy", max_bytes=MAX_POLICY_FILE_BYTES, allow_floats=True)
    except OversizeError:
        raise
    except FormatError as e:
        detail = str(e).removeprefix("policy: ")
        raise PolicyDefinitionError(f"policy: file is not valid json: {detail}") from None


def policy_file_parts(value: Any) -> tuple[str, int, Any]:
    """(name, version, rules) of a policy file value, the rules validated.

    Raises:
        PolicyDefinitionError: not a map of exactly name, version, rules; a bad name or
            version; rules that are not valid (see ``validate_policy``).
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
    return name, version, rules


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
    name, version, rules = policy_file_parts(value)
    embedded = embed_schemes(rules)
    record = build_policy_record(name, version, embedded, node.home.region, now)
    return node.issue([record], issuer_id=issuer_id, iat=now)[0]


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
    # what it rests on, for every later bundle of it (credex bundle, GetBundle, lookups)
    node.derivations.put(result.leaf_hash, policy.leaf_hash, [source_b.to_bytes()], now)
    node.publish_checkpoint(now)  # one checkpoint covers the derived record and the policy
    # the operator's own record, with its status attested (it verifies for a purpose)
    own = node.bundle_with_status(result.index, now, with_body=True)
    out = Bundle(
        own.statement,
        own.checkpoint,
        status=own.status,
        sources=(source_b,),
        policy=node.bundle(policy_index, now),
        preimage=own.preimage,  # a person's derived record: its hash-envelope body
        attestation=own.attestation,
        status_proof=own.status_proof,
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
