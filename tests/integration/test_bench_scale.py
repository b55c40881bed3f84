"""``credex bench --scale N`` (P9) at tiny N on both engines: report structure only.

Nothing is timed or compared with a goal here: the figures are whatever this machine
does. What must hold: every window is reported, the byte figures add up, proofs are
measured at the built size, the mirror (a follower process, from a ``credex serve``
process) synced the whole log with the source's root and its memory was sampled,
and the CLI prints the report under the key ``P9`` alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from credex.node.bench.scale import run_scale, window_size

PG = os.environ.get("CREDEX_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def test_window_size() -> None:
    assert window_size(10**7) == 10**6
    assert window_size(3 * 10**7) == 10**6
    assert window_size(10**6) == 10**5
    assert window_size(30) == 3
    assert window_size(5) == 1


def _check_engine(r: dict[str, object], n: int) -> None:
    assert r["entries"] == n and r["truncated"] is False
    windows = r["windows_per_s"]
    assert isinstance(windows, list) and len(windows) == 10
    assert all(isinstance(w, float) and w > 0 for w in windows)
    assert isinstance(r["decay"], bool)
    b = r["bytes_per_entry"]
    assert isinstance(b, dict)
    assert b["disk_bytes"] > b["statement_bytes"] > 0
    assert b["statement_plus_32_per_entry"] == (b["statement_bytes"] + 32 * n) / n
    proofs = r["proofs"]
    assert isinstance(proofs, dict) and list(proofs) == [str(n)]
    assert proofs[str(n)]["inclusion_s"] > 0 and proofs[str(n)]["consistency_s"] > 0
    sync = r["sync"]
    assert isinstance(sync, dict) and sync["entries"] == n and sync["sync_per_s"] > 0
    # two real processes: the source's credex serve and the follower, each with its RSS
    assert sync["follower_peak_mib"] > 0 and sync["source_serve_peak_mib"] > 0
    assert len(sync["follower_rss_quarters_mib"]) == 4


def test_scale_report_on_both_engines(tmp_path: Path) -> None:
    report = run_scale(40, base=tmp_path, postgres_url=PG)
    assert report["entries"] == 40
    _check_engine(report["sqlite"], 40)
    _check_engine(report["postgresql"], 40)


def test_scale_budget_stops_at_a_window(tmp_path: Path) -> None:
    r = run_scale(
        50, base=tmp_path, postgres_url=None, budget_s=0.0, sync=False, engines=("sqlite",)
    )["sqlite"]
    assert r["truncated"] is True and r["entries"] == 5
    assert len(r["windows_per_s"]) == 1 and "sync" not in r


def test_scale_unknown_engine_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown engine"):
        run_scale(10, base=tmp_path, postgres_url=None, engines=("mysql",))


def test_cli_scale_json_is_p9_alone(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("credex")
    env = {**os.environ, "CREDEX_TEST_POSTGRES_URL": PG}
    r = subprocess.run(
        [str(exe), "bench", "--scale", "20", "--scale-engine", "sqlite", "--json",
         "--home", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert list(out) == ["P9"]
    assert out["P9"]["sqlite"]["entries"] == 20 and "postgresql" not in out["P9"]
    assert list(tmp_path.iterdir()) == []  # scratch removed
    bad = subprocess.run(
        [str(exe), "bench", "--scale", "0", "--json"], capture_output=True, text=True, env=env
    )
    assert bad.returncode != 0 and "at least 1" in bad.stderr
