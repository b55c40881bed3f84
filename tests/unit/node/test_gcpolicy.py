"""``credex.node.gcpolicy``: the ``credex`` command schedules the cyclic garbage
collector once its imports are done (the default schedule spent a fifth of an import's
time in full collections that found almost nothing: see the module)."""

from __future__ import annotations

import subprocess
import sys

from credex.node import gcpolicy


def test_the_command_sets_the_schedule_and_freezes_what_it_imported() -> None:
    code = (
        "import gc, sys\n"
        "from credex.cli.main import main\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(gc.get_threshold(), gc.get_freeze_count() > 10_000)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    assert out[-1] == f"{(gcpolicy.GEN0, gcpolicy.GEN1, gcpolicy.GEN2)} True"


def test_tune_is_idempotent_and_still_collects_cycles() -> None:
    """In a process of its own: freezing objects in the test runner's process would keep
    other tests' garbage until its exit."""
    code = (
        "import gc\n"
        "from credex.node import gcpolicy\n"
        "gcpolicy.tune()\n"
        "gcpolicy.tune()\n"
        "class Cycle:\n"
        "    other = None\n"
        "a, b = Cycle(), Cycle()\n"
        "a.other, b.other = b, a\n"
        "del a, b\n"
        "print(gc.get_threshold(), gc.isenabled(), gc.collect() >= 2)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    assert out[-1] == f"{(gcpolicy.GEN0, gcpolicy.GEN1, gcpolicy.GEN2)} True True"
