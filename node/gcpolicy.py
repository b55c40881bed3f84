"""How a credex process schedules Python's cyclic garbage collector.

A node keeps tens of thousands of objects alive at a time (the records, rows and
statements of the batches in flight, the tree and index caches) and makes almost no
reference cycles: reference counting frees nearly everything. With CPython's default
thresholds (700, 10, 10) the collector still ran every 700 allocations and, as the
batches held survived, promoted them and ran full collections over the whole heap.
Measured on ``credex issue --records`` of 3 × 10^5 lines (SQLite, this 2-core
machine): 4,808 young, 437 middle and 37 full collections took 4.8 s of the 23.3 s
run (the interpreter lock held all the while, so signing and committing waited) and
found 1,087 objects in all; with the thresholds below: 56 and 2 collections, 1.0 s,
the same run 18.3 s.

``tune`` (called once a process has imported what it runs: the ``credex`` command, the
importer's and the pools' worker processes) moves what is loaded so far out of the
collector's view for good (``gc.freeze``: modules, classes, configuration) and raises
the first threshold to ``GEN0`` allocations. Cycles are still collected: garbage in a
cycle lives at most ``GEN0`` allocations longer (a few MiB at most). Peak memory of
that import was unchanged (215 MiB either way).

Not called when ``credex.cli.main.main`` is given its arguments in-process (the test
suite's harness, a program embedding the command), nor by library users: it is the
command's policy for its own process, not the library's.
"""

from __future__ import annotations

import gc
from typing import Final

__all__ = ["GEN0", "GEN1", "GEN2", "tune"]

#: allocations (minus deallocations) of tracked objects between young collections
GEN0: Final = 50_000
#: young collections between middle ones; middle ones between full ones (the interpreter
#: also waits until the objects that survived since the last full one are 25 % of the
#: rest)
GEN1: Final = 20
GEN2: Final = 10


def tune() -> None:
    """Freeze the objects loaded so far and set the thresholds (idempotent)."""
    gc.freeze()
    gc.set_threshold(GEN0, GEN1, GEN2)
