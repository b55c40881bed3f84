"""The seeds' regional systems (``credex demo``, part 4; issue #12).

Three fresh node homes in ``base`` (no servers needed), each with the rule files of
``adapters/rules/`` logged, and synthetic data dated relative to today:

1. Huizhou: an A-level taxpayer list, a red list and a black list imported; 惠信码
   computed for three companies (green, red, blue); a bank verifies the green code's
   bundle offline (step 8 replays it); the red company's credit commitment is refused
   by the check and nothing is logged.
2. Baoji: a serious penalty decided 13 months ago and never corrected: 九鼎分 as of 300
   days after the decision is B (reminded to correct); as of today it is C (a B not
   corrected within a year drops to C); a bank verifies the C.
3. Ningbo (shipping): the maritime issuer rates one company B and another C; 容缺受理
   is allowed for the B company, its commitment to supply the missing certificates is
   logged with a 30-day deadline and shows in the reminders; the C company is refused.
4. Ningbo (court list): a court list file imported; a 失信被执行人 asking to buy a
   restricted service is intercepted (deny, ``audit.check`` logged); a bank verifies
   the decision offline.

Every result carries its provenance grade. Returns a summary; ``ok`` says it all held.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import credex.adapters
from credex.adapters.registry import ADAPTERS
from credex.adapters.sample import make_uscc
from credex.ledger.dates import date_to_unix
from credex.ledger.errors import CommitmentRefusedError
from credex.ledger.record import Record, Subject
from credex.ledger.trust import TrustStore
from credex.ledger.verify import run_verification
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.commitments import due, make_commitment
from credex.node.services.importer import import_bytes
from credex.node.services.rules import (
    EvaluationResult,
    add_rule,
    check_purpose,
    find_rule,
    log_evaluation,
    prepare_evaluation,
)

__all__ = ["run_regional_demo"]

_RULES: Final = Path(credex.adapters.__file__).parent / "rules"
_DAY: Final = 86_400


def _home(base: Path, region: str, origin: str, now: int) -> NodeHome:
    return NodeHome.init(
        base / region,
        region=region,
        origin=origin,
        db=None,
        now=now,
        log_seed=os.urandom(32),
        subject_secret=os.urandom(32),
        platform_seed=os.urandom(32),
    )


def _rules(node: LocalNode, now: int) -> None:
    for f in sorted(_RULES.glob("*.json")):
        add_rule(node, json.loads(f.read_text(encoding="utf-8")), now=now)


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return b"\xef\xbb\xbf" + out.getvalue().encode()


def _verify(node: LocalNode, done: EvaluationResult) -> dict[str, Any]:
    """A bank's offline verification of ``done``'s bundle with the node's trust file."""
    trust = TrustStore.from_json(node.home.trust().to_json())
    report = run_verification(done.bundle.to_bytes(), trust)
    return {
        "verdict": "valid" if report.ok else "invalid",
        "steps": [s.number for s in report.steps if s.ok],
        "step8": report.steps[-1].detail if report.steps else "",
        "error": None if report.error is None else str(report.error),
    }


def _result(done: EvaluationResult) -> dict[str, Any]:
    body = done.prepared.record.body
    return {
        "subject": done.prepared.record.subject.id,
        "rule": body["rule"],
        "result": body.get("grade", body.get("result")),
        "provenance": body["provenance"],
        "because": body["because"],
        "facts": dict(body["facts"]),
        "evidence": len(done.prepared.found),
        "index": done.result.index,
    }


def _evaluate(node: LocalNode, subject: str, rule: str, as_of: int, now: int) -> EvaluationResult:
    leaf = find_rule(node, rule)[1].leaf_hash
    prepared = prepare_evaluation(node, Subject("org", subject), leaf, as_of=as_of, now=now)
    return log_evaluation(node, prepared, now=now)


