"""``credex bench``: ratios against raw figures of the same run. Never imported by
production code (a test checks). Names are imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.node.bench.runner import (
        run_bench,
    )

__all__ = [
    "run_bench",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "run_bench": "runner",
    },
)
