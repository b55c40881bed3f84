"""The seeds' regional systems through the ``credex`` command, on real homes (issue #12):
惠信码 evaluated and verified offline, a rule that is not total refused, a 失信被执行人
intercepted with its audit statement, the commitment loop (check, commit, remind,
breach, negative record) and one source per fact on import. The first node runs on
SQLite and PostgreSQL (``store_url``); the clock is pinned."""

from __future__ import annotations

import calendar
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

import credex.adapters
from credex.adapters.sample import PENALTY_HEADER
from credex.cli import commitment_cmds, node_cmds, proof_cmds, rules_cmds
from credex.ledger.statement import Statement
from credex.node.local import LocalNode

from .clirunner import Cli, init_home, log_size, make_cli

ROOT = Path(credex.adapters.__file__).parent
SAMPLES, RULES = ROOT / "samples", ROOT / "rules"
T0 = calendar.timegm((2026, 6, 1, 2, 0, 0))  # 2026-06-01 10:00 CST
DAY = 86_400
GREEN, RED, BLUE = "91441300MA0YX0016F", "91441300MA0YX0024A", "91441300MA0YX00325"
RID = "330205186403059558"  # synthetic; on the sample court list


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    t = {"now": T0}
    for mod in (node_cmds, proof_cmds, rules_cmds, commitment_cmds):
        monkeypatch.setattr(mod, "now", lambda: t["now"])
    return t


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], clock: dict[str, int], monkeypatch) -> Cli:
    return make_cli(capsys, monkeypatch)


def _ok(r: Any) -> Any:
    assert r.code == 0, r.text
    return r


@pytest.fixture
def huizhou(cli: Cli, tmp_path: Path, store_url: str) -> Path:
    home = init_home(cli, tmp_path / "hz", "cn-gd-huizhou", "credex.huizhou.example/log", store_url)
    for adapter, file in (
        ("tax-a-list-csv", "tax_a_list.csv"),
        ("red-list-csv", "red_list.csv"),
        ("black-list-csv", "black_list.csv"),
    ):
        _ok(cli("import", "--adapter", adapter, SAMPLES / file, "--home", home))
    for rule in ("huixinma.json", "huizhou_commitment_gate.json"):
        _ok(cli("rule", "add", RULES / rule, "--home", home))
    return home


def test_huixinma_is_computed_and_a_bank_verifies_it_offline(
    cli: Cli, huizhou: Path, tmp_path: Path
) -> None:
    out = tmp_path / "green.credex"
    r = _ok(cli("evaluate", GREEN, "--rule", "HUIZHOU_HUIXINMA", "-o", out, "--home", huizhou))
    assert "green [published]" in r.out and "绿码" in r.out
    got = _ok(cli("evaluate", RED, "--rule", "HUIZHOU_HUIXINMA", "--home", huizhou, "--json")).json
    assert (got["result"], got["facts"]["negative"], got["provenance"]) == ("red", 1, "published")
    # the removed black-list entry (移出 2026-03-01) no longer counts: blue
    by_leaf = cli("evaluate", BLUE, "--rule", got["rule_leaf"], "--home", huizhou, "--json")
    assert _ok(by_leaf).json["result"] == "blue" and by_leaf.json["evidence"] == []
    trust = tmp_path / "t.json"
    _ok(cli("trust", "export", "-o", trust, "--home", huizhou))
    v = _ok(cli("verify", out, "--trust", trust))
    assert "step 8 derivation: 2 evidence record(s)" in v.out and "green [published]" in v.out
    # an earlier day: the red list (2026-01-20) was there, the A rating (2026-04-10) not yet
    early = cli(
        "evaluate",
        GREEN,
        "--rule",
        "HUIZHOU_HUIXINMA",
        "--as-of",
        "2026-02-01",
        "--home",
        huizhou,
        "--json",
    )
    assert _ok(early).json["facts"]["tax_a"] == 0 and early.json["result"] == "green"
    future = cli(
        "evaluate", GREEN, "--rule", "HUIZHOU_HUIXINMA", "--as-of", "2026-07-01", "--home", huizhou
    )
    assert future.code == 1 and "as_of is in the future" in future.err


def test_a_rule_that_is_not_total_or_reads_unknown_kinds_is_refused(
    cli: Cli, huizhou: Path, tmp_path: Path
) -> None:
    value = json.loads((RULES / "huixinma.json").read_text(encoding="utf-8"))
    value["rules"]["decide"].pop()
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(value), encoding="utf-8")
    before = log_size(cli, huizhou)
    r = cli("rule", "add", bad, "--home", huizhou)
    assert r.code == 1 and "rule is not total" in r.err
    value = json.loads((RULES / "huixinma.json").read_text(encoding="utf-8"))
    value["rules"]["facts"]["negative"]["count"]["kinds"] = ["penalty.admin", "credit.rumour"]
    bad.write_text(json.dumps(value), encoding="utf-8")
    r = cli("rule", "add", bad, "--home", huizhou)
    assert r.code == 1 and "unknown kind 'credit.rumour'" in r.err
    assert log_size(cli, huizhou) == before
    r = cli("evaluate", GREEN, "--rule", "NO_SUCH_RULE", "--home", huizhou)
    assert r.code == 1 and "no rule 'NO_SUCH_RULE'" in r.err


