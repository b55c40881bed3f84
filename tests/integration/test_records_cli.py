"""End to end: finding what a node logged (issue #14 points 1-2).

``credex import --json`` names each row's line, index, leaf hash and decision number;
``credex records`` finds records by subject, person, kind, day and decision number
through the log's indexes; ``credex show`` prints one in full with its status and
lifecycle history. Person records show the pseudonym, never the ID number; an erased
body says so. Bad input is one line; a search that would read a large log asks for
``--all``. Every test runs on SQLite and on PostgreSQL (``store_url``).
"""

from __future__ import annotations

import calendar
import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from credex.adapters.sample import penalty_csv
from credex.cli import body_cmds, find_cmds, lifecycle_cmds, node_cmds, proof_cmds
from credex.node.services import finding

from .clirunner import Cli, init_home, make_cli

NB = "cn-zj-ningbo"
NB_ORIGIN = "credex.ningbo.example/log"
T0 = calendar.timegm((2026, 6, 1, 0, 0, 0))  # 2026-06-01 08:00 CST
DAY = 86400
ROWS = 6


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    t = {"now": T0}
    for mod in (node_cmds, proof_cmds, lifecycle_cmds, find_cmds, body_cmds):
        monkeypatch.setattr(mod, "now", lambda: t["now"])
    return t


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], clock: dict[str, int], monkeypatch) -> Cli:
    return make_cli(capsys, monkeypatch)


@dataclass(frozen=True)
class Row:
    """One data row of the penalty file as a person reads it."""

    line: int
    category: str
    code: str
    id_no: str
    decision_no: str


def rows_of(data: bytes) -> list[Row]:
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    head = table[0]
    col = {name: head.index(name) for name in head}
    return [
        Row(
            n,
            r[col["行政相对人类别"]],
            r[col["行政相对人代码_1（统一社会信用代码）"]],
            r[col["证件号码"]],
            r[col["行政处罚决定书文号"]],
        )
        for n, r in enumerate(table[1:], 2)
    ]


@dataclass(frozen=True)
class Node:
    home: Path
    rows: list[Row]
    imported: dict[str, Any]

    def result(self, row: Row) -> dict[str, Any]:
        return next(r for r in self.imported["records"] if r["line"] == row.line)

    @property
    def org(self) -> Row:
        return next(r for r in self.rows if r.category == "法人及非法人组织")

    @property
    def person(self) -> Row:
        return next(r for r in self.rows if r.category == "自然人")


@pytest.fixture
def node(cli: Cli, tmp_path: Path, store_url: str) -> Node:
    home = init_home(cli, tmp_path / "ningbo", NB, NB_ORIGIN, store_url)
    data = penalty_csv(NB, rows=ROWS, seed=1, reference_date=date(2026, 6, 1))
    f = tmp_path / "行政处罚.csv"
    f.write_bytes(data)
    r = cli("import", "--home", home, "--adapter", "penalty-csv", f, "--json")
    assert r.code == 0, r.err
    return Node(home, rows_of(data), r.json)


def test_import_json_names_line_index_leaf_and_decision_number(
    cli: Cli, node: Node, tmp_path: Path
) -> None:
    records = node.imported["records"]
    assert [r["line"] for r in records] == [row.line for row in node.rows]
    assert [r["decision_no"] for r in records] == [row.decision_no for row in node.rows]
    assert sorted(r["index"] for r in records) == list(range(ROWS))
    assert all(r["new"] and r["kind"] == "penalty.admin" for r in records)
    assert all(re.fullmatch(r"[0-9a-f]{64}", r["leaf_hash"]) for r in records)
    # the leaf hash is the one the log holds at that index
    for r in records:
        shown = cli("show", r["index"], "--home", node.home, "--json").json
        assert shown["leaf_hash"] == r["leaf_hash"]
    # the raw resident ID number of the person row is never printed
    assert node.person.id_no not in str(node.imported)
    # importing again: the same places, none new
    again = cli(
        "import",
        "--home",
        node.home,
        "--adapter",
        "penalty-csv",
        tmp_path / "行政处罚.csv",
        "--json",
    )
    assert [(r["index"], r["new"]) for r in again.json["records"]] == [
        (r["index"], False) for r in records
    ]


