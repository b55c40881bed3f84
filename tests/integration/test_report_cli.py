"""``credex report`` and ``credex verify FILE.credex-report`` on a real home (SQLite and
PostgreSQL): the repaired penalty is withheld with its reason, the rest are in force, the
report is complete as of the checkpoint; a report with a record cut out fails, naming it."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

from credex.ledger.dates import cst_day
from credex.ledger.record import Record, Subject
from credex.ledger.subject_report import SubjectReport, sign_report
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.lifecycle import add_lifecycle

from .clirunner import make_cli

DAY = 86_400
T0 = 1_780_272_000  # 2026-06-01T00:00:00Z
COMPANY = Subject("org", "91330100MA0YX0016X")
OTHER = Subject("org", "91330200MA2H2F1A1Q")
REPAIRED_AT = T0 + 400 * DAY


def _penalty(number: int, subject: Subject = COMPANY, decided: str = "2026-05-10") -> Record:
    body: dict[str, object] = {
        "decision_no": f"甬市监罚〔2026〕{number}号",
        "decision_date": decided,
        "penalty_types": ["罚款"],
        "content": "罚款",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": "11330200MB1234567X",
    }
    return Record("penalty.admin", "cn-zj-ningbo", subject, body, T0 - 20 * DAY)


def scene(home: NodeHome) -> NodeHome:
    """Four penalties (one about another company; the first repaired)."""
    with LocalNode(home) as node:
        [p] = node.issue([_penalty(7)], iat=T0 - 20 * DAY)
        late = "2027-06-20"  # still published when the report is made
        node.issue([_penalty(8, decided=late)], iat=REPAIRED_AT - DAY)
        node.issue([_penalty(9, OTHER, late)], iat=REPAIRED_AT - DAY)
        node.issue([_penalty(10, decided=late)], iat=REPAIRED_AT - DAY)
        body = {"route": "终止公示行政处罚信息", "decided_on": cst_day(REPAIRED_AT)}
        add_lifecycle(node, p.leaf_hash, "lifecycle.repair", body, now=REPAIRED_AT)
    return home


@pytest.fixture
def home(tmp_path: Path, store_url: str) -> NodeHome:
    db = None if store_url.startswith("sqlite") else store_url
    home = NodeHome.init(
        tmp_path / "ningbo",
        region="cn-zj-ningbo",
        origin="credex.ningbo.example/log",
        db=db,
        now=T0,
        log_seed=bytes([1]) * 32,
        subject_secret=b"\x02" * 32,
        platform_seed=bytes([17]) * 32,
    )
    return scene(home)


def test_report_and_verify_from_the_cli(
    home: NodeHome,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli = make_cli(capsys, monkeypatch)
    trust = tmp_path / "ningbo.trust.json"
    assert cli("trust", "export", "-o", trust, "--home", home.path).code == 0
    out = tmp_path / "company.credex-report"
    r = cli("report", COMPANY.id, "-o", out, "--as-of", "2027-07-07", "--home", home.path)
    assert r.code == 0, r.err
    r = cli("verify", out, "--trust", trust)
    assert r.code == 0, r.err
    assert "complete as of credex.ningbo.example/log size 5" in r.out, r.out
    assert "withheld (repaired)" in r.out and "2 in force, 1 withheld" in r.out
    assert OTHER.id not in r.out
    r = cli("verify", out, "--trust", trust, "--json")
    assert r.code == 0, r.err
    [part] = r.json["parts"]
    assert [w["reason"] for w in part["withheld"]] == ["repaired"]
    assert [x["index"] for x in part["records"]] == [1, 3]
    # the node cuts a record out and re-signs: the index proof names what is missing
    rep = SubjectReport.from_bytes(out.read_bytes())
    cut = dataclasses.replace(rep.parts[0], bundles=rep.parts[0].bundles[:1])
    bad = tmp_path / "cut.credex-report"
    bad.write_bytes(sign_report(home.log_key(), rep.subject, rep.as_of, [cut]).to_bytes())
    r = cli("verify", bad, "--trust", trust)
    assert r.code == 1
    assert "record at index 3 is listed in force but its bundle is missing" in r.out


def test_a_report_on_a_person_reads_the_number_from_stdin_only(
    home: NodeHome,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli = make_cli(capsys, monkeypatch)
    out = tmp_path / "person.credex-report"
    number = "11010519491231002X"
    r = cli("report", "--person-id", number, "-o", out, "--home", home.path)
    assert r.code == 2 and number not in r.out + r.err
    monkeypatch.setattr("sys.stdin", io.StringIO(number + "\n"))
    r = cli("report", "--person-id", "-", "-o", out, "--home", home.path, "--json")
    assert r.code == 0, r.err
    assert number not in r.out + r.err
    assert r.json["subject"].startswith("hmac:")
    assert number.encode() not in out.read_bytes()
    trust = tmp_path / "t.json"
    assert cli("trust", "export", "-o", trust, "--home", home.path).code == 0
    r = cli("verify", out, "--trust", trust)
    assert r.code == 0, r.err
    assert "0 in force, 0 withheld" in r.out and "size 5" in r.out
