"""City score schemes and rating scales: published cut-offs, aliases, totality, monotonicity."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credex.adapters import sample
from credex.adapters.schemes import (
    ALIASES,
    RATING_SCALES,
    SCORE_SCHEMES,
    embed_schemes,
    rating_scale,
    registry_scales,
    scheme,
)
from credex.ledger.errors import NotFoundError, OutOfRangeError
from credex.ledger.policy import validate_policy


@pytest.mark.parametrize(
    ("scheme_id", "score", "band", "level"),
    [
        ("FUZHOU_MOLI", 0, "信用极差", "L1"),
        ("FUZHOU_MOLI", 349, "信用极差", "L1"),
        ("FUZHOU_MOLI", 350, "信用较差", "L1"),
        ("FUZHOU_MOLI", 550, "信用一般", "L2"),
        ("FUZHOU_MOLI", 849, "信用优秀", "L4"),
        ("FUZHOU_MOLI", 850, "信用极好", "L5"),
        ("FUZHOU_MOLI", 1000, "信用极好", "L5"),
        ("HANGZHOU_QIANJIANG", 549, "信用待提高", "L1"),
        ("HANGZHOU_QIANJIANG", 550, "一般", "L2"),
        ("HANGZHOU_QIANJIANG", 700, "优秀", "L4"),
        ("HANGZHOU_QIANJIANG", 750, "极好", "L5"),
        ("ZHENGZHOU_SHANGDING", 79, "信用较差", "L1"),
        ("ZHENGZHOU_SHANGDING", 80, "轻微失信", "L2"),
        ("ZHENGZHOU_SHANGDING", 100, "信用良好", "L3"),
        ("ZHENGZHOU_SHANGDING", 149, "信用优秀", "L4"),
        ("ZHENGZHOU_SHANGDING", 150, "信用极好", "L5"),
        ("ZHENGZHOU_SHANGDING", 200, "信用极好", "L5"),
        ("NINGBO_TIANYI_PLACEHOLDER", 800, "placeholder-5", "L5"),
        ("XIAMEN_BAILU", 499, "不良", "L1"),
    ],
    ids=lambda v: str(v),
)
def test_published_cut_offs(scheme_id: str, score: int, band: str, level: str) -> None:
    s = scheme(scheme_id)
    assert (s.band_for(score), s.level_for(score)) == (band, level)


def test_ranges_and_provenance_grades() -> None:
    assert (scheme("ZHENGZHOU_SHANGDING").lo, scheme("ZHENGZHOU_SHANGDING").hi) == (0, 200)
    assert (scheme("FUZHOU_MOLI").lo, scheme("FUZHOU_MOLI").hi) == (0, 1000)
    grades = {sid: s.provenance.grade for sid, s in SCORE_SCHEMES.items()}
    # DOMAIN.md §10: 钱江分 and 商鼎分 bands rest on forums and mirrors, not official pages
    assert grades == {
        "FUZHOU_MOLI": "published",
        "HANGZHOU_QIANJIANG": "reported",
        "ZHENGZHOU_SHANGDING": "reported",
        "NINGBO_TIANYI": "illustrative",
        "XIAMEN_BAILU": "illustrative",
    }
    # 惠信码 is defined by the seeds (seed 002), so published, not illustrative
    assert rating_scale("HUIZHOU_HUIXINMA").provenance.grade == "published"
    assert not rating_scale("HUIZHOU_HUIXINMA").illustrative
    assert rating_scale("TAX_NSXY").provenance.grade == "reported"
    assert scheme("NINGBO_TIANYI_PLACEHOLDER").illustrative


def test_every_scale_names_its_source_and_embeds_it() -> None:
    from credex.adapters.sources import SCALE_SOURCES

    assert set(SCALE_SOURCES) == set(SCORE_SCHEMES) | set(RATING_SCALES)
    for sid, scale in registry_scales().items():
        assert scale.provenance is not None, sid
        assert scale.to_value()["provenance"]["grade"] == scale.provenance.grade


@pytest.mark.parametrize("scheme_id", sorted(sample.SCORE_SCHEMES))
def test_sample_ids_resolve_to_the_same_bands(scheme_id: str) -> None:
    s = scheme(scheme_id)
    assert tuple((b.lo, b.hi, b.name) for b in s.bands) == sample.SCORE_SCHEMES[scheme_id]
    assert s.id == ALIASES.get(scheme_id, scheme_id)


def test_unknown_scheme_and_scale() -> None:
    with pytest.raises(NotFoundError, match="score: unknown scheme 'SUZHOU_GUIHUA'"):
        scheme("SUZHOU_GUIHUA")
    with pytest.raises(NotFoundError, match="rating: unknown scale 'CUSTOMS'"):
        rating_scale("CUSTOMS")
    with pytest.raises(NotFoundError, match="rating: TAX_NSXY has no grade 'E'"):
        rating_scale("TAX_NSXY").grade("E")


@pytest.mark.parametrize(
    ("scheme_id", "score", "message"),
    [
        ("ZHENGZHOU_SHANGDING", 201, "expected 0-200, got 201"),
        ("HANGZHOU_QIANJIANG", -1, "expected 0-1000, got -1"),
        ("FUZHOU_MOLI", 1001, "expected 0-1000, got 1001"),
        ("FUZHOU_MOLI", True, "expected 0-1000, got True"),
    ],
    ids=["above", "below", "fuzhou-above", "bool"],
)
def test_out_of_range(scheme_id: str, score: int, message: str) -> None:
    with pytest.raises(OutOfRangeError, match=f"score: {scheme_id} score out of range: {message}"):
        scheme(scheme_id).band_for(score)


def test_rating_scales() -> None:
    tax = rating_scale("TAX_NSXY")
    assert [g.name for g in tax.grades] == ["D", "C", "M", "B", "A"]
    assert tax.grade("A").ordinal == 5 and tax.grade("A").rating_class == "good"
    assert tax.grade("D").rating_class == "bad"
    aaa = rating_scale("GENERIC_AAA_C")
    assert len(aaa.grades) == 9 and aaa.grade("AAA").ordinal > aaa.grade("BBB").ordinal
    assert rating_scale("SAMR_RISK").grade("D").rating_class == "bad"
    code = rating_scale("HUIZHOU_HUIXINMA")
    assert [g.name for g in code.grades] == ["red", "blue", "green"]
    assert set(RATING_SCALES) == {
        "BAOJI_JIUDING",
        "GENERIC_AAA_C",
        "HUANGPU_AD",
        "HUIZHOU_HUIXINMA",
        "NINGBO_PORT",
        "NINGBO_SHIPPING",
        "SAMR_RISK",
        "TAX_NSXY",
    }


@pytest.mark.parametrize("scheme_id", sorted(SCORE_SCHEMES))
@given(data=st.data())
def test_band_for_total_and_monotonic(scheme_id: str, data: st.DataObject) -> None:
    s = scheme(scheme_id)
    a = data.draw(st.integers(s.lo, s.hi))
    b = data.draw(st.integers(a, s.hi))
    names = [band.name for band in s.bands]
    assert names.index(s.band_for(a)) <= names.index(s.band_for(b))
    assert s.level_for(a) <= s.level_for(b)
    assert s.band(a).lo <= a <= s.band(a).hi


@pytest.mark.parametrize("scheme_id", sorted(SCORE_SCHEMES))
def test_bands_cover_the_range_exhaustively(scheme_id: str) -> None:
    s = scheme(scheme_id)
    seen = [s.band_for(x) for x in range(s.lo, s.hi + 1)]
    assert seen == sorted(seen, key=[b.name for b in s.bands].index)
    assert s.bands[0].level == "L1" and s.bands[-1].level == "L5"


def test_embedded_schemes_make_a_self_contained_policy() -> None:
    rules = embed_schemes(
        {
            "type": "band_table",
            "source_scheme": "NINGBO_TIANYI_PLACEHOLDER",
            "target_scheme": "HANGZHOU_QIANJIANG",
            "table": {f"L{i}": f"L{i}" for i in range(1, 6)},
        }
    )
    assert set(rules["schemes"]) == {"NINGBO_TIANYI_PLACEHOLDER", "HANGZHOU_QIANJIANG"}
    assert validate_policy(rules).rule.source.id == "NINGBO_TIANYI_PLACEHOLDER"
    assert "TAX_NSXY" in registry_scales()
    with pytest.raises(NotFoundError, match="unknown scheme 'NOPE'"):
        embed_schemes({"source_scheme": "NOPE"})