def test_records_by_subject_kind_day_and_decision_number(cli: Cli, node: Node) -> None:
    org, want = node.org, node.result(node.org)

    def find(*args: object) -> list[dict[str, Any]]:
        r = cli("records", "--home", node.home, *args, "--json")
        assert r.code == 0, r.err
        return list(r.json["records"])

    (got,) = find("--subject", org.code)
    assert (got["origin"], got["index"], got["leaf_hash"]) == (
        NB_ORIGIN,
        want["index"],
        want["leaf_hash"],
    )
    assert got["kind"] == "penalty.admin" and got["issuer"] == f"{NB}/platform"
    assert got["decision_no"] == org.decision_no and got["iat"] == T0
    assert got["status"] in ("active", "expired") and got["subject"] == org.code
    assert find("--subject", org.code.lower()) == [got]  # canonical form
    assert find("--subject", org.code, "--kind", "penalty.admin") == [got]
    assert find("--subject", org.code, "--kind", "score.city") == []
    assert find("--subject", org.code, "--since", "2026-06-01") == [got]
    assert find("--subject", org.code, "--since", "2026-06-02") == []
    assert find("--decision-no", org.decision_no) == [got]
    assert find("--decision-no", f"  {org.decision_no} ") == [got]
    assert find("--decision-no", "甬市监罚〔1999〕1号") == []
    out = cli("records", "--home", node.home, "--subject", org.code).out
    assert f"{NB_ORIGIN} #{want['index']}  penalty.admin" in out
    assert want["leaf_hash"] in out and f"decision {org.decision_no}" in out
    assert "1 record in" in out