def _huizhou(base: Path, today: date, now: int) -> dict[str, Any]:
    green, red, blue = (make_uscc("91", "441300", n) for n in (11, 12, 13))
    out: dict[str, Any] = {"region": "cn-gd-huizhou"}
    home = _home(base, "cn-gd-huizhou", "credex.huizhou.example/log", now)
    with LocalNode(home) as node:
        _rules(node, now)
        feeds = {
            "tax-a-list-csv": [
                ["纳税人识别号", "纳税人名称", "评价年度", "信用级别", "主管税务机关", "发布日期"],
                [
                    green,
                    "示例科技甲（惠州）有限公司",
                    str(today.year - 1),
                    "A",
                    "国家税务总局惠州市税务局",
                    (today - timedelta(days=30)).isoformat(),
                ],
            ],
            "red-list-csv": [
                ["企业名称", "统一社会信用代码", "名单类型", "认定单位", "认定日期"],
                [
                    "示例科技甲（惠州）有限公司",
                    green,
                    "本市诚信企业",
                    "惠州市发展和改革局",
                    (today - timedelta(60)).isoformat(),
                ],
            ],
            "black-list-csv": [
                ["主体名称", "统一社会信用代码", "名单名称", "认定部门", "列入日期", "列入原因"],
                [
                    "示例贸易乙（惠州）有限公司",
                    red,
                    "严重违法失信名单",
                    "惠州市市场监督管理局",
                    (today - timedelta(20)).isoformat(),
                    "提供虚假材料取得登记 (synthetic)",
                ],
            ],
        }
        out["imported"] = {
            name: import_bytes(node, ADAPTERS[name], _csv(rows), iat=now).imported
            for name, rows in feeds.items()
        }
        codes = {s: _evaluate(node, s, "HUIZHOU_HUIXINMA", now, now) for s in (green, red, blue)}
        out["codes"] = [_result(d) for d in codes.values()]
        out["bank"] = _verify(node, codes[green])
        before = node.log.size
        try:
            make_commitment(
                node,
                Subject("org", red),
                commitment_type="告知承诺",
                matter="补齐消防验收材料 (synthetic)",
                deadline=today + timedelta(days=30),
                gates=("HUIZHOU_COMMITMENT_GATE",),
                now=now,
            )
            out["refused"] = {"refused": False, "error": None}
        except CommitmentRefusedError as e:
            out["refused"] = {"refused": True, "error": str(e)}
        out["refused"] |= {"subject": red, "log_before": before, "log_after": node.log.size}
    out["ok"] = (
        [c["result"] for c in out["codes"]] == ["green", "red", "blue"]
        and out["bank"]["verdict"] == "valid"
        and out["refused"]["refused"]
        and out["refused"]["log_before"] == out["refused"]["log_after"]
    )
    return out


def _baoji(base: Path, today: date, now: int) -> dict[str, Any]:
    company = make_uscc("91", "610300", 21)
    decided = today - timedelta(days=395)
    home = _home(base, "cn-sn-baoji", "credex.baoji.example/log", now)
    with LocalNode(home) as node:
        _rules(node, now)
        penalty = Record(
            kind="penalty.admin",
            region="cn-sn-baoji",
            subject=Subject("org", company),
            body={
                "decision_no": f"宝市监罚〔{decided.year}〕21号",
                "decision_date": decided.isoformat(),
                "penalty_types": ["罚款", "责令停产停业"],
                "content": "罚款人民币二十万元，责令停产停业整顿 (synthetic)",
                "authority": "宝鸡市市场监督管理局",
                "authority_uscc": make_uscc("11", "610300", 801),
                "fine_wan": "20",
                "severity": "严重",
            },
            valid_from=date_to_unix(decided),
        )
        node.issue([penalty], iat=now)
        earlier = date_to_unix(decided + timedelta(days=300))
        b = _evaluate(node, company, "BAOJI_JIUDING", earlier, now)
        c = _evaluate(node, company, "BAOJI_JIUDING", now, now)
        out: dict[str, Any] = {
            "region": "cn-sn-baoji",
            "subject": company,
            "decided": decided.isoformat(),
            "before": _result(b) | {"as_of": (decided + timedelta(days=300)).isoformat()},
            "now": _result(c) | {"as_of": today.isoformat()},
            "bank": _verify(node, c),
        }
    out["ok"] = (
        out["before"]["result"] == "B"
        and out["now"]["result"] == "C"
        and out["bank"]["verdict"] == "valid"
    )
    return out


