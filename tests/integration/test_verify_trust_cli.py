"""End to end: what ``credex verify`` says it verified, and trust for several regions
(issue #14 points 3-4).

``credex verify --json`` carries the verified record (a person's body only because the
bundle carried it; nothing for a bundle that fails) and the human output shows its main
fields above the steps. ``credex trust merge`` joins two regions' trust files (a bank
then verifies either region's bundles with one file) and refuses a conflict, naming it
and writing nothing; ``credex trust show`` says who is trusted for what. The nodes run
on SQLite and PostgreSQL (``store_url``).
"""

from __future__ import annotations

import calendar
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from credex.adapters.sample import penalty_csv
from credex.cli import find_cmds, node_cmds, proof_cmds
from credex.ledger.bundle import Bundle

from .clirunner import Cli, init_home, make_cli
from .test_records_cli import rows_of

NB, HZ = "cn-zj-ningbo", "cn-zj-hangzhou"
NB_ORIGIN, HZ_ORIGIN = "credex.ningbo.example/log", "credex.hangzhou.example/log"
T0 = calendar.timegm((2026, 6, 1, 0, 0, 0))


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    for mod in (node_cmds, proof_cmds, find_cmds):
        monkeypatch.setattr(mod, "now", lambda: T0)
    return make_cli(capsys, monkeypatch)


@pytest.fixture
def homes(cli: Cli, tmp_path: Path, store_url: str) -> tuple[Path, Path, dict[str, Any]]:
    nb = init_home(cli, tmp_path / "ningbo", NB, NB_ORIGIN, store_url)
    hz = init_home(cli, tmp_path / "hangzhou", HZ, HZ_ORIGIN)
    data = penalty_csv(NB, rows=4, seed=2, reference_date=date(2026, 6, 1))
    (tmp_path / "p.csv").write_bytes(data)
    r = cli("import", "--home", nb, "--adapter", "penalty-csv", tmp_path / "p.csv", "--json")
    assert r.code == 0, r.err
    by_category = {row.category: row for row in rows_of(data)}
    lines = {rec["line"]: rec for rec in r.json["records"]}
    found = {cat: (row, lines[row.line]) for cat, row in by_category.items()}
    return nb, hz, found


def _export(cli: Cli, home: Path, out: Path) -> Path:
    assert cli("trust", "export", "--home", home, "-o", out).code == 0
    return out


