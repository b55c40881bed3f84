"""Deterministic synthetic data for the demo regions (DOMAIN §8). Nothing here is real.

Every function takes a ``seed`` and, where dates matter, a reference date; the same
arguments always give the same bytes / records. No clock, no randomness outside a
seeded ``random.Random``.

- ``sample_usccs``: valid USCCs for a mainland region, built like DOMAIN §8 (body
  ``MA0YX`` + 3-digit serial + GB 11714 inner check, then the GB 32100 check); serials
  1 and 2 reproduce the DOMAIN §8 table codes.
- ``synthetic_resident_ids``: structurally valid resident ID numbers (district code of the
  region, random birth date, check character computed). They exist only as plaintext in
  generated input and test vectors; records carry their keyed hashes.
- ``penalty_csv`` / ``penalty_rows``: a 双公示 penalty CSV (UTF-8 with BOM, CRLF, the
  template's Chinese headers). The first eight rows sit on publication-window boundaries
  relative to ``reference_date`` (labelled in 备注 as ``case=<severity>:<boundary>``):
  ``min-1d`` (minimum not yet reached), ``min`` (reached exactly), ``max`` (maximum
  reached exactly) and ``past-max`` (one day past it), for general (3 months / 1 year)
  and serious (1 year / 3 years) severities. A window end is ``add_months(decision, n)``.
- ``score_records``: ``score.city`` records in the region's native scheme, with values
  on every band boundary first. ``SCORE_SCHEMES`` holds 钱江分 (DOMAIN §2; a band's lower
  bound is inclusive, so 550 is 一般 and 750 is 极好 [A]) and two **placeholder**
  schemes whose cut-offs are invented until the real ones are known:
  ``NINGBO_TIANYI_PLACEHOLDER`` (names unknown too: ``placeholder-1`` … ``-5``) and
  ``XIAMEN_BAILU_PLACEHOLDER`` (the published level names, invented cut-offs).
  ``level`` is the band's position, ``L1`` (worst) … ``L5`` [A].
- ``hk_report_records``: ``report.hk`` records about HK companies. CR Nos. use the kyckr
  shapes (8 digits, ``F``/``C`` + 7, ``MF`` + 6) and BRNs ``NNNNNNNN-000``, all starting
  with ``9`` after any prefix, far above the numbers issued so far.

This module does not write files, and its data must never be looked up in a real
registry (a collision with a real firm cannot be ruled out, DOMAIN §8).
"""

from __future__ import annotations

import csv
import io
import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from credex.ledger.dates import add_months, date_to_unix
from credex.ledger.errors import NotFoundError, OutOfRangeError
from credex.ledger.identifiers import (
    org_code_check_char,
    resident_id_check_char,
    uscc_check_char,
)
from credex.ledger.record import Record, Subject
from credex.ledger.subject import SubjectKey, person_subject_id

__all__ = [
    "BOUNDARY_CASES",
    "PENALTY_HEADER",
    "REGIONS",
    "SCORE_SCHEMES",
    "SYNTHETIC_TAGS",
    "RegionInfo",
    "band_for",
    "level_for",
    "make_uscc",
    "penalty_csv",
    "penalty_rows",
    "sample_usccs",
    "score_records",
    "synthetic_resident_ids",
]

Band = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class RegionInfo:
    """A demo region: GB/T 2260 code, display name, districts for resident ids, score."""

    region: str
    admin_code: str
    city: str
    abbr: str
    districts: tuple[str, ...]
    score_scheme: str | None


REGIONS: Final[Mapping[str, RegionInfo]] = {
    r.region: r
    for r in (
        RegionInfo(
            "cn-zj-ningbo",
            "330200",
            "宁波",
            "甬",
            ("330203", "330205", "330212"),
            "NINGBO_TIANYI_PLACEHOLDER",
        ),
        RegionInfo(
            "cn-zj-hangzhou",
            "330100",
            "杭州",
            "杭",
            ("330102", "330105", "330106"),
            "HANGZHOU_QIANJIANG",
        ),
        RegionInfo(
            "cn-fj-xiamen",
            "350200",
            "厦门",
            "厦",
            ("350203", "350205", "350206"),
            "XIAMEN_BAILU_PLACEHOLDER",
        ),
        RegionInfo("cn-gd-qianhai", "440300", "深圳", "深", ("440305", "440303", "440304"), None),
        RegionInfo("hk", "", "香港", "港", (), None),
    )
}

