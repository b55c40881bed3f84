"""The README is a test: its walkthroughs run as written on two real nodes.

Every shell block marked ``<!-- test: run -->`` ("Running a node" through "Walkthrough: a
bank") runs in order, each command in ``bash`` as a real ``credex`` process, the two
``credex serve --follow`` servers as real background processes (``readme_runner``; what
is substituted is listed there). A command that fails, prints something else than the
README shows, or a server that does not stop cleanly fails the test.

The input files the README names are made here: ``行政处罚.csv`` (a synthetic 双公示
file) and ``scores.jsonl`` (three 天一分 records, format in docs/formats.md). How long each
``(wait)`` step took (a manifest version, a mirrored repair, ...) is printed (``-s``).
"""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import date
from pathlib import Path

import pytest

from credex.adapters.sample import (
    PENALTY_HEADER,
    band_for,
    penalty_csv,
    synthetic_resident_ids,
)
from credex.ledger.dates import cst_date

from .readme_runner import Runner, Step, match_output, parse_steps

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTIONS = (
    "## Running a node",
    "## Joining a federation",
    "## Walkthrough: a regional operator",
    "## Walkthrough: a bank",
)


def _two_bad_rows(today: date) -> bytes:
    """A penalty file whose two rows are refused: a wrong USCC check character (line 2),
    an impossible decision date (line 3)."""
    text = penalty_csv("cn-zj-ningbo", rows=12, seed=8, reference_date=today).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    code, day = header.index(PENALTY_HEADER[2]), header.index("处罚决定日期")
    org = next(r for r in rows if r[code].startswith("91"))
    bad_code = list(org)
    bad_code[code] = org[code][:-1] + ("0" if org[code][-1] != "0" else "1")
    bad_date = list(org)
    bad_date[day] = "2025-13-45"
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, bad_code, bad_date])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _inputs(work: Path) -> None:
    today = cst_date(int(time.time()))
    (work / "行政处罚.csv").write_bytes(
        penalty_csv("cn-zj-ningbo", rows=6, seed=7, reference_date=today)
    )
    (work / "行政处罚-退回.csv").write_bytes(_two_bad_rows(today))
    lines = []
    for i, pid in enumerate(synthetic_resident_ids("cn-zj-ningbo", 3, 11)):
        score = 610 + 40 * i
        body = {
            "scheme": "NINGBO_TIANYI_PLACEHOLDER",
            "score": score,
            "band": band_for("NINGBO_TIANYI_PLACEHOLDER", score),
            "as_of": "2026-11-01",
        }
        lines.append(json.dumps({"kind": "score.city", "person_id": pid, "body": body}))
    (work / "scores.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_every_walkthrough_section_has_a_marked_block() -> None:
    for title in SECTIONS:
        start = README.index(title + "\n")
        end = README.find("\n## ", start + 3)
        assert "<!-- test: run -->\n```sh" in README[start:end], title


def test_the_runner_catches_drift() -> None:
    steps = parse_steps(
        "<!-- test: run -->\n```sh\ncredex x \\\n  --y '{\"a\":\n 1}'   # (wait)\n"
        "#   logged at index <n> leaf <leaf>\n#   total <n>\ncredex z   # exit 1\n```\n"
    )
    assert [(s.line, s.wait, s.exit_code) for s in steps] == [(3, True, 0), (8, False, 1)]
    got = match_output(steps[0].expected, "x\nlogged at index 4 leaf ab12 more\ntotal 4\n", {})
    assert got == {"n": "4", "leaf": "ab12"}
    with pytest.raises(AssertionError, match="no output line matches"):
        match_output(steps[0].expected, "logged at index 4 leaf ab12\ntotal 5\n", {})
    with pytest.raises(AssertionError, match="no output line matches"):
        match_output(["logged: <k> at <i>"], "logged: x at 1\n", {"i": "2"})


def test_readme_walkthroughs_run_as_written(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    _inputs(work)
    steps: list[Step] = parse_steps(README)
    assert len(steps) > 40
    runner = Runner(home, work, follow_s=2)
    t0 = time.monotonic()
    try:
        for step in steps:
            runner.run(step)
    finally:
        stopped = list(runner.stop())
    for server, code in stopped:
        assert code == 0, server.log()
        assert "Traceback" not in server.log(), server.log()
    print(f"\nREADME: {len(steps)} steps in {time.monotonic() - t0:.1f} s")
    for t in runner.waits:
        first = t.command.splitlines()[0][:70]
        print(f"  line {t.line}: {t.seconds:5.1f} s ({t.tries} tries)  {first}")
