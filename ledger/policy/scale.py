"""Scales a policy converts between: ``Scale`` (worst band first, numeric or named) and
``ScaleBand``. Validated on construction. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from credex.ledger.errors import (
    ConversionError,
    RecordError,
)
from credex.ledger.policy._common import (
    ID_RE,
    LEVELS,
    MAX_LIST,
    check_keys,
    err,
    is_int,
)
from credex.ledger.provenance import Provenance

__all__ = [
    "Scale",
    "ScaleBand",
]


@dataclass(frozen=True, slots=True)
class ScaleBand:
    """One band of a scale; ``lo``/``hi`` inclusive (numeric scales only)."""

    name: str
    level: str | None = None
    lo: int | None = None
    hi: int | None = None

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.level is not None:
            out["level"] = self.level
        if self.lo is not None and self.hi is not None:
            out["lo"], out["hi"] = self.lo, self.hi
        return out


@dataclass(frozen=True, slots=True)
class Scale:
    """An ordered scale, worst band first: numeric (every band has ``lo``..``hi``,
    contiguous) or named grades. Validated on construction."""

    id: str
    bands: tuple[ScaleBand, ...]
    #: where the scale's cut-offs come from (``credex.ledger.provenance``), if known
    provenance: Provenance | None = None

    def __post_init__(self) -> None:
        if not ID_RE.match(self.id):
            raise err(f"scheme id invalid: {self.id!r}")
        if not self.bands:
            raise err(f"scheme {self.id} has no bands")
        names = [b.name for b in self.bands]
        if len(set(names)) != len(names) or not all(names):
            raise err(f"scheme {self.id} band names must be non-empty and unique")
        numeric = [b.lo is not None and b.hi is not None for b in self.bands]
        if any(numeric) and not all(numeric):
            raise err(f"scheme {self.id}: either every band has lo and hi or none does")
        prev: ScaleBand | None = None
        for b in self.bands:
            if b.level is not None and b.level not in LEVELS:
                raise err(f"scheme {self.id} band {b.name!r} has unknown level {b.level!r}")
            if b.lo is not None and b.hi is not None:
                if b.lo > b.hi:
                    raise err(f"scheme {self.id} band {b.name!r} has lo > hi")
                if prev is not None and prev.hi is not None and b.lo != prev.hi + 1:
                    raise err(
                        f"scheme {self.id} bands {prev.name!r} and {b.name!r} are not "
                        f"contiguous: expected lo {prev.hi + 1}, got {b.lo}"
                    )
            if (
                prev is not None
                and prev.level is not None
                and b.level is not None
                and b.level < prev.level
            ):
                raise err(
                    f"scheme {self.id} levels not monotonic: {prev.name!r} -> "
                    f"{prev.level} but the better {b.name!r} -> {b.level}"
                )
            prev = b

    @property
    def numeric(self) -> bool:
        return self.bands[0].lo is not None

    @property
    def lo(self) -> int:
        lo = self.bands[0].lo
        if lo is None:
            raise err(f"scheme {self.id} is not numeric")
        return lo

    @property
    def hi(self) -> int:
        hi = self.bands[-1].hi
        if hi is None:
            raise err(f"scheme {self.id} is not numeric")
        return hi

    def band_of(self, score: int) -> ScaleBand:
        """The band holding ``score``.

        Raises:
            ConversionError: not numeric, or ``score`` outside the range.
        """
        for b in self.bands:
            if b.lo is not None and b.hi is not None and b.lo <= score <= b.hi:
                return b
        raise ConversionError(
            f"policy: {self.id} score out of range: expected {self.bands[0].lo}-"
            f"{self.bands[-1].hi}, got {score}"
        )

    def band_named(self, name: str) -> ScaleBand:
        for b in self.bands:
            if b.name == name:
                return b
        raise ConversionError(f"policy: {self.id} has no band {name!r}")

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {"bands": [b.to_value() for b in self.bands]}
        if self.provenance is not None:
            out["provenance"] = self.provenance.to_value()
        return out

    @classmethod
    def from_value(cls, scheme_id: str, value: Any) -> Scale:
        where = f"schemes.{scheme_id}"
        check_keys(value, where, required={"bands"}, optional={"provenance"})
        bands = value["bands"]
        if not isinstance(bands, list) or not 0 < len(bands) <= MAX_LIST:
            raise err(f"{where}.bands must be a non-empty list")
        out: list[ScaleBand] = []
        for i, b in enumerate(bands):
            check_keys(b, f"{where}.bands[{i}]", required={"name"}, optional={"level", "lo", "hi"})
            name, level, lo, hi = b["name"], b.get("level"), b.get("lo"), b.get("hi")
            if not isinstance(name, str) or (level is not None and not isinstance(level, str)):
                raise err(f"{where}.bands[{i}] name and level must be text")
            if ("lo" in b) != ("hi" in b) or any(v is not None and not is_int(v) for v in (lo, hi)):
                raise err(f"{where}.bands[{i}] lo and hi must both be integers")
            out.append(ScaleBand(name, level, lo, hi))
        provenance = None
        if "provenance" in value:
            try:
                provenance = Provenance.from_value(value["provenance"], f"{where}.provenance")
            except RecordError as e:
                raise err(str(e)) from None
        return cls(scheme_id, tuple(out), provenance)