#: scheme id -> bands (lo, hi, name), both bounds inclusive, ordered worst to best.
SCORE_SCHEMES: Final[Mapping[str, tuple[Band, ...]]] = {
    "HANGZHOU_QIANJIANG": (
        (0, 549, "信用待提高"),
        (550, 599, "一般"),
        (600, 699, "良好"),
        (700, 749, "优秀"),
        (750, 1000, "极好"),
    ),
    # PLACEHOLDER: invented cut-offs and names; 天一分 publishes neither (DOMAIN §2).
    "NINGBO_TIANYI_PLACEHOLDER": (
        (0, 399, "placeholder-1"),
        (400, 549, "placeholder-2"),
        (550, 649, "placeholder-3"),
        (650, 799, "placeholder-4"),
        (800, 1000, "placeholder-5"),
    ),
    # PLACEHOLDER: the five published 白鹭分 level names with invented cut-offs.
    "XIAMEN_BAILU_PLACEHOLDER": (
        (0, 499, "不良"),
        (500, 599, "一般"),
        (600, 699, "良好"),
        (700, 799, "优秀"),
        (800, 1000, "极好"),
    ),
}

PENALTY_HEADER: Final = (
    "行政相对人名称",
    "行政相对人类别",
    "行政相对人代码_1（统一社会信用代码）",
    "行政相对人代码_2（工商注册号）",
    "行政相对人代码_3（组织机构代码）",
    "行政相对人代码_4（税务登记号）",
    "行政相对人代码_5（事业单位证书号）",
    "行政相对人代码_6（社会组织登记证号）",
    "法定代表人",
    "法定代表人证件类型",
    "法定代表人证件号码",
    "证件类型",
    "证件号码",
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "罚款金额（万元）",
    "没收违法所得、没收非法财物的金额（万元）",
    "暂扣或吊销证照名称及编号",
    "处罚决定日期",
    "处罚有效期",
    "公示截止期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "备注",
)

#: (severity, boundary, min months, max months) of the first penalty rows, in order.
BOUNDARY_CASES: Final = (
    ("general", "min-1d", 3, 12),
    ("general", "min", 3, 12),
    ("general", "max", 3, 12),
    ("general", "past-max", 3, 12),
    ("serious", "min-1d", 12, 36),
    ("serious", "min", 12, 36),
    ("serious", "max", 12, 36),
    ("serious", "past-max", 12, 36),
)

_INDUSTRIES: Final = ("科技", "贸易", "食品", "物流", "建材", "餐饮管理", "网络", "医疗器械")
SYNTHETIC_TAGS: Final = "甲乙丙丁戊己庚辛壬癸"
_SURNAMES: Final = "王李张刘陈杨赵黄周吴"
_VIOLATIONS: Final = (
    ("未按规定公示年度报告", "《企业信息公示暂行条例》第十七条", ("警告",)),
    (
        "销售不符合食品安全标准的食品",
        "《中华人民共和国食品安全法》第一百二十四条",
        ("罚款", "没收违法所得"),
    ),
    ("未按规定配置消防设施", "《中华人民共和国消防法》第六十条", ("责令改正", "罚款")),
    ("虚假宣传", "《中华人民共和国反不正当竞争法》第二十条", ("罚款",)),
    ("无证经营", "《无证无照经营查处办法》第十三条", ("警告", "罚款")),
)


def _region(region: str, *, mainland: bool = False) -> RegionInfo:
    info = REGIONS.get(region)
    if info is None or (mainland and not info.admin_code):
        known = ", ".join(r for r in REGIONS if not mainland or REGIONS[r].admin_code)
        raise NotFoundError(f"sample: unknown region {region!r}: expected one of {known}")
    return info


def make_uscc(prefix: str, admin_code: str, serial: int) -> str:
    """A valid synthetic USCC: ``prefix`` (2 chars) + region + ``MA0YX`` + serial + checks."""
    first8 = f"MA0YX{serial:03d}"
    first17 = prefix + admin_code + first8 + org_code_check_char(first8)
    return first17 + uscc_check_char(first17)


def sample_usccs(region: str, count: int = 10, seed: int = 0) -> list[str]:
    """``count`` distinct valid ``91`` codes; the first two are the DOMAIN §8 codes."""
    info = _region(region, mainland=True)
    serials = [1, 2, *random.Random(f"uscc:{region}:{seed}").sample(range(10, 800), 60)]
    return [make_uscc("91", info.admin_code, s) for s in serials[:count]]