def test_verify_json_carries_the_verified_record(
    cli: Cli, homes: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    nb, _, found = homes
    row, rec = found["法人及非法人组织"]
    f = tmp_path / "org.credex"
    assert cli("bundle", rec["index"], "-o", f, "--home", nb).code == 0
    r = cli("verify", f, "--home", nb, "--json")
    assert r.code == 0, r.out
    got = r.json["record"]
    assert (got["kind"], got["region"]) == ("penalty.admin", NB)
    assert got["subject"] == {"type": "org", "id": row.code}
    assert got["body"]["decision_no"] == row.decision_no and got["refs"] == []
    assert isinstance(got["valid_from"], int) and r.json["derivation"] is None
    text = cli("verify", f, "--home", nb).out
    head, _, steps = text.partition("✓ step 1")
    assert head.startswith(f"penalty.admin of {row.code} ({NB}), valid ")
    assert f"  decision_no: {row.decision_no}" in head and steps

    # a person's record: its body is in the output because the bundle carries it
    prow, prec = found["自然人"]
    p = tmp_path / "person.credex"
    assert cli("bundle", prec["index"], "-o", p, "--home", nb).code == 0
    r = cli("verify", p, "--home", nb, "--json")
    assert r.code == 0 and prow.id_no not in r.out
    assert r.json["record"]["subject"]["id"].startswith("hmac:")
    assert r.json["record"]["body"]["decision_no"] == prow.decision_no
    # without the body (a mirror's bundle) it stops at step 7 and shows no record
    b = Bundle.from_bytes(p.read_bytes())
    bare = tmp_path / "bare.credex"
    bare.write_bytes(Bundle(b.statement, b.checkpoint).to_bytes())
    r = cli("verify", bare, "--home", nb, "--json")
    assert r.code == 1 and r.json["failed_step"] == 7 and r.json["record"] is None
    text = cli("verify", bare, "--home", nb).out
    assert text.startswith("✓ step 1") and "decision_no" not in text


def test_trust_merge_and_show(
    cli: Cli, homes: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    nb, hz, found = homes
    a, b = _export(cli, nb, tmp_path / "nb.json"), _export(cli, hz, tmp_path / "hz.json")
    out = tmp_path / "bank.trust.json"
    r = cli("trust", "merge", a, b, "-o", out)
    assert r.code == 0 and f"wrote {out}: 2 logs, 2 issuer keys" in r.out, r.err
    merged = json.loads(out.read_text(encoding="utf-8"))
    assert [g["origin"] for g in merged["logs"]] == [HZ_ORIGIN, NB_ORIGIN]
    assert [i["issuer_id"] for i in merged["issuers"]] == [f"{HZ}/platform", f"{NB}/platform"]
    # merging is idempotent and order-free
    r = cli("trust", "merge", b, out, a, "--json")
    assert r.code == 0 and r.json == merged

    # the bank verifies a Ningbo bundle with the merged file
    _, rec = found["法人及非法人组织"]
    f = tmp_path / "r.credex"
    assert cli("bundle", rec["index"], "-o", f, "--home", nb).code == 0
    assert cli("verify", f, "--trust", out).code == 0
    assert cli("verify", f, "--trust", b).code == 1  # Hangzhou's alone does not cover it

    text = cli("trust", "show", out).out
    assert f"log      {NB_ORIGIN}  key {merged['logs'][1]['public_key']}" in text
    assert f"issuer   {NB}/platform ({NB})" in text and "for every kind" in text
    assert "quorum   0 of 0" in text
    assert cli("trust", "show", out, "--json").json == merged


def test_trust_merge_conflicts_are_named_and_nothing_is_written(
    cli: Cli, homes: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    nb, hz, _ = homes
    a, b = _export(cli, nb, tmp_path / "nb.json"), _export(cli, hz, tmp_path / "hz.json")
    doc = json.loads(b.read_text(encoding="utf-8"))
    out = tmp_path / "out.json"
    out.write_text("keep", encoding="utf-8")

    def conflict(name: str, change: Any) -> str:
        bad = json.loads(json.dumps(doc))
        change(bad)
        f = tmp_path / name
        f.write_text(json.dumps(bad), encoding="utf-8")
        r = cli("trust", "merge", a, f, "-o", out)
        assert r.code == 2 and r.out == "", r.err
        assert out.read_text(encoding="utf-8") == "keep"
        return r.err

    def same_origin(d: Any) -> None:  # Hangzhou's key under Ningbo's origin
        d["logs"][0]["origin"] = NB_ORIGIN

    err = conflict("origin.json", same_origin)
    assert f"conflict: log '{NB_ORIGIN}' key" in err
    assert f"between {tmp_path / 'nb.json'} and {tmp_path / 'origin.json'}" in err

    def same_issuer(d: Any) -> None:
        d["issuers"][0]["issuer_id"], d["issuers"][0]["region"] = f"{NB}/platform", NB

    err = conflict("issuer.json", same_issuer)
    assert f"conflict: issuer '{NB}/platform' (keys " in err and "nothing written" in err

    a_doc = json.loads(a.read_text(encoding="utf-8"))

    def narrowed(d: Any) -> None:  # the same key with another window
        d["issuers"] = [{**a_doc["issuers"][0], "valid_until": T0}]
        d["issuers"][0].pop("kid")

    err = conflict("window.json", narrowed)
    assert "its key windows, kinds or region" in err

    def witnesses(d: Any) -> None:
        d["witnesses"], d["quorum"] = [{"name": "w", "public_key": "07" * 32}], 1

    err = conflict("quorum.json", witnesses)
    assert "the witness quorum (0 in " in err and "federation manifest" in err

    r = cli("trust", "merge", a, "-o", out)
    assert r.code == 2 and "at least two trust files" in r.err
    r = cli("trust", "merge", a, tmp_path / "missing.json", "-o", out)
    assert r.code == 2 and "trust file not found" in r.err
    manifest = tmp_path / "m.manifest"
    manifest.write_bytes(b"\x82\x01\x02")
    r = cli("trust", "merge", a, manifest, "-o", out)
    assert r.code == 1 and "is not a credex-trust/1 file" in r.err
    assert out.read_text(encoding="utf-8") == "keep"


def test_verify_many_bundles_on_worker_processes(
    cli: Cli, homes: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    """``credex verify A B ...``: one line (or JSON object) per bundle, in order, the
    same verdicts as one by one; 16 or more go to two worker processes."""
    nb, _, found = homes
    files = []
    for cat, (_, rec) in sorted(found.items()):
        f = tmp_path / f"{len(files)}.credex"
        assert cli("bundle", rec["index"], "-o", f, "--home", nb).code == 0, cat
        files.append(f)
    bad = tmp_path / "bad.credex"
    raw = bytearray(files[0].read_bytes())
    raw[-1] ^= 1
    bad.write_bytes(bytes(raw))
    many = [*files, bad] * 6  # >= 16: the worker pool
    alone = [cli("verify", f, "--home", nb, "--json").json for f in many]
    r = cli("verify", *many, "--home", nb, "--json")
    assert r.code == 1  # one bundle is invalid
    got = r.json["bundles"]
    assert [g["file"] for g in got] == [str(f) for f in many]
    assert [{k: v for k, v in g.items() if k != "file"} for g in got] == [
        {k: v for k, v in a.items() if k != "trust"} for a in alone
    ]
    assert (r.json["valid"], r.json["invalid"]) == (len(files) * 6, 6)
    text = cli("verify", *files, "--home", nb).out
    assert text.count("VALID") == len(files) and "0 invalid" in text
    assert cli("verify", *files, "--home", nb).code == 0
    report = tmp_path / "x.credex-report"
    report.write_bytes(b"")
    assert cli("verify", files[0], report, "--home", nb).code != 0