def test_person_records_show_the_pseudonym_never_the_number(
    cli: Cli, node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    person, want = node.person, node.result(node.person)

    def with_id(*args: object) -> Any:
        monkeypatch.setattr("sys.stdin", io.StringIO(person.id_no + "\n"))
        r = cli("records", "--home", node.home, "--person-id", "-", *args, "--json")
        assert r.code == 0, r.err
        assert person.id_no not in r.text
        return r.json

    (got,) = with_id()["records"]
    assert got["leaf_hash"] == want["leaf_hash"] and got["subject"].startswith("hmac:")
    assert got["decision_no"] == person.decision_no and got["body_held"]
    # the pseudonym as printed finds it too
    r = cli("records", "--home", node.home, "--subject", got["subject"], "--json")
    assert r.json["records"] == [got]
    # a person's penalty is not in the decision number index; with the person it is found
    r = cli("records", "--home", node.home, "--decision-no", person.decision_no, "--json")
    assert r.json["records"] == [] and "--person-id - --decision-no" in r.json["notes"][0]
    assert with_id("--decision-no", person.decision_no)["records"] == [got]

    shown = cli("show", want["leaf_hash"], "--home", node.home, "--json")
    assert shown.code == 0 and person.id_no not in shown.text
    doc = shown.json
    assert doc["subject"] == got["subject"] and doc["envelope"] and doc["body_state"] == "held"
    assert doc["record"]["subject"] == {"type": "person", "id": got["subject"]}
    assert doc["record"]["body"]["subject_name"].endswith("*")  # masked by the importer

    # erased: the record stays findable, its body says when and why it went
    r = cli("body", "erase", want["leaf_hash"], "--reason", "request", "--home", node.home)
    assert r.code == 0, r.err
    doc = cli("show", want["leaf_hash"], "--home", node.home, "--json").json
    assert doc["body_state"] == "erased" and doc["record"] is None
    assert "erased on 2026-06-01 (request)" in doc["body_note"]
    text = cli("show", want["leaf_hash"], "--home", node.home).out
    assert "erased on 2026-06-01" in text and person.id_no not in text
    (after,) = with_id()["records"]
    assert not after["body_held"] and after["decision_no"] is None


def test_show_prints_status_and_lifecycle_history(
    cli: Cli, node: Node, clock: dict[str, int]
) -> None:
    org, want = node.org, node.result(node.org)
    leaf = want["leaf_hash"]
    doc = cli("show", want["index"], "--home", node.home, "--json").json
    assert doc["origin"] == NB_ORIGIN and doc["body_state"] == "clear"
    assert doc["record"]["kind"] == "penalty.admin" and doc["record"]["region"] == NB
    assert doc["record"]["body"]["decision_no"] == org.decision_no
    assert doc["decision_no"] == org.decision_no and doc["history"] == []
    before = doc["status"]["state"]

    clock["now"] = T0 + DAY
    r = cli("lifecycle", "object", leaf, "--home", node.home, "--json")
    assert r.code == 0, r.err
    objection = r.json["leaf_hash"]
    doc = cli("show", leaf, "--home", node.home, "--json").json
    assert doc["status"]["state"] == "under-objection"
    assert [h["leaf_hash"] for h in doc["history"]] == [objection]
    assert doc["history"][0]["kind"] == "lifecycle.objection" and doc["history"][0]["took_effect"]

    clock["now"] = T0 + 2 * DAY
    r = cli("lifecycle", "resolve", leaf, "--outcome", "UPHELD", "--home", node.home, "--json")
    assert r.code == 0, r.err
    doc = cli("show", leaf, "--home", node.home, "--json").json
    assert doc["status"]["state"] == before
    assert [h["kind"] for h in doc["history"]] == [
        "lifecycle.objection",
        "lifecycle.objection-resolved",
    ]
    text = cli("show", leaf, "--home", node.home).out
    assert f"penalty.admin  {NB_ORIGIN} #{want['index']}" in text
    assert "history" in text and objection in text and f"decision   {org.decision_no}" in text

    # the subject's search lists the lifecycle statements too, each about the record
    found = cli("records", "--subject", org.code, "--home", node.home, "--json").json["records"]
    assert [(f["kind"], f["status"], f["about"]) for f in found[1:]] == [
        ("lifecycle.objection", "-", leaf),
        ("lifecycle.objection-resolved", "-", leaf),
    ]
    # a lifecycle statement shown names what it is about, and has no status of its own
    doc = cli("show", objection, "--home", node.home, "--json").json
    assert doc["about"] == leaf and doc["status"] is None


def test_bad_input_is_one_line(cli: Cli, node: Node) -> None:
    home = node.home
    r = cli("show", "ab" * 32, "--home", home)
    assert r.code == 1 and "show: leaf hash not found: " + "ab" * 32 in r.err
    r = cli("show", 999, "--home", home)
    assert r.code == 1 and "expected 0 <= index < 6, got 999" in r.err
    r = cli("show", "24x", "--home", home)
    assert r.code == 2 and "expected an index or a leaf hash of 64 hex characters" in r.err
    r = cli("show", 0, "--origin", "credex.elsewhere.example/log", "--home", home)
    assert r.code == 2 and "unknown origin" in r.err
    r = cli("records", "--subject", "91330200MA0YX2089X", "--home", home)
    assert r.code == 1 and "check character" in r.err
    r = cli("records", "--subject", node.org.code, "--person-id", "x", "--home", home)
    assert r.code == 2 and "at most one of --subject and --person-id" in r.err
    r = cli("records", "--since", "not-a-day", "--subject", node.org.code, "--home", home)
    assert r.code == 1 and r.err.count("\n") == 1


def test_a_search_without_subject_or_number_on_a_large_log_asks_for_all(
    cli: Cli, node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = cli("records", "--home", node.home, "--json")  # a small log: listed
    assert r.code == 0 and len(r.json["records"]) == ROWS
    monkeypatch.setattr(finding, "LARGE_LOG", ROWS - 1)
    for extra in ([], ["--kind", "penalty.admin"], ["--since", "2026-06-01"]):
        r = cli("records", "--home", node.home, *extra)
        assert r.code == 2 and "add --all" in r.err and f"all {ROWS} entries" in r.err
    r = cli("records", "--home", node.home, "--kind", "penalty.admin", "--all", "--json")
    assert r.code == 0 and [f["index"] for f in r.json["records"]] == list(range(ROWS))
    assert r.json["searched"] == [{"origin": NB_ORIGIN, "size": ROWS}]
    r = cli("records", "--home", node.home, "--kind", "score.city", "--all", "--json")
    assert r.code == 0 and r.json["records"] == []
    r = cli("records", "--home", node.home, "--subject", node.org.code)  # indexed: no --all
    assert r.code == 0
