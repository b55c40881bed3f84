"""End to end: the ``credex`` command, run in-process through ``credex.cli.main.main``.

Every command runs against a node home under ``tmp_path``; the commands that touch the
log run on SQLite and on PostgreSQL (a scratch schema from ``store_url``). The CLI clock
is pinned so that issuing is repeatable. One test runs the installed console script in a
real subprocess to prove the error path has no traceback and sets the exit code.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from credex.adapters.sample import penalty_csv, sample_usccs, synthetic_resident_ids
from credex.cli import demo_cmd, node_cmds, proof_cmds
from credex.ledger.bundle import Bundle
from credex.ledger.dates import cst_second
from credex.ledger.merkle import verify_consistency, verify_inclusion
from credex.ledger.statement import Statement
from credex.ledger.subject import person_subject_id
from credex.node.home import NodeHome

from .clirunner import Cli, Result, make_cli

REGION = "cn-zj-ningbo"
ORIGIN = "credex.ningbo.example/log"
ORG = "91330200MA0YX00163"  # DOMAIN §8 sample code, valid check character "3"
T0 = calendar.timegm((2026, 6, 1, 0, 0, 0))  # the pinned CLI clock
SCORE_BODY = {"scheme": "tianyi", "score": 700, "band": "A", "as_of": "2026-05-31"}
USCC_HEADER = "行政相对人代码_1（统一社会信用代码）"
REFERENCE_DATE = date(2026, 1, 15)
SAMPLE_ROWS = 10


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """The CLI's clock, pinned at ``T0``; a test may move it."""
    t = {"now": T0}
    monkeypatch.setattr(node_cmds, "now", lambda: t["now"])
    monkeypatch.setattr(proof_cmds, "now", lambda: t["now"])
    return t


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], clock: dict[str, int], monkeypatch) -> Cli:
    """Run ``credex ARGS...`` in-process; returns the exit code and captured output."""
    return make_cli(capsys, monkeypatch)


def _init(cli: Cli, path: Path, db: str | None = None, *extra: object) -> Result:
    args: list[object] = ["init", path, "--region", REGION, "--origin", ORIGIN, *extra]
    if db is not None:
        args += ["--db", db]
    return cli(*args)


@pytest.fixture
def home(cli: Cli, tmp_path: Path, store_url: str) -> Path:
    """An initialised node home on SQLite (default db file) or PostgreSQL (--db)."""
    path = tmp_path / "home"
    r = _init(cli, path, None if store_url.startswith("sqlite") else store_url)
    assert r.code == 0, r.err
    return path


@pytest.fixture
def sqlite_home(cli: Cli, tmp_path: Path) -> Path:
    path = tmp_path / "home"
    r = _init(cli, path)
    assert r.code == 0, r.err
    return path


def _issue_org(cli: Cli, home: Path, subject: str = ORG, body: Any = None, *extra: object):
    body_text = body if isinstance(body, str) else json.dumps(SCORE_BODY if body is None else body)
    return cli(
        "issue",
        "--home",
        home,
        "--kind",
        "score.city",
        "--subject",
        subject,
        "--body",
        body_text,
        "--valid-from",
        "2026-05-31",
        *extra,
    )


def _issue_many(cli: Cli, home: Path, tmp_path: Path, n: int) -> list[int]:
    """Issue ``n`` score records for distinct organisations through --records."""
    lines = [
        json.dumps(
            {
                "kind": "score.city",
                "subject": {"type": "org", "id": code},
                "body": {**SCORE_BODY, "score": 600 + i},
                "valid_from": "2026-05-31",
            }
        )
        for i, code in enumerate(sample_usccs(REGION, n, seed=7))
    ]
    f = tmp_path / f"records-{n}.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = cli("issue", "--home", home, "--records", f, "--json")
    assert r.code == 0, r.err
    return [x["index"] for x in r.json["records"]]


def _size(cli: Cli, home: Path) -> int:
    r = cli("info", "--home", home, "--json")
    assert r.code == 0, r.err
    return int(r.json["tree_size"])


# --- CSV helpers -----------------------------------------------------------------------------


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def _sample_csv() -> bytes:
    return penalty_csv(REGION, rows=SAMPLE_ROWS, seed=1, reference_date=REFERENCE_DATE)


def _with_bad_rows(data: bytes) -> bytes:
    """Append a copy of the first organisation row with a wrong USCC check character and
    one with an impossible decision date: lines SAMPLE_ROWS + 2 and SAMPLE_ROWS + 3."""
    header, *body = _csv_rows(data)
    code = header.index(USCC_HEADER)
    org = next(r for r in body if r[code].startswith("91"))
    bad_code = list(org)
    bad_code[code] = org[code][:-1] + ("0" if org[code][-1] != "0" else "1")
    bad_date = list(org)
    bad_date[header.index("处罚决定日期")] = "2025-13-45"
    return _csv_bytes([header, *body, bad_code, bad_date])


# --- init ----------------------------------------------------------------------------------


def test_init_creates_home_with_private_keys(cli: Cli, tmp_path: Path, store_url: str) -> None:
    path = tmp_path / "home"
    db = None if store_url.startswith("sqlite") else store_url
    r = _init(cli, path, db, "--json")
    assert r.code == 0, r.err
    info = r.json
    assert info["region"] == REGION
    assert info["origin"] == ORIGIN
    assert info["platform_issuer"] == f"{REGION}/platform"
    assert re.fullmatch(r"[0-9a-f]{64}", info["log_public_key"])
    node = json.loads((path / "node.json").read_text())
    assert node["region"] == REGION and node["db"] == db
    assert stat.S_IMODE((path / "keys").stat().st_mode) == 0o700
    keys = sorted(p for p in (path / "keys").rglob("*.key"))
    assert {p.name for p in keys} >= {"log.key", "subject.key"}
    assert len(keys) == 3  # log, subject, platform issuer
    for p in keys:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    # the database exists and is empty
    assert _size(cli, path) == 0