def _ningbo(base: Path, today: date, now: int) -> dict[str, Any]:
    shipping_b, shipping_c = (make_uscc("91", "330200", n) for n in (31, 32))
    debtor = make_uscc("91", "330200", 33)
    home = _home(base, "cn-zj-ningbo", "credex.ningbo-regional.example/log", now)
    home.add_issuer("cn-zj-ningbo/maritime", ["rating.enterprise"], valid_from=0, valid_until=None)
    out: dict[str, Any] = {"region": "cn-zj-ningbo"}
    with LocalNode(home) as node:
        _rules(node, now)
        rated = (today - timedelta(days=90)).isoformat()
        ratings = [
            Record(
                kind="rating.enterprise",
                region="cn-zj-ningbo",
                subject=Subject("org", s),
                body={
                    "scheme": "NINGBO_SHIPPING",
                    "grade": g,
                    "rated_on": rated,
                    "rater": "宁波海事局等四部门 (synthetic)",
                    "period": str(today.year),
                },
                valid_from=date_to_unix(today - timedelta(days=90)),
            )
            for s, g in ((shipping_b, "B"), (shipping_c, "C"))
        ]
        node.issue(ratings, issuer_id="cn-zj-ningbo/maritime", iat=now)
        gates = ("COMMITMENT_GATE", "NINGBO_SHIPPING_RONGQUE")
        deadline = today + timedelta(days=30)
        made = make_commitment(
            node,
            Subject("org", shipping_b),
            commitment_type="容缺受理",
            matter="领证时补齐容缺船检证书 (一船多证一次通办, synthetic)",
            deadline=deadline,
            gates=gates,
            now=now,
        )
        rongque = next(d for d in made.decisions if d.prepared.rule.name == gates[1])
        reminders = due(node, as_of=now, within_days=30)
        try:
            make_commitment(
                node,
                Subject("org", shipping_c),
                commitment_type="容缺受理",
                matter="领证时补齐容缺船检证书 (synthetic)",
                deadline=deadline,
                gates=gates,
                now=now,
            )
            refused: dict[str, Any] = {"refused": False, "error": None}
        except CommitmentRefusedError as e:
            refused = {"refused": True, "error": str(e)}
        out["rongque"] = {
            "granted": _result(rongque),
            "commitment_index": made.result.index,
            "deadline": deadline.isoformat(),
            "reminders": [d.to_json() for d in reminders],
            "bank": _verify(node, rongque),
            "refused_c": refused | {"subject": shipping_c},
        }
        listed = today - timedelta(days=60)
        court_csv = _csv(
            [
                [
                    "被执行人姓名/名称",
                    "身份证号码/组织机构代码",
                    "执行法院",
                    "案号",
                    "立案时间",
                    "发布时间",
                    "失信被执行人行为具体情形",
                    "状态",
                ],
                [
                    "示例物流戊有限公司",
                    debtor,
                    "宁波市海曙区人民法院",
                    f"（{listed.year}）浙0203执2001号",
                    (listed - timedelta(days=40)).isoformat(),
                    listed.isoformat(),
                    "有履行能力而拒不履行生效法律文书确定义务",
                    "在列",
                ],
            ]
        )
        summary = import_bytes(node, ADAPTERS["court-list-csv"], court_csv, iat=now)
        checked = check_purpose(
            node,
            Subject("org", debtor),
            "RESTRICTED_HIGH_CONSUMPTION",
            asker="airline:booking-demo",
            now=now,
        )
        out["intercepted"] = {
            "imported": summary.imported,
            "decision": _result(checked.decision),
            "audit_index": checked.audit.index,
            "bank": _verify(node, checked.decision),
        }
    r, i = out["rongque"], out["intercepted"]
    out["ok"] = (
        r["granted"]["result"] == "allow"
        and any(d["index"] == r["commitment_index"] for d in r["reminders"])
        and r["bank"]["verdict"] == "valid"
        and r["refused_c"]["refused"]
        and i["decision"]["result"] == "deny"
        and i["bank"]["verdict"] == "valid"
    )
    return out


def run_regional_demo(
    base: Path, progress: Callable[[str], None], *, today: date, now: int
) -> dict[str, Any]:
    """Part 4 in ``base`` (three new homes); see the module docstring."""
    base.mkdir(parents=True, exist_ok=True)
    progress("part 4: 惠信码 in Huizhou")
    hz = _huizhou(base, today, now)
    progress("part 4: 九鼎分 in Baoji")
    bj = _baoji(base, today, now)
    progress("part 4: 容缺受理 and 失信被执行人 in Ningbo")
    nb = _ningbo(base, today, now)
    return {"huizhou": hz, "baoji": bj, "ningbo": nb, "ok": hz["ok"] and bj["ok"] and nb["ok"]}
