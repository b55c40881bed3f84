"""The credit record: the payload of every statement (FORMATS.md "record").

A ``Record`` is parsed and validated once, in its constructor; a ``Record`` that exists
is well-formed: known kind, required body fields present with the right types,
organisation subjects with a valid USCC or HK number, person subjects only as keyed
hashes (``hmac:<keyid>:<hex>``), no floats. ``to_bytes`` is deterministic CBOR;
``from_bytes`` refuses anything else.

The per-kind body fields are documented in docs/records.md; ``KIND_SPECS`` is the
single source the docs are checked against.

This module does not sign, hash or store records, and never sees a raw person ID.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

from credex.ledger import encoding
from credex.ledger.errors import CborError, OversizeError, RecordError, UnknownKindError
from credex.ledger.identifiers import REGION_RE, validate_org_id

__all__ = [
    "KINDS",
    "KIND_SPECS",
    "LIFECYCLE_KINDS",
    "MAX_RECORD_BYTES",
    "PERSON_ID_RE",
    "RECORD_VERSION",
    "SUBJECTLESS_KINDS",
    "SUBJECTLESS_PREFIX",
    "KindSpec",
    "Record",
    "Subject",
]

RECORD_VERSION: Final = 1
MAX_RECORD_BYTES: Final = 48 * 1024
PERSON_ID_RE: Final = re.compile(r"^hmac:[0-9a-f]{8}:[0-9a-f]{64}\Z")
_UINT64_MAX: Final = 2**64 - 1

SubjectType = Literal["org", "person"]


@dataclass(frozen=True, slots=True)
class KindSpec:
    """Required and optional body fields of one kind, with their CBOR types."""

    required: Mapping[str, str]
    optional: Mapping[str, str] = field(default_factory=dict)
    needs_refs: bool = False
    description: str = ""


_PENALTY_OPTIONAL: Final = {
    "subject_name": "text",
    "subject_category": "text",
    "violation_type": "text",
    "facts": "text",
    "basis": "text",
    "fine_wan": "text",
    "confiscation_wan": "text",
    "license_suspended": "text",
    "penalty_valid_until": "text",
    "publicity_until": "text",
    "source_unit": "text",
    "source_unit_uscc": "text",
    "severity": "text",
    "note": "text",
    "subject_flags": "list",
    "regime": "text",
}

_LICENSE_OPTIONAL: Final = {
    "subject_name": "text",
    "subject_category": "text",
    "doc_name": "text",
    "license_category": "text",
    "license_name": "text",
    "license_no": "text",
    "content": "text",
    "valid_from_date": "text",
    "valid_to_date": "text",
    "state": "text",
    "source_unit": "text",
    "source_unit_uscc": "text",
    "note": "text",
    "subject_flags": "list",
}

_EVALUATION_COMMON: Final = {
    "rule": "text",
    "version": "int",
    "as_of": "int",
    "provenance": "text",
    "facts": "map",
    "because": "text",
}

KIND_SPECS: Final[Mapping[str, KindSpec]] = {
    "score.city": KindSpec(
        {"scheme": "text", "score": "int", "band": "text", "as_of": "text"},
        {"level": "text", "consent_ref": "text"},
        description="a city personal credit score in its native scheme (天一分, 钱江分, 白鹭分)",
    ),
    "rating.enterprise": KindSpec(
        {"scheme": "text", "grade": "text", "rated_on": "text", "rater": "text"},
        {"score": "int", "period": "text", "subject_flags": "list"},
        description="an enterprise credit rating (tax A-D, customs, SAMR A-D, AAA-C)",
    ),
    "penalty.admin": KindSpec(
        {
            "decision_no": "text",
            "decision_date": "text",
            "penalty_types": "list",
            "content": "text",
            "authority": "text",
            "authority_uscc": "text",
        },
        _PENALTY_OPTIONAL,
        description="a 双公示 administrative penalty decision",
    ),
    "list.red": KindSpec(
        {"list_name": "text", "authority": "text", "listed_on": "text"},
        {
            "basis": "text",
            "basis_doc_no": "text",
            "incentives": "list",
            "list_until": "text",
            "removed_on": "text",
            "subject_name": "text",
        },
        description="a red-list (守信激励) entry",
    ),
    "list.black": KindSpec(
        {"list_name": "text", "authority": "text", "listed_on": "text", "reason": "text"},
        {
            "basis_doc_no": "text",
            "list_until": "text",
            "measures": "list",
            "removed_on": "text",
            "subject_name": "text",
        },
        description="a serious-dishonesty list (black list) entry",
    ),
    "court.dishonest-debtor": KindSpec(
        {"court": "text", "case_no": "text", "filed_on": "text", "listed_on": "text"},
        {
            "obligation": "text",
            "performance": "text",
            "circumstance": "text",
            "period_years": "int",
            "subject_name": "text",
            "court_uscc": "text",
            "basis_doc_issuer": "text",
            "basis_doc_no": "text",
            "state": "text",
            "deferred_until": "text",
            "removed_on": "text",
        },
        description="a court list entry of a dishonest judgment debtor (失信被执行人)",
    ),
    "commitment": KindSpec(
        {"commitment_type": "text", "matter": "text", "made_on": "text"},
        {"deadline": "text", "text_hash": "bytes"},
        description=(
            "a credit commitment (信用承诺); refs, when present: the check that admitted it "
            "(a derived.decision)"
        ),
    ),
    "commitment.breach": KindSpec(
        {"commitment_type": "text", "matter": "text", "breached_on": "text", "consequence": "text"},
        {"deadline": "text", "provenance": "text"},
        needs_refs=True,
        description=(
            "the negative record a breached commitment produces (refs: the commitment, "
            "then its BREACHED outcome)"
        ),
    ),
    "license.admin": KindSpec(
        {
            "decision_no": "text",
            "decision_date": "text",
            "authority": "text",
            "authority_uscc": "text",
        },
        _LICENSE_OPTIONAL,
        description="a 双公示 administrative licence decision (行政许可)",
    ),
    "report.hk": KindSpec(
        {"agency": "text", "report_id": "text", "report_date": "text", "company_name": "text"},
        {"rating": "text", "items": "map"},
        description="a Hong Kong credit agency company report",
    ),
    "derived.score": KindSpec(
        {"scheme": "text", "level": "text"},
        {"score": "int", "band": "text", "provenance": "text"},
        needs_refs=True,
        description="a score converted under a conversion policy (refs: sources, policy)",
    ),
    "derived.report": KindSpec(
        {"format": "text", "items": "map"},
        {"provenance": "text"},
        needs_refs=True,
        description="a report converted under a conversion policy (refs: sources, policy)",
    ),
    "derived.grade": KindSpec(
        {**_EVALUATION_COMMON, "scheme": "text", "grade": "text"},
        needs_refs=True,
        description=(
            "a code or grade computed by a rule policy (惠信码, 九鼎分, Huangpu A-D, Ningbo "
            "port classes; refs: the evidence, then the rule)"
        ),
    ),
    "derived.decision": KindSpec(
        {**_EVALUATION_COMMON, "purpose": "text", "result": "text"},
        needs_refs=True,
        description=(
            "a purpose decision (信用+: deny, allow or priority) computed by a rule policy "
            "(refs: the evidence, then the rule)"
        ),
    ),
    "policy.conversion": KindSpec(
        {"name": "text", "version": "int", "rules": "map"},
        description="a declarative conversion policy",
    ),
    "policy.rule": KindSpec(
        {"name": "text", "version": "int", "rules": "map"},
        description="a declarative rule: a code, a grade or a purpose (docs/rules.md)",
    ),
    "audit.lookup": KindSpec(
        {"client": "text", "client_sha256": "text", "purpose": "text", "authorisation": "text"},
        {"records": "int", "withheld": "int", "lookup_id": "text"},
        description=(
            "a subject lookup answered by this node: who asked (registered client name and "
            "certificate fingerprint), for which purpose, under which authorisation reference, "
            "how many records were served and withheld"
        ),
    ),
    "audit.check": KindSpec(
        {"asker": "text", "purpose": "text", "rule_version": "int", "result": "text"},
        {"authorisation": "text"},
        needs_refs=True,
        description=(
            "a purpose check answered by this node: who asked, the rule's name and version, "
            "the result (refs: the decision, then the rule); no personal data"
        ),
    ),
    "federation.manifest": KindSpec(
        {"federation": "text", "version": "int", "hash": "bytes"},
        description="a federation manifest version, logged so every version stays auditable",
    ),
    "lifecycle.objection": KindSpec(
        {"raised_on": "text"},
        {"grounds": "text", "due_by": "text", "filed_by": "text", "channel": "text"},
        needs_refs=True,
    ),
    "lifecycle.objection-resolved": KindSpec(
        {"outcome": "text", "closed_on": "text"}, needs_refs=True
    ),
    "lifecycle.repair": KindSpec(
        {"route": "text", "decided_on": "text"}, {"channel": "text"}, needs_refs=True
    ),
    "lifecycle.withdrawal": KindSpec({"reason": "text", "withdrawn_on": "text"}, needs_refs=True),
    "lifecycle.supersession": KindSpec(
        {"superseded_on": "text"},
        {"reason": "text"},
        needs_refs=True,
        description=(
            "a corrected decision replaces this record (refs: the record, then its "
            "replacement; 一数一源)"
        ),
    ),
    "commitment.outcome": KindSpec(
        {"outcome": "text", "verified_on": "text"}, {"verified_by": "text"}, needs_refs=True
    ),
}
KINDS: Final = tuple(sorted(KIND_SPECS))
#: kinds about a document rather than an organisation or person; FORMATS v1 has no
#: subject type for them, so they use the reserved key id 00000000 with the document's
#: own hash (``hmac:00000000:<hash hex>``), which no subject key can produce
SUBJECTLESS_KINDS: Final = ("federation.manifest", "policy.conversion", "policy.rule")
SUBJECTLESS_PREFIX: Final = "hmac:00000000:"
LIFECYCLE_KINDS: Final = tuple(k for k in KINDS if k.startswith("lifecycle."))
#: length of a person record's envelope salt
SALT_BYTES: Final = 16

_PY_TYPES: Final[Mapping[str, type | tuple[type, ...]]] = {
    "text": str,
    "int": int,
    "list": list,
    "map": dict,
    "bytes": bytes,
    "bool": bool,
}


#: per kind, each body field's Python type (required fields first, as ``KIND_SPECS``
#: reads): one lookup per field when a record is checked
_BODY_TYPES: Final[Mapping[str, Mapping[str, type]]] = {
    kind: {
        name: cast(type, _PY_TYPES[tname])
        for name, tname in {**spec.optional, **spec.required}.items()
    }
    for kind, spec in KIND_SPECS.items()
}
_REQUIRED_NAMES: Final[Mapping[str, frozenset[str]]] = {
    kind: frozenset(spec.required) for kind, spec in KIND_SPECS.items()
}


@functools.lru_cache(maxsize=1024)
def _region_ok(region: str) -> bool:
    """Whether ``region`` is a valid region id; a log names few regions many times."""
    return REGION_RE.match(region) is not None


#: the fields a record map may hold
_FIELDS: Final = frozenset(
    {"v", "kind", "region", "subject", "body", "valid_from", "valid_until", "refs", "salt"}
)

_TOP_REQUIRED: Final = frozenset({"kind", "region", "subject", "body", "valid_from"})
_SUBJECT_FIELDS: Final = frozenset({"type", "id"})


@functools.lru_cache(maxsize=4096)
def _canonical_org(org_id: str) -> bool:
    """Whether a valid organisation id is in canonical form; remembered for the last
    4,096 ids (a log or a batch names few organisations many times). Invalid ids raise
    (``validate_org_id``'s error) and are not remembered."""
    return validate_org_id(org_id).id == org_id


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a record is about: an organisation (USCC / HK number) or a keyed-hash person."""

    type: SubjectType
    id: str

    def __post_init__(self) -> None:
        if self.type == "org":
            if not _canonical_org(self.id):
                raise RecordError(
                    "record: organisation subject id is not in canonical form "
                    "(upper case, no spaces)"
                )
        elif self.type == "person":
            if not PERSON_ID_RE.match(self.id):
                raise RecordError(
                    "record: person subject id must be a keyed hash hmac:<keyid>:<hex>; "
                    "raw identity numbers are never accepted"
                )
        else:
            raise RecordError(f"record: subject type must be org or person, got {self.type!r}")


@dataclass(frozen=True, slots=True)
class Record:
    """One credit record. Validated on construction (see module docstring)."""

    kind: str
    region: str
    subject: Subject
    body: Mapping[str, Any]
    valid_from: int
    valid_until: int | None = None
    refs: tuple[bytes, ...] = ()
    #: 16 random-looking bytes in a person's record that is logged as an RFC 9995 hash
    #: envelope, so its hash cannot be found by trying every likely body (a score has
    #: ~1000 values); never on the log itself (see ``ledger/envelope.py``)
    salt: bytes | None = None
    #: the deterministic encoding; given only by ``from_bytes`` (already checked there)
    _bytes: bytes = field(default=b"", repr=False, compare=False, kw_only=True)

    def __post_init__(self) -> None:
        spec = KIND_SPECS.get(self.kind)
        if spec is None:
            raise UnknownKindError(f"record: unknown kind {self.kind!r}")
        if self.subject.id.startswith(SUBJECTLESS_PREFIX) != (self.kind in SUBJECTLESS_KINDS):
            raise RecordError(
                "record: the reserved subject key id 00000000 is for "
                f"{', '.join(SUBJECTLESS_KINDS)} only, and those kinds must use it"
            )
        region = self.region
        if type(region) is str and region.isascii() and len(region) <= 64:
            region_ok = _region_ok(region)  # remembered: short text ids only
        else:
            region_ok = bool(REGION_RE.match(region))
        if not region_ok:
            raise RecordError(f"record: region id invalid: {region!r}")
        body = self.body
        if not isinstance(body, Mapping):
            raise RecordError("record: body must be a map")
        if not _REQUIRED_NAMES[self.kind] <= body.keys():
            for name in spec.required:
                if name not in body:
                    raise RecordError(
                        f"record: {self.kind} body is missing required field {name!r}"
                    )
        types = _BODY_TYPES[self.kind]
        for name, value in body.items():
            want = types.get(name)
            if want is None:
                raise RecordError(f"record: {self.kind} body has unknown field {name!r}")
            if type(value) is not want and (want is int or not isinstance(value, want)):
                found = spec.required.get(name) or spec.optional.get(name)
                raise RecordError(
                    f"record: {self.kind} body field {name!r} has wrong type: "
                    f"expected {found}, got {type(value).__name__}"
                )
        valid_from, valid_until = self.valid_from, self.valid_until
        if type(valid_from) is not int or not 0 <= valid_from <= _UINT64_MAX:
            raise RecordError("record: valid_from must be a uint (Unix seconds)")
        if valid_until is not None:
            if type(valid_until) is not int or not 0 <= valid_until <= _UINT64_MAX:
                raise RecordError("record: valid_until must be a uint (Unix seconds)")
            if valid_until < valid_from:
                raise RecordError("record: valid_until is before valid_from")
        refs = self.refs
        if spec.needs_refs and not refs:
            raise RecordError(f"record: {self.kind} needs refs (the leaf hashes it depends on)")
        for r in refs:
            if not isinstance(r, bytes) or len(r) != 32:
                raise RecordError("record: every ref must be a 32-byte leaf hash")
        if self.salt is not None:
            if not isinstance(self.salt, bytes) or len(self.salt) != SALT_BYTES:
                raise RecordError(f"record: salt must be {SALT_BYTES} bytes")
            if self.subject.type != "person":
                raise RecordError("record: only a person's record carries a salt")
        if self._bytes:
            return
        try:
            data = encoding.encode(self.to_value())
        except CborError as e:  # the body's values are not encodable (e.g. a float)
            raise RecordError(f"record: body is not encodable: {e}") from e
        if len(data) > MAX_RECORD_BYTES:
            raise OversizeError(
                f"record: too large: expected <= {MAX_RECORD_BYTES} bytes, got {len(data)}"
            )
        object.__setattr__(self, "_bytes", data)

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "v": RECORD_VERSION,
            "kind": self.kind,
            "region": self.region,
            "subject": {"type": self.subject.type, "id": self.subject.id},
            "body": dict(self.body),
            "valid_from": self.valid_from,
        }
        if self.valid_until is not None:
            out["valid_until"] = self.valid_until
        if self.refs:
            out["refs"] = list(self.refs)
        if self.salt is not None:
            out["salt"] = self.salt
        return out

    def to_bytes(self) -> bytes:
        """Deterministic CBOR, computed once at construction."""
        return self._bytes

    @classmethod
    def from_value(cls, value: Any, _data: bytes = b"") -> Record:
        """Parse a decoded record map.

        Raises:
            RecordError: wrong version, missing or unexpected fields, wrong types.
            UnknownKindError: a kind credex does not know.
            IdentifierError: an invalid organisation subject id.
        """
        if not isinstance(value, dict):
            raise RecordError("record: expected a map")
        if type(value.get("v")) is not int or value["v"] != RECORD_VERSION:  # not True
            raise RecordError(f"record: unsupported version: expected 1, got {value.get('v')!r}")
        if not value.keys() <= _FIELDS:
            extra = sorted(str(k) for k in value if k not in _FIELDS)
            raise RecordError(f"record: unexpected fields: {', '.join(extra)}")
        if not value.keys() >= _TOP_REQUIRED:
            for name in ("kind", "region", "subject", "body", "valid_from"):
                if name not in value:
                    raise RecordError(f"record: missing required field {name!r}")
        kind, region, subj = value["kind"], value["region"], value["subject"]
        if not isinstance(kind, str) or not isinstance(region, str):
            raise RecordError("record: kind and region must be text")
        if not isinstance(subj, dict) or subj.keys() != _SUBJECT_FIELDS:
            raise RecordError("record: subject must be a map with exactly type and id")
        if not isinstance(subj["type"], str) or not isinstance(subj["id"], str):
            raise RecordError("record: subject type and id must be text")
        if not isinstance(value["body"], dict):
            raise RecordError("record: body must be a map")
        refs = value.get("refs", [])
        if not isinstance(refs, list):
            raise RecordError("record: refs must be an array of leaf hashes")
        if "salt" in value and value["salt"] is None:
            raise RecordError("record: salt, when present, must be a bstr")
        if "valid_until" in value and value["valid_until"] is None:
            raise RecordError("record: valid_until, when present, must be a uint")
        if "refs" in value and not refs:
            raise RecordError("record: refs, when present, must not be empty")
        return cls(
            kind=kind,
            region=region,
            subject=Subject(cast(SubjectType, subj["type"]), subj["id"]),  # checked in Subject
            body=value["body"],
            valid_from=value["valid_from"],
            valid_until=value.get("valid_until"),
            refs=tuple(refs),
            salt=value.get("salt"),
            _bytes=_data,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Record:
        """Strictly decode a record (deterministic CBOR, <= MAX_RECORD_BYTES)."""
        value = encoding.decode(data, what="record", max_size=MAX_RECORD_BYTES)
        # ``data`` is the deterministic encoding of ``value`` and ``to_value`` rebuilds
        # ``value`` exactly (no optional field is accepted empty), so it is our encoding
        return cls.from_value(value, bytes(data))