def test_init_twice_is_a_config_error(cli: Cli, home: Path) -> None:
    r = _init(cli, home)
    assert r.code == 2
    assert r.err.startswith("credex: error: ")
    assert "already initialised" in r.err
    assert r.err.count("\n") == 1


def test_init_human_output(cli: Cli, tmp_path: Path) -> None:
    r = _init(cli, tmp_path / "h")
    assert r.code == 0
    assert f"initialised node {REGION}" in r.out
    assert ORIGIN in r.out


def test_no_home_is_a_config_error(cli: Cli) -> None:
    r = cli("info")
    assert r.code == 2
    assert "credex: error: cli: no node home" in r.err


def test_home_without_node_is_a_config_error(cli: Cli, tmp_path: Path) -> None:
    r = cli("info", "--home", tmp_path / "nothing")
    assert r.code == 2
    assert "no credex node" in r.err


def test_init_bad_region_is_a_config_error(cli: Cli, tmp_path: Path) -> None:
    r = cli("init", tmp_path / "h", "--region", "Ningbo City", "--origin", ORIGIN)
    assert r.code == 2
    assert "region id" in r.err
    assert not (tmp_path / "h" / "node.json").exists()


# --- issuers ---------------------------------------------------------------------------------


def test_issuer_add_and_list(cli: Cli, sqlite_home: Path) -> None:
    r = cli(
        "issuer",
        "add",
        f"{REGION}/court",
        "--kinds",
        "court.dishonest-debtor",
        "--valid-from",
        "2026-01-01",
        "--valid-until",
        "2027-01-01",
        "--home",
        sqlite_home,
    )
    assert r.code == 0, r.err
    assert f"added issuer {REGION}/court" in r.out
    r = cli("issuer", "list", "--json", "--home", sqlite_home)
    assert r.code == 0, r.err
    rows = {x["issuer_id"]: x for x in r.json}
    assert set(rows) == {f"{REGION}/platform", f"{REGION}/court"}
    court = rows[f"{REGION}/court"]
    assert court["kinds"] == ["court.dishonest-debtor"]
    # both dates are midnight China Standard Time (UTC+8)
    assert court["valid_from"] == calendar.timegm((2025, 12, 31, 16, 0, 0))
    assert court["valid_until"] == calendar.timegm((2026, 12, 31, 16, 0, 0))
    assert re.fullmatch(r"[0-9a-f]{64}", court["public_key"])
    assert rows[f"{REGION}/platform"]["valid_until"] is None
    key_files = list((sqlite_home / "keys" / "issuers").glob("*.key"))
    assert len(key_files) == 2
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in key_files)
    r = cli("issuer", "list", "--home", sqlite_home)
    assert r.code == 0 and "all kinds" in r.out and "court.dishonest-debtor" in r.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["BadId", "--kinds", "score.city"], "issuer id"),
        ([f"{REGION}/x", "--kinds", "score.nope"], "unknown or no kinds"),
        (
            [
                f"{REGION}/x",
                "--kinds",
                "score.city",
                "--valid-from",
                "2026-02-01",
                "--valid-until",
                "2026-01-01",
            ],
            "valid_until must be after valid_from",
        ),
    ],
    ids=["bad-id", "unknown-kind", "empty-window"],
)
def test_issuer_add_rejects(cli: Cli, sqlite_home: Path, args: list[str], message: str) -> None:
    r = cli("issuer", "add", *args, "--home", sqlite_home)
    assert r.code == 2
    assert message in r.err


def test_issue_as_issuer_outside_its_kinds_fails(cli: Cli, sqlite_home: Path) -> None:
    r = cli(
        "issuer",
        "add",
        f"{REGION}/court",
        "--kinds",
        "court.dishonest-debtor",
        "--valid-from",
        "2026-01-01",
        "--home",
        sqlite_home,
    )
    assert r.code == 0, r.err
    r = _issue_org(cli, sqlite_home, ORG, None, "--issuer", f"{REGION}/court")
    assert r.code == 1
    assert "not authorised" in r.err
    assert _size(cli, sqlite_home) == 0


# --- issue ---------------------------------------------------------------------------------


def test_issue_is_idempotent(cli: Cli, home: Path) -> None:
    r = _issue_org(cli, home, ORG, None, "--json")
    assert r.code == 0, r.err
    [first] = r.json
    assert first["index"] == 0 and first["new"] is True and first["kind"] == "score.city"
    assert re.fullmatch(r"[0-9a-f]{64}", first["leaf_hash"])
    r = _issue_org(cli, home, ORG, None, "--json")
    assert r.code == 0, r.err
    [again] = r.json
    assert again == {**first, "new": False}
    assert _size(cli, home) == 1
    r = _issue_org(cli, home)
    assert r.code == 0 and "already logged: score.city at index 0" in r.out


def test_issue_is_idempotent_across_seconds(cli: Cli, sqlite_home: Path, clock) -> None:
    """With an explicit --valid-from the same record issued later is not logged again."""
    r = _issue_org(cli, sqlite_home, ORG, None, "--json")
    clock["now"] += 3600
    r2 = _issue_org(cli, sqlite_home, ORG, None, "--json")
    assert r2.json[0]["index"] == r.json[0]["index"] == 0
    assert r2.json[0]["new"] is False


def test_issue_default_valid_from_is_idempotent_across_seconds(
    cli: Cli, sqlite_home: Path, clock
) -> None:
    args = (
        "issue",
        "--home",
        sqlite_home,
        "--kind",
        "score.city",
        "--subject",
        ORG,
        "--body",
        json.dumps(SCORE_BODY),
        "--json",
    )
    r = cli(*args)
    clock["now"] += 1
    r2 = cli(*args)
    assert r2.json[0]["index"] == r.json[0]["index"]


