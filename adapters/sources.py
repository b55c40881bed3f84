"""Where each score scheme and rating scale of ``credex.adapters.schemes`` comes from, and
its grade (``credex.ledger.provenance``; DOMAIN.md §10 holds over earlier sections).

``SCALE_SOURCES`` maps a scheme or scale id to its ``Provenance``. The seeds (the case
texts in ../shared/seeds, published by government offices) count as published. Rules
carry their own provenance in their JSON (``adapters/rules/``), conversion policies in
theirs (``adapters/policies/``), publication regimes in ``credex.ledger.lifecycle``.

Data only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from credex.ledger.provenance import Provenance

__all__ = ["SCALE_SOURCES", "source_of"]

SCALE_SOURCES: Final[Mapping[str, Provenance]] = {
    "FUZHOU_MOLI": Provenance(
        "published",
        "福州市信用网 https://credit.fuzhou.gov.cn/grxy/grxymlf/201806/t20180601_2251117.htm "
        "(茉莉分 0-1000, six bands)",
    ),
    "HANGZHOU_QIANJIANG": Provenance(
        "reported",
        "forum and press only: https://zzhzbbs.zjol.com.cn/thread-21520475-1-1.html, "
        "http://www.yongganxin.com/aa-32-132921-0.html; the lower bound 0 is assumed "
        "(sources say only 千分制) and '>750 极好' leaves 750 itself unstated",
    ),
    "ZHENGZHOU_SHANGDING": Provenance(
        "reported",
        "forum and a press mirror only: https://zhengzhouren.com/forum.php?mod=viewthread&tid=159, "
        "http://zhjswm.cn/NewsDetail/2105128.html (河南日报 2019-08-07); '>150 极好' leaves "
        "150 itself unstated",
    ),
    "NINGBO_TIANYI": Provenance(
        "illustrative",
        "天一分 exists (seed 001, 宁波市发改委) but publishes neither range nor bands: "
        "cut-offs and band names invented for the demo",
    ),
    "XIAMEN_BAILU": Provenance(
        "illustrative",
        "the five level names are reported (https://cloud.tencent.com.cn/developer/news/267810); "
        "the cut-offs are invented for the demo",
    ),
    "SAMR_RISK": Provenance(
        "reported",
        "A-D classes: https://www.jingji.com.cn/html/industry/scjg/318144.html; the meaning of "
        "each class is from memory of 国市监信发〔2022〕6号 (not re-verified)",
    ),
    "GENERIC_AAA_C": Provenance(
        "reported", "三等九级: http://china-creditaaa.org/htm/20183/29_3391.htm"
    ),
    "TAX_NSXY": Provenance(
        "reported",
        "纳税信用 A/B/M/C/D: https://www.5scpa.com/knowledge/18829.html, "
        "http://pjdwzx.cn/wdzt/zckjs_nsdjmj_4520341 (secondary sources)",
    ),
    "HUIZHOU_HUIXINMA": Provenance(
        "published",
        "seed 002 case 1 (广东省发展改革委, 惠州市率先推广“惠信码”服务): 绿码 有荣誉信息并且无不良"
        "信用记录; 蓝码 既无荣誉信息也无不良信用记录; 红码 有不良信用记录",
    ),
    "BAOJI_JIUDING": Provenance(
        "published",
        "seed 004 (宝鸡市发展和改革委员会 2024-06-04): 企业信用等级从高到低分为AAA级,AA级,A级,"
        "B级,C级五个级别",
    ),
    "HUANGPU_AD": Provenance(
        "published",
        "seed 002 case 11 (广州市黄埔区): 信用评价A级企业 … 优先考虑; 信用评价D级企业 "
        "不得享受政策兑现资金 (A-D; B and C named by the range only)",
    ),
    "NINGBO_PORT": Provenance(
        "published",
        "seed 000 (宁波, 口岸领域企业信用评价): A、B类企业在通关过程中优先申报、优先查验、优先放行 "
        "(classes A/B/C)",
    ),
    "NINGBO_SHIPPING": Provenance(
        "published",
        "seed 000 (宁波, 信用+一船多证一次通办): 航运企业信用等级评定为B级及以上的申请人"
        "实施“容缺受理” … C级企业则无法享受该项服务 (grades A/B/C)",
    ),
}


def source_of(scale_id: str) -> Provenance:
    """The provenance of a registry scheme or scale.

    Raises:
        KeyError: an id the registry does not hold (a programming error: every entry of
            ``credex.adapters.schemes`` has a source, a test checks).
    """
    return SCALE_SOURCES[scale_id]