def _resident_id(rng: random.Random, district: str) -> str:
    born = date(1960, 1, 1) + timedelta(days=rng.randrange(40 * 365))
    first17 = f"{district}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + resident_id_check_char(first17)


def synthetic_resident_ids(region: str, count: int = 10, seed: int = 0) -> list[str]:
    """``count`` structurally valid 18-character resident ids for a mainland region."""
    info = _region(region, mainland=True)
    rng = random.Random(f"rid:{region}:{seed}")
    return [_resident_id(rng, rng.choice(info.districts)) for _ in range(count)]


def _latest_decision(ref: date, months: int) -> date:
    """The latest decision date whose ``months`` window has ended on or before ``ref``."""
    d = add_months(ref, -months) - timedelta(days=3)
    while add_months(d + timedelta(days=1), months) <= ref:
        d += timedelta(days=1)
    return d


def _boundary_decision(ref: date, boundary: str, lo: int, hi: int) -> date:
    if boundary == "min-1d":
        return _latest_decision(ref, lo) + timedelta(days=1)
    if boundary == "min":
        return _latest_decision(ref, lo)
    if boundary == "max":
        return _latest_decision(ref, hi)
    return _latest_decision(ref, hi) - timedelta(days=1)


def _wan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def penalty_rows(
    region: str, rows: int = 20, seed: int = 0, *, reference_date: date
) -> list[dict[str, str]]:
    """The rows of ``penalty_csv`` as header -> cell maps (see module docstring).

    Row ``i`` (0-based) is a 自然人 row when ``i % 5 == 3`` (the first one uses the
    15-digit legacy id form), a 个体工商户 row when ``i % 5 == 4``, else an organisation.

    Raises:
        NotFoundError: not a mainland demo region.
    """
    info = _region(region, mainland=True)
    rng = random.Random(f"penalty:{region}:{seed}:{reference_date.isoformat()}")
    orgs = sample_usccs(region, 60, seed)[2:]
    rng.shuffle(orgs)
    ids = synthetic_resident_ids(region, rows, seed)
    authority = f"{info.city}市市场监督管理局"
    authority_uscc = make_uscc("11", info.admin_code, 801)
    source_unit = f"{info.city}市公共信用信息中心"
    source_uscc = make_uscc("12", info.admin_code, 802)
    out: list[dict[str, str]] = []
    first_person = True
    for i in range(rows):
        row = dict.fromkeys(PENALTY_HEADER, "")
        tag = SYNTHETIC_TAGS[i % len(SYNTHETIC_TAGS)] + (
            str(i // len(SYNTHETIC_TAGS)) if i >= len(SYNTHETIC_TAGS) else ""
        )
        if i < len(BOUNDARY_CASES):
            severity, boundary, lo, hi = BOUNDARY_CASES[i]
            decided = _boundary_decision(reference_date, boundary, lo, hi)
            until: date | None = add_months(decided, hi)
            case = f"case={severity}:{boundary}"
        else:
            decided = reference_date - timedelta(days=rng.randrange(30, 1000))
            until = add_months(decided, 12) if rng.random() < 0.5 else None
            case = "case=random"
        violation, basis, types = rng.choice(_VIOLATIONS)
        kind = i % 5
        if kind == 3:
            rid = ids[i]
            person = f"{rng.choice(_SURNAMES)}示例{tag}"
            row["行政相对人名称"] = person
            row["行政相对人类别"] = "自然人"
            row["证件类型"] = "身份证"
            row["证件号码"] = rid[:6] + rid[8:17] if first_person else rid
            first_person = False
            facts = f"当事人{person}{violation}（合成数据）"
        elif kind == 4:
            row["行政相对人名称"] = f"{info.city}示例{tag}便利店"
            row["行政相对人类别"] = "个体工商户"
            row["行政相对人代码_1（统一社会信用代码）"] = make_uscc(
                "92", info.admin_code, 900 + i % 100
            )
            facts = f"当事人{violation}（合成数据）"
        else:
            industry = _INDUSTRIES[i % len(_INDUSTRIES)]
            row["行政相对人名称"] = f"{info.city}示例{industry}{tag}有限公司"
            row["行政相对人类别"] = "法人及非法人组织"
            row["行政相对人代码_1（统一社会信用代码）"] = orgs[i % len(orgs)]
            row["法定代表人"] = f"{rng.choice(_SURNAMES)}示例"
            facts = f"当事人{violation}（合成数据）"
        row["行政处罚决定书文号"] = f"{info.abbr}市监罚〔{decided.year}〕{100 + i}号"
        row["违法行为类型"] = violation
        row["违法事实"] = facts
        row["处罚依据"] = basis
        row["处罚类别"] = "；".join(types) if i % 2 else ";".join(types)
        content = []
        if "罚款" in types:
            row["罚款金额（万元）"] = _wan(rng.randrange(5, 5000))
            content.append(f"罚款{row['罚款金额（万元）']}万元")
        if "没收违法所得" in types:
            row["没收违法所得、没收非法财物的金额（万元）"] = _wan(rng.randrange(1, 500))
            content.append("没收违法所得")
        row["处罚内容"] = "，".join(content) or "警告"
        y, m, d = decided.year, decided.month, decided.day
        row["处罚决定日期"] = (decided.isoformat(), f"{y}/{m}/{d}", f"{y}年{m}月{d}日")[i % 3]
        row["公示截止期"] = until.isoformat() if until else ""
        row["处罚机关"] = authority
        row["处罚机关统一社会信用代码"] = authority_uscc
        row["数据来源单位"] = source_unit
        row["数据来源单位统一社会信用代码"] = source_uscc
        row["备注"] = f"合成数据（synthetic）；{case}"
        out.append(row)
    return out


def penalty_csv(region: str, rows: int = 20, seed: int = 0, *, reference_date: date) -> bytes:
    """A synthetic 双公示 penalty CSV: UTF-8 with BOM, CRLF, template headers.

    Raises:
        NotFoundError: not a mainland demo region.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(PENALTY_HEADER)
    for row in penalty_rows(region, rows, seed, reference_date=reference_date):
        writer.writerow([row[h] for h in PENALTY_HEADER])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _bands(scheme: str) -> tuple[Band, ...]:
    bands = SCORE_SCHEMES.get(scheme)
    if bands is None:
        raise NotFoundError(f"score: unknown scheme {scheme!r}")
    return bands


def band_for(scheme: str, score: int) -> str:
    """The band name of ``score`` in ``scheme``.

    Raises:
        NotFoundError: unknown scheme.
        OutOfRangeError: the score is outside the scheme's range.
    """
    return _bands(scheme)[_band_index(scheme, score)][2]


def level_for(scheme: str, score: int) -> str:
    """The normalised level ``L1`` (worst band) … ``L5`` of ``score`` [A]."""
    return f"L{_band_index(scheme, score) + 1}"


def _band_index(scheme: str, score: int) -> int:
    bands = _bands(scheme)
    for i, (lo, hi, _) in enumerate(bands):
        if lo <= score <= hi:
            return i
    raise OutOfRangeError(
        f"score: {scheme} score out of range: expected {bands[0][0]}-{bands[-1][1]}, got {score}"
    )


def _boundary_scores(bands: Sequence[Band]) -> list[int]:
    out: list[int] = []
    for (_, hi, _), _next in itertools.pairwise(bands):
        out += [hi, hi + 1]
    return out


def score_records(
    region: str, subject_key: SubjectKey, count: int = 20, seed: int = 0, *, as_of: date
) -> list[Record]:
    """``count`` ``score.city`` records about synthetic persons of a scored region.

    Subject ``i`` is ``person_subject_id(subject_key, synthetic_resident_ids(region,
    count, seed)[i])``. Scores start with every band boundary pair (e.g. 549, 550, …),
    then seeded random values. ``valid_until`` is ``as_of`` + 1 month [A].

    Raises:
        NotFoundError: the region has no city score scheme.
    """
    info = _region(region, mainland=True)
    if info.score_scheme is None:
        raise NotFoundError(f"sample: region {region!r} has no city score scheme")
    scheme = info.score_scheme
    bands = _bands(scheme)
    rng = random.Random(f"score:{region}:{seed}")
    scores = _boundary_scores(bands)[:count]
    scores += [rng.randint(bands[0][0], bands[-1][1]) for _ in range(count - len(scores))]
    ids = synthetic_resident_ids(region, count, seed)
    return [
        Record(
            kind="score.city",
            region=region,
            subject=Subject("person", person_subject_id(subject_key, rid)),
            body={
                "scheme": scheme,
                "score": score,
                "band": band_for(scheme, score),
                "level": level_for(scheme, score),
                "as_of": as_of.isoformat(),
            },
            valid_from=date_to_unix(as_of),
            valid_until=date_to_unix(add_months(as_of, 1)),
        )
        for rid, score in zip(ids, scores, strict=True)
    ]