def test_issue_person_id_is_never_stored_or_printed(
    cli: Cli, sqlite_home: Path, tmp_path: Path
) -> None:
    rid = synthetic_resident_ids(REGION, 1, seed=5)[0]
    r = cli(
        "issue",
        "--home",
        sqlite_home,
        "--kind",
        "score.city",
        "--person-id",
        rid,
        "--body",
        json.dumps(SCORE_BODY),
        "--valid-from",
        "2026-05-31",
        "--json",
    )
    assert r.code == 0, r.err
    [res] = r.json
    seen = [r.text]
    # the subject is the keyed hash
    r = cli("bundle", res["index"], "-o", tmp_path / "p.credex", "--home", sqlite_home)
    assert r.code == 0, r.err
    seen.append(r.text)
    b = Bundle.from_bytes((tmp_path / "p.credex").read_bytes())
    st = Statement.from_bytes(b.statement, b.preimage)  # a person's record: hash envelope
    assert st.is_envelope and b.preimage is not None
    h = NodeHome.open(sqlite_home)
    assert st.record.subject.type == "person"
    assert st.record.subject.id == person_subject_id(h.subject_key(), rid)
    assert st.record.subject.id.startswith("hmac:")
    r = cli("trust", "export", "--home", sqlite_home, "--json")
    seen.append(r.text)
    r = cli("trust", "export", "-o", tmp_path / "t.json", "--home", sqlite_home)
    seen.append(r.text)
    r = cli("verify", tmp_path / "p.credex", "--trust", tmp_path / "t.json")
    assert r.code == 0, r.out
    assert st.record.subject.id in r.out
    seen.append(r.text)
    for text in seen:
        assert rid not in text
        assert rid[:17] not in text
    raw = rid.encode()
    for f in sqlite_home.rglob("*"):
        if f.is_file():
            assert raw not in f.read_bytes(), f
            assert rid.encode("utf-16-le") not in f.read_bytes(), f
    assert raw not in (tmp_path / "p.credex").read_bytes()
    assert raw not in (tmp_path / "t.json").read_bytes()


def test_issue_invalid_uscc_names_the_position_only(cli: Cli, sqlite_home: Path) -> None:
    r = _issue_org(cli, sqlite_home, ORG[:-1] + "0")
    assert r.code == 1
    assert r.err.startswith("credex: error: ")
    assert "position 18" in r.err
    assert "expected" not in r.err and "got" not in r.err  # no character of the input
    assert _size(cli, sqlite_home) == 0


def test_issue_invalid_person_id_does_not_echo_it(cli: Cli, sqlite_home: Path) -> None:
    rid = synthetic_resident_ids(REGION, 1, seed=6)[0]
    last = rid[-1]
    bad = rid[:17] + ("0" if last != "0" else "1")
    r = cli(
        "issue",
        "--home",
        sqlite_home,
        "--kind",
        "score.city",
        "--person-id",
        bad,
        "--body",
        json.dumps(SCORE_BODY),
    )
    assert r.code == 1
    assert "check character" in r.err
    assert bad not in r.text
    assert bad[:17] not in r.text
    assert bad[6:14] not in r.text  # not even the birth date


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        ("score.nope", SCORE_BODY, "unknown kind"),
        (
            "score.city",
            {k: v for k, v in SCORE_BODY.items() if k != "as_of"},
            "missing required field 'as_of'",
        ),
        ("score.city", {**SCORE_BODY, "score": 700.5}, "expected int, got float"),
        ("score.city", {**SCORE_BODY, "level": 1.0}, "got float"),
        ("score.city", "{not json", "not valid json"),
    ],
    ids=["unknown-kind", "missing-field", "float-score", "float-optional", "bad-json"],
)
def test_issue_rejects_bad_records(
    cli: Cli, sqlite_home: Path, kind: str, body: Any, message: str
) -> None:
    r = cli(
        "issue",
        "--home",
        sqlite_home,
        "--kind",
        kind,
        "--subject",
        ORG,
        "--body",
        body if isinstance(body, str) else json.dumps(body),
    )
    assert r.code == 1
    assert r.err.startswith("credex: error: ")
    assert message in r.err
    assert _size(cli, sqlite_home) == 0


def test_issue_needs_exactly_one_subject(cli: Cli, sqlite_home: Path) -> None:
    r = cli("issue", "--home", sqlite_home, "--kind", "score.city", "--body", "{}")
    assert r.code == 2
    assert "exactly one of --subject / --person-id" in r.err


# --- import --------------------------------------------------------------------------------


def test_import_reports_bad_rows_by_line(cli: Cli, home: Path, tmp_path: Path) -> None:
    f = tmp_path / "penalties.csv"
    f.write_bytes(_with_bad_rows(_sample_csv()))
    bad_lines = {SAMPLE_ROWS + 2, SAMPLE_ROWS + 3}
    r = cli("import", "--home", home, "--adapter", "penalty-csv", f)
    assert r.code == 1
    assert {int(n) for n in re.findall(r"^line (\d+):", r.err, re.M)} == bad_lines
    assert "position 18" in r.err and "2025-13-45" in r.err
    assert f"penalties.csv: {SAMPLE_ROWS} imported, 0 already present, 2 rejected" in r.out
    assert _size(cli, home) == SAMPLE_ROWS
    # again, as json: nothing new
    r = cli("import", "--home", home, "--adapter", "penalty-csv", f, "--json")
    assert r.code == 1
    s = r.json
    assert s["file"] == "penalties.csv"
    assert s["rows"] == SAMPLE_ROWS + 2
    assert (s["imported"], s["already_present"], s["rejected"]) == (0, SAMPLE_ROWS, 2)
    assert {e["line"] for e in s["errors"]} == bad_lines
    assert all(e["reason"] for e in s["errors"])
    assert s["warnings"] == []
    r = cli("import", "--home", home, "--adapter", "penalty-csv", f)
    assert f"0 imported, {SAMPLE_ROWS} already present, 2 rejected" in r.out
    assert _size(cli, home) == SAMPLE_ROWS


