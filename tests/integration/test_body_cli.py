"""``credex body list|erase|purge`` end to end (SQLite and PostgreSQL): a person's record
is a hash envelope with its body kept off-log; erasing it leaves the tree as it was, and
a bundle of an erased record is refused with when and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credex.adapters.sample import synthetic_resident_ids
from credex.cli import body_cmds, node_cmds, proof_cmds

from .clirunner import Cli, init_home, make_cli

REGION = "cn-zj-ningbo"
ORIGIN = "credex.ningbo.example/log"
T0 = 1_780_272_000  # 2026-06-01T00:00:00Z
SCORE = {"scheme": "tianyi", "score": 700, "band": "A", "as_of": "2026-05-31"}


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    for mod in (node_cmds, proof_cmds, body_cmds):
        monkeypatch.setattr(mod, "now", lambda: T0)
    return make_cli(capsys, monkeypatch)


@pytest.fixture
def home(cli: Cli, tmp_path: Path, store_url: str) -> Path:
    return init_home(cli, tmp_path / "home", REGION, ORIGIN, store_url)


def _issue(cli: Cli, home: Path, rid: str, until: str, score: int) -> str:
    r = cli(
        "issue",
        "--home",
        home,
        "--kind",
        "score.city",
        "--person-id",
        rid,
        "--body",
        json.dumps({**SCORE, "score": score}),
        "--valid-from",
        "2026-05-01",
        "--valid-until",
        until,
        "--json",
    )
    assert r.code == 0, r.err
    return str(r.json[0]["leaf_hash"])


def test_body_commands(cli: Cli, home: Path, tmp_path: Path) -> None:
    rid_a, rid_b, rid_c = synthetic_resident_ids(REGION, 3, seed=8)
    short = _issue(cli, home, rid_a, "2026-07-01", 700)
    long = _issue(cli, home, rid_b, "2027-12-31", 650)
    erased = _issue(cli, home, rid_c, "2027-12-31", 600)
    r = cli("body", "list", "--home", home, "--json")
    assert r.code == 0 and (r.json["held"], r.json["erased"]) == (3, 0)
    tree = r.json["tree"]

    r = cli("body", "erase", erased, "--reason", "request", "--home", home, "--json")
    assert r.code == 0, r.err
    assert r.json["reason"] == "request" and r.json["tree_before"] == r.json["tree_after"] == tree
    r = cli("body", "erase", erased, "--reason", "request", "--home", home)
    assert r.code == 0 and "tree unchanged" in r.out  # idempotent
    r = cli("bundle", "2", "-o", tmp_path / "e.credex", "--home", home)
    assert r.code == 1 and "record body erased on 2026-06-01 (request)" in r.err
    assert "stays in the log" in r.err

    # nothing has ended by 2026-06-15; the short score's window ends on 2026-07-01
    r = cli("body", "purge", "--as-of", "2026-06-15", "--home", home, "--json")
    assert r.code == 0, r.err
    assert (r.json["checked"], r.json["erased_total"], r.json["kept"]) == (2, 0, 2)
    r = cli("body", "purge", "--as-of", "2026-08-01", "--home", home, "--json")
    assert r.code == 0, r.err
    assert r.json["erased"] == {"window-ended": 1} and r.json["kept"] == 1
    assert r.json["tree_before"] == r.json["tree_after"] == tree
    r = cli("body", "list", "--home", home)
    assert r.code == 0 and "bodies held 1, erased 2" in r.out
    # the held one still bundles and verifies; the purged one is refused
    r = cli("bundle", "1", "-o", tmp_path / "ok.credex", "--home", home)
    assert r.code == 0, r.err
    r = cli("trust", "export", "-o", tmp_path / "t.json", "--home", home)
    r = cli("verify", tmp_path / "ok.credex", "--trust", tmp_path / "t.json")
    assert r.code == 0, r.out
    r = cli("bundle", "0", "-o", tmp_path / "s.credex", "--home", home)
    assert r.code == 1 and "(window-ended)" in r.err
    for text in (short, long):
        assert len(text) == 64


def test_body_erase_refusals(cli: Cli, home: Path) -> None:
    r = cli("body", "erase", "00" * 32, "--reason", "request", "--home", home)
    assert r.code == 1 and "leaf hash not found" in r.err
    r = cli("body", "erase", "zz", "--reason", "request", "--home", home)
    assert r.code == 1 and "64 hex characters" in r.err
    r = cli(
        "issue",
        "--home",
        home,
        "--kind",
        "score.city",
        "--subject",
        "91330200MA0YX00163",
        "--body",
        json.dumps(SCORE),
        "--json",
    )
    assert r.code == 0, r.err
    org_leaf = r.json[0]["leaf_hash"]
    r = cli("body", "erase", org_leaf, "--reason", "request", "--home", home)
    assert r.code == 1 and "no record body held" in r.err
    rid = synthetic_resident_ids(REGION, 1, seed=9)[0]
    leaf = _issue(cli, home, rid, "2027-01-01", 500)
    r = cli("body", "erase", leaf, "--reason", "because", "--home", home)
    assert r.code == 1 and "erase reason" in r.err


@pytest.mark.parametrize("args", [["body"], ["body", "--help"], ["body", "purge", "--help"]])
def test_body_help(cli: Cli, args: list[str]) -> None:
    r = cli(*args)
    assert r.code in (0, 2) and "Usage" in r.out + r.err


@pytest.mark.parametrize("argv", [["body", "list"], ["body", "erase"], ["body", "purge"]])
def test_readme_lists_body_commands(cli: Cli, argv: list[str]) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"credex {' '.join(argv)}" in readme
    r = cli(*argv, "--help")
    assert r.code == 0 and "Usage:" in r.out


def test_withdraw_with_erase_body(cli: Cli, home: Path) -> None:
    (rid,) = synthetic_resident_ids(REGION, 1, seed=11)
    leaf = _issue(cli, home, rid, "2027-12-31", 640)
    r = cli("lifecycle", "withdraw", leaf, "--reason", "entered twice", "--home", home, "--json")
    assert r.code == 0 and "body_erased" not in r.json  # kept unless asked
    r = cli("body", "list", "--home", home, "--json")
    assert r.code == 0, r.err
    (rid2,) = synthetic_resident_ids(REGION, 1, seed=12)
    other = _issue(cli, home, rid2, "2027-12-31", 610)
    args = ["--reason", "entered twice", "--erase-body", "--home", home]
    r = cli("lifecycle", "withdraw", other, *args)
    assert r.code == 0, r.err
    assert "off-log body is erased (the leaf stays in the log)" in r.out
    r = cli("status", other, "--home", home, "--json")
    assert r.code == 0, r.err
    assert r.json["state"] == "withdrawn"
