"""End to end: a Hong Kong company report converted at Qianhai and verified by a Shenzhen
bank offline (issue #4 point 3), through the ``credex`` command run in-process with a
pinned clock.

A HK agency node (region ``hk``) imports a JSON report with the ``hk-report-json``
adapter and bundles it; a Qianhai node (SQLite or PostgreSQL, ``store_url``) adds the
``hk-to-mainland-enterprise-report`` field-map policy and recognises the HK bundle into a
``derived.report``; a bank holding only a merged trust file verifies the converted
bundle, step 8 replaying the conversion. A re-signed derived record with a changed
授信总额 fails step 8 naming the field. The HKD -> CNY factor in the policy is
illustrative.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import credex.adapters
from credex.cli import lifecycle_cmds, node_cmds, proof_cmds
from credex.ledger.bundle import Bundle
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement
from credex.node.local import LocalNode

from .clirunner import Cli, init_home, make_cli, merged_trust

HK, HK_ORIGIN = "hk", "credex.hk.example/log"
QIANHAI, QIANHAI_ORIGIN = "cn-gd-qianhai", "credex.qianhai.example/log"
T0 = calendar.timegm((2026, 6, 1, 0, 0, 0))  # 2026-06-01 08:00 CST
POLICY = Path(credex.adapters.__file__).parent / "policies" / "hk_to_mainland.json"

REPORTS: list[Any] = [
    {
        "agency": "Example Credit Agency (HK) Ltd",
        "report_id": "SYN-HK-20260531-0001",
        "report_date": "2026-05-31",
        "cr_no": "91234567",
        "company_name": {"en": "Example Trading (HK) Ltd", "zh": "示例貿易（香港）有限公司"},
        "status": "Live",
        "incorporation_date": "2010-03-15",
        "company_type": "Private company limited by shares",
        "directors": ["陳大文", "Chan Tai Man"],
        "court_judgments": {"count": 1, "latest_date": "2025-11-02", "amount_hkd_cents": 12345600},
        "payment_records": {"count": 12, "days_beyond_terms": 15},
        "ccra": {"facilities": 3, "total_limit_hkd_cents": 500000000, "default": False},
        "rating": "3A2",
    },
    {"agency": "Example Credit Agency (HK) Ltd", "report_id": "bad", "cr_no": "123"},
]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    for mod in (node_cmds, proof_cmds, lifecycle_cmds):
        monkeypatch.setattr(mod, "now", lambda: T0)
    return make_cli(capsys, monkeypatch, one_line_errors=False)


_init = init_home


def _merged_trust(cli: Cli, tmp_path: Path, *homes: Path) -> Path:
    return merged_trust(cli, tmp_path / "merged.json", *homes)


@dataclass(frozen=True)
class Converted:
    hk: Path
    qianhai: Path
    trust: Path
    source: Path
    out: Path
    policy_leaf: str


@pytest.fixture
def converted(cli: Cli, tmp_path: Path, store_url: str) -> Converted:
    hk = _init(cli, tmp_path / "hk", HK, HK_ORIGIN)
    f = tmp_path / "reports.json"
    f.write_text(json.dumps(REPORTS, ensure_ascii=False), encoding="utf-8")
    r = cli("import", "--home", hk, "--adapter", "hk-report-json", f, "--json")
    assert r.code == 1, r.err  # one bad report: the good one is still imported
    assert (r.json["imported"], r.json["rejected"]) == (1, 1)
    assert r.json["errors"][0]["line"] == 2
    assert "hk report: missing required field: report_date" in r.json["errors"][0]["reason"]
    source = tmp_path / "hk-report.credex"
    assert cli("bundle", 0, "-o", source, "--home", hk).code == 0

    qianhai = _init(cli, tmp_path / "qianhai", QIANHAI, QIANHAI_ORIGIN, store_url)
    r = cli("policy", "add", POLICY, "--home", qianhai, "--json")
    assert r.code == 0, r.err
    policy_leaf = r.json["leaf_hash"]
    trust = _merged_trust(cli, tmp_path, hk, qianhai)
    out = tmp_path / "converted.credex"
    r = cli(
        "recognize",
        "--bundle",
        source,
        "--policy",
        policy_leaf,
        "-o",
        out,
        "--trust",
        trust,
        "--home",
        qianhai,
        "--json",
    )
    assert r.code == 0, r.err
    assert (r.json["kind"], r.json["policy"]) == ("derived.report", policy_leaf)
    return Converted(hk, qianhai, trust, source, out, policy_leaf)


def test_hk_report_converted_at_qianhai_verifies_at_a_shenzhen_bank(
    cli: Cli, converted: Converted
) -> None:
    cv = converted
    bundle = Bundle.from_bytes(cv.out.read_bytes())
    derived = Statement.from_bytes(bundle.statement)
    source = Statement.from_bytes(Bundle.from_bytes(cv.source.read_bytes()).statement)
    assert source.record.kind == "report.hk" and source.record.region == HK
    assert source.record.subject == Subject("org", "HK-CR:91234567")
    assert derived.record.refs == (source.leaf_hash, bytes.fromhex(cv.policy_leaf))
    assert derived.record.subject == source.record.subject
    assert derived.record.region == QIANHAI
    body = dict(derived.record.body)
    assert body["format"] == "cn-enterprise-report/qianhai-2021"
    items = body["items"]
    assert items["企业名称"] == "示例貿易（香港）有限公司"
    assert items["统一代码/登记号"] == "HK-CR:91234567"
    assert (items["经营状态"], items["企业类型"]) == ("存续", "私人股份有限公司（香港）")
    assert items["授信总额"] == {"amount": 460000000, "currency": "CNY"}
    assert items["涉诉金额"] == {"amount": 12345600 * 23 // 25, "currency": "CNY"}
    assert (items["授信笔数"], items["违约标记"], items["评级"]) == (3, "否", "3A2")
    # HK-specific items stay apart; directors only ever masked
    assert items["specific"]["items.directors"] == ["陳**", "C*********"]
    assert "陳大文".encode() not in cv.out.read_bytes()

    # the bank: no home, only the bundle and the merged trust file
    r = cli("verify", cv.out, "--trust", cv.trust, "--json")
    assert r.code == 0, r.out
    steps = {s["step"]: s for s in r.json["steps"]}
    assert steps[8]["ok"] and "conversion replays" in steps[8]["detail"]
    r = cli("verify", cv.out, "--trust", cv.trust)
    assert r.code == 0 and "VALID" in r.out
    # Qianhai's own trust does not cover the HK agency's log
    r = cli("verify", cv.out, "--home", cv.qianhai, "--json")
    assert r.code == 1 and r.json["failed_step"] == 8


def test_tampered_converted_field_fails_step_8_naming_it(
    cli: Cli, converted: Converted, tmp_path: Path
) -> None:
    cv = converted
    good = Bundle.from_bytes(cv.out.read_bytes())
    rec = Statement.from_bytes(good.statement).record
    items = dict(rec.body["items"])
    items["授信总额"] = {"amount": 4600000000, "currency": "CNY"}  # ten times the limit
    forged = Record(
        rec.kind,
        rec.region,
        rec.subject,
        {**rec.body, "items": items},
        rec.valid_from,
        rec.valid_until,
        rec.refs,
    )
    # Qianhai signs and logs the wrong conversion: steps 1-7 pass, step 8 does not
    with LocalNode.open(cv.qianhai) as node:
        res = node.issue([forged], iat=T0)[0]
        own = node.bundle(res.index, T0)
    bad = tmp_path / "forged.credex"
    bad.write_bytes(
        Bundle(own.statement, own.checkpoint, sources=good.sources, policy=good.policy).to_bytes()
    )
    r = cli("verify", bad, "--trust", cv.trust, "--json")
    assert r.code == 1
    assert r.json["failed_step"] == 8
    assert r.json["error"]["code"] == "derivation_mismatch"
    assert "field 'items.授信总额.amount' does not replay" in r.json["error"]["message"]
    r = cli("verify", bad, "--trust", cv.trust)
    assert r.code == 1 and "step 8 failed" in r.out
