"""A small, bounded version of ``scripts/loadtest.py``: one real ``credex serve`` process,
concurrent anonymous readers and authenticated submitters (bounded by requests, not
time), RSS sampled from /proc, then kill -9 while submitters are sending, restart, and
every acknowledged statement must be proven in the restarted log. Asserts no loss and
bounded memory, never speed.
"""

from __future__ import annotations

from pathlib import Path

from credex.node.bench.loadtest import run_load

#: generous: a server answering a few hundred small requests stays far below this
RSS_BOUND_KIB = 1024 * 1024
RSS_GROWTH_BOUND_KIB = 256 * 1024


def test_nothing_acknowledged_is_lost_and_memory_stays_bounded(tmp_path: Path) -> None:
    report = run_load(
        readers=6, submitters=3, batch=8, pool=480, requests_per_client=30, workdir=tmp_path
    )
    assert report.acknowledged >= 3 * 30 // 2 * 8 // 2  # the kill came mid-submission
    assert report.errors == {}, report.errors  # before the kill: no failed call at all
    assert report.reads == 6 * 30
    assert report.lost == 0
    assert report.log_size_after_restart >= report.acknowledged
    assert report.rss_kib and report.peak_rss_kib < RSS_BOUND_KIB
    assert report.rss_kib[-1] - report.rss_kib[0] < RSS_GROWTH_BOUND_KIB
