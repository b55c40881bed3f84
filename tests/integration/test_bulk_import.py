"""Bulk imports at a region's scale (issue #16), as real ``credex`` processes.

- Memory is flat: the peak memory of the process that imports a file (``VmHWM``, read
  by the process itself after each committed batch; parsing kept in that one process
  so that nothing is hidden in a worker) stops growing once its bounded caches are
  full (``LocalNode.limit_memory_for_bulk``): the file's last quarter adds less than
  6 MiB, and the peak stays far under 300 MiB.
- Killed with SIGKILL in the middle, an import run again finishes the file: every line
  logged once, what was durable found and not signed again (the log holds exactly one
  entry per line: a record signed twice would be a second entry, its ``iat`` differs).
- ``--rejects FILE.csv``: every refused row as ``line,reason``, nothing of a row's cells
  (no resident id, no name), exit code 1; the terminal gets the summary only.

Nothing here is timed; speed is measured by ``credex bench`` and the issue's report.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from credex.adapters.sample import PENALTY_HEADER, penalty_csv
from credex.node.bench.bulk import write_scores

REGION = "cn-zj-hangzhou"
MIB = 1024 * 1024
#: the flat-memory test's bounds: growth over the file's second half and its last
#: quarter, and the peak
GROWTH_MIB = 20
LAST_QUARTER_MIB = 6
PEAK_MIB = 240

#: runs ``credex ARGS`` in this process, then writes its exit code and peak memory, and
#: the peak after each committed batch (``curve``: rows so far, ``VmHWM`` in KiB)
_MEASURED = """
import json, resource, sys
from credex.cli import _bulk
from credex.cli.main import main

def hwm():
    status = open("/proc/self/status").read().splitlines()
    return int(next(line for line in status if line.startswith("VmHWM:")).split()[1])

curve = []
progress = _bulk.BulkOutput.progress

def measured(self, tally):
    curve.append((tally.rows, hwm()))
    progress(self, tally)

_bulk.BulkOutput.progress = measured
code = 0
try:
    main(sys.argv[2:])
except SystemExit as e:
    code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with open(sys.argv[1], "w") as f:
    json.dump({"code": code, "vmhwm_kib": hwm(), "maxrss_kib": own, "curve": curve}, f)
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CREDEX_HOME"}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def _credex(*args: object) -> list[str]:
    exe = shutil.which("credex", path=str(Path(sys.executable).parent))
    assert exe is not None, "the credex console script is installed beside this python"
    return [exe, *(str(a) for a in args)]


