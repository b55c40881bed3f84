"""City score schemes and enterprise rating scales (DOMAIN.md §2, §6; issue #4 point 1).

Every scheme and scale carries its ``provenance`` (``credex.adapters.sources``; grades
``published`` / ``reported`` / ``illustrative``, DOMAIN.md §10):

- ``scheme(id)``: a ``ScoreScheme``: range, ordered bands (worst first, ``lo``..``hi``
  both inclusive, contiguous) and each band's common level ``L1`` (worst) … ``L5``.
  Published: 福州 茉莉分 ``FUZHOU_MOLI`` (0-1000, six bands; 极差 and 较差 are both L1).
  Reported (forums and press mirrors only): 杭州 钱江分 ``HANGZHOU_QIANJIANG`` (lower
  bound 0 assumed), 郑州 商鼎分 ``ZHENGZHOU_SHANGDING`` (0-200). The sources give the
  cut-offs as overlapping ranges ("550–600 一般; 600–700 良好"); a band's lower bound is
  inclusive, so 600 is 良好 and 150 is 信用极好 [A].
  Illustrative (cut-offs, and for 天一分 the names, are invented): ``NINGBO_TIANYI``,
  ``XIAMEN_BAILU``. The ``*_PLACEHOLDER`` ids of ``credex.adapters.sample`` are aliases
  of these two (same bands).
- ``rating_scale(id)``: a ``RatingScale``: grades worst first, each with an ordinal
  (1 = worst) and a class ``good`` / ``watch`` / ``bad`` [A]: ``SAMR_RISK`` (A-D),
  ``GENERIC_AAA_C`` (三等九级 AAA … C), ``TAX_NSXY`` (A/B/M/C/D; M ranks between C and B)
  (all reported); from the seeds (published): ``HUIZHOU_HUIXINMA`` (red < blue < green),
  ``BAOJI_JIUDING`` (九鼎分 C < B < A < AA < AAA), ``HUANGPU_AD`` (D < C < B < A),
  ``NINGBO_PORT`` and ``NINGBO_SHIPPING`` (C < B < A).
- ``registry_scales()`` / ``embed_schemes(rules)``: the same scales as
  ``credex.ledger.policy.Scale`` values, for building self-contained policies.

This module holds data only: it does not read files, convert records or sign anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from credex.adapters.sources import source_of
from credex.ledger.errors import NotFoundError, OutOfRangeError
from credex.ledger.policy import Scale, ScaleBand
from credex.ledger.provenance import Provenance

__all__ = [
    "ALIASES",
    "RATING_SCALES",
    "SCORE_SCHEMES",
    "RatingGrade",
    "RatingScale",
    "ScoreBand",
    "ScoreScheme",
    "embed_schemes",
    "rating_scale",
    "registry_scales",
    "scheme",
]

RatingClass = Literal["good", "watch", "bad"]


@dataclass(frozen=True, slots=True)
class ScoreBand:
    lo: int
    hi: int
    name: str
    level: str


@dataclass(frozen=True, slots=True)
class ScoreScheme:
    """A city score scheme. Validated on construction: contiguous bands covering
    ``lo``..``hi``, levels L1..L5 non-decreasing."""

    id: str
    name: str
    bands: tuple[ScoreBand, ...]

    def __post_init__(self) -> None:
        # the policy Scale does the structural checks (contiguity, levels, names)
        self.to_scale()

    @property
    def provenance(self) -> Provenance:
        return source_of(self.id)

    @property
    def illustrative(self) -> bool:
        return self.provenance.grade == "illustrative"

    @property
    def lo(self) -> int:
        return self.bands[0].lo

    @property
    def hi(self) -> int:
        return self.bands[-1].hi

    def band(self, score: int) -> ScoreBand:
        """The band holding ``score``.

        Raises:
            OutOfRangeError: not an integer in ``lo``..``hi``.
        """
        if type(score) is int:
            for b in self.bands:
                if b.lo <= score <= b.hi:
                    return b
        raise OutOfRangeError(
            f"score: {self.id} score out of range: expected {self.lo}-{self.hi}, got {score!r}"
        )

    def band_for(self, score: int) -> str:
        """The band name of ``score`` (raises OutOfRangeError outside the range)."""
        return self.band(score).name

    def level_for(self, score: int) -> str:
        """The common level ``L1`` … ``L5`` of ``score`` (raises OutOfRangeError)."""
        return self.band(score).level

    def to_scale(self, scheme_id: str | None = None) -> Scale:
        return Scale(
            scheme_id or self.id,
            tuple(ScaleBand(b.name, b.level, b.lo, b.hi) for b in self.bands),
            source_of(self.id),
        )


@dataclass(frozen=True, slots=True)
class RatingGrade:
    name: str
    ordinal: int
    rating_class: RatingClass


@dataclass(frozen=True, slots=True)
class RatingScale:
    """An enterprise rating scale, grades worst first (ordinal 1 = worst)."""

    id: str
    name: str
    grades: tuple[RatingGrade, ...]

    def __post_init__(self) -> None:
        self.to_scale()
        if [g.ordinal for g in self.grades] != list(range(1, len(self.grades) + 1)):
            raise ValueError(f"schemes: {self.id} ordinals must be 1..n, worst first")

    @property
    def provenance(self) -> Provenance:
        return source_of(self.id)

    @property
    def illustrative(self) -> bool:
        return self.provenance.grade == "illustrative"

    @property
    def names(self) -> tuple[str, ...]:
        """The grade names, worst first."""
        return tuple(g.name for g in self.grades)

    def grade(self, name: str) -> RatingGrade:
        """The grade called ``name``.

        Raises:
            NotFoundError: not a grade of this scale.
        """
        for g in self.grades:
            if g.name == name:
                return g
        raise NotFoundError(f"rating: {self.id} has no grade {name!r}")

    def to_scale(self, scheme_id: str | None = None) -> Scale:
        return Scale(
            scheme_id or self.id, tuple(ScaleBand(g.name) for g in self.grades), source_of(self.id)
        )


def _bands(*rows: tuple[int, int, str, str]) -> tuple[ScoreBand, ...]:
    return tuple(ScoreBand(lo, hi, name, level) for lo, hi, name, level in rows)


SCORE_SCHEMES: Final[Mapping[str, ScoreScheme]] = {
    s.id: s
    for s in (
        ScoreScheme(
            "FUZHOU_MOLI",
            "福州 茉莉分",
            _bands(
                (0, 349, "信用极差", "L1"),
                (350, 549, "信用较差", "L1"),
                (550, 649, "信用一般", "L2"),
                (650, 749, "信用良好", "L3"),
                (750, 849, "信用优秀", "L4"),
                (850, 1000, "信用极好", "L5"),
            ),
        ),
        ScoreScheme(
            "HANGZHOU_QIANJIANG",
            "杭州 钱江分",
            _bands(
                (0, 549, "信用待提高", "L1"),
                (550, 599, "一般", "L2"),
                (600, 699, "良好", "L3"),
                (700, 749, "优秀", "L4"),
                (750, 1000, "极好", "L5"),
            ),
        ),
        ScoreScheme(
            "ZHENGZHOU_SHANGDING",
            "郑州 商鼎分",
            _bands(
                (0, 79, "信用较差", "L1"),
                (80, 99, "轻微失信", "L2"),
                (100, 119, "信用良好", "L3"),
                (120, 149, "信用优秀", "L4"),
                (150, 200, "信用极好", "L5"),
            ),
        ),
        # illustrative: 天一分 publishes neither range nor bands (sources.py)
        ScoreScheme(
            "NINGBO_TIANYI",
            "宁波 天一分",
            _bands(
                (0, 399, "placeholder-1", "L1"),
                (400, 549, "placeholder-2", "L2"),
                (550, 649, "placeholder-3", "L3"),
                (650, 799, "placeholder-4", "L4"),
                (800, 1000, "placeholder-5", "L5"),
            ),
        ),
        # illustrative: the five reported 白鹭分 level names, invented cut-offs
        ScoreScheme(
            "XIAMEN_BAILU",
            "厦门 白鹭分",
            _bands(
                (0, 499, "不良", "L1"),
                (500, 599, "一般", "L2"),
                (600, 699, "良好", "L3"),
                (700, 799, "优秀", "L4"),
                (800, 1000, "极好", "L5"),
            ),
        ),
    )
}

#: other ids accepted by ``scheme`` (the ids ``credex.adapters.sample`` writes)
ALIASES: Final[Mapping[str, str]] = {
    "NINGBO_TIANYI_PLACEHOLDER": "NINGBO_TIANYI",
    "XIAMEN_BAILU_PLACEHOLDER": "XIAMEN_BAILU",
}


def _grades(*rows: tuple[str, RatingClass]) -> tuple[RatingGrade, ...]:
    return tuple(RatingGrade(name, i + 1, c) for i, (name, c) in enumerate(rows))


RATING_SCALES: Final[Mapping[str, RatingScale]] = {
    r.id: r
    for r in (
        RatingScale(
            "SAMR_RISK",
            "市场监管 企业信用风险分类 A-D",
            _grades(("D", "bad"), ("C", "watch"), ("B", "good"), ("A", "good")),
        ),
        RatingScale(
            "GENERIC_AAA_C",
            "三等九级 AAA-C",
            _grades(
                ("C", "bad"),
                ("CC", "bad"),
                ("CCC", "bad"),
                ("B", "watch"),
                ("BB", "watch"),
                ("BBB", "watch"),
                ("A", "good"),
                ("AA", "good"),
                ("AAA", "good"),
            ),
        ),
        RatingScale(
            "TAX_NSXY",
            "纳税信用 A/B/M/C/D",
            _grades(("D", "bad"), ("C", "watch"), ("M", "watch"), ("B", "good"), ("A", "good")),
        ),
        RatingScale(
            "HUIZHOU_HUIXINMA",
            "惠州 惠信码",
            _grades(("red", "bad"), ("blue", "watch"), ("green", "good")),
        ),
        RatingScale(
            "BAOJI_JIUDING",
            "宝鸡 九鼎分 企业信用等级",
            _grades(("C", "bad"), ("B", "watch"), ("A", "good"), ("AA", "good"), ("AAA", "good")),
        ),
        RatingScale(
            "HUANGPU_AD",
            "广州黄埔 企业信用评价 A-D",
            _grades(("D", "bad"), ("C", "watch"), ("B", "good"), ("A", "good")),
        ),
        RatingScale(
            "NINGBO_PORT",
            "宁波 口岸领域企业信用评价 A/B/C",
            _grades(("C", "bad"), ("B", "good"), ("A", "good")),
        ),
        RatingScale(
            "NINGBO_SHIPPING",
            "宁波 航运企业信用等级 A/B/C",
            _grades(("C", "bad"), ("B", "good"), ("A", "good")),
        ),
    )
}


def scheme(scheme_id: str) -> ScoreScheme:
    """The score scheme ``scheme_id`` (or one of its ``ALIASES``).

    Raises:
        NotFoundError: unknown scheme.
    """
    found = SCORE_SCHEMES.get(ALIASES.get(scheme_id, scheme_id))
    if found is None:
        raise NotFoundError(f"score: unknown scheme {scheme_id!r}")
    return found


def rating_scale(scale_id: str) -> RatingScale:
    """The rating scale ``scale_id``.

    Raises:
        NotFoundError: unknown scale.
    """
    found = RATING_SCALES.get(scale_id)
    if found is None:
        raise NotFoundError(f"rating: unknown scale {scale_id!r}")
    return found


def registry_scales() -> dict[str, Scale]:
    """Every scheme, alias and rating scale as a policy ``Scale``, keyed by id."""
    out: dict[str, Scale] = {sid: s.to_scale() for sid, s in SCORE_SCHEMES.items()}
    out |= {alias: SCORE_SCHEMES[target].to_scale(alias) for alias, target in ALIASES.items()}
    out |= {rid: r.to_scale() for rid, r in RATING_SCALES.items()}
    return out


def embed_schemes(rules: Mapping[str, Any]) -> dict[str, Any]:
    """``rules`` with the registry definition of each scheme it names (``source_scheme``,
    ``target_scheme``) added under ``schemes``, unless already embedded.

    Raises:
        NotFoundError: a named scheme is in neither the policy nor the registry.
    """
    out = dict(rules)
    embedded = dict(out.get("schemes") or {})
    scales = registry_scales()
    for key in ("source_scheme", "target_scheme"):
        sid = out.get(key)
        if isinstance(sid, str) and sid not in embedded:
            if sid not in scales:
                raise NotFoundError(f"score: unknown scheme {sid!r}")
            embedded[sid] = scales[sid].to_value()
    if embedded:
        out["schemes"] = embedded
    return out
