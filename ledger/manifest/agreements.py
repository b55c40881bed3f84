"""Agreements between regions in the manifest: recognitions and repair delegations.

``Recognition`` (region A accepts kinds of region B's records, optionally only from some
issuers, under some policies, in a window) and ``Delegation`` (region A lets an issuer
repair, resolve objections on and record outcomes for A's records of some kinds, in a
window). Optional keys are omitted at their defaults, so older agreements keep their
bytes. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from credex.ledger.dates import cst_time
from credex.ledger.manifest._fields import (
    NAME_RE,
    REGION_RE,
    array,
    fail,
    key32,
    kinds_of,
    split_optional,
    text,
    uint,
    window,
    with_window,
)

__all__ = [
    "Delegation",
    "Recognition",
]

#: recognition keys that may be absent: each is omitted at its default (any issuer, any
#: policy, from 0, open-ended), so a version-1 ``{region, recognises, kinds}`` agreement
#: keeps its exact bytes
_RECOGNITION_KEYS: Final = ("region", "recognises", "kinds")
_RECOGNITION_OPTIONAL: Final = ("issuers", "policies", "valid_from", "valid_until")


def _window(valid_from: int, valid_until: int | None) -> str:
    until = "∞" if valid_until is None else cst_time(valid_until)
    return f"[{cst_time(valid_from)}, {until})"


@dataclass(frozen=True, slots=True)
class Recognition:
    """A recognition agreement: region ``region`` accepts records of ``kinds`` from region
    ``recognises``, signed by ``issuers`` (empty: any issuer of that region), converted
    under ``policies`` (policy leaf hashes; empty: any policy), for derived records with
    ``valid_from <= iat < valid_until`` (``None``: open-ended)."""

    region: str
    recognises: str
    kinds: tuple[str, ...]
    issuers: tuple[str, ...] = ()
    policies: tuple[bytes, ...] = ()
    valid_from: int = 0
    valid_until: int | None = None

    def __post_init__(self) -> None:
        text(self.region, "recognition region", REGION_RE)
        text(self.recognises, "recognition recognises", REGION_RE)
        if self.region == self.recognises:
            raise fail(f"recognition: {self.region} cannot recognise its own region")
        kinds = tuple(sorted(set(self.kinds)))
        if not kinds or not all(isinstance(k, str) and k for k in kinds):
            raise fail(f"recognition {self.region} <- {self.recognises}: kinds must be non-empty")
        object.__setattr__(self, "kinds", kinds)
        issuers = tuple(sorted(set(self.issuers)))
        for i in issuers:
            text(i, "recognition issuer", NAME_RE)
        object.__setattr__(self, "issuers", issuers)
        policies = tuple(sorted(set(self.policies)))
        for h in policies:
            key32(h, "recognition policy")
        object.__setattr__(self, "policies", policies)
        uint(self.valid_from, "recognition valid_from")
        if self.valid_until is not None and uint(self.valid_until, "recognition valid_until") <= (
            self.valid_from
        ):
            raise fail(
                f"recognition {self.region} <- {self.recognises}: valid_until must be "
                "after valid_from"
            )

    def matches(
        self,
        region: str,
        source_region: str,
        kind: str,
        issuer: str,
        policy_leaf_hash: bytes,
        at: int,
    ) -> bool:
        """Whether this agreement covers one recognition (windows are half-open)."""
        return (
            self.region == region
            and self.recognises == source_region
            and kind in self.kinds
            and (not self.issuers or issuer in self.issuers)
            and (not self.policies or policy_leaf_hash in self.policies)
            and self.valid_from <= at
            and (self.valid_until is None or at < self.valid_until)
        )

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "region": self.region,
            "recognises": self.recognises,
            "kinds": list(self.kinds),
        }
        if self.issuers:
            out["issuers"] = list(self.issuers)
        if self.policies:
            out["policies"] = list(self.policies)
        return with_window(out, self.valid_from, self.valid_until)

    def to_json(self) -> dict[str, Any]:
        """The agreement as JSON (policy hashes in hex, every key present)."""
        return {
            "region": self.region,
            "recognises": self.recognises,
            "kinds": list(self.kinds),
            "issuers": list(self.issuers),
            "policies": [p.hex() for p in self.policies],
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }

    @classmethod
    def from_value(cls, v: Any) -> Recognition:
        m, optional = split_optional(v, _RECOGNITION_KEYS, _RECOGNITION_OPTIONAL, "recognition")
        return cls(
            text(m["region"], "recognition region"),
            text(m["recognises"], "recognition recognises"),
            kinds_of(m["kinds"], "recognition"),
            tuple(
                text(i, "recognition issuer")
                for i in array(optional.get("issuers", []), "recognition issuers")
            ),
            tuple(
                key32(h, "recognition policy")
                for h in array(optional.get("policies", []), "recognition policies")
            ),
            *window(optional, "recognition"),
        )

    def sort_key(self) -> tuple[Any, ...]:
        return (
            self.region,
            self.recognises,
            self.valid_from,
            self.kinds,
            self.issuers,
            self.policies,
            -1 if self.valid_until is None else self.valid_until,
        )

    def describe(self) -> str:
        """One line: ``cn-zj-hangzhou <- cn-zj-ningbo score.city [from, until) ...`` (times
        in China Standard Time)."""
        issuers = ", ".join(self.issuers) or "any issuer"
        policies = ", ".join(h.hex()[:16] + "…" for h in self.policies) or "any policy"
        return (
            f"{self.region} <- {self.recognises}  {', '.join(self.kinds)}  "
            f"{_window(self.valid_from, self.valid_until)}  {issuers}; {policies}"
        )


#: delegation keys that may be absent (omitted at their default: from 0, open-ended)
_DELEGATION_KEYS: Final = ("region", "issuer", "kinds")
_DELEGATION_OPTIONAL: Final = ("valid_from", "valid_until")


@dataclass(frozen=True, slots=True)
class Delegation:
    """A repair delegation: region ``region`` lets issuer ``issuer`` (of any member) make
    the lifecycle statements that otherwise only the finding's issuer may make -- repair
    (信用修复), resolve an objection, record a commitment's outcome -- about ``region``'s
    records of ``kinds``, for statements with ``valid_from <= iat < valid_until``
    (``None``: open-ended). Withdrawal stays the record's own issuer's."""

    region: str
    issuer: str
    kinds: tuple[str, ...]
    valid_from: int = 0
    valid_until: int | None = None

    def __post_init__(self) -> None:
        text(self.region, "delegation region", REGION_RE)
        text(self.issuer, "delegation issuer", NAME_RE)
        kinds = tuple(sorted(set(self.kinds)))
        if not kinds or not all(isinstance(k, str) and k for k in kinds):
            raise fail(f"delegation {self.region} -> {self.issuer}: kinds must be non-empty")
        object.__setattr__(self, "kinds", kinds)
        uint(self.valid_from, "delegation valid_from")
        if self.valid_until is not None and uint(self.valid_until, "delegation valid_until") <= (
            self.valid_from
        ):
            raise fail(
                f"delegation {self.region} -> {self.issuer}: valid_until must be after valid_from"
            )

    def matches(self, region: str, issuer: str, kind: str, at: int) -> bool:
        """Whether this delegation covers ``issuer`` acting on a ``kind`` record of
        ``region`` at ``at`` (half-open window)."""
        return (
            self.region == region
            and self.issuer == issuer
            and kind in self.kinds
            and self.valid_from <= at
            and (self.valid_until is None or at < self.valid_until)
        )

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {"region": self.region, "issuer": self.issuer}
        out["kinds"] = list(self.kinds)
        return with_window(out, self.valid_from, self.valid_until)

    def to_json(self) -> dict[str, Any]:
        """The delegation as JSON (every key present)."""
        return {
            "region": self.region,
            "issuer": self.issuer,
            "kinds": list(self.kinds),
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
        }

    @classmethod
    def from_value(cls, v: Any) -> Delegation:
        m, optional = split_optional(v, _DELEGATION_KEYS, _DELEGATION_OPTIONAL, "delegation")
        return cls(
            text(m["region"], "delegation region"),
            text(m["issuer"], "delegation issuer"),
            kinds_of(m["kinds"], "delegation"),
            *window(optional, "delegation"),
        )

    def sort_key(self) -> tuple[Any, ...]:
        return (
            self.region,
            self.issuer,
            self.valid_from,
            self.kinds,
            -1 if self.valid_until is None else self.valid_until,
        )

    def describe(self) -> str:
        """One line: ``cn-zj-ningbo -> cn-zj-hangzhou/platform penalty.admin [from, until)``
        (times in China Standard Time)."""
        window = _window(self.valid_from, self.valid_until)
        return f"{self.region} -> {self.issuer}  {', '.join(self.kinds)}  {window}"