def _init(home: Path) -> Path:
    r = subprocess.run(
        _credex("init", home, "--region", REGION, "--origin", "bulk.example/log"),
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    assert r.returncode == 0, r.stderr
    return home


def _measured(tmp_path: Path, *args: object) -> dict[str, Any]:
    """Run ``credex ARGS`` in a child that reports its own exit code and peak memory."""
    stats = tmp_path / f"stats-{time.monotonic_ns()}.json"
    r = subprocess.run(
        [sys.executable, "-c", _MEASURED, str(stats), *(str(a) for a in args)],
        capture_output=True,
        text=True,
        env=_env(CREDEX_IMPORT_WORKERS="0"),
        check=False,
    )
    assert "Traceback" not in r.stderr, r.stderr
    out: dict[str, Any] = json.loads(stats.read_text())
    out["stdout"], out["stderr"] = r.stdout, r.stderr
    return out


def _size(home: Path) -> int:
    """Entries in the home's SQLite log, read directly (while an import may run)."""
    db = home / "log.sqlite"
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        (n,) = conn.execute("SELECT count(*) FROM entries").fetchone()
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()
    return int(n)


def test_memory_stays_flat_as_the_file_grows(tmp_path: Path) -> None:
    n = 240_000
    path = tmp_path / "scores.jsonl"
    assert write_scores(path, n, region=REGION) > 45 * MIB
    home = _init(tmp_path / "home")
    got = _measured(tmp_path, "issue", "--records", path, "--home", home, "--json")
    assert got["code"] == 0, got["stderr"]
    summary = json.loads(got["stdout"].splitlines()[-1])["summary"]
    assert (summary["imported"], summary["rejected"], summary["rows"]) == (n, 0, n)
    assert len(got["stdout"].splitlines()) == n + 1  # one JSON line per record
    curve = [(rows, kib * 1024) for rows, kib in got["curve"]]
    at_half = max(peak for rows, peak in curve if rows <= n // 2)
    at_three_quarters = max(peak for rows, peak in curve if rows <= 3 * n // 4)
    peak = got["vmhwm_kib"] * 1024
    # the bounds (65,536 cached index nodes, SQLite page caches of 8 MiB a connection)
    # fill over the first ~180,000 rows, then nothing grows. Measured (load ~9; batches
    # of 4096): 133 MiB at 120,000 rows, 143 MiB from 180,000 to 240,000; with batches
    # of 16,384 (two in flight) the peak is 192 MiB (idle); the unbounded importer grew by
    # 37 MiB over the second half and 18 MiB over the last quarter. Kept in memory, the
    # rows would add > 23 MiB of text a half and, as records and results, ten times that.
    assert peak - at_half < GROWTH_MIB * MIB, (at_half, peak)
    assert peak - at_three_quarters < LAST_QUARTER_MIB * MIB, (at_three_quarters, peak)
    assert peak < PEAK_MIB * MIB, peak


def test_killed_import_resumes_without_duplicates(tmp_path: Path) -> None:
    n = 100_000
    path = tmp_path / "scores.jsonl"
    write_scores(path, n, region=REGION)
    home = _init(tmp_path / "home")
    args = _credex("issue", "--records", path, "--home", home)
    proc = subprocess.Popen(
        args,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its parsing workers are killed with it
    )
    try:
        deadline = time.monotonic() + 300
        while _size(home) < 8192 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the import ended before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    durable = _size(home)
    assert 0 < durable < n
    r = subprocess.run([*args, "--json"], capture_output=True, text=True, env=_env(), check=False)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout.splitlines()[-1])["summary"]
    # what was durable is found, not signed again; the rest is logged once
    assert summary["already_present"] == durable
    assert summary["imported"] == n - durable
    assert _size(home) == n
    # once more: every line's record is found in the log, which holds n entries: each
    # line is logged exactly once
    r = subprocess.run([*args, "--json"], capture_output=True, text=True, env=_env(), check=False)
    summary = json.loads(r.stdout.splitlines()[-1])["summary"]
    assert (summary["imported"], summary["already_present"]) == (0, n)
    assert _size(home) == n


def _bad_penalties() -> tuple[bytes, set[int], list[str]]:
    """A penalty file with bad rows (a bad USCC, a bad resident id, a bad date):
    the file, the bad lines and the cells that must never be echoed."""
    data = penalty_csv("cn-zj-ningbo", rows=12, seed=3, reference_date=date(2026, 11, 1))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    col = {h: i for i, h in enumerate(header)}
    people = [r for r in body if r[col["行政相对人类别"]] == "自然人"]
    secrets = [r[col["证件号码"]] for r in people] + [r[col["行政相对人名称"]] for r in people]
    assert secrets
    person = next(r for r in people if len(r[col["证件号码"]]) == 18)  # with a check character
    bad_id = list(person)
    rid = person[col["证件号码"]]
    bad_id[col["证件号码"]] = rid[:-1] + ("0" if rid[-1] != "0" else "1")
    secrets.append(bad_id[col["证件号码"]])
    org = next(r for r in body if r[col[PENALTY_HEADER[2]]].startswith("91"))
    bad_org = list(org)
    code = org[col[PENALTY_HEADER[2]]]
    bad_org[col[PENALTY_HEADER[2]]] = code[:-1] + ("0" if code[-1] != "0" else "1")
    bad_date = list(org)
    bad_date[col["处罚决定日期"]] = "2025-13-45"
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *body, bad_id, bad_org, bad_date])
    first_bad = len(body) + 2
    return out.getvalue().encode("utf-8"), {first_bad, first_bad + 1, first_bad + 2}, secrets


def test_rejects_file_lists_refused_rows_without_personal_data(tmp_path: Path) -> None:
    data, bad_lines, secrets = _bad_penalties()
    f = tmp_path / "penalties.csv"
    f.write_bytes(data)
    home = _init(tmp_path / "home")
    rejects = tmp_path / "rejected.csv"
    args = ("import", "--adapter", "penalty-csv", f, "--rejects", rejects, "--home", home)
    r = subprocess.run(_credex(*args), capture_output=True, text=True, env=_env(), check=False)
    assert r.returncode == 1, r.stderr
    assert "line " not in r.stderr  # refused rows go to the file, not the terminal
    assert f"12 imported, 0 already present, 3 rejected (rejected rows in {rejects})" in r.stdout
    assert len(r.stdout.splitlines()) == 1  # one summary line
    text = rejects.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["line", "reason"]
    assert {int(line) for line, _ in rows[1:]} == bad_lines
    assert all(reason for _, reason in rows[1:])
    for secret in secrets:
        assert secret not in text and secret not in r.stdout + r.stderr
    # run again: nothing new, the same rows refused, the file rewritten
    r = subprocess.run(_credex(*args), capture_output=True, text=True, env=_env(), check=False)
    assert r.returncode == 1
    assert "0 imported, 12 already present, 3 rejected" in r.stdout
    assert rejects.read_text(encoding="utf-8") == text


def test_many_refused_rows_are_counted_not_all_printed(tmp_path: Path) -> None:
    """Without --rejects, the first refused rows are shown and the rest counted."""
    path = tmp_path / "scores.jsonl"
    write_scores(path, 100, region=REGION, bad_every=2)
    home = _init(tmp_path / "home")
    r = subprocess.run(
        _credex("issue", "--records", path, "--home", home),
        capture_output=True,
        text=True,
        env=_env(),
        check=False,
    )
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len([x for x in lines if x.startswith("line ")]) == 20
    assert lines[-1] == "… and 30 more rejected rows: pass --rejects FILE.csv to list them all"
    assert "50 logged, 0 already logged, 50 rejected" in r.stdout