def test_the_commitment_loop(cli: Cli, huizhou: Path, clock: dict[str, int]) -> None:
    # 核查: a red 惠信码 (black list) is refused, nothing logged
    before = log_size(cli, huizhou)
    gate = ("--gate", "HUIZHOU_COMMITMENT_GATE")
    r = cli(
        "commitments",
        "make",
        RED,
        "--type",
        "告知承诺",
        "--matter",
        "补齐材料",
        "--deadline",
        "2026-06-20",
        *gate,
        "--home",
        huizhou,
    )
    assert r.code == 1 and "refused by HUIZHOU_COMMITMENT_GATE v1 [published]" in r.err
    assert log_size(cli, huizhou) == before
    r = cli(
        "commitments",
        "make",
        GREEN,
        "--type",
        "容缺受理",
        "--matter",
        "补齐",
        *gate,
        "--home",
        huizhou,
    )
    assert r.code == 1 and "needs a deadline" in r.err
    # 承诺
    made = cli(
        "commitments",
        "make",
        GREEN,
        "--type",
        "告知承诺",
        "--matter",
        "补齐消防验收材料",
        "--deadline",
        "2026-06-20",
        *gate,
        "--home",
        huizhou,
        "--json",
    )
    leaf = _ok(made).json["leaf_hash"]
    assert made.json["checks"][0]["result"] == "allow"
    due = _ok(cli("commitments", "due", "--within", "30d", "--home", huizhou, "--json")).json
    assert [(d["leaf_hash"], d["days_left"]) for d in due] == [(leaf, 19)]
    assert _ok(cli("commitments", "due", "--within", "7", "--home", huizhou, "--json")).json == []
    clock["now"] = T0 + 25 * DAY  # the deadline passes: the reminder says overdue
    r = _ok(cli("commitments", "due", "--home", huizhou))
    assert "OVERDUE by 6 days" in r.out
    # 履约: breached, and the negative record it prescribes, linked to the commitment
    br = _ok(cli("commitments", "breach", leaf, "--home", huizhou, "--json")).json
    with LocalNode.open(huizhou) as node:
        neg = node.statement_at(br["breach"]["index"]).record
        commitment = node.statement_at(made.json["index"])
    assert neg.kind == "commitment.breach" and neg.refs[0] == commitment.leaf_hash
    assert neg.body["commitment_type"] == "告知承诺" and neg.body["provenance"] == "published"
    assert _ok(cli("commitments", "due", "--home", huizhou, "--json")).json == []
    retry = _ok(cli("commitments", "breach", leaf, "--home", huizhou, "--json")).json
    # the same second: idempotent, nothing new
    assert retry["breach"]["index"] == br["breach"]["index"] and not retry["breach"]["new"]
    clock["now"] += 60
    again = cli("commitments", "breach", leaf, "--home", huizhou)
    assert again.code == 1 and "already has an outcome" in again.err
    code = _ok(cli("evaluate", GREEN, "--rule", "HUIZHOU_HUIXINMA", "--home", huizhou, "--json"))
    assert code.json["result"] == "red"  # the breach is a negative record


@pytest.fixture
def ningbo(cli: Cli, tmp_path: Path) -> Path:
    home = init_home(cli, tmp_path / "nb", "cn-zj-ningbo", "credex.ningbo.example/log")
    _ok(cli("import", "--adapter", "court-list-csv", SAMPLES / "court_list.csv", "--home", home))
    _ok(cli("rule", "add", RULES / "restricted_high_consumption.json", "--home", home))
    return home