def test_import_clean_file_exits_zero(cli: Cli, sqlite_home: Path, tmp_path: Path) -> None:
    f = tmp_path / "clean.csv"
    f.write_bytes(_sample_csv())
    r = cli("import", "--home", sqlite_home, "--adapter", "penalty-csv", f, "--json")
    assert r.code == 0, r.err
    assert (r.json["imported"], r.json["rejected"]) == (SAMPLE_ROWS, 0)
    # the natural-person rows' id numbers are nowhere in the database
    header, *rows = _csv_rows(_sample_csv())
    ids = [r[header.index("证件号码")] for r in rows if r[header.index("证件号码")]]
    assert ids
    db = (sqlite_home / "log.sqlite").read_bytes()
    for rid in ids:
        assert rid.encode() not in db


def test_import_header_variant_and_extra_column(
    cli: Cli, sqlite_home: Path, tmp_path: Path
) -> None:
    header, *body = _csv_rows(_sample_csv())
    header = [h.replace("（", "(").replace("）", ")") for h in header]
    assert "行政相对人代码_1(统一社会信用代码)" in header
    rows = [[*header, "内部编号"], *([*r, f"X{i}"] for i, r in enumerate(body))]
    f = tmp_path / "variant.csv"
    f.write_bytes(_csv_bytes(rows))
    r = cli("import", "--home", sqlite_home, "--adapter", "penalty-csv", f)
    assert r.code == 0, r.err
    assert re.search(r"^warning: .*内部编号", r.err, re.M)
    assert f"{SAMPLE_ROWS} imported, 0 already present, 0 rejected" in r.out
    assert _size(cli, sqlite_home) == SAMPLE_ROWS


def test_import_missing_columns_stores_nothing(cli: Cli, home: Path, tmp_path: Path) -> None:
    _issue_org(cli, home)
    before = _size(cli, home)
    header, *body = _csv_rows(_sample_csv())
    drop = {header.index("处罚机关"), header.index("处罚内容")}
    rows = [[c for i, c in enumerate(r) if i not in drop] for r in [header, *body]]
    f = tmp_path / "short.csv"
    f.write_bytes(_csv_bytes(rows))
    r = cli("import", "--home", home, "--adapter", "penalty-csv", f)
    assert r.code == 1
    assert r.out == ""
    assert r.err.startswith("credex: error: ")
    assert r.err.count("\n") == 1
    assert "missing required columns" in r.err
    assert "处罚机关" in r.err and "处罚内容" in r.err
    assert _size(cli, home) == before


def test_import_unknown_adapter_and_missing_file(
    cli: Cli, sqlite_home: Path, tmp_path: Path
) -> None:
    f = tmp_path / "x.csv"
    f.write_bytes(_sample_csv())
    r = cli("import", "--home", sqlite_home, "--adapter", "nope", f)
    assert r.code == 2 and "unknown adapter 'nope'" in r.err
    r = cli("import", "--home", sqlite_home, "--adapter", "penalty-csv", tmp_path / "none.csv")
    assert r.code == 2  # typer usage error: the file does not exist


def test_import_not_utf8_is_one_line(cli: Cli, sqlite_home: Path, tmp_path: Path) -> None:
    f = tmp_path / "gbk.csv"
    f.write_bytes(_sample_csv().decode("utf-8-sig").encode("gb18030"))
    r = cli("import", "--home", sqlite_home, "--adapter", "penalty-csv", f)
    assert r.code == 1
    assert "not utf-8" in r.err
    assert _size(cli, sqlite_home) == 0


# --- checkpoint and proofs -----------------------------------------------------------------


def test_checkpoint_and_proofs(cli: Cli, home: Path, tmp_path: Path) -> None:
    assert _issue_many(cli, home, tmp_path, 6) == list(range(6))
    r = cli("checkpoint", "--home", home, "--json")
    assert r.code == 0, r.err
    cp = r.json
    assert cp["origin"] == ORIGIN and cp["tree_size"] == 6
    assert cp["note"].startswith(f"{ORIGIN}\n6\n")
    again = cli("checkpoint", "--home", home, "--json").json
    assert again == cp  # nothing changed: the same signed note
    r = cli("checkpoint", "--home", home)
    assert r.out == cp["note"]

    r = cli("prove", "inclusion", 0, "--home", home, "--json")
    assert r.code == 0, r.err
    p = r.json
    assert (p["leaf_index"], p["tree_size"]) == (0, 6)
    assert p["root"] == cp["root"]
    verify_inclusion(
        bytes.fromhex(p["leaf_hash"]),
        0,
        6,
        [bytes.fromhex(x) for x in p["proof"]],
        bytes.fromhex(cp["root"]),
    )
    r = cli("prove", "inclusion", 2, "--size", 3, "--home", home, "--json")
    assert r.code == 0, r.err
    p3 = r.json
    verify_inclusion(
        bytes.fromhex(p3["leaf_hash"]),
        2,
        3,
        [bytes.fromhex(x) for x in p3["proof"]],
        bytes.fromhex(p3["root"]),
    )
    r = cli("prove", "inclusion", 2, "--size", 3, "--home", home)
    assert r.code == 0 and p3["root"] in r.out

    r = cli("prove", "inclusion", 5, "--size", 3, "--home", home)
    assert r.code == 1
    assert "out of range" in r.err
    r = cli("prove", "inclusion", 0, "--size", 7, "--home", home)
    assert r.code == 1 and "out of range" in r.err

    r = cli("prove", "consistency", 2, 5, "--home", home, "--json")
    assert r.code == 0, r.err
    c = r.json
    assert (c["old_size"], c["new_size"]) == (2, 5)
    verify_consistency(
        2,
        5,
        bytes.fromhex(c["old_root"]),
        bytes.fromhex(c["new_root"]),
        [bytes.fromhex(x) for x in c["proof"]],
    )
    assert c["new_root"] != cp["root"]
    r = cli("prove", "consistency", 3, 6, "--home", home, "--json")
    assert r.json["old_root"] == p3["root"] and r.json["new_root"] == cp["root"]
    r = cli("prove", "consistency", 5, 2, "--home", home)
    assert r.code == 1
    assert "consistency range invalid" in r.err
    r = cli("prove", "consistency", 2, 9, "--home", home)
    assert r.code == 1 and "out of range" in r.err


