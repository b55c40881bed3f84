"""``credex.node.gcpolicy``: the ``credex`` command schedules the cyclic garbage
collector once its imports are done (the default schedule spent a fifth of an import's
time in full collections that found almost nothing: see the module). Each check runs in
a process of its own: freezing objects in the test runner's process would keep other
tests' garbage until its exit."""

from __future__ import annotations

import subprocess
import sys

from credex.node import gcpolicy

SCHEDULE = f"{(gcpolicy.GEN0, gcpolicy.GEN1, gcpolicy.GEN2)}"


def _last_line(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return out.stdout.splitlines()[-1]


def test_the_command_sets_the_schedule_and_freezes_what_it_imported() -> None:
    code = """
import gc, sys
from credex.cli.main import main
sys.argv = ["credex", "--version"]
try:
    main()
except SystemExit:
    pass
print(gc.get_threshold(), gc.get_freeze_count() > 10_000)
"""
    assert _last_line(code) == f"{SCHEDULE} True"


def test_main_called_in_process_leaves_the_schedule_alone() -> None:
    """A program (or a test) that calls ``main(argv)`` keeps its own schedule."""
    code = """
import gc
from credex.cli.main import main
try:
    main(["--version"])
except SystemExit:
    pass
print(gc.get_threshold(), gc.get_freeze_count())
"""
    assert _last_line(code) == f"{(700, 10, 10)} 0"


def test_tune_is_idempotent_and_still_collects_cycles() -> None:
    code = """
import gc
from credex.node import gcpolicy
gcpolicy.tune()
gcpolicy.tune()
class Cycle:
    other = None
a, b = Cycle(), Cycle()
a.other, b.other = b, a
del a, b
print(gc.get_threshold(), gc.isenabled(), gc.collect() >= 2)
"""
    assert _last_line(code) == f"{SCHEDULE} True True"
