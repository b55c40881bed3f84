"""The ``.credex`` bundle: everything a bank needs to verify one record offline.

::

    bundle = {"v": 1, "statement": bstr (receipt under label 394),
              "checkpoint": tstr (cosigned signed note of the receipt's tree size),
              ? "status": [* bundle], ? "sources": [* bundle], ? "policy": bundle,
              ? "preimage": bstr (the record body of a hash-envelope statement),
              ? "attestation": bstr (the log's attestation: status checked, time logged),
              ? "status_proof": bstr (index lookup proof of the record's status key)}

``preimage`` is a version-1 extension (docs/spec.md): an optional key, present only when
the statement is an RFC 9995 hash envelope whose body the issuer hands over; bundles of
ordinary statements never carry it, so they are byte-identical to before. Each nested
bundle carries its own. ``attestation`` is another (``credex.ledger.attestation``): a
log's signed word on which lifecycle statements exist about the entry as of the bundle's
checkpoint, and when it logged the entry. ``status_proof`` is a third: the verifiable
index's lookup proof (docs/index.md §3) of the record's status key as of the bundle's
checkpoint, whose ``credex-index/v1`` line commits to the index root (docs/spec.md §5);
a bundle verified for a purpose needs it.

Deterministic CBOR, at most ``MAX_BUNDLE_BYTES``, ``MAX_BUNDLE_DEPTH`` levels of nested
bundles and ``MAX_BUNDLE_COUNT`` bundles in one file, nested ones included (each is
verified: this bounds a verification's work, whatever the file). This module only
encodes and decodes; ``credex.ledger.verify`` checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from credex.ledger import encoding, fixed_layout
from credex.ledger.errors import FormatError, OversizeError

__all__ = ["BUNDLE_VERSION", "MAX_BUNDLE_BYTES", "MAX_BUNDLE_COUNT", "MAX_BUNDLE_DEPTH", "Bundle"]

BUNDLE_VERSION: Final = 1
MAX_BUNDLE_BYTES: Final = 4 * 1024 * 1024
MAX_BUNDLE_DEPTH: Final = 4
#: bundles in one file, the outer one and every nested one
MAX_BUNDLE_COUNT: Final = 1024
_FIELDS: Final = frozenset(
    {
        "v",
        "statement",
        "checkpoint",
        "status",
        "sources",
        "policy",
        "preimage",
        "attestation",
        "status_proof",
    }
)


@dataclass(frozen=True, slots=True)
class Bundle:
    statement: bytes
    checkpoint: str
    status: tuple[Bundle, ...] = ()
    sources: tuple[Bundle, ...] = ()
    policy: Bundle | None = None
    preimage: bytes | None = None
    attestation: bytes | None = None
    status_proof: bytes | None = None

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "v": BUNDLE_VERSION,
            "statement": self.statement,
            "checkpoint": self.checkpoint,
        }
        if self.status:
            out["status"] = [b.to_value() for b in self.status]
        if self.sources:
            out["sources"] = [b.to_value() for b in self.sources]
        if self.policy is not None:
            out["policy"] = self.policy.to_value()
        if self.preimage is not None:
            out["preimage"] = self.preimage
        if self.attestation is not None:
            out["attestation"] = self.attestation
        if self.status_proof is not None:
            out["status_proof"] = self.status_proof
        return out

    def to_bytes(self) -> bytes:
        return encoding.encode(self.to_value())

    @classmethod
    def from_value(cls, value: Any, depth: int = 0, _count: list[int] | None = None) -> Bundle:
        """A bundle from its decoded CBOR value.

        Raises:
            FormatError: not a version-1 bundle, or nested deeper than
                ``MAX_BUNDLE_DEPTH`` levels.
            OversizeError: more than ``MAX_BUNDLE_COUNT`` bundles in all.
        """
        if depth > MAX_BUNDLE_DEPTH:
            raise FormatError(f"bundle: nested too deep: expected <= {MAX_BUNDLE_DEPTH} levels")
        count = [0] if _count is None else _count
        count[0] += 1
        if count[0] > MAX_BUNDLE_COUNT:
            raise OversizeError(
                f"bundle: too many nested bundles: expected <= {MAX_BUNDLE_COUNT} in one file"
            )
        if not isinstance(value, dict):
            raise FormatError("bundle: expected a map")
        if type(value.get("v")) is not int or value["v"] != BUNDLE_VERSION:  # not True
            raise FormatError(f"bundle: unsupported version: expected 1, got {value.get('v')!r}")
        extra = sorted(str(k) for k in value if k not in _FIELDS)
        if extra:
            raise FormatError(f"bundle: unexpected fields: {', '.join(extra)}")
        st, cp = value.get("statement"), value.get("checkpoint")
        if not isinstance(st, bytes) or not isinstance(cp, str):
            raise FormatError("bundle: needs statement (bstr) and checkpoint (tstr)")
        subs: dict[str, tuple[Bundle, ...]] = {}
        for name in ("status", "sources"):
            items = value.get(name, [])
            if not isinstance(items, list):
                raise FormatError(f"bundle: {name} must be an array of bundles")
            subs[name] = tuple(cls.from_value(b, depth + 1, count) for b in items)
        policy = value.get("policy")
        if "policy" in value and not isinstance(policy, dict):
            raise FormatError("bundle: policy, when present, must be a bundle (a map)")
        preimage = value.get("preimage")
        if "preimage" in value and (not isinstance(preimage, bytes) or not preimage):
            raise FormatError("bundle: preimage must be a non-empty bstr (the record body)")
        attestation = value.get("attestation")
        if "attestation" in value and (not isinstance(attestation, bytes) or not attestation):
            raise FormatError("bundle: attestation must be a non-empty bstr (a cose_sign1)")
        status_proof = value.get("status_proof")
        if "status_proof" in value and (not isinstance(status_proof, bytes) or not status_proof):
            raise FormatError(
                "bundle: status_proof must be a non-empty bstr (an index lookup proof)"
            )
        return cls(
            st,
            cp,
            subs["status"],
            subs["sources"],
            None if policy is None else cls.from_value(policy, depth + 1, count),
            preimage,
            attestation,
            status_proof,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Bundle:
        """Strictly decode a bundle.

        Raises:
            OversizeError: larger than MAX_BUNDLE_BYTES.
            CborError / NonDeterministicCborError: not deterministic CBOR.
            FormatError: not a version-1 bundle.
        """
        if len(data) > MAX_BUNDLE_BYTES:
            raise OversizeError(
                f"bundle: too large: expected <= {MAX_BUNDLE_BYTES} bytes, got {len(data)}"
            )
        fast = fixed_layout.bundle(data)  # a plain bundle, in the layout credex writes
        if fast is not None:
            return cls(*fast)
        return cls.from_value(encoding.decode(data, what="bundle"))
