"""The explorer's words in Chinese and English: field labels, kind names, and a record's
state in plain words (as 信用中国 pages put it). Data only."""

from __future__ import annotations

from typing import Final

__all__ = ["KIND_NAMES", "LABELS", "STATE_WORDS"]

#: label key -> (中文, English)
LABELS: Final[dict[str, tuple[str, str]]] = {
    "log": ("日志", "Log"),
    "origin": ("日志标识", "Origin"),
    "region": ("地区", "Region"),
    "tree_size": ("条目数", "Entries"),
    "checkpoint": ("检查点", "Checkpoint"),
    "checkpoints": ("检查点历史", "Checkpoint history"),
    "root": ("根哈希", "Root hash"),
    "signed_at": ("签署时间", "Signed at"),
    "witnesses": ("见证节点", "Witnesses"),
    "cosigned": ("已联署", "Cosigned"),
    "recent": ("最新条目", "Latest entries"),
    "index": ("序号", "Index"),
    "kind": ("类型", "Kind"),
    "issuer": ("签发机构", "Issuer"),
    "issued_at": ("签发时间", "Issued at"),
    "subject": ("主体", "Subject"),
    "valid_from": ("生效日期", "Valid from"),
    "valid_until": ("截止日期", "Valid until"),
    "leaf_hash": ("叶哈希", "Leaf hash"),
    "status": ("状态", "Status"),
    "evidence": ("依据", "Evidence"),
    "chain": ("转换链", "Conversion chain"),
    "body": ("内容", "Content"),
    "verification": ("浏览器内验证", "Verified in this browser"),
    "verdict": ("结论", "Verdict"),
    "federation": ("联盟", "Federation"),
    "members": ("成员", "Members"),
    "keys": ("密钥", "Keys"),
    "agreements": ("互认协议", "Recognition agreements"),
    "delegations": ("修复授权", "Repair delegations"),
    "versions": ("清单版本", "Manifest versions"),
    "quorum": ("见证法定数", "Witness quorum"),
    "pin": ("固定哈希（第1版）", "Pinned hash (version 1)"),
    "search": ("查询", "Search"),
    "none": ("无", "none"),
    "person_body": (
        "个人信息：内容不在公开页面显示，仅经授权查询提供",
        "A person's record: its content is never shown on public pages; only an "
        "authorised, audited lookup returns it",
    ),
    "no_federation": ("本节点尚未加入联盟", "This node has no federation manifest yet"),
    "report": ("信用报告", "Credit report"),
    "date": ("日期", "Date"),
    "records_in_force": ("有效记录", "Records in force"),
    "withheld": ("不再公示的记录", "Records withheld"),
    "reason": ("原因", "Reason"),
    "statements": ("相关声明", "Statements about the subject"),
    "complete": ("完整性", "Completeness"),
    "not_covered_logs": ("未覆盖的日志", "Logs not covered"),
    "open_file": (
        "打开报告文件（仅在本浏览器内验证，不上传）",
        "Open a report file (verified in this browser, never uploaded)",
    ),
    "own_trust": ("使用自己的信任文件", "Use your own trust material"),
    "trust_file": (
        "信任文件或联盟清单（不选则用本节点的）",
        "Trust file or federation manifest chain (default: this node's)",
    ),
    "download": ("下载报告文件", "Download the report file"),
    "not_covered": (
        "尚无签署的检查点覆盖此条目，稍后可验证",
        "No signed checkpoint covers this entry yet: it can be verified after the next one",
    ),
}

#: record kind -> Chinese name
KIND_NAMES: Final[dict[str, str]] = {
    "score.city": "城市信用分",
    "rating.enterprise": "企业信用评级",
    "penalty.admin": "行政处罚",
    "list.red": "守信激励名单（红名单）",
    "list.black": "严重失信主体名单（黑名单）",
    "court.dishonest-debtor": "失信被执行人",
    "commitment": "信用承诺",
    "commitment.outcome": "承诺履行结果",
    "report.hk": "香港企业信用报告",
    "derived.score": "互认转换信用分",
    "derived.report": "互认转换信用报告",
    "policy.conversion": "转换规则",
    "audit.lookup": "查询留痕",
    "federation.manifest": "联盟清单",
    "lifecycle.objection": "异议申请",
    "lifecycle.objection-resolved": "异议处理结果",
    "lifecycle.repair": "信用修复",
    "lifecycle.withdrawal": "撤销",
}

#: state -> (中文, English) in plain words
STATE_WORDS: Final[dict[str, tuple[str, str]]] = {
    "active": ("有效，正在公示", "In force and published"),
    "under-objection": ("异议处理中", "Under objection"),
    "corrected": ("已更正，原信息不再公示", "Corrected: this version is no longer published"),
    "repaired": (
        "已完成信用修复，不再公示",
        "Repaired (信用修复): no longer published or shared",
    ),
    "withdrawn": ("已撤销，不再公示", "Withdrawn: no longer published or shared"),
    "expired": ("公示期满，不再公示", "Expired: its publication period has ended"),
    "superseded": ("已被新信息取代", "Superseded by a newer record"),
}