def test_checkpoint_grows_with_log(cli: Cli, sqlite_home: Path, tmp_path: Path) -> None:
    _issue_org(cli, sqlite_home)
    first = cli("checkpoint", "--home", sqlite_home, "--json").json
    _issue_many(cli, sqlite_home, tmp_path, 3)
    second = cli("checkpoint", "--home", sqlite_home, "--json").json
    assert (first["tree_size"], second["tree_size"]) == (1, 4)
    c = cli("prove", "consistency", 1, 4, "--home", sqlite_home, "--json").json
    verify_consistency(
        1,
        4,
        bytes.fromhex(first["root"]),
        bytes.fromhex(second["root"]),
        [bytes.fromhex(x) for x in c["proof"]],
    )
    info = cli("info", "--home", sqlite_home, "--json").json
    assert info["checkpoint_size"] == 4 and info["root"] == second["root"]


# --- bundle, trust, verify -----------------------------------------------------------------


@pytest.fixture
def bundled(cli: Cli, home: Path, tmp_path: Path) -> dict[str, Path]:
    """Three records issued, entry 0 bundled, the trust file exported."""
    _issue_many(cli, home, tmp_path, 3)
    f = tmp_path / "f.credex"
    r = cli("bundle", 0, "-o", f, "--home", home)
    assert r.code == 0, r.err
    assert f"wrote {f}" in r.out
    t = tmp_path / "t.json"
    r = cli("trust", "export", "-o", t, "--home", home)
    assert r.code == 0, r.err
    return {"home": home, "bundle": f, "trust": t}


def _verify(cli: Cli, bundle: Path, trust: Path, *extra: object) -> Result:
    return cli("verify", bundle, "--trust", trust, *extra)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_bundle_and_verify(cli: Cli, bundled: dict[str, Path]) -> None:
    r = _verify(cli, bundled["bundle"], bundled["trust"])
    assert r.code == 0, r.text
    for n in range(1, 9):
        assert re.search(rf"step {n} \w+", r.out), n
    assert "VALID" in r.out and "INVALID" not in r.out
    assert f"in {ORIGIN} at index 0" in r.out
    r = _verify(cli, bundled["bundle"], bundled["trust"], "--json")
    assert r.code == 0
    v = r.json
    assert v["verdict"] == "valid" and v["failed_step"] is None and v["error"] is None
    assert [s["step"] for s in v["steps"]] == list(range(1, 9))
    assert all(s["ok"] for s in v["steps"])
    assert v["statement"]["leaf_index"] == 0
    assert v["statement"]["tree_size"] == 3
    assert v["statement"]["origin"] == ORIGIN
    assert v["statement"]["kind"] == "score.city"


def test_bundle_json_and_out_of_range(cli: Cli, bundled: dict[str, Path], tmp_path) -> None:
    r = cli("bundle", 2, "-o", tmp_path / "b2.credex", "--home", bundled["home"], "--json")
    assert r.code == 0, r.err
    assert r.json["leaf_index"] == 2
    assert r.json["bytes"] == (tmp_path / "b2.credex").stat().st_size
    r = cli("bundle", 99, "-o", tmp_path / "b99.credex", "--home", bundled["home"])
    assert r.code == 1
    assert "out of range" in r.err
    assert not (tmp_path / "b99.credex").exists()


def test_trust_export(cli: Cli, bundled: dict[str, Path]) -> None:
    r = cli("trust", "export", "--home", bundled["home"], "--json")
    assert r.code == 0, r.err
    t = r.json
    assert t == json.loads(bundled["trust"].read_text())
    assert t["format"] == "credex-trust/1"
    [log] = t["logs"]
    assert log["note_key_name"] == ORIGIN
    keys = [log["public_key"]] + [i["public_key"] for i in t["issuers"]]
    for k in keys:
        assert re.fullmatch(r"[0-9a-f]{64}", k), k
    r = cli("trust", "export", "--home", bundled["home"])
    assert json.loads(r.out) == t


def _flip_signature(data: bytes) -> bytes:
    b = Bundle.from_bytes(data)
    sig = Statement.from_bytes(b.statement).signature
    st = bytearray(b.statement)
    st[bytes(st).index(sig) + 10] ^= 0x01
    return Bundle(bytes(st), b.checkpoint).to_bytes()


