"""Provenance of reference data: where a scheme, scale, rule, regime or rate comes from
and how far it can be trusted (issue #12 point 6; DOMAIN.md §10).

Every piece of reference data in credex carries a ``Provenance``: a ``grade`` and a
``source`` (text naming the page, seed or document). Grades, strongest first:

- ``published``: an official page, or the seeds themselves (a government case text);
- ``reported``: press, forums, mirrors and third-party explainers;
- ``illustrative``: invented for the demo or the tests; never to be shown as real.

A value derived from several inputs carries the weakest of their grades (``weakest``),
so a score converted from an illustrative 天一分 is illustrative whatever the target
scale's grade. ``label`` is how a grade is shown next to a printed value.

Pure data: no clock, no files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

from credex.ledger.errors import RecordError

__all__ = [
    "GRADES",
    "MAX_SOURCE_CHARS",
    "Grade",
    "Provenance",
    "label",
    "parse_grade",
    "weakest",
]

Grade = Literal["illustrative", "reported", "published"]
#: weakest first
GRADES: Final[tuple[Grade, ...]] = ("illustrative", "reported", "published")
MAX_SOURCE_CHARS: Final = 1000


def parse_grade(value: Any, where: str = "provenance") -> Grade:
    """``value`` as a grade.

    Raises:
        RecordError: not one of ``GRADES``.
    """
    if value not in GRADES:
        raise RecordError(
            f"{where}: grade: expected one of {', '.join(GRADES)}, got {str(value)[:32]!r}"
        )
    return cast(Grade, value)


def weakest(grades: Iterable[Grade | None]) -> Grade | None:
    """The weakest of ``grades`` (``None`` entries are ignored; ``None`` if none left)."""
    known = [g for g in grades if g is not None]
    if not known:
        return None
    return min(known, key=GRADES.index)


def label(grade: str | None) -> str:
    """How a grade is printed next to a value: ``[published]``, ``[reported]``,
    ``[ILLUSTRATIVE]`` (loud on purpose), or ``[provenance unknown]``."""
    if grade is None:
        return "[provenance unknown]"
    return "[ILLUSTRATIVE]" if grade == "illustrative" else f"[{grade}]"


@dataclass(frozen=True, slots=True)
class Provenance:
    """A grade and the source that earns it."""

    grade: Grade
    source: str

    def __post_init__(self) -> None:
        parse_grade(self.grade)
        if not isinstance(self.source, str) or not 0 < len(self.source) <= MAX_SOURCE_CHARS:
            raise RecordError(f"provenance: source must be 1-{MAX_SOURCE_CHARS} characters of text")

    def to_value(self) -> dict[str, Any]:
        return {"grade": self.grade, "source": self.source}

    @classmethod
    def from_value(cls, value: Any, where: str = "provenance") -> Provenance:
        """Parse ``{"grade": ..., "source": ...}`` (exactly those keys).

        Raises:
            RecordError: another shape, an unknown grade or an empty source.
        """
        if not isinstance(value, Mapping) or set(value) != {"grade", "source"}:
            raise RecordError(f"{where}: expected a map of exactly grade and source")
        source = value["source"]
        if not isinstance(source, str) or not 0 < len(source) <= MAX_SOURCE_CHARS:
            raise RecordError(f"{where}: source must be 1-{MAX_SOURCE_CHARS} characters of text")
        return cls(parse_grade(value["grade"], where), source)
