"""Print how many inputs each fuzz target ran (and how many it refused by name)."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.fuzz.targets import COUNTS

    if not COUNTS:
        return
    tr = terminalreporter
    tr.section("fuzz executions")
    total = 0
    for name in sorted(COUNTS):
        runs, refused = COUNTS[name]
        total += runs
        tr.write_line(f"{name:26} {runs:6} executions ({refused} refused with a named error)")
    tr.write_line(f"{'total':26} {total:6}")