def test_a_dishonest_debtor_is_intercepted_and_the_check_audited(
    cli: Cli, ningbo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "deny.credex"
    r = cli(
        "check",
        "91330200MA0YX0059G",
        "--purpose",
        "RESTRICTED_HIGH_CONSUMPTION",
        "--asker",
        "airline:mu",
        "--authorisation",
        "order:2026-1",
        "-o",
        out,
        "--home",
        ningbo,
        "--json",
    )
    assert r.code == 1 and r.json["result"] == "deny"  # exit 1: denied
    with LocalNode.open(ningbo) as node:
        audit = node.statement_at(r.json["audit"]["index"]).record
    assert audit.kind == "audit.check"
    assert audit.body == {
        "asker": "airline:mu",
        "purpose": "RESTRICTED_HIGH_CONSUMPTION",
        "rule_version": 1,
        "result": "deny",
        "authorisation": "order:2026-1",
    }
    assert audit.refs[0] == bytes.fromhex(r.json["leaf_hash"])
    trust = tmp_path / "t.json"
    _ok(cli("trust", "export", "-o", trust, "--home", ningbo))
    v = _ok(cli("verify", out, "--trust", trust, "--purpose", "punitive"))
    assert "deny [published]" in v.out
    # the deferral (暂缓) ended on 2026-06-01 midnight: listed; the removed one is not
    assert (
        cli(
            "check",
            "91330200MA0YX0024X",
            "--purpose",
            "RESTRICTED_HIGH_CONSUMPTION",
            "--home",
            ningbo,
        ).code
        == 1
    )
    allowed = cli(
        "check", "91330200MA0YX00163", "--purpose", "RESTRICTED_HIGH_CONSUMPTION", "--home", ningbo
    )
    assert allowed.code == 0 and "allow [published]" in allowed.out
    early = cli(
        "check",
        "91330200MA0YX0024X",
        "--purpose",
        "RESTRICTED_HIGH_CONSUMPTION",
        "--as-of",
        "2026-05-01",
        "--home",
        ningbo,
    )
    assert early.code == 0  # still deferred then
    # a person: by resident ID on stdin; the number is never printed nor logged
    monkeypatch.setattr("sys.stdin", io.StringIO(RID + "\n"))
    p = cli(
        "check",
        "--person-id",
        "-",
        "--purpose",
        "RESTRICTED_HIGH_CONSUMPTION",
        "--asker",
        "rail:12306",
        "--home",
        ningbo,
    )
    assert p.code == 1 and RID not in p.text
    with LocalNode.open(ningbo) as node:
        leaves = b"".join(e.leaf for e in node.log.entries(0, node.log.size))
    assert RID.encode() not in leaves
    bad = cli(
        "check",
        "91330200MA0YX0059G",
        "--purpose",
        "RESTRICTED_HIGH_CONSUMPTION",
        "--asker",
        "张三",
        "--home",
        ningbo,
    )
    assert bad.code == 1 and "asker must be" in bad.err


def _penalty_csv(*rows: dict[str, str]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(PENALTY_HEADER)
    for row in rows:
        w.writerow([row.get(h, "") for h in PENALTY_HEADER])
    return b"\xef\xbb\xbf" + out.getvalue().encode()


def _row(content: str, note: str = "") -> dict[str, str]:
    return {
        "行政相对人名称": "示例贸易有限公司",
        "行政相对人类别": "法人及非法人组织",
        "行政相对人代码_1（统一社会信用代码）": "91330200MA0YX00163",
        "行政处罚决定书文号": "甬市监罚〔2026〕88号",
        "处罚类别": "罚款",
        "处罚内容": content,
        "罚款金额（万元）": "1",
        "处罚决定日期": "2026-05-02",
        "处罚机关": "宁波市市场监督管理局",
        "处罚机关统一社会信用代码": "11330200MA0YX8018B",
        "备注": note,
    }


def test_one_source_per_fact_on_import(cli: Cli, tmp_path: Path) -> None:
    home = init_home(cli, tmp_path / "nb", "cn-zj-ningbo", "credex.ningbo.example/log")
    _ok(cli("issuer", "add", "cn-zj-ningbo/samr", "--kinds", "penalty.admin", "--home", home))
    first = tmp_path / "a.csv"
    first.write_bytes(_penalty_csv(_row("罚款人民币一万元")))
    _ok(cli("import", "--adapter", "penalty-csv", first, "--home", home))
    # the same decision from another source (other note, bracket form): linked, not logged
    dup = tmp_path / "b.csv"
    other = _row("罚款人民币一万元", note="来自市场监管局报送")
    other["行政处罚决定书文号"] = "甬市监罚[2026]88号"
    dup.write_bytes(_penalty_csv(other))
    size = log_size(cli, home)
    r = _ok(
        cli(
            "import",
            "--adapter",
            "penalty-csv",
            dup,
            "--issuer",
            "cn-zj-ningbo/samr",
            "--home",
            home,
            "--json",
        )
    )
    assert r.json["imported"] == 0 and len(r.json["duplicates"]) == 1
    assert "issuer cn-zj-ningbo/platform" in r.json["duplicates"][0]["first"]
    assert log_size(cli, home) == size
    # another source with other values: refused, the fields named
    conflict = tmp_path / "c.csv"
    conflict.write_bytes(_penalty_csv(_row("罚款人民币两万元")))
    r = cli(
        "import",
        "--adapter",
        "penalty-csv",
        conflict,
        "--issuer",
        "cn-zj-ningbo/samr",
        "--home",
        home,
    )
    assert r.code == 1 and "content differ from" in r.err and "两万" not in r.err
    # the first source corrects its decision: logged, the old record superseded
    r = _ok(cli("import", "--adapter", "penalty-csv", conflict, "--home", home, "--json"))
    assert (r.json["imported"], r.json["superseded"]) == (1, 1)
    status = _ok(cli("status", _leaf(home, 0), "--home", home, "--json")).json
    assert status["state"] == "superseded"


def _leaf(home: Path, index: int) -> str:
    with LocalNode.open(home) as node:
        return Statement.from_bytes(node.log.entry(index).leaf).leaf_hash.hex()


def test_a_subject_files_an_objection_with_a_working_day_deadline(
    cli: Cli, ningbo: Path, clock: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from credex.cli import lifecycle_cmds

    monkeypatch.setattr(lifecycle_cmds, "now", lambda: clock["now"])
    clock["now"] = calendar.timegm((2026, 9, 28, 2, 0, 0))  # Monday, before National Day
    leaf = _leaf(ningbo, 0)
    r = cli(
        "lifecycle",
        "object",
        leaf,
        "--filed-by",
        "subject",
        "--channel",
        "cn-zj-ningbo",
        "--rule",
        "gz-public-credit",
        "--home",
        ningbo,
        "--json",
    )
    _ok(r)
    with LocalNode.open(ningbo) as node:
        body = node.statement_at(r.json["index"]).record.body
    # 14 working days: Oct 1-7 off, Saturday Oct 10 worked (holidays as data)
    assert body == {
        "raised_on": "2026-09-28",
        "due_by": "2026-10-22",
        "filed_by": "subject",
        "channel": "cn-zj-ningbo",
    }
    bad = cli(
        "lifecycle", "object", leaf, "--rule", "gz", "--due-by", "2026-10-01", "--home", ningbo
    )
    assert bad.code == 1 and "not both" in bad.err


def test_huangpu_grades_port_classes_and_personal_perks(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = init_home(cli, tmp_path / "hp", "cn-gd-huangpu", "credex.huangpu.example/log")
    _ok(cli("import", "--adapter", "red-list-csv", SAMPLES / "red_list.csv", "--home", home))
    _ok(cli("import", "--adapter", "black-list-csv", SAMPLES / "black_list.csv", "--home", home))
    for rule in (
        "huangpu.json",
        "huangpu_policy_funds.json",
        "ningbo_port.json",
        "deposit_free.json",
        "pay_after_treatment.json",
    ):
        _ok(cli("rule", "add", RULES / rule, "--home", home))

    def grade(subject: str, rule: str) -> Any:
        return _ok(cli("evaluate", subject, "--rule", rule, "--home", home, "--json")).json

    a, d = grade(GREEN, "HUANGPU_AD"), grade(RED, "HUANGPU_AD")
    assert (a["result"], d["result"], a["provenance"]) == ("A", "D", "illustrative")
    assert grade(BLUE, "HUANGPU_AD")["result"] == "B"
    first = cli("check", GREEN, "--purpose", "HUANGPU_POLICY_FUNDS", "--home", home)
    assert first.code == 0 and "priority [ILLUSTRATIVE]" in first.out
    funds = cli("check", RED, "--purpose", "HUANGPU_POLICY_FUNDS", "--home", home)
    assert funds.code == 1 and "D级企业不得享受政策兑现资金" in funds.out
    assert grade(GREEN, "NINGBO_PORT")["result"] == "A"
    assert grade(RED, "NINGBO_PORT")["result"] == "C"
    # a resident with an L4 天一分: deposit-free and pay-after-treatment, until court-listed
    body = json.dumps(
        {
            "scheme": "NINGBO_TIANYI_PLACEHOLDER",
            "score": 700,
            "band": "placeholder-4",
            "as_of": "2026-05-31",
            "level": "L4",
        }
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(RID + "\n"))
    _ok(cli("issue", "--kind", "score.city", "--person-id", "-", "--body", body, "--home", home))
    for purpose in ("DEPOSIT_FREE", "PAY_AFTER_TREATMENT"):
        monkeypatch.setattr("sys.stdin", io.StringIO(RID + "\n"))
        r = cli(
            "check", "--person-id", "-", "--purpose", purpose, "--asker", "bike:hz", "--home", home
        )
        assert r.code == 0 and "allow [ILLUSTRATIVE]" in r.out, r.text
    _ok(cli("import", "--adapter", "court-list-csv", SAMPLES / "court_list.csv", "--home", home))
    monkeypatch.setattr("sys.stdin", io.StringIO(RID + "\n"))
    r = cli("check", "--person-id", "-", "--purpose", "DEPOSIT_FREE", "--home", home)
    assert r.code == 1 and "court list" in r.out and RID not in r.text
    r = cli("check", GREEN, "--purpose", "DEPOSIT_FREE", "--home", home)
    assert r.code == 1 and "for person subjects" in r.err
