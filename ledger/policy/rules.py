"""The parsed rules of a conversion policy: band tables, piecewise-linear maps and field
maps, and ``Policy`` (one rule with its scales). Values only; ``validate_policy`` builds
them. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from credex.ledger.errors import (
    ConversionError,
)
from credex.ledger.policy._common import (
    SCORE_SOURCE_KINDS,
)
from credex.ledger.policy.scale import Scale
from credex.ledger.provenance import Grade, Provenance, weakest

__all__ = [
    "BandTableRule",
    "FieldMapRule",
    "FieldSpec",
    "PiecewiseLinearRule",
    "Policy",
    "Rule",
    "Unit",
]


@dataclass(frozen=True, slots=True)
class BandTableRule:
    source: Scale
    target: Scale | None
    keyed_by: Literal["band", "level"]
    table: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class PiecewiseLinearRule:
    source: Scale
    target: Scale
    breakpoints: tuple[tuple[int, int], ...]

    def map(self, x: int) -> int:
        """The target score of source score ``x`` (floor rounding, module docstring)."""
        for (x0, y0), (x1, y1) in zip(self.breakpoints, self.breakpoints[1:], strict=False):
            if x0 <= x <= x1:
                return y0 + (x - x0) * (y1 - y0) // (x1 - x0)
        raise ConversionError(
            f"policy: {self.source.id} score out of range: expected "
            f"{self.breakpoints[0][0]}-{self.breakpoints[-1][0]}, got {x}"
        )


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit or currency conversion: ``out = in * num // den`` (floor)."""

    from_unit: str
    to_unit: str
    num: int
    den: int


@dataclass(frozen=True, slots=True)
class FieldSpec:
    source: str
    target: str
    type: str
    enum: Mapping[str, str] | None = None
    unit: Unit | None = None


@dataclass(frozen=True, slots=True)
class FieldMapRule:
    source_kind: str
    format: str
    fields: tuple[FieldSpec, ...]
    keep_specific: tuple[str, ...] = ()


Rule = BandTableRule | PiecewiseLinearRule | FieldMapRule


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated conversion policy (the ``rules`` map of a ``policy.conversion``)."""

    rule: Rule
    value: Mapping[str, Any]
    #: the policy's own provenance (its field names, factors, tables), if it states one
    provenance: Provenance | None = None

    @property
    def grade(self) -> Grade | None:
        """The provenance grade of what the policy derives: the weakest of the policy's
        own and its source and target scales' (``None`` when none is stated)."""
        grades: list[Grade | None] = [None if self.provenance is None else self.provenance.grade]
        rule = self.rule
        if isinstance(rule, BandTableRule | PiecewiseLinearRule):
            for scale in (rule.source, rule.target):
                if scale is not None and scale.provenance is not None:
                    grades.append(scale.provenance.grade)
        return weakest(grades)

    @property
    def output_kind(self) -> str:
        return "derived.report" if isinstance(self.rule, FieldMapRule) else "derived.score"

    @property
    def source_kinds(self) -> tuple[str, ...]:
        if isinstance(self.rule, FieldMapRule):
            return (self.rule.source_kind,)
        return SCORE_SOURCE_KINDS