def _edit_trust(src: Path, dst: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    t = json.loads(src.read_text())
    edit(t)
    dst.write_text(json.dumps(t))
    return dst


def _platform(t: dict[str, Any]) -> dict[str, Any]:
    return next(i for i in t["issuers"] if i["issuer_id"] == f"{REGION}/platform")


def _assert_fails(r: Result, step: int, message: str) -> None:
    assert r.code == 1, r.text
    assert f"INVALID: step {step} failed" in r.out
    assert re.search(rf"✗ step {step} \w+: .*{message}", r.out), r.out


def test_verify_tampered_signature_fails_step_3(
    cli: Cli, bundled: dict[str, Path], tmp_path: Path
) -> None:
    bad = _write(tmp_path / "sig.credex", _flip_signature(bundled["bundle"].read_bytes()))
    r = _verify(cli, bad, bundled["trust"])
    _assert_fails(r, 3, "signature")
    v = _verify(cli, bad, bundled["trust"], "--json").json
    assert v["verdict"] == "invalid" and v["failed_step"] == 3
    assert v["error"]["type"] == "SignatureError"


def test_verify_with_another_nodes_trust_fails_step_2(
    cli: Cli, bundled: dict[str, Path], tmp_path: Path
) -> None:
    other = tmp_path / "other"
    assert _init(cli, other).code == 0
    t = tmp_path / "other-trust.json"
    assert cli("trust", "export", "-o", t, "--home", other).code == 0
    r = _verify(cli, bundled["bundle"], t)
    _assert_fails(r, 2, "not in the trust material")


def test_verify_kind_not_authorised_fails_step_2(
    cli: Cli, bundled: dict[str, Path], tmp_path: Path
) -> None:
    t = _edit_trust(
        bundled["trust"],
        tmp_path / "kinds.json",
        lambda t: _platform(t).update(kinds=["penalty.admin"]),
    )
    r = _verify(cli, bundled["bundle"], t)
    _assert_fails(r, 2, "not authorised")


def test_verify_key_not_yet_valid_fails_step_2(
    cli: Cli, bundled: dict[str, Path], tmp_path: Path
) -> None:
    t = _edit_trust(
        bundled["trust"], tmp_path / "window.json", lambda t: _platform(t).update(valid_from=T0 + 1)
    )
    r = _verify(cli, bundled["bundle"], t)
    _assert_fails(r, 2, "validity window")
    assert f"iat {cst_second(T0)}" in r.out


def test_verify_later_checkpoint_fails_step_6(
    cli: Cli, bundled: dict[str, Path], tmp_path: Path
) -> None:
    _issue_org(cli, bundled["home"])
    later = cli("checkpoint", "--home", bundled["home"], "--json").json
    assert later["tree_size"] == 4
    b = Bundle.from_bytes(bundled["bundle"].read_bytes())
    swapped = _write(tmp_path / "swap.credex", Bundle(b.statement, later["note"]).to_bytes())
    r = _verify(cli, swapped, bundled["trust"])
    _assert_fails(r, 6, "differs from the receipt")
    # a fresh bundle of the same entry uses the later checkpoint and verifies
    fresh = tmp_path / "fresh.credex"
    assert cli("bundle", 0, "-o", fresh, "--home", bundled["home"]).code == 0
    v = _verify(cli, fresh, bundled["trust"], "--json").json
    assert v["verdict"] == "valid" and v["statement"]["tree_size"] == 4


def test_verify_missing_and_garbage_files(
    cli: Cli, bundled: dict[str, Path], tmp_path: Path
) -> None:
    r = _verify(cli, tmp_path / "none.credex", bundled["trust"])
    # a missing input file is reported as a configuration error (exit 2), in one line
    assert r.code == 2
    assert r.err.startswith("credex: error: ") and "bundle not found" in r.err
    garbage = _write(tmp_path / "garbage.credex", bytes(range(256)) * 4)
    r = _verify(cli, garbage, bundled["trust"])
    _assert_fails(r, 1, "")
    r = _verify(cli, _write(tmp_path / "empty.credex", b""), bundled["trust"])
    _assert_fails(r, 1, "")
    r = _verify(cli, bundled["bundle"], tmp_path / "none.json")
    assert r.code == 2 and "trust file not found" in r.err
    r = _verify(cli, bundled["bundle"], _write(tmp_path / "bad.json", b"{not json"))
    assert r.code == 1 and r.err.startswith("credex: error: ")


def test_verify_defaults_to_the_nodes_trust(
    cli: Cli, bundled: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = cli("verify", bundled["bundle"], "--home", bundled["home"], "--json")
    assert r.code == 0, r.err
    assert r.json["verdict"] == "valid"
    monkeypatch.setenv("CREDEX_HOME", str(bundled["home"]))
    r = cli("verify", bundled["bundle"])
    assert r.code == 0 and "VALID" in r.out
    monkeypatch.delenv("CREDEX_HOME")
    r = cli("verify", bundled["bundle"])
    assert r.code == 2 and "no node home" in r.err
    # another node's own trust does not vouch for this bundle
    other = tmp_path / "other"
    assert _init(cli, other).code == 0
    r = cli("verify", bundled["bundle"], "--home", other)
    _assert_fails(r, 2, "not in the trust material")


def test_verify_a_directory_is_one_line(cli: Cli, bundled: dict[str, Path], tmp_path) -> None:
    r = _verify(cli, tmp_path, bundled["trust"])
    assert r.code == 2
    assert r.err.startswith("credex: error: verify: not a file")


# --- demo, bench, help ---------------------------------------------------------------------


def test_demo_json(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    r = cli("demo", "--json")
    assert r.code == 0, r.err
    d = r.json
    assert d["ok"] is True
    assert d["verify"]["verdict"] == "valid"
    assert [t["verdict"] for t in d["tampered"]] == ["invalid"] * 3
    # the score is a hash envelope: a changed body no longer hashes to the signed payload
    assert [t["failed_step"] for t in d["tampered"]] == [3, 1, 6]
    assert "does not match the signed hash" in d["tampered"][1]["error"]
    assert d["federation"]["ok"] is True
    _assert_demo_part3(d["federation"]["recognition"])
    # the human form of part 3: one line per step, each marked as holding
    capsys.readouterr()
    demo_cmd._print_federation(d["federation"])
    text = capsys.readouterr().out
    part3 = text.split("part 3: recognition and lifecycle", 1)[1]
    assert part3.count("✓") == 12 and "✗" not in part3
    assert "refused for punitive use: repaired on" in part3
    assert "14b. federation report" in part3
    assert "repaired (proven: its lifecycle statements and status proof)" in part3
    assert "ReportIncompleteError" in part3 and "agrees with root" in part3
    assert "at step 8 (derivation, field 'level')" in part3


def _assert_demo_part3(rc: dict[str, Any]) -> None:
    """Part 3 (recognition and lifecycle) of the demo's summary."""
    assert rc["error"] is None and rc["ok"] is True
    rep = rc["report"]  # a Hangzhou bank's complete report on the repaired company
    assert rep["ok"] and len(rep["covered"]) == 5 and rep["not_covered"] == []
    assert [rc["lifecycle"]["target_index"], "repaired"] in [
        list(w) for w in rep["ningbo_withheld"]
    ]
    assert rep["dropped"]["caught"] and "ReportIncompleteError" in rep["dropped"]["error"]
    assert rep["audit"]["ok"] and rep["audit"]["error"] is None
    assert rc["agreements"]["versions"] == [2, 3]
    assert len(rc["agreements"]["installed_on"]) == 5
    assert rc["agreements"]["agreements"][0].startswith(
        "cn-zj-hangzhou <- cn-zj-ningbo  score.city"
    )
    # a recognition outside any agreement: refused, nothing logged
    ref = rc["refused"]
    assert ref["refused"] is True and ref["region"] == "cn-fj-xiamen"
    assert "cn-fj-xiamen has no agreement to recognise score.city from cn-zj-ningbo" in ref["error"]
    assert ref["log_size_before"] == ref["log_size_after"]
    # the Ningbo score recognised at Hangzhou: the bank's verdict covers steps 1-8
    sc = rc["score"]
    assert (sc["source_kind"], sc["derived_kind"]) == ("score.city", "derived.score")
    assert sc["level"] == "L" + sc["source_band"].removeprefix("placeholder-")
    assert sc["verify"]["verdict"] == "valid" and sc["verify"]["steps"] == list(range(1, 9))
    # the HK report converted at Qianhai, verified by a Shenzhen bank
    hk = rc["hk_report"]
    assert (hk["source_kind"], hk["derived_kind"]) == ("report.hk", "derived.report")
    assert hk["verify"]["verdict"] == "valid" and hk["verify"]["steps"] == list(range(1, 9))
    assert hk["format"] == "cn-enterprise-report/qianhai-2021"
    assert hk["common"]["经营状态"] == "存续" and "企业名称" in hk["common_fields"]
    assert {"items.cr_no", "items.directors"} <= set(hk["specific_fields"])
    # tampered derived values: a flipped byte of the (person's) derived body at step 1,
    # a validly signed wrong level at step 8
    flipped, signed = rc["tampered"]
    assert (flipped["verdict"], flipped["failed_step"]) == ("invalid", 1)
    assert "does not match the signed hash" in flipped["error"]
    assert (signed["verdict"], signed["failed_step"], signed["field"]) == ("invalid", 8, "level")
    assert signed["steps"] == list(range(1, 8))
    assert "field 'level' does not replay" in signed["error"]
    # the repaired Ningbo penalty: usable before, refused for punitive use after
    lc = rc["lifecycle"]
    assert lc["target_kind"] == "penalty.admin" and lc["status_bundles"] == 1
    assert lc["before_repair_punitive"]["verdict"] == "valid"
    assert lc["as_of_before_repair_punitive"]["verdict"] == "valid"
    assert (lc["punitive"]["verdict"], lc["punitive"]["failed_step"]) == ("invalid", 7)
    assert f"repaired on {lc['decided_on']}" in lc["punitive"]["error"]
    assert lc["no_purpose"]["failed_step"] == 7
    assert lc["hangzhou_sync"]["error"] is None and lc["hangzhou_sync"]["new_entries"] >= 1
    hz = lc["hangzhou"]
    assert (hz["state"], hz["refused"], hz["lifecycle_statements"]) == ("repaired", True, 1)
    assert hz["reason"].startswith(f"refused for punitive use: repaired on {lc['decided_on']}")
    before = lc["hangzhou_before_repair"]
    assert (before["state"], before["refused"], before["reason"]) == ("active", False, None)
    server = lc["hangzhou_server"]
    assert server["served"] is False
    assert f"no longer shared (repaired: repaired on {lc['decided_on']}" in server["reason"]


def test_demo_keeps_files_in_home(cli: Cli, tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    r = cli("demo", "--home", keep, "--json")
    assert r.code == 0, r.err
    assert r.json["ok"] is True
    assert (keep / "local" / "ningbo" / "node.json").exists()
    fed = keep / "federation"
    assert {p.name for p in fed.iterdir()} >= {"cn-zj-ningbo", "cn-zj-hangzhou", "hk"}
    assert r.json["federation"]["ok"] is True
    for p in keep.rglob("keys/**/*.key"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    r = cli("demo", "--home", keep, "--json")
    assert r.code == 2 and "not empty" in r.err


def test_bench_help(cli: Cli) -> None:
    r = cli("bench", "--help")
    assert r.code == 0
    assert "Usage" in r.out and "--quick" in r.out


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--help"],
        ["issuer", "--help"],
        ["prove", "--help"],
        ["trust", "--help"],
        ["verify", "--help"],
        ["import", "--help"],
    ],
    ids=lambda a: " ".join(a) or "no-args",
)
def test_help(cli: Cli, args: list[str]) -> None:
    r = cli(*args)
    assert r.code in (0, 2)  # click exits 2 for a group called without a command
    assert "Usage" in r.text


def test_usage_error_exit_2(cli: Cli) -> None:
    r = cli("prove", "inclusion", "notanumber", "--home", "x")
    assert r.code == 2
    r = cli("frobnicate")
    assert r.code == 2


# --- the real console script -----------------------------------------------------------------


def _credex_cmd() -> list[str]:
    exe = shutil.which("credex", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "credex"]


def test_console_script_subprocess(cli: Cli, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CREDEX_HOME"}
    env["COLUMNS"] = "200"

    def run(*args: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_credex_cmd(), *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    p = run("--help")
    assert p.returncode == 0, p.stderr
    assert "Usage" in p.stdout and "verify" in p.stdout
    home = tmp_path / "home"
    assert _init(cli, home).code == 0
    p = run(
        "issue",
        "--home",
        home,
        "--kind",
        "score.city",
        "--subject",
        ORG[:-1] + "0",
        "--body",
        json.dumps(SCORE_BODY),
    )
    assert p.returncode == 1
    assert "Traceback" not in p.stdout + p.stderr
    assert p.stderr == "credex: error: uscc: check character mismatch at position 18\n"
    p = run("info", "--home", tmp_path / "nowhere")
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert p.stderr.startswith("credex: error: home: no credex node")
    assert p.stderr.count("\n") == 1


# --- regressions: bugs found by these tests, fixed ----------------------------------------


def _refs_not_hex(tmp_path: Path) -> list[object]:
    f = tmp_path / "refs.jsonl"
    f.write_text(
        json.dumps(
            {
                "kind": "score.city",
                "subject": {"type": "org", "id": ORG},
                "body": SCORE_BODY,
                "refs": ["zz"],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    return ["issue", "--records", f]


def test_records_bad_line_is_refused_alone(cli: Cli, sqlite_home: Path, tmp_path: Path) -> None:
    """``issue --records`` streams: a bad line is a refused row named by its line (one
    line on stderr, exit 1), the good lines are logged."""
    args = _refs_not_hex(tmp_path)
    f = args[-1]
    assert isinstance(f, Path)
    good = {"kind": "score.city", "subject": {"type": "org", "id": ORG}, "body": SCORE_BODY}
    f.write_text(f.read_text() + json.dumps(good) + "\n", encoding="utf-8")
    r = cli(*args, "--home", sqlite_home)
    assert r.code == 1
    assert r.err.startswith("line 1: ") and r.err.count("\n") == 1 and "ref" in r.err
    assert "refs.jsonl: 1 logged, 0 already logged, 1 rejected" in r.out
    assert _size(cli, sqlite_home) == 1


@pytest.mark.parametrize(
    "make_args",
    [
        lambda tmp: ["issue", "--records", tmp / "missing.jsonl"],
        lambda tmp: ["bundle", 0, "-o", tmp / "no" / "dir" / "f.credex"],
        lambda tmp: ["trust", "export", "-o", tmp / "no" / "dir" / "t.json"],
        lambda tmp: ["verify", tmp / "b.credex", "--trust", tmp],
    ],
    ids=[
        "records-missing",
        "bundle-out-dir-missing",
        "trust-out-dir-missing",
        "verify-trust-is-a-directory",
    ],
)
def test_os_errors_are_one_line(cli: Cli, sqlite_home: Path, tmp_path: Path, make_args) -> None:
    _issue_org(cli, sqlite_home)
    assert cli("bundle", 0, "-o", tmp_path / "b.credex", "--home", sqlite_home).code == 0
    args = make_args(tmp_path)
    if args[0] != "verify":
        args += ["--home", sqlite_home]
    r = cli(*args)
    assert r.code in (1, 2)
    assert r.err.startswith("credex: error: ")


def test_init_over_a_file_is_one_line(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    r = _init(cli, tmp_path / "afile")
    assert r.code == 2
    assert r.err.startswith("credex: error: ")


def test_init_with_bad_db_can_be_retried(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "home"
    r = _init(cli, path, f"sqlite:///{tmp_path / 'no' / 'dir' / 'x.db'}")
    assert r.code == 1 and "create tables failed" in r.err
    r = _init(cli, path)
    assert r.code == 0, r.err


def test_node_json_with_db_password_is_private(tmp_path: Path) -> None:
    path = tmp_path / "home"
    old = os.umask(0o022)  # the usual default; a private umask would hide the bug
    try:
        _init_home_with_password(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE((path / "node.json").stat().st_mode) & 0o077 == 0


def _init_home_with_password(path: Path) -> None:
    NodeHome.init(
        path,
        region=REGION,
        origin=ORIGIN,
        db="postgresql+psycopg://u:secret@127.0.0.1/x",
        now=T0,
        log_seed=b"\x01" * 32,
        subject_secret=b"\x02" * 32,
        platform_seed=b"\x03" * 32,
    )


def test_person_id_from_stdin(cli: Cli, sqlite_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = synthetic_resident_ids("cn-zj-ningbo", 1, seed=9)[0]
    monkeypatch.setattr("sys.stdin", io.StringIO(raw + "\n"))
    r = cli(
        "issue",
        "--home",
        sqlite_home,
        "--kind",
        "score.city",
        "--person-id",
        "-",
        "--body",
        json.dumps(SCORE_BODY),
        "--json",
    )
    assert r.code == 0, r.err
    assert raw not in r.out and raw not in r.err
    assert r.json[0]["new"] is True


def test_init_adopts_the_federation_subject_key(cli: Cli, tmp_path: Path) -> None:
    first = cli("init", tmp_path / "a", "--region", REGION, "--origin", ORIGIN, "--json")
    assert first.code == 0, first.err
    key = tmp_path / "a" / "keys" / "subject.key"
    args = ["--region", "cn-zj-hangzhou", "--origin", "credex.hangzhou.example/log", "--json"]
    second = cli("init", tmp_path / "b", *args, "--subject-key", key)
    assert second.code == 0, second.err
    assert second.json["subject_key_id"] == first.json["subject_key_id"]
    own = cli("init", tmp_path / "c", *args)
    assert own.json["subject_key_id"] != first.json["subject_key_id"]
    # the same person gets the same pseudonym in both regions, and only there
    pid = "11010519491231002X"
    a, b, c = (NodeHome.open(tmp_path / x).subject_key() for x in "abc")
    assert person_subject_id(a, pid) == person_subject_id(b, pid) != person_subject_id(c, pid)
    key.chmod(0o644)
    r = cli("init", tmp_path / "d", *args, "--subject-key", key)
    assert r.code == 2 and "readable by others" in r.err
