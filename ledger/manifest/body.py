"""``ManifestBody``: the signed content of one manifest version, parsed strictly.

    body = {"v": 1, "federation": tstr, "version": uint, "prev": bstr(32) / null,
            "issued_at": uint, "members": [+ member], "quorum": {"k": uint, "n": uint},
            "admins": [+ bstr(32)], "admin_threshold": uint, "recognitions": [* recognition],
            ? "delegations": [+ delegation]}       ; absent when there are none

Validated on construction (unique regions, origins, keys; quorum and threshold in range;
agreements naming members); ``from_bytes`` refuses anything not in canonical order. Pure.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from dataclasses import dataclass
from typing import Any, Final

from credex.ledger import encoding
from credex.ledger.manifest._fields import (
    NAME_RE,
    array,
    exact_map,
    fail,
    key32,
    text,
    uint,
    unique,
)
from credex.ledger.manifest.agreements import Delegation, Recognition
from credex.ledger.manifest.members import Member

__all__ = [
    "MANIFEST_VERSION",
    "MAX_MANIFEST_BYTES",
    "ManifestBody",
]

MANIFEST_VERSION: Final = 1
MAX_MANIFEST_BYTES: Final = 1024 * 1024

_BODY_KEYS: Final = (
    "v",
    "federation",
    "version",
    "prev",
    "issued_at",
    "members",
    "quorum",
    "admins",
    "admin_threshold",
    "recognitions",
)


@dataclass(frozen=True, slots=True)
class ManifestBody:
    """The signed content of one manifest version. Validated on construction; members,
    issuers, admins and kinds are kept in their canonical (sorted) order."""

    federation: str
    version: int
    prev: bytes | None
    issued_at: int
    members: tuple[Member, ...]
    quorum: int
    admins: tuple[bytes, ...]
    admin_threshold: int
    recognitions: tuple[Recognition, ...] = ()
    delegations: tuple[Delegation, ...] = ()

    def __post_init__(self) -> None:
        text(self.federation, "federation", NAME_RE)
        if uint(self.version, "version") < 1:
            raise fail("version must be at least 1")
        if (self.version == 1) != (self.prev is None):
            raise fail("prev must be null exactly in version 1")
        if self.prev is not None:
            key32(self.prev, "prev")
        uint(self.issued_at, "issued_at")
        uint(self.quorum, "quorum k")
        members = tuple(sorted(self.members, key=lambda m: m.region))
        object.__setattr__(self, "members", members)
        if not members:
            raise fail("at least one member is required")
        unique((m.region for m in members), "member region")
        unique((m.origin for m in members), "member origin")
        unique((k for m in members for k, _ in m.log_keys), "log key")
        unique((m.witness_key for m in members), "witness key")
        unique((m.witness_name for m in members), "witness name")
        owner: dict[bytes, str] = {}
        ids: dict[str, str] = {}
        for m in members:
            for i in m.issuers:
                if owner.setdefault(i.key, i.issuer_id) != i.issuer_id:
                    raise fail(f"one issuer key is listed under two issuer ids: {i.issuer_id}")
                if ids.setdefault(i.issuer_id, m.region) != m.region:
                    raise fail(f"issuer {i.issuer_id} is listed under two members")
        admins = tuple(sorted(set(self.admins)))
        if len(admins) != len(self.admins) or not admins:
            raise fail("admins must be one or more distinct keys")
        for a in admins:
            key32(a, "admin key")
        object.__setattr__(self, "admins", admins)
        if not 1 <= uint(self.admin_threshold, "admin_threshold") <= len(admins):
            raise fail(
                f"admin_threshold out of range: expected 1..{len(admins)}, "
                f"got {self.admin_threshold}"
            )
        regions = {m.region for m in members}
        for r in self.recognitions:
            for name in (r.region, r.recognises):
                if name not in regions:
                    raise fail(f"recognition names a region that is not a member: {name}")
        recognitions = tuple(sorted(self.recognitions, key=Recognition.sort_key))
        for r1, r2 in itertools.pairwise(recognitions):
            if r1 == r2:
                raise fail(f"duplicate recognition: {r1.describe()}")
        object.__setattr__(self, "recognitions", recognitions)
        issuer_ids = {i.issuer_id for m in members for i in m.issuers}
        for d in self.delegations:
            if d.region not in regions:
                raise fail(f"delegation names a region that is not a member: {d.region}")
            if d.issuer not in issuer_ids:
                raise fail(f"delegation names an issuer no member lists: {d.issuer}")
        delegations = tuple(sorted(self.delegations, key=Delegation.sort_key))
        for d1, d2 in itertools.pairwise(delegations):
            if d1 == d2:
                raise fail(f"duplicate delegation: {d1.describe()}")
        object.__setattr__(self, "delegations", delegations)

    @property
    def quorum_n(self) -> int:
        """Witnesses available to each member's log: every other member."""
        return len(self.members) - 1

    def member(self, region: str) -> Member | None:
        return next((m for m in self.members if m.region == region), None)

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "v": MANIFEST_VERSION,
            "federation": self.federation,
            "version": self.version,
            "prev": self.prev,
            "issued_at": self.issued_at,
            "members": [m.to_value() for m in self.members],
            "quorum": {"k": self.quorum, "n": self.quorum_n},
            "admins": list(self.admins),
            "admin_threshold": self.admin_threshold,
            "recognitions": [r.to_value() for r in self.recognitions],
        }
        if self.delegations:  # absent when empty: a body without them keeps its bytes
            out["delegations"] = [d.to_value() for d in self.delegations]
        return out

    def to_json(self, digest: bytes) -> dict[str, Any]:
        """This version as ``credex federation show --json`` prints it (keys and hashes
        in hex; ``digest``: this version's hash)."""
        return {
            "federation": self.federation,
            "version": self.version,
            "hash": digest.hex(),
            "prev": None if self.prev is None else self.prev.hex(),
            "issued_at": self.issued_at,
            "quorum": {"k": self.quorum, "n": self.quorum_n},
            "admins": [a.hex() for a in self.admins],
            "admin_threshold": self.admin_threshold,
            "members": [m.to_json() for m in self.members],
            "recognitions": [r.to_json() for r in self.recognitions],
            "delegations": [d.to_json() for d in self.delegations],
        }

    def to_bytes(self) -> bytes:
        return encoding.encode(self.to_value())

    @property
    def hash(self) -> bytes:
        """SHA-256 of the body bytes: what the next version names in ``prev``."""
        return hashlib.sha256(self.to_bytes()).digest()

    @classmethod
    def from_bytes(cls, data: bytes) -> ManifestBody:
        """Strictly parse a body (deterministic CBOR, exact keys, canonical order).

        Raises:
            FormatError: not deterministic CBOR, unknown version, missing or extra keys,
                bad values, duplicates, or members/keys not in canonical order.
        """
        v = encoding.decode(data, what="manifest", max_size=MAX_MANIFEST_BYTES)
        if isinstance(v, dict) and (type(v.get("v")) is not int or v["v"] != MANIFEST_VERSION):
            raise fail(f"unsupported version: expected {MANIFEST_VERSION}, got {v.get('v')!r}")
        delegations: list[Any] = []
        if isinstance(v, dict) and "delegations" in v:
            delegations = array(v["delegations"], "delegations")
            if not delegations:
                raise fail("delegations must be absent, not empty")
            v = {k: x for k, x in v.items() if k != "delegations"}
        m = exact_map(v, _BODY_KEYS, "body")
        q = exact_map(m["quorum"], ("k", "n"), "quorum")
        prev = m["prev"]
        body = cls(
            federation=text(m["federation"], "federation"),
            version=uint(m["version"], "version"),
            prev=None if prev is None else key32(prev, "prev"),
            issued_at=uint(m["issued_at"], "issued_at"),
            members=tuple(Member.from_value(x) for x in array(m["members"], "members")),
            quorum=uint(q["k"], "quorum k"),
            admins=tuple(key32(a, "admin key") for a in array(m["admins"], "admins")),
            admin_threshold=uint(m["admin_threshold"], "admin_threshold"),
            recognitions=tuple(
                Recognition.from_value(r) for r in array(m["recognitions"], "recognitions")
            ),
            delegations=tuple(Delegation.from_value(d) for d in delegations),
        )
        if uint(q["n"], "quorum n") != body.quorum_n:
            raise fail(f"quorum n must be the member count - 1: expected {body.quorum_n}")
        if body.to_bytes() != data:
            raise fail("members, issuers, admins or kinds are not in canonical order")
        return body

    def next_version(self, issued_at: int, **changes: Any) -> ManifestBody:
        """Version n+1: this one with ``changes``, naming this version's hash."""
        return dataclasses.replace(
            self, version=self.version + 1, prev=self.hash, issued_at=issued_at, **changes
        )
